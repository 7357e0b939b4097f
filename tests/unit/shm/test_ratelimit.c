/*
 * tests/unit/shm/test_ratelimit.c - src/shm/ratelimit.c: the GCRA step with a
 * clock of the test's own (the figures Mattermost's limiter gives: a burst of
 * MaxBurst + 1, one more every 1/PerSec s, the Remaining/Reset/Retry-After
 * values), and the table in a node's region shared by forked processes that
 * charge one key at once: exactly one burst passes between them.
 */
#include <check.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shm/ratelimit.h"
#include "shm/region.h"
#include "../check_main.h"

#define MS     1000000LL
#define T0     (1000 * 1000 * MS) /* an arbitrary monotonic time */
#define DFLT   ((shm_ratelimit_quota_t){.per_sec = 10, .max_burst = 100})
#define CHILDS 4

START_TEST(test_burst_then_refused)
{
    int64_t tat = 0;
    shm_ratelimit_result_t r;
    for (int i = 0; i < 101; i++) {
        ck_assert_msg(!shm_ratelimit_step(&tat, T0, DFLT, &r), "request %d refused", i);
        ck_assert_int_eq(r.limit, 101);
        ck_assert_int_eq(r.remaining, 100 - i);
        ck_assert_int_eq(r.retry_after_ns, -1);
        ck_assert_int_eq(r.reset_after_ns, (i + 1) * 100 * MS);
    }
    int64_t before = tat;
    ck_assert(shm_ratelimit_step(&tat, T0, DFLT, &r));
    ck_assert_int_eq(tat, before); /* a refusal costs nothing */
    ck_assert_int_eq(r.remaining, 0);
    ck_assert_int_eq(r.retry_after_ns, 100 * MS);
    ck_assert_int_eq(r.reset_after_ns, 101 * 100 * MS);
}
END_TEST

START_TEST(test_refill)
{
    int64_t tat = 0;
    shm_ratelimit_result_t r;
    for (int i = 0; i < 101; i++)
        ck_assert(!shm_ratelimit_step(&tat, T0, DFLT, &r));
    /* half an interval later: still refused, for the other half */
    ck_assert(shm_ratelimit_step(&tat, T0 + 50 * MS, DFLT, &r));
    ck_assert_int_eq(r.retry_after_ns, 50 * MS);
    /* one interval later: exactly one more */
    ck_assert(!shm_ratelimit_step(&tat, T0 + 100 * MS, DFLT, &r));
    ck_assert_int_eq(r.remaining, 0);
    ck_assert(shm_ratelimit_step(&tat, T0 + 100 * MS, DFLT, &r));
    /* long idle: a full burst again, as for a key never seen */
    ck_assert(!shm_ratelimit_step(&tat, T0 + 60000 * MS, DFLT, &r));
    ck_assert_int_eq(r.remaining, 100);
    ck_assert_int_eq(r.reset_after_ns, 100 * MS);
}
END_TEST

START_TEST(test_sustained_rate)
{
    /* 2 per second, burst 1: at 4 requests a second, half pass */
    shm_ratelimit_quota_t q = {.per_sec = 2, .max_burst = 1};
    int64_t tat = 0;
    shm_ratelimit_result_t r;
    int passed = 0;
    for (int i = 0; i < 40; i++)
        passed += !shm_ratelimit_step(&tat, T0 + i * 250 * MS, q, &r);
    ck_assert_int_ge(passed, 20);
    ck_assert_int_le(passed, 22); /* the burst of 2 on top of 10 s at 2/s */
}
END_TEST

START_TEST(test_region_table)
{
    shm_region_t region;
    ck_assert_int_eq(shm_region_create_node(&region, 16u << 20, 1000), 0);
    shm_cache_t *table = shm_region_ratelimit(&region);
    ck_assert_ptr_nonnull(table);
    shm_cache_stats_t st;
    shm_cache_get_stats(table, &st);
    ck_assert_uint_ge(st.capacity, 1000);
    ck_assert_uint_le(st.capacity, 2048);

    shm_ratelimit_result_t r;
    ck_assert_int_eq(shm_ratelimit_take(table, "a", T0, (shm_ratelimit_quota_t){1, 1}, &r), 0);
    ck_assert_int_eq(shm_ratelimit_take(table, "a", T0, (shm_ratelimit_quota_t){1, 1}, &r), 0);
    ck_assert_int_eq(shm_ratelimit_take(table, "a", T0, (shm_ratelimit_quota_t){1, 1}, &r), 1);
    /* another key has its own bucket */
    ck_assert_int_eq(shm_ratelimit_take(table, "b", T0, (shm_ratelimit_quota_t){1, 1}, &r), 0);

    /* processes charging one key share one burst between them */
    int pipefd[2];
    ck_assert_int_eq(pipe(pipefd), 0);
    for (int c = 0; c < CHILDS; c++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            unsigned char passed = 0;
            for (int i = 0; i < 60; i++)
                passed += shm_ratelimit_take(table, "shared", T0, DFLT, &r) == 0;
            _exit(write(pipefd[1], &passed, 1) == 1 ? 0 : 1);
        }
    }
    int total = 0;
    for (int c = 0; c < CHILDS; c++) {
        unsigned char n;
        ck_assert_int_eq(read(pipefd[0], &n, 1), 1);
        total += n;
    }
    for (int c = 0; c < CHILDS; c++) {
        int status;
        ck_assert_int_gt(wait(&status), 0);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    ck_assert_int_eq(total, 101);
    close(pipefd[0]);
    close(pipefd[1]);
    shm_region_destroy(&region);
}
END_TEST

START_TEST(test_region_without_table)
{
    shm_region_t region;
    ck_assert_int_eq(shm_region_create_node(&region, 16u << 20, 0), 0);
    ck_assert_ptr_null(shm_region_ratelimit(&region));
    shm_ratelimit_result_t r;
    ck_assert_int_lt(shm_ratelimit_take(NULL, "a", T0, DFLT, &r), 0);
    shm_region_destroy(&region);
}
END_TEST

static Suite *ratelimit_suite(void)
{
    Suite *s = suite_create("shm_ratelimit");
    TCase *tc = tcase_create("gcra");
    tcase_add_test(tc, test_burst_then_refused);
    tcase_add_test(tc, test_refill);
    tcase_add_test(tc, test_sustained_rate);
    tcase_add_test(tc, test_region_table);
    tcase_add_test(tc, test_region_without_table);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(ratelimit_suite());
}
