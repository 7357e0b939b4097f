/* The request object of the API layer (see request.h). */
#include "api/request.h"

#include <string.h>

#include "api/response.h"
#include "shm/region.h"

static void on_request_disposed(void *data)
{
    api_request_t *r = data;
    r->worker->requests_in_flight--; /* what a drain waits for */
    if (r->query != NULL)
        db_routed_cancel(r->query);
    r->query = NULL;
    if (r->task != NULL)
        cpu_task_cancel(r->task);
    r->task = NULL;
    r->input = NULL; /* it may borrow the body's strings */
    json_decref(r->body);
    r->body = NULL;
}

api_request_t *api_request_create(worker_t *worker, h2o_req_t *req)
{
    api_request_t *r = h2o_mem_alloc_shared(&req->pool, sizeof(*r), on_request_disposed);
    memset(r, 0, sizeof(*r));
    r->worker = worker;
    r->req = req;
    worker->requests_in_flight++;
    if (id_new(r->request_id) != 0)
        memset(r->request_id, 'x', ID_LENGTH);
    return r;
}

json_t *api_request_body(api_request_t *r, json_type type)
{
    json_error_t error;
    json_t *body = json_loadb(r->req->entity.base, r->req->entity.len, JSON_REJECT_DUPLICATES, &error);
    if (body == NULL || json_typeof(body) != type) {
        char detail[256];
        snprintf(detail, sizeof(detail), "%s", body == NULL ? error.text : "unexpected JSON type");
        json_decref(body);
        api_error_invalid_body(r, detail);
        return NULL;
    }
    json_decref(r->body);
    r->body = body;
    return body;
}

bool api_body_types_ok(json_t *body, const api_body_field_t *fields, size_t nfields)
{
    for (size_t i = 0; i < nfields; i++) {
        json_t *v = json_object_get(body, fields[i].name);
        if (v == NULL || json_is_null(v))
            continue;
        if (fields[i].type == JSON_TRUE ? !json_is_boolean(v) : json_typeof(v) != fields[i].type)
            return false;
    }
    return true;
}

bool api_json_string_field(json_t *obj, const char *key, const char **out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v)) {
        *out = "";
        return true;
    }
    *out = json_string_value(v);
    return *out != NULL;
}

json_t *api_param_id_and_body(api_request_t *r, const char *name, const char **id)
{
    *id = api_param_id(r, 0, name);
    return *id != NULL ? api_request_body(r, JSON_OBJECT) : NULL;
}

const char *api_param(api_request_t *r, size_t i)
{
    h2o_iovec_t v = h2o_strdup(&r->req->pool, r->params[i].base, r->params[i].len);
    return v.base;
}

const char *api_param_id(api_request_t *r, size_t i, const char *name)
{
    if (i >= r->nparams) {
        api_error_invalid_param(r, name);
        return NULL;
    }
    h2o_iovec_t p = r->params[i];
    if (r->authenticated && h2o_memis(p.base, p.len, H2O_STRLIT("me")))
        return r->session.user_id;
    if (!id_is_valid(p.base, p.len)) {
        api_error_invalid_param(r, name);
        return NULL;
    }
    return api_param(r, i);
}

static uint64_t lsn_max(uint64_t a, uint64_t b)
{
    return a > b ? a : b; /* DB_LSN_MASTER_ONLY, the largest, sticks */
}

static void raise_write_lsn(void *value, void *arg)
{
    shm_session_t *s = value;
    s->write_lsn = lsn_max(s->write_lsn, *(const uint64_t *)arg);
}

/* Read-your-writes: the session's entry in the node's cache carries it to
 * every worker (an entry that is not cached is refilled conservatively, see
 * api_auth_cache_session). */
static void note_write(api_request_t *r, uint64_t lsn)
{
    r->min_lsn = lsn_max(r->min_lsn, lsn);
    if (!r->authenticated)
        return;
    r->session.write_lsn = lsn_max(r->session.write_lsn, lsn);
    shm_cache_update(shm_region_sessions(r->worker->params->shm), r->token, raise_write_lsn, &lsn);
}

uint64_t api_request_min_lsn(const api_request_t *r)
{
    return lsn_max(r->min_lsn, r->authenticated ? r->session.write_lsn : 0);
}

static void on_query_done(void *data, PGresult *result, const char *error, const db_outcome_t *outcome)
{
    api_request_t *r = data;
    r->query = NULL;
    r->query_replica = outcome->replica;
    if (outcome->write_lsn != 0)
        note_write(r, outcome->write_lsn);
    r->query_cb(r, result, error);
}

static void run_query(api_request_t *r, db_intent_t intent, const char *sql, int nparams, const char *const *params,
                      api_query_cb cb)
{
    r->query_cb = cb;
    uint64_t min_lsn = intent == DB_INTENT_WRITE ? 0 : api_request_min_lsn(r);
    db_routed_t *q = db_router_query(r->worker->router, intent, min_lsn, sql, nparams, params, on_query_done, r);
    /* NULL: its callback has run (and may have started the next query,
     * which is then the one tracked) */
    if (q != NULL)
        r->query = q;
}

void api_query(api_request_t *r, const char *sql, int nparams, const char *const *params, api_query_cb cb)
{
    run_query(r, DB_INTENT_WRITE, sql, nparams, params, cb);
}

void api_query_read(api_request_t *r, const char *sql, int nparams, const char *const *params, api_query_cb cb)
{
    run_query(r, DB_INTENT_READ, sql, nparams, params, cb);
}

void api_query_search(api_request_t *r, const char *sql, int nparams, const char *const *params, api_query_cb cb)
{
    run_query(r, DB_INTENT_SEARCH, sql, nparams, params, cb);
}
