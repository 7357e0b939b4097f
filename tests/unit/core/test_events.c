/* Tests for src/core/events.c: every record type round-trips, and decoders
 * refuse truncated, malformed, oversize and hostile input without crashing
 * or allocating what the input merely claims. */
#include <check.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "core/events.h"
#include "shm/events_publish.h"
#include "../check_main.h"

#define UID   "abcdefghijklmnopqrstuvwxyz"
#define TOKEN "0123456789abcdefghijklmnop"

static event_status_changed_t sample_status(void)
{
    event_status_changed_t ev = {.manual = true, .last_activity_at = 1700000000123, .dnd_end_time = -5};
    strcpy(ev.user_id, UID);
    strcpy(ev.status, "dnd");
    return ev;
}

static event_session_revoked_t sample_session(void)
{
    event_session_revoked_t ev;
    strcpy(ev.token, TOKEN);
    strcpy(ev.user_id, UID);
    return ev;
}

/* Decodes `data` with each decoder; returns the status-changed result. */
static int decode_any(const void *data, size_t len)
{
    event_status_changed_t a;
    event_session_revoked_t b;
    event_user_sessions_revoked_t c;
    int ra = event_decode_status_changed(data, len, &a);
    int rb = event_decode_session_revoked(data, len, &b);
    int rc = event_decode_user_sessions_revoked(data, len, &c);
    ck_assert(ra != 0 || a.user_id[0] != '\0');
    (void)rb;
    (void)rc;
    return ra;
}

/* ---- a hand-written record, for what encoders never produce ---------------- */

typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} raw_t;

static void raw_init(raw_t *r)
{
    msgpack_sbuffer_init(&r->sb);
    msgpack_packer_init(&r->pk, &r->sb, msgpack_sbuffer_write);
}

static void raw_str(raw_t *r, const char *s)
{
    msgpack_pack_str(&r->pk, strlen(s));
    msgpack_pack_str_body(&r->pk, s, strlen(s));
}

/* {user_id, status, manual, last_activity_at, dnd_end_time} with `status`
 * and optionally one more key/value written by `extra`. */
static void raw_status(raw_t *r, const char *user_id, const char *status, void (*extra)(raw_t *))
{
    raw_init(r);
    msgpack_pack_map(&r->pk, extra != NULL ? 6 : 5);
    raw_str(r, "user_id");
    raw_str(r, user_id);
    raw_str(r, "status");
    raw_str(r, status);
    raw_str(r, "manual");
    msgpack_pack_false(&r->pk);
    raw_str(r, "last_activity_at");
    msgpack_pack_int64(&r->pk, 42);
    raw_str(r, "dnd_end_time");
    msgpack_pack_int64(&r->pk, 0);
    if (extra != NULL)
        extra(r);
}

static int raw_decode(raw_t *r, event_status_changed_t *ev)
{
    int rc = event_decode_status_changed(r->sb.data, r->sb.size, ev);
    msgpack_sbuffer_destroy(&r->sb);
    return rc;
}

/* ---- round trips -------------------------------------------------------------- */

START_TEST(test_status_changed_round_trip)
{
    static const int64_t times[] = {0, 1, -1, 127, 128, -33, 1700000000123, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        event_status_changed_t in = sample_status(), out;
        in.last_activity_at = times[i];
        in.dnd_end_time = times[sizeof(times) / sizeof(times[0]) - 1 - i];
        in.manual = i % 2 == 0;
        strcpy(in.status, i % 2 ? "offline" : "online");
        event_buf_t buf;
        ck_assert_int_eq(event_encode_status_changed(&in, &buf), 0);
        ck_assert_uint_gt(buf.len, 0);
        ck_assert_int_eq(event_decode_status_changed(buf.data, buf.len, &out), 0);
        ck_assert_str_eq(out.user_id, in.user_id);
        ck_assert_str_eq(out.status, in.status);
        ck_assert(out.manual == in.manual);
        ck_assert_int_eq(out.last_activity_at, in.last_activity_at);
        ck_assert_int_eq(out.dnd_end_time, in.dnd_end_time);
    }
}
END_TEST

START_TEST(test_session_revoked_round_trip)
{
    event_session_revoked_t in = sample_session(), out;
    event_buf_t buf;
    ck_assert_int_eq(event_encode_session_revoked(&in, &buf), 0);
    ck_assert_int_eq(event_decode_session_revoked(buf.data, buf.len, &out), 0);
    ck_assert_str_eq(out.token, TOKEN);
    ck_assert_str_eq(out.user_id, UID);
}
END_TEST

START_TEST(test_user_sessions_revoked_round_trip)
{
    event_user_sessions_revoked_t in, out;
    strcpy(in.user_id, UID);
    event_buf_t buf;
    ck_assert_int_eq(event_encode_user_sessions_revoked(&in, &buf), 0);
    ck_assert_int_eq(event_decode_user_sessions_revoked(buf.data, buf.len, &out), 0);
    ck_assert_str_eq(out.user_id, UID);
}
END_TEST

START_TEST(test_user_changed_round_trip)
{
    event_user_changed_t in = {.sessions = true}, out;
    strcpy(in.user_id, UID);
    event_buf_t buf;
    ck_assert_int_eq(event_encode_user_changed(&in, &buf), 0);
    ck_assert_int_eq(event_decode_user_changed(buf.data, buf.len, &out), 0);
    ck_assert_str_eq(out.user_id, UID);
    ck_assert(out.sessions);
    in.sessions = false;
    ck_assert_int_eq(event_encode_user_changed(&in, &buf), 0);
    ck_assert_int_eq(event_decode_user_changed(buf.data, buf.len, &out), 0);
    ck_assert(!out.sessions);
    ck_assert_str_eq(event_type_name(EVENT_USER_CHANGED), "user_changed");
}
END_TEST

START_TEST(test_type_names)
{
    ck_assert_str_eq(event_type_name(EVENT_STATUS_CHANGED), "status_changed");
    ck_assert_str_eq(event_type_name(EVENT_SESSION_REVOKED), "session_revoked");
    ck_assert_str_eq(event_type_name(EVENT_USER_SESSIONS_REVOKED), "user_sessions_revoked");
    ck_assert_str_eq(event_type_name(0), "unknown");
    ck_assert_str_eq(event_type_name(999), "unknown");
}
END_TEST

/* One type's record is not another's: its required fields are missing. */
START_TEST(test_wrong_type_is_missing_fields)
{
    event_buf_t buf;
    event_user_sessions_revoked_t u;
    strcpy(u.user_id, UID);
    ck_assert_int_eq(event_encode_user_sessions_revoked(&u, &buf), 0);
    event_status_changed_t s;
    event_session_revoked_t r;
    ck_assert_int_eq(event_decode_status_changed(buf.data, buf.len, &s), EVENT_EMISSING);
    ck_assert_int_eq(event_decode_session_revoked(buf.data, buf.len, &r), EVENT_EMISSING);
    ck_assert_str_eq(s.user_id, ""); /* nothing half-decoded is left behind */
}
END_TEST

/* ---- truncation and garbage --------------------------------------------------- */

START_TEST(test_truncated_at_every_length)
{
    event_buf_t a, b, c;
    event_status_changed_t s = sample_status();
    event_session_revoked_t r = sample_session();
    event_user_sessions_revoked_t u;
    strcpy(u.user_id, UID);
    ck_assert_int_eq(event_encode_status_changed(&s, &a), 0);
    ck_assert_int_eq(event_encode_session_revoked(&r, &b), 0);
    ck_assert_int_eq(event_encode_user_sessions_revoked(&u, &c), 0);
    event_status_changed_t so;
    event_session_revoked_t ro;
    event_user_sessions_revoked_t uo;
    for (size_t len = 0; len < a.len; len++)
        ck_assert_int_eq(event_decode_status_changed(a.data, len, &so), EVENT_EMALFORMED);
    for (size_t len = 0; len < b.len; len++)
        ck_assert_int_eq(event_decode_session_revoked(b.data, len, &ro), EVENT_EMALFORMED);
    for (size_t len = 0; len < c.len; len++)
        ck_assert_int_eq(event_decode_user_sessions_revoked(c.data, len, &uo), EVENT_EMALFORMED);
    /* and one byte too many */
    a.data[a.len] = 0xc0;
    ck_assert_int_eq(event_decode_status_changed(a.data, a.len + 1, &so), EVENT_EMALFORMED);
    ck_assert_int_eq(event_decode_status_changed(NULL, 0, &so), EVENT_EMALFORMED);
}
END_TEST

START_TEST(test_garbage_rejected)
{
    static const struct {
        const char *bytes;
        size_t len;
    } cases[] = {
        {"hello world", 11},
        {"\xc1", 1},                     /* reserved */
        {"\xc0", 1},                     /* nil */
        {"\x93\x01\x02\x03", 4},         /* an array */
        {"\x81\x01\x02", 3},             /* a map with an integer key */
        {"\x81\xc1\xc1", 3},             /* a map of reserved bytes */
        {"\xa5hello", 6},                /* a string */
        {"\x80", 1},                     /* an empty map: fields missing */
        {"\x85\xa1x\x01", 4},            /* a map claiming more pairs than present */
        {"\xdb\xff\xff\xff\xff", 5},     /* str32 of 4 GB */
        {"\xdd\xff\xff\xff\xff", 5},     /* array32 of 4G elements */
        {"\xdf\x0f\xff\xff\xff", 5},     /* map32 of 268M pairs */
        {"\xc9\x00\x00\x00\x05\x01", 6}, /* truncated ext32 */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(decode_any(cases[i].bytes, cases[i].len) != 0, "case %zu", i);

    /* random bytes: never a crash, and no record */
    srand(7);
    uint8_t junk[EVENT_ENCODED_MAX];
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)rand() % 64;
        for (size_t j = 0; j < len; j++)
            junk[j] = (uint8_t)rand();
        if (round % 2 == 0 && len > 0)
            junk[0] = (uint8_t)(0x80 | (rand() % 16)); /* a fixmap, to get further in */
        ck_assert_int_ne(decode_any(junk, len), 0);
    }
    /* a valid record with random bytes flipped: rejected, or decoded whole */
    event_buf_t buf;
    event_status_changed_t s = sample_status(), out;
    ck_assert_int_eq(event_encode_status_changed(&s, &buf), 0);
    for (int round = 0; round < 20000; round++) {
        event_buf_t m = buf;
        m.data[(size_t)rand() % m.len] ^= (uint8_t)(1 + rand() % 255);
        if (event_decode_status_changed(m.data, m.len, &out) == 0) {
            ck_assert_uint_eq(strlen(out.user_id), ID_LENGTH);
            ck_assert_uint_le(strlen(out.status), EVENT_STATUS_MAX);
        }
    }
}
END_TEST

static void nest_deep(raw_t *r)
{
    raw_str(r, "extra");
    for (int i = 0; i < 10; i++)
        msgpack_pack_array(&r->pk, 1);
    msgpack_pack_nil(&r->pk);
}

static void nest_ok(raw_t *r)
{
    raw_str(r, "future_field");
    msgpack_pack_array(&r->pk, 2);
    msgpack_pack_map(&r->pk, 1);
    raw_str(r, "k");
    msgpack_pack_double(&r->pk, 1.5);
    msgpack_pack_bin(&r->pk, 3);
    msgpack_pack_bin_body(&r->pk, "abc", 3);
}

static void dup_status(raw_t *r)
{
    raw_str(r, "status");
    raw_str(r, "away");
}

START_TEST(test_structure_rules)
{
    raw_t r;
    event_status_changed_t ev;
    raw_status(&r, UID, "away", NULL);
    ck_assert_int_eq(raw_decode(&r, &ev), 0);
    ck_assert_str_eq(ev.status, "away");
    ck_assert_int_eq(ev.last_activity_at, 42);

    /* a newer node's extra field is skipped, whatever its shape */
    raw_status(&r, UID, "away", nest_ok);
    ck_assert_int_eq(raw_decode(&r, &ev), 0);
    /* but not nested without bound */
    raw_status(&r, UID, "away", nest_deep);
    ck_assert_int_eq(raw_decode(&r, &ev), EVENT_EMALFORMED);
    /* a field twice */
    raw_status(&r, UID, "away", dup_status);
    ck_assert_int_eq(raw_decode(&r, &ev), EVENT_EMALFORMED);

    /* wrong value types */
    raw_init(&r);
    msgpack_pack_map(&r.pk, 5);
    raw_str(&r, "user_id");
    raw_str(&r, UID);
    raw_str(&r, "status");
    msgpack_pack_int(&r.pk, 3);
    raw_str(&r, "manual");
    msgpack_pack_false(&r.pk);
    raw_str(&r, "last_activity_at");
    msgpack_pack_int64(&r.pk, 42);
    raw_str(&r, "dnd_end_time");
    msgpack_pack_int64(&r.pk, 0);
    ck_assert_int_eq(raw_decode(&r, &ev), EVENT_EMALFORMED);

    raw_init(&r);
    msgpack_pack_map(&r.pk, 5);
    raw_str(&r, "user_id");
    raw_str(&r, UID);
    raw_str(&r, "status");
    raw_str(&r, "online");
    raw_str(&r, "manual");
    msgpack_pack_int(&r.pk, 1); /* not a boolean */
    raw_str(&r, "last_activity_at");
    msgpack_pack_uint64(&r.pk, UINT64_MAX); /* past int64 */
    raw_str(&r, "dnd_end_time");
    msgpack_pack_int64(&r.pk, 0);
    ck_assert_int_eq(raw_decode(&r, &ev), EVENT_EMALFORMED);

    raw_init(&r);
    msgpack_pack_map(&r.pk, 5);
    raw_str(&r, "user_id");
    raw_str(&r, UID);
    raw_str(&r, "status");
    raw_str(&r, "online");
    raw_str(&r, "manual");
    msgpack_pack_true(&r.pk);
    raw_str(&r, "last_activity_at");
    msgpack_pack_double(&r.pk, 1.0); /* not an integer */
    raw_str(&r, "dnd_end_time");
    msgpack_pack_int64(&r.pk, 0);
    ck_assert_int_eq(raw_decode(&r, &ev), EVENT_EMALFORMED);
}
END_TEST

/* ---- oversize --------------------------------------------------------------------- */

START_TEST(test_oversize_fields_rejected)
{
    raw_t r;
    event_status_changed_t ev;
    raw_status(&r, UID, "a-status-too-long", NULL); /* 17 > EVENT_STATUS_MAX */
    ck_assert_int_eq(raw_decode(&r, &ev), EVENT_ETOOBIG);
    raw_status(&r, UID "x", "online", NULL); /* 27-character id */
    ck_assert_int_eq(raw_decode(&r, &ev), EVENT_ETOOBIG);
    char big[400];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    raw_status(&r, big, "online", NULL);
    ck_assert_int_eq(raw_decode(&r, &ev), EVENT_ETOOBIG);

    /* malformed, not oversize: short or non-id ids, empty or NUL-holding status */
    raw_status(&r, "abc", "online", NULL);
    ck_assert_int_eq(raw_decode(&r, &ev), EVENT_EMALFORMED);
    raw_status(&r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "online", NULL);
    ck_assert_int_eq(raw_decode(&r, &ev), EVENT_EMALFORMED);
    raw_status(&r, UID, "", NULL);
    ck_assert_int_eq(raw_decode(&r, &ev), EVENT_EMALFORMED);
    raw_init(&r);
    msgpack_pack_map(&r.pk, 1);
    raw_str(&r, "user_id");
    msgpack_pack_str(&r.pk, ID_LENGTH);
    msgpack_pack_str_body(&r.pk, "abcdefghijkl\0nopqrstuvwxyz", ID_LENGTH);
    event_user_sessions_revoked_t u;
    ck_assert_int_eq(event_decode_user_sessions_revoked(r.sb.data, r.sb.size, &u), EVENT_EMALFORMED);
    msgpack_sbuffer_destroy(&r.sb);

    /* a whole record longer than any type's */
    uint8_t huge[EVENT_ENCODED_MAX + 1];
    memset(huge, 0xc0, sizeof(huge));
    ck_assert_int_eq(event_decode_status_changed(huge, sizeof(huge), &ev), EVENT_ETOOBIG);
}
END_TEST

/* The process's peak virtual size, in KiB (mmap'ed, touched or not). */
static long vm_peak_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "VmPeak: %ld kB", &kb) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return kb;
}

/* A header that claims gigabytes is refused before msgpack-c allocates for
 * it (unbounded, it maps 24 bytes per claimed element at once). */
START_TEST(test_claimed_sizes_do_not_allocate)
{
    static const uint8_t claims[][8] = {
        {0x81, 0xa1, 'x', 0xdd, 0x0f, 0xff, 0xff, 0xff}, /* {"x": array of 268M} */
        {0x81, 0xa1, 'x', 0xdf, 0x0f, 0xff, 0xff, 0xff}, /* {"x": map of 268M} */
        {0xdd, 0x0f, 0xff, 0xff, 0xff, 0xc0, 0xc0, 0xc0},
    };
    event_status_changed_t ev;
    long before = vm_peak_kb();
    ck_assert_int_gt(before, 0);
    for (size_t i = 0; i < sizeof(claims) / sizeof(claims[0]); i++)
        ck_assert_int_eq(event_decode_status_changed(claims[i], sizeof(claims[i]), &ev), EVENT_EMALFORMED);
    ck_assert_int_lt(vm_peak_kb() - before, 64 * 1024);
}
END_TEST

START_TEST(test_encoders_refuse_what_decoders_would)
{
    event_buf_t buf;
    event_status_changed_t s = sample_status();
    strcpy(s.status, "");
    ck_assert_int_eq(event_encode_status_changed(&s, &buf), -EINVAL);
    s = sample_status();
    memset(s.status, 'x', sizeof(s.status)); /* not even terminated */
    ck_assert_int_eq(event_encode_status_changed(&s, &buf), -EINVAL);
    s = sample_status();
    strcpy(s.user_id, "not-an-id");
    ck_assert_int_eq(event_encode_status_changed(&s, &buf), -EINVAL);
    event_session_revoked_t r = sample_session();
    r.token[3] = 'A';
    ck_assert_int_eq(event_encode_session_revoked(&r, &buf), -EINVAL);
}
END_TEST

/* ---- through a real ring ------------------------------------------------------- */

START_TEST(test_publish_and_read_back)
{
    size_t bytes = shm_ring_footprint(SHM_RING_CAPACITY_MIN);
    void *mem = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
    ck_assert_ptr_nonnull(mem);
    ck_assert_int_eq(shm_ring_init(mem, SHM_RING_CAPACITY_MIN), 0);
    shm_ring_t *ring = mem;
    shm_ring_cursor_t cur;
    shm_ring_cursor_init(ring, &cur);

    event_status_changed_t s = sample_status();
    event_session_revoked_t r = sample_session();
    event_user_sessions_revoked_t u;
    strcpy(u.user_id, UID);
    ck_assert_int_eq(events_publish_status_changed(ring, NULL, &s), 0);
    ck_assert_int_eq(events_publish_session_revoked(ring, NULL, &r), 0);
    ck_assert_int_eq(events_publish_user_sessions_revoked(ring, NULL, &u), 0);
    strcpy(s.user_id, "bad");
    ck_assert_int_eq(events_publish_status_changed(ring, NULL, &s), -EINVAL); /* nothing published */

    static uint8_t rec[SHM_RING_RECORD_MAX];
    uint16_t type;
    size_t len;
    uint64_t seq;
    ck_assert_int_eq(shm_ring_read(ring, &cur, &type, rec, &len, &seq), 1);
    ck_assert_uint_eq(type, EVENT_STATUS_CHANGED);
    event_status_changed_t so;
    ck_assert_int_eq(event_decode_status_changed(rec, len, &so), 0);
    ck_assert_str_eq(so.status, "dnd");
    ck_assert_int_eq(shm_ring_read(ring, &cur, &type, rec, &len, &seq), 1);
    ck_assert_uint_eq(type, EVENT_SESSION_REVOKED);
    event_session_revoked_t ro;
    ck_assert_int_eq(event_decode_session_revoked(rec, len, &ro), 0);
    ck_assert_str_eq(ro.token, TOKEN);
    ck_assert_int_eq(shm_ring_read(ring, &cur, &type, rec, &len, &seq), 1);
    ck_assert_uint_eq(type, EVENT_USER_SESSIONS_REVOKED);
    ck_assert_int_eq(shm_ring_read(ring, &cur, &type, rec, &len, &seq), 0);
    free(mem);
}
END_TEST

/* ---- WebSocket events and membership changes ------------------------------------ */

#define CID "cccccccccccccccccccccccccc"
#define OID "oooooooooooooooooooooooooo"

static event_ws_event_t sample_ws(const char *data)
{
    event_ws_event_t ev;
    memset(&ev, 0, sizeof(ev));
    strcpy(ev.event, "typing");
    ev.data = (event_text_t){data, strlen(data)};
    strcpy(ev.channel_id, CID);
    ev.omit_users.count = 2;
    strcpy(ev.omit_users.ids[0], UID);
    strcpy(ev.omit_users.ids[1], OID);
    return ev;
}

START_TEST(test_ws_event_round_trip)
{
    static uint8_t buf[EVENT_WS_ENCODED_MAX];
    size_t len;
    event_ws_event_t ev = sample_ws("{\"user_id\":\"" UID "\"}"), out;
    ck_assert_int_eq(event_encode_ws_event(&ev, buf, sizeof(buf), &len), 0);
    ck_assert_int_eq(event_decode_ws_event(buf, len, &out), 0);
    ck_assert_str_eq(out.event, "typing");
    ck_assert_uint_eq(out.data.len, ev.data.len);
    ck_assert(memcmp(out.data.ptr, ev.data.ptr, ev.data.len) == 0);
    /* the data is borrowed from the record, not copied */
    ck_assert(out.data.ptr >= (const char *)buf && out.data.ptr + out.data.len <= (const char *)buf + len);
    ck_assert_str_eq(out.channel_id, CID);
    ck_assert_str_eq(out.user_id, "");
    ck_assert_str_eq(out.connection_id, "");
    ck_assert_uint_eq(out.omit_users.count, 2);
    ck_assert_str_eq(out.omit_users.ids[1], OID);
    ck_assert_uint_eq(decode_any(buf, len) != 0, 1); /* not a status record */
    /* truncated at every length: refused, never a crash */
    for (size_t n = 0; n < len; n += (n < 200 ? 1 : 97))
        ck_assert_int_ne(event_decode_ws_event(buf, n, &out), 0);
}
END_TEST

/* A post of 16383 four-byte runes, as a JSON string inside the data, fits. */
START_TEST(test_ws_event_largest_post_fits)
{
    size_t n = 16383 * 4 * 2 + 64;
    char *data = malloc(n + 1);
    ck_assert_ptr_nonnull(data);
    memset(data, 'x', n);
    data[0] = '{';
    data[n - 1] = '}';
    data[n] = '\0';
    uint8_t *buf = malloc(EVENT_WS_ENCODED_MAX);
    ck_assert_ptr_nonnull(buf);
    size_t len;
    event_ws_event_t ev = sample_ws(data), out;
    ck_assert_int_eq(event_encode_ws_event(&ev, buf, EVENT_WS_ENCODED_MAX, &len), 0);
    ck_assert_uint_le(len, SHM_RING_RECORD_MAX);
    ck_assert_int_eq(event_decode_ws_event(buf, len, &out), 0);
    ck_assert_uint_eq(out.data.len, n);
    free(buf);
    free(data);
}
END_TEST

START_TEST(test_ws_event_refusals)
{
    static uint8_t buf[EVENT_WS_ENCODED_MAX];
    size_t len;
    event_ws_event_t ev = sample_ws("{}"), out;
    ev.omit_users.count = EVENT_WS_OMIT_MAX + 1;
    ck_assert_int_eq(event_encode_ws_event(&ev, buf, sizeof(buf), &len), -EINVAL);
    ev = sample_ws("{}");
    strcpy(ev.omit_users.ids[0], "bad");
    ck_assert_int_eq(event_encode_ws_event(&ev, buf, sizeof(buf), &len), -EINVAL);
    ev = sample_ws("");
    ck_assert_int_eq(event_encode_ws_event(&ev, buf, sizeof(buf), &len), -EINVAL);
    ev = sample_ws("{}");
    strcpy(ev.team_id, "not-an-id");
    ck_assert_int_eq(event_encode_ws_event(&ev, buf, sizeof(buf), &len), -EINVAL);
    ev = sample_ws("{}");
    ev.event[0] = '\0';
    ck_assert_int_eq(event_encode_ws_event(&ev, buf, sizeof(buf), &len), -EINVAL);
    ev = sample_ws("{}");
    ck_assert_int_eq(event_encode_ws_event(&ev, buf, 10, &len), -EMSGSIZE); /* no room */

    /* hand-written: an omit list longer than allowed, a data of the wrong type */
    raw_t r;
    raw_init(&r);
    msgpack_pack_map(&r.pk, 3);
    raw_str(&r, "event");
    raw_str(&r, "posted");
    raw_str(&r, "data");
    raw_str(&r, "{}");
    raw_str(&r, "omit_users");
    msgpack_pack_array(&r.pk, EVENT_WS_OMIT_MAX + 1);
    for (int i = 0; i <= EVENT_WS_OMIT_MAX; i++)
        raw_str(&r, UID);
    ck_assert_int_eq(event_decode_ws_event(r.sb.data, r.sb.size, &out), EVENT_ETOOBIG);
    msgpack_sbuffer_destroy(&r.sb);
    raw_init(&r);
    msgpack_pack_map(&r.pk, 3);
    raw_str(&r, "event");
    raw_str(&r, "posted");
    raw_str(&r, "data");
    msgpack_pack_int64(&r.pk, 5);
    raw_str(&r, "omit_users");
    msgpack_pack_array(&r.pk, 0);
    ck_assert_int_eq(event_decode_ws_event(r.sb.data, r.sb.size, &out), EVENT_EMALFORMED);
    msgpack_sbuffer_destroy(&r.sb);
    /* optional ids may be absent; the event name may not */
    raw_init(&r);
    msgpack_pack_map(&r.pk, 2);
    raw_str(&r, "data");
    raw_str(&r, "{}");
    raw_str(&r, "omit_users");
    msgpack_pack_array(&r.pk, 0);
    ck_assert_int_eq(event_decode_ws_event(r.sb.data, r.sb.size, &out), EVENT_EMISSING);
    msgpack_sbuffer_destroy(&r.sb);
}
END_TEST

START_TEST(test_members_changed)
{
    event_buf_t buf;
    event_members_changed_t ev, out;
    memset(&ev, 0, sizeof(ev));
    ck_assert_int_eq(event_encode_members_changed(&ev, &buf), -EINVAL); /* neither id */
    strcpy(ev.team_id, UID);
    ck_assert_int_eq(event_encode_members_changed(&ev, &buf), 0);
    ck_assert_int_eq(event_decode_members_changed(buf.data, buf.len, &out), 0);
    ck_assert_str_eq(out.team_id, UID);
    ck_assert_str_eq(out.channel_id, "");
    strcpy(ev.channel_id, "short");
    ck_assert_int_eq(event_encode_members_changed(&ev, &buf), -EINVAL);
    raw_t r;
    raw_init(&r);
    msgpack_pack_map(&r.pk, 1);
    raw_str(&r, "channel_id");
    raw_str(&r, "");
    ck_assert_int_eq(event_decode_members_changed(r.sb.data, r.sb.size, &out), EVENT_EMISSING);
    msgpack_sbuffer_destroy(&r.sb);
    ck_assert_str_eq(event_type_name(EVENT_WS_EVENT), "ws_event");
    ck_assert_str_eq(event_type_name(EVENT_MEMBERS_CHANGED), "members_changed");
}
END_TEST

START_TEST(test_ws_event_through_ring)
{
    size_t bytes = shm_ring_footprint(SHM_RING_CAPACITY_MIN);
    void *mem = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
    ck_assert_ptr_nonnull(mem);
    ck_assert_int_eq(shm_ring_init(mem, SHM_RING_CAPACITY_MIN), 0);
    shm_ring_t *ring = mem;
    shm_ring_cursor_t cur;
    shm_ring_cursor_init(ring, &cur);
    event_ws_event_t ev = sample_ws("{\"a\":1}"), out;
    ck_assert_int_eq(events_publish_ws_event(ring, NULL, &ev), 0);
    static uint8_t rec[SHM_RING_RECORD_MAX];
    uint16_t type;
    size_t len;
    uint64_t seq;
    ck_assert_int_eq(shm_ring_read(ring, &cur, &type, rec, &len, &seq), 1);
    ck_assert_uint_eq(type, EVENT_WS_EVENT);
    ck_assert_int_eq(event_decode_ws_event(rec, len, &out), 0);
    ck_assert_uint_eq(out.data.len, 7);
    free(mem);
}
END_TEST

/* ---- cross-node replay records and the origin header -------------------------- */

#define NODE  "nodeaaaaaaaaaaaaaaaaaaaaaa"
#define NODE2 "nodebbbbbbbbbbbbbbbbbbbbbb"

START_TEST(test_replay_request_round_trip)
{
    event_replay_request_t ev = {.sequence_number = 42}, out;
    strcpy(ev.request_id, TOKEN);
    strcpy(ev.node_id, NODE);
    strcpy(ev.connection_id, NODE2);
    strcpy(ev.user_id, UID);
    event_buf_t buf;
    ck_assert_int_eq(event_encode_replay_request(&ev, &buf), 0);
    ck_assert_int_eq(event_decode_replay_request(buf.data, buf.len, &out), 0);
    ck_assert_str_eq(out.connection_id, NODE2);
    ck_assert_str_eq(out.node_id, NODE);
    ck_assert_int_eq(out.sequence_number, 42);
    for (size_t n = 0; n < buf.len; n++)
        ck_assert_int_ne(event_decode_replay_request(buf.data, n, &out), 0);
    strcpy(ev.connection_id, "short");
    ck_assert_int_eq(event_encode_replay_request(&ev, &buf), -EINVAL);
}
END_TEST

START_TEST(test_replay_answer_round_trip)
{
    static event_replay_answer_t ev, out;
    static uint8_t buf[EVENT_WS_ENCODED_MAX];
    memset(&ev, 0, sizeof(ev));
    strcpy(ev.request_id, TOKEN);
    strcpy(ev.node_id, NODE);
    ev.part = 2;
    ev.last = true;
    ev.next_seq = 17;
    ev.frontier.count = 2;
    strcpy(ev.frontier.items[0].node_id, NODE);
    ev.frontier.items[0].seq = UINT64_MAX - 1;
    strcpy(ev.frontier.items[1].node_id, NODE2);
    ev.frontier.items[1].seq = 3;
    const char *a = "{\"event\":\"posted\",\"seq\":15}", *b = "{\"event\":\"typing\",\"seq\":16}";
    ev.events.count = 2;
    ev.events.items[0] = (event_text_t){a, strlen(a)};
    ev.events.items[1] = (event_text_t){b, strlen(b)};
    size_t len;
    ck_assert_int_eq(event_encode_replay_answer(&ev, buf, sizeof(buf), &len), 0);
    ck_assert_int_eq(event_decode_replay_answer(buf, len, &out), 0);
    ck_assert_int_eq(out.part, 2);
    ck_assert(out.last);
    ck_assert_int_eq(out.next_seq, 17);
    ck_assert_uint_eq(out.frontier.count, 2);
    ck_assert_str_eq(out.frontier.items[1].node_id, NODE2);
    ck_assert(out.frontier.items[0].seq == UINT64_MAX - 1);
    ck_assert_uint_eq(out.events.count, 2);
    ck_assert_uint_eq(out.events.items[1].len, strlen(b));
    ck_assert(memcmp(out.events.items[1].ptr, b, strlen(b)) == 0);
    for (size_t n = 0; n < len; n++)
        ck_assert_int_ne(event_decode_replay_answer(buf, n, &out), 0);

    /* an empty text, a bad node id, too many origins: refused both ways */
    ev.events.items[0].len = 0;
    ck_assert_int_eq(event_encode_replay_answer(&ev, buf, sizeof(buf), &len), -EINVAL);
    ev.events.items[0].len = strlen(a);
    strcpy(ev.frontier.items[1].node_id, "x");
    ck_assert_int_eq(event_encode_replay_answer(&ev, buf, sizeof(buf), &len), -EINVAL);
    strcpy(ev.frontier.items[1].node_id, NODE2);
    ev.frontier.count = EVENT_REPLAY_ORIGINS_MAX + 1;
    ck_assert_int_eq(event_encode_replay_answer(&ev, buf, sizeof(buf), &len), -EINVAL);

    raw_t r;
    raw_init(&r);
    msgpack_pack_map(&r.pk, 1);
    raw_str(&r, "frontier");
    msgpack_pack_array(&r.pk, 1);
    msgpack_pack_array(&r.pk, 3); /* not a pair */
    raw_str(&r, NODE);
    msgpack_pack_uint64(&r.pk, 1);
    msgpack_pack_uint64(&r.pk, 2);
    ck_assert_int_eq(event_decode_replay_answer(r.sb.data, r.sb.size, &out), EVENT_EMALFORMED);
    msgpack_sbuffer_destroy(&r.sb);
    raw_init(&r);
    msgpack_pack_map(&r.pk, 1);
    raw_str(&r, "events");
    msgpack_pack_array(&r.pk, EVENT_REPLAY_EVENTS_MAX + 1);
    for (int i = 0; i <= EVENT_REPLAY_EVENTS_MAX; i++)
        raw_str(&r, "{}");
    ck_assert_int_eq(event_decode_replay_answer(r.sb.data, r.sb.size, &out), EVENT_ETOOBIG);
    msgpack_sbuffer_destroy(&r.sb);
}
END_TEST

START_TEST(test_record_origin)
{
    uint8_t raw[EVENT_ORIGIN_SIZE + 3];
    event_origin_t o = {NODE, 0x0102030405060708ull};
    ck_assert_int_eq(event_origin_write(&o, raw), 0);
    memcpy(raw + EVENT_ORIGIN_SIZE, "abc", 3);
    event_record_t r;
    ck_assert_int_eq(event_record_parse(EVENT_WS_EVENT | EVENT_FROM_CLUSTER, raw, sizeof(raw), 99, &r), 0);
    ck_assert_uint_eq(r.type, EVENT_WS_EVENT);
    ck_assert(r.from_cluster);
    ck_assert_str_eq(r.origin.node_id, NODE);
    ck_assert(r.origin.seq == 0x0102030405060708ull);
    ck_assert_uint_eq(r.len, 3);
    ck_assert(memcmp(r.data, "abc", 3) == 0);
    /* one of ours: as published, the ring's seq */
    ck_assert_int_eq(event_record_parse(EVENT_WS_EVENT, raw, sizeof(raw), 99, &r), 0);
    ck_assert(!r.from_cluster);
    ck_assert_str_eq(r.origin.node_id, "");
    ck_assert(r.origin.seq == 99 && r.len == sizeof(raw) && r.data == raw);
    /* a short or garbled header */
    ck_assert_int_eq(event_record_parse(EVENT_WS_EVENT | EVENT_FROM_CLUSTER, raw, EVENT_ORIGIN_SIZE - 1, 1, &r),
                     EVENT_EMALFORMED);
    raw[3] = '\0';
    ck_assert_int_eq(event_record_parse(EVENT_WS_EVENT | EVENT_FROM_CLUSTER, raw, sizeof(raw), 1, &r),
                     EVENT_EMALFORMED);
    event_origin_t bad = {"nope", 1};
    ck_assert_int_eq(event_origin_write(&bad, raw), -EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("events");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_status_changed_round_trip);
    tcase_add_test(tc, test_session_revoked_round_trip);
    tcase_add_test(tc, test_user_sessions_revoked_round_trip);
    tcase_add_test(tc, test_user_changed_round_trip);
    tcase_add_test(tc, test_type_names);
    tcase_add_test(tc, test_wrong_type_is_missing_fields);
    tcase_add_test(tc, test_truncated_at_every_length);
    tcase_add_test(tc, test_garbage_rejected);
    tcase_add_test(tc, test_structure_rules);
    tcase_add_test(tc, test_oversize_fields_rejected);
    tcase_add_test(tc, test_claimed_sizes_do_not_allocate);
    tcase_add_test(tc, test_encoders_refuse_what_decoders_would);
    tcase_add_test(tc, test_publish_and_read_back);
    tcase_add_test(tc, test_ws_event_round_trip);
    tcase_add_test(tc, test_ws_event_largest_post_fits);
    tcase_add_test(tc, test_ws_event_refusals);
    tcase_add_test(tc, test_members_changed);
    tcase_add_test(tc, test_ws_event_through_ring);
    tcase_add_test(tc, test_replay_request_round_trip);
    tcase_add_test(tc, test_replay_answer_round_trip);
    tcase_add_test(tc, test_record_origin);
    suite_add_tcase(s, tc);
    return check_run(s);
}
