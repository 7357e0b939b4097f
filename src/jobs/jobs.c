/*
 * The jobs child's life: claim, run, hand back, stop.
 *
 * One h2o event loop with two small async libpq pools: `work` for the
 * statements of the job being run (a batch may take seconds), `control` for
 * the short bookkeeping statements (claims, heartbeats, the reaper, the
 * single-node scheduler) so that those never wait behind a batch.  A 10 ms
 * tick drives everything timed, as in the cluster child.
 *
 * Claiming.  When idle, every JOBS_POLL_MS, one statement takes the oldest
 * pending job: the inner SELECT ... FOR UPDATE SKIP LOCKED lets exactly one
 * of any number of concurrent claimers (on any node) lock a given row, and
 * the outer UPDATE makes it ours (in_progress, NodeId, Attempts + 1).
 *
 * Reaping.  Every JOBS_REAP_MS, any node hands back jobs whose runner has
 * been silent for JOBS_STALE_MS (its node died, was partitioned away, or its
 * jobs child crashed): pending again, to be resumed from its data; canceled
 * if a cancel was waiting; error once it has been claimed JOBS_MAX_ATTEMPTS
 * times, so a job that kills its runner cannot make it crash forever.
 * Activity is stamped and compared with the database's clock (JOBS_SQL_NOW).
 * This timeout is the last resort: when the cluster declares a node dead,
 * the leader hands its job over within seconds (schedule.h, jobs_handover).
 *
 * Scheduling.  With clustering off there is no cluster child and no leader
 * election: this node is the whole cluster and so its own leader, and its
 * jobs child runs the scheduler (schedule.h).  With clustering on, the
 * leader's cluster child does (src/cluster/scheduler.c).
 *
 * Stop (TERM/INT: the node stops; QUIT: a reload replaces us; the master's
 * death): no new claim; the statement in flight completes, then the job is
 * handed back; past JOBS_STOP_DEADLINE_MS we exit regardless and the reaper
 * of some node hands the job over.
 */
#include "jobs/jobs.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/child.h"
#include "core/clock.h"
#include "core/log.h"
#include "db/migrate.h"
#include "jobs/internal.h"
#include "store/job.h"

#define CONTROL_QUERY_TIMEOUT_MS 10000
#define WORK_QUERY_TIMEOUT_MS    (6LL * 3600 * 1000) /* a REINDEX of a large table */
#define KNOWN_TYPES              "{" JOB_TYPE_DATA_RETENTION "," JOB_TYPE_MESSAGE_EXPORT "," JOB_TYPE_SEARCH_INDEX_REBUILD "}"

static void jobs_stop(jobs_t *j, const char *why)
{
    if (j->stopping)
        return;
    log_info("stopping: %s", why);
    j->stopping = true;
    j->stop_deadline = clock_monotonic_ms() + JOBS_STOP_DEADLINE_MS;
}

static void on_claimed(void *data, PGresult *result, const char *error)
{
    jobs_t *j = data;
    j->claim_in_flight = false;
    if (j->disposing)
        return;
    if (error != NULL || result == NULL) {
        log_warn(0, "cannot claim a job: %s", error != NULL ? error : "no result");
        return;
    }
    /* claimed while a stop began: its first statement runs, then it is handed back */
    if (PQntuples(result) == 1)
        jobs_run_begin(j, result);
}

static void claim(jobs_t *j)
{
    const char *params[] = {j->node_id, KNOWN_TYPES};
    j->claim_in_flight = true;
    db_pool_query(j->control,
                  "UPDATE Jobs SET Status = '" JOB_STATUS_IN_PROGRESS "', NodeId = $1, Attempts = Attempts + 1,"
                  " StartAt = CASE WHEN StartAt = 0 THEN " JOBS_SQL_NOW " ELSE StartAt END,"
                  " LastActivityAt = " JOBS_SQL_NOW
                  " WHERE Id = (SELECT Id FROM Jobs WHERE Status = '" JOB_STATUS_PENDING "' AND Type = ANY($2::text[])"
                  " ORDER BY CreateAt, Id LIMIT 1 FOR UPDATE SKIP LOCKED) AND Status = '" JOB_STATUS_PENDING "'"
                  " RETURNING Id, Type, Data, Progress",
                  2, params, on_claimed, j);
}

static void on_reaped(void *data, PGresult *result, const char *error)
{
    jobs_t *j = data;
    j->reap_in_flight = false;
    if (j->disposing)
        return;
    if (error != NULL || result == NULL) {
        log_warn(0, "cannot look for abandoned jobs: %s", error != NULL ? error : "no result");
        return;
    }
    for (int i = 0; i < PQntuples(result); i++)
        log_warn(0, "job %s (%s): its runner on node %s was silent for %d s: now %s", PQgetvalue(result, i, 0),
                 PQgetvalue(result, i, 1), PQgetvalue(result, i, 2), JOBS_STALE_MS / 1000, PQgetvalue(result, i, 3));
}

static void reap(jobs_t *j)
{
    char stale[24], attempts[24];
    snprintf(stale, sizeof(stale), "%d", JOBS_STALE_MS);
    snprintf(attempts, sizeof(attempts), "%d", JOBS_MAX_ATTEMPTS);
    const char *params[] = {attempts, stale};
    j->reap_in_flight = true;
    /* SET expressions read the row as it was, so the CASEs see the old status */
    db_pool_query(j->control,
                  "WITH stale AS (SELECT Id, NodeId FROM Jobs WHERE Status IN ('" JOB_STATUS_IN_PROGRESS
                  "', '" JOB_STATUS_CANCEL_REQUESTED "') AND LastActivityAt < " JOBS_SQL_NOW " - $2::bigint"
                  " FOR UPDATE SKIP LOCKED)"
                  " UPDATE Jobs j SET " JOBS_SQL_ORPHAN_SET
                  " FROM stale WHERE j.Id = stale.Id RETURNING j.Id, j.Type, stale.NodeId, j.Status",
                  2, params, on_reaped, j);
}

static bool schema_ready(jobs_t *j)
{
    return schema_at_least(j->params->shm, SCHEMA_JOBS);
}

static void on_tick(h2o_timeout_entry_t *entry)
{
    jobs_t *j = H2O_STRUCT_FROM_MEMBER(jobs_t, tick, entry);
    int64_t now = clock_monotonic_ms();
    if (j->stopping) {
        jobs_run_release(j);
        if ((j->run == NULL && !j->claim_in_flight) || now >= j->stop_deadline)
            return; /* not relinked: the loop ends */
    } else if (schema_ready(j)) {
        if (j->run == NULL && !j->claim_in_flight && now >= j->next_poll_ms) {
            j->next_poll_ms = now + JOBS_POLL_MS;
            claim(j);
        }
        if (!j->reap_in_flight && now >= j->next_reap_ms) {
            j->next_reap_ms = now + JOBS_REAP_MS;
            reap(j);
        }
        if (!j->config->cluster.enable) /* a single node is its own leader */
            jobs_scheduler_tick(&j->scheduler, j->control, j->config, now);
    }
    jobs_run_tick(j, now);
    h2o_timeout_link(j->loop, &j->tick_timeout, &j->tick);
}

static void on_signal(void *data, const struct signalfd_siginfo *si)
{
    jobs_t *j = data;
    switch (si->ssi_signo) {
    case SIGTERM:
    case SIGINT: jobs_stop(j, "the node stops"); break;
    case SIGQUIT: jobs_stop(j, "replaced by a new jobs process"); break;
    case SIGUSR2: /* POST /database/recycle, forwarded by the master */
        log_info("recycling database connections");
        if (j->work != NULL)
            db_pool_recycle(j->work);
        if (j->control != NULL)
            db_pool_recycle(j->control);
        break;
    default: break;
    }
}

static void on_orphan(void *data)
{
    jobs_stop(data, "the master is gone");
}

static int jobs_setup(jobs_t *j)
{
    int rc;
    j->loop = h2o_evloop_create();
    memcpy(j->node_id, shm_region_header(j->params->shm)->node_id, sizeof(j->node_id));
    j->node_id[ID_LENGTH] = '\0';
    db_pool_options_t work = {.name = "jobs-work",
                              .conninfo = j->config->sql.data_source,
                              .max_conns = 1,
                              .query_timeout_ms = WORK_QUERY_TIMEOUT_MS,
                              .queue_max = 4,
                              .lifetime_ms = j->config->sql.conn_max_lifetime_milliseconds,
                              .idle_time_ms = j->config->sql.conn_max_idle_time_milliseconds};
    db_pool_options_t control = {.name = "jobs-control",
                                 .conninfo = j->config->sql.data_source,
                                 .max_conns = 1,
                                 .query_timeout_ms = CONTROL_QUERY_TIMEOUT_MS,
                                 .queue_max = 16,
                                 .lifetime_ms = j->config->sql.conn_max_lifetime_milliseconds,
                                 .idle_time_ms = j->config->sql.conn_max_idle_time_milliseconds};
    if ((rc = db_pool_create(&j->work, j->loop, &work)) != 0 ||
        (rc = db_pool_create(&j->control, j->loop, &control)) != 0) {
        log_error(-rc, "cannot create the jobs database pools");
        return rc;
    }
    h2o_timeout_init(j->loop, &j->tick_timeout, JOBS_TICK_MS);
    j->tick.cb = on_tick;
    h2o_timeout_link(j->loop, &j->tick_timeout, &j->tick);
    if ((rc = child_watch_start(&j->watch, j->loop, j->params->lifeline_fd, on_signal, on_orphan, j)) != 0) {
        log_error(-rc, "cannot watch signals");
        return rc;
    }
    return 0;
}

static void jobs_dispose(jobs_t *j)
{
    j->disposing = true; /* the pools fail what is queued: callbacks do nothing */
    jobs_run_drop(j);
    child_watch_stop(&j->watch);
    if (j->work != NULL)
        db_pool_destroy(j->work);
    if (j->control != NULL)
        db_pool_destroy(j->control);
}

int jobs_main(const child_params_t *params)
{
    static jobs_t jobs;
    jobs_t *j = &jobs;
    memset(j, 0, sizeof(*j));
    j->params = params;
    j->config = params->config;
    int rc = log_open(&j->config->log, "jobs");
    if (rc != 0)
        log_warn(-rc, "LogSettings.FileLocation: cannot open %s/jobs.log", log_directory(&j->config->log));
    if ((rc = jobs_setup(j)) != 0) {
        jobs_dispose(j);
        log_close();
        return 1;
    }
    if (control_send(params->control_fd, CONTROL_READY) != 0)
        log_warn(errno, "cannot tell the master we are ready");
    log_info("jobs process ready on node %s (%s)", j->node_id,
             j->config->cluster.enable      ? "the cluster leader schedules"
             : j->config->job.run_scheduler ? "this single node schedules"
                                            : "scheduler off");
    while (!j->stopping || h2o_timeout_is_linked(&j->tick))
        h2o_evloop_run(j->loop, INT32_MAX);
    if (j->run != NULL)
        log_warn(0, "job %s: still running at the stop deadline; another node takes it over in %d s", j->run->id,
                 JOBS_STALE_MS / 1000);
    jobs_dispose(j);
    log_info("jobs process exiting (%llu runs)", (unsigned long long)j->runs);
    log_close();
    return 0;
}
