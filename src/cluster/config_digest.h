/*
 * Per-key digests of a node's config, so that a config mismatch between two
 * nodes can be reported by key ("config mismatch: SqlSettings.QueryTimeout")
 * without sending the values (secrets among them) over the network.  Keys
 * that may differ between nodes (CONFIG_PER_NODE) are left out, as from the
 * config hash.  A digest is the first 8 bytes of SHA-256 over
 * "Section.Key=" and the value's compact JSON.
 */
#ifndef CHORUS_CLUSTER_CONFIG_DIGEST_H
#define CHORUS_CLUSTER_CONFIG_DIGEST_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

#define CONFIG_DIGEST_KEYS_MAX 128
#define CONFIG_DIGEST_NAME_MAX 80
#define CONFIG_DIGEST_SIZE     8

typedef struct {
    size_t count;
    struct {
        char name[CONFIG_DIGEST_NAME_MAX]; /* "SqlSettings.QueryTimeout" */
        uint8_t digest[CONFIG_DIGEST_SIZE];
    } keys[CONFIG_DIGEST_KEYS_MAX];
} config_digest_t;

/* 0 or -ENOMEM. */
int config_digest_compute(const config_t *cfg, config_digest_t *out);

/* Writes the names of the keys whose digests differ (or that only one side
 * has), ", "-separated, into `out`, ending with ", …" when they do not fit.
 * Returns how many keys differ. */
size_t config_digest_diff(const config_digest_t *ours, const config_digest_t *theirs, char *out, size_t size);

/* As a msgpack map name → 8-byte bin. */
int config_digest_pack(msgpack_packer *pk, const config_digest_t *digest);
/* From an unpacked (bounds-checked) object: 0, or -EBADMSG on anything else
 * than a map of at most CONFIG_DIGEST_KEYS_MAX short names to 8-byte bins. */
int config_digest_unpack(const msgpack_object *obj, config_digest_t *digest);

#endif
