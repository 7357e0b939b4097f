/*
 * Delivery: ring records to this worker's sockets, in ring order.
 *
 * A WebSocket event (EVENT_WS_EVENT) or a status change (EVENT_STATUS_CHANGED,
 * delivered as `status_change` to that user) goes to the sockets that
 * Mattermost's broadcast rules select: connection_id → that one only;
 * omit_connection_id; user_id → that user only; omit_users; channel_id →
 * the channel's members; team_id → the team's members; none → everyone.
 * Only authenticated sockets get events.
 *
 * Channel and team events need the membership cache (members.c).  When the
 * set is not loaded yet, the record is copied to the pending FIFO and every
 * later record waits behind it (order is kept); the load's completion pumps
 * the FIFO.  Membership changes (EVENT_MEMBERS_CHANGED) travel through the
 * same FIFO, so an invalidation applies exactly between the events before
 * and after it.  The FIFO is bounded (WS_PENDING_MAX records,
 * WS_PENDING_BYTES); past that a record is dropped and logged.  A set that
 * cannot be loaded drops the one event that needed it.
 *
 * The envelope {"event","data","broadcast","seq"} is built once per record;
 * only the seq differs per socket.  The sockets' queues point at one shared
 * copy of it (conn.c gathers it with each socket's frame header and seq in
 * one sendmsg), so a fan-out to thousands of sockets copies it none of those
 * times in user space.  A socket whose send queue is half full
 * drops typing and status_change; a full one is closed (Mattermost's rules).
 * Each event sent is noted (ring position and seq) in the socket's replay
 * table, for a reconnect (replay.c); the delivery point (ws_deliver_point)
 * tells where a dropped socket stopped getting records, and the last record
 * of each origin node passed (ws_deliver_seen) tells the same in terms any
 * node understands (replay_cluster.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "ws/internal.h"

struct ws_pending_s {
    ws_pending_t *next;
    uint16_t type;
    size_t len;
    uint64_t pos, seq; /* in the ring */
    event_origin_t origin;
    uint8_t data[];
};

typedef struct {
    char *text; /* the envelope up to "seq": */
    size_t len, cap;
} envelope_t;

static json_t *broadcast_json(const event_ws_event_t *ev)
{
    json_t *omit = json_null();
    if (ev->omit_users.count > 0) {
        omit = json_object();
        for (uint32_t i = 0; i < ev->omit_users.count; i++)
            json_object_set_new(omit, ev->omit_users.ids[i], json_true());
    }
    return json_pack("{s:o,s:s,s:s,s:s,s:s,s:s}", "omit_users", omit, "user_id", ev->user_id, "channel_id",
                     ev->channel_id, "team_id", ev->team_id, "connection_id", ev->connection_id, "omit_connection_id",
                     ev->omit_connection_id);
}

/* {"event":E,"data":D,"broadcast":B,"seq": with room for a number and "}". */
static int envelope_build(const event_ws_event_t *ev, envelope_t *env)
{
    json_t *name = json_string(ev->event), *b = broadcast_json(ev);
    char *name_text = name != NULL ? json_dumps(name, JSON_ENCODE_ANY) : NULL;
    char *b_text = b != NULL ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(name);
    json_decref(b);
    int rc = -ENOMEM;
    if (name_text != NULL && b_text != NULL) {
        env->cap = ev->data.len + strlen(name_text) + strlen(b_text) + 64;
        if ((env->text = malloc(env->cap)) != NULL) {
            env->len = (size_t)snprintf(env->text, env->cap,
                                        "{\"event\":%s,\"data\":%.*s,\"broadcast\":%s,\"seq\":", name_text,
                                        (int)ev->data.len, ev->data.ptr, b_text);
            rc = 0;
        }
    }
    free(name_text);
    free(b_text);
    return rc;
}

static void status_event(const event_status_changed_t *st, event_ws_event_t *ev, char *data, size_t cap);

static bool droppable(const char *event)
{
    return strcmp(event, "typing") == 0 || strcmp(event, "status_change") == 0;
}

/* Queues the envelope with `c`'s next seq, or drops / closes as the queue
 * says.  The envelope is shared by every socket: only the seq digits and
 * the closing brace are the socket's own; with `shared` (the same text) the
 * socket's queue points at it instead of copying it. */
static void send_envelope(ws_conn_t *c, const envelope_t *env, ws_shared_t *shared, bool can_drop)
{
    if (can_drop && ws_conn_queued(c) >= WS_SEND_QUEUE_MAX / 2)
        return;
    /* seq digits by hand: snprintf was a tenth of a worker's fan-out time */
    char tail[24];
    size_t n = sizeof(tail);
    tail[--n] = '}';
    uint64_t v = c->seq;
    do {
        tail[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    if (!(shared != NULL ? ws_conn_queue_shared(c, shared, tail + n, sizeof(tail) - n)
                         : ws_conn_queue(c, env->text, env->len, tail + n, sizeof(tail) - n)))
        return;
    if (!ws_replay_note(c, c->seq, c->hub->rec_pos, c->hub->rec_seq))
        c->resumable = false; /* its table is incomplete: a reconnect starts afresh */
    c->seq++;
}

char *ws_deliver_render(const event_ws_event_t *ev, uint64_t seq, size_t *len)
{
    envelope_t env;
    if (envelope_build(ev, &env) != 0)
        return NULL;
    *len = env.len + (size_t)snprintf(env.text + env.len, env.cap - env.len, "%" PRIu64 "}", seq);
    return env.text;
}

void ws_deliver_point(ws_hub_t *hub, uint64_t *seq, uint64_t *pos)
{
    ws_pending_t *p = hub->pending_head;
    if (p == NULL) {
        *seq = hub->worker->ring_cursor.seq;
        *pos = hub->worker->ring_cursor.pos;
    } else if (hub->in_pump) {
        *seq = p->seq;
        *pos = p->pos + shm_ring_record_size(p->len);
    } else {
        *seq = p->seq - 1;
        *pos = p->pos;
    }
}

void ws_deliver_seen(ws_hub_t *hub, const event_origin_t *origin)
{
    int64_t now = clock_monotonic_ms();
    ws_origin_seen_t *slot = &hub->origins[0];
    for (size_t i = 0; i < WS_ORIGINS_MAX; i++) {
        ws_origin_seen_t *o = &hub->origins[i];
        if (o->used_at != 0 && strcmp(o->last.node_id, origin->node_id) == 0) {
            slot = o;
            break;
        }
        if (o->used_at < slot->used_at)
            slot = o; /* a free one, or the one not heard from longest */
    }
    slot->last = *origin;
    slot->used_at = now;
}

uint64_t ws_deliver_seen_seq(const ws_hub_t *hub, const char *node_id)
{
    for (size_t i = 0; i < WS_ORIGINS_MAX; i++)
        if (hub->origins[i].used_at != 0 && strcmp(hub->origins[i].last.node_id, node_id) == 0)
            return hub->origins[i].last.seq;
    return 0;
}

void ws_deliver_to(ws_conn_t *c, const event_ws_event_t *ev)
{
    envelope_t env;
    if (envelope_build(ev, &env) != 0) {
        log_warn(ENOMEM, "cannot build a %s event", ev->event);
        return;
    }
    send_envelope(c, &env, NULL, droppable(ev->event));
    free(env.text);
}

static bool listed(const event_id_list_t *l, const char *id)
{
    for (uint32_t i = 0; i < l->count; i++)
        if (strcmp(l->ids[i], id) == 0)
            return true;
    return false;
}

/* Mattermost's broadcast rules, for a socket that takes events. */
static bool selects(ws_hub_t *hub, const ws_conn_t *c, const event_ws_event_t *ev)
{
    if (ev->connection_id[0] != '\0')
        return strcmp(ev->connection_id, c->connection_id) == 0;
    if (ev->omit_connection_id[0] != '\0' && strcmp(ev->omit_connection_id, c->connection_id) == 0)
        return false;
    if (ev->user_id[0] != '\0')
        return strcmp(ev->user_id, c->user_id) == 0;
    if (listed(&ev->omit_users, c->user_id))
        return false;
    if (ev->channel_id[0] != '\0')
        return ws_members_has(hub, 'c', ev->channel_id, c->user_id);
    if (ev->team_id[0] != '\0')
        return ws_members_has(hub, 't', ev->team_id, c->user_id);
    return true;
}

static bool wants(ws_hub_t *hub, const ws_conn_t *c, const event_ws_event_t *ev)
{
    return c->authenticated && !c->closing && !c->resuming && selects(hub, c, ev);
}

static void deliver_event(ws_hub_t *hub, const event_ws_event_t *ev)
{
    envelope_t env;
    if (envelope_build(ev, &env) != 0) {
        log_warn(ENOMEM, "cannot deliver a %s event", ev->event);
        return;
    }
    bool can_drop = droppable(ev->event);
    /* one copy of the envelope for all the sockets (without memory for it,
     * each socket copies its own) */
    ws_shared_t *shared = malloc(sizeof(*shared) + env.len);
    if (shared != NULL) {
        shared->refs = 1; /* ours, until every socket has queued it */
        shared->len = env.len;
        memcpy(shared->text, env.text, env.len);
    }
    for (h2o_linklist_t *l = hub->conns.next; l != &hub->conns; l = l->next) {
        ws_conn_t *c = H2O_STRUCT_FROM_MEMBER(ws_conn_t, link, l);
        if (wants(hub, c, ev))
            send_envelope(c, &env, shared, can_drop); /* written at the end of the loop turn */
    }
    ws_shared_release(shared);
    free(env.text);
}

bool ws_deliver_wants(ws_hub_t *hub, const ws_conn_t *c, const event_ws_event_t *ev, char *kind, const char **id)
{
    *kind = 0;
    if (ev->connection_id[0] == '\0' && ev->user_id[0] == '\0' && !listed(&ev->omit_users, c->user_id) &&
        (ev->channel_id[0] != '\0' || ev->team_id[0] != '\0')) {
        char k = ev->channel_id[0] != '\0' ? 'c' : 't';
        const char *set = k == 'c' ? ev->channel_id : ev->team_id;
        if (ws_members_get(hub, k, set) != WS_MEMBERS_READY) {
            *kind = k;
            *id = set;
            return false;
        }
    }
    return c->authenticated && !c->closing && selects(hub, c, ev);
}

int ws_deliver_decode(uint16_t type, const void *data, size_t len, event_ws_event_t *ev, char *status_data, size_t cap)
{
    if (type == EVENT_WS_EVENT)
        return event_decode_ws_event(data, len, ev);
    if (type != EVENT_STATUS_CHANGED)
        return 1;
    event_status_changed_t st;
    int rc = event_decode_status_changed(data, len, &st);
    if (rc == 0)
        status_event(&st, ev, status_data, cap);
    return rc;
}

/* The membership set `ev` needs: 0 when none, else its kind. */
static char needs_members(const event_ws_event_t *ev, const char **id)
{
    if (ev->connection_id[0] != '\0' || ev->user_id[0] != '\0')
        return 0;
    *id = ev->channel_id[0] != '\0' ? ev->channel_id : ev->team_id;
    return ev->channel_id[0] != '\0' ? 'c' : ev->team_id[0] != '\0' ? 't' : 0;
}

static void status_event(const event_status_changed_t *st, event_ws_event_t *ev, char *data, size_t cap)
{
    memset(ev, 0, sizeof(*ev));
    snprintf(ev->event, sizeof(ev->event), "status_change");
    snprintf(ev->user_id, sizeof(ev->user_id), "%s", st->user_id);
    int n = snprintf(data, cap, "{\"status\":\"%s\",\"user_id\":\"%s\"}", st->status, st->user_id);
    ev->data = (event_text_t){data, (size_t)n};
}

/* Delivers one record: 0, or 1 when it must wait for a membership load. */
static int try_record(ws_hub_t *hub, uint16_t type, const void *data, size_t len)
{
    event_ws_event_t ev;
    char status_data[128];
    int rc;
    if (type == EVENT_MEMBERS_CHANGED) {
        event_members_changed_t mc;
        if ((rc = event_decode_members_changed(data, len, &mc)) == 0) {
            /* the record names no user: any user's channels may have changed */
            ws_members_invalidate(hub, 'u', NULL);
            if (mc.channel_id[0] != '\0')
                ws_members_invalidate(hub, 'c', mc.channel_id);
            if (mc.team_id[0] != '\0') {
                /* joining a team joins its default channels, whose ids
                 * the record does not carry: every channel set goes */
                ws_members_invalidate(hub, 't', mc.team_id);
                ws_members_invalidate(hub, 'c', NULL);
            }
        }
    } else if (type == EVENT_STATUS_CHANGED) {
        event_status_changed_t st;
        if ((rc = event_decode_status_changed(data, len, &st)) == 0) {
            status_event(&st, &ev, status_data, sizeof(status_data));
            deliver_event(hub, &ev);
        }
    } else {
        if ((rc = event_decode_ws_event(data, len, &ev)) == 0) {
            const char *id = NULL;
            char kind = hub->count > 0 ? needs_members(&ev, &id) : 0;
            ws_members_state_t state = kind != 0 ? ws_members_get(hub, kind, id) : WS_MEMBERS_READY;
            if (state == WS_MEMBERS_LOADING)
                return 1;
            if (state == WS_MEMBERS_FAILED)
                ws_members_forget_failed(hub, kind, id); /* this event is lost; the next retries */
            else
                deliver_event(hub, &ev);
        }
    }
    if (rc != 0)
        log_warn(-rc, "a %s record for WebSockets does not decode: skipped", event_type_name(type));
    return 0;
}

static void enqueue(ws_hub_t *hub, const event_record_t *r, uint64_t pos, uint64_t seq)
{
    uint16_t type = r->type;
    const void *data = r->data;
    size_t len = r->len;
    ws_pending_t *p = NULL;
    if (hub->pending_count < WS_PENDING_MAX && hub->pending_bytes + len <= WS_PENDING_BYTES)
        p = malloc(sizeof(*p) + len);
    if (p == NULL) {
        log_warn(0, "%zu WebSocket events wait for membership loads: a %s record is dropped", hub->pending_count,
                 event_type_name(type));
        return;
    }
    *p = (ws_pending_t){NULL, type, len, pos, seq, r->origin};
    memcpy(p->data, data, len);
    if (hub->pending_tail != NULL)
        hub->pending_tail->next = p;
    else
        hub->pending_head = p;
    hub->pending_tail = p;
    hub->pending_count++;
    hub->pending_bytes += len;
}

static void pop(ws_hub_t *hub)
{
    ws_pending_t *p = hub->pending_head;
    hub->pending_head = p->next;
    if (hub->pending_head == NULL)
        hub->pending_tail = NULL;
    hub->pending_count--;
    hub->pending_bytes -= p->len;
    free(p);
}

void ws_deliver_pump(ws_hub_t *hub)
{
    while (hub->pending_head != NULL) {
        ws_pending_t *p = hub->pending_head;
        hub->in_pump = true;
        hub->rec_pos = p->pos;
        hub->rec_seq = p->seq;
        int rc = try_record(hub, p->type, p->data, p->len);
        hub->in_pump = false;
        hub->rec_pos = hub->rec_seq = 0;
        if (rc != 0)
            break;
        ws_deliver_seen(hub, &p->origin);
        pop(hub);
    }
    ws_replay_retry(hub);
}

void ws_deliver_record(ws_hub_t *hub, const event_record_t *r, uint64_t pos, uint64_t seq)
{
    hub->rec_pos = pos;
    hub->rec_seq = seq;
    if (hub->pending_head != NULL || try_record(hub, r->type, r->data, r->len) != 0)
        enqueue(hub, r, pos, seq);
    else
        ws_deliver_seen(hub, &r->origin);
    hub->rec_pos = hub->rec_seq = 0;
    if (hub->resuming > 0 || hub->ask_count > 0)
        ws_replay_retry(hub);
}

void ws_deliver_dispose(ws_hub_t *hub)
{
    while (hub->pending_head != NULL)
        pop(hub);
}
