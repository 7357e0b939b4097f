/* The User model as Mattermost serializes it, for every handler that returns
 * users: select `api_user_columns` (in that order) and convert a row. */
#ifndef CHORUS_API_USERS_H
#define CHORUS_API_USERS_H

#include <jansson.h>
#include <libpq-fe.h>

extern const char *const api_user_columns;
/* A sanitized user (no password, no MFA secret) from `row` of `res`. */
json_t *api_user_json(const PGresult *res, int row);

#include "api/request.h"
/* A PostgreSQL array literal ("{a,b}") of the ids in JSON array `ids` (1 to
 * `max` valid ids), in the request pool; NULL after answering 400. */
const char *api_id_array_literal(api_request_t *r, json_t *ids, size_t max);

#endif
