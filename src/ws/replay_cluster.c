/*
 * Reconnect and replay across nodes: a reconnect with a connection_id that
 * this node never kept (the balancer sent it elsewhere than its old socket's
 * node) asks the cluster for it, and the node that kept it answers with the
 * events the client missed.
 *
 * Records reach every node, but each node's ring holds them in its own order
 * (two peers' streams interleave differently), so ring positions mean nothing
 * to another node.  What does: each record's origin, the node that published
 * it and its ring seq there (core/events.h), and, per origin, streams keep
 * their order on every node (one ordered link each).  So "how far a socket
 * got" can be told to another node as one seq per origin, the frontier.
 *
 * The asking node (this worker, holding the socket): publishes a request
 * (request id, our node id, connection_id, user, sequence_number) that the
 * cluster process forwards to every peer, and keeps the socket quiet (no
 * hello, no live events) for at most WS_CLUSTER_WAIT_MS.  It notes where
 * to look from in its own ring: the delivery point of WS_CLUSTER_LOOKBACK_MS
 * ago (a record may reach us a little before it reaches the old node).
 *
 * The node that kept it (any of its workers; shm_cache_remove makes one the
 * winner) renders exactly what a local reconnect would get (replay.c), then
 * publishes it in parts that its cluster process sends to the asking node
 * only; the last part carries the next seq and the frontier at its delivery
 * point: for each origin, the last record the answer took into account.
 * A user that does not match, a seq outside the window, an expired entry or
 * an answer larger than a socket's queue is refused: the socket starts
 * afresh, as for an unknown id.  Nodes that do not know the id say nothing.
 *
 * With the whole answer, the asking worker scans its ring from its look-back
 * point to its delivery point for the records the socket wants whose seq is
 * past the frontier of their origin (the old node had not seen them), and
 * queues the answer's events then those, with the following seqs; live
 * events follow.  Nothing is sent twice (a record within the frontier was
 * the old node's to send) and nothing is lost unless a record reached us
 * more than the look-back before it reached the old node.  No answer in time
 * (the old node is dead, or never had it): a fresh connection, hello.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "shm/events_publish.h"
#include "shm/region.h"
#include "ws/internal.h"

struct ws_remote_s {
    char request_id[ID_LENGTH + 1];
    int64_t asked_at;                    /* monotonic ms */
    uint64_t lookback_seq, lookback_pos; /* where our scan starts */
    int64_t next_part;
    bool complete, failed;
    uint64_t next_seq;
    event_origin_list_t frontier;
    ws_rendered_list_t got; /* the old node's events, as it rendered them */
};

struct ws_ask_s {
    ws_ask_t *next;
    event_replay_request_t rq;
    int64_t at; /* monotonic ms */
};

/* ---- the asking node ------------------------------------------------------------ */

/* The delivery point of WS_CLUSTER_LOOKBACK_MS ago, or the oldest one noted. */
static void lookback_point(ws_hub_t *hub, int64_t now, uint64_t *seq, uint64_t *pos)
{
    const shm_ring_mark_t *best = shm_ring_mark_pick(hub->marks, WS_MARKS_MAX, now, WS_CLUSTER_LOOKBACK_MS);
    if (best != NULL) {
        *seq = best->seq;
        *pos = best->pos;
    } else {
        ws_deliver_point(hub, seq, pos);
    }
}

static void wait_for_answers(ws_hub_t *hub)
{
    if (!h2o_timeout_is_linked(&hub->cluster_wait))
        h2o_timeout_link(hub->worker->loop, &hub->cluster_wait_timeout, &hub->cluster_wait);
}

int ws_replay_cluster_ask(ws_conn_t *c)
{
    ws_hub_t *hub = c->hub;
    shm_region_t *shm = hub->worker->params->shm;
    static cluster_view_data_t view; /* ~80 KB: not on the stack */
    if (hub->node_id[0] == '\0' || cluster_view_read_published(shm_region_cluster(shm), &view) != 0 || !view.enabled ||
        view.alive_count < 2)
        return 0; /* nobody else could have kept it */
    ws_remote_t *r = calloc(1, sizeof(*r));
    if (r == NULL || id_new(r->request_id) != 0) {
        free(r);
        return 0;
    }
    event_replay_request_t rq = {.sequence_number = (int64_t)c->resume_from};
    memcpy(rq.request_id, r->request_id, sizeof(rq.request_id));
    memcpy(rq.node_id, hub->node_id, sizeof(rq.node_id));
    memcpy(rq.connection_id, c->resume_id, sizeof(rq.connection_id));
    memcpy(rq.user_id, c->user_id, sizeof(rq.user_id));
    int rc = c->resume_from <= INT64_MAX
                 ? events_publish_replay_request(shm_region_ring(shm), hub->worker->params->ring_eventfds, &rq)
                 : -EINVAL;
    if (rc != 0) {
        log_warn(-rc, "cannot ask the cluster for WebSocket %s", c->resume_id);
        free(r);
        return 0;
    }
    r->asked_at = clock_monotonic_ms();
    lookback_point(hub, r->asked_at, &r->lookback_seq, &r->lookback_pos);
    c->remote = r;
    wait_for_answers(hub);
    log_debug("WebSocket %s of %s unknown here: asked the cluster (%s)", c->resume_id, c->user_id, r->request_id);
    return 1;
}

void ws_replay_cluster_forget(ws_conn_t *c)
{
    if (c->remote == NULL)
        return;
    ws_rendered_free(&c->remote->got);
    free(c->remote);
    c->remote = NULL;
}

static uint64_t frontier_of(const event_origin_list_t *f, const char *node_id)
{
    for (uint32_t i = 0; i < f->count; i++)
        if (strcmp(f->items[i].node_id, node_id) == 0)
            return f->items[i].seq;
    return 0;
}

/* Our records the old node had not seen, from the look-back point on. */
static int scan_past_frontier(ws_conn_t *c, ws_rendered_list_t *out, uint64_t *next_seq)
{
    ws_hub_t *hub = c->hub;
    ws_remote_t *r = c->remote;
    shm_ring_t *ring = shm_region_ring(hub->worker->params->shm);
    uint64_t point_seq, point_pos;
    ws_deliver_point(hub, &point_seq, &point_pos);
    shm_ring_cursor_t cur = {r->lookback_seq, r->lookback_pos};
    uint64_t seq = r->next_seq;
    int result = RESUME_DONE;
    while (result != RESUME_FRESH && cur.seq < point_seq) {
        uint64_t pos = cur.pos, ring_seq;
        uint16_t type;
        size_t len;
        if (shm_ring_read(ring, &cur, &type, ws_replay_record, &len, &ring_seq) != 1)
            return RESUME_FRESH; /* the look-back point was overwritten */
        event_record_t rec;
        event_ws_event_t ev;
        char status_data[128];
        if (event_record_parse(type, ws_replay_record, len, ring_seq, &rec) != 0)
            continue;
        const char *origin = rec.origin.node_id[0] != '\0' ? rec.origin.node_id : hub->node_id;
        if (rec.origin.seq <= frontier_of(&r->frontier, origin) ||
            ws_deliver_decode(rec.type, rec.data, rec.len, &ev, status_data, sizeof(status_data)) != 0)
            continue;
        result = ws_replay_scan_one(hub, c, &ev, pos, ring_seq, out, &seq, result);
    }
    *next_seq = seq;
    return result;
}

int ws_replay_cluster_finish(ws_conn_t *c, int64_t now)
{
    ws_remote_t *r = c->remote;
    if (r->failed)
        return RESUME_FRESH;
    if (!r->complete) {
        if (now - r->asked_at >= WS_CLUSTER_WAIT_MS)
            return RESUME_FRESH;
        wait_for_answers(c->hub);
        return RESUME_WAIT;
    }
    ws_rendered_list_t ours = {0};
    uint64_t seq;
    int result = scan_past_frontier(c, &ours, &seq);
    shm_replay_sent_t *sent = result == RESUME_DONE ? calloc(SHM_REPLAY_KEPT, sizeof(*sent)) : NULL;
    if (result == RESUME_DONE && (sent == NULL || r->got.n + ours.n > WS_SEND_QUEUE_MAX))
        result = RESUME_FRESH;
    if (result == RESUME_DONE) {
        memcpy(c->connection_id, c->resume_id, sizeof(c->connection_id));
        /* the old node's events are not in our ring: a later reconnect from
         * before them starts afresh; ours can be replayed from here */
        for (size_t i = 0; i < ours.n; i++)
            sent[(seq - ours.n + i) % SHM_REPLAY_KEPT] = (shm_replay_sent_t){ours.v[i].pos, ours.v[i].ring_seq};
        free(c->sent);
        c->sent = sent;
        sent = NULL;
        c->sent_cap = SHM_REPLAY_KEPT;
        c->seq = seq;
        c->resuming = false;
        for (size_t i = 0; i < r->got.n; i++)
            ws_conn_queue(c, r->got.v[i].text, r->got.v[i].len, NULL, 0);
        for (size_t i = 0; i < ours.n; i++)
            ws_conn_queue(c, ours.v[i].text, ours.v[i].len, NULL, 0);
        log_info("WebSocket %s of %s resumed from another node at %" PRIu64 ": %zu events from it, %zu from here",
                 c->connection_id, c->user_id, c->resume_from, r->got.n, ours.n);
    }
    free(sent);
    ws_rendered_free(&ours);
    return result;
}

static ws_conn_t *asking(ws_hub_t *hub, const char *request_id)
{
    for (h2o_linklist_t *l = hub->conns.next; l != &hub->conns; l = l->next) {
        ws_conn_t *c = H2O_STRUCT_FROM_MEMBER(ws_conn_t, link, l);
        if (c->remote != NULL && strcmp(c->remote->request_id, request_id) == 0)
            return c;
    }
    return NULL;
}

/* Takes one part: false when the answer cannot be used. */
static bool take_part(ws_remote_t *r, const event_replay_answer_t *a)
{
    if (a->status != EVENT_REPLAY_OK || a->part != r->next_part || a->next_seq < 0 ||
        r->got.n + a->events.count > EVENT_REPLAY_EVENTS_MAX)
        return false;
    for (uint32_t i = 0; i < a->events.count; i++) {
        const event_text_t *t = &a->events.items[i];
        if (r->got.bytes + t->len > WS_CLUSTER_ANSWER_MAX)
            return false;
        if (r->got.n == r->got.cap) {
            size_t cap = r->got.cap != 0 ? r->got.cap * 2 : 16;
            ws_rendered_t *v = realloc(r->got.v, cap * sizeof(*v));
            if (v == NULL)
                return false;
            r->got.v = v;
            r->got.cap = cap;
        }
        char *text = malloc(t->len);
        if (text == NULL)
            return false;
        memcpy(text, t->ptr, t->len);
        r->got.v[r->got.n++] = (ws_rendered_t){text, t->len, 0, 0};
        r->got.bytes += t->len;
    }
    r->next_part++;
    if (a->last) {
        r->complete = true;
        r->next_seq = (uint64_t)a->next_seq;
        r->frontier = a->frontier;
    }
    return true;
}

void ws_replay_cluster_on_answer(ws_hub_t *hub, const event_replay_answer_t *answer)
{
    ws_conn_t *c = asking(hub, answer->request_id);
    if (c == NULL)
        return; /* another worker's socket, or one that gave up */
    ws_remote_t *r = c->remote;
    if (r->complete || r->failed)
        return;
    if (!take_part(r, answer)) {
        if (answer->status != EVENT_REPLAY_OK)
            log_info("WebSocket %s of %s: its node refused to resume it", c->resume_id, c->user_id);
        else
            log_warn(0, "WebSocket %s of %s: the answer of its node cannot be used", c->resume_id, c->user_id);
        r->failed = true;
    }
    if (r->complete || r->failed)
        ws_replay_retry(hub);
}

/* ---- the node that kept it --------------------------------------------------------- */

static void frontier_fill(const ws_hub_t *hub, event_origin_list_t *f)
{
    f->count = 0;
    for (size_t i = 0; i < WS_ORIGINS_MAX && f->count < EVENT_REPLAY_ORIGINS_MAX; i++) {
        const ws_origin_seen_t *o = &hub->origins[i];
        if (o->used_at == 0)
            continue;
        event_origin_t *item = &f->items[f->count++];
        *item = o->last;
        if (item->node_id[0] == '\0')
            memcpy(item->node_id, hub->node_id, sizeof(item->node_id));
    }
}

/* Publishes the answer in parts (just a refusal without `out`). */
static int publish_answer(ws_hub_t *hub, const event_replay_request_t *rq, const ws_rendered_list_t *out,
                          uint64_t next_seq)
{
    static event_replay_answer_t a; /* ~7 KB: not on the stack */
    memset(&a, 0, sizeof(a));
    memcpy(a.request_id, rq->request_id, sizeof(a.request_id));
    memcpy(a.node_id, rq->node_id, sizeof(a.node_id));
    a.status = out != NULL ? EVENT_REPLAY_OK : EVENT_REPLAY_REFUSED;
    shm_ring_t *ring = shm_region_ring(hub->worker->params->shm);
    size_t i = 0, n = out != NULL ? out->n : 0;
    int rc = 0;
    do {
        size_t bytes = 0;
        a.events.count = 0;
        while (i < n && a.events.count < EVENT_REPLAY_EVENTS_MAX && bytes + out->v[i].len <= EVENT_REPLAY_PART_MAX) {
            a.events.items[a.events.count++] = (event_text_t){out->v[i].text, out->v[i].len};
            bytes += out->v[i].len;
            i++;
        }
        a.last = i == n;
        if (a.last && out != NULL) {
            a.next_seq = (int64_t)next_seq;
            frontier_fill(hub, &a.frontier);
        }
        rc = events_publish_replay_answer(ring, hub->worker->params->ring_eventfds, &a);
        a.part++;
    } while (rc == 0 && !a.last);
    if (rc != 0)
        log_warn(-rc, "cannot answer node %s for WebSocket %s", rq->node_id, rq->connection_id);
    return rc;
}

/* RESUME_UNKNOWN (not kept here), RESUME_WAIT (try again) or RESUME_DONE
 * (answered, or another worker of ours did). */
static int answer(ws_hub_t *hub, const event_replay_request_t *rq)
{
    shm_cache_t *cache = shm_region_replay(hub->worker->params->shm);
    static shm_replay_t kept;
    if (cache == NULL || !shm_cache_get(cache, rq->connection_id, &kept))
        return RESUME_UNKNOWN;
    if (strcmp(kept.user_id, rq->user_id) != 0) {
        log_warn(0, "node %s asked for WebSocket %s as another user: refused", rq->node_id, rq->connection_id);
        publish_answer(hub, rq, NULL, 0);
        return RESUME_DONE;
    }
    int rc = RESUME_FRESH;
    uint64_t next_seq = 0;
    ws_rendered_list_t out = {0};
    if (clock_now_ms() - kept.dropped_at <= WS_RESUMABLE_MS && rq->sequence_number >= 0) {
        static ws_conn_t target; /* what the old socket would select */
        memset(&target, 0, sizeof(target));
        target.authenticated = true;
        memcpy(target.user_id, rq->user_id, sizeof(target.user_id));
        memcpy(target.connection_id, rq->connection_id, sizeof(target.connection_id));
        rc = ws_replay_render(hub, &target, &kept, (uint64_t)rq->sequence_number, &out, &next_seq);
    }
    if (rc == RESUME_WAIT) {
        ws_rendered_free(&out);
        return RESUME_WAIT;
    }
    for (size_t i = 0; rc == RESUME_DONE && i < out.n; i++)
        if (out.v[i].len > EVENT_REPLAY_PART_MAX)
            rc = RESUME_FRESH;
    if (rc == RESUME_DONE && (out.n > EVENT_REPLAY_EVENTS_MAX || out.bytes > WS_CLUSTER_ANSWER_MAX))
        rc = RESUME_FRESH;
    /* one winner among our workers; the socket lives on the other node now */
    if (shm_cache_remove(cache, rq->connection_id)) {
        publish_answer(hub, rq, rc == RESUME_DONE ? &out : NULL, next_seq);
        log_info("WebSocket %s of %s handed to node %s: %s", rq->connection_id, rq->user_id, rq->node_id,
                 rc == RESUME_DONE ? "resumed there" : "not resumable, refused");
    }
    ws_rendered_free(&out);
    return RESUME_DONE;
}

void ws_replay_cluster_on_request(ws_hub_t *hub, const event_replay_request_t *rq)
{
    if (strcmp(rq->node_id, hub->node_id) == 0 || answer(hub, rq) != RESUME_WAIT)
        return;
    ws_ask_t *a = hub->ask_count < WS_CLUSTER_ASKS_MAX ? calloc(1, sizeof(*a)) : NULL;
    if (a == NULL) {
        log_warn(0, "%u requests of other nodes wait for membership loads: WebSocket %s is not answered",
                 hub->ask_count, rq->connection_id);
        return;
    }
    a->rq = *rq;
    a->at = clock_monotonic_ms();
    a->next = hub->asks;
    hub->asks = a;
    hub->ask_count++;
}

void ws_replay_cluster_retry(ws_hub_t *hub)
{
    int64_t now = clock_monotonic_ms();
    for (ws_ask_t **p = &hub->asks; *p != NULL;) {
        ws_ask_t *a = *p;
        /* past the asking node's wait, an answer would find nobody */
        if (now - a->at <= WS_CLUSTER_WAIT_MS && answer(hub, &a->rq) == RESUME_WAIT) {
            p = &a->next;
            continue;
        }
        *p = a->next;
        hub->ask_count--;
        free(a);
    }
}

void ws_replay_cluster_tick(ws_hub_t *hub, int64_t now)
{
    shm_ring_mark_t *m = &hub->marks[hub->next_mark++ % WS_MARKS_MAX];
    m->at = now;
    ws_deliver_point(hub, &m->seq, &m->pos);
    if (hub->ask_count > 0)
        ws_replay_cluster_retry(hub);
}

void ws_replay_cluster_dispose(ws_hub_t *hub)
{
    while (hub->asks != NULL) {
        ws_ask_t *a = hub->asks;
        hub->asks = a->next;
        free(a);
    }
    hub->ask_count = 0;
}
