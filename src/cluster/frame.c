/*
 * The frame reader of a streaming link (frame.h).  Its buffer holds at most
 * one maximum frame plus its header, and is only as large as the bytes
 * received ask: allocated at the first feed (FRAME_READER_INITIAL, or the
 * limit when smaller), doubled when what arrives does not fit, never past
 * the limit.  So a peer decides what it sends, not what we hold: a
 * connection accepted and left silent costs no buffer, and a large declared
 * length costs nothing until its bytes come.
 *
 * Bytes handed out as frames stay in the buffer (a frame points into it)
 * until the next feed, which is when the buffer is compacted: when it is all
 * consumed it simply restarts at 0; otherwise the unconsumed tail is moved to
 * the front once consumed bytes pass half the buffer or the new bytes would
 * not fit behind it.  Each byte is thus moved at most once or twice.
 *
 * Every header is checked as soon as its 4 bytes are in, in feed itself: a
 * declared length above the maximum, or zero, fails the link before any of
 * its body is awaited.  `checked` marks the end of the last frame whose
 * header passed; frame_reader_next hands out only frames behind it, so bytes
 * after a bad header are never delivered, and a feed after an error fails
 * again on the same header.
 */
#include "cluster/frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint32_t read_header(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void frame_write_header(uint8_t out[FRAME_HEADER_SIZE], uint32_t len)
{
    out[0] = (uint8_t)(len >> 24);
    out[1] = (uint8_t)(len >> 16);
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
}

int frame_reader_init(frame_reader_t *reader, size_t max_frame)
{
    memset(reader, 0, sizeof(*reader));
    if (max_frame == 0 || max_frame > UINT32_MAX || max_frame > SIZE_MAX - FRAME_HEADER_SIZE)
        return -EINVAL;
    reader->limit = FRAME_HEADER_SIZE + max_frame;
    reader->max_frame = max_frame;
    return 0;
}

/* Room for `incoming` more bytes behind len, as far as the limit allows. */
static int grow(frame_reader_t *r, size_t incoming)
{
    size_t want = incoming < r->limit - r->len ? r->len + incoming : r->limit;
    if (want <= r->cap)
        return 0;
    size_t cap = r->cap > 0 ? r->cap : FRAME_READER_INITIAL;
    while (cap < want && cap <= r->limit / 2)
        cap *= 2;
    if (cap < want || cap > r->limit)
        cap = r->limit;
    uint8_t *buf = realloc(r->buf, cap);
    if (buf == NULL)
        return -ENOMEM;
    r->buf = buf;
    r->cap = cap;
    return 0;
}

void frame_reader_dispose(frame_reader_t *reader)
{
    free(reader->buf);
    memset(reader, 0, sizeof(*reader));
}

static void compact(frame_reader_t *r, size_t incoming)
{
    if (r->consumed == 0)
        return;
    if (r->consumed == r->len) {
        r->len = r->checked = r->consumed = 0;
        return;
    }
    if (r->consumed < r->cap / 2 && incoming <= r->cap - r->len)
        return;
    memmove(r->buf, r->buf + r->consumed, r->len - r->consumed);
    r->len -= r->consumed;
    r->checked -= r->consumed;
    r->consumed = 0;
}

int frame_reader_feed(frame_reader_t *reader, const uint8_t *data, size_t len, size_t *taken)
{
    frame_reader_t *r = reader;
    *taken = 0;
    compact(r, len);
    if (grow(r, len) != 0)
        return -ENOMEM;
    size_t n = len < r->cap - r->len ? len : r->cap - r->len;
    if (n > 0) {
        memcpy(r->buf + r->len, data, n);
        r->len += n;
    }
    *taken = n;
    while (r->checked + FRAME_HEADER_SIZE <= r->len) {
        uint32_t size = read_header(r->buf + r->checked);
        if (size == 0)
            return -EINVAL;
        if (size > r->max_frame)
            return -EMSGSIZE;
        r->checked += FRAME_HEADER_SIZE + size;
    }
    return 0;
}

int frame_reader_next(frame_reader_t *reader, uint8_t **frame, size_t *len)
{
    frame_reader_t *r = reader;
    if (r->consumed >= r->checked || r->consumed + FRAME_HEADER_SIZE > r->len)
        return 0;
    size_t size = read_header(r->buf + r->consumed);
    if (size > r->len - r->consumed - FRAME_HEADER_SIZE)
        return 0;
    *frame = r->buf + r->consumed + FRAME_HEADER_SIZE;
    *len = size;
    r->consumed += FRAME_HEADER_SIZE + size;
    return 1;
}
