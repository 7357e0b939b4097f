/*
 * The Sessions table: what authenticating a request or a WebSocket needs,
 * read by token, and the writes of login and logout.  One statement and one
 * row mapping for HTTP and WebSocket alike (worker/session.c decides between
 * the cache and this query).
 */
#ifndef CHORUS_STORE_SESSION_H
#define CHORUS_STORE_SESSION_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "shm/sessions.h"

/* $1 token.  A session of a deactivated user is no session.  Columns as
 * session_from_result reads them. */
#define SESSION_SQL_BY_TOKEN                                                                     \
    "SELECT s.Id, s.UserId, s.Roles, s.ExpiresAt, s.LastActivityAt,"                             \
    " COALESCE(s.Props->>'csrf', ''), s.IsOAuth FROM Sessions s JOIN Users u ON u.Id = s.UserId" \
    " WHERE s.Token = $1 AND u.DeleteAt = 0"

/* Login: $1 id, $2 token, $3 now (ms), $4 expiry (ms), $5 user, $6 device id
 * (cut to Mattermost's 512), $7 roles, $8 props (jsonb with the csrf token).
 * A password that passed clears the user's failed attempts, in the same
 * statement (USER_SQL_LOGIN_ATTEMPT counted this one). */
#define SESSION_SQL_CREATE                                                                                   \
    "WITH ok AS (UPDATE Users SET FailedAttempts = 0 WHERE Id = $5)"                                         \
    " INSERT INTO Sessions (Id, Token, CreateAt, ExpiresAt, LastActivityAt, UserId, DeviceId, Roles, Props)" \
    " VALUES ($1, $2, $3, $4, $3, $5, left($6, 512), $7, $8)"

/* Logout: $1 session id. */
#define SESSION_SQL_DELETE "DELETE FROM Sessions WHERE Id = $1"

/* The session of a SESSION_SQL_BY_TOKEN result into `s` (cached_at = now);
 * false when there is none or it expired before `now` (ms). */
bool session_from_result(const PGresult *res, int64_t now, shm_session_t *s);

#endif
