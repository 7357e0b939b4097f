/*
 * tests/fuzz/msgpack_bounds.c - src/core/msgpack_bounds.c, the walk every
 * msgpack input from a peer passes before msgpack-c.  Checked against
 * msgpack-c itself: what the walk accepts unpacks as exactly one object of
 * exactly that many bytes, within a few objects' memory per input byte; and
 * msgpack_bounds_skip agrees with msgpack_bounds_check on a single object.
 * The first byte picks the depth limit.
 */
#include <msgpack.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/msgpack_bounds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int depth = data[0] % 8;
    const uint8_t *p = data + 1, *end = data + size;
    size_t len = size - 1;
    int rc = msgpack_bounds_check(p, len, depth);

    const uint8_t *q = p;
    int skip = msgpack_bounds_skip(&q, end, depth);
    if (rc == 0 && (skip != 0 || q != end))
        abort(); /* one whole object: skip must take all of it */
    if (skip == 0 && (q <= p || q > end))
        abort();
    if (skip == 0 && q == end && rc != 0)
        abort();
    if (rc != 0)
        return 0;

    msgpack_zone zone;
    if (!msgpack_zone_init(&zone, 4096))
        return 0;
    msgpack_object obj;
    size_t off = 0;
    msgpack_unpack_return ur = msgpack_unpack((const char *)p, len, &off, &zone, &obj);
    if (ur != MSGPACK_UNPACK_SUCCESS || off != len)
        abort();
    msgpack_zone_destroy(&zone);
    return 0;
}
