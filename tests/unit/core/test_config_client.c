/*
 * tests/unit/core/test_config_client.c - src/core/config_client.c: the maps
 * GET /config/client sends, limited and full, follow chorus's config where
 * chorus has the setting, say "off" for what it does not serve, and hold
 * only strings.
 */
#include <check.h>
#include <string.h>

#include "core/config_client.h"
#include "../check_main.h"

static config_t cfg;

static void load(const char *text)
{
    config_errors_t e;
    json_t *doc = json_loads(text, 0, NULL);
    ck_assert_ptr_nonnull(doc);
    ck_assert_int_eq(config_load_json(doc, &cfg, &e), 0);
    json_decref(doc);
}

static void teardown(void)
{
    config_free(&cfg);
}

static const char *get(json_t *map, const char *key)
{
    json_t *v = json_object_get(map, key);
    return v != NULL ? json_string_value(v) : NULL;
}

START_TEST(test_limited_follows_config)
{
    load("{\"ServiceSettings\": {\"SiteURL\": \"https://chat.example.com//\"},"
         " \"TeamSettings\": {\"SiteName\": \"Chorus Chat\", \"EnableOpenServer\": true,"
         " \"EnableUserCreation\": false}}");
    json_t *m = config_client_map(&cfg, false);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(get(m, "SiteURL"), "https://chat.example.com");
    ck_assert_str_eq(get(m, "SiteName"), "Chorus Chat");
    ck_assert_str_eq(get(m, "EnableOpenServer"), "true");
    ck_assert_str_eq(get(m, "EnableUserCreation"), "false");
    ck_assert_str_eq(get(m, "Version"), "11.9.0");
    ck_assert_str_eq(get(m, "BuildEnterpriseReady"), "false");
    /* the full map's keys stay out of the limited one */
    ck_assert_ptr_null(get(m, "EnableCommands"));
    ck_assert_ptr_null(get(m, "MaxFileSize"));
    json_decref(m);
}
END_TEST

START_TEST(test_full_adds_settings)
{
    load("{\"ServiceSettings\": {\"EnableDeveloper\": true}, \"FileSettings\": {\"MaxFileSize\": 1234},"
         " \"JobSettings\": {\"RunJobs\": false}}");
    json_t *m = config_client_map(&cfg, true);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(get(m, "SiteName"), "Mattermost"); /* the limited keys too */
    ck_assert_str_eq(get(m, "EnableDeveloper"), "true");
    ck_assert_str_eq(get(m, "MaxFileSize"), "1234");
    ck_assert_str_eq(get(m, "RunJobs"), "false");
    ck_assert_str_eq(get(m, "SQLDriverName"), "postgres");
    ck_assert_str_eq(get(m, "CollapsedThreads"), "disabled");
    ck_assert_str_eq(get(m, "EnableCluster"), "false"); /* license-gated */
    ck_assert_str_eq(get(m, "EnableCommands"), "false");
    json_decref(m);
}
END_TEST

START_TEST(test_only_strings)
{
    load("{}");
    for (int full = 0; full < 2; full++) {
        json_t *m = config_client_map(&cfg, full);
        const char *key;
        json_t *v;
        ck_assert_ptr_nonnull(m);
        ck_assert_int_gt(json_object_size(m), full ? 150 : 60);
        json_object_foreach(m, key, v)
        {
            ck_assert_msg(json_is_string(v), "%s is not a string", key);
        }
        json_decref(m);
    }
}
END_TEST

static Suite *config_client_suite(void)
{
    Suite *s = suite_create("config_client");
    TCase *tc = tcase_create("maps");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_limited_follows_config);
    tcase_add_test(tc, test_full_adds_settings);
    tcase_add_test(tc, test_only_strings);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(config_client_suite());
}
