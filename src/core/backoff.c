/*
 * The retry backoff (backoff.h).  Doubled step by step, not shifted: a long
 * run of failures stops at max_ms and never overflows.
 */
#include "core/backoff.h"

int64_t backoff_delay_ms(int64_t min_ms, int64_t max_ms, unsigned failures)
{
    int64_t d = min_ms;
    for (unsigned i = 0; i < failures && d < max_ms; i++)
        d = d > max_ms / 2 ? max_ms : d * 2;
    return d < max_ms ? d : max_ms;
}
