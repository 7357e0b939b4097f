/*
 * The shared cache: a set-associative table.
 *
 * A key hashes (FNV-1a) to one bucket of SHM_CACHE_WAYS entries; a lookup or
 * an insert touches only that bucket, under the robust mutex of its stripe
 * (bucket index modulo SHM_CACHE_STRIPES), so processes rarely contend.
 * There are no tombstones (a bucket is searched whole) and no allocation:
 * a full bucket evicts by clock (an entry read since the last sweep gets a
 * second chance).
 *
 * Crash safety: a process killed while holding a stripe may have left an
 * entry half-written.  The next taker gets EOWNERDEAD and clears every bucket
 * of that stripe: for a cache, forgetting is always correct (the data is
 * reloaded from the database), while trusting a torn entry never is.
 */
#include "shm/cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "shm/lock.h"

#define SHM_CACHE_WAYS    8
#define SHM_CACHE_STRIPES 64

typedef struct {
    uint64_t hash; /* 0: free */
    uint8_t referenced;
    char key[SHM_CACHE_KEY_MAX + 1];
    /* value_size bytes follow, 8-aligned */
} cache_entry_t;

struct shm_cache_s {
    uint64_t entry_size;
    uint64_t buckets; /* a power of two */
    uint64_t hits, misses, evictions, repairs;
    shm_lock_t stripes[SHM_CACHE_STRIPES];
    uint32_t hands[SHM_CACHE_STRIPES]; /* clock hand per stripe: the way to look at next */
    uint64_t value_size;
    uint64_t entries_offset;
};

typedef struct {
    shm_cache_t *cache;
    unsigned stripe;
} cache_repair_t;

static uint64_t hash_key(const char *key)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *key != '\0'; key++) {
        h ^= (uint8_t)*key;
        h *= 1099511628211ULL;
    }
    return h == 0 ? 1 : h;
}

static cache_entry_t *entry_at(shm_cache_t *c, uint64_t bucket, unsigned way)
{
    uint8_t *base = (uint8_t *)c + c->entries_offset;
    return (cache_entry_t *)(base + (bucket * SHM_CACHE_WAYS + way) * c->entry_size);
}

static void *value_of(cache_entry_t *e)
{
    return (uint8_t *)e + ((sizeof(cache_entry_t) + 7) & ~(size_t)7);
}

static void repair_stripe(void *arg)
{
    cache_repair_t *r = arg;
    for (uint64_t b = r->stripe; b < r->cache->buckets; b += SHM_CACHE_STRIPES)
        for (unsigned w = 0; w < SHM_CACHE_WAYS; w++)
            entry_at(r->cache, b, w)->hash = 0;
    __atomic_add_fetch(&r->cache->repairs, 1, __ATOMIC_RELAXED);
}

static int lock_stripe(shm_cache_t *c, unsigned stripe)
{
    cache_repair_t repair = {c, stripe};
    int rc = shm_lock_acquire(&c->stripes[stripe], repair_stripe, &repair);
    return rc < 0 ? rc : 0;
}

static size_t cache_header_size(void)
{
    return (sizeof(shm_cache_t) + 63) & ~(size_t)63;
}

static size_t cache_bucket_size(size_t value_size)
{
    size_t entry_size = ((sizeof(cache_entry_t) + 7) & ~(size_t)7) + ((value_size + 7) & ~(size_t)7);
    return entry_size * SHM_CACHE_WAYS;
}

size_t shm_cache_footprint(size_t entries, size_t value_size)
{
    size_t bucket_size = cache_bucket_size(value_size);
    uint64_t buckets = 1;
    if (entries == 0)
        return 0;
    while (buckets * SHM_CACHE_WAYS < entries) {
        if (buckets > SIZE_MAX / 2 / bucket_size)
            return 0;
        buckets *= 2;
    }
    return cache_header_size() + (size_t)buckets * bucket_size;
}

shm_cache_t *shm_cache_init(void *mem, size_t bytes, size_t value_size)
{
    size_t header = cache_header_size();
    size_t entry_size = cache_bucket_size(value_size) / SHM_CACHE_WAYS;
    size_t bucket_size = entry_size * SHM_CACHE_WAYS;
    if (mem == NULL || bytes < header + bucket_size)
        return NULL;
    uint64_t buckets = 1;
    while ((buckets * 2) * bucket_size <= bytes - header)
        buckets *= 2;
    shm_cache_t *c = mem;
    memset(c, 0, header + buckets * bucket_size);
    c->entry_size = entry_size;
    c->buckets = buckets;
    c->value_size = value_size;
    c->entries_offset = header;
    for (unsigned i = 0; i < SHM_CACHE_STRIPES; i++)
        if (shm_lock_init(&c->stripes[i]) != 0)
            return NULL;
    return c;
}

/* The way holding `key` in `bucket`, or -1. */
static int find_way(shm_cache_t *c, uint64_t bucket, uint64_t h, const char *key)
{
    for (unsigned w = 0; w < SHM_CACHE_WAYS; w++) {
        cache_entry_t *e = entry_at(c, bucket, w);
        if (e->hash == h && strcmp(e->key, key) == 0)
            return (int)w;
    }
    return -1;
}

bool shm_cache_get(shm_cache_t *c, const char *key, void *value)
{
    uint64_t h = hash_key(key), bucket = h & (c->buckets - 1);
    unsigned stripe = (unsigned)(bucket % SHM_CACHE_STRIPES);
    if (strlen(key) > SHM_CACHE_KEY_MAX || lock_stripe(c, stripe) != 0)
        return false;
    int way = find_way(c, bucket, h, key);
    if (way >= 0) {
        cache_entry_t *e = entry_at(c, bucket, (unsigned)way);
        e->referenced = 1;
        memcpy(value, value_of(e), c->value_size);
    }
    shm_lock_release(&c->stripes[stripe]);
    __atomic_add_fetch(way >= 0 ? &c->hits : &c->misses, 1, __ATOMIC_RELAXED);
    return way >= 0;
}

/* A free way, else the clock's victim. */
static unsigned pick_way(shm_cache_t *c, uint64_t bucket, unsigned stripe)
{
    for (unsigned w = 0; w < SHM_CACHE_WAYS; w++)
        if (entry_at(c, bucket, w)->hash == 0)
            return w;
    for (;;) {
        unsigned w = c->hands[stripe]++ % SHM_CACHE_WAYS;
        cache_entry_t *e = entry_at(c, bucket, w);
        if (!e->referenced) {
            __atomic_add_fetch(&c->evictions, 1, __ATOMIC_RELAXED);
            return w;
        }
        e->referenced = 0;
    }
}

int shm_cache_put(shm_cache_t *c, const char *key, const void *value)
{
    return shm_cache_put_newer(c, key, value, NULL);
}

int shm_cache_put_newer(shm_cache_t *c, const char *key, const void *value,
                        bool (*newer)(const void *candidate, const void *current))
{
    if (strlen(key) > SHM_CACHE_KEY_MAX)
        return -EINVAL;
    uint64_t h = hash_key(key), bucket = h & (c->buckets - 1);
    unsigned stripe = (unsigned)(bucket % SHM_CACHE_STRIPES);
    int rc = lock_stripe(c, stripe);
    if (rc != 0)
        return rc;
    int way = find_way(c, bucket, h, key);
    if (way >= 0 && newer != NULL && !newer(value, value_of(entry_at(c, bucket, (unsigned)way)))) {
        shm_lock_release(&c->stripes[stripe]);
        return 0;
    }
    cache_entry_t *e = entry_at(c, bucket, way >= 0 ? (unsigned)way : pick_way(c, bucket, stripe));
    e->hash = h;
    e->referenced = 0;
    strcpy(e->key, key);
    memcpy(value_of(e), value, c->value_size);
    shm_lock_release(&c->stripes[stripe]);
    return 0;
}

bool shm_cache_update(shm_cache_t *c, const char *key, void (*update)(void *value, void *arg), void *arg)
{
    uint64_t h = hash_key(key), bucket = h & (c->buckets - 1);
    unsigned stripe = (unsigned)(bucket % SHM_CACHE_STRIPES);
    if (strlen(key) > SHM_CACHE_KEY_MAX || lock_stripe(c, stripe) != 0)
        return false;
    int way = find_way(c, bucket, h, key);
    if (way >= 0)
        update(value_of(entry_at(c, bucket, (unsigned)way)), arg);
    shm_lock_release(&c->stripes[stripe]);
    return way >= 0;
}

int shm_cache_upsert(shm_cache_t *c, const char *key, const void *initial, void (*update)(void *value, void *arg),
                     void *arg, void *result)
{
    if (strlen(key) > SHM_CACHE_KEY_MAX)
        return -EINVAL;
    uint64_t h = hash_key(key), bucket = h & (c->buckets - 1);
    unsigned stripe = (unsigned)(bucket % SHM_CACHE_STRIPES);
    int rc = lock_stripe(c, stripe);
    if (rc != 0)
        return rc;
    int way = find_way(c, bucket, h, key);
    cache_entry_t *e = entry_at(c, bucket, way >= 0 ? (unsigned)way : pick_way(c, bucket, stripe));
    if (way < 0) {
        e->hash = h;
        e->referenced = 0;
        strcpy(e->key, key);
        memcpy(value_of(e), initial, c->value_size);
    }
    update(value_of(e), arg);
    if (result != NULL)
        memcpy(result, value_of(e), c->value_size);
    shm_lock_release(&c->stripes[stripe]);
    return 0;
}

bool shm_cache_remove(shm_cache_t *c, const char *key)
{
    uint64_t h = hash_key(key), bucket = h & (c->buckets - 1);
    unsigned stripe = (unsigned)(bucket % SHM_CACHE_STRIPES);
    if (strlen(key) > SHM_CACHE_KEY_MAX || lock_stripe(c, stripe) != 0)
        return false;
    int way = find_way(c, bucket, h, key);
    if (way >= 0)
        entry_at(c, bucket, (unsigned)way)->hash = 0;
    shm_lock_release(&c->stripes[stripe]);
    return way >= 0;
}

size_t shm_cache_remove_if(shm_cache_t *c, bool (*match)(const void *value, void *arg), void *arg)
{
    size_t removed = 0;
    for (unsigned stripe = 0; stripe < SHM_CACHE_STRIPES; stripe++) {
        if (lock_stripe(c, stripe) != 0)
            continue;
        for (uint64_t b = stripe; b < c->buckets; b += SHM_CACHE_STRIPES) {
            for (unsigned w = 0; w < SHM_CACHE_WAYS; w++) {
                cache_entry_t *e = entry_at(c, b, w);
                if (e->hash != 0 && match(value_of(e), arg)) {
                    e->hash = 0;
                    removed++;
                }
            }
        }
        shm_lock_release(&c->stripes[stripe]);
    }
    return removed;
}

ssize_t shm_cache_foreach(shm_cache_t *c, size_t max, void (*visit)(const char *key, const void *value, void *arg),
                          void *arg)
{
    /* one bucket's entries, copied out so that no lock is held in `visit` */
    uint8_t *copy = malloc(c->entry_size * SHM_CACHE_WAYS);
    if (copy == NULL)
        return -ENOMEM;
    size_t visited = 0;
    for (uint64_t b = 0; b < c->buckets && visited < max; b++) {
        unsigned stripe = (unsigned)(b % SHM_CACHE_STRIPES), n = 0;
        if (lock_stripe(c, stripe) != 0)
            continue;
        for (unsigned w = 0; w < SHM_CACHE_WAYS; w++) {
            cache_entry_t *e = entry_at(c, b, w);
            if (e->hash != 0)
                memcpy(copy + (n++) * c->entry_size, e, c->entry_size);
        }
        shm_lock_release(&c->stripes[stripe]);
        for (unsigned i = 0; i < n && visited < max; i++, visited++) {
            cache_entry_t *e = (cache_entry_t *)(copy + i * c->entry_size);
            visit(e->key, value_of(e), arg);
        }
    }
    free(copy);
    return (ssize_t)visited;
}

void shm_cache_get_stats(shm_cache_t *c, shm_cache_stats_t *stats)
{
    stats->hits = __atomic_load_n(&c->hits, __ATOMIC_RELAXED);
    stats->misses = __atomic_load_n(&c->misses, __ATOMIC_RELAXED);
    stats->evictions = __atomic_load_n(&c->evictions, __ATOMIC_RELAXED);
    stats->repairs = __atomic_load_n(&c->repairs, __ATOMIC_RELAXED);
    stats->capacity = (size_t)(c->buckets * SHM_CACHE_WAYS);
}
