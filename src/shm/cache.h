/*
 * A fixed-size key → value cache in shared memory, shared by every process of
 * a node: the session cache and the presence cache are two of them.
 */
#ifndef CHORUS_SHM_CACHE_H
#define CHORUS_SHM_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SHM_CACHE_KEY_MAX 32 /* keys are ids and tokens: 26 characters */

typedef struct shm_cache_s shm_cache_t;

typedef struct {
    uint64_t hits, misses, evictions, repairs;
    size_t capacity; /* entries */
} shm_cache_stats_t;

/* Lays a cache for values of `value_size` bytes out in `bytes` of shared
 * memory at `mem`; returns it, or NULL when not even one bucket fits. */
shm_cache_t *shm_cache_init(void *mem, size_t bytes, size_t value_size);
/* The bytes shm_cache_init needs to hold at least `entries` values of
 * `value_size` bytes (buckets are a power of two, so up to twice as many);
 * 0 when `entries` is 0 or the size would overflow. */
size_t shm_cache_footprint(size_t entries, size_t value_size);

/* Copies the value of `key` into `value`; false when absent. */
bool shm_cache_get(shm_cache_t *cache, const char *key, void *value);
/* Inserts or replaces; may evict another entry of the same bucket.  0 or -errno. */
int shm_cache_put(shm_cache_t *cache, const char *key, const void *value);
/* Applies `update` to the value of `key` under its lock; false when absent. */
bool shm_cache_update(shm_cache_t *cache, const char *key, void (*update)(void *value, void *arg), void *arg);
/* Inserts `value` when `key` is absent, or replaces the current value when
 * newer(value, current) says so, atomically: how writers and readers that
 * fill a cache from the database agree on the latest row.  0 or -errno. */
int shm_cache_put_newer(shm_cache_t *cache, const char *key, const void *value,
                        bool (*newer)(const void *candidate, const void *current));
/* Applies `update` to the value of `key`, inserting `initial` first when the
 * key is absent, all under its lock (a counter shared by processes).  The
 * value after the update is copied to `result` when not NULL.  0 or -errno. */
int shm_cache_upsert(shm_cache_t *cache, const char *key, const void *initial, void (*update)(void *value, void *arg),
                     void *arg, void *result);
bool shm_cache_remove(shm_cache_t *cache, const char *key);
/* Removes every entry whose value `match`es (a full scan); returns how many. */
size_t shm_cache_remove_if(shm_cache_t *cache, bool (*match)(const void *value, void *arg), void *arg);
/* Calls `visit` with a copy of each entry's key and value, at most `max`
 * entries (a full scan stops there), and returns how many were visited.
 * Each bucket is copied under its stripe's lock and visited after the lock
 * is released, so `visit` may use the cache; entries changed meanwhile may
 * be seen old or new, but never torn.  -ENOMEM when no copy buffer. */
ssize_t shm_cache_foreach(shm_cache_t *cache, size_t max, void (*visit)(const char *key, const void *value, void *arg),
                          void *arg);
void shm_cache_get_stats(shm_cache_t *cache, shm_cache_stats_t *stats);

#endif
