/*
 * Presence from WebSockets: a user is online while at least one socket of
 * theirs is open on the node, and offline a grace period after the last one
 * closed (a reconnect within it does not flap).  Statuses set by hand
 * (Manual: away, dnd, offline) are never overridden.
 *
 * The count of open sockets per user is node-wide, in the shared "online"
 * cache, changed under its lock (shm_cache_upsert), so sockets of one user
 * spread over several workers count together.  The worker that saw a count
 * reach zero checks again after the grace and, if it is still zero, writes
 * offline.  Status writes go through the same path as PUT /status
 * (api_status_apply_row: presence cache by version, ring event).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/row.h"
#include "api/status.h"
#include "core/clock.h"
#include "core/log.h"
#include "shm/online.h"
#include "shm/region.h"
#include "ws/internal.h"

typedef struct {
    worker_t *worker;
    char user_id[ID_LENGTH + 1];
} presence_write_t;

static void on_status_written(void *data, PGresult *res, const char *error)
{
    presence_write_t *pw = data;
    if (error != NULL)
        log_warn(0, "presence of %s not saved: %.*s", pw->user_id, (int)strcspn(error, "\n"), error);
    else if (res != NULL && PQntuples(res) == 1)
        api_status_apply_row(pw->worker, res, 0);
    free(pw);
}

static void run_status_write(ws_hub_t *hub, const char *user_id, const char *sql)
{
    presence_write_t *pw = malloc(sizeof(*pw));
    if (pw == NULL)
        return;
    pw->worker = hub->worker;
    snprintf(pw->user_id, sizeof(pw->user_id), "%s", user_id);
    char now[24];
    snprintf(now, sizeof(now), "%lld", (long long)clock_now_ms());
    const char *params[] = {user_id, now};
    db_pool_query(hub->worker->db, sql, 2, params, on_status_written, pw);
}

void ws_presence_set_activity(ws_hub_t *hub, const char *user_id, bool active, bool manual)
{
    if (active) {
        run_status_write(hub, user_id,
                         "UPDATE Status SET Status = 'online', LastActivityAt = $2, Version = Version + 1"
                         " WHERE UserId = $1 AND NOT Manual AND Status <> 'online' RETURNING " API_STATUS_COLUMNS);
    } else if (manual) {
        run_status_write(hub, user_id,
                         "UPDATE Status SET Status = 'away', Manual = true, Version = Version + 1"
                         " WHERE UserId = $1 AND Status <> 'away' AND $2::bigint > 0 RETURNING " API_STATUS_COLUMNS);
    } else {
        run_status_write(hub, user_id,
                         "UPDATE Status SET Status = 'away', Version = Version + 1"
                         " WHERE UserId = $1 AND NOT Manual AND Status = 'online' AND $2::bigint > 0"
                         " RETURNING " API_STATUS_COLUMNS);
    }
}

/* Writes online or offline unless the user set theirs by hand (or it is
 * already so). */
static void write_status(ws_hub_t *hub, const char *user_id, bool online)
{
    run_status_write(hub, user_id,
                     online ? "INSERT INTO Status AS s (UserId, Status, Manual, LastActivityAt, Version)"
                              " VALUES ($1, 'online', false, $2, 1)"
                              " ON CONFLICT (UserId) DO UPDATE SET Status = 'online', LastActivityAt = $2,"
                              " Version = s.Version + 1 WHERE NOT s.Manual AND s.Status <> 'online'"
                              " RETURNING " API_STATUS_COLUMNS
                            : "UPDATE Status SET Status = 'offline', Version = Version + 1"
                              " WHERE UserId = $1 AND NOT Manual AND Status <> 'offline' AND $2::bigint > 0"
                              " RETURNING " API_STATUS_COLUMNS);
}

static void add_socket(void *value, void *arg)
{
    ((shm_online_t *)value)->sockets += *(int *)arg;
    if (((shm_online_t *)value)->sockets < 0)
        ((shm_online_t *)value)->sockets = 0;
}

static int count_after(ws_hub_t *hub, const char *user_id, int delta)
{
    shm_online_t initial = {0}, now = {0};
    if (shm_cache_upsert(shm_region_online(hub->worker->params->shm), user_id, &initial, add_socket, &delta, &now) != 0)
        return -1;
    return now.sockets;
}

void ws_presence_connected(ws_hub_t *hub, const char *user_id)
{
    if (count_after(hub, user_id, 1) == 1)
        write_status(hub, user_id, true);
}

void ws_presence_disconnected(ws_hub_t *hub, const char *user_id)
{
    if (count_after(hub, user_id, -1) != 0)
        return;
    if (hub->offline_count == WS_OFFLINE_CHECKS_MAX) {
        write_status(hub, user_id, false); /* no room to wait: at once */
        return;
    }
    ws_offline_check_t *check = &hub->offline_checks[hub->offline_count++];
    snprintf(check->user_id, sizeof(check->user_id), "%s", user_id);
    check->due = clock_monotonic_ms() + WS_OFFLINE_GRACE_MS;
}

void ws_presence_tick(ws_hub_t *hub, int64_t now)
{
    size_t kept = 0;
    for (size_t i = 0; i < hub->offline_count; i++) {
        ws_offline_check_t *check = &hub->offline_checks[i];
        if (check->due > now) {
            hub->offline_checks[kept++] = *check;
            continue;
        }
        shm_online_t online;
        if (!shm_cache_get(shm_region_online(hub->worker->params->shm), check->user_id, &online) || online.sockets == 0)
            write_status(hub, check->user_id, false);
    }
    hub->offline_count = kept;
}
