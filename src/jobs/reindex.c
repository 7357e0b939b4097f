/*
 * search_index_rebuild: rebuilds what post search reads, while it keeps
 * answering.
 *
 * Search (src/api/post_search.c) matches to_tsvector('english', Message)
 * through the expression GIN index idx_posts_message_txt, and hashtags
 * through Posts.Hashtags, which the API derives from the message when a post
 * is written.  So a rebuild has two phases:
 *
 * 1. hashtags: every post, in batches of REINDEX_BATCH by Id (the cursor,
 *    kept in the job's data), gets Hashtags recomputed from its message with
 *    the API's own parser; only rows that differ are written, and only if
 *    the message is still the one read (its md5), so a concurrent edit wins.
 *    Redoing a batch changes nothing.  Needed after the hashtag rules change.
 * 2. index: REINDEX INDEX CONCURRENTLY builds a new copy of the GIN index
 *    beside the old one and swaps them, so searches use the old index until
 *    the new one is valid.  Needed after a text-search dictionary or
 *    stop-word file changes (the index stores lexemes computed with the old
 *    one) and to shed bloat.  A build that died (its runner killed) leaves an
 *    invalid "_ccnew" index: it is dropped first.  This one statement cannot
 *    be interrupted: a cancel takes effect when it ends.
 *
 * Two rebuilds at once (one per node) would deadlock in REINDEX, or one
 * would drop the other's build in progress as a leftover: the index phase
 * runs only while its job holds a lock row in Systems (REINDEX_LOCK, the
 * job's id).  A lock whose job is no longer running, or silent for
 * JOBS_STALE_MS, is taken over; a job that finds the lock held waits,
 * trying again every REINDEX_WAIT_MS (its hashtag phase never needed it:
 * redoing a batch changes nothing).  The lock is a row, not a session's
 * advisory lock, so that it holds through a transaction pooler.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/text.h"
#include "jobs/internal.h"
#include "store/job.h"

#define REINDEX_BATCH     "1000"
#define REINDEX_PAUSE_MS  20
#define SEARCH_INDEX      "idx_posts_message_txt"
#define HASHTAGS_PROGRESS 90 /* the first phase's share of the progress */
#define REINDEX_LOCK      "SearchIndexRebuildLock"
#define REINDEX_WAIT_MS   1000

/* $1 our job id: the lock row is ours (a row back), else another's. */
#define REINDEX_SQL_LOCK                                                                                       \
    "INSERT INTO Systems (Name, Value) VALUES ('" REINDEX_LOCK "', $1) ON CONFLICT (Name) DO UPDATE"           \
    " SET Value = EXCLUDED.Value WHERE Systems.Value = EXCLUDED.Value OR NOT EXISTS (SELECT 1 FROM Jobs j"     \
    " WHERE j.Id = Systems.Value AND j.Status IN ('" JOB_STATUS_IN_PROGRESS "', '" JOB_STATUS_CANCEL_REQUESTED \
    "') AND j.LastActivityAt > " JOBS_SQL_NOW " - " H2O_TO_STR(JOBS_STALE_MS) ") RETURNING Value"
#define REINDEX_SQL_UNLOCK "DELETE FROM Systems WHERE Name = '" REINDEX_LOCK "' AND Value = $1"

typedef struct {
    int64_t total, scanned, updated;
    char *index_error; /* REINDEX's, reported once the lock is released */
} reindex_t;

static void index_phase(jobs_run_t *run);
static void find_leftovers(jobs_run_t *run);

static bool in_index_phase(const jobs_run_t *run)
{
    const char *phase = jobs_data_str(run, "phase");
    return phase != NULL && strcmp(phase, "index") == 0;
}

static int64_t progress_of(const reindex_t *r)
{
    int64_t p = r->total > 0 ? r->scanned * HASHTAGS_PROGRESS / r->total : 0;
    return p > HASHTAGS_PROGRESS ? HASHTAGS_PROGRESS : p;
}

static void on_updated(jobs_run_t *run, PGresult *result, const char *error)
{
    reindex_t *r = run->state;
    if (error != NULL || result == NULL) {
        jobs_run_fail(run, "updating hashtags: %s", error != NULL ? error : "no result");
        return;
    }
    r->updated += strtoll(PQcmdTuples(result), NULL, 10);
    jobs_data_set_int(run, "updated", r->updated);
    jobs_run_next(run, progress_of(r));
}

/* The rows whose hashtags differ, as [{id, h, m}] (m: md5 of the message read). */
static json_t *changed_rows(const PGresult *result)
{
    json_t *rows = json_array();
    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    for (int i = 0; i < PQntuples(result); i++) {
        const char *tags = text_hashtags(&pool, PQgetvalue(result, i, 1));
        if (strcmp(tags, PQgetvalue(result, i, 2)) != 0)
            json_array_append_new(rows, json_pack("{s:s, s:s, s:s}", "id", PQgetvalue(result, i, 0), "h", tags, "m",
                                                  PQgetvalue(result, i, 3)));
    }
    h2o_mem_clear_pool(&pool);
    return rows;
}

static void on_read(jobs_run_t *run, PGresult *result, const char *error)
{
    reindex_t *r = run->state;
    if (error != NULL || result == NULL) {
        jobs_run_fail(run, "reading posts: %s", error != NULL ? error : "no result");
        return;
    }
    int n = PQntuples(result);
    if (n == 0) {
        jobs_data_set_str(run, "phase", "index");
        jobs_run_next(run, HASHTAGS_PROGRESS);
        return;
    }
    r->scanned += n;
    jobs_data_set_int(run, "scanned", r->scanned);
    jobs_data_set_str(run, "cursor", PQgetvalue(result, n - 1, 0));
    json_t *rows = changed_rows(result);
    char *text = json_array_size(rows) > 0 ? json_dumps(rows, JSON_COMPACT) : NULL;
    json_decref(rows);
    if (text == NULL) {
        jobs_run_next(run, progress_of(r));
        return;
    }
    const char *params[] = {text};
    jobs_run_query(run,
                   "UPDATE Posts p SET Hashtags = v.h FROM json_to_recordset($1::json) AS v(id text, h text, m text)"
                   " WHERE p.Id = v.id AND md5(p.Message) = v.m AND p.Hashtags <> v.h",
                   1, params, on_updated);
    free(text);
}

static void step(jobs_run_t *run)
{
    if (in_index_phase(run)) {
        index_phase(run);
        return;
    }
    const char *cursor = jobs_data_str(run, "cursor");
    const char *params[] = {cursor != NULL ? cursor : "", REINDEX_BATCH};
    jobs_run_query(run,
                   "SELECT Id, Message, Hashtags, md5(Message) FROM Posts WHERE Id > $1 ORDER BY Id LIMIT $2::integer",
                   2, params, on_read);
}

static void on_unlocked(jobs_run_t *run, PGresult *result, const char *error)
{
    (void)result;
    const char *failure = ((reindex_t *)run->state)->index_error;
    if (failure != NULL)
        jobs_run_fail(run, "REINDEX INDEX CONCURRENTLY " SEARCH_INDEX ": %s", failure);
    else if (error != NULL)
        jobs_run_fail(run, "releasing the rebuild lock: %s", error); /* stale for the next one in 30 s */
    else
        jobs_run_succeed(run);
}

static void on_reindexed(jobs_run_t *run, PGresult *result, const char *error)
{
    reindex_t *r = run->state;
    if (error != NULL || result == NULL)
        r->index_error = strdup(error != NULL ? error : "no result");
    const char *params[] = {run->id};
    jobs_run_query(run, REINDEX_SQL_UNLOCK, 1, params, on_unlocked);
}

static void on_dropped(jobs_run_t *run, PGresult *result, const char *error)
{
    if (error != NULL || result == NULL) {
        jobs_run_fail(run, "dropping a failed build of " SEARCH_INDEX ": %s", error != NULL ? error : "no result");
        return;
    }
    find_leftovers(run); /* the next leftover, or the rebuild */
}

/* Only names the catalog gave us, checked once more before they go into SQL. */
static bool plain_name(const char *s)
{
    return strlen(s) < 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(s);
}

static void on_leftovers(jobs_run_t *run, PGresult *result, const char *error)
{
    if (error != NULL || result == NULL) {
        jobs_run_fail(run, "looking for failed builds of " SEARCH_INDEX ": %s", error != NULL ? error : "no result");
        return;
    }
    if (PQntuples(result) == 0) {
        jobs_run_query(run, "REINDEX INDEX CONCURRENTLY " SEARCH_INDEX, 0, NULL, on_reindexed);
        return;
    }
    const char *name = PQgetvalue(result, 0, 0);
    if (!plain_name(name)) {
        jobs_run_fail(run, "unexpected index name %s", name);
        return;
    }
    char sql[128];
    snprintf(sql, sizeof(sql), "DROP INDEX CONCURRENTLY IF EXISTS %s", name);
    log_info("job %s: dropping %s, left invalid by an interrupted rebuild", run->id, name);
    jobs_run_query(run, sql, 0, NULL, on_dropped);
}

static void find_leftovers(jobs_run_t *run)
{
    jobs_run_query(run,
                   "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                   " WHERE NOT i.indisvalid AND c.relname LIKE '" SEARCH_INDEX "\\_cc%' LIMIT 1",
                   0, NULL, on_leftovers);
}

static void on_locked(jobs_run_t *run, PGresult *result, const char *error)
{
    if (error != NULL || result == NULL) {
        jobs_run_fail(run, "taking the rebuild lock: %s", error != NULL ? error : "no result");
        return;
    }
    if (PQntuples(result) == 1) {
        run->pause_ms = REINDEX_PAUSE_MS;
        find_leftovers(run);
        return;
    }
    if (run->pause_ms != REINDEX_WAIT_MS)
        log_info("job %s: another search_index_rebuild holds the index: waiting for it", run->id);
    run->pause_ms = REINDEX_WAIT_MS;
    jobs_run_next(run, HASHTAGS_PROGRESS);
}

static void index_phase(jobs_run_t *run)
{
    const char *params[] = {run->id};
    jobs_run_query(run, REINDEX_SQL_LOCK, 1, params, on_locked);
}

static void on_counted(jobs_run_t *run, PGresult *result, const char *error)
{
    reindex_t *r = run->state;
    if (error != NULL || result == NULL || PQntuples(result) != 1) {
        jobs_run_fail(run, "counting posts: %s", error != NULL ? error : "no result");
        return;
    }
    r->total = strtoll(PQgetvalue(result, 0, 0), NULL, 10);
    jobs_data_set_int(run, "total", r->total);
    jobs_run_next(run, progress_of(r));
}

static void start(jobs_run_t *run)
{
    reindex_t *r = calloc(1, sizeof(*r));
    if (r == NULL) {
        jobs_run_fail(run, "out of memory");
        return;
    }
    run->state = r;
    run->pause_ms = REINDEX_PAUSE_MS;
    if (!jobs_data_int(run, "scanned", &r->scanned))
        r->scanned = 0;
    if (!jobs_data_int(run, "updated", &r->updated))
        r->updated = 0;
    if (in_index_phase(run) || jobs_data_int(run, "total", &r->total)) {
        step(run);
        return;
    }
    jobs_run_query(run, "SELECT count(*) FROM Posts", 0, NULL, on_counted);
}

static void dispose(jobs_run_t *run)
{
    if (run->state != NULL)
        free(((reindex_t *)run->state)->index_error);
    free(run->state);
    run->state = NULL;
}

const jobs_type_t jobs_type_reindex = {JOB_TYPE_SEARCH_INDEX_REBUILD, start, step, dispose};
