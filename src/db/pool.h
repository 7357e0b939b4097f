/* A per-worker pool of PostgreSQL connections driven by the worker's h2o
 * event loop through libpq's asynchronous API.  Nothing here ever blocks. */
#ifndef CHORUS_DB_POOL_H
#define CHORUS_DB_POOL_H

#include <stdbool.h>
#include <stdint.h>
#include <libpq-fe.h>

#include "h2o.h"

typedef struct db_pool_s db_pool_t;
typedef struct db_query_s db_query_t;

/* Runs exactly once per query (unless it was cancelled first).  `result` is
 * NULL when the query never ran (no connection, timeout) and `error` says
 * why; with a result, `error` is NULL unless PQresultStatus is an error.
 * The pool clears `result` after the callback returns. */
typedef void (*db_query_cb)(void *data, PGresult *result, const char *error);

/* The error the pool itself reports when a statement outlives its
 * query_timeout_ms (it was cancelled): an `error` pointing at it means the
 * server is fine and the statement slow.  Compare by identity. */
extern const char db_pool_error_timeout[];

typedef struct {
    const char *name;     /* "master", "replica-1": for logs */
    const char *conninfo; /* URI or key=value */
    unsigned max_conns;   /* this worker's share of SqlSettings.MaxOpenConns */
    int64_t query_timeout_ms;
    unsigned queue_max; /* queries waiting beyond this fail at once */
    bool prepare;       /* each connection prepares what it runs (pool.c) */
    /* Connections idle while more than idle_max are: close (with
     * idle_limited; else every connection opened stays, up to max_conns). */
    bool idle_limited;
    unsigned idle_max;
    int64_t lifetime_ms;  /* a connection older than this closes once idle; 0 never */
    int64_t idle_time_ms; /* one idle for this long closes; 0 never */
} db_pool_options_t;

int db_pool_create(db_pool_t **out, h2o_loop_t *loop, const db_pool_options_t *options);
/* Fails every queued query, closes every connection. */
void db_pool_destroy(db_pool_t *pool);

/* Queues one parameterized statement (text parameters).  Returns NULL only
 * when the pool refuses at once, having called `cb` with the reason. */
db_query_t *db_pool_query(db_pool_t *pool, const char *sql, int nparams, const char *const *params, db_query_cb cb,
                          void *data);
/* The callback will not run; safe until it has run. */
void db_query_cancel(db_query_t *query);

/* Drains and replaces the connections: idle ones close now, busy ones when
 * their query completes; queries from now on use new connections. */
void db_pool_recycle(db_pool_t *pool);
/* False after a connection attempt failed, until one succeeds. */
bool db_pool_reachable(const db_pool_t *pool);
const char *db_pool_name(const db_pool_t *pool);

typedef struct {
    unsigned open, idle, connecting;
    uint64_t queries, failures, timeouts;
    bool reachable; /* the last connection attempt succeeded */
} db_pool_stats_t;
void db_pool_get_stats(const db_pool_t *pool, db_pool_stats_t *stats);

#endif
