/*
 * Streaming links: one TCP connection per peer on ClusterSettings.StreamingPort,
 * carrying length-prefixed frames (frame.h), each a sealed envelope (seal.h)
 * around a payload (link_wire.h): a hello, first frame each way (the
 * dialer's first, the answer only to an authentic one), SWIM's full state
 * (push-pull), or an event for the peer's ring.
 *
 * An accepted connection costs little until its hello: the frame reader's
 * buffer grows with what arrives (frame.h), and at most LINK_PENDING_MAX
 * wait for a hello at once (each at most LINK_HELLO_TIMEOUT), the oldest
 * dropped for a newer one, so a flood of silent or slow connections can
 * neither grow our memory nor keep a peer out for long.
 *
 * Both sides dial (a node may know of the other before the other knows of
 * it); when two links to one peer meet, the one dialed by the lower node id
 * stays, so both ends keep the same one.  Frames are queued in order behind
 * the single write h2o allows in flight; a peer that lets more than
 * CLUSTER_LINK_QUEUE_MAX bytes pile up is cut (and re-dialed), never allowed
 * to grow our memory.  Dead and unknown peers are dialed too, with backoff:
 * that is how a partition heals (the hello's push-pull refutes old deaths).
 *
 * Events: each established link reads our ring from its own place (pump),
 * only while less than half its queue is taken, so a slow peer's backlog
 * waits in the ring.  A link keeps a mark of its place every LINK_MARK_MS;
 * when it breaks, the next link to that peer (within LINK_CATCH_UP_MS)
 * starts from the mark LINK_REWIND_MS old: what was queued, in our socket
 * buffer or on the wire is sent again, and the peer drops what it had by
 * seq (inbound.c).  A peer new to us starts at the head.
 */
#include <errno.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster/frame.h"
#include "cluster/internal.h"
#include "cluster/link_wire.h"
#include "core/backoff.h"
#include "core/clock.h"
#include "core/events.h"
#include "core/log.h"

#define LINK_CONNECT_TIMEOUT 2000
#define LINK_HELLO_TIMEOUT   3000
#define LINK_BACKOFF_MIN_MS  100
#define LINK_BACKOFF_MAX_MS  2000
#define LINK_STATE_MAX       (256 * 1024)
#define LINK_MARKS           64 /* a mark each LINK_MARK_MS: 6.4 s of a stream */
#define LINK_MARK_MS         100
#define LINK_REWIND_MS       5000   /* re-sent when a link breaks: TCP_USER_TIMEOUT's worth */
#define LINK_CATCH_UP_MS     10000  /* a link back within this goes on where the last stopped */
#define LINK_PARTITION_MS    120000 /* ... and within this, if the ring still holds that place */
/* Accepted links still waiting for their hello, at most: peers answer within
 * a round trip, so this many only pile up when someone opens connections and
 * stays silent; the oldest is then dropped for the newest. */
#define LINK_PENDING_MAX 32

struct cluster_link_s {
    cluster_t *c;
    h2o_linklist_t node; /* in c->links */
    h2o_socket_t *sock;
    bool outbound, connected, established, closing;
    char peer_id[ID_LENGTH + 1]; /* the dialed peer, or the one the hello named */
    int64_t started_ms;
    frame_reader_t reader;
    h2o_buffer_t *pending; /* frames not yet handed to the socket */
    h2o_buffer_t *writing; /* the frames of the write in flight */
    bool write_in_flight;
    shm_ring_cursor_t cursor;          /* our ring: the next record for this peer (established links) */
    shm_ring_mark_t marks[LINK_MARKS]; /* where the stream stood, one each LINK_MARK_MS */
    unsigned next_mark;
};

static void link_close(cluster_link_t *l, const char *why);
static void link_close_probing(cluster_link_t *l, const char *why, bool probe);

/* ---- output --------------------------------------------------------------- */

static void flush(cluster_link_t *l);
static void pump(cluster_link_t *l);

static void on_written(h2o_socket_t *sock, const char *err)
{
    cluster_link_t *l = sock->data;
    l->write_in_flight = false;
    h2o_buffer_consume(&l->writing, l->writing->size);
    if (err != NULL) {
        link_close(l, err);
        return;
    }
    flush(l);
    pump(l); /* room again for what waits in the ring */
}

static void flush(cluster_link_t *l)
{
    if (l->write_in_flight || !l->connected || l->closing || l->pending->size == 0)
        return;
    h2o_buffer_t *t = l->writing;
    l->writing = l->pending;
    l->pending = t;
    h2o_iovec_t buf = h2o_iovec_init(l->writing->bytes, l->writing->size);
    l->write_in_flight = true;
    h2o_socket_write(l->sock, &buf, 1, on_written);
}

/* Queues one sealed frame (already wrapped: `sealed`); cuts the link when the
 * peer is too far behind.  0 or -ENOBUFS. */
static int queue_sealed(cluster_link_t *l, const uint8_t *sealed, size_t len)
{
    if (l->pending->size + l->writing->size + FRAME_HEADER_SIZE + len > CLUSTER_LINK_QUEUE_MAX) {
        l->c->links_cut++;
        link_close(l, "send queue full (peer too slow)");
        return -ENOBUFS;
    }
    h2o_iovec_t room = h2o_buffer_reserve(&l->pending, FRAME_HEADER_SIZE + len);
    if (room.base == NULL) {
        link_close(l, "out of memory");
        return -ENOMEM;
    }
    frame_write_header((uint8_t *)room.base, (uint32_t)len);
    memcpy(room.base + FRAME_HEADER_SIZE, sealed, len);
    l->pending->size += FRAME_HEADER_SIZE + len;
    flush(l);
    return 0;
}

/* Seals `payload` once; the same envelope may go to several links. */
static uint8_t *seal_payload(cluster_t *c, const msgpack_sbuffer *payload, size_t *len)
{
    size_t cap = payload->size + SEAL_OVERHEAD_MAX;
    uint8_t *out = malloc(cap);
    if (out != NULL &&
        seal_wrap(c->link_seal, (const uint8_t *)payload->data, payload->size, out, cap, len, clock_now_ms()) != 0) {
        free(out);
        out = NULL;
    }
    return out;
}

static int send_payload(cluster_link_t *l, const msgpack_sbuffer *payload)
{
    size_t len;
    uint8_t *sealed = seal_payload(l->c, payload, &len);
    if (sealed == NULL)
        return -ENOMEM;
    int rc = queue_sealed(l, sealed, len);
    free(sealed);
    return rc;
}

static int send_hello(cluster_link_t *l)
{
    cluster_t *c = l->c;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    /* naming whom we dialed lets a node that took over the address of a dead
     * one refuse the link before it disturbs its own */
    int rc = link_wire_encode_hello(&sb, c->node_id, &c->digest, l->outbound ? l->peer_id : "");
    if (rc == 0)
        rc = send_payload(l, &sb);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static int send_state(cluster_link_t *l)
{
    cluster_t *c = l->c;
    uint8_t *state = malloc(LINK_STATE_MAX);
    size_t state_len;
    if (state == NULL || swim_encode_state(c->swim, state, LINK_STATE_MAX, &state_len) != 0) {
        free(state);
        return -ENOMEM;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    int rc = link_wire_encode_state(&sb, state, state_len);
    if (rc == 0)
        rc = send_payload(l, &sb);
    msgpack_sbuffer_destroy(&sb);
    free(state);
    return rc;
}

void cluster_links_push_state(cluster_t *c)
{
    for (h2o_linklist_t *n = c->links.next; n != &c->links;) {
        cluster_link_t *l = H2O_STRUCT_FROM_MEMBER(cluster_link_t, node, n);
        n = n->next; /* a send may close (and free) the link */
        if (l->established)
            send_state(l);
    }
}

/* Records worth a peer's while: what changes what another node serves. */
static bool forwarded(uint16_t type)
{
    switch (type) {
    case EVENT_WS_EVENT:
    case EVENT_SESSION_REVOKED:
    case EVENT_USER_SESSIONS_REVOKED:
    case EVENT_USER_CHANGED:
    case EVENT_STATUS_CHANGED:
    case EVENT_MEMBERS_CHANGED:
    case EVENT_CONFIG_RELOAD:
    case EVENT_CONFIG_SAVED:
    case EVENT_REPLAY_REQUEST:
    case EVENT_REPLAY_ANSWER: return true;
    }
    return false;
}

/* Does `peer` want this record?  A replay answer goes only to the node that
 * asked. */
static bool wanted_by(uint16_t type, const uint8_t *record, size_t len, const char *peer)
{
    if (type != EVENT_REPLAY_ANSWER)
        return true;
    static event_replay_answer_t answer; /* ~7 KB: not on the stack */
    return event_decode_replay_answer(record, len, &answer) == 0 && strcmp(answer.node_id, peer) == 0;
}

static int send_event(cluster_link_t *l, uint16_t type, const uint8_t *record, size_t len, uint64_t seq)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    int rc = link_wire_encode_event(&sb, type, record, len, seq);
    if (rc == 0)
        rc = send_payload(l, &sb);
    msgpack_sbuffer_destroy(&sb);
    if (rc == -ENOMEM)
        log_warn(ENOMEM, "cannot forward a %s record to %s", event_type_name(type), l->peer_id);
    return rc;
}

static void mark(cluster_link_t *l, int64_t now)
{
    shm_ring_mark_t *last = &l->marks[(l->next_mark + LINK_MARKS - 1) % LINK_MARKS];
    if (last->at != 0 && now - last->at < LINK_MARK_MS)
        return;
    l->marks[l->next_mark++ % LINK_MARKS] = (shm_ring_mark_t){now, l->cursor.seq, l->cursor.pos};
}

/* Sends what the peer has not had of our ring, while its queue has room:
 * a peer that reads slowly holds the rest in the ring, not in our memory. */
static void pump(cluster_link_t *l)
{
    cluster_t *c = l->c;
    shm_ring_t *ring = shm_region_ring(c->params->shm);
    int64_t now = clock_monotonic_ms();
    while (l->established && !l->closing && l->pending->size + l->writing->size < CLUSTER_LINK_QUEUE_MAX / 2) {
        mark(l, now);
        uint16_t type;
        size_t len;
        uint64_t seq;
        int rc = shm_ring_read(ring, &l->cursor, &type, c->record, &len, &seq);
        if (rc == 0)
            break;
        if (rc != 1) {
            /* the cursor moved to the head: the peer misses what was between */
            log_warn(0, "the stream to %s fell a full ring behind: records were not forwarded to it", l->peer_id);
            continue;
        }
        if ((type & EVENT_FROM_CLUSTER) || !forwarded(type) || !wanted_by(type, c->record, len, l->peer_id))
            continue;
        if (send_event(l, type, c->record, len, seq) == 0)
            c->events_out++;
    }
}

void cluster_links_pump(cluster_t *c)
{
    for (h2o_linklist_t *n = c->links.next; n != &c->links;) {
        cluster_link_t *l = H2O_STRUCT_FROM_MEMBER(cluster_link_t, node, n);
        n = n->next; /* a send may close (and free) the link */
        pump(l);
    }
}

bool cluster_links_oldest(cluster_t *c, uint64_t *seq, uint64_t *pos)
{
    bool any = false;
    for (h2o_linklist_t *n = c->links.next; n != &c->links; n = n->next) {
        cluster_link_t *l = H2O_STRUCT_FROM_MEMBER(cluster_link_t, node, n);
        if (l->established && (!any || l->cursor.seq < *seq)) {
            *seq = l->cursor.seq;
            *pos = l->cursor.pos;
            any = true;
        }
    }
    /* links that broke lately come back from their rewind point */
    int64_t now = clock_monotonic_ms();
    for (unsigned i = 0; i < c->peer_count; i++) {
        const cluster_peer_t *p = &c->peers[i];
        if (p->rewind_at != 0 && now - p->rewind_at <= LINK_CATCH_UP_MS && (!any || p->rewind_seq < *seq)) {
            *seq = p->rewind_seq;
            *pos = p->rewind_pos;
            any = true;
        }
    }
    return any;
}

/* The ring still holds what follows `at` (a producer may overwrite it a
 * moment later: the pump then says so). */
static bool ring_holds(shm_ring_t *ring, const shm_ring_cursor_t *head, uint64_t seq, uint64_t pos)
{
    return seq <= head->seq && pos <= head->pos && head->pos - pos <= shm_ring_capacity(ring);
}

/* Where a new link to `p` starts: where the last one broke (a few seconds
 * back: what was in flight may be lost; the peer drops what it has), also
 * after a partition as long as the ring holds that place (what the peer
 * missed meanwhile, revocations and config among it, still reaches it),
 * else where the peer came back (nothing made since is lost); or, for a
 * peer the previous cluster process of this node was linked to, where that
 * one left off; else at the head. */
static void stream_start(cluster_link_t *l, cluster_peer_t *p)
{
    cluster_t *c = l->c;
    shm_ring_t *ring = shm_region_ring(c->params->shm);
    int64_t now = clock_monotonic_ms();
    shm_ring_cursor_init(ring, &l->cursor);
    shm_ring_cursor_t head = l->cursor;
    const char *from = "the head";
    bool broke_lately = p->rewind_at != 0 && now - p->rewind_at <= LINK_CATCH_UP_MS;
    bool broke_holds = p->rewind_at != 0 && now - p->rewind_at <= LINK_PARTITION_MS &&
                       ring_holds(ring, &head, p->rewind_seq, p->rewind_pos);
    if (broke_lately) {
        l->cursor = (shm_ring_cursor_t){p->rewind_seq, p->rewind_pos};
        from = "where the last link broke";
    } else if (cluster_take_inherited(c, p->id) && c->has_inherited_rewind &&
               now - c->took_over_at <= CLUSTER_INHERIT_MS) {
        /* before the mark below: to a process that just took over, every
         * peer is new, and the one it replaced was linked from further back */
        l->cursor = c->inherited_rewind;
        from = "where the previous cluster process left off";
    } else if (broke_holds) {
        l->cursor = (shm_ring_cursor_t){p->rewind_seq, p->rewind_pos};
        from = "where the last link broke";
    } else if (p->back_at != 0 && now - p->back_at <= LINK_PARTITION_MS &&
               ring_holds(ring, &head, p->back_seq, p->back_pos)) {
        l->cursor = (shm_ring_cursor_t){p->back_seq, p->back_pos};
        from = "where the peer came back";
    }
    p->rewind_at = 0;
    p->back_at = 0;
    memset(l->marks, 0, sizeof(l->marks));
    l->next_mark = 0;
    mark(l, now);
    log_info("stream to %s starts at our ring seq %llu (%s)", p->id, (unsigned long long)l->cursor.seq, from);
}

/* The link broke: the next one re-sends from LINK_REWIND_MS before. */
static void stream_stop(cluster_link_t *l, cluster_peer_t *p)
{
    int64_t now = clock_monotonic_ms();
    const shm_ring_mark_t *best = shm_ring_mark_pick(l->marks, LINK_MARKS, now, LINK_REWIND_MS);
    if (best == NULL)
        return;
    p->rewind_seq = best->seq;
    p->rewind_pos = best->pos;
    p->rewind_at = now;
}

/* ---- peers ---------------------------------------------------------------- */

cluster_peer_t *cluster_peer_find(cluster_t *c, const char *id)
{
    for (unsigned i = 0; i < c->peer_count; i++)
        if (strcmp(c->peers[i].id, id) == 0)
            return &c->peers[i];
    return NULL;
}

cluster_peer_t *cluster_peer_note(cluster_t *c, const char *id, const char *host, uint16_t gossip_port,
                                  uint16_t streaming_port, bool from_discovery)
{
    if (strcmp(id, c->node_id) == 0)
        return NULL;
    cluster_peer_t *p = cluster_peer_find(c, id);
    if (p == NULL) {
        if (c->peer_count == CLUSTER_LINKS_MAX)
            return NULL;
        p = &c->peers[c->peer_count++];
        memset(p, 0, sizeof(*p));
        snprintf(p->id, sizeof(p->id), "%s", id);
        log_info("peer %s at %s (gossip %u, streaming %u) from %s", id, host != NULL && host[0] ? host : "?",
                 gossip_port, streaming_port, from_discovery ? "ClusterDiscovery" : "a link");
        cluster_view_mark_dirty(c);
    }
    if (host != NULL && host[0] != '\0')
        snprintf(p->host, sizeof(p->host), "%s", host);
    if (gossip_port != 0)
        p->gossip_port = gossip_port;
    if (streaming_port != 0)
        p->streaming_port = streaming_port;
    p->from_discovery |= from_discovery;
    return p;
}

void cluster_links_on_member(cluster_t *c, const swim_member_t *m, swim_state_t previous)
{
    if (m->is_self)
        return;
    node_meta_t meta;
    uint16_t streaming = 0;
    if (node_meta_decode(m->meta, m->meta_len, &meta) == 0)
        streaming = meta.streaming_port;
    cluster_peer_t *p = cluster_peer_note(c, m->id, m->host, m->port, streaming, false);
    if (p == NULL)
        return;
    if (m->state == SWIM_ALIVE && p->link == NULL) {
        p->next_connect_ms = 0; /* alive again (or new): dial now */
        if (previous != SWIM_ALIVE && previous != SWIM_SUSPECT) {
            shm_ring_cursor_t head;
            shm_ring_cursor_init(shm_region_ring(c->params->shm), &head);
            p->back_seq = head.seq;
            p->back_pos = head.pos;
            p->back_at = clock_monotonic_ms();
        }
    }
    /* A link to a node declared dead may be a connection the kernel is still
     * retransmitting into: events would pile up behind it and arrive late.
     * Cut it (at the next tick: SWIM is calling us) and re-dial with backoff,
     * which is also how the node is found again when it comes back. */
    if ((m->state == SWIM_DEAD || m->state == SWIM_LEFT) && p->link != NULL)
        p->drop_link = true;
}

/* ---- input ---------------------------------------------------------------- */

/* The link that stays when two meet: the one dialed by the lower node id. */
static bool preferred(const cluster_link_t *l)
{
    const char *dialer = l->outbound ? l->c->node_id : l->peer_id;
    const char *other = l->outbound ? l->peer_id : l->c->node_id;
    return strcmp(dialer, other) < 0;
}

static void on_hello(cluster_link_t *l, const link_wire_hello_t *hello, const char *sealed_sender)
{
    cluster_t *c = l->c;
    if (hello->target_len != 0 &&
        (hello->target_len != ID_LENGTH || memcmp(hello->target, c->node_id, ID_LENGTH) != 0)) {
        link_close(l, "dialed for another node (an earlier process at this address)");
        return;
    }
    const char *id = hello->node_id;
    /* the envelope authenticated its sender: the hello must speak for it */
    if (strcmp(id, c->node_id) == 0 || strcmp(sealed_sender, id) != 0 || (l->outbound && strcmp(id, l->peer_id) != 0)) {
        link_close(l, "hello from an unexpected node");
        return;
    }
    cluster_peer_t *p = cluster_peer_note(c, id, NULL, 0, 0, false);
    if (p == NULL) {
        link_close(l, "too many peers");
        return;
    }
    memcpy(l->peer_id, id, sizeof(l->peer_id));
    if (p->link != NULL && p->link != l) {
        if (!preferred(l)) {
            link_close(l, "duplicate link");
            return;
        }
        link_close(p->link, "duplicate link");
    }
    p->digest = hello->digest;
    p->has_digest = true;
    p->link = l;
    p->connect_failures = 0;
    p->last_seen_wall_ms = clock_now_ms();
    /* an accepted link answers only an authenticated hello: whoever merely
     * connects learns nothing, not even our id */
    if (!l->outbound && send_hello(l) != 0) {
        link_close(l, "cannot send our hello");
        return;
    }
    l->established = true;
    log_info("link to %s established (%s)", id, l->outbound ? "dialed" : "accepted");
    cluster_view_mark_dirty(c);
    stream_start(l, p);
    send_state(l); /* push-pull: each side sends its state once linked */
    pump(l);
}

static void on_frame(cluster_link_t *l, uint8_t *frame, size_t len)
{
    cluster_t *c = l->c;
    const uint8_t *payload;
    size_t payload_len;
    char sender[ID_LENGTH + 1];
    if (seal_unwrap(c->link_seal, frame, len, &payload, &payload_len, sender, clock_now_ms()) != SEAL_OK) {
        c->dropped_packets++;
        cluster_view_mark_dirty(c);
        link_close(l, "frame refused by the envelope (cluster name, key or replay)");
        return;
    }
    static link_wire_frame_t f; /* a hello's digests: ~11 KB, not on the stack */
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc = link_wire_decode(&u, payload, payload_len, &f);
    if (rc == -EINVAL) {
        c->dropped_packets++;
        link_close(l, "malformed frame");
    } else if (!l->established && f.kind != LINK_WIRE_HELLO) {
        link_close(l, "frame before hello");
    } else if (f.kind == LINK_WIRE_HELLO) {
        if (l->established)
            link_close(l, "second hello");
        else if (rc != 0)
            link_close(l, rc == -EPROTO ? "malformed config digests" : "malformed hello");
        else
            on_hello(l, &f.hello, sender);
    } else if (rc != 0) {
        c->dropped_packets++; /* a kind from a newer node, or a malformed one: skipped */
    } else if (f.kind == LINK_WIRE_STATE) {
        if (swim_merge_state(c->swim, f.state.state, f.state.len, clock_monotonic_ms()) != 0)
            c->dropped_packets++;
    } else if (f.kind == LINK_WIRE_EVENT) {
        c->events_in++;
        cluster_inbound_record(c, l->peer_id, f.event.type, f.event.record, f.event.len, f.event.seq);
    }
    msgpack_unpacked_destroy(&u);
}

static void on_read(h2o_socket_t *sock, const char *err)
{
    cluster_link_t *l = sock->data;
    if (err != NULL) {
        link_close(l, err);
        return;
    }
    while (!l->closing && sock->input->size > 0) { /* closing first: a closed socket is gone */
        size_t taken;
        int rc = frame_reader_feed(&l->reader, (const uint8_t *)sock->input->bytes, sock->input->size, &taken);
        if (rc != 0) {
            l->c->dropped_packets++;
            link_close(l, rc == -EMSGSIZE ? "frame larger than allowed"
                          : rc == -ENOMEM ? "out of memory for a frame"
                                          : "malformed frame header");
            return;
        }
        h2o_buffer_consume(&sock->input, taken);
        uint8_t *frame;
        size_t len;
        while (!l->closing && frame_reader_next(&l->reader, &frame, &len) == 1)
            on_frame(l, frame, len);
        if (taken == 0 && !l->closing)
            break; /* cannot happen: a reader with no whole frame always has room */
    }
}

/* ---- life and death -------------------------------------------------------- */

/* Unacknowledged data older than this breaks the connection: without it a
 * link into a partition keeps retransmitting for a quarter of an hour. */
#define LINK_USER_TIMEOUT_MS 5000

static cluster_link_t *link_new(cluster_t *c, h2o_socket_t *sock, bool outbound)
{
    cluster_link_t *l = calloc(1, sizeof(*l));
    if (l == NULL || frame_reader_init(&l->reader, CLUSTER_FRAME_MAX + SEAL_OVERHEAD_MAX) != 0) {
        free(l);
        return NULL;
    }
    l->c = c;
    l->sock = sock;
    l->outbound = outbound;
    l->started_ms = clock_monotonic_ms();
    h2o_buffer_init(&l->pending, &h2o_socket_buffer_prototype);
    h2o_buffer_init(&l->writing, &h2o_socket_buffer_prototype);
    h2o_linklist_insert(&c->links, &l->node);
    sock->data = l;
    unsigned timeout = LINK_USER_TIMEOUT_MS;
    int fd = h2o_socket_get_fd(sock);
    if (fd >= 0 && setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout, sizeof(timeout)) != 0)
        log_debug("TCP_USER_TIMEOUT on a link: %s", strerror(errno));
    return l;
}

static void link_close(cluster_link_t *l, const char *why)
{
    link_close_probing(l, why, true);
}

static void link_close_probing(cluster_link_t *l, const char *why, bool probe)
{
    if (l->closing)
        return;
    cluster_t *c = l->c;
    l->closing = true;
    cluster_peer_t *p = l->peer_id[0] != '\0' ? cluster_peer_find(c, l->peer_id) : NULL;
    if (p != NULL && p->link == l) {
        p->link = NULL;
        if (l->established)
            stream_stop(l, p);
        p->next_connect_ms = clock_monotonic_ms() + LINK_BACKOFF_MIN_MS;
        log_info("link to %s closed: %s", p->id, why);
        /* a broken link is the earliest sign of a dead node: probe it now */
        if (probe && !c->stopping && c->swim != NULL)
            swim_probe_now(c->swim, p->id, clock_monotonic_ms());
        cluster_view_mark_dirty(c);
    } else {
        log_debug("link %s%s closed: %s", l->outbound ? "to " : "from ", l->peer_id[0] ? l->peer_id : "?", why);
    }
    h2o_linklist_unlink(&l->node);
    h2o_socket_close(l->sock);
    /* callers up the stack (a read handling several frames) may still hold
     * it: freed by the next tick */
    h2o_linklist_insert(&c->closed_links, &l->node);
}

static void free_closed(cluster_t *c)
{
    while (!h2o_linklist_is_empty(&c->closed_links)) {
        cluster_link_t *l = H2O_STRUCT_FROM_MEMBER(cluster_link_t, node, c->closed_links.next);
        h2o_linklist_unlink(&l->node);
        frame_reader_dispose(&l->reader);
        h2o_buffer_dispose(&l->pending);
        h2o_buffer_dispose(&l->writing);
        free(l);
    }
}

static void on_connect(h2o_socket_t *sock, const char *err)
{
    cluster_link_t *l = sock->data;
    cluster_peer_t *p = cluster_peer_find(l->c, l->peer_id);
    if (err != NULL) {
        if (p != NULL) {
            p->next_connect_ms = clock_monotonic_ms() +
                                 backoff_delay_ms(LINK_BACKOFF_MIN_MS, LINK_BACKOFF_MAX_MS, p->connect_failures++);
        }
        link_close(l, err);
        return;
    }
    l->connected = true;
    h2o_socket_read_start(sock, on_read);
    send_hello(l);
}

static bool dialing(cluster_t *c, const char *id)
{
    for (h2o_linklist_t *n = c->links.next; n != &c->links; n = n->next) {
        cluster_link_t *l = H2O_STRUCT_FROM_MEMBER(cluster_link_t, node, n);
        if (l->outbound && !l->established && strcmp(l->peer_id, id) == 0)
            return true;
    }
    return false;
}

static void dial(cluster_t *c, cluster_peer_t *p, int64_t now)
{
    struct sockaddr_storage addr;
    socklen_t len;
    p->next_connect_ms = now + LINK_BACKOFF_MAX_MS; /* until on_connect says better */
    int rc = resolver_lookup(p->host, p->streaming_port, SOCK_STREAM, &addr, &len);
    if (rc == -EAGAIN) {
        p->next_connect_ms = now + LINK_BACKOFF_MIN_MS; /* the resolver is on it: look again soon */
        return;
    }
    if (rc != 0) {
        log_debug("cannot resolve %s for peer %s", p->host, p->id);
        return;
    }
    h2o_socket_t *sock = h2o_socket_connect(c->loop, (struct sockaddr *)&addr, len, on_connect);
    if (sock == NULL)
        return;
    cluster_link_t *l = link_new(c, sock, true);
    if (l == NULL) {
        h2o_socket_close(sock);
        return;
    }
    memcpy(l->peer_id, p->id, sizeof(l->peer_id));
}

/* Another peer, alive, now answers at p's address: p was an earlier process
 * of that node (a restart gets a new id), not worth dialing. */
static bool superseded(cluster_t *c, const cluster_peer_t *p)
{
    for (unsigned i = 0; i < c->peer_count; i++) {
        const cluster_peer_t *o = &c->peers[i];
        if (o != p && o->down_since_wall_ms == 0 && o->streaming_port == p->streaming_port &&
            strcmp(o->host, p->host) == 0 && (o->link != NULL || o->last_seen_wall_ms > p->last_seen_wall_ms))
            return true;
    }
    return false;
}

static bool wanted(cluster_t *c, const cluster_peer_t *p)
{
    if (p->host[0] == '\0' || p->streaming_port == 0 || superseded(c, p))
        return false;
    const swim_member_t *m = c->swim != NULL ? swim_member_find(c->swim, p->id) : NULL;
    return p->from_discovery || (m != NULL && m->state != SWIM_LEFT);
}

/* Makes room for one more accepted link without a hello: the oldest such
 * goes when LINK_PENDING_MAX wait (links are listed oldest first). */
static void limit_pending(cluster_t *c)
{
    cluster_link_t *oldest = NULL;
    unsigned pending = 0;
    for (h2o_linklist_t *n = c->links.next; n != &c->links; n = n->next) {
        cluster_link_t *l = H2O_STRUCT_FROM_MEMBER(cluster_link_t, node, n);
        if (!l->outbound && !l->established && !l->closing && pending++ == 0)
            oldest = l;
    }
    if (pending >= LINK_PENDING_MAX) {
        c->dropped_packets++;
        link_close(oldest, "too many connections waiting for a hello");
    }
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    cluster_t *c = listener->data;
    if (err != NULL)
        return;
    h2o_socket_t *sock;
    while ((sock = h2o_evloop_socket_accept(listener)) != NULL) {
        limit_pending(c);
        cluster_link_t *l = link_new(c, sock, false);
        if (l == NULL) {
            h2o_socket_close(sock);
            continue;
        }
        l->connected = true;
        h2o_socket_read_start(sock, on_read); /* our hello answers theirs (on_hello) */
    }
}

int cluster_links_start(cluster_t *c)
{
    const config_cluster_t *cl = &c->config->cluster;
    struct sockaddr_storage addr;
    socklen_t len;
    const char *host = cl->bind_address[0] != '\0' ? cl->bind_address : "::";
    h2o_linklist_init_anchor(&c->links);
    h2o_linklist_init_anchor(&c->closed_links);
    if (resolver_numeric(host, (uint16_t)cl->streaming_port, SOCK_STREAM, &addr, &len) != 0) {
        log_error(0, "ClusterSettings.BindAddress: \"%s\" is not an IP address", cl->bind_address);
        return -EINVAL;
    }
    int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int on = 1, off = 0;
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        if (addr.ss_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
    }
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, len) != 0 || listen(fd, 64) != 0) {
        int e = errno;
        log_error(e, "ClusterSettings.StreamingPort: cannot listen on TCP port %lld", (long long)cl->streaming_port);
        if (fd >= 0)
            close(fd);
        return -e;
    }
    c->listener = h2o_evloop_socket_create(c->loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    c->listener->data = c;
    h2o_socket_read_start(c->listener, on_accept);
    c->next_push_pull_ms = clock_monotonic_ms() + c->config->cluster.gossip_push_pull_interval_seconds * 1000;
    return 0;
}

void cluster_links_tick(cluster_t *c, int64_t now)
{
    free_closed(c);
    if (!c->gossip_started || c->leaving)
        return;
    for (h2o_linklist_t *n = c->links.next; n != &c->links;) {
        cluster_link_t *l = H2O_STRUCT_FROM_MEMBER(cluster_link_t, node, n);
        n = n->next;
        if (!l->connected && now - l->started_ms > LINK_CONNECT_TIMEOUT)
            link_close(l, "connect timeout");
        else if (l->connected && !l->established && now - l->started_ms > LINK_HELLO_TIMEOUT)
            link_close(l, "no hello");
    }
    for (unsigned i = 0; i < c->peer_count; i++) {
        cluster_peer_t *p = &c->peers[i];
        if (p->drop_link && p->link != NULL)
            link_close_probing(p->link, "the node was declared dead", false);
        p->drop_link = false;
        if (p->link == NULL && now >= p->next_connect_ms && wanted(c, p) && !dialing(c, p->id))
            dial(c, p, now);
    }
    if (now >= c->next_push_pull_ms) {
        c->next_push_pull_ms = now + c->config->cluster.gossip_push_pull_interval_seconds * 1000;
        cluster_links_push_state(c);
    }
}

void cluster_links_dispose(cluster_t *c)
{
    if (c->links.next == NULL)
        return; /* never started */
    while (!h2o_linklist_is_empty(&c->links)) {
        cluster_link_t *l = H2O_STRUCT_FROM_MEMBER(cluster_link_t, node, c->links.next);
        link_close(l, "stopping");
    }
    free_closed(c);
    if (c->listener != NULL)
        h2o_socket_close(c->listener);
    c->listener = NULL;
}
