/*
 * The cluster child's life: set up, gossip, forward, stop.
 *
 * Start: our address, the config digests, the discovery pool, the streaming
 * listener, then gossip once the cluster key (which authenticates every
 * packet) has been read from the database, or at once when the process we
 * replace handed it over in shm.  A port already taken is an
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
 *
 * Hand-over: a reload starts the next cluster process while this one exits.
 * The next one waits for us to be gone (at most TAKEOVER_WAIT_MS) before it
 * listens, dials or reads the ring, and starts its links to the peers we
 * were linked to from the place in our ring we noted a few seconds before
 * (cluster_streams_t in shm): records published while no cluster process
 * ran, or in flight when we exited, reach the peers; the peers drop the ones
 * they had, by seq (inbound.c).  A reload loses no cross-node event.
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

#define STOP_LEAVE_MS     1000
#define TAKEOVER_WAIT_MS  2000
#define STREAMS_NOTE_MS   1000
#define STREAMS_REWIND_MS 5000

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

/* Records are read by each link from its own place in the ring (link.c);
 * the eventfd only says there are new ones. */
static void read_ring(cluster_t *c)
{
    if (c->owning && c->gossip_started)
        cluster_links_pump(c);
}

static void on_ring_ready(h2o_socket_t *sock, const char *err)
{
    (void)err;
    h2o_buffer_consume(&sock->input, sock->input->size);
    read_ring(sock->data);
}

/* ---- hand-over ----------------------------------------------------------------- */

bool cluster_take_inherited(cluster_t *c, const char *id)
{
    for (size_t i = 0; i < CLUSTER_VIEW_MEMBERS_MAX; i++)
        if (c->inherited[i][0] != '\0' && strcmp(c->inherited[i], id) == 0) {
            c->inherited[i][0] = '\0';
            return true;
        }
    return false;
}

static void note_peer(char (*list)[ID_LENGTH + 1], size_t *n, const char *id)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(list[i], id) == 0)
            return;
    if (*n < CLUSTER_VIEW_MEMBERS_MAX)
        snprintf(list[(*n)++], ID_LENGTH + 1, "%s", id);
}

/* What our successor needs, noted each second (and at exit): where to start
 * its links (a point at least STREAMS_REWIND_MS old, and no later than any
 * link's place) and to which peers. */
static void note_streams(cluster_t *c, int64_t now, bool exiting)
{
    if (!c->owning)
        return;
    if (!exiting) {
        if (now < c->next_streams_note_ms)
            return;
        c->next_streams_note_ms = now + STREAMS_NOTE_MS;
        shm_ring_cursor_t head;
        shm_ring_cursor_init(shm_region_ring(c->params->shm), &head);
        c->head_marks[c->next_head_mark++ % 8] = (shm_ring_mark_t){now, head.seq, head.pos};
    }
    const shm_ring_mark_t *back = shm_ring_mark_pick(c->head_marks, 8, now, STREAMS_REWIND_MS);
    shm_ring_cursor_t rewind = {back->seq, back->pos};
    uint64_t seq, pos;
    if (cluster_links_oldest(c, &seq, &pos) && seq < rewind.seq)
        rewind = (shm_ring_cursor_t){seq, pos};
    char linked[CLUSTER_VIEW_MEMBERS_MAX][ID_LENGTH + 1];
    size_t n = 0;
    bool inheriting = now - c->took_over_at <= CLUSTER_INHERIT_MS;
    for (size_t i = 0; inheriting && i < CLUSTER_VIEW_MEMBERS_MAX; i++)
        if (c->inherited[i][0] != '\0')
            note_peer(linked, &n, c->inherited[i]);
    if (n > 0 && c->has_inherited_rewind && c->inherited_rewind.seq < rewind.seq)
        rewind = c->inherited_rewind; /* not relinked yet: still owed from there */
    for (unsigned i = 0; i < c->peer_count; i++)
        if (c->peers[i].rewind_at != 0 || c->peers[i].link != NULL)
            note_peer(linked, &n, c->peers[i].id);
    cluster_streams_t *s = c->streams;
    s->rewind_seq = rewind.seq;
    s->rewind_pos = rewind.pos;
    s->has_rewind = true;
    memset(s->linked, 0, sizeof(s->linked));
    memcpy(s->linked, linked, n * sizeof(linked[0]));
}

static int start_network(cluster_t *c)
{
    int rc;
    /* gossip starts when discovery has read the cluster key */
    if ((rc = cluster_links_start(c)) != 0 || (rc = cluster_discovery_start(c)) != 0)
        return rc;
    return 0;
}

/* The previous cluster process is gone (or took too long): ours now. */
static int take_over(cluster_t *c, int64_t now)
{
    cluster_streams_t *s = c->streams;
    if (s->owner != 0 && s->owner != getpid() && kill(s->owner, 0) == 0)
        log_warn(0, "the previous cluster process (pid %d) is still running after %d ms: taking over", (int)s->owner,
                 TAKEOVER_WAIT_MS);
    c->has_inherited_rewind = s->has_rewind;
    c->inherited_rewind = (shm_ring_cursor_t){s->rewind_seq, s->rewind_pos};
    memcpy(c->inherited, s->linked, sizeof(c->inherited));
    shm_ring_cursor_t head;
    shm_ring_cursor_init(shm_region_ring(c->params->shm), &head);
    memset(c->head_marks, 0, sizeof(c->head_marks));
    c->head_marks[0] = (shm_ring_mark_t){now, head.seq, head.pos}; /* so that a rewind point always exists */
    c->next_head_mark = 1;
    s->owner = (int32_t)getpid();
    c->owning = true;
    c->took_over_at = now;
    int rc = start_network(c);
    if (rc == 0 && s->key_len > 0 && s->key_len <= sizeof(c->key)) {
        memcpy(c->key, s->key, s->key_len);
        c->key_len = s->key_len;
        c->key_loaded = true;
        rc = cluster_gossip_start(c);
    }
    return rc;
}

/* Waits for the previous owner to exit; 1 while it may still. */
static int try_take_over(cluster_t *c, int64_t now)
{
    pid_t owner = c->streams->owner;
    if (owner != 0 && owner != getpid() && kill(owner, 0) == 0 && now < c->owner_wait_until)
        return 1;
    int rc = take_over(c, now);
    if (rc != 0)
        cluster_stop(c, "cannot start the network side"); /* logged; the master respawns us */
    return rc;
}

static void on_tick(h2o_timeout_entry_t *entry)
{
    cluster_t *c = H2O_STRUCT_FROM_MEMBER(cluster_t, tick, entry);
    int64_t now = clock_monotonic_ms();
    if (!c->owning) {
        if (c->stopping || try_take_over(c, now) != 0) {
            h2o_timeout_link(c->loop, &c->tick_timeout, &c->tick);
            return;
        }
        cluster_view_mark_dirty(c);
    }
    note_streams(c, now, false);
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
    /* the previous cluster process (a reload) may still be exiting */
    c->streams = &shm_region_cluster(c->params->shm)->streams;
    c->owner_wait_until = clock_monotonic_ms() + TAKEOVER_WAIT_MS;
    pid_t owner = c->streams->owner;
    if (owner == 0 || owner == getpid() || kill(owner, 0) != 0) {
        if ((rc = take_over(c, clock_monotonic_ms())) != 0)
            return rc;
        cluster_view_mark_dirty(c);
    } else {
        log_info("waiting for the previous cluster process (pid %d) to exit", (int)owner);
    }
    return 0;
}

static void cluster_dispose(cluster_t *c)
{
    if (c->owning) {
        note_streams(c, clock_monotonic_ms(), true);
        c->streams->owner = 0;
    }
    child_watch_stop(&c->watch);
    if (c->ring_watch != NULL)
        h2o_socket_read_stop(c->ring_watch);
    cluster_links_dispose(c);
    cluster_gossip_dispose(c);
    cluster_discovery_dispose(c);
    resolver_stop();
    free(c->record);
    c->record = NULL;
    free(c->inbound);
    c->inbound = NULL;
}

int cluster_main(const child_params_t *params)
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
    log_info("cluster process exiting (%llu events forwarded, %llu received, %llu repeats dropped, %llu packets "
             "dropped, %llu links cut)",
             (unsigned long long)c->events_out, (unsigned long long)c->events_in, (unsigned long long)c->duplicates,
             (unsigned long long)c->dropped_packets, (unsigned long long)c->links_cut);
    log_close();
    return 0;
}
