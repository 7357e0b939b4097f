/*
 * Changing a channel: patch and update (PUT /channels/{id}/patch and PUT
 * /channels/{id}), archive (DELETE /channels/{id}; ?permanent=true deletes
 * it for good where ServiceSettings.EnableAPIChannelDeletion allows, else
 * 401) and restore, privacy (PUT /channels/{id}/privacy), as
 * api4/channel.go checks them.
 *
 * Permissions are Mattermost's, read from the roles: the caller's system
 * roles, then their channel membership's and their team membership's
 * (SessionHasPermissionToChannel).  Under the default roles any member of
 * an open or private channel may change its properties and archive it
 * (channel_user holds manage_*_channel_properties and delete_*_channel);
 * converting it takes a team or system admin; restoring takes manage_team
 * (team admin) or sysconsole_write_user_management_channels.  A direct or
 * group channel's header is its members' to change, and nothing else of it.
 *
 * The events: channel_updated (the channel as a JSON string) to the
 * channel's members on every change, channel_deleted, channel_restored and
 * channel_converted to the channel's team.  Then Mattermost's system posts
 * (api/post_system.h): a patch's display name, header and purpose changes,
 * an update's display name, the privacy change, the restore; the archive's
 * comes before the archive.
 */
#include <stdlib.h>
#include <string.h>

#include "api/access.h"
#include "api/channels.h"
#include "api/handlers.h"
#include "api/post_system.h"
#include "api/response.h"
#include "core/text.h"
#include "db/sqlstate.h"
#include "store/channel_admin.h"
#include "store/row.h"
#include "ws/ws.h"

/* What a patch or an update writes: NULL keeps the value. */
typedef struct {
    const char *display_name, *name, *header, *purpose, *type;
    enum { CHANGE_PATCH, CHANGE_UPDATE, CHANGE_PRIVACY } route; /* which system posts follow */
    const char *asked_display_name;                             /* an update's display_name as sent ("" for none) */
} channel_change_t;

static const channel_change_t *change_of(api_request_t *r)
{
    return r->input;
}

/* ---- writing the change --------------------------------------------------------- */

static const char *field(json_t *channel, const char *key)
{
    return json_string_value(json_object_get(channel, key));
}

/* The system posts of a change written (CHANNEL_SQL_UPDATE's row `res`, the
 * channel now): PatchChannel's display name, header and purpose posts for
 * what changed; updateChannel's display name post when the one asked
 * differs from the old one (an update without one too, as Mattermost
 * compares with the body's ""); UpdateChannelPrivacy's post.  Into `posts`
 * (3 at most); returns how many. */
static size_t change_posts(api_request_t *r, const PGresult *res, json_t *channel, api_system_post_t *posts)
{
    const channel_change_t *ch = change_of(r);
    const char *id = field(channel, "id"), *user = r->session.user_id;
    const char *old_name = row_str(res, 0, CHANNEL_NCOLUMNS), *old_header = row_str(res, 0, CHANNEL_NCOLUMNS + 1);
    const char *old_purpose = row_str(res, 0, CHANNEL_NCOLUMNS + 2);
    size_t n = 0;
    switch (ch->route) {
    case CHANGE_PRIVACY:
        posts[n++] = (api_system_post_t){.type = "system_change_chan_privacy",
                                         .channel_id = id,
                                         .user_id = user,
                                         .new_value = field(channel, "type")};
        break;
    case CHANGE_UPDATE:
        if (strcmp(old_name, ch->asked_display_name) != 0)
            posts[n++] = (api_system_post_t){.type = "system_displayname_change",
                                             .channel_id = id,
                                             .user_id = user,
                                             .old_value = old_name,
                                             .new_value = ch->asked_display_name};
        break;
    case CHANGE_PATCH: {
        const char *names[] = {"system_displayname_change", "system_header_change", "system_purpose_change"};
        const char *olds[] = {old_name, old_header, old_purpose};
        const char *news[] = {field(channel, "display_name"), field(channel, "header"), field(channel, "purpose")};
        for (size_t i = 0; i < 3; i++)
            if (news[i] != NULL && strcmp(olds[i], news[i]) != 0)
                posts[n++] = (api_system_post_t){
                    .type = names[i], .channel_id = id, .user_id = user, .old_value = olds[i], .new_value = news[i]};
        break;
    }
    }
    return n;
}

static void on_channel_changed(api_request_t *r, PGresult *res, const char *error)
{
    if (error != NULL && sqlstate_is(row_sqlstate(res), SQLSTATE_UNIQUE_VIOLATION)) {
        /* another channel of the team has that name (Mattermost's store
         * answers ErrInvalidInput on the Id) */
        api_send_error(r, 400, "app.channel.update.bad_id", "Unable to update the channel.", NULL);
        return;
    }
    if (!api_query_one_row(r, res, error, "app.channel.get.existing.app_error", "channel"))
        return;
    json_t *channel = channel_to_json(res, 0, 0);
    api_channel_publish_updated(r, channel);
    if (change_of(r)->route == CHANGE_PRIVACY) {
        json_t *data = json_pack("{s:O}", "channel_id", json_object_get(channel, "id"));
        const char *team_id = json_string_value(json_object_get(channel, "team_id"));
        if (data != NULL)
            ws_publish(r->worker, "channel_converted", data, &(ws_broadcast_t){.team_id = team_id});
        json_decref(data);
    }
    api_system_post_t posts[3];
    size_t n = change_posts(r, res, channel, posts);
    api_system_posts_respond(r, posts, n, 200, channel);
}

static void write_change(api_request_t *r)
{
    const api_channel_access_t *c = r->state;
    const channel_change_t *ch = change_of(r);
    const char *params[] = {c->id, ch->display_name, ch->name, ch->header, ch->purpose, ch->type, api_channel_now(r)};
    api_query(r, CHANNEL_SQL_UPDATE, 7, params, on_channel_changed);
}

/* The channel with the change applied passes Channel.IsValid (a value not
 * changed is valid already: "" stands in for header and purpose). */
static bool change_valid(api_request_t *r)
{
    const api_channel_access_t *c = r->state;
    const channel_change_t *ch = change_of(r);
    char type[2] = {c->type, '\0'};
    return api_channel_validate(r, ch->type != NULL ? ch->type : type, ch->name != NULL ? ch->name : c->name,
                                ch->display_name != NULL ? ch->display_name : c->display_name,
                                ch->header != NULL ? ch->header : "", ch->purpose != NULL ? ch->purpose : "");
}

/* The permission changing the properties of an open or private channel
 * takes; for a direct or group channel, membership (403 otherwise). */
static bool may_change_properties(api_request_t *r)
{
    const api_channel_access_t *c = r->state;
    if (c->type == 'D' || c->type == 'G') {
        if (c->member)
            return true;
        api_send_error(r, 403, "api.channel.patch_update_channel.forbidden.app_error",
                       "You do not have the appropriate permissions.", NULL);
        return false;
    }
    const char *permission = c->type == 'O' ? "manage_public_channel_properties" : "manage_private_channel_properties";
    if (api_has_channel_permission(r, c, permission))
        return true;
    api_error_permissions(r);
    return false;
}

/* The default channel keeps its name. */
static bool keeps_default_name(api_request_t *r)
{
    const api_channel_access_t *c = r->state;
    const char *name = change_of(r)->name;
    if (strcmp(c->name, CHANNEL_DEFAULT_NAME) != 0 || name == NULL || strcmp(name, c->name) == 0)
        return true;
    api_send_error(r, 400, "api.channel.update_channel.tried.app_error",
                   "Tried to perform an invalid update of the default channel town-square", NULL);
    return false;
}

static bool changes(const char *value, const char *old)
{
    return value != NULL && strcmp(value, old) != 0;
}

/* ---- PUT /channels/{channel_id}/patch ------------------------------------------- */

typedef struct {
    channel_change_t change;
    bool properties, banner;
} patch_t;

static void patch_checked(api_request_t *r)
{
    const api_channel_access_t *c = r->state;
    const patch_t *p = r->input;
    if (!may_change_properties(r))
        return;
    if ((c->type == 'D' || c->type == 'G') &&
        (changes(p->change.name, c->name) || changes(p->change.display_name, c->display_name) ||
         changes(p->change.purpose, ""))) {
        api_send_error(r, 400, "api.channel.patch_update_channel.update_direct_or_group_messages_not_allowed.app_error",
                       "You cannot update the name, display name or purpose of direct or group messages.", NULL);
        return;
    }
    if (!keeps_default_name(r))
        return;
    if (p->banner) {
        /* channel banners need an Enterprise Advanced license */
        api_send_error(r, 403, "license_error.feature_unavailable.specific",
                       "Channel Banner feature is not available for the current license", NULL);
        return;
    }
    if (change_valid(r))
        write_change(r);
}

static const api_body_field_t patch_fields[] = {
    {"display_name", JSON_STRING},    {"name", JSON_STRING},
    {"header", JSON_STRING},          {"purpose", JSON_STRING},
    {"group_constrained", JSON_TRUE}, {"default_category_name", JSON_STRING},
    {"autotranslation", JSON_TRUE},   {"managed_category_name", JSON_STRING},
    {"discoverable", JSON_TRUE},      {"banner_info", JSON_OBJECT},
};

/* A patch field: its string, or NULL when absent or null. */
static const char *patched(json_t *body, const char *key)
{
    return json_string_value(json_object_get(body, key));
}

static bool present(json_t *body, const char *key)
{
    json_t *v = json_object_get(body, key);
    return v != NULL && !json_is_null(v);
}

void api_channels_patch(api_request_t *r)
{
    const char *channel_id = api_param_id(r, 0, "channel_id");
    json_t *body;
    if (channel_id == NULL || (body = api_request_body(r, JSON_OBJECT)) == NULL)
        return;
    if (!api_body_types_ok(body, patch_fields, sizeof(patch_fields) / sizeof(patch_fields[0]))) {
        api_error_invalid_body(r, "channel");
        return;
    }
    patch_t *p = h2o_mem_alloc_pool(&r->req->pool, sizeof(*p));
    *p = (patch_t){.change = {.route = CHANGE_PATCH,
                              .display_name = patched(body, "display_name"),
                              .name = patched(body, "name"),
                              .header = patched(body, "header"),
                              .purpose = patched(body, "purpose")},
                   .banner = present(body, "banner_info")};
    p->properties = p->change.display_name != NULL || p->change.name != NULL || p->change.header != NULL ||
                    p->change.purpose != NULL || present(body, "group_constrained") ||
                    present(body, "default_category_name");
    r->input = p;
    /* checked before the channel is read, as patchChannel does after it:
     * the answers are the same but for a missing channel */
    if (!p->properties && !p->banner && !present(body, "autotranslation") && !present(body, "managed_category_name") &&
        !present(body, "discoverable")) {
        api_send_error(r, 400, "api.channel.patch_update_channel.no_changes.app_error", "No changes to apply.", NULL);
        return;
    }
    if (present(body, "discoverable")) {
        api_send_error(r, 400, "api.channel.discoverable_join_request.feature_disabled.app_error",
                       "Discoverable channels are not enabled.", NULL);
        return;
    }
    if (present(body, "autotranslation")) {
        api_send_error(r, 403, "api.channel.patch_update_channel.feature_not_available.app_error",
                       "Auto-translation is not available.", NULL);
        return;
    }
    api_require_channel(r, channel_id, ACCESS_MANAGE, patch_checked);
}

/* ---- PUT /channels/{channel_id} -------------------------------------------------- */

static void update_checked(api_request_t *r)
{
    const api_channel_access_t *c = r->state;
    const channel_change_t *ch = change_of(r);
    if (!may_change_properties(r))
        return;
    if ((c->type == 'D' || c->type == 'G') &&
        (changes(ch->name, c->name) || changes(ch->display_name, c->display_name) || changes(ch->purpose, ""))) {
        api_send_error(r, 400, "api.channel.update_channel.update_direct_or_group_messages_not_allowed.app_error",
                       "You cannot update the name, display name or purpose of direct or group messages.", NULL);
        return;
    }
    if (c->delete_at != 0) {
        api_send_error(r, 400, "api.channel.update_channel.deleted.app_error",
                       "The channel has been archived or deleted", NULL);
        return;
    }
    if (ch->type != NULL && (ch->type[0] != c->type || ch->type[1] != '\0')) {
        api_send_error(r, 400, "api.channel.update_channel.typechange.app_error", "Channel type cannot be updated.",
                       NULL);
        return;
    }
    if (keeps_default_name(r) && change_valid(r))
        write_change(r);
}

static const api_body_field_t update_fields[] = {
    {"id", JSON_STRING},     {"display_name", JSON_STRING}, {"name", JSON_STRING},
    {"header", JSON_STRING}, {"purpose", JSON_STRING},      {"type", JSON_STRING},
};

/* "" in an update keeps the value (header and purpose excepted). */
static const char *unless_empty(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : NULL;
}

void api_channels_update(api_request_t *r)
{
    const char *channel_id = api_param_id(r, 0, "channel_id");
    json_t *body;
    if (channel_id == NULL || (body = api_request_body(r, JSON_OBJECT)) == NULL)
        return;
    if (!api_body_types_ok(body, update_fields, sizeof(update_fields) / sizeof(update_fields[0]))) {
        api_error_invalid_body(r, "channel");
        return;
    }
    const char *id = patched(body, "id");
    if (id == NULL || strcmp(id, channel_id) != 0) {
        api_error_invalid_body(r, "channel_id");
        return;
    }
    channel_change_t *ch = h2o_mem_alloc_pool(&r->req->pool, sizeof(*ch));
    const char *header = patched(body, "header"), *purpose = patched(body, "purpose");
    *ch = (channel_change_t){.display_name = unless_empty(patched(body, "display_name")),
                             .name = unless_empty(patched(body, "name")),
                             .header = header != NULL ? header : "",
                             .purpose = purpose != NULL ? purpose : "",
                             .type = unless_empty(patched(body, "type")),
                             .route = CHANGE_UPDATE,
                             .asked_display_name = patched(body, "display_name")};
    if (ch->asked_display_name == NULL)
        ch->asked_display_name = "";
    r->input = ch;
    api_require_channel(r, channel_id, ACCESS_MANAGE, update_checked);
}

/* ---- DELETE /channels/{channel_id} ----------------------------------------------- */

static void on_archived(api_request_t *r, PGresult *res, const char *error)
{
    const api_channel_access_t *c = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_send_error(r, 400, "api.channel.delete_channel.deleted.app_error",
                       "The channel has been archived or deleted", NULL);
        return;
    }
    const char *delete_at = r->input;
    json_t *data = json_pack("{s:s,s:I}", "channel_id", c->id, "delete_at", (json_int_t)strtoll(delete_at, NULL, 10));
    if (data != NULL)
        ws_publish(r->worker, "channel_deleted", data, &(ws_broadcast_t){.team_id = c->team_id});
    json_decref(data);
    api_send_json(r, 200, json_pack("{s:s}", "status", "OK"));
}

/* PermanentDeleteChannel tells no client (Mattermost publishes nothing);
 * the member sets of every worker forget the channel. */
static void on_deleted_permanently(api_request_t *r, PGresult *res, const char *error)
{
    const api_channel_access_t *c = r->state;
    if (!api_query_one_row(r, res, error, "app.channel.get.existing.app_error", "channel"))
        return;
    ws_publish_members_changed(r->worker, c->id, NULL);
    api_send_json(r, 200, json_pack("{s:s}", "status", "OK"));
}

static void archive_write(api_request_t *r)
{
    const api_channel_access_t *c = r->state;
    const char *now = api_channel_now(r);
    r->input = now;
    const char *params[] = {c->id, now};
    api_query(r, CHANNEL_SQL_ARCHIVE, 2, params, on_archived);
}

static void archive_checked(api_request_t *r)
{
    const api_channel_access_t *c = r->state;
    if (c->type == 'D' || c->type == 'G') {
        api_send_error(r, 400, "api.channel.delete_channel.type.invalid",
                       "Cannot delete direct or group message channels", NULL);
        return;
    }
    if (!api_has_channel_permission(r, c, c->type == 'O' ? "delete_public_channel" : "delete_private_channel")) {
        api_error_permissions(r);
        return;
    }
    if (text_parse_bool(api_query_param(r, "permanent"))) {
        if (r->worker->config->service.enable_api_channel_deletion) {
            const char *params[] = {c->id};
            api_query(r, CHANNEL_SQL_DELETE_PERMANENTLY, 1, params, on_deleted_permanently);
            return;
        }
        bool admin = api_has_permission(r, "manage_system", NULL);
        api_send_error(r, 401,
                       admin ? "api.user.delete_channel.not_enabled.for_admin.app_error"
                             : "api.user.delete_channel.not_enabled.app_error",
                       "Permanent channel deletion feature is not enabled.", NULL);
        return;
    }
    if (c->delete_at != 0) {
        api_send_error(r, 400, "api.channel.delete_channel.deleted.app_error",
                       "The channel has been archived or deleted", NULL);
        return;
    }
    if (strcmp(c->name, CHANNEL_DEFAULT_NAME) == 0) {
        api_send_error(r, 400, "api.channel.delete_channel.cannot.app_error",
                       "Unable to delete the default channel town-square", NULL);
        return;
    }
    /* DeleteChannel writes its post first: an archived channel takes none */
    api_system_post_t post = {.type = "system_channel_deleted", .channel_id = c->id, .user_id = r->session.user_id};
    api_system_posts(r, &post, 1, archive_write);
}

void api_channels_delete(api_request_t *r)
{
    const char *channel_id = api_param_id(r, 0, "channel_id");
    if (channel_id != NULL)
        api_require_channel(r, channel_id, ACCESS_MANAGE, archive_checked);
}

/* ---- POST /channels/{channel_id}/restore ----------------------------------------- */

static void on_restored(api_request_t *r, PGresult *res, const char *error)
{
    const api_channel_access_t *c = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_send_error(r, 400, "api.channel.restore_channel.restored.app_error",
                       "Unable to unarchive channel. The channel is not archived.", NULL);
        return;
    }
    json_t *data = json_pack("{s:s}", "channel_id", c->id);
    if (data != NULL)
        ws_publish(r->worker, "channel_restored", data, &(ws_broadcast_t){.team_id = c->team_id});
    json_decref(data);
    api_system_post_t post = {.type = "system_channel_restored", .channel_id = c->id, .user_id = r->session.user_id};
    api_system_posts_respond(r, &post, 1, 200, channel_to_json(res, 0, 0));
}

static void restore_checked(api_request_t *r)
{
    const api_channel_access_t *c = r->state;
    if (!api_has_permission(r, "manage_team", c->team_roles) &&
        !api_has_permission(r, "sysconsole_write_user_management_channels", NULL)) {
        api_error_permissions(r);
        return;
    }
    if (c->delete_at == 0) {
        api_send_error(r, 400, "api.channel.restore_channel.restored.app_error",
                       "Unable to unarchive channel. The channel is not archived.", NULL);
        return;
    }
    const char *params[] = {c->id, api_channel_now(r)};
    api_query(r, CHANNEL_SQL_RESTORE, 2, params, on_restored);
}

void api_channels_restore(api_request_t *r)
{
    const char *channel_id = api_param_id(r, 0, "channel_id");
    if (channel_id != NULL)
        api_require_channel(r, channel_id, ACCESS_MANAGE, restore_checked);
}

/* ---- PUT /channels/{channel_id}/privacy ------------------------------------------ */

static void privacy_checked(api_request_t *r)
{
    const api_channel_access_t *c = r->state;
    const channel_change_t *ch = change_of(r);
    bool to_public = ch->type[0] == 'O';
    if (!api_has_channel_permission(
            r, c, to_public ? "convert_private_channel_to_public" : "convert_public_channel_to_private")) {
        api_error_permissions(r);
        return;
    }
    if (!to_public && strcmp(c->name, CHANNEL_DEFAULT_NAME) == 0) {
        api_send_error(r, 400, "api.channel.update_channel_privacy.default_channel_error",
                       "The default channel cannot be made private.", NULL);
        return;
    }
    if (c->type == 'D' || c->type == 'G') {
        /* Channel.IsValid refuses a direct or group channel made open or private */
        api_error_model_invalid(r, "channel", "type", "Invalid type.");
        return;
    }
    write_change(r);
}

void api_channels_update_privacy(api_request_t *r)
{
    const char *channel_id = api_param_id(r, 0, "channel_id");
    json_t *body;
    if (channel_id == NULL || (body = api_request_body(r, JSON_OBJECT)) == NULL)
        return;
    const char *privacy = patched(body, "privacy");
    if (privacy == NULL || (strcmp(privacy, "O") != 0 && strcmp(privacy, "P") != 0)) {
        api_error_invalid_body(r, "privacy");
        return;
    }
    channel_change_t *ch = h2o_mem_alloc_pool(&r->req->pool, sizeof(*ch));
    *ch = (channel_change_t){.type = privacy, .route = CHANGE_PRIVACY};
    r->input = ch;
    api_require_channel(r, channel_id, ACCESS_MANAGE, privacy_checked);
}
