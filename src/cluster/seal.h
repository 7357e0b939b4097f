/*
 * The envelope around every gossip packet and streaming frame.  Every
 * envelope is authenticated with AES-GCM under the cluster key (Systems row
 * ClusterEncryptionKey: 16, 24 or 32 bytes → AES-128/192/256), whatever the
 * config says: a packet from anyone without the key is refused, so knowing
 * the cluster name (or the ports) is not enough to join, read the event
 * stream or inject records.  ClusterSettings.EnableExperimentalGossipEncryption
 * says whether the payload is also encrypted:
 *
 * Sealed:        "CH" 'S' | 12-byte random nonce | ciphertext | 16-byte tag
 * Authenticated: "CH" 'A' | 12-byte random nonce | plaintext  | 16-byte tag
 *
 * The additional authenticated data is the magic, the channel (gossip or
 * link) and the cluster name (an envelope of another cluster, or of the
 * other channel, fails like a forgery); an authenticated
 * envelope's plaintext is authenticated data too (GMAC).  The (cipher- or
 * plain-)text is: sender id (26) | epoch (u64 BE, the sender's start time
 * in ms) | counter (u64 BE) | wall time ms (u64 BE) | payload.
 * An envelope is accepted once: per sender, the epoch must not go back and
 * the counter must be new within a 64-counter window (IPsec's anti-replay);
 * its wall time must be within 30 s of ours, so traffic recorded before a
 * receiver restarted is refused too.  The unauthenticated "CH" 'P' envelope
 * of earlier chorus versions (cluster name in clear, no key) is refused as
 * such.  Everything refused is counted by reason, never logged per packet
 * (a flood must not fill logs).
 */
#ifndef CHORUS_CLUSTER_SEAL_H
#define CHORUS_CLUSTER_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/id.h"

#define SEAL_NAME_MAX      255
#define SEAL_KEY_MAX       32
#define SEAL_OVERHEAD_MAX  (3 + 12 + ID_LENGTH + 24 + 16) /* bytes added, either form */
#define SEAL_SENDERS_MAX   128 /* replay state kept for this many senders (least recent replaced) */
#define SEAL_CLOCK_SKEW_MS 30000

typedef struct seal_s seal_t;

/* Which transport a seal serves (seal.c: one counter and one set of replay
 * windows each); part of the additional authenticated data. */
typedef enum { SEAL_CHANNEL_GOSSIP = 'G', SEAL_CHANNEL_LINK = 'L' } seal_channel_t;

/* `key` is 16, 24 or 32 bytes; `encrypt` chooses sealed envelopes over
 * authenticated ones (a node accepts only its own kind).  `self_id` is our
 * node id, `epoch_ms` our start time.  0, -EINVAL, -ENOMEM. */
int seal_create(seal_t **out, const char *cluster_name, seal_channel_t channel, const uint8_t *key, size_t key_len,
                bool encrypt, const char *self_id, int64_t epoch_ms);
void seal_destroy(seal_t *seal);
bool seal_is_encrypted(const seal_t *seal);

/* Wraps `payload` into `out` (cap bytes; payload_len + SEAL_OVERHEAD_MAX always
 * does).  0 and *out_len, -EMSGSIZE, or -EIO (OpenSSL failed); -EINVAL for a
 * NULL argument or a negative time.  `payload` and `out` must not overlap. */
int seal_wrap(seal_t *seal, const uint8_t *payload, size_t payload_len, uint8_t *out, size_t cap, size_t *out_len,
              int64_t now_wall_ms);

typedef enum {
    SEAL_OK = 0,
    SEAL_EMALFORMED = -1, /* too short, bad magic, bad lengths */
    SEAL_EPLAIN = -2,     /* unauthenticated: an outsider, or a chorus from before authentication */
    SEAL_EWRONGMODE = -3, /* authenticated when we encrypt, or sealed when we do not */
    SEAL_EAUTH = -4,      /* tag does not verify (wrong key, forged, corrupt) */
    SEAL_EREPLAY = -5,    /* seen before, older epoch, or outside the clock window */
} seal_result_t;

/* Unwraps in place: on SEAL_OK, *payload and *payload_len point into `data`, and
 * `sender_id` (ID_LENGTH + 1, may be NULL) holds the authenticated sender id. */
seal_result_t seal_unwrap(seal_t *seal, uint8_t *data, size_t len, const uint8_t **payload, size_t *payload_len,
                          char *sender_id, int64_t now_wall_ms);

typedef struct {
    uint64_t wrapped, unwrapped, malformed, plain, wrong_mode, auth_failed, replayed;
} seal_stats_t;
void seal_get_stats(const seal_t *seal, seal_stats_t *stats);

#endif
