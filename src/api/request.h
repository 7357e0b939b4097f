/*
 * One API request as handlers see it: its route parameters, its session once
 * authenticated, its parsed body (and the handler's reading of it), and the
 * one database query or CPU task it may have in flight.  Allocated in the
 * h2o request's pool; when h2o disposes of the request (answered, or the
 * client went away), whatever is still in flight is cancelled and the body's
 * JSON is released.
 */
#ifndef CHORUS_API_REQUEST_H
#define CHORUS_API_REQUEST_H

#include <jansson.h>
#include <stdbool.h>

#include "core/id.h"
#include "db/pool.h"
#include "db/router.h"
#include "shm/sessions.h"
#include "worker/cpu_pool.h"
#include "worker/worker.h"

#define API_PARAMS_MAX 4

typedef struct api_request_s api_request_t;
typedef void (*api_handler_fn)(api_request_t *r);
/* A query's outcome: `error` is set (and `result` may be NULL) on failure. */
typedef void (*api_query_cb)(api_request_t *r, PGresult *result, const char *error);

struct api_request_s {
    worker_t *worker;
    h2o_req_t *req;
    char request_id[ID_LENGTH + 1];
    h2o_iovec_t params[API_PARAMS_MAX]; /* {placeholders} of the route, in order */
    size_t nparams;
    bool authenticated;
    bool cookie_auth; /* the token came from the MMAUTHTOKEN cookie */
    char token[ID_LENGTH + 1];
    shm_session_t session; /* valid when authenticated */
    json_t *body;          /* parsed by api_request_body, released with the request */
    const void *input;     /* the handler's reading of body (its type, in the pool) for the steps after
                              its checks: the body is read once */
    db_routed_t *query;    /* in flight */
    bool query_replica;    /* the last query was answered by a replica */
    uint64_t min_lsn;      /* its reads must see the master up to here (its writes) */
    cpu_task_t *task;      /* CPU work (bcrypt) in flight */
    api_query_cb query_cb;
    void *state; /* the handler's own, in the request pool */
};

api_request_t *api_request_create(worker_t *worker, h2o_req_t *req);

/* The request body as JSON of `type` (JSON_OBJECT or JSON_ARRAY); NULL after
 * answering 400 api.context.invalid_body_param.app_error. */
json_t *api_request_body(api_request_t *r, json_type type);
/* Field `key` of `obj` as Go decodes a string field: absent or null is "",
 * a string is itself; false for any other type (a decoding error). */
bool api_json_string_field(json_t *obj, const char *key, const char **out);

/* The JSON type a field of a body decodes from, as Go's decoder sees it:
 * JSON_TRUE stands for either boolean. */
typedef struct {
    const char *name;
    json_type type;
} api_body_field_t;

/* True when each of `fields` that `body` has, and is not null, has its type
 * (Go's decoder refuses the body otherwise). */
bool api_body_types_ok(json_t *body, const api_body_field_t *fields, size_t nfields);

/* Route parameter 0 as an id (api_param_id, named `name`) into *id, then the
 * body as a JSON object: the body, or NULL after answering 400. */
json_t *api_param_id_and_body(api_request_t *r, const char *name, const char **id);

/* Route parameter `i` as a NUL-terminated string in the request pool. */
const char *api_param(api_request_t *r, size_t i);
/* Route parameter `i` when it is a valid id (or "me", resolved to the
 * caller); NULL after answering 400 api.context.invalid_url_param.app_error. */
const char *api_param_id(api_request_t *r, size_t i, const char *name);

/* Runs one parameterized statement on the master database; `cb` runs on the
 * loop with its outcome, unless the request went away first.  For writes,
 * and reads that must see the very latest data.  A statement that changed
 * rows records the master's WAL position after it, in the request and in
 * the caller's cached session, before `cb` runs: the session's next reads,
 * on any worker of the node, then skip replicas that have not replayed it. */
void api_query(api_request_t *r, const char *sql, int nparams, const char *const *params, api_query_cb cb);
/* A read: on a healthy replica that has replayed the caller's last write
 * (round-robin), else on the master; retried once elsewhere if its database
 * fails under it.  Never for a statement that writes. */
void api_query_read(api_request_t *r, const char *sql, int nparams, const char *const *params, api_query_cb cb);
/* A search: search replicas first, then read replicas, then as a read. */
void api_query_search(api_request_t *r, const char *sql, int nparams, const char *const *params, api_query_cb cb);
/* The smallest master WAL position a read of this request must see. */
uint64_t api_request_min_lsn(const api_request_t *r);

#endif
