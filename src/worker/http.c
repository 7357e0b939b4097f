/*
 * HTTP serving with h2o: configuration, accepting, connection accounting,
 * draining, and Mattermost-shaped errors for what h2o refuses by itself.
 * A request is first charged to the rate limiter (ratelimit.c), then is the
 * web client's (webclient.c) when it takes it, else the API's.
 *
 * Accepting is ours (h2o_evloop_socket_accept in a bounded loop), so every
 * connection is counted through its socket's on_close callback; h2o keeps no
 * such counter, and a drain needs it to know when the worker may exit.
 *
 * h2o answers some requests before any handler runs: a body over the size
 * limit (413), a broken request (400).  Those answers are text/plain; an
 * output filter swaps their body for Mattermost's error JSON and adds the
 * usual API headers, so a client never sees a non-JSON error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "api/response.h"
#include "api/router.h"
#include "core/log.h"
#include "core/tls.h"
#include "worker/ratelimit.h"
#include "worker/worker.h"
#include "ws/ws.h"

#define ACCEPT_BATCH     64
#define HTTP_QUIET_MS    500
#define HTTP_BODY_MARGIN (1024 * 1024)

typedef struct {
    h2o_handler_t super;
    worker_t *worker;
} http_handler_t;

typedef struct {
    h2o_filter_t super;
    worker_t *worker;
} http_error_filter_t;

/* What the worker knows of one client connection, to tell an idle one from
 * a busy one while draining (h2o exposes no such state). */
typedef struct {
    h2o_linklist_t link; /* in worker->connection_list */
    worker_t *worker;
    h2o_socket_t *sock;
    size_t last_bytes;   /* read + written at the last look */
    int64_t quiet_since; /* monotonic ms */
    bool shut;
} http_connection_t;

typedef struct {
    h2o_ostream_t super;
    h2o_iovec_t body;
    bool sent;
} http_error_ostream_t;

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    worker_t *w = ((http_handler_t *)self)->worker;
    if (worker_ratelimit(w, req))
        return 0;
    if (!ws_is_websocket_path(req->path_normalized)) {
        if (worker_webclient_serve(w, req) != WEBCLIENT_SERVED)
            api_route(w, req);
        return 0;
    }
    /* an upgrade is a request in flight too, until the 101 is written */
    api_request_t *r = api_request_create(w, req);
    switch (ws_handle_upgrade(w, req)) {
    case WS_UPGRADE_OK: break;
    case WS_UPGRADE_NOT_WEBSOCKET:
        api_send_error(r, 400, "api.web_socket.connect.upgrade.app_error", "Failed to upgrade websocket connection.",
                       NULL);
        break;
    case WS_UPGRADE_BUSY: api_error_busy(r); break;
    case WS_UPGRADE_FORBIDDEN:
        api_send_error(r, 403, "api.web_socket.connect.upgrade.app_error", "Failed to upgrade websocket connection.",
                       "the request's Origin is not allowed (ServiceSettings.AllowCorsFrom, SiteURL)");
        break;
    }
    return 0;
}

static void on_connection_close(void *data)
{
    http_connection_t *c = data;
    c->worker->connections--;
    h2o_linklist_unlink(&c->link);
    free(c);
}

static void accept_pending(worker_t *w, size_t limit)
{
    for (size_t i = 0; i < limit; i++) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(w->listener);
        if (sock == NULL)
            return;
        http_connection_t *c = calloc(1, sizeof(*c));
        if (c == NULL) {
            h2o_socket_close(sock);
            continue;
        }
        c->worker = w;
        c->sock = sock;
        h2o_linklist_insert(&w->connection_list, &c->link);
        w->connections++;
        sock->on_close.cb = on_connection_close;
        sock->on_close.data = c;
        h2o_accept(&w->accept_ctx, sock);
    }
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err != NULL)
        return;
    accept_pending(listener->data, ACCEPT_BATCH);
}

static void error_do_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t bufcnt, h2o_send_state_t state)
{
    http_error_ostream_t *os = (void *)self;
    (void)bufs;
    (void)bufcnt;
    if (!os->sent) {
        os->sent = true;
        h2o_ostream_send_next(self, req, &os->body, 1, state);
    } else {
        h2o_ostream_send_next(self, req, NULL, 0, state);
    }
}

static const char *error_id_for(int status)
{
    switch (status) {
    case 413: return API_ERROR_TOO_LARGE_ID;
    case 400: return "api.context.invalid_body_param.app_error";
    case 404: return "api.context.404.app_error";
    default: return "api.context.http_error.app_error";
    }
}

/* h2o's own error responses are the only ones not typed application/json,
 * but for the rate limiter's 429 (h2o never answers 429): Mattermost's
 * plain "limit exceeded", kept as it is. */
static void on_setup_error_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    worker_t *w = ((http_error_filter_t *)self)->worker;
    ssize_t ct = h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_TYPE, -1);
    bool ours = ct >= 0 && h2o_memis(req->res.headers.entries[ct].value.base, req->res.headers.entries[ct].value.len,
                                     H2O_STRLIT("application/json"));
    if (req->res.status < 400 || ours || req->res.status == 429) {
        h2o_setup_next_ostream(req, slot);
        return;
    }
    char *request_id = h2o_mem_alloc_pool(&req->pool, ID_LENGTH + 1);
    if (id_new(request_id) != 0) {
        memset(request_id, 'x', ID_LENGTH);
        request_id[ID_LENGTH] = '\0';
    }
    const char *message = req->res.status == 413 ? API_ERROR_TOO_LARGE_MESSAGE : api_reason_phrase(req->res.status);
    http_error_ostream_t *os = (void *)h2o_add_ostream(req, sizeof(*os), slot);
    os->body = api_error_body(w, req, request_id, req->res.status, error_id_for(req->res.status), message, NULL);
    os->sent = false;
    os->super.do_send = error_do_send;
    req->res.content_length = os->body.len;
    api_add_common_headers(w, req, request_id);
    slot = &os->super.next;
    h2o_setup_next_ostream(req, slot);
}

static void configure_limits(worker_t *w)
{
    const config_service_t *s = &w->config->service;
    h2o_globalconf_t *g = &w->globalconf;
    g->server_name = h2o_iovec_init(H2O_STRLIT("chorus"));
    /* The router owns the limit and answers 413 after reading the body, so
     * the client, still sending, can read the answer.  h2o refuses bodies
     * past a further margin by itself, and then closes at once: a client
     * still sending may see a reset instead of the 413 (h2o 2.2.5 has no
     * lingering close).  The margin bounds what one request can make us
     * buffer. */
    g->max_request_entity_size = (size_t)s->maximum_payload_size_bytes + HTTP_BODY_MARGIN;
    /* h2o 2.2.5 has a single HTTP/1 timer for reading a request and for an
     * idle keep-alive connection: it gets the shorter of the two settings */
    int64_t req_timeout = s->read_timeout < s->idle_timeout ? s->read_timeout : s->idle_timeout;
    g->http1.req_timeout = (uint64_t)req_timeout * 1000;
    g->http2.idle_timeout = (uint64_t)s->idle_timeout * 1000;
    g->http2.graceful_shutdown_timeout = 2000;
}

int worker_http_setup(worker_t *w)
{
    h2o_config_init(&w->globalconf);
    configure_limits(w);
    h2o_hostconf_t *host = h2o_config_register_host(&w->globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    http_handler_t *handler = (void *)h2o_create_handler(path, sizeof(*handler));
    handler->super.on_req = on_req;
    handler->worker = w;
    h2o_pathconf_t *paths[] = {path, &host->fallback_path};
    for (size_t i = 0; i < 2; i++) {
        http_error_filter_t *filter = (void *)h2o_create_filter(paths[i], sizeof(*filter));
        filter->super.on_setup_ostream = on_setup_error_ostream;
        filter->worker = w;
    }
    int rc = worker_webclient_setup(w);
    if (rc != 0) {
        log_error(-rc, "cannot set up the web client");
        return rc;
    }
    h2o_context_init(&w->ctx, w->loop, &w->globalconf);
    worker_webclient_context_init(w);
    h2o_linklist_init_anchor(&w->connection_list);
    w->accept_ctx.ctx = &w->ctx;
    w->accept_ctx.hosts = w->globalconf.hosts;
    if (strcmp(w->config->service.connection_security, "TLS") == 0) {
        char error[512];
        if ((w->accept_ctx.ssl_ctx = tls_context_create(&w->config->service, error, sizeof(error))) == NULL) {
            log_error(0, "%s", error);
            return -EINVAL;
        }
    }
    w->listener = h2o_evloop_socket_create(w->loop, w->params->listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    w->listener->data = w;
    h2o_socket_read_start(w->listener, on_accept);
    return 0;
}

void worker_http_start_drain(worker_t *w)
{
    if (w->listener != NULL) {
        /* take what the kernel already queued for us, then let go of the
         * socket: the master's copy keeps it open for the next generation */
        h2o_socket_read_stop(w->listener);
        accept_pending(w, SIZE_MAX);
        h2o_socket_close(w->listener);
        w->listener = NULL;
    }
    h2o_context_request_shutdown(&w->ctx);
}

/*
 * While draining, h2o closes a keep-alive connection after its next response,
 * but an idle one would wait out the whole IdleTimeout.  Shortening h2o's
 * request timer instead would also cut requests whose body is still
 * arriving (a client pausing mid-upload is normal).  So: once no request is
 * in flight in this worker, a connection holding no partial request and with
 * no bytes moved for HTTP_QUIET_MS is idle, and shutting down its read side
 * makes h2o see EOF and close it in its own time (never under its feet).
 */
void worker_http_close_idle(worker_t *w, int64_t now)
{
    if (w->requests_in_flight > 0)
        return;
    for (h2o_linklist_t *l = w->connection_list.next; l != &w->connection_list; l = l->next) {
        http_connection_t *c = H2O_STRUCT_FROM_MEMBER(http_connection_t, link, l);
        size_t bytes = c->sock->bytes_read + c->sock->bytes_written;
        bool partial_request = c->sock->input != NULL && c->sock->input->size > 0;
        if (bytes != c->last_bytes || c->quiet_since == 0 || partial_request) {
            c->last_bytes = bytes;
            c->quiet_since = now;
        } else if (!c->shut && now - c->quiet_since >= HTTP_QUIET_MS) {
            c->shut = true;
            shutdown(h2o_socket_get_fd(c->sock), SHUT_RD);
        }
    }
}

void worker_http_dispose(worker_t *w)
{
    if (w->listener != NULL) {
        h2o_socket_read_stop(w->listener);
        h2o_socket_close(w->listener);
        w->listener = NULL;
    }
    if (w->accept_ctx.ssl_ctx != NULL)
        SSL_CTX_free(w->accept_ctx.ssl_ctx);
    worker_webclient_dispose(w);
}
