/*
 * tests/fuzz/swim_wire.c - src/cluster/swim_wire.c's decoders on a gossip
 * packet or a push-pull state from a peer (after the envelope: seal.c is
 * fuzzed on its own).  The first byte picks which.  Checked: counts within
 * their arrays, hosts and metas inside the input and within their bounds,
 * and a decoded packet re-encodes into one that decodes to as many messages.
 */
#include <msgpack.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/swim_wire.h"

#define SELF "aaaaaaaaaaaaaaaaaaaaaaaaaa"

static msgpack_zone zone;
static bool zone_ready;
static swim_msg_t msgs[SWIM_MSGS_MAX], again[SWIM_MSGS_MAX];
static swim_msg_t entries[SWIM_MEMBERS_MAX];
static swim_wire_packet_t packet;

static void check_span(const void *p, size_t n, size_t max, const uint8_t *data, size_t size)
{
    if (n > max || (n > 0 && ((const uint8_t *)p < data || (const uint8_t *)p + n > data + size)))
        abort();
}

static void check_msg(const swim_msg_t *m, const uint8_t *data, size_t size)
{
    check_span(m->host, m->host_len, SWIM_HOST_MAX, data, size);
    check_span(m->reply_host, m->reply_host_len, SWIM_HOST_MAX, data, size);
    check_span(m->meta, m->meta_len, SWIM_META_MAX, data, size);
    if (strlen(m->id) > ID_LENGTH || strlen(m->from) > ID_LENGTH)
        abort();
}

static void packet_round_trip(const char *sender, size_t n)
{
    swim_wire_packet_begin(&packet, SWIM_PACKET_MAX);
    for (size_t i = 0; i < n; i++)
        if (swim_wire_packet_add(&packet, &msgs[i]) != 0)
            return;
    const uint8_t *out;
    size_t len, m;
    char sender2[ID_LENGTH + 1];
    if (swim_wire_packet_finish(&packet, sender, &out, &len) != 0)
        return;
    if (swim_wire_decode_packet(&zone, SELF, out, len, sender2, again, &m) != 0 || m != n ||
        strcmp(sender, sender2) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (!zone_ready && !(zone_ready = swim_wire_zone_init(&zone)))
        return 0;
    const uint8_t *p = data + 1;
    size_t len = size - 1, n = 0;
    char sender[ID_LENGTH + 1];
    if (data[0] & 1) {
        if (swim_wire_decode_state(&zone, SELF, p, len, sender, entries, &n) == 0) {
            if (n > SWIM_MEMBERS_MAX)
                abort();
            for (size_t i = 0; i < n; i++)
                check_msg(&entries[i], p, len);
        }
    } else if (swim_wire_decode_packet(&zone, SELF, p, len, sender, msgs, &n) == 0) {
        if (n > SWIM_MSGS_MAX)
            abort();
        for (size_t i = 0; i < n; i++)
            check_msg(&msgs[i], p, len);
        packet_round_trip(sender, n);
    }
    msgpack_zone_clear(&zone);
    return 0;
}
