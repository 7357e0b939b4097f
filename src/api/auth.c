/*
 * Authentication.
 *
 * The token is looked for where Mattermost looks: the MMAUTHTOKEN cookie,
 * then "Authorization: Bearer|Token <token>", then the access_token query
 * parameter (OAuth sessions only).  The first two are also where the
 * WebSocket upgrade looks (worker/token.c); the query parameter is for API
 * requests only.  A hit in the shared session cache
 * answers without the database; a miss reads the session (and that its user
 * is not deactivated) and fills the cache.  An entry is trusted for
 * SessionCacheInMinutes and never past the session's own expiry; 0 minutes
 * turns the cache off.  Logout removes the token from the shared table, so
 * no worker of the node honours it a moment longer.
 *
 * CSRF, as Mattermost's default: only cookie-authenticated requests other
 * than GET are checked; they pass with X-CSRF-Token equal to the session's
 * token, or with X-Requested-With: XMLHttpRequest.
 */
#include "api/auth.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/response.h"
#include "core/clock.h"
#include "core/log.h"
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
    if ((st->from_query && !r->session.is_oauth) || !csrf_ok(r)) {
        refuse(r, st);
        return;
    }
    r->authenticated = true;
    st->next(r);
}

static int64_t cache_ttl_ms(const worker_t *w)
{
    return w->config->service.session_cache_in_minutes * 60000;
}

static const char session_sql[] =
    "SELECT s.Id, s.UserId, s.Roles, s.ExpiresAt, s.LastActivityAt, COALESCE(s.Props->>'csrf', ''), "
    "s.IsOAuth FROM Sessions s JOIN Users u ON u.Id = s.UserId WHERE s.Token = $1 AND u.DeleteAt = 0";

/* The smallest master position the session's reads must see when its entry
 * is (re)filled: what its earlier entry knew, and at least the master's
 * position as this worker last saw it (its monitor, its writes), which
 * covers the session's writes through this worker and any older than one
 * monitor interval. */
static uint64_t fill_write_lsn(const worker_t *w, uint64_t prior)
{
    uint64_t known = db_router_master_lsn(w->router);
    if (prior == DB_LSN_MASTER_ONLY)
        prior = 0; /* an unknown position long covered by now */
    return prior > known ? prior : known;
}

static void on_session_loaded(api_request_t *r, PGresult *res, const char *error)
{
    auth_state_t *st = r->state;
    if (api_query_failed(r, error))
        return;
    int64_t now = clock_now_ms();
    if (PQntuples(res) != 1 || strtoll(PQgetvalue(res, 0, 3), NULL, 10) < now) {
        /* a replica may not have the session yet (or its extension): only
         * the master may say it does not exist */
        if (r->query_replica) {
            const char *params[] = {r->token};
            api_query(r, session_sql, 1, params, on_session_loaded);
            return;
        }
        refuse(r, st);
        return;
    }
    shm_session_t *s = &r->session;
    memset(s, 0, sizeof(*s));
    snprintf(s->session_id, sizeof(s->session_id), "%s", PQgetvalue(res, 0, 0));
    snprintf(s->user_id, sizeof(s->user_id), "%s", PQgetvalue(res, 0, 1));
    snprintf(s->roles, sizeof(s->roles), "%s", PQgetvalue(res, 0, 2));
    s->expires_at = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
    s->last_activity_at = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
    snprintf(s->csrf, sizeof(s->csrf), "%s", PQgetvalue(res, 0, 5));
    s->is_oauth = PQgetvalue(res, 0, 6)[0] == 't';
    s->cached_at = now;
    s->write_lsn = fill_write_lsn(r->worker, st->prior_write_lsn);
    if (cache_ttl_ms(r->worker) > 0)
        api_auth_cache_session(r->worker, r->token, s);
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
    int64_t now = clock_now_ms(), ttl = cache_ttl_ms(w);
    shm_cache_t *cache = shm_region_sessions(w->params->shm);
    if (ttl > 0 && shm_cache_get(cache, r->token, &r->session)) {
        if (r->session.expires_at > now && now - r->session.cached_at < ttl) {
            w->session_cache_hits++;
            proceed(r, st);
            return;
        }
        st->prior_write_lsn = r->session.write_lsn;
        shm_cache_remove(cache, r->token);
    }
    w->session_cache_misses++;
    const char *params[] = {r->token};
    /* as fresh as this worker's last known master position: a replica that
     * has not replayed a logout this worker saw must not answer */
    r->min_lsn = db_router_master_lsn(w->router);
    api_query_read(r, session_sql, 1, params, on_session_loaded);
}

void api_auth_cache_session(worker_t *w, const char *token, const shm_session_t *session)
{
    if (cache_ttl_ms(w) <= 0)
        return;
    shm_session_t s = *session;
    s.write_lsn = fill_write_lsn(w, s.write_lsn);
    if (shm_cache_put(shm_region_sessions(w->params->shm), token, &s) != 0)
        log_warn(0, "cannot cache a session");
}

void api_auth_forget_token(worker_t *w, const char *token)
{
    shm_cache_remove(shm_region_sessions(w->params->shm), token);
}
