/*
 * A bounded pre-pass over msgpack input from a peer, before msgpack-c sees it.
 * msgpack-c allocates for a container as soon as it reads its header: five
 * bytes declaring a 2^28-element array make it map gigabytes.  This walk
 * allocates nothing and refuses any length or element count larger than the
 * bytes that remain, nesting deeper than `depth_max`, and reserved bytes; after
 * it, unpacking costs at most a few objects per input byte.
 */
#ifndef CHORUS_CORE_MSGPACK_BOUNDS_H
#define CHORUS_CORE_MSGPACK_BOUNDS_H

#include <stddef.h>
#include <stdint.h>

/* 0 when `data` is exactly one well-formed object (no trailing bytes) whose
 * sizes fit in `len` and whose nesting is at most `depth_max`; else -1. */
int msgpack_bounds_check(const void *data, size_t len, int depth_max);

/* The same for the object at *p (up to `end`), advancing *p past it:
 * for a buffer holding several objects in a row. */
int msgpack_bounds_skip(const uint8_t **p, const uint8_t *end, int depth_max);

#endif
