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

#endif
