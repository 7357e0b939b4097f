/*
 * The effective configuration of a node: Mattermost's config.json shape plus
 * chorus's ProcessSettings.  A config is loaded once (at start, or on reload
 * in the master), validated as a whole, and never mutated afterwards: children
 * inherit it across fork(), a reload builds a new one for the new generation.
 *
 * Every key is described once, in the schema table (config_schema.c): its
 * section, name, type, default, bounds and whether it is per-node or secret.
 * Loading, environment overrides (MM_<SECTION>_<KEY>), validation, the JSON
 * view and the config hash are all driven by that table, so adding a key is
 * one line there plus one field here.
 */
#ifndef CHORUS_CORE_CONFIG_H
#define CHORUS_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

typedef struct {
    char **items;
    size_t count;
} config_strings_t;

typedef struct {
    char *site_url;
    char *listen_address;
    char *allow_cors_from;     /* origins allowed besides SiteURL's, space-separated; "*": any */
    char *connection_security; /* "" or "TLS" */
    char *tls_cert_file;
    char *tls_key_file;
    char *tls_min_ver;
    /* headers a proxy in front sets to the client's address, tried in order
     * (X-Forwarded-For, X-Real-IP); [] (the default): the socket's peer */
    config_strings_t trusted_proxy_ip_header;
    int64_t maximum_payload_size_bytes;
    int64_t read_timeout;  /* seconds */
    int64_t write_timeout; /* seconds */
    int64_t idle_timeout;  /* seconds */
    bool enable_developer;
    bool enable_user_statuses;
    bool enable_api_team_deletion;                   /* DELETE /teams/{id}?permanent=true */
    bool enable_api_channel_deletion;                /* DELETE /channels/{id}?permanent=true */
    bool enable_default_channel_leave_join_messages; /* the team join/leave system posts */
    int64_t session_length_web_in_hours;
    int64_t session_cache_in_minutes;
    int64_t maximum_login_attempts; /* failed logins in a row that lock an account */
    char *webserver_mode;           /* "gzip" | "uncompressed" | "disabled": the web client's files */
    char *client_directory;         /* chorus's own: the web client to serve, "" for none */
} config_service_t;

typedef struct {
    char *driver_name;
    char *data_source;
    config_strings_t data_source_replicas;
    config_strings_t data_source_search_replicas;
    int64_t max_idle_conns;
    int64_t max_open_conns;
    int64_t conn_max_lifetime_milliseconds;
    int64_t conn_max_idle_time_milliseconds;
    int64_t query_timeout; /* seconds */
    int64_t replica_monitor_interval_seconds;
    bool prepare_statements; /* chorus's own: plan once per connection */
} config_sql_t;

typedef struct {
    bool enable;
    char *cluster_name;
    char *override_hostname;
    char *network_interface;
    char *bind_address;
    char *advertise_address;
    bool use_ip_address;
    bool enable_gossip_compression;
    bool enable_experimental_gossip_encryption;
    bool read_only_config;
    int64_t gossip_port;
    int64_t streaming_port;
    /* chorus's own: SWIM timings (the defaults detect a dead node in ~1 s) */
    int64_t gossip_probe_interval_milliseconds;
    int64_t gossip_probe_timeout_milliseconds;
    int64_t gossip_suspicion_multiplier;
    int64_t gossip_push_pull_interval_seconds;
} config_cluster_t;

typedef struct {
    bool enable_console;
    char *console_level; /* "DEBUG" | "INFO" | "WARN" | "ERROR" */
    bool console_json;
    bool enable_file;
    char *file_level;
    bool file_json;
    char *file_location; /* "" means ./logs */
} config_log_t;

typedef struct {
    bool enable;
    char *listen_address;
} config_metrics_t;

typedef struct {
    bool run_jobs;
    bool run_scheduler;
    int64_t cleanup_jobs_threshold_days;
} config_job_t;

typedef struct {
    char *driver_name; /* "local" | "amazons3" */
    char *directory;
    int64_t max_file_size;
} config_file_t;

typedef struct {
    bool enable_message_deletion;
    int64_t message_retention_days;
    char *deletion_job_start_time; /* "HH:MM" */
    int64_t batch_size;
    int64_t time_between_batches_milliseconds;
} config_data_retention_t;

/* RateLimitSettings: the node-wide table (shm/ratelimit.h) is sized from
 * MemoryStoreSize when the node starts; the rest applies on a reload. */
typedef struct {
    bool enable;
    int64_t per_sec;
    int64_t max_burst;
    int64_t memory_store_size; /* keys remembered */
    bool vary_by_remote_addr;
    bool vary_by_user;    /* by session token, else the address */
    char *vary_by_header; /* a header whose value joins the key; "" none */
} config_rate_limit_t;

typedef struct {
    bool enable;
    char *directory;
    bool enable_daily;
    int64_t batch_size;
} config_compliance_t;

typedef struct {
    char *site_name;
    int64_t max_users_per_team; /* active members a join may not go past */
    bool enable_open_server;
    bool enable_user_creation;
    bool enable_user_deactivation; /* a user may deactivate itself */
} config_team_t;

typedef struct {
    int64_t workers; /* 0: one per CPU */
    char *pid_file;
    int64_t shm_size_mb;
} config_process_t;

typedef struct {
    config_service_t service;
    config_sql_t sql;
    config_cluster_t cluster;
    config_log_t log;
    config_metrics_t metrics;
    config_job_t job;
    config_file_t file;
    config_rate_limit_t rate_limit;
    config_data_retention_t data_retention;
    config_compliance_t compliance;
    config_team_t team;
    config_process_t process;
    char *path; /* the file it was read from */
} config_t;

/* Problems found while loading: one line each, "Section.Key: reason". */
#define CONFIG_ERRORS_MAX 64
typedef struct {
    char lines[CONFIG_ERRORS_MAX][256];
    size_t count;
    size_t dropped; /* problems beyond CONFIG_ERRORS_MAX */
    /* Keys present in the file that chorus does not know (a real Mattermost
     * config has many): ignored, listed here so the caller can log them once. */
    char ignored[CONFIG_ERRORS_MAX][128];
    size_t ignored_count;
    size_t ignored_dropped; /* ignored keys beyond CONFIG_ERRORS_MAX */
} config_errors_t;

/* Reads `path`, applies defaults for absent keys, then MM_<SECTION>_<KEY>
 * environment overrides, then validates every key.  Unknown keys are ignored.
 * Returns 0 when valid; otherwise -1 with every problem in `errors` (cfg is
 * then freed and zeroed).  A missing or unparsable file is one error line. */
int config_load(const char *path, config_t *cfg, config_errors_t *errors);

/* Same as config_load but from an in-memory JSON document (PUT /api/v4/config,
 * a config saved on a peer, the tests). */
int config_load_json(json_t *doc, config_t *cfg, config_errors_t *errors);

void config_free(config_t *cfg);

/* Number of worker processes: ProcessSettings.Workers, or one per CPU. */
unsigned config_worker_count(const config_t *cfg);

/* The effective config as Mattermost-shaped JSON (new reference).  With
 * `sanitize`, secrets (data sources, etc.) read "********************************". */
json_t *config_to_json(const config_t *cfg, bool sanitize);

/* SHA-256 (lower-case hex, 64 chars + NUL) of the canonical JSON (sorted keys,
 * compact) of the effective config without ClusterSettings, ProcessSettings
 * and per-node keys.  Two nodes with the same hash serve the same config. */
int config_hash(const config_t *cfg, char out[65]);

/* The same, restricted to one section ("SqlSettings"...); for naming the
 * sections that differ between nodes.  Returns -1 for an unknown section. */
int config_hash_section(const config_t *cfg, const char *section, char out[65]);

#endif
