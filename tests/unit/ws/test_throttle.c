/*
 * tests/unit/ws/test_throttle.c - src/ws/throttle.c: the per-socket token
 * bucket: a full burst at first, then the rate, fractions kept, capped at
 * the burst, no overflow after a long idle time.
 */
#include <check.h>

#include "ws/throttle.h"
#include "../check_main.h"

static unsigned take_all(ws_bucket_t *b, int64_t now, uint32_t rate, uint32_t burst)
{
    unsigned n = 0;
    while (ws_bucket_take(b, now, rate, burst))
        n++;
    return n;
}

START_TEST(test_burst_then_rate)
{
    ws_bucket_t b = {0};
    ck_assert_uint_eq(take_all(&b, 1000, 10, 50), 50); /* starts full */
    ck_assert(!ws_bucket_take(&b, 1000, 10, 50));
    ck_assert(!ws_bucket_take(&b, 1099, 10, 50)); /* 0.99 of a token */
    ck_assert(ws_bucket_take(&b, 1100, 10, 50));  /* 100 ms at 10/s: one */
    ck_assert(!ws_bucket_take(&b, 1100, 10, 50));
    ck_assert_uint_eq(take_all(&b, 2100, 10, 50), 10); /* a second: ten */
}
END_TEST

START_TEST(test_fractions_kept)
{
    ws_bucket_t b = {0};
    take_all(&b, 5000, 10, 5);
    /* one action every 30 ms at 10/s: each refill is 0.3 of a token, none lost */
    unsigned n = 0;
    for (int64_t t = 5030; t <= 6000; t += 30)
        n += ws_bucket_take(&b, t, 10, 5);
    ck_assert_uint_eq(n, 9); /* 0.99 s: 9.9 tokens made */
}
END_TEST

START_TEST(test_capped_and_no_overflow)
{
    ws_bucket_t b = {0};
    take_all(&b, 1, 10, 50);
    ck_assert_uint_eq(take_all(&b, 3600 * 1000, 10, 50), 50);               /* an hour idle: the burst, no more */
    ck_assert_uint_eq(take_all(&b, INT64_C(1) << 60, 4000000000u, 50), 50); /* huge time and rate */
    ck_assert(!ws_bucket_take(&b, 5, 10, 50));                              /* time going back refills nothing */
}
END_TEST

static Suite *throttle_suite(void)
{
    Suite *s = suite_create("ws_throttle");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_burst_then_rate);
    tcase_add_test(tc, test_fractions_kept);
    tcase_add_test(tc, test_capped_and_no_overflow);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(throttle_suite());
}
