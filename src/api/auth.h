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

/* Where a request's token was found. */
typedef enum { API_AUTH_TOKEN_NONE, API_AUTH_TOKEN_COOKIE, API_AUTH_TOKEN_HEADER } api_auth_token_source_t;
/* The token of `req`'s headers, into `out`: the MMAUTHTOKEN cookie, else an
 * Authorization header "Bearer <token>" or "Token <token>" (any case), each
 * exactly ID_LENGTH characters long; `out` is untouched when none is.  Not
 * the access_token query parameter: api_authenticate adds it, for OAuth
 * sessions only. */
api_auth_token_source_t api_auth_token_from_headers(const h2o_req_t *req, char out[ID_LENGTH + 1]);

/* Puts a fresh session into the cache (after login). */
void api_auth_cache_session(worker_t *worker, const char *token, const shm_session_t *session);
/* Forgets a token on every worker of the node (logout, revocation). */
void api_auth_forget_token(worker_t *worker, const char *token);

#endif
