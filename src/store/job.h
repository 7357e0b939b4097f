/*
 * The Jobs table and the Job model as Mattermost defines it (model/job.go):
 * the types chorus runs, the statuses a job goes through, the statements of
 * the jobs API and the row → Job JSON.  Shared by the API (which validates
 * what clients send) and the jobs child (which runs them: its own statements
 * live with their runners in src/jobs/).
 *
 *   pending ──claim──▶ in_progress ──▶ success | error
 *      │                    │
 *   cancel             cancel ──▶ cancel_requested ──runner──▶ canceled
 *      ▼
 *   canceled
 *
 * A job whose runner stops showing activity, or whose node the cluster
 * declares dead, goes back to pending (or, once cancel was requested, to
 * canceled): see jobs.c and schedule.h.
 */
#ifndef CHORUS_STORE_JOB_H
#define CHORUS_STORE_JOB_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <string.h>

#define JOB_TYPE_DATA_RETENTION       "data_retention"
#define JOB_TYPE_MESSAGE_EXPORT       "message_export"
#define JOB_TYPE_SEARCH_INDEX_REBUILD "search_index_rebuild" /* chorus's own */

#define JOB_STATUS_PENDING          "pending"
#define JOB_STATUS_IN_PROGRESS      "in_progress"
#define JOB_STATUS_SUCCESS          "success"
#define JOB_STATUS_ERROR            "error"
#define JOB_STATUS_CANCEL_REQUESTED "cancel_requested"
#define JOB_STATUS_CANCELED         "canceled"
#define JOB_STATUS_WARNING          "warning"

/* The database's clock in milliseconds: every node stamps and compares job
 * activity with it, so clock skew between nodes cannot make a live runner
 * look dead (or a dead one alive). */
#define JOBS_SQL_NOW "(extract(epoch from clock_timestamp()) * 1000)::bigint"

/* The SET list that takes a job away from a runner gone silent or dead
 * (`Jobs j`, read as the row was): pending again, to be resumed from its
 * data; canceled if a cancel was waiting, since nobody will honour it; error
 * once it has been claimed $1 (JOBS_MAX_ATTEMPTS) times, so a job that kills
 * its runner cannot make it crash forever.  Shared by the reaper (jobs.c) and
 * the leader's handover of a dead node's job (schedule.c), so both treat a
 * lost runner alike; in both statements $1 is the attempts limit. */
#define JOBS_SQL_ORPHAN_SET                                                                                   \
    "NodeId = '', Status = CASE WHEN j.Status = '" JOB_STATUS_CANCEL_REQUESTED "' THEN '" JOB_STATUS_CANCELED \
    "' WHEN j.Attempts >= $1::integer THEN '" JOB_STATUS_ERROR "' ELSE '" JOB_STATUS_PENDING "' END,"         \
    " Progress = CASE WHEN j.Status <> '" JOB_STATUS_CANCEL_REQUESTED "' AND j.Attempts >= $1::integer"       \
    " THEN -1 ELSE j.Progress END,"                                                                           \
    " Data = CASE WHEN j.Status <> '" JOB_STATUS_CANCEL_REQUESTED "' AND j.Attempts >= $1::integer"           \
    " THEN j.Data || jsonb_build_object('error', 'its runner stopped ' || j.Attempts ||"                      \
    " ' times without finishing it') ELSE j.Data END"

/* The columns of a Job, in the order job_to_json reads them. */
#define JOBS_COLUMNS "Id, Type, Priority, CreateAt, StartAt, LastActivityAt, Status, Progress, Data"

/* POST /jobs: $1 id, $2 type, $3 data (a jsonb object of strings). */
#define JOBS_SQL_CREATE                                                                                          \
    "INSERT INTO Jobs (Id, Type, CreateAt, Status, Data) VALUES ($1, $2, " JOBS_SQL_NOW ", '" JOB_STATUS_PENDING \
    "', $3::jsonb) RETURNING " JOBS_COLUMNS

/* A page of jobs, newest first: $1 type and $2 status (NULL: any), $3 limit,
 * $4 offset. */
#define JOBS_SQL_PAGE                                                         \
    "SELECT " JOBS_COLUMNS " FROM Jobs WHERE ($1::text IS NULL OR Type = $1)" \
    " AND ($2::text IS NULL OR Status = $2) ORDER BY CreateAt DESC, Id LIMIT $3::bigint OFFSET $4::bigint"

/* $1 id. */
#define JOBS_SQL_BY_ID  "SELECT " JOBS_COLUMNS " FROM Jobs WHERE Id = $1"
#define JOBS_SQL_EXISTS "SELECT Id FROM Jobs WHERE Id = $1"

/* Cancel $1: pending → canceled at once, in_progress → cancel_requested (its
 * runner finishes the cancel); no row for any other status.  Returns the new
 * Status. */
#define JOBS_SQL_CANCEL                                                                                         \
    "UPDATE Jobs SET Status = CASE Status WHEN '" JOB_STATUS_PENDING "' THEN '" JOB_STATUS_CANCELED             \
    "' ELSE '" JOB_STATUS_CANCEL_REQUESTED "' END,"                                                             \
    " LastActivityAt = CASE Status WHEN '" JOB_STATUS_PENDING "' THEN " JOBS_SQL_NOW " ELSE LastActivityAt END" \
    " WHERE Id = $1 AND Status IN ('" JOB_STATUS_PENDING "', '" JOB_STATUS_IN_PROGRESS "') RETURNING Status"

/* Mattermost's Job JSON from `row` of a JOBS_COLUMNS result; Data, a string
 * map, is an empty object when the row holds anything else. */
json_t *job_to_json(const PGresult *res, int row);

/* A type chorus can run (what POST /jobs accepts). */
static inline bool job_type_known(const char *type)
{
    return strcmp(type, JOB_TYPE_DATA_RETENTION) == 0 || strcmp(type, JOB_TYPE_MESSAGE_EXPORT) == 0 ||
           strcmp(type, JOB_TYPE_SEARCH_INDEX_REBUILD) == 0;
}

static inline bool job_status_known(const char *status)
{
    static const char *const all[] = {JOB_STATUS_PENDING, JOB_STATUS_IN_PROGRESS,      JOB_STATUS_SUCCESS,
                                      JOB_STATUS_ERROR,   JOB_STATUS_CANCEL_REQUESTED, JOB_STATUS_CANCELED,
                                      JOB_STATUS_WARNING};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (strcmp(status, all[i]) == 0)
            return true;
    return false;
}

#endif
