/*
 * SWIM's wire format, private to swim.c and swim_wire.c: the message that
 * the state machine (swim.c) reasons about and the functions that turn it
 * into bytes and back (swim_wire.c, which describes the format).  Nothing
 * here knows about the member table; swim.c passes in the few values the
 * format needs (our id, the members to list, the decoding zone).
 */
#ifndef CHORUS_CLUSTER_SWIM_WIRE_H
#define CHORUS_CLUSTER_SWIM_WIRE_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/swim.h"

#define SWIM_MSGS_MAX 128 /* more than we ever put in one packet */

typedef enum {
    MSG_PING = 1,
    MSG_ACK = 2,
    MSG_PING_REQ = 3,
    MSG_NACK = 4,
    MSG_SUSPECT = 5,
    MSG_ALIVE = 6,
    MSG_DEAD = 7,
} swim_msg_type_t;

/* One decoded (or to be encoded) message; strings point into the packet. */
typedef struct {
    swim_msg_type_t type;
    uint32_t num; /* seq (ping, ack, ping-req, nack) or incarnation */
    char id[ID_LENGTH + 1];
    char from[ID_LENGTH + 1];
    const char *host; /* alive: the member's; ping-req: the target's */
    size_t host_len;
    uint16_t port;
    const char *reply_host; /* ping, ping-req: where the ack goes */
    size_t reply_host_len;
    uint16_t reply_port;
    const uint8_t *meta;
    size_t meta_len;
    swim_state_t state; /* push-pull entries only */
} swim_msg_t;

/* The packet being built: messages go in `buf` after room kept for the
 * header, which swim_wire_packet_finish puts in front. */
typedef struct {
    uint8_t buf[SWIM_PACKET_MAX];
    size_t len, cap; /* of the body */
    unsigned msgs;   /* in the body */
} swim_wire_packet_t;

/* Starts an empty packet of at most `packet_max` bytes (<= SWIM_PACKET_MAX). */
void swim_wire_packet_begin(swim_wire_packet_t *packet, size_t packet_max);
/* Appends a message if it fits: 0, or -1 and the packet is as it was. */
int swim_wire_packet_add(swim_wire_packet_t *packet, const swim_msg_t *msg);
/* Puts [version, sender in front of the body: 0 and the whole packet in
 * *data and *len (pointing into `packet`), or -1. */
int swim_wire_packet_finish(swim_wire_packet_t *packet, const char *sender, const uint8_t **data, size_t *len);

/* A push-pull state listing members[0..count) (members[0] is the sender).
 * Writes at most `cap` bytes; 0 and *len, or -EMSGSIZE. */
int swim_wire_encode_state(const swim_member_t *members, size_t count, uint8_t *out, size_t cap, size_t *len);

/* Whether a host has only the characters of a DNS name or an IP literal. */
bool swim_wire_host_chars(const char *s, size_t len);

/* Sets up a zone whose single chunk holds the objects of the largest input
 * the decoders accept, so that decoding never allocates.  False: no memory. */
bool swim_wire_zone_init(msgpack_zone *zone);

/* Decode and check a whole packet (into msgs) or push-pull state (into
 * entries: an alive message per member, with its state), so that the caller
 * applies all of it or none.  Hosts and meta point into `data`; the decoded
 * objects use `zone`, which the caller clears afterwards.
 * 0, -EINVAL (malformed), -EMSGSIZE (too large) or -ELOOP (sent by self_id). */
int swim_wire_decode_packet(msgpack_zone *zone, const char *self_id, const uint8_t *data, size_t len,
                            char sender[ID_LENGTH + 1], swim_msg_t msgs[SWIM_MSGS_MAX], size_t *nmsgs);
int swim_wire_decode_state(msgpack_zone *zone, const char *self_id, const uint8_t *data, size_t len,
                           char sender[ID_LENGTH + 1], swim_msg_t entries[SWIM_MEMBERS_MAX], size_t *nentries);

#endif
