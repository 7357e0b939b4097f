/* Which database a query goes to: the master (DataSource) for writes, a
 * healthy, caught-up read replica for reads, a search replica for searches,
 * with fallbacks so that a replica never makes a read fail.  One router per
 * worker, owning every pool of that worker (ARCHITECTURE.md §4). */
#ifndef CHORUS_DB_ROUTER_H
#define CHORUS_DB_ROUTER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "db/pool.h"

typedef struct db_router_s db_router_t;
typedef struct db_routed_s db_routed_t;

typedef enum { DB_INTENT_WRITE, DB_INTENT_READ, DB_INTENT_SEARCH } db_intent_t;

/* A WAL position that no replica ever reaches: "read from the master". */
#define DB_LSN_MASTER_ONLY UINT64_MAX

/* What the caller learns beside the result. */
typedef struct {
    const char *source; /* the pool that answered: "master", "replica-1", "search-1" */
    bool replica;       /* answered by a replica, which may lag the master */
    /* WRITE that changed something: the master's WAL position once it was
     * committed (DB_LSN_MASTER_ONLY when it could not be learnt); else 0 */
    uint64_t write_lsn;
} db_outcome_t;

/* Like db_query_cb; the router clears `result` after the callback returns. */
typedef void (*db_routed_cb)(void *data, PGresult *result, const char *error, const db_outcome_t *outcome);

/* One pool per data source of `sql`, MaxOpenConns split over `workers` ×
 * the pools, and the replica monitor started on `loop`. */
int db_router_create(db_router_t **out, h2o_loop_t *loop, const config_sql_t *sql, unsigned workers);
void db_router_destroy(db_router_t *router);

/* The pool for `intent`: WRITE → master; READ → a healthy replica that has
 * replayed up to `min_lsn` (round-robin), else the master, else (master
 * down) the most advanced healthy replica; SEARCH → search replicas, then
 * replicas, then as READ. */
db_pool_t *db_router_pick(db_router_t *router, db_intent_t intent, uint64_t min_lsn);

/* Runs one statement where `intent` says.  A READ or SEARCH whose database
 * fails under it (connection lost, refused, shut down) is retried once on
 * another; a WRITE never is, and when it changed rows its callback waits
 * for the master's WAL position (outcome->write_lsn).  Returns NULL only
 * when the callback has already run. */
db_routed_t *db_router_query(db_router_t *router, db_intent_t intent, uint64_t min_lsn, const char *sql, int nparams,
                             const char *const *params, db_routed_cb cb, void *data);
/* The callback will not run; safe until it has run. */
void db_routed_cancel(db_routed_t *routed);

/* The highest master WAL position this worker has seen (monitor or writes). */
uint64_t db_router_master_lsn(const db_router_t *router);
db_pool_t *db_router_master(db_router_t *router);

/* Drains and replaces the connections of every pool (db_pool_recycle). */
void db_router_recycle(db_router_t *router);

/* "16/B374D848" → 0x16B374D848; 0 when unparsable. */
uint64_t db_lsn_parse(const char *text);

#endif
