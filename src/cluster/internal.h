/* The cluster child's context and the functions its files share. */
#ifndef CHORUS_CLUSTER_INTERNAL_H
#define CHORUS_CLUSTER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "h2o.h"

#include "cluster/cluster.h"
#include "cluster/config_digest.h"
#include "cluster/node_meta.h"
#include "cluster/seal.h"
#include "cluster/swim.h"
#include "core/child.h"
#include "core/id.h"
#include "core/resolver.h"
#include "db/pool.h"
#include "shm/cluster_view.h"
#include "shm/ring.h"

#define CLUSTER_TICK_MS   10
#define CLUSTER_LINKS_MAX SWIM_MEMBERS_MAX
#define CLUSTER_FRAME_MAX (SHM_RING_RECORD_MAX + 4096)
#define CLUSTER_LINK_QUEUE_MAX \
    (16u * 1024 * 1024) /* queued to one peer before the link is cut (below h2o's 32 MiB mmap threshold) */
#define CLUSTER_DISCOVERY_TYPE  "mattermost_app"
#define CLUSTER_KEY_SYSTEMS_ROW "ClusterEncryptionKey"

typedef struct cluster_link_s cluster_link_t;

/* What we know of a peer beyond SWIM: how to reach its streaming port and
 * what its link told us. */
typedef struct {
    char id[ID_LENGTH + 1];
    char host[SWIM_HOST_MAX + 1];
    uint16_t gossip_port, streaming_port;
    bool from_discovery;       /* seen in ClusterDiscovery lately */
    int64_t next_connect_ms;   /* monotonic: when we may dial it again */
    unsigned connect_failures; /* consecutive, for the backoff */
    cluster_link_t *link;      /* the established link, NULL if none */
    bool drop_link;            /* declared dead: cut the link at the next tick */
    config_digest_t digest;    /* its per-key config digests (from its hello) */
    bool has_digest;
    int64_t last_seen_wall_ms;  /* last sign of life */
    int64_t down_since_wall_ms; /* when it stopped being alive, 0 while alive */
    /* Where the next link's stream starts (link.c): set when a link breaks */
    uint64_t rewind_seq, rewind_pos;
    int64_t rewind_at; /* monotonic ms; 0: none */
    /* Our ring's head when SWIM found it alive again (or new): a link that
     * cannot go on from the break starts here, so nothing made after the
     * peer came back is lost */
    uint64_t back_seq, back_pos;
    int64_t back_at; /* monotonic ms; 0: none */
} cluster_peer_t;

typedef struct cluster_s {
    const child_params_t *params;
    const config_t *config;
    h2o_evloop_t *loop;
    pid_t master_pid;
    char node_id[ID_LENGTH + 1];
    char version[32];
    int64_t start_wall_ms;
    bool stopping; /* leave the loop */
    bool leaving;  /* a node stop: tell the others, delete our row */

    child_watch_t watch; /* signals and the master's lifeline */
    h2o_socket_t *ring_watch;
    h2o_timeout_t tick_timeout;
    h2o_timeout_entry_t tick;
    uint8_t *record;  /* SHM_RING_RECORD_MAX */
    uint8_t *inbound; /* SHM_RING_RECORD_MAX: a peer's record behind its origin header */

    /* what this node's cluster processes hand over (shm/cluster_view.h) */
    cluster_streams_t *streams;
    bool owning;              /* took the streams over: links may run */
    int64_t owner_wait_until; /* monotonic: the previous owner had this long to exit */
    bool has_inherited_rewind;
    shm_ring_cursor_t inherited_rewind;                      /* where the previous process left off */
    char inherited[CLUSTER_VIEW_MEMBERS_MAX][ID_LENGTH + 1]; /* the peers it was linked to, "" once relinked */
    int64_t took_over_at;                                    /* monotonic ms */
    int64_t next_streams_note_ms;
    shm_ring_mark_t head_marks[8]; /* the ring's head, one a second */
    unsigned next_head_mark;
    uint64_t duplicates; /* records a peer re-sent that we had */

    /* discovery (discovery.c) */
    db_pool_t *db;
    bool row_saved;
    bool key_loaded;
    uint8_t key[SEAL_KEY_MAX];
    size_t key_len;
    int64_t next_ping_ms, next_peer_poll_ms;
    unsigned discovery_in_flight;

    /* our address, as peers reach us */
    char hostname[SWIM_HOST_MAX + 1];
    char ipaddress[64];

    /* gossip (gossip.c) */
    bool gossip_started;
    int udp_fd;
    h2o_socket_t *udp_watch;
    swim_t *swim;
    seal_t *gossip_seal, *link_seal; /* one per channel (seal.c) */
    uint8_t *packet;                 /* SWIM_PACKET_MAX + SEAL_OVERHEAD_MAX */
    uint64_t dropped_packets;

    /* links (link.c) */
    h2o_socket_t *listener;
    cluster_peer_t peers[CLUSTER_LINKS_MAX];
    unsigned peer_count;
    h2o_linklist_t links;        /* every open link, established or not */
    h2o_linklist_t closed_links; /* closed, freed at the next tick */
    int64_t next_push_pull_ms;
    uint64_t events_out, events_in, links_cut;

    /* view (view.c) */
    config_digest_t digest;
    char leader_id[ID_LENGTH + 1];
    bool view_dirty;
    int64_t last_view_ms;
    int64_t leave_deadline_ms;
    int64_t leader_after_ms; /* no leader before: let the first joins land */

    /* presence (presence.c) */
    int64_t next_presence_sweep_ms, next_presence_resync_ms;
} cluster_t;

/* discovery.c */
int cluster_discovery_start(cluster_t *c);
void cluster_discovery_tick(cluster_t *c, int64_t now);
/* Deletes our row; `done` runs when it is deleted or failed. */
void cluster_discovery_leave(cluster_t *c, void (*done)(cluster_t *c));
void cluster_discovery_dispose(cluster_t *c);

/* address.c: the hostname peers use for us (OverrideHostname, else the first
 * non-loopback non-link-local address with UseIpAddress, else gethostname()),
 * and that address for ClusterInfo.ipaddress.  0 or -errno. */
int cluster_address_resolve(const config_t *config, char *hostname, size_t hostname_size, char *ipaddress,
                            size_t ipaddress_size);

/* gossip.c */
int cluster_gossip_start(cluster_t *c); /* once the key (if any) is known */
void cluster_gossip_tick(cluster_t *c, int64_t now);
void cluster_gossip_leave(cluster_t *c);
void cluster_gossip_dispose(cluster_t *c);
/* Our meta, encoded for SWIM (leader view included). */
int cluster_gossip_refresh_meta(cluster_t *c);

/* link.c */
int cluster_links_start(cluster_t *c);
void cluster_links_tick(cluster_t *c, int64_t now);
void cluster_links_dispose(cluster_t *c);
/* A peer known by discovery or SWIM; created when absent.  NULL when full. */
cluster_peer_t *cluster_peer_note(cluster_t *c, const char *id, const char *host, uint16_t gossip_port,
                                  uint16_t streaming_port, bool from_discovery);
cluster_peer_t *cluster_peer_find(cluster_t *c, const char *id);
/* Each established link sends the records of our ring its peer has not had
 * (every link has its own place in the ring, so a link that breaks and comes
 * back goes on where it was: nothing is lost, the peer drops repeats). */
void cluster_links_pump(cluster_t *c);
/* The oldest place of an established link in our ring: false when none. */
bool cluster_links_oldest(cluster_t *c, uint64_t *seq, uint64_t *pos);

/* cluster.c: the hand-over between this node's cluster processes.  Was
 * `id` linked by the previous process (and not relinked since)?  Forgets it. */
bool cluster_take_inherited(cluster_t *c, const char *id);
#define CLUSTER_INHERIT_MS 10000 /* the previous process's peers are caught up for this long */
/* SWIM's full state to every linked peer (push-pull). */
void cluster_links_push_state(cluster_t *c);
/* A member's state changed (from SWIM): dial a newly alive peer. */
void cluster_links_on_member(cluster_t *c, const swim_member_t *member, swim_state_t previous);

/* view.c */
void cluster_view_mark_dirty(cluster_t *c);
void cluster_view_tick(cluster_t *c, int64_t now);
/* SWIM said a member changed: logs, leader, caches. */
void cluster_view_on_member(cluster_t *c, const swim_member_t *member, swim_state_t previous);

/* presence.c: OnlineUsers kept true as nodes come and go. */
void cluster_presence_tick(cluster_t *c, int64_t now);
void cluster_presence_sweep_soon(cluster_t *c);  /* a member was declared dead */
void cluster_presence_resync_soon(cluster_t *c); /* a peer came back */

/* inbound.c: a record a peer forwarded; `seq` is its ring seq there. */
void cluster_inbound_record(cluster_t *c, const char *peer_id, uint16_t type, const uint8_t *record, size_t len,
                            uint64_t seq);

void cluster_scheduler_tick(cluster_t *c, int64_t now_ms);          /* scheduler.c: the leader's, jobs/schedule.h */
void cluster_scheduler_on_death(cluster_t *c, const char *node_id); /* a member stopped being alive */

#endif
