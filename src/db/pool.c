/*
 * Asynchronous PostgreSQL connection pool, one per worker and data source.
 *
 * Connections are opened on demand up to `max_conns` with PQconnectStart /
 * PQconnectPoll, and each libpq socket is watched by the worker's h2o loop
 * (a dup'd fd with H2O_SOCKET_FLAG_DONT_READ, so h2o only notifies and libpq
 * does all the reading).  Queries wait in a FIFO until a connection is idle.
 *
 * Failure rules, chosen so a dead database costs milliseconds, not hangs:
 * - a query never waits longer than query_timeout_ms, queued or in flight;
 *   one that times out in flight takes its connection down with it, since
 *   the server may be unreachable and PQcancel would block;
 * - when a connection attempt fails and no connection is left, every queued
 *   query fails at once with libpq's message, and new queries fail at once
 *   until the reconnect backoff (100 ms doubling to 5 s) has passed;
 * - the queue is bounded (queue_max): beyond it a query fails immediately.
 * statement_timeout is set on every connection from the same timeout (and
 * jit off: its planning cost dwarfs chat queries), so the server gives up on
 * a slow statement too.  They go as the startup `options`, which a pooler
 * (PgBouncer) refuses: then the pool connects again without them, at once,
 * and from then on; through a pooler they are the server's own settings
 * (docs/operating.md, Connection poolers).  A SET would not do: through a
 * transaction pooler it would change whichever server session ran it, for
 * whoever gets that session next.  Nothing else chorus sends outlives its
 * transaction, so a transaction pooler may hand each one to any session.
 *
 * Idle connections close as SqlSettings asks (MaxIdleConns,
 * ConnMaxLifetimeMilliseconds, ConnMaxIdleTimeMilliseconds): checked when a
 * query leaves one idle and once a second.
 *
 * With `prepare` (SqlSettings.PrepareStatements), each connection prepares a
 * statement the first time it runs it (named by a hash of its text) and
 * executes it prepared from then on: PostgreSQL then plans it once per
 * connection instead of on every call, and planning was most of the cost of
 * the web app's reads (the post list around the first unread plans in ~2 ms
 * and runs in ~1).  The first run costs one more round trip.  A statement
 * whose plan a schema change outdated runs again unnamed and its connection
 * retires; one that vanished (a transaction pooler that does not carry
 * prepared statements, PgBouncer before 1.21) turns preparing off for the
 * pool.
 *
 * Recycling (manual failover, POST /database/recycle) bumps the pool's
 * generation: idle and connecting connections close at once, a busy one
 * closes as soon as its query completes, and what comes next opens new ones.
 */
#include "db/pool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/backoff.h"
#include "core/clock.h"
#include "core/log.h"

#define DB_POOL_CONNS_MAX 256
#define DB_BACKOFF_MIN_MS 100
#define DB_BACKOFF_MAX_MS 5000
/* Statements one connection keeps prepared; beyond, they run unnamed (chorus
 * sends a few hundred distinct ones; the bound keeps a server's backends
 * small should some caller ever build SQL text per call). */
#define DB_PREPARED_MAX 1024
/* An idle connection beyond MaxIdleConns closes after this long idle. */
#define DB_IDLE_GRACE_MS 10000
#define DB_SWEEP_MS      1000

typedef enum { CONN_CLOSED, CONN_CONNECTING, CONN_IDLE, CONN_BUSY } conn_state_t;

typedef struct {
    db_pool_t *pool;
    conn_state_t state;
    PGconn *pg;
    h2o_socket_t *watch;
    int watched_fd; /* PQsocket() the watcher was made for */
    bool write_armed;
    db_query_t *query;   /* in flight */
    PGresult *result;    /* last result of the query in flight */
    unsigned generation; /* the pool's generation when it was opened */
    bool preparing;      /* the query in flight is being prepared first */
    bool ran_prepared;   /* ... or was sent as a prepared statement */
    bool stale;          /* its prepared statements outlived a schema change */
    uint64_t *prepared;  /* open addressing, DB_PREPARED_MAX slots, 0 free */
    unsigned nprepared;
    int64_t opened_ms, idle_since_ms; /* monotonic: ConnMaxLifetime, ConnMaxIdleTime */
    bool sent_settings;               /* it was opened with the startup `options` */
} db_conn_t;

struct db_query_s {
    db_pool_t *pool;
    h2o_linklist_t link; /* in the pool's queue while waiting */
    h2o_timeout_entry_t timeout;
    db_conn_t *conn; /* while in flight */
    db_query_cb cb;  /* NULL once cancelled */
    void *data;
    char *sql;
    uint64_t sql_hash; /* the prepared statement's name; 0 without `prepare` */
    int nparams;
    char **params;
    bool submitting; /* inside db_pool_query: finish without freeing */
    bool finished;
};

struct db_pool_s {
    h2o_loop_t *loop;
    db_pool_options_t options;
    char *name, *conninfo, *settings;
    bool send_settings; /* until a pooler refuses them (pool.c's head) */
    h2o_linklist_t queue;
    unsigned queued;
    h2o_timeout_t query_timeout;
    db_conn_t conns[DB_POOL_CONNS_MAX];
    int64_t retry_at;          /* monotonic ms: no connection attempt before */
    unsigned connect_failures; /* in a row: the backoff */
    char last_error[256];
    bool reachable;
    unsigned generation;         /* db_pool_recycle: older connections are retired */
    h2o_timeout_t sweep_timeout; /* idle connections past their time close */
    h2o_timeout_entry_t sweep;
    uint64_t queries, failures, timeouts;
};

static void pool_dispatch(db_pool_t *pool);
static void conn_close(db_conn_t *conn);
static void conn_retire_if_due(db_conn_t *conn, int64_t now);

static void query_free(db_query_t *q)
{
    for (int i = 0; i < q->nparams; i++)
        free(q->params[i]);
    free(q->params);
    free(q->sql);
    free(q);
}

/* Delivers the outcome once and frees the query. */
const char db_pool_error_timeout[] = "query timed out";

static void query_finish(db_query_t *q, PGresult *result, const char *error)
{
    h2o_timeout_unlink(&q->timeout);
    if (h2o_linklist_is_linked(&q->link)) {
        h2o_linklist_unlink(&q->link);
        q->pool->queued--;
    }
    if (error != NULL && result == NULL)
        q->pool->failures++;
    db_query_cb cb = q->cb;
    q->cb = NULL;
    if (cb != NULL)
        cb(q->data, result, error);
    if (q->submitting)
        q->finished = true;
    else
        query_free(q);
}

static void fail_queue(db_pool_t *pool, const char *error)
{
    while (!h2o_linklist_is_empty(&pool->queue)) {
        db_query_t *q = H2O_STRUCT_FROM_MEMBER(db_query_t, link, pool->queue.next);
        query_finish(q, NULL, error);
    }
}

static unsigned count_state(const db_pool_t *pool, conn_state_t state)
{
    unsigned n = 0;
    for (unsigned i = 0; i < pool->options.max_conns; i++)
        n += pool->conns[i].state == state;
    return n;
}

static void on_query_timeout(h2o_timeout_entry_t *entry)
{
    db_query_t *q = H2O_STRUCT_FROM_MEMBER(db_query_t, timeout, entry);
    db_pool_t *pool = q->pool;
    pool->timeouts++;
    log_warn(0, "database %s: query timed out after %lld ms", pool->name, (long long)pool->options.query_timeout_ms);
    db_conn_t *conn = q->conn;
    if (conn != NULL) {
        conn->query = NULL;
        conn_close(conn);
    }
    query_finish(q, NULL, db_pool_error_timeout);
    pool_dispatch(pool);
}

static void conn_unwatch(db_conn_t *conn)
{
    if (conn->watch != NULL) {
        h2o_socket_read_stop(conn->watch);
        h2o_socket_close(conn->watch); /* closes our dup, not libpq's fd */
        conn->watch = NULL;
    }
    conn->write_armed = false;
    conn->watched_fd = -1;
}

/* Closes a connection; a query in flight on it fails. */
static void conn_close(db_conn_t *conn)
{
    db_query_t *q = conn->query;
    conn->query = NULL;
    conn_unwatch(conn);
    if (conn->result != NULL)
        PQclear(conn->result);
    conn->result = NULL;
    if (conn->pg != NULL)
        PQfinish(conn->pg);
    conn->pg = NULL;
    conn->state = CONN_CLOSED;
    conn->preparing = false;
    conn->ran_prepared = false;
    conn->stale = false;
    free(conn->prepared); /* they lived in the server's session */
    conn->prepared = NULL;
    conn->nprepared = 0;
    if (q != NULL) {
        q->conn = NULL;
        query_finish(q, NULL, "database connection lost");
    }
}

static void conn_failed(db_conn_t *conn, const char *what)
{
    db_pool_t *pool = conn->pool;
    const char *msg = conn->pg != NULL ? PQerrorMessage(conn->pg) : "out of memory";
    snprintf(pool->last_error, sizeof(pool->last_error), "%s", msg);
    size_t len = strlen(pool->last_error);
    while (len > 0 && (pool->last_error[len - 1] == '\n' || pool->last_error[len - 1] == ' '))
        pool->last_error[--len] = '\0';
    bool was_connecting = conn->state == CONN_CONNECTING;
    conn_close(conn);
    if (was_connecting && conn->sent_settings && strstr(pool->last_error, "unsupported startup parameter") != NULL) {
        /* PgBouncer's answer to `options`: a pooler is in front; connect
         * again at once without them (on_connect_io dispatches).  Each of a
         * burst of connections opened together is refused the same way. */
        if (pool->send_settings)
            log_warn(0,
                     "database %s: the server refused the startup settings (%s): a connection pooler? connecting "
                     "without them from now on; statement_timeout and jit are the server's own "
                     "(docs/operating.md, Connection poolers)",
                     pool->name, pool->last_error);
        pool->send_settings = false;
        return;
    }
    if (!was_connecting) {
        log_warn(0, "database %s: connection %s: %s", pool->name, what, pool->last_error);
        return;
    }
    pool->reachable = false;
    int64_t backoff = backoff_delay_ms(DB_BACKOFF_MIN_MS, DB_BACKOFF_MAX_MS, pool->connect_failures++);
    pool->retry_at = clock_monotonic_ms() + backoff;
    log_warn(0, "database %s unreachable (retry in %lld ms): %s", pool->name, (long long)backoff, pool->last_error);
    if (count_state(pool, CONN_IDLE) + count_state(pool, CONN_BUSY) + count_state(pool, CONN_CONNECTING) == 0)
        fail_queue(pool, pool->last_error);
}

static void on_conn_io(h2o_socket_t *sock, const char *err);
static void on_connect_io(h2o_socket_t *sock, const char *err);

/* (Re)creates the watcher when libpq's socket changed (multi-host conninfo
 * tries hosts in turn, each with a new socket). */
static int conn_watch(db_conn_t *conn)
{
    int fd = PQsocket(conn->pg);
    if (fd < 0)
        return -1;
    if (conn->watch != NULL && conn->watched_fd == fd)
        return 0;
    conn_unwatch(conn);
    int dupfd = dup(fd);
    if (dupfd < 0)
        return -1;
    conn->watch = h2o_evloop_socket_create(conn->pool->loop, dupfd, H2O_SOCKET_FLAG_DONT_READ);
    conn->watch->data = conn;
    conn->watched_fd = fd;
    return 0;
}

static void conn_poll_connect(db_conn_t *conn)
{
    switch (PQconnectPoll(conn->pg)) {
    case PGRES_POLLING_READING:
        if (conn_watch(conn) != 0)
            break;
        h2o_socket_read_start(conn->watch, on_connect_io);
        return;
    case PGRES_POLLING_WRITING:
        if (conn_watch(conn) != 0)
            break;
        h2o_socket_read_stop(conn->watch);
        if (!conn->write_armed) {
            conn->write_armed = true;
            h2o_socket_notify_write(conn->watch, on_connect_io);
        }
        return;
    case PGRES_POLLING_OK:
        if (conn_watch(conn) != 0 || PQsetnonblocking(conn->pg, 1) != 0)
            break;
        /* without memory for the set, this connection runs statements unnamed */
        if (conn->pool->options.prepare && conn->prepared == NULL)
            conn->prepared = calloc(DB_PREPARED_MAX, sizeof(*conn->prepared));
        conn->state = CONN_IDLE;
        conn->opened_ms = conn->idle_since_ms = clock_monotonic_ms();
        if (!conn->pool->reachable)
            log_info("database %s reachable", conn->pool->name);
        conn->pool->reachable = true;
        conn->pool->connect_failures = 0;
        h2o_socket_read_start(conn->watch, on_conn_io);
        pool_dispatch(conn->pool);
        return;
    default: break;
    }
    conn_failed(conn, "failed");
}

static void on_connect_io(h2o_socket_t *sock, const char *err)
{
    (void)err; /* libpq finds the error itself */
    db_conn_t *conn = sock->data;
    conn->write_armed = false;
    conn_poll_connect(conn);
    if (conn->state == CONN_CLOSED)
        pool_dispatch(conn->pool); /* at once when it was only the settings refused */
}

/* Server notices are not errors: keep them out of stderr, in the debug log. */
static void on_notice(void *arg, const char *message)
{
    db_pool_t *pool = arg;
    log_debug("database %s notice: %.*s", pool->name, (int)strcspn(message, "\n"), message);
}

/* TCP keepalives on every connection (a Unix socket ignores them): an idle
 * pooled connection whose server, pooler or NAT entry vanished is found
 * within ~90 s rather than by the next query, and the probes keep a
 * firewall's idle timer from dropping it.  They come before the DataSource,
 * whose own keepalives* parameters therefore win. */
#define DB_KEEPALIVE_KEYS   "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count"
#define DB_KEEPALIVE_VALUES "1", "60", "10", "3"

static void conn_start(db_pool_t *pool, db_conn_t *conn)
{
    const char *keys[] = {DB_KEEPALIVE_KEYS, "dbname", "application_name", "options", NULL};
    const char *values[] = {DB_KEEPALIVE_VALUES, pool->conninfo, "chorus", pool->settings, NULL};
    if (!pool->send_settings)
        keys[6] = NULL; /* no `options` */
    conn->sent_settings = pool->send_settings;
    conn->pool = pool;
    conn->state = CONN_CONNECTING;
    conn->generation = pool->generation;
    conn->pg = PQconnectStartParams(keys, values, 1);
    if (conn->pg == NULL || PQstatus(conn->pg) == CONNECTION_BAD) {
        conn_failed(conn, "failed");
        return;
    }
    PQsetNoticeProcessor(conn->pg, on_notice, pool);
    conn_poll_connect(conn);
}

static void on_flush_ready(h2o_socket_t *sock, const char *err)
{
    (void)err;
    db_conn_t *conn = sock->data;
    conn->write_armed = false;
    if (conn->pg == NULL)
        return;
    int rc = PQflush(conn->pg);
    if (rc < 0) {
        conn_failed(conn, "lost while sending");
        return;
    }
    if (rc == 1) {
        conn->write_armed = true;
        h2o_socket_notify_write(conn->watch, on_flush_ready);
    }
}

/* FNV-1a: statement names need only tell a few hundred texts apart. */
static uint64_t sql_hash(const char *sql)
{
    uint64_t h = 14695981039346656037ULL;
    for (const unsigned char *p = (const unsigned char *)sql; *p != '\0'; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h != 0 ? h : 1; /* 0 marks a free slot */
}

static uint64_t *prepared_slot(db_conn_t *conn, uint64_t hash)
{
    unsigned i = (unsigned)(hash % DB_PREPARED_MAX);
    while (conn->prepared[i] != 0 && conn->prepared[i] != hash)
        i = (i + 1) % DB_PREPARED_MAX;
    return &conn->prepared[i];
}

static bool is_prepared(db_conn_t *conn, uint64_t hash)
{
    return conn->prepared != NULL && *prepared_slot(conn, hash) == hash;
}

static void remember_prepared(db_conn_t *conn, uint64_t hash)
{
    /* a quarter free keeps the probes short */
    if (conn->prepared == NULL || conn->nprepared >= DB_PREPARED_MAX / 4 * 3)
        return;
    uint64_t *slot = prepared_slot(conn, hash);
    if (*slot == 0) {
        *slot = hash;
        conn->nprepared++;
    }
}

static void statement_name(char *buf, size_t size, uint64_t hash)
{
    snprintf(buf, size, "chorus_%016llx", (unsigned long long)hash);
}

/* A prepared statement failed because the schema changed under it
 * ("cached plan must not change result type": 0A000) or it is gone (26000:
 * the server session that prepared it is not the one that ran it, which is
 * what a transaction pooler does). */
static bool plan_outdated(db_pool_t *pool, const PGresult *result)
{
    const char *state = result != NULL ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : NULL;
    if (state == NULL)
        return false;
    if (strcmp(state, "26000") == 0) {
        if (pool->options.prepare)
            log_warn(0,
                     "database %s: a prepared statement vanished between two transactions (a transaction "
                     "pooler?): statements run unnamed from now on; set SqlSettings.PrepareStatements to false",
                     pool->name);
        pool->options.prepare = false;
        return true;
    }
    return strcmp(state, "0A000") == 0;
}

static bool send_unnamed(db_conn_t *conn, db_query_t *q)
{
    conn->ran_prepared = false;
    return PQsendQueryParams(conn->pg, q->sql, q->nparams, NULL, (const char *const *)q->params, NULL, NULL, 0) != 0;
}

static bool send_prepared(db_conn_t *conn, db_query_t *q)
{
    char name[32];
    statement_name(name, sizeof(name), q->sql_hash);
    conn->ran_prepared = true;
    return PQsendQueryPrepared(conn->pg, name, q->nparams, (const char *const *)q->params, NULL, NULL, 0) != 0;
}

/* Sends `q` prepared when it is, else prepares it first when it may be, else
 * unnamed; false when the connection is broken. */
static bool conn_send_statement(db_conn_t *conn, db_query_t *q)
{
    if (q->sql_hash == 0 || conn->prepared == NULL || conn->stale || !conn->pool->options.prepare)
        return send_unnamed(conn, q);
    if (is_prepared(conn, q->sql_hash))
        return send_prepared(conn, q);
    if (conn->nprepared >= DB_PREPARED_MAX / 4 * 3)
        return send_unnamed(conn, q);
    char name[32];
    statement_name(name, sizeof(name), q->sql_hash);
    conn->ran_prepared = false;
    conn->preparing = true;
    return PQsendPrepare(conn->pg, name, q->sql, q->nparams, NULL) != 0;
}

/* The preparation of the query in flight is done: run it, prepared when that
 * worked, else unnamed (so a bad statement fails with its own error). */
static bool conn_prepared(db_conn_t *conn, PGresult *result)
{
    db_query_t *q = conn->query;
    conn->preparing = false;
    bool ok = result != NULL && PQresultStatus(result) == PGRES_COMMAND_OK;
    if (ok)
        remember_prepared(conn, q->sql_hash);
    else
        log_debug("database %s: could not prepare a statement: %s", conn->pool->name,
                  result != NULL ? PQresultErrorMessage(result) : "no result");
    if (!(ok ? send_prepared(conn, q) : send_unnamed(conn, q)))
        return false;
    on_flush_ready(conn->watch, NULL);
    return true;
}

static void conn_send(db_conn_t *conn, db_query_t *q)
{
    h2o_linklist_unlink(&q->link);
    q->pool->queued--;
    if (!conn_send_statement(conn, q)) {
        /* the connection is broken: the query goes back to the head */
        conn->preparing = false;
        h2o_linklist_insert(q->pool->queue.next, &q->link);
        q->pool->queued++;
        conn_failed(conn, "lost");
        return;
    }
    conn->state = CONN_BUSY;
    conn->query = q;
    q->conn = conn;
    q->pool->queries++;
    on_flush_ready(conn->watch, NULL);
}

/* Readable: a result, a notice, or the server closing on us. */
static void on_conn_io(h2o_socket_t *sock, const char *err)
{
    (void)err;
    db_conn_t *conn = sock->data;
    if (!PQconsumeInput(conn->pg)) {
        conn_failed(conn, "lost");
        pool_dispatch(conn->pool);
        return;
    }
    while (conn->state == CONN_BUSY && !PQisBusy(conn->pg)) {
        PGresult *res = PQgetResult(conn->pg);
        if (res != NULL) {
            if (conn->result != NULL)
                PQclear(conn->result);
            conn->result = res;
            continue;
        }
        db_query_t *q = conn->query;
        PGresult *result = conn->result;
        conn->result = NULL;
        if (conn->preparing && q != NULL) {
            bool sent = conn_prepared(conn, result);
            if (result != NULL)
                PQclear(result);
            if (!sent) {
                conn_failed(conn, "lost while sending");
                break;
            }
            continue;
        }
        if (conn->ran_prepared && q != NULL && plan_outdated(conn->pool, result)) {
            /* another node's migration changed a table under our plans:
             * this query runs again unnamed, the connection retires */
            conn->stale = true;
            if (result != NULL)
                PQclear(result);
            if (!conn_send_statement(conn, q)) {
                conn_failed(conn, "lost while sending");
                break;
            }
            on_flush_ready(conn->watch, NULL);
            continue;
        }
        conn->query = NULL;
        conn->state = CONN_IDLE;
        conn->idle_since_ms = clock_monotonic_ms();
        if (q != NULL) {
            q->conn = NULL;
            ExecStatusType st = result != NULL ? PQresultStatus(result) : PGRES_FATAL_ERROR;
            const char *error = NULL;
            if (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE || st == PGRES_NONFATAL_ERROR)
                error = result != NULL ? PQresultErrorMessage(result) : "no result";
            query_finish(q, result, error);
        }
        if (result != NULL)
            PQclear(result);
    }
    if (conn->state == CONN_IDLE && (conn->generation != conn->pool->generation || conn->stale))
        conn_close(conn); /* recycled (or stale) while busy: retired now that it is done */
    else if (conn->state == CONN_IDLE && PQstatus(conn->pg) == CONNECTION_BAD)
        conn_failed(conn, "closed by the server");
    pool_dispatch(conn->pool);
    conn_retire_if_due(conn, clock_monotonic_ms()); /* nothing waited for it */
}

/* SqlSettings' MaxIdleConns, ConnMaxLifetimeMilliseconds and
 * ConnMaxIdleTimeMilliseconds: an idle connection closes when it is older
 * than the lifetime, or has been idle longer than the idle time, or (unlike
 * Go's database/sql, which closes one the moment it is returned) when the
 * pool keeps more idle ones than it may and this one has been idle
 * DB_IDLE_GRACE_MS (MaxIdleConns 0 keeps none, at once): under a load that
 * keeps more connections busy than MaxIdleConns, closing on return reopened
 * one for nearly every burst, and a new server session plans every
 * statement again.  Busy connections are never cut short. */
static void conn_retire_if_due(db_conn_t *conn, int64_t now)
{
    db_pool_t *pool = conn->pool;
    const db_pool_options_t *o = &pool->options;
    if (conn->state != CONN_IDLE)
        return;
    if ((o->lifetime_ms > 0 && now - conn->opened_ms >= o->lifetime_ms) ||
        (o->idle_time_ms > 0 && now - conn->idle_since_ms >= o->idle_time_ms) ||
        (o->idle_limited && (o->idle_max == 0 || now - conn->idle_since_ms >= DB_IDLE_GRACE_MS) &&
         count_state(pool, CONN_IDLE) > o->idle_max))
        conn_close(conn);
}

static bool pool_sweeps(const db_pool_t *pool)
{
    return pool->options.lifetime_ms > 0 || pool->options.idle_time_ms > 0 || pool->options.idle_limited;
}

/* Once a second: the times above are not worth a timer per connection. */
static void on_sweep(h2o_timeout_entry_t *entry)
{
    db_pool_t *pool = H2O_STRUCT_FROM_MEMBER(db_pool_t, sweep, entry);
    int64_t now = clock_monotonic_ms();
    for (unsigned i = 0; i < pool->options.max_conns; i++)
        conn_retire_if_due(&pool->conns[i], now);
    h2o_timeout_link(pool->loop, &pool->sweep_timeout, &pool->sweep);
}

static void pool_dispatch(db_pool_t *pool)
{
    while (!h2o_linklist_is_empty(&pool->queue)) {
        db_conn_t *idle = NULL, *closed = NULL;
        for (unsigned i = 0; i < pool->options.max_conns; i++) {
            db_conn_t *c = &pool->conns[i];
            if (c->state == CONN_IDLE && idle == NULL)
                idle = c;
            else if (c->state == CONN_CLOSED && closed == NULL)
                closed = c;
        }
        if (idle != NULL) {
            conn_send(idle, H2O_STRUCT_FROM_MEMBER(db_query_t, link, pool->queue.next));
            continue;
        }
        /* open one more connection for what waits, unless one is on its way */
        if (closed == NULL || count_state(pool, CONN_CONNECTING) >= pool->queued)
            return;
        if (clock_monotonic_ms() < pool->retry_at) {
            if (count_state(pool, CONN_BUSY) + count_state(pool, CONN_CONNECTING) == 0)
                fail_queue(pool, pool->last_error);
            return;
        }
        conn_start(pool, closed);
    }
}

static char *strdup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

db_query_t *db_pool_query(db_pool_t *pool, const char *sql, int nparams, const char *const *params, db_query_cb cb,
                          void *data)
{
    if (pool->queued >= pool->options.queue_max) {
        cb(data, NULL, "too many queries waiting for a database connection");
        return NULL;
    }
    db_query_t *q = calloc(1, sizeof(*q));
    if (q == NULL || (q->sql = strdup(sql)) == NULL ||
        (nparams > 0 && (q->params = calloc((size_t)nparams, sizeof(char *))) == NULL)) {
        if (q != NULL)
            query_free(q);
        cb(data, NULL, "out of memory");
        return NULL;
    }
    q->nparams = nparams;
    if (pool->options.prepare)
        q->sql_hash = sql_hash(sql);
    for (int i = 0; i < nparams; i++) {
        q->params[i] = strdup_or_null(params[i]);
        if (params[i] != NULL && q->params[i] == NULL) {
            query_free(q);
            cb(data, NULL, "out of memory");
            return NULL;
        }
    }
    q->pool = pool;
    q->cb = cb;
    q->data = data;
    q->timeout.cb = on_query_timeout;
    h2o_linklist_insert(&pool->queue, &q->link);
    pool->queued++;
    h2o_timeout_link(pool->loop, &pool->query_timeout, &q->timeout);
    q->submitting = true;
    pool_dispatch(pool);
    q->submitting = false;
    if (q->finished) {
        query_free(q);
        return NULL;
    }
    return q;
}

void db_query_cancel(db_query_t *query)
{
    query->cb = NULL;
}

int db_pool_create(db_pool_t **out, h2o_loop_t *loop, const db_pool_options_t *options)
{
    db_pool_t *pool = calloc(1, sizeof(*pool));
    if (pool == NULL)
        return -ENOMEM;
    pool->loop = loop;
    pool->options = *options;
    h2o_linklist_init_anchor(&pool->queue);
    h2o_timeout_init(loop, &pool->query_timeout, (uint64_t)options->query_timeout_ms);
    h2o_timeout_init(loop, &pool->sweep_timeout, DB_SWEEP_MS);
    pool->sweep.cb = on_sweep;
    if (pool->options.max_conns == 0)
        pool->options.max_conns = 1;
    if (pool->options.max_conns > DB_POOL_CONNS_MAX)
        pool->options.max_conns = DB_POOL_CONNS_MAX;
    char settings[128];
    /* JIT compilation costs more than these short OLTP statements ever run.
     * Prepared statements use their generic plan from the first run: every
     * statement chorus sends selects by ids and keys, whose best plan does
     * not depend on the values, and PostgreSQL's default (five custom plans
     * per connection, then a cost comparison) kept replanning the largest
     * ones on most connections. */
    snprintf(settings, sizeof(settings), "-c statement_timeout=%lld -c jit=off%s", (long long)options->query_timeout_ms,
             options->prepare ? " -c plan_cache_mode=force_generic_plan" : "");
    pool->name = strdup(options->name);
    pool->conninfo = strdup(options->conninfo);
    pool->settings = strdup(settings);
    pool->send_settings = true;
    if (pool->name == NULL || pool->conninfo == NULL || pool->settings == NULL) {
        db_pool_destroy(pool);
        return -ENOMEM;
    }
    pool->options.name = pool->name;
    pool->options.conninfo = pool->conninfo;
    pool->reachable = true; /* until an attempt says otherwise */
    snprintf(pool->last_error, sizeof(pool->last_error), "database unreachable");
    for (unsigned i = 0; i < DB_POOL_CONNS_MAX; i++) {
        pool->conns[i].pool = pool;
        pool->conns[i].watched_fd = -1;
    }
    if (pool_sweeps(pool))
        h2o_timeout_link(loop, &pool->sweep_timeout, &pool->sweep);
    *out = pool;
    return 0;
}

void db_pool_destroy(db_pool_t *pool)
{
    if (pool == NULL)
        return;
    if (pool->loop != NULL) {
        fail_queue(pool, "shutting down");
        for (unsigned i = 0; i < DB_POOL_CONNS_MAX; i++)
            if (pool->conns[i].state != CONN_CLOSED)
                conn_close(&pool->conns[i]);
        h2o_timeout_dispose(pool->loop, &pool->query_timeout);
        h2o_timeout_unlink(&pool->sweep);
        h2o_timeout_dispose(pool->loop, &pool->sweep_timeout);
    }
    free(pool->name);
    free(pool->conninfo);
    free(pool->settings);
    free(pool);
}

void db_pool_recycle(db_pool_t *pool)
{
    pool->generation++;
    pool->retry_at = 0; /* a recycle after a failover connects at once */
    pool->connect_failures = 0;
    for (unsigned i = 0; i < pool->options.max_conns; i++) {
        db_conn_t *c = &pool->conns[i];
        if (c->state == CONN_IDLE || c->state == CONN_CONNECTING)
            conn_close(c);
    }
    log_info("database %s: connections recycled", pool->name);
    pool_dispatch(pool);
}

bool db_pool_reachable(const db_pool_t *pool)
{
    return pool->reachable;
}

const char *db_pool_name(const db_pool_t *pool)
{
    return pool->name;
}

void db_pool_get_stats(const db_pool_t *pool, db_pool_stats_t *stats)
{
    stats->idle = count_state(pool, CONN_IDLE);
    stats->connecting = count_state(pool, CONN_CONNECTING);
    stats->open = stats->idle + count_state(pool, CONN_BUSY);
    stats->queries = pool->queries;
    stats->failures = pool->failures;
    stats->timeouts = pool->timeouts;
    stats->reachable = pool->reachable;
}
