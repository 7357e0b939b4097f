/*
 * The jobs API: POST /api/v4/jobs, GET /api/v4/jobs, GET /api/v4/jobs/{id},
 * GET /api/v4/jobs/type/{type}, POST /api/v4/jobs/{id}/cancel.
 *
 * As Mattermost's api4/job.go does it, in its order of checks: the body (400
 * api.context.invalid_body_param), the type (an unknown one is refused
 * before permissions, 400 api.job.unable_to_create_job.incorrect_job_type),
 * then the permission: every job type needs a system admin here, as with
 * Mattermost's default roles.  GET and cancel of one job read it first, so a
 * missing job is a 404 app.job.get.app_error for anyone.
 *
 * Cancel is one statement: pending → canceled, in_progress →
 * cancel_requested (the runner then cancels it, within its heartbeat); any
 * other status is Mattermost's 500 jobs.request_cancellation.status.error.
 *
 * A job's Data is a string map: chorus keeps it as a jsonb object whose
 * values are all strings.  The jobs child does the rest (src/jobs/).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/response.h"
#include "core/log.h"
#include "core/text.h"
#include "store/job.h"
#include "store/row.h"

static void job_not_found(api_request_t *r)
{
    api_send_error(r, 404, "app.job.get.app_error", "Unable to get the job.", NULL);
}

/* ---- POST /jobs ------------------------------------------------------------ */

static void on_created(api_request_t *r, PGresult *res, const char *error)
{
    if (error != NULL || PQntuples(res) != 1) {
        api_error_database(r, error);
        return;
    }
    log_info("request %s: job %s (%s) created", r->request_id, row_str(res, 0, 0), row_str(res, 0, 1));
    api_send_json(r, 201, job_to_json(res, 0));
}

/* Job.Data is map[string]string: anything else fails Go's decoder. */
static bool valid_data(json_t *data)
{
    const char *key;
    json_t *value;
    if (data == NULL || json_is_null(data))
        return true;
    if (!json_is_object(data))
        return false;
    json_object_foreach(data, key, value)
    {
        if (!json_is_string(value))
            return false;
    }
    return true;
}

void api_jobs_create(api_request_t *r)
{
    json_t *body = api_request_body(r, JSON_OBJECT);
    if (body == NULL)
        return;
    static const api_body_field_t fields[] = {{"type", JSON_STRING}};
    json_t *type = json_object_get(body, "type"), *data = json_object_get(body, "data");
    if (!api_body_types_ok(body, fields, 1) || !valid_data(data)) {
        api_error_invalid_body(r, "job");
        return;
    }
    if (!json_is_string(type) || !job_type_known(json_string_value(type))) {
        api_send_error(r, 400, "api.job.unable_to_create_job.incorrect_job_type",
                       "Job type of the job you are trying to create is invalid", NULL);
        return;
    }
    if (!api_require_admin(r))
        return;
    char id[ID_LENGTH + 1];
    char *data_text = json_is_object(data) ? json_dumps(data, JSON_COMPACT) : NULL;
    if (id_new(id) != 0 || (json_is_object(data) && data_text == NULL)) {
        free(data_text);
        api_send_error(r, 500, "app.job.save.app_error", "We couldn't save the job.", NULL);
        return;
    }
    const char *params[] = {id, json_string_value(type), data_text != NULL ? data_text : "{}"};
    api_query(r, JOBS_SQL_CREATE, 3, params, on_created);
    free(data_text);
}

/* ---- GET /jobs, GET /jobs/type/{type} ------------------------------------- */

static void on_listed(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(list, job_to_json(res, i));
    api_send_json(r, 200, list);
}

/* A page of jobs, newest first; NULL type or status: any. */
static void list_jobs(api_request_t *r, const char *type, const char *status)
{
    api_page_t page = api_query_page(r, NULL);
    char limit[TEXT_INT64_SIZE], offset[TEXT_INT64_SIZE];
    text_int64(limit, page.per_page);
    text_int64(offset, page.offset);
    const char *params[] = {type, status, limit, offset};
    api_query_read(r, JOBS_SQL_PAGE, 4, params, on_listed);
}

void api_jobs_list(api_request_t *r)
{
    const char *type = api_query_param(r, "job_type"), *status = api_query_param(r, "status");
    if (type != NULL && *type == '\0')
        type = NULL;
    if (status != NULL && *status == '\0')
        status = NULL;
    if (type != NULL && !job_type_known(type)) {
        api_error_invalid_param(r, "job_type");
        return;
    }
    if (!api_require_admin(r))
        return;
    if (status != NULL && !job_status_known(status)) {
        api_send_error(r, 400, "api.job.status.invalid", "Invalid job status.", NULL);
        return;
    }
    list_jobs(r, type, status);
}

void api_jobs_list_by_type(api_request_t *r)
{
    const char *type = api_param(r, 0);
    if (!job_type_known(type)) {
        api_send_error(r, 400, "api.job.retrieve.nopermissions", "Invalid job type.", NULL);
        return;
    }
    if (api_require_admin(r))
        list_jobs(r, type, NULL);
}

/* ---- GET /jobs/{id} -------------------------------------------------------- */

static void on_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        job_not_found(r);
        return;
    }
    if (api_require_admin(r))
        api_send_json(r, 200, job_to_json(res, 0));
}

void api_jobs_get(api_request_t *r)
{
    const char *id = api_param_id(r, 0, "job_id");
    if (id == NULL)
        return;
    const char *params[] = {id};
    /* from the master: a client polls a job it just created or canceled */
    api_query(r, JOBS_SQL_BY_ID, 1, params, on_loaded);
}

/* ---- POST /jobs/{id}/cancel ------------------------------------------------ */

static void on_canceled(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_send_error(r, 500, "jobs.request_cancellation.status.error", "Could not request cancellation for job.",
                       NULL);
        return;
    }
    log_info("request %s: job %s %s", r->request_id, api_param(r, 0), row_str(res, 0, 0));
    api_send_json(r, 200, json_pack("{s:s}", "status", "OK"));
}

static void on_cancel_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        job_not_found(r);
        return;
    }
    if (!api_require_admin(r))
        return;
    const char *params[] = {row_str(res, 0, 0)};
    api_query(r, JOBS_SQL_CANCEL, 1, params, on_canceled);
}

void api_jobs_cancel(api_request_t *r)
{
    const char *id = api_param_id(r, 0, "job_id");
    if (id == NULL)
        return;
    const char *params[] = {id};
    api_query(r, JOBS_SQL_EXISTS, 1, params, on_cancel_loaded);
}
