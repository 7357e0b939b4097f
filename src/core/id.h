/* Mattermost identifiers: 26 characters of base32 over 16 random bytes. */
#ifndef CHORUS_CORE_ID_H
#define CHORUS_CORE_ID_H
#include <stdbool.h>
#include <stddef.h>

#define ID_LENGTH 26

/* Writes a fresh id and a terminating NUL; 0, or -1 if no randomness. */
int id_new(char out[ID_LENGTH + 1]);
/* True when `s` is 26 lower-case letters or digits, as Mattermost's IsValidId. */
bool id_is_valid(const char *s, size_t len);

#endif
