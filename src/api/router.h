/* Maps a request's method and path to its API handler. */
#ifndef CHORUS_API_ROUTER_H
#define CHORUS_API_ROUTER_H

#include "api/response.h"

/* Answers the request: the matching handler, or Mattermost's 404/405 error. */
void api_route(worker_t *worker, h2o_req_t *req);

#endif
