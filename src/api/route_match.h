/* Matching a request path against a route pattern: literal path segments,
 * and "{name}" placeholders that capture one non-empty segment each.  Pure:
 * the route table (router.c) uses it, the unit tests check it alone. */
#ifndef CHORUS_API_ROUTE_MATCH_H
#define CHORUS_API_ROUTE_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "h2o/memory.h"

/* True when `path` matches `pattern` (a trailing slash on the path is
 * accepted, as Mattermost's router does); the captured segments, in order,
 * go into params[0..*nparams), at most `max` of them. */
bool api_route_match(const char *pattern, h2o_iovec_t path, h2o_iovec_t *params, size_t max, size_t *nparams);

#endif
