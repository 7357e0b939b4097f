/*
 * The one exponential backoff every retry loop uses (a respawn, a link
 * dial, a database reconnect): the first wait is `min_ms`, each failure
 * doubles it, and it never passes `max_ms`.
 */
#ifndef CHORUS_CORE_BACKOFF_H
#define CHORUS_CORE_BACKOFF_H

#include <stdint.h>

/* The wait after `failures` earlier failures in a row: min_ms << failures,
 * at most max_ms (min_ms > 0, max_ms >= min_ms). */
int64_t backoff_delay_ms(int64_t min_ms, int64_t max_ms, unsigned failures);

#endif
