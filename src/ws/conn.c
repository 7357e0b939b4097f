/*
 * One WebSocket connection: the upgrade, the frames in and out, the send
 * queue, the close, and authentication.
 *
 * The upgrade is h2o_http1_upgrade with our own 101 (HTTP/1.1 only); from
 * then on the socket is ours.  We do not use h2o's websocket.c nor wslay: a
 * wslay context costs two 4 KiB buffers per socket and h2o's glue writes
 * one frame per loop turn (the header and the payload as two writes), which
 * made an idle socket cost ~15 KB and fan-out one syscall per frame.  The
 * bytes of RFC 6455 are frame.c's (parsing, unmasking, the checks and their
 * close codes, frame headers); this file keeps the connection around them:
 *   - in: a frame is handled once whole in h2o's input buffer, unmasked in
 *     place; only a fragmented message is copied (frag), bounded by
 *     ServiceSettings.MaximumPayloadSizeBytes.  A protocol error closes with
 *     the code frame.c gives.  A fully consumed input buffer is released by
 *     h2o, so an idle socket holds none.
 *   - out: frames are appended to the connection's `out` buffer; a flush at
 *     the end of the loop turn (a zero timeout) hands it to h2o in one write,
 *     however many events it carries, and the buffer is freed once written.
 *     The send queue (WS_SEND_QUEUE_MAX messages, as Mattermost, and
 *     WS_OUT_BYTES_MAX bytes) counts what is not written yet: a client that
 *     does not read is closed (1008), as is one whose write waits longer
 *     than WS_WRITE_WAIT_MS; its pings get no pong meanwhile.
 *   - close: our close frame ends what we send; the socket goes once the
 *     peer's close came and ours is written (at once after a protocol error),
 *     or WS_CLOSING_MS later.  A peer's close is echoed with its code.
 *
 * Authentication at the upgrade (MMAUTHTOKEN cookie or Authorization
 * header, found by worker/token.c; never an access_token parameter) or by an
 * authentication_challenge {token}: the shared session cache answers, else
 * the master database, by the rules of worker/session.c.  As Mattermost, the upgrade never fails on a bad
 * token: the socket just stays unauthenticated.  An authenticated socket
 * gets `hello` (seq 0) first; unauthenticated ones are closed after 5 s.  A
 * reconnect with connection_id and sequence_number may resume a dropped
 * connection instead (replay.c): no hello then.
 *
 * Actions are throttled per socket (throttle.h): WS_ACTIONS_BURST at once,
 * WS_ACTIONS_PER_SECOND after that.  The web app sends a few a minute
 * (typing at most every few seconds, its activity, statuses) and a handful
 * at once on connect or a channel switch: far below.  One past them is
 * answered, not acted on: a FAIL reply with status_code 429 (Mattermost has
 * no such limit, so no id of its own), which an honest client's callback
 * gets instead of waiting forever; a client that sends faster than it reads
 * fills its send queue with those replies and is closed by the queue's
 * bound.
 */
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "shm/sessions.h"
#include "store/session.h"
#include "worker/session.h"
#include "worker/token.h"
#include "ws/origin.h"
#include "ws/frame.h"
#include "ws/internal.h"
#include "ws/throttle.h"

#include "h2o/http1.h"
#include "h2o/websocket.h" /* h2o_is_websocket_handshake only */

/* First allocation of an output buffer: with shared envelopes it holds only
 * frame headers and seqs, some 30 events' worth. */
#define WS_OUT_MIN 512

static void out_drop(ws_conn_t *c);

static void conn_destroy(ws_conn_t *c)
{
    ws_replay_save(c);
    if (c->auth_query != NULL)
        db_routed_cancel(c->auth_query);
    ws_session_check_cancel(c);
    h2o_linklist_unlink(&c->link);
    if (h2o_linklist_is_linked(&c->dirty_link))
        h2o_linklist_unlink(&c->dirty_link);
    c->hub->count--;
    if (c->counted)
        ws_presence_disconnected(c->hub, c->user_id);
    if (c->sock != NULL)
        h2o_socket_close(c->sock); /* h2o drops a write in progress: wbuf is ours again */
    out_drop(c);
    free(c->wbuf);
    free(c->frag);
    free(c->sent);
    free(c);
}

/* ---- frames out ------------------------------------------------------------------- */

static bool out_reserve(ws_conn_t *c, size_t n)
{
    if (c->out_cap - c->out_len >= n)
        return true;
    size_t cap = c->out_cap != 0 ? c->out_cap : WS_OUT_MIN;
    while (cap - c->out_len < n)
        cap *= 2;
    char *out = realloc(c->out, cap);
    if (out == NULL)
        return false;
    c->out = out;
    c->out_cap = cap;
    return true;
}

void ws_shared_release(ws_shared_t *env)
{
    if (env != NULL && --env->refs == 0)
        free(env);
}

/* Forgets what waits in `out` (written, flattened, or the socket goes). */
static void out_drop(ws_conn_t *c)
{
    for (unsigned i = 0; i < c->nsegs; i++)
        ws_shared_release(c->segs[i].env);
    free(c->segs);
    c->segs = NULL;
    c->nsegs = c->segs_cap = 0;
    c->out_env_bytes = 0;
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_cap = 0;
    c->out_msgs = 0;
}

/* Appends one unmasked frame whose payload is `a` then `b`; with `env`, the
 * payload is env's text, then `a`, then `b`, and env is not copied. */
static bool out_frame_shared(ws_conn_t *c, uint8_t opcode, ws_shared_t *env, const void *a, size_t alen, const void *b,
                             size_t blen)
{
    size_t elen = env != NULL ? env->len : 0, len = elen + alen + blen;
    size_t hlen = ws_frame_header_size(len);
    if (!out_reserve(c, hlen + alen + blen))
        return false;
    if (env != NULL && c->nsegs == c->segs_cap) {
        unsigned cap = c->segs_cap != 0 ? c->segs_cap * 2 : 8;
        ws_out_seg_t *segs = realloc(c->segs, cap * sizeof(*segs));
        if (segs == NULL)
            return false;
        c->segs = segs;
        c->segs_cap = cap;
    }
    uint8_t *h = (uint8_t *)c->out + c->out_len;
    ws_frame_header(h, opcode, len);
    if (env != NULL) {
        c->segs[c->nsegs++] = (ws_out_seg_t){env, c->out_len + hlen};
        c->out_env_bytes += elen;
        env->refs++;
    }
    if (alen > 0)
        memcpy(h + hlen, a, alen);
    if (blen > 0)
        memcpy(h + hlen + alen, b, blen);
    c->out_len += hlen + alen + blen;
    return true;
}

static bool out_frame(ws_conn_t *c, uint8_t opcode, const void *a, size_t alen, const void *b, size_t blen)
{
    return out_frame_shared(c, opcode, NULL, a, alen, b, blen);
}

unsigned ws_conn_queued(const ws_conn_t *c)
{
    return c->out_msgs + c->wbuf_msgs;
}

static bool queue_text(ws_conn_t *c, ws_shared_t *env, const char *head, size_t head_len, const char *tail,
                       size_t tail_len)
{
    if (c->closing)
        return false;
    size_t pending = c->out_len + c->out_env_bytes + c->wbuf_len;
    size_t adding = (env != NULL ? env->len : 0) + head_len + tail_len;
    if (ws_conn_queued(c) >= WS_SEND_QUEUE_MAX || pending + adding > WS_OUT_BYTES_MAX) {
        log_info("WebSocket %s of %s does not read its events: closed", c->connection_id, c->user_id);
        ws_conn_close(c, WS_CLOSE_POLICY, "send queue full");
        return false;
    }
    if (!out_frame_shared(c, WS_OP_TEXT, env, head, head_len, tail, tail_len)) {
        ws_conn_close(c, WS_CLOSE_INTERNAL_ERROR, "out of memory");
        return false;
    }
    c->out_msgs++;
    ws_conn_flush(c);
    return true;
}

bool ws_conn_queue(ws_conn_t *c, const char *head, size_t head_len, const char *tail, size_t tail_len)
{
    return queue_text(c, NULL, head, head_len, tail, tail_len);
}

bool ws_conn_queue_shared(ws_conn_t *c, ws_shared_t *env, const char *tail, size_t tail_len)
{
    return queue_text(c, env, NULL, 0, tail, tail_len);
}

void ws_conn_close(ws_conn_t *c, uint16_t code, const char *reason)
{
    if (c->closing)
        return;
    c->closing = true;
    c->closing_at = clock_monotonic_ms();
    c->stopped = true;
    ws_deliver_point(c->hub, &c->stop_seq, &c->stop_pos);
    ws_replay_save(c); /* nothing is sent after this: a reconnect may come at once */
    uint8_t body[WS_CONTROL_MAX];
    size_t n = ws_frame_close_body(body, code, reason);
    /* without room for it the socket goes at the closing timeout */
    if (out_frame(c, WS_OP_CLOSE, body, n, NULL, 0))
        ws_conn_flush(c);
}

static void write_out(ws_conn_t *c);

static void on_written(h2o_socket_t *sock, const char *err)
{
    ws_conn_t *c = sock->data;
    free(c->wbuf);
    c->wbuf = NULL;
    c->wbuf_len = 0;
    c->wbuf_msgs = 0;
    c->writing = false;
    if (err != NULL) {
        conn_destroy(c);
        return;
    }
    if (c->closing && c->out_len == 0 && (c->close_received || c->broken)) {
        conn_destroy(c); /* both closes done (or no answer worth waiting for) */
        return;
    }
    write_out(c);
}

/* `out` with its shared envelopes in place, as iovecs: their count (iov has
 * room for 2 * nsegs + 1) and, in *total, their size. */
static int out_iov(const ws_conn_t *c, struct iovec *iov, size_t *total)
{
    int n = 0;
    size_t own = 0;
    *total = c->out_len;
    for (unsigned i = 0; i < c->nsegs; i++) {
        const ws_out_seg_t *s = &c->segs[i];
        if (s->at > own)
            iov[n++] = (struct iovec){c->out + own, s->at - own};
        iov[n++] = (struct iovec){s->env->text, s->env->len};
        *total += s->env->len;
        own = s->at;
    }
    if (c->out_len > own)
        iov[n++] = (struct iovec){c->out + own, c->out_len - own};
    return n;
}

/* One write for every frame queued since the last: `out` and the shared
 * envelopes between its bytes, gathered by sendmsg, non-blocking.  Usually
 * the socket takes it all: nothing was copied per socket, and nothing waits
 * for a callback.  What it does not take (a peer that reads slowly), or a
 * failure, is copied to `wbuf` (the envelopes are then released) and goes
 * to h2o, which writes it when the socket allows and reports in on_written.
 * A closing socket always goes through h2o: on_written is where it may go
 * once its close is out. */
static void write_out(ws_conn_t *c)
{
    if (c->sock == NULL || c->writing || c->out_len == 0)
        return;
    struct iovec iov[2 * (WS_SEND_QUEUE_MAX + 1) + 1];
    size_t total, done = 0;
    int n = 0;
    if (c->nsegs <= WS_SEND_QUEUE_MAX + 1) /* always: one per message, and the queue is bounded */
        n = out_iov(c, iov, &total);
    if (n > 0 && !c->closing) {
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t w = sendmsg(h2o_socket_get_fd(c->sock), &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w == (ssize_t)total) {
            out_drop(c);
            return;
        }
        done = w > 0 ? (size_t)w : 0; /* EAGAIN or an error: h2o tells */
    }
    char *rest = n > 0 ? malloc(total - done) : NULL;
    if (rest == NULL) {
        out_drop(c);
        ws_conn_close(c, WS_CLOSE_INTERNAL_ERROR, "out of memory"); /* queued and goes with the closing timeout */
        return;
    }
    size_t off = 0, skip = done;
    for (int i = 0; i < n; i++) {
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        memcpy(rest + off, (char *)iov[i].iov_base + skip, iov[i].iov_len - skip);
        off += iov[i].iov_len - skip;
        skip = 0;
    }
    c->wbuf = rest;
    c->wbuf_len = off;
    c->wbuf_msgs = c->out_msgs;
    out_drop(c);
    c->writing = true;
    c->writing_since = clock_monotonic_ms();
    h2o_iovec_t buf = h2o_iovec_init(c->wbuf, c->wbuf_len);
    h2o_socket_write(c->sock, &buf, 1, on_written);
}

void ws_conn_flush(ws_conn_t *c)
{
    ws_hub_t *hub = c->hub;
    if (c->out_len == 0 || h2o_linklist_is_linked(&c->dirty_link))
        return;
    h2o_linklist_insert(&hub->dirty, &c->dirty_link); /* at the tail: oldest first */
    /* a slice already due reaches this socket in its turn */
    if (!h2o_timeout_is_linked(&hub->flush) && !h2o_timeout_is_linked(&hub->flush_more))
        h2o_timeout_link(hub->worker->loop, &hub->flush_timeout, &hub->flush);
}

static uint64_t monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* One slice: writes sockets, oldest first, for at most WS_FLUSH_SLICE_US,
 * then lets the loop run (a write to a socket costs microseconds, and a
 * worker with thousands of sockets would otherwise keep its posts and ring
 * records waiting for the whole fan-out).  Frames that arrive meanwhile are
 * appended to the buffers of the sockets still waiting, so under load one
 * write carries several events: the busier, the fewer writes per event. */
bool ws_conns_flush_all(ws_hub_t *hub)
{
    uint64_t start = monotonic_us();
    unsigned n = 0;
    while (!h2o_linklist_is_empty(&hub->dirty)) {
        if (++n % 16 == 0 && monotonic_us() - start >= WS_FLUSH_SLICE_US)
            return true;
        ws_conn_t *c = H2O_STRUCT_FROM_MEMBER(ws_conn_t, dirty_link, hub->dirty.next);
        h2o_linklist_unlink(&c->dirty_link);
        write_out(c); /* never frees: a failed write reports in on_written */
    }
    return false;
}

static void queue_json(ws_conn_t *c, json_t *msg)
{
    char *text = msg != NULL ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    if (text == NULL) {
        ws_conn_close(c, WS_CLOSE_INTERNAL_ERROR, "out of memory");
        return;
    }
    ws_conn_queue(c, text, strlen(text), NULL, 0);
    free(text);
}

void ws_conn_reply_ok(ws_conn_t *c, int64_t seq, json_t *data)
{
    json_t *m = json_pack("{s:s,s:I}", "status", "OK", "seq_reply", (json_int_t)seq);
    if (m != NULL && data != NULL)
        json_object_set_new(m, "data", data);
    else
        json_decref(data);
    queue_json(c, m);
}

void ws_conn_reply_fail(ws_conn_t *c, int64_t seq, const char *id, const char *message, int status)
{
    queue_json(c, json_pack("{s:s,s:I,s:{s:s,s:s,s:i}}", "status", "FAIL", "seq_reply", (json_int_t)seq, "error", "id",
                            id, "message", message, "status_code", status));
}

void ws_conn_set_user(ws_conn_t *c, const char *user_id, const char *token)
{
    if (user_id != c->user_id)
        snprintf(c->user_id, sizeof(c->user_id), "%s", user_id);
    if (token != c->token)
        snprintf(c->token, sizeof(c->token), "%s", token);
    c->authenticated = true;
    if (!c->counted) {
        c->counted = true;
        ws_presence_connected(c->hub, user_id);
    }
}

void ws_conn_authenticated(ws_conn_t *c, const char *user_id, const char *token)
{
    worker_t *w = c->hub->worker;
    ws_conn_set_user(c, user_id, token);
    json_t *data = json_pack("{s:s,s:s,s:s}", "server_version", w->version_id, "connection_id", c->connection_id,
                             "server_hostname", c->hub->hostname);
    char *text = data != NULL ? json_dumps(data, JSON_COMPACT) : NULL;
    json_decref(data);
    if (text == NULL) {
        ws_conn_close(c, WS_CLOSE_INTERNAL_ERROR, "out of memory");
        return;
    }
    event_ws_event_t ev = {.data = {text, strlen(text)}};
    snprintf(ev.event, sizeof(ev.event), "hello");
    snprintf(ev.user_id, sizeof(ev.user_id), "%s", user_id);
    ws_deliver_to(c, &ev);
    free(text);
}

/* ---- authentication ---------------------------------------------------------- */

/* Authenticated at the upgrade (or not): a resume, hello, or nothing yet. */
static void upgrade_auth_done(ws_conn_t *c, const char *user_id)
{
    if (user_id == NULL) {
        /* as Mattermost: an unauthenticated socket, which may still send a
         * challenge and is closed after WS_AUTH_TIMEOUT_MS otherwise */
        log_debug("WebSocket %s: the upgrade's token has no session", c->connection_id);
        c->token[0] = '\0';
        return;
    }
    if (ws_replay_start(c, user_id, c->token) == 0)
        ws_conn_authenticated(c, user_id, c->token);
}

static void challenge_done(ws_conn_t *c, const char *user_id)
{
    if (user_id == NULL) {
        ws_conn_close(c, WS_CLOSE_POLICY, "invalid token");
        return;
    }
    /* a reconnect that authenticates by challenge (the official client
     * outside a browser: no cookie) resumes as one with a header would */
    if (ws_replay_start(c, user_id, c->token) == 0)
        ws_conn_authenticated(c, user_id, c->token);
    ws_conn_reply_ok(c, c->auth_seq, NULL);
}

static void start_reading(ws_conn_t *c);

/* The lookup found session `s` of c->token, or none (NULL). */
static void lookup_done(ws_conn_t *c, const shm_session_t *s)
{
    const char *user_id = s != NULL ? s->user_id : NULL;
    if (s != NULL)
        ws_session_noted(c, s);
    if (c->upgrade_auth) {
        c->upgrade_auth = false;
        upgrade_auth_done(c, user_id);
        if (c->sock != NULL)
            start_reading(c); /* may free c */
    } else {
        challenge_done(c, user_id);
    }
}

static void on_session_loaded(void *data, PGresult *res, const char *error, const db_outcome_t *outcome)
{
    ws_conn_t *c = data;
    (void)outcome;
    c->auth_query = NULL;
    shm_session_t s;
    if (error != NULL) {
        log_warn(0, "WebSocket authentication: %s", error);
        lookup_done(c, NULL);
        return;
    }
    if (!session_from_result(res, clock_now_ms(), &s)) {
        lookup_done(c, NULL);
        return;
    }
    session_cache_fill(c->hub->worker, c->token, &s, c->prior_write_lsn);
    lookup_done(c, &s);
}

/* The session of c->token: the shared cache, else the master database (a
 * socket is long-lived, and a replica behind a logout must not open one). */
static void lookup_session(ws_conn_t *c)
{
    shm_session_t s;
    worker_t *w = c->hub->worker;
    if (session_cache_lookup(w, c->token, &s, &c->prior_write_lsn)) {
        lookup_done(c, &s);
        return;
    }
    const char *params[] = {c->token};
    /* NULL: on_session_loaded has run already (and may have freed c) */
    db_routed_t *q = db_router_query(w->router, DB_INTENT_READ, DB_LSN_MASTER_ONLY, SESSION_SQL_BY_TOKEN, 1, params,
                                     on_session_loaded, c);
    if (q != NULL)
        c->auth_query = q;
}

static void authentication_challenge(ws_conn_t *c, int64_t seq, json_t *data)
{
    if (c->authenticated || c->auth_query != NULL)
        return; /* Mattermost: ignored, no reply */
    const char *token = json_string_value(json_object_get(data, "token"));
    if (token == NULL || !id_is_valid(token, strlen(token))) {
        ws_conn_close(c, WS_CLOSE_POLICY, "invalid token");
        return;
    }
    c->auth_seq = seq;
    snprintf(c->token, sizeof(c->token), "%s", token);
    lookup_session(c);
}

/* ---- frames in ---------------------------------------------------------------------- */

static void on_text(ws_conn_t *c, const uint8_t *msg, size_t len)
{
    json_error_t err;
    json_t *req = json_loadb((const char *)msg, len, JSON_REJECT_DUPLICATES, &err);
    const char *action = json_string_value(json_object_get(req, "action"));
    json_t *seq = json_object_get(req, "seq");
    if (!json_is_object(req) || action == NULL || (seq != NULL && !json_is_integer(seq))) {
        log_debug("WebSocket %s: not a request: closed", c->connection_id);
        ws_conn_close(c, WS_CLOSE_UNSUPPORTED, "invalid request");
        json_decref(req);
        return;
    }
    json_t *data = json_object_get(req, "data");
    int64_t n = json_integer_value(seq);
    if (!ws_bucket_take(&c->actions, clock_monotonic_ms(), WS_ACTIONS_PER_SECOND, WS_ACTIONS_BURST))
        ws_conn_reply_fail(c, n, "api.web_socket_router.rate_limit.app_error",
                           "Too many WebSocket actions: slow down and try again.", 429);
    else if (strcmp(action, "authentication_challenge") == 0)
        authentication_challenge(c, n, data);
    else if (!c->authenticated)
        ws_conn_reply_fail(c, n, "api.web_socket_router.not_authenticated.app_error",
                           "No websocket connection has been authenticated.", 401);
    else
        ws_action_dispatch(c, action, n, json_is_object(data) ? data : NULL);
    json_decref(req);
}

/* The peer broke the protocol: our close, then the socket goes. */
static void protocol_error(ws_conn_t *c, uint16_t code, const char *reason)
{
    log_debug("WebSocket %s: %s: closed", c->connection_id, reason);
    c->broken = true;
    ws_conn_close(c, code, reason);
}

static void on_close_frame(ws_conn_t *c, const uint8_t *body, size_t len)
{
    c->close_received = true;
    if (c->closing)
        return; /* the answer to ours */
    /* echo the peer's code (RFC 6455 5.5.1); none: a close without one */
    uint16_t code = len >= 2 ? (uint16_t)(body[0] << 8 | body[1]) : 0;
    c->closing = true;
    c->closing_at = clock_monotonic_ms();
    c->stopped = true;
    ws_deliver_point(c->hub, &c->stop_seq, &c->stop_pos);
    ws_replay_save(c);
    uint8_t echo[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    if (out_frame(c, WS_OP_CLOSE, echo, len >= 2 ? 2 : 0, NULL, 0))
        ws_conn_flush(c);
}

/* A whole frame: opcode, payload (unmasked), FIN. */
static void on_frame(ws_conn_t *c, uint8_t op, bool fin, uint8_t *p, size_t len)
{
    if (op == WS_OP_PING) {
        /* while a write waits, the peer is not reading what we sent: its pings
         * get no pong (RFC 6455 lets us answer only the latest), so a client
         * that pings and never reads cannot grow our output */
        if (!c->closing && !c->writing && out_frame(c, WS_OP_PONG, p, len, NULL, 0))
            ws_conn_flush(c);
        return;
    }
    if (op == WS_OP_PONG)
        return;
    if (op == WS_OP_CLOSE) {
        on_close_frame(c, p, len);
        return;
    }
    if (c->frag_op == 0 && fin) { /* a message in one frame: no copy */
        if (!c->closing)
            on_text(c, p, len);
        return;
    }
    if (c->frag_op == 0)
        c->frag_op = op;
    uint8_t *frag = realloc(c->frag, c->frag_len + len + 1);
    if (frag == NULL) {
        protocol_error(c, WS_CLOSE_INTERNAL_ERROR, "out of memory");
        return;
    }
    memcpy(frag + c->frag_len, p, len);
    c->frag = frag;
    c->frag_len += len;
    if (!fin)
        return;
    if (!c->closing)
        on_text(c, c->frag, c->frag_len);
    free(c->frag);
    c->frag = NULL;
    c->frag_len = 0;
    c->frag_op = 0;
}

/* Handles the frame at `p`: its size, 0 when incomplete, or -1 after a
 * protocol error (handled). */
static ssize_t read_frame(ws_conn_t *c, uint8_t *p, size_t avail)
{
    uint64_t max = (uint64_t)c->hub->worker->config->service.maximum_payload_size_bytes;
    ws_frame_t f;
    ssize_t n = ws_frame_parse(p, avail, c->frag_op, c->frag_len, max, &f);
    if (n < 0)
        protocol_error(c, f.close_code, f.reason);
    else if (n > 0)
        on_frame(c, f.op, f.fin, f.payload, f.len);
    return n;
}

/* Handles the whole frames in the socket's input, keeps a partial one. */
static void read_frames(ws_conn_t *c)
{
    h2o_buffer_t *in = c->sock->input;
    size_t off = 0;
    while (!c->close_received && !c->broken && off < in->size) {
        ssize_t n = read_frame(c, (uint8_t *)in->bytes + off, in->size - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    if (c->close_received || c->broken)
        off = in->size; /* nothing after a close or an error is read */
    /* all consumed: h2o frees the buffer (an idle socket keeps none) */
    h2o_buffer_consume(&c->sock->input, off);
}

static void on_read(h2o_socket_t *sock, const char *err)
{
    ws_conn_t *c = sock->data;
    if (err != NULL) {
        conn_destroy(c);
        return;
    }
    c->last_recv_at = clock_monotonic_ms();
    read_frames(c);
    if (c->closing && c->close_received && !c->writing && c->out_len == 0) {
        conn_destroy(c); /* our close went out before theirs came */
        return;
    }
}

static void start_reading(ws_conn_t *c)
{
    h2o_socket_read_start(c->sock, on_read);
    if (c->sock->input->size > 0) /* frames sent right behind the request */
        on_read(c->sock, NULL);   /* may free c */
}

/* ---- the upgrade ------------------------------------------------------------------- */

static void on_upgraded(void *data, h2o_socket_t *sock, size_t reqsize)
{
    ws_conn_t *c = data;
    if (sock == NULL) {
        conn_destroy(c);
        return;
    }
    c->sock = sock;
    sock->data = c;
    h2o_buffer_consume(&sock->input, reqsize);
    ws_conn_flush(c); /* hello, or a close, queued meanwhile */
    /* while the upgrade's token is looked up nothing is read: no request
     * is served as unauthenticated that the session would have allowed */
    if (!c->upgrade_auth)
        start_reading(c);
}

/* Sec-WebSocket-Accept for `key` (24 characters): base64(SHA-1(key GUID)). */
static bool accept_key(const char *key, char out[29])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char src[24 + sizeof(guid) - 1];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    memcpy(src, key, 24);
    memcpy(src + 24, guid, sizeof(guid) - 1);
    if (EVP_Digest(src, sizeof(src), md, &md_len, EVP_sha1(), NULL) != 1 || md_len != 20)
        return false;
    h2o_base64_encode(out, md, 20, 0);
    out[28] = '\0';
    return true;
}

bool ws_is_websocket_path(h2o_iovec_t path)
{
    return h2o_memis(path.base, path.len, H2O_STRLIT("/api/v4/websocket")) ||
           h2o_memis(path.base, path.len, H2O_STRLIT("/api/v4/websocket/"));
}

ws_upgrade_result_t ws_handle_upgrade(worker_t *w, h2o_req_t *req)
{
    const char *key;
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) || req->version >= 0x200 ||
        h2o_is_websocket_handshake(req, &key) != 0 || key == NULL)
        return WS_UPGRADE_NOT_WEBSOCKET;
    /* h2o 2.2.5 has no token for Origin */
    ssize_t origin = h2o_find_header_by_str(&req->headers, H2O_STRLIT("origin"), -1);
    const config_service_t *service = &w->config->service;
    if (!ws_origin_allowed(
            service->allow_cors_from, service->site_url, origin >= 0 ? req->headers.entries[origin].value.base : NULL,
            origin >= 0 ? req->headers.entries[origin].value.len : 0, req->authority.base, req->authority.len))
        return WS_UPGRADE_FORBIDDEN;
    ws_hub_t *hub = w->ws;
    char *accept = h2o_mem_alloc_pool(&req->pool, 29);
    ws_conn_t *c = NULL;
    if (hub == NULL || hub->draining || !accept_key(key, accept) || (c = calloc(1, sizeof(*c))) == NULL ||
        id_new(c->connection_id) != 0) {
        free(c);
        return WS_UPGRADE_BUSY;
    }
    c->hub = hub;
    c->opened_at = c->last_recv_at = c->last_ping_at = clock_monotonic_ms();
    h2o_linklist_insert(&hub->conns, &c->link);
    hub->count++;
    req->res.status = 101;
    req->res.reason = "Switching Protocols";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_UPGRADE, NULL, H2O_STRLIT("websocket"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("sec-websocket-accept"), 0, NULL, accept, 28);
    /* the cookie or the Authorization header; not access_token (Mattermost) */
    bool has_token = token_from_headers(req, c->token) != TOKEN_NONE;
    if (ws_replay_parse(c, req) < 0)
        ws_conn_close(c, WS_CLOSE_POLICY, "connection_id without sequence_number");
    else if (has_token && id_is_valid(c->token, strlen(c->token))) {
        c->upgrade_auth = true;
        lookup_session(c); /* hello or a resume, now or once the database answers */
    }
    /* the frames queued meanwhile go once the 101 is written (on_upgraded) */
    h2o_http1_upgrade(req, NULL, 0, on_upgraded, c);
    return WS_UPGRADE_OK;
}

/* ---- housekeeping -------------------------------------------------------------------- */

/* Timeouts and pings of one connection; may free it. */
static void conn_tick(ws_conn_t *c, int64_t now)
{
    if (c->closing) {
        if (now - c->closing_at >= WS_CLOSING_MS)
            conn_destroy(c);
        return;
    }
    if (now - c->last_recv_at >= WS_SILENCE_MS) {
        ws_conn_close(c, WS_CLOSE_GOING_AWAY, "silent");
    } else if (c->writing && now - c->writing_since >= WS_WRITE_WAIT_MS) {
        /* reading our pings' pongs is not reading: what it does not take closes it */
        ws_conn_close(c, WS_CLOSE_POLICY, "not reading");
    } else if (!c->authenticated && c->auth_query == NULL && now - c->opened_at >= WS_AUTH_TIMEOUT_MS) {
        ws_conn_close(c, WS_CLOSE_POLICY, "authentication timeout");
    } else if (now - c->last_ping_at >= WS_PING_MS) {
        c->last_ping_at = now;
        if (!out_frame(c, WS_OP_PING, NULL, 0, NULL, 0))
            ws_conn_close(c, WS_CLOSE_INTERNAL_ERROR, "out of memory");
    }
    ws_session_tick(c, now);
    ws_conn_flush(c);
}

void ws_conns_tick(ws_hub_t *hub, int64_t now)
{
    h2o_linklist_t *next;
    for (h2o_linklist_t *l = hub->conns.next; l != &hub->conns; l = next) {
        next = l->next;
        ws_conn_t *c = H2O_STRUCT_FROM_MEMBER(ws_conn_t, link, l);
        if (c->sock != NULL) /* else the 101 is still being written */
            conn_tick(c, now);
    }
}

/* Closes the connections `match` selects, with `code`. */
void ws_conns_close_if(ws_hub_t *hub, bool (*match)(const ws_conn_t *c, const void *arg), const void *arg,
                       uint16_t code, const char *reason)
{
    h2o_linklist_t *next;
    for (h2o_linklist_t *l = hub->conns.next; l != &hub->conns; l = next) {
        next = l->next;
        ws_conn_t *c = H2O_STRUCT_FROM_MEMBER(ws_conn_t, link, l);
        if (!match(c, arg))
            continue;
        ws_conn_close(c, code, reason);
        ws_conn_flush(c);
    }
}

/* At worker exit: without a word, the process is going.  A connection
 * whose 101 is still being written belongs to h2o until then: left alone. */
void ws_conns_destroy_all(ws_hub_t *hub)
{
    h2o_linklist_t *next;
    for (h2o_linklist_t *l = hub->conns.next; l != &hub->conns; l = next) {
        next = l->next;
        ws_conn_t *c = H2O_STRUCT_FROM_MEMBER(ws_conn_t, link, l);
        if (c->sock != NULL)
            conn_destroy(c);
    }
}
