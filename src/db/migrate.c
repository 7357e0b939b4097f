/*
 * Running migrations.
 *
 * This runs in a child of its own, which may block: the master must not
 * (it supervises) and workers must not (they serve).  The child connects,
 * retrying with backoff for as long as the database is unreachable (logging
 * each failure, never exiting in a loop).  Each migration runs in a
 * transaction of its own together with the row that records it in
 * chorus_migrations, so a crash leaves either both or neither; the
 * transaction first takes a transaction-level advisory lock shared by every
 * chorus process on the database, then reads the version: the first node to
 * get the lock applies the next migration, the others wait, then find it
 * done.  A transaction-level lock (not a session's pg_advisory_lock) so that
 * a transaction pooler in front, which may give each transaction another
 * server session, keeps it and releases it with the transaction.
 */
#include "db/migrate.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/backoff.h"
#include "core/child.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/text.h"

/* "chorus" in ASCII: the advisory lock key every node agrees on. */
#define MIGRATE_LOCK_KEY       "109520227464563"
#define MIGRATE_BACKOFF_MIN_MS 1000
#define MIGRATE_BACKOFF_MAX_MS 30000

static void on_notice(void *arg, const char *message)
{
    (void)arg;
    log_debug("database notice: %.*s", (int)strcspn(message, "\n"), message);
}

static PGconn *connect_with_backoff(const config_t *config)
{
    for (unsigned failures = 0;; failures++) {
        /* keepalives as the pools' (pool.c): a lock wait may be long */
        const char *keys[] = {
            "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "dbname", "application_name",
            NULL};
        const char *values[] = {"1", "60", "10", "3", config->sql.data_source, "chorus-migrate", NULL};
        PGconn *pg = PQconnectdbParams(keys, values, 1);
        if (pg != NULL && PQstatus(pg) == CONNECTION_OK) {
            PQsetNoticeProcessor(pg, on_notice, NULL);
            return pg;
        }
        const char *msg = pg != NULL ? PQerrorMessage(pg) : "out of memory";
        char line[512];
        snprintf(line, sizeof(line), "%s", msg);
        line[strcspn(line, "\n")] = '\0';
        unsigned delay = (unsigned)(backoff_delay_ms(MIGRATE_BACKOFF_MIN_MS, MIGRATE_BACKOFF_MAX_MS, failures) / 1000);
        log_warn(0, "SqlSettings.DataSource: database unreachable, migrations retry in %u s: %s", delay, line);
        PQfinish(pg);
        sleep(delay);
    }
}

/* Runs one statement; logs and returns -1 on failure. */
static int run(PGconn *pg, const char *sql, int nparams, const char *const *params, PGresult **out)
{
    /* a migration is several statements: only the simple protocol runs those */
    PGresult *res = nparams == 0 ? PQexec(pg, sql) : PQexecParams(pg, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        char line[512];
        snprintf(line, sizeof(line), "%s", PQresultErrorMessage(res));
        line[strcspn(line, "\n")] = '\0';
        log_error(0, "migration statement failed: %s", line);
        PQclear(res);
        return -1;
    }
    if (out != NULL)
        *out = res;
    else
        PQclear(res);
    return 0;
}

static int applied_version(PGconn *pg, unsigned *version)
{
    PGresult *res;
    if (run(pg, "SELECT COALESCE(MAX(Version), 0) FROM chorus_migrations", 0, NULL, &res) != 0)
        return -1;
    *version = (unsigned)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

static int apply(PGconn *pg, const migration_t *m)
{
    char version[16], now[TEXT_INT64_SIZE];
    snprintf(version, sizeof(version), "%u", m->version);
    text_int64(now, clock_now_ms());
    const char *params[] = {version, m->name, now};
    if (run(pg, m->sql, 0, NULL, NULL) != 0 ||
        run(pg, "INSERT INTO chorus_migrations (Version, Name, AppliedAt) VALUES ($1, $2, $3)", 3, params, NULL) != 0 ||
        run(pg, "COMMIT", 0, NULL, NULL) != 0)
        return -1;
    log_info("applied migration %u: %s", m->version, m->name);
    return 0;
}

/* Applies the first migration past the schema's version, if any, under the
 * lock; *version is the schema's version after it.  The first call also
 * creates the table of versions.  1 when there was none left. */
static int migrate_next(PGconn *pg, unsigned *version, bool first)
{
    if (run(pg, "BEGIN", 0, NULL, NULL) != 0)
        return -1;
    int64_t waited = clock_monotonic_ms();
    if (run(pg, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")", 0, NULL, NULL) != 0)
        goto failed;
    waited = clock_monotonic_ms() - waited;
    if (waited > 100)
        log_info("waited %lld ms for another node's migrations", (long long)waited);
    if ((first && run(pg,
                      "CREATE TABLE IF NOT EXISTS chorus_migrations ("
                      "  Version integer PRIMARY KEY, Name varchar(128) NOT NULL, AppliedAt bigint NOT NULL)",
                      0, NULL, NULL) != 0) ||
        applied_version(pg, version) != 0)
        goto failed;
    const migration_t *m = NULL;
    for (unsigned i = 0; i < migrations_count && m == NULL; i++)
        if (migrations[i].version > *version)
            m = &migrations[i];
    if (m == NULL)
        return run(pg, "COMMIT", 0, NULL, NULL) != 0 ? -1 : 1;
    if (apply(pg, m) != 0)
        goto failed;
    *version = m->version;
    return 0;
failed:
    run(pg, "ROLLBACK", 0, NULL, NULL);
    return -1;
}

int migrate_main(const child_params_t *params)
{
    int rc = log_open(&params->config->log, "migrate");
    if (rc != 0)
        log_warn(-rc, "LogSettings.FileLocation: cannot open migrate.log");
    PGconn *pg = connect_with_backoff(params->config);
    unsigned version = 0;
    for (bool first = true; (rc = migrate_next(pg, &version, first)) == 0; first = false)
        ;
    PQfinish(pg);
    if (rc < 0)
        return 1;
    __atomic_store_n(&shm_region_header(params->shm)->schema_version, version, __ATOMIC_RELEASE);
    log_info("schema at version %u", version);
    control_send(params->control_fd, CONTROL_SCHEMA_READY);
    return 0;
}
