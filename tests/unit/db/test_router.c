/* Tests for src/db/router.c: LSN parsing, where each intent goes while every
 * source is healthy and unobserved, a replica taken out when it fails, a
 * read rerouted to the master, and destroy with queries in flight.  The
 * "servers" are listening sockets that never answer (the kernel completes
 * the handshake, libpq waits for the startup reply), so nothing needs a
 * PostgreSQL and every state is deterministic; closing one resets its
 * connections, as a crashed server would. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "db/router.h"
#include "../check_main.h"

typedef struct {
    int fd;
    char dsn[128];
} silent_server_t;

static void silent_server_open(silent_server_t *s)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(s->fd, 0);
    ck_assert_int_eq(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(s->fd, 64), 0);
    ck_assert_int_eq(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
    snprintf(s->dsn, sizeof(s->dsn), "postgres://u@127.0.0.1:%d/db?sslmode=disable&connect_timeout=30",
             ntohs(a.sin_port));
}

typedef struct {
    h2o_loop_t *loop;
    db_router_t *router;
    silent_server_t master, replicas;
    char *replica_dsns[2], *search_dsns[1];
    config_sql_t sql;
} ctx_t;

/* A router over a master and `nreplicas` read (+ `nsearch` search) replicas,
 * the replicas all on one silent server. */
static void ctx_init(ctx_t *c, size_t nreplicas, size_t nsearch)
{
    memset(c, 0, sizeof(*c));
    c->loop = h2o_evloop_create();
    silent_server_open(&c->master);
    silent_server_open(&c->replicas);
    for (size_t i = 0; i < 2; i++)
        c->replica_dsns[i] = c->replicas.dsn;
    c->search_dsns[0] = c->replicas.dsn;
    c->sql = (config_sql_t){
        .data_source = c->master.dsn,
        .data_source_replicas = {.items = c->replica_dsns, .count = nreplicas},
        .data_source_search_replicas = {.items = c->search_dsns, .count = nsearch},
        .max_open_conns = 300,
        .query_timeout = 30,
        .replica_monitor_interval_seconds = 1,
    };
    ck_assert_int_eq(db_router_create(&c->router, c->loop, &c->sql, 2), 0);
}

static void ctx_dispose(ctx_t *c)
{
    db_router_destroy(c->router);
    close(c->master.fd);
    if (c->replicas.fd >= 0)
        close(c->replicas.fd);
    h2o_evloop_destroy(c->loop);
}

static const char *picked(ctx_t *c, db_intent_t intent, uint64_t min_lsn)
{
    return db_pool_name(db_router_pick(c->router, intent, min_lsn));
}

START_TEST(test_lsn_parse)
{
    ck_assert_uint_eq(db_lsn_parse("0/0"), 0);
    ck_assert_uint_eq(db_lsn_parse("0/406EDA0"), 0x406EDA0);
    ck_assert_uint_eq(db_lsn_parse("16/B374D848"), 0x16B374D848ULL);
    ck_assert_uint_eq(db_lsn_parse("FFFFFFFF/FFFFFFFF"), UINT64_MAX);
    ck_assert_uint_eq(db_lsn_parse(""), 0);
    ck_assert_uint_eq(db_lsn_parse(NULL), 0);
    ck_assert_uint_eq(db_lsn_parse("garbage"), 0);
}
END_TEST

START_TEST(test_without_replicas_everything_goes_to_the_master)
{
    ctx_t c;
    ctx_init(&c, 0, 0);
    ck_assert_ptr_eq(db_router_pick(c.router, DB_INTENT_WRITE, 0), db_router_master(c.router));
    ck_assert_str_eq(picked(&c, DB_INTENT_READ, 0), "master");
    ck_assert_str_eq(picked(&c, DB_INTENT_SEARCH, 0), "master");
    ck_assert_str_eq(picked(&c, DB_INTENT_READ, DB_LSN_MASTER_ONLY), "master");
    ck_assert_uint_eq(db_router_master_lsn(c.router), 0);
    db_router_recycle(c.router);
    ctx_dispose(&c);
}
END_TEST

START_TEST(test_intents_and_lsn_rule)
{
    ctx_t c;
    ctx_init(&c, 2, 1);
    /* healthy until a check says otherwise, at LSN 0 until one is observed */
    ck_assert_str_eq(picked(&c, DB_INTENT_WRITE, 0), "master");
    const char *a = picked(&c, DB_INTENT_READ, 0), *b = picked(&c, DB_INTENT_READ, 0);
    const char *again = picked(&c, DB_INTENT_READ, 0);
    ck_assert(strncmp(a, "replica-", 8) == 0 && strncmp(b, "replica-", 8) == 0);
    ck_assert_str_ne(a, b); /* round-robin */
    ck_assert_str_eq(again, a);
    ck_assert_str_eq(picked(&c, DB_INTENT_READ, 1), "master"); /* no replica known to have it */
    ck_assert_str_eq(picked(&c, DB_INTENT_READ, DB_LSN_MASTER_ONLY), "master");
    ck_assert_str_eq(picked(&c, DB_INTENT_SEARCH, 0), "search-1");
    ck_assert_str_eq(picked(&c, DB_INTENT_SEARCH, 1), "master");
    ctx_dispose(&c);
}
END_TEST

static void on_never(void *data, PGresult *result, const char *error, const db_outcome_t *outcome)
{
    (void)result, (void)error, (void)outcome;
    (*(int *)data)++;
}

static bool run_until_read_goes_to_master(ctx_t *c, int64_t ms)
{
    int64_t deadline = clock_monotonic_ms() + ms;
    while (clock_monotonic_ms() < deadline) {
        h2o_evloop_run(c->loop, 10);
        if (strcmp(picked(c, DB_INTENT_READ, 0), "master") == 0)
            return true;
    }
    return false;
}

START_TEST(test_failed_replica_is_taken_out_and_its_read_rerouted)
{
    ctx_t c;
    ctx_init(&c, 1, 0);
    int calls = 0;
    db_routed_t *rq = db_router_query(c.router, DB_INTENT_READ, 0, "SELECT 1", 0, NULL, on_never, &calls);
    ck_assert_ptr_nonnull(rq);
    h2o_evloop_run(c.loop, 10);
    close(c.replicas.fd); /* the replica dies: its connections are reset */
    c.replicas.fd = -1;
    ck_assert(run_until_read_goes_to_master(&c, 3000));
    ck_assert_int_eq(calls, 0); /* rerouted to the master, which never answers */
    db_routed_cancel(rq);
    ck_assert_int_eq(calls, 0);
    ck_assert_str_eq(picked(&c, DB_INTENT_SEARCH, 0), "master");
    ctx_dispose(&c);
}
END_TEST

typedef struct {
    int calls, errors;
} tally_t;

static void on_tally(void *data, PGresult *result, const char *error, const db_outcome_t *outcome)
{
    tally_t *t = data;
    (void)result;
    ck_assert_ptr_nonnull(outcome->source);
    t->calls++;
    t->errors += error != NULL;
}

START_TEST(test_destroy_fails_what_is_in_flight_once)
{
    ctx_t c;
    ctx_init(&c, 2, 1);
    tally_t t = {0};
    const char *params[] = {"x"};
    db_intent_t intents[] = {DB_INTENT_WRITE, DB_INTENT_READ, DB_INTENT_SEARCH, DB_INTENT_READ};
    for (size_t i = 0; i < 4; i++)
        ck_assert_ptr_nonnull(db_router_query(c.router, intents[i], 0, "SELECT $1", 1, params, on_tally, &t));
    db_routed_t *cancelled = db_router_query(c.router, DB_INTENT_READ, 0, "SELECT 2", 0, NULL, on_tally, &t);
    h2o_evloop_run(c.loop, 10);
    db_routed_cancel(cancelled);
    db_router_destroy(c.router);
    ck_assert_int_eq(t.calls, 4);
    ck_assert_int_eq(t.errors, 4);
    close(c.master.fd);
    close(c.replicas.fd);
    h2o_evloop_destroy(c.loop);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("router");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_lsn_parse);
    tcase_add_test(tc, test_without_replicas_everything_goes_to_the_master);
    tcase_add_test(tc, test_intents_and_lsn_rule);
    tcase_add_test(tc, test_failed_replica_is_taken_out_and_its_read_rerouted);
    tcase_add_test(tc, test_destroy_fails_what_is_in_flight_once);
    suite_add_tcase(s, tc);
    return check_run(s);
}
