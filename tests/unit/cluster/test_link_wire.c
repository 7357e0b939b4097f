/*
 * tests/unit/cluster/test_link_wire.c - src/cluster/link_wire.c: every frame
 * kind round trips; every proper prefix of a real payload is refused as not
 * a frame; wrong shapes are told apart (malformed kind, unknown kind, a
 * hello whose only fault is its digests); and random bytes and bit flips of
 * real payloads never crash the decoder nor come out with a kind they did
 * not have.
 */
#include <check.h>
#include <errno.h>
#include <msgpack.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/link_wire.h"
#include "core/events.h"
#include "../check_main.h"

#define ID_SELF "aaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_PEER "bbbbbbbbbbbbbbbbbbbbbbbbbb"

static config_digest_t sample_digest(void)
{
    config_digest_t d;
    memset(&d, 0, sizeof(d));
    d.count = 2;
    strcpy(d.keys[0].name, "SqlSettings.QueryTimeout");
    memcpy(d.keys[0].digest, "\x01\x02\x03\x04\x05\x06\x07\x08", CONFIG_DIGEST_SIZE);
    strcpy(d.keys[1].name, "ServiceSettings.SiteURL");
    memcpy(d.keys[1].digest, "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8", CONFIG_DIGEST_SIZE);
    return d;
}

/* Decodes `sb` into *f; returns the decoder's answer. */
static int decode(const msgpack_sbuffer *sb, link_wire_frame_t *f)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc = link_wire_decode(&u, (const uint8_t *)sb->data, sb->size, f);
    msgpack_unpacked_destroy(&u);
    return rc;
}

static link_wire_frame_t frame; /* a hello's digests: not on the stack */

START_TEST(test_hello_round_trip)
{
    config_digest_t d = sample_digest();
    const char *targets[] = {ID_PEER, ""};
    for (size_t t = 0; t < 2; t++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        ck_assert_int_eq(link_wire_encode_hello(&sb, ID_SELF, &d, targets[t]), 0);
        memset(&frame, 0xaa, sizeof(frame));
        ck_assert_int_eq(decode(&sb, &frame), 0);
        ck_assert_uint_eq(frame.kind, LINK_WIRE_HELLO);
        ck_assert_str_eq(frame.hello.node_id, ID_SELF);
        ck_assert_uint_eq(frame.hello.target_len, strlen(targets[t]));
        ck_assert(memcmp(frame.hello.target, targets[t], frame.hello.target_len) == 0);
        ck_assert_uint_eq(frame.hello.digest.count, d.count);
        for (size_t i = 0; i < d.count; i++) {
            ck_assert_str_eq(frame.hello.digest.keys[i].name, d.keys[i].name);
            ck_assert(memcmp(frame.hello.digest.keys[i].digest, d.keys[i].digest, CONFIG_DIGEST_SIZE) == 0);
        }
        msgpack_sbuffer_destroy(&sb);
    }
}
END_TEST

START_TEST(test_state_round_trip)
{
    uint8_t state[300];
    for (size_t i = 0; i < sizeof(state); i++)
        state[i] = (uint8_t)(i * 7);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    ck_assert_int_eq(link_wire_encode_state(&sb, state, sizeof(state)), 0);
    ck_assert_int_eq(decode(&sb, &frame), 0);
    ck_assert_uint_eq(frame.kind, LINK_WIRE_STATE);
    ck_assert_uint_eq(frame.state.len, sizeof(state));
    ck_assert(memcmp(frame.state.state, state, sizeof(state)) == 0);
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_event_round_trip)
{
    uint8_t record[64];
    for (size_t i = 0; i < sizeof(record); i++)
        record[i] = (uint8_t)(255 - i);
    const uint16_t types[] = {0, EVENT_WS_EVENT, EVENT_TYPE_MASK};
    const uint64_t seqs[] = {0, 1, UINT64_MAX};
    for (size_t i = 0; i < 3; i++) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        ck_assert_int_eq(link_wire_encode_event(&sb, types[i], record, i * 20, seqs[i]), 0);
        ck_assert_int_eq(decode(&sb, &frame), 0);
        ck_assert_uint_eq(frame.kind, LINK_WIRE_EVENT);
        ck_assert_uint_eq(frame.event.type, types[i]);
        ck_assert_uint_eq(frame.event.len, i * 20);
        ck_assert(frame.event.len == 0 || memcmp(frame.event.record, record, frame.event.len) == 0);
        ck_assert_uint_eq(frame.event.seq, seqs[i]);
        msgpack_sbuffer_destroy(&sb);
    }
}
END_TEST

/* One real payload of each kind, in sb[0..3). */
static void real_payloads(msgpack_sbuffer sb[3])
{
    config_digest_t d = sample_digest();
    static const uint8_t bytes[40] = {1, 2, 3};
    for (int i = 0; i < 3; i++)
        msgpack_sbuffer_init(&sb[i]);
    ck_assert_int_eq(link_wire_encode_hello(&sb[0], ID_SELF, &d, ID_PEER), 0);
    ck_assert_int_eq(link_wire_encode_state(&sb[1], bytes, sizeof(bytes)), 0);
    ck_assert_int_eq(link_wire_encode_event(&sb[2], EVENT_STATUS_CHANGED, bytes, sizeof(bytes), 42), 0);
}

START_TEST(test_truncated_refused)
{
    msgpack_sbuffer sb[3];
    real_payloads(sb);
    for (int k = 0; k < 3; k++) {
        for (size_t len = 0; len < sb[k].size; len++) {
            msgpack_unpacked u;
            msgpack_unpacked_init(&u);
            ck_assert_int_eq(link_wire_decode(&u, (const uint8_t *)sb[k].data, len, &frame), -EINVAL);
            msgpack_unpacked_destroy(&u);
        }
        /* a byte too many is no longer one object either */
        msgpack_sbuffer_write(&sb[k], "\xc0", 1);
        ck_assert_int_eq(decode(&sb[k], &frame), -EINVAL);
        msgpack_sbuffer_destroy(&sb[k]);
    }
}
END_TEST

/* Packs `n` objects built by the caller after [kind: one helper per test. */
static msgpack_packer begin(msgpack_sbuffer *sb, uint32_t n)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, n);
    return pk;
}

START_TEST(test_shapes)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    config_digest_t d = sample_digest();

    /* not a frame: not an array, an empty array, a kind that is not a positive integer */
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_int(&pk, LINK_WIRE_HELLO);
    ck_assert_int_eq(decode(&sb, &frame), -EINVAL);
    msgpack_sbuffer_destroy(&sb);
    pk = begin(&sb, 0);
    ck_assert_int_eq(decode(&sb, &frame), -EINVAL);
    msgpack_sbuffer_destroy(&sb);
    pk = begin(&sb, 2);
    msgpack_pack_int(&pk, -1);
    msgpack_pack_bin_with_body(&pk, "x", 1);
    ck_assert_int_eq(decode(&sb, &frame), -EINVAL);
    msgpack_sbuffer_destroy(&sb);

    /* kinds this node does not know, 0 among them: skipped, not malformed */
    const uint64_t unknown[] = {0, 4, UINT64_MAX};
    for (size_t i = 0; i < 3; i++) {
        pk = begin(&sb, 1);
        msgpack_pack_uint64(&pk, unknown[i]);
        ck_assert_int_eq(decode(&sb, &frame), -ENOTSUP);
        ck_assert_uint_eq(frame.kind, unknown[i]);
        msgpack_sbuffer_destroy(&sb);
    }

    /* hello: a short id, an id with capitals, a target that is not a string, a missing field */
    const char *bad_ids[] = {"aaaa", "AAAAAAAAAAAAAAAAAAAAAAAAAA"};
    for (size_t i = 0; i < 2; i++) {
        pk = begin(&sb, 4);
        msgpack_pack_int(&pk, LINK_WIRE_HELLO);
        msgpack_pack_str_with_body(&pk, bad_ids[i], strlen(bad_ids[i]));
        config_digest_pack(&pk, &d);
        msgpack_pack_str_with_body(&pk, "", 0);
        ck_assert_int_eq(decode(&sb, &frame), -EBADMSG);
        ck_assert_uint_eq(frame.kind, LINK_WIRE_HELLO);
        msgpack_sbuffer_destroy(&sb);
    }
    pk = begin(&sb, 4);
    msgpack_pack_int(&pk, LINK_WIRE_HELLO);
    msgpack_pack_str_with_body(&pk, ID_SELF, strlen(ID_SELF));
    config_digest_pack(&pk, &d);
    msgpack_pack_nil(&pk);
    ck_assert_int_eq(decode(&sb, &frame), -EBADMSG);
    msgpack_sbuffer_destroy(&sb);
    pk = begin(&sb, 3);
    msgpack_pack_int(&pk, LINK_WIRE_HELLO);
    msgpack_pack_str_with_body(&pk, ID_SELF, strlen(ID_SELF));
    config_digest_pack(&pk, &d);
    ck_assert_int_eq(decode(&sb, &frame), -EBADMSG);
    msgpack_sbuffer_destroy(&sb);

    /* hello whose digests alone are wrong: a 7-byte digest */
    pk = begin(&sb, 4);
    msgpack_pack_int(&pk, LINK_WIRE_HELLO);
    msgpack_pack_str_with_body(&pk, ID_SELF, strlen(ID_SELF));
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str_with_body(&pk, "SqlSettings.QueryTimeout", 24);
    msgpack_pack_bin_with_body(&pk, "1234567", 7);
    msgpack_pack_str_with_body(&pk, "", 0);
    ck_assert_int_eq(decode(&sb, &frame), -EPROTO);
    ck_assert_uint_eq(frame.kind, LINK_WIRE_HELLO);
    msgpack_sbuffer_destroy(&sb);

    /* state: a string where the bin goes, an extra field */
    pk = begin(&sb, 2);
    msgpack_pack_int(&pk, LINK_WIRE_STATE);
    msgpack_pack_str_with_body(&pk, "x", 1);
    ck_assert_int_eq(decode(&sb, &frame), -EBADMSG);
    msgpack_sbuffer_destroy(&sb);
    pk = begin(&sb, 3);
    msgpack_pack_int(&pk, LINK_WIRE_STATE);
    msgpack_pack_bin_with_body(&pk, "x", 1);
    msgpack_pack_nil(&pk);
    ck_assert_int_eq(decode(&sb, &frame), -EBADMSG);
    msgpack_sbuffer_destroy(&sb);

    /* event: a type above EVENT_TYPE_MASK, a negative seq */
    pk = begin(&sb, 4);
    msgpack_pack_int(&pk, LINK_WIRE_EVENT);
    msgpack_pack_uint32(&pk, EVENT_TYPE_MASK + 1);
    msgpack_pack_bin_with_body(&pk, "x", 1);
    msgpack_pack_uint64(&pk, 1);
    ck_assert_int_eq(decode(&sb, &frame), -EBADMSG);
    ck_assert_uint_eq(frame.kind, LINK_WIRE_EVENT);
    msgpack_sbuffer_destroy(&sb);
    pk = begin(&sb, 4);
    msgpack_pack_int(&pk, LINK_WIRE_EVENT);
    msgpack_pack_uint16(&pk, EVENT_WS_EVENT);
    msgpack_pack_bin_with_body(&pk, "x", 1);
    msgpack_pack_int64(&pk, -1);
    ck_assert_int_eq(decode(&sb, &frame), -EBADMSG);
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_garbage)
{
    srand(12);
    uint8_t buf[512];
    int refused = 0;
    for (int round = 0; round < 20000; round++) {
        size_t len = 1 + (size_t)rand() % sizeof(buf);
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)rand();
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        refused += link_wire_decode(&u, buf, len, &frame) != 0;
        msgpack_unpacked_destroy(&u);
    }
    ck_assert_int_eq(refused, 20000);

    /* bit flips of real payloads: whatever decodes keeps a known kind */
    msgpack_sbuffer sb[3];
    real_payloads(sb);
    for (int k = 0; k < 3; k++) {
        uint8_t *copy = malloc(sb[k].size);
        ck_assert_ptr_nonnull(copy);
        for (size_t bit = 0; bit < sb[k].size * 8; bit++) {
            memcpy(copy, sb[k].data, sb[k].size);
            copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            msgpack_unpacked u;
            msgpack_unpacked_init(&u);
            int rc = link_wire_decode(&u, copy, sb[k].size, &frame);
            if (rc == 0)
                ck_assert(frame.kind >= LINK_WIRE_HELLO && frame.kind <= LINK_WIRE_EVENT);
            msgpack_unpacked_destroy(&u);
        }
        free(copy);
        msgpack_sbuffer_destroy(&sb[k]);
    }
}
END_TEST

static Suite *link_wire_suite(void)
{
    Suite *s = suite_create("cluster_link_wire");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_hello_round_trip);
    tcase_add_test(tc, test_state_round_trip);
    tcase_add_test(tc, test_event_round_trip);
    tcase_add_test(tc, test_truncated_refused);
    tcase_add_test(tc, test_shapes);
    tcase_add_test(tc, test_garbage);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(link_wire_suite());
}
