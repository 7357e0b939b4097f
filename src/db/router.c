/*
 * Query routing over the master, the read replicas and the search replicas.
 *
 * A worker owns one router, and the router owns one db_pool_t per data
 * source: [0] the master (SqlSettings.DataSource), then DataSourceReplicas,
 * then DataSourceSearchReplicas.  MaxOpenConns is the node's bound: every
 * pool of every worker gets MaxOpenConns / (workers × pools), at least one;
 * MaxIdleConns is shared the same way.
 *
 * Health.  With any replica configured, a monitor timer runs every
 * ReplicaMonitorIntervalSeconds and asks every source, through its own pool,
 * whether it is in recovery and how far it has replayed (the master: its
 * current WAL position).  A check that fails, or that has not answered by
 * the next tick, takes the source out; a later success puts it back.  A
 * replica whose connection attempt failed (db_pool_reachable) or whose query
 * failed under it is out at once, without waiting for the monitor.
 *
 * Read-your-writes.  Each replica's last observed replay LSN is kept; a read
 * carries the smallest LSN it must see (its session's last write) and only
 * a replica known to have replayed that far may serve it, else the master.
 * The monitor observes a replica at most one interval ago and replay only
 * moves forward, so the rule errs on the master's side.  A write that
 * changed rows does not reach its caller until the master's WAL position
 * after it is known: the router runs SELECT pg_current_wal_lsn() on the
 * master once the write's result is in (the write is committed by then, and
 * with synchronous_commit on its commit record is flushed, so the position
 * covers it), and hands the caller a copy of the write's result with that
 * LSN.  Fetches are coalesced: the writes that completed while one fetch was
 * in flight share the next one.  No replica configured: no monitor, no fetch.
 *
 * Failures.  Writes only ever go to the master and are never retried (they
 * may have committed).  A read or search whose database fails under it
 * (no connection, connection lost, server shutting down, recovery conflict)
 * takes that database out and is rerouted once: to a replica that has its
 * LSN, else the master.  With the master down (a failover), a read whose
 * LSN no replica is known to have is parked until a check shows one that
 * has (a search replica will do), or the master back; at QueryTimeout it
 * reads from the most advanced replica rather than fail.  A statement that
 * timed out is not retried: it would only double the wait.
 */
#include "db/router.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "db/sqlstate.h"

#define ROUTER_QUEUE_MAX 4096

typedef enum { SOURCE_MASTER, SOURCE_REPLICA, SOURCE_SEARCH } source_kind_t;

typedef struct {
    db_router_t *router;
    db_pool_t *pool;
    source_kind_t kind;
    bool healthy;
    bool in_recovery;
    uint64_t lsn;      /* last observed replay LSN (master, promoted: current) */
    db_query_t *check; /* monitor query in flight */
} db_source_t;

struct db_router_s {
    h2o_loop_t *loop;
    db_source_t *sources; /* [0] master, replicas, search replicas */
    size_t nsources, nreplicas, nsearch;
    size_t rr; /* round-robin cursor */
    uint64_t master_lsn;
    h2o_timeout_t monitor_timeout;
    h2o_timeout_entry_t monitor;
    h2o_linklist_t lsn_waiting;  /* writes waiting for the next fetch */
    h2o_linklist_t lsn_inflight; /* writes the fetch in flight covers */
    db_query_t *lsn_query;
    bool lsn_fetching;
    h2o_linklist_t parked; /* reads waiting for a server that has their write */
    h2o_timeout_t park_timeout;
    bool destroying; /* pools fail what they hold: no retries then */
};

struct db_routed_s {
    db_router_t *router;
    db_intent_t intent;
    uint64_t min_lsn;
    db_source_t *source; /* where it runs (ran) */
    db_query_t *query;   /* in flight on source->pool */
    db_routed_cb cb;     /* NULL once cancelled or delivered */
    void *data;
    char *sql;
    int nparams;
    char **params;
    bool retried;
    PGresult *result;        /* a write's result, kept while its LSN is fetched */
    h2o_linklist_t lsn_link; /* in lsn_waiting or lsn_inflight; a read: in parked */
    h2o_timeout_entry_t park_deadline;
    bool parked;
    unsigned depth; /* nested inside our own calls: do not free yet */
    bool finished;
};

static const char check_sql[] = "SELECT pg_is_in_recovery(), CASE WHEN pg_is_in_recovery() "
                                "THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END";

uint64_t db_lsn_parse(const char *text)
{
    unsigned hi, lo;
    if (text == NULL || sscanf(text, "%X/%X", &hi, &lo) != 2)
        return 0;
    return (uint64_t)hi << 32 | lo;
}

static void note_master_lsn(db_router_t *rt, uint64_t lsn)
{
    if (lsn != DB_LSN_MASTER_ONLY && lsn > rt->master_lsn)
        rt->master_lsn = lsn;
}

/* ---- health ------------------------------------------------------------- */

static bool source_usable(const db_source_t *s)
{
    return s->healthy && db_pool_reachable(s->pool);
}

static void source_down(db_source_t *s, const char *why)
{
    if (s->healthy)
        log_warn(0, "database %s taken out: %.*s", db_pool_name(s->pool), (int)strcspn(why, "\n"), why);
    s->healthy = false;
    s->lsn = 0; /* after a restart it must prove how far it is again */
}

static void wake_parked(db_router_t *rt);

static void on_check_done(void *data, PGresult *res, const char *error)
{
    db_source_t *s = data;
    s->check = NULL;
    if (error != NULL || res == NULL || PQntuples(res) != 1) {
        source_down(s, error != NULL ? error : "no result");
        return;
    }
    bool recovery = PQgetvalue(res, 0, 0)[0] == 't';
    uint64_t lsn = db_lsn_parse(PQgetvalue(res, 0, 1));
    if (!s->healthy)
        log_info("database %s is back (%s, LSN %X/%X)", db_pool_name(s->pool), recovery ? "in recovery" : "primary",
                 (unsigned)(lsn >> 32), (unsigned)lsn);
    if (s->kind == SOURCE_MASTER && recovery && !s->in_recovery)
        log_error(0, "SqlSettings.DataSource is a server in recovery: writes will fail until it is promoted");
    s->healthy = true;
    s->in_recovery = recovery;
    s->lsn = lsn;
    if (s->kind == SOURCE_MASTER && !recovery)
        note_master_lsn(s->router, lsn);
    wake_parked(s->router);
}

/* One check per source; one still unanswered from the last tick failed. */
static void monitor_run(db_router_t *rt)
{
    for (size_t i = 0; i < rt->nsources; i++) {
        db_source_t *s = &rt->sources[i];
        if (s->check != NULL) {
            db_query_cancel(s->check);
            s->check = NULL;
            source_down(s, "health check timed out");
        }
        db_query_t *q = db_pool_query(s->pool, check_sql, 0, NULL, on_check_done, s);
        if (q != NULL) /* NULL: refused, on_check_done has run */
            s->check = q;
    }
    h2o_timeout_link(rt->loop, &rt->monitor_timeout, &rt->monitor);
}

static void on_monitor(h2o_timeout_entry_t *entry)
{
    monitor_run(H2O_STRUCT_FROM_MEMBER(db_router_t, monitor, entry));
}

/* ---- picking ------------------------------------------------------------ */

static db_source_t *pick_among(db_router_t *rt, size_t first, size_t n, uint64_t min_lsn, const db_source_t *exclude)
{
    for (size_t i = 0; i < n; i++) {
        db_source_t *s = &rt->sources[first + (rt->rr + i) % n];
        if (s != exclude && source_usable(s) && s->lsn >= min_lsn) {
            rt->rr++;
            return s;
        }
    }
    return NULL;
}

/* The healthy replica (read or search) that has replayed the most. */
static db_source_t *most_advanced(db_router_t *rt, const db_source_t *exclude)
{
    db_source_t *best = NULL;
    for (size_t i = 1; i < rt->nsources; i++) {
        db_source_t *s = &rt->sources[i];
        if (s != exclude && source_usable(s) && (best == NULL || s->lsn > best->lsn))
            best = s;
    }
    return best;
}

/* Where the statement sees `min_lsn`: the master for a write; for a read a
 * replica known to have replayed it (search replicas first for a search),
 * else a usable master, else (a read, the master down) a search replica
 * known to have replayed it; NULL when none is there. */
static db_source_t *pick_consistent(db_router_t *rt, db_intent_t intent, uint64_t min_lsn, const db_source_t *exclude)
{
    db_source_t *master = &rt->sources[0], *s = NULL;
    if (intent == DB_INTENT_WRITE)
        return master;
    if (intent == DB_INTENT_SEARCH)
        s = pick_among(rt, 1 + rt->nreplicas, rt->nsearch, min_lsn, exclude);
    if (s == NULL)
        s = pick_among(rt, 1, rt->nreplicas, min_lsn, exclude);
    if (s == NULL && master != exclude && source_usable(master))
        s = master;
    if (s == NULL && intent == DB_INTENT_READ)
        s = pick_among(rt, 1 + rt->nreplicas, rt->nsearch, min_lsn, exclude);
    return s;
}

/* Whatever may answer: consistent, else the most advanced replica (stale
 * beats failed), else the master. */
static db_source_t *pick_any(db_router_t *rt, db_intent_t intent, uint64_t min_lsn, const db_source_t *exclude)
{
    db_source_t *s = pick_consistent(rt, intent, min_lsn, exclude);
    if (s == NULL)
        s = most_advanced(rt, exclude);
    if (s == NULL && &rt->sources[0] != exclude)
        s = &rt->sources[0];
    return s;
}

db_pool_t *db_router_pick(db_router_t *rt, db_intent_t intent, uint64_t min_lsn)
{
    return pick_any(rt, intent, min_lsn, NULL)->pool;
}

/* ---- routed queries ----------------------------------------------------- */

static void routed_free(db_routed_t *rq)
{
    if (rq->result != NULL)
        PQclear(rq->result);
    for (int i = 0; i < rq->nparams; i++)
        free(rq->params[i]);
    free(rq->params);
    free(rq->sql);
    free(rq);
}

static void routed_deliver(db_routed_t *rq, PGresult *result, const char *error, uint64_t lsn)
{
    db_outcome_t outcome = {
        .source = db_pool_name(rq->source->pool), .replica = rq->source->kind != SOURCE_MASTER, .write_lsn = lsn};
    db_routed_cb cb = rq->cb;
    rq->cb = NULL;
    if (cb != NULL)
        cb(rq->data, result, error, &outcome);
    if (rq->depth > 0)
        rq->finished = true;
    else
        routed_free(rq);
}

static void on_lsn_fetched(void *data, PGresult *res, const char *error);

/* Every write waiting now is covered by a fetch that starts after it. */
static void lsn_fetch(db_router_t *rt)
{
    h2o_linklist_insert_list(&rt->lsn_inflight, &rt->lsn_waiting);
    rt->lsn_fetching = true;
    db_query_t *q = db_pool_query(rt->sources[0].pool, "SELECT pg_current_wal_lsn()", 0, NULL, on_lsn_fetched, rt);
    if (q != NULL)
        rt->lsn_query = q;
}

static void on_lsn_fetched(void *data, PGresult *res, const char *error)
{
    db_router_t *rt = data;
    rt->lsn_query = NULL;
    rt->lsn_fetching = false;
    uint64_t lsn = error == NULL && res != NULL && PQntuples(res) == 1 ? db_lsn_parse(PQgetvalue(res, 0, 0)) : 0;
    if (lsn == 0) {
        /* committed, but where?  its session reads from the master */
        log_warn(0, "cannot learn the master's WAL position after a write: %.*s",
                 (int)strcspn(error != NULL ? error : "no result", "\n"), error != NULL ? error : "no result");
        lsn = DB_LSN_MASTER_ONLY;
    }
    note_master_lsn(rt, lsn);
    while (!h2o_linklist_is_empty(&rt->lsn_inflight)) {
        db_routed_t *rq = H2O_STRUCT_FROM_MEMBER(db_routed_t, lsn_link, rt->lsn_inflight.next);
        h2o_linklist_unlink(&rq->lsn_link);
        routed_deliver(rq, rq->result, NULL, lsn);
    }
    if (!rt->lsn_fetching && !h2o_linklist_is_empty(&rt->lsn_waiting))
        lsn_fetch(rt);
}

static bool is_word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* True when the statement may have written: its status names a change of
 * at least one row, or it is a SELECT whose text holds a data-modifying
 * word (a CTE that inserts; "DeleteAt" is no such word). */
static bool wrote_something(const db_routed_t *rq, PGresult *res)
{
    if (strncmp(PQcmdStatus(res), "SELECT", 6) != 0)
        return strcmp(PQcmdTuples(res), "0") != 0;
    static const char *const words[] = {"insert", "update", "delete", "merge"};
    for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
        size_t n = strlen(words[w]);
        for (const char *p = rq->sql; (p = strcasestr(p, words[w])) != NULL; p += n)
            if ((p == rq->sql || !is_word_char(p[-1])) && !is_word_char(p[n]))
                return true;
    }
    return false;
}

/* The write's answer waits for the master's WAL position (see the top). */
static void write_done(db_routed_t *rq, PGresult *res)
{
    db_router_t *rt = rq->router;
    if (rt->nsources == 1 || !wrote_something(rq, res)) {
        routed_deliver(rq, res, NULL, 0);
        return;
    }
    rq->result = PQcopyResult(res, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
    if (rq->result == NULL) {
        routed_deliver(rq, res, NULL, DB_LSN_MASTER_ONLY);
        return;
    }
    h2o_linklist_insert(&rt->lsn_waiting, &rq->lsn_link);
    if (!rt->lsn_fetching)
        lsn_fetch(rt);
}

/* The database failed under the statement, not the statement itself. */
static bool failed_under_us(const PGresult *result, const char *error)
{
    if (result == NULL)
        return error != db_pool_error_timeout;
    const char *st = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    return sqlstate_is(st, SQLSTATE_CLASS_CONNECTION) || sqlstate_is(st, SQLSTATE_CLASS_OPERATOR) ||
           sqlstate_is(st, SQLSTATE_CLASS_RESOURCES) || sqlstate_is(st, SQLSTATE_SERIALIZATION_FAILURE) ||
           sqlstate_is(st, SQLSTATE_READ_ONLY_TRANSACTION);
}

static bool routed_submit(db_routed_t *rq, db_source_t *src);

/* A read that no reachable server is known to answer without missing its
 * min_lsn, while some replica is up (so the master is not): it waits for a
 * monitor check to show one that has replayed it, or the master back, or
 * the deadline (QueryTimeout), then reads from the most advanced replica. */
static void routed_park(db_routed_t *rq)
{
    rq->parked = true;
    h2o_linklist_insert(&rq->router->parked, &rq->lsn_link);
    h2o_timeout_link(rq->router->loop, &rq->router->park_timeout, &rq->park_deadline);
}

static void routed_unpark(db_routed_t *rq)
{
    rq->parked = false;
    h2o_linklist_unlink(&rq->lsn_link);
    h2o_timeout_unlink(&rq->park_deadline);
}

static void on_park_deadline(h2o_timeout_entry_t *entry)
{
    db_routed_t *rq = H2O_STRUCT_FROM_MEMBER(db_routed_t, park_deadline, entry);
    routed_unpark(rq);
    db_source_t *s = pick_any(rq->router, rq->intent, rq->min_lsn, NULL);
    log_warn(0, "database: no server known to hold a session's last write; reading from %s", db_pool_name(s->pool));
    routed_submit(rq, s);
}

/* After a successful check: the parked reads that can run now do. */
static void wake_parked(db_router_t *rt)
{
    h2o_linklist_t parked;
    h2o_linklist_init_anchor(&parked);
    h2o_linklist_insert_list(&parked, &rt->parked);
    while (!h2o_linklist_is_empty(&parked)) {
        db_routed_t *rq = H2O_STRUCT_FROM_MEMBER(db_routed_t, lsn_link, parked.next);
        h2o_linklist_unlink(&rq->lsn_link);
        h2o_linklist_insert(&rt->parked, &rq->lsn_link);
        db_source_t *s = pick_consistent(rt, rq->intent, rq->min_lsn, NULL);
        if (s != NULL) {
            routed_unpark(rq);
            routed_submit(rq, s);
        }
    }
}

/* Runs, parks, or (false) finds nowhere to run `rq` but `exclude`. */
static bool routed_route(db_routed_t *rq, const db_source_t *exclude)
{
    db_router_t *rt = rq->router;
    db_source_t *s = pick_consistent(rt, rq->intent, rq->min_lsn, exclude);
    if (s == NULL && most_advanced(rt, exclude) != NULL && !rt->destroying) {
        routed_park(rq);
        return true;
    }
    if (s == NULL && &rt->sources[0] != exclude)
        s = &rt->sources[0]; /* nothing is up: the master may be back */
    if (s == NULL)
        return false;
    routed_submit(rq, s);
    return true;
}

static void on_pool_done(void *data, PGresult *result, const char *error)
{
    db_routed_t *rq = data;
    rq->query = NULL;
    if (error != NULL && rq->intent != DB_INTENT_WRITE && !rq->retried && !rq->router->destroying &&
        failed_under_us(result, error)) {
        /* the master too: the monitor puts it back at its next success */
        source_down(rq->source, error);
        rq->retried = true;
        log_info("database %s failed a read: rerouting it", db_pool_name(rq->source->pool));
        if (routed_route(rq, rq->source))
            return;
    }
    if (error == NULL && rq->intent == DB_INTENT_WRITE && result != NULL)
        write_done(rq, result);
    else
        routed_deliver(rq, result, error, 0);
}

/* Queues `rq` on `src`; false when it was delivered and freed meanwhile. */
static bool routed_submit(db_routed_t *rq, db_source_t *src)
{
    rq->source = src;
    rq->depth++;
    db_query_t *q = db_pool_query(src->pool, rq->sql, rq->nparams, (const char *const *)rq->params, on_pool_done, rq);
    rq->depth--;
    if (rq->finished) {
        if (rq->depth == 0)
            routed_free(rq);
        return false;
    }
    if (q != NULL) /* NULL: refused, and on_pool_done retried it elsewhere */
        rq->query = q;
    return true;
}

static db_routed_t *routed_new(const char *sql, int nparams, const char *const *params)
{
    db_routed_t *rq = calloc(1, sizeof(*rq));
    if (rq == NULL || (rq->sql = strdup(sql)) == NULL ||
        (nparams > 0 && (rq->params = calloc((size_t)nparams, sizeof(char *))) == NULL)) {
        if (rq != NULL)
            routed_free(rq);
        return NULL;
    }
    for (; rq->nparams < nparams; rq->nparams++) {
        const char *p = params[rq->nparams];
        if (p != NULL && (rq->params[rq->nparams] = strdup(p)) == NULL) {
            routed_free(rq);
            return NULL;
        }
    }
    return rq;
}

db_routed_t *db_router_query(db_router_t *rt, db_intent_t intent, uint64_t min_lsn, const char *sql, int nparams,
                             const char *const *params, db_routed_cb cb, void *data)
{
    db_routed_t *rq = routed_new(sql, nparams, params);
    if (rq == NULL) {
        db_outcome_t outcome = {.source = "none"};
        cb(data, NULL, "out of memory", &outcome);
        return NULL;
    }
    rq->router = rt;
    rq->intent = intent;
    rq->min_lsn = min_lsn;
    rq->cb = cb;
    rq->data = data;
    rq->park_deadline.cb = on_park_deadline;
    rq->depth = 1;
    routed_route(rq, NULL);
    rq->depth = 0;
    if (rq->finished) {
        routed_free(rq);
        return NULL;
    }
    return rq;
}

void db_routed_cancel(db_routed_t *rq)
{
    rq->cb = NULL;
    if (rq->parked)
        routed_unpark(rq);
    else if (rq->query != NULL)
        db_query_cancel(rq->query);
    else
        return; /* its write's LSN is being fetched: freed when it arrives */
    routed_free(rq);
}

/* ---- the router --------------------------------------------------------- */

static int add_source(db_router_t *rt, source_kind_t kind, const char *name, const char *conninfo,
                      const db_pool_options_t *base)
{
    db_source_t *s = &rt->sources[rt->nsources];
    db_pool_options_t options = *base;
    options.name = name;
    options.conninfo = conninfo;
    int rc = db_pool_create(&s->pool, rt->loop, &options);
    if (rc != 0)
        return rc;
    s->router = rt;
    s->kind = kind;
    s->healthy = true; /* until a check says otherwise */
    rt->nsources++;
    return 0;
}

static int add_sources(db_router_t *rt, const config_sql_t *sql, const db_pool_options_t *base)
{
    char name[32];
    int rc = add_source(rt, SOURCE_MASTER, "master", sql->data_source, base);
    for (size_t i = 0; rc == 0 && i < sql->data_source_replicas.count; i++) {
        snprintf(name, sizeof(name), "replica-%zu", i + 1);
        rc = add_source(rt, SOURCE_REPLICA, name, sql->data_source_replicas.items[i], base);
    }
    for (size_t i = 0; rc == 0 && i < sql->data_source_search_replicas.count; i++) {
        snprintf(name, sizeof(name), "search-%zu", i + 1);
        rc = add_source(rt, SOURCE_SEARCH, name, sql->data_source_search_replicas.items[i], base);
    }
    return rc;
}

int db_router_create(db_router_t **out, h2o_loop_t *loop, const config_sql_t *sql, unsigned workers)
{
    db_router_t *rt = calloc(1, sizeof(*rt));
    size_t n = 1 + sql->data_source_replicas.count + sql->data_source_search_replicas.count;
    if (rt == NULL || (rt->sources = calloc(n, sizeof(db_source_t))) == NULL) {
        free(rt);
        return -ENOMEM;
    }
    rt->loop = loop;
    rt->nreplicas = sql->data_source_replicas.count;
    rt->nsearch = sql->data_source_search_replicas.count;
    h2o_linklist_init_anchor(&rt->lsn_waiting);
    h2o_linklist_init_anchor(&rt->lsn_inflight);
    h2o_linklist_init_anchor(&rt->parked);
    h2o_timeout_init(loop, &rt->park_timeout, (uint64_t)sql->query_timeout * 1000);
    h2o_timeout_init(loop, &rt->monitor_timeout, (uint64_t)sql->replica_monitor_interval_seconds * 1000);
    rt->monitor.cb = on_monitor;
    int64_t pools = (int64_t)(workers > 0 ? workers : 1) * (int64_t)n;
    int64_t share = sql->max_open_conns / pools;
    /* MaxIdleConns shared the same way; 0 keeps none idle, as in Go */
    int64_t idle = sql->max_idle_conns / pools;
    db_pool_options_t base = {
        .max_conns = share < 1 ? 1 : (unsigned)share,
        .query_timeout_ms = sql->query_timeout * 1000,
        .queue_max = ROUTER_QUEUE_MAX,
        .prepare = sql->prepare_statements,
        .idle_limited = true,
        .idle_max = sql->max_idle_conns == 0 ? 0
                    : idle < 1               ? 1
                                             : (unsigned)idle,
        .lifetime_ms = sql->conn_max_lifetime_milliseconds,
        .idle_time_ms = sql->conn_max_idle_time_milliseconds,
    };
    int rc = add_sources(rt, sql, &base);
    if (rc != 0) {
        db_router_destroy(rt);
        return rc;
    }
    *out = rt;
    log_info("database routing: master, %zu read and %zu search replicas, %u connections per pool (%u kept idle)",
             rt->nreplicas, rt->nsearch, base.max_conns, base.idle_max);
    if (n > 1)
        monitor_run(rt); /* at once: replicas prove their LSN before serving sessions that wrote */
    return 0;
}

void db_router_destroy(db_router_t *rt)
{
    if (rt == NULL)
        return;
    rt->destroying = true;
    h2o_timeout_unlink(&rt->monitor);
    if (rt->lsn_query != NULL)
        db_query_cancel(rt->lsn_query);
    for (size_t i = 0; i < rt->nsources; i++)
        if (rt->sources[i].check != NULL)
            db_query_cancel(rt->sources[i].check);
    for (size_t i = 0; i < rt->nsources; i++)
        db_pool_destroy(rt->sources[i].pool);
    h2o_linklist_insert_list(&rt->lsn_inflight, &rt->lsn_waiting);
    while (!h2o_linklist_is_empty(&rt->lsn_inflight)) {
        db_routed_t *rq = H2O_STRUCT_FROM_MEMBER(db_routed_t, lsn_link, rt->lsn_inflight.next);
        h2o_linklist_unlink(&rq->lsn_link);
        routed_free(rq);
    }
    while (!h2o_linklist_is_empty(&rt->parked)) {
        db_routed_t *rq = H2O_STRUCT_FROM_MEMBER(db_routed_t, lsn_link, rt->parked.next);
        routed_unpark(rq);
        routed_free(rq);
    }
    h2o_timeout_dispose(rt->loop, &rt->park_timeout);
    h2o_timeout_dispose(rt->loop, &rt->monitor_timeout);
    free(rt->sources);
    free(rt);
}

uint64_t db_router_master_lsn(const db_router_t *rt)
{
    return rt->master_lsn;
}

db_pool_t *db_router_master(db_router_t *rt)
{
    return rt->sources[0].pool;
}

void db_router_recycle(db_router_t *rt)
{
    for (size_t i = 0; i < rt->nsources; i++)
        db_pool_recycle(rt->sources[i].pool);
}
