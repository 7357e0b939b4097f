/*
 * The cluster envelope (formats in seal.h): AES-GCM under the cluster key,
 * the payload encrypted (sealed) or only authenticated, never neither.
 *
 * Keying.  Every envelope gets a fresh 96-bit nonce from OpenSSL's CSPRNG:
 * all nodes share one key and keep no common counter, so a random nonce is
 * the only way they cannot collide (2^32 envelopes per key stay far below
 * the birthday bound).  The magic and the cluster name are additional
 * authenticated data, so an envelope of another cluster, or of this one in
 * the other mode, fails like a forgery; in the authenticated mode the whole
 * text is additional data and GCM only produces the tag (GMAC), so both
 * modes cost one pass and the same bytes.  The AES key schedule is computed
 * once in seal_create; each envelope only re-initialises the one
 * EVP_CIPHER_CTX with its nonce and direction, so a packet costs no
 * allocation.
 *
 * Channels.  Gossip (UDP) and the streaming links (TCP) each have a seal of
 * their own, the channel in the additional data: each keeps its own counter
 * and its own windows.  One window shared by both made a link's frames,
 * sealed when queued and written later, fall more than 64 counters behind
 * the SWIM packets sealed meanwhile, and be refused as replays (the link
 * flapped under a burst of events); an envelope of one channel fails on the
 * other like a forgery, so none can be replayed across.
 *
 * Anti-replay.  The text starts with the sender's id, its epoch (start time)
 * and a per-envelope counter.  Per sender we keep the highest counter
 * accepted and a 64-bit bitmap of the 64 counters below it (RFC 4303,
 * §3.4.3): newer counters slide the window, older ones inside it are taken
 * once, older ones outside it are refused, so UDP reordering costs nothing
 * while a replay is always caught.  A newer epoch (the sender restarted, its
 * counter began again) resets the window; an older one is a replay.  The
 * state is updated only after the tag verified and every check passed, so a
 * forger cannot move a window.  The table is bounded (SEAL_SENDERS_MAX, twice
 * SWIM_MEMBERS_MAX): when full, the least recently seen sender is forgotten.
 * A forgotten sender's traffic could be replayed once, but only within the
 * clock window: the wall time in every envelope must be within
 * SEAL_CLOCK_SKEW_MS of ours, which is also what refuses traffic recorded
 * before a receiver restarted with an empty table.
 *
 * Nothing here logs: refusals are counted by reason (seal_get_stats) and the
 * caller reports the counters, so a flood of garbage costs no disk.
 */
#include "cluster/seal.h"

#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define SEAL_MAGIC_LEN          3
#define SEAL_NONCE_LEN          12
#define SEAL_TAG_LEN            16
#define SEAL_INNER_LEN          (ID_LENGTH + 24) /* sender id, epoch, counter, wall time */
#define SEAL_SEALED_MIN         (SEAL_MAGIC_LEN + SEAL_NONCE_LEN + SEAL_INNER_LEN + SEAL_TAG_LEN)
#define SEAL_WINDOW             64
#define SEAL_MODE_SEALED        'S'
#define SEAL_MODE_AUTHENTICATED 'A'
#define SEAL_MODE_PLAIN         'P' /* earlier chorus versions: refused */

_Static_assert(SEAL_SEALED_MIN <= SEAL_OVERHEAD_MAX, "an envelope fits the advertised overhead");

typedef struct {
    char id[ID_LENGTH];
    uint64_t epoch;
    uint64_t top;       /* highest counter accepted */
    uint64_t bitmap;    /* bit i: counter top - i was accepted */
    uint64_t last_seen; /* seal_t.tick when last accepted; 0 = free slot */
} seal_sender_t;

struct seal_s {
    EVP_CIPHER_CTX *ctx;
    char mode; /* SEAL_MODE_SEALED or SEAL_MODE_AUTHENTICATED */
    char self_id[ID_LENGTH];
    uint64_t epoch, counter;
    size_t aad_len;
    uint8_t aad[SEAL_MAGIC_LEN + 1 + SEAL_NAME_MAX]; /* "CH" mode + channel + name */
    uint64_t tick;                                   /* orders senders by recency */
    seal_stats_t stats;
    seal_sender_t senders[SEAL_SENDERS_MAX];
};

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static const EVP_CIPHER *cipher_for(size_t key_len)
{
    switch (key_len) {
    case 16: return EVP_aes_128_gcm();
    case 24: return EVP_aes_192_gcm();
    case 32: return EVP_aes_256_gcm();
    }
    return NULL;
}

int seal_create(seal_t **out, const char *cluster_name, seal_channel_t channel, const uint8_t *key, size_t key_len,
                bool encrypt, const char *self_id, int64_t epoch_ms)
{
    if (out == NULL)
        return -EINVAL;
    *out = NULL;
    size_t name_len = cluster_name != NULL ? strnlen(cluster_name, SEAL_NAME_MAX + 1) : 0;
    if (name_len == 0 || name_len > SEAL_NAME_MAX || epoch_ms < 0 || key == NULL || cipher_for(key_len) == NULL ||
        self_id == NULL || !id_is_valid(self_id, strlen(self_id)) ||
        (channel != SEAL_CHANNEL_GOSSIP && channel != SEAL_CHANNEL_LINK))
        return -EINVAL;
    seal_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return -ENOMEM;
    s->mode = encrypt ? SEAL_MODE_SEALED : SEAL_MODE_AUTHENTICATED;
    memcpy(s->aad, "CH", 2);
    s->aad[2] = (uint8_t)s->mode;
    s->aad[SEAL_MAGIC_LEN] = (uint8_t)channel;
    memcpy(s->aad + SEAL_MAGIC_LEN + 1, cluster_name, name_len);
    s->aad_len = SEAL_MAGIC_LEN + 1 + name_len;
    s->epoch = (uint64_t)epoch_ms;
    memcpy(s->self_id, self_id, ID_LENGTH);
    s->ctx = EVP_CIPHER_CTX_new();
    if (s->ctx == NULL) {
        free(s);
        return -ENOMEM;
    }
    /* the key schedule, once; each envelope then sets only its nonce */
    if (EVP_CipherInit_ex(s->ctx, cipher_for(key_len), NULL, key, NULL, 1) != 1) {
        seal_destroy(s);
        return -ENOMEM;
    }
    *out = s;
    return 0;
}

void seal_destroy(seal_t *seal)
{
    if (seal == NULL)
        return;
    EVP_CIPHER_CTX_free(seal->ctx); /* wipes the key schedule */
    OPENSSL_cleanse(seal, sizeof(*seal));
    free(seal);
}

bool seal_is_encrypted(const seal_t *seal)
{
    return seal != NULL && seal->mode == SEAL_MODE_SEALED;
}

void seal_get_stats(const seal_t *seal, seal_stats_t *stats)
{
    *stats = seal != NULL ? seal->stats : (seal_stats_t){0};
}

/* ---- wrapping ------------------------------------------------------------------ */

/* One GCM pass over `text` (text_len bytes), in place: encrypted when sealing,
 * additional data when only authenticating.  `tag` is written (encrypt) or
 * checked (decrypt).  false when OpenSSL failed or the tag did not verify. */
static bool gcm_pass(seal_t *s, const uint8_t *nonce, uint8_t *text, size_t text_len, uint8_t *tag, int encrypt)
{
    int n = 0, fin = 0, aad_n;
    uint8_t *out = s->mode == SEAL_MODE_SEALED ? text : NULL; /* NULL output: additional data */
    uint8_t spare[SEAL_TAG_LEN];                              /* GCM's final writes nothing */
    if (EVP_CipherInit_ex(s->ctx, NULL, NULL, NULL, nonce, encrypt) != 1 ||
        EVP_CipherUpdate(s->ctx, NULL, &aad_n, s->aad, (int)s->aad_len) != 1 ||
        EVP_CipherUpdate(s->ctx, out, &n, text, (int)text_len) != 1)
        return false;
    if (!encrypt && EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN, tag) != 1)
        return false;
    if (EVP_CipherFinal_ex(s->ctx, spare, &fin) != 1 || fin != 0)
        return false;
    /* GCM is a stream mode: an update writes as many bytes as it reads */
    if (out != NULL && (size_t)n != text_len)
        return false;
    return !encrypt || EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN, tag) == 1;
}

int seal_wrap(seal_t *seal, const uint8_t *payload, size_t payload_len, uint8_t *out, size_t cap, size_t *out_len,
              int64_t now_wall_ms)
{
    if (seal == NULL || (payload == NULL && payload_len > 0) || out == NULL || out_len == NULL || now_wall_ms < 0)
        return -EINVAL;
    /* EVP counts in int; GCM's own limit (2^36 bytes) is far above that */
    if (cap < SEAL_SEALED_MIN || payload_len > cap - SEAL_SEALED_MIN || payload_len > INT_MAX - SEAL_INNER_LEN)
        return -EMSGSIZE;
    uint8_t *nonce = out + SEAL_MAGIC_LEN, *text = nonce + SEAL_NONCE_LEN;
    size_t text_len = SEAL_INNER_LEN + payload_len;
    memcpy(out, seal->aad, SEAL_MAGIC_LEN);
    memcpy(text, seal->self_id, ID_LENGTH);
    put_u64(text + ID_LENGTH, seal->epoch);
    put_u64(text + ID_LENGTH + 8, seal->counter + 1);
    put_u64(text + ID_LENGTH + 16, (uint64_t)now_wall_ms);
    if (payload_len > 0)
        memcpy(text + SEAL_INNER_LEN, payload, payload_len);
    if (RAND_bytes(nonce, SEAL_NONCE_LEN) != 1 || !gcm_pass(seal, nonce, text, text_len, text + text_len, 1))
        return -EIO;
    /* a counter is spent only by an envelope that was produced */
    seal->counter++;
    seal->stats.wrapped++;
    *out_len = SEAL_SEALED_MIN + payload_len;
    return 0;
}

/* ---- unwrapping ---------------------------------------------------------------- */

/* Verifies the tag (and decrypts in place when sealed); wipes what it
 * decrypted when the tag does not verify, so unauthenticated bytes never
 * reach a caller. */
static seal_result_t open_envelope(seal_t *s, uint8_t *data, size_t len)
{
    if (len > (size_t)INT_MAX)
        return SEAL_EMALFORMED;
    uint8_t *nonce = data + SEAL_MAGIC_LEN, *text = nonce + SEAL_NONCE_LEN;
    size_t text_len = len - SEAL_SEALED_MIN + SEAL_INNER_LEN;
    uint8_t tag[SEAL_TAG_LEN];
    memcpy(tag, text + text_len, SEAL_TAG_LEN);
    if (!gcm_pass(s, nonce, text, text_len, tag, 0)) {
        if (s->mode == SEAL_MODE_SEALED)
            OPENSSL_cleanse(text, text_len);
        return SEAL_EAUTH;
    }
    return SEAL_OK;
}

/* The sender's slot: its own, else a free one, else the least recently seen. */
static seal_sender_t *sender_slot(seal_t *s, const char *id, bool *known)
{
    seal_sender_t *oldest = &s->senders[0];
    for (size_t i = 0; i < SEAL_SENDERS_MAX; i++) {
        seal_sender_t *e = &s->senders[i];
        if (e->last_seen != 0 && memcmp(e->id, id, ID_LENGTH) == 0) {
            *known = true;
            return e;
        }
        if (e->last_seen < oldest->last_seen)
            oldest = e;
    }
    *known = false;
    return oldest;
}

/* RFC 4303's window: true when (epoch, counter) is new, and then records it. */
static bool accept_counter(seal_t *s, const char *id, uint64_t epoch, uint64_t counter)
{
    bool known;
    seal_sender_t *e = sender_slot(s, id, &known);
    if (known && epoch < e->epoch)
        return false;
    if (!known || epoch > e->epoch) {
        /* first word from this sender, or it restarted: its counters began again */
        *e = (seal_sender_t){.epoch = epoch, .top = counter, .bitmap = 1};
        memcpy(e->id, id, ID_LENGTH);
    } else if (counter > e->top) {
        uint64_t shift = counter - e->top;
        e->bitmap = shift >= SEAL_WINDOW ? 1 : e->bitmap << shift | 1;
        e->top = counter;
    } else {
        uint64_t age = e->top - counter;
        if (age >= SEAL_WINDOW || (e->bitmap & (UINT64_C(1) << age)) != 0)
            return false;
        e->bitmap |= UINT64_C(1) << age;
    }
    e->last_seen = ++s->tick;
    return true;
}

static seal_result_t unwrap_keyed(seal_t *s, uint8_t *data, size_t len, const uint8_t **payload, size_t *payload_len,
                                  char *sender_id, int64_t now)
{
    if (data[2] != s->mode)
        return SEAL_EWRONGMODE;
    if (len < SEAL_SEALED_MIN)
        return SEAL_EMALFORMED;
    seal_result_t rc = open_envelope(s, data, len);
    if (rc != SEAL_OK)
        return rc;
    const uint8_t *inner = data + SEAL_MAGIC_LEN + SEAL_NONCE_LEN;
    const char *id = (const char *)inner;
    /* authentic, so written by a key holder: a bad id is a bug, not an attack */
    if (!id_is_valid(id, ID_LENGTH))
        return SEAL_EMALFORMED;
    uint64_t epoch = get_u64(inner + ID_LENGTH), counter = get_u64(inner + ID_LENGTH + 8);
    uint64_t wall = get_u64(inner + ID_LENGTH + 16);
    /* the first test bounds `wall`, so the second cannot overflow */
    if (wall > (uint64_t)now + SEAL_CLOCK_SKEW_MS || wall + SEAL_CLOCK_SKEW_MS < (uint64_t)now)
        return SEAL_EREPLAY;
    if (!accept_counter(s, id, epoch, counter))
        return SEAL_EREPLAY;
    if (sender_id != NULL) {
        memcpy(sender_id, id, ID_LENGTH);
        sender_id[ID_LENGTH] = '\0';
    }
    *payload = inner + SEAL_INNER_LEN;
    *payload_len = len - SEAL_SEALED_MIN;
    return SEAL_OK;
}

static void count_result(seal_stats_t *st, seal_result_t rc)
{
    switch (rc) {
    case SEAL_OK: st->unwrapped++; break;
    case SEAL_EMALFORMED: st->malformed++; break;
    case SEAL_EPLAIN: st->plain++; break;
    case SEAL_EWRONGMODE: st->wrong_mode++; break;
    case SEAL_EAUTH: st->auth_failed++; break;
    case SEAL_EREPLAY: st->replayed++; break;
    }
}

seal_result_t seal_unwrap(seal_t *seal, uint8_t *data, size_t len, const uint8_t **payload, size_t *payload_len,
                          char *sender_id, int64_t now_wall_ms)
{
    if (payload != NULL)
        *payload = NULL;
    if (payload_len != NULL)
        *payload_len = 0;
    if (sender_id != NULL)
        sender_id[0] = '\0';
    if (seal == NULL || payload == NULL || payload_len == NULL)
        return SEAL_EMALFORMED;
    seal_result_t rc = SEAL_EMALFORMED;
    if (data == NULL || len < SEAL_MAGIC_LEN || data[0] != 'C' || data[1] != 'H' || now_wall_ms < 0)
        rc = SEAL_EMALFORMED;
    else if (data[2] == SEAL_MODE_PLAIN)
        rc = SEAL_EPLAIN;
    else if (data[2] == SEAL_MODE_SEALED || data[2] == SEAL_MODE_AUTHENTICATED)
        rc = unwrap_keyed(seal, data, len, payload, payload_len, sender_id, now_wall_ms);
    count_result(&seal->stats, rc);
    return rc;
}
