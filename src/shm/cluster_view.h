/*
 * The cluster as this node sees it, in the shm region: written by the cluster
 * child (the only writer) each time something changes, read by the workers for
 * GET /api/v4/cluster/status and the ping's cluster health.  A seqlock: the
 * writer makes `seq` odd, writes, makes it even; a reader copies and retries
 * when `seq` moved.  A writer that died mid-write leaves `seq` odd: readers
 * give up after a few tries (the view is then "unavailable") until the
 * respawned cluster child writes a whole view again.
 */
#ifndef CHORUS_SHM_CLUSTER_VIEW_H
#define CHORUS_SHM_CLUSTER_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/id.h"

#define CLUSTER_VIEW_MEMBERS_MAX 64
#define CLUSTER_VIEW_REASONS_MAX 4
#define CLUSTER_VIEW_REASON_LEN  192

typedef struct {
    char id[ID_LENGTH + 1];
    char version[32];
    uint32_t schema_version;
    char config_hash[65];
    char ipaddress[64];
    char hostname[256];
    uint16_t gossip_port, streaming_port;
    bool is_self;
    bool alive;           /* SWIM alive (or suspect: still a member) */
    bool green;           /* alive and same version and config hash as us */
    bool is_leader;       /* as this node sees it */
    int64_t last_seen_at; /* wall ms of the last sign of life; 0 = never */
    int64_t start_at;     /* wall ms the node started */
    uint32_t reason_count;
    char reasons[CLUSTER_VIEW_REASONS_MAX][CLUSTER_VIEW_REASON_LEN]; /* why red */
} cluster_view_member_t;

typedef struct {
    bool enabled;       /* ClusterSettings.Enable on this node */
    int64_t updated_at; /* wall ms */
    char leader_id[ID_LENGTH + 1];
    uint32_t alive_count; /* members alive, us included */
    uint32_t count;
    uint64_t dropped_packets; /* refused by the envelope or the decoder */
    cluster_view_member_t members[CLUSTER_VIEW_MEMBERS_MAX];
} cluster_view_data_t;

/* What a cluster process hands to the next one (a reload replaces it), kept
 * next to the view: where to resume forwarding our ring, and, per peer, the
 * last of its records re-published here (a peer re-sends what may have been
 * lost when a link broke; what we have already is dropped by its seq).
 * Written only by the cluster process that owns it (`owner`): a new one
 * waits for the previous owner to exit before it takes over. */
typedef struct {
    char node_id[ID_LENGTH + 1]; /* "": a free slot */
    uint64_t seq;                /* its ring seq of the last record taken */
    int64_t at;                  /* wall ms: the least recently used goes first */
} cluster_stream_in_t;

typedef struct {
    volatile int32_t owner;                               /* pid of the cluster process using it, 0: none */
    bool has_rewind;                                      /* noted at least once */
    uint64_t rewind_seq;                                  /* our ring: a point a few seconds back from where */
    uint64_t rewind_pos;                                  /* forwarding was */
    char linked[CLUSTER_VIEW_MEMBERS_MAX][ID_LENGTH + 1]; /* peers linked when it was last noted */
    cluster_stream_in_t in[CLUSTER_VIEW_MEMBERS_MAX];
    uint8_t key_len; /* the cluster key, once read: a new cluster process */
    uint8_t key[32]; /* gossips at once, even while the database is down */
} cluster_streams_t;

typedef struct {
    volatile uint64_t seq;
    cluster_view_data_t data;
    cluster_streams_t streams; /* not under the seqlock: the cluster process's own */
} cluster_view_t;

/* Bytes the section needs. */
size_t cluster_view_footprint(void);
void cluster_view_init(cluster_view_t *view);

/* The writer (one process at a time). */
void cluster_view_publish(cluster_view_t *view, const cluster_view_data_t *data);

/* 0 and a consistent copy, or -EAGAIN (a write in progress for too long, or
 * a writer that died mid-write). */
int cluster_view_read(const cluster_view_t *view, cluster_view_data_t *copy);

/* cluster_view_read for callers that only want a view a cluster child wrote:
 * -EAGAIN also when `view` is NULL or was never published (updated_at 0).
 * Members past copy->count are not copied. */
int cluster_view_read_published(const cluster_view_t *view, cluster_view_data_t *copy);

#endif
