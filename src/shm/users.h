/* The node's users cache: user id → the user's sanitized JSON, as sent, so a
 * read of a user (GET /users/me on every page load) needs no database query
 * and no serialization.  Whoever changes a user removes its entry. */
#ifndef CHORUS_SHM_USERS_H
#define CHORUS_SHM_USERS_H

#include <stdint.h>

#define SHM_USER_JSON_MAX 2048

typedef struct {
    uint32_t length;
    char json[SHM_USER_JSON_MAX];
} shm_user_t;

#endif
