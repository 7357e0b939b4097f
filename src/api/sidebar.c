/*
 * Sidebar categories (Mattermost's api4/channel_category.go): reading a
 * user's categories in a team, their order and one category, creating a
 * custom category and deleting one; updates are sidebar_update.c's.
 *
 * Permissions as Mattermost's: the routes of a user's sidebar need the user
 * or a system admin (403 otherwise); the routes of one category need a
 * system admin, or the category to be the caller's in the route's user and
 * team (403 otherwise, whether or not it exists).  The default categories
 * are created the first time a user's categories in a team are read and
 * there are none (createInitialSidebarCategories); a user who is not an
 * active member of the team gets none, as in Mattermost.
 *
 * Each write is one statement (store/sidebar.h) and publishes its event
 * (sidebar_category_created, sidebar_category_deleted) to the user.
 */
#include "api/sidebar.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/response.h"
#include "core/text.h"
#include "store/row.h"
#include "store/sidebar.h"
#include "ws/ws.h"

/* Mattermost's column sizes, refused with a 400 rather than failing in the
 * database (Mattermost answers 500 then). */
#define SIDEBAR_DISPLAY_NAME_MAX 64
#define SIDEBAR_SORTING_MAX      64

/* ---- shared with sidebar_update.c ----------------------------------------------- */

static const char *const DEFAULT_TYPES[] = {"favorites", "channels", "direct_messages"};

/* "<type>_<26 [a-z0-9]>_<26 [a-z0-9]>" at `s`. */
static bool default_id_at(const char *s, size_t prefix)
{
    const char *a = s + prefix + 1;
    if (s[prefix] != '_' || strlen(a) < 2 * ID_LENGTH + 1 || a[ID_LENGTH] != '_')
        return false;
    return id_is_valid(a, ID_LENGTH) && id_is_valid(a + ID_LENGTH + 1, ID_LENGTH);
}

/* IsValidCategoryId: an id, or (anywhere in it, its pattern is not
 * anchored) a default category's id. */
static bool valid_category_id(const char *s)
{
    if (id_is_valid(s, strlen(s)))
        return true;
    for (size_t t = 0; t < sizeof(DEFAULT_TYPES) / sizeof(DEFAULT_TYPES[0]); t++)
        for (const char *p = strstr(s, DEFAULT_TYPES[t]); p != NULL; p = strstr(p + 1, DEFAULT_TYPES[t]))
            if (default_id_at(p, strlen(DEFAULT_TYPES[t])))
                return true;
    return false;
}

api_sidebar_t *api_sidebar_begin(api_request_t *r, bool with_category)
{
    api_sidebar_t *s = h2o_mem_alloc_pool(&r->req->pool, sizeof(*s));
    *s = (api_sidebar_t){.admin = api_has_permission(r, "edit_other_users", NULL)};
    if ((s->user_id = api_param_id(r, 0, "user_id")) == NULL || (s->team_id = api_param_id(r, 1, "team_id")) == NULL)
        return NULL;
    if (with_category) {
        s->category_id = api_param(r, 2);
        if (!valid_category_id(s->category_id)) {
            api_error_invalid_param(r, "category_id");
            return NULL;
        }
    }
    if (!s->admin && strcmp(s->user_id, r->session.user_id) != 0) {
        api_error_permissions(r);
        return NULL;
    }
    return s;
}

json_t *api_sidebar_body(api_request_t *r, json_type type)
{
    json_t *body = json_loadb(r->req->entity.base, r->req->entity.len, 0, NULL);
    if (body == NULL || json_typeof(body) != type) {
        json_decref(body);
        api_sidebar_error_category(r);
        return NULL;
    }
    json_decref(r->body);
    r->body = body;
    return body;
}

/* SidebarCategoryWithChannels's fields as Go decodes them. */
static const api_body_field_t CATEGORY_FIELDS[] = {
    {"id", JSON_STRING},      {"user_id", JSON_STRING},    {"team_id", JSON_STRING},      {"sort_order", JSON_INTEGER},
    {"sorting", JSON_STRING}, {"type", JSON_STRING},       {"display_name", JSON_STRING}, {"muted", JSON_TRUE},
    {"collapsed", JSON_TRUE}, {"channel_ids", JSON_ARRAY},
};

/* channel_ids as Go's []string: strings (a null is ""); NULL on another type. */
static json_t *channel_ids_input(json_t *ids)
{
    json_t *out = json_array(), *v;
    size_t i;
    json_array_foreach(ids, i, v)
    {
        if (!json_is_string(v) && !json_is_null(v)) {
            json_decref(out);
            return NULL;
        }
        json_array_append_new(out, json_string(json_is_string(v) ? json_string_value(v) : ""));
    }
    return out;
}

json_t *api_sidebar_category_input(api_request_t *r, json_t *category, const char *id)
{
    const char *body_id, *display_name, *sorting;
    json_t *ids;
    if (!json_is_object(category) ||
        !api_body_types_ok(category, CATEGORY_FIELDS, sizeof(CATEGORY_FIELDS) / sizeof(CATEGORY_FIELDS[0])) ||
        !api_json_string_field(category, "id", &body_id) ||
        !api_json_string_field(category, "display_name", &display_name) ||
        !api_json_string_field(category, "sorting", &sorting) ||
        (ids = channel_ids_input(json_object_get(category, "channel_ids"))) == NULL) {
        api_sidebar_error_category(r);
        return NULL;
    }
    if (text_utf8_runes(display_name) > SIDEBAR_DISPLAY_NAME_MAX || text_utf8_runes(sorting) > SIDEBAR_SORTING_MAX) {
        json_decref(ids);
        api_sidebar_error_category(r);
        return NULL;
    }
    return json_pack("{s:s,s:s,s:s,s:b,s:b,s:o}", "id", id != NULL ? id : body_id, "display_name", display_name,
                     "sorting", sorting, "muted", json_is_true(json_object_get(category, "muted")), "collapsed",
                     json_is_true(json_object_get(category, "collapsed")), "channel_ids", ids);
}

void api_sidebar_error_category(api_request_t *r)
{
    api_error_invalid_param(r, "category");
}

void api_sidebar_error_store(api_request_t *r, int status)
{
    api_send_error(r, status, "app.channel.sidebar_categories.app_error", "Failed to save category record to database.",
                   NULL);
}

void api_sidebar_error_no_channels(api_request_t *r)
{
    api_send_error(r, 400, "api.invalid_channel", "Channel listed in the request doesn't belong to the user", NULL);
}

void api_sidebar_publish(api_request_t *r, const api_sidebar_t *s, const char *event, json_t *data)
{
    if (data != NULL)
        ws_publish(r->worker, event, data, &(ws_broadcast_t){.user_id = s->user_id, .team_id = s->team_id});
}

/* ---- a user's categories in a team --------------------------------------------- */

/* OrderedSidebarCategories: {categories, order}. */
static json_t *ordered_categories(const PGresult *res)
{
    json_t *categories = json_array(), *order = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_array_append_new(categories, sidebar_category_to_json(res, i, 0));
        json_array_append_new(order, json_string(row_str(res, i, 0)));
    }
    return json_pack("{s:o,s:o}", "categories", categories, "order", order);
}

static void on_defaults_read(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    api_send_json(r, 200, ordered_categories(res));
}

/* Read again: the favorites the statement placed are not in its own
 * snapshot of the channel ids. */
static void on_defaults_created(api_request_t *r, PGresult *res, const char *error)
{
    const api_sidebar_t *s = r->state;
    (void)res;
    if (api_query_failed(r, error))
        return;
    const char *params[] = {s->user_id, s->team_id};
    api_query(r, SIDEBAR_SQL_FOR_TEAM, 2, params, on_defaults_read);
}

static void on_categories_loaded(api_request_t *r, PGresult *res, const char *error)
{
    const api_sidebar_t *s = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) == 0) {
        const char *params[] = {s->user_id, s->team_id};
        api_query(r, SIDEBAR_SQL_CREATE_DEFAULTS, 2, params, on_defaults_created);
        return;
    }
    api_send_json(r, 200, ordered_categories(res));
}

void api_sidebar_get_categories(api_request_t *r)
{
    api_sidebar_t *s = api_sidebar_begin(r, false);
    if (s == NULL)
        return;
    r->state = s;
    const char *params[] = {s->user_id, s->team_id};
    api_query_read(r, SIDEBAR_SQL_FOR_TEAM, 2, params, on_categories_loaded);
}

static void on_order_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    json_t *order = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(order, json_string(row_str(res, i, 0)));
    api_send_json(r, 200, order);
}

void api_sidebar_get_order(api_request_t *r)
{
    api_sidebar_t *s = api_sidebar_begin(r, false);
    if (s == NULL)
        return;
    const char *params[] = {s->user_id, s->team_id};
    api_query_read(r, SIDEBAR_SQL_ORDER, 2, params, on_order_loaded);
}

/* ---- one category ------------------------------------------------------------------ */

/* SessionHasPermissionToCategory for a non-admin: the category is the
 * route's user's (the caller, api_sidebar_begin checked) in the route's
 * team. */
static bool owned(const api_sidebar_t *s, const char *user_id, const char *team_id)
{
    return s->admin || (strcmp(user_id, s->user_id) == 0 && strcmp(team_id, s->team_id) == 0);
}

static void on_category_loaded(api_request_t *r, PGresult *res, const char *error)
{
    const api_sidebar_t *s = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1 || !owned(s, row_str(res, 0, 1), row_str(res, 0, 2))) {
        if (s->admin)
            api_sidebar_error_store(r, 404);
        else
            api_error_permissions(r);
        return;
    }
    api_send_json(r, 200, sidebar_category_to_json(res, 0, 0));
}

void api_sidebar_get_category(api_request_t *r)
{
    api_sidebar_t *s = api_sidebar_begin(r, true);
    if (s == NULL)
        return;
    r->state = s;
    const char *params[] = {s->category_id};
    api_query_read(r, SIDEBAR_SQL_GET, 1, params, on_category_loaded);
}

static void on_category_deleted(api_request_t *r, PGresult *res, const char *error)
{
    const api_sidebar_t *s = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1 || !owned(s, row_str(res, 0, 0), row_str(res, 0, 1))) {
        if (s->admin)
            api_sidebar_error_store(r, 404);
        else
            api_error_permissions(r);
        return;
    }
    if (!row_bool(res, 0, 3)) {
        api_sidebar_error_store(r, 400); /* not a custom category */
        return;
    }
    json_t *data = json_pack("{s:s}", "category_id", s->category_id);
    api_sidebar_publish(r, s, "sidebar_category_deleted", data);
    json_decref(data);
    api_send_json(r, 200, json_pack("{s:s}", "status", "OK"));
}

void api_sidebar_delete_category(api_request_t *r)
{
    api_sidebar_t *s = api_sidebar_begin(r, true);
    if (s == NULL)
        return;
    r->state = s;
    const char *params[] = {s->category_id, s->user_id, s->team_id, s->admin ? "t" : "f"};
    api_query(r, SIDEBAR_SQL_DELETE, 4, params, on_category_deleted);
}

/* ---- creating a custom category ------------------------------------------------- */

static void on_category_created(api_request_t *r, PGresult *res, const char *error)
{
    const api_sidebar_t *s = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1 || !row_bool(res, 0, 0)) {
        api_sidebar_error_no_channels(r);
        return;
    }
    if (PQgetisnull(res, 0, 1)) {
        api_sidebar_error_store(r, 404); /* no categories yet: never read */
        return;
    }
    json_t *category = sidebar_category_to_json(res, 0, 1);
    json_t *data = json_pack("{s:O}", "category_id", json_object_get(category, "id"));
    api_sidebar_publish(r, s, "sidebar_category_created", data);
    json_decref(data);
    api_send_json(r, 200, category);
}

/* A custom category's SortOrder follows the defaults: a user who never
 * listed the categories of the team has none yet, so they come first. */
typedef struct {
    api_sidebar_t *sidebar;
    const char *params[7];
} create_t;

static const char *pool_copy(api_request_t *r, const char *s)
{
    return s != NULL ? h2o_strdup(&r->req->pool, s, SIZE_MAX).base : NULL;
}

static void on_defaults_before_create(api_request_t *r, PGresult *res, const char *error)
{
    create_t *c = r->state;
    (void)res;
    if (api_query_failed(r, error))
        return;
    r->state = c->sidebar;
    api_query(r, SIDEBAR_SQL_CREATE, 7, c->params, on_category_created);
}

void api_sidebar_create_category(api_request_t *r)
{
    api_sidebar_t *s = api_sidebar_begin(r, false);
    json_t *body, *in;
    if (s == NULL || (body = api_sidebar_body(r, JSON_OBJECT)) == NULL)
        return;
    const char *user_id = json_string_value(json_object_get(body, "user_id"));
    const char *team_id = json_string_value(json_object_get(body, "team_id"));
    if (user_id == NULL || team_id == NULL || strcmp(user_id, s->user_id) != 0 || strcmp(team_id, s->team_id) != 0) {
        api_sidebar_error_category(r);
        return;
    }
    char id[ID_LENGTH + 1];
    id_new(id);
    if ((in = api_sidebar_category_input(r, body, id)) == NULL)
        return;
    char *channel_ids = json_dumps(json_object_get(in, "channel_ids"), JSON_COMPACT);
    const char *ids = channel_ids != NULL ? h2o_strdup(&r->req->pool, channel_ids, SIZE_MAX).base : "[]";
    free(channel_ids);
    create_t *c = h2o_mem_alloc_pool(&r->req->pool, sizeof(*c));
    *c = (create_t){.sidebar = s,
                    .params = {pool_copy(r, id), s->user_id, s->team_id,
                               pool_copy(r, json_string_value(json_object_get(in, "sorting"))),
                               pool_copy(r, json_string_value(json_object_get(in, "display_name"))),
                               json_is_true(json_object_get(in, "muted")) ? "t" : "f", ids}};
    json_decref(in);
    r->state = c;
    const char *params[] = {s->user_id, s->team_id};
    api_query(r, SIDEBAR_SQL_CREATE_DEFAULTS, 2, params, on_defaults_before_create);
}
