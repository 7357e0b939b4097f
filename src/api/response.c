/*
 * Response helpers.  Every API response goes through api_send_json or
 * api_send_error, so the headers the official client depends on (exact
 * "Content-Type: application/json", X-Request-ID, X-Version-ID) cannot be
 * forgotten by a handler.  Bodies are built with jansson and copied into the
 * request's pool, so nothing outlives the request.
 */
#include "api/response.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

void api_add_header(api_request_t *r, const char *name, const char *value)
{
    h2o_iovec_t v = h2o_strdup(&r->req->pool, value, SIZE_MAX);
    h2o_add_header_by_str(&r->req->pool, &r->req->res.headers, name, strlen(name), 1, NULL, v.base, v.len);
}

/* Adds a header whose name is static (not one of h2o's tokens): h2o keeps a
 * pointer to the name, so no copy of it is made per response. */
static void add_static_header(h2o_mem_pool_t *pool, h2o_headers_t *headers, const h2o_iovec_t *name, const char *value,
                              size_t len)
{
    h2o_vector_reserve(pool, headers, headers->size + 1);
    headers->entries[headers->size++] = (h2o_header_t){(h2o_iovec_t *)name, NULL, h2o_iovec_init(value, len)};
}

static const h2o_iovec_t header_request_id = {H2O_STRLIT("x-request-id")};
static const h2o_iovec_t header_version_id = {H2O_STRLIT("x-version-id")};
static const h2o_iovec_t header_nosniff = {H2O_STRLIT("x-content-type-options")};
static const h2o_iovec_t header_referrer = {H2O_STRLIT("referrer-policy")};

/* `request_id` must live as long as the request (it is not copied). */
void api_add_common_headers(worker_t *worker, h2o_req_t *req, const char *request_id)
{
    h2o_mem_pool_t *pool = &req->pool;
    add_static_header(pool, &req->res.headers, &header_request_id, request_id, ID_LENGTH);
    add_static_header(pool, &req->res.headers, &header_version_id, worker->version_id, strlen(worker->version_id));
    h2o_set_header(pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, H2O_STRLIT("application/json"), 1);
    add_static_header(pool, &req->res.headers, &header_nosniff, H2O_STRLIT("nosniff"));
    add_static_header(pool, &req->res.headers, &header_referrer, H2O_STRLIT("no-referrer"));
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")))
        h2o_set_header(pool, &req->res.headers, H2O_TOKEN_EXPIRES, H2O_STRLIT("0"), 1);
}

static h2o_iovec_t dump_to_pool(h2o_mem_pool_t *pool, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    if (text == NULL)
        return h2o_iovec_init(H2O_STRLIT("{}"));
    h2o_iovec_t copy = h2o_strdup(pool, text, SIZE_MAX);
    free(text);
    return copy;
}

const char *api_reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Request Entity Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return status < 400 ? "OK" : "Error";
    }
}

static void send_body(api_request_t *r, int status, h2o_iovec_t body)
{
    h2o_req_t *req = r->req;
    req->res.status = status;
    req->res.reason = api_reason_phrase(status);
    req->res.content_length = body.len;
    api_add_common_headers(r->worker, req, r->request_id);
    h2o_send_inline(req, body.base, body.len);
}

void api_send_static(api_request_t *r, int status, const char *body, size_t len)
{
    send_body(r, status, h2o_iovec_init(body, len));
}

void api_send_bytes(api_request_t *r, int status, const char *content_type, const void *body, size_t len)
{
    h2o_req_t *req = r->req;
    req->res.status = status;
    req->res.reason = api_reason_phrase(status);
    req->res.content_length = len;
    api_add_common_headers(r->worker, req, r->request_id);
    h2o_set_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, content_type, strlen(content_type), 1);
    h2o_send_inline(req, body, len);
}

void api_send_json(api_request_t *r, int status, json_t *body)
{
    h2o_iovec_t text = body != NULL ? dump_to_pool(&r->req->pool, body) : h2o_iovec_init(H2O_STRLIT("{}"));
    json_decref(body);
    send_body(r, status, text);
}

h2o_iovec_t api_error_body(worker_t *worker, h2o_req_t *req, const char *request_id, int status, const char *id,
                           const char *message, const char *detailed)
{
    bool developer = worker->config->service.enable_developer;
    json_t *body =
        json_pack("{s:s, s:s, s:s, s:s, s:i}", "id", id, "message", message, "detailed_error",
                  developer && detailed != NULL ? detailed : "", "request_id", request_id, "status_code", status);
    h2o_iovec_t text = body != NULL ? dump_to_pool(&req->pool, body) : h2o_iovec_init(H2O_STRLIT("{}"));
    json_decref(body);
    return text;
}

void api_send_error(api_request_t *r, int status, const char *id, const char *message, const char *detailed)
{
    send_body(r, status, api_error_body(r->worker, r->req, r->request_id, status, id, message, detailed));
}

void api_error_invalid_body(api_request_t *r, const char *detail)
{
    api_send_error(r, 400, "api.context.invalid_body_param.app_error", "Invalid or missing body parameter.", detail);
}

bool api_error_model_invalid(api_request_t *r, const char *model, const char *field, const char *message)
{
    char id[128];
    snprintf(id, sizeof(id), "model.%s.is_valid.%s.app_error", model, field);
    api_send_error(r, 400, id, message, NULL);
    return false;
}

void api_error_invalid_param(api_request_t *r, const char *name)
{
    char message[128];
    snprintf(message, sizeof(message), "Invalid or missing %s parameter in request URL.", name);
    api_send_error(r, 400, "api.context.invalid_url_param.app_error", message, NULL);
}

void api_error_session_expired(api_request_t *r)
{
    api_send_error(r, 401, "api.context.session_expired.app_error", "Invalid or expired session, please login again.",
                   NULL);
}

void api_error_permissions(api_request_t *r)
{
    api_send_error(r, 403, "api.context.permissions.app_error", "You do not have the appropriate permissions.", NULL);
}

void api_error_not_found(api_request_t *r, const char *id, const char *what)
{
    char message[128];
    snprintf(message, sizeof(message), "Unable to find the %s.", what);
    api_send_error(r, 404, id, message, NULL);
}

void api_error_database(api_request_t *r, const char *error)
{
    const char *e = error != NULL ? error : "no result";
    log_warn(0, "request %s: database error: %.*s", r->request_id, (int)strcspn(e, "\n"), e);
    api_send_error(r, 500, "app.store.database.app_error", "We encountered an error with the database.", e);
}

bool api_query_failed(api_request_t *r, const char *error)
{
    if (error == NULL)
        return false;
    api_error_database(r, error);
    return true;
}

void api_send_rows(api_request_t *r, const PGresult *res, const char *error, api_row_json_fn to_json)
{
    if (api_query_failed(r, error))
        return;
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(list, to_json(res, i, 0));
    api_send_json(r, 200, list);
}

bool api_query_one_row(api_request_t *r, const PGresult *res, const char *error, const char *not_found_id,
                       const char *what)
{
    if (api_query_failed(r, error))
        return false;
    if (PQntuples(res) == 1)
        return true;
    api_error_not_found(r, not_found_id, what);
    return false;
}

void api_route_not_found(api_request_t *r)
{
    h2o_iovec_t path = r->req->path_normalized;
    char detail[512];
    snprintf(detail, sizeof(detail),
             "There doesn't appear to be an api call for the url='%.*s'.  Typo? are you missing a team_id or "
             "user_id as part of the url?",
             (int)(path.len > 300 ? 300 : path.len), path.base);
    api_send_error(r, 404, "api.context.404.app_error", "Sorry, we could not find the page.", detail);
}

void api_error_busy(api_request_t *r)
{
    /* every cause (a full bcrypt queue, a full database pool) drains within
     * about a second: a client that honours it comes back when there is room */
    api_add_header(r, "retry-after", "1");
    api_send_error(r, 503, "api.context.server_busy.app_error",
                   "Server is busy, non-critical services are "
                   "temporarily unavailable.",
                   NULL);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes [s, s+len) into the pool ('+' is a space in a query). */
static const char *decode_component(h2o_mem_pool_t *pool, const char *s, size_t len)
{
    char *out = h2o_mem_alloc_pool(pool, len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            out[n++] = (char)(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out[n++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    out[n] = '\0';
    return out;
}

const char *api_query_param(api_request_t *r, const char *name)
{
    h2o_req_t *req = r->req;
    if (req->query_at == SIZE_MAX)
        return NULL;
    const char *p = req->path.base + req->query_at + 1, *end = req->path.base + req->path.len;
    size_t name_len = strlen(name);
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp != NULL ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        const char *key_end = eq != NULL ? eq : stop;
        if ((size_t)(key_end - p) == name_len && memcmp(p, name, name_len) == 0)
            return eq != NULL ? decode_component(&req->pool, eq + 1, (size_t)(stop - eq - 1)) : "";
        p = stop + 1;
    }
    return NULL;
}

bool api_parse_int64(const char *v, int64_t *out)
{
    if (v == NULL || *v == '\0')
        return false;
    const char *d = v + (*v == '+' || *v == '-');
    if (*d == '\0' || strspn(d, "0123456789") != strlen(d))
        return false;
    errno = 0;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = n;
    return true;
}

api_page_t api_query_page(api_request_t *r, const char *per_page_alias)
{
    api_page_t p = {0, API_PER_PAGE_DEFAULT, 0};
    if (!api_parse_int64(api_query_param(r, "page"), &p.page) || p.page < 0)
        p.page = 0;
    const char *per_page = api_query_param(r, "per_page");
    if (per_page == NULL && per_page_alias != NULL)
        per_page = api_query_param(r, per_page_alias);
    if (!api_parse_int64(per_page, &p.per_page) || p.per_page < 0)
        p.per_page = API_PER_PAGE_DEFAULT;
    else if (p.per_page > API_PER_PAGE_MAX)
        p.per_page = API_PER_PAGE_MAX;
    p.offset = p.per_page > 0 && p.page > INT64_MAX / p.per_page ? INT64_MAX : p.page * p.per_page;
    return p;
}
