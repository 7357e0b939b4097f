/*
 * tests/unit/shm/test_cluster_view.c - src/shm/cluster_view.c (and its section of the
 * node's region) across real forked processes: a writer publishing as fast as it can
 * while readers check every copy they get, and a writer SIGKILLed mid-publish.
 *
 * Views are self-describing: a view of generation g has (g % 64) + 1 members; member i
 * carries seed = g * 64 + i in last_seen_at, ~seed in start_at, and every string field
 * filled from a stream derived from the seed, so a reader can recompute the whole view
 * from g (in updated_at) and spot any byte that belongs to another generation.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "shm/cluster_view.h"
#include "shm/region.h"
#include "../fork_support.h"
#include "../check_main.h"

#define REGION_BYTES (8u << 20)
#define READERS      2
#define RUN_MS       1500

/* ---- self-describing views -------------------------------------------------------- */

static void stream_fill(char *p, size_t len, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;

    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (char)('a' + x % 26); /* printable, never NUL */
    }
    p[len] = '\0';
}

static void member_make(cluster_view_member_t *m, uint64_t seed)
{
    memset(m, 0, sizeof(*m));
    stream_fill(m->id, sizeof(m->id) - 1, seed);
    stream_fill(m->version, sizeof(m->version) - 1, seed + 1);
    stream_fill(m->config_hash, sizeof(m->config_hash) - 1, seed + 2);
    stream_fill(m->ipaddress, sizeof(m->ipaddress) - 1, seed + 3);
    stream_fill(m->hostname, sizeof(m->hostname) - 1, seed + 4);
    m->schema_version = (uint32_t)seed;
    m->gossip_port = (uint16_t)seed;
    m->streaming_port = (uint16_t)~seed;
    m->alive = seed & 1;
    m->green = seed & 2;
    m->last_seen_at = (int64_t)seed;
    m->start_at = (int64_t)~seed;
    m->reason_count = CLUSTER_VIEW_REASONS_MAX;
    for (unsigned i = 0; i < CLUSTER_VIEW_REASONS_MAX; i++)
        stream_fill(m->reasons[i], CLUSTER_VIEW_REASON_LEN - 1, seed + 5 + i);
}

static void view_make(cluster_view_data_t *d, uint64_t gen)
{
    memset(d, 0, offsetof(cluster_view_data_t, members)); /* padding too: views compare bytewise */
    d->enabled = true;
    d->updated_at = (int64_t)gen;
    d->count = (uint32_t)(gen % CLUSTER_VIEW_MEMBERS_MAX) + 1;
    d->alive_count = d->count;
    d->dropped_packets = gen ^ 0x5A5A5A5AULL;
    stream_fill(d->leader_id, sizeof(d->leader_id) - 1, gen);
    for (uint32_t i = 0; i < d->count; i++)
        member_make(&d->members[i], gen * CLUSTER_VIEW_MEMBERS_MAX + i);
}

/* 0 when `got` is exactly the view of its generation, -1 when torn. */
static int view_check(const cluster_view_data_t *got, cluster_view_data_t *scratch)
{
    uint64_t gen = (uint64_t)got->updated_at;

    view_make(scratch, gen);
    if (memcmp(got, scratch, offsetof(cluster_view_data_t, members)) != 0)
        return -1;
    return memcmp(got->members, scratch->members, got->count * sizeof(got->members[0])) == 0 ? 0 : -1;
}

static cluster_view_t *node_view(shm_region_t *region)
{
    ck_assert_int_eq(shm_region_create_node(region, REGION_BYTES, 0), 0);
    cluster_view_t *view = shm_region_cluster(region);
    ck_assert_ptr_nonnull(view);
    return view;
}

/* ---- basics ----------------------------------------------------------------------- */

START_TEST(test_region_section)
{
    shm_region_t region;
    cluster_view_t *view = node_view(&region);
    shm_header_t *hdr = shm_region_header(&region);
    size_t size = 0;
    static cluster_view_data_t copy;

    ck_assert_uint_eq(hdr->layout_version, SHM_LAYOUT_VERSION);
    ck_assert_ptr_eq(shm_region_section(&region, SHM_SECTION_CLUSTER, &size), view);
    ck_assert_uint_ge(size, cluster_view_footprint());
    ck_assert_uint_eq(hdr->sections[SHM_SECTION_CLUSTER].offset % SHM_SECTION_ALIGN, 0);
    /* sections never overlap: the view ends before every other section starts, or
     * starts after it ends */
    for (int i = 0; i < SHM_SECTION_COUNT; i++) {
        if (i == SHM_SECTION_CLUSTER)
            continue;
        uint64_t a0 = hdr->sections[SHM_SECTION_CLUSTER].offset, a1 = a0 + size;
        uint64_t b0 = hdr->sections[i].offset, b1 = b0 + hdr->sections[i].size;
        ck_assert(a1 <= b0 || b1 <= a0);
    }
    /* never written: a consistent, empty view */
    ck_assert_int_eq(cluster_view_read(view, &copy), 0);
    ck_assert_int_eq(copy.updated_at, 0);
    ck_assert_uint_eq(copy.count, 0);
    ck_assert(!copy.enabled);
    shm_region_destroy(&region);

    /* a ring-only region has no view */
    ck_assert_int_eq(shm_region_create(&region, 3u << 20), 0);
    ck_assert_ptr_null(shm_region_cluster(&region));
    shm_region_destroy(&region);
    ck_assert_ptr_null(shm_region_cluster(&region));
}
END_TEST

START_TEST(test_publish_and_read)
{
    static cluster_view_t view;
    static cluster_view_data_t in, out, scratch;

    cluster_view_init(&view);
    for (uint64_t gen = 1; gen <= 3 * CLUSTER_VIEW_MEMBERS_MAX; gen++) {
        view_make(&in, gen);
        cluster_view_publish(&view, &in);
        ck_assert_uint_eq(view.seq % 2, 0);
        ck_assert_int_eq(cluster_view_read(&view, &out), 0);
        ck_assert_int_eq(view_check(&out, &scratch), 0);
        ck_assert_uint_eq(out.count, in.count);
    }
    ck_assert_uint_eq(view.seq, 2 * 3 * CLUSTER_VIEW_MEMBERS_MAX);

    /* a count past the table is clamped, never copied past it */
    view_make(&in, CLUSTER_VIEW_MEMBERS_MAX - 1);
    in.count = CLUSTER_VIEW_MEMBERS_MAX + 100;
    cluster_view_publish(&view, &in);
    ck_assert_int_eq(cluster_view_read(&view, &out), 0);
    ck_assert_uint_eq(out.count, CLUSTER_VIEW_MEMBERS_MAX);

    /* a write in progress (seq odd) reads as unavailable */
    view.seq++;
    ck_assert_int_eq(cluster_view_read(&view, &out), -EAGAIN);
    view_make(&in, 7);
    cluster_view_publish(&view, &in);
    ck_assert_uint_eq(view.seq % 2, 0);
    ck_assert_int_eq(cluster_view_read(&view, &out), 0);
    ck_assert_int_eq(view_check(&out, &scratch), 0);
    ck_assert_int_eq(out.updated_at, 7);
}
END_TEST

/* ---- one writer, many readers ------------------------------------------------------ */

typedef struct {
    uint64_t good;  /* consistent copies */
    uint64_t again; /* -EAGAIN */
    uint64_t torn;  /* copies that did not check: must stay 0 */
    uint64_t other; /* any other result: must stay 0 */
    uint64_t generations;
} reader_stats_t;

typedef struct {
    uint32_t stop;
    uint32_t readers_ready;
    reader_stats_t readers[READERS];
    uint64_t published;
} shared_t;

static int reader_main(cluster_view_t *view, shared_t *sh, int idx)
{
    static cluster_view_data_t copy, scratch;
    reader_stats_t *st = &sh->readers[idx];
    int64_t last_gen = -1;

    __atomic_add_fetch(&sh->readers_ready, 1, __ATOMIC_ACQ_REL);
    while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE)) {
        int rc = cluster_view_read(view, &copy);
        if (rc == -EAGAIN) {
            st->again++;
            continue;
        }
        if (rc != 0) {
            st->other++;
            continue;
        }
        if (copy.updated_at == 0)
            continue; /* not written yet */
        if (view_check(&copy, &scratch) != 0) {
            st->torn++;
            continue;
        }
        st->good++;
        if (copy.updated_at != last_gen)
            st->generations++;
        last_gen = copy.updated_at;
    }
    return 0;
}

static int writer_main(cluster_view_t *view, shared_t *sh)
{
    static cluster_view_data_t in;
    const struct timespec pause = {0, 20 * 1000};

    for (uint64_t gen = 1; !__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE); gen++) {
        view_make(&in, gen);
        cluster_view_publish(view, &in);
        __atomic_store_n(&sh->published, gen, __ATOMIC_RELEASE);
        /* back to back most of the time; a short breath now and then so readers on a
         * busy machine also get whole views, not only -EAGAIN */
        if (gen % 8 == 0)
            nanosleep(&pause, NULL);
    }
    return 0;
}

START_TEST(test_concurrent_readers_never_torn)
{
    shm_region_t region;
    cluster_view_t *view = node_view(&region);
    shared_t *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t readers[READERS], writer;
    uint64_t deadline = now_ms() + 5000;

    ck_assert_ptr_ne(sh, MAP_FAILED);
    memset(sh, 0, sizeof(*sh));
    for (int i = 0; i < READERS; i++) {
        readers[i] = fork();
        ck_assert_int_ge(readers[i], 0);
        if (readers[i] == 0)
            _exit(reader_main(view, sh, i));
    }
    while (__atomic_load_n(&sh->readers_ready, __ATOMIC_ACQUIRE) < READERS) {
        ck_assert(now_ms() < deadline);
        usleep(100);
    }
    writer = fork();
    ck_assert_int_ge(writer, 0);
    if (writer == 0)
        _exit(writer_main(view, sh));
    usleep(RUN_MS * 1000);
    __atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
    ck_assert_int_eq(child_wait(writer), 0);
    for (int i = 0; i < READERS; i++)
        ck_assert_int_eq(child_wait(readers[i]), 0);

    for (int i = 0; i < READERS; i++) {
        const reader_stats_t *st = &sh->readers[i];
        fprintf(stderr,
                "reader %d: %" PRIu64 " good (%" PRIu64 " generations), %" PRIu64 " again, %" PRIu64 " torn of %" PRIu64
                " published\n",
                i, st->good, st->generations, st->again, st->torn, sh->published);
        ck_assert_uint_eq(st->torn, 0);
        ck_assert_uint_eq(st->other, 0);
        ck_assert_uint_gt(st->good, 0);
        ck_assert_uint_gt(st->generations, 1);
    }
    ck_assert_uint_gt(sh->published, 100);
    ck_assert_int_eq(munmap(sh, sizeof(*sh)), 0);
    shm_region_destroy(&region);
}
END_TEST

/* ---- a writer killed mid-publish ------------------------------------------------- */

#define KILL_ROUNDS_MAX 500

static void victim_main(cluster_view_t *view, uint32_t *started)
{
    static cluster_view_data_t in;

    /* full views, so most of the time is spent inside the copy */
    view_make(&in, CLUSTER_VIEW_MEMBERS_MAX - 1);
    __atomic_store_n(started, 1, __ATOMIC_RELEASE);
    for (;;)
        cluster_view_publish(view, &in);
}

START_TEST(test_writer_killed_mid_write)
{
    shm_region_t region;
    cluster_view_t *view = node_view(&region);
    uint32_t *started = mmap(NULL, sizeof(*started), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    static cluster_view_data_t in, out, scratch;
    int round;

    ck_assert_ptr_ne(started, MAP_FAILED);
    for (round = 0; round < KILL_ROUNDS_MAX; round++) {
        uint64_t deadline = now_ms() + 5000;
        *started = 0;
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0)
            victim_main(view, started);
        while (!__atomic_load_n(started, __ATOMIC_ACQUIRE)) {
            ck_assert(now_ms() < deadline);
            usleep(50);
        }
        usleep((useconds_t)(100 + round % 7 * 37));
        ck_assert_int_eq(kill(pid, SIGKILL), 0);
        ck_assert_int_eq(child_wait(pid), 128 + SIGKILL);
        if (__atomic_load_n(&view->seq, __ATOMIC_ACQUIRE) % 2 == 1)
            break;
    }
    ck_assert_msg(round < KILL_ROUNDS_MAX, "no kill landed mid-write in %d rounds", KILL_ROUNDS_MAX);
    fprintf(stderr, "writer killed mid-write after %d rounds, seq %" PRIu64 "\n", round + 1, view->seq);

    /* readers give up quickly, in this process and in another one */
    uint64_t t0 = now_ms();
    ck_assert_int_eq(cluster_view_read(view, &out), -EAGAIN);
    ck_assert_uint_lt(now_ms() - t0, 50);
    pid_t reader = fork();
    ck_assert_int_ge(reader, 0);
    if (reader == 0)
        _exit(cluster_view_read(view, &out) == -EAGAIN ? 0 : 1);
    ck_assert_int_eq(child_wait(reader), 0);

    /* the next writer (a respawned cluster child) recovers the view */
    uint64_t odd = view->seq;
    pid_t writer = fork();
    ck_assert_int_ge(writer, 0);
    if (writer == 0) {
        view_make(&in, 12345);
        cluster_view_publish(view, &in);
        _exit(0);
    }
    ck_assert_int_eq(child_wait(writer), 0);
    ck_assert_uint_eq(view->seq % 2, 0);
    ck_assert_uint_gt(view->seq, odd + 1); /* never the even value the dead writer would have left */
    ck_assert_int_eq(cluster_view_read(view, &out), 0);
    ck_assert_int_eq(out.updated_at, 12345);
    ck_assert_int_eq(view_check(&out, &scratch), 0);

    ck_assert_int_eq(munmap(started, sizeof(*started)), 0);
    shm_region_destroy(&region);
}
END_TEST

/* ---- suite ------------------------------------------------------------------------ */

static Suite *cluster_view_suite(void)
{
    Suite *s = suite_create("shm_cluster_view");
    TCase *tc = tcase_create("core");
    TCase *procs = tcase_create("processes");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_region_section);
    tcase_add_test(tc, test_publish_and_read);
    suite_add_tcase(s, tc);

    tcase_set_timeout(procs, 60);
    tcase_add_test(procs, test_concurrent_readers_never_torn);
    tcase_add_test(procs, test_writer_killed_mid_write);
    suite_add_tcase(s, procs);
    return s;
}

int main(void)
{
    return check_run(cluster_view_suite());
}
