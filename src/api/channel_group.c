/*
 * Group channels: POST /channels/group makes the group channel of 3 to 8
 * users (the caller among them) or returns the one they have, and POST
 * /users/group_channels answers, for group channels the caller is in, their
 * users (api4/user.go getUsersByGroupChannelIds).
 *
 * A group channel's name is Mattermost's GetGroupNameFromUserIds: the hex
 * SHA-1 of the sorted ids one after the other, so the same users always
 * name the same channel (the unique (Name, TeamId) makes a second request
 * find the first one's).  Making one takes create_group_channel (system
 * scope); a new one refreshes every worker's member sets, then group_added
 * goes to its members with the ids as a JSON string (teammate_ids).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "api/access.h"
#include "api/channels.h"
#include "api/handlers.h"
#include "api/response.h"
#include "store/channel_admin.h"
#include "store/channel_member.h"
#include "store/row.h"
#include "ws/ws.h"

/* model.ChannelGroupMinUsers / ChannelGroupMaxUsers */
#define GROUP_MIN_USERS 3
#define GROUP_MAX_USERS 8

typedef struct {
    api_id_list_t users;
    char name[41];
} group_t;

/* GetGroupNameFromUserIds over the sorted ids; false if the digest fails. */
static bool group_name(const api_id_list_t *users, char out[41])
{
    char joined[GROUP_MAX_USERS * ID_LENGTH];
    size_t n = 0;
    for (size_t i = 0; i < users->n; i++, n += ID_LENGTH)
        memcpy(joined + n, users->ids[i], ID_LENGTH);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0;
    if (EVP_Digest(joined, n, md, &md_len, EVP_sha1(), NULL) != 1 || md_len != 20)
        return false;
    for (unsigned i = 0; i < md_len; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return true;
}

static void publish_group_added(api_request_t *r, const char *channel_id)
{
    const group_t *g = r->input;
    json_t *ids = json_array();
    for (size_t i = 0; i < g->users.n; i++)
        json_array_append_new(ids, json_string(g->users.ids[i]));
    char *text = json_dumps(ids, JSON_COMPACT);
    json_decref(ids);
    ws_publish_members_changed(r->worker, channel_id, NULL);
    json_t *data = text != NULL ? json_pack("{s:s}", "teammate_ids", text) : NULL;
    if (data != NULL)
        ws_publish(r->worker, "group_added", data, &(ws_broadcast_t){.channel_id = channel_id});
    json_decref(data);
    free(text);
}

static void on_group_reloaded(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_error_database(r, "the group channel went away");
        return;
    }
    api_send_json(r, 201, channel_to_json(res, 0, 0));
}

/* One row: how many of the users exist, the channel from column 1, then
 * whether this request made it. */
static void on_group_created(api_request_t *r, PGresult *res, const char *error)
{
    const group_t *g = r->input;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1 || row_int64(res, 0, 0) != (int64_t)g->users.n) {
        api_send_error(r, 400, "api.channel.create_group.bad_user.app_error",
                       "One of the provided users does not exist.", NULL);
        return;
    }
    if (PQgetisnull(res, 0, 1)) {
        /* another request made it after our snapshot: read it */
        const char *params[] = {g->name};
        api_query(r, CHANNEL_SQL_GET_DIRECT, 1, params, on_group_reloaded);
        return;
    }
    json_t *channel = channel_to_json(res, 0, 1);
    if (row_bool(res, 0, 1 + CHANNEL_NCOLUMNS))
        publish_group_added(r, json_string_value(json_object_get(channel, "id")));
    api_send_json(r, 201, channel);
}

void api_channels_create_group(api_request_t *r)
{
    json_t *body = api_request_body(r, JSON_ARRAY);
    group_t *g = h2o_mem_alloc_pool(&r->req->pool, sizeof(*g));
    if (body == NULL || !api_read_id_list(r, body, "user_ids", "user_id", &g->users))
        return;
    bool found = false;
    for (size_t i = 0; i < g->users.n; i++)
        found = found || strcmp(g->users.ids[i], r->session.user_id) == 0;
    if (!found) {
        /* the caller is in it: add their id and sort again */
        json_array_append_new(body, json_string(r->session.user_id));
        if (!api_read_id_list(r, body, "user_ids", "user_id", &g->users))
            return;
    }
    if (!api_require_permission(r, "create_group_channel"))
        return;
    if (g->users.n < GROUP_MIN_USERS || g->users.n > GROUP_MAX_USERS) {
        api_send_error(r, 400, "api.channel.create_group.bad_size.app_error",
                       "Group message channels must contain at least 3 and no more than 8 users.", NULL);
        return;
    }
    if (!group_name(&g->users, g->name)) {
        api_error_database(r, "cannot digest the group channel's name");
        return;
    }
    r->input = g;
    char id[ID_LENGTH + 1];
    id_new(id);
    const char *params[] = {id, api_id_array(r, &g->users), api_channel_now(r), g->name, CHANNEL_NOTIFY_PROPS_DEFAULT};
    api_query(r, CHANNEL_SQL_CREATE_GROUP, 5, params, on_group_created);
}

/* ---- POST /users/group_channels ---------------------------------------------------- */

/* Rows: USER_COLUMNS then the channel id, by channel. */
static void on_group_users_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    json_t *by_channel = json_object();
    for (int i = 0; i < PQntuples(res); i++) {
        const char *channel_id = row_str(res, i, USER_NCOLUMNS);
        json_t *users = json_object_get(by_channel, channel_id);
        if (users == NULL) {
            users = json_array();
            json_object_set_new(by_channel, channel_id, users);
        }
        json_t *user = user_to_json(res, i);
        if (strcmp(row_str(res, i, USER_COLUMN_ID), r->session.user_id) != 0)
            user_sanitize_profile(user);
        json_array_append_new(users, user);
    }
    api_send_json(r, 200, by_channel);
}

void api_users_by_group_channel_ids(api_request_t *r)
{
    json_t *body = api_request_body(r, JSON_ARRAY);
    api_id_list_t ids;
    if (body == NULL || !api_read_id_list(r, body, "channel_ids", "channel_id", &ids))
        return;
    const char *params[] = {api_id_array(r, &ids), r->session.user_id};
    api_query_read(r, CHANNEL_SQL_GROUP_USERS, 2, params, on_group_users_loaded);
}
