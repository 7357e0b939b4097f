/*
 * The Users table: the columns every reader selects, the statements of
 * sign-up, login and reads, and the row → User JSON as Mattermost
 * serializes it (sanitized: never the password or an MFA secret).
 */
#ifndef CHORUS_STORE_USER_H
#define CHORUS_STORE_USER_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "store/preference.h"

/* The columns user_to_json reads, in its order; ROLES is where a row keeps
 * the user's system roles, and a statement that also wants the password
 * hash selects it right after them (USER_NCOLUMNS). */
#define USER_COLUMNS                                                                                                 \
    "Id, CreateAt, UpdateAt, DeleteAt, Username, AuthService, Email, EmailVerified, Nickname, FirstName, LastName, " \
    "Position, Roles, Props, NotifyProps, LastPasswordUpdate, Locale, Timezone, MfaActive, IsBot"
#define USER_COLUMN_ID    0
#define USER_COLUMN_ROLES 12
#define USER_NCOLUMNS     20

/* Sign-up: $1 id, $2 now (ms), $3 username, $4 email, $5 password hash,
 * $6 whether the server is open (or an admin creates the user).  The first
 * user becomes system admin, and a closed server inserts nothing after it,
 * decided inside the one statement.  Mattermost's default notify props and
 * timezone, and the preferences it gives a new user (store/preference.h),
 * written by the same statement.  Returns USER_COLUMNS. */
#define USER_SQL_CREATE                                                                                    \
    "WITH u AS (INSERT INTO Users (Id, CreateAt, UpdateAt, Username, Email, Password, LastPasswordUpdate," \
    " Roles, NotifyProps, Timezone)"                                                                       \
    " SELECT $1, $2, $2, $3, $4, $5, $2,"                                                                  \
    " CASE WHEN EXISTS (SELECT 1 FROM Users) THEN 'system_user' ELSE 'system_admin system_user' END,"      \
    " '{\"email\":\"true\",\"push\":\"mention\",\"desktop\":\"mention\",\"channel\":\"true\"}',"           \
    " '{\"useAutomaticTimezone\":\"true\",\"automaticTimezone\":\"\",\"manualTimezone\":\"\"}'"            \
    " WHERE $6::boolean OR NOT EXISTS (SELECT 1 FROM Users)"                                               \
    " RETURNING " USER_COLUMNS "),"                                                                        \
    " p AS (INSERT INTO Preferences (UserId, Category, Name, Value) " PREFERENCE_SQL_INITIAL(              \
        "u") ")"                                                                                           \
             " SELECT " USER_COLUMNS " FROM u"

/* A password check that counts (Mattermost's failed attempts): the user
 * `where` selects, $2 ServiceSettings.MaximumLoginAttempts.  Below the
 * limit, the attempt is counted as failed before its password is checked
 * (a success resets the count: SESSION_SQL_CREATE, USER_SQL_SET_PASSWORD),
 * under the row lock, so checks of one account running side by side can
 * never together check more than $2 passwords, as Mattermost's lock around
 * the check and the count ensures.  Returns USER_COLUMNS, the password hash
 * and the failed attempts before this one (USER_COLUMN_TRIES; at $2 or
 * more: locked, nothing counted). */
#define USER_SQL_ATTEMPT(where)                                                                                        \
    "WITH u AS (SELECT Id, FailedAttempts AS tries FROM Users WHERE " where " FOR UPDATE),"                            \
    " n AS (UPDATE Users SET FailedAttempts = Users.FailedAttempts + 1 FROM u WHERE Users.Id = u.Id AND u.tries < $2)" \
    " SELECT " USER_COLUMNS ", Password, u.tries FROM Users JOIN u USING (Id)"
#define USER_COLUMN_TRIES (USER_NCOLUMNS + 1)

/* Login: $1 username or email (any case) of an active, password-based
 * user; PUT /users/{id}/password of one's own: $1 id. */
#define USER_SQL_LOGIN_ATTEMPT \
    USER_SQL_ATTEMPT("(Username = lower($1) OR Email = lower($1)) AND DeleteAt = 0 AND AuthService = ''")
#define USER_SQL_PASSWORD_ATTEMPT USER_SQL_ATTEMPT("Id = $1")

/* A password that passed, with nothing written after it: $1 id. */
#define USER_SQL_RESET_ATTEMPTS "UPDATE Users SET FailedAttempts = 0 WHERE Id = $1"

/* A counted attempt whose password was never checked (no room to check it):
 * $1 id.  Never below 0 (a success may have reset the count meanwhile). */
#define USER_SQL_UNCOUNT_ATTEMPT \
    "UPDATE Users SET FailedAttempts = FailedAttempts - 1 WHERE Id = $1 AND FailedAttempts > 0"

/* $1 id. */
#define USER_SQL_BY_ID "SELECT " USER_COLUMNS " FROM Users WHERE Id = $1"

/* $1 a varchar[] of ids; by username. */
#define USER_SQL_BY_IDS "SELECT " USER_COLUMNS " FROM Users WHERE Id = ANY($1::varchar[]) ORDER BY Username"

/* $1 a username; $1 an email (any case: stored lower). */
#define USER_SQL_BY_USERNAME "SELECT " USER_COLUMNS " FROM Users WHERE Username = $1"
#define USER_SQL_BY_EMAIL    "SELECT " USER_COLUMNS " FROM Users WHERE Email = lower($1)"

/* $1 a jsonb array of usernames; by username. */
#define USER_SQL_BY_USERNAMES \
    "SELECT " USER_COLUMNS    \
    " FROM Users WHERE Username IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY Username"

/* GET /users: a page of users, each filter NULL when not asked for.  $1 in
 * team, $2 not in team, $3 in channel, $4 not in channel, $5 only users in
 * no team, $6 'active', 'inactive' or 'all', $7 the order ('create_at' and
 * 'last_activity_at' newest first; anything else by username), $8 limit,
 * $9 offset.  Returns USER_COLUMNS. */
#define USER_SQL_PAGE                                                                                                  \
    "SELECT " USER_COLUMNS " FROM Users u"                                                                             \
    " WHERE ($1::text IS NULL OR EXISTS (SELECT 1 FROM TeamMembers tm"                                                 \
    "  WHERE tm.TeamId = $1 AND tm.UserId = u.Id AND tm.DeleteAt = 0))"                                                \
    " AND ($2::text IS NULL OR NOT EXISTS (SELECT 1 FROM TeamMembers tm"                                               \
    "  WHERE tm.TeamId = $2 AND tm.UserId = u.Id AND tm.DeleteAt = 0))"                                                \
    " AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM ChannelMembers cm WHERE cm.ChannelId = $3 AND cm.UserId = u.Id))" \
    " AND ($4::text IS NULL OR NOT EXISTS (SELECT 1 FROM ChannelMembers cm"                                            \
    "  WHERE cm.ChannelId = $4 AND cm.UserId = u.Id))"                                                                 \
    " AND (NOT $5::boolean OR NOT EXISTS (SELECT 1 FROM TeamMembers tm WHERE tm.UserId = u.Id AND tm.DeleteAt = 0))"   \
    " AND ($6::text = 'all' OR ($6::text = 'active') = (u.DeleteAt = 0))"                                              \
    " ORDER BY CASE $7::text WHEN 'create_at' THEN u.CreateAt"                                                         \
    "  WHEN 'last_activity_at' THEN COALESCE((SELECT s.LastActivityAt FROM Status s WHERE s.UserId = u.Id), 0) END"    \
    " DESC NULLS LAST, u.Username LIMIT $8::bigint OFFSET $9::bigint"

/* Users matching a search, as Mattermost's user search: every term ($1, a
 * jsonb array of lower-case terms; empty: everyone) must start the username, the
 * first or last name, the nickname or, when $8, the email.  Filters as
 * USER_SQL_PAGE, NULL when not asked for: $2 in team, $3 not in team, $4 in
 * channel, $5 not in channel, $6 only users in no team; $7 deactivated users
 * too; $9 limit.  By username.  Returns USER_COLUMNS. */
#define USER_SQL_SEARCH                                                                                                \
    "SELECT " USER_COLUMNS " FROM Users u"                                                                             \
    " WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text($1::jsonb) AS t (term) WHERE NOT ("                    \
    "  starts_with(u.Username, t.term) OR starts_with(lower(u.FirstName), t.term)"                                     \
    "  OR starts_with(lower(u.LastName), t.term) OR starts_with(lower(u.Nickname), t.term)"                            \
    "  OR ($8::boolean AND starts_with(u.Email, t.term))))"                                                            \
    " AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM TeamMembers tm"                                                   \
    "  WHERE tm.TeamId = $2 AND tm.UserId = u.Id AND tm.DeleteAt = 0))"                                                \
    " AND ($3::text IS NULL OR NOT EXISTS (SELECT 1 FROM TeamMembers tm"                                               \
    "  WHERE tm.TeamId = $3 AND tm.UserId = u.Id AND tm.DeleteAt = 0))"                                                \
    " AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM ChannelMembers cm WHERE cm.ChannelId = $4 AND cm.UserId = u.Id))" \
    " AND ($5::text IS NULL OR NOT EXISTS (SELECT 1 FROM ChannelMembers cm"                                            \
    "  WHERE cm.ChannelId = $5 AND cm.UserId = u.Id))"                                                                 \
    " AND (NOT $6::boolean OR NOT EXISTS (SELECT 1 FROM TeamMembers tm WHERE tm.UserId = u.Id AND tm.DeleteAt = 0))"   \
    " AND ($7::boolean OR u.DeleteAt = 0)"                                                                             \
    " ORDER BY u.Username LIMIT $9::bigint"

/* $1 id: USER_COLUMNS and the password hash (the checks of a write). */
#define USER_SQL_BY_ID_WITH_PASSWORD "SELECT " USER_COLUMNS ", Password FROM Users WHERE Id = $1"

/* PUT /users/{id}/patch and PUT /users/{id}: $1 id, $2 now (ms), $3 a jsonb
 * object of the fields that change, already validated and normalized
 * (username, email, nickname, first_name, last_name, position, locale as
 * text; props, notify_props, timezone as objects, each replaced whole, as
 * Mattermost's Patch does).  Returns USER_COLUMNS; a unique violation names
 * the username or email constraint. */
#define USER_SQL_PATCH                                                                                              \
    "UPDATE Users SET UpdateAt = $2,"                                                                               \
    " Username = COALESCE($3::jsonb->>'username', Username), Email = COALESCE($3::jsonb->>'email', Email),"         \
    " Nickname = COALESCE($3::jsonb->>'nickname', Nickname),"                                                       \
    " FirstName = COALESCE($3::jsonb->>'first_name', FirstName),"                                                   \
    " LastName = COALESCE($3::jsonb->>'last_name', LastName),"                                                      \
    " Position = COALESCE($3::jsonb->>'position', Position), Locale = COALESCE($3::jsonb->>'locale', Locale),"      \
    " Props = COALESCE($3::jsonb->'props', Props), NotifyProps = COALESCE($3::jsonb->'notify_props', NotifyProps)," \
    " Timezone = COALESCE($3::jsonb->'timezone', Timezone)"                                                         \
    " WHERE Id = $1 RETURNING " USER_COLUMNS

/* PUT /users/{id}/active: $1 id, $2 now (ms), $3 active.  Deactivating also
 * deletes every session of the user, in the same statement, so no session
 * outlives it on any node (the cached ones go by EVENT_USER_SESSIONS_REVOKED).
 * Returns USER_COLUMNS; no row when there is no such user. */
#define USER_SQL_SET_ACTIVE                                                                                          \
    "WITH u AS (UPDATE Users SET UpdateAt = $2::bigint, DeleteAt = CASE WHEN $3::boolean THEN 0 ELSE $2::bigint END" \
    "  WHERE Id = $1 RETURNING " USER_COLUMNS "),"                                                                   \
    " s AS (DELETE FROM Sessions WHERE UserId = $1 AND NOT $3::boolean AND EXISTS (SELECT 1 FROM u))"                \
    " SELECT * FROM u"

/* PUT /users/{id}/roles: $1 id, $2 the roles (space-separated, valid names),
 * $3 now (ms).  The user's sessions take the roles too (they carry them, as
 * Mattermost's Session.Roles), in the same statement.  Nothing changes when
 * a name is no role.  Returns one row: whether every role exists, whether
 * the user exists. */
#define USER_SQL_SET_ROLES                                                                                    \
    "WITH r AS (SELECT NOT EXISTS (SELECT 1 FROM unnest(string_to_array($2, ' ')) AS n (name)"                \
    "  WHERE n.name <> '' AND NOT EXISTS (SELECT 1 FROM Roles WHERE Name = n.name AND DeleteAt = 0)) AS ok)," \
    " u AS (UPDATE Users SET Roles = $2, UpdateAt = $3 WHERE Id = $1 AND (SELECT ok FROM r) RETURNING Id),"   \
    " s AS (UPDATE Sessions SET Roles = $2 WHERE UserId = $1 AND (SELECT ok FROM r))"                         \
    " SELECT (SELECT ok FROM r), EXISTS (SELECT 1 FROM Users WHERE Id = $1)"

/* PUT /users/{id}/password: $1 id, $2 the new bcrypt hash, $3 now (ms). */
#define USER_SQL_SET_PASSWORD \
    "UPDATE Users SET Password = $2, LastPasswordUpdate = $3, UpdateAt = $3, FailedAttempts = 0 WHERE Id = $1"

/* GET /users/stats: the active accounts, bots included, as Mattermost counts them. */
#define USER_SQL_COUNT_ACTIVE "SELECT count(*) FROM Users WHERE DeleteAt = 0"

/* Mattermost's rules on a user's fields (model.User.IsValid), shared by
 * sign-up and the updates: a username of 3 to 22 of [a-z0-9.-_] starting
 * with a letter and not reserved; an email with text on each side of one
 * '@', within 128 bytes. */
bool user_username_valid(const char *username);
bool user_email_valid(const char *email);

/* A user from `row` of a USER_COLUMNS result, as its owner sees it (never
 * the password or an MFA secret). */
json_t *user_to_json(const PGresult *res, int row);

/* What Mattermost's SanitizeProfile takes away when anyone else, a system
 * admin included, reads a user: whether the email was verified and when the
 * password last changed. */
void user_sanitize_profile(json_t *user);

#endif
