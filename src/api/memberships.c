/*
 * What a user belongs to, as the apps load it at start: their team members,
 * their channel members in a team and in every team (with the team's
 * names), their channels in every team, and a channel's statistics.
 *
 * Permissions follow Mattermost's default scheme: a user reads their own
 * (edit_other_users, read_other_users_teams and manage_system are the
 * system admin's for anyone else's); channel members in a team also need
 * the team (view_team); a channel's statistics need the channel
 * (read_channel).  These are reads: a replica may answer them.
 *
 * The statements and the JSON are store/team.h's and store/channel.h's.
 */
#include <string.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/posts.h"
#include "api/response.h"
#include "core/text.h"
#include "store/channel.h"
#include "store/row.h"
#include "store/team.h"

/* SessionHasPermissionToUser: the caller is `user_id` or a system admin;
 * else 403. */
static bool may_read_user(api_request_t *r, const char *user_id)
{
    if (strcmp(user_id, r->session.user_id) == 0 || api_has_permission(r, "edit_other_users", NULL))
        return true;
    api_error_permissions(r);
    return false;
}

/* ---- GET /users/{user_id}/teams/members ---------------------------------------- */

static void on_team_members_loaded(api_request_t *r, PGresult *res, const char *error)
{
    api_send_rows(r, res, error, team_member_to_json);
}

void api_teams_members_for_user(api_request_t *r)
{
    const char *user_id = api_param_id(r, 0, "user_id");
    if (user_id == NULL || !may_read_user(r, user_id))
        return;
    const char *params[] = {user_id};
    api_query_read(r, TEAM_SQL_MEMBERS_FOR_USER, 1, params, on_team_members_loaded);
}

/* ---- GET /users/{user_id}/teams/{team_id}/channels/members ---------------------- */

/* Rows: whether the caller may view the team, then a member (NULL when the
 * caller may not, or when there is none). */
static void on_team_channel_members_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) < 1 || !row_bool(res, 0, 0)) {
        api_error_permissions(r);
        return;
    }
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res) && !PQgetisnull(res, i, 1); i++)
        json_array_append_new(list, channel_member_to_json(res, i, 1));
    api_send_json(r, 200, list);
}

void api_channels_members_for_team_for_user(api_request_t *r)
{
    const char *user_id = api_param_id(r, 0, "user_id"), *team_id;
    if (user_id == NULL || (team_id = api_param_id(r, 1, "team_id")) == NULL)
        return;
    bool sysadmin = api_has_permission(r, "manage_system", NULL);
    /* view_team first, then manage_system for another user's: both 403 */
    if (strcmp(user_id, r->session.user_id) != 0 && !sysadmin) {
        api_error_permissions(r);
        return;
    }
    const char *params[] = {user_id, team_id, sysadmin ? "t" : "f", r->session.user_id};
    api_query_read(r, CHANNEL_SQL_MEMBERS_FOR_TEAM_FOR_USER, 4, params, on_team_channel_members_loaded);
}

/* ---- GET /users/{user_id}/channel_members --------------------------------------- */

static void on_channel_members_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    json_t *list = json_array();
    int t = CHANNEL_MEMBER_NCOLUMNS;
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *m = channel_member_to_json(res, i, 0);
        json_object_set_new(m, "team_display_name", json_string(row_str(res, i, t)));
        json_object_set_new(m, "team_name", json_string(row_str(res, i, t + 1)));
        json_object_set_new(m, "team_update_at", json_integer(row_int64(res, i, t + 2)));
        json_array_append_new(list, m);
    }
    api_send_json(r, 200, list);
}

/* page=-1 is every member (the web app's first load asks so: Mattermost
 * walks its pages for it); any other page is page/per_page. */
void api_channels_members_for_user(api_request_t *r)
{
    const char *user_id = api_param_id(r, 0, "user_id");
    if (user_id == NULL || !may_read_user(r, user_id))
        return;
    const char *page_text = api_query_param(r, "page");
    api_page_t page = api_query_page(r, NULL);
    bool all = page_text != NULL && strcmp(page_text, "-1") == 0;
    const char *params[] = {user_id, all ? NULL : text_i64(&r->req->pool, page.per_page),
                            all ? "0" : text_i64(&r->req->pool, page.offset)};
    api_query_read(r, CHANNEL_SQL_MEMBERS_FOR_USER, 3, params, on_channel_members_loaded);
}

/* ---- GET /users/{user_id}/channels ---------------------------------------------- */

static void on_user_channels_loaded(api_request_t *r, PGresult *res, const char *error)
{
    api_send_rows(r, res, error, channel_to_json);
}

/* Every team's channels of the user and their direct and group channels, by
 * id.  Mattermost streams them page by page; a user with none gets []. */
void api_channels_for_user(api_request_t *r)
{
    const char *user_id = api_param_id(r, 0, "user_id");
    if (user_id == NULL || !may_read_user(r, user_id))
        return;
    int64_t last_delete_at = 0;
    if (!api_parse_int64(api_query_param(r, "last_delete_at"), &last_delete_at))
        last_delete_at = 0; /* Atoi failed: Mattermost takes 0 */
    if (last_delete_at < 0) {
        api_error_invalid_param(r, "last_delete_at");
        return;
    }
    const char *params[] = {user_id, text_parse_bool(api_query_param(r, "include_deleted")) ? "t" : "f",
                            text_i64(&r->req->pool, last_delete_at)};
    api_query_read(r, CHANNEL_SQL_FOR_USER, 3, params, on_user_channels_loaded);
}

/* ---- GET /channels/{channel_id}/stats ------------------------------------------- */

/* The member count comes from the worker's cache when it has it
 * (worker/member_counts.h); the pinned count is always read. */
typedef struct {
    api_channel_access_t access; /* what api_require_channel learned */
    int64_t members;             /* -1: not cached, the query counts them */
    uint64_t ticket;
} stats_t;

static void send_stats(api_request_t *r, int64_t members, int64_t pinned)
{
    const stats_t *st = r->state;
    /* chorus has no guests and no files: 0, or -1 when files are not counted */
    bool no_files = text_parse_bool(api_query_param(r, "exclude_files_count"));
    api_send_json(r, 200,
                  json_pack("{s:s,s:I,s:i,s:I,s:i}", "channel_id", st->access.id, "member_count", (json_int_t)members,
                            "guest_count", 0, "pinnedpost_count", (json_int_t)pinned, "files_count",
                            no_files ? -1 : 0));
}

static void on_stats_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_error_database(r, NULL);
        return;
    }
    stats_t *st = r->state;
    if (st->members >= 0) {
        send_stats(r, st->members, row_int64(res, 0, 0));
        return;
    }
    int64_t members = row_int64(res, 0, 0);
    member_counts_put(&r->worker->member_counts, st->access.id, members, st->ticket);
    send_stats(r, members, row_int64(res, 0, 1));
}

static void load_stats(api_request_t *r)
{
    stats_t *st = h2o_mem_alloc_pool(&r->req->pool, sizeof(*st));
    st->access = *(const api_channel_access_t *)r->state;
    r->state = st;
    const char *params[] = {st->access.id};
    member_counts_t *mc = &r->worker->member_counts;
    if (member_counts_get(mc, st->access.id, &st->members)) {
        api_query_read(r, CHANNEL_SQL_PINNED_COUNT, 1, params, on_stats_loaded);
        return;
    }
    st->members = -1;
    st->ticket = member_counts_ticket(mc);
    api_query_read(r, CHANNEL_SQL_STATS, 1, params, on_stats_loaded);
}

void api_channels_stats(api_request_t *r)
{
    const char *channel_id = api_post_param_id(r, 0, "channel_id");
    if (channel_id != NULL)
        api_require_channel(r, channel_id, ACCESS_READ, load_stats);
}
