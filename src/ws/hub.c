/*
 * The worker's WebSocket hub: its connections, its housekeeping timer, the
 * ring records it acts on, and publishing.
 *
 * Handlers publish through ws_publish: the event goes into the shm ring as
 * EVENT_WS_EVENT and every worker of the node (this one too, when its
 * eventfd fires) delivers it to its own sockets (deliver.c), so events
 * reach every socket in one order, whatever worker produced them.  Session
 * revocations close the sockets of that session or user at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "shm/events_publish.h"
#include "ws/frame.h"
#include "ws/internal.h"

static void on_tick(h2o_timeout_entry_t *entry)
{
    ws_hub_t *hub = H2O_STRUCT_FROM_MEMBER(ws_hub_t, tick, entry);
    int64_t now = clock_monotonic_ms();
    ws_conns_tick(hub, now);
    ws_presence_tick(hub, now);
    ws_replay_cluster_tick(hub, now);
    ws_deliver_pump(hub); /* a load refused at once pumped nobody */
    h2o_timeout_link(hub->worker->loop, &hub->tick_timeout, &hub->tick);
}

/* Resumes that asked the cluster: an answer that did not come in time. */
static void on_cluster_wait(h2o_timeout_entry_t *entry)
{
    ws_hub_t *hub = H2O_STRUCT_FROM_MEMBER(ws_hub_t, cluster_wait, entry);
    ws_replay_retry(hub);
}

/* The end of a loop turn: the sockets that got frames write them, one
 * write each (h2o runs the zero timeouts after the I/O callbacks), a slice at
 * a time.  An entry linked to a zero timeout from that timeout's own callback
 * would run again in the same turn (h2o runs a timeout's due entries in a
 * loop), so the slices alternate between two zero timeouts: h2o runs its
 * timeouts in the order they were created, so the hand-over from `flush` to
 * `flush_more` (created first, already past in this turn) waits for the next
 * turn, after the loop polled its sockets (without sleeping: a zero timeout
 * is due at once), and the one back goes on in the same turn.  At most two
 * slices a turn whatever that order, since one of the two directions always
 * goes to the next turn. */
static void on_flush(h2o_timeout_entry_t *entry)
{
    ws_hub_t *hub = H2O_STRUCT_FROM_MEMBER(ws_hub_t, flush, entry);
    if (ws_conns_flush_all(hub) && !h2o_timeout_is_linked(&hub->flush_more))
        h2o_timeout_link(hub->worker->loop, &hub->flush_more_timeout, &hub->flush_more);
}

static void on_flush_more(h2o_timeout_entry_t *entry)
{
    ws_hub_t *hub = H2O_STRUCT_FROM_MEMBER(ws_hub_t, flush_more, entry);
    if (ws_conns_flush_all(hub) && !h2o_timeout_is_linked(&hub->flush))
        h2o_timeout_link(hub->worker->loop, &hub->flush_timeout, &hub->flush);
}

int ws_init(worker_t *w)
{
    ws_hub_t *hub = calloc(1, sizeof(*hub));
    if (hub == NULL)
        return -ENOMEM;
    int rc = ws_members_create(hub);
    if (rc != 0) {
        free(hub);
        return rc;
    }
    hub->worker = w;
    h2o_linklist_init_anchor(&hub->conns);
    h2o_linklist_init_anchor(&hub->dirty);
    /* flush_more before flush: the order matters (on_flush) */
    h2o_timeout_init(w->loop, &hub->flush_more_timeout, 0);
    hub->flush_more.cb = on_flush_more;
    h2o_timeout_init(w->loop, &hub->flush_timeout, 0);
    hub->flush.cb = on_flush;
    if (gethostname(hub->hostname, sizeof(hub->hostname) - 1) != 0)
        snprintf(hub->hostname, sizeof(hub->hostname), "localhost");
    shm_header_t *header = shm_region_header(w->params->shm);
    snprintf(hub->node_id, sizeof(hub->node_id), "%s", header != NULL ? header->node_id : "");
    h2o_timeout_init(w->loop, &hub->cluster_wait_timeout, WS_CLUSTER_POLL_MS);
    hub->cluster_wait.cb = on_cluster_wait;
    h2o_timeout_init(w->loop, &hub->tick_timeout, WS_TICK_MS);
    hub->tick.cb = on_tick;
    h2o_timeout_link(w->loop, &hub->tick_timeout, &hub->tick);
    w->ws = hub;
    return 0;
}

void ws_dispose(worker_t *w)
{
    ws_hub_t *hub = w->ws;
    if (hub == NULL)
        return;
    if (h2o_timeout_is_linked(&hub->tick))
        h2o_timeout_unlink(&hub->tick);
    ws_conns_destroy_all(hub);
    if (h2o_timeout_is_linked(&hub->cluster_wait))
        h2o_timeout_unlink(&hub->cluster_wait);
    ws_replay_cluster_dispose(hub);
    if (h2o_timeout_is_linked(&hub->flush))
        h2o_timeout_unlink(&hub->flush);
    if (h2o_timeout_is_linked(&hub->flush_more))
        h2o_timeout_unlink(&hub->flush_more);
    ws_deliver_dispose(hub);
    ws_members_destroy(hub);
    free(hub);
    w->ws = NULL;
}

static bool any_conn(const ws_conn_t *c, const void *arg)
{
    (void)c;
    (void)arg;
    return true;
}

void ws_start_drain(worker_t *w)
{
    if (w->ws == NULL || w->ws->draining)
        return;
    w->ws->draining = true;
    log_info("closing %u WebSockets (going away)", w->ws->count);
    ws_conns_close_if(w->ws, any_conn, NULL, WS_CLOSE_GOING_AWAY, "going away");
}

unsigned ws_count(const worker_t *w)
{
    return w->ws != NULL ? w->ws->count : 0;
}

static bool same_token(const ws_conn_t *c, const void *token)
{
    return c->authenticated && strcmp(c->token, token) == 0;
}

static bool same_user(const ws_conn_t *c, const void *user_id)
{
    return c->authenticated && strcmp(c->user_id, user_id) == 0;
}

void ws_on_ring_record(worker_t *w, const event_record_t *r, uint64_t pos, uint64_t seq)
{
    ws_hub_t *hub = w->ws;
    if (hub == NULL)
        return;
    uint16_t type = r->type;
    const void *data = r->data;
    size_t len = r->len;
    if (type == EVENT_REPLAY_REQUEST && r->from_cluster) {
        event_replay_request_t rq;
        if (event_decode_replay_request(data, len, &rq) == 0)
            ws_replay_cluster_on_request(hub, &rq);
    } else if (type == EVENT_REPLAY_ANSWER && r->from_cluster) {
        static event_replay_answer_t answer; /* ~7 KB: not on the stack */
        if (event_decode_replay_answer(data, len, &answer) == 0 && strcmp(answer.node_id, hub->node_id) == 0)
            ws_replay_cluster_on_answer(hub, &answer);
    } else if (type == EVENT_SESSION_REVOKED) {
        event_session_revoked_t ev;
        if (event_decode_session_revoked(data, len, &ev) == 0)
            ws_conns_close_if(hub, same_token, ev.token, WS_CLOSE_NORMAL, "session revoked");
    } else if (type == EVENT_USER_SESSIONS_REVOKED) {
        event_user_sessions_revoked_t ev;
        if (event_decode_user_sessions_revoked(data, len, &ev) == 0)
            ws_conns_close_if(hub, same_user, ev.user_id, WS_CLOSE_NORMAL, "sessions revoked");
    } else if (type == EVENT_WS_EVENT || type == EVENT_STATUS_CHANGED || type == EVENT_MEMBERS_CHANGED) {
        ws_deliver_record(hub, r, pos, seq);
    }
}

/* This worker fell a full ring behind: events were lost for its sockets.
 * Rather than deliver a stream with holes, forget what it cached and close
 * every socket with 1012 (service restart): clients reconnect at once, and
 * since the lost records cannot be replayed they get a fresh connection and
 * reload their state, as after any missed-events hello. */
void ws_on_ring_overrun(worker_t *w)
{
    if (w->ws == NULL)
        return;
    ws_members_invalidate(w->ws, 0, NULL);
    log_warn(0, "event ring overrun: closing %u WebSockets so that they resynchronise", w->ws->count);
    ws_conns_close_if(w->ws, any_conn, NULL, WS_CLOSE_SERVICE_RESTART, "resynchronising");
}

/* ---- publishing ------------------------------------------------------------------ */

static void copy_id(char dst[ID_LENGTH + 1], const char *src)
{
    snprintf(dst, ID_LENGTH + 1, "%s", src != NULL ? src : "");
}

static int fill_broadcast(event_ws_event_t *ev, const ws_broadcast_t *b)
{
    if (b == NULL)
        return 0;
    copy_id(ev->user_id, b->user_id);
    copy_id(ev->channel_id, b->channel_id);
    copy_id(ev->team_id, b->team_id);
    copy_id(ev->connection_id, b->connection_id);
    copy_id(ev->omit_connection_id, b->omit_connection_id);
    if (b->n_omit_users > EVENT_WS_OMIT_MAX)
        return -E2BIG;
    for (size_t i = 0; i < b->n_omit_users; i++)
        copy_id(ev->omit_users.ids[i], b->omit_users[i]);
    ev->omit_users.count = (uint32_t)b->n_omit_users;
    return 0;
}

int ws_publish(worker_t *w, const char *event, json_t *data, const ws_broadcast_t *b)
{
    event_ws_event_t *ev = calloc(1, sizeof(*ev));
    char *text = data != NULL ? json_dumps(data, JSON_COMPACT) : strdup("{}");
    int rc = ev == NULL || text == NULL ? -ENOMEM : fill_broadcast(ev, b);
    if (rc == 0) {
        snprintf(ev->event, sizeof(ev->event), "%s", event);
        ev->data = (event_text_t){text, strlen(text)};
        rc = events_publish_ws_event(shm_region_ring(w->params->shm), w->params->ring_eventfds, ev);
    }
    if (rc != 0)
        log_warn(-rc, "cannot publish the WebSocket event %s", event);
    free(text);
    free(ev);
    return rc;
}

int ws_publish_members_changed(worker_t *w, const char *channel_id, const char *team_id)
{
    event_members_changed_t ev;
    copy_id(ev.channel_id, channel_id);
    copy_id(ev.team_id, team_id);
    int rc = events_publish_members_changed(shm_region_ring(w->params->shm), w->params->ring_eventfds, &ev);
    if (rc != 0)
        log_warn(-rc, "cannot publish a membership change");
    return rc;
}
