/* Answering API requests the way Mattermost does: its headers on every
 * response, JSON bodies, and its error object. */
#ifndef CHORUS_API_RESPONSE_H
#define CHORUS_API_RESPONSE_H

#include <jansson.h>
#include <stdbool.h>

#include "api/request.h"

/* A body over ServiceSettings.MaximumPayloadSizeBytes, whoever notices it. */
#define API_ERROR_TOO_LARGE_ID      "api.context.request_body_too_large.app_error"
#define API_ERROR_TOO_LARGE_MESSAGE "The request body is larger than ServiceSettings.MaximumPayloadSizeBytes."

/* The standard reason phrase of an HTTP status ("Not Found"). */
const char *api_reason_phrase(int status);

/* Sends `body` (taken over, may be NULL for an empty object) as JSON. */
void api_send_json(api_request_t *r, int status, json_t *body);
/* Sends a body that outlives the request (a constant). */
void api_send_static(api_request_t *r, int status, const char *body, size_t len);
/* Bytes of `content_type` (a static string), copied into the response. */
void api_send_bytes(api_request_t *r, int status, const char *content_type, const void *body, size_t len);
/* Mattermost's error body: {id, message, detailed_error, request_id, status_code};
 * detailed_error is kept only with ServiceSettings.EnableDeveloper. */
void api_send_error(api_request_t *r, int status, const char *id, const char *message, const char *detailed);
/* Adds a response header (name must be lower-case, value is copied). */
void api_add_header(api_request_t *r, const char *name, const char *value);
/* The decoded value of query parameter `name`, or NULL (pool-allocated). */
const char *api_query_param(api_request_t *r, const char *name);
/* strconv.Atoi: an optional sign and decimal digits, within int64. */
bool api_parse_int64(const char *text, int64_t *out);

/* Mattermost's paging, as its Params reads it: `page` (missing, malformed or
 * negative: 0) and `per_page` (or, when that is missing, `per_page_alias`
 * unless NULL; missing, malformed or negative: 60; above 200: 200), and the
 * row offset they make (saturating). */
#define API_PER_PAGE_DEFAULT 60
#define API_PER_PAGE_MAX     200
typedef struct {
    int64_t page, per_page, offset;
} api_page_t;
api_page_t api_query_page(api_request_t *r, const char *per_page_alias);

/* The errors every handler needs, with Mattermost's ids. */
void api_error_invalid_body(api_request_t *r, const char *detail);
void api_error_invalid_param(api_request_t *r, const char *name);
/* A model's IsValid refusal: 400 model.<model>.is_valid.<field>.app_error.
 * Returns false, so that a validator can `return api_error_model_invalid(...)`. */
bool api_error_model_invalid(api_request_t *r, const char *model, const char *field, const char *message);
void api_error_session_expired(api_request_t *r);
void api_error_permissions(api_request_t *r);
void api_error_not_found(api_request_t *r, const char *id, const char *what);
/* A database error: logged, and answered 500 without leaking the SQL. */
void api_error_database(api_request_t *r, const char *error);
/* A query callback's first words: true (and the request answered with the
 * database error) when `error` is set. */
bool api_query_failed(api_request_t *r, const char *error);
/* A list answer: every row of `res` through `to_json` (its columns from 0)
 * as a JSON array, 200; or the database error. */
typedef json_t *(*api_row_json_fn)(const PGresult *res, int row, int column);
void api_send_rows(api_request_t *r, const PGresult *res, const char *error, api_row_json_fn to_json);
/* A query callback's first words when it needs its one row: true when the
 * query succeeded with exactly one row; else the request is answered (the
 * database error, or 404 `not_found_id` naming `what`). */
bool api_query_one_row(api_request_t *r, const PGresult *res, const char *error, const char *not_found_id,
                       const char *what);
/* Mattermost's catch-all 404: no route for this method and path (also for a
 * handler whose route pattern is narrower than "{name}", as a mux regexp
 * would be). */
void api_route_not_found(api_request_t *r);
/* 503 when a bounded queue is full. */
void api_error_busy(api_request_t *r);

/* Headers every API response carries (also used for h2o's own errors). */
void api_add_common_headers(worker_t *worker, h2o_req_t *req, const char *request_id);
/* Serializes a Mattermost error object into the request's pool. */
h2o_iovec_t api_error_body(worker_t *worker, h2o_req_t *req, const char *request_id, int status, const char *id,
                           const char *message, const char *detailed);

#endif
