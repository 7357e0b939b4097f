/* The request object of the API layer (see request.h). */
#include "api/request.h"

#include <string.h>

#include "api/response.h"

static void on_request_disposed(void *data)
{
    api_request_t *r = data;
    if (r->query != NULL)
        db_query_cancel(r->query);
    r->query = NULL;
    if (r->task != NULL)
        cpu_task_cancel(r->task);
    r->task = NULL;
    json_decref(r->body);
    r->body = NULL;
}

api_request_t *api_request_create(worker_t *worker, h2o_req_t *req)
{
    api_request_t *r = h2o_mem_alloc_shared(&req->pool, sizeof(*r), on_request_disposed);
    memset(r, 0, sizeof(*r));
    r->worker = worker;
    r->req = req;
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

static void on_query_done(void *data, PGresult *result, const char *error)
{
    api_request_t *r = data;
    r->query = NULL;
    r->query_cb(r, result, error);
}

void api_query(api_request_t *r, const char *sql, int nparams, const char *const *params, api_query_cb cb)
{
    r->query_cb = cb;
    db_query_t *q = db_pool_query(r->worker->db, sql, nparams, params, on_query_done, r);
    /* NULL: refused at once, its callback has run (and may have started the
     * next query, which is then the one tracked) */
    if (q != NULL)
        r->query = q;
}

bool api_has_role(const api_request_t *r, const char *role)
{
    size_t len = strlen(role);
    for (const char *p = r->session.roles; (p = strstr(p, role)) != NULL; p += len) {
        bool starts = p == r->session.roles || p[-1] == ' ';
        bool ends = p[len] == '\0' || p[len] == ' ';
        if (starts && ends)
            return true;
    }
    return false;
}
