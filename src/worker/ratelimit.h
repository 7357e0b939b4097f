/* RateLimitSettings at the door: every HTTP request of the node is charged
 * to its key in the node's shared table before anything else runs. */
#ifndef CHORUS_WORKER_RATELIMIT_H
#define CHORUS_WORKER_RATELIMIT_H

#include <stdbool.h>

#include "h2o.h"

struct worker_s;

/* Charges `req` when RateLimitSettings.Enable is on and adds the
 * X-RateLimit-* headers to its response; true when it was refused and
 * answered (429, as Mattermost answers it), false when it may go on. */
bool worker_ratelimit(struct worker_s *w, h2o_req_t *req);

/* Mattermost's second charge, once a request's session is known: with
 * VaryByUser, to the session's user (whichever token it came with), its
 * X-RateLimit-* headers added beside the first ones.  true when refused and
 * answered as worker_ratelimit answers. */
bool worker_ratelimit_user(struct worker_s *w, h2o_req_t *req, const char *user_id);

#endif
