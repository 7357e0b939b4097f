/* The node's session cache: token → what authenticating a request needs, so
 * that a hit answers without touching the database (ARCHITECTURE.md §3). */
#ifndef CHORUS_SHM_SESSIONS_H
#define CHORUS_SHM_SESSIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "shm/cache.h"

typedef struct {
    char session_id[27];
    char user_id[27];
    char csrf[27];
    char roles[64];
    bool is_oauth;
    int64_t expires_at;       /* ms: the session's own expiry */
    int64_t cached_at;        /* ms: entries older than SessionCacheInMinutes are refetched */
    int64_t last_activity_at; /* ms */
    uint64_t write_lsn;       /* the master's WAL position after this session's last write */
} shm_session_t;

/* Removes every cached session of `user_id` (logout everywhere, deactivation). */
size_t shm_sessions_remove_user(shm_cache_t *sessions, const char *user_id);

#endif
