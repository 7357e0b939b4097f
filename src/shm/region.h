/*
 * The shared-memory region: one MAP_SHARED|MAP_ANONYMOUS mapping created by the master
 * before it forks, holding a header and fixed-size sections. See region.c.
 */
#ifndef CHORUS_SHM_REGION_H
#define CHORUS_SHM_REGION_H

#include <stddef.h>
#include <stdint.h>

#include "shm/cache.h"
#include "shm/cluster_view.h"
#include "shm/ring.h"

#define SHM_MAGIC          0x43484f5255535348ULL
#define SHM_LAYOUT_VERSION 6
#define SHM_SECTION_ALIGN  4096u

/* The region's sections (region.c sizes and lays them out). */
typedef enum {
    SHM_SECTION_RING = 0,
    SHM_SECTION_SESSIONS,
    SHM_SECTION_PRESENCE,
    SHM_SECTION_USERS,
    SHM_SECTION_ONLINE,
    SHM_SECTION_REPLAY,
    SHM_SECTION_CLUSTER,   /* fixed size: cluster_view_footprint() */
    SHM_SECTION_RATELIMIT, /* sized from RateLimitSettings.MemoryStoreSize */
    SHM_SECTION_COUNT
} shm_section_id_t;

#define SHM_HEALTH_DATABASE_OK  1u
#define SHM_HEALTH_FILESTORE_OK 2u

typedef struct {
    uint64_t magic;
    uint32_t layout_version;
    uint32_t section_count;
    uint64_t size;                    /* bytes mapped, header included */
    char node_id[27];                 /* 26-char id + NUL, set once by the master */
    volatile uint32_t schema_version; /* DB schema the cached data matches */
    /* The node's last deep health check (GET /system/ping?get_server_status=true),
     * so that a flood of them costs one check a second, not one per request:
     * (monotonic ms << 2) | SHM_HEALTH_* bits, in one word so that a reader
     * never sees one check's time with another's result; 0 before the first. */
    volatile uint64_t health_last;
    volatile int64_t health_claimed_until; /* monotonic ms: a worker is checking until then */
    /* Bumped after every change to the Roles table seen on this node (a patch
     * here, a role_updated from a peer): a worker's roles cache loaded at an
     * older value is stale (worker/roles.c). */
    volatile uint64_t roles_version;
    struct {
        uint64_t offset, size; /* from the region base; offsets are SHM_SECTION_ALIGN */
    } sections[SHM_SECTION_COUNT];
} shm_header_t;

typedef struct shm_region_s { /* tagged: core/child.h names it without this header */
    void *base;
    size_t size;
} shm_region_t;

/* Maps `size_bytes` (rounded up to the page size) shared anonymous memory, writes the
 * header, lays the sections out (the ring gets the largest power-of-two capacity that
 * fits) and initialises them. 0, -EINVAL (NULL or too small for the smallest ring), or
 * -errno from mmap / lock initialisation (nothing stays mapped then). */
int shm_region_create(shm_region_t *region, size_t size_bytes);
/* The same for a node: the cluster view first (fixed size), then an eighth
 * of the region caches sessions, an eighth users, a sixteenth presence, a
 * thirty-second online users, an eighth dropped WebSockets; the ring gets
 * the largest power of two that fits in the rest.  The rate-limit table
 * for `ratelimit_keys` keys comes on top of `size_bytes` (none for 0), so
 * that MemoryStoreSize never shrinks the ring. */
int shm_region_create_node(shm_region_t *region, size_t size_bytes, size_t ratelimit_keys);

shm_header_t *shm_region_header(const shm_region_t *region);

/* Base of section `id` and its size in *size (when size != NULL); NULL if id is invalid
 * or the region is not mapped. */
void *shm_region_section(const shm_region_t *region, shm_section_id_t id, size_t *size);

shm_ring_t *shm_region_ring(const shm_region_t *region);
/* The session cache (values shm_session_t) and the presence cache
 * (shm_presence_t); NULL in a ring-only region. */
shm_cache_t *shm_region_sessions(const shm_region_t *region);
shm_cache_t *shm_region_presence(const shm_region_t *region);
/* The users cache (values shm_user_t: a user's JSON, ready to send). */
shm_cache_t *shm_region_users(const shm_region_t *region);
/* The open-socket counts per user (values shm_online_t). */
shm_cache_t *shm_region_online(const shm_region_t *region);
/* What dropped WebSockets left for their reconnect (values shm_replay_t). */
shm_cache_t *shm_region_replay(const shm_region_t *region);
/* The rate-limit table (shm/ratelimit.h); NULL when the region has none. */
shm_cache_t *shm_region_ratelimit(const shm_region_t *region);
/* The cluster view (written by the cluster child, read by the workers);
 * NULL in a ring-only region. */
cluster_view_t *shm_region_cluster(const shm_region_t *region);

/* Unmaps (in the calling process only); the region is zeroed. Safe on a zeroed region. */
void shm_region_destroy(shm_region_t *region);

#endif /* CHORUS_SHM_REGION_H */
