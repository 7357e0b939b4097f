/*
 * Ids as Mattermost makes them: 16 bytes from the kernel's CSPRNG, encoded
 * in base32 with the alphabet "ybndrfg8ejkmcpqxot1uwisza345h769" and cut to
 * 26 characters.  getrandom() never blocks once the pool is initialised,
 * which it is long before a server starts, so this is safe on an event loop.
 * Every API response carries a fresh id, so randomness is fetched 4 KiB at a
 * time (256 ids per system call); the buffer is per thread, and a forked
 * child throws away what it inherited so that no two processes share ids.
 */
#include "core/id.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static const char id_alphabet[] = "ybndrfg8ejkmcpqxot1uwisza345h769";

#define ID_RANDOM_BUFFER 4096

static __thread struct {
    uint8_t bytes[ID_RANDOM_BUFFER];
    size_t used;
} id_random = {.used = ID_RANDOM_BUFFER};

static pthread_once_t id_atfork_once = PTHREAD_ONCE_INIT;

/* In a new child (fork copies only the forking thread): drop the parent's
 * unused randomness. */
static void discard_in_child(void)
{
    id_random.used = sizeof(id_random.bytes);
}

static void register_atfork(void)
{
    pthread_atfork(NULL, NULL, discard_in_child);
}

static int take_random(uint8_t *out, size_t len)
{
    pthread_once(&id_atfork_once, register_atfork);
    if (id_random.used + len > sizeof(id_random.bytes)) {
        if (getrandom(id_random.bytes, sizeof(id_random.bytes), 0) != (ssize_t)sizeof(id_random.bytes))
            return -1;
        id_random.used = 0;
    }
    memcpy(out, id_random.bytes + id_random.used, len);
    /* wipe what was handed out so it can never be handed out twice */
    memset(id_random.bytes + id_random.used, 0, len);
    id_random.used += len;
    return 0;
}

int id_new(char out[ID_LENGTH + 1])
{
    uint8_t raw[16];
    if (take_random(raw, sizeof(raw)) != 0)
        return -1;

    /* 128 bits give 26 base32 digits (the last one carries 3 bits). */
    unsigned bits = 0, nbits = 0, n = 0;
    for (size_t i = 0; i < sizeof(raw) && n < ID_LENGTH; i++) {
        bits = (bits << 8) | raw[i];
        nbits += 8;
        while (nbits >= 5 && n < ID_LENGTH) {
            out[n++] = id_alphabet[(bits >> (nbits - 5)) & 31];
            nbits -= 5;
        }
    }
    if (n < ID_LENGTH)
        out[n++] = id_alphabet[(bits << (5 - nbits)) & 31];
    out[n] = '\0';
    return 0;
}

bool id_is_valid(const char *s, size_t len)
{
    if (s == NULL || len != ID_LENGTH)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}
