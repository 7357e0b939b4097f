/*
 * SWIM's wire format (see swim_wire.h): how swim.c's messages become bytes
 * and how bytes from peers become messages again.  One enum of message types,
 * one encoder and one decoder per type, all here; what the messages mean is
 * swim.c's business.
 *
 * A packet is one msgpack array [version, sender id, msg...]; each msg is an
 * array whose first element is its type:
 *   ping      [1, seq, target id, reply host, reply port]
 *   ack       [2, seq]
 *   ping-req  [3, seq, target id, target host, target port, reply host, reply port]
 *   nack      [4, seq]
 *   suspect   [5, incarnation, id, from id]
 *   alive     [6, incarnation, id, host, port, meta (bin)]
 *   dead      [7, incarnation, id, from id]          (from == id: it left)
 * A ping names its target so that a ping sent to a stale address (another
 * node now lives there) is not acked.  The first message of a packet is the
 * reason it was sent (ping, ack...); the others are piggybacked broadcasts.
 * The push-pull state is [version, sender id, [[id, host, port, incarnation,
 * state, meta], ...]].
 *
 * Packets are built in place: messages are packed after room kept for the
 * largest header, and the header, whose array size depends on how many
 * messages fit, is packed last and put right in front of them.  A message
 * that does not fit is rolled back whole.
 *
 * Input from peers is trusted for nothing: a bounded walk first
 * (msgpack_bounds_check), then msgpack-c, then every message is decoded and
 * checked (types, sizes, ids, host characters, ports) into swim_msg_t.  The
 * msgpack-c zone the objects live in is the caller's, set up once by
 * swim_wire_zone_init with a chunk sized for the largest accepted input, so
 * decoding allocates nothing.
 */
#include "cluster/swim_wire.h"

#include "core/msgpack_bounds.h"

#include <errno.h>
#include <string.h>

#define SWIM_VERSION   1
#define SWIM_DEPTH_MAX 3 /* state: array > members > member > field */
/* Room kept at the front of a packet for [version, sender id: array16
 * header, fixint, fixstr of ID_LENGTH. */
#define SWIM_HEAD_RESERVE (3 + 1 + 1 + ID_LENGTH)
/* msgpack-c gives every element of an array 24 bytes (a map pair 48, but a
 * pair takes two input bytes) plus alignment, and every element takes at
 * least one input byte: 32 bytes of zone per input byte always suffice. */
#define SWIM_ZONE_PER_BYTE 32
#define SWIM_INPUT_MAX     (SWIM_PACKET_MAX > SWIM_STATE_MAX ? SWIM_PACKET_MAX : SWIM_STATE_MAX)

_Static_assert(SWIM_STATE_MAX >=
                   3 + 1 + 1 + ID_LENGTH + 3 +
                       SWIM_MEMBERS_MAX * (1 + 1 + ID_LENGTH + 2 + SWIM_HOST_MAX + 3 + 5 + 1 + 3 + SWIM_META_MAX),
               "SWIM_STATE_MAX holds a full table");

typedef struct {
    uint8_t *data;
    size_t len, cap;
} swim_wire_sink_t;

/* ---- encoding ------------------------------------------------------------------------ */

static int swim_wire_sink_write(void *data, const char *bytes, size_t len)
{
    swim_wire_sink_t *s = data;
    if (len > s->cap - s->len)
        return -1;
    memcpy(s->data + s->len, bytes, len);
    s->len += len;
    return 0;
}

static int swim_wire_pack_str(msgpack_packer *pk, const char *s, size_t len)
{
    return msgpack_pack_str(pk, len) != 0 || msgpack_pack_str_body(pk, s, len) != 0 ? -1 : 0;
}

static int swim_wire_pack_seq_msg(msgpack_packer *pk, const swim_msg_t *m)
{
    return msgpack_pack_array(pk, 2) || msgpack_pack_uint8(pk, (uint8_t)m->type) || msgpack_pack_uint32(pk, m->num) ? -1
                                                                                                                    : 0;
}

static int swim_wire_pack_ping(msgpack_packer *pk, const swim_msg_t *m)
{
    return msgpack_pack_array(pk, 5) || msgpack_pack_uint8(pk, MSG_PING) || msgpack_pack_uint32(pk, m->num) ||
                   swim_wire_pack_str(pk, m->id, ID_LENGTH) ||
                   swim_wire_pack_str(pk, m->reply_host, m->reply_host_len) || msgpack_pack_uint16(pk, m->reply_port)
               ? -1
               : 0;
}

static int swim_wire_pack_ping_req(msgpack_packer *pk, const swim_msg_t *m)
{
    return msgpack_pack_array(pk, 7) || msgpack_pack_uint8(pk, MSG_PING_REQ) || msgpack_pack_uint32(pk, m->num) ||
                   swim_wire_pack_str(pk, m->id, ID_LENGTH) || swim_wire_pack_str(pk, m->host, m->host_len) ||
                   msgpack_pack_uint16(pk, m->port) || swim_wire_pack_str(pk, m->reply_host, m->reply_host_len) ||
                   msgpack_pack_uint16(pk, m->reply_port)
               ? -1
               : 0;
}

/* suspect and dead have the same shape */
static int swim_wire_pack_accusation(msgpack_packer *pk, const swim_msg_t *m)
{
    return msgpack_pack_array(pk, 4) || msgpack_pack_uint8(pk, (uint8_t)m->type) || msgpack_pack_uint32(pk, m->num) ||
                   swim_wire_pack_str(pk, m->id, ID_LENGTH) || swim_wire_pack_str(pk, m->from, ID_LENGTH)
               ? -1
               : 0;
}

static int swim_wire_pack_alive(msgpack_packer *pk, const swim_msg_t *m)
{
    return msgpack_pack_array(pk, 6) || msgpack_pack_uint8(pk, MSG_ALIVE) || msgpack_pack_uint32(pk, m->num) ||
                   swim_wire_pack_str(pk, m->id, ID_LENGTH) || swim_wire_pack_str(pk, m->host, m->host_len) ||
                   msgpack_pack_uint16(pk, m->port) || msgpack_pack_bin(pk, m->meta_len) ||
                   msgpack_pack_bin_body(pk, m->meta, m->meta_len)
               ? -1
               : 0;
}

static int swim_wire_pack_msg(msgpack_packer *pk, const swim_msg_t *m)
{
    switch (m->type) {
    case MSG_PING: return swim_wire_pack_ping(pk, m);
    case MSG_ACK:
    case MSG_NACK: return swim_wire_pack_seq_msg(pk, m);
    case MSG_PING_REQ: return swim_wire_pack_ping_req(pk, m);
    case MSG_SUSPECT:
    case MSG_DEAD: return swim_wire_pack_accusation(pk, m);
    case MSG_ALIVE: return swim_wire_pack_alive(pk, m);
    }
    return -1;
}

/* One member of a push-pull state. */
static int swim_wire_pack_entry(msgpack_packer *pk, const swim_member_t *m)
{
    return msgpack_pack_array(pk, 6) || swim_wire_pack_str(pk, m->id, ID_LENGTH) ||
                   swim_wire_pack_str(pk, m->host, strlen(m->host)) || msgpack_pack_uint16(pk, m->port) ||
                   msgpack_pack_uint32(pk, m->incarnation) || msgpack_pack_uint8(pk, (uint8_t)m->state) ||
                   msgpack_pack_bin(pk, m->meta_len) || msgpack_pack_bin_body(pk, m->meta, m->meta_len)
               ? -1
               : 0;
}

void swim_wire_packet_begin(swim_wire_packet_t *packet, size_t packet_max)
{
    packet->len = 0;
    packet->cap = packet_max - SWIM_HEAD_RESERVE;
    packet->msgs = 0;
}

int swim_wire_packet_add(swim_wire_packet_t *packet, const swim_msg_t *msg)
{
    swim_wire_sink_t body = {packet->buf + SWIM_HEAD_RESERVE, packet->len, packet->cap};
    msgpack_packer pk;
    msgpack_packer_init(&pk, &body, swim_wire_sink_write);
    if (packet->msgs >= SWIM_MSGS_MAX || swim_wire_pack_msg(&pk, msg) != 0)
        return -1;
    packet->len = body.len;
    packet->msgs++;
    return 0;
}

int swim_wire_packet_finish(swim_wire_packet_t *packet, const char *sender, const uint8_t **data, size_t *len)
{
    uint8_t head[SWIM_HEAD_RESERVE];
    swim_wire_sink_t sink = {head, 0, sizeof(head)};
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sink, swim_wire_sink_write);
    if (msgpack_pack_array(&pk, 2 + packet->msgs) != 0 || msgpack_pack_uint8(&pk, SWIM_VERSION) != 0 ||
        swim_wire_pack_str(&pk, sender, ID_LENGTH) != 0)
        return -1; /* cannot happen: SWIM_HEAD_RESERVE is the largest header */
    uint8_t *start = packet->buf + SWIM_HEAD_RESERVE - sink.len;
    memcpy(start, head, sink.len);
    *data = start;
    *len = sink.len + packet->len;
    return 0;
}

int swim_wire_encode_state(const swim_member_t *members, size_t count, uint8_t *out, size_t cap, size_t *len)
{
    swim_wire_sink_t sink = {out, 0, cap};
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sink, swim_wire_sink_write);
    *len = 0;
    if (msgpack_pack_array(&pk, 3) || msgpack_pack_uint8(&pk, SWIM_VERSION) ||
        swim_wire_pack_str(&pk, members[0].id, ID_LENGTH) || msgpack_pack_array(&pk, count))
        return -EMSGSIZE;
    for (size_t i = 0; i < count; i++)
        if (swim_wire_pack_entry(&pk, &members[i]) != 0)
            return -EMSGSIZE;
    *len = sink.len;
    return 0;
}

/* ---- decoding -------------------------------------------------------------------------- */

static int swim_wire_get_u32(const msgpack_object *o, uint32_t *out)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > UINT32_MAX)
        return -1;
    *out = (uint32_t)o->via.u64;
    return 0;
}

static int swim_wire_get_port(const msgpack_object *o, uint16_t *out)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 == 0 || o->via.u64 > UINT16_MAX)
        return -1;
    *out = (uint16_t)o->via.u64;
    return 0;
}

static int swim_wire_get_id(const msgpack_object *o, char out[ID_LENGTH + 1])
{
    if (o->type != MSGPACK_OBJECT_STR || !id_is_valid(o->via.str.ptr, o->via.str.size))
        return -1;
    memcpy(out, o->via.str.ptr, ID_LENGTH);
    out[ID_LENGTH] = '\0';
    return 0;
}

/* A DNS name or an IP literal (v6 with brackets and a zone): anything else
 * would end up in logs and in the cluster status page. */
bool swim_wire_host_chars(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr(".-_:%[]", c) != NULL) ||
            c == '\0')
            return false;
    }
    return true;
}

static int swim_wire_get_host(const msgpack_object *o, const char **host, size_t *len)
{
    if (o->type != MSGPACK_OBJECT_STR || o->via.str.size == 0 || o->via.str.size > SWIM_HOST_MAX ||
        !swim_wire_host_chars(o->via.str.ptr, o->via.str.size))
        return -1;
    *host = o->via.str.ptr;
    *len = o->via.str.size;
    return 0;
}

static int swim_wire_get_meta(const msgpack_object *o, const uint8_t **meta, size_t *len)
{
    if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size > SWIM_META_MAX)
        return -1;
    *meta = (const uint8_t *)o->via.bin.ptr;
    *len = o->via.bin.size;
    return 0;
}

static int swim_wire_decode_ping(const msgpack_object *f, uint32_t n, swim_msg_t *m)
{
    return n == 5 && swim_wire_get_u32(&f[1], &m->num) == 0 && swim_wire_get_id(&f[2], m->id) == 0 &&
                   swim_wire_get_host(&f[3], &m->reply_host, &m->reply_host_len) == 0 &&
                   swim_wire_get_port(&f[4], &m->reply_port) == 0
               ? 0
               : -1;
}

static int swim_wire_decode_seq_msg(const msgpack_object *f, uint32_t n, swim_msg_t *m)
{
    return n == 2 && swim_wire_get_u32(&f[1], &m->num) == 0 ? 0 : -1;
}

static int swim_wire_decode_ping_req(const msgpack_object *f, uint32_t n, swim_msg_t *m)
{
    return n == 7 && swim_wire_get_u32(&f[1], &m->num) == 0 && swim_wire_get_id(&f[2], m->id) == 0 &&
                   swim_wire_get_host(&f[3], &m->host, &m->host_len) == 0 && swim_wire_get_port(&f[4], &m->port) == 0 &&
                   swim_wire_get_host(&f[5], &m->reply_host, &m->reply_host_len) == 0 &&
                   swim_wire_get_port(&f[6], &m->reply_port) == 0
               ? 0
               : -1;
}

static int swim_wire_decode_accusation(const msgpack_object *f, uint32_t n, swim_msg_t *m)
{
    return n == 4 && swim_wire_get_u32(&f[1], &m->num) == 0 && swim_wire_get_id(&f[2], m->id) == 0 &&
                   swim_wire_get_id(&f[3], m->from) == 0
               ? 0
               : -1;
}

static int swim_wire_decode_alive(const msgpack_object *f, uint32_t n, swim_msg_t *m)
{
    return n == 6 && swim_wire_get_u32(&f[1], &m->num) == 0 && swim_wire_get_id(&f[2], m->id) == 0 &&
                   swim_wire_get_host(&f[3], &m->host, &m->host_len) == 0 && swim_wire_get_port(&f[4], &m->port) == 0 &&
                   swim_wire_get_meta(&f[5], &m->meta, &m->meta_len) == 0
               ? 0
               : -1;
}

static int swim_wire_decode_msg(const msgpack_object *o, swim_msg_t *m)
{
    *m = (swim_msg_t){0};
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size == 0 ||
        o->via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return -1;
    const msgpack_object *f = o->via.array.ptr;
    uint32_t n = o->via.array.size;
    m->type = (swim_msg_type_t)(f[0].via.u64 > MSG_DEAD ? 0 : f[0].via.u64);
    switch (m->type) {
    case MSG_PING: return swim_wire_decode_ping(f, n, m);
    case MSG_ACK:
    case MSG_NACK: return swim_wire_decode_seq_msg(f, n, m);
    case MSG_PING_REQ: return swim_wire_decode_ping_req(f, n, m);
    case MSG_SUSPECT:
    case MSG_DEAD: return swim_wire_decode_accusation(f, n, m);
    case MSG_ALIVE: return swim_wire_decode_alive(f, n, m);
    }
    return -1;
}

/* One member of a push-pull state, as the message that would announce it. */
static int swim_wire_decode_entry(const msgpack_object *o, swim_msg_t *m)
{
    *m = (swim_msg_t){.type = MSG_ALIVE};
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 6)
        return -1;
    const msgpack_object *f = o->via.array.ptr;
    uint32_t state;
    if (swim_wire_get_id(&f[0], m->id) != 0 || swim_wire_get_host(&f[1], &m->host, &m->host_len) != 0 ||
        swim_wire_get_port(&f[2], &m->port) != 0 || swim_wire_get_u32(&f[3], &m->num) != 0 ||
        swim_wire_get_u32(&f[4], &state) != 0 || state > SWIM_LEFT ||
        swim_wire_get_meta(&f[5], &m->meta, &m->meta_len) != 0)
        return -1;
    m->state = (swim_state_t)state;
    return 0;
}

/* Checks and unpacks [version, sender, ...]; *rest points at the elements
 * after the sender.  The objects live in `zone` until it is cleared. */
static int swim_wire_unpack(msgpack_zone *zone, const char *self_id, const uint8_t *data, size_t len, size_t max,
                            char sender[ID_LENGTH + 1], const msgpack_object **rest, uint32_t *nrest)
{
    msgpack_object obj;
    size_t off = 0;
    if (data == NULL || len == 0)
        return -EINVAL;
    if (len > max)
        return -EMSGSIZE;
    if (msgpack_bounds_check(data, len, SWIM_DEPTH_MAX) != 0 ||
        msgpack_unpack((const char *)data, len, &off, zone, &obj) != MSGPACK_UNPACK_SUCCESS || off != len)
        return -EINVAL;
    uint32_t version;
    if (obj.type != MSGPACK_OBJECT_ARRAY || obj.via.array.size < 2 ||
        swim_wire_get_u32(&obj.via.array.ptr[0], &version) != 0 || version != SWIM_VERSION ||
        swim_wire_get_id(&obj.via.array.ptr[1], sender) != 0)
        return -EINVAL;
    if (strcmp(sender, self_id) == 0)
        return -ELOOP; /* our own packet came back: a misrouted address */
    *rest = obj.via.array.ptr + 2;
    *nrest = obj.via.array.size - 2;
    return 0;
}

bool swim_wire_zone_init(msgpack_zone *zone)
{
    /* one chunk that holds the largest accepted input: never grows */
    return msgpack_zone_init(zone, (size_t)SWIM_ZONE_PER_BYTE * SWIM_INPUT_MAX);
}

int swim_wire_decode_packet(msgpack_zone *zone, const char *self_id, const uint8_t *data, size_t len,
                            char sender[ID_LENGTH + 1], swim_msg_t msgs[SWIM_MSGS_MAX], size_t *nmsgs)
{
    const msgpack_object *objs;
    uint32_t n;
    int rc = swim_wire_unpack(zone, self_id, data, len, SWIM_PACKET_MAX, sender, &objs, &n);
    if (rc != 0)
        return rc;
    if (n == 0 || n > SWIM_MSGS_MAX)
        return -EINVAL;
    for (uint32_t i = 0; i < n; i++)
        if (swim_wire_decode_msg(&objs[i], &msgs[i]) != 0)
            return -EINVAL;
    *nmsgs = n;
    return 0;
}

int swim_wire_decode_state(msgpack_zone *zone, const char *self_id, const uint8_t *data, size_t len,
                           char sender[ID_LENGTH + 1], swim_msg_t entries[SWIM_MEMBERS_MAX], size_t *nentries)
{
    const msgpack_object *rest;
    uint32_t n;
    int rc = swim_wire_unpack(zone, self_id, data, len, SWIM_STATE_MAX, sender, &rest, &n);
    if (rc != 0)
        return rc;
    if (n != 1 || rest[0].type != MSGPACK_OBJECT_ARRAY || rest[0].via.array.size > SWIM_MEMBERS_MAX)
        return -EINVAL;
    for (uint32_t i = 0; i < rest[0].via.array.size; i++)
        if (swim_wire_decode_entry(&rest[0].via.array.ptr[i], &entries[i]) != 0)
            return -EINVAL;
    *nentries = rest[0].via.array.size;
    return 0;
}
