/*
 * Channels: creating open and private channels, direct messages, reading a
 * channel, adding members, listing members and a user's channels in a team.
 *
 * Permissions (see access.h): creating an open or private channel takes
 * create_public_channel or create_private_channel, from the creator's system
 * roles or their team membership's roles (checked in the statement that
 * creates it, so a role patched a moment ago counts); a direct channel takes
 * create_direct_channel, and manage_system for someone else's.  The others
 * follow Mattermost's default scheme, a system role's permission standing in
 * for a system admin: a team member joins its team's open channels; a
 * channel member adds others (channel_user holds manage_public/private_
 * channel_members), so nobody joins a private channel uninvited.  An added
 * user must be an active member of the channel's team.
 *
 * Every write is one statement: a channel comes with its creator's
 * membership (as channel admin), a direct channel with both members, and a
 * write that finds its row already there (a duplicate direct channel, an
 * existing member) returns that row, as Mattermost does, instead of failing.
 * The checks before a write read the master; plain reads (GET) may be
 * answered by a replica.  Each write then publishes its WebSocket events
 * (channel_created, direct_added, user_added) and the members-changed record
 * that refreshes every worker's member sets, on this node and through the
 * cluster on the others.
 *
 * The statements and the Channel JSON are store/channel.h's; here are the
 * body checks, the permissions and the events.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/access.h"
#include "api/channels.h"
#include "api/handlers.h"
#include "api/post_system.h"
#include "api/response.h"
#include "core/clock.h"
#include "core/text.h"
#include "db/sqlstate.h"
#include "store/channel.h"
#include "store/row.h"
#include "ws/ws.h"

/* Mattermost's model.Channel limits. */
#define CHANNEL_NAME_MIN         2
#define CHANNEL_NAME_MAX         64
#define CHANNEL_DISPLAY_NAME_MAX 64 /* runes */
#define CHANNEL_HEADER_MAX       1024
#define CHANNEL_PURPOSE_MAX      250

bool api_channel_list_allowed(api_request_t *r, const PGresult *res, const char *error, const char *not_found_id)
{
    if (api_query_failed(r, error))
        return false;
    if (PQntuples(res) < 1 || !row_bool(res, 0, 0)) {
        api_error_permissions(r);
        return false;
    }
    if (not_found_id != NULL && PQgetisnull(res, 0, 1)) {
        api_error_not_found(r, not_found_id, "channels");
        return false;
    }
    return true;
}

const char *api_channel_now(api_request_t *r)
{
    return text_i64(&r->req->pool, clock_now_ms());
}

void api_channel_publish_updated(api_request_t *r, json_t *channel)
{
    char *text = json_dumps(channel, JSON_COMPACT);
    json_t *data = text != NULL ? json_pack("{s:s}", "channel", text) : NULL;
    const char *id = json_string_value(json_object_get(channel, "id"));
    if (data != NULL && id != NULL)
        ws_publish(r->worker, "channel_updated", data, &(ws_broadcast_t){.channel_id = id});
    json_decref(data);
    free(text);
}

/* ---- creating a channel --------------------------------------------------------- */

typedef struct {
    const char *team_id, *name, *display_name, *type, *purpose, *header;
} channel_input_t;

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* ^[a-z0-9]+([a-z\-\_0-9]+|(__)?)[a-z0-9]+$, 2 to 64 characters. */
static bool valid_channel_name(const char *s)
{
    size_t n = strlen(s);
    if (n < CHANNEL_NAME_MIN || n > CHANNEL_NAME_MAX || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_lower_alnum(s[i]) && s[i] != '-' && s[i] != '_')
            return false;
    return true;
}

/* Names only direct ("<id>__<id>") and group (40 hex digits) channels use. */
static bool looks_direct_or_group(const char *s)
{
    size_t n = strlen(s);
    if (n == 2 * ID_LENGTH + 2 && s[ID_LENGTH] == '_' && s[ID_LENGTH + 1] == '_')
        return id_is_valid(s, ID_LENGTH) && id_is_valid(s + ID_LENGTH + 2, ID_LENGTH);
    if (n != 40)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* CreateChannelWithUser's checks, then Channel.IsValid's; answers 400. */
static bool validate_channel(api_request_t *r, const channel_input_t *in)
{
    if (strcmp(in->type, "D") == 0 || strcmp(in->type, "G") == 0) {
        api_send_error(r, 400, "api.channel.create_channel.direct_channel.app_error",
                       "Must use createDirectChannel API service for direct message channel creation.", NULL);
        return false;
    }
    if (in->display_name[0] == '\0')
        return api_error_model_invalid(r, "channel", "display_name", "Invalid display name.");
    return api_channel_validate(r, in->type, in->name, in->display_name, in->header, in->purpose);
}

bool api_channel_validate(api_request_t *r, const char *type, const char *name, const char *display_name,
                          const char *header, const char *purpose)
{
    bool direct_or_group = strcmp(type, "D") == 0 || strcmp(type, "G") == 0;
    if (text_utf8_runes(display_name) > CHANNEL_DISPLAY_NAME_MAX)
        return api_error_model_invalid(r, "channel", "display_name", "Invalid display name.");
    if (!valid_channel_name(name))
        return api_error_model_invalid(
            r, "channel", "2_or_more",
            "Name must be 2 or more lowercase alphanumeric characters (letters, numbers, '-', '_').");
    if (strcmp(type, "O") != 0 && strcmp(type, "P") != 0 && !direct_or_group)
        return api_error_model_invalid(r, "channel", "type", "Invalid type.");
    if (text_utf8_runes(header) > CHANNEL_HEADER_MAX)
        return api_error_model_invalid(r, "channel", "header", "Invalid header.");
    if (text_utf8_runes(purpose) > CHANNEL_PURPOSE_MAX)
        return api_error_model_invalid(r, "channel", "purpose", "Invalid purpose.");
    if (!direct_or_group && looks_direct_or_group(name))
        return api_error_model_invalid(r, "channel", "name",
                                       "Invalid channel name. User ids are not permitted in channel name.");
    return true;
}

/* Copies `s` into the pool without leading and trailing white space. */
static const char *trimmed(api_request_t *r, const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    return h2o_strdup(&r->req->pool, s, n).base;
}

static bool read_channel_input(api_request_t *r, json_t *body, channel_input_t *in)
{
    const char *display_name;
    if (!api_json_string_field(body, "team_id", &in->team_id) || !api_json_string_field(body, "name", &in->name) ||
        !api_json_string_field(body, "display_name", &display_name) ||
        !api_json_string_field(body, "type", &in->type) || !api_json_string_field(body, "purpose", &in->purpose) ||
        !api_json_string_field(body, "header", &in->header)) {
        api_error_invalid_body(r, "channel");
        return false;
    }
    in->display_name = trimmed(r, display_name);
    return true;
}

/* The permission creating a channel of `type` takes. */
static const char *create_permission(const char *type)
{
    return strcmp(type, "P") == 0 ? "create_private_channel" : "create_public_channel";
}

/* The team, before anything else: as in Mattermost, a caller without a
 * team gets 403 (no permission on a team ""), unless their system roles
 * grant the permission (a system admin): 400. */
static bool check_team_id(api_request_t *r, const channel_input_t *in)
{
    if (in->team_id[0] == '\0') {
        bool open_or_private = strcmp(in->type, "O") == 0 || strcmp(in->type, "P") == 0;
        if (open_or_private && !api_has_permission(r, create_permission(in->type), NULL))
            api_error_permissions(r);
        else
            api_send_error(r, 400, "app.channel.create_channel.no_team_id.app_error",
                           "Must specify the team ID to create a channel.", NULL);
        return false;
    }
    if (!id_is_valid(in->team_id, strlen(in->team_id))) {
        api_error_invalid_body(r, "team_id");
        return false;
    }
    return true;
}

static void on_channel_created(api_request_t *r, PGresult *res, const char *error)
{
    if (error != NULL && sqlstate_is(row_sqlstate(res), SQLSTATE_UNIQUE_VIOLATION)) {
        api_send_error(r, 400, "store.sql_channel.save_channel.exists.app_error",
                       "A channel with that name already exists on the same team.", NULL);
        return;
    }
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        /* no such team, or the caller's membership does not grant it */
        if (api_has_permission(r, r->state, NULL))
            api_error_not_found(r, "app.team.get.find.app_error", "team");
        else
            api_error_permissions(r);
        return;
    }
    json_t *channel = channel_to_json(res, 0, 0);
    json_t *data = json_pack("{s:O,s:O}", "channel_id", json_object_get(channel, "id"), "team_id",
                             json_object_get(channel, "team_id"));
    /* the creator is its first member: every worker's copy of the creator's
     * channels (what user_typing checks) must learn it */
    ws_publish_members_changed(r->worker, json_string_value(json_object_get(channel, "id")), NULL);
    if (data != NULL)
        ws_publish(r->worker, "channel_created", data, &(ws_broadcast_t){.user_id = r->session.user_id});
    json_decref(data);
    /* CreateChannelWithUser: its creator joined it */
    api_system_post_t join = {.type = "system_join_channel",
                              .channel_id = json_string_value(json_object_get(channel, "id")),
                              .user_id = r->session.user_id};
    api_system_posts_respond(r, &join, 1, 201, channel);
}

void api_channels_create(api_request_t *r)
{
    json_t *body = api_request_body(r, JSON_OBJECT);
    channel_input_t in;
    if (body == NULL || !read_channel_input(r, body, &in) || !check_team_id(r, &in) || !validate_channel(r, &in))
        return;
    const char *permission = create_permission(in.type);
    r->state = (void *)permission;
    char id[ID_LENGTH + 1];
    id_new(id);
    const char *params[] = {id,
                            in.team_id,
                            api_channel_now(r),
                            in.type,
                            in.display_name,
                            in.name,
                            in.header,
                            in.purpose,
                            r->session.user_id,
                            api_has_permission(r, permission, NULL) ? "t" : "f",
                            CHANNEL_NOTIFY_PROPS_DEFAULT,
                            api_roles_granting(r, permission)};
    api_query(r, CHANNEL_SQL_CREATE, 12, params, on_channel_created);
}

/* ---- direct channels ------------------------------------------------------------ */

static void on_direct_reloaded(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_send_error(r, 400, "api.channel.create_direct_channel.invalid_user.app_error",
                       "Invalid user ID for direct channel creation.", NULL);
        return;
    }
    api_send_json(r, 201, channel_to_json(res, 0, 0));
}

/* The name is "<id>__<id>": the teammate is the id that is not the caller's. */
static void publish_direct_added(api_request_t *r, json_t *channel)
{
    const char *name = r->state, *id = json_string_value(json_object_get(channel, "id"));
    if (id == NULL || strlen(name) != 2 * ID_LENGTH + 2)
        return;
    char teammate[ID_LENGTH + 1];
    bool first_is_me = strncmp(name, r->session.user_id, ID_LENGTH) == 0;
    snprintf(teammate, sizeof(teammate), "%.*s", ID_LENGTH, first_is_me ? name + ID_LENGTH + 2 : name);
    ws_publish_members_changed(r->worker, id, NULL);
    json_t *data = json_pack("{s:s,s:s}", "creator_id", r->session.user_id, "teammate_id", teammate);
    if (data != NULL)
        ws_publish(r->worker, "direct_added", data, &(ws_broadcast_t){.channel_id = id});
    json_decref(data);
}

static void on_direct_created(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) == 0) {
        /* a user is missing, or another request created the channel after our
         * snapshot: look again */
        const char *params[] = {r->state};
        api_query(r, CHANNEL_SQL_GET_DIRECT, 1, params, on_direct_reloaded);
        return;
    }
    json_t *channel = channel_to_json(res, 0, 0);
    publish_direct_added(r, channel);
    api_send_json(r, 201, channel);
}

/* Mattermost's GetDMNameFromIds: "<smaller>__<larger>". */
static char *direct_name(api_request_t *r, const char *a, const char *b)
{
    char *name = h2o_mem_alloc_pool(&r->req->pool, 2 * ID_LENGTH + 3);
    bool swap = strcmp(a, b) > 0;
    snprintf(name, 2 * ID_LENGTH + 3, "%s__%s", swap ? b : a, swap ? a : b);
    return name;
}

void api_channels_create_direct(api_request_t *r)
{
    json_t *ids = api_request_body(r, JSON_ARRAY);
    if (ids == NULL)
        return;
    const char *a = json_string_value(json_array_get(ids, 0)), *b = json_string_value(json_array_get(ids, 1));
    if (json_array_size(ids) != 2 || a == NULL || b == NULL) {
        api_error_invalid_body(r, "user_ids");
        return;
    }
    if (!id_is_valid(a, strlen(a)) || !id_is_valid(b, strlen(b))) {
        api_error_invalid_body(r, "user_id");
        return;
    }
    if (!api_require_permission(r, "create_direct_channel"))
        return;
    bool mine = strcmp(a, r->session.user_id) == 0 || strcmp(b, r->session.user_id) == 0;
    if (!mine && !api_require_permission(r, "manage_system"))
        return;
    char id[ID_LENGTH + 1];
    id_new(id);
    r->state = direct_name(r, a, b);
    const char *params[] = {
        id, a, b, api_channel_now(r), r->state, strcmp(a, b) == 0 ? "1" : "2", CHANNEL_NOTIFY_PROPS_DEFAULT};
    api_query(r, CHANNEL_SQL_CREATE_DIRECT, 7, params, on_direct_created);
}

/* ---- reading a channel -------------------------------------------------------------- */

static void on_channel_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (!api_query_one_row(r, res, error, "app.channel.get.existing.app_error", "channel"))
        return;
    api_send_json(r, 200, channel_to_json(res, 0, 0));
}

static void load_channel(api_request_t *r)
{
    api_channel_access_t *c = r->state;
    const char *params[] = {c->id};
    api_query_read(r, CHANNEL_SQL_GET, 1, params, on_channel_loaded);
}

void api_channels_get(api_request_t *r)
{
    const char *channel_id = api_param_id(r, 0, "channel_id");
    if (channel_id != NULL)
        api_require_channel(r, channel_id, ACCESS_READ, load_channel);
}

/* ---- channel members ------------------------------------------------------------------ */

static void on_members_loaded(api_request_t *r, PGresult *res, const char *error)
{
    api_send_rows(r, res, error, channel_member_to_json);
}

static void load_members(api_request_t *r)
{
    api_channel_access_t *c = r->state;
    api_page_t page = api_query_page(r, NULL);
    char limit[TEXT_INT64_SIZE], offset[TEXT_INT64_SIZE];
    text_int64(limit, page.per_page);
    text_int64(offset, page.offset);
    const char *params[] = {c->id, limit, offset};
    api_query_read(r, CHANNEL_SQL_MEMBERS_PAGE, 3, params, on_members_loaded);
}

void api_channels_get_members(api_request_t *r)
{
    const char *channel_id = api_param_id(r, 0, "channel_id");
    if (channel_id != NULL)
        api_require_channel(r, channel_id, ACCESS_READ, load_members);
}

typedef struct {
    const char *channel_id, *user_id, *post_root_id;
} add_member_t;

static void on_member_added(api_request_t *r, PGresult *res, const char *error)
{
    const add_member_t *a = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) == 0) {
        /* the user left the team (or the channel went) since the checks */
        api_error_not_found(r, "app.team.get_member.missing.app_error", "team member");
        return;
    }
    if (row_bool(res, 0, CHANNEL_MEMBER_NCOLUMNS)) {
        ws_publish_members_changed(r->worker, a->channel_id, NULL);
        json_t *data =
            json_pack("{s:s,s:s}", "user_id", a->user_id, "team_id", row_str(res, 0, CHANNEL_MEMBER_NCOLUMNS + 1));
        if (data != NULL)
            ws_publish(r->worker, "user_added", data, &(ws_broadcast_t){.channel_id = a->channel_id});
        json_decref(data);
        /* AddChannelMember: a join, or an add by someone else (in the thread of post_root_id) */
        bool self = strcmp(a->user_id, r->session.user_id) == 0;
        api_system_post_t post = {.type = self ? "system_join_channel" : "system_add_to_channel",
                                  .channel_id = a->channel_id,
                                  .user_id = r->session.user_id,
                                  .other_id = self ? NULL : a->user_id,
                                  .root_id = self ? NULL : a->post_root_id};
        api_system_posts_respond(r, &post, 1, 201, channel_member_to_json(res, 0, 0));
        return;
    }
    api_send_json(r, 201, channel_member_to_json(res, 0, 0));
}

/* Inserts the membership unless it exists; either way returns it.  The
 * team membership is checked again in the statement. */
static void add_member(api_request_t *r)
{
    add_member_t *a = r->state;
    const char *params[] = {a->channel_id, a->user_id, CHANNEL_NOTIFY_PROPS_DEFAULT, api_channel_now(r)};
    api_query(r, CHANNEL_SQL_MEMBER_ADD, 4, params, on_member_added);
}

/* Columns of CHANNEL_SQL_MEMBER_ADD_CHECK. */
enum {
    AM_TYPE,
    AM_DELETE_AT,
    AM_CALLER_MEMBER,
    AM_CALLER_IN_TEAM,
    AM_USER,
    AM_USER_TEAM_DELETE_AT,
    AM_MEMBER,
    AM_POST
};

/* addChannelMember's permissions: joining an open channel needs the team;
 * adding anyone else, or joining a private channel, needs the channel. */
static bool may_add(api_request_t *r, const PGresult *res, bool self)
{
    bool open = row_str(res, 0, AM_TYPE)[0] == 'O';
    const char *manage = open ? "manage_public_channel_members" : "manage_private_channel_members";
    if (api_has_permission(r, manage, NULL) || (self && row_bool(res, 0, AM_MEMBER)))
        return true;
    if (self && open)
        return row_bool(res, 0, AM_CALLER_IN_TEAM);
    return !self && row_bool(res, 0, AM_CALLER_MEMBER);
}

/* AddChannelMember: an existing member is returned; otherwise the user must
 * exist and be an active member of the channel's team. */
static bool may_join(api_request_t *r, const PGresult *res)
{
    if (row_bool(res, 0, AM_MEMBER))
        return true;
    if (!row_bool(res, 0, AM_USER)) {
        api_error_not_found(r, "app.user.missing_account.const", "user");
        return false;
    }
    if (PQgetisnull(res, 0, AM_USER_TEAM_DELETE_AT)) {
        api_error_not_found(r, "app.team.get_member.missing.app_error", "team member");
        return false;
    }
    if (row_int64(res, 0, AM_USER_TEAM_DELETE_AT) != 0) {
        api_send_error(r, 400, "api.channel.add_user.to.channel.failed.deleted.app_error",
                       "Failed to add user to channel because they have been removed from the team.", NULL);
        return false;
    }
    return true;
}

static void on_add_member_checked(api_request_t *r, PGresult *res, const char *error)
{
    add_member_t *a = r->state;
    if (api_query_failed(r, error))
        return;
    if (a->post_root_id[0] != '\0' && PQgetisnull(res, 0, AM_POST)) {
        api_error_not_found(r, "app.post.get.app_error", "post");
        return;
    }
    if (a->post_root_id[0] != '\0' && strcmp(row_str(res, 0, AM_POST), a->channel_id) != 0) {
        api_error_invalid_body(r, "post_root_id");
        return;
    }
    if (PQgetisnull(res, 0, AM_TYPE) || row_int64(res, 0, AM_DELETE_AT) != 0) {
        api_error_not_found(r, "app.channel.get.existing.app_error", "channel");
        return;
    }
    char type = row_str(res, 0, AM_TYPE)[0];
    if (type == 'D' || type == 'G') {
        api_send_error(r, 400, "api.channel.add_user_to_channel.type.app_error",
                       "Can not add user to this channel type.", NULL);
        return;
    }
    if (!may_add(r, res, strcmp(a->user_id, r->session.user_id) == 0)) {
        api_error_permissions(r);
        return;
    }
    if (may_join(r, res))
        add_member(r);
}

void api_channels_add_member(api_request_t *r)
{
    add_member_t *a = h2o_mem_alloc_pool(&r->req->pool, sizeof(*a));
    json_t *body;
    if ((a->channel_id = api_param_id(r, 0, "channel_id")) == NULL || (body = api_request_body(r, JSON_OBJECT)) == NULL)
        return;
    a->user_id = json_string_value(json_object_get(body, "user_id"));
    a->post_root_id = json_string_value(json_object_get(body, "post_root_id"));
    if (a->user_id == NULL || !id_is_valid(a->user_id, strlen(a->user_id))) {
        api_error_invalid_body(r, "user_id");
        return;
    }
    if (a->post_root_id == NULL)
        a->post_root_id = "";
    if (a->post_root_id[0] != '\0' && !id_is_valid(a->post_root_id, strlen(a->post_root_id))) {
        api_error_invalid_body(r, "post_root_id");
        return;
    }
    r->state = a;
    const char *params[] = {a->channel_id, r->session.user_id, a->user_id, a->post_root_id};
    api_query(r, CHANNEL_SQL_MEMBER_ADD_CHECK, 4, params, on_add_member_checked);
}

/* ---- a user's channels in a team ------------------------------------------------------- */

/* Rows: whether the caller may view the team, then a channel (NULL when the
 * caller may not, or when there is none). */
static void on_channels_for_user_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (!api_channel_list_allowed(r, res, error, "app.channel.get_channels.not_found.app_error"))
        return;
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(list, channel_to_json(res, i, 1));
    api_send_json(r, 200, list);
}

/* strconv.ParseBool, false on anything else. */
static bool query_bool(api_request_t *r, const char *name)
{
    const char *s = api_query_param(r, name);
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    for (size_t i = 0; s != NULL && i < sizeof(yes) / sizeof(yes[0]); i++)
        if (strcmp(s, yes[i]) == 0)
            return true;
    return false;
}

void api_channels_for_team_for_user(api_request_t *r)
{
    const char *user_id = api_param_id(r, 0, "user_id"), *team_id;
    if (user_id == NULL || (team_id = api_param_id(r, 1, "team_id")) == NULL)
        return;
    /* SessionHasPermissionToUser, then view_team (the statement checks the
     * membership) */
    if (strcmp(user_id, r->session.user_id) != 0 && !api_require_permission(r, "edit_other_users"))
        return;
    bool sysadmin = api_has_permission(r, "view_team", NULL);
    const char *s = api_query_param(r, "last_delete_at");
    char *end = NULL;
    long long last_delete_at = s != NULL ? strtoll(s, &end, 10) : 0;
    if (s != NULL && (*s == '\0' || *end != '\0'))
        last_delete_at = 0; /* Atoi failed: Mattermost takes 0 */
    if (last_delete_at < 0) {
        api_error_invalid_param(r, "last_delete_at");
        return;
    }
    char since[TEXT_INT64_SIZE];
    text_int64(since, last_delete_at);
    const char *params[] = {
        user_id, team_id, sysadmin ? "t" : "f", r->session.user_id, query_bool(r, "include_deleted") ? "t" : "f",
        since};
    api_query_read(r, CHANNEL_SQL_FOR_TEAM_FOR_USER, 6, params, on_channels_for_user_loaded);
}
