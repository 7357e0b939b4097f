/* Helpers of the users handlers that other handlers share. */
#ifndef CHORUS_API_USERS_H
#define CHORUS_API_USERS_H

#include <jansson.h>

#include "api/request.h"

/* A PostgreSQL array literal ("{a,b}") of the ids in JSON array `ids` (1 to
 * `max` valid ids), in the request pool; NULL after answering 400. */
const char *api_id_array_literal(api_request_t *r, json_t *ids, size_t max);

#endif
