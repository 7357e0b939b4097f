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
 * (status_apply_row: presence cache by version, ring event).
 *
 * The client's activity reports (user_update_active_status, from every tab
 * every minute or so) write only what the node's presence cache says would
 * change; the statement returns the row even when it changed nothing, which
 * fills the cache for the next report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/text.h"
#include "db/migrate.h"
#include "shm/online.h"
#include "shm/presence.h"
#include "shm/region.h"
#include "store/row.h"
#include "store/status.h"
#include "ws/internal.h"

typedef struct {
    worker_t *worker;
    bool activity; /* a STATUS_SQL_OR_CURRENT statement */
    char user_id[ID_LENGTH + 1];
} presence_write_t;

static void on_status_written(void *data, PGresult *res, const char *error)
{
    presence_write_t *pw = data;
    shm_region_t *shm = pw->worker->params->shm;
    if (error != NULL) {
        log_warn(0, "presence of %s not saved: %.*s", pw->user_id, (int)strcspn(error, "\n"), error);
    } else if (res != NULL && PQntuples(res) == 1) {
        if (pw->activity && !row_bool(res, 0, STATUS_COLUMN_CHANGED)) {
            shm_presence_t p;
            status_from_row(res, 0, &p);
            status_cache_put(shm, pw->user_id, &p); /* as it is: no change to announce */
        } else {
            status_apply_row(shm, pw->worker->params->ring_eventfds, res, 0);
        }
    }
    free(pw);
}

/* $1 is the user, $2 the time and, when `with_node`, $3 this node's id. */
static void run_write(ws_hub_t *hub, const char *user_id, const char *sql, bool with_node)
{
    presence_write_t *pw = malloc(sizeof(*pw));
    if (pw == NULL)
        return;
    pw->worker = hub->worker;
    pw->activity = !with_node;
    snprintf(pw->user_id, sizeof(pw->user_id), "%s", user_id);
    char now[TEXT_INT64_SIZE];
    text_int64(now, clock_now_ms());
    const char *params[] = {user_id, now, hub->worker->node_id};
    db_pool_query(hub->worker->db, sql, with_node ? 3 : 2, params, on_status_written, pw);
}

static void run_status_write(ws_hub_t *hub, const char *user_id, const char *sql)
{
    run_write(hub, user_id, sql, false);
}

/* Would the activity statement change nothing, by the presence cache?
 * Its conditions, read from the cache: a missing entry is not known. */
static bool activity_changes_nothing(ws_hub_t *hub, const char *user_id, bool active, bool manual)
{
    shm_presence_t p;
    shm_cache_t *presence = shm_region_presence(hub->worker->params->shm);
    if (presence == NULL || !shm_cache_get(presence, user_id, &p) || p.status[0] == '\0')
        return false;
    if (active)
        return p.manual || strcmp(p.status, "online") == 0;
    if (manual)
        return strcmp(p.status, "away") == 0;
    return p.manual || strcmp(p.status, "online") != 0;
}

void ws_presence_set_activity(ws_hub_t *hub, const char *user_id, bool active, bool manual)
{
    if (activity_changes_nothing(hub, user_id, active, manual))
        return;
    if (active)
        run_status_write(hub, user_id, STATUS_SQL_ACTIVE);
    else if (manual)
        run_status_write(hub, user_id, STATUS_SQL_AWAY_MANUAL);
    else
        run_status_write(hub, user_id, STATUS_SQL_AWAY_IDLE);
}

/* Writes online or offline unless the user set theirs by hand (or it is
 * already so), and this node's row in OnlineUsers: offline only when no
 * other node holds a socket of theirs, so presence is cluster-wide. */
static void write_status(ws_hub_t *hub, const char *user_id, bool online)
{
    run_write(hub, user_id, online ? STATUS_SQL_SOCKETS_OPEN : STATUS_SQL_SOCKETS_CLOSED, true);
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

static void on_swept(void *data, PGresult *res, const char *error)
{
    worker_t *w = data;
    if (error != NULL) {
        log_warn(0, "cannot clear the presence an earlier run of this node left: %.*s", (int)strcspn(error, "\n"),
                 error);
        return;
    }
    for (int i = 0; res != NULL && i < PQntuples(res); i++)
        status_apply_row(w->params->shm, w->params->ring_eventfds, res, i);
    if (res != NULL && PQntuples(res) > 0)
        log_info("%d users no node holds a socket of are offline now", PQntuples(res));
}

/* Without clustering this node is the only one: rows of any other node id
 * (this node before a crash or restart: a new id each start) are stale, and
 * their users offline.  With clustering the leader sweeps, knowing who lives. */
static void ws_presence_sweep_on_start(ws_hub_t *hub)
{
    worker_t *w = hub->worker;
    if (w->config->cluster.enable)
        return;
    char ids[ID_LENGTH + 3];
    snprintf(ids, sizeof(ids), "{%s}", w->node_id);
    const char *params[] = {ids};
    db_pool_query(w->db, STATUS_SQL_SWEEP, 1, params, on_swept, w);
}

void ws_presence_tick(ws_hub_t *hub, int64_t now)
{
    /* once the migration that made OnlineUsers has run (it runs beside us) */
    if (!hub->presence_swept && schema_at_least(hub->worker->params->shm, SCHEMA_ONLINE_USERS)) {
        hub->presence_swept = true;
        ws_presence_sweep_on_start(hub);
    }
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
