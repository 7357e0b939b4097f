/*
 * Every key chorus reads from config.json, once.
 *
 * Defaults are Mattermost's (see reference/mattermost-wire.md, "Config
 * defaults"), plus chorus's own: SessionLengthWebInHours, TLSMinVer,
 * ClientDirectory (Mattermost has no key: it looks for ./client),
 * StreamingPort, TeamSettings.SiteName/MaxUsersPerTeam, SqlSettings.PrepareStatements
 * and ProcessSettings.  RateLimitSettings' upper bounds are chorus's (the
 * table of MemoryStoreSize keys lives in shared memory).
 * Sections and keys follow the order of Mattermost's config.json so the JSON
 * view reads like the file an operator knows.
 *
 * The check functions at the top are the only validation that is not a bound
 * or a list of allowed values.  They run after every key is loaded, so those
 * that depend on another key (TLS files, ClusterName, StreamingPort) may read
 * it from `cfg`; they return NULL when the value is fine, else the reason.
 */
#include "core/config_schema.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NO_MAX INT64_MAX

static const char *check_site_url(const config_t *cfg, const void *value)
{
    const char *url = *(char *const *)value;

    (void)cfg;
    if (url[0] == '\0' || strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0)
        return NULL;
    return "must be empty or an http:// or https:// URL";
}

static bool valid_port(const char *s)
{
    size_t n = strspn(s, "0123456789");
    long port;

    if (n == 0 || n > 5 || s[n] != '\0')
        return false;
    port = strtol(s, NULL, 10);
    return port >= 1 && port <= 65535;
}

/* "[host]:port": host is empty, a name, an IPv4 address or a bracketed IPv6. */
static const char *check_listen_address(const config_t *cfg, const void *value)
{
    const char *addr = *(char *const *)value;
    const char *colon = strrchr(addr, ':');
    size_t hostlen;

    (void)cfg;
    if (colon == NULL || !valid_port(colon + 1))
        goto bad;
    hostlen = (size_t)(colon - addr);
    if (strcspn(addr, " \t\r\n/") < hostlen)
        goto bad;
    if (hostlen > 0 && addr[0] == '[') {
        if (hostlen < 3 || addr[hostlen - 1] != ']')
            goto bad;
    } else if (memchr(addr, ':', hostlen) != NULL) {
        goto bad;
    }
    return NULL;
bad:
    return "must be \"[host]:port\" with a port between 1 and 65535";
}

/* libpq's "key=value key='quoted value'" form, at least one pair. */
static bool is_conninfo(const char *s)
{
    const char *space = " \t\r\n";
    int pairs = 0;

    for (;;) {
        s += strspn(s, space);
        if (*s == '\0')
            return pairs > 0;
        size_t klen = strspn(s, "abcdefghijklmnopqrstuvwxyz_");
        if (klen == 0)
            return false;
        s += klen;
        s += strspn(s, space);
        if (*s != '=')
            return false;
        s++;
        s += strspn(s, space);
        if (*s == '\'') {
            for (s++; *s != '\''; s++) {
                if (*s == '\0')
                    return false;
                if (*s == '\\' && s[1] != '\0')
                    s++;
            }
            s++;
        } else {
            s += strcspn(s, space);
        }
        pairs++;
    }
}

static bool is_data_source(const char *s)
{
    return strncmp(s, "postgres://", 11) == 0 || strncmp(s, "postgresql://", 13) == 0 || is_conninfo(s);
}

static const char *check_data_source(const config_t *cfg, const void *value)
{
    (void)cfg;
    if (is_data_source(*(char *const *)value))
        return NULL;
    return "must be a postgres:// or postgresql:// URI or a key=value conninfo";
}

static const char *check_data_sources(const config_t *cfg, const void *value)
{
    const config_strings_t *list = value;

    (void)cfg;
    for (size_t i = 0; i < list->count; i++)
        if (!is_data_source(list->items[i]))
            return "every entry must be a postgres:// or postgresql:// URI or a key=value "
                   "conninfo";
    return NULL;
}

static const char *check_tls_file(const config_t *cfg, const void *value)
{
    const char *file = *(char *const *)value;

    if (file[0] == '\0' && strcmp(cfg->service.connection_security, "TLS") == 0)
        return "required when ServiceSettings.ConnectionSecurity is \"TLS\"";
    return NULL;
}

static const char *check_file_directory(const config_t *cfg, const void *value)
{
    const char *dir = *(char *const *)value;

    if (dir[0] == '\0' && strcmp(cfg->file.driver_name, "local") == 0)
        return "required when FileSettings.DriverName is \"local\"";
    return NULL;
}

static const char *check_cluster_name(const config_t *cfg, const void *value)
{
    const char *name = *(char *const *)value;

    if (name[0] == '\0' && cfg->cluster.enable)
        return "required when ClusterSettings.Enable is true";
    return NULL;
}

static const char *check_streaming_port(const config_t *cfg, const void *value)
{
    if (*(const int64_t *)value == cfg->cluster.gossip_port)
        return "must differ from ClusterSettings.GossipPort";
    return NULL;
}

static const char *check_probe_timeout(const config_t *cfg, const void *value)
{
    if (*(const int64_t *)value >= cfg->cluster.gossip_probe_interval_milliseconds)
        return "must be less than ClusterSettings.GossipProbeIntervalMilliseconds";
    return NULL;
}

/* "HH:MM", 24-hour clock. */
static const char *check_hhmm(const config_t *cfg, const void *value)
{
    const char *t = *(char *const *)value;

    (void)cfg;
    if (strlen(t) == 5 && strspn(t, "0123456789") == 2 && t[2] == ':' && strspn(t + 3, "0123456789") == 2) {
        int hh = (t[0] - '0') * 10 + (t[1] - '0');
        int mm = (t[3] - '0') * 10 + (t[4] - '0');
        if (hh < 24 && mm < 60)
            return NULL;
    }
    return "must be a time of day \"HH:MM\"";
}

static const char *const connection_securities[] = {"", "TLS", NULL};
static const char *const tls_versions[] = {"1.0", "1.1", "1.2", "1.3", NULL};
static const char *const sql_drivers[] = {"postgres", NULL};
static const char *const log_levels[] = {"DEBUG", "INFO", "WARN", "ERROR", NULL};
static const char *const file_drivers[] = {"local", "amazons3", NULL};
static const char *const webserver_modes[] = {"gzip", "uncompressed", "disabled", NULL};

#define AT(F) .offset = offsetof(config_t, F)
#define BOOL(S, K, F, D, FL)                                                           \
    {                                                                                  \
        .section = S, .key = K, .type = CONFIG_BOOL, AT(F), .flags = FL, .def_bool = D \
    }
#define INT(S, K, F, D, LO, HI, C, FL)                                                                        \
    {                                                                                                         \
        .section = S, .key = K, .type = CONFIG_INT64, AT(F), .flags = FL, .def_int = D, .min = LO, .max = HI, \
        .check = C                                                                                            \
    }
#define STR(S, K, F, D, A, C, FL)                                                                                 \
    {                                                                                                             \
        .section = S, .key = K, .type = CONFIG_STRING, AT(F), .flags = FL, .def_str = D, .allowed = A, .check = C \
    }
#define STRS(S, K, F, C, FL)                                                           \
    {                                                                                  \
        .section = S, .key = K, .type = CONFIG_STRINGS, AT(F), .flags = FL, .check = C \
    }

#define SVC   "ServiceSettings"
#define TEAM  "TeamSettings"
#define SQL   "SqlSettings"
#define LOG   "LogSettings"
#define FILES "FileSettings"
#define RATE  "RateLimitSettings"
#define COMPL "ComplianceSettings"
#define CLU   "ClusterSettings"
#define MET   "MetricsSettings"
#define RET   "DataRetentionSettings"
#define JOB   "JobSettings"
#define PROC  "ProcessSettings"

#define PN     CONFIG_PER_NODE
#define SECRET CONFIG_SECRET
#define ICASE  CONFIG_ICASE

const config_key_t config_schema[] = {
    STR(SVC, "SiteURL", service.site_url, "", NULL, check_site_url, 0),
    STR(SVC, "ListenAddress", service.listen_address, ":8065", NULL, check_listen_address, PN),
    STR(SVC, "AllowCorsFrom", service.allow_cors_from, "", NULL, NULL, 0),
    STR(SVC, "ConnectionSecurity", service.connection_security, "", connection_securities, NULL, 0),
    STR(SVC, "TLSCertFile", service.tls_cert_file, "", NULL, check_tls_file, 0),
    STR(SVC, "TLSKeyFile", service.tls_key_file, "", NULL, check_tls_file, 0),
    STR(SVC, "TLSMinVer", service.tls_min_ver, "1.2", tls_versions, NULL, 0),
    STRS(SVC, "TrustedProxyIPHeader", service.trusted_proxy_ip_header, NULL, 0),
    INT(SVC, "ReadTimeout", service.read_timeout, 300, 1, NO_MAX, NULL, 0),
    INT(SVC, "WriteTimeout", service.write_timeout, 300, 1, NO_MAX, NULL, 0),
    INT(SVC, "IdleTimeout", service.idle_timeout, 60, 1, NO_MAX, NULL, 0),
    INT(SVC, "MaximumPayloadSizeBytes", service.maximum_payload_size_bytes, 300000, 1, NO_MAX, NULL, 0),
    BOOL(SVC, "EnableDeveloper", service.enable_developer, false, 0),
    BOOL(SVC, "EnableUserStatuses", service.enable_user_statuses, true, 0),
    BOOL(SVC, "EnableAPITeamDeletion", service.enable_api_team_deletion, false, 0),
    BOOL(SVC, "EnableAPIChannelDeletion", service.enable_api_channel_deletion, false, 0),
    BOOL(SVC, "ExperimentalEnableDefaultChannelLeaveJoinMessages", service.enable_default_channel_leave_join_messages,
         true, 0),
    INT(SVC, "SessionLengthWebInHours", service.session_length_web_in_hours, 720, 1, NO_MAX, NULL, 0),
    INT(SVC, "SessionCacheInMinutes", service.session_cache_in_minutes, 10, 0, NO_MAX, NULL, 0),
    INT(SVC, "MaximumLoginAttempts", service.maximum_login_attempts, 10, 1, NO_MAX, NULL, 0),
    STR(SVC, "WebserverMode", service.webserver_mode, "gzip", webserver_modes, NULL, 0),
    STR(SVC, "ClientDirectory", service.client_directory, "", NULL, NULL, PN),

    STR(TEAM, "SiteName", team.site_name, "Mattermost", NULL, NULL, 0),
    INT(TEAM, "MaxUsersPerTeam", team.max_users_per_team, 50, 1, NO_MAX, NULL, 0),
    BOOL(TEAM, "EnableUserCreation", team.enable_user_creation, true, 0),
    BOOL(TEAM, "EnableOpenServer", team.enable_open_server, false, 0),
    BOOL(TEAM, "EnableUserDeactivation", team.enable_user_deactivation, false, 0),

    STR(SQL, "DriverName", sql.driver_name, "postgres", sql_drivers, NULL, 0),
    STR(SQL, "DataSource", sql.data_source,
        "postgres://mmuser:mostest@localhost/mattermost_test?sslmode=disable&connect_timeout=10", NULL,
        check_data_source, SECRET),
    STRS(SQL, "DataSourceReplicas", sql.data_source_replicas, check_data_sources, SECRET),
    STRS(SQL, "DataSourceSearchReplicas", sql.data_source_search_replicas, check_data_sources, SECRET),
    INT(SQL, "MaxIdleConns", sql.max_idle_conns, 20, 0, NO_MAX, NULL, 0),
    INT(SQL, "MaxOpenConns", sql.max_open_conns, 300, 1, NO_MAX, NULL, 0),
    INT(SQL, "ConnMaxLifetimeMilliseconds", sql.conn_max_lifetime_milliseconds, 3600000, 0, NO_MAX, NULL, 0),
    INT(SQL, "ConnMaxIdleTimeMilliseconds", sql.conn_max_idle_time_milliseconds, 300000, 0, NO_MAX, NULL, 0),
    INT(SQL, "QueryTimeout", sql.query_timeout, 30, 1, NO_MAX, NULL, 0),
    INT(SQL, "ReplicaMonitorIntervalSeconds", sql.replica_monitor_interval_seconds, 5, 1, NO_MAX, NULL, 0),
    BOOL(SQL, "PrepareStatements", sql.prepare_statements, true, 0),

    BOOL(LOG, "EnableConsole", log.enable_console, true, 0),
    STR(LOG, "ConsoleLevel", log.console_level, "DEBUG", log_levels, NULL, ICASE),
    BOOL(LOG, "ConsoleJson", log.console_json, true, 0),
    BOOL(LOG, "EnableFile", log.enable_file, true, 0),
    STR(LOG, "FileLevel", log.file_level, "INFO", log_levels, NULL, ICASE),
    BOOL(LOG, "FileJson", log.file_json, true, 0),
    STR(LOG, "FileLocation", log.file_location, "", NULL, NULL, PN),

    STR(FILES, "DriverName", file.driver_name, "local", file_drivers, NULL, 0),
    STR(FILES, "Directory", file.directory, "./data/", NULL, check_file_directory, 0),
    INT(FILES, "MaxFileSize", file.max_file_size, 104857600, 1, NO_MAX, NULL, 0),

    BOOL(RATE, "Enable", rate_limit.enable, false, 0),
    INT(RATE, "PerSec", rate_limit.per_sec, 10, 1, 1000000000, NULL, 0),
    INT(RATE, "MaxBurst", rate_limit.max_burst, 100, 1, 1000000000, NULL, 0),
    INT(RATE, "MemoryStoreSize", rate_limit.memory_store_size, 10000, 1, 1000000, NULL, 0),
    BOOL(RATE, "VaryByRemoteAddr", rate_limit.vary_by_remote_addr, true, 0),
    BOOL(RATE, "VaryByUser", rate_limit.vary_by_user, false, 0),
    STR(RATE, "VaryByHeader", rate_limit.vary_by_header, "", NULL, NULL, 0),

    BOOL(COMPL, "Enable", compliance.enable, false, 0),
    STR(COMPL, "Directory", compliance.directory, "./data/", NULL, NULL, 0),
    BOOL(COMPL, "EnableDaily", compliance.enable_daily, false, 0),
    INT(COMPL, "BatchSize", compliance.batch_size, 30000, 1, NO_MAX, NULL, 0),

    BOOL(CLU, "Enable", cluster.enable, false, PN),
    STR(CLU, "ClusterName", cluster.cluster_name, "", NULL, check_cluster_name, PN),
    STR(CLU, "OverrideHostname", cluster.override_hostname, "", NULL, NULL, PN),
    STR(CLU, "NetworkInterface", cluster.network_interface, "", NULL, NULL, PN),
    STR(CLU, "BindAddress", cluster.bind_address, "", NULL, NULL, PN),
    STR(CLU, "AdvertiseAddress", cluster.advertise_address, "", NULL, NULL, PN),
    BOOL(CLU, "UseIPAddress", cluster.use_ip_address, true, PN),
    BOOL(CLU, "EnableGossipCompression", cluster.enable_gossip_compression, true, PN),
    BOOL(CLU, "EnableExperimentalGossipEncryption", cluster.enable_experimental_gossip_encryption, false, PN),
    BOOL(CLU, "ReadOnlyConfig", cluster.read_only_config, true, PN),
    INT(CLU, "GossipPort", cluster.gossip_port, 8074, 1, 65535, NULL, PN),
    INT(CLU, "StreamingPort", cluster.streaming_port, 8075, 1, 65535, check_streaming_port, PN),
    INT(CLU, "GossipProbeIntervalMilliseconds", cluster.gossip_probe_interval_milliseconds, 200, 20, 60000, NULL, PN),
    INT(CLU, "GossipProbeTimeoutMilliseconds", cluster.gossip_probe_timeout_milliseconds, 100, 5, 60000,
        check_probe_timeout, PN),
    INT(CLU, "GossipSuspicionMultiplier", cluster.gossip_suspicion_multiplier, 3, 2, 20, NULL, PN),
    INT(CLU, "GossipPushPullIntervalSeconds", cluster.gossip_push_pull_interval_seconds, 10, 1, 3600, NULL, PN),

    BOOL(MET, "Enable", metrics.enable, false, 0),
    STR(MET, "ListenAddress", metrics.listen_address, ":8067", NULL, check_listen_address, PN),

    BOOL(RET, "EnableMessageDeletion", data_retention.enable_message_deletion, false, 0),
    INT(RET, "MessageRetentionDays", data_retention.message_retention_days, 365, 1, NO_MAX, NULL, 0),
    STR(RET, "DeletionJobStartTime", data_retention.deletion_job_start_time, "02:00", NULL, check_hhmm, 0),
    INT(RET, "BatchSize", data_retention.batch_size, 3000, 1, NO_MAX, NULL, 0),
    INT(RET, "TimeBetweenBatchesMilliseconds", data_retention.time_between_batches_milliseconds, 100, 0, NO_MAX, NULL,
        0),

    BOOL(JOB, "RunJobs", job.run_jobs, true, 0),
    BOOL(JOB, "RunScheduler", job.run_scheduler, true, 0),
    INT(JOB, "CleanupJobsThresholdDays", job.cleanup_jobs_threshold_days, -1, -1, NO_MAX, NULL, 0),

    INT(PROC, "Workers", process.workers, 0, 0, 64, NULL, PN),
    STR(PROC, "PidFile", process.pid_file, "./chorusd.pid", NULL, NULL, PN),
    INT(PROC, "ShmSizeMB", process.shm_size_mb, 64, 8, 4096, NULL, PN),
};

const size_t config_schema_count = sizeof config_schema / sizeof config_schema[0];

const config_key_t *config_schema_find(const char *section, const char *key)
{
    for (size_t i = 0; i < config_schema_count; i++)
        if (strcasecmp(config_schema[i].section, section) == 0 && strcasecmp(config_schema[i].key, key) == 0)
            return &config_schema[i];
    return NULL;
}

const char *config_schema_section(const char *section)
{
    for (size_t i = 0; i < config_schema_count; i++)
        if (strcasecmp(config_schema[i].section, section) == 0)
            return config_schema[i].section;
    return NULL;
}
