/*
 * The cluster child's life: set up, gossip, forward, stop.
 *
 * Start: our address, the config digests, the discovery pool, the streaming
 * listener, then gossip — at once, or, with gossip encryption, once the
 * cluster key has been read from the database.  A port already taken is an
 * error naming the key, and the exit makes the master respawn us with
 * backoff; the workers serve meanwhile, as a single node.
 *
 * One 10 ms tick drives everything timed (SWIM's deadlines, dials, discovery,
 * the view): h2o 2.2.5's timeouts have one fixed duration per list, and a
 * tick that cheap costs nothing next to a gossip round.
 *
 * Stop: SIGTERM/SIGINT (the node stops) tells the peers we leave and deletes
 * our ClusterDiscovery row, within STOP_LEAVE_MS; SIGQUIT (a reload replaces
 * us) and the master's death stop at once: the node is still there, or its
 * peers will find out soon enough.
 */
#include "cluster/cluster.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cluster/internal.h"
#include "core/child.h"
#include "core/clock.h"
#include "core/events.h"
#include "core/log.h"
#include "core/version.h"
#include "master/process.h"

#define STOP_LEAVE_MS 1000

static void cluster_stop(cluster_t *c, const char *why)
{
    if (!c->stopping)
        log_info("stopping: %s", why);
    c->stopping = true;
}

static void on_left(cluster_t *c)
{
    cluster_stop(c, "left the cluster");
}

static void cluster_leave(cluster_t *c)
{
    if (c->leaving)
        return;
    c->leaving = true;
    c->leave_deadline_ms = clock_monotonic_ms() + STOP_LEAVE_MS;
    cluster_gossip_leave(c);
    cluster_discovery_leave(c, on_left);
}

/* Records worth a peer's while: what changes what another node serves. */
static bool forwarded(uint16_t type)
{
    switch (type) {
    case EVENT_WS_EVENT:
    case EVENT_SESSION_REVOKED:
    case EVENT_USER_SESSIONS_REVOKED:
    case EVENT_STATUS_CHANGED:
    case EVENT_MEMBERS_CHANGED:
    case EVENT_CONFIG_RELOAD:
    case EVENT_CONFIG_SAVED:
    case EVENT_REPLAY_REQUEST:
    case EVENT_REPLAY_ANSWER: return true;
    }
    return false;
}

/* The node a record is for, when only one node wants it: a replay answer
 * goes to the node that asked.  NULL: every node.  false: not sent at all. */
static bool recipient(uint16_t type, const uint8_t *record, size_t len, char *node_id)
{
    node_id[0] = '\0';
    if (type != EVENT_REPLAY_ANSWER)
        return true;
    static event_replay_answer_t answer; /* ~7 KB: not on the stack */
    if (event_decode_replay_answer(record, len, &answer) != 0)
        return false;
    memcpy(node_id, answer.node_id, ID_LENGTH + 1);
    return true;
}

static void read_ring(cluster_t *c)
{
    shm_ring_t *ring = shm_region_ring(c->params->shm);
    for (;;) {
        uint16_t type;
        size_t len;
        uint64_t seq;
        int rc = shm_ring_read(ring, &c->ring_cursor, &type, c->record, &len, &seq);
        if (rc == 1) {
            char only[ID_LENGTH + 1];
            if (!(type & EVENT_FROM_CLUSTER) && forwarded(type) && c->gossip_started &&
                recipient(type, c->record, len, only))
                cluster_links_forward(c, type, c->record, len, seq, only[0] != '\0' ? only : NULL);
        } else if (rc == SHM_RING_EOVERRUN) {
            log_warn(0, "fell a full ring behind: events were not forwarded to the cluster");
        } else {
            if (rc < 0) {
                log_error(0, "event ring is corrupt (%d): resynchronising", rc);
                shm_ring_cursor_init(ring, &c->ring_cursor);
            }
            break;
        }
    }
}

static void on_ring_ready(h2o_socket_t *sock, const char *err)
{
    (void)err;
    h2o_buffer_consume(&sock->input, sock->input->size);
    read_ring(sock->data);
}

static void on_tick(h2o_timeout_entry_t *entry)
{
    cluster_t *c = H2O_STRUCT_FROM_MEMBER(cluster_t, tick, entry);
    int64_t now = clock_monotonic_ms();
    read_ring(c); /* records whose producer died before notifying */
    cluster_discovery_tick(c, now);
    cluster_gossip_tick(c, now);
    cluster_links_tick(c, now);
    cluster_presence_tick(c, now);
    if (c->gossip_started && strcmp(c->leader_id, c->node_id) == 0)
        cluster_scheduler_tick(c, now);
    if (!c->leaving)
        cluster_view_tick(c, now);
    if (c->leaving && now >= c->leave_deadline_ms)
        cluster_stop(c, "leave deadline");
    h2o_timeout_link(c->loop, &c->tick_timeout, &c->tick);
}

static void on_signal(void *data, const struct signalfd_siginfo *si)
{
    cluster_t *c = data;
    switch (si->ssi_signo) {
    case SIGTERM:
    case SIGINT: cluster_leave(c); break;
    case SIGQUIT: cluster_stop(c, "replaced by a new cluster process"); break;
    case SIGUSR2: /* POST /database/recycle, forwarded by the master */
        if (c->db != NULL)
            db_pool_recycle(c->db);
        break;
    default: break;
    }
}

static void on_orphan(void *data)
{
    cluster_stop(data, "the master is gone");
}

static int watch_process(cluster_t *c)
{
    int rc = child_watch_start(&c->watch, c->loop, c->params->lifeline_fd, on_signal, on_orphan, c);
    if (rc != 0)
        return rc;
    int efd = c->params->ring_eventfds[c->params->ring_slot];
    shm_ring_cursor_init(shm_region_ring(c->params->shm), &c->ring_cursor);
    c->ring_watch = h2o_evloop_socket_create(c->loop, efd, 0);
    c->ring_watch->data = c;
    h2o_socket_read_start(c->ring_watch, on_ring_ready);
    return 0;
}

/* For rolling-upgrade drills: the version this node announces (a test runs a
 * node "from the future" without building a second binary). */
static void choose_version(cluster_t *c)
{
    const char *announced = getenv("CHORUS_CLUSTER_ANNOUNCED_VERSION");
    snprintf(c->version, sizeof(c->version), "%s", announced != NULL && announced[0] ? announced : CHORUS_VERSION);
    if (strcmp(c->version, CHORUS_VERSION) != 0)
        log_warn(0, "announcing version %s to the cluster (CHORUS_CLUSTER_ANNOUNCED_VERSION)", c->version);
}

static int cluster_setup(cluster_t *c)
{
    int rc;
    c->loop = h2o_evloop_create();
    c->master_pid = getppid();
    c->start_wall_ms = clock_now_ms();
    c->udp_fd = -1;
    memcpy(c->node_id, shm_region_header(c->params->shm)->node_id, sizeof(c->node_id));
    choose_version(c);
    if ((c->record = malloc(SHM_RING_RECORD_MAX)) == NULL || (c->inbound = malloc(SHM_RING_RECORD_MAX)) == NULL)
        return -ENOMEM;
    if ((rc = cluster_address_resolve(c->config, c->hostname, sizeof(c->hostname), c->ipaddress,
                                      sizeof(c->ipaddress))) != 0) {
        log_error(-rc, "ClusterSettings.OverrideHostname: cannot tell how peers reach this node");
        return -EINVAL;
    }
    if ((rc = config_digest_compute(c->config, &c->digest)) != 0)
        return rc;
    h2o_timeout_init(c->loop, &c->tick_timeout, CLUSTER_TICK_MS);
    c->tick.cb = on_tick;
    h2o_timeout_link(c->loop, &c->tick_timeout, &c->tick);
    if ((rc = watch_process(c)) != 0) {
        log_error(-rc, "cannot watch signals");
        return rc;
    }
    if ((rc = cluster_links_start(c)) != 0 || (rc = cluster_discovery_start(c)) != 0)
        return rc;
    if (!c->config->cluster.enable_experimental_gossip_encryption && (rc = cluster_gossip_start(c)) != 0)
        return rc;
    cluster_view_mark_dirty(c);
    return 0;
}

static void cluster_dispose(cluster_t *c)
{
    child_watch_stop(&c->watch);
    if (c->ring_watch != NULL)
        h2o_socket_read_stop(c->ring_watch);
    cluster_links_dispose(c);
    cluster_gossip_dispose(c);
    cluster_discovery_dispose(c);
    cluster_address_stop();
    free(c->record);
    c->record = NULL;
    free(c->inbound);
    c->inbound = NULL;
}

int cluster_main(const cluster_params_t *params)
{
    static cluster_t cluster;
    cluster_t *c = &cluster;
    memset(c, 0, sizeof(*c));
    c->params = params;
    c->config = params->config;
    int rc = log_open(&c->config->log, "cluster");
    if (rc != 0)
        log_warn(-rc, "LogSettings.FileLocation: cannot open %s/cluster.log", log_directory(&c->config->log));
    if ((rc = cluster_setup(c)) != 0) {
        cluster_dispose(c);
        log_close();
        return rc == -EINVAL ? 2 : 1;
    }
    if (control_send(params->control_fd, CONTROL_READY) != 0)
        log_warn(errno, "cannot tell the master we are ready");
    log_info("cluster \"%s\": node %s at %s (%s), version %s, config hash %s", c->config->cluster.cluster_name,
             c->node_id, c->hostname, c->ipaddress[0] ? c->ipaddress : "no address", c->version, params->config_hash);
    while (!c->stopping)
        h2o_evloop_run(c->loop, INT32_MAX);
    cluster_dispose(c);
    log_info("cluster process exiting (%llu events forwarded, %llu received, %llu packets dropped, %llu links cut)",
             (unsigned long long)c->events_out, (unsigned long long)c->events_in,
             (unsigned long long)c->dropped_packets, (unsigned long long)c->links_cut);
    log_close();
    return 0;
}
