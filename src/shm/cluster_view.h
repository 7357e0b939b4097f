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

typedef struct {
    volatile uint64_t seq;
    cluster_view_data_t data;
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
