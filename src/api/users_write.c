/*
 * Writing users, as api4/user.go: patch and full update, activation, system
 * roles.  (The password has users_password.c, the picture users_image.c.)
 *
 * Who may: a user edits itself, anyone else needs edit_other_users, and a
 * system admin is edited only by a caller with manage_system; (de)activating
 * another user takes sysconsole_write_user_management_users, roles take
 * manage_roles.  A user changing its own email proves its password first
 * (bcrypt on the worker's CPU pool, as login).
 *
 * Every write is one statement, then: the user leaves the users cache of
 * every node (api_user_changed), and the events go out as Mattermost sends
 * them: user_updated with the whole user to its owner and the sanitized
 * profile to everyone else, user_role_updated to the user,
 * user_activation_status_change to everyone.  Deactivation deletes the
 * user's sessions in its statement, then drops them from every node's
 * session cache and closes the user's sockets (EVENT_USER_SESSIONS_REVOKED).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/response.h"
#include "api/users.h"
#include "core/clock.h"
#include "core/events.h"
#include "core/log.h"
#include "core/password.h"
#include "core/text.h"
#include "shm/events_publish.h"
#include "shm/region.h"
#include "shm/sessions.h"
#include "store/role.h"
#include "store/row.h"
#include "store/user.h"
#include "worker/cpu_pool.h"
#include "ws/ws.h"

static bool is_self(const api_request_t *r, const char *user_id)
{
    return strcmp(user_id, r->session.user_id) == 0;
}

/* strings.TrimSpace for ASCII space, in place. */
static char *trim(char *s)
{
    s += strspn(s, " \t\r\n");
    size_t n = strlen(s);
    while (n > 0 && strchr(" \t\r\n", s[n - 1]) != NULL)
        s[--n] = '\0';
    return s;
}

static bool row_is_system_admin(const PGresult *res)
{
    const char *roles = row_str(res, 0, USER_COLUMN_ROLES);
    return role_list_has(roles, "system_admin", strlen("system_admin"));
}

void api_user_changed(api_request_t *r, const char *user_id, bool sessions)
{
    const child_params_t *p = r->worker->params;
    shm_cache_remove(shm_region_users(p->shm), user_id);
    if (sessions)
        shm_sessions_remove_user(shm_region_sessions(p->shm), user_id);
    event_user_changed_t ev = {.sessions = sessions};
    snprintf(ev.user_id, sizeof(ev.user_id), "%s", user_id);
    int rc = events_publish_user_changed(shm_region_ring(p->shm), p->ring_eventfds, &ev);
    if (rc != 0)
        log_warn(-rc, "cannot publish the change of user %s", user_id);
}

/* user_updated: the owner gets itself whole, everyone else the profile. */
static void publish_user_updated(api_request_t *r, const PGresult *res)
{
    const char *id = row_str(res, 0, USER_COLUMN_ID);
    json_t *own = json_pack("{s:o}", "user", user_to_json(res, 0));
    json_t *user = user_to_json(res, 0);
    user_sanitize_profile(user);
    json_t *others = json_pack("{s:o}", "user", user);
    const char *const omit[] = {id};
    if (others != NULL)
        ws_publish(r->worker, "user_updated", others, &(ws_broadcast_t){.omit_users = omit, .n_omit_users = 1});
    if (own != NULL)
        ws_publish(r->worker, "user_updated", own, &(ws_broadcast_t){.user_id = id});
    json_decref(own);
    json_decref(others);
}

static void send_status_ok(api_request_t *r)
{
    api_send_json(r, 200, json_pack("{s:s}", "status", "OK"));
}

/* ---- PUT /users/{user_id}/patch, PUT /users/{user_id} -------------------------- */

typedef struct {
    const char *id;
    const char *patch;    /* the jsonb text USER_SQL_PATCH takes */
    const char *email;    /* the new email, or NULL */
    const char *password; /* what proves an email change of one's own, or NULL */
    bool full;            /* PUT /users/{id}: a wrong password is a bad "password" */
} patch_t;

typedef struct {
    char password[PASSWORD_INPUT_MAX + 1];
    char hash[PASSWORD_HASH_MAX];
    bool ok;
} check_job_t;

static void check_work(void *job)
{
    check_job_t *j = job;
    j->ok = password_check(j->password, j->hash) == 0;
}

static const char *const patch_texts[] = {"username",  "email",    "nickname", "first_name",
                                          "last_name", "position", "locale"};
static const char *const patch_maps[] = {"props", "notify_props", "timezone"};

/* A StringMap as Go decodes one: an object of strings (null: absent). */
static bool string_map(json_t *v)
{
    if (v == NULL || json_is_null(v))
        return true;
    if (!json_is_object(v))
        return false;
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        if (!json_is_string(x))
            return false;
    }
    return true;
}

static bool rune_max(api_request_t *r, json_t *patch, const char *field, size_t max)
{
    const char *v = json_string_value(json_object_get(patch, field));
    if (v == NULL || text_utf8_runes(v) <= max)
        return true;
    char message[96];
    snprintf(message, sizeof(message), "Invalid %s.", field);
    return api_error_model_invalid(r, "user", field, message);
}

/* model.User.IsValid on the fields that change (the others were valid). */
static bool patch_valid(api_request_t *r, json_t *patch)
{
    const char *username = json_string_value(json_object_get(patch, "username"));
    if (username != NULL && !user_username_valid(username))
        return api_error_model_invalid(r, "user", "username",
                                       "Username must begin with a letter, and contain between 3 to 22 lowercase "
                                       "characters made up of numbers, letters, and the symbols \".\", \"-\", and "
                                       "\"_\".");
    const char *email = json_string_value(json_object_get(patch, "email"));
    if (email != NULL && !user_email_valid(email))
        return api_error_model_invalid(r, "user", "email", "Invalid email.");
    return rune_max(r, patch, "nickname", 64) && rune_max(r, patch, "position", 128) &&
           rune_max(r, patch, "first_name", 64) && rune_max(r, patch, "last_name", 64) &&
           rune_max(r, patch, "locale", 5);
}

/* The fields of `body` that change, normalized as Mattermost's PreUpdate
 * (username and email in lower case, the email trimmed); `full`: the
 * absent text fields become "" (a full update).  NULL after answering 400. */
static json_t *read_patch(api_request_t *r, json_t *body, bool full)
{
    json_t *patch = json_object();
    for (size_t i = 0; i < sizeof(patch_texts) / sizeof(patch_texts[0]); i++) {
        const char *v;
        json_t *field = json_object_get(body, patch_texts[i]);
        if (!api_json_string_field(body, patch_texts[i], &v)) {
            json_decref(patch);
            api_error_invalid_body(r, "user");
            return NULL;
        }
        if (!full && (field == NULL || json_is_null(field)))
            continue;
        char *copy = h2o_mem_alloc_pool(&r->req->pool, strlen(v) + 1);
        memcpy(copy, v, strlen(v) + 1);
        if (strcmp(patch_texts[i], "username") == 0 || strcmp(patch_texts[i], "email") == 0) {
            api_lower(copy);
            copy = trim(copy);
        }
        json_object_set_new(patch, patch_texts[i], json_string(copy));
    }
    for (size_t i = 0; i < sizeof(patch_maps) / sizeof(patch_maps[0]); i++) {
        json_t *v = json_object_get(body, patch_maps[i]);
        if (!string_map(v)) {
            json_decref(patch);
            api_error_invalid_body(r, "user");
            return NULL;
        }
        if (json_is_object(v))
            json_object_set(patch, patch_maps[i], v);
    }
    return patch;
}

static void on_user_patched(api_request_t *r, PGresult *res, const char *error)
{
    if (api_user_write_failed(r, res, error) ||
        !api_query_one_row(r, res, NULL, "app.user.missing_account.const", "user"))
        return;
    api_user_changed(r, row_str(res, 0, USER_COLUMN_ID), false);
    publish_user_updated(r, res);
    api_send_json(r, 200, user_to_json(res, 0));
}

static void write_patch(api_request_t *r)
{
    const patch_t *p = r->state;
    char now[TEXT_INT64_SIZE];
    text_int64(now, clock_now_ms());
    const char *params[] = {p->id, now, p->patch};
    api_query(r, USER_SQL_PATCH, 3, params, on_user_patched);
}

static void on_password_checked(void *data, void *job)
{
    api_request_t *r = data;
    const patch_t *p = r->state;
    r->task = NULL;
    if (((check_job_t *)job)->ok) {
        write_patch(r);
    } else if (p->full) {
        api_error_invalid_body(r, "password");
    } else {
        api_send_error(r, 401, "api.user.check_user_password.invalid.app_error",
                       "Login failed because of invalid password.", NULL);
    }
}

static void on_patch_target_loaded(api_request_t *r, PGresult *res, const char *error)
{
    const patch_t *p = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        if (p->full)
            api_error_not_found(r, "app.user.missing_account.const", "user");
        else
            api_error_invalid_body(r, "user_id");
        return;
    }
    if (row_is_system_admin(res) && !api_require_permission(r, "manage_system"))
        return;
    bool email_change = p->email != NULL && p->email[0] != '\0' && strcmp(p->email, row_str(res, 0, 6)) != 0;
    if (!email_change || !is_self(r, p->id)) {
        write_patch(r);
        return;
    }
    if (p->password == NULL && !p->full) {
        api_error_invalid_body(r, "password");
        return;
    }
    check_job_t job = {0};
    snprintf(job.password, sizeof(job.password), "%s", p->password != NULL ? p->password : "");
    snprintf(job.hash, sizeof(job.hash), "%s", row_str(res, 0, USER_NCOLUMNS));
    r->task = cpu_pool_submit(r->worker->cpu, check_work, on_password_checked, r, &job, sizeof(job));
    explicit_bzero(&job, sizeof(job));
    if (r->task == NULL)
        api_error_busy(r);
}

static void patch_or_update(api_request_t *r, bool full)
{
    const char *id;
    json_t *body = api_param_id_and_body(r, "user_id", &id);
    if (body == NULL)
        return;
    const char *password = NULL;
    if (!api_json_string_field(body, "password", &password)) {
        api_error_invalid_body(r, "user");
        return;
    }
    json_t *patch = read_patch(r, body, full);
    if (patch == NULL)
        return;
    const char *body_id = json_string_value(json_object_get(body, "id"));
    if (full && (body_id == NULL || strcmp(body_id, id) != 0)) {
        json_decref(patch);
        api_error_invalid_body(r, "user_id");
        return;
    }
    if (!is_self(r, id) && !api_require_permission(r, "edit_other_users")) {
        json_decref(patch);
        return;
    }
    bool valid = patch_valid(r, patch);
    patch_t *p = h2o_mem_alloc_pool(&r->req->pool, sizeof(*p));
    *p = (patch_t){.id = id, .full = full};
    char *text = valid ? json_dumps(patch, JSON_COMPACT) : NULL;
    const char *email = json_string_value(json_object_get(patch, "email"));
    if (email != NULL)
        p->email = h2o_strdup(&r->req->pool, email, SIZE_MAX).base;
    json_decref(patch);
    if (!valid)
        return;
    if (text == NULL) {
        api_error_database(r, "cannot serialize a user patch");
        return;
    }
    p->patch = h2o_strdup(&r->req->pool, text, SIZE_MAX).base;
    free(text);
    json_t *pw = json_object_get(body, "password");
    p->password = pw != NULL && !json_is_null(pw) ? password : NULL;
    r->state = p;
    const char *params[] = {id};
    api_query(r, USER_SQL_BY_ID_WITH_PASSWORD, 1, params, on_patch_target_loaded);
}

void api_users_patch(api_request_t *r)
{
    patch_or_update(r, false);
}

void api_users_update(api_request_t *r)
{
    patch_or_update(r, true);
}

/* ---- PUT /users/{user_id}/active ------------------------------------------------ */

typedef struct {
    const char *id;
    bool active;
} active_t;

static void on_active_set(api_request_t *r, PGresult *res, const char *error)
{
    const active_t *a = r->state;
    if (!api_query_one_row(r, res, error, "app.user.missing_account.const", "user"))
        return;
    const child_params_t *p = r->worker->params;
    if (!a->active) {
        /* its sessions are gone from the database: now from every node's
         * cache, and its sockets close wherever they are */
        shm_sessions_remove_user(shm_region_sessions(p->shm), a->id);
        event_user_sessions_revoked_t ev;
        snprintf(ev.user_id, sizeof(ev.user_id), "%s", a->id);
        int rc = events_publish_user_sessions_revoked(shm_region_ring(p->shm), p->ring_eventfds, &ev);
        if (rc != 0)
            log_warn(-rc, "cannot publish the revocation of the sessions of %s", a->id);
    }
    api_user_changed(r, a->id, false);
    publish_user_updated(r, res);
    json_t *data = json_object();
    ws_publish(r->worker, "user_activation_status_change", data, NULL);
    json_decref(data);
    send_status_ok(r);
}

static void on_active_target_loaded(api_request_t *r, PGresult *res, const char *error)
{
    const active_t *a = r->state;
    if (!api_query_one_row(r, res, error, "app.user.missing_account.const", "user"))
        return;
    if (row_is_system_admin(res) && !api_require_permission(r, "manage_system"))
        return;
    char now[TEXT_INT64_SIZE];
    text_int64(now, clock_now_ms());
    const char *params[] = {a->id, now, a->active ? "t" : "f"};
    api_query(r, USER_SQL_SET_ACTIVE, 3, params, on_active_set);
}

void api_users_update_active(api_request_t *r)
{
    const char *id;
    json_t *body = api_param_id_and_body(r, "user_id", &id);
    if (body == NULL)
        return;
    json_t *active = json_object_get(body, "active");
    if (!json_is_boolean(active)) {
        api_error_invalid_body(r, "active");
        return;
    }
    bool self_deactivate = !json_is_true(active) && is_self(r, id);
    if (!self_deactivate && !api_has_permission(r, "sysconsole_write_user_management_users", NULL)) {
        api_send_error(r, 403, "api.user.update_active.permissions.app_error",
                       "You do not have the appropriate permissions.", NULL);
        return;
    }
    /* a user deactivates itself only where TeamSettings.EnableUserDeactivation allows */
    if (self_deactivate && !r->worker->config->team.enable_user_deactivation) {
        api_send_error(r, 401, "api.user.update_active.not_enable.app_error",
                       "You cannot deactivate yourself because this feature is not enabled. Please contact your "
                       "System Administrator.",
                       NULL);
        return;
    }
    active_t *a = h2o_mem_alloc_pool(&r->req->pool, sizeof(*a));
    *a = (active_t){.id = id, .active = json_is_true(active)};
    r->state = a;
    const char *params[] = {id};
    api_query(r, USER_SQL_BY_ID, 1, params, on_active_target_loaded);
}

/* ---- PUT /users/{user_id}/roles -------------------------------------------------- */

/* model.IsValidUserRoles: every word a valid role name, and not
 * system_admin alone (a mistake it refuses). */
static bool user_roles_valid(const char *roles)
{
    char name[65];
    size_t words = 0;
    bool admin_only = false;
    for (const char *p = roles; *p != '\0';) {
        p += strspn(p, " \t\r\n");
        size_t n = strcspn(p, " \t\r\n");
        if (n == 0)
            break;
        if (n >= sizeof(name))
            return false;
        memcpy(name, p, n);
        name[n] = '\0';
        if (!role_name_valid(name))
            return false;
        admin_only = words == 0 && strcmp(name, "system_admin") == 0;
        words++;
        p += n;
    }
    return !(words == 1 && admin_only);
}

/* Mattermost's NewSystemRoleIDs: assigning them takes a license chorus does
 * not have. */
static bool needs_license(const char *roles)
{
    static const char *const licensed[] = {"system_user_manager", "system_read_only_admin", "system_manager"};
    for (size_t i = 0; i < sizeof(licensed) / sizeof(licensed[0]); i++)
        if (role_list_has(roles, licensed[i], strlen(licensed[i])))
            return true;
    return false;
}

typedef struct {
    const char *id, *roles;
} roles_t;

static void on_roles_set(api_request_t *r, PGresult *res, const char *error)
{
    const roles_t *rs = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1 || !row_bool(res, 0, 1)) {
        api_error_not_found(r, "app.user.missing_account.const", "user");
        return;
    }
    if (!row_bool(res, 0, 0)) {
        api_send_error(r, 400, "app.role.check_roles_exist.role_not_found", "The provided role does not exist", NULL);
        return;
    }
    /* the sessions carry the roles: they leave every cache, and the next
     * request of the user reads its session anew */
    api_user_changed(r, rs->id, true);
    json_t *data = json_pack("{s:s,s:s}", "user_id", rs->id, "roles", rs->roles);
    if (data != NULL)
        ws_publish(r->worker, "user_role_updated", data, &(ws_broadcast_t){.user_id = rs->id});
    json_decref(data);
    send_status_ok(r);
}

void api_users_update_roles(api_request_t *r)
{
    const char *id;
    json_t *body = api_param_id_and_body(r, "user_id", &id);
    if (body == NULL)
        return;
    const char *roles = json_string_value(json_object_get(body, "roles"));
    if (roles == NULL)
        roles = "";
    if (strlen(roles) > 256 || !user_roles_valid(roles)) {
        api_error_invalid_body(r, "roles");
        return;
    }
    if (needs_license(roles)) {
        api_send_error(r, 400, "api.user.update_user_roles.license.app_error",
                       "Custom permission schemes not supported by current license", NULL);
        return;
    }
    if (!api_require_permission(r, "manage_roles"))
        return;
    roles_t *rs = h2o_mem_alloc_pool(&r->req->pool, sizeof(*rs));
    /* stored as given, trimmed (Mattermost stores the string it was sent) */
    char *trimmed = h2o_strdup(&r->req->pool, roles, SIZE_MAX).base;
    *rs = (roles_t){.id = id, .roles = trim(trimmed)};
    r->state = rs;
    char now[TEXT_INT64_SIZE];
    text_int64(now, clock_now_ms());
    const char *params[] = {id, rs->roles, now};
    api_query(r, USER_SQL_SET_ROLES, 3, params, on_roles_set);
}
