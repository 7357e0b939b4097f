/*
 * One WebSocket connection: the upgrade, h2o's message callback, the send
 * queue, the close, and authentication.
 *
 * The upgrade request is authenticated like any API request (cookie, then
 * Authorization header; api_authenticate with optional=true), then upgraded
 * with h2o_upgrade_to_websocket (HTTP/1.1 only).  A socket without a session
 * may still send an authentication_challenge {token}: the shared session
 * cache answers, else the master database.  An authenticated socket gets
 * `hello` (seq 0) first; unauthenticated ones are closed after 5 s.  A
 * reconnect with connection_id and sequence_number may resume a dropped
 * connection instead (replay.c): no hello then.
 *
 * h2o owns the wslay context.  Inside h2o's message callback (in_callback)
 * h2o writes what we queue when the callback returns; anywhere else we call
 * h2o_websocket_proceed ourselves (ws_conn_flush), which may close and free
 * the connection (its callback then runs with arg == NULL).  Frames and
 * messages are bounded by ServiceSettings.MaximumPayloadSizeBytes (wslay
 * closes with 1009 past it), the send queue by WS_SEND_QUEUE_MAX messages:
 * a client that does not read is closed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/response.h"
#include "core/clock.h"
#include "core/log.h"
#include "shm/sessions.h"
#include "ws/internal.h"

static void conn_destroy(ws_conn_t *c)
{
    ws_replay_save(c);
    if (c->auth_query != NULL)
        db_routed_cancel(c->auth_query);
    h2o_linklist_unlink(&c->link);
    c->hub->count--;
    if (c->counted)
        ws_presence_disconnected(c->hub, c->user_id);
    h2o_websocket_close(c->ws);
    free(c);
}

bool ws_conn_queue(ws_conn_t *c, const char *text, size_t len)
{
    if (c->closing)
        return false;
    if (wslay_event_get_queued_msg_count(c->ws->ws_ctx) >= WS_SEND_QUEUE_MAX) {
        log_info("WebSocket %s of %s does not read its events: closed", c->connection_id, c->user_id);
        ws_conn_close(c, 1008, "send queue full");
        return false;
    }
    struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)text, len};
    if (wslay_event_queue_msg(c->ws->ws_ctx, &m) != 0) {
        ws_conn_close(c, 1011, "cannot queue");
        return false;
    }
    return true;
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
    /* fails only when a close was queued already (the peer's) */
    (void)wslay_event_queue_close(c->ws->ws_ctx, code, (const uint8_t *)reason, strlen(reason));
}

void ws_conn_flush(ws_conn_t *c)
{
    if (!c->in_callback && c->ws->sock != NULL)
        h2o_websocket_proceed(c->ws);
}

static void queue_json(ws_conn_t *c, json_t *msg)
{
    char *text = msg != NULL ? json_dumps(msg, JSON_COMPACT) : NULL;
    json_decref(msg);
    if (text == NULL) {
        ws_conn_close(c, 1011, "out of memory");
        return;
    }
    ws_conn_queue(c, text, strlen(text));
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
        ws_conn_close(c, 1011, "out of memory");
        return;
    }
    event_ws_event_t ev = {.data = {text, strlen(text)}};
    snprintf(ev.event, sizeof(ev.event), "hello");
    snprintf(ev.user_id, sizeof(ev.user_id), "%s", user_id);
    ws_deliver_to(c, &ev);
    free(text);
}

/* ---- authentication_challenge ------------------------------------------------ */

static const char challenge_sql[] = "SELECT s.UserId, s.ExpiresAt FROM Sessions s JOIN Users u ON u.Id = s.UserId"
                                    " WHERE s.Token = $1 AND u.DeleteAt = 0";

static void challenge_done(ws_conn_t *c, const char *user_id, const char *token)
{
    if (user_id == NULL) {
        ws_conn_close(c, 1008, "invalid token");
        return;
    }
    ws_conn_authenticated(c, user_id, token);
    ws_conn_reply_ok(c, c->auth_seq, NULL);
}

static void on_challenge_loaded(void *data, PGresult *res, const char *error, const db_outcome_t *outcome)
{
    ws_conn_t *c = data;
    (void)outcome;
    c->auth_query = NULL;
    bool ok = error == NULL && PQntuples(res) == 1 && strtoll(PQgetvalue(res, 0, 1), NULL, 10) > clock_now_ms();
    if (error != NULL)
        log_warn(0, "WebSocket authentication: %s", error);
    challenge_done(c, ok ? PQgetvalue(res, 0, 0) : NULL, c->token);
    ws_conn_flush(c);
}

static void authentication_challenge(ws_conn_t *c, int64_t seq, json_t *data)
{
    if (c->authenticated || c->auth_query != NULL)
        return; /* Mattermost: ignored, no reply */
    const char *token = json_string_value(json_object_get(data, "token"));
    if (token == NULL || !id_is_valid(token, strlen(token))) {
        ws_conn_close(c, 1008, "invalid token");
        return;
    }
    c->auth_seq = seq;
    snprintf(c->token, sizeof(c->token), "%s", token);
    shm_session_t s;
    worker_t *w = c->hub->worker;
    int64_t ttl = w->config->service.session_cache_in_minutes * 60000, now = clock_now_ms();
    if (ttl > 0 && shm_cache_get(shm_region_sessions(w->params->shm), token, &s) && s.expires_at > now &&
        now - s.cached_at < ttl) {
        challenge_done(c, s.user_id, token);
        return;
    }
    const char *params[] = {c->token};
    c->auth_query = db_router_query(w->router, DB_INTENT_READ, DB_LSN_MASTER_ONLY, challenge_sql, 1, params,
                                    on_challenge_loaded, c);
}

/* ---- h2o's message callback ---------------------------------------------------- */

static void on_text(ws_conn_t *c, const uint8_t *msg, size_t len)
{
    json_error_t err;
    json_t *req = json_loadb((const char *)msg, len, JSON_REJECT_DUPLICATES, &err);
    const char *action = json_string_value(json_object_get(req, "action"));
    json_t *seq = json_object_get(req, "seq");
    if (!json_is_object(req) || action == NULL || (seq != NULL && !json_is_integer(seq))) {
        log_debug("WebSocket %s: not a request: closed", c->connection_id);
        ws_conn_close(c, 1003, "invalid request");
        json_decref(req);
        return;
    }
    json_t *data = json_object_get(req, "data");
    int64_t n = json_integer_value(seq);
    if (strcmp(action, "authentication_challenge") == 0)
        authentication_challenge(c, n, data);
    else if (!c->authenticated)
        ws_conn_reply_fail(c, n, "api.web_socket_router.not_authenticated.app_error",
                           "No websocket connection has been authenticated.", 401);
    else
        ws_action_dispatch(c, action, n, json_is_object(data) ? data : NULL);
    json_decref(req);
}

static void on_message(h2o_websocket_conn_t *ws, const struct wslay_event_on_msg_recv_arg *arg)
{
    ws_conn_t *c = ws->data;
    if (arg == NULL) {
        conn_destroy(c);
        return;
    }
    c->last_recv_at = clock_monotonic_ms();
    if (c->closing || (arg->opcode != WSLAY_TEXT_FRAME && arg->opcode != WSLAY_BINARY_FRAME))
        return; /* pings, pongs, close: wslay answers */
    c->in_callback = true;
    on_text(c, arg->msg, arg->msg_length);
    c->in_callback = false;
}

/* ---- the upgrade ------------------------------------------------------------------- */

static void upgrade(api_request_t *r)
{
    worker_t *w = r->worker;
    ws_hub_t *hub = w->ws;
    const char *key = NULL;
    ws_conn_t *c = NULL;
    /* a drain may have begun while the session was being looked up */
    if (hub->draining || h2o_is_websocket_handshake(r->req, &key) != 0 || key == NULL ||
        (c = calloc(1, sizeof(*c))) == NULL || id_new(c->connection_id) != 0) {
        free(c);
        api_error_busy(r);
        return;
    }
    c->hub = hub;
    c->opened_at = c->last_recv_at = c->last_ping_at = clock_monotonic_ms();
    c->ws = h2o_upgrade_to_websocket(r->req, key, c, on_message);
    wslay_event_config_set_max_recv_msg_length(c->ws->ws_ctx, (uint64_t)w->config->service.maximum_payload_size_bytes);
    h2o_linklist_insert(&hub->conns, &c->link);
    hub->count++;
    int resume = ws_replay_upgrade(c, r->req, r->authenticated ? r->session.user_id : NULL, r->token);
    if (resume < 0)
        ws_conn_close(c, 1008, "connection_id without sequence_number");
    else if (resume == 0 && r->authenticated)
        ws_conn_authenticated(c, r->session.user_id, r->token);
    /* h2o proceeds once the 101 is written: hello goes right after it */
}

bool ws_is_websocket_path(h2o_iovec_t path)
{
    return h2o_memis(path.base, path.len, H2O_STRLIT("/api/v4/websocket")) ||
           h2o_memis(path.base, path.len, H2O_STRLIT("/api/v4/websocket/"));
}

void ws_handle_upgrade(worker_t *w, h2o_req_t *req)
{
    api_request_t *r = api_request_create(w, req);
    const char *key;
    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) || req->version >= 0x200 ||
        h2o_is_websocket_handshake(req, &key) != 0 || key == NULL) {
        api_send_error(r, 400, "api.web_socket.connect.upgrade.app_error", "Failed to upgrade websocket connection.",
                       NULL);
        return;
    }
    if (w->ws == NULL || w->ws->draining) {
        api_error_busy(r);
        return;
    }
    api_authenticate(r, true, upgrade);
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
        ws_conn_close(c, 1001, "silent");
    } else if (!c->authenticated && c->auth_query == NULL && now - c->opened_at >= WS_AUTH_TIMEOUT_MS) {
        ws_conn_close(c, 1008, "authentication timeout");
    } else if (now - c->last_ping_at >= WS_PING_MS) {
        struct wslay_event_msg m = {WSLAY_PING, (const uint8_t *)"", 0};
        c->last_ping_at = now;
        if (wslay_event_queue_msg(c->ws->ws_ctx, &m) != 0)
            ws_conn_close(c, 1011, "cannot ping");
    }
    ws_conn_flush(c);
}

void ws_conns_tick(ws_hub_t *hub, int64_t now)
{
    h2o_linklist_t *next;
    for (h2o_linklist_t *l = hub->conns.next; l != &hub->conns; l = next) {
        next = l->next;
        ws_conn_t *c = H2O_STRUCT_FROM_MEMBER(ws_conn_t, link, l);
        if (c->ws->sock != NULL) /* else the 101 is still being written */
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
        if (c->ws->sock != NULL)
            conn_destroy(c);
    }
}
