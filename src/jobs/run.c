/*
 * One run of a job, from its claim to its last update.
 *
 * The run owns the job while the row says NodeId = us and the status is
 * in_progress or cancel_requested.  Every JOBS_HEARTBEAT_MS a heartbeat, on
 * the control pool (so it goes on during a long statement of the job), saves
 * LastActivityAt, Progress and Data and reads the status back: a cancel
 * request is honoured after the statement in flight, and a job that is no
 * longer ours (another node took it over after we went silent) is dropped
 * without another write.  Every write of the run carries the same ownership
 * condition, so a runner that lost its job can never overwrite the new
 * owner's work.
 *
 * Data doubles as the resume point: a type writes its cursor there and a
 * later claimer, on any node, starts from it.  Since the cursor is saved by
 * the next heartbeat, a batch may be redone once after a takeover; every
 * type's batches are idempotent for that reason.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/text.h"
#include "jobs/internal.h"
#include "store/job.h"

#define OWNED "Id = $1 AND NodeId = $2 AND Status IN ('" JOB_STATUS_IN_PROGRESS "', '" JOB_STATUS_CANCEL_REQUESTED "')"

static const jobs_type_t *type_named(const char *name)
{
    static const jobs_type_t *const types[] = {&jobs_type_retention, &jobs_type_export, &jobs_type_reindex};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(types[i]->type, name) == 0)
            return types[i];
    return NULL;
}

static void run_free(jobs_run_t *run)
{
    if (run->type != NULL && run->type->dispose != NULL)
        run->type->dispose(run);
    json_decref(run->data);
    if (run->j->run == run) {
        run->j->run = NULL;
        run->j->next_poll_ms = 0; /* the next pending job, at once */
    }
    free(run);
}

/* ---- Data ------------------------------------------------------------------ */

const char *jobs_data_str(const jobs_run_t *run, const char *key)
{
    return json_string_value(json_object_get(run->data, key));
}

bool jobs_data_int(const jobs_run_t *run, const char *key, int64_t *out)
{
    const char *s = jobs_data_str(run, key);
    char *end;
    if (s == NULL || *s == '\0')
        return false;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0')
        return false;
    *out = v;
    return true;
}

void jobs_data_set_int(jobs_run_t *run, const char *key, int64_t value)
{
    char text[TEXT_INT64_SIZE];
    text_int64(text, value);
    json_object_set_new(run->data, key, json_string(text));
}

void jobs_data_set_str(jobs_run_t *run, const char *key, const char *value)
{
    json_object_set_new(run->data, key, json_string(value));
}

/* ---- statements ------------------------------------------------------------ */

static void on_run_query(void *data, PGresult *result, const char *error)
{
    jobs_run_t *run = data;
    run->in_statement = false;
    run->last_statement_ms = clock_monotonic_ms() - run->statement_started_ms;
    if (run->j->disposing)
        return;
    run->cb(run, result, error);
}

void jobs_run_query(jobs_run_t *run, const char *sql, int nparams, const char *const *params, jobs_run_cb cb)
{
    run->cb = cb;
    run->in_statement = true;
    run->statement_started_ms = clock_monotonic_ms();
    db_pool_query(run->j->work, sql, nparams, params, on_run_query, run);
}

/* The final update (or the hand-back): on the control pool, owned rows only. */
typedef struct {
    jobs_run_t *run;
    const char *outcome;
} final_t;

static void on_final(void *data, PGresult *result, const char *error)
{
    final_t *f = data;
    jobs_run_t *run = f->run;
    if (!run->j->disposing) {
        if (error != NULL || result == NULL)
            log_warn(0, "job %s (%s): cannot record %s: %s; another node takes it over in %d s", run->id,
                     run->type->type, f->outcome, error != NULL ? error : "no result", JOBS_STALE_MS / 1000);
        else if (PQntuples(result) == 0)
            log_warn(0, "job %s (%s): no longer ours; %s not recorded", run->id, run->type->type, f->outcome);
        else
            log_info("job %s (%s): %s recorded", run->id, run->type->type, f->outcome);
        run->j->release_in_flight = false;
        run_free(run);
    }
    free(f);
}

static void final_update(jobs_run_t *run, const char *status, const char *outcome)
{
    final_t *f = malloc(sizeof(*f));
    char *data = json_dumps(run->data, JSON_COMPACT);
    if (f == NULL || data == NULL) {
        free(f);
        free(data);
        log_error(0, "job %s: out of memory recording %s", run->id, outcome);
        run_free(run);
        return;
    }
    *f = (final_t){run, outcome};
    run->ending = true;
    const char *params[] = {run->id, run->j->node_id, status, data};
    db_pool_query(run->j->control,
                  "UPDATE Jobs SET Status = $3::text,"
                  " Progress = CASE $3::text WHEN '" JOB_STATUS_SUCCESS "' THEN 100 WHEN '" JOB_STATUS_ERROR
                  "' THEN -1 ELSE Progress END,"
                  " Data = $4::jsonb, LastActivityAt = " JOBS_SQL_NOW " WHERE " OWNED " RETURNING Status",
                  4, params, on_final, f);
    free(data);
}

void jobs_run_succeed(jobs_run_t *run)
{
    final_update(run, JOB_STATUS_SUCCESS, "success");
}

void jobs_run_fail(jobs_run_t *run, const char *fmt, ...)
{
    char reason[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    log_warn(0, "job %s (%s) failed: %s", run->id, run->type->type, reason);
    jobs_data_set_str(run, "error", reason);
    final_update(run, JOB_STATUS_ERROR, "error");
}

void jobs_run_end(jobs_run_t *run, const char *outcome)
{
    log_info("job %s (%s): %s", run->id, run->type->type, outcome);
    run_free(run);
}

void jobs_run_drop(jobs_t *j)
{
    if (j->run != NULL)
        run_free(j->run);
}

void jobs_run_release(jobs_t *j)
{
    jobs_run_t *run = j->run;
    if (run == NULL || run->in_statement || run->ending || j->release_in_flight)
        return;
    if (run->lost) {
        jobs_run_end(run, "dropped: another node owns it now");
        return;
    }
    final_t *f = malloc(sizeof(*f));
    char *data = json_dumps(run->data, JSON_COMPACT);
    if (f == NULL || data == NULL) {
        free(f);
        free(data);
        run_free(run);
        return;
    }
    *f = (final_t){run, "hand-back (to be resumed by the next claimer)"};
    j->release_in_flight = true;
    run->ending = true;
    const char *params[] = {run->id, j->node_id, data};
    /* a clean hand-back is not one of the attempts that count toward giving up */
    db_pool_query(j->control,
                  "UPDATE Jobs SET Status = CASE Status WHEN '" JOB_STATUS_CANCEL_REQUESTED
                  "' THEN '" JOB_STATUS_CANCELED "' ELSE '" JOB_STATUS_PENDING
                  "' END, NodeId = '', Attempts = greatest(Attempts - 1, 0),"
                  " Data = $3::jsonb, LastActivityAt = " JOBS_SQL_NOW " WHERE " OWNED " RETURNING Status",
                  3, params, on_final, f);
    free(data);
}

void jobs_run_next(jobs_run_t *run, int64_t progress)
{
    run->progress = progress;
    if (run->lost) {
        jobs_run_end(run, "dropped: another node owns it now");
    } else if (run->cancel) {
        final_update(run, JOB_STATUS_CANCELED, "canceled");
    } else if (run->j->stopping) {
        jobs_run_release(run->j);
    } else {
        /* at least as long a pause as the batch took: a job never holds the
         * database more than half the time, however slow its batches get
         * under load, so the API beside it stays fast */
        int64_t pause = run->pause_ms > run->last_statement_ms ? run->pause_ms : run->last_statement_ms;
        run->resume_at = clock_monotonic_ms() + (pause > 0 ? pause : 1);
    }
}

/* ---- heartbeat ------------------------------------------------------------- */

static void on_heartbeat(void *data, PGresult *result, const char *error)
{
    jobs_t *j = data;
    j->heartbeat_in_flight = false;
    if (j->disposing || j->run == NULL)
        return;
    if (error != NULL || result == NULL) {
        log_warn(0, "job %s: heartbeat failed: %s", j->run->id, error != NULL ? error : "no result");
        return;
    }
    if (PQntuples(result) == 0) {
        if (!j->run->lost)
            log_warn(0, "job %s: no longer ours (silent too long?): dropping it", j->run->id);
        j->run->lost = true;
    } else if (strcmp(PQgetvalue(result, 0, 0), JOB_STATUS_CANCEL_REQUESTED) == 0 && !j->run->cancel) {
        log_info("job %s: cancel requested", j->run->id);
        j->run->cancel = true;
    }
}

static void heartbeat(jobs_t *j)
{
    jobs_run_t *run = j->run;
    char progress[TEXT_INT64_SIZE], *data = json_dumps(run->data, JSON_COMPACT);
    if (data == NULL)
        return;
    text_int64(progress, run->progress);
    const char *params[] = {run->id, j->node_id, progress, data};
    j->heartbeat_in_flight = true;
    db_pool_query(j->control,
                  "UPDATE Jobs SET LastActivityAt = " JOBS_SQL_NOW ", Progress = $3::bigint, Data = $4::jsonb"
                  " WHERE " OWNED " RETURNING Status",
                  4, params, on_heartbeat, j);
    free(data);
}

void jobs_run_tick(jobs_t *j, int64_t now)
{
    jobs_run_t *run = j->run;
    if (run == NULL || run->ending)
        return;
    if (!j->heartbeat_in_flight && now >= j->next_heartbeat_ms && !run->lost) {
        j->next_heartbeat_ms = now + JOBS_HEARTBEAT_MS;
        heartbeat(j);
    }
    if (run->resume_at != 0 && !run->in_statement) {
        if (run->lost || run->cancel || j->stopping) {
            run->resume_at = 0;
            jobs_run_next(run, run->progress);
        } else if (now >= run->resume_at) {
            run->resume_at = 0;
            run->type->step(run);
        }
    }
}

/* The claim's row: Id, Type, Data, Progress. */
void jobs_run_begin(jobs_t *j, const PGresult *claimed)
{
    jobs_run_t *run = calloc(1, sizeof(*run));
    if (run == NULL) {
        log_error(0, "out of memory starting a job");
        return;
    }
    run->j = j;
    snprintf(run->id, sizeof(run->id), "%s", PQgetvalue(claimed, 0, 0));
    run->type = type_named(PQgetvalue(claimed, 0, 1));
    run->data = json_loads(PQgetvalue(claimed, 0, 2), 0, NULL);
    run->progress = strtoll(PQgetvalue(claimed, 0, 3), NULL, 10);
    j->run = run;
    j->runs++;
    j->next_heartbeat_ms = clock_monotonic_ms() + JOBS_HEARTBEAT_MS;
    if (run->type == NULL) { /* the claim takes known types only: a bug */
        log_error(0, "job %s: claimed a job of unknown type %s", run->id, PQgetvalue(claimed, 0, 1));
        run_free(run);
        return;
    }
    if (!json_is_object(run->data)) {
        json_decref(run->data);
        run->data = json_object();
        jobs_run_fail(run, "malformed data: not a JSON object");
        return;
    }
    log_info("job %s (%s): started, progress %lld%%", run->id, run->type->type, (long long)run->progress);
    if (run->progress < 0 || run->progress > 100)
        run->progress = 0;
    run->type->start(run);
}
