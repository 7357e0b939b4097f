/* Wall-clock and monotonic time in the units chorus stores and compares. */
#ifndef CHORUS_CORE_CLOCK_H
#define CHORUS_CORE_CLOCK_H
#include <stdint.h>

/* Milliseconds since the epoch: Mattermost's timestamp unit. */
int64_t clock_now_ms(void);
/* Milliseconds on the monotonic clock, for timeouts and backoff. */
int64_t clock_monotonic_ms(void);

#endif
