/*
 * tests/unit/core/test_backoff.c - src/core/backoff.c: the doubling, the cap,
 * and the schedules the master, the cluster links, the database pool and
 * the migration child have always used.
 */
#include <check.h>
#include <limits.h>
#include <stdint.h>

#include "core/backoff.h"
#include "../check_main.h"

START_TEST(test_doubles_then_caps)
{
    ck_assert_int_eq(backoff_delay_ms(100, 5000, 0), 100);
    ck_assert_int_eq(backoff_delay_ms(100, 5000, 1), 200);
    ck_assert_int_eq(backoff_delay_ms(100, 5000, 5), 3200);
    ck_assert_int_eq(backoff_delay_ms(100, 5000, 6), 5000);
    ck_assert_int_eq(backoff_delay_ms(100, 5000, 7), 5000);
    ck_assert_int_eq(backoff_delay_ms(100, 5000, UINT_MAX), 5000);
    ck_assert_int_eq(backoff_delay_ms(100, 100, 3), 100);
    ck_assert_int_eq(backoff_delay_ms(1, INT64_MAX, 62), INT64_C(1) << 62);
    ck_assert_int_eq(backoff_delay_ms(1, INT64_MAX, 200), INT64_MAX);
}
END_TEST

/* The schedules as they were written before this helper. */
START_TEST(test_schedules_kept)
{
    for (unsigned f = 0; f < 40; f++) {
        /* master respawn: 250 << (n - 1) for n >= 1 (shift at most 7), at most 30 s */
        unsigned n = f + 1;
        int64_t master = 250LL << (n > 8 ? 7 : n - 1);
        ck_assert_int_eq(backoff_delay_ms(250, 30000, f), master > 30000 ? 30000 : master);
        /* link dial: 100 << min(failures, 5), at most 2 s */
        int64_t link = 100LL << (f < 5 ? f : 5);
        ck_assert_int_eq(backoff_delay_ms(100, 2000, f), link > 2000 ? 2000 : link);
    }
    /* database pool: 100, then doubled, at most 5 s */
    int64_t pool = 0;
    for (unsigned f = 0; f < 40; f++) {
        pool = pool == 0 ? 100 : pool * 2;
        if (pool > 5000)
            pool = 5000;
        ck_assert_int_eq(backoff_delay_ms(100, 5000, f), pool);
    }
    /* migrations: 1 s, then doubled, at most 30 s */
    unsigned seconds = 1;
    for (unsigned f = 0; f < 40; f++) {
        ck_assert_int_eq(backoff_delay_ms(1000, 30000, f) / 1000, seconds);
        seconds = seconds * 2 > 30 ? 30 : seconds * 2;
    }
}
END_TEST

static Suite *backoff_suite(void)
{
    Suite *s = suite_create("core_backoff");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_doubles_then_caps);
    tcase_add_test(tc, test_schedules_kept);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(backoff_suite());
}
