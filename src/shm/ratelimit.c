/*
 * shm/ratelimit.c - the node's rate-limit table.
 *
 * The algorithm is GCRA, the one the throttled library runs for Mattermost,
 * so that a client sees the same figures: requests are spaced by an emission
 * interval T = 1 s / PerSec, and a key may run ahead of that schedule by at
 * most tau = T * (MaxBurst + 1).  Per key the table keeps one number, the
 * theoretical arrival time (TAT) of the next request: a request at `now`
 * would move it to max(now, TAT) + T, and is refused when that would put it
 * more than tau ahead of now.  A token bucket in one word, with no refill
 * loop: the time elapsed is the refill.
 *
 * The table is a shm cache (set-associative, striped robust locks) with the
 * TAT as the value: shm_cache_upsert runs the step under the key's stripe
 * lock, so two workers charging one key never both take its last request.
 * A key whose TAT is in the past is the same as a key never seen, so losing
 * entries (eviction, a stripe cleared after a crash) only ever lets a client
 * start again from a full burst.
 */
#include "shm/ratelimit.h"

#include <errno.h>

#define NS_PER_SEC 1000000000LL

bool shm_ratelimit_step(int64_t *tat_io, int64_t now_ns, shm_ratelimit_quota_t quota, shm_ratelimit_result_t *result)
{
    int64_t per_sec = quota.per_sec < 1 ? 1 : quota.per_sec;
    int64_t burst = quota.max_burst < 0 ? 0 : quota.max_burst;
    int64_t interval = NS_PER_SEC / per_sec;
    if (interval < 1)
        interval = 1;
    /* tau bounded so that now + tau cannot overflow for any sane clock */
    int64_t tau = burst + 1 > INT64_MAX / 4 / interval ? INT64_MAX / 4 : interval * (burst + 1);
    int64_t tat = *tat_io > now_ns ? *tat_io : now_ns;
    int64_t next_tat = tat + interval, ttl;
    bool limited = next_tat - tau > now_ns;

    result->limit = burst + 1;
    result->retry_after_ns = -1;
    if (limited) {
        result->retry_after_ns = next_tat - tau - now_ns;
        ttl = tat - now_ns;
    } else {
        *tat_io = next_tat;
        ttl = next_tat - now_ns;
    }
    /* what is left of tau, in whole requests; a partial one counts as none */
    int64_t left = tau - ttl;
    result->remaining = left > 0 ? left / interval : 0;
    result->reset_after_ns = ttl;
    return limited;
}

size_t shm_ratelimit_footprint(size_t keys)
{
    return shm_cache_footprint(keys, sizeof(int64_t));
}

typedef struct {
    int64_t now_ns;
    shm_ratelimit_quota_t quota;
    shm_ratelimit_result_t *result;
    bool limited;
} ratelimit_charge_t;

static void charge(void *value, void *arg)
{
    ratelimit_charge_t *c = arg;
    c->limited = shm_ratelimit_step(value, c->now_ns, c->quota, c->result);
}

int shm_ratelimit_take(shm_cache_t *cache, const char *key, int64_t now_ns, shm_ratelimit_quota_t quota,
                       shm_ratelimit_result_t *result)
{
    if (cache == NULL)
        return -EINVAL;
    const int64_t never_seen = 0;
    ratelimit_charge_t c = {.now_ns = now_ns, .quota = quota, .result = result, .limited = false};
    int rc = shm_cache_upsert(cache, key, &never_seen, charge, &c, NULL);
    if (rc < 0)
        return rc;
    return c.limited ? 1 : 0;
}
