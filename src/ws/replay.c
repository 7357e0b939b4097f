/*
 * Reconnect and replay (Mattermost's reliable WebSockets, wire reference
 * C.5): GET /api/v4/websocket?connection_id=X&sequence_number=S.
 *
 * A connection opened with a connection_id parameter (empty on a first
 * connect, as the official client sends it) is resumable.  While it lives,
 * its worker notes for each event it sends the ring record it came from
 * (position and ring seq; hello has none) in a 128-slot table indexed by the
 * connection seq (deliver.c).  When the socket goes (dropped, closed, a
 * drain on reload) the table, the next seq, the user and the ring point up
 * to which the worker had considered records for it go to the node's replay
 * cache (shm), keyed by the connection_id, so any worker of the node, of
 * this generation or the next, can resume it within 5 minutes.
 *
 * A reconnect authenticated as the same user with S in the kept window gets
 * the kept events from S on, re-read from the ring by position and
 * re-rendered with their original seq; S = next seq re-sends nothing.  Then
 * the ring is scanned from the drop point to this worker's delivery point
 * for the records the connection would have got (deliver.c's rules), sent
 * with the following seqs; later records arrive live.  The scan needs the
 * membership sets of channel and team events: when one is loading, the
 * connection waits (no live events) and the resume is redone from scratch
 * when loads finish or a record arrives, for at most 5 s.  Everything is
 * rendered before anything is queued, so a failure (a record overwritten,
 * a set that cannot load, S outside the window, an unknown or expired id)
 * falls back to a fresh connection: its own new id, seq 0, hello.
 *
 * An id this node never kept may be another node's: replay_cluster.c asks
 * the cluster before giving up on it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "shm/region.h"
#include "ws/internal.h"

uint8_t ws_replay_record[SHM_RING_RECORD_MAX];

void ws_rendered_free(ws_rendered_list_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].text);
    free(l->v);
    *l = (ws_rendered_list_t){0};
}

bool ws_rendered_add(ws_rendered_list_t *l, const event_ws_event_t *ev, uint64_t seq, uint64_t pos, uint64_t ring_seq)
{
    if (l->n == l->cap) {
        size_t cap = l->cap != 0 ? l->cap * 2 : 16;
        ws_rendered_t *v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL)
            return false;
        l->v = v;
        l->cap = cap;
    }
    ws_rendered_t *r = &l->v[l->n];
    r->text = ws_deliver_render(ev, seq, &r->len);
    if (r->text == NULL)
        return false;
    r->pos = pos;
    r->ring_seq = ring_seq;
    l->bytes += r->len;
    l->n++;
    return true;
}

/* The value of query parameter `name` of `req` (not decoded: ids and
 * numbers); false when absent. */
static bool query_param(h2o_req_t *req, const char *name, char *out, size_t cap)
{
    if (req->query_at == SIZE_MAX)
        return false;
    const char *p = req->path.base + req->query_at + 1, *end = req->path.base + req->path.len;
    size_t nlen = strlen(name);
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp != NULL ? amp : end;
        if ((size_t)(stop - p) >= nlen && memcmp(p, name, nlen) == 0 && (p + nlen == stop || p[nlen] == '=')) {
            const char *v = p + nlen < stop ? p + nlen + 1 : stop;
            snprintf(out, cap, "%.*s", (int)(stop - v), v);
            return true;
        }
        p = stop + 1;
    }
    return false;
}

int ws_replay_render(ws_hub_t *hub, const ws_conn_t *target, shm_replay_t *kept, uint64_t from, ws_rendered_list_t *out,
                     uint64_t *next_seq)
{
    shm_ring_t *ring = shm_region_ring(hub->worker->params->shm);
    uint64_t next = kept->next_seq;
    uint64_t first = next > SHM_REPLAY_KEPT ? next - SHM_REPLAY_KEPT : 0;
    if (from > next || from < first)
        return RESUME_FRESH;
    uint64_t point_seq, point_pos;
    ws_deliver_point(hub, &point_seq, &point_pos);
    if (kept->cursor_seq > point_seq)
        return RESUME_WAIT; /* the old worker was ahead of this one */
    int result = RESUME_DONE;
    uint16_t type;
    size_t len;
    event_ws_event_t ev;
    event_record_t r;
    char status_data[128];
    for (uint64_t s = from; s < next && result == RESUME_DONE; s++) {
        shm_replay_sent_t *e = &kept->sent[s % SHM_REPLAY_KEPT];
        if (e->ring_seq == 0 || shm_ring_read_at(ring, e->pos, e->ring_seq, &type, ws_replay_record, &len) != 1 ||
            event_record_parse(type, ws_replay_record, len, e->ring_seq, &r) != 0 ||
            ws_deliver_decode(r.type, r.data, r.len, &ev, status_data, sizeof(status_data)) != 0 ||
            !ws_rendered_add(out, &ev, s, e->pos, e->ring_seq))
            result = RESUME_FRESH;
    }
    shm_ring_cursor_t cur = {kept->cursor_seq, kept->cursor_pos};
    uint64_t seq = next;
    while (result != RESUME_FRESH && cur.seq < point_seq) {
        uint64_t pos = cur.pos, ring_seq;
        if (shm_ring_read(ring, &cur, &type, ws_replay_record, &len, &ring_seq) != 1) {
            result = RESUME_FRESH;
            break;
        }
        if (event_record_parse(type, ws_replay_record, len, ring_seq, &r) != 0 ||
            ws_deliver_decode(r.type, r.data, r.len, &ev, status_data, sizeof(status_data)) != 0)
            continue;
        size_t before = out->n;
        result = ws_replay_scan_one(hub, target, &ev, pos, ring_seq, out, &seq, result);
        if (out->n > before)
            kept->sent[(seq - 1) % SHM_REPLAY_KEPT] = (shm_replay_sent_t){pos, ring_seq};
    }
    *next_seq = seq;
    return result;
}

int ws_replay_scan_one(ws_hub_t *hub, const ws_conn_t *target, const event_ws_event_t *ev, uint64_t pos,
                       uint64_t ring_seq, ws_rendered_list_t *out, uint64_t *seq, int result)
{
    char kind;
    const char *id;
    if (ws_deliver_wants(hub, target, ev, &kind, &id))
        return ws_rendered_add(out, ev, (*seq)++, pos, ring_seq) ? result : RESUME_FRESH;
    if (kind == 0)
        return result;
    if (ws_members_get(hub, kind, id) == WS_MEMBERS_FAILED) {
        ws_members_forget_failed(hub, kind, id);
        return RESUME_FRESH;
    }
    return RESUME_WAIT; /* keep scanning: every load starts now */
}

static int resume(ws_conn_t *c)
{
    ws_hub_t *hub = c->hub;
    shm_cache_t *cache = shm_region_replay(hub->worker->params->shm);
    static shm_replay_t kept;
    if (cache == NULL || !shm_cache_get(cache, c->resume_id, &kept))
        return RESUME_UNKNOWN;
    if (strcmp(kept.user_id, c->user_id) != 0 || clock_now_ms() - kept.dropped_at > WS_RESUMABLE_MS)
        return RESUME_FRESH;
    ws_rendered_list_t out = {0};
    uint64_t seq;
    int result = ws_replay_render(hub, c, &kept, c->resume_from, &out, &seq);
    shm_replay_sent_t *sent = result == RESUME_DONE ? malloc(sizeof(kept.sent)) : NULL;
    if (result == RESUME_DONE && sent == NULL)
        result = RESUME_FRESH;
    if (result == RESUME_DONE) {
        memcpy(c->connection_id, c->resume_id, sizeof(c->connection_id));
        memcpy(sent, kept.sent, sizeof(kept.sent));
        free(c->sent);
        c->sent = sent;
        c->sent_cap = SHM_REPLAY_KEPT;
        c->seq = seq;
        c->resuming = false;
        for (size_t i = 0; i < out.n; i++)
            ws_conn_queue(c, out.v[i].text, out.v[i].len, NULL, 0);
        shm_cache_remove(cache, c->resume_id);
        log_debug("WebSocket %s of %s resumed at %" PRIu64 ": %zu events", c->connection_id, c->user_id, c->resume_from,
                  out.n);
    }
    ws_rendered_free(&out);
    return result;
}

int ws_replay_parse(ws_conn_t *c, h2o_req_t *req)
{
    char cid[64], seq[32];
    if (!query_param(req, "connection_id", cid, sizeof(cid)))
        return 0;
    c->resumable = true;
    if (cid[0] == '\0')
        return 0;
    if (!query_param(req, "sequence_number", seq, sizeof(seq)) || seq[0] == '\0')
        return -1;
    char *end;
    unsigned long long from = strtoull(seq, &end, 10);
    if (*end != '\0' || seq[0] == '-' || strlen(cid) != ID_LENGTH)
        return 0; /* not a connection of ours: a fresh one */
    snprintf(c->resume_id, sizeof(c->resume_id), "%s", cid);
    c->resume_from = from;
    return 0;
}

int ws_replay_start(ws_conn_t *c, const char *user_id, const char *token)
{
    if (c->resume_id[0] == '\0')
        return 0;
    c->resume_started = clock_monotonic_ms();
    ws_conn_set_user(c, user_id, token);
    c->resuming = true;
    int rc = resume(c);
    if (rc == RESUME_UNKNOWN)
        rc = ws_replay_cluster_ask(c) == 1 ? RESUME_WAIT : RESUME_FRESH;
    if (rc == RESUME_FRESH) {
        c->resuming = false;
        return 0;
    }
    if (rc == RESUME_WAIT)
        c->hub->resuming++;
    return 1;
}

bool ws_replay_note(ws_conn_t *c, uint64_t seq, uint64_t pos, uint64_t ring_seq)
{
    if (ring_seq == 0 && c->sent == NULL)
        return true; /* a missing table says "not from the ring" already */
    if (c->sent_cap < SHM_REPLAY_KEPT && seq >= c->sent_cap) {
        unsigned cap = c->sent_cap != 0 ? c->sent_cap : 8;
        while (cap < SHM_REPLAY_KEPT && seq >= cap)
            cap *= 2;
        shm_replay_sent_t *sent = realloc(c->sent, cap * sizeof(*sent));
        if (sent == NULL)
            return false;
        memset(sent + c->sent_cap, 0, (cap - c->sent_cap) * sizeof(*sent));
        c->sent = sent;
        c->sent_cap = cap;
    }
    c->sent[seq % c->sent_cap] = (shm_replay_sent_t){pos, ring_seq};
    return true;
}

void ws_replay_retry(ws_hub_t *hub)
{
    if (hub->ask_count > 0)
        ws_replay_cluster_retry(hub);
    if (hub->resuming == 0)
        return;
    int64_t now = clock_monotonic_ms();
    h2o_linklist_t *next;
    for (h2o_linklist_t *l = hub->conns.next; l != &hub->conns; l = next) {
        next = l->next;
        ws_conn_t *c = H2O_STRUCT_FROM_MEMBER(ws_conn_t, link, l);
        if (!c->resuming)
            continue;
        int rc = now - c->resume_started > WS_RESUME_WAIT_MS ? RESUME_FRESH
                 : c->remote != NULL                         ? ws_replay_cluster_finish(c, now)
                                                             : resume(c);
        if (rc == RESUME_WAIT)
            continue;
        hub->resuming--;
        ws_replay_cluster_forget(c);
        if (rc != RESUME_DONE) {
            c->resuming = false;
            ws_conn_authenticated(c, c->user_id, c->token);
        }
        ws_conn_flush(c);
    }
}

void ws_replay_save(ws_conn_t *c)
{
    if (c->resuming) { /* closed before it resumed: nothing to keep */
        c->hub->resuming--;
        c->resuming = false;
        c->saved = true;
        ws_replay_cluster_forget(c);
    }
    if (!c->authenticated || !c->resumable || c->saved)
        return;
    c->saved = true;
    shm_cache_t *cache = shm_region_replay(c->hub->worker->params->shm);
    static shm_replay_t v;
    if (cache == NULL)
        return;
    memset(&v, 0, sizeof(v));
    snprintf(v.user_id, sizeof(v.user_id), "%s", c->user_id);
    v.dropped_at = clock_now_ms();
    v.next_seq = c->seq;
    if (c->stopped) {
        v.cursor_seq = c->stop_seq;
        v.cursor_pos = c->stop_pos;
    } else {
        ws_deliver_point(c->hub, &v.cursor_seq, &v.cursor_pos);
    }
    /* while the table is smaller than the window, every seq sent is below
     * its size: the entries are where the window wants them */
    if (c->sent != NULL)
        for (uint64_t s = c->seq > SHM_REPLAY_KEPT ? c->seq - SHM_REPLAY_KEPT : 0; s < c->seq; s++)
            v.sent[s % SHM_REPLAY_KEPT] = c->sent[s % c->sent_cap];
    int rc = shm_cache_put(cache, c->connection_id, &v);
    if (rc != 0)
        log_warn(-rc, "cannot keep WebSocket %s for its reconnect", c->connection_id);
}
