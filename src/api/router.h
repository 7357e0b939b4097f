/* Maps a request's method and path to its API handler. */
#ifndef CHORUS_API_ROUTER_H
#define CHORUS_API_ROUTER_H

#include "api/response.h"

/* Answers the request: the matching handler, or Mattermost's 404/405 error. */
void api_route(worker_t *worker, h2o_req_t *req);
/* Mattermost's 404 for a path no route matches (also for a handler whose
 * route pattern is narrower than "{name}", as a mux regexp would be). */
void api_error_no_route(api_request_t *r);

#endif
