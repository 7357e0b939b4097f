/* See msgpack_bounds.h. */
#include "core/msgpack_bounds.h"

static uint64_t read_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* How an object's type byte says its size continues: `header` bytes of
 * big-endian count n follow it; then fixed + n payload bytes (BYTES), or
 * fixed + n nested objects (ARRAY) or key/value pairs (MAP).  -1 for the
 * reserved byte 0xc1. */
typedef enum { COUNTS_BYTES, COUNTS_ARRAY, COUNTS_MAP } counts_t;

typedef struct {
    size_t header;
    uint64_t fixed;
    counts_t counts;
} layout_t;

static int layout_of(uint8_t b, layout_t *l)
{
    /* float32, float64, uint8..uint64, int8..int64 */
    static const uint8_t numbers[] = {4, 8, 1, 2, 4, 8, 1, 2, 4, 8};
    *l = (layout_t){0, 0, COUNTS_BYTES};
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return 0; /* fixint, nil, booleans */
    if (b <= 0x8f)
        *l = (layout_t){0, b & 0x0fu, COUNTS_MAP};
    else if (b <= 0x9f)
        *l = (layout_t){0, b & 0x0fu, COUNTS_ARRAY};
    else if (b <= 0xbf)
        l->fixed = b & 0x1fu; /* fixstr */
    else if (b == 0xc4 || b == 0xc5 || b == 0xc6)
        l->header = (size_t)1 << (b - 0xc4); /* bin8/16/32 */
    else if (b == 0xd9 || b == 0xda || b == 0xdb)
        l->header = (size_t)1 << (b - 0xd9); /* str8/16/32 */
    else if (b == 0xc7 || b == 0xc8 || b == 0xc9)
        *l = (layout_t){(size_t)1 << (b - 0xc7), 1, COUNTS_BYTES}; /* ext: + type byte */
    else if (b >= 0xca && b <= 0xd3)
        l->fixed = numbers[b - 0xca];
    else if (b >= 0xd4 && b <= 0xd8)
        l->fixed = 1 + ((uint64_t)1 << (b - 0xd4)); /* fixext1..16: type + data */
    else if (b == 0xdc || b == 0xdd)
        *l = (layout_t){(size_t)2 << (b - 0xdc), 0, COUNTS_ARRAY};
    else if (b == 0xde || b == 0xdf)
        *l = (layout_t){(size_t)2 << (b - 0xde), 0, COUNTS_MAP};
    else
        return -1;
    return 0;
}

/* Skips one msgpack object at *p, checking every length and count against
 * the bytes left before `end`; 0, or -1. */
static int walk(const uint8_t **p, const uint8_t *end, int depth, int depth_max)
{
    layout_t l;
    if (*p >= end || depth > depth_max || layout_of(*(*p)++, &l) != 0 || (size_t)(end - *p) < l.header)
        return -1;
    uint64_t n = l.header > 0 ? read_be(*p, l.header) : 0;
    *p += l.header;
    uint64_t bytes = l.counts == COUNTS_BYTES ? l.fixed + n : 0;
    uint64_t items = l.counts == COUNTS_BYTES ? 0 : (l.fixed + n) * (l.counts == COUNTS_MAP ? 2 : 1);
    /* every nested object takes at least one byte */
    if (bytes > (uint64_t)(end - *p) || items > (uint64_t)(end - *p))
        return -1;
    *p += bytes;
    for (uint64_t i = 0; i < items; i++)
        if (walk(p, end, depth + 1, depth_max) != 0)
            return -1;
    return 0;
}

int msgpack_bounds_skip(const uint8_t **p, const uint8_t *end, int depth_max)
{
    return walk(p, end, 0, depth_max);
}

int msgpack_bounds_check(const void *data, size_t len, int depth_max)
{
    const uint8_t *p = data, *end = p + len;
    return data != NULL && walk(&p, end, 0, depth_max) == 0 && p == end ? 0 : -1;
}
