/*
 * Rate limiting (RateLimitSettings) as one table every worker of a node
 * shares: per key, the theoretical arrival time of the generic cell rate
 * algorithm (GCRA, the one Mattermost's limiter runs), so that a client
 * spreading its requests over the workers is counted once.  See ratelimit.c.
 */
#ifndef CHORUS_SHM_RATELIMIT_H
#define CHORUS_SHM_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shm/cache.h"

/* What one request's charge leaves, for the X-RateLimit-* headers. */
typedef struct {
    int64_t limit;          /* MaxBurst + 1: the requests allowed at once */
    int64_t remaining;      /* requests still allowed at once after this one */
    int64_t reset_after_ns; /* until the key is back to a full burst */
    int64_t retry_after_ns; /* until a request may pass; -1 when this one passed */
} shm_ratelimit_result_t;

typedef struct {
    int64_t per_sec;   /* sustained requests per second, >= 1 */
    int64_t max_burst; /* requests beyond the rate allowed at once, >= 0 */
} shm_ratelimit_quota_t;

/* One GCRA step on a key's theoretical arrival time *tat (0: a key never
 * seen) at monotonic time now_ns: true when the request is refused (*tat is
 * then unchanged), false when it passes (*tat moves on).  *result says what
 * is left either way.  Pure: the unit tests drive it with their own clock. */
bool shm_ratelimit_step(int64_t *tat, int64_t now_ns, shm_ratelimit_quota_t quota, shm_ratelimit_result_t *result);

/* The table's size in the region for MemoryStoreSize keys. */
size_t shm_ratelimit_footprint(size_t keys);

/* Charges one request to `key` (at most SHM_CACHE_KEY_MAX characters; the
 * caller digests longer ones) in the table `cache`: 1 refused, 0 passed,
 * -errno when the table could not be used (the caller lets it pass, as
 * Mattermost does when its store fails).  A key the table had to forget to
 * make room starts again with a full burst, as in Mattermost's LRU store. */
int shm_ratelimit_take(shm_cache_t *cache, const char *key, int64_t now_ns, shm_ratelimit_quota_t quota,
                       shm_ratelimit_result_t *result);

#endif
