/*
 * Who a token belongs to, for the API and the WebSocket alike: the node's
 * shared session cache first, then SESSION_SQL_BY_TOKEN (store/session.h),
 * whose row refills the cache.  An entry is trusted for
 * SessionCacheInMinutes and never past the session's own expiry; 0 minutes
 * turns the cache off.  How the query is sent stays with the caller (an API
 * request may ask a replica first, a WebSocket asks the master), so that
 * each can cancel its own query.
 */
#ifndef CHORUS_WORKER_SESSION_H
#define CHORUS_WORKER_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "shm/sessions.h"
#include "worker/worker.h"

/* A live cache entry for `token` into `out`.  On a miss, *prior_write_lsn is
 * the master position an expired entry knew (0 when there was none), which
 * the refill passes on. */
bool session_cache_lookup(worker_t *worker, const char *token, shm_session_t *out, uint64_t *prior_write_lsn);

/* Binds `session`'s reads to see at least `prior_write_lsn` and this
 * worker's last known master position (its write_lsn), then caches it: a
 * login, or a row just read. */
void session_cache_fill(worker_t *worker, const char *token, shm_session_t *session, uint64_t prior_write_lsn);

/* Forgets a token on every worker of the node (logout, revocation). */
void session_cache_forget(worker_t *worker, const char *token);

#endif
