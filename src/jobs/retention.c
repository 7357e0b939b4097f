/*
 * data_retention: deletes, for good, the posts created before the cutoff
 * (now − DataRetentionSettings.MessageRetentionDays when the job first
 * starts), soft-deleted ones included, with their reactions: a soft delete
 * only hides a post, and retention is what removes it from the database.
 *
 * Batches of BatchSize, oldest first (idx_posts_create_at), with
 * TimeBetweenBatchesMilliseconds between them so that the API's queries get
 * the database in between.  A batch deletes whatever is still older than
 * the cutoff, so redoing one (after a takeover) deletes nothing twice and
 * skips nothing.  The cutoff is kept in the job's data, so a run resumed on
 * another node, or a day later, deletes exactly what the first one would.
 *
 * A run needs DataRetentionSettings.EnableMessageDeletion: with deletion off,
 * a job created on demand ends in error rather than deleting anything.
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/text.h"
#include "jobs/internal.h"
#include "store/job.h"

#define DAY_MS (24LL * 60 * 60 * 1000)

typedef struct {
    int64_t cutoff, total, deleted;
} retention_t;

static int64_t progress_of(const retention_t *r)
{
    int64_t p = r->total > 0 ? r->deleted * 100 / r->total : 0;
    return p > 99 ? 99 : p;
}

static void on_batch(jobs_run_t *run, PGresult *result, const char *error)
{
    retention_t *r = run->state;
    if (error != NULL || result == NULL || PQntuples(result) != 1) {
        jobs_run_fail(run, "deleting posts: %s", error != NULL ? error : "no result");
        return;
    }
    int64_t n = strtoll(PQgetvalue(result, 0, 0), NULL, 10);
    r->deleted += n;
    jobs_data_set_int(run, "deleted", r->deleted);
    if (n < run->j->config->data_retention.batch_size) {
        jobs_run_succeed(run); /* nothing older than the cutoff is left */
        return;
    }
    jobs_run_next(run, progress_of(r));
}

static void step(jobs_run_t *run)
{
    retention_t *r = run->state;
    char cutoff[TEXT_INT64_SIZE], limit[TEXT_INT64_SIZE];
    text_int64(cutoff, r->cutoff);
    text_int64(limit, run->j->config->data_retention.batch_size);
    const char *params[] = {cutoff, limit};
    jobs_run_query(
        run,
        "WITH batch AS (SELECT Id FROM Posts WHERE CreateAt < $1::bigint ORDER BY CreateAt LIMIT $2::bigint),"
        " gone AS (DELETE FROM Posts p USING batch WHERE p.Id = batch.Id RETURNING 1),"
        /* their reactions go with them, as Mattermost's retention deletes them */
        " rx AS (DELETE FROM Reactions x USING batch WHERE x.PostId = batch.Id RETURNING 1)"
        " SELECT count(*) FROM gone",
        2, params, on_batch);
}

static void on_counted(jobs_run_t *run, PGresult *result, const char *error)
{
    retention_t *r = run->state;
    if (error != NULL || result == NULL || PQntuples(result) != 1) {
        jobs_run_fail(run, "counting expired posts: %s", error != NULL ? error : "no result");
        return;
    }
    r->total = r->deleted + strtoll(PQgetvalue(result, 0, 0), NULL, 10);
    jobs_data_set_int(run, "total", r->total);
    jobs_run_next(run, progress_of(r));
}

static void start(jobs_run_t *run)
{
    const config_data_retention_t *cfg = &run->j->config->data_retention;
    retention_t *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        jobs_run_fail(run, "out of memory");
        return;
    }
    run->state = r;
    run->pause_ms = cfg->time_between_batches_milliseconds;
    if (!cfg->enable_message_deletion) {
        jobs_run_fail(run, "DataRetentionSettings.EnableMessageDeletion is false: no post is deleted");
        return;
    }
    if (!jobs_data_int(run, "cutoff", &r->cutoff)) {
        r->cutoff = clock_now_ms() - cfg->message_retention_days * DAY_MS;
        jobs_data_set_int(run, "cutoff", r->cutoff);
    }
    if (!jobs_data_int(run, "deleted", &r->deleted))
        r->deleted = 0;
    char cutoff[TEXT_INT64_SIZE];
    text_int64(cutoff, r->cutoff);
    const char *params[] = {cutoff};
    jobs_run_query(run, "SELECT count(*) FROM Posts WHERE CreateAt < $1::bigint", 1, params, on_counted);
}

static void dispose(jobs_run_t *run)
{
    free(run->state);
    run->state = NULL;
}

const jobs_type_t jobs_type_retention = {JOB_TYPE_DATA_RETENTION, start, step, dispose};
