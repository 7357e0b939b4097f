/*
 * tests/unit/shm/test_ring.c - src/shm/ring.c (and the region that holds it) across real
 * forked processes: order and content, every record size and wrap-around, overrun and
 * resynchronisation, many producers x many consumers woken through their eventfds,
 * producers SIGKILLed inside publish, and the consumer slot table.
 *
 * Payloads are self-describing: the first 16 bytes hold (producer, index, seed) and the
 * rest is a pseudo-random stream derived from the seed, so any torn or misplaced byte is
 * detected by the reader.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shm/region.h"
#include "shm/ring.h"
#include "../fork_support.h"
#include "../check_main.h"

#define T_DATA 1
#define T_END  2

/* ---- helpers ---------------------------------------------------------------------- */

static uint8_t rbuf[SHM_RING_RECORD_MAX];
static uint8_t wbuf[SHM_RING_RECORD_MAX + 1];

static void stream_fill(uint8_t *p, size_t len, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;
    size_t i;

    for (i = 0; i < len; i += 8) {
        size_t n = len - i < 8 ? len - i : 8;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(p + i, &x, n);
    }
}

typedef struct {
    uint32_t producer;
    uint32_t index;
    uint64_t seed;
} rec_head_t;

/* A self-describing payload of `len` >= sizeof(rec_head_t) bytes. */
static void rec_make(uint8_t *p, size_t len, uint32_t producer, uint32_t index)
{
    rec_head_t h = {producer, index, ((uint64_t)producer << 32 | index) ^ (uint64_t)len};

    memcpy(p, &h, sizeof(h));
    stream_fill(p + sizeof(h), len - sizeof(h), h.seed);
}

/* 0 when `p` is intact, -1 when torn. */
static int rec_check(const uint8_t *p, size_t len, rec_head_t *out)
{
    static uint8_t expect[SHM_RING_RECORD_MAX];
    rec_head_t h;

    if (len < sizeof(h))
        return -1;
    memcpy(&h, p, sizeof(h));
    if (h.seed != (((uint64_t)h.producer << 32 | h.index) ^ (uint64_t)len))
        return -1;
    stream_fill(expect, len - sizeof(h), h.seed);
    if (memcmp(expect, p + sizeof(h), len - sizeof(h)) != 0)
        return -1;
    if (out != NULL)
        *out = h;
    return 0;
}

/* A region whose ring has exactly `capacity` bytes of data. */
static shm_ring_t *ring_region(shm_region_t *region, size_t capacity)
{
    size_t size = SHM_SECTION_ALIGN + shm_ring_footprint(capacity);
    shm_ring_t *ring;

    ck_assert_int_eq(shm_region_create(region, size), 0);
    ring = shm_region_ring(region);
    ck_assert_ptr_nonnull(ring);
    ck_assert_uint_eq(shm_ring_capacity(ring), capacity);
    return ring;
}

static int read_one(shm_ring_t *ring, shm_ring_cursor_t *cur, uint16_t *type, size_t *len, uint64_t *seq)
{
    return shm_ring_read(ring, cur, type, rbuf, len, seq);
}

/* ---- region ----------------------------------------------------------------------- */

START_TEST(test_region_layout)
{
    shm_region_t region;
    shm_header_t *hdr;
    size_t size, cap;
    void *sec;

    ck_assert_int_eq(shm_region_create(&region, 4096), -EINVAL);
    ck_assert_ptr_null(region.base);
    ck_assert_int_eq(shm_region_create(NULL, 1 << 20), -EINVAL);

    ck_assert_int_eq(shm_region_create(&region, 3 * 1024 * 1024 + 1), 0);
    hdr = shm_region_header(&region);
    ck_assert_ptr_eq(hdr, region.base);
    ck_assert_uint_eq(hdr->magic, SHM_MAGIC);
    ck_assert_uint_eq(hdr->layout_version, SHM_LAYOUT_VERSION);
    ck_assert_uint_eq(hdr->section_count, SHM_SECTION_COUNT);
    ck_assert_uint_eq(hdr->size, region.size);
    ck_assert_uint_eq(region.size % 4096, 0);
    ck_assert_uint_ge(region.size, 3 * 1024 * 1024 + 1);
    ck_assert_uint_eq(hdr->schema_version, 0);
    ck_assert_str_eq(hdr->node_id, "");

    sec = shm_region_section(&region, SHM_SECTION_RING, &size);
    ck_assert_ptr_eq(sec, shm_region_ring(&region));
    ck_assert_uint_eq(hdr->sections[SHM_SECTION_RING].offset % SHM_SECTION_ALIGN, 0);
    ck_assert_uint_ge(hdr->sections[SHM_SECTION_RING].offset, sizeof(*hdr));
    ck_assert_uint_le(hdr->sections[SHM_SECTION_RING].offset + size, region.size);
    /* The largest power of two that fits: 2 MiB of 3 MiB; 4 MiB would not. */
    cap = shm_ring_capacity(shm_region_ring(&region));
    ck_assert_uint_eq(cap, 2 * 1024 * 1024);
    ck_assert_uint_eq(size, shm_ring_footprint(cap));
    ck_assert_uint_gt(shm_ring_footprint(cap * 2), region.size - hdr->sections[SHM_SECTION_RING].offset);
    ck_assert_ptr_null(shm_region_section(&region, SHM_SECTION_COUNT, &size));
    ck_assert_uint_eq(shm_ring_head_seq(shm_region_ring(&region)), 0);

    shm_region_destroy(&region);
    ck_assert_ptr_null(region.base);
    ck_assert_uint_eq(region.size, 0);
    shm_region_destroy(&region);
    ck_assert_ptr_null(shm_region_ring(&region));
}
END_TEST

START_TEST(test_region_shared_across_fork)
{
    shm_region_t region;
    shm_ring_t *ring = ring_region(&region, SHM_RING_CAPACITY_MIN);
    shm_ring_cursor_t cur;
    uint16_t type;
    size_t len;
    uint64_t seq;
    pid_t pid;

    shm_ring_cursor_init(ring, &cur);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        strcpy(shm_region_header(&region)->node_id, "child");
        _exit(shm_ring_publish(ring, NULL, T_DATA, "hello", 5, NULL) == 0 ? 0 : 1);
    }
    ck_assert_int_eq(child_wait(pid), 0);
    ck_assert_str_eq(shm_region_header(&region)->node_id, "child");
    ck_assert_int_eq(read_one(ring, &cur, &type, &len, &seq), 1);
    ck_assert_uint_eq(len, 5);
    ck_assert_int_eq(memcmp(rbuf, "hello", 5), 0);
    shm_region_destroy(&region);
}
END_TEST

/* ---- basics ----------------------------------------------------------------------- */

START_TEST(test_init_arguments)
{
    static uint64_t mem[(SHM_RING_CAPACITY_MIN + 65536) / 8] __attribute__((aligned(64)));

    ck_assert_uint_eq(shm_ring_footprint(SHM_RING_CAPACITY_MIN / 2), 0);
    ck_assert_uint_eq(shm_ring_footprint(SHM_RING_CAPACITY_MIN + 8), 0);
    ck_assert_uint_gt(shm_ring_footprint(SHM_RING_CAPACITY_MIN), SHM_RING_CAPACITY_MIN);
    ck_assert_uint_le(shm_ring_footprint(SHM_RING_CAPACITY_MIN), sizeof(mem));
    ck_assert_int_eq(shm_ring_init(NULL, SHM_RING_CAPACITY_MIN), -EINVAL);
    ck_assert_int_eq(shm_ring_init(mem, 3 * SHM_RING_RECORD_MAX * 2), -EINVAL);
    ck_assert_int_eq(shm_ring_init((uint8_t *)mem + 8, SHM_RING_CAPACITY_MIN), -EINVAL);
    ck_assert_int_eq(shm_ring_init(mem, SHM_RING_CAPACITY_MIN), 0);
    ck_assert_uint_eq(shm_ring_capacity((shm_ring_t *)mem), SHM_RING_CAPACITY_MIN);
    ck_assert_uint_eq(shm_ring_record_size(0), 16);
    ck_assert_uint_eq(shm_ring_record_size(1), 24);
    ck_assert_uint_eq(shm_ring_record_size(8), 24);
    ck_assert_uint_eq(shm_ring_record_size(9), 32);
}
END_TEST

START_TEST(test_single_order_and_content)
{
    shm_region_t region;
    shm_ring_t *ring = ring_region(&region, 1024 * 1024);
    shm_ring_cursor_t cur, late;
    rec_head_t h;
    uint16_t type;
    size_t len;
    uint64_t seq, out;
    uint32_t i;

    shm_ring_cursor_init(ring, &cur);
    ck_assert_int_eq(read_one(ring, &cur, &type, &len, &seq), 0);
    ck_assert_int_eq(shm_ring_publish(ring, NULL, 7, NULL, 0, &out), 0);
    ck_assert_uint_eq(out, 1); /* the first sequence number is 1 */
    ck_assert_int_eq(read_one(ring, &cur, &type, &len, &seq), 1);
    ck_assert_uint_eq(type, 7);
    ck_assert_uint_eq(len, 0);
    ck_assert_uint_eq(seq, 1);
    ck_assert_int_eq(read_one(ring, &cur, &type, &len, &seq), 0);

    /* Interleave: write 3, read 2, ... and a cursor created midway. */
    for (i = 0; i < 3000; i++) {
        size_t n = 16 + (i * 37) % 300;

        rec_make(wbuf, n, 0, i);
        ck_assert_int_eq(shm_ring_publish(ring, NULL, (uint16_t)(100 + i % 5), wbuf, n, &out), 0);
        ck_assert_uint_eq(out, i + 2);
        if (i == 1500)
            shm_ring_cursor_init(ring, &late);
        if (i % 3 == 2) {
            for (int k = 0; k < 3; k++) {
                ck_assert_int_eq(read_one(ring, &cur, &type, &len, &seq), 1);
                ck_assert_int_eq(rec_check(rbuf, len, &h), 0);
                ck_assert_uint_eq(h.index, i - 2 + (uint32_t)k);
                ck_assert_uint_eq(seq, h.index + 2);
                ck_assert_uint_eq(type, 100 + h.index % 5);
            }
            ck_assert_int_eq(read_one(ring, &cur, &type, &len, &seq), 0);
        }
    }
    ck_assert_uint_eq(shm_ring_head_seq(ring), 3001);
    /* The late cursor sees only what came after its creation. */
    for (i = 1501; i < 3000; i++) {
        ck_assert_int_eq(read_one(ring, &late, &type, &len, &seq), 1);
        ck_assert_int_eq(rec_check(rbuf, len, &h), 0);
        ck_assert_uint_eq(h.index, i);
    }
    ck_assert_int_eq(read_one(ring, &late, &type, &len, &seq), 0);

    ck_assert_int_eq(shm_ring_publish(ring, NULL, 1, NULL, 1, NULL), -EINVAL);
    ck_assert_int_eq(shm_ring_read(ring, &cur, &type, NULL, &len, &seq), -EINVAL);
    shm_region_destroy(&region);
}
END_TEST

/* Every payload size from 0 to SHM_RING_RECORD_MAX through a minimal ring: records wrap
 * the end of the data area over and over. */
START_TEST(test_every_size_and_wrap)
{
    shm_region_t region;
    shm_ring_t *ring = ring_region(&region, SHM_RING_CAPACITY_MIN);
    size_t cap = shm_ring_capacity(ring);
    shm_ring_cursor_t cur;
    uint64_t seq, out, wrapped = 0;
    uint16_t type;
    size_t n, len;
    static uint8_t pattern[SHM_RING_RECORD_MAX + 4096];

    /* Record n is the window of a random pattern starting at offset n % 4093. Plain ifs
     * in the loop: every ck_assert costs Check a write to its pipe. */
    stream_fill(pattern, sizeof(pattern), 99);
    shm_ring_cursor_init(ring, &cur);
    for (n = 0; n <= SHM_RING_RECORD_MAX; n++) {
        const uint8_t *src = pattern + n % 4093;
        uint64_t pos = cur.pos;
        int rp = shm_ring_publish(ring, NULL, (uint16_t)n, src, n, &out);
        int rr = read_one(ring, &cur, &type, &len, &seq);

        if (rp != 0 || out != n + 1 || rr != 1 || len != n || seq != n + 1 || type != (uint16_t)n ||
            memcmp(rbuf, src, n) != 0)
            ck_abort_msg("size %zu: publish %d seq %" PRIu64 ", read %d len %zu seq %" PRIu64, n, rp, out, rr, len,
                         seq);
        if ((pos & (cap - 1)) + shm_ring_record_size(n) > cap)
            wrapped++;
    }
    ck_assert_uint_gt(wrapped, 100);
    ck_assert_int_eq(shm_ring_publish(ring, NULL, 1, wbuf, SHM_RING_RECORD_MAX + 1, NULL), -EMSGSIZE);
    ck_assert_uint_eq(shm_ring_head_seq(ring), SHM_RING_RECORD_MAX + 1);
    ck_assert_int_eq(read_one(ring, &cur, &type, &len, &seq), 0);
    shm_region_destroy(&region);
}
END_TEST

/* Put the next record at `cap - gap` in the data area, so that its header (gap 8) or its
 * payload (gap 24...) is split by the end. */
static void ring_align_to(shm_ring_t *ring, shm_ring_cursor_t *cur, size_t gap)
{
    size_t cap = shm_ring_capacity(ring);
    uint16_t type;
    uint64_t seq;
    size_t len;

    for (;;) {
        size_t d = (cap - gap - (cur->pos & (cap - 1))) & (cap - 1);
        size_t n;

        if (d == 0)
            return;
        if (d < 16 || d == 16 + SHM_RING_RECORD_MAX + 8)
            d += cap / 2;
        n = d - 16 > SHM_RING_RECORD_MAX ? SHM_RING_RECORD_MAX : d - 16;
        ck_assert_int_eq(shm_ring_publish(ring, NULL, 0, wbuf, n, NULL), 0);
        ck_assert_int_eq(read_one(ring, cur, &type, &len, &seq), 1);
    }
}

START_TEST(test_split_header_and_payload)
{
    shm_region_t region;
    shm_ring_t *ring = ring_region(&region, SHM_RING_CAPACITY_MIN);
    size_t cap = shm_ring_capacity(ring);
    static const size_t gaps[] = {8, 16, 24, 32, 4096};
    shm_ring_cursor_t cur;
    uint16_t type;
    uint64_t seq;
    size_t i, len;

    memset(wbuf, 0xee, sizeof(wbuf));
    shm_ring_cursor_init(ring, &cur);
    for (i = 0; i < sizeof(gaps) / sizeof(gaps[0]); i++) {
        ring_align_to(ring, &cur, gaps[i]);
        ck_assert_uint_eq(cur.pos & (cap - 1), cap - gaps[i]);
        rec_make(wbuf, 1000, 9, (uint32_t)i);
        ck_assert_int_eq(shm_ring_publish(ring, NULL, T_DATA, wbuf, 1000, NULL), 0);
        ck_assert_int_eq(read_one(ring, &cur, &type, &len, &seq), 1);
        ck_assert_uint_eq(len, 1000);
        ck_assert_int_eq(rec_check(rbuf, len, NULL), 0);
    }
    shm_region_destroy(&region);
}
END_TEST

/* ---- overrun ---------------------------------------------------------------------- */

START_TEST(test_overrun_and_resync)
{
    shm_region_t region;
    shm_ring_t *ring = ring_region(&region, SHM_RING_CAPACITY_MIN);
    size_t cap = shm_ring_capacity(ring);
    const size_t n = 1008; /* record size 1024: the ring holds exactly cap / 1024 */
    const uint32_t per_ring = (uint32_t)(cap / shm_ring_record_size(n));
    shm_ring_cursor_t cur;
    rec_head_t h;
    uint16_t type;
    uint64_t seq;
    size_t len;
    uint32_t i;

    ck_assert_uint_eq(shm_ring_record_size(n), 1024);
    /* Exactly one full ring behind: still readable. */
    shm_ring_cursor_init(ring, &cur);
    for (i = 0; i < per_ring; i++) {
        rec_make(wbuf, n, 1, i);
        ck_assert_int_eq(shm_ring_publish(ring, NULL, T_DATA, wbuf, n, NULL), 0);
    }
    for (i = 0; i < per_ring; i++) {
        ck_assert_int_eq(read_one(ring, &cur, &type, &len, &seq), 1);
        ck_assert_int_eq(rec_check(rbuf, len, &h), 0);
        ck_assert_uint_eq(h.index, i);
    }
    ck_assert_int_eq(read_one(ring, &cur, &type, &len, &seq), 0);

    /* One record more than a ring: the oldest unread record is gone. */
    for (i = 0; i < per_ring + 1; i++) {
        rec_make(wbuf, n, 2, i);
        ck_assert_int_eq(shm_ring_publish(ring, NULL, T_DATA, wbuf, n, NULL), 0);
    }
    ck_assert_int_eq(read_one(ring, &cur, &type, &len, &seq), SHM_RING_EOVERRUN);
    ck_assert_uint_eq(cur.seq, shm_ring_head_seq(ring)); /* moved to the head */
    ck_assert_int_eq(read_one(ring, &cur, &type, &len, &seq), 0);

    /* Far behind (several laps), then new records read fine. */
    for (i = 0; i < 5 * per_ring; i++)
        ck_assert_int_eq(shm_ring_publish(ring, NULL, T_DATA, wbuf, n, NULL), 0);
    ck_assert_int_eq(read_one(ring, &cur, &type, &len, &seq), SHM_RING_EOVERRUN);
    ck_assert_int_eq(read_one(ring, &cur, &type, &len, &seq), 0);
    for (i = 0; i < 10; i++) {
        rec_make(wbuf, 100 + i, 3, i);
        ck_assert_int_eq(shm_ring_publish(ring, NULL, T_DATA, wbuf, 100 + i, NULL), 0);
    }
    for (i = 0; i < 10; i++) {
        ck_assert_int_eq(read_one(ring, &cur, &type, &len, &seq), 1);
        ck_assert_int_eq(rec_check(rbuf, len, &h), 0);
        ck_assert_uint_eq(h.producer, 3);
        ck_assert_uint_eq(h.index, i);
        ck_assert_uint_eq(seq, shm_ring_head_seq(ring) - 9 + i);
    }
    ck_assert_int_eq(read_one(ring, &cur, &type, &len, &seq), 0);

    /* A cursor that makes no sense is reported and reset, never followed. */
    cur.seq = shm_ring_head_seq(ring) + 5;
    ck_assert_int_eq(read_one(ring, &cur, &type, &len, &seq), -EPROTO);
    ck_assert_int_eq(read_one(ring, &cur, &type, &len, &seq), 0);
    ck_assert_int_eq(shm_ring_publish(ring, NULL, T_DATA, wbuf, 16, NULL), 0);
    cur.pos += 8; /* misaligned onto garbage */
    ck_assert_int_eq(read_one(ring, &cur, &type, &len, &seq), -EPROTO);
    shm_region_destroy(&region);
}
END_TEST

/* ---- slots and eventfds ----------------------------------------------------------- */

static int fd_readable(int fd)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};

    ck_assert_int_ge(poll(&pfd, 1, 0), 0);
    return (pfd.revents & POLLIN) != 0;
}

START_TEST(test_slots_and_eventfds)
{
    shm_region_t region;
    shm_ring_t *ring = ring_region(&region, SHM_RING_CAPACITY_MIN);
    int efds[SHM_RING_CONSUMERS_MAX];
    unsigned i;

    ck_assert_int_eq(shm_ring_eventfds_create(efds), 0);
    for (i = 0; i < SHM_RING_CONSUMERS_MAX; i++) {
        ck_assert_int_ge(efds[i], 0);
        ck_assert(i == 0 || efds[i] != efds[i - 1]);
    }

    ck_assert_int_eq(shm_ring_consumer_find_free(ring), 0);
    ck_assert_int_eq(shm_ring_consumer_attach(ring, 0, 100), 0);
    ck_assert_int_eq(shm_ring_consumer_attach(ring, 0, 101), -EBUSY);
    ck_assert_int_eq(shm_ring_consumer_attach(ring, SHM_RING_CONSUMERS_MAX, 100), -EINVAL);
    ck_assert_int_eq(shm_ring_consumer_attach(ring, 1, 0), -EINVAL);
    ck_assert_int_eq(shm_ring_consumer_pid(ring, 0), 100);
    ck_assert_int_eq(shm_ring_consumer_pid(ring, 1), 0);
    ck_assert_int_eq(shm_ring_consumer_find_free(ring), 1);
    for (i = 1; i < SHM_RING_CONSUMERS_MAX; i++)
        ck_assert_int_eq(shm_ring_consumer_attach(ring, i, (pid_t)(100 + i)), 0);
    ck_assert_int_eq(shm_ring_consumer_find_free(ring), -ENOSPC);
    shm_ring_consumer_detach(ring, 77);
    ck_assert_int_eq(shm_ring_consumer_pid(ring, 77), 0);
    ck_assert_int_eq(shm_ring_consumer_find_free(ring), 77);
    for (i = 0; i < SHM_RING_CONSUMERS_MAX; i++)
        shm_ring_consumer_detach(ring, i);
    ck_assert_int_eq(shm_ring_consumer_find_free(ring), 0);

    /* Only attached slots are woken. */
    ck_assert_int_eq(shm_ring_consumer_attach(ring, 3, getpid()), 0);
    ck_assert_int_eq(shm_ring_consumer_attach(ring, 9, getpid()), 0);
    ck_assert_int_eq(shm_ring_publish(ring, efds, T_DATA, "x", 1, NULL), 0);
    ck_assert_int_eq(shm_ring_publish(ring, efds, T_DATA, "y", 1, NULL), 0);
    ck_assert(fd_readable(efds[3]));
    ck_assert(fd_readable(efds[9]));
    ck_assert(!fd_readable(efds[4]));
    ck_assert_int_eq(shm_ring_drain_eventfd(efds[3]), 0);
    ck_assert(!fd_readable(efds[3]));
    ck_assert_int_eq(shm_ring_drain_eventfd(efds[3]), 0); /* EAGAIN -> 0 */
    shm_ring_consumer_detach(ring, 9);
    ck_assert_int_eq(shm_ring_drain_eventfd(efds[9]), 0);
    ck_assert_int_eq(shm_ring_publish(ring, efds, T_DATA, "z", 1, NULL), 0);
    ck_assert(fd_readable(efds[3]));
    ck_assert(!fd_readable(efds[9]));

    shm_ring_eventfds_close(efds);
    for (i = 0; i < SHM_RING_CONSUMERS_MAX; i++)
        ck_assert_int_eq(efds[i], -1);
    ck_assert_int_eq(shm_ring_drain_eventfd(-1), -EBADF);
    shm_region_destroy(&region);
}
END_TEST

/* ---- many producers x many consumers ---------------------------------------------- */

#define MP_PRODUCERS 4
#define MP_CONSUMERS 3
#define MP_RECORDS   2000 /* per producer; everything fits the ring: no overrun allowed */

/* Consumer: blocks on its eventfd, checks every record; exit code says what failed. */
static int mp_consume(shm_ring_t *ring, int efd, int ready_fd)
{
    uint32_t next[MP_PRODUCERS] = {0};
    uint64_t last_seq, got = 0, deadline = now_ms() + 20000;
    shm_ring_cursor_t cur;
    rec_head_t h;
    uint16_t type;
    uint64_t seq;
    size_t len;
    int rc;

    shm_ring_cursor_init(ring, &cur);
    last_seq = cur.seq;
    if (write(ready_fd, "r", 1) != 1)
        return 20;
    while (got < (uint64_t)MP_PRODUCERS * MP_RECORDS) {
        struct pollfd pfd = {.fd = efd, .events = POLLIN};

        if (now_ms() > deadline)
            return 21;
        rc = poll(&pfd, 1, 1000);
        if (rc < 0 && errno != EINTR)
            return 22;
        if (rc <= 0)
            continue; /* a timeout just re-checks the deadline */
        if (shm_ring_drain_eventfd(efd) != 0)
            return 23;
        while ((rc = shm_ring_read(ring, &cur, &type, rbuf, &len, &seq)) == 1) {
            if (seq != last_seq + 1)
                return 24; /* gap or duplicate */
            last_seq = seq;
            if (type != T_DATA || rec_check(rbuf, len, &h) != 0)
                return 25; /* torn or foreign */
            if (h.producer >= MP_PRODUCERS || h.index != next[h.producer])
                return 26; /* a producer's records out of order */
            next[h.producer]++;
            got++;
        }
        if (rc == SHM_RING_EOVERRUN)
            return 27;
        if (rc < 0)
            return 28;
    }
    if (shm_ring_read(ring, &cur, &type, rbuf, &len, &seq) != 0)
        return 29; /* one too many */
    return 0;
}

static int mp_produce(shm_ring_t *ring, const int *efds, uint32_t id)
{
    uint32_t i;

    srand(id + 1);
    for (i = 0; i < MP_RECORDS; i++) {
        size_t n = i % 400 == 399 ? SHM_RING_RECORD_MAX : 16 + (size_t)(rand() % 500);

        rec_make(wbuf, n, id, i);
        if (shm_ring_publish(ring, efds, T_DATA, wbuf, n, NULL) != 0)
            return 30;
        if (i % 64 == 0)
            sched_yield();
    }
    return 0;
}

START_TEST(test_many_producers_many_consumers)
{
    shm_region_t region;
    shm_ring_t *ring = ring_region(&region, 8 * 1024 * 1024);
    pid_t consumers[MP_CONSUMERS], producers[MP_PRODUCERS];
    int efds[SHM_RING_CONSUMERS_MAX], ready[2], i;
    char c;

    ck_assert_int_eq(shm_ring_eventfds_create(efds), 0);
    ck_assert_int_eq(pipe(ready), 0);
    for (i = 0; i < MP_CONSUMERS; i++) {
        int slot = shm_ring_consumer_find_free(ring);

        ck_assert_int_ge(slot, 0);
        consumers[i] = fork();
        ck_assert_int_ge(consumers[i], 0);
        if (consumers[i] == 0)
            _exit(mp_consume(ring, efds[slot], ready[1]));
        ck_assert_int_eq(shm_ring_consumer_attach(ring, (unsigned)slot, consumers[i]), 0);
    }
    for (i = 0; i < MP_CONSUMERS; i++)
        ck_assert_int_eq(read(ready[0], &c, 1), 1);

    for (i = 0; i < MP_PRODUCERS; i++) {
        producers[i] = fork();
        ck_assert_int_ge(producers[i], 0);
        if (producers[i] == 0)
            _exit(mp_produce(ring, efds, (uint32_t)i));
    }
    for (i = 0; i < MP_PRODUCERS; i++)
        ck_assert_int_eq(child_wait(producers[i]), 0);
    for (i = 0; i < MP_CONSUMERS; i++)
        ck_assert_int_eq(child_wait(consumers[i]), 0);
    ck_assert_uint_eq(shm_ring_head_seq(ring), (uint64_t)MP_PRODUCERS * MP_RECORDS);
    for (i = 0; i < MP_CONSUMERS; i++)
        shm_ring_consumer_detach(ring, (unsigned)i);

    close(ready[0]);
    close(ready[1]);
    shm_ring_eventfds_close(efds);
    shm_region_destroy(&region);
}
END_TEST

/* ---- producers killed inside publish ---------------------------------------------- */

START_TEST(test_producer_killed_holding_lock)
{
    shm_region_t region;
    shm_ring_t *ring = ring_region(&region, SHM_RING_CAPACITY_MIN);
    uint32_t *held = mmap(NULL, sizeof(*held), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    uint64_t deadline = now_ms() + 5000;
    shm_ring_cursor_t cur;
    shm_ring_stats_t st;
    uint16_t type;
    uint64_t seq;
    size_t len;
    pid_t pid;

    ck_assert_ptr_ne(held, MAP_FAILED);
    *held = 0;
    shm_ring_cursor_init(ring, &cur);
    ck_assert_int_eq(shm_ring_publish(ring, NULL, T_DATA, "before", 6, NULL), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (shm_lock_acquire(shm_ring_lock(ring), shm_ring_repair, ring) != 0)
            _exit(1);
        __atomic_store_n(held, 1, __ATOMIC_RELEASE);
        for (;;)
            pause();
    }
    while (!__atomic_load_n(held, __ATOMIC_ACQUIRE)) {
        ck_assert(now_ms() < deadline);
        usleep(100);
    }
    /* Readers are lock-free: they do not notice the holder. */
    ck_assert_int_eq(read_one(ring, &cur, &type, &len, &seq), 1);
    ck_assert_int_eq(read_one(ring, &cur, &type, &len, &seq), 0);
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    ck_assert_int_eq(child_wait(pid), 128 + SIGKILL);

    ck_assert_int_eq(shm_ring_publish(ring, NULL, T_DATA, "after", 5, NULL), 0);
    shm_ring_stats(ring, &st);
    ck_assert_uint_eq(st.repairs, 1);
    ck_assert_uint_eq(st.head_seq, 2);
    ck_assert_uint_eq(st.reserve_pos, st.head_pos);
    ck_assert_int_eq(read_one(ring, &cur, &type, &len, &seq), 1);
    ck_assert_uint_eq(seq, 2);
    ck_assert_uint_eq(len, 5);
    ck_assert_int_eq(memcmp(rbuf, "after", 5), 0);
    ck_assert_int_eq(shm_ring_publish(ring, NULL, T_DATA, "again", 5, NULL), 0);
    shm_ring_stats(ring, &st);
    ck_assert_uint_eq(st.repairs, 1);
    ck_assert_int_eq(munmap(held, sizeof(*held)), 0);
    shm_region_destroy(&region);
}
END_TEST

#define KILL_ROUNDS         60
#define KILL_ROUNDS_MAX     2000
#define KILL_MID_APPEND_MIN 5

typedef struct {
    uint64_t records;  /* intact records read */
    uint64_t overruns; /* SHM_RING_EOVERRUN seen */
    uint64_t torn;     /* records whose content did not check: must stay 0 */
    uint64_t errors;   /* other negative results: must stay 0 */
    uint32_t pause;    /* parent -> steady producer: stop between two publishes */
    uint32_t paused;   /* steady producer -> parent: stopped */
    uint32_t victim;   /* victim -> parent: first record published */
    uint32_t done;     /* parent -> reader: T_END published (an overrun may skip it) */
} kill_results_t;

/* Reader racing the producers: everything it returns must be intact. */
static int kill_reader(shm_ring_t *ring, int efd, int ready_fd, kill_results_t *res)
{
    uint64_t deadline = now_ms() + 60000;
    shm_ring_cursor_t cur;
    uint16_t type;
    uint64_t seq;
    uint32_t done;
    size_t len;
    int rc;

    shm_ring_cursor_init(ring, &cur);
    if (write(ready_fd, "r", 1) != 1)
        return 20;
    while (now_ms() < deadline) {
        struct pollfd pfd = {.fd = efd, .events = POLLIN};

        if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
            return 22;
        if (shm_ring_drain_eventfd(efd) != 0)
            return 23;
        done = __atomic_load_n(&res->done, __ATOMIC_ACQUIRE);
        while ((rc = shm_ring_read(ring, &cur, &type, rbuf, &len, &seq)) != 0) {
            if (rc == SHM_RING_EOVERRUN) {
                res->overruns++;
                continue;
            }
            if (rc < 0) {
                res->errors++;
                continue;
            }
            if (type == T_END)
                return 0;
            if (rec_check(rbuf, len, NULL) != 0)
                res->torn++;
            else
                res->records++;
        }
        if (done)
            return 0; /* caught up past T_END, which an overrun skipped */
    }
    return 21;
}

/* Publishes small records until killed, stopping between two when asked. */
static void kill_steady(shm_ring_t *ring, const int *efds, kill_results_t *ctl)
{
    uint32_t i;

    for (i = 0;; i++) {
        rec_make(wbuf, 64, 1000, i);
        if (shm_ring_publish(ring, efds, T_DATA, wbuf, 64, NULL) != 0)
            _exit(2);
        if (__atomic_load_n(&ctl->pause, __ATOMIC_ACQUIRE)) {
            __atomic_store_n(&ctl->paused, 1, __ATOMIC_RELEASE);
            while (__atomic_load_n(&ctl->pause, __ATOMIC_ACQUIRE))
                usleep(50);
            __atomic_store_n(&ctl->paused, 0, __ATOMIC_RELEASE);
        }
        usleep(200);
    }
}

static void kill_steady_pause(kill_results_t *ctl, uint32_t pause)
{
    uint64_t deadline = now_ms() + 10000;

    __atomic_store_n(&ctl->pause, pause, __ATOMIC_RELEASE);
    while (__atomic_load_n(&ctl->paused, __ATOMIC_ACQUIRE) != pause) {
        ck_assert_msg(now_ms() < deadline, "steady producer stuck");
        usleep(50);
    }
}

/* Publishes large records as fast as it can until killed; the payloads are prepared
 * up front so that most of its time is spent inside shm_ring_publish(). */
#define KILL_VARIANTS 4

static void kill_producer(shm_ring_t *ring, const int *efds, uint32_t id, uint32_t *running)
{
    static uint8_t recs[KILL_VARIANTS][SHM_RING_RECORD_MAX];
    size_t lens[KILL_VARIANTS];
    uint32_t i;

    srand(id * 7919 + 1);
    for (i = 0; i < KILL_VARIANTS; i++) {
        lens[i] = SHM_RING_RECORD_MAX / 2 + (size_t)(rand() % (SHM_RING_RECORD_MAX / 2));
        rec_make(recs[i], lens[i], id, i);
    }
    for (i = 0;; i++) {
        if (shm_ring_publish(ring, efds, T_DATA, recs[i % KILL_VARIANTS], lens[i % KILL_VARIANTS], NULL) != 0)
            _exit(2);
        if (i == 0)
            __atomic_store_n(running, 1, __ATOMIC_RELEASE);
    }
}

START_TEST(test_producer_killed_mid_publish)
{
    shm_region_t region;
    shm_ring_t *ring = ring_region(&region, SHM_RING_CAPACITY_MIN);
    kill_results_t *res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int efds[SHM_RING_CONSUMERS_MAX], ready[2], round, mid_append = 0;
    pid_t reader, steady, victim;
    uint64_t last_reserve = 0, deadline = now_ms() + 20000;
    shm_ring_stats_t st;
    char c;

    ck_assert_ptr_ne(res, MAP_FAILED);
    memset(res, 0, sizeof(*res));
    ck_assert_int_eq(shm_ring_eventfds_create(efds), 0);
    ck_assert_int_eq(pipe(ready), 0);
    reader = fork();
    ck_assert_int_ge(reader, 0);
    if (reader == 0)
        _exit(kill_reader(ring, efds[0], ready[1], res));
    ck_assert_int_eq(shm_ring_consumer_attach(ring, 0, reader), 0);
    ck_assert_int_eq(read(ready[0], &c, 1), 1);

    /* A producer that survives the whole test and inherits every repair. */
    steady = fork();
    ck_assert_int_ge(steady, 0);
    if (steady == 0)
        kill_steady(ring, efds, res);

    /* At least KILL_ROUNDS kills, and more until several landed mid-append (slow
     * machines and valgrind change the odds), within a deadline. */
    srand(1234);
    for (round = 0;
         round < KILL_ROUNDS || (mid_append < KILL_MID_APPEND_MIN && round < KILL_ROUNDS_MAX && now_ms() < deadline);
         round++) {
        victim = fork();
        ck_assert_int_ge(victim, 0);
        if (victim == 0)
            kill_producer(ring, efds, (uint32_t)round, &res->victim);
        while (!__atomic_load_n(&res->victim, __ATOMIC_ACQUIRE)) {
            ck_assert_msg(now_ms() < deadline + 10000, "victim never published");
            usleep(50);
        }
        __atomic_store_n(&res->victim, 0, __ATOMIC_RELEASE);
        usleep((useconds_t)(rand() % 1500));
        ck_assert_int_eq(kill(victim, SIGKILL), 0);
        ck_assert_int_eq(child_wait(victim), 128 + SIGKILL);
        /* With the victim dead and the steady producer stopped outside publish, a
         * reservation past the head can only be the victim's. */
        kill_steady_pause(res, 1);
        shm_ring_stats(ring, &st);
        if (st.reserve_pos > st.head_pos && st.reserve_pos != last_reserve) {
            mid_append++; /* died after reserving, before publishing */
            last_reserve = st.reserve_pos;
        }
        kill_steady_pause(res, 0);
    }
    ck_assert_int_eq(kill(steady, SIGKILL), 0);
    ck_assert_int_eq(child_wait(steady), 128 + SIGKILL);

    /* Still usable from here. */
    rec_make(wbuf, 100, 2000, 0);
    ck_assert_int_eq(shm_ring_publish(ring, efds, T_DATA, wbuf, 100, NULL), 0);
    ck_assert_int_eq(shm_ring_publish(ring, efds, T_END, NULL, 0, NULL), 0);
    __atomic_store_n(&res->done, 1, __ATOMIC_RELEASE);
    ck_assert_int_eq(child_wait(reader), 0);
    shm_ring_stats(ring, &st);
    if (getenv("TEST_VERBOSE") != NULL)
        fprintf(stderr,
                "kill: %" PRIu64 " records, %" PRIu64 " overruns, %" PRIu64 " repairs, "
                "%d mid-append kills in %d rounds, head %" PRIu64 "\n",
                res->records, res->overruns, st.repairs, mid_append, round, st.head_seq);
    ck_assert_uint_eq(res->torn, 0);
    ck_assert_uint_eq(res->errors, 0);
    ck_assert_uint_gt(res->records, 0);
    ck_assert_uint_gt(st.repairs, 0);
    ck_assert_int_gt(mid_append, 0);
    ck_assert_uint_eq(st.notify_errors, 0);

    shm_ring_consumer_detach(ring, 0);
    close(ready[0]);
    close(ready[1]);
    shm_ring_eventfds_close(efds);
    ck_assert_int_eq(munmap(res, sizeof(*res)), 0);
    shm_region_destroy(&region);
}
END_TEST

/* Going back in time: the newest mark old enough, else the oldest. */
START_TEST(test_mark_pick)
{
    shm_ring_mark_t marks[4] = {{0, 0, 0}};
    ck_assert_ptr_null(shm_ring_mark_pick(marks, 4, 10000, 5000));
    marks[2] = (shm_ring_mark_t){9000, 30, 300};
    ck_assert_uint_eq(shm_ring_mark_pick(marks, 4, 10000, 5000)->seq, 30); /* none old enough: the oldest */
    marks[0] = (shm_ring_mark_t){4000, 10, 100};
    marks[3] = (shm_ring_mark_t){5000, 20, 200};
    ck_assert_uint_eq(shm_ring_mark_pick(marks, 4, 10000, 5000)->seq, 20);
    ck_assert_uint_eq(shm_ring_mark_pick(marks, 4, 9999, 5000)->seq, 10);
    ck_assert_uint_eq(shm_ring_mark_pick(marks, 4, 20000, 0)->seq, 30);
}
END_TEST

/* ---- suite ------------------------------------------------------------------------ */

static Suite *ring_suite(void)
{
    Suite *s = suite_create("shm_ring");
    TCase *tc = tcase_create("core");
    TCase *procs = tcase_create("processes");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_region_layout);
    tcase_add_test(tc, test_region_shared_across_fork);
    tcase_add_test(tc, test_init_arguments);
    tcase_add_test(tc, test_single_order_and_content);
    tcase_add_test(tc, test_every_size_and_wrap);
    tcase_add_test(tc, test_split_header_and_payload);
    tcase_add_test(tc, test_overrun_and_resync);
    tcase_add_test(tc, test_slots_and_eventfds);
    tcase_add_test(tc, test_mark_pick);
    suite_add_tcase(s, tc);

    tcase_set_timeout(procs, 60);
    tcase_add_test(procs, test_many_producers_many_consumers);
    tcase_add_test(procs, test_producer_killed_holding_lock);
    tcase_add_test(procs, test_producer_killed_mid_publish);
    suite_add_tcase(s, procs);
    return s;
}

int main(void)
{
    return check_run(ring_suite());
}
