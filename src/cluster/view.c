/*
 * The cluster as this node sees it: who is alive, who leads, who differs from
 * us and why.  Derived from SWIM's members, their gossiped metadata and the
 * config digests their links sent; written into shm (shm/cluster_view.h) for
 * the workers whenever it changes (at most every VIEW_MIN_INTERVAL_MS) and
 * once a second regardless, so `updated_at` shows the cluster child is alive.
 *
 * Leader: the alive member with the lowest node id (bully, as Mattermost);
 * every node derives it from its own view and logs each change.  Two leaders
 * can exist during a partition; what a leader does (job scheduling) is made
 * idempotent in the database, not here.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cluster/internal.h"
#include "core/clock.h"
#include "core/log.h"
#include "shm/region.h"

#define VIEW_MIN_INTERVAL_MS 50
#define VIEW_REFRESH_MS      1000
#define VIEW_LEFT_SHOWN_MS   60000
#define VIEW_DEAD_SHOWN_MS   (24LL * 3600 * 1000)

static const char *state_name(swim_state_t s)
{
    switch (s) {
    case SWIM_ALIVE: return "alive";
    case SWIM_SUSPECT: return "suspect";
    case SWIM_DEAD: return "dead";
    case SWIM_LEFT: return "left";
    }
    return "?";
}

static bool is_alive(swim_state_t s)
{
    return s == SWIM_ALIVE || s == SWIM_SUSPECT;
}

void cluster_view_mark_dirty(cluster_t *c)
{
    c->view_dirty = true;
}

static void format_time(int64_t wall_ms, char *out, size_t size)
{
    time_t t = (time_t)(wall_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A member's state change time on the wall clock (SWIM keeps monotonic). */
static int64_t wall_of(int64_t mono_ms, int64_t now_mono, int64_t now_wall)
{
    return now_wall - (now_mono - mono_ms);
}

static bool any_entry(const void *value, void *arg)
{
    (void)value;
    (void)arg;
    return true;
}

static void clear_caches(cluster_t *c)
{
    shm_region_t *shm = c->params->shm;
    shm_cache_t *caches[] = {shm_region_sessions(shm), shm_region_users(shm), shm_region_presence(shm)};
    size_t removed = 0;
    for (size_t i = 0; i < sizeof(caches) / sizeof(caches[0]); i++)
        if (caches[i] != NULL)
            removed += shm_cache_remove_if(caches[i], any_entry, NULL);
    log_info("dropped %zu cached sessions, users and statuses (we may have missed invalidations)", removed);
}

void cluster_view_on_member(cluster_t *c, const swim_member_t *m, swim_state_t previous)
{
    cluster_view_mark_dirty(c);
    if (m->is_self)
        return;
    cluster_peer_t *p = cluster_peer_find(c, m->id);
    int64_t now = clock_now_ms();
    if (m->state == previous) {
        log_debug("node %s (%s) updated (incarnation %u)", m->id, m->host, m->incarnation);
    } else {
        log_info("node %s (%s:%u) is %s (was %s)", m->id, m->host, m->port, state_name(m->state), state_name(previous));
    }
    if (p == NULL)
        return;
    if (is_alive(m->state)) {
        if (p->down_since_wall_ms != 0 && m->state == SWIM_ALIVE) {
            log_info("node %s rejoined after being declared %s", m->id, state_name(previous));
            clear_caches(c);
            cluster_presence_resync_soon(c);
        }
        p->down_since_wall_ms = 0;
        p->last_seen_wall_ms = now;
    } else if (p->down_since_wall_ms == 0) {
        p->down_since_wall_ms = now;
        cluster_presence_sweep_soon(c);
        cluster_scheduler_on_death(c, m->id);
    }
}

static void add_reason(cluster_view_member_t *v, const char *fmt, const char *a, const char *b)
{
    if (v->reason_count == CLUSTER_VIEW_REASONS_MAX)
        return;
    snprintf(v->reasons[v->reason_count++], CLUSTER_VIEW_REASON_LEN, fmt, a, b);
}

/* A member replaced by a newer process at the same address (a restart gets a
 * new node id) is history, not a failure: it is not shown. */
static bool replaced(const swim_t *swim, const swim_member_t *m)
{
    for (size_t i = 0; i < swim_member_count(swim); i++) {
        const swim_member_t *o = swim_member_at(swim, i);
        if (o != m && is_alive(o->state) && o->port == m->port && strcmp(o->host, m->host) == 0)
            return true;
    }
    return false;
}

static void describe_peer(cluster_t *c, const swim_member_t *m, cluster_view_member_t *v, int64_t now_mono,
                          int64_t now_wall)
{
    node_meta_t meta;
    bool has_meta = node_meta_decode(m->meta, m->meta_len, &meta) == 0;
    cluster_peer_t *p = cluster_peer_find(c, m->id);
    if (has_meta) {
        snprintf(v->version, sizeof(v->version), "%s", meta.version);
        v->schema_version = meta.schema_version;
        snprintf(v->config_hash, sizeof(v->config_hash), "%s", meta.config_hash);
        snprintf(v->ipaddress, sizeof(v->ipaddress), "%s", meta.ipaddress);
        snprintf(v->hostname, sizeof(v->hostname), "%s", meta.hostname);
        v->streaming_port = meta.streaming_port;
        v->start_at = meta.start_at;
    } else {
        snprintf(v->hostname, sizeof(v->hostname), "%s", m->host);
    }
    v->gossip_port = m->port;
    v->alive = is_alive(m->state);
    v->last_seen_at = v->alive ? now_wall : wall_of(m->state_since_ms, now_mono, now_wall);
    char when[32];
    if (!v->alive) {
        format_time(v->last_seen_at, when, sizeof(when));
        add_reason(v, m->state == SWIM_LEFT ? "left the cluster at %s%s" : "unreachable since %s%s", when, "");
        return;
    }
    if (has_meta && strcmp(meta.version, c->version) != 0)
        add_reason(v, "version mismatch: %s vs %s", meta.version, c->version);
    if (has_meta && strcmp(meta.config_hash, c->params->config_hash) != 0) {
        char keys[CLUSTER_VIEW_REASON_LEN - 20];
        if (p != NULL && p->has_digest && config_digest_diff(&c->digest, &p->digest, keys, sizeof(keys)) > 0)
            add_reason(v, "config mismatch: %s%s", keys, "");
        else
            add_reason(v, "config mismatch: config hash %.12s… vs %.12s…", meta.config_hash, c->params->config_hash);
    }
    if (!has_meta)
        add_reason(v, "no metadata received yet%s%s", "", "");
    /* green means events reach it: a peer back from a partition is alive to
     * SWIM a moment before its link carries them */
    if (p == NULL || p->link == NULL)
        add_reason(v, "not linked: events do not reach it yet%s%s", "", "");
}

/* Peers known only from ClusterDiscovery: never answered gossip. */
static void describe_silent_peer(const cluster_peer_t *p, cluster_view_member_t *v, int64_t now_wall)
{
    snprintf(v->id, sizeof(v->id), "%s", p->id);
    snprintf(v->hostname, sizeof(v->hostname), "%s", p->host);
    v->gossip_port = p->gossip_port;
    v->streaming_port = p->streaming_port;
    (void)now_wall;
    add_reason(v, "never reached over gossip (%s:%s)", p->host, "ClusterDiscovery row");
}

static void update_leader(cluster_t *c, int64_t now)
{
    if (now < c->leader_after_ms)
        return; /* alone for now only because the first joins have not landed */
    const char *best = c->node_id;
    for (size_t i = 0; i < swim_member_count(c->swim); i++) {
        const swim_member_t *m = swim_member_at(c->swim, i);
        if (is_alive(m->state) && strcmp(m->id, best) < 0)
            best = m->id;
    }
    if (strcmp(best, c->leader_id) == 0)
        return;
    log_info("leader is now %s%s (was %s)", best, strcmp(best, c->node_id) == 0 ? " (this node)" : "",
             c->leader_id[0] ? c->leader_id : "none");
    snprintf(c->leader_id, sizeof(c->leader_id), "%s", best);
    cluster_gossip_refresh_meta(c);
}

static void build(cluster_t *c, cluster_view_data_t *d, int64_t now_mono, int64_t now_wall)
{
    memset(d, 0, sizeof(*d));
    d->enabled = true;
    d->updated_at = now_wall;
    d->dropped_packets = c->dropped_packets;
    memcpy(d->leader_id, c->leader_id, sizeof(d->leader_id));
    cluster_view_member_t *self = &d->members[d->count++];
    snprintf(self->id, sizeof(self->id), "%s", c->node_id);
    snprintf(self->version, sizeof(self->version), "%s", c->version);
    self->schema_version = shm_region_header(c->params->shm)->schema_version;
    snprintf(self->config_hash, sizeof(self->config_hash), "%s", c->params->config_hash);
    snprintf(self->ipaddress, sizeof(self->ipaddress), "%s", c->ipaddress);
    snprintf(self->hostname, sizeof(self->hostname), "%s", c->hostname);
    self->gossip_port = (uint16_t)c->config->cluster.gossip_port;
    self->streaming_port = (uint16_t)c->config->cluster.streaming_port;
    self->is_self = self->alive = true;
    self->last_seen_at = now_wall;
    self->start_at = c->start_wall_ms;
    d->alive_count = 1;
    unsigned others = 0;
    for (size_t i = 0; c->swim != NULL && i < swim_member_count(c->swim) && d->count < CLUSTER_VIEW_MEMBERS_MAX; i++) {
        const swim_member_t *m = swim_member_at(c->swim, i);
        if (m->is_self)
            continue;
        int64_t gone_for = now_mono - m->state_since_ms;
        if (!is_alive(m->state) &&
            (replaced(c->swim, m) || gone_for > (m->state == SWIM_LEFT ? VIEW_LEFT_SHOWN_MS : VIEW_DEAD_SHOWN_MS)))
            continue;
        cluster_view_member_t *v = &d->members[d->count++];
        snprintf(v->id, sizeof(v->id), "%s", m->id);
        describe_peer(c, m, v, now_mono, now_wall);
        v->is_leader = strcmp(m->id, c->leader_id) == 0;
        v->green = v->alive && v->reason_count == 0;
        d->alive_count += v->alive;
        others++;
    }
    for (unsigned i = 0; i < c->peer_count && d->count < CLUSTER_VIEW_MEMBERS_MAX; i++) {
        const cluster_peer_t *p = &c->peers[i];
        if (!p->from_discovery || (c->swim != NULL && swim_member_find(c->swim, p->id) != NULL))
            continue;
        describe_silent_peer(p, &d->members[d->count++], now_wall);
        others++;
    }
    self->is_leader = strcmp(c->node_id, c->leader_id) == 0;
    if (!c->gossip_started)
        add_reason(self, "gossip not started yet%s%s", "", " (waiting for the cluster key from the database)");
    else if (others > 0 && d->alive_count == 1)
        add_reason(self, "cut off: no peer reachable%s%s", "", "");
    self->green = self->reason_count == 0;
}

void cluster_view_tick(cluster_t *c, int64_t now)
{
    int64_t since = now - c->last_view_ms;
    if (since < VIEW_REFRESH_MS && !(c->view_dirty && since >= VIEW_MIN_INTERVAL_MS))
        return;
    if (c->swim != NULL)
        update_leader(c, now);
    static cluster_view_data_t data; /* ~70 KB: not on the stack */
    build(c, &data, now, clock_now_ms());
    cluster_view_publish(shm_region_cluster(c->params->shm), &data);
    c->view_dirty = false;
    c->last_view_ms = now;
}
