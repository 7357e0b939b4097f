/* Helpers of the users handlers that other handlers share. */
#ifndef CHORUS_API_USERS_H
#define CHORUS_API_USERS_H

#include <jansson.h>

#include "api/request.h"

/* A PostgreSQL array literal ("{a,b}") of the ids in JSON array `ids` (1 to
 * `max` valid ids), in the request pool; NULL after answering 400. */
const char *api_id_array_literal(api_request_t *r, json_t *ids, size_t max);

/* Mattermost's PasswordSettings: MinimumLength 8 (default), at most 64. */
#define PASSWORD_MIN_LENGTH 8
#define PASSWORD_INPUT_MAX  64

/* True when `password` (NULL: none) has an allowed length; else answers 400
 * model.user.is_valid.pwd_length.app_error, as sign-up does. */
bool api_password_valid(api_request_t *r, const char *password);

/* 401 api.user.check_user_login_attempts.too_many.app_error: the account
 * failed ServiceSettings.MaximumLoginAttempts password checks in a row. */
void api_error_locked_out(api_request_t *r);

/* ASCII lower case, in place (usernames and emails are stored so). */
void api_lower(char *s);

/* A user changed: its entry leaves the users cache of this node now and of
 * every node through the ring; `sessions` also drops its cached sessions
 * (they carry the roles). */
void api_user_changed(api_request_t *r, const char *user_id, bool sessions);

/* A users write's callback's first words: true, with the request answered,
 * when the write failed (a taken username or email: Mattermost's 400s). */
bool api_user_write_failed(api_request_t *r, const PGresult *res, const char *error);

#endif
