/*
 * An open socket re-checks its session (issue 19): a session can end without
 * a logout this node hears of, by expiring, or by its row going (revoked on a
 * node whose record did not reach us, deleted in SQL by an operator, its
 * user deactivated).  A logout or revocation seen on the ring closes the
 * socket at once (hub.c); this is the rest.
 *
 * On the hub's tick each authenticated socket compares the session's expiry
 * it noted at authentication with the clock (no lookup), and every
 * WS_SESSION_CHECK_MS looks its token up as an HTTP request would
 * (worker/session.c): the node's shared cache, whose entries live
 * SessionCacheInMinutes, else the master database, whose answer refills the
 * cache for the node's other sockets and requests.  An expired or vanished
 * session closes the socket with 1000, as a logout does.  Mattermost keeps
 * such a socket open and silent (WebConn.IsAuthenticated turns false: no
 * events, every action answered not_authenticated); its clients reconnect
 * on any close, so closing makes the app find out at once (its reconnect is
 * refused, its next request gets 401) rather than sit on a dead socket.  A
 * database error closes nothing: the check is tried again next time.
 */
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "store/session.h"
#include "worker/session.h"
#include "ws/frame.h"
#include "ws/internal.h"

void ws_session_noted(ws_conn_t *c, const shm_session_t *s)
{
    c->session_expires_at = s->expires_at;
    c->session_checked_at = clock_monotonic_ms();
}

static void session_ended(ws_conn_t *c, const char *why)
{
    log_debug("WebSocket %s: the session of user %s %s: closed", c->connection_id, c->user_id, why);
    ws_conn_close(c, WS_CLOSE_NORMAL, why);
    ws_conn_flush(c);
}

/* What a lookup found: `s` NULL when the token has no live session. */
static void check_done(ws_conn_t *c, const shm_session_t *s)
{
    c->session_checked_at = clock_monotonic_ms();
    if (c->closing)
        return;
    if (s == NULL || strcmp(s->user_id, c->user_id) != 0)
        session_ended(c, "session gone");
    else
        c->session_expires_at = s->expires_at;
}

static void on_session_reloaded(void *data, PGresult *res, const char *error, const db_outcome_t *outcome)
{
    ws_conn_t *c = data;
    shm_session_t s;
    (void)outcome;
    c->session_query = NULL;
    if (error != NULL) {
        log_warn(0, "WebSocket %s: cannot check its session: %.*s", c->connection_id, (int)strcspn(error, "\n"), error);
        c->session_checked_at = clock_monotonic_ms();
        return;
    }
    if (!session_from_result(res, clock_now_ms(), &s)) {
        check_done(c, NULL);
        return;
    }
    session_cache_fill(c->hub->worker, c->token, &s, c->prior_write_lsn);
    check_done(c, &s);
}

void ws_session_tick(ws_conn_t *c, int64_t now)
{
    if (!c->authenticated || c->closing || c->session_query != NULL)
        return;
    if (c->session_expires_at > 0 && clock_now_ms() >= c->session_expires_at) {
        session_ended(c, "session expired");
        return;
    }
    if (now - c->session_checked_at < WS_SESSION_CHECK_MS)
        return;
    worker_t *w = c->hub->worker;
    shm_session_t s;
    if (session_cache_lookup(w, c->token, &s, &c->prior_write_lsn)) {
        check_done(c, &s);
        return;
    }
    const char *params[] = {c->token};
    /* the master: a replica behind a deletion would keep the socket */
    /* NULL: on_session_reloaded has run already (c may be closing) */
    db_routed_t *q = db_router_query(w->router, DB_INTENT_READ, DB_LSN_MASTER_ONLY, SESSION_SQL_BY_TOKEN, 1, params,
                                     on_session_reloaded, c);
    if (q != NULL)
        c->session_query = q;
}

void ws_session_check_cancel(ws_conn_t *c)
{
    if (c->session_query != NULL)
        db_routed_cancel(c->session_query);
    c->session_query = NULL;
}
