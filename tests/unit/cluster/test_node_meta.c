/*
 * tests/unit/cluster/test_node_meta.c - src/cluster/node_meta.c: round trips,
 * the size limit, and a decoder that refuses every missing required field,
 * every wrong type, every oversize or ill-formed value, skips keys it does
 * not know, and survives bit flips, truncations and random mutations.
 *
 * Hostile maps are built here field by field with msgpack-c, from a list of
 * (key, value) pairs that each test edits.
 */
#include <check.h>
#include <errno.h>
#include <msgpack.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/node_meta.h"
#include "../check_main.h"

#define ID_SELF   "aaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_LEADER "bbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HASH      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static node_meta_t sample(void)
{
    node_meta_t m;
    memset(&m, 0, sizeof(m));
    strcpy(m.id, ID_SELF);
    strcpy(m.version, "9.11.0");
    m.schema_version = 123;
    strcpy(m.config_hash, HASH);
    strcpy(m.hostname, "chat-1.example.com");
    strcpy(m.ipaddress, "10.0.0.17");
    m.gossip_port = 8074;
    m.streaming_port = 8075;
    m.api_port = 8065;
    m.start_at = 1700000000123;
    strcpy(m.leader_id, ID_LEADER);
    return m;
}

static void assert_meta_eq(const node_meta_t *a, const node_meta_t *b)
{
    ck_assert_str_eq(a->id, b->id);
    ck_assert_str_eq(a->version, b->version);
    ck_assert_uint_eq(a->schema_version, b->schema_version);
    ck_assert_str_eq(a->config_hash, b->config_hash);
    ck_assert_str_eq(a->hostname, b->hostname);
    ck_assert_str_eq(a->ipaddress, b->ipaddress);
    ck_assert_uint_eq(a->gossip_port, b->gossip_port);
    ck_assert_uint_eq(a->streaming_port, b->streaming_port);
    ck_assert_uint_eq(a->api_port, b->api_port);
    ck_assert_int_eq(a->start_at, b->start_at);
    ck_assert_str_eq(a->leader_id, b->leader_id);
}

static void round_trip(const node_meta_t *m)
{
    uint8_t buf[NODE_META_MAX];
    size_t len;
    node_meta_t back;
    ck_assert_int_eq(node_meta_encode(m, buf, sizeof(buf), &len), 0);
    ck_assert_uint_le(len, NODE_META_MAX);
    ck_assert_int_eq(node_meta_decode(buf, len, &back), 0);
    assert_meta_eq(m, &back);
}

/* ---- hand-built maps ------------------------------------------------------------- */

typedef enum { V_STR, V_UINT, V_INT, V_NIL, V_BOOL, V_ARRAY, V_MAP, V_BIN } vkind_t;

typedef struct {
    const char *key;
    vkind_t kind;
    const char *s;
    uint64_t u;
    int64_t i;
} kv_t;

#define NKV 11

/* The pairs the encoder would write for sample(). */
static void sample_kvs(kv_t kv[NKV])
{
    const kv_t k[NKV] = {
        {"id", V_STR, ID_SELF, 0, 0},  {"v", V_STR, "9.11.0", 0, 0},
        {"sv", V_UINT, NULL, 123, 0},  {"ch", V_STR, HASH, 0, 0},
        {"h", V_STR, "chat-1", 0, 0},  {"ip", V_STR, "10.0.0.17", 0, 0},
        {"gp", V_UINT, NULL, 8074, 0}, {"sp", V_UINT, NULL, 8075, 0},
        {"ap", V_UINT, NULL, 8065, 0}, {"st", V_UINT, NULL, 1700000000123, 0},
        {"l", V_STR, ID_LEADER, 0, 0},
    };
    memcpy(kv, k, sizeof(k));
}

typedef struct {
    uint8_t data[4096];
    size_t len;
} out_t;

static int out_write(void *data, const char *bytes, size_t len)
{
    out_t *o = data;
    ck_assert_uint_le(o->len + len, sizeof(o->data));
    memcpy(o->data + o->len, bytes, len);
    o->len += len;
    return 0;
}

static void pack_value(msgpack_packer *pk, const kv_t *kv)
{
    switch (kv->kind) {
    case V_STR:
        msgpack_pack_str(pk, strlen(kv->s));
        msgpack_pack_str_body(pk, kv->s, strlen(kv->s));
        break;
    case V_UINT: msgpack_pack_uint64(pk, kv->u); break;
    case V_INT: msgpack_pack_int64(pk, kv->i); break;
    case V_NIL: msgpack_pack_nil(pk); break;
    case V_BOOL: msgpack_pack_true(pk); break;
    case V_ARRAY:
        msgpack_pack_array(pk, 2);
        msgpack_pack_int(pk, 1);
        msgpack_pack_int(pk, 2);
        break;
    case V_MAP:
        msgpack_pack_map(pk, 1);
        msgpack_pack_str(pk, 1);
        msgpack_pack_str_body(pk, "k", 1);
        msgpack_pack_array(pk, 1);
        msgpack_pack_nil(pk);
        break;
    case V_BIN:
        msgpack_pack_bin(pk, 3);
        msgpack_pack_bin_body(pk, "abc", 3);
        break;
    }
}

/* Packs the pairs whose key is not NULL. */
static out_t pack_kvs(const kv_t *kv, size_t n)
{
    out_t o = {.len = 0};
    msgpack_packer pk;
    msgpack_packer_init(&pk, &o, out_write);
    size_t present = 0;
    for (size_t i = 0; i < n; i++)
        present += kv[i].key != NULL;
    msgpack_pack_map(&pk, present);
    for (size_t i = 0; i < n; i++) {
        if (kv[i].key == NULL)
            continue;
        msgpack_pack_str(&pk, strlen(kv[i].key));
        msgpack_pack_str_body(&pk, kv[i].key, strlen(kv[i].key));
        pack_value(&pk, &kv[i]);
    }
    return o;
}

static int decode_kvs(const kv_t *kv, size_t n)
{
    out_t o = pack_kvs(kv, n);
    node_meta_t m;
    int rc = node_meta_decode(o.data, o.len, &m);
    if (rc != 0) { /* zeroed on error */
        node_meta_t zero;
        memset(&zero, 0, sizeof(zero));
        ck_assert(memcmp(&m, &zero, sizeof(m)) == 0);
    }
    return rc;
}

/* Decodes the sample with pair `i` replaced by `with`. */
static int decode_with(size_t i, kv_t with)
{
    kv_t kv[NKV];
    sample_kvs(kv);
    kv[i] = with;
    return decode_kvs(kv, NKV);
}

static size_t kv_index(const char *key)
{
    kv_t kv[NKV];
    sample_kvs(kv);
    for (size_t i = 0; i < NKV; i++)
        if (strcmp(kv[i].key, key) == 0)
            return i;
    ck_abort_msg("no key %s", key);
    return 0;
}

static kv_t str_kv(const char *key, const char *s)
{
    return (kv_t){key, V_STR, s, 0, 0};
}

static kv_t uint_kv(const char *key, uint64_t u)
{
    return (kv_t){key, V_UINT, NULL, u, 0};
}

/* ---- tests ------------------------------------------------------------------------ */

START_TEST(test_round_trip)
{
    node_meta_t m = sample();
    round_trip(&m);
    /* the optional fields unset */
    m.schema_version = 0;
    m.ipaddress[0] = '\0';
    m.api_port = 0;
    m.leader_id[0] = '\0';
    round_trip(&m);
    /* the bounds of the numbers */
    m = sample();
    m.schema_version = UINT32_MAX;
    m.gossip_port = m.streaming_port = m.api_port = UINT16_MAX;
    m.start_at = INT64_MAX;
    round_trip(&m);
    /* the hand-built sample decodes as the encoder's */
    ck_assert_int_eq(decode_with(0, str_kv("id", ID_SELF)), 0);
}
END_TEST

START_TEST(test_size_limit)
{
    node_meta_t m = sample();
    memset(m.hostname, 'h', NODE_META_HOSTNAME_MAX);
    m.hostname[NODE_META_HOSTNAME_MAX] = '\0';
    round_trip(&m); /* the longest hostname fits beside ordinary fields */
    memset(m.version, 'v', NODE_META_VERSION_MAX);
    m.version[NODE_META_VERSION_MAX] = '\0';
    memset(m.ipaddress, '1', NODE_META_IP_MAX);
    m.ipaddress[NODE_META_IP_MAX] = '\0';
    uint8_t buf[1024];
    size_t len = 99;
    ck_assert_int_eq(node_meta_encode(&m, buf, sizeof(buf), &len), -EMSGSIZE); /* > NODE_META_MAX */
    ck_assert_uint_eq(len, 0);
    /* and a cap smaller than the encoding, at every size */
    m = sample();
    size_t full;
    ck_assert_int_eq(node_meta_encode(&m, buf, sizeof(buf), &full), 0);
    for (size_t cap = 0; cap < full; cap++)
        ck_assert_int_eq(node_meta_encode(&m, buf, cap, &len), -EMSGSIZE);
    ck_assert_int_eq(node_meta_encode(&m, buf, full, &len), 0);
    ck_assert_uint_eq(len, full);
    /* decoding more than NODE_META_MAX bytes is refused before looking */
    node_meta_t back;
    ck_assert_int_eq(node_meta_decode(buf, NODE_META_MAX + 1, &back), -EMSGSIZE);
}
END_TEST

START_TEST(test_encode_refuses_invalid)
{
    uint8_t buf[NODE_META_MAX];
    size_t len;
    node_meta_t m = sample();
    strcpy(m.id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    ck_assert_int_eq(node_meta_encode(&m, buf, sizeof(buf), &len), -EINVAL);
    m = sample();
    m.hostname[0] = '\0';
    ck_assert_int_eq(node_meta_encode(&m, buf, sizeof(buf), &len), -EINVAL);
    m = sample();
    m.config_hash[10] = 'G';
    ck_assert_int_eq(node_meta_encode(&m, buf, sizeof(buf), &len), -EINVAL);
    m = sample();
    m.gossip_port = 0;
    ck_assert_int_eq(node_meta_encode(&m, buf, sizeof(buf), &len), -EINVAL);
    m = sample();
    m.start_at = -1;
    ck_assert_int_eq(node_meta_encode(&m, buf, sizeof(buf), &len), -EINVAL);
    m = sample();
    strcpy(m.leader_id, "short");
    ck_assert_int_eq(node_meta_encode(&m, buf, sizeof(buf), &len), -EINVAL);
    m = sample();
    memset(m.version, 'v', sizeof(m.version)); /* no terminator */
    ck_assert_int_eq(node_meta_encode(&m, buf, sizeof(buf), &len), -EINVAL);
    m = sample();
    strcpy(m.hostname, "two words");
    ck_assert_int_eq(node_meta_encode(&m, buf, sizeof(buf), &len), -EINVAL);
}
END_TEST

START_TEST(test_required_fields)
{
    static const char *required[] = {"id", "v", "ch", "h", "gp", "sp", "st"};
    static const char *optional[] = {"sv", "ip", "ap", "l"};
    for (size_t r = 0; r < sizeof(required) / sizeof(required[0]); r++) {
        kv_t kv[NKV];
        sample_kvs(kv);
        kv[kv_index(required[r])].key = NULL;
        ck_assert_msg(decode_kvs(kv, NKV) == -EBADMSG, "without %s", required[r]);
    }
    for (size_t o = 0; o < sizeof(optional) / sizeof(optional[0]); o++) {
        kv_t kv[NKV];
        sample_kvs(kv);
        kv[kv_index(optional[o])].key = NULL;
        ck_assert_msg(decode_kvs(kv, NKV) == 0, "without %s", optional[o]);
    }
    /* a required field present but unset */
    ck_assert_int_eq(decode_with(kv_index("h"), str_kv("h", "")), -EBADMSG);
    ck_assert_int_eq(decode_with(kv_index("v"), str_kv("v", "")), -EBADMSG);
    ck_assert_int_eq(decode_with(kv_index("id"), str_kv("id", "")), -EBADMSG);
    ck_assert_int_eq(decode_with(kv_index("gp"), uint_kv("gp", 0)), -EBADMSG);
    ck_assert_int_eq(decode_with(kv_index("st"), uint_kv("st", 0)), -EBADMSG);
    /* an optional one present and unset */
    ck_assert_int_eq(decode_with(kv_index("l"), str_kv("l", "")), 0);
    ck_assert_int_eq(decode_with(kv_index("ap"), uint_kv("ap", 0)), 0);
    ck_assert_int_eq(decode_with(kv_index("ip"), str_kv("ip", "")), 0);
}
END_TEST

START_TEST(test_wrong_types)
{
    static const vkind_t kinds[] = {V_STR, V_UINT, V_INT, V_NIL, V_BOOL, V_ARRAY, V_MAP, V_BIN};
    kv_t base[NKV];
    sample_kvs(base);
    for (size_t i = 0; i < NKV; i++)
        for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
            if (kinds[k] == base[i].kind)
                continue;
            kv_t with = {base[i].key, kinds[k], "x", 5, -5};
            ck_assert_msg(decode_with(i, with) == -EBADMSG, "%s as kind %d", base[i].key, (int)kinds[k]);
        }
    /* not a map; keys that are not strings; a key twice */
    out_t o = {.len = 0};
    msgpack_packer pk;
    msgpack_packer_init(&pk, &o, out_write);
    msgpack_pack_array(&pk, 0);
    node_meta_t m;
    ck_assert_int_eq(node_meta_decode(o.data, o.len, &m), -EBADMSG);
    kv_t kv[NKV + 1];
    sample_kvs(kv);
    kv[NKV] = str_kv("h", "again");
    ck_assert_int_eq(decode_kvs(kv, NKV + 1), -EBADMSG);
    o.len = 0;
    msgpack_pack_map(&pk, 1);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_int(&pk, 1);
    ck_assert_int_eq(node_meta_decode(o.data, o.len, &m), -EBADMSG);
    ck_assert_int_eq(node_meta_decode(NULL, 0, &m), -EBADMSG);
    ck_assert_int_eq(node_meta_decode(o.data, 0, &m), -EBADMSG);
    /* trailing bytes after the map */
    o = pack_kvs(base, NKV);
    o.data[o.len++] = 0xc0;
    ck_assert_int_eq(node_meta_decode(o.data, o.len, &m), -EBADMSG);
}
END_TEST

START_TEST(test_oversize_and_bad_values)
{
    char id27[] = ID_SELF "a", v32[33], ip64[65], h256[257], hash63[64], hash65[66], upper[65];
    memset(v32, '1', 32);
    v32[32] = '\0';
    memset(ip64, '1', 64);
    ip64[64] = '\0';
    memset(h256, 'h', 256);
    h256[256] = '\0';
    memcpy(hash63, HASH, 63);
    hash63[63] = '\0';
    memcpy(hash65, HASH "0", 66);
    memcpy(upper, HASH, 65);
    upper[0] = 'A';
    const kv_t bad[] = {
        str_kv("id", id27),
        str_kv("id", "aaaaaaaaaaaaaaaaaaaaaaaaa"), /* 25 */
        str_kv("id", "aaaaaaaaaaaaaaaaaaaaaaaaA"),
        str_kv("l", id27),
        str_kv("l", "not an id"),
        str_kv("v", v32),
        str_kv("v", "9.11\n"),
        str_kv("ip", ip64),
        str_kv("h", h256),
        str_kv("h", "host name"),
        str_kv("h", "h\xc3\xa9"),
        str_kv("ch", hash63),
        str_kv("ch", hash65),
        str_kv("ch", upper),
        uint_kv("gp", 65536),
        uint_kv("sp", UINT64_MAX),
        uint_kv("ap", 65536),
        uint_kv("sv", UINT64_C(1) << 32),
        uint_kv("st", (uint64_t)INT64_MAX + 1),
        {"st", V_INT, NULL, 0, -1},
        {"sv", V_INT, NULL, 0, -1},
    };
    for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++)
        ck_assert_msg(decode_with(kv_index(bad[b].key), bad[b]) == -EBADMSG, "%s #%zu", bad[b].key, b);
    /* a string with a NUL inside */
    kv_t kv[NKV];
    sample_kvs(kv);
    out_t o = pack_kvs(kv, NKV);
    uint8_t *p = memmem(o.data, o.len, "chat-1", 6);
    ck_assert_ptr_nonnull(p);
    p[2] = '\0';
    node_meta_t m;
    ck_assert_int_eq(node_meta_decode(o.data, o.len, &m), -EBADMSG);
}
END_TEST

START_TEST(test_unknown_keys_skipped)
{
    kv_t kv[NKV + 5];
    sample_kvs(kv);
    kv[NKV] = str_kv("zone", "eu-west-1");
    kv[NKV + 1] = (kv_t){"nested", V_MAP, NULL, 0, 0};
    kv[NKV + 2] = (kv_t){"list", V_ARRAY, NULL, 0, 0};
    kv[NKV + 3] = (kv_t){"i", V_INT, NULL, 0, -7}; /* a prefix of "id" */
    kv[NKV + 4] = (kv_t){"idx", V_NIL, NULL, 0, 0};
    out_t o = pack_kvs(kv, NKV + 5);
    node_meta_t m, expect = sample();
    strcpy(expect.hostname, "chat-1");
    ck_assert_int_eq(node_meta_decode(o.data, o.len, &m), 0);
    assert_meta_eq(&m, &expect);
    /* unknown keys first, too */
    kv_t first[NKV + 1];
    first[0] = str_kv("new", "field");
    sample_kvs(first + 1);
    o = pack_kvs(first, NKV + 1);
    ck_assert_int_eq(node_meta_decode(o.data, o.len, &m), 0);
    assert_meta_eq(&m, &expect);
}
END_TEST

/* xorshift64*: reproducible mutations. */
static uint64_t rnd(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * UINT64_C(2685821657736338717);
}

/* Whatever the decoder accepts, the encoder accepts too, within the limit. */
static void check_accepted(const node_meta_t *m)
{
    uint8_t again[NODE_META_MAX];
    size_t len;
    ck_assert_int_eq(node_meta_encode(m, again, sizeof(again), &len), 0);
}

START_TEST(test_fuzz)
{
    node_meta_t m = sample(), out;
    uint8_t buf[NODE_META_MAX], c[NODE_META_MAX];
    size_t len;
    ck_assert_int_eq(node_meta_encode(&m, buf, sizeof(buf), &len), 0);
    /* every single bit flipped */
    for (size_t bit = 0; bit < len * 8; bit++) {
        memcpy(c, buf, len);
        c[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        int rc = node_meta_decode(c, len, &out);
        ck_assert(rc == 0 || rc == -EBADMSG);
        if (rc == 0)
            check_accepted(&out);
    }
    /* every truncation */
    for (size_t n = 0; n < len; n++)
        ck_assert_int_eq(node_meta_decode(buf, n, &out), -EBADMSG);
    /* random mutations: bytes changed, cut, and pure noise */
    uint64_t st = 7;
    for (int i = 0; i < 100000; i++) {
        size_t n = len;
        memcpy(c, buf, len);
        if (i % 5 == 4) {
            n = rnd(&st) % sizeof(c);
            for (size_t j = 0; j < n; j++)
                c[j] = (uint8_t)rnd(&st);
        } else {
            for (int k = 1 + (int)(rnd(&st) % 4); k > 0; k--)
                c[rnd(&st) % len] = (uint8_t)rnd(&st);
            if (i % 2)
                n = rnd(&st) % (len + 1);
        }
        int rc = node_meta_decode(c, n, &out);
        ck_assert(rc == 0 || rc == -EBADMSG);
        if (rc == 0)
            check_accepted(&out);
    }
}
END_TEST

static Suite *node_meta_suite(void)
{
    Suite *s = suite_create("cluster_node_meta");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_size_limit);
    tcase_add_test(tc, test_encode_refuses_invalid);
    tcase_add_test(tc, test_required_fields);
    tcase_add_test(tc, test_wrong_types);
    tcase_add_test(tc, test_oversize_and_bad_values);
    tcase_add_test(tc, test_unknown_keys_skipped);
    tcase_add_test(tc, test_fuzz);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(node_meta_suite());
}
