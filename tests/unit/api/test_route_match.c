/*
 * tests/unit/api/test_route_match.c - src/api/route_match.c: literals,
 * placeholders capturing one segment each, the trailing slash, and what
 * must not match (a prefix, an empty segment, an extra segment, too many
 * captures).
 */
#include <check.h>
#include <string.h>

#include "api/route_match.h"
#include "../check_main.h"

static bool match(const char *pattern, const char *path, h2o_iovec_t *params, size_t *n)
{
    return api_route_match(pattern, h2o_iovec_init(path, strlen(path)), params, 4, n);
}

static bool seg_is(h2o_iovec_t v, const char *s)
{
    return v.len == strlen(s) && memcmp(v.base, s, v.len) == 0;
}

START_TEST(test_literal)
{
    h2o_iovec_t params[4];
    size_t n = 9;
    ck_assert(match("/api/v4/system/ping", "/api/v4/system/ping", params, &n));
    ck_assert_uint_eq(n, 0);
    ck_assert(match("/api/v4/system/ping", "/api/v4/system/ping/", params, &n)); /* trailing slash */
    ck_assert(!match("/api/v4/system/ping", "/api/v4/system/ping//", params, &n));
    ck_assert(!match("/api/v4/system/ping", "/api/v4/system/pin", params, &n));
    ck_assert(!match("/api/v4/system/ping", "/api/v4/system/pings", params, &n));
    ck_assert(!match("/api/v4/system/ping", "/api/v4/system", params, &n));
    ck_assert(!match("/api/v4/system/ping", "", params, &n));
}
END_TEST

START_TEST(test_placeholders)
{
    h2o_iovec_t params[4];
    size_t n = 0;
    ck_assert(
        match("/api/v4/users/{user_id}/teams/{team_id}/channels", "/api/v4/users/u1/teams/t22/channels", params, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert(seg_is(params[0], "u1"));
    ck_assert(seg_is(params[1], "t22"));
    ck_assert(match("/api/v4/users/{user_id}", "/api/v4/users/me/", params, &n));
    ck_assert_uint_eq(n, 1);
    ck_assert(seg_is(params[0], "me"));
    /* a placeholder is one non-empty segment */
    ck_assert(!match("/api/v4/users/{user_id}", "/api/v4/users/", params, &n));
    ck_assert(!match("/api/v4/users/{user_id}", "/api/v4/users//x", params, &n));
    ck_assert(!match("/api/v4/users/{user_id}", "/api/v4/users/a/b", params, &n));
    ck_assert(!match("/api/v4/users/{user_id}/status", "/api/v4/users/a", params, &n));
}
END_TEST

START_TEST(test_capture_limit)
{
    h2o_iovec_t params[2];
    size_t n = 0;
    h2o_iovec_t path = h2o_iovec_init("/a/b/c", 6);
    ck_assert(api_route_match("/{x}/{y}", h2o_iovec_init("/a/b", 4), params, 2, &n));
    ck_assert(!api_route_match("/{x}/{y}/{z}", path, params, 2, &n)); /* never past `max` */
}
END_TEST

static Suite *route_match_suite(void)
{
    Suite *s = suite_create("api_route_match");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_literal);
    tcase_add_test(tc, test_placeholders);
    tcase_add_test(tc, test_capture_limit);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(route_match_suite());
}
