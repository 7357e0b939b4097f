/*
 * The per-socket token bucket (throttle.h).  Tokens are counted in
 * thousandths, so a rate of r a second refills r thousandths a millisecond
 * and no fraction is lost between two actions close together.  A bucket
 * starts full: a client's burst at connect (statuses, the channel it opens)
 * is what the burst is for.
 */
#include "ws/throttle.h"

bool ws_bucket_take(ws_bucket_t *b, int64_t now, uint32_t rate, uint32_t burst)
{
    uint64_t full = (uint64_t)burst * 1000;
    if (b->at == 0) {
        b->tokens = (uint32_t)full;
    } else if (now > b->at) {
        /* capped before multiplying: a bucket idle for days must not overflow */
        uint64_t elapsed = (uint64_t)(now - b->at), refill = full;
        if (rate > 0 && elapsed < full / rate + 1)
            refill = elapsed * rate;
        uint64_t tokens = b->tokens + refill;
        b->tokens = (uint32_t)(tokens < full ? tokens : full);
    }
    if (now > b->at)
        b->at = now;
    if (b->tokens < 1000)
        return false;
    b->tokens -= 1000;
    return true;
}
