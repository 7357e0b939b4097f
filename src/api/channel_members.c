/*
 * One channel member at a time: GET /channels/{id}/members/{user_id}, POST
 * /channels/{id}/members/ids, DELETE /channels/{id}/members/{user_id}
 * (removing someone, or leaving), PUT .../members/{user_id}/roles and
 * .../notify_props, as api4/channel.go and app/channel.go answer them.
 *
 * Permissions are Mattermost's, read from the roles: reading members takes
 * reading the channel (api_require_channel); removing someone else takes
 * manage_public/private_channel_members in the channel (any member holds it
 * under the default roles), leaving takes nothing; roles take
 * manage_channel_roles (a channel admin's); notify props are the user's own
 * (edit_other_users for anyone else's).  Nobody leaves the default channel.
 *
 * A removal refreshes every worker's member sets (on every node) before its
 * user_removed events: one to the channel, which the removed user no longer
 * gets, and one to that user; then the leave or remove system post.  A
 * member's new roles or notify props go to its user as
 * channel_member_updated (the member as a JSON string).
 */
#include <stdlib.h>
#include <string.h>

#include "api/access.h"
#include "api/channels.h"
#include "api/handlers.h"
#include "api/post_system.h"
#include "api/posts.h"
#include "api/response.h"
#include "core/text.h"
#include "store/channel_member.h"
#include "store/row.h"
#include "ws/ws.h"

#define NO_MEMBER_ID      "app.channel.get_member.missing.app_error"
#define NO_MEMBER_MESSAGE "No channel member found for that user ID and channel ID."

static void send_no_member(api_request_t *r)
{
    api_send_error(r, 404, NO_MEMBER_ID, NO_MEMBER_MESSAGE, NULL);
}

static void send_ok(api_request_t *r)
{
    api_send_json(r, 200, json_pack("{s:s}", "status", "OK"));
}

void api_channel_publish_member_updated(api_request_t *r, json_t *member)
{
    const char *user_id = json_string_value(json_object_get(member, "user_id"));
    char *text = json_dumps(member, JSON_COMPACT);
    json_t *data = text != NULL ? json_pack("{s:s}", "channelMember", text) : NULL;
    if (data != NULL && user_id != NULL)
        ws_publish(r->worker, "channel_member_updated", data, &(ws_broadcast_t){.user_id = user_id});
    json_decref(data);
    free(text);
    json_decref(member);
}

/* ---- GET /channels/{channel_id}/members/{user_id} -------------------------------- */

static void on_member_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        send_no_member(r);
        return;
    }
    api_send_json(r, 200, channel_member_to_json(res, 0, 0));
}

/* A /channels/{channel_id}/members/{user_id} route: the channel checked for
 * `want`, then `next` with the user id in r->input. */
static void with_member_route(api_request_t *r, api_access_t want, api_handler_fn next)
{
    const char *channel_id = api_post_param_id(r, 0, "channel_id"), *user_id;
    if (channel_id == NULL || (user_id = api_param_id(r, 1, "user_id")) == NULL)
        return;
    r->input = user_id;
    api_require_channel(r, channel_id, want, next);
}

static void load_member(api_request_t *r)
{
    const api_channel_access_t *c = r->state;
    const char *params[] = {c->id, r->input};
    /* GetChannelMember reads the master: a member just added is there */
    api_query(r, CHANNEL_SQL_MEMBER_GET, 2, params, on_member_loaded);
}

void api_channels_get_member(api_request_t *r)
{
    with_member_route(r, ACCESS_READ, load_member);
}

/* ---- POST /channels/{channel_id}/members/ids ------------------------------------- */

static void on_members_loaded(api_request_t *r, PGresult *res, const char *error)
{
    api_send_rows(r, res, error, channel_member_to_json);
}

static void load_members(api_request_t *r)
{
    const api_channel_access_t *c = r->state;
    const char *params[] = {c->id, r->input};
    api_query_read(r, CHANNEL_SQL_MEMBERS_BY_IDS, 2, params, on_members_loaded);
}

void api_channels_members_by_ids(api_request_t *r)
{
    const char *channel_id = api_post_param_id(r, 0, "channel_id");
    json_t *body;
    api_id_list_t ids;
    if (channel_id == NULL || (body = api_request_body(r, JSON_ARRAY)) == NULL ||
        !api_read_id_list(r, body, "user_ids", "user_id", &ids))
        return;
    r->input = api_id_array(r, &ids);
    api_require_channel(r, channel_id, ACCESS_READ, load_members);
}

/* ---- DELETE /channels/{channel_id}/members/{user_id} ------------------------------ */

static void on_member_removed(api_request_t *r, PGresult *res, const char *error)
{
    const api_channel_access_t *c = r->state;
    const char *user_id = r->input;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        send_no_member(r); /* another request removed them first */
        return;
    }
    ws_publish_members_changed(r->worker, c->id, NULL);
    json_t *data = json_pack("{s:s,s:s}", "user_id", user_id, "remover_id", r->session.user_id);
    if (data != NULL)
        ws_publish(r->worker, "user_removed", data, &(ws_broadcast_t){.channel_id = c->id});
    json_decref(data);
    data = json_pack("{s:s,s:s}", "channel_id", c->id, "remover_id", r->session.user_id);
    if (data != NULL)
        ws_publish(r->worker, "user_removed", data, &(ws_broadcast_t){.user_id = user_id});
    json_decref(data);
    /* RemoveUserFromChannel: the leaver's post, or the remover's */
    bool self = strcmp(user_id, r->session.user_id) == 0;
    api_system_post_t post = {.type = self ? "system_leave_channel" : "system_remove_from_channel",
                              .channel_id = c->id,
                              .user_id = r->session.user_id,
                              .other_id = self ? NULL : user_id};
    api_system_posts_respond(r, &post, 1, 200, json_pack("{s:s}", "status", "OK"));
}

/* Columns of CHANNEL_SQL_MEMBER_REMOVE_CHECK. */
enum { RM_USER, RM_MEMBER };

static void on_remove_checked(api_request_t *r, PGresult *res, const char *error)
{
    const api_channel_access_t *c = r->state;
    const char *user_id = r->input;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1 || !row_bool(res, 0, RM_USER)) {
        api_error_not_found(r, "app.user.missing_account.const", "user");
        return;
    }
    if (c->type != 'O' && c->type != 'P') {
        api_send_error(r, 400, "api.channel.remove_channel_member.type.app_error",
                       "Unable to remove user from a channel.", NULL);
        return;
    }
    const char *manage = c->type == 'O' ? "manage_public_channel_members" : "manage_private_channel_members";
    if (strcmp(user_id, r->session.user_id) != 0 && !api_has_channel_permission(r, c, manage)) {
        api_error_permissions(r);
        return;
    }
    if (strcmp(c->name, CHANNEL_DEFAULT_NAME) == 0) {
        api_send_error(r, 400, "api.channel.remove.default.app_error",
                       "Unable to remove user from the default channel town-square.", NULL);
        return;
    }
    if (!row_bool(res, 0, RM_MEMBER)) {
        send_no_member(r);
        return;
    }
    const char *params[] = {c->id, user_id};
    api_query(r, CHANNEL_SQL_MEMBER_REMOVE, 2, params, on_member_removed);
}

static void check_remove(api_request_t *r)
{
    const api_channel_access_t *c = r->state;
    const char *params[] = {c->id, r->input};
    api_query(r, CHANNEL_SQL_MEMBER_REMOVE_CHECK, 2, params, on_remove_checked);
}

void api_channels_remove_member(api_request_t *r)
{
    with_member_route(r, ACCESS_MANAGE, check_remove);
}

/* ---- PUT /channels/{channel_id}/members/{user_id}/roles --------------------------- */

typedef struct {
    const char *user_id;
    const char *names; /* the roles asked for, space-separated */
} roles_input_t;

static void on_roles_set(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        send_no_member(r);
        return;
    }
    api_channel_publish_member_updated(r, channel_member_to_json(res, 0, 0));
    send_ok(r);
}

/* Columns of CHANNEL_SQL_MEMBER_ROLES_CHECK. */
enum { RC_MEMBER, RC_NAME, RC_SCHEME_MANAGED };

/* The row of role `name` in the check's result, or -1. */
static int role_row(const PGresult *res, const char *name)
{
    for (int i = 0; i < PQntuples(res); i++)
        if (!PQgetisnull(res, i, RC_NAME) && strcmp(row_str(res, i, RC_NAME), name) == 0)
            return i;
    return -1;
}

/* UpdateChannelMemberRoles: channel_user and channel_admin become the scheme
 * flags, a role no scheme manages an explicit role; any other scheme role is
 * refused, and so is a role that does not exist. */
static void on_roles_checked(api_request_t *r, PGresult *res, const char *error)
{
    const api_channel_access_t *c = r->state;
    const roles_input_t *in = r->input;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) < 1 || !row_bool(res, 0, RC_MEMBER)) {
        send_no_member(r);
        return;
    }
    bool user = false, admin = false, guest = false;
    size_t size = strlen(in->names) + 1;
    char *words = h2o_mem_alloc_pool(&r->req->pool, size), *explicit_roles = h2o_mem_alloc_pool(&r->req->pool, size);
    memcpy(words, in->names, size);
    explicit_roles[0] = '\0';
    char *save = NULL;
    for (char *name = strtok_r(words, " \t\n", &save); name != NULL; name = strtok_r(NULL, " \t\n", &save)) {
        int row = role_row(res, name);
        if (row < 0) {
            api_send_error(r, 400, "app.role.get_by_name.app_error", "Unable to get role.", NULL);
            return;
        }
        if (!row_bool(res, row, RC_SCHEME_MANAGED)) {
            if (explicit_roles[0] != '\0')
                strcat(explicit_roles, " ");
            strcat(explicit_roles, name);
        } else if (strcmp(name, "channel_admin") == 0) {
            admin = true;
        } else if (strcmp(name, "channel_user") == 0) {
            user = true;
        } else if (strcmp(name, "channel_guest") == 0) {
            guest = true;
        } else {
            api_send_error(r, 400, "api.channel.update_channel_member_roles.scheme_role.app_error",
                           "The provided role is managed by a Scheme and therefore cannot be applied directly to a "
                           "Channel Member.",
                           NULL);
            return;
        }
    }
    if (user && guest) {
        api_send_error(r, 400, "api.channel.update_channel_member_roles.guest_and_user.app_error",
                       "Invalid channel member update: A user must be a guest or a user but not both.", NULL);
        return;
    }
    if (guest) {
        /* chorus has no guests: nobody's guest flag changes */
        api_send_error(r, 400, "api.channel.update_channel_member_roles.changing_guest_role.app_error",
                       "Invalid channel member update: You can't add or remove the guest role manually.", NULL);
        return;
    }
    const char *params[] = {c->id,          in->user_id,       user ? "t" : "f", admin ? "t" : "f",
                            explicit_roles, api_channel_now(r)};
    api_query(r, CHANNEL_SQL_MEMBER_SET_ROLES, 6, params, on_roles_set);
}

/* The role names in `names`, as a text[] literal (IsValidRoleName: only
 * [a-z0-9_], so nothing to quote). */
static const char *role_names_array(api_request_t *r, const char *names)
{
    size_t n = strlen(names);
    char *out = h2o_mem_alloc_pool(&r->req->pool, n + 3), *p = out;
    *p++ = '{';
    bool sep = false;
    for (const char *s = names; *s != '\0'; s++) {
        if (*s == ' ' || *s == '\t' || *s == '\n') {
            sep = p > out + 1;
            continue;
        }
        if (sep) {
            *p++ = ',';
            sep = false;
        }
        *p++ = *s;
    }
    *p++ = '}';
    *p = '\0';
    return out;
}

/* IsValidChannelMemberRoles: every role name is 1 to 64 of [a-z0-9_]. */
static bool valid_role_names(const char *names)
{
    size_t run = 0;
    for (const char *s = names;; s++) {
        if (*s == '\0' || *s == ' ' || *s == '\t' || *s == '\n') {
            if (run > 64)
                return false;
            run = 0;
            if (*s == '\0')
                return true;
            continue;
        }
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
        run++;
    }
}

static void check_roles(api_request_t *r)
{
    const api_channel_access_t *c = r->state;
    const roles_input_t *in = r->input;
    if (!api_has_channel_permission(r, c, "manage_channel_roles")) {
        api_error_permissions(r);
        return;
    }
    const char *params[] = {c->id, in->user_id, role_names_array(r, in->names)};
    api_query(r, CHANNEL_SQL_MEMBER_ROLES_CHECK, 3, params, on_roles_checked);
}

void api_channels_update_member_roles(api_request_t *r)
{
    const char *channel_id = api_post_param_id(r, 0, "channel_id"), *user_id;
    json_t *body;
    if (channel_id == NULL || (user_id = api_param_id(r, 1, "user_id")) == NULL ||
        (body = api_request_body(r, JSON_OBJECT)) == NULL)
        return;
    roles_input_t *in = h2o_mem_alloc_pool(&r->req->pool, sizeof(*in));
    in->user_id = user_id;
    in->names = json_string_value(json_object_get(body, "roles"));
    if (in->names == NULL || !valid_role_names(in->names)) {
        api_error_invalid_body(r, "roles");
        return;
    }
    r->input = in;
    api_require_channel(r, channel_id, ACCESS_MANAGE, check_roles);
}

/* ---- PUT /channels/{channel_id}/members/{user_id}/notify_props -------------------- */

static void on_notify_props_set(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        send_no_member(r);
        return;
    }
    api_channel_publish_member_updated(r, channel_member_to_json(res, 0, 0));
    send_ok(r);
}

/* The notify props UpdateChannelMemberNotifyProps takes; it ignores others. */
static const char *const notify_keys[] = {
    "mark_unread", "desktop", "desktop_threads", "email", "push", "push_threads", "ignore_channel_mentions",
};

void api_channels_update_member_notify_props(api_request_t *r)
{
    const char *channel_id = api_post_param_id(r, 0, "channel_id"), *user_id;
    json_t *body;
    if (channel_id == NULL || (user_id = api_param_id(r, 1, "user_id")) == NULL ||
        (body = api_request_body(r, JSON_OBJECT)) == NULL)
        return;
    json_t *props = json_object();
    for (size_t i = 0; i < sizeof(notify_keys) / sizeof(notify_keys[0]); i++) {
        json_t *v = json_object_get(body, notify_keys[i]);
        if (v != NULL && !json_is_string(v)) {
            json_decref(props);
            api_error_invalid_body(r, "notify_props"); /* a map of strings */
            return;
        }
        if (v != NULL)
            json_object_set(props, notify_keys[i], v);
    }
    char *text = json_dumps(props, JSON_COMPACT);
    json_decref(props);
    if (text == NULL) {
        api_error_database(r, "out of memory");
        return;
    }
    const char *props_text = h2o_strdup(&r->req->pool, text, SIZE_MAX).base;
    free(text);
    /* SessionHasPermissionToUser */
    if (strcmp(user_id, r->session.user_id) != 0 && !api_require_permission(r, "edit_other_users"))
        return;
    const char *params[] = {channel_id, user_id, props_text, api_channel_now(r)};
    api_query(r, CHANNEL_SQL_MEMBER_NOTIFY_PROPS, 4, params, on_notify_props_set);
}
