/*
 * Passwords: bcrypt through libxcrypt, compatible both ways with Mattermost.
 *
 * Mattermost hashes with golang.org/x/crypto/bcrypt at cost 10, which writes
 * "$2a$10$..."; libxcrypt verifies those (its $2a$ differs from the correct
 * algorithm Go runs only for passwords with 0xFF bytes, which UTF-8 never
 * has), and Go verifies the "$2b$10$..." hashes we write (it ignores the
 * minor letter).  A database
 * moved either way keeps its logins.
 *
 * The 72-byte limit.  bcrypt reads at most 72 bytes of the password and
 * silently ignores the rest.  Mattermost refuses instead, on both paths: its
 * bcrypt hasher returns ErrPasswordTooLong when hashing more than 72 bytes
 * (user creation and password change answer 400) and when comparing more
 * than 72 bytes (the login fails) — see hashers.PasswordMaxLengthBytes.  We
 * do the same: no password longer than 72 bytes is ever hashed or matched.
 * Its API layer also caps new passwords at 64 bytes (PasswordMaximumLength)
 * with the other PasswordSettings rules; that policy is the caller's.
 *
 * Each call takes a zeroed `struct crypt_data` (32 KiB) from the heap, so it
 * is reentrant with no per-thread state, and wipes it before freeing it: it
 * held the password.  Comparison of crypt's output with the stored hash runs
 * over the whole 60 characters whatever differs (no early exit).  A stored
 * hash that is not bcrypt-shaped is refused without calling crypt, which
 * would otherwise happily verify DES or MD5 hashes.
 */
#include "core/password.h"

#include <crypt.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char bcrypt_alphabet[] = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* "$2x$NN$" + 53 characters of bcrypt's base64, with x one of a, b, y and
 * NN a cost from 04 to 31 ($2x$, the buggy pre-2011 variant, is refused). */
static bool is_bcrypt_hash(const char *h)
{
    if (strnlen(h, PASSWORD_HASH_LENGTH + 1) != PASSWORD_HASH_LENGTH)
        return false;
    if (h[0] != '$' || h[1] != '2' || (h[2] != 'a' && h[2] != 'b' && h[2] != 'y') || h[3] != '$')
        return false;
    if (h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9' || h[6] != '$')
        return false;
    int cost = (h[4] - '0') * 10 + (h[5] - '0');
    if (cost < 4 || cost > 31)
        return false;
    for (size_t i = 7; i < PASSWORD_HASH_LENGTH; i++)
        if (strchr(bcrypt_alphabet, h[i]) == NULL)
            return false;
    return true;
}

static bool equal_constant_time(const char *a, const char *b, size_t n)
{
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)a[i] ^ (unsigned char)b[i];
    return diff == 0;
}

static void crypt_data_free(struct crypt_data *cd)
{
    explicit_bzero(cd, sizeof(*cd));
    free(cd);
}

int password_hash(const char *plain, char out[PASSWORD_HASH_MAX])
{
    size_t len = strnlen(plain, PASSWORD_MAX_BYTES + 1);
    if (len == 0)
        return -EINVAL;
    if (len > PASSWORD_MAX_BYTES)
        return -EMSGSIZE;
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    errno = 0;
    if (crypt_gensalt_rn("$2b$", PASSWORD_BCRYPT_COST, NULL, 0, setting, sizeof(setting)) == NULL)
        return errno != 0 ? -errno : -EIO;
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    if (cd == NULL)
        return -ENOMEM;
    errno = 0;
    const char *h = crypt_r(plain, setting, cd);
    int rc = 0;
    if (h == NULL || h[0] == '*' || !is_bcrypt_hash(h))
        rc = errno != 0 ? -errno : -EIO;
    else
        memcpy(out, h, PASSWORD_HASH_MAX);
    crypt_data_free(cd);
    return rc;
}

int password_check(const char *plain, const char *hash)
{
    if (plain == NULL || hash == NULL)
        return -EACCES;
    size_t len = strnlen(plain, PASSWORD_MAX_BYTES + 1);
    if (len == 0 || len > PASSWORD_MAX_BYTES || !is_bcrypt_hash(hash))
        return -EACCES;
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    if (cd == NULL)
        return -ENOMEM;
    const char *h = crypt_r(plain, hash, cd);
    bool match = h != NULL && h[0] != '*' && strnlen(h, PASSWORD_HASH_MAX) == PASSWORD_HASH_LENGTH &&
                 equal_constant_time(h, hash, PASSWORD_HASH_LENGTH);
    crypt_data_free(cd);
    return match ? 0 : -EACCES;
}
