/*
 * shm/region.c - the node's shared-memory region.
 *
 * The master maps one MAP_SHARED|MAP_ANONYMOUS region before forking; every child
 * (workers, the cluster child) inherits it at the same address. It starts with a
 * shm_header_t (magic, layout version, total size, node id, section table) followed by
 * fixed-size sections, each starting on a page boundary. Sections contain no pointers,
 * only offsets, and nothing is allocated in the region after creation, so a child can
 * trust any offset it reads from the header. Creating the region is the master's only
 * write to it (PostgreSQL's rule: the supervisor creates shared memory but does not use
 * it, so a crashing child cannot take the supervisor down with it); the slot table of
 * the ring is the one exception, and it is only a pid and a flag per slot.
 *
 * Layout. The header comes first; in a node's region the fixed-size sections follow
 * (the cluster view, then the rate-limit table, sized from MemoryStoreSize and mapped on
 * top of ShmSizeMB), then the caches (session, users, presence, online, replay), each
 * a share of the region; then the event ring, which takes the rest: the largest
 * power-of-two data capacity whose footprint fits. Memory past the ring (less than half
 * the region, at worst) is left unused. The header is written before any section is
 * initialised and the magic last, so a region with a valid magic is complete.
 *
 * Trade-offs. Anonymous memory cannot be attached by an unrelated process (no
 * shm_open name to leak or to clean up after a crash); the cost is that a restarted
 * master starts with an empty region, which is fine for caches and a broadcast ring.
 * Pages are touched lazily; the ring's data area is only faulted in as it fills.
 */
#include "shm/region.h"
#include "shm/cluster_view.h"
#include "shm/presence.h"
#include "shm/ratelimit.h"
#include "shm/sessions.h"
#include "shm/online.h"
#include "shm/replay.h"
#include "shm/users.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static size_t region_align(size_t n, size_t align)
{
    return (n + align - 1) & ~(align - 1);
}

/* Largest power-of-two ring capacity whose footprint fits in `avail` bytes, or 0. */
static size_t region_ring_capacity(size_t avail)
{
    size_t cap = SHM_RING_CAPACITY_MIN;
    size_t fp = shm_ring_footprint(cap);

    if (fp == 0 || fp > avail)
        return 0;
    while (cap <= SIZE_MAX / 2) {
        fp = shm_ring_footprint(cap * 2);
        if (fp == 0 || fp > avail)
            break;
        cap *= 2;
    }
    return cap;
}

/* The caches of a node's region: which share of the region each gets, and
 * the size of its values.  A ring-only region (tests) has none. */
static const struct {
    shm_section_id_t id;
    unsigned share_divisor; /* the cache gets size / share_divisor */
    size_t value_size;
} region_caches[] = {
    {SHM_SECTION_SESSIONS, 8, sizeof(shm_session_t)},
    {SHM_SECTION_USERS, 8, sizeof(shm_user_t)},
    {SHM_SECTION_PRESENCE, 16, sizeof(shm_presence_t)},
    {SHM_SECTION_ONLINE, 32, sizeof(shm_online_t)},
    /* a reload drops every socket of the node at once: each needs an entry
     * (~2.1 KB) to resume: 2,048 at the default 64 MiB (a 64th kept 256) */
    {SHM_SECTION_REPLAY, 8, sizeof(shm_replay_t)},
};
#define REGION_CACHES (sizeof(region_caches) / sizeof(region_caches[0]))

/* Fills the section table; *ring_capacity receives the ring's data capacity.
 * A node's region (`with_caches`) gets the cluster view, whose size does not
 * depend on the region's, then the caches, each its share (a ring-only region
 * has neither); the ring gets the largest power of two that fits in the rest. */
static int region_layout(shm_header_t *hdr, size_t size, bool with_caches, size_t ratelimit_bytes,
                         size_t *ring_capacity)
{
    size_t off = region_align(sizeof(*hdr), SHM_SECTION_ALIGN);
    size_t cap, shared = size - ratelimit_bytes; /* what the shares below divide */

    if (with_caches) {
        size_t bytes = region_align(cluster_view_footprint(), SHM_SECTION_ALIGN);
        if (off >= size || bytes >= size - off || ratelimit_bytes >= size - off - bytes)
            return -EINVAL;
        hdr->sections[SHM_SECTION_CLUSTER].offset = off;
        hdr->sections[SHM_SECTION_CLUSTER].size = bytes;
        off += bytes;
        /* mapped on top of the size asked for, so the ring keeps its share */
        hdr->sections[SHM_SECTION_RATELIMIT].offset = off;
        hdr->sections[SHM_SECTION_RATELIMIT].size = ratelimit_bytes;
        off += ratelimit_bytes;
    }

    for (size_t i = 0; with_caches && i < REGION_CACHES; i++) {
        size_t bytes = region_align(shared / region_caches[i].share_divisor, SHM_SECTION_ALIGN);
        hdr->sections[region_caches[i].id].offset = off;
        hdr->sections[region_caches[i].id].size = bytes;
        off += bytes;
    }
    if (off >= size)
        return -EINVAL;
    cap = region_ring_capacity(size - off);
    if (cap == 0)
        return -EINVAL;
    hdr->sections[SHM_SECTION_RING].offset = off;
    hdr->sections[SHM_SECTION_RING].size = shm_ring_footprint(cap);
    *ring_capacity = cap;
    return 0;
}

static int region_init_caches(void *base, shm_header_t *hdr)
{
    for (size_t i = 0; i < REGION_CACHES; i++) {
        uint64_t offset = hdr->sections[region_caches[i].id].offset, bytes = hdr->sections[region_caches[i].id].size;
        if (bytes > 0 && shm_cache_init((uint8_t *)base + offset, bytes, region_caches[i].value_size) == NULL)
            return -EINVAL;
    }
    return 0;
}

static int region_create(shm_region_t *region, size_t size_bytes, bool with_caches, size_t ratelimit_keys)
{
    shm_header_t *hdr;
    long page;
    size_t size, ring_capacity = 0;
    void *base;
    int rc;

    if (region == NULL)
        return -EINVAL;
    region->base = NULL;
    region->size = 0;
    page = sysconf(_SC_PAGESIZE);
    if (page <= 0)
        page = 4096;
    if (size_bytes == 0 || size_bytes > SIZE_MAX - (size_t)page)
        return -EINVAL;
    size = region_align(size_bytes, (size_t)page);
    size_t ratelimit_bytes = region_align(shm_ratelimit_footprint(ratelimit_keys), SHM_SECTION_ALIGN);
    if (!with_caches)
        ratelimit_bytes = 0;
    if (ratelimit_bytes > SIZE_MAX - size)
        return -EINVAL;
    size += ratelimit_bytes;

    base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        return -errno;

    hdr = base; /* fresh anonymous memory is zero-filled */
    hdr->layout_version = SHM_LAYOUT_VERSION;
    hdr->section_count = SHM_SECTION_COUNT;
    hdr->size = size;
    hdr->schema_version = 0;
    rc = region_layout(hdr, size, with_caches, ratelimit_bytes, &ring_capacity);
    if (rc == 0)
        rc = shm_ring_init((uint8_t *)base + hdr->sections[SHM_SECTION_RING].offset, ring_capacity);
    if (rc == 0)
        rc = region_init_caches(base, hdr);
    if (rc == 0 && ratelimit_bytes > 0 &&
        shm_cache_init((uint8_t *)base + hdr->sections[SHM_SECTION_RATELIMIT].offset, ratelimit_bytes,
                       sizeof(int64_t)) == NULL)
        rc = -EINVAL;
    if (rc == 0 && hdr->sections[SHM_SECTION_CLUSTER].size > 0)
        cluster_view_init((cluster_view_t *)((uint8_t *)base + hdr->sections[SHM_SECTION_CLUSTER].offset));
    if (rc < 0) {
        (void)munmap(base, size);
        return rc;
    }
    __atomic_store_n(&hdr->magic, SHM_MAGIC, __ATOMIC_RELEASE);

    region->base = base;
    region->size = size;
    return 0;
}

int shm_region_create(shm_region_t *region, size_t size_bytes)
{
    return region_create(region, size_bytes, false, 0);
}

int shm_region_create_node(shm_region_t *region, size_t size_bytes, size_t ratelimit_keys)
{
    return region_create(region, size_bytes, true, ratelimit_keys);
}

static shm_cache_t *cache_section(const shm_region_t *region, shm_section_id_t id)
{
    size_t size = 0;
    void *mem = shm_region_section(region, id, &size);
    return size > 0 ? mem : NULL;
}

shm_cache_t *shm_region_sessions(const shm_region_t *region)
{
    return cache_section(region, SHM_SECTION_SESSIONS);
}

shm_cache_t *shm_region_presence(const shm_region_t *region)
{
    return cache_section(region, SHM_SECTION_PRESENCE);
}

shm_cache_t *shm_region_users(const shm_region_t *region)
{
    return cache_section(region, SHM_SECTION_USERS);
}

shm_cache_t *shm_region_online(const shm_region_t *region)
{
    return cache_section(region, SHM_SECTION_ONLINE);
}

shm_cache_t *shm_region_replay(const shm_region_t *region)
{
    return cache_section(region, SHM_SECTION_REPLAY);
}

shm_cache_t *shm_region_ratelimit(const shm_region_t *region)
{
    return cache_section(region, SHM_SECTION_RATELIMIT);
}

cluster_view_t *shm_region_cluster(const shm_region_t *region)
{
    size_t size = 0;
    void *mem = shm_region_section(region, SHM_SECTION_CLUSTER, &size);
    return size > 0 ? mem : NULL;
}

shm_header_t *shm_region_header(const shm_region_t *region)
{
    if (region == NULL || region->base == NULL)
        return NULL;
    return region->base;
}

void *shm_region_section(const shm_region_t *region, shm_section_id_t id, size_t *size)
{
    shm_header_t *hdr = shm_region_header(region);

    if (hdr == NULL || (unsigned)id >= SHM_SECTION_COUNT)
        return NULL;
    if (size != NULL)
        *size = hdr->sections[id].size;
    return (uint8_t *)region->base + hdr->sections[id].offset;
}

shm_ring_t *shm_region_ring(const shm_region_t *region)
{
    return shm_region_section(region, SHM_SECTION_RING, NULL);
}

void shm_region_destroy(shm_region_t *region)
{
    if (region == NULL || region->base == NULL)
        return;
    /* munmap only fails on invalid arguments, which region_create never produces. */
    (void)munmap(region->base, region->size);
    region->base = NULL;
    region->size = 0;
}
