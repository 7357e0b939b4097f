/*
 * message_export: the compliance export.  Each run writes the posts created
 * since the last successful export as one CSV file (RFC 4180, Mattermost's
 * compliance columns) into ComplianceSettings.Directory, a directory every
 * node shares.
 *
 * Exactly once.  ComplianceExportCursor holds ExportedUntil: every post with
 * CreateAt <= it has been exported.  A run exports (from, until], where
 * from is the cursor when the run first starts and until is that moment
 * minus EXPORT_SETTLE_MS (a post is stamped by its worker before its insert
 * commits; the margin lets those commits land).  Both are kept in the job's
 * data, so a run resumed elsewhere rewrites the same file.  The file is
 * written under a temporary name of this node, fsynced and renamed, and only
 * then one statement moves the cursor from `from` to `until` (compare and
 * set) and marks the job a success.  So: a run that dies before that
 * statement leaves the cursor where it was and its resumption rewrites the
 * same file; two runs over the same range (two exports asked for at once)
 * cannot both move the cursor, and the loser deletes its file and ends in
 * error.  Nothing is exported twice or skipped.
 *
 * System posts (joins, header changes...) are not exported, as
 * SqlComplianceStore.MessageExport leaves them out.
 *
 * The file I/O is ordinary blocking I/O on this process's loop: the jobs
 * child serves nothing else, and the heartbeat waits at most one batch.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/text.h"
#include "jobs/csv.h"
#include "jobs/internal.h"
#include "store/job.h"

/* SQL: the post type `type` is not a system post's (system_...). */
#define EXPORT_NOT_SYSTEM(type) type " NOT LIKE 'system\\_%'"

#define EXPORT_SETTLE_MS 5000
#define EXPORT_COLUMNS   21

static const char *const header[EXPORT_COLUMNS] = {
    "TeamName",     "TeamDisplayName", "ChannelName",    "ChannelDisplayName", "ChannelType",  "UserUsername",
    "UserEmail",    "UserNickname",    "PostId",         "PostCreateAt",       "PostUpdateAt", "PostDeleteAt",
    "PostRootId",   "PostParentId",    "PostOriginalId", "PostMessage",        "PostType",     "PostProps",
    "PostHashtags", "PostFileIds",     "UserType"};

#define RFC3339(col) "to_char(to_timestamp(" col " / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

typedef struct {
    int64_t from, until, total, exported;
    int64_t last_create_at; /* the keyset cursor within the run */
    char last_id[ID_LENGTH + 1];
    char tmp_path[4096], final_path[4096];
    FILE *f;
    bool renamed;
} export_t;

static void fail_io(jobs_run_t *run, const char *what, const char *path, int err)
{
    jobs_run_fail(run, "ComplianceSettings.Directory: cannot %s %s: %s", what, path, strerror(err));
}

/* Temporary files of this job left by runners that died (any node's). */
static void remove_stale_temporaries(jobs_run_t *run, const char *dir)
{
    char prefix[64];
    snprintf(prefix, sizeof(prefix), ".message_export-%s.csv.", run->id);
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && unlinkat(dirfd(d), e->d_name, 0) != 0)
            log_warn(errno, "job %s: cannot remove %s/%s", run->id, dir, e->d_name);
    }
    closedir(d);
}

static int write_row(FILE *f, const PGresult *result, int row)
{
    int rc = 0;
    for (int c = 0; c < EXPORT_COLUMNS && rc == 0; c++)
        rc = jobs_csv_field(f, PQgetvalue(result, row, c), (size_t)PQgetlength(result, row, c), c == 0);
    return rc == 0 ? jobs_csv_end_row(f) : rc;
}

static void on_completed(jobs_run_t *run, PGresult *result, const char *error)
{
    export_t *x = run->state;
    if (error != NULL || result == NULL || PQntuples(result) != 1) {
        /* not committed: a resumed run rewrites the same file */
        jobs_run_fail(run, "recording the export: %s", error != NULL ? error : "no result");
        return;
    }
    bool owned = PQgetvalue(result, 0, 0)[0] == '1', moved = PQgetvalue(result, 0, 1)[0] == '1';
    if (!owned) { /* the new owner writes the same file: leave it */
        jobs_run_end(run, "dropped at the end: another node owns it now");
        return;
    }
    if (!moved) {
        if (unlink(x->final_path) != 0)
            log_warn(errno, "job %s: cannot remove %s", run->id, x->final_path);
        jobs_run_fail(run, "another export moved the cursor past %lld first: its file holds these posts",
                      (long long)x->from);
        return;
    }
    jobs_run_end(run, "success");
}

static void complete(jobs_run_t *run)
{
    export_t *x = run->state;
    jobs_data_set_int(run, "exported", x->exported);
    jobs_data_set_str(run, "file", x->final_path);
    char from[TEXT_INT64_SIZE], until[TEXT_INT64_SIZE], *data = json_dumps(run->data, JSON_COMPACT);
    if (data == NULL) {
        jobs_run_fail(run, "out of memory");
        return;
    }
    text_int64(from, x->from);
    text_int64(until, x->until);
    const char *params[] = {run->id, run->j->node_id, from, until, data};
    jobs_run_query(
        run,
        "WITH j0 AS (SELECT Id FROM Jobs WHERE Id = $1 AND NodeId = $2 AND Status IN ('" JOB_STATUS_IN_PROGRESS
        "', '" JOB_STATUS_CANCEL_REQUESTED "') FOR UPDATE),"
        " c AS (UPDATE ComplianceExportCursor SET ExportedUntil = $4::bigint, JobId = $1,"
        " UpdateAt = " JOBS_SQL_NOW " WHERE Name = '" JOB_TYPE_MESSAGE_EXPORT "'"
        " AND ExportedUntil = $3::bigint AND EXISTS (SELECT 1 FROM j0) RETURNING 1),"
        " j AS (UPDATE Jobs SET Status = '" JOB_STATUS_SUCCESS "', Progress = 100, Data = $5::jsonb,"
        " LastActivityAt = " JOBS_SQL_NOW " WHERE Id IN (SELECT Id FROM j0) AND EXISTS (SELECT 1 FROM c)"
        " RETURNING 1)"
        " SELECT (SELECT count(*) FROM j0), (SELECT count(*) FROM c), (SELECT count(*) FROM j)",
        5, params, on_completed);
    free(data);
}

/* fsync, rename into place, fsync the directory: the file exists whole or not at all. */
static void publish_file(jobs_run_t *run)
{
    export_t *x = run->state;
    FILE *f = x->f;
    x->f = NULL;
    int err = fflush(f) != 0 || fsync(fileno(f)) != 0 ? errno : 0;
    if (fclose(f) != 0 && err == 0)
        err = errno;
    if (err != 0) {
        fail_io(run, "write", x->tmp_path, err);
        return;
    }
    if (rename(x->tmp_path, x->final_path) != 0) {
        fail_io(run, "rename into", x->final_path, errno);
        return;
    }
    x->renamed = true;
    int dfd = open(run->j->config->compliance.directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        if (fsync(dfd) != 0)
            log_warn(errno, "job %s: fsync of %s", run->id, run->j->config->compliance.directory);
        close(dfd);
    }
    complete(run);
}

static void on_batch(jobs_run_t *run, PGresult *result, const char *error)
{
    export_t *x = run->state;
    if (error != NULL || result == NULL) {
        jobs_run_fail(run, "reading posts: %s", error != NULL ? error : "no result");
        return;
    }
    int n = PQntuples(result);
    for (int i = 0; i < n; i++) {
        if (write_row(x->f, result, i) != 0) {
            fail_io(run, "write", x->tmp_path, errno != 0 ? errno : EIO);
            return;
        }
    }
    x->exported += n;
    if (n > 0) {
        x->last_create_at = strtoll(PQgetvalue(result, n - 1, EXPORT_COLUMNS), NULL, 10);
        snprintf(x->last_id, sizeof(x->last_id), "%s", PQgetvalue(result, n - 1, 8));
    }
    if (n < run->j->config->compliance.batch_size) {
        publish_file(run);
        return;
    }
    int64_t p = x->total > 0 ? x->exported * 99 / x->total : 0;
    jobs_run_next(run, p > 99 ? 99 : p);
}

static void step(jobs_run_t *run)
{
    export_t *x = run->state;
    char from[TEXT_INT64_SIZE], until[TEXT_INT64_SIZE], after[TEXT_INT64_SIZE], limit[TEXT_INT64_SIZE];
    text_int64(from, x->from);
    text_int64(until, x->until);
    text_int64(after, x->last_create_at);
    text_int64(limit, run->j->config->compliance.batch_size);
    const char *params[] = {from, until, after, x->last_id, limit};
    jobs_run_query(
        run,
        "SELECT COALESCE(t.Name, ''), COALESCE(t.DisplayName, ''), COALESCE(c.Name, ''), COALESCE(c.DisplayName, ''),"
        " COALESCE(c.Type, ''), COALESCE(u.Username, ''), COALESCE(u.Email, ''), COALESCE(u.Nickname, ''), p.Id,"
        " " RFC3339("p.CreateAt") ", " RFC3339(
            "p.UpdateAt") ","
                          " CASE WHEN p.DeleteAt > 0 THEN " RFC3339(
                              "p.DeleteAt") " ELSE '' END,"
                                            " p.RootId, p.RootId, p.OriginalId, p.Message, p.Type, p.Props::text, "
                                            "p.Hashtags, p.FileIds,"
                                            " CASE WHEN u.IsBot THEN 'bot' ELSE 'user' END, p.CreateAt"
                                            " FROM Posts p LEFT JOIN Channels c ON c.Id = p.ChannelId LEFT JOIN Teams "
                                            "t ON t.Id = c.TeamId"
                                            " LEFT JOIN Users u ON u.Id = p.UserId"
                                            " WHERE p.CreateAt > $1::bigint AND p.CreateAt <= $2::bigint AND "
                                            "(p.CreateAt, p.Id) > ($3::bigint, $4) AND " EXPORT_NOT_SYSTEM(
                                                "p.Type") " ORDER BY p.CreateAt, p.Id LIMIT $5::bigint",
        5, params, on_batch);
}

/* The directory (created if missing), this node's temporary file, the header. */
static bool open_file(jobs_run_t *run)
{
    export_t *x = run->state;
    const char *dir = run->j->config->compliance.directory;
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        fail_io(run, "create the directory", dir, errno);
        return false;
    }
    remove_stale_temporaries(run, dir);
    const char *sep = dir[0] != '\0' && dir[strlen(dir) - 1] == '/' ? "" : "/";
    snprintf(x->final_path, sizeof(x->final_path), "%s%smessage_export-%s.csv", dir, sep, run->id);
    snprintf(x->tmp_path, sizeof(x->tmp_path), "%s%s.message_export-%s.csv.%s.tmp", dir, sep, run->id, run->j->node_id);
    int fd = open(x->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0 || (x->f = fdopen(fd, "w")) == NULL) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        fail_io(run, "create", x->tmp_path, err); /* dispose removes what was created */
        return false;
    }
    int rc = 0;
    for (int c = 0; c < EXPORT_COLUMNS && rc == 0; c++)
        rc = jobs_csv_field(x->f, header[c], strlen(header[c]), c == 0);
    if (rc != 0 || jobs_csv_end_row(x->f) != 0) {
        fail_io(run, "write", x->tmp_path, EIO);
        return false;
    }
    return true;
}

static void on_counted(jobs_run_t *run, PGresult *result, const char *error)
{
    export_t *x = run->state;
    if (error != NULL || result == NULL || PQntuples(result) != 1) {
        jobs_run_fail(run, "counting posts: %s", error != NULL ? error : "no result");
        return;
    }
    x->total = strtoll(PQgetvalue(result, 0, 0), NULL, 10);
    if (open_file(run))
        step(run);
}

static void count(jobs_run_t *run)
{
    export_t *x = run->state;
    char from[TEXT_INT64_SIZE], until[TEXT_INT64_SIZE];
    text_int64(from, x->from);
    text_int64(until, x->until);
    const char *params[] = {from, until};
    jobs_run_query(run,
                   "SELECT count(*) FROM Posts WHERE CreateAt > $1::bigint AND CreateAt <= $2::bigint"
                   " AND " EXPORT_NOT_SYSTEM("Type"),
                   2, params, on_counted);
}

static void on_cursor(jobs_run_t *run, PGresult *result, const char *error)
{
    export_t *x = run->state;
    if (error != NULL || result == NULL || PQntuples(result) != 1) {
        jobs_run_fail(run, "reading the export cursor: %s", error != NULL ? error : "no row");
        return;
    }
    x->from = strtoll(PQgetvalue(result, 0, 0), NULL, 10);
    x->until = clock_now_ms() - EXPORT_SETTLE_MS;
    if (x->until < x->from)
        x->until = x->from;
    jobs_data_set_int(run, "exported_from", x->from);
    jobs_data_set_int(run, "exported_until", x->until);
    count(run);
}

static void start(jobs_run_t *run)
{
    export_t *x = calloc(1, sizeof(*x));
    if (x == NULL) {
        jobs_run_fail(run, "out of memory");
        return;
    }
    run->state = x;
    if (!run->j->config->compliance.enable) {
        jobs_run_fail(run, "ComplianceSettings.Enable is false: no export is written");
        return;
    }
    x->last_create_at = -1;
    if (jobs_data_int(run, "exported_from", &x->from) && jobs_data_int(run, "exported_until", &x->until)) {
        count(run); /* resumed: the same range, the same file */
        return;
    }
    jobs_run_query(run, "SELECT ExportedUntil FROM ComplianceExportCursor WHERE Name = '" JOB_TYPE_MESSAGE_EXPORT "'",
                   0, NULL, on_cursor);
}

static void dispose(jobs_run_t *run)
{
    export_t *x = run->state;
    if (x == NULL)
        return;
    if (x->f != NULL)
        fclose(x->f);
    if (!x->renamed && x->tmp_path[0] != '\0' && unlink(x->tmp_path) != 0 && errno != ENOENT)
        log_warn(errno, "job %s: cannot remove %s", run->id, x->tmp_path);
    free(x);
    run->state = NULL;
}

const jobs_type_t jobs_type_export = {JOB_TYPE_MESSAGE_EXPORT, start, step, dispose};
