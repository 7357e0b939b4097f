/*
 * tests/unit/cluster/test_swim_wire.c - src/cluster/swim_wire.c: a packet
 * holding every message type and a full push-pull state round trip; every
 * proper prefix and random bytes are refused; and the size bounds hold (a
 * packet never grows past the size it was begun with and a message that
 * does not fit leaves it as it was; oversize input, too many messages or
 * members, a state beyond its buffer are refused; our own packet is told
 * apart).
 */
#include <check.h>
#include <errno.h>
#include <msgpack.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/swim_wire.h"
#include "../check_main.h"

#define ID_SELF "aaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_PEER "bbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ID_SUSP "cccccccccccccccccccccccccc"

static msgpack_zone zone;
static swim_wire_packet_t packet;
static swim_msg_t msgs[SWIM_MSGS_MAX];
static swim_msg_t entries[SWIM_MEMBERS_MAX];
static swim_member_t members[SWIM_MEMBERS_MAX];
static uint8_t state[SWIM_STATE_MAX];

static void setup(void)
{
    ck_assert(swim_wire_zone_init(&zone));
}

static void teardown(void)
{
    msgpack_zone_destroy(&zone);
}

static const uint8_t META[] = {0x81, 0xa1, 'v', 0x01};

/* One message of each type, as swim.c would fill them. */
static size_t sample_msgs(swim_msg_t out[7])
{
    swim_msg_t m[7] = {
        {.type = MSG_PING, .num = 1, .id = ID_PEER, .reply_host = "10.0.0.1", .reply_host_len = 8, .reply_port = 7946},
        {.type = MSG_ACK, .num = 2},
        {.type = MSG_PING_REQ,
         .num = 3,
         .id = ID_SUSP,
         .host = "node-c.example.com",
         .host_len = 18,
         .port = 7947,
         .reply_host = "[fe80::1%eth0]",
         .reply_host_len = 14,
         .reply_port = 7948},
        {.type = MSG_NACK, .num = UINT32_MAX},
        {.type = MSG_SUSPECT, .num = 5, .id = ID_SUSP, .from = ID_PEER},
        {.type = MSG_ALIVE,
         .num = 6,
         .id = ID_PEER,
         .host = "b",
         .host_len = 1,
         .port = 1,
         .meta = META,
         .meta_len = sizeof(META)},
        {.type = MSG_DEAD, .num = 7, .id = ID_SUSP, .from = ID_SUSP},
    };
    memcpy(out, m, sizeof(m));
    return 7;
}

static void assert_str_eq_n(const char *a, size_t alen, const char *b, size_t blen)
{
    ck_assert_uint_eq(alen, blen);
    ck_assert(alen == 0 || memcmp(a, b, alen) == 0);
}

static void assert_msg_eq(const swim_msg_t *got, const swim_msg_t *want)
{
    ck_assert_int_eq(got->type, want->type);
    ck_assert_uint_eq(got->num, want->num);
    ck_assert_str_eq(got->id, want->id);
    ck_assert_str_eq(got->from, want->from);
    assert_str_eq_n(got->host, got->host_len, want->host, want->host_len);
    ck_assert_uint_eq(got->port, want->port);
    assert_str_eq_n(got->reply_host, got->reply_host_len, want->reply_host, want->reply_host_len);
    ck_assert_uint_eq(got->reply_port, want->reply_port);
    ck_assert_uint_eq(got->meta_len, want->meta_len);
    ck_assert(got->meta_len == 0 || memcmp(got->meta, want->meta, got->meta_len) == 0);
}

/* The sample packet: its bytes in *data and *len. */
static void sample_packet(const uint8_t **data, size_t *len)
{
    swim_msg_t m[7];
    size_t n = sample_msgs(m);
    swim_wire_packet_begin(&packet, 1400);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(swim_wire_packet_add(&packet, &m[i]), 0);
    ck_assert_int_eq(swim_wire_packet_finish(&packet, ID_PEER, data, len), 0);
}

START_TEST(test_packet_round_trip)
{
    const uint8_t *data;
    size_t len, n;
    char sender[ID_LENGTH + 1];
    swim_msg_t want[7];
    sample_packet(&data, &len);
    ck_assert_uint_le(len, 1400);
    ck_assert_int_eq(swim_wire_decode_packet(&zone, ID_SELF, data, len, sender, msgs, &n), 0);
    msgpack_zone_clear(&zone);
    ck_assert_str_eq(sender, ID_PEER);
    ck_assert_uint_eq(n, sample_msgs(want));
    for (size_t i = 0; i < n; i++)
        assert_msg_eq(&msgs[i], &want[i]);
}
END_TEST

/* A full table with the longest hosts and metas. */
static size_t full_table(void)
{
    for (size_t i = 0; i < SWIM_MEMBERS_MAX; i++) {
        swim_member_t *m = &members[i];
        memset(m, 0, sizeof(*m));
        snprintf(m->id, sizeof(m->id), "member%020zu", i);
        memset(m->host, 'h', SWIM_HOST_MAX);
        m->host[SWIM_HOST_MAX] = '\0';
        m->port = (uint16_t)(1000 + i);
        m->incarnation = (uint32_t)(i * 1000003u);
        m->state = (swim_state_t)(i % 4);
        m->meta_len = SWIM_META_MAX;
        memset(m->meta, (int)i, SWIM_META_MAX);
    }
    return SWIM_MEMBERS_MAX;
}

START_TEST(test_state_round_trip)
{
    size_t count = full_table(), len, n;
    char sender[ID_LENGTH + 1];
    ck_assert_int_eq(swim_wire_encode_state(members, count, state, sizeof(state), &len), 0);
    ck_assert_uint_le(len, SWIM_STATE_MAX);
    ck_assert_int_eq(swim_wire_decode_state(&zone, ID_SELF, state, len, sender, entries, &n), 0);
    msgpack_zone_clear(&zone);
    ck_assert_str_eq(sender, members[0].id);
    ck_assert_uint_eq(n, count);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(entries[i].type, MSG_ALIVE);
        ck_assert_str_eq(entries[i].id, members[i].id);
        assert_str_eq_n(entries[i].host, entries[i].host_len, members[i].host, strlen(members[i].host));
        ck_assert_uint_eq(entries[i].port, members[i].port);
        ck_assert_uint_eq(entries[i].num, members[i].incarnation);
        ck_assert_int_eq(entries[i].state, members[i].state);
        ck_assert_uint_eq(entries[i].meta_len, members[i].meta_len);
        ck_assert(memcmp(entries[i].meta, members[i].meta, entries[i].meta_len) == 0);
    }

    /* one byte short of the room it needs: refused, nothing claimed */
    ck_assert_int_eq(swim_wire_encode_state(members, count, state, len - 1, &n), -EMSGSIZE);
    ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_truncated_refused)
{
    const uint8_t *data;
    size_t len, n;
    char sender[ID_LENGTH + 1];
    sample_packet(&data, &len);
    for (size_t cut = 0; cut < len; cut++) {
        ck_assert_int_eq(swim_wire_decode_packet(&zone, ID_SELF, data, cut, sender, msgs, &n), -EINVAL);
        msgpack_zone_clear(&zone);
    }
    full_table();
    ck_assert_int_eq(swim_wire_encode_state(members, 3, state, sizeof(state), &len), 0);
    for (size_t cut = 0; cut < len; cut++) {
        ck_assert_int_eq(swim_wire_decode_state(&zone, ID_SELF, state, cut, sender, entries, &n), -EINVAL);
        msgpack_zone_clear(&zone);
    }
}
END_TEST

START_TEST(test_garbage_refused)
{
    uint8_t buf[2048];
    size_t n;
    char sender[ID_LENGTH + 1];
    srand(7);
    for (int round = 0; round < 20000; round++) {
        size_t len = 1 + (size_t)rand() % sizeof(buf);
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)rand();
        ck_assert_int_ne(swim_wire_decode_packet(&zone, ID_SELF, buf, len, sender, msgs, &n), 0);
        msgpack_zone_clear(&zone);
        ck_assert_int_ne(swim_wire_decode_state(&zone, ID_SELF, buf, len, sender, entries, &n), 0);
        msgpack_zone_clear(&zone);
    }

    /* bit flips of a real packet: refused, or decoded into checked messages */
    const uint8_t *data;
    size_t len;
    sample_packet(&data, &len);
    uint8_t copy[1400];
    memcpy(copy, data, len);
    for (size_t bit = 0; bit < len * 8; bit++) {
        copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (swim_wire_decode_packet(&zone, ID_SELF, copy, len, sender, msgs, &n) == 0)
            for (size_t i = 0; i < n; i++) {
                ck_assert(msgs[i].type >= MSG_PING && msgs[i].type <= MSG_DEAD);
                ck_assert(swim_wire_host_chars(msgs[i].host, msgs[i].host_len));
                ck_assert_uint_le(msgs[i].meta_len, SWIM_META_MAX);
            }
        msgpack_zone_clear(&zone);
        copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
}
END_TEST

START_TEST(test_size_bounds)
{
    const uint8_t *data;
    size_t len, n;
    char sender[ID_LENGTH + 1];
    swim_msg_t m[7];
    sample_msgs(m);

    /* a small packet fills up; the message that does not fit leaves it as it was */
    swim_wire_packet_begin(&packet, 200);
    size_t added = 0;
    for (;;) {
        size_t before = packet.len;
        if (swim_wire_packet_add(&packet, &m[added % 7]) != 0) {
            ck_assert_uint_eq(packet.len, before);
            break;
        }
        added++;
    }
    ck_assert_uint_gt(added, 0);
    ck_assert_uint_eq(packet.msgs, added);
    ck_assert_int_eq(swim_wire_packet_finish(&packet, ID_PEER, &data, &len), 0);
    ck_assert_uint_le(len, 200);
    ck_assert_int_eq(swim_wire_decode_packet(&zone, ID_SELF, data, len, sender, msgs, &n), 0);
    msgpack_zone_clear(&zone);
    ck_assert_uint_eq(n, added);

    /* at most SWIM_MSGS_MAX messages, however large the packet */
    swim_wire_packet_begin(&packet, SWIM_PACKET_MAX);
    for (size_t i = 0; i < SWIM_MSGS_MAX; i++)
        ck_assert_int_eq(swim_wire_packet_add(&packet, &m[1]), 0);
    ck_assert_int_eq(swim_wire_packet_add(&packet, &m[1]), -1);
    ck_assert_int_eq(swim_wire_packet_finish(&packet, ID_PEER, &data, &len), 0);
    ck_assert_int_eq(swim_wire_decode_packet(&zone, ID_SELF, data, len, sender, msgs, &n), 0);
    msgpack_zone_clear(&zone);
    ck_assert_uint_eq(n, SWIM_MSGS_MAX);

    /* a packet with more messages than that is refused */
    static uint8_t big[SWIM_PACKET_MAX + 1];
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 2 + SWIM_MSGS_MAX + 1);
    msgpack_pack_uint8(&pk, 1);
    msgpack_pack_str_with_body(&pk, ID_PEER, ID_LENGTH);
    for (size_t i = 0; i < SWIM_MSGS_MAX + 1; i++) {
        msgpack_pack_array(&pk, 2);
        msgpack_pack_uint8(&pk, MSG_ACK);
        msgpack_pack_uint32(&pk, 1);
    }
    ck_assert_int_eq(swim_wire_decode_packet(&zone, ID_SELF, (const uint8_t *)sb.data, sb.size, sender, msgs, &n),
                     -EINVAL);
    msgpack_zone_clear(&zone);
    msgpack_sbuffer_destroy(&sb);

    /* input above the largest packet or state: refused before it is read */
    memset(big, 0, sizeof(big));
    ck_assert_int_eq(swim_wire_decode_packet(&zone, ID_SELF, big, SWIM_PACKET_MAX + 1, sender, msgs, &n), -EMSGSIZE);
    ck_assert_int_eq(swim_wire_decode_state(&zone, ID_SELF, big, SWIM_STATE_MAX + 1, sender, entries, &n), -EMSGSIZE);
    ck_assert_int_eq(swim_wire_decode_packet(&zone, ID_SELF, NULL, 0, sender, msgs, &n), -EINVAL);

    /* a state listing more members than a table holds */
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 3);
    msgpack_pack_uint8(&pk, 1);
    msgpack_pack_str_with_body(&pk, ID_PEER, ID_LENGTH);
    msgpack_pack_array(&pk, SWIM_MEMBERS_MAX + 1);
    for (size_t i = 0; i < SWIM_MEMBERS_MAX + 1; i++) {
        char id[ID_LENGTH + 1];
        snprintf(id, sizeof(id), "member%020zu", i);
        msgpack_pack_array(&pk, 6);
        msgpack_pack_str_with_body(&pk, id, ID_LENGTH);
        msgpack_pack_str_with_body(&pk, "h", 1);
        msgpack_pack_uint16(&pk, 1);
        msgpack_pack_uint32(&pk, 1);
        msgpack_pack_uint8(&pk, SWIM_ALIVE);
        msgpack_pack_bin_with_body(&pk, "", 0);
    }
    ck_assert_uint_le(sb.size, SWIM_STATE_MAX);
    ck_assert_int_eq(swim_wire_decode_state(&zone, ID_SELF, (const uint8_t *)sb.data, sb.size, sender, entries, &n),
                     -EINVAL);
    msgpack_zone_clear(&zone);
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(test_own_packet_and_hosts)
{
    const uint8_t *data;
    size_t len, n;
    char sender[ID_LENGTH + 1];
    sample_packet(&data, &len);
    ck_assert_int_eq(swim_wire_decode_packet(&zone, ID_PEER, data, len, sender, msgs, &n), -ELOOP);
    msgpack_zone_clear(&zone);

    ck_assert(swim_wire_host_chars("node-1.example.com", 18));
    ck_assert(swim_wire_host_chars("[fe80::1%eth0]", 14));
    ck_assert(!swim_wire_host_chars("a b", 3));
    ck_assert(!swim_wire_host_chars("a\0b", 3));
    ck_assert(!swim_wire_host_chars("a/b", 3));

    /* a message naming a host with other characters refuses the whole packet */
    swim_msg_t m = {.type = MSG_ALIVE, .num = 1, .id = ID_PEER, .host = "a b", .host_len = 3, .port = 1};
    swim_wire_packet_begin(&packet, 1400);
    ck_assert_int_eq(swim_wire_packet_add(&packet, &m), 0);
    ck_assert_int_eq(swim_wire_packet_finish(&packet, ID_PEER, &data, &len), 0);
    ck_assert_int_eq(swim_wire_decode_packet(&zone, ID_SELF, data, len, sender, msgs, &n), -EINVAL);
    msgpack_zone_clear(&zone);
}
END_TEST

static Suite *swim_wire_suite(void)
{
    Suite *s = suite_create("cluster_swim_wire");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_packet_round_trip);
    tcase_add_test(tc, test_state_round_trip);
    tcase_add_test(tc, test_truncated_refused);
    tcase_add_test(tc, test_garbage_refused);
    tcase_add_test(tc, test_size_bounds);
    tcase_add_test(tc, test_own_packet_and_hosts);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(swim_wire_suite());
}
