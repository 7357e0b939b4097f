/*
 * Cluster-wide presence: a user is offline only when no node holds a socket
 * of theirs.  Each node's workers keep its rows in OnlineUsers (ws/presence.c);
 * here the cluster process keeps those rows true when nodes come and go:
 *
 * - sweep (the leader, every PRESENCE_SWEEP_MS and as soon as a member is
 *   declared dead): rows of nodes not alive are deleted, and their users
 *   set offline unless a live node holds them (or they chose a status);
 * - resync (every node, every PRESENCE_RESYNC_MS and when a peer comes back
 *   after being declared dead): our own rows re-asserted from the node's
 *   socket counts, since during a partition each side's leader swept the
 *   other side's rows.
 * Status rows the statements change go through the same path as a PUT
 * /status: presence cache by version and a ring event our cluster process
 * forwards to every peer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/text.h"
#include "db/migrate.h"
#include "shm/online.h"
#include "shm/region.h"
#include "store/status.h"

#define PRESENCE_SWEEP_MS  10000
#define PRESENCE_RESYNC_MS 30000
#define PRESENCE_USERS_MAX 100000 /* users re-asserted per resync */

static void on_rows(void *data, PGresult *res, const char *error, const char *what)
{
    cluster_t *c = data;
    if (error != NULL) {
        log_warn(0, "presence %s failed: %.*s", what, (int)strcspn(error, "\n"), error);
        return;
    }
    for (int i = 0; res != NULL && i < PQntuples(res); i++)
        status_apply_row(c->params->shm, c->params->ring_eventfds, res, i);
    if (res != NULL && PQntuples(res) > 0)
        log_info("presence %s: %d users changed status", what, PQntuples(res));
}

static void on_swept(void *data, PGresult *res, const char *error)
{
    on_rows(data, res, error, "sweep");
}

static void on_resynced(void *data, PGresult *res, const char *error)
{
    on_rows(data, res, error, "resync");
}

/* "{id,id,...}" of the members alive in our view, us included. */
static char *alive_ids(cluster_t *c)
{
    size_t n = swim_member_count(c->swim);
    char *out = malloc(n * (ID_LENGTH + 1) + 3);
    if (out == NULL)
        return NULL;
    size_t len = 0;
    out[len++] = '{';
    for (size_t i = 0; i < n; i++) {
        const swim_member_t *m = swim_member_at(c->swim, i);
        if (m->state != SWIM_ALIVE && m->state != SWIM_SUSPECT)
            continue;
        if (len > 1)
            out[len++] = ',';
        memcpy(out + len, m->id, ID_LENGTH);
        len += ID_LENGTH;
    }
    out[len++] = '}';
    out[len] = '\0';
    return out;
}

static void sweep(cluster_t *c)
{
    char *ids = alive_ids(c);
    if (ids == NULL)
        return;
    const char *params[] = {ids};
    db_pool_query(c->db, STATUS_SQL_SWEEP, 1, params, on_swept, c);
    free(ids);
}

typedef struct {
    char *text;
    size_t len, cap;
    size_t count;
} id_array_t;

static void collect_online(const char *key, const void *value, void *arg)
{
    id_array_t *a = arg;
    const shm_online_t *online = value;
    if (online->sockets <= 0 || strlen(key) != ID_LENGTH || a->text == NULL)
        return;
    if (a->len + ID_LENGTH + 3 > a->cap) {
        size_t cap = a->cap * 2 + ID_LENGTH + 3;
        char *grown = realloc(a->text, cap);
        if (grown == NULL) {
            free(a->text);
            a->text = NULL;
            return;
        }
        a->text = grown;
        a->cap = cap;
    }
    a->text[a->len++] = a->count++ == 0 ? '{' : ',';
    memcpy(a->text + a->len, key, ID_LENGTH);
    a->len += ID_LENGTH;
}

static void resync(cluster_t *c)
{
    id_array_t a = {.text = malloc(64), .cap = 64};
    ssize_t visited = shm_cache_foreach(shm_region_online(c->params->shm), PRESENCE_USERS_MAX, collect_online, &a);
    if (visited < 0 || a.text == NULL) {
        free(a.text);
        return;
    }
    if (a.count == 0) {
        free(a.text);
        return;
    }
    a.text[a.len++] = '}';
    a.text[a.len] = '\0';
    char now[TEXT_INT64_SIZE];
    text_int64(now, clock_now_ms());
    const char *params[] = {a.text, c->node_id, now};
    db_pool_query(c->db, STATUS_SQL_RESYNC, 3, params, on_resynced, c);
    free(a.text);
}

void cluster_presence_sweep_soon(cluster_t *c)
{
    c->next_presence_sweep_ms = 0;
}

void cluster_presence_resync_soon(cluster_t *c)
{
    c->next_presence_resync_ms = 0;
}

void cluster_presence_tick(cluster_t *c, int64_t now)
{
    if (!c->gossip_started || c->leaving || c->leader_id[0] == '\0' ||
        !schema_at_least(c->params->shm, SCHEMA_ONLINE_USERS))
        return;
    if (now >= c->next_presence_resync_ms) {
        c->next_presence_resync_ms = now + PRESENCE_RESYNC_MS;
        resync(c);
    }
    if (strcmp(c->leader_id, c->node_id) == 0 && now >= c->next_presence_sweep_ms) {
        c->next_presence_sweep_ms = now + PRESENCE_SWEEP_MS;
        sweep(c);
    }
}
