/*
 * tests/unit/worker/test_roles.c - src/worker/roles.c and store/role.c: the
 * permission lookups every check makes (a role list grants a permission, the
 * roles granting one as a text[]), on Mattermost's default roles, and the
 * permission and role-name rules.
 */
#include <check.h>
#include <string.h>

#include "store/role.h"
#include "worker/roles.h"
#include "../check_main.h"

static worker_roles_t roles;

static void setup(void)
{
    ck_assert_int_eq(worker_roles_init(&roles), 0);
}

static void teardown(void)
{
    worker_roles_free(&roles);
}

START_TEST(test_grant_defaults)
{
    ck_assert(worker_roles_grant(&roles, "system_user", "create_team"));
    ck_assert(!worker_roles_grant(&roles, "system_user", "manage_system"));
    ck_assert(worker_roles_grant(&roles, "system_user system_admin", "manage_system"));
    ck_assert(worker_roles_grant(&roles, "system_admin", "create_public_channel"));
    ck_assert(worker_roles_grant(&roles, "team_user", "create_public_channel"));
    ck_assert(!worker_roles_grant(&roles, "team_guest", "create_public_channel"));
    ck_assert(worker_roles_grant(&roles, "  team_guest   team_user ", "add_user_to_team"));
    ck_assert(!worker_roles_grant(&roles, "", "create_team"));
    ck_assert(!worker_roles_grant(&roles, NULL, "create_team"));
    ck_assert(!worker_roles_grant(&roles, "no_such_role", "create_team"));
    /* a prefix of a role or of a permission is neither */
    ck_assert(!worker_roles_grant(&roles, "system_use", "create_team"));
    ck_assert(!worker_roles_grant(&roles, "system_user", "create_tea"));
    ck_assert(!worker_roles_grant(&roles, "system_user", ""));
}
END_TEST

START_TEST(test_granting)
{
    char out[512];
    ck_assert(worker_roles_granting(&roles, "create_public_channel", out, sizeof(out)));
    ck_assert_str_eq(out, "{system_admin,team_user}");
    ck_assert(worker_roles_granting(&roles, "no_such_permission", out, sizeof(out)));
    ck_assert_str_eq(out, "{}");
    ck_assert(!worker_roles_granting(&roles, "create_public_channel", out, 10));
    ck_assert(!worker_roles_granting(&roles, "create_public_channel", out, 2));
}
END_TEST

START_TEST(test_rules)
{
    ck_assert(role_permission_known("create_public_channel"));
    ck_assert(role_permission_known("sysconsole_write_site_ip_filters"));
    ck_assert(role_permission_known("manage_webhooks")); /* deprecated, still accepted */
    ck_assert(!role_permission_known("no_such_permission"));
    ck_assert(!role_permission_known(""));
    ck_assert(!role_permission_known("create_team manage_system"));
    ck_assert(role_list_has("a bb  ccc", "ccc", 3));
    ck_assert(role_list_has("a bb  ccc", "bb", 2));
    ck_assert(!role_list_has("a bb  ccc", "b", 1));
    ck_assert(!role_list_has("", "a", 1));
    ck_assert(role_name_valid("team_user"));
    ck_assert(role_name_valid("a"));
    ck_assert(!role_name_valid(""));
    ck_assert(!role_name_valid("Team_user"));
    ck_assert(!role_name_valid("team user"));
    char long_name[66];
    memset(long_name, 'a', 65);
    long_name[65] = '\0';
    ck_assert(!role_name_valid(long_name));
    long_name[64] = '\0';
    ck_assert(role_name_valid(long_name));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("roles");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_grant_defaults);
    tcase_add_test(tc, test_granting);
    tcase_add_test(tc, test_rules);
    suite_add_tcase(s, tc);
    return check_run(s);
}
