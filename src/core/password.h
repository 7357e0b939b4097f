/* Password hashing as Mattermost does it: bcrypt, cost 10, at most 72 bytes.
 * Both calls block for ≈55 ms of CPU: run them on a cpu_pool thread, never
 * on the event loop. */
#ifndef CHORUS_CORE_PASSWORD_H
#define CHORUS_CORE_PASSWORD_H

#define PASSWORD_HASH_LENGTH 60 /* "$2b$10$" + 22 salt + 31 hash characters */
#define PASSWORD_HASH_MAX    (PASSWORD_HASH_LENGTH + 1)
#define PASSWORD_MAX_BYTES   72 /* Mattermost's hashers.PasswordMaxLengthBytes */
#define PASSWORD_BCRYPT_COST 10

/* Writes a fresh "$2b$10$..." hash of `plain` (NUL-terminated).  0, -EINVAL
 * for an empty password, -EMSGSIZE past PASSWORD_MAX_BYTES bytes (Mattermost:
 * 400 model.user.pre_save.password_too_long.app_error), or another negative
 * errno from libcrypt (ENOMEM, no randomness).  The policy limits of
 * PasswordSettings (minimum length, 64-byte maximum, character classes) are
 * the caller's to check before. */
int password_hash(const char *plain, char out[PASSWORD_HASH_MAX]);

/* 0 when `plain` matches `hash`; -EACCES when it does not, and also when
 * `plain` is empty or longer than PASSWORD_MAX_BYTES (rejected before
 * hashing, as Mattermost's bcrypt hasher does, although bcrypt itself would
 * ignore the bytes past 72) or `hash` is not a bcrypt hash ($2a$, $2b$ or
 * $2y$, cost 04-31, 60 characters); -ENOMEM when it could not tell. */
int password_check(const char *plain, const char *hash);

#endif
