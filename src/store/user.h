/*
 * The Users table: the columns every reader selects, the statements of
 * sign-up, login and reads, and the row → User JSON as Mattermost
 * serializes it (sanitized: never the password or an MFA secret).
 */
#ifndef CHORUS_STORE_USER_H
#define CHORUS_STORE_USER_H

#include <jansson.h>
#include <libpq-fe.h>

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

/* Login: $1 username or email (any case) of an active, password-based user.
 * Returns USER_COLUMNS and the password hash. */
#define USER_SQL_BY_LOGIN                          \
    "SELECT " USER_COLUMNS ", Password FROM Users" \
    " WHERE (Username = lower($1) OR Email = lower($1)) AND DeleteAt = 0 AND AuthService = ''"

/* $1 id. */
#define USER_SQL_BY_ID "SELECT " USER_COLUMNS " FROM Users WHERE Id = $1"

/* $1 a varchar[] of ids; by username. */
#define USER_SQL_BY_IDS "SELECT " USER_COLUMNS " FROM Users WHERE Id = ANY($1::varchar[]) ORDER BY Username"

/* A sanitized user from `row` of a USER_COLUMNS result. */
json_t *user_to_json(const PGresult *res, int row);

#endif
