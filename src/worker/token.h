/* The session token of an HTTP request, where Mattermost looks for it: the
 * MMAUTHTOKEN cookie, else an Authorization header "Bearer <token>" or
 * "Token <token>" (any case).  One reading for the API and the WebSocket
 * upgrade alike; the access_token query parameter is the API's alone. */
#ifndef CHORUS_WORKER_TOKEN_H
#define CHORUS_WORKER_TOKEN_H

#include "h2o.h"

#include "core/id.h"

typedef enum { TOKEN_NONE, TOKEN_FROM_COOKIE, TOKEN_FROM_HEADER } token_source_t;

/* The token of `req`'s headers into `out`, each form exactly ID_LENGTH
 * characters long; `out` is untouched when there is none. */
token_source_t token_from_headers(const h2o_req_t *req, char out[ID_LENGTH + 1]);

#endif
