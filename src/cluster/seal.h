/*
 * The envelope around every gossip packet and streaming frame.  It carries
 * the cluster name, so nodes of another cluster on the same network are
 * dropped, and, with ClusterSettings.EnableExperimentalGossipEncryption, it
 * is sealed with AES-GCM (OpenSSL) under the cluster key (Systems row
 * ClusterEncryptionKey: 16, 24 or 32 bytes → AES-128/192/256).
 *
 * Plain:  "CH" 'P' | u8 name length | cluster name | payload
 * Sealed: "CH" 'S' | 12-byte random nonce | ciphertext | 16-byte tag,
 *         the additional authenticated data being "CHS" + the cluster name,
 *         the plaintext being: sender id (26) | epoch (u64 BE, the sender's
 *         start time in ms) | counter (u64 BE) | wall time ms (u64 BE) | payload.
 * A sealed envelope is accepted once: per sender, the epoch must not go back
 * and the counter must be new within a 64-counter window (IPsec's
 * anti-replay); its wall time must be within 30 s of ours, so traffic
 * recorded before a receiver restarted is refused too.  Everything refused
 * is counted by reason, never logged per packet (a flood must not fill logs).
 */
#ifndef CHORUS_CLUSTER_SEAL_H
#define CHORUS_CLUSTER_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/id.h"

#define SEAL_NAME_MAX      255
#define SEAL_KEY_MAX       32
#define SEAL_OVERHEAD_MAX  (3 + 12 + ID_LENGTH + 24 + 16 + 1 + SEAL_NAME_MAX) /* bytes added, either form */
#define SEAL_SENDERS_MAX   128 /* replay state kept for this many senders (least recent replaced) */
#define SEAL_CLOCK_SKEW_MS 30000

typedef struct seal_s seal_t;

/* `key` NULL (or key_len 0) = plain envelopes; else 16, 24 or 32 bytes.
 * `self_id` is our node id, `epoch_ms` our start time.  0, -EINVAL, -ENOMEM. */
int seal_create(seal_t **out, const char *cluster_name, const uint8_t *key, size_t key_len, const char *self_id,
                int64_t epoch_ms);
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
    SEAL_EWRONGNAME = -2, /* another cluster's name (plain; sealed, it fails as SEAL_EAUTH) */
    SEAL_EWRONGMODE = -3, /* plain when we seal, or sealed when we do not */
    SEAL_EAUTH = -4,      /* tag does not verify (wrong key, forged, corrupt) */
    SEAL_EREPLAY = -5,    /* seen before, older epoch, or outside the clock window */
} seal_result_t;

/* Unwraps in place: on SEAL_OK, *payload and *payload_len point into `data`, and
 * `sender_id` (ID_LENGTH + 1) holds the sealed sender id ("" when plain). */
seal_result_t seal_unwrap(seal_t *seal, uint8_t *data, size_t len, const uint8_t **payload, size_t *payload_len,
                          char *sender_id, int64_t now_wall_ms);

typedef struct {
    uint64_t wrapped, unwrapped, malformed, wrong_name, wrong_mode, auth_failed, replayed;
} seal_stats_t;
void seal_get_stats(const seal_t *seal, seal_stats_t *stats);

#endif
