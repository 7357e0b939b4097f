/*
 * The streaming link's wire format, private to link.c and link_wire.c: the
 * frame kinds, what each carries, and the functions that turn them into
 * payloads (msgpack, before sealing: seal.h) and back.  Framing (frame.h)
 * and sealing happen around these; what a frame means is link.c's business.
 */
#ifndef CHORUS_CLUSTER_LINK_WIRE_H
#define CHORUS_CLUSTER_LINK_WIRE_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/config_digest.h"
#include "core/id.h"

typedef enum {
    LINK_WIRE_HELLO = 1,
    LINK_WIRE_STATE = 2,
    LINK_WIRE_EVENT = 3,
} link_wire_kind_t;

/* Nesting of the deepest frame: a hello's [kind, id, {name: bin}, target]. */
#define LINK_WIRE_DEPTH_MAX 4

typedef struct {
    char node_id[ID_LENGTH + 1];
    config_digest_t digest;
    const char *target; /* the node dialed, "" (len 0) when accepted; not checked here */
    size_t target_len;
} link_wire_hello_t;

typedef struct {
    const uint8_t *state; /* SWIM's push-pull state (swim_wire.h), undecoded */
    size_t len;
} link_wire_state_t;

typedef struct {
    uint16_t type; /* <= EVENT_TYPE_MASK */
    const uint8_t *record;
    size_t len;
    uint64_t seq; /* in the sender's ring */
} link_wire_event_t;

/* One decoded frame; pointers point into the decoded payload. */
typedef struct {
    uint64_t kind; /* as sent: may be one this node does not know */
    union {
        link_wire_hello_t hello;
        link_wire_state_t state;
        link_wire_event_t event;
    };
} link_wire_frame_t;

/* Each appends one payload to `out` (empty or not): 0 or -ENOMEM.
 * target: the id of the node dialed, "" on an accepted link. */
int link_wire_encode_hello(msgpack_sbuffer *out, const char *node_id, const config_digest_t *digest,
                           const char *target);
int link_wire_encode_state(msgpack_sbuffer *out, const uint8_t *state, size_t len);
int link_wire_encode_event(msgpack_sbuffer *out, uint16_t type, const uint8_t *record, size_t len, uint64_t seq);

/* Decodes one payload from a peer.  `u` is the caller's (initialized; it
 * destroys it once done with `frame`).
 *   0         frame->kind is known and its fields are valid
 *   -EINVAL   not a frame at all (bounds, msgpack, no kind): frame->kind unset
 *   -ENOTSUP  a kind this node does not know (frame->kind says which)
 *   -EBADMSG  a known kind, malformed (frame->kind says which)
 *   -EPROTO   a hello whose only fault is its config digests */
int link_wire_decode(msgpack_unpacked *u, const uint8_t *data, size_t len, link_wire_frame_t *frame);

#endif
