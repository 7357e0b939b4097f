/*
 * The streaming link's wire format (see link_wire.h): one enum of frame
 * kinds, one encoder and one decoder per kind, all here.  Each payload is a
 * msgpack array whose first element is its kind:
 *   hello  [1, node id, config digests, id of the node dialed ("" when accepted)]
 *   state  [2, swim state (bin)]
 *   event  [3, ring type, record (bin), seq in the sender's ring]
 *
 * Input from peers, even sealed by a node holding the cluster key, is
 * trusted for nothing: a bounded walk first (msgpack_bounds_check), then
 * msgpack-c, then the fields of the kind are checked.  A kind this node does
 * not know (a newer node's) is told apart from a malformed one, so that the
 * link can skip it rather than fail.
 */
#include "cluster/link_wire.h"

#include "core/events.h"
#include "core/msgpack_bounds.h"

#include <errno.h>
#include <string.h>

/* ---- encoding ------------------------------------------------------------------------ */

int link_wire_encode_hello(msgpack_sbuffer *out, const char *node_id, const config_digest_t *digest, const char *target)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    return msgpack_pack_array(&pk, 4) != 0 || msgpack_pack_int(&pk, LINK_WIRE_HELLO) != 0 ||
                   msgpack_pack_str_with_body(&pk, node_id, ID_LENGTH) != 0 || config_digest_pack(&pk, digest) != 0 ||
                   msgpack_pack_str_with_body(&pk, target, strlen(target)) != 0
               ? -ENOMEM
               : 0;
}

int link_wire_encode_state(msgpack_sbuffer *out, const uint8_t *state, size_t len)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    return msgpack_pack_array(&pk, 2) != 0 || msgpack_pack_int(&pk, LINK_WIRE_STATE) != 0 ||
                   msgpack_pack_bin_with_body(&pk, state, len) != 0
               ? -ENOMEM
               : 0;
}

int link_wire_encode_event(msgpack_sbuffer *out, uint16_t type, const uint8_t *record, size_t len, uint64_t seq)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    return msgpack_pack_array(&pk, 4) != 0 || msgpack_pack_int(&pk, LINK_WIRE_EVENT) != 0 ||
                   msgpack_pack_uint16(&pk, type) != 0 || msgpack_pack_bin_with_body(&pk, record, len) != 0 ||
                   msgpack_pack_uint64(&pk, seq) != 0
               ? -ENOMEM
               : 0;
}

/* ---- decoding -------------------------------------------------------------------------- */

static int link_wire_decode_hello(const msgpack_object *f, uint32_t n, link_wire_hello_t *hello)
{
    if (n != 4 || f[1].type != MSGPACK_OBJECT_STR || f[1].via.str.size != ID_LENGTH ||
        !id_is_valid(f[1].via.str.ptr, f[1].via.str.size) || f[3].type != MSGPACK_OBJECT_STR)
        return -EBADMSG;
    memcpy(hello->node_id, f[1].via.str.ptr, ID_LENGTH);
    hello->node_id[ID_LENGTH] = '\0';
    hello->target = f[3].via.str.ptr;
    hello->target_len = f[3].via.str.size;
    return config_digest_unpack(&f[2], &hello->digest) != 0 ? -EPROTO : 0;
}

static int link_wire_decode_state(const msgpack_object *f, uint32_t n, link_wire_state_t *state)
{
    if (n != 2 || f[1].type != MSGPACK_OBJECT_BIN)
        return -EBADMSG;
    state->state = (const uint8_t *)f[1].via.bin.ptr;
    state->len = f[1].via.bin.size;
    return 0;
}

static int link_wire_decode_event(const msgpack_object *f, uint32_t n, link_wire_event_t *event)
{
    if (n != 4 || f[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER || f[1].via.u64 > EVENT_TYPE_MASK ||
        f[2].type != MSGPACK_OBJECT_BIN || f[3].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return -EBADMSG;
    event->type = (uint16_t)f[1].via.u64;
    event->record = (const uint8_t *)f[2].via.bin.ptr;
    event->len = f[2].via.bin.size;
    event->seq = f[3].via.u64;
    return 0;
}

int link_wire_decode(msgpack_unpacked *u, const uint8_t *data, size_t len, link_wire_frame_t *frame)
{
    size_t off = 0;
    if (msgpack_bounds_check(data, len, LINK_WIRE_DEPTH_MAX) != 0 ||
        msgpack_unpack_next(u, (const char *)data, len, &off) != MSGPACK_UNPACK_SUCCESS ||
        u->data.type != MSGPACK_OBJECT_ARRAY || u->data.via.array.size < 1 ||
        u->data.via.array.ptr[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return -EINVAL;
    const msgpack_object *f = u->data.via.array.ptr;
    uint32_t n = u->data.via.array.size;
    frame->kind = f[0].via.u64;
    switch (frame->kind) {
    case LINK_WIRE_HELLO: return link_wire_decode_hello(f, n, &frame->hello);
    case LINK_WIRE_STATE: return link_wire_decode_state(f, n, &frame->state);
    case LINK_WIRE_EVENT: return link_wire_decode_event(f, n, &frame->event);
    }
    return -ENOTSUP;
}
