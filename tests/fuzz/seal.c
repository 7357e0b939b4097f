/*
 * tests/fuzz/seal.c - src/cluster/seal.c, the envelope around every gossip
 * packet and streaming frame, opened by a node with a fixed cluster key.
 * The first byte picks the mode (bit 0: encrypted or authenticated only),
 * the key size (bits 2-3) and what the rest is (bit 1):
 *  - an envelope as received from anyone: it must open to a payload inside
 *    it, or be refused;
 *  - a payload that a peer holding the key wraps; the next two bytes say
 *    which byte of the envelope to flip, and how (0: none).  The untouched
 *    envelope must open to the same payload and sender, once (a second
 *    delivery is a replay); a flipped one must be refused.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/seal.h"

#define NOW    INT64_C(1700000000000)
#define NAME   "chorus-fuzz"
#define SENDER "bbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SELF   "aaaaaaaaaaaaaaaaaaaaaaaaaa"

static const uint8_t key[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const size_t key_sizes[] = {16, 24, 32, 32};

static seal_result_t open_copy(seal_t *s, const uint8_t *env, size_t len, uint8_t *buf, const uint8_t **payload,
                               size_t *payload_len, char sender[ID_LENGTH + 1])
{
    memcpy(buf, env, len);
    seal_result_t rc = seal_unwrap(s, buf, len, payload, payload_len, sender, NOW);
    if (rc == SEAL_OK && (*payload < buf || *payload + *payload_len > buf + len || strlen(sender) != ID_LENGTH))
        abort();
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool encrypt = data[0] & 1, wrap = data[0] & 2;
    size_t key_len = key_sizes[(data[0] >> 2) & 3];
    seal_t *self = NULL, *peer = NULL;
    uint8_t *env = NULL, *buf = NULL;
    if (seal_create(&self, NAME, SEAL_CHANNEL_LINK, key, key_len, encrypt, SELF, NOW) != 0)
        return 0;
    const uint8_t *payload;
    size_t payload_len;
    char sender[ID_LENGTH + 1];
    if (!wrap) {
        if ((buf = malloc(size)) != NULL)
            (void)open_copy(self, data + 1, size - 1, buf, &payload, &payload_len, sender);
        goto done;
    }
    if (size < 3 || seal_create(&peer, NAME, SEAL_CHANNEL_LINK, key, key_len, encrypt, SENDER, NOW - 1000) != 0)
        goto done;
    const uint8_t *in = data + 3;
    size_t in_len = size - 3, cap = in_len + SEAL_OVERHEAD_MAX, env_len;
    if ((env = malloc(cap)) == NULL || (buf = malloc(cap)) == NULL)
        goto done;
    if (seal_wrap(peer, in, in_len, env, cap, &env_len, NOW) != 0)
        abort();
    size_t at = (size_t)data[1] * env_len / 256; /* anywhere, header to tag */
    env[at] ^= data[2];
    seal_result_t rc = open_copy(self, env, env_len, buf, &payload, &payload_len, sender);
    if (data[2] != 0) {
        if (rc == SEAL_OK)
            abort(); /* a flipped byte went unnoticed */
        goto done;
    }
    if (rc != SEAL_OK || payload_len != in_len || (in_len > 0 && memcmp(payload, in, in_len) != 0) ||
        strcmp(sender, SENDER) != 0)
        abort();
    if (open_copy(self, env, env_len, buf, &payload, &payload_len, sender) != SEAL_EREPLAY)
        abort();
done:
    free(env);
    free(buf);
    seal_destroy(peer);
    seal_destroy(self);
    return 0;
}
