/* A token bucket: at most `burst` actions at once, `rate` a second after
 * that.  Each WebSocket has one for the actions its client sends
 * (conn.c), so one socket cannot keep a worker and the database busy. */
#ifndef CHORUS_WS_THROTTLE_H
#define CHORUS_WS_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int64_t at;      /* ms (monotonic) of the last refill; 0: never used, full */
    uint32_t tokens; /* thousandths of a token, at most burst * 1000 */
} ws_bucket_t;

/* Refills the bucket for the time since its last use and takes one token:
 * false (nothing taken) when it has none.  `now` never goes back. */
bool ws_bucket_take(ws_bucket_t *b, int64_t now, uint32_t rate, uint32_t burst);

#endif
