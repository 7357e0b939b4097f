/*
 * tests/unit/shm/test_cache.c - src/shm/cache.c (and src/shm/sessions.c) across real
 * forked processes: layout and capacity, round trips, key limits, clock eviction made
 * deterministic by constructing keys of one bucket, the hit/miss counters, concurrent
 * writers and readers, and processes SIGKILLed while holding a stripe lock.
 *
 * Values are self-describing: they carry their key, a seed and a checksum over every
 * byte, so a reader detects a torn value and a value that belongs to another key.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shm/cache.h"
#include "shm/sessions.h"
#include "../fork_support.h"
#include "../check_main.h"

/* ---- helpers ---------------------------------------------------------------------- */

/* The hash of cache.c (FNV-1a, 0 reserved for free entries): a key's bucket is
 * hash & (buckets - 1), so tests can construct keys that collide on purpose. */
static uint64_t fnv1a(const char *key)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *key != '\0'; key++) {
        h ^= (uint8_t)*key;
        h *= 1099511628211ULL;
    }
    return h == 0 ? 1 : h;
}

static size_t bucket_of(const char *key, size_t buckets)
{
    return (size_t)(fnv1a(key) & (buckets - 1));
}

typedef struct {
    void *mem;
    size_t bytes;
    shm_cache_t *cache;
    size_t capacity;
    size_t buckets;
} tcache_t;

/* A cache in `bytes` of MAP_SHARED memory, shared with every child forked later. */
static shm_cache_t *tcache_new(tcache_t *t, size_t bytes, size_t value_size)
{
    shm_cache_stats_t st;

    t->bytes = bytes;
    t->mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(t->mem, MAP_FAILED);
    t->cache = shm_cache_init(t->mem, bytes, value_size);
    ck_assert_ptr_nonnull(t->cache);
    shm_cache_get_stats(t->cache, &st);
    t->capacity = st.capacity;
    t->buckets = st.capacity / 8;
    ck_assert_uint_gt(t->buckets, 0);
    return t->cache;
}

static void tcache_free(tcache_t *t)
{
    ck_assert_int_eq(munmap(t->mem, t->bytes), 0);
}

/* The `n`th key (in order of a brute-force search) whose bucket is `bucket`. */
static void key_in_bucket(char *key, size_t size, const char *prefix, size_t bucket, size_t buckets, unsigned n)
{
    for (unsigned i = 0;; i++) {
        snprintf(key, size, "%s%u", prefix, i);
        if (bucket_of(key, buckets) == bucket && n-- == 0)
            return;
    }
}

/* A checksummed value of TVAL_WORDS words, naming its key. */
#define TVAL_WORDS 60

typedef struct {
    char key[SHM_CACHE_KEY_MAX + 8];
    uint64_t seed;
    uint64_t words[TVAL_WORDS];
    uint64_t sum;
} tval_t;

static uint64_t tval_sum(const tval_t *v)
{
    const uint8_t *p = (const uint8_t *)v;
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < offsetof(tval_t, sum); i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void tval_make(tval_t *v, const char *key, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;

    memset(v, 0, sizeof(*v));
    snprintf(v->key, sizeof(v->key), "%s", key);
    v->seed = seed;
    for (int i = 0; i < TVAL_WORDS; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v->words[i] = x;
    }
    v->sum = tval_sum(v);
}

/* 0 when `v` is intact and belongs to `key`; 1 when torn; 2 when another key's. */
static int tval_check(const tval_t *v, const char *key)
{
    if (v->sum != tval_sum(v))
        return 1;
    return strcmp(v->key, key) == 0 ? 0 : 2;
}

/* Reads a value without marking it referenced (update() leaves the clock alone). */
static void copy_out(void *value, void *arg)
{
    memcpy(arg, value, sizeof(tval_t));
}

static bool peek(shm_cache_t *c, const char *key, tval_t *out)
{
    return shm_cache_update(c, key, copy_out, out);
}

static void add_seed(void *value, void *arg)
{
    tval_t *v = value;

    v->seed += *(uint64_t *)arg;
    v->sum = tval_sum(v);
}

static bool match_all(const void *value, void *arg)
{
    (void)value;
    (void)arg;
    return true;
}

static void wait_flag(uint32_t *flag)
{
    uint64_t deadline = now_ms() + 5000;

    while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
        ck_assert_msg(now_ms() < deadline, "child never got there");
        usleep(100);
    }
}

/* ---- init ------------------------------------------------------------------------- */

static size_t capacity_for(size_t bytes, size_t value_size)
{
    void *mem = malloc(bytes + 1);
    shm_cache_stats_t st = {0};
    shm_cache_t *c;

    ck_assert_ptr_nonnull(mem);
    c = shm_cache_init(mem, bytes, value_size);
    if (c != NULL)
        shm_cache_get_stats(c, &st);
    free(mem);
    return c == NULL ? 0 : st.capacity;
}

/* The fewest bytes that give at least `capacity` entries. */
static size_t bytes_for(size_t capacity, size_t value_size)
{
    size_t lo = 0, hi = 1 << 20;

    ck_assert_uint_ge(capacity_for(hi, value_size), capacity);
    while (lo + 1 < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (capacity_for(mid, value_size) >= capacity)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

START_TEST(test_init_sizes)
{
    const size_t value_sizes[] = {1, 8, sizeof(tval_t), sizeof(shm_session_t), 1000};
    uint8_t small[64];

    ck_assert_ptr_null(shm_cache_init(NULL, 1 << 20, 8));
    ck_assert_ptr_null(shm_cache_init(small, 0, 8));
    ck_assert_ptr_null(shm_cache_init(small, sizeof(small), 8));

    for (size_t i = 0; i < sizeof(value_sizes) / sizeof(value_sizes[0]); i++) {
        size_t vs = value_sizes[i];
        size_t one = bytes_for(8, vs), two = bytes_for(16, vs);
        size_t bucket = two - one, header = one - bucket;

        /* Below one bucket: NULL; at one bucket: exactly SHM_CACHE_WAYS entries. */
        ck_assert_uint_eq(capacity_for(one - 1, vs), 0);
        ck_assert_uint_eq(capacity_for(one, vs), 8);
        ck_assert_uint_eq(capacity_for(two - 1, vs), 8);
        /* A bucket holds 8 keys and 8 values. */
        ck_assert_uint_ge(bucket, 8 * (vs + SHM_CACHE_KEY_MAX + 1));
        ck_assert_uint_lt(bucket, 8 * (vs + SHM_CACHE_KEY_MAX + 1 + 64));

        /* Any size: buckets x 8 entries, a power of two of buckets, the most that fit. */
        for (size_t bytes = one; bytes < one + 70 * bucket; bytes += bucket / 3 + 7) {
            void *mem = malloc(bytes + 64);
            shm_cache_stats_t st;
            shm_cache_t *c;
            size_t buckets;

            ck_assert_ptr_nonnull(mem);
            memset(mem, 0xA5, bytes + 64);
            c = shm_cache_init(mem, bytes, vs);
            ck_assert_ptr_nonnull(c);
            shm_cache_get_stats(c, &st);
            ck_assert_uint_eq(st.capacity % 8, 0);
            buckets = st.capacity / 8;
            ck_assert_uint_eq(buckets & (buckets - 1), 0);
            ck_assert_uint_le(header + buckets * bucket, bytes);
            ck_assert_uint_gt(header + 2 * buckets * bucket, bytes);
            ck_assert_uint_eq(st.hits + st.misses + st.evictions + st.repairs, 0);
            /* Filling every way writes nothing past `bytes`. */
            if (vs == sizeof(tval_t)) {
                tval_t v;

                tval_make(&v, "fill", 0);
                for (unsigned k = 0; k < 4 * st.capacity; k++) {
                    char key[24];

                    snprintf(key, sizeof(key), "fill%u", k);
                    ck_assert_int_eq(shm_cache_put(c, key, &v), 0);
                }
            }
            for (size_t b = bytes; b < bytes + 64; b++)
                ck_assert_uint_eq(((uint8_t *)mem)[b], 0xA5);
            free(mem);
        }
    }
}
END_TEST

/* ---- single process --------------------------------------------------------------- */

START_TEST(test_round_trip)
{
    tcache_t t;
    shm_cache_t *c = tcache_new(&t, 256 << 10, sizeof(tval_t));
    const char *id = "ybndrfg8ejkmcpqxot1uwisza3"; /* 26: an id */
    const char *k32 = "0123456789abcdef0123456789abcdef";
    const char *k33 = "0123456789abcdef0123456789abcdefX";
    char k31[32];
    uint64_t delta = 5;
    tval_t v, out;

    ck_assert_uint_eq(strlen(id), 26);
    ck_assert_uint_eq(strlen(k32), SHM_CACHE_KEY_MAX);
    snprintf(k31, sizeof(k31), "%.*s", SHM_CACHE_KEY_MAX - 1, k32);

    ck_assert(!shm_cache_get(c, id, &out));
    ck_assert(!shm_cache_remove(c, id));
    ck_assert(!shm_cache_update(c, id, add_seed, &delta));

    tval_make(&v, id, 1);
    ck_assert_int_eq(shm_cache_put(c, id, &v), 0);
    memset(&out, 0, sizeof(out));
    ck_assert(shm_cache_get(c, id, &out));
    ck_assert_int_eq(memcmp(&out, &v, sizeof(v)), 0);

    /* update runs under the lock on the stored value. */
    ck_assert(shm_cache_update(c, id, add_seed, &delta));
    ck_assert(shm_cache_get(c, id, &out));
    ck_assert_uint_eq(out.seed, 6);
    ck_assert_int_eq(tval_check(&out, id), 0);

    /* Replacing keeps one entry. */
    for (uint64_t s = 10; s < 20; s++) {
        tval_make(&v, id, s);
        ck_assert_int_eq(shm_cache_put(c, id, &v), 0);
    }
    ck_assert(shm_cache_get(c, id, &out));
    ck_assert_int_eq(memcmp(&out, &v, sizeof(v)), 0);
    ck_assert(shm_cache_remove(c, id));
    ck_assert(!shm_cache_get(c, id, &out));
    ck_assert(!shm_cache_remove(c, id));
    ck_assert(!shm_cache_update(c, id, add_seed, &delta));

    /* 32 characters is the limit; a 31-character prefix is another key. */
    tval_make(&v, k32, 32);
    ck_assert_int_eq(shm_cache_put(c, k32, &v), 0);
    ck_assert(!shm_cache_get(c, k31, &out));
    tval_make(&v, k31, 31);
    ck_assert_int_eq(shm_cache_put(c, k31, &v), 0);
    ck_assert(shm_cache_get(c, k32, &out));
    ck_assert_int_eq(tval_check(&out, k32), 0);
    ck_assert_uint_eq(out.seed, 32);
    ck_assert(shm_cache_get(c, k31, &out));
    ck_assert_int_eq(tval_check(&out, k31), 0);
    ck_assert_uint_eq(out.seed, 31);

    /* Longer keys are rejected, and never mistaken for their 32-character prefix. */
    tval_make(&v, k33, 33);
    ck_assert_int_eq(shm_cache_put(c, k33, &v), -EINVAL);
    ck_assert(!shm_cache_get(c, k33, &out));
    ck_assert(!shm_cache_update(c, k33, add_seed, &delta));
    ck_assert(!shm_cache_remove(c, k33));
    ck_assert(shm_cache_get(c, k32, &out));
    ck_assert_uint_eq(out.seed, 32);

    /* Exactly the distinct keys are stored: remove_if counts them. */
    tval_make(&v, id, 1);
    ck_assert_int_eq(shm_cache_put(c, id, &v), 0);
    ck_assert_int_eq(shm_cache_put(c, id, &v), 0);
    ck_assert_uint_eq(shm_cache_remove_if(c, match_all, NULL), 3);
    ck_assert_uint_eq(shm_cache_remove_if(c, match_all, NULL), 0);
    ck_assert(!shm_cache_get(c, k32, &out));
    tcache_free(&t);
}
END_TEST

START_TEST(test_hits_misses)
{
    tcache_t t;
    shm_cache_t *c = tcache_new(&t, 64 << 10, sizeof(tval_t));
    shm_cache_stats_t st;
    tval_t v;

    shm_cache_get_stats(c, &st);
    ck_assert_uint_eq(st.hits + st.misses + st.evictions + st.repairs, 0);
    ck_assert(!shm_cache_get(c, "a", &v));
    ck_assert(!shm_cache_get(c, "b", &v));
    tval_make(&v, "a", 1);
    ck_assert_int_eq(shm_cache_put(c, "a", &v), 0);
    for (int i = 0; i < 3; i++)
        ck_assert(shm_cache_get(c, "a", &v));
    ck_assert(!shm_cache_get(c, "b", &v));
    shm_cache_get_stats(c, &st);
    ck_assert_uint_eq(st.hits, 3);
    ck_assert_uint_eq(st.misses, 3);
    ck_assert_uint_eq(st.evictions, 0);
    ck_assert_uint_eq(st.repairs, 0);
    tcache_free(&t);
}
END_TEST

/* put_newer: absent → inserted; present → replaced only when newer() says so. */
static bool newer_int(const void *candidate, const void *current)
{
    return *(const int64_t *)candidate > *(const int64_t *)current;
}

START_TEST(test_put_newer)
{
    tcache_t t;
    shm_cache_t *c = tcache_new(&t, 64 << 10, sizeof(int64_t));
    int64_t v = 5, out = 0;

    ck_assert_int_eq(shm_cache_put_newer(c, "k", &v, newer_int), 0);
    ck_assert(shm_cache_get(c, "k", &out));
    ck_assert_int_eq(out, 5);
    v = 3; /* an older row read late: ignored */
    ck_assert_int_eq(shm_cache_put_newer(c, "k", &v, newer_int), 0);
    ck_assert(shm_cache_get(c, "k", &out));
    ck_assert_int_eq(out, 5);
    v = 5; /* the same version again: kept as is */
    ck_assert_int_eq(shm_cache_put_newer(c, "k", &v, newer_int), 0);
    v = 9;
    ck_assert_int_eq(shm_cache_put_newer(c, "k", &v, newer_int), 0);
    ck_assert(shm_cache_get(c, "k", &out));
    ck_assert_int_eq(out, 9);
    v = 1; /* plain put always replaces */
    ck_assert_int_eq(shm_cache_put(c, "k", &v), 0);
    ck_assert(shm_cache_get(c, "k", &out));
    ck_assert_int_eq(out, 1);
    tcache_free(&t);
}
END_TEST

/* ---- eviction --------------------------------------------------------------------- */

START_TEST(test_eviction_never_wrong_value)
{
    tcache_t t;
    shm_cache_t *c = tcache_new(&t, bytes_for(128, sizeof(tval_t)), sizeof(tval_t));
    size_t n = 20 * t.capacity, present = 0;
    shm_cache_stats_t st;
    char key[32];
    tval_t v;

    ck_assert_uint_eq(t.capacity, 128);
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "evict%zu", i);
        tval_make(&v, key, i);
        ck_assert_int_eq(shm_cache_put(c, key, &v), 0);
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "evict%zu", i);
        if (shm_cache_get(c, key, &v)) {
            ck_assert_int_eq(tval_check(&v, key), 0);
            ck_assert_uint_eq(v.seed, i);
            present++;
        }
    }
    shm_cache_get_stats(c, &st);
    /* Every insert of a new key took a free way or evicted exactly one entry. */
    ck_assert_uint_eq(st.evictions + present, n);
    ck_assert_uint_eq(present, t.capacity); /* 20x overfilled: every way is used */
    ck_assert_uint_eq(st.hits, present);
    ck_assert_uint_eq(st.misses, n - present);
    tcache_free(&t);
}
END_TEST

/* Keys that all land in one bucket make the clock deterministic: referenced entries
 * get a second chance, unreferenced ones go first, whatever the hand's position. */
START_TEST(test_clock_second_chance)
{
    tcache_t t;
    shm_cache_t *c = tcache_new(&t, bytes_for(64 * 8, sizeof(tval_t)), sizeof(tval_t));
    char old[8][16], young[4][16], third[4][16];
    size_t bucket = 37;
    shm_cache_stats_t st;
    tval_t v;

    ck_assert_uint_eq(t.buckets, 64);
    for (unsigned i = 0; i < 8; i++)
        key_in_bucket(old[i], sizeof(old[i]), "o", bucket, t.buckets, i);
    for (unsigned i = 0; i < 4; i++) {
        key_in_bucket(young[i], sizeof(young[i]), "y", bucket, t.buckets, i);
        key_in_bucket(third[i], sizeof(third[i]), "t", bucket, t.buckets, i);
    }
    for (unsigned i = 0; i < 8; i++) {
        tval_make(&v, old[i], i);
        ck_assert_int_eq(shm_cache_put(c, old[i], &v), 0);
    }
    shm_cache_get_stats(c, &st);
    ck_assert_uint_eq(st.evictions, 0);

    /* Read old[0..3]; four inserts then evict exactly old[4..7]. */
    for (unsigned i = 0; i < 4; i++)
        ck_assert(shm_cache_get(c, old[i], &v));
    for (unsigned i = 0; i < 4; i++) {
        tval_make(&v, young[i], 100 + i);
        ck_assert_int_eq(shm_cache_put(c, young[i], &v), 0);
    }
    shm_cache_get_stats(c, &st);
    ck_assert_uint_eq(st.evictions, 4);
    for (unsigned i = 0; i < 8; i++)
        ck_assert_msg(peek(c, old[i], &v) == (i < 4), "old[%u] %s", i, i < 4 ? "evicted" : "kept");
    for (unsigned i = 0; i < 4; i++) {
        ck_assert(peek(c, young[i], &v));
        ck_assert_int_eq(tval_check(&v, young[i]), 0);
    }

    /* The sweep spent old[0..3]'s second chance; now read young[0..3] instead. */
    for (unsigned i = 0; i < 4; i++)
        ck_assert(shm_cache_get(c, young[i], &v));
    for (unsigned i = 0; i < 4; i++) {
        tval_make(&v, third[i], 200 + i);
        ck_assert_int_eq(shm_cache_put(c, third[i], &v), 0);
    }
    shm_cache_get_stats(c, &st);
    ck_assert_uint_eq(st.evictions, 8);
    for (unsigned i = 0; i < 4; i++) {
        ck_assert_msg(!peek(c, old[i], &v), "old[%u] kept", i);
        ck_assert_msg(peek(c, young[i], &v), "young[%u] evicted", i);
        ck_assert_msg(peek(c, third[i], &v), "third[%u] evicted", i);
        ck_assert_int_eq(tval_check(&v, third[i]), 0);
    }
    tcache_free(&t);
}
END_TEST

/* ---- sessions --------------------------------------------------------------------- */

static void session_make(shm_session_t *s, const char *session_id, const char *user_id)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->session_id, sizeof(s->session_id), "%s", session_id);
    snprintf(s->user_id, sizeof(s->user_id), "%s", user_id);
    snprintf(s->csrf, sizeof(s->csrf), "csrf");
    snprintf(s->roles, sizeof(s->roles), "system_user");
    s->expires_at = 4102444800000;
}

START_TEST(test_sessions_remove_user)
{
    static const char *users[] = {
        "aaaaaaaaaaaaaaaaaaaaaaaaaa",
        "aaaaaaaaaaaaaaaaaaaaaaaaab", /* differs in the last character */
        "bbbbbbbbbbbbbbbbbbbbbbbbbb",
        "cccccccccccccccccccccccccc",
    };
    static const unsigned per_user[] = {40, 25, 1, 60};
    tcache_t t;
    shm_cache_t *c = tcache_new(&t, bytes_for(4096, sizeof(shm_session_t)), sizeof(shm_session_t));
    unsigned n = 0;
    shm_session_t s;
    char token[32];

    for (unsigned u = 0; u < 4; u++) {
        for (unsigned i = 0; i < per_user[u]; i++, n++) {
            snprintf(token, sizeof(token), "tok%023u", n * 2654435761u);
            ck_assert_uint_eq(strlen(token), 26);
            session_make(&s, token, users[u]);
            ck_assert_int_eq(shm_cache_put(c, token, &s), 0);
        }
    }
    ck_assert_uint_eq(shm_sessions_remove_user(c, "nobody"), 0);
    ck_assert_uint_eq(shm_sessions_remove_user(c, "aaaaaaaaaaaaaaaaaaaaaaaaa"), 0); /* a prefix */
    ck_assert_uint_eq(shm_sessions_remove_user(c, users[0]), per_user[0]);
    ck_assert_uint_eq(shm_sessions_remove_user(c, users[0]), 0);
    ck_assert_uint_eq(shm_sessions_remove_user(c, users[2]), per_user[2]);

    n = 0;
    for (unsigned u = 0; u < 4; u++) {
        for (unsigned i = 0; i < per_user[u]; i++, n++) {
            bool gone = u == 0 || u == 2;

            snprintf(token, sizeof(token), "tok%023u", n * 2654435761u);
            ck_assert_msg(shm_cache_get(c, token, &s) != gone, "session %u of user %u", i, u);
            if (!gone) {
                ck_assert_str_eq(s.session_id, token);
                ck_assert_str_eq(s.user_id, users[u]);
            }
        }
    }
    ck_assert_uint_eq(shm_sessions_remove_user(c, users[1]), per_user[1]);
    ck_assert_uint_eq(shm_sessions_remove_user(c, users[3]), per_user[3]);
    ck_assert_uint_eq(shm_cache_remove_if(c, match_all, NULL), 0);
    tcache_free(&t);
}
END_TEST

/* ---- concurrent processes --------------------------------------------------------- */

#define CONC_WRITERS 4
#define CONC_READERS 4
#define CONC_KEYS    96
#define CONC_MS      600

typedef struct {
    uint32_t stop;
    uint64_t gets[CONC_READERS], hits[CONC_READERS], bad[CONC_READERS];
    uint64_t puts[CONC_WRITERS];
} conc_t;

static void conc_key(char *key, size_t size, unsigned i)
{
    snprintf(key, size, "conc-%u", i);
}

static void conc_writer(shm_cache_t *c, conc_t *ctl, unsigned id)
{
    uint64_t x = 88172645463325252ULL + id, one = 1, n = 0;
    char key[24];
    tval_t v;

    while (!__atomic_load_n(&ctl->stop, __ATOMIC_ACQUIRE)) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        conc_key(key, sizeof(key), (unsigned)(x % CONC_KEYS));
        switch (x >> 60) {
        case 0: (void)shm_cache_remove(c, key); break;
        case 1: (void)shm_cache_update(c, key, add_seed, &one); break;
        case 2:
            if (id == 0 && (n & 63) == 0)
                (void)shm_cache_remove_if(c, match_all, NULL);
            break;
        default:
            tval_make(&v, key, x);
            if (shm_cache_put(c, key, &v) != 0)
                _exit(2);
            n++;
        }
    }
    ctl->puts[id] = n;
    _exit(0);
}

static void conc_reader(shm_cache_t *c, conc_t *ctl, unsigned id)
{
    uint64_t gets = 0, hits = 0, bad = 0;
    char key[24];
    tval_t v;

    while (!__atomic_load_n(&ctl->stop, __ATOMIC_ACQUIRE)) {
        conc_key(key, sizeof(key), (unsigned)((gets * 7 + id) % CONC_KEYS));
        gets++;
        if (shm_cache_get(c, key, &v)) {
            hits++;
            if (tval_check(&v, key) != 0)
                bad++;
        }
    }
    ctl->gets[id] = gets;
    ctl->hits[id] = hits;
    ctl->bad[id] = bad;
    _exit(0);
}

START_TEST(test_concurrent_writers_readers)
{
    tcache_t t;
    /* 64 entries for 96 keys: evictions under contention too. */
    shm_cache_t *c = tcache_new(&t, bytes_for(64, sizeof(tval_t)), sizeof(tval_t));
    conc_t *ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t writers[CONC_WRITERS], readers[CONC_READERS];
    uint64_t gets = 0, hits = 0, puts = 0;
    shm_cache_stats_t st;
    char key[24];
    tval_t v;

    ck_assert_ptr_ne(ctl, MAP_FAILED);
    memset(ctl, 0, sizeof(*ctl));
    for (unsigned i = 0; i < CONC_WRITERS; i++) {
        writers[i] = fork();
        ck_assert_int_ge(writers[i], 0);
        if (writers[i] == 0)
            conc_writer(c, ctl, i);
    }
    for (unsigned i = 0; i < CONC_READERS; i++) {
        readers[i] = fork();
        ck_assert_int_ge(readers[i], 0);
        if (readers[i] == 0)
            conc_reader(c, ctl, i);
    }
    usleep(CONC_MS * 1000);
    __atomic_store_n(&ctl->stop, 1, __ATOMIC_RELEASE);
    for (unsigned i = 0; i < CONC_WRITERS; i++)
        ck_assert_int_eq(child_wait(writers[i]), 0);
    for (unsigned i = 0; i < CONC_READERS; i++)
        ck_assert_int_eq(child_wait(readers[i]), 0);
    for (unsigned i = 0; i < CONC_READERS; i++) {
        ck_assert_msg(ctl->bad[i] == 0, "reader %u saw %" PRIu64 " torn values", i, ctl->bad[i]);
        gets += ctl->gets[i];
        hits += ctl->hits[i];
    }
    for (unsigned i = 0; i < CONC_WRITERS; i++)
        puts += ctl->puts[i];
    shm_cache_get_stats(c, &st);
    ck_assert_uint_gt(hits, 0);
    ck_assert_uint_gt(gets, hits);
    ck_assert_uint_gt(puts, 0);
    ck_assert_uint_eq(st.hits, hits); /* the counters lose nothing across processes */
    ck_assert_uint_eq(st.misses, gets - hits);
    ck_assert_uint_gt(st.evictions, 0);
    ck_assert_uint_eq(st.repairs, 0);
    for (unsigned i = 0; i < CONC_KEYS; i++) {
        conc_key(key, sizeof(key), i);
        if (shm_cache_get(c, key, &v))
            ck_assert_int_eq(tval_check(&v, key), 0);
    }
    if (getenv("TEST_VERBOSE") != NULL)
        fprintf(stderr, "concurrent: %" PRIu64 " puts, %" PRIu64 " gets, %" PRIu64 " hits, %" PRIu64 " evictions\n",
                puts, gets, hits, st.evictions);
    ck_assert_int_eq(munmap(ctl, sizeof(*ctl)), 0);
    tcache_free(&t);
}
END_TEST

/* ---- holders killed inside a stripe lock ------------------------------------------ */

typedef struct {
    uint32_t held;
} hang_t;

/* update() and remove_if() call back under the stripe lock: a child can park there,
 * having left a value half-written, and be SIGKILLed holding the lock. */
static void scribble_and_hang(void *value, void *arg)
{
    memset(value, 0xEE, sizeof(tval_t) / 2);
    __atomic_store_n(&((hang_t *)arg)->held, 1, __ATOMIC_RELEASE);
    for (;;)
        pause();
}

static bool match_and_hang(const void *value, void *arg)
{
    (void)value;
    __atomic_store_n(&((hang_t *)arg)->held, 1, __ATOMIC_RELEASE);
    for (;;)
        pause();
    return false;
}

static pid_t spawn_update_holder(shm_cache_t *c, const char *key, hang_t *h)
{
    pid_t pid;

    h->held = 0;
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        (void)shm_cache_update(c, key, scribble_and_hang, h);
        _exit(1); /* key absent */
    }
    wait_flag(&h->held);
    return pid;
}

/* A value of `key` is either absent or intact. */
static int absent_or_intact(shm_cache_t *c, const char *key)
{
    tval_t v;

    return !shm_cache_get(c, key, &v) || tval_check(&v, key) == 0 ? 0 : 1;
}

START_TEST(test_holder_killed_in_lock)
{
    tcache_t t;
    shm_cache_t *c = tcache_new(&t, bytes_for(128 * 8, sizeof(tval_t)), sizeof(tval_t));
    hang_t *h = mmap(NULL, sizeof(*h), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    char victim[16], mate[16], other[16];
    shm_cache_stats_t st;
    size_t removed;
    pid_t holder, next;
    tval_t v;

    ck_assert_ptr_ne(h, MAP_FAILED);
    ck_assert_uint_eq(t.buckets, 128);
    /* victim and mate share bucket 5 (so a stripe); other is in bucket 6 (another stripe). */
    key_in_bucket(victim, sizeof(victim), "v", 5, t.buckets, 0);
    key_in_bucket(mate, sizeof(mate), "m", 5, t.buckets, 0);
    key_in_bucket(other, sizeof(other), "x", 6, t.buckets, 0);

    /* 1: the parent is the next taker. */
    tval_make(&v, victim, 1);
    ck_assert_int_eq(shm_cache_put(c, victim, &v), 0);
    tval_make(&v, mate, 2);
    ck_assert_int_eq(shm_cache_put(c, mate, &v), 0);
    tval_make(&v, other, 3);
    ck_assert_int_eq(shm_cache_put(c, other, &v), 0);
    holder = spawn_update_holder(c, victim, h);
    ck_assert(shm_cache_get(c, other, &v)); /* other stripes are not blocked */
    ck_assert_int_eq(kill(holder, SIGKILL), 0);
    ck_assert_int_eq(child_wait(holder), 128 + SIGKILL);
    shm_cache_get_stats(c, &st);
    ck_assert_uint_eq(st.repairs, 0);
    /* The half-written value is forgotten, not served. */
    ck_assert(!shm_cache_get(c, victim, &v));
    shm_cache_get_stats(c, &st);
    ck_assert_uint_eq(st.repairs, 1);
    ck_assert_int_eq(absent_or_intact(c, mate), 0);
    ck_assert(shm_cache_get(c, other, &v));
    ck_assert_int_eq(tval_check(&v, other), 0);
    ck_assert_uint_eq(v.seed, 3);
    tval_make(&v, victim, 4);
    ck_assert_int_eq(shm_cache_put(c, victim, &v), 0);
    ck_assert(shm_cache_get(c, victim, &v));
    ck_assert_int_eq(tval_check(&v, victim), 0);
    ck_assert_uint_eq(v.seed, 4);

    /* 2: a sibling blocked on the stripe is the next taker. */
    tval_make(&v, mate, 5);
    ck_assert_int_eq(shm_cache_put(c, mate, &v), 0);
    holder = spawn_update_holder(c, victim, h);
    next = fork();
    ck_assert_int_ge(next, 0);
    if (next == 0)
        _exit(absent_or_intact(c, victim) + absent_or_intact(c, mate));
    usleep(20000);
    ck_assert_int_eq(kill(holder, SIGKILL), 0);
    ck_assert_int_eq(child_wait(holder), 128 + SIGKILL);
    ck_assert_int_eq(child_wait(next), 0);
    shm_cache_get_stats(c, &st);
    ck_assert_uint_eq(st.repairs, 2);
    ck_assert_int_eq(absent_or_intact(c, victim), 0);

    /* 3: killed inside remove_if()'s match, which has no side effect; the next scan
     * repairs that stripe and removes every other entry. */
    for (unsigned b = 0; b < t.buckets; b++) {
        char key[16];

        key_in_bucket(key, sizeof(key), "f", b, t.buckets, 0);
        tval_make(&v, key, b);
        ck_assert_int_eq(shm_cache_put(c, key, &v), 0);
    }
    h->held = 0;
    holder = fork();
    ck_assert_int_ge(holder, 0);
    if (holder == 0) {
        (void)shm_cache_remove_if(c, match_and_hang, h);
        _exit(1);
    }
    wait_flag(&h->held);
    ck_assert_int_eq(kill(holder, SIGKILL), 0);
    ck_assert_int_eq(child_wait(holder), 128 + SIGKILL);
    removed = shm_cache_remove_if(c, match_all, NULL);
    ck_assert_uint_gt(removed, 0);
    ck_assert_uint_le(removed, t.buckets + 3);
    ck_assert_uint_eq(shm_cache_remove_if(c, match_all, NULL), 0);
    shm_cache_get_stats(c, &st);
    ck_assert_uint_eq(st.repairs, 3);

    /* Consistent again: no more repairs, here or in another process. */
    tval_make(&v, victim, 6);
    ck_assert_int_eq(shm_cache_put(c, victim, &v), 0);
    next = fork();
    ck_assert_int_ge(next, 0);
    if (next == 0) {
        tval_t w;

        _exit(shm_cache_get(c, victim, &w) && tval_check(&w, victim) == 0 && w.seed == 6 ? 0 : 1);
    }
    ck_assert_int_eq(child_wait(next), 0);
    shm_cache_get_stats(c, &st);
    ck_assert_uint_eq(st.repairs, 3);
    ck_assert_int_eq(munmap(h, sizeof(*h)), 0);
    tcache_free(&t);
}
END_TEST

/* Writers in a tight put() loop SIGKILLed at random moments while a reader checks every
 * value: most kills land inside the stripe lock, often in the middle of a value. */
#define STORM_KEYS       384
#define STORM_ROUNDS     40
#define STORM_ROUNDS_MAX 1000

typedef struct {
    uint32_t running, stop;
    uint64_t gets, hits, torn;
} storm_t;

static void storm_key(char *key, size_t size, unsigned i)
{
    snprintf(key, size, "storm-key-%u", i);
}

static void storm_writer(shm_cache_t *c, storm_t *ctl, unsigned round)
{
    static tval_t values[STORM_KEYS];
    char key[24];

    for (unsigned i = 0; i < STORM_KEYS; i++) {
        storm_key(key, sizeof(key), i);
        tval_make(&values[i], key, (uint64_t)round << 32 | i);
    }
    for (unsigned n = 0;; n++) {
        unsigned i = (n * 97 + round) % STORM_KEYS;

        if (shm_cache_put(c, values[i].key, &values[i]) != 0)
            _exit(2);
        if (n == 0)
            __atomic_store_n(&ctl->running, 1, __ATOMIC_RELEASE);
    }
}

static void storm_reader(shm_cache_t *c, storm_t *ctl)
{
    char key[24];
    tval_t v;

    for (unsigned n = 0; !__atomic_load_n(&ctl->stop, __ATOMIC_ACQUIRE); n++) {
        storm_key(key, sizeof(key), n % STORM_KEYS);
        ctl->gets++;
        if (shm_cache_get(c, key, &v)) {
            ctl->hits++;
            if (tval_check(&v, key) != 0)
                ctl->torn++;
        }
    }
    _exit(0);
}

START_TEST(test_writer_killed_mid_put)
{
    tcache_t t;
    shm_cache_t *c = tcache_new(&t, bytes_for(256, sizeof(tval_t)), sizeof(tval_t));
    storm_t *ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    uint64_t deadline = now_ms() + 3000, repairs;
    shm_cache_stats_t st;
    size_t present = 0;
    pid_t reader, victim;
    unsigned round;
    char key[24];
    tval_t v;

    ck_assert_ptr_ne(ctl, MAP_FAILED);
    memset(ctl, 0, sizeof(*ctl));
    reader = fork();
    ck_assert_int_ge(reader, 0);
    if (reader == 0)
        storm_reader(c, ctl);

    srand(4321);
    for (round = 0;; round++) {
        shm_cache_get_stats(c, &st);
        if (round >= STORM_ROUNDS_MAX || now_ms() >= deadline || (round >= STORM_ROUNDS && st.repairs > 0))
            break;
        __atomic_store_n(&ctl->running, 0, __ATOMIC_RELEASE);
        victim = fork();
        ck_assert_int_ge(victim, 0);
        if (victim == 0)
            storm_writer(c, ctl, round);
        wait_flag(&ctl->running);
        usleep((useconds_t)(rand() % 2000));
        ck_assert_int_eq(kill(victim, SIGKILL), 0);
        ck_assert_int_eq(child_wait(victim), 128 + SIGKILL);
    }
    __atomic_store_n(&ctl->stop, 1, __ATOMIC_RELEASE);
    ck_assert_int_eq(child_wait(reader), 0);

    /* What is left is absent or intact, and every stripe works again. */
    for (unsigned i = 0; i < STORM_KEYS; i++) {
        storm_key(key, sizeof(key), i);
        ck_assert_int_eq(absent_or_intact(c, key), 0);
    }
    shm_cache_get_stats(c, &st);
    if (getenv("TEST_VERBOSE") != NULL)
        fprintf(stderr, "kill: %u rounds, %" PRIu64 " repairs, %" PRIu64 " gets, %" PRIu64 " hits\n", round, st.repairs,
                ctl->gets, ctl->hits);
    ck_assert_uint_eq(ctl->torn, 0);
    ck_assert_uint_gt(ctl->hits, 0);
    ck_assert_uint_gt(st.repairs, 0);
    repairs = st.repairs;
    for (unsigned i = 0; i < STORM_KEYS; i++) {
        storm_key(key, sizeof(key), i);
        tval_make(&v, key, i);
        ck_assert_int_eq(shm_cache_put(c, key, &v), 0);
        ck_assert(shm_cache_get(c, key, &v));
        ck_assert_int_eq(tval_check(&v, key), 0);
        ck_assert_uint_eq(v.seed, i);
    }
    for (unsigned i = 0; i < STORM_KEYS; i++) {
        storm_key(key, sizeof(key), i);
        if (peek(c, key, &v)) {
            ck_assert_int_eq(tval_check(&v, key), 0);
            present++;
        }
    }
    ck_assert_uint_gt(present, t.capacity / 2);
    ck_assert_uint_le(present, t.capacity);
    ck_assert_uint_eq(shm_cache_remove_if(c, match_all, NULL), present);
    shm_cache_get_stats(c, &st);
    ck_assert_uint_eq(st.repairs, repairs); /* none since the storm */
    ck_assert_int_eq(munmap(ctl, sizeof(*ctl)), 0);
    tcache_free(&t);
}
END_TEST

/* ---- suite ------------------------------------------------------------------------ */

static Suite *cache_suite(void)
{
    Suite *s = suite_create("shm_cache");
    TCase *tc = tcase_create("core");
    TCase *procs = tcase_create("processes");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_init_sizes);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_hits_misses);
    tcase_add_test(tc, test_put_newer);
    tcase_add_test(tc, test_eviction_never_wrong_value);
    tcase_add_test(tc, test_clock_second_chance);
    tcase_add_test(tc, test_sessions_remove_user);
    suite_add_tcase(s, tc);

    tcase_set_timeout(procs, 60);
    tcase_add_test(procs, test_concurrent_writers_readers);
    tcase_add_test(procs, test_holder_killed_in_lock);
    tcase_add_test(procs, test_writer_killed_mid_put);
    suite_add_tcase(s, procs);
    return s;
}

int main(void)
{
    return check_run(cache_suite());
}
