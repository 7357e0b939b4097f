/*
 * ClusterDiscovery: each node keeps its row (how to reach it) fresh in the
 * database, and reads the rows of its cluster to find peers to join.  Also
 * the cluster key for sealed gossip (the Systems row ClusterEncryptionKey,
 * created by whichever node needs it first).
 *
 * Every statement runs on the cluster child's own small async pool, so a
 * slow or dead database delays discovery and nothing else: gossip with peers
 * already known goes on.  Rows not refreshed for DISCOVERY_STALE_MS are not
 * peers; rows older than 30 minutes are deleted by whoever saves next, as
 * Mattermost does.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/internal.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/text.h"
#include "db/migrate.h"
#include "shm/region.h"
#include "store/system.h"

#define DISCOVERY_PING_MS       10000
#define DISCOVERY_POLL_MS       2000
#define DISCOVERY_STALE_MS      60000
#define DISCOVERY_CLEANUP_MS    (30 * 60 * 1000)
#define DISCOVERY_RETRY_MS      2000
#define DISCOVERY_QUERY_TIMEOUT 5000

static void save_row(cluster_t *c);

static void load_key_done(void *data, PGresult *result, const char *error)
{
    cluster_t *c = data;
    c->discovery_in_flight--;
    if (result == NULL || error != NULL || PQntuples(result) != 1) {
        log_warn(0, "cannot read the cluster key (Systems row %s): %s; retrying", CLUSTER_KEY_SYSTEMS_ROW,
                 error != NULL ? error : "no row");
        c->next_ping_ms = clock_monotonic_ms() + DISCOVERY_RETRY_MS;
        return;
    }
    const char *text = PQgetvalue(result, 0, 0);
    size_t text_len = strlen(text);
    unsigned char decoded[SEAL_KEY_MAX * 2];
    int n = text_len > 0 && text_len % 4 == 0 && text_len <= 4 * SEAL_KEY_MAX * 2 / 3
                ? EVP_DecodeBlock(decoded, (const unsigned char *)text, (int)text_len)
                : -1;
    if (n > 0) /* EVP_DecodeBlock counts the padding as zero bytes */
        n -= (text[text_len - 1] == '=') + (text_len > 1 && text[text_len - 2] == '=');
    if (n != 16 && n != 24 && n != 32) {
        log_error(0, "the Systems row %s is not the base64 of a 16, 24 or 32-byte key: gossip cannot start",
                  CLUSTER_KEY_SYSTEMS_ROW);
        c->next_ping_ms = clock_monotonic_ms() + DISCOVERY_PING_MS;
        return;
    }
    memcpy(c->key, decoded, (size_t)n);
    c->key_len = (size_t)n;
    c->key_loaded = true;
    memcpy(c->streams->key, decoded, (size_t)n);
    c->streams->key_len = (uint8_t)n;
    OPENSSL_cleanse(decoded, sizeof(decoded));
    log_info("cluster key loaded (AES-%d-GCM)", n * 8);
    if (cluster_gossip_start(c) != 0)
        c->stopping = true; /* logged; the master respawns us with backoff */
    else
        save_row(c);
}

/* The first node to start creates the key; everyone reads the one stored. */
static void load_key(cluster_t *c)
{
    unsigned char fresh[32];
    unsigned char encoded[64];
    if (RAND_bytes(fresh, sizeof(fresh)) != 1) {
        log_error(0, "cannot generate a cluster key");
        return;
    }
    EVP_EncodeBlock(encoded, fresh, sizeof(fresh));
    const char *params[] = {CLUSTER_KEY_SYSTEMS_ROW, (const char *)encoded};
    c->discovery_in_flight++;
    db_pool_query(c->db, SYSTEM_SQL_PUT_IF_ABSENT, 2, params, load_key_done, c);
}

static void save_row_done(void *data, PGresult *result, const char *error)
{
    cluster_t *c = data;
    c->discovery_in_flight--;
    int64_t now = clock_monotonic_ms();
    if (result == NULL || error != NULL) {
        log_warn(0, "cannot save our ClusterDiscovery row: %s", error != NULL ? error : "no result");
        c->next_ping_ms = now + DISCOVERY_RETRY_MS;
        return;
    }
    if (!c->row_saved)
        log_info("ClusterDiscovery: saved %s:%lld (gossip) :%lld (streaming) for cluster \"%s\"", c->hostname,
                 (long long)c->config->cluster.gossip_port, (long long)c->config->cluster.streaming_port,
                 c->config->cluster.cluster_name);
    c->row_saved = true;
    c->next_ping_ms = now + DISCOVERY_PING_MS;
}

/* One statement: drop rows nobody refreshed for 30 minutes and our own
 * previous row (same address, another id: an earlier run of this node), then
 * upsert ours.  Run at start and as the periodic ping. */
static void save_row(cluster_t *c)
{
    char gossip[TEXT_INT64_SIZE], streaming[TEXT_INT64_SIZE], now_text[TEXT_INT64_SIZE], cleanup[TEXT_INT64_SIZE];
    int64_t now = clock_now_ms();
    text_int64(gossip, c->config->cluster.gossip_port);
    text_int64(streaming, c->config->cluster.streaming_port);
    text_int64(now_text, now);
    text_int64(cleanup, now - DISCOVERY_CLEANUP_MS);
    const char *params[] = {
        c->node_id, CLUSTER_DISCOVERY_TYPE, c->config->cluster.cluster_name, c->hostname, gossip, streaming, now_text,
        cleanup};
    c->discovery_in_flight++;
    db_pool_query(
        c->db,
        "WITH stale AS (DELETE FROM ClusterDiscovery WHERE LastPingAt < $8 OR "
        "(Type = $2 AND ClusterName = $3 AND Hostname = $4 AND GossipPort = $5::integer AND Id <> $1)) "
        "INSERT INTO ClusterDiscovery (Id, Type, ClusterName, Hostname, GossipPort, Port, CreateAt, LastPingAt) "
        "VALUES ($1, $2, $3, $4, $5::integer, $6::integer, $7::bigint, $7::bigint) "
        "ON CONFLICT (Id) DO UPDATE SET LastPingAt = EXCLUDED.LastPingAt, Hostname = EXCLUDED.Hostname, "
        "GossipPort = EXCLUDED.GossipPort, Port = EXCLUDED.Port",
        8, params, save_row_done, c);
}

static bool parse_port(const char *text, uint16_t *port)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (*end != '\0' || v < 1 || v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

static void poll_peers_done(void *data, PGresult *result, const char *error)
{
    cluster_t *c = data;
    c->discovery_in_flight--;
    if (result == NULL || error != NULL) {
        log_debug("cannot read ClusterDiscovery: %s", error != NULL ? error : "no result");
        return;
    }
    for (unsigned i = 0; i < c->peer_count; i++)
        c->peers[i].from_discovery = false; /* rows come and go: this answer is the truth */
    for (int i = 0; i < PQntuples(result); i++) {
        const char *id = PQgetvalue(result, i, 0), *host = PQgetvalue(result, i, 1);
        uint16_t gossip, streaming;
        if (!id_is_valid(id, strlen(id)) || strlen(host) == 0 || strlen(host) > SWIM_HOST_MAX ||
            !parse_port(PQgetvalue(result, i, 2), &gossip) || !parse_port(PQgetvalue(result, i, 3), &streaming)) {
            log_debug("ClusterDiscovery row %d ignored: malformed", i);
            continue;
        }
        cluster_peer_note(c, id, host, gossip, streaming, true);
    }
}

static void poll_peers(cluster_t *c)
{
    char fresh[TEXT_INT64_SIZE];
    text_int64(fresh, clock_now_ms() - DISCOVERY_STALE_MS);
    const char *params[] = {CLUSTER_DISCOVERY_TYPE, c->config->cluster.cluster_name, c->node_id, fresh};
    c->discovery_in_flight++;
    db_pool_query(c->db,
                  "SELECT Id, Hostname, GossipPort, Port FROM ClusterDiscovery "
                  "WHERE Type = $1 AND ClusterName = $2 AND Id <> $3 AND LastPingAt > $4::bigint "
                  "ORDER BY Id LIMIT 63",
                  4, params, poll_peers_done, c);
}

int cluster_discovery_start(cluster_t *c)
{
    db_pool_options_t options = {
        .name = "discovery",
        .conninfo = c->config->sql.data_source,
        .max_conns = 1,
        .query_timeout_ms = DISCOVERY_QUERY_TIMEOUT,
        .queue_max = 16,
        .lifetime_ms = c->config->sql.conn_max_lifetime_milliseconds,
        .idle_time_ms = c->config->sql.conn_max_idle_time_milliseconds,
    };
    int rc = db_pool_create(&c->db, c->loop, &options);
    if (rc != 0) {
        log_error(-rc, "cannot create the discovery database pool");
        return rc;
    }
    c->next_ping_ms = c->next_peer_poll_ms = clock_monotonic_ms();
    return 0;
}

void cluster_discovery_tick(cluster_t *c, int64_t now)
{
    /* on a new database the migration child may not have created the table yet */
    if (c->leaving || c->discovery_in_flight > 2 || !schema_at_least(c->params->shm, SCHEMA_CLUSTER_DISCOVERY))
        return;
    if (now >= c->next_ping_ms) {
        c->next_ping_ms = now + DISCOVERY_PING_MS; /* the callback sets the real next time */
        if (!c->key_loaded)
            load_key(c);
        else
            save_row(c);
    }
    if (c->gossip_started && now >= c->next_peer_poll_ms) {
        c->next_peer_poll_ms = now + DISCOVERY_POLL_MS;
        poll_peers(c);
    }
}

typedef struct {
    cluster_t *c;
    void (*done)(cluster_t *c);
} leave_t;

static void leave_done(void *data, PGresult *result, const char *error)
{
    leave_t *l = data;
    if (result == NULL || error != NULL)
        log_warn(0, "cannot delete our ClusterDiscovery row: %s (it expires by itself)",
                 error != NULL ? error : "no result");
    else
        log_info("ClusterDiscovery: row deleted");
    l->done(l->c);
    free(l);
}

void cluster_discovery_leave(cluster_t *c, void (*done)(cluster_t *c))
{
    leave_t *l = malloc(sizeof(*l));
    if (l == NULL || c->db == NULL || !c->row_saved) {
        free(l);
        done(c);
        return;
    }
    *l = (leave_t){c, done};
    const char *params[] = {c->node_id};
    db_pool_query(c->db, "DELETE FROM ClusterDiscovery WHERE Id = $1", 1, params, leave_done, l);
}

void cluster_discovery_dispose(cluster_t *c)
{
    if (c->db != NULL)
        db_pool_destroy(c->db);
    c->db = NULL;
    OPENSSL_cleanse(c->key, sizeof(c->key));
}
