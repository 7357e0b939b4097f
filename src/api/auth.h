/* Who is calling: the session behind a request's token, as Mattermost finds
 * it (cookie, then Authorization header, then access_token), checked against
 * the node's shared session cache before the database. */
#ifndef CHORUS_API_AUTH_H
#define CHORUS_API_AUTH_H

#include "api/request.h"

/* Authenticates `r`, then calls `next`; answers 401 itself when there is no
 * valid session (unless `optional`: then `next` runs unauthenticated when no
 * token was given at all). */
void api_authenticate(api_request_t *r, bool optional, api_handler_fn next);

/* Puts a fresh session into the cache (after login). */
void api_auth_cache_session(worker_t *worker, const char *token, const shm_session_t *session);
/* Forgets a token on every worker of the node (logout, revocation). */
void api_auth_forget_token(worker_t *worker, const char *token);

#endif
