/*
 * Preferences: reading a user's (all, a category, one), saving a list,
 * deleting a list, as Mattermost's api4/preference.go answers.
 *
 * A user reads and edits their own; anyone else needs edit_other_users,
 * which of the default roles only system_admin has.  A list is 1 to 100
 * preferences, each naming the user of the URL (else 403); a save checks
 * each in order as Mattermost's store does (IsValid after the theme is
 * sanitized: store/preference.c) and writes the whole list in one statement.
 * A saved post (category flagged_post) must name a live post whose channel
 * the user may read, as Mattermost checks before anything else.  Each write
 * tells the user's sockets: sidebar_category_updated, then
 * preferences_changed or preferences_deleted with the list as Mattermost
 * sends it (JSON text, the values as the client gave them).
 */
#include <stdlib.h>
#include <string.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/response.h"
#include "store/preference.h"
#include "store/row.h"
#include "ws/ws.h"

/* Mattermost's SessionHasPermissionToUser with edit_other_users. */
static bool may_edit_user(api_request_t *r, const char *user_id)
{
    if (strcmp(user_id, r->session.user_id) == 0 || api_has_permission(r, "edit_other_users", NULL))
        return true;
    api_error_permissions(r);
    return false;
}

/* Route parameter `i` as a category or preference name: the route's class
 * [A-Za-z0-9_]+ (else no route: 404), then Mattermost's
 * IsValidAlphaNumHyphenUnderscore with format (else 400 naming it). */
static const char *param_name(api_request_t *r, size_t i, const char *what)
{
    h2o_iovec_t v = r->params[i];
    for (size_t k = 0; k < v.len; k++) {
        char c = v.base[k];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
            api_route_not_found(r);
            return NULL;
        }
    }
    bool ok = v.len >= 2;
    for (size_t k = 0; ok && k < v.len; k++) {
        char c = v.base[k];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        ok = alnum || (k > 0 && k + 1 < v.len && (c == '_' || c == '-'));
    }
    if (!ok) {
        api_error_invalid_param(r, what);
        return NULL;
    }
    return api_param(r, i);
}

/* ---- reads ---------------------------------------------------------------------- */

static void on_all_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) == 0) {
        /* Go encodes the empty (nil) list as null */
        api_send_static(r, 200, "null", 4);
        return;
    }
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(list, preference_to_json(res, i));
    api_send_json(r, 200, list);
}

void api_preferences_get(api_request_t *r)
{
    const char *id = api_param_id(r, 0, "user_id");
    if (id == NULL || !may_edit_user(r, id))
        return;
    const char *params[] = {id};
    api_query_read(r, PREFERENCE_SQL_ALL, 1, params, on_all_loaded);
}

static void on_category_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) == 0) {
        api_send_error(r, 404, "api.preference.preferences_category.get.app_error", "Unable to get user preferences.",
                       NULL);
        return;
    }
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(list, preference_to_json(res, i));
    api_send_json(r, 200, list);
}

void api_preferences_get_category(api_request_t *r)
{
    const char *id = api_param_id(r, 0, "user_id");
    if (id == NULL)
        return;
    const char *category = param_name(r, 1, "category");
    if (category == NULL || !may_edit_user(r, id))
        return;
    const char *params[] = {id, category};
    api_query_read(r, PREFERENCE_SQL_CATEGORY, 2, params, on_category_loaded);
}

static void on_one_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        /* Mattermost answers a missing preference as a store error: 400 */
        api_send_error(r, 400, "app.preference.get.app_error", "We encountered an error while finding preferences.",
                       NULL);
        return;
    }
    api_send_json(r, 200, preference_to_json(res, 0));
}

void api_preferences_get_one(api_request_t *r)
{
    const char *id = api_param_id(r, 0, "user_id");
    if (id == NULL)
        return;
    const char *category = param_name(r, 1, "category");
    if (category == NULL)
        return;
    const char *name = param_name(r, 2, "preference_name");
    if (name == NULL || !may_edit_user(r, id))
        return;
    const char *params[] = {id, category, name};
    api_query_read(r, PREFERENCE_SQL_ONE, 3, params, on_one_loaded);
}

/* ---- writes --------------------------------------------------------------------- */

/* A save or delete in flight: the list as read, and the texts its
 * statement and event take. */
typedef struct {
    const char *user_id;
    preference_t *list;
    size_t n;
    const char *event; /* preferences_changed, preferences_deleted */
    char *event_text;  /* the list as Go marshals it (malloc'd) */
} batch_t;

static void on_batch_disposed(void *data)
{
    batch_t *b = data;
    free(b->event_text);
}

static void field(json_t *o, const char *key, const char **s, size_t *len)
{
    json_t *v = json_object_get(o, key);
    *s = json_is_string(v) ? json_string_value(v) : "";
    *len = json_is_string(v) ? json_string_length(v) : 0;
}

/* The body as Go decodes model.Preferences, then 1..100 of them; NULL after
 * answering 400. */
static batch_t *read_batch(api_request_t *r, const char *user_id, const char *event)
{
    static const api_body_field_t fields[] = {
        {"user_id", JSON_STRING}, {"category", JSON_STRING}, {"name", JSON_STRING}, {"value", JSON_STRING}};
    json_t *body = api_request_body(r, JSON_ARRAY);
    if (body == NULL)
        return NULL;
    size_t n = json_array_size(body);
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(body, i);
        if (!json_is_null(o) && (!json_is_object(o) || !api_body_types_ok(o, fields, 4))) {
            api_error_invalid_body(r, "preferences");
            return NULL;
        }
    }
    if (n == 0 || n > PREFERENCE_BATCH_MAX) {
        api_error_invalid_body(r, "preferences");
        return NULL;
    }
    batch_t *b = h2o_mem_alloc_shared(&r->req->pool, sizeof(*b), on_batch_disposed);
    memset(b, 0, sizeof(*b));
    b->user_id = user_id;
    b->event = event;
    b->n = n;
    b->list = h2o_mem_alloc_pool(&r->req->pool, n * sizeof(*b->list));
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(body, i);
        preference_t *p = &b->list[i];
        field(o, "user_id", &p->user_id, &p->user_id_len);
        field(o, "category", &p->category, &p->category_len);
        field(o, "name", &p->name, &p->name_len);
        field(o, "value", &p->value, &p->value_len);
    }
    return b;
}

/* Every preference names the user of the URL (Mattermost's app layer). */
static bool all_for_user(api_request_t *r, const batch_t *b, const char *error_id, const char *message)
{
    for (size_t i = 0; i < b->n; i++) {
        const preference_t *p = &b->list[i];
        if (p->user_id_len != strlen(b->user_id) || strcmp(p->user_id, b->user_id) != 0) {
            api_send_error(r, 403, error_id, message, NULL);
            return false;
        }
    }
    return true;
}

static bool has_nul(const preference_t *p)
{
    return strlen(p->category) != p->category_len || strlen(p->name) != p->name_len || strlen(p->value) != p->value_len;
}

static void on_batch_written(api_request_t *r, PGresult *res, const char *error)
{
    batch_t *b = r->state;
    (void)res;
    if (api_query_failed(r, error))
        return;
    ws_broadcast_t to = {.user_id = b->user_id};
    json_t *empty = json_object();
    ws_publish(r->worker, "sidebar_category_updated", empty, &to);
    json_decref(empty);
    json_t *data = json_pack("{s:s}", "preferences", b->event_text);
    if (data != NULL)
        ws_publish(r->worker, b->event, data, &to);
    json_decref(data);
    api_send_json(r, 200, json_pack("{s:s}", "status", "OK"));
}

/* Sends `list` (taken over) as the statement's $2. */
static void write_batch(api_request_t *r, batch_t *b, const char *sql, json_t *list)
{
    char *text = json_dumps(list, JSON_COMPACT);
    json_decref(list);
    b->event_text = preference_list_text(b->list, b->n);
    if (text == NULL || b->event_text == NULL) {
        free(text);
        api_error_busy(r);
        return;
    }
    h2o_iovec_t copy = h2o_strdup(&r->req->pool, text, SIZE_MAX);
    free(text);
    r->state = b;
    const char *params[] = {b->user_id, copy.base};
    api_query(r, sql, 2, params, on_batch_written);
}

/* After the saved posts' check: Mattermost's app and store steps. */
static void save_checked(api_request_t *r, batch_t *b)
{
    if (!all_for_user(r, b, "api.preference.update_preferences.set.app_error", "Unable to set user preferences."))
        return;
    json_t *rows = json_array();
    for (size_t i = 0; i < b->n; i++) {
        const preference_t *p = &b->list[i];
        const char *message, *bad = preference_check(p, &message);
        if (bad != NULL || has_nul(p)) {
            json_decref(rows);
            if (bad != NULL)
                api_error_model_invalid(r, "preference", bad, message);
            else /* PostgreSQL stores no NUL: Mattermost's insert fails */
                api_send_error(r, 400, "app.preference.save.updating.app_error",
                               "We encountered an error while updating preferences.", NULL);
            return;
        }
        char *sanitized = preference_sanitized_value(p);
        json_t *row = json_pack("{s:s%, s:s%, s:s}", "category", p->category, p->category_len, "name", p->name,
                                p->name_len, "value", sanitized != NULL ? sanitized : p->value);
        free(sanitized);
        json_array_append_new(rows, row);
    }
    write_batch(r, b, PREFERENCE_SQL_SAVE, rows);
}

static void on_flagged_checked(api_request_t *r, PGresult *res, const char *error)
{
    batch_t *b = r->state;
    if (api_query_failed(r, error))
        return;
    bool admin = api_has_permission(r, "manage_system", NULL);
    for (int i = 0; i < PQntuples(res); i++) {
        if (!row_bool(res, i, 1)) {
            api_error_invalid_body(r, "preference.name");
            return;
        }
        if (!row_bool(res, i, 2) && !admin) {
            api_error_permissions(r);
            return;
        }
    }
    save_checked(r, b);
}

void api_preferences_save(api_request_t *r)
{
    const char *id = api_param_id(r, 0, "user_id");
    if (id == NULL || !may_edit_user(r, id))
        return;
    batch_t *b = read_batch(r, id, "preferences_changed");
    if (b == NULL)
        return;
    json_t *flagged = json_array();
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->list[i].category, "flagged_post") == 0)
            json_array_append_new(flagged, json_stringn(b->list[i].name, b->list[i].name_len));
    if (json_array_size(flagged) == 0) {
        json_decref(flagged);
        save_checked(r, b);
        return;
    }
    char *text = json_dumps(flagged, JSON_COMPACT);
    json_decref(flagged);
    if (text == NULL) {
        api_error_busy(r);
        return;
    }
    h2o_iovec_t copy = h2o_strdup(&r->req->pool, text, SIZE_MAX);
    free(text);
    r->state = b;
    const char *params[] = {r->session.user_id, copy.base};
    api_query(r, PREFERENCE_SQL_FLAGGED_POSTS, 2, params, on_flagged_checked);
}

void api_preferences_delete(api_request_t *r)
{
    const char *id = api_param_id(r, 0, "user_id");
    if (id == NULL || !may_edit_user(r, id))
        return;
    batch_t *b = read_batch(r, id, "preferences_deleted");
    if (b == NULL ||
        !all_for_user(r, b, "api.preference.delete_preferences.delete.app_error", "Unable to delete user preferences."))
        return;
    json_t *rows = json_array();
    for (size_t i = 0; i < b->n; i++) {
        const preference_t *p = &b->list[i];
        if (has_nul(p)) {
            json_decref(rows);
            api_send_error(r, 400, "app.preference.delete.app_error",
                           "We encountered an error while deleting preferences.", NULL);
            return;
        }
        json_array_append_new(
            rows, json_pack("{s:s%, s:s%}", "category", p->category, p->category_len, "name", p->name, p->name_len));
    }
    write_batch(r, b, PREFERENCE_SQL_DELETE, rows);
}
