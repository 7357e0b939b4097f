/*
 * Tests for src/core/config_save.c: a valid save replaces the file with a
 * complete config that keeps this node's per-node keys, an invalid one
 * changes nothing, placeholder secrets keep the running values, keys the
 * environment overrides keep the file's values, and a directory that cannot
 * be written leaves the old file and no temporary file behind; what the
 * peers are sent of a save carries no secret of this node.
 *
 * JSON written inline uses ` for " (see doc_text).  main() clears any MM_*
 * variable inherited from the caller's environment first; tests that set one
 * unset it before returning.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/config.h"
#include "core/config_save.h"
#include "core/config_schema.h"
#include "../check_main.h"

#ifndef ETC_DIR
#error "build with -DETC_DIR='\"…/etc\"'"
#endif

extern char **environ;

typedef struct {
    char dir[64];
    char path[128];
    config_t running;
} fixture_t;

static json_t *doc_text(const char *text)
{
    char *copy = strdup(text);
    json_error_t jerr;
    json_t *doc;

    ck_assert_ptr_nonnull(copy);
    for (char *p = copy; *p != '\0'; p++)
        if (*p == '`')
            *p = '"';
    doc = json_loads(copy, 0, &jerr);
    ck_assert_msg(doc != NULL, "test JSON %s: %s", copy, jerr.text);
    free(copy);
    return doc;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_ge(fputs(text, f), 0);
    ck_assert_int_eq(fclose(f), 0);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long n;

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Entries of `dir` other than . and .. */
static int dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* A node started from a file of its own, with per-node values that differ
 * from the defaults and a data source with a password in it. */
static void fixture_setup(fixture_t *fx)
{
    config_errors_t e;

    snprintf(fx->dir, sizeof fx->dir, "/tmp/chorus-config-save-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(fx->dir));
    snprintf(fx->path, sizeof fx->path, "%s/config.json", fx->dir);
    write_file(fx->path, "{\n"
                         "  \"ServiceSettings\": {\"ListenAddress\": \"127.0.0.1:9100\", \"SiteURL\": \"\"},\n"
                         "  \"SqlSettings\": {\"DataSource\": \"postgres://mm:s3cret@db1/mm\",\n"
                         "                  \"DataSourceReplicas\": [\"postgres://mm:r1@db2/mm\", "
                         "\"postgres://mm:r2@db3/mm\"]},\n"
                         "  \"LogSettings\": {\"FileLocation\": \"/var/log/node1\"},\n"
                         "  \"ClusterSettings\": {\"GossipPort\": 9000, \"StreamingPort\": 9001},\n"
                         "  \"ProcessSettings\": {\"Workers\": 3}\n"
                         "}\n");
    ck_assert_int_eq(chmod(fx->path, 0640), 0);
    ck_assert_msg(config_load(fx->path, &fx->running, &e) == 0, "%s", e.count ? e.lines[0] : "");
}

static void fixture_teardown(fixture_t *fx)
{
    config_free(&fx->running);
    unlink(fx->path);
    ck_assert_int_eq(rmdir(fx->dir), 0);
}

static bool has_line(const config_errors_t *e, const char *prefix)
{
    for (size_t i = 0; i < e->count; i++)
        if (strncmp(e->lines[i], prefix, strlen(prefix)) == 0)
            return true;
    return false;
}

START_TEST(test_valid_save_keeps_per_node_keys)
{
    fixture_t fx;
    config_errors_t e;
    config_t saved;
    struct stat st;

    fixture_setup(&fx);
    /* another node's whole config: its own per-node values, one shared change,
     * a section chorus does not know, a key spelled in another case */
    json_t *doc = doc_text("{`ServiceSettings`: {`ListenAddress`: `:7777`, `EnableDeveloper`: true},"
                           " `TeamSettings`: {`SiteName`: `Changed`},"
                           " `SqlSettings`: {`DataSource`: `postgres://mm:s3cret@db1/mm`},"
                           " `LogSettings`: {`FileLocation`: `/var/log/node2`},"
                           " `ClusterSettings`: {`GossipPort`: 8074, `UseIpAddress`: false},"
                           " `ProcessSettings`: {`Workers`: 5},"
                           " `PluginSettings`: {`Enable`: true}}");
    ck_assert_int_eq(config_save(fx.path, doc, &fx.running, &e), 0);
    ck_assert_uint_eq(e.count, 0);
    ck_assert_int_eq(dir_entries(fx.dir), 1);
    ck_assert_int_eq(stat(fx.path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0640);

    /* what a restart loads */
    ck_assert_msg(config_load(fx.path, &saved, &e) == 0, "%s", e.count ? e.lines[0] : "");
    ck_assert_str_eq(saved.team.site_name, "Changed");
    ck_assert(saved.service.enable_developer);
    ck_assert_str_eq(saved.service.listen_address, "127.0.0.1:9100");
    ck_assert_str_eq(saved.log.file_location, "/var/log/node1");
    ck_assert_int_eq(saved.cluster.gossip_port, 9000);
    ck_assert_int_eq(saved.cluster.streaming_port, 9001);
    ck_assert(saved.cluster.use_ip_address);
    ck_assert_int_eq(saved.process.workers, 3);
    ck_assert_str_eq(saved.sql.data_source, "postgres://mm:s3cret@db1/mm");
    config_free(&saved);

    /* complete, in Mattermost's spelling, unknown sections kept, one spelling per key */
    json_t *file = json_load_file(fx.path, 0, NULL);
    ck_assert_ptr_nonnull(file);
    for (size_t i = 0; i < config_schema_count; i++) {
        const config_key_t *k = &config_schema[i];
        ck_assert_msg(json_object_get(json_object_get(file, k->section), k->key) != NULL, "%s.%s missing", k->section,
                      k->key);
    }
    ck_assert_ptr_null(json_object_get(json_object_get(file, "ClusterSettings"), "UseIpAddress"));
    ck_assert(json_is_true(json_object_get(json_object_get(file, "PluginSettings"), "Enable")));
    ck_assert(json_equal(file, doc)); /* `doc` is what was written */
    json_decref(file);
    json_decref(doc);

    size_t len;
    char *text = read_file(fx.path, &len);
    ck_assert_uint_gt(len, 0);
    ck_assert_int_eq(text[len - 1], '\n');
    free(text);
    fixture_teardown(&fx);
}
END_TEST

START_TEST(test_invalid_leaves_file_identical)
{
    fixture_t fx;
    config_errors_t e;
    size_t before_len, after_len;

    fixture_setup(&fx);
    char *before = read_file(fx.path, &before_len);
    json_t *doc = doc_text("{`TeamSettings`: {`MaxUsersPerTeam`: -1},"
                           " `SqlSettings`: {`QueryTimeout`: `soon`},"
                           " `ServiceSettings`: {`ListenAddress`: `nonsense`}}");
    ck_assert_int_eq(config_save(fx.path, doc, &fx.running, &e), -EINVAL);
    ck_assert(has_line(&e, "TeamSettings.MaxUsersPerTeam: "));
    ck_assert(has_line(&e, "SqlSettings.QueryTimeout: "));
    /* per-node: this node's value replaced the body's, so not an error */
    ck_assert(!has_line(&e, "ServiceSettings.ListenAddress"));
    ck_assert_uint_eq(e.count, 2);
    char *after = read_file(fx.path, &after_len);
    ck_assert_uint_eq(after_len, before_len);
    ck_assert_int_eq(memcmp(before, after, before_len), 0);
    ck_assert_int_eq(dir_entries(fx.dir), 1);
    free(before);
    free(after);
    json_decref(doc);

    /* not an object at all */
    doc = json_array();
    ck_assert_int_eq(config_save(fx.path, doc, &fx.running, &e), -EINVAL);
    ck_assert_uint_eq(e.count, 1);
    json_decref(doc);
    fixture_teardown(&fx);
}
END_TEST

START_TEST(test_placeholder_secrets_keep_running_values)
{
    fixture_t fx;
    config_errors_t e;
    config_t saved;

    fixture_setup(&fx);
    /* what GET /config answered, sent back with one change */
    json_t *doc = config_to_json(&fx.running, true);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(doc, "SqlSettings"), "DataSource")),
                     CONFIG_FAKE_SETTING);
    json_object_set_new(json_object_get(doc, "TeamSettings"), "SiteName", json_string("Round trip"));
    ck_assert_int_eq(config_save(fx.path, doc, &fx.running, &e), 0);
    ck_assert_msg(config_load(fx.path, &saved, &e) == 0, "%s", e.count ? e.lines[0] : "");
    ck_assert_str_eq(saved.team.site_name, "Round trip");
    ck_assert_str_eq(saved.sql.data_source, "postgres://mm:s3cret@db1/mm");
    ck_assert_uint_eq(saved.sql.data_source_replicas.count, 2);
    ck_assert_str_eq(saved.sql.data_source_replicas.items[0], "postgres://mm:r1@db2/mm");
    ck_assert_str_eq(saved.sql.data_source_replicas.items[1], "postgres://mm:r2@db3/mm");
    config_free(&saved);
    json_decref(doc);

    /* a new secret is saved as given */
    doc = doc_text("{`SqlSettings`: {`DataSource`: `postgres://mm:new@db9/mm`,"
                   " `DataSourceReplicas`: [`********************************`, `postgres://mm:r3@db4/mm`]}}");
    ck_assert_int_eq(config_save(fx.path, doc, &fx.running, &e), 0);
    ck_assert_msg(config_load(fx.path, &saved, &e) == 0, "%s", e.count ? e.lines[0] : "");
    ck_assert_str_eq(saved.sql.data_source, "postgres://mm:new@db9/mm");
    ck_assert_uint_eq(saved.sql.data_source_replicas.count, 2);
    ck_assert_str_eq(saved.sql.data_source_replicas.items[0], "postgres://mm:r1@db2/mm");
    ck_assert_str_eq(saved.sql.data_source_replicas.items[1], "postgres://mm:r3@db4/mm");
    config_free(&saved);
    json_decref(doc);

    /* a placeholder with nothing behind it is an error, never saved as such */
    doc = doc_text("{`SqlSettings`: {`DataSourceSearchReplicas`: [`********************************`]}}");
    ck_assert_int_eq(config_save(fx.path, doc, &fx.running, &e), -EINVAL);
    ck_assert(has_line(&e, "SqlSettings.DataSourceSearchReplicas: "));
    json_decref(doc);
    fixture_teardown(&fx);
}
END_TEST

/* Issue 19, defect 4: the peers get the secrets as the admin sent them. */
START_TEST(test_peers_get_secrets_as_sent)
{
    fixture_t fx;
    config_errors_t e;

    fixture_setup(&fx);
    json_t *doc = config_to_json(&fx.running, true);
    json_object_set_new(json_object_get(doc, "TeamSettings"), "SiteName", json_string("For peers"));
    json_array_set_new(json_object_get(json_object_get(doc, "SqlSettings"), "DataSourceReplicas"), 1,
                       json_string("postgres://mm:typed@db5/mm"));
    json_t *sent = json_deep_copy(doc);
    ck_assert_int_eq(config_save(fx.path, doc, &fx.running, &e), 0);
    /* this node filled its placeholders with its secrets */
    json_t *sql = json_object_get(doc, "SqlSettings");
    ck_assert_str_eq(json_string_value(json_object_get(sql, "DataSource")), "postgres://mm:s3cret@db1/mm");

    json_t *peers = config_save_for_peers(doc, sent);
    ck_assert_ptr_nonnull(peers);
    char *text = json_dumps(peers, JSON_COMPACT);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(strstr(text, "s3cret") == NULL && strstr(text, "mm:r1@") == NULL, "a secret leaks: %s", text);
    free(text);
    sql = json_object_get(peers, "SqlSettings");
    ck_assert_str_eq(json_string_value(json_object_get(sql, "DataSource")), CONFIG_FAKE_SETTING);
    json_t *replicas = json_object_get(sql, "DataSourceReplicas");
    ck_assert_str_eq(json_string_value(json_array_get(replicas, 0)), CONFIG_FAKE_SETTING);
    ck_assert_str_eq(json_string_value(json_array_get(replicas, 1)), "postgres://mm:typed@db5/mm");
    /* the rest is what this node saved (defaults filled in, per-node keys its own) */
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(peers, "TeamSettings"), "SiteName")),
                     "For peers");
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(peers, "ClusterSettings"), "GossipPort")),
                     9000);
    json_decref(peers);

    /* a secret the admin left out is left out */
    json_object_del(json_object_get(sent, "SqlSettings"), "DataSource");
    peers = config_save_for_peers(doc, sent);
    ck_assert_ptr_nonnull(peers);
    ck_assert_ptr_null(json_object_get(json_object_get(peers, "SqlSettings"), "DataSource"));
    json_decref(peers);
    json_decref(sent);
    json_decref(doc);
    fixture_teardown(&fx);
}
END_TEST

START_TEST(test_environment_overrides_stay_out_of_the_file)
{
    fixture_t fx;
    config_errors_t e;

    fixture_setup(&fx);
    setenv("MM_SQLSETTINGS_DATASOURCE", "postgres://mm:fromenv@db7/mm", 1);
    setenv("MM_TEAMSETTINGS_SITENAME", "From env", 1);
    json_t *doc = doc_text("{`SqlSettings`: {`DataSource`: `postgres://mm:fromenv@db7/mm`},"
                           " `TeamSettings`: {`SiteName`: `From env`, `MaxUsersPerTeam`: 10}}");
    int rc = config_save(fx.path, doc, &fx.running, &e);
    unsetenv("MM_SQLSETTINGS_DATASOURCE");
    unsetenv("MM_TEAMSETTINGS_SITENAME");
    ck_assert_int_eq(rc, 0);
    json_t *file = json_load_file(fx.path, 0, NULL);
    ck_assert_ptr_nonnull(file);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(file, "SqlSettings"), "DataSource")),
                     "postgres://mm:s3cret@db1/mm");
    /* absent from the old file: stays absent (the default applies without the variable) */
    ck_assert_ptr_null(json_object_get(json_object_get(file, "TeamSettings"), "SiteName"));
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(file, "TeamSettings"), "MaxUsersPerTeam")), 10);
    json_decref(file);
    json_decref(doc);
    fixture_teardown(&fx);
}
END_TEST

START_TEST(test_unwritable_directory)
{
    fixture_t fx;
    size_t before_len, after_len;

    fixture_setup(&fx);
    char *before = read_file(fx.path, &before_len);
    ck_assert_int_eq(chmod(fx.dir, 0555), 0);
    /* root writes anywhere: the save runs as nobody then, in a child */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        config_errors_t e;
        json_t *doc = doc_text("{`TeamSettings`: {`SiteName`: `Nope`}}");
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(10);
        int rc = config_save(fx.path, doc, &fx.running, &e);
        _exit(rc == -EACCES && e.count == 1 && strstr(e.lines[0], fx.dir) != NULL ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    ck_assert_int_eq(chmod(fx.dir, 0700), 0);
    char *after = read_file(fx.path, &after_len);
    ck_assert_uint_eq(after_len, before_len);
    ck_assert_int_eq(memcmp(before, after, before_len), 0);
    ck_assert_int_eq(dir_entries(fx.dir), 1);
    free(before);
    free(after);

    /* the directory is gone altogether */
    config_errors_t e;
    json_t *doc = doc_text("{}");
    ck_assert_int_lt(config_save("/nonexistent-chorus-dir/config.json", doc, &fx.running, &e), 0);
    ck_assert_uint_eq(e.count, 1);
    json_decref(doc);
    fixture_teardown(&fx);
}
END_TEST

START_TEST(test_shipped_config_round_trips)
{
    fixture_t fx;
    config_errors_t e;
    config_t saved;

    fixture_setup(&fx);
    json_t *doc = json_load_file(ETC_DIR "/config.json", 0, NULL);
    ck_assert_ptr_nonnull(doc);
    ck_assert_int_eq(config_save(fx.path, doc, &fx.running, &e), 0);
    ck_assert_msg(config_load(fx.path, &saved, &e) == 0, "%s", e.count ? e.lines[0] : "");
    char h1[65], h2[65];
    config_t shipped;
    ck_assert_int_eq(config_load(ETC_DIR "/config.json", &shipped, &e), 0);
    ck_assert_int_eq(config_hash(&saved, h1), 0);
    ck_assert_int_eq(config_hash(&shipped, h2), 0);
    ck_assert_str_eq(h1, h2); /* same shared config, this node's own per-node keys */
    ck_assert_str_eq(saved.service.listen_address, "127.0.0.1:9100");
    /* in the shipped file's order: sections, and keys within each */
    json_t *file = json_load_file(fx.path, 0, NULL), *ship = json_load_file(ETC_DIR "/config.json", 0, NULL);
    ck_assert_ptr_nonnull(file);
    ck_assert_ptr_nonnull(ship);
    void *fi = json_object_iter(file), *si = json_object_iter(ship);
    for (; si != NULL; si = json_object_iter_next(ship, si), fi = json_object_iter_next(file, fi)) {
        ck_assert_ptr_nonnull(fi);
        ck_assert_str_eq(json_object_iter_key(fi), json_object_iter_key(si));
        json_t *fs = json_object_iter_value(fi), *ss = json_object_iter_value(si);
        void *fk = json_object_iter(fs), *sk = json_object_iter(ss);
        for (; sk != NULL; sk = json_object_iter_next(ss, sk), fk = json_object_iter_next(fs, fk)) {
            ck_assert_ptr_nonnull(fk);
            ck_assert_str_eq(json_object_iter_key(fk), json_object_iter_key(sk));
        }
    }
    json_decref(file);
    json_decref(ship);
    config_free(&shipped);
    config_free(&saved);
    json_decref(doc);
    fixture_teardown(&fx);
}
END_TEST

static Suite *config_save_suite(void)
{
    Suite *s = suite_create("config_save");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_valid_save_keeps_per_node_keys);
    tcase_add_test(tc, test_invalid_leaves_file_identical);
    tcase_add_test(tc, test_placeholder_secrets_keep_running_values);
    tcase_add_test(tc, test_peers_get_secrets_as_sent);
    tcase_add_test(tc, test_environment_overrides_stay_out_of_the_file);
    tcase_add_test(tc, test_unwritable_directory);
    tcase_add_test(tc, test_shipped_config_round_trips);
    suite_add_tcase(s, tc);
    return s;
}

static void clear_mm_environment(void)
{
    char name[256];

    for (size_t i = 0; environ[i] != NULL;) {
        size_t len = strcspn(environ[i], "=");
        if (strncmp(environ[i], "MM_", 3) == 0 && len < sizeof name) {
            memcpy(name, environ[i], len);
            name[len] = '\0';
            unsetenv(name);
            continue; /* environ shifted down */
        }
        i++;
    }
}

int main(void)
{
    clear_mm_environment();
    return check_run(config_save_suite());
}
