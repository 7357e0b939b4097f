/*
 * tests/unit/cluster/test_seal.c - src/cluster/seal.c: round trips in both
 * modes (sealed, authenticated) and every key size, refusals by reason
 * (plain, name, mode, key, forgery, truncation, replay, clock), the
 * anti-replay window and the bounded sender table, the counters, and 100k
 * hostile inputs.
 *
 * seal_unwrap works in place (it decrypts into the envelope), so every
 * delivery below works on a copy of the envelope as it was sent.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/seal.h"
#include "../check_main.h"

#define NOW      INT64_C(1700000000000)
#define NAME     "chorus-test"
#define ID_A     "aaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B     "bbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ENV_MAX  (1024 + SEAL_OVERHEAD_MAX)
#define SEALED_X (3 + 12 + ID_LENGTH + 24 + 16) /* overhead of a sealed envelope */

static const uint8_t key32[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                  17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const size_t key_sizes[] = {16, 24, 32};

typedef struct {
    uint8_t data[ENV_MAX];
    size_t len;
} env_t;

static seal_t *make_mode(const char *name, const uint8_t *key, size_t key_len, bool encrypt, const char *id,
                         int64_t epoch)
{
    seal_t *s = NULL;
    ck_assert_int_eq(seal_create(&s, name, SEAL_CHANNEL_LINK, key, key_len, encrypt, id, epoch), 0);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* sealed: encrypted and authenticated */
static seal_t *make(const char *name, const uint8_t *key, size_t key_len, const char *id, int64_t epoch)
{
    return make_mode(name, key, key_len, true, id, epoch);
}

/* authenticated only, under key32 */
static seal_t *make_auth(const char *name, const char *id)
{
    return make_mode(name, key32, 32, false, id, NOW);
}

/* An envelope as chorus sent it before every envelope was authenticated:
 * "CHP", the name's length, the name, the payload. */
static env_t plain_envelope(const char *name, const char *payload)
{
    env_t e;
    size_t n = strlen(name), p = strlen(payload);
    memcpy(e.data, "CHP", 3);
    e.data[3] = (uint8_t)n;
    memcpy(e.data + 4, name, n);
    memcpy(e.data + 4 + n, payload, p);
    e.len = 4 + n + p;
    return e;
}

static env_t wrap_at(seal_t *s, const char *payload, int64_t now)
{
    env_t e;
    ck_assert_int_eq(seal_wrap(s, (const uint8_t *)payload, strlen(payload), e.data, sizeof(e.data), &e.len, now), 0);
    return e;
}

static env_t wrap(seal_t *s, const char *payload)
{
    return wrap_at(s, payload, NOW);
}

/* Delivers a copy of `e` at `now`. */
static seal_result_t deliver_at(seal_t *r, const env_t *e, int64_t now)
{
    env_t c = *e;
    const uint8_t *p;
    size_t n;
    char sender[ID_LENGTH + 1];
    return seal_unwrap(r, c.data, c.len, &p, &n, sender, now);
}

static seal_result_t deliver(seal_t *r, const env_t *e)
{
    return deliver_at(r, e, NOW);
}

/* Delivers a copy and checks the payload and the sender. */
static void expect_payload(seal_t *r, const env_t *e, const char *payload, const char *sender_expected)
{
    env_t c = *e;
    const uint8_t *p = NULL;
    size_t n = 0;
    char sender[ID_LENGTH + 1];
    ck_assert_int_eq(seal_unwrap(r, c.data, c.len, &p, &n, sender, NOW), SEAL_OK);
    ck_assert_uint_eq(n, strlen(payload));
    ck_assert(n == 0 || memcmp(p, payload, n) == 0);
    ck_assert(p >= c.data && p + n <= c.data + c.len);
    ck_assert_str_eq(sender, sender_expected);
}

/* xorshift64*: reproducible randomness for the fuzz tests. */
static uint64_t rnd(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * UINT64_C(2685821657736338717);
}

/* ---- create and round trips ------------------------------------------------------ */

START_TEST(test_create_arguments)
{
    seal_t *s = NULL;
    char long_name[SEAL_NAME_MAX + 2];
    memset(long_name, 'n', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    for (int encrypt = 0; encrypt <= 1; encrypt++) {
        ck_assert_int_eq(seal_create(&s, long_name, SEAL_CHANNEL_LINK, key32, 32, encrypt, ID_A, NOW), -EINVAL);
        ck_assert_int_eq(seal_create(&s, "", SEAL_CHANNEL_LINK, key32, 32, encrypt, ID_A, NOW), -EINVAL);
        ck_assert_int_eq(seal_create(&s, NULL, SEAL_CHANNEL_LINK, key32, 32, encrypt, ID_A, NOW), -EINVAL);
        /* no key, no envelope: authentication is never off */
        ck_assert_int_eq(seal_create(&s, NAME, SEAL_CHANNEL_LINK, NULL, 0, encrypt, ID_A, NOW), -EINVAL);
        ck_assert_int_eq(seal_create(&s, NAME, SEAL_CHANNEL_LINK, NULL, 32, encrypt, ID_A, NOW), -EINVAL);
        ck_assert_int_eq(seal_create(&s, NAME, SEAL_CHANNEL_LINK, key32, 0, encrypt, ID_A, NOW), -EINVAL);
        ck_assert_int_eq(seal_create(&s, NAME, SEAL_CHANNEL_LINK, key32, 15, encrypt, ID_A, NOW), -EINVAL);
        ck_assert_int_eq(seal_create(&s, NAME, SEAL_CHANNEL_LINK, key32, 20, encrypt, ID_A, NOW), -EINVAL);
        ck_assert_int_eq(seal_create(&s, NAME, SEAL_CHANNEL_LINK, key32, 33, encrypt, ID_A, NOW), -EINVAL);
        ck_assert_int_eq(seal_create(&s, NAME, SEAL_CHANNEL_LINK, key32, 32, encrypt, "short", NOW), -EINVAL);
        ck_assert_int_eq(seal_create(&s, NAME, SEAL_CHANNEL_LINK, key32, 32, encrypt, NULL, NOW), -EINVAL);
        ck_assert_int_eq(seal_create(&s, NAME, SEAL_CHANNEL_LINK, key32, 32, encrypt, ID_A, -1), -EINVAL);
        ck_assert_ptr_null(s);
    }
    long_name[SEAL_NAME_MAX] = '\0';
    s = make_auth(long_name, ID_A);
    ck_assert(!seal_is_encrypted(s));
    seal_destroy(s);
    s = make(NAME, key32, 16, ID_A, NOW);
    ck_assert(seal_is_encrypted(s));
    seal_destroy(s);
    seal_destroy(NULL);
}
END_TEST

START_TEST(test_round_trip_authenticated)
{
    seal_t *a = make_auth(NAME, ID_A), *b = make_auth(NAME, ID_B);
    env_t e = wrap(a, "hello, in clear");
    ck_assert_uint_eq(e.len, SEALED_X + strlen("hello, in clear"));
    ck_assert_ptr_nonnull(memmem(e.data, e.len, "hello, in clear", strlen("hello, in clear"))); /* not encrypted */
    expect_payload(b, &e, "hello, in clear", ID_A);
    ck_assert_int_eq(deliver(b, &e), SEAL_EREPLAY); /* and replays are caught as when sealed */
    e = wrap(a, "");
    expect_payload(b, &e, "", ID_A);
    e = wrap(b, "back");
    expect_payload(a, &e, "back", ID_B);
    seal_destroy(a);
    seal_destroy(b);
}
END_TEST

START_TEST(test_plain_refused)
{
    /* the cluster name was the only check of a plain envelope: now it is
     * refused in either mode, whatever it carries */
    seal_t *a = make_auth(NAME, ID_A), *s = make(NAME, key32, 32, ID_B, NOW);
    env_t e = plain_envelope(NAME, "\x93\x01\xa0\xa0");
    ck_assert_int_eq(deliver(a, &e), SEAL_EPLAIN);
    ck_assert_int_eq(deliver(s, &e), SEAL_EPLAIN);
    e = plain_envelope(NAME, "");
    ck_assert_int_eq(deliver(a, &e), SEAL_EPLAIN);
    seal_stats_t st;
    seal_get_stats(a, &st);
    ck_assert_uint_eq(st.plain, 2);
    ck_assert_uint_eq(st.unwrapped, 0);
    seal_destroy(a);
    seal_destroy(s);
}
END_TEST

START_TEST(test_round_trip_sealed)
{
    for (size_t k = 0; k < sizeof(key_sizes) / sizeof(key_sizes[0]); k++) {
        seal_t *a = make(NAME, key32, key_sizes[k], ID_A, NOW), *b = make(NAME, key32, key_sizes[k], ID_B, NOW);
        char payload[1025];
        for (size_t len = 0; len <= 1024; len += len < 20 ? 1 : 97) {
            memset(payload, 'a' + (int)(len % 26), len);
            payload[len] = '\0';
            /* both directions, interleaved: one context encrypts and decrypts */
            env_t e = wrap(a, payload);
            ck_assert_uint_eq(e.len, len + SEALED_X);
            ck_assert_uint_le(e.len, len + SEAL_OVERHEAD_MAX);
            ck_assert(len < 8 || memmem(e.data, e.len, payload, len) == NULL); /* not in clear */
            expect_payload(b, &e, payload, ID_A);
            e = wrap(b, payload);
            expect_payload(a, &e, payload, ID_B);
        }
        seal_destroy(a);
        seal_destroy(b);
    }
}
END_TEST

START_TEST(test_wrap_capacity)
{
    char name[SEAL_NAME_MAX + 1];
    memset(name, 'x', SEAL_NAME_MAX);
    name[SEAL_NAME_MAX] = '\0';
    seal_t *p = make_auth(name, ID_B), *s = make(name, key32, 32, ID_A, NOW);
    uint8_t payload[100] = {0}, out[100 + SEAL_OVERHEAD_MAX];
    size_t len;
    /* payload_len + SEAL_OVERHEAD_MAX always does, in both modes, whatever the name */
    ck_assert_int_eq(seal_wrap(p, payload, 100, out, sizeof(out), &len, NOW), 0);
    ck_assert_uint_eq(len, 100 + SEALED_X);
    ck_assert_int_eq(seal_wrap(s, payload, 100, out, sizeof(out), &len, NOW), 0);
    ck_assert_uint_eq(len, 100 + SEALED_X);
    ck_assert_int_eq(seal_wrap(p, payload, 100, out, 100 + SEALED_X - 1, &len, NOW), -EMSGSIZE);
    ck_assert_int_eq(seal_wrap(s, payload, 100, out, 100 + SEALED_X - 1, &len, NOW), -EMSGSIZE);
    ck_assert_int_eq(seal_wrap(s, payload, 100, out, 10, &len, NOW), -EMSGSIZE);
    ck_assert_int_eq(seal_wrap(s, NULL, 1, out, sizeof(out), &len, NOW), -EINVAL);
    ck_assert_int_eq(seal_wrap(s, payload, 1, out, sizeof(out), &len, -1), -EINVAL);
    seal_stats_t st;
    seal_get_stats(s, &st);
    ck_assert_uint_eq(st.wrapped, 1);
    seal_destroy(p);
    seal_destroy(s);
}
END_TEST

/* ---- refusals ------------------------------------------------------------------ */

START_TEST(test_wrong_name)
{
    /* the name is authenticated data, so another cluster fails to verify */
    seal_t *a = make_auth("other", ID_A), *b = make_auth(NAME, ID_B);
    seal_t *c = make_auth(NAME "x", ID_A);
    env_t e = wrap(a, "x");
    ck_assert_int_eq(deliver(b, &e), SEAL_EAUTH);
    e = wrap(c, "x"); /* our name is a prefix of theirs */
    ck_assert_int_eq(deliver(b, &e), SEAL_EAUTH);
    seal_destroy(a);
    seal_destroy(b);
    seal_destroy(c);
    a = make("other", key32, 32, ID_A, NOW);
    b = make(NAME, key32, 32, ID_B, NOW);
    e = wrap(a, "x");
    ck_assert_int_eq(deliver(b, &e), SEAL_EAUTH);
    seal_destroy(a);
    seal_destroy(b);
}
END_TEST

START_TEST(test_wrong_key)
{
    uint8_t other[32];
    memcpy(other, key32, sizeof(other));
    other[31] ^= 1;
    for (size_t k = 0; k < sizeof(key_sizes) / sizeof(key_sizes[0]); k++) {
        seal_t *a = make(NAME, key32, key_sizes[k], ID_A, NOW);
        seal_t *b = make(NAME, other, key_sizes[k], ID_B, NOW);
        seal_t *c = make(NAME, key32, key_sizes[(k + 1) % 3], ID_B, NOW); /* same bytes, another size */
        other[0] ^= 1;                                                    /* also differs in 16- and 24-byte keys */
        seal_t *d = make(NAME, other, key_sizes[k], ID_B, NOW);
        other[0] ^= 1;
        env_t e = wrap(a, "secret");
        ck_assert_int_eq(deliver(c, &e), SEAL_EAUTH);
        ck_assert_int_eq(deliver(d, &e), SEAL_EAUTH);
        if (key_sizes[k] == 32)
            ck_assert_int_eq(deliver(b, &e), SEAL_EAUTH);
        seal_stats_t st;
        seal_get_stats(d, &st);
        ck_assert_uint_eq(st.auth_failed, 1);
        ck_assert_uint_eq(st.unwrapped, 0);
        seal_destroy(a);
        seal_destroy(b);
        seal_destroy(c);
        seal_destroy(d);
    }
}
END_TEST

START_TEST(test_every_bit_flip_refused)
{
    bool encrypt = _i == 1; /* a loop test: authenticated, then sealed */
    seal_t *a = make_mode(NAME, key32, 32, encrypt, ID_A, NOW), *b = make_mode(NAME, key32, 32, encrypt, ID_B, NOW);
    env_t e = wrap(a, "a payload of some length");
    for (size_t bit = 0; bit < e.len * 8; bit++) {
        env_t c = e;
        c.data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        seal_result_t rc = deliver(b, &c);
        ck_assert_msg(rc != SEAL_OK, "bit %zu", bit);
        /* past the magic, only the tag can tell */
        if (bit >= 24)
            ck_assert_int_eq(rc, SEAL_EAUTH);
    }
    expect_payload(b, &e, "a payload of some length", ID_A); /* the original is still fine */
    seal_destroy(a);
    seal_destroy(b);
}
END_TEST

START_TEST(test_truncation_refused)
{
    seal_t *a = make(NAME, key32, 24, ID_A, NOW), *b = make(NAME, key32, 24, ID_B, NOW);
    env_t e = wrap(a, "truncate me");
    for (size_t len = 0; len < e.len; len++) {
        env_t c = e;
        c.len = len;
        ck_assert_msg(deliver(b, &c) != SEAL_OK, "length %zu", len);
    }
    env_t longer = e; /* and a byte appended */
    longer.data[longer.len++] = 0;
    ck_assert_int_eq(deliver(b, &longer), SEAL_EAUTH);
    expect_payload(b, &e, "truncate me", ID_A);

    seal_t *p = make_auth(NAME, ID_A), *q = make_auth(NAME, ID_B);
    e = wrap(p, "authenticated");
    for (size_t len = 0; len < e.len; len++) {
        env_t c = e;
        c.len = len;
        ck_assert_msg(deliver(q, &c) != SEAL_OK, "length %zu", len);
    }
    expect_payload(q, &e, "authenticated", ID_A);
    seal_destroy(a);
    seal_destroy(b);
    seal_destroy(p);
    seal_destroy(q);
}
END_TEST

START_TEST(test_bad_magic)
{
    seal_t *p = make_auth(NAME, ID_A);
    uint8_t data[] = "CX?";
    const uint8_t *payload;
    size_t n;
    ck_assert_int_eq(seal_unwrap(p, data, 3, &payload, &n, NULL, NOW), SEAL_EMALFORMED);
    data[1] = 'H';
    ck_assert_int_eq(seal_unwrap(p, data, 3, &payload, &n, NULL, NOW), SEAL_EMALFORMED);
    ck_assert_int_eq(seal_unwrap(p, NULL, 0, &payload, &n, NULL, NOW), SEAL_EMALFORMED);
    ck_assert_ptr_null(payload);
    seal_destroy(p);
}
END_TEST

/* ---- anti-replay ------------------------------------------------------------------ */

START_TEST(test_replay_refused)
{
    seal_t *a = make(NAME, key32, 32, ID_A, NOW), *b = make(NAME, key32, 32, ID_B, NOW);
    env_t e = wrap(a, "once");
    ck_assert_int_eq(deliver(b, &e), SEAL_OK);
    ck_assert_int_eq(deliver(b, &e), SEAL_EREPLAY);
    ck_assert_int_eq(deliver(b, &e), SEAL_EREPLAY);
    env_t f = wrap(a, "twice"); /* the sender's next envelope is still fine */
    ck_assert_int_eq(deliver(b, &f), SEAL_OK);
    seal_stats_t st;
    seal_get_stats(b, &st);
    ck_assert_uint_eq(st.unwrapped, 2);
    ck_assert_uint_eq(st.replayed, 2);
    seal_destroy(a);
    seal_destroy(b);
}
END_TEST

START_TEST(test_out_of_order_within_window)
{
    seal_t *a = make(NAME, key32, 32, ID_A, NOW), *b = make(NAME, key32, 32, ID_B, NOW);
    env_t e[64];
    for (int i = 0; i < 64; i++)
        e[i] = wrap(a, "x");
    /* the newest first, then the 63 before it, newest to oldest */
    for (int i = 63; i >= 0; i--)
        ck_assert_int_eq(deliver(b, &e[i]), SEAL_OK);
    for (int i = 0; i < 64; i++)
        ck_assert_int_eq(deliver(b, &e[i]), SEAL_EREPLAY);
    /* interleaved: odd ones, then even ones */
    for (int i = 0; i < 64; i++)
        e[i] = wrap(a, "y");
    for (int i = 1; i < 64; i += 2)
        ck_assert_int_eq(deliver(b, &e[i]), SEAL_OK);
    for (int i = 0; i < 64; i += 2)
        ck_assert_int_eq(deliver(b, &e[i]), SEAL_OK);
    for (int i = 0; i < 64; i++)
        ck_assert_int_eq(deliver(b, &e[i]), SEAL_EREPLAY);
    seal_destroy(a);
    seal_destroy(b);
}
END_TEST

START_TEST(test_older_than_window)
{
    seal_t *a = make(NAME, key32, 32, ID_A, NOW), *b = make(NAME, key32, 32, ID_B, NOW);
    env_t e[70]; /* counters 1..70 */
    for (int i = 0; i < 70; i++)
        e[i] = wrap(a, "x");
    ck_assert_int_eq(deliver(b, &e[69]), SEAL_OK);     /* top = 70 */
    ck_assert_int_eq(deliver(b, &e[5]), SEAL_EREPLAY); /* 64 behind: just outside */
    ck_assert_int_eq(deliver(b, &e[0]), SEAL_EREPLAY);
    ck_assert_int_eq(deliver(b, &e[6]), SEAL_OK); /* 63 behind: the window's last slot */
    ck_assert_int_eq(deliver(b, &e[6]), SEAL_EREPLAY);
    /* a jump far ahead clears the window */
    env_t far[200];
    for (int i = 0; i < 200; i++)
        far[i] = wrap(a, "y");
    ck_assert_int_eq(deliver(b, &far[199]), SEAL_OK);
    ck_assert_int_eq(deliver(b, &e[68]), SEAL_EREPLAY);
    ck_assert_int_eq(deliver(b, &far[130]), SEAL_EREPLAY);
    ck_assert_int_eq(deliver(b, &far[136]), SEAL_OK);
    seal_destroy(a);
    seal_destroy(b);
}
END_TEST

START_TEST(test_epochs)
{
    seal_t *old = make(NAME, key32, 32, ID_A, NOW - 5000), *cur = make(NAME, key32, 32, ID_A, NOW);
    seal_t *b = make(NAME, key32, 32, ID_B, NOW);
    env_t stale = wrap(old, "from before the restart");
    for (int i = 0; i < 100; i++) {
        env_t e = wrap(cur, "x");
        ck_assert_int_eq(deliver(b, &e), SEAL_OK);
    }
    ck_assert_int_eq(deliver(b, &stale), SEAL_EREPLAY); /* older epoch */
    /* the sender restarts: a newer epoch, its counter from 1 again */
    seal_t *next = make(NAME, key32, 32, ID_A, NOW + 1);
    env_t e1 = wrap(next, "after the restart"), e2 = wrap(next, "and again");
    ck_assert_int_eq(deliver(b, &e2), SEAL_OK);
    ck_assert_int_eq(deliver(b, &e1), SEAL_OK); /* reset window: counter 1 is new */
    ck_assert_int_eq(deliver(b, &e1), SEAL_EREPLAY);
    env_t late = wrap(cur, "from the previous life");
    ck_assert_int_eq(deliver(b, &late), SEAL_EREPLAY);
    seal_destroy(old);
    seal_destroy(cur);
    seal_destroy(next);
    seal_destroy(b);
}
END_TEST

START_TEST(test_clock_skew)
{
    seal_t *a = make(NAME, key32, 32, ID_A, NOW), *b = make(NAME, key32, 32, ID_B, NOW);
    env_t e1 = wrap(a, "x"), e2 = wrap(a, "x"), e3 = wrap(a, "x"), e4 = wrap(a, "x");
    ck_assert_int_eq(deliver_at(b, &e1, NOW + SEAL_CLOCK_SKEW_MS + 1), SEAL_EREPLAY);
    ck_assert_int_eq(deliver_at(b, &e2, NOW - SEAL_CLOCK_SKEW_MS - 1), SEAL_EREPLAY);
    ck_assert_int_eq(deliver_at(b, &e3, NOW + SEAL_CLOCK_SKEW_MS), SEAL_OK);
    ck_assert_int_eq(deliver_at(b, &e4, NOW - SEAL_CLOCK_SKEW_MS), SEAL_OK);
    /* a refusal for the clock did not spend the counter */
    ck_assert_int_eq(deliver(b, &e1), SEAL_OK);
    env_t ancient = wrap_at(a, "x", 0), future = wrap_at(a, "x", INT64_MAX);
    ck_assert_int_eq(deliver(b, &ancient), SEAL_EREPLAY);
    ck_assert_int_eq(deliver(b, &future), SEAL_EREPLAY);
    ck_assert_int_eq(deliver_at(b, &future, INT64_MAX), SEAL_OK);
    seal_destroy(a);
    seal_destroy(b);
}
END_TEST

/* A distinct valid id per sender number. */
static void sender_id(char out[ID_LENGTH + 1], int n)
{
    memset(out, 'a', ID_LENGTH);
    out[ID_LENGTH] = '\0';
    out[0] = (char)('a' + n % 26);
    out[1] = (char)('a' + n / 26 % 26);
}

START_TEST(test_sender_table_overflow)
{
    seal_t *r = make(NAME, key32, 32, ID_B, NOW);
    seal_t *s[SEAL_SENDERS_MAX + 1];
    env_t first[SEAL_SENDERS_MAX + 1];
    char id[ID_LENGTH + 1];
    for (int i = 0; i <= SEAL_SENDERS_MAX; i++) {
        sender_id(id, i);
        s[i] = make(NAME, key32, 32, id, NOW);
        first[i] = wrap(s[i], "hello");
    }
    for (int i = 0; i < SEAL_SENDERS_MAX; i++) {
        sender_id(id, i);
        expect_payload(r, &first[i], "hello", id);
    }
    /* sender 0 speaks again, so sender 1 is now the least recently seen */
    env_t again = wrap(s[0], "again");
    ck_assert_int_eq(deliver(r, &again), SEAL_OK);
    ck_assert_int_eq(deliver(r, &first[SEAL_SENDERS_MAX]), SEAL_OK); /* replaces sender 1 */
    ck_assert_int_eq(deliver(r, &first[0]), SEAL_EREPLAY);           /* still known */
    ck_assert_int_eq(deliver(r, &first[2]), SEAL_EREPLAY);
    ck_assert_int_eq(deliver(r, &first[SEAL_SENDERS_MAX]), SEAL_EREPLAY);
    /* sender 1 was forgotten: its window starts afresh (the clock still bounds this) */
    ck_assert_int_eq(deliver(r, &first[1]), SEAL_OK);
    ck_assert_int_eq(deliver(r, &first[1]), SEAL_EREPLAY);
    for (int i = 0; i <= SEAL_SENDERS_MAX; i++)
        seal_destroy(s[i]);
    seal_destroy(r);
}
END_TEST

START_TEST(test_wrong_mode)
{
    /* one cluster, one mode: a node that encrypts refuses envelopes only
     * authenticated, and the other way round */
    seal_t *p = make_mode(NAME, key32, 16, false, ID_A, NOW), *s = make(NAME, key32, 16, ID_B, NOW);
    env_t plain = wrap(p, "authenticated"), sealed = wrap(s, "sealed");
    ck_assert_int_eq(deliver(s, &plain), SEAL_EWRONGMODE);
    ck_assert_int_eq(deliver(p, &sealed), SEAL_EWRONGMODE);
    seal_stats_t st;
    seal_get_stats(s, &st);
    ck_assert_uint_eq(st.wrong_mode, 1);
    ck_assert_uint_eq(st.wrapped, 1);
    seal_get_stats(p, &st);
    ck_assert_uint_eq(st.wrong_mode, 1);
    seal_destroy(p);
    seal_destroy(s);
}
END_TEST

START_TEST(test_stats)
{
    seal_t *a = make(NAME, key32, 32, ID_A, NOW), *b = make(NAME, key32, 32, ID_B, NOW);
    seal_t *p = make_auth(NAME, ID_A);
    env_t e = wrap(a, "x"), bad = e, auth = wrap(p, "x"), plain = plain_envelope(NAME, "x");
    bad.data[bad.len - 1] ^= 1;
    deliver(b, &e);     /* unwrapped */
    deliver(b, &e);     /* replayed */
    deliver(b, &bad);   /* auth_failed */
    deliver(b, &auth);  /* wrong_mode */
    deliver(b, &plain); /* plain */
    bad.len = 2;
    deliver(b, &bad); /* malformed */
    seal_stats_t st;
    seal_get_stats(b, &st);
    ck_assert_uint_eq(st.unwrapped, 1);
    ck_assert_uint_eq(st.replayed, 1);
    ck_assert_uint_eq(st.auth_failed, 1);
    ck_assert_uint_eq(st.wrong_mode, 1);
    ck_assert_uint_eq(st.plain, 1);
    ck_assert_uint_eq(st.malformed, 1);
    ck_assert_uint_eq(st.wrapped, 0);
    seal_destroy(a);
    seal_destroy(b);
    seal_destroy(p);
}
END_TEST

/* ---- fuzz ------------------------------------------------------------------------ */

START_TEST(test_fuzz)
{
    seal_t *a = make(NAME, key32, 32, ID_A, NOW), *b = make(NAME, key32, 32, ID_B, NOW);
    seal_t *p = make_auth(NAME, ID_B);
    env_t valid = wrap(a, "a valid envelope to mutate");
    uint64_t st = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 100000; i++) {
        env_t c;
        int how = i % 4;
        if (how == 0) { /* random bytes */
            c.len = rnd(&st) % 200;
            for (size_t j = 0; j < c.len; j++)
                c.data[j] = (uint8_t)rnd(&st);
        } else if (how == 1) { /* random bytes behind a valid magic */
            c.len = 3 + rnd(&st) % 200;
            for (size_t j = 0; j < c.len; j++)
                c.data[j] = (uint8_t)rnd(&st);
            memcpy(c.data, (const char *[]){"CHS", "CHA", "CHP"}[rnd(&st) % 3], 3);
        } else { /* a valid envelope, mutated and cut */
            c = valid;
            for (int k = 1 + (int)(rnd(&st) % 4); k > 0; k--)
                c.data[rnd(&st) % c.len] ^= (uint8_t)(1 + rnd(&st) % 255);
            if (how == 3)
                c.len = rnd(&st) % (c.len + 1);
            if (c.len == valid.len && memcmp(c.data, valid.data, c.len) == 0)
                c.data[c.len - 1] ^= 1; /* two flips cancelled out */
        }
        env_t d = c;
        const uint8_t *payload = NULL;
        size_t n = 0;
        char sender[ID_LENGTH + 1];
        seal_result_t rb = seal_unwrap(b, c.data, c.len, &payload, &n, sender, NOW);
        seal_result_t rp = seal_unwrap(p, d.data, d.len, &payload, &n, sender, NOW);
        ck_assert_int_ne(rb, SEAL_OK);
        ck_assert_int_le(rb, 0);
        ck_assert_int_ge(rb, SEAL_EREPLAY);
        ck_assert_int_ne(rp, SEAL_OK); /* nor does anything but a key holder's envelope */
        ck_assert_int_ge(rp, SEAL_EREPLAY);
    }
    seal_stats_t s;
    seal_get_stats(b, &s);
    ck_assert_uint_eq(s.malformed + s.plain + s.wrong_mode + s.auth_failed + s.replayed, 100000);
    seal_destroy(a);
    seal_destroy(b);
    seal_destroy(p);
}
END_TEST

/* Gossip and links each have a seal: a link's frames sealed before a burst
 * of gossip packets (queued, written later) are still new to the link's
 * window; an envelope of one channel is refused by the other. */
START_TEST(test_channels)
{
    seal_t *gossip_a = NULL, *link_a = NULL, *gossip_b = NULL, *link_b = NULL;
    ck_assert_int_eq(seal_create(&gossip_a, NAME, SEAL_CHANNEL_GOSSIP, key32, 32, true, ID_A, NOW), 0);
    ck_assert_int_eq(seal_create(&link_a, NAME, SEAL_CHANNEL_LINK, key32, 32, true, ID_A, NOW), 0);
    ck_assert_int_eq(seal_create(&gossip_b, NAME, SEAL_CHANNEL_GOSSIP, key32, 32, true, ID_B, NOW), 0);
    ck_assert_int_eq(seal_create(&link_b, NAME, SEAL_CHANNEL_LINK, key32, 32, true, ID_B, NOW), 0);
    seal_t *none = NULL;
    ck_assert_int_eq(seal_create(&none, NAME, (seal_channel_t)'X', key32, 32, true, ID_A, NOW), -EINVAL);
    static env_t frames[100];
    for (int i = 0; i < 100; i++)
        frames[i] = wrap(link_a, "event");
    for (int i = 0; i < 200; i++) {
        env_t probe = wrap(gossip_a, "ping");
        ck_assert_int_eq(deliver(gossip_b, &probe), SEAL_OK);
    }
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(deliver(link_b, &frames[i]), SEAL_OK);
    env_t g = wrap(gossip_a, "ping"), l = wrap(link_a, "event");
    ck_assert_int_eq(deliver(link_b, &g), SEAL_EAUTH);
    ck_assert_int_eq(deliver(gossip_b, &l), SEAL_EAUTH);
    seal_destroy(gossip_a);
    seal_destroy(link_a);
    seal_destroy(gossip_b);
    seal_destroy(link_b);
}
END_TEST

static Suite *seal_suite(void)
{
    Suite *s = suite_create("cluster_seal");
    TCase *tc = tcase_create("core");
    TCase *fuzz = tcase_create("fuzz");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_create_arguments);
    tcase_add_test(tc, test_round_trip_authenticated);
    tcase_add_test(tc, test_plain_refused);
    tcase_add_test(tc, test_round_trip_sealed);
    tcase_add_test(tc, test_wrap_capacity);
    tcase_add_test(tc, test_wrong_name);
    tcase_add_test(tc, test_wrong_key);
    tcase_add_loop_test(tc, test_every_bit_flip_refused, 0, 2);
    tcase_add_test(tc, test_truncation_refused);
    tcase_add_test(tc, test_bad_magic);
    tcase_add_test(tc, test_replay_refused);
    tcase_add_test(tc, test_out_of_order_within_window);
    tcase_add_test(tc, test_older_than_window);
    tcase_add_test(tc, test_epochs);
    tcase_add_test(tc, test_clock_skew);
    tcase_add_test(tc, test_sender_table_overflow);
    tcase_add_test(tc, test_wrong_mode);
    tcase_add_test(tc, test_stats);
    tcase_add_test(tc, test_channels);
    suite_add_tcase(s, tc);

    tcase_set_timeout(fuzz, 300);
    tcase_add_test(fuzz, test_fuzz);
    suite_add_tcase(s, fuzz);
    return s;
}

int main(void)
{
    return check_run(seal_suite());
}
