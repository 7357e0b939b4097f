/*
 * Ids as Mattermost makes them: 16 bytes from the kernel's CSPRNG, encoded
 * in base32 with the alphabet "ybndrfg8ejkmcpqxot1uwisza345h769" and cut to
 * 26 characters.  getrandom() never blocks once the pool is initialised,
 * which it is long before a server starts, so this is safe on an event loop.
 */
#include "core/id.h"

#include <stdint.h>
#include <sys/random.h>

static const char id_alphabet[] = "ybndrfg8ejkmcpqxot1uwisza345h769";

int id_new(char out[ID_LENGTH + 1])
{
    uint8_t raw[16];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
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
