/*
 * UDP gossip: the socket on ClusterSettings.GossipPort, the envelope (seal.h)
 * around every packet, and the glue between SWIM and the rest of the child.
 * h2o only tells us the socket is readable (H2O_SOCKET_FLAG_DONT_READ on a
 * dup of it): datagrams are read here with recvfrom, one packet each, which
 * h2o's stream reads would merge.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster/internal.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/version.h"
#include "shm/region.h"

#define GOSSIP_READS_PER_WAKEUP 64

static void on_send(void *ctx, const char *host, uint16_t port, const uint8_t *data, size_t len)
{
    cluster_t *c = ctx;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    if (resolver_lookup(host, port, SOCK_DGRAM, &addr, &addr_len) != 0) {
        log_debug("gossip: cannot resolve %s:%u", host, port);
        return;
    }
    size_t sealed_len;
    if (seal_wrap(c->gossip_seal, data, len, c->packet, SWIM_PACKET_MAX + SEAL_OVERHEAD_MAX, &sealed_len,
                  clock_now_ms()) != 0)
        return;
    /* best effort, as UDP is: a full socket buffer loses the packet and SWIM copes */
    if (sendto(c->udp_fd, c->packet, sealed_len, MSG_DONTWAIT, (const struct sockaddr *)&addr, addr_len) < 0)
        log_debug("gossip: sendto %s:%u: %s", host, port, strerror(errno));
}

static void on_member_change(void *ctx, const swim_member_t *member, swim_state_t previous)
{
    cluster_t *c = ctx;
    cluster_view_on_member(c, member, previous);
    cluster_links_on_member(c, member, previous);
}

static void on_readable(h2o_socket_t *sock, const char *err)
{
    cluster_t *c = sock->data;
    (void)err;
    uint8_t buf[SWIM_PACKET_MAX + SEAL_OVERHEAD_MAX];
    for (int i = 0; i < GOSSIP_READS_PER_WAKEUP; i++) {
        ssize_t n = recv(c->udp_fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0)
            break;
        const uint8_t *payload;
        size_t payload_len;
        char sender[ID_LENGTH + 1];
        if ((size_t)n > sizeof(buf) ||
            seal_unwrap(c->gossip_seal, buf, (size_t)n, &payload, &payload_len, sender, clock_now_ms()) != SEAL_OK ||
            swim_receive(c->swim, payload, payload_len, clock_monotonic_ms()) != 0) {
            c->dropped_packets++;
            cluster_view_mark_dirty(c);
        }
    }
}

static int open_socket(cluster_t *c)
{
    const config_cluster_t *cl = &c->config->cluster;
    const char *bind_host = cl->bind_address[0] != '\0' ? cl->bind_address : "::";
    struct sockaddr_storage addr;
    socklen_t len;
    if (resolver_numeric(bind_host, (uint16_t)cl->gossip_port, SOCK_DGRAM, &addr, &len) != 0) {
        log_error(0, "ClusterSettings.BindAddress: \"%s\" is not an IP address", cl->bind_address);
        return -EINVAL;
    }
    int fd = socket(addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int off = 0;
    if (fd >= 0 && addr.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)); /* v4 peers too */
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, len) != 0) {
        int e = errno;
        log_error(e, "ClusterSettings.GossipPort: cannot bind UDP port %lld", (long long)cl->gossip_port);
        if (fd >= 0)
            close(fd);
        return -e;
    }
    int watch_fd = dup(fd);
    if (watch_fd < 0) {
        close(fd);
        return -errno;
    }
    c->udp_fd = fd;
    c->udp_watch = h2o_evloop_socket_create(c->loop, watch_fd, H2O_SOCKET_FLAG_DONT_READ);
    c->udp_watch->data = c;
    h2o_socket_read_start(c->udp_watch, on_readable);
    return 0;
}

static void fill_meta(cluster_t *c, node_meta_t *meta)
{
    memset(meta, 0, sizeof(*meta));
    memcpy(meta->id, c->node_id, sizeof(meta->id));
    snprintf(meta->version, sizeof(meta->version), "%s", c->version);
    meta->schema_version = shm_region_header(c->params->shm)->schema_version;
    snprintf(meta->config_hash, sizeof(meta->config_hash), "%s", c->params->config_hash);
    snprintf(meta->hostname, sizeof(meta->hostname), "%s", c->hostname);
    snprintf(meta->ipaddress, sizeof(meta->ipaddress), "%s", c->ipaddress);
    meta->gossip_port = (uint16_t)c->config->cluster.gossip_port;
    meta->streaming_port = (uint16_t)c->config->cluster.streaming_port;
    meta->start_at = c->start_wall_ms;
    memcpy(meta->leader_id, c->leader_id, sizeof(meta->leader_id));
}

int cluster_gossip_refresh_meta(cluster_t *c)
{
    if (!c->gossip_started)
        return 0;
    node_meta_t meta;
    uint8_t encoded[NODE_META_MAX];
    size_t len;
    fill_meta(c, &meta);
    int rc = node_meta_encode(&meta, encoded, sizeof(encoded), &len);
    if (rc == 0)
        rc = swim_set_meta(c->swim, encoded, len, clock_monotonic_ms());
    if (rc != 0)
        log_warn(-rc, "cannot update our gossip metadata");
    return rc;
}

static void fill_options(const config_cluster_t *cl, swim_options_t *o)
{
    swim_options_default(o);
    o->probe_interval_ms = cl->gossip_probe_interval_milliseconds;
    o->probe_timeout_ms = cl->gossip_probe_timeout_milliseconds;
    o->suspicion_mult = (unsigned)cl->gossip_suspicion_multiplier;
}

int cluster_gossip_start(cluster_t *c)
{
    const config_cluster_t *cl = &c->config->cluster;
    bool encrypt = cl->enable_experimental_gossip_encryption;
    int rc = seal_create(&c->gossip_seal, cl->cluster_name, SEAL_CHANNEL_GOSSIP, c->key, c->key_len, encrypt,
                         c->node_id, c->start_wall_ms);
    if (rc == 0)
        rc = seal_create(&c->link_seal, cl->cluster_name, SEAL_CHANNEL_LINK, c->key, c->key_len, encrypt, c->node_id,
                         c->start_wall_ms);
    if (rc != 0) {
        log_error(-rc, "ClusterSettings.ClusterName: cannot set up the gossip envelope");
        return rc;
    }
    c->packet = malloc(SWIM_PACKET_MAX + SEAL_OVERHEAD_MAX);
    if (c->packet == NULL)
        return -ENOMEM;
    if ((rc = open_socket(c)) != 0)
        return rc;
    node_meta_t meta;
    swim_member_t self = {.port = (uint16_t)cl->gossip_port};
    memcpy(self.id, c->node_id, sizeof(self.id));
    snprintf(self.host, sizeof(self.host), "%s", c->hostname);
    c->gossip_started = true;
    fill_meta(c, &meta);
    if ((rc = node_meta_encode(&meta, self.meta, sizeof(self.meta), &self.meta_len)) != 0) {
        log_error(-rc, "ClusterSettings.OverrideHostname: our gossip metadata does not fit %d bytes", NODE_META_MAX);
        return rc;
    }
    swim_options_t options;
    fill_options(cl, &options);
    swim_callbacks_t callbacks = {.ctx = c, .send = on_send, .on_change = on_member_change};
    if ((rc = swim_create(&c->swim, &options, &self, &callbacks, clock_monotonic_ms())) != 0) {
        log_error(-rc, "cannot start gossip");
        return rc;
    }
    /* a leader chosen before the first push-pulls would be one nobody else
     * agrees with: wait for a few probe rounds */
    c->leader_after_ms = clock_monotonic_ms() + 5 * options.probe_interval_ms;
    log_info("gossip on UDP %lld as %s (%s), probe every %lld ms, timeout %lld ms%s", (long long)cl->gossip_port,
             c->hostname, c->node_id, (long long)options.probe_interval_ms, (long long)options.probe_timeout_ms,
             seal_is_encrypted(c->gossip_seal) ? ", sealed (encrypted and authenticated)" : ", authenticated");
    cluster_view_mark_dirty(c);
    return 0;
}

void cluster_gossip_tick(cluster_t *c, int64_t now)
{
    if (c->swim != NULL && now >= swim_next_deadline(c->swim))
        swim_tick(c->swim, now);
}

void cluster_gossip_leave(cluster_t *c)
{
    if (c->swim != NULL)
        swim_leave(c->swim, clock_monotonic_ms());
}

void cluster_gossip_dispose(cluster_t *c)
{
    if (c->udp_watch != NULL)
        h2o_socket_close(c->udp_watch);
    if (c->udp_fd > 0)
        close(c->udp_fd);
    if (c->swim != NULL)
        swim_destroy(c->swim);
    seal_destroy(c->gossip_seal);
    seal_destroy(c->link_seal);
    free(c->packet);
    c->udp_watch = NULL;
    c->swim = NULL;
    c->gossip_seal = c->link_seal = NULL;
    c->packet = NULL;
}
