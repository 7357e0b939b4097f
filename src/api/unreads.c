/*
 * Unreads, as the apps keep them: a user's unread counts per team, viewing
 * channels (POST /channels/members/{user_id}/view) and marking a post unread
 * (POST /users/{user_id}/posts/{post_id}/set_unread).  The counters move in
 * the statements of store/unread.h; a post moves them in its own
 * (store/post.h).  The posts around the first unread one are post_list.c's.
 *
 * A user acts for themselves; a system admin for anyone (edit_other_users).
 * A view publishes `multiple_channels_viewed` (the channels and the time
 * each is now read up to) and a set-unread `post_unread` (the member's new
 * counters), both to the user's own sockets on every node, as Mattermost's
 * MarkChannelsAsViewed and MarkChannelAsUnreadFromPost do.  Neither sends
 * `channel_member_updated`: Mattermost sends that for roles, notify props
 * and mutes only.
 */
#include <stdio.h>
#include <string.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/posts.h"
#include "api/response.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/text.h"
#include "store/post.h"
#include "store/row.h"
#include "store/unread.h"
#include "ws/ws.h"

/* SessionHasPermissionToUser: the caller is `user_id` or a system admin;
 * else 403. */
static bool may_act_for(api_request_t *r, const char *user_id)
{
    if (strcmp(user_id, r->session.user_id) == 0 || api_has_permission(r, "edit_other_users", NULL))
        return true;
    api_error_permissions(r);
    return false;
}

/* ---- GET /users/{user_id}/teams/unread ------------------------------------------ */

static void on_team_unreads_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(list, unread_team_to_json(res, i));
    api_send_json(r, 200, list);
}

/* exclude_team leaves a team out (the one the app shows); without it the
 * direct and group channels (team "") are left out, as in Mattermost. */
void api_teams_unread_for_user(api_request_t *r)
{
    const char *user_id = api_param_id(r, 0, "user_id");
    if (user_id == NULL || !may_act_for(r, user_id))
        return;
    const char *exclude = api_query_param(r, "exclude_team");
    const char *params[] = {user_id, exclude != NULL ? exclude : ""};
    api_query_read(r, UNREAD_SQL_TEAMS, 2, params, on_team_unreads_loaded);
}

/* ---- POST /channels/members/{user_id}/view -------------------------------------- */

static void on_viewed(api_request_t *r, PGresult *res, const char *error)
{
    const char *user_id = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) == 0) {
        api_send_error(r, 400, "app.channel.update_last_viewed_at.app_error",
                       "Unable to update the last viewed at time.", NULL);
        return;
    }
    json_t *times = json_object();
    for (int i = 0; i < PQntuples(res); i++)
        json_object_set_new(times, row_str(res, i, 0), json_integer(row_int64(res, i, 1)));
    json_t *data = json_pack("{s:O}", "channel_times", times);
    if (data != NULL)
        ws_publish(r->worker, "multiple_channels_viewed", data, &(ws_broadcast_t){.user_id = user_id});
    else
        log_warn(0, "cannot publish multiple_channels_viewed");
    json_decref(data);
    api_send_json(r, 200, json_pack("{s:s,s:o}", "status", "OK", "last_viewed_at_times", times));
}

/* A ChannelView's id: "" (focus lost, first view) or a valid id. */
static bool view_id_ok(api_request_t *r, const char *id, const char *name)
{
    if (id[0] == '\0' || id_is_valid(id, strlen(id)))
        return true;
    api_error_invalid_body(r, name);
    return false;
}

/* The channel viewed and the one left are both read now (ViewChannel). */
void api_channels_view(api_request_t *r)
{
    static const api_body_field_t fields[] = {
        {"channel_id", JSON_STRING}, {"prev_channel_id", JSON_STRING}, {"collapsed_threads_supported", JSON_TRUE}};
    const char *user_id = api_param_id(r, 0, "user_id"), *channel_id, *prev_id;
    json_t *body;
    if (user_id == NULL || !may_act_for(r, user_id) || (body = api_request_body(r, JSON_OBJECT)) == NULL)
        return;
    if (!api_body_types_ok(body, fields, sizeof(fields) / sizeof(fields[0])) ||
        !api_json_string_field(body, "channel_id", &channel_id) ||
        !api_json_string_field(body, "prev_channel_id", &prev_id)) {
        api_error_invalid_body(r, "channel_view");
        return;
    }
    if (!view_id_ok(r, channel_id, "channel_view.channel_id") ||
        !view_id_ok(r, prev_id, "channel_view.prev_channel_id"))
        return;
    if (channel_id[0] == '\0' && prev_id[0] == '\0') {
        api_send_json(r, 200, json_pack("{s:s,s:{}}", "status", "OK", "last_viewed_at_times"));
        return;
    }
    char ids[2 * ID_LENGTH + 4];
    if (channel_id[0] != '\0' && prev_id[0] != '\0')
        snprintf(ids, sizeof(ids), "{%s,%s}", channel_id, prev_id);
    else
        snprintf(ids, sizeof(ids), "{%s}", channel_id[0] != '\0' ? channel_id : prev_id);
    r->state = (void *)user_id;
    const char *params[] = {user_id, ids};
    api_query(r, UNREAD_SQL_VIEW, 2, params, on_viewed);
}

/* ---- POST /users/{user_id}/posts/{post_id}/set_unread --------------------------- */

static void on_set_unread(api_request_t *r, PGresult *res, const char *error)
{
    if (!api_query_one_row(r, res, error, "app.channel.get_member.missing.app_error", "channel member"))
        return;
    json_t *unread = unread_channel_at_to_json(res, 0);
    json_t *data = json_deep_copy(unread);
    json_object_del(data, "team_id");
    json_object_del(data, "user_id");
    json_object_del(data, "channel_id");
    json_object_set_new(data, "post_id", json_string(api_param(r, 1)));
    ws_publish(r->worker, "post_unread", data,
               &(ws_broadcast_t){
                   .user_id = row_str(res, 0, 1), .channel_id = row_str(res, 0, 2), .team_id = row_str(res, 0, 0)});
    json_decref(data);
    api_send_json(r, 200, unread);
}

/* After the channel check: the user's membership rewinds to the post. */
static void set_unread_write(api_request_t *r)
{
    const char *params[] = {api_param_id(r, 0, "user_id"), api_param(r, 1), text_i64(&r->req->pool, clock_now_ms())};
    api_query(r, UNREAD_SQL_SET_UNREAD, 3, params, on_set_unread);
}

/* A missing post is a permission error, as Mattermost's channel-by-post check answers. */
static void on_unread_post_found(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_error_permissions(r);
        return;
    }
    const char *channel_id = row_str(res, 0, 0);
    api_require_channel(r, text_strndup(&r->req->pool, channel_id, strlen(channel_id)), ACCESS_READ, set_unread_write);
}

void api_posts_set_unread(api_request_t *r)
{
    const char *user_id = api_param_id(r, 0, "user_id"), *post_id;
    if (user_id == NULL || (post_id = api_post_param_id(r, 1, "post_id")) == NULL || !may_act_for(r, user_id))
        return;
    const char *params[] = {post_id, "f"};
    api_query(r, POST_SQL_FIND, 2, params, on_unread_post_found);
}
