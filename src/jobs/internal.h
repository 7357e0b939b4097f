/* The jobs child's context, one running job, and what each job type
 * implements. */
#ifndef CHORUS_JOBS_INTERNAL_H
#define CHORUS_JOBS_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "h2o.h"

#include "core/child.h"
#include "core/id.h"
#include "db/pool.h"
#include "jobs/jobs.h"
#include "jobs/schedule.h"

#define JOBS_TICK_MS          10
#define JOBS_POLL_MS          2000  /* look for a pending job this often when idle */
#define JOBS_REAP_MS          5000  /* look for jobs whose runner died this often */
#define JOBS_HEARTBEAT_MS     2000  /* a run's activity, progress and cancel check */
#define JOBS_STALE_MS         30000 /* a run silent this long is handed to another node */
#define JOBS_MAX_ATTEMPTS     3     /* claims of one job whose runner kept dying */
#define JOBS_STOP_DEADLINE_MS 5000  /* a stop waits this long for the statement in flight */

typedef struct jobs_s jobs_t;
typedef struct jobs_run_s jobs_run_t;

/* A job type's code.  `start` begins (or resumes, from run->data) a run;
 * `step` issues the next batch after a pause; `dispose` releases what the
 * run holds (an open file) whatever the outcome.  Each statement goes through
 * jobs_run_query; its callback ends with jobs_run_next, jobs_run_succeed or
 * jobs_run_fail. */
typedef struct {
    const char *type;
    void (*start)(jobs_run_t *run);
    void (*step)(jobs_run_t *run);
    void (*dispose)(jobs_run_t *run);
} jobs_type_t;

extern const jobs_type_t jobs_type_retention, jobs_type_export, jobs_type_reindex;

typedef void (*jobs_run_cb)(jobs_run_t *run, PGresult *result, const char *error);

struct jobs_run_s {
    jobs_t *j;
    const jobs_type_t *type;
    char id[ID_LENGTH + 1];
    json_t *data;                                    /* the job's Data (strings), saved with every heartbeat */
    int64_t progress;                                /* 0..100 */
    bool in_statement;                               /* a statement of the job is in flight */
    bool cancel;                                     /* a heartbeat saw cancel_requested */
    bool lost;                                       /* a heartbeat found the job no longer ours */
    bool ending;                                     /* the final update is in flight */
    int64_t resume_at;                               /* monotonic: when `step` runs next, 0 = not waiting */
    int64_t pause_ms;                                /* between batches, set by the type */
    int64_t statement_started_ms, last_statement_ms; /* the batch statement's duration */
    jobs_run_cb cb;                                  /* the statement in flight's */
    void *state;                                     /* the type's own */
};

struct jobs_s {
    const child_params_t *params;
    const config_t *config;
    h2o_evloop_t *loop;
    char node_id[ID_LENGTH + 1];
    bool stopping, disposing;
    int64_t stop_deadline;

    child_watch_t watch; /* signals and the master's lifeline */
    h2o_timeout_t tick_timeout;
    h2o_timeout_entry_t tick;

    db_pool_t *work;    /* the jobs' batches: long statements */
    db_pool_t *control; /* claims, heartbeats, the reaper, the scheduler: short ones */
    int64_t next_poll_ms, next_reap_ms, next_heartbeat_ms;
    bool claim_in_flight, reap_in_flight, heartbeat_in_flight, release_in_flight;
    jobs_run_t *run; /* NULL when idle */
    jobs_scheduler_t scheduler;
    uint64_t runs;
};

/* run.c: a run's life */
void jobs_run_begin(jobs_t *j, const PGresult *claimed);
void jobs_run_tick(jobs_t *j, int64_t now);
/* The run's statement: `cb` gets its outcome unless the process is going away. */
void jobs_run_query(jobs_run_t *run, const char *sql, int nparams, const char *const *params, jobs_run_cb cb);
/* A batch is done: pause, then `step` (or cancel, hand back, drop). */
void jobs_run_next(jobs_run_t *run, int64_t progress);
void jobs_run_succeed(jobs_run_t *run);
/* Ends the run with status error, progress -1 and data.error = reason. */
void jobs_run_fail(jobs_run_t *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The type ended the run itself (its own final statement): drop it. */
void jobs_run_end(jobs_run_t *run, const char *outcome);
/* Frees the run without another write (the process is going away). */
void jobs_run_drop(jobs_t *j);
/* Hands the job back (pending again, or canceled if cancel was asked) when
 * the process stops; the next claimer resumes it from its data. */
void jobs_run_release(jobs_t *j);

/* Data helpers: a string value, or a number kept as a string. */
const char *jobs_data_str(const jobs_run_t *run, const char *key);
bool jobs_data_int(const jobs_run_t *run, const char *key, int64_t *out);
void jobs_data_set_int(jobs_run_t *run, const char *key, int64_t value);
void jobs_data_set_str(jobs_run_t *run, const char *key, const char *value);

#endif
