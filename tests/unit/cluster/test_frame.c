/*
 * tests/unit/cluster/test_frame.c - src/cluster/frame.c: a stream cut at
 * every byte boundary, many frames in one feed, the bounds (max accepted,
 * max + 1 and zero refused as soon as the header is in, before any body),
 * and 10k frames in random chunks to show that compaction keeps the buffer
 * at its one fixed size.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/frame.h"
#include "../check_main.h"

/* A stream of frames: frame i has length len[i] and bytes (i * 31 + j) & 0xff. */
typedef struct {
    uint8_t *data;
    size_t len, cap;
    size_t frames;
} stream_t;

static void stream_add(stream_t *s, size_t len)
{
    if (s->len + FRAME_HEADER_SIZE + len > s->cap) {
        s->cap = (s->cap + FRAME_HEADER_SIZE + len) * 2;
        s->data = realloc(s->data, s->cap);
        ck_assert_ptr_nonnull(s->data);
    }
    frame_write_header(s->data + s->len, (uint32_t)len);
    s->len += FRAME_HEADER_SIZE;
    for (size_t j = 0; j < len; j++)
        s->data[s->len + j] = (uint8_t)(s->frames * 31 + j);
    s->len += len;
    s->frames++;
}

/* Checks frame number `index`, of `len` bytes. */
static void check_frame(const uint8_t *frame, size_t len, size_t expected_len, size_t index)
{
    ck_assert_uint_eq(len, expected_len);
    for (size_t j = 0; j < len; j++)
        ck_assert_uint_eq(frame[j], (uint8_t)(index * 31 + j));
}

/* Feeds `len` bytes, draining after each feed, into got[]; returns frames seen. */
static size_t feed_all(frame_reader_t *r, const uint8_t *data, size_t len, size_t *got, size_t got_max, size_t *index)
{
    size_t n0 = *index;
    while (len > 0) {
        size_t taken;
        ck_assert_int_eq(frame_reader_feed(r, data, len, &taken), 0);
        ck_assert_uint_le(taken, len);
        ck_assert_uint_le(r->len, r->cap);
        uint8_t *frame;
        size_t flen;
        while (frame_reader_next(r, &frame, &flen) == 1) {
            ck_assert_uint_lt(*index, got_max);
            check_frame(frame, flen, got[*index], *index);
            (*index)++;
        }
        ck_assert_uint_gt(taken, 0); /* drained, so progress is always possible */
        data += taken;
        len -= taken;
    }
    return *index - n0;
}

START_TEST(test_header_and_init)
{
    uint8_t h[FRAME_HEADER_SIZE];
    frame_write_header(h, 0x01020304);
    ck_assert(h[0] == 1 && h[1] == 2 && h[2] == 3 && h[3] == 4);
    frame_reader_t r;
    ck_assert_int_eq(frame_reader_init(&r, 0), -EINVAL);
    ck_assert_int_eq(frame_reader_init(&r, 100), 0);
    ck_assert_uint_eq(r.limit, 104);
    ck_assert_uint_eq(r.cap, 0); /* nothing until bytes arrive */
    ck_assert_ptr_null(r.buf);
    ck_assert_uint_eq(r.max_frame, 100);
    uint8_t *frame;
    size_t len;
    ck_assert_int_eq(frame_reader_next(&r, &frame, &len), 0);
    frame_reader_dispose(&r);
    ck_assert_ptr_null(r.buf);
}
END_TEST

START_TEST(test_split_at_every_boundary)
{
    static const size_t lens[] = {1, 7, 100, 3, 64, 1, 2};
    stream_t s = {0};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
        stream_add(&s, lens[i]);
    size_t expect[sizeof(lens) / sizeof(lens[0])];
    memcpy(expect, lens, sizeof(lens));
    for (size_t cut = 0; cut <= s.len; cut++) {
        frame_reader_t r;
        ck_assert_int_eq(frame_reader_init(&r, 100), 0);
        size_t index = 0;
        feed_all(&r, s.data, cut, expect, s.frames, &index);
        feed_all(&r, s.data + cut, s.len - cut, expect, s.frames, &index);
        ck_assert_uint_eq(index, s.frames);
        frame_reader_dispose(&r);
    }
    /* and one byte at a time */
    frame_reader_t r;
    ck_assert_int_eq(frame_reader_init(&r, 100), 0);
    size_t index = 0;
    for (size_t i = 0; i < s.len; i++)
        feed_all(&r, s.data + i, 1, expect, s.frames, &index);
    ck_assert_uint_eq(index, s.frames);
    frame_reader_dispose(&r);
    free(s.data);
}
END_TEST

START_TEST(test_many_frames_one_feed)
{
    stream_t s = {0};
    size_t expect[1000];
    for (size_t i = 0; i < 1000; i++)
        stream_add(&s, expect[i] = 1 + i % 13);
    frame_reader_t r;
    ck_assert_int_eq(frame_reader_init(&r, 65536), 0);
    size_t taken;
    ck_assert_int_eq(frame_reader_feed(&r, s.data, s.len, &taken), 0);
    ck_assert_uint_eq(taken, s.len); /* it all fits */
    uint8_t *frame;
    size_t len, n = 0;
    while (frame_reader_next(&r, &frame, &len) == 1) {
        check_frame(frame, len, expect[n], n);
        n++;
    }
    ck_assert_uint_eq(n, 1000);
    frame_reader_dispose(&r);

    /* into a small reader: it takes what fits, the caller drains and feeds the rest */
    ck_assert_int_eq(frame_reader_init(&r, 16), 0);
    size_t index = 0;
    feed_all(&r, s.data, s.len, expect, 1000, &index);
    ck_assert_uint_eq(index, 1000);
    frame_reader_dispose(&r);
    free(s.data);
}
END_TEST

START_TEST(test_max_frame_accepted)
{
    stream_t s = {0};
    size_t expect[3] = {1000, 1000, 1};
    for (size_t i = 0; i < 3; i++)
        stream_add(&s, expect[i]);
    frame_reader_t r;
    ck_assert_int_eq(frame_reader_init(&r, 1000), 0);
    size_t taken;
    ck_assert_int_eq(frame_reader_feed(&r, s.data, s.len, &taken), 0);
    ck_assert_uint_eq(taken, r.limit); /* exactly one maximum frame */
    ck_assert_uint_eq(r.cap, r.limit);
    uint8_t *frame;
    size_t len;
    ck_assert_int_eq(frame_reader_next(&r, &frame, &len), 1);
    check_frame(frame, len, 1000, 0);
    ck_assert_int_eq(frame_reader_next(&r, &frame, &len), 0);
    size_t index = 1;
    feed_all(&r, s.data + taken, s.len - taken, expect, 3, &index);
    ck_assert_uint_eq(index, 3);
    frame_reader_dispose(&r);
    free(s.data);
}
END_TEST

START_TEST(test_oversize_refused_at_header)
{
    frame_reader_t r;
    uint8_t h[FRAME_HEADER_SIZE], *frame;
    size_t taken, len;
    ck_assert_int_eq(frame_reader_init(&r, 1000), 0);
    frame_write_header(h, 1001);
    /* three header bytes: not yet known */
    ck_assert_int_eq(frame_reader_feed(&r, h, 3, &taken), 0);
    ck_assert_uint_eq(taken, 3);
    /* the fourth: refused at once, no body awaited */
    ck_assert_int_eq(frame_reader_feed(&r, h + 3, 1, &taken), -EMSGSIZE);
    ck_assert_int_eq(frame_reader_next(&r, &frame, &len), 0);
    /* and it stays refused */
    ck_assert_int_eq(frame_reader_feed(&r, (const uint8_t *)"xx", 2, &taken), -EMSGSIZE);
    ck_assert_int_eq(frame_reader_next(&r, &frame, &len), 0);
    frame_reader_dispose(&r);

    /* behind a good frame, in the same feed: the good one is delivered, nothing after */
    stream_t s = {0};
    stream_add(&s, 10);
    frame_write_header(h, UINT32_MAX);
    stream_add(&s, 0);
    memcpy(s.data + s.len - FRAME_HEADER_SIZE, h, FRAME_HEADER_SIZE);
    ck_assert_int_eq(frame_reader_init(&r, 1000), 0);
    ck_assert_int_eq(frame_reader_feed(&r, s.data, s.len, &taken), -EMSGSIZE);
    ck_assert_int_eq(frame_reader_next(&r, &frame, &len), 1);
    check_frame(frame, len, 10, 0);
    ck_assert_int_eq(frame_reader_next(&r, &frame, &len), 0);
    frame_reader_dispose(&r);
    free(s.data);
}
END_TEST

START_TEST(test_zero_length_refused)
{
    frame_reader_t r;
    uint8_t h[FRAME_HEADER_SIZE], *frame;
    size_t taken, len;
    ck_assert_int_eq(frame_reader_init(&r, 1000), 0);
    frame_write_header(h, 0);
    ck_assert_int_eq(frame_reader_feed(&r, h, sizeof(h), &taken), -EINVAL);
    ck_assert_int_eq(frame_reader_next(&r, &frame, &len), 0);
    ck_assert_int_eq(frame_reader_feed(&r, h, sizeof(h), &taken), -EINVAL);
    frame_reader_dispose(&r);
}
END_TEST

/* xorshift64*: reproducible chunk and frame sizes. */
static uint64_t rnd(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * UINT64_C(2685821657736338717);
}

START_TEST(test_compaction_10k_frames)
{
    enum { N = 10000, MAX = 100 };
    uint64_t st = 42;
    stream_t s = {0};
    size_t *expect = malloc(N * sizeof(*expect));
    ck_assert_ptr_nonnull(expect);
    for (size_t i = 0; i < N; i++)
        stream_add(&s, expect[i] = 1 + rnd(&st) % MAX);
    frame_reader_t r;
    ck_assert_int_eq(frame_reader_init(&r, MAX), 0);
    uint8_t *buf = NULL;
    size_t index = 0;
    for (size_t off = 0; off < s.len;) {
        size_t chunk = 1 + rnd(&st) % 300;
        chunk = chunk < s.len - off ? chunk : s.len - off;
        feed_all(&r, s.data + off, chunk, expect, N, &index);
        if (buf == NULL)
            buf = r.buf;
        ck_assert_ptr_eq(r.buf, buf); /* at its limit at once, never reallocated */
        ck_assert_uint_eq(r.cap, MAX + FRAME_HEADER_SIZE);
        off += chunk;
    }
    ck_assert_uint_eq(index, N);
    ck_assert_uint_eq(r.consumed, r.len); /* nothing left over */
    frame_reader_dispose(&r);
    free(expect);
    free(s.data);
}
END_TEST

/* Issue 19, defect 9: a connection costs what it sent, not a maximum frame. */
START_TEST(test_buffer_grows_with_what_arrives)
{
    enum { MAX = 256 * 1024 };
    frame_reader_t r;
    ck_assert_int_eq(frame_reader_init(&r, MAX), 0);
    ck_assert_ptr_null(r.buf);
    /* a small frame: the first size */
    stream_t s = {0};
    stream_add(&s, 300);
    size_t index = 0, expect_small[1] = {300};
    feed_all(&r, s.data, s.len, expect_small, 1, &index);
    ck_assert_uint_eq(index, 1);
    ck_assert_uint_eq(r.cap, FRAME_READER_INITIAL);
    free(s.data);

    /* a maximum length declared: nothing more held until its bytes come */
    uint8_t h[FRAME_HEADER_SIZE];
    frame_write_header(h, MAX);
    size_t taken;
    ck_assert_int_eq(frame_reader_feed(&r, h, sizeof h, &taken), 0);
    ck_assert_uint_eq(taken, sizeof h);
    ck_assert_uint_eq(r.cap, FRAME_READER_INITIAL);
    /* then it grows as they come, by doubling, to hold the frame */
    uint8_t *chunk = calloc(1, 10000);
    ck_assert_ptr_nonnull(chunk);
    ck_assert_int_eq(frame_reader_feed(&r, chunk, 10000, &taken), 0);
    ck_assert_uint_eq(taken, 10000);
    ck_assert_uint_ge(r.cap, 10000 + FRAME_HEADER_SIZE);
    ck_assert_uint_le(r.cap, 4 * FRAME_READER_INITIAL);
    size_t got = 10000;
    while (got < MAX) {
        size_t n = MAX - got < 10000 ? MAX - got : 10000;
        ck_assert_int_eq(frame_reader_feed(&r, chunk, n, &taken), 0);
        ck_assert_uint_eq(taken, n);
        got += n;
    }
    ck_assert_uint_le(r.cap, r.limit);
    uint8_t *frame;
    size_t len;
    ck_assert_int_eq(frame_reader_next(&r, &frame, &len), 1);
    ck_assert_uint_eq(len, MAX);
    free(chunk);
    frame_reader_dispose(&r);
}
END_TEST

static Suite *frame_suite(void)
{
    Suite *s = suite_create("cluster_frame");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_header_and_init);
    tcase_add_test(tc, test_split_at_every_boundary);
    tcase_add_test(tc, test_many_frames_one_feed);
    tcase_add_test(tc, test_max_frame_accepted);
    tcase_add_test(tc, test_oversize_refused_at_header);
    tcase_add_test(tc, test_zero_length_refused);
    tcase_add_test(tc, test_compaction_10k_frames);
    tcase_add_test(tc, test_buffer_grows_with_what_arrives);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(frame_suite());
}
