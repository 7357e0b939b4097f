/*
 * Authentication.
 *
 * The token is looked for where Mattermost looks: the MMAUTHTOKEN cookie,
 * then "Authorization: Bearer|Token <token>", then the access_token query
 * parameter (OAuth sessions only).  The first two are also where the
 * WebSocket upgrade looks (worker/token.c); the query parameter is for API
 * requests only.  The session behind it comes from the node's shared cache
 * or the database, by the rules the WebSocket follows too (worker/session.c);
 * a request may read it from a replica first.  Then the roles its checks
 * will read are brought up to date (access.c api_roles_ready).
 *
 * CSRF, as Mattermost's default: only cookie-authenticated requests other
 * than GET are checked; they pass with X-CSRF-Token equal to the session's
 * token, or with X-Requested-With: XMLHttpRequest.
 */
#include "api/auth.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/access.h"
#include "api/response.h"
#include "core/clock.h"
#include "store/session.h"
#include "worker/session.h"
#include "worker/ratelimit.h"
#include "worker/token.h"

typedef struct {
    api_handler_fn next;
    api_auth_t mode;
    bool from_query;
    uint64_t prior_write_lsn; /* of the expired cache entry being refilled */
} auth_state_t;

/* No valid session: 401, or on as a caller without one (API_AUTH_IF_VALID). */
static void refuse(api_request_t *r, auth_state_t *st)
{
    if (st->mode != API_AUTH_IF_VALID) {
        api_error_session_expired(r);
        return;
    }
    r->authenticated = false;
    memset(&r->session, 0, sizeof(r->session));
    st->next(r);
}

static bool header_equals(h2o_req_t *req, const char *name, const char *value)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, name, strlen(name), -1);
    return i >= 0 &&
           h2o_memis(req->headers.entries[i].value.base, req->headers.entries[i].value.len, value, strlen(value));
}

static bool csrf_ok(api_request_t *r)
{
    if (!r->cookie_auth || h2o_memis(r->req->method.base, r->req->method.len, H2O_STRLIT("GET")))
        return true;
    return (r->session.csrf[0] != '\0' && header_equals(r->req, "x-csrf-token", r->session.csrf)) ||
           header_equals(r->req, "x-requested-with", "XMLHttpRequest");
}

static void proceed(api_request_t *r, auth_state_t *st)
{
    /* a session found is charged to its user too (VaryByUser), before its
     * other checks, as Mattermost's handler does */
    if (worker_ratelimit_user(r->worker, r->req, r->session.user_id))
        return;
    if ((st->from_query && !r->session.is_oauth) || !csrf_ok(r)) {
        refuse(r, st);
        return;
    }
    r->authenticated = true;
    api_roles_ready(r, st->next);
}

static void on_session_loaded(api_request_t *r, PGresult *res, const char *error)
{
    auth_state_t *st = r->state;
    if (api_query_failed(r, error))
        return;
    if (!session_from_result(res, clock_now_ms(), &r->session)) {
        /* a replica may not have the session yet (or its extension): only
         * the master may say it does not exist */
        if (r->query_replica) {
            const char *params[] = {r->token};
            api_query(r, SESSION_SQL_BY_TOKEN, 1, params, on_session_loaded);
            return;
        }
        refuse(r, st);
        return;
    }
    session_cache_fill(r->worker, r->token, &r->session, st->prior_write_lsn);
    proceed(r, st);
}

void api_authenticate(api_request_t *r, api_auth_t mode, api_handler_fn next)
{
    auth_state_t *st = h2o_mem_alloc_pool(&r->req->pool, sizeof(*st));
    *st = (auth_state_t){.next = next, .mode = mode};
    r->state = st;
    token_source_t source = token_from_headers(r->req, r->token);
    r->cookie_auth = source == TOKEN_FROM_COOKIE;
    if (source == TOKEN_NONE) {
        const char *q = api_query_param(r, "access_token");
        if (q == NULL) {
            if (mode != API_AUTH_REQUIRED)
                next(r);
            else
                api_error_session_expired(r);
            return;
        }
        snprintf(r->token, sizeof(r->token), "%s", q);
        st->from_query = true;
    }
    if (!id_is_valid(r->token, strlen(r->token))) {
        refuse(r, st);
        return;
    }
    worker_t *w = r->worker;
    if (session_cache_lookup(w, r->token, &r->session, &st->prior_write_lsn)) {
        proceed(r, st);
        return;
    }
    const char *params[] = {r->token};
    /* as fresh as this worker's last known master position: a replica that
     * has not replayed a logout this worker saw must not answer */
    r->min_lsn = db_router_master_lsn(w->router);
    api_query_read(r, SESSION_SQL_BY_TOKEN, 1, params, on_session_loaded);
}
