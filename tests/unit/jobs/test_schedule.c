/* Tests for src/jobs/schedule.c: time-of-day parsing and daily slots. */
#include <check.h>
#include <stdint.h>

#include "jobs/schedule.h"
#include "../check_main.h"

#define MINUTE_MS 60000LL
#define DAY_MS    (24 * 60 * MINUTE_MS)
#define DAY_1000  (1000 * DAY_MS) /* a midnight, UTC */

START_TEST(test_time_of_day)
{
    ck_assert_int_eq(jobs_time_of_day("00:00"), 0);
    ck_assert_int_eq(jobs_time_of_day("02:00"), 120);
    ck_assert_int_eq(jobs_time_of_day("23:59"), 23 * 60 + 59);
    ck_assert_int_eq(jobs_time_of_day("24:00"), -1);
    ck_assert_int_eq(jobs_time_of_day("12:60"), -1);
    ck_assert_int_eq(jobs_time_of_day("2:00"), -1);
    ck_assert_int_eq(jobs_time_of_day("02-00"), -1);
    ck_assert_int_eq(jobs_time_of_day(""), -1);
    ck_assert_int_eq(jobs_time_of_day(NULL), -1);
}
END_TEST

START_TEST(test_slot_is_the_most_recent_due_one)
{
    /* before today's 02:00: yesterday's */
    ck_assert_int_eq(jobs_daily_slot(DAY_1000 + 60 * MINUTE_MS, 120), DAY_1000 - DAY_MS + 120 * MINUTE_MS);
    /* at 02:00 exactly: today's is due */
    ck_assert_int_eq(jobs_daily_slot(DAY_1000 + 120 * MINUTE_MS, 120), DAY_1000 + 120 * MINUTE_MS);
    /* later the same day: still today's (a new leader re-creates it: a no-op if it exists) */
    ck_assert_int_eq(jobs_daily_slot(DAY_1000 + 23 * 60 * MINUTE_MS, 120), DAY_1000 + 120 * MINUTE_MS);
    /* midnight slots */
    ck_assert_int_eq(jobs_daily_slot(DAY_1000, 0), DAY_1000);
    ck_assert_int_eq(jobs_daily_slot(DAY_1000 - 1, 0), DAY_1000 - DAY_MS);
}
END_TEST

/* Every node, leader or not, at any moment of one day, names the same slot. */
START_TEST(test_slot_is_stable_across_a_day)
{
    int64_t first = jobs_daily_slot(DAY_1000 + 120 * MINUTE_MS, 120);
    for (int64_t t = DAY_1000 + 120 * MINUTE_MS; t < DAY_1000 + DAY_MS + 120 * MINUTE_MS; t += 7 * MINUTE_MS)
        ck_assert_int_eq(jobs_daily_slot(t, 120), first);
    ck_assert_int_eq(jobs_daily_slot(DAY_1000 + DAY_MS + 120 * MINUTE_MS, 120), first + DAY_MS);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("jobs/schedule");
    TCase *tc = tcase_create("slots");
    tcase_add_test(tc, test_time_of_day);
    tcase_add_test(tc, test_slot_is_the_most_recent_due_one);
    tcase_add_test(tc, test_slot_is_stable_across_a_day);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(suite());
}
