/*
 * tests/unit/worker/test_member_counts.c - src/worker/member_counts.c: the
 * channel member counts of channel stats are served while valid, forgotten
 * one by one or all at once, and a load that raced an invalidation never
 * stores what it read.
 */
#include <check.h>
#include <stdlib.h>

#include "worker/member_counts.h"
#include "../check_main.h"

static const char a[] = "aaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char b[] = "bbbbbbbbbbbbbbbbbbbbbbbbbb";

START_TEST(test_put_get_forget)
{
    member_counts_t *mc = calloc(1, sizeof(*mc));
    int64_t n = -1;
    ck_assert(!member_counts_get(mc, a, &n));
    member_counts_put(mc, a, 7, member_counts_ticket(mc));
    member_counts_put(mc, b, 3, member_counts_ticket(mc));
    ck_assert(member_counts_get(mc, a, &n));
    ck_assert_int_eq(n, 7);
    member_counts_forget(mc, a);
    ck_assert(!member_counts_get(mc, a, &n));
    ck_assert(member_counts_get(mc, b, &n));
    ck_assert_int_eq(n, 3);
    member_counts_forget_all(mc);
    ck_assert(!member_counts_get(mc, b, &n));
    ck_assert_int_eq(mc->hits, 2);
    /* only ids are keys */
    member_counts_put(mc, "short", 1, member_counts_ticket(mc));
    ck_assert(!member_counts_get(mc, "short", &n));
    free(mc);
}
END_TEST

START_TEST(test_stale_load_not_stored)
{
    member_counts_t *mc = calloc(1, sizeof(*mc));
    int64_t n;
    uint64_t ticket = member_counts_ticket(mc);
    member_counts_forget(mc, b); /* a change while the count was being read */
    member_counts_put(mc, a, 5, ticket);
    ck_assert(!member_counts_get(mc, a, &n));
    member_counts_put(mc, a, 6, member_counts_ticket(mc));
    ck_assert(member_counts_get(mc, a, &n));
    ck_assert_int_eq(n, 6);
    free(mc);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("member_counts");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_put_get_forget);
    tcase_add_test(tc, test_stale_load_not_stored);
    suite_add_tcase(s, tc);
    return check_run(s);
}
