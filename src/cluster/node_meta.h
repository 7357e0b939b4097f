/*
 * What each node tells the others about itself: the metadata SWIM piggybacks
 * on its alive messages (swim.h carries it as opaque bytes, at most
 * NODE_META_MAX).  The cluster status page and the leader election read it:
 * a member is green when its version and config hash equal ours.
 *
 * Encoded as one msgpack map with short keys (the whole must fit a UDP
 * packet beside other gossip).  A decoder skips keys it does not know, so a
 * newer node may add fields; it insists on the required ones.
 */
#ifndef CHORUS_CLUSTER_NODE_META_H
#define CHORUS_CLUSTER_NODE_META_H

#include <stddef.h>
#include <stdint.h>

#include "core/id.h"

#define NODE_META_MAX          512 /* = SWIM_META_MAX */
#define NODE_META_VERSION_MAX  31
#define NODE_META_HASH_LENGTH  64 /* hex SHA-256, lower case */
#define NODE_META_HOSTNAME_MAX 255
#define NODE_META_IP_MAX       63

typedef struct {
    char id[ID_LENGTH + 1];                      /* required */
    char version[NODE_META_VERSION_MAX + 1];     /* required, e.g. "9.11.0" */
    uint32_t schema_version;                     /* 0 = unknown */
    char config_hash[NODE_META_HASH_LENGTH + 1]; /* required */
    char hostname[NODE_META_HOSTNAME_MAX + 1];   /* required */
    char ipaddress[NODE_META_IP_MAX + 1];        /* "" = unknown */
    uint16_t gossip_port, streaming_port;        /* required, non-zero */
    uint16_t api_port;                           /* 0 = unknown */
    int64_t start_at;                            /* required: wall ms, > 0 */
    char leader_id[ID_LENGTH + 1];               /* who this node thinks leads; "" = none */
} node_meta_t;

/* 0 and *len; -EINVAL when a field would not decode (bad id, empty required
 * field, bad hash, non-printable text), -EMSGSIZE when the encoding exceeds
 * `cap` or NODE_META_MAX (a hostname too long beside the rest). */
int node_meta_encode(const node_meta_t *meta, uint8_t *out, size_t cap, size_t *len);

/* 0, -EMSGSIZE (len > NODE_META_MAX) or -EBADMSG (not one well-formed map,
 * a field of the wrong type or out of bounds, a key twice, a required field
 * missing).  On error *meta is zeroed. */
int node_meta_decode(const uint8_t *data, size_t len, node_meta_t *meta);

#endif
