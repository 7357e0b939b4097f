/*
 * Tests for src/core/config.c and its schema.
 *
 * JSON written inline uses ` for " (see load_text) so the cases stay readable.
 * Tests that set MM_* variables unset them before returning, so the suite
 * also runs unforked (CK_FORK=no, under valgrind); main() clears any MM_*
 * variable inherited from the caller's environment first.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/config_schema.h"
#include "../check_main.h"

#ifndef FIXTURES_DIR
#error "build with -DFIXTURES_DIR='\"…/tests/fixtures\"'"
#endif
#ifndef ETC_DIR
#error "build with -DETC_DIR='\"…/etc\"'"
#endif

extern char **environ;

/* Loads a JSON text in which ` stands for ". */
static int load_text(const char *text, config_t *cfg, config_errors_t *e)
{
    char *copy = strdup(text);
    json_error_t jerr;
    json_t *doc;
    int rc;

    ck_assert_ptr_nonnull(copy);
    for (char *p = copy; *p != '\0'; p++)
        if (*p == '`')
            *p = '"';
    doc = json_loads(copy, 0, &jerr);
    ck_assert_msg(doc != NULL, "test JSON %s: %s", copy, jerr.text);
    rc = config_load_json(doc, cfg, e);
    json_decref(doc);
    free(copy);
    return rc;
}

static bool has_line(const config_errors_t *e, const char *prefix)
{
    for (size_t i = 0; i < e->count; i++)
        if (strncmp(e->lines[i], prefix, strlen(prefix)) == 0)
            return true;
    return false;
}

static bool has_ignored(const config_errors_t *e, const char *name)
{
    for (size_t i = 0; i < e->ignored_count; i++)
        if (strcmp(e->ignored[i], name) == 0)
            return true;
    return false;
}

static const char *first_line(const config_errors_t *e)
{
    return e->count > 0 ? e->lines[0] : "(no error)";
}

static void hash_of(const char *text, char out[65])
{
    config_t cfg;
    config_errors_t e;

    ck_assert_msg(load_text(text, &cfg, &e) == 0, "%s", first_line(&e));
    ck_assert_int_eq(config_hash(&cfg, out), 0);
    config_free(&cfg);
}

static void section_hash_of(const char *text, const char *section, char out[65])
{
    config_t cfg;
    config_errors_t e;

    ck_assert_msg(load_text(text, &cfg, &e) == 0, "%s", first_line(&e));
    ck_assert_int_eq(config_hash_section(&cfg, section, out), 0);
    config_free(&cfg);
}

/* ---- defaults ---- */

START_TEST(test_defaults)
{
    config_t cfg;
    config_errors_t e;

    ck_assert_int_eq(load_text("{}", &cfg, &e), 0);
    ck_assert_uint_eq(e.count, 0);
    ck_assert_uint_eq(e.ignored_count, 0);
    ck_assert_ptr_null(cfg.path);
    ck_assert_str_eq(cfg.service.site_url, "");
    ck_assert_str_eq(cfg.service.listen_address, ":8065");
    ck_assert_str_eq(cfg.service.connection_security, "");
    ck_assert_str_eq(cfg.service.tls_min_ver, "1.2");
    ck_assert_int_eq(cfg.service.read_timeout, 300);
    ck_assert_int_eq(cfg.service.write_timeout, 300);
    ck_assert_int_eq(cfg.service.idle_timeout, 60);
    ck_assert_int_eq(cfg.service.maximum_payload_size_bytes, 300000);
    ck_assert(!cfg.service.enable_developer);
    ck_assert(cfg.service.enable_user_statuses);
    ck_assert_int_eq(cfg.service.session_length_web_in_hours, 720);
    ck_assert_int_eq(cfg.service.session_cache_in_minutes, 10);
    ck_assert_str_eq(cfg.sql.driver_name, "postgres");
    ck_assert_str_eq(cfg.sql.data_source, "postgres://mmuser:mostest@localhost/mattermost_test"
                                          "?sslmode=disable&connect_timeout=10");
    ck_assert_uint_eq(cfg.sql.data_source_replicas.count, 0);
    ck_assert_uint_eq(cfg.sql.data_source_search_replicas.count, 0);
    ck_assert_int_eq(cfg.sql.max_idle_conns, 20);
    ck_assert_int_eq(cfg.sql.max_open_conns, 300);
    ck_assert_int_eq(cfg.sql.conn_max_lifetime_milliseconds, 3600000);
    ck_assert_int_eq(cfg.sql.conn_max_idle_time_milliseconds, 300000);
    ck_assert_int_eq(cfg.sql.query_timeout, 30);
    ck_assert_int_eq(cfg.sql.replica_monitor_interval_seconds, 5);
    ck_assert(!cfg.cluster.enable);
    ck_assert_str_eq(cfg.cluster.cluster_name, "");
    ck_assert(cfg.cluster.use_ip_address);
    ck_assert(cfg.cluster.enable_gossip_compression);
    ck_assert(!cfg.cluster.enable_experimental_gossip_encryption);
    ck_assert(cfg.cluster.read_only_config);
    ck_assert_int_eq(cfg.cluster.gossip_port, 8074);
    ck_assert_int_eq(cfg.cluster.streaming_port, 8075);
    config_free(&cfg);
}
END_TEST

START_TEST(test_defaults_other_sections)
{
    config_t cfg;
    config_errors_t e;

    ck_assert_int_eq(load_text("{}", &cfg, &e), 0);
    ck_assert(cfg.log.enable_console && cfg.log.console_json);
    ck_assert_str_eq(cfg.log.console_level, "DEBUG");
    ck_assert(cfg.log.enable_file && cfg.log.file_json);
    ck_assert_str_eq(cfg.log.file_level, "INFO");
    ck_assert_str_eq(cfg.log.file_location, "");
    ck_assert(!cfg.metrics.enable);
    ck_assert_str_eq(cfg.metrics.listen_address, ":8067");
    ck_assert(cfg.job.run_jobs && cfg.job.run_scheduler);
    ck_assert_int_eq(cfg.job.cleanup_jobs_threshold_days, -1);
    ck_assert_str_eq(cfg.file.driver_name, "local");
    ck_assert_str_eq(cfg.file.directory, "./data/");
    ck_assert_int_eq(cfg.file.max_file_size, 100 * 1024 * 1024);
    ck_assert(!cfg.data_retention.enable_message_deletion);
    ck_assert_int_eq(cfg.data_retention.message_retention_days, 365);
    ck_assert_str_eq(cfg.data_retention.deletion_job_start_time, "02:00");
    ck_assert_int_eq(cfg.data_retention.batch_size, 3000);
    ck_assert_int_eq(cfg.data_retention.time_between_batches_milliseconds, 100);
    ck_assert(!cfg.compliance.enable && !cfg.compliance.enable_daily);
    ck_assert_str_eq(cfg.compliance.directory, "./data/");
    ck_assert_int_eq(cfg.compliance.batch_size, 30000);
    ck_assert_str_eq(cfg.team.site_name, "Mattermost");
    ck_assert_int_eq(cfg.team.max_users_per_team, 50);
    ck_assert(!cfg.team.enable_open_server);
    ck_assert(cfg.team.enable_user_creation);
    ck_assert_int_eq(cfg.process.workers, 0);
    ck_assert_str_eq(cfg.process.pid_file, "./chorusd.pid");
    ck_assert_int_eq(cfg.process.shm_size_mb, 64);
    config_free(&cfg);
}
END_TEST

START_TEST(test_worker_count)
{
    config_t cfg;
    config_errors_t e;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    ck_assert_int_eq(load_text("{}", &cfg, &e), 0);
    ck_assert_uint_eq(config_worker_count(&cfg), cpus < 1 ? 1 : (unsigned)cpus);
    config_free(&cfg);
    ck_assert_int_eq(load_text("{`ProcessSettings`: {`Workers`: 5}}", &cfg, &e), 0);
    ck_assert_uint_eq(config_worker_count(&cfg), 5);
    config_free(&cfg);
}
END_TEST

/* ---- files ---- */

START_TEST(test_mattermost_config_loads)
{
    const char *path = FIXTURES_DIR "/mattermost-config.json";
    config_t cfg;
    config_errors_t e;

    ck_assert_msg(config_load(path, &cfg, &e) == 0, "%s", first_line(&e));
    ck_assert_str_eq(cfg.path, path);
    ck_assert_str_eq(cfg.service.site_url, "https://chat.example.com");
    ck_assert_str_eq(cfg.team.site_name, "Example Chat");
    ck_assert_int_eq(cfg.team.max_users_per_team, 250);
    ck_assert_str_eq(cfg.sql.data_source, "postgres://mmuser:mostest@db.example.com/mattermost"
                                          "?sslmode=disable&connect_timeout=10"
                                          "&binary_parameters=yes");
    ck_assert_uint_eq(cfg.sql.data_source_replicas.count, 1);
    ck_assert_str_eq(cfg.sql.data_source_replicas.items[0],
                     "postgres://mmuser:mostest@replica-1.example.com/mattermost?sslmode=disable");
    ck_assert_str_eq(cfg.log.console_level, "INFO"); /* "info" in the file */
    ck_assert(cfg.cluster.enable);
    ck_assert_str_eq(cfg.cluster.cluster_name, "production");
    ck_assert(!cfg.cluster.use_ip_address);
    ck_assert_int_eq(cfg.cluster.streaming_port, 8075); /* absent: chorus default */
    ck_assert_int_eq(cfg.process.shm_size_mb, 64);
    ck_assert_uint_eq(cfg.service.trusted_proxy_ip_header.count, 2);
    ck_assert_str_eq(cfg.service.trusted_proxy_ip_header.items[0], "X-Forwarded-For");
    ck_assert(!cfg.rate_limit.enable);
    ck_assert_int_eq(cfg.rate_limit.per_sec, 10);
    ck_assert_int_eq(cfg.rate_limit.max_burst, 100);
    ck_assert_int_eq(cfg.rate_limit.memory_store_size, 10000);
    ck_assert(cfg.rate_limit.vary_by_remote_addr);
    ck_assert(!cfg.rate_limit.vary_by_user);
    ck_assert_str_eq(cfg.rate_limit.vary_by_header, "");
    config_free(&cfg);
}
END_TEST

START_TEST(test_mattermost_config_ignored_keys)
{
    config_t cfg;
    config_errors_t e;

    ck_assert_int_eq(config_load(FIXTURES_DIR "/mattermost-config.json", &cfg, &e), 0);
    ck_assert_uint_eq(e.count, 0);
    /* Known sections come first in the file, so their unknown keys are listed. */
    ck_assert(has_ignored(&e, "ServiceSettings.WebsocketURL"));
    ck_assert(has_ignored(&e, "ServiceSettings.Forward80To443"));
    ck_assert(!has_ignored(&e, "ServiceSettings.TrustedProxyIPHeader"));
    ck_assert(!has_ignored(&e, "ServiceSettings.ListenAddress"));
    ck_assert_uint_eq(e.ignored_count, CONFIG_ERRORS_MAX);
    ck_assert_uint_gt(e.ignored_dropped, 0);
    config_free(&cfg);

    /* A whole unknown section is listed once. */
    ck_assert_int_eq(load_text("{`EmailSettings`: {`SMTPPort`: `25`, `SMTPServer`: `x`},"
                               " `SqlSettings`: {`Trace`: false}}",
                               &cfg, &e),
                     0);
    ck_assert_uint_eq(e.ignored_count, 2);
    ck_assert(has_ignored(&e, "EmailSettings.*"));
    ck_assert(has_ignored(&e, "SqlSettings.Trace"));
    config_free(&cfg);
}
END_TEST

START_TEST(test_etc_config_is_the_defaults)
{
    config_t cfg, defaults;
    config_errors_t e;
    char h1[65], h2[65];
    json_t *j1, *j2;

    ck_assert_msg(config_load(ETC_DIR "/config.json", &cfg, &e) == 0, "%s", first_line(&e));
    ck_assert_uint_eq(e.ignored_count, 0);
    ck_assert_int_eq(load_text("{}", &defaults, &e), 0);
    j1 = config_to_json(&cfg, false);
    j2 = config_to_json(&defaults, false);
    ck_assert(json_equal(j1, j2));
    ck_assert_int_eq(config_hash(&cfg, h1), 0);
    ck_assert_int_eq(config_hash(&defaults, h2), 0);
    ck_assert_str_eq(h1, h2);
    json_decref(j1);
    json_decref(j2);
    config_free(&cfg);
    config_free(&defaults);
}
END_TEST

static const char *const bad_fixture_keys[] = {
    "ServiceSettings.SiteURL: ",         "ServiceSettings.ListenAddress: ",
    "ServiceSettings.TLSCertFile: ",     "ServiceSettings.TLSKeyFile: ",
    "ServiceSettings.ReadTimeout: ",     "ServiceSettings.MaximumPayloadSizeBytes: ",
    "ServiceSettings.EnableDeveloper: ", "SqlSettings.DriverName: ",
    "SqlSettings.DataSource: ",          "SqlSettings.QueryTimeout: ",
    "LogSettings.ConsoleLevel: ",        "ClusterSettings.ClusterName: ",
    "ClusterSettings.StreamingPort: ",   "DataRetentionSettings.DeletionJobStartTime: ",
    "ProcessSettings.Workers: ",         "ProcessSettings.ShmSizeMB: ",
};

START_TEST(test_bad_config_reports_everything)
{
    size_t n = sizeof bad_fixture_keys / sizeof bad_fixture_keys[0];
    config_t cfg;
    config_errors_t e;

    ck_assert_int_eq(config_load(FIXTURES_DIR "/bad-config.json", &cfg, &e), -1);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(has_line(&e, bad_fixture_keys[i]), "no error for %s", bad_fixture_keys[i]);
    ck_assert_uint_eq(e.count, n);
    for (size_t i = 0; i < e.count; i++)
        ck_assert_msg(strstr(e.lines[i], "mostest") == NULL, "secret echoed: %s", e.lines[i]);
    ck_assert_ptr_null(cfg.service.listen_address); /* freed and zeroed */
    ck_assert_ptr_null(cfg.path);
}
END_TEST

START_TEST(test_missing_file)
{
    config_t cfg;
    config_errors_t e;

    ck_assert_int_eq(config_load("/nonexistent/chorus.json", &cfg, &e), -1);
    ck_assert_uint_eq(e.count, 1);
    ck_assert_msg(strstr(e.lines[0], "/nonexistent/chorus.json") != NULL, "%s", e.lines[0]);
    ck_assert_msg(strstr(e.lines[0], "No such file") != NULL, "%s", e.lines[0]);

    ck_assert_int_eq(config_load("/tmp", &cfg, &e), -1);
    ck_assert_uint_eq(e.count, 1);
    ck_assert_msg(strstr(e.lines[0], "/tmp: ") == e.lines[0], "%s", e.lines[0]);
    ck_assert_msg(strstr(e.lines[0], "directory") != NULL, "%s", e.lines[0]);
}
END_TEST

static void write_file(char *path, const char *text)
{
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

START_TEST(test_broken_json)
{
    char path[] = "/tmp/chorus-test-config-XXXXXX";
    config_t cfg;
    config_errors_t e;

    write_file(path, "{\n  \"ServiceSettings\": {\n    \"ListenAddress\": \":8065\",\n  }\n}\n");
    ck_assert_int_eq(config_load(path, &cfg, &e), -1);
    unlink(path);
    ck_assert_uint_eq(e.count, 1);
    ck_assert_msg(strncmp(e.lines[0], path, strlen(path)) == 0, "%s", e.lines[0]);
    ck_assert_msg(strstr(e.lines[0], "line 4") != NULL, "%s", e.lines[0]);
    ck_assert_msg(strstr(e.lines[0], "column") != NULL, "%s", e.lines[0]);
}
END_TEST

START_TEST(test_top_level_not_object)
{
    char path[] = "/tmp/chorus-test-config-XXXXXX";
    config_t cfg;
    config_errors_t e;

    write_file(path, "[1, 2]\n");
    ck_assert_int_eq(config_load(path, &cfg, &e), -1);
    unlink(path);
    ck_assert_uint_eq(e.count, 1);
    ck_assert_msg(strstr(e.lines[0], "JSON object") != NULL, "%s", e.lines[0]);
}
END_TEST

/* ---- invalid values, one per case ---- */

static const struct {
    const char *json;
    const char *line; /* the error line starts with this */
    const char *says; /* and contains this */
} invalid[] = {
    {"{`ServiceSettings`: {`EnableDeveloper`: 1}}", "ServiceSettings.EnableDeveloper: ", "true or false"},
    {"{`ServiceSettings`: {`ReadTimeout`: `300`}}", "ServiceSettings.ReadTimeout: ", "integer"},
    {"{`ServiceSettings`: {`ReadTimeout`: 30.5}}", "ServiceSettings.ReadTimeout: ", "integer"},
    {"{`ServiceSettings`: {`SiteURL`: 5}}", "ServiceSettings.SiteURL: ", "string"},
    {"{`SqlSettings`: {`DataSourceReplicas`: `postgres://r/db`}}",
     "SqlSettings.DataSourceReplicas: ", "array of strings"},
    {"{`SqlSettings`: {`DataSourceReplicas`: [`postgres://r/db`, 3]}}",
     "SqlSettings.DataSourceReplicas: ", "array of strings"},
    {"{`SqlSettings`: {`DataSourceSearchReplicas`: [`mysql://r/db`]}}",
     "SqlSettings.DataSourceSearchReplicas: ", "postgres://"},
    {"{`ServiceSettings`: 5}", "ServiceSettings: ", "JSON object"},
    {"{`ServiceSettings`: {`ReadTimeout`: 0}}", "ServiceSettings.ReadTimeout: ", "at least 1"},
    {"{`ServiceSettings`: {`WriteTimeout`: -1}}", "ServiceSettings.WriteTimeout: ", "at least 1"},
    {"{`ServiceSettings`: {`IdleTimeout`: 0}}", "ServiceSettings.IdleTimeout: ", "(not 0)"},
    {"{`ServiceSettings`: {`MaximumPayloadSizeBytes`: 0}}", "ServiceSettings.MaximumPayloadSizeBytes: ", "at least 1"},
    {"{`SqlSettings`: {`QueryTimeout`: 0}}", "SqlSettings.QueryTimeout: ", "at least 1"},
    {"{`ProcessSettings`: {`Workers`: 65}}", "ProcessSettings.Workers: ", "between 0 and 64"},
    {"{`ProcessSettings`: {`Workers`: -1}}", "ProcessSettings.Workers: ", "between 0 and 64"},
    {"{`ProcessSettings`: {`ShmSizeMB`: 7}}", "ProcessSettings.ShmSizeMB: ", "between 8 and 4096"},
    {"{`ProcessSettings`: {`ShmSizeMB`: 4097}}", "ProcessSettings.ShmSizeMB: ", "4096"},
    {"{`ClusterSettings`: {`GossipPort`: 0}}", "ClusterSettings.GossipPort: ", "1 and 65535"},
    {"{`ClusterSettings`: {`StreamingPort`: 70000}}", "ClusterSettings.StreamingPort: ", "65535"},
    {"{`ClusterSettings`: {`GossipPort`: 9000, `StreamingPort`: 9000}}",
     "ClusterSettings.StreamingPort: ", "differ from ClusterSettings.GossipPort"},
    {"{`ClusterSettings`: {`Enable`: true}}", "ClusterSettings.ClusterName: ", "required"},
    {"{`ServiceSettings`: {`ConnectionSecurity`: `tls`}}",
     "ServiceSettings.ConnectionSecurity: ", "one of \"\", \"TLS\""},
    {"{`ServiceSettings`: {`ConnectionSecurity`: `TLS`, `TLSCertFile`: `c.pem`}}",
     "ServiceSettings.TLSKeyFile: ", "required when"},
    {"{`ServiceSettings`: {`TLSMinVer`: `1.4`}}", "ServiceSettings.TLSMinVer: ", "one of"},
    {"{`SqlSettings`: {`DriverName`: `mysql`}}", "SqlSettings.DriverName: ", "\"postgres\""},
    {"{`SqlSettings`: {`DataSource`: ``}}", "SqlSettings.DataSource: ", "postgres://"},
    {"{`SqlSettings`: {`DataSource`: `mysql://u@h/db`}}", "SqlSettings.DataSource: ", "conninfo"},
    {"{`SqlSettings`: {`DataSource`: `host=db user`}}", "SqlSettings.DataSource: ", "conninfo"},
    {"{`SqlSettings`: {`DataSource`: `host='db`}}", "SqlSettings.DataSource: ", "conninfo"},
    {"{`LogSettings`: {`ConsoleLevel`: `TRACE`}}", "LogSettings.ConsoleLevel: ", "\"WARN\""},
    {"{`LogSettings`: {`FileLevel`: ``}}", "LogSettings.FileLevel: ", "one of"},
    {"{`FileSettings`: {`DriverName`: `azure`}}", "FileSettings.DriverName: ", "\"amazons3\""},
    {"{`FileSettings`: {`Directory`: ``}}", "FileSettings.Directory: ", "required"},
    {"{`FileSettings`: {`MaxFileSize`: 0}}", "FileSettings.MaxFileSize: ", "at least 1"},
    {"{`DataRetentionSettings`: {`DeletionJobStartTime`: `24:00`}}",
     "DataRetentionSettings.DeletionJobStartTime: ", "HH:MM"},
    {"{`DataRetentionSettings`: {`DeletionJobStartTime`: `2:00`}}",
     "DataRetentionSettings.DeletionJobStartTime: ", "HH:MM"},
    {"{`DataRetentionSettings`: {`DeletionJobStartTime`: `02:60`}}",
     "DataRetentionSettings.DeletionJobStartTime: ", "HH:MM"},
    {"{`DataRetentionSettings`: {`MessageRetentionDays`: 0}}",
     "DataRetentionSettings.MessageRetentionDays: ", "at least 1"},
    {"{`JobSettings`: {`CleanupJobsThresholdDays`: -2}}", "JobSettings.CleanupJobsThresholdDays: ", "at least -1"},
    {"{`TeamSettings`: {`MaxUsersPerTeam`: 0}}", "TeamSettings.MaxUsersPerTeam: ", "at least 1"},
    {"{`ServiceSettings`: {`SiteURL`: `ftp://x`}}", "ServiceSettings.SiteURL: ", "http"},
    {"{`ServiceSettings`: {`ListenAddress`: `8065`}}", "ServiceSettings.ListenAddress: ", "[host]:port"},
    {"{`ServiceSettings`: {`ListenAddress`: `::1:8065`}}", "ServiceSettings.ListenAddress: ", "port"},
    {"{`ServiceSettings`: {`ListenAddress`: `:0`}}", "ServiceSettings.ListenAddress: ", "port"},
    {"{`ServiceSettings`: {`ListenAddress`: `:65536`}}", "ServiceSettings.ListenAddress: ", "port"},
    {"{`ServiceSettings`: {`ListenAddress`: `[::1]8065`}}", "ServiceSettings.ListenAddress: ", "port"},
    {"{`ServiceSettings`: {`ListenAddress`: `:http`}}", "ServiceSettings.ListenAddress: ", "port"},
    {"{`ServiceSettings`: {`ListenAddress`: `[]:80`}}", "ServiceSettings.ListenAddress: ", "port"},
    {"{`MetricsSettings`: {`ListenAddress`: `localhost`}}", "MetricsSettings.ListenAddress: ", "port"},
};

START_TEST(test_invalid_value)
{
    config_t cfg;
    config_errors_t e;

    ck_assert_msg(load_text(invalid[_i].json, &cfg, &e) == -1, "accepted %s", invalid[_i].json);
    ck_assert_msg(e.count == 1, "%s: %zu errors, first: %s", invalid[_i].json, e.count, first_line(&e));
    ck_assert_msg(strncmp(e.lines[0], invalid[_i].line, strlen(invalid[_i].line)) == 0 &&
                      strstr(e.lines[0], invalid[_i].says) != NULL,
                  "%s: got \"%s\"", invalid[_i].json, e.lines[0]);
}
END_TEST

static const char *const valid[] = {
    "{`ServiceSettings`: {`ListenAddress`: `[::1]:8065`}}",
    "{`ServiceSettings`: {`ListenAddress`: `127.0.0.1:80`}}",
    "{`ServiceSettings`: {`ListenAddress`: `localhost:65535`}}",
    "{`ServiceSettings`: {`ConnectionSecurity`: `TLS`, `TLSCertFile`: `c.pem`, `TLSKeyFile`: "
    "`k.pem`}}",
    "{`ServiceSettings`: {`SiteURL`: `http://localhost:8065`}}",
    "{`SqlSettings`: {`DataSource`: `postgresql://u@h:5433/db`}}",
    "{`SqlSettings`: {`DataSource`: `host=db user=mm password='a b\\\\' c' dbname=x`}}",
    "{`SqlSettings`: {`DataSourceReplicas`: [`postgres://r1/db`, `host=r2 dbname=db`]}}",
    "{`DataRetentionSettings`: {`DeletionJobStartTime`: `23:59`}}",
    "{`DataRetentionSettings`: {`DeletionJobStartTime`: `00:00`}}",
    "{`ClusterSettings`: {`Enable`: true, `ClusterName`: `prod`}}",
    "{`FileSettings`: {`DriverName`: `amazons3`, `Directory`: ``}}",
    "{`ProcessSettings`: {`Workers`: 64, `ShmSizeMB`: 8}}",
    "{`ProcessSettings`: {`ShmSizeMB`: 4096}}",
    "{`ServiceSettings`: null, `SqlSettings`: {`QueryTimeout`: null}}",
    "{`LogSettings`: {`ConsoleLevel`: `warn`, `FileLevel`: `Error`}}",
    "{`Version`: 3, `servicesettings`: {`listenaddress`: `:9065`}}",
};

START_TEST(test_valid_value)
{
    config_t cfg;
    config_errors_t e;

    ck_assert_msg(load_text(valid[_i], &cfg, &e) == 0, "%s: %s", valid[_i], first_line(&e));
    config_free(&cfg);
}
END_TEST

START_TEST(test_values_are_normalised)
{
    config_t cfg;
    config_errors_t e;

    ck_assert_int_eq(load_text("{`LogSettings`: {`ConsoleLevel`: `warn`, `FileLevel`: `Error`},"
                               " `ClusterSettings`: {`UseIpAddress`: false}}",
                               &cfg, &e),
                     0);
    ck_assert_str_eq(cfg.log.console_level, "WARN");
    ck_assert_str_eq(cfg.log.file_level, "ERROR");
    ck_assert(!cfg.cluster.use_ip_address); /* older spelling, matched as Go does */
    ck_assert_uint_eq(e.ignored_count, 0);
    config_free(&cfg);
}
END_TEST

START_TEST(test_many_errors_at_once)
{
    config_t cfg;
    config_errors_t e;

    ck_assert_int_eq(load_text("{`ServiceSettings`: {`ListenAddress`: `nowhere`, `ReadTimeout`: 0,"
                               " `EnableUserStatuses`: `on`},"
                               " `SqlSettings`: {`DriverName`: `sqlite`},"
                               " `ProcessSettings`: {`Workers`: 1000},"
                               " `LogSettings`: {`FileLevel`: `loud`}}",
                               &cfg, &e),
                     -1);
    ck_assert_uint_eq(e.count, 6);
    ck_assert(has_line(&e, "ServiceSettings.ListenAddress: "));
    ck_assert(has_line(&e, "ServiceSettings.ReadTimeout: "));
    ck_assert(has_line(&e, "ServiceSettings.EnableUserStatuses: "));
    ck_assert(has_line(&e, "SqlSettings.DriverName: "));
    ck_assert(has_line(&e, "ProcessSettings.Workers: "));
    ck_assert(has_line(&e, "LogSettings.FileLevel: "));
}
END_TEST

/* Every key of the wrong type: more problems than lines, the rest counted. */
START_TEST(test_error_overflow_is_counted)
{
    json_t *doc = json_object();
    config_t cfg;
    config_errors_t e;

    for (size_t i = 0; i < config_schema_count; i++) {
        const config_key_t *k = &config_schema[i];
        json_t *section = json_object_get(doc, k->section);
        if (section == NULL) {
            section = json_object();
            json_object_set_new(doc, k->section, section);
        }
        json_object_set_new(section, k->key, json_pack("{s:i}", "x", 1));
    }
    ck_assert_int_eq(config_load_json(doc, &cfg, &e), -1);
    ck_assert_uint_gt(config_schema_count, CONFIG_ERRORS_MAX);
    ck_assert_uint_eq(e.count, CONFIG_ERRORS_MAX);
    ck_assert_uint_eq(e.dropped, config_schema_count - CONFIG_ERRORS_MAX);
    json_decref(doc);
}
END_TEST

START_TEST(test_null_errors_allowed)
{
    config_t cfg;
    json_t *doc = json_pack("{s:{s:i}}", "ProcessSettings", "Workers", 99);

    ck_assert_int_eq(config_load_json(doc, &cfg, NULL), -1);
    ck_assert_int_eq(config_load("/nonexistent/chorus.json", &cfg, NULL), -1);
    json_decref(doc);
}
END_TEST

/* ---- environment ---- */

START_TEST(test_env_overrides)
{
    config_t cfg;
    config_errors_t e;

    setenv("MM_SERVICESETTINGS_ENABLEDEVELOPER", "true", 1);
    setenv("MM_CLUSTERSETTINGS_USEIPADDRESS", "FALSE", 1);
    setenv("MM_PROCESSSETTINGS_WORKERS", "3", 1);
    setenv("MM_SERVICESETTINGS_LISTENADDRESS", "127.0.0.1:9000", 1);
    setenv("MM_SQLSETTINGS_DATASOURCE", "host=db1 dbname=mm", 1);
    setenv("MM_SQLSETTINGS_DATASOURCEREPLICAS", " postgres://r1/mm  postgres://r2/mm ", 1);
    setenv("MM_SQLSETTINGS_DATASOURCESEARCHREPLICAS", "[\"postgres://s1/mm\"]", 1);
    int rc = load_text("{`ProcessSettings`: {`Workers`: 2},"
                       " `SqlSettings`: {`DataSourceSearchReplicas`: [`postgres://a/b`, `c=d`]}}",
                       &cfg, &e);
    unsetenv("MM_SERVICESETTINGS_ENABLEDEVELOPER");
    unsetenv("MM_CLUSTERSETTINGS_USEIPADDRESS");
    unsetenv("MM_PROCESSSETTINGS_WORKERS");
    unsetenv("MM_SERVICESETTINGS_LISTENADDRESS");
    unsetenv("MM_SQLSETTINGS_DATASOURCE");
    unsetenv("MM_SQLSETTINGS_DATASOURCEREPLICAS");
    unsetenv("MM_SQLSETTINGS_DATASOURCESEARCHREPLICAS");
    ck_assert_msg(rc == 0, "%s", first_line(&e));
    ck_assert(cfg.service.enable_developer);
    ck_assert(!cfg.cluster.use_ip_address);
    ck_assert_int_eq(cfg.process.workers, 3);
    ck_assert_str_eq(cfg.service.listen_address, "127.0.0.1:9000");
    ck_assert_str_eq(cfg.sql.data_source, "host=db1 dbname=mm");
    ck_assert_uint_eq(cfg.sql.data_source_replicas.count, 2);
    ck_assert_str_eq(cfg.sql.data_source_replicas.items[0], "postgres://r1/mm");
    ck_assert_str_eq(cfg.sql.data_source_replicas.items[1], "postgres://r2/mm");
    ck_assert_uint_eq(cfg.sql.data_source_search_replicas.count, 1);
    ck_assert_str_eq(cfg.sql.data_source_search_replicas.items[0], "postgres://s1/mm");
    config_free(&cfg);
}
END_TEST

START_TEST(test_env_empty_array)
{
    config_t cfg;
    config_errors_t e;

    setenv("MM_SQLSETTINGS_DATASOURCEREPLICAS", "", 1);
    int rc = load_text("{`SqlSettings`: {`DataSourceReplicas`: [`postgres://a/b`]}}", &cfg, &e);
    unsetenv("MM_SQLSETTINGS_DATASOURCEREPLICAS");
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(cfg.sql.data_source_replicas.count, 0);
    ck_assert_ptr_null(cfg.sql.data_source_replicas.items);
    config_free(&cfg);
}
END_TEST

static const struct {
    const char *name, *value, *line, *says;
} bad_env[] = {
    {"MM_PROCESSSETTINGS_WORKERS", "many",
     "ProcessSettings.Workers: ", "MM_PROCESSSETTINGS_WORKERS=\"many\": must be a decimal integer"},
    {"MM_PROCESSSETTINGS_WORKERS", "4x", "ProcessSettings.Workers: ", "decimal integer"},
    {"MM_PROCESSSETTINGS_WORKERS", "99999999999999999999", "ProcessSettings.Workers: ", "decimal integer"},
    {"MM_PROCESSSETTINGS_WORKERS", "65", "ProcessSettings.Workers: ", "between 0 and 64"},
    {"MM_SERVICESETTINGS_ENABLEDEVELOPER", "yes",
     "ServiceSettings.EnableDeveloper: ", "MM_SERVICESETTINGS_ENABLEDEVELOPER=\"yes\": must be true or false"},
    {"MM_LOGSETTINGS_CONSOLELEVEL", "LOUD", "LogSettings.ConsoleLevel: ", "one of"},
    {"MM_SERVICESETTINGS_SITEURL", "\xff\xfe", "ServiceSettings.SiteURL: ", "UTF-8"},
    {"MM_SQLSETTINGS_DATASOURCEREPLICAS", "postgres://a/b \xff", "SqlSettings.DataSourceReplicas: ", "UTF-8"},
    {"MM_SQLSETTINGS_DATASOURCEREPLICAS", "[\"postgres://a/b\", 1]",
     "SqlSettings.DataSourceReplicas: ", "MM_SQLSETTINGS_DATASOURCEREPLICAS: must be an array"},
    {"MM_SQLSETTINGS_DATASOURCEREPLICAS", "[\"postgres://secret@a/b\"",
     "SqlSettings.DataSourceReplicas: ", "MM_SQLSETTINGS_DATASOURCEREPLICAS: must be a JSON array"},
    {"MM_SQLSETTINGS_DATASOURCE", "mysql://secret@h/db", "SqlSettings.DataSource: ", "conninfo"},
};

START_TEST(test_env_bad_value)
{
    config_t cfg;
    config_errors_t e;

    setenv(bad_env[_i].name, bad_env[_i].value, 1);
    int rc = load_text("{}", &cfg, &e);
    unsetenv(bad_env[_i].name);
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(e.count == 1, "%zu errors, first: %s", e.count, first_line(&e));
    ck_assert_msg(strncmp(e.lines[0], bad_env[_i].line, strlen(bad_env[_i].line)) == 0 &&
                      strstr(e.lines[0], bad_env[_i].says) != NULL,
                  "got \"%s\"", e.lines[0]);
    ck_assert_msg(strstr(e.lines[0], "secret") == NULL, "secret echoed: %s", e.lines[0]);
}
END_TEST

/* ---- JSON view, sanitizing, hash ---- */

START_TEST(test_to_json_has_every_section)
{
    static const char *const sections[] = {
        "ServiceSettings",    "SqlSettings",  "ClusterSettings", "LogSettings",
        "MetricsSettings",    "JobSettings",  "FileSettings",    "DataRetentionSettings",
        "ComplianceSettings", "TeamSettings", "ProcessSettings", "RateLimitSettings",
    };
    config_t cfg;
    config_errors_t e;
    json_t *j;

    ck_assert_int_eq(load_text("{`ProcessSettings`: {`Workers`: 7}}", &cfg, &e), 0);
    j = config_to_json(&cfg, false);
    ck_assert_ptr_nonnull(j);
    ck_assert_uint_eq(json_object_size(j), sizeof sections / sizeof sections[0]);
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        ck_assert_msg(json_is_object(json_object_get(j, sections[i])), "%s", sections[i]);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(j, "ProcessSettings"), "Workers")), 7);
    ck_assert(json_is_array(json_object_get(json_object_get(j, "SqlSettings"), "DataSourceReplicas")));
    json_decref(j);
    config_free(&cfg);
}
END_TEST

START_TEST(test_sanitize_masks_secrets)
{
    config_t cfg;
    config_errors_t e;
    json_t *j, *sql, *replicas;

    ck_assert_int_eq(load_text("{`SqlSettings`: {`DataSource`: `postgres://u:pw@h/db`,"
                               " `DataSourceReplicas`: [`postgres://u:pw@r1/db`, `host=r2`]}}",
                               &cfg, &e),
                     0);
    j = config_to_json(&cfg, true);
    sql = json_object_get(j, "SqlSettings");
    ck_assert_str_eq(json_string_value(json_object_get(sql, "DataSource")), "********************************");
    replicas = json_object_get(sql, "DataSourceReplicas");
    ck_assert_uint_eq(json_array_size(replicas), 2);
    ck_assert_str_eq(json_string_value(json_array_get(replicas, 0)), CONFIG_FAKE_SETTING);
    ck_assert_str_eq(json_string_value(json_array_get(replicas, 1)), CONFIG_FAKE_SETTING);
    ck_assert_str_eq(json_string_value(json_object_get(sql, "DriverName")), "postgres");
    ck_assert_uint_eq(json_array_size(json_object_get(sql, "DataSourceSearchReplicas")), 0);
    json_decref(j);

    j = config_to_json(&cfg, false);
    sql = json_object_get(j, "SqlSettings");
    ck_assert_str_eq(json_string_value(json_object_get(sql, "DataSource")), "postgres://u:pw@h/db");
    json_decref(j);
    config_free(&cfg);
}
END_TEST

START_TEST(test_hash_is_canonical)
{
    char h1[65], h2[65], h3[65];

    hash_of("{`SqlSettings`: {`QueryTimeout`: 45, `MaxOpenConns`: 100},"
            " `TeamSettings`: {`SiteName`: `Acme`}}",
            h1);
    hash_of("{\n  `TeamSettings` : { `SiteName` : `Acme` },\n"
            "  `SqlSettings` : {\n    `MaxOpenConns` : 100,\n    `QueryTimeout` : 45\n  },\n"
            "  `EmailSettings`: {`SMTPServer`: `mail`}\n}",
            h2);
    ck_assert_str_eq(h1, h2);
    ck_assert_uint_eq(strlen(h1), 64);
    ck_assert_uint_eq(strspn(h1, "0123456789abcdef"), 64);
    /* Explicit defaults are the same effective config as absent keys. */
    hash_of("{`SqlSettings`: {`QueryTimeout`: 45, `MaxOpenConns`: 100, `MaxIdleConns`: 20},"
            " `TeamSettings`: {`SiteName`: `Acme`, `MaxUsersPerTeam`: 50}}",
            h3);
    ck_assert_str_eq(h1, h3);
}
END_TEST

START_TEST(test_hash_ignores_per_node_keys)
{
    char base[65], other[65];

    hash_of("{}", base);
    hash_of("{`ServiceSettings`: {`ListenAddress`: `10.0.0.2:8065`},"
            " `MetricsSettings`: {`ListenAddress`: `10.0.0.2:9100`},"
            " `LogSettings`: {`FileLocation`: `/var/log/chorus-2`},"
            " `ClusterSettings`: {`Enable`: true, `ClusterName`: `c`, `OverrideHostname`: `n2`,"
            "   `GossipPort`: 9074, `StreamingPort`: 9075, `UseIPAddress`: false},"
            " `ProcessSettings`: {`Workers`: 8, `PidFile`: `/run/c.pid`, `ShmSizeMB`: 128}}",
            other);
    ck_assert_str_eq(base, other);
}
END_TEST

START_TEST(test_hash_sees_shared_keys)
{
    static const char *const changes[] = {
        "{`SqlSettings`: {`QueryTimeout`: 31}}",
        "{`SqlSettings`: {`DataSource`: `postgres://other/db`}}",
        "{`SqlSettings`: {`DataSourceReplicas`: [`postgres://r/db`]}}",
        "{`ServiceSettings`: {`SiteURL`: `https://chat.example.com`}}",
        "{`LogSettings`: {`FileLevel`: `WARN`}}",
        "{`MetricsSettings`: {`Enable`: true}}",
        "{`JobSettings`: {`RunJobs`: false}}",
    };
    char base[65], other[65];

    hash_of("{}", base);
    for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
        hash_of(changes[i], other);
        ck_assert_msg(strcmp(base, other) != 0, "hash unchanged by %s", changes[i]);
    }
}
END_TEST

START_TEST(test_hash_section_names_the_difference)
{
    static const char *const sections[] = {
        "ServiceSettings", "SqlSettings", "LogSettings", "ClusterSettings", "ProcessSettings",
    };
    const char *a = "{`SqlSettings`: {`QueryTimeout`: 30}, `ClusterSettings`: {`GossipPort`: 1}}";
    const char *b = "{`SqlSettings`: {`QueryTimeout`: 60}, `ClusterSettings`: {`GossipPort`: 2}}";
    char ha[65], hb[65];

    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++) {
        section_hash_of(a, sections[i], ha);
        section_hash_of(b, sections[i], hb);
        if (strcmp(sections[i], "SqlSettings") == 0)
            ck_assert_str_ne(ha, hb);
        else
            ck_assert_msg(strcmp(ha, hb) == 0, "%s differs", sections[i]);
    }
}
END_TEST

START_TEST(test_hash_section_unknown)
{
    config_t cfg;
    config_errors_t e;
    char h[65];

    ck_assert_int_eq(load_text("{}", &cfg, &e), 0);
    ck_assert_int_eq(config_hash_section(&cfg, "EmailSettings", h), -1);
    ck_assert_int_eq(config_hash_section(&cfg, "SqlSettings", h), 0);
    config_free(&cfg);
}
END_TEST

START_TEST(test_free_twice)
{
    config_t cfg;
    config_errors_t e;

    ck_assert_int_eq(config_load(FIXTURES_DIR "/mattermost-config.json", &cfg, &e), 0);
    config_free(&cfg);
    config_free(&cfg);
    ck_assert_ptr_null(cfg.sql.data_source);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc;

    tc = tcase_create("defaults");
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_defaults_other_sections);
    tcase_add_test(tc, test_worker_count);
    suite_add_tcase(s, tc);

    tc = tcase_create("files");
    tcase_add_test(tc, test_mattermost_config_loads);
    tcase_add_test(tc, test_mattermost_config_ignored_keys);
    tcase_add_test(tc, test_etc_config_is_the_defaults);
    tcase_add_test(tc, test_bad_config_reports_everything);
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_broken_json);
    tcase_add_test(tc, test_top_level_not_object);
    tcase_add_test(tc, test_free_twice);
    suite_add_tcase(s, tc);

    tc = tcase_create("validation");
    tcase_add_loop_test(tc, test_invalid_value, 0, sizeof invalid / sizeof invalid[0]);
    tcase_add_loop_test(tc, test_valid_value, 0, sizeof valid / sizeof valid[0]);
    tcase_add_test(tc, test_values_are_normalised);
    tcase_add_test(tc, test_many_errors_at_once);
    tcase_add_test(tc, test_error_overflow_is_counted);
    tcase_add_test(tc, test_null_errors_allowed);
    suite_add_tcase(s, tc);

    tc = tcase_create("environment");
    tcase_add_test(tc, test_env_overrides);
    tcase_add_test(tc, test_env_empty_array);
    tcase_add_loop_test(tc, test_env_bad_value, 0, sizeof bad_env / sizeof bad_env[0]);
    suite_add_tcase(s, tc);

    tc = tcase_create("json and hash");
    tcase_add_test(tc, test_to_json_has_every_section);
    tcase_add_test(tc, test_sanitize_masks_secrets);
    tcase_add_test(tc, test_hash_is_canonical);
    tcase_add_test(tc, test_hash_ignores_per_node_keys);
    tcase_add_test(tc, test_hash_sees_shared_keys);
    tcase_add_test(tc, test_hash_section_names_the_difference);
    tcase_add_test(tc, test_hash_section_unknown);
    suite_add_tcase(s, tc);
    return s;
}

/* An MM_* variable from the caller's environment would change every result. */
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
    return check_run(config_suite());
}
