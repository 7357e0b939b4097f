/* Thin wrappers over clock_gettime: one place that decides which clock is used
 * for what (epoch for stored timestamps, monotonic for anything measured). */
#include "core/clock.h"

#include <time.h>

static int64_t read_clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_now_ms(void)
{
    return read_clock_ms(CLOCK_REALTIME);
}

int64_t clock_monotonic_ms(void)
{
    return read_clock_ms(CLOCK_MONOTONIC);
}
