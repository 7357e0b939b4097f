/* Who is calling: the session behind a request's token, as Mattermost finds
 * it (cookie, then Authorization header, then access_token), checked against
 * the node's shared session cache before the database. */
#ifndef CHORUS_API_AUTH_H
#define CHORUS_API_AUTH_H

#include "api/request.h"

/* How a route treats the caller's token. */
typedef enum {
    API_AUTH_REQUIRED, /* no valid session: 401 */
    /* Mattermost's APIHandler routes (sign-up, the client config, the
     * license): a token naming no live session is ignored, so a web app
     * holding an expired cookie still loads what a logged-out visitor sees */
    API_AUTH_IF_VALID,
} api_auth_t;

/* Authenticates `r` as `mode` says, then calls `next` (with r->authenticated
 * set when a session was found); answers 401 itself where `mode` says. */
void api_authenticate(api_request_t *r, api_auth_t mode, api_handler_fn next);

#endif
