/*
 * The route table.  Patterns are literal path segments or "{name}"
 * placeholders that capture one segment; a table this size is matched
 * linearly faster than any tree would be built.  Unknown paths get
 * Mattermost's 404 body, and so does a known path with another method:
 * Mattermost's router falls through to its catch-all 404 route then.
 * A body larger than MaximumPayloadSizeBytes is refused here, before any
 * handler sees it (h2o refuses larger ones itself; http.c gives those
 * refusals the same JSON).
 */
#include "api/router.h"

#include <stdio.h>
#include <string.h>

#include "api/auth.h"
#include "api/handlers.h"
#include "api/route_match.h"

/* ROUTE_SESSION_IF_VALID: Mattermost's APIHandler routes whose answer
 * depends on who asks; a token naming no live session is ignored there. */
typedef enum { ROUTE_PUBLIC, ROUTE_SESSION, ROUTE_SESSION_IF_VALID } route_access_t;

typedef struct {
    const char *method;
    const char *pattern;
    api_handler_fn handler;
    route_access_t access;
} api_route_t;

#define CATEGORIES "/api/v4/users/{user_id}/teams/{team_id}/channels/categories"

static const api_route_t routes[] = {
    {"GET", "/api/v4/system/ping", api_system_ping, ROUTE_PUBLIC},
    {"POST", "/api/v4/users", api_users_create, ROUTE_SESSION_IF_VALID},
    {"GET", "/api/v4/users", api_users_list, ROUTE_SESSION},
    {"POST", "/api/v4/users/login", api_users_login, ROUTE_PUBLIC},
    {"POST", "/api/v4/users/logout", api_users_logout, ROUTE_SESSION},
    {"POST", "/api/v4/users/ids", api_users_get_by_ids, ROUTE_SESSION},
    {"POST", "/api/v4/users/usernames", api_users_get_by_usernames, ROUTE_SESSION},
    {"GET", "/api/v4/users/stats", api_users_stats, ROUTE_SESSION},
    {"GET", "/api/v4/users/autocomplete", api_users_autocomplete, ROUTE_SESSION},
    {"POST", "/api/v4/users/search", api_users_search, ROUTE_SESSION},
    {"GET", "/api/v4/users/username/{username}", api_users_get_by_username, ROUTE_SESSION},
    {"GET", "/api/v4/users/email/{email}", api_users_get_by_email, ROUTE_SESSION},
    {"GET", "/api/v4/users/{user_id}", api_users_get, ROUTE_SESSION},
    {"PUT", "/api/v4/users/{user_id}", api_users_update, ROUTE_SESSION},
    {"PUT", "/api/v4/users/{user_id}/patch", api_users_patch, ROUTE_SESSION},
    {"PUT", "/api/v4/users/{user_id}/active", api_users_update_active, ROUTE_SESSION},
    {"PUT", "/api/v4/users/{user_id}/roles", api_users_update_roles, ROUTE_SESSION},
    {"PUT", "/api/v4/users/{user_id}/password", api_users_update_password, ROUTE_SESSION},
    {"GET", "/api/v4/users/{user_id}/image", api_users_image, ROUTE_SESSION},
    {"GET", "/api/v4/users/{user_id}/image/default", api_users_image, ROUTE_SESSION},
    /* teams and channels */
    {"POST", "/api/v4/teams", api_teams_create, ROUTE_SESSION},
    {"GET", "/api/v4/teams", api_teams_list, ROUTE_SESSION},
    /* fixed words before {team_id} */
    {"GET", "/api/v4/teams/name/{team_name}", api_teams_get_by_name, ROUTE_SESSION},
    {"GET", "/api/v4/teams/name/{team_name}/exists", api_teams_exists, ROUTE_SESSION},
    {"POST", "/api/v4/teams/members/invite", api_teams_join_by_invite, ROUTE_SESSION},
    {"POST", "/api/v4/teams/search", api_teams_search, ROUTE_SESSION},
    {"GET", "/api/v4/teams/{team_id}", api_teams_get, ROUTE_SESSION},
    {"PUT", "/api/v4/teams/{team_id}", api_teams_update, ROUTE_SESSION},
    {"DELETE", "/api/v4/teams/{team_id}", api_teams_delete, ROUTE_SESSION},
    {"PUT", "/api/v4/teams/{team_id}/patch", api_teams_patch, ROUTE_SESSION},
    {"POST", "/api/v4/teams/{team_id}/restore", api_teams_restore, ROUTE_SESSION},
    {"PUT", "/api/v4/teams/{team_id}/privacy", api_teams_update_privacy, ROUTE_SESSION},
    {"POST", "/api/v4/teams/{team_id}/regenerate_invite_id", api_teams_regenerate_invite_id, ROUTE_SESSION},
    {"GET", "/api/v4/teams/{team_id}/stats", api_teams_stats, ROUTE_SESSION},
    {"POST", "/api/v4/teams/{team_id}/members", api_teams_add_member, ROUTE_SESSION},
    {"GET", "/api/v4/teams/{team_id}/members", api_teams_members_get, ROUTE_SESSION},
    {"POST", "/api/v4/teams/{team_id}/members/ids", api_teams_members_by_ids, ROUTE_SESSION},
    {"GET", "/api/v4/teams/{team_id}/members/{user_id}", api_teams_member_get, ROUTE_SESSION},
    {"DELETE", "/api/v4/teams/{team_id}/members/{user_id}", api_teams_member_remove, ROUTE_SESSION},
    {"PUT", "/api/v4/teams/{team_id}/members/{user_id}/roles", api_teams_member_roles, ROUTE_SESSION},
    {"GET", "/api/v4/users/{user_id}/teams", api_teams_for_user, ROUTE_SESSION},
    {"GET", "/api/v4/users/{user_id}/teams/members", api_teams_members_for_user, ROUTE_SESSION},
    {"GET", "/api/v4/users/{user_id}/teams/unread", api_teams_unread_for_user, ROUTE_SESSION},
    {"GET", "/api/v4/users/{user_id}/teams/{team_id}/channels/members", api_channels_members_for_team_for_user,
     ROUTE_SESSION},
    {"GET", "/api/v4/users/{user_id}/channels", api_channels_for_user, ROUTE_SESSION},
    {"GET", "/api/v4/users/{user_id}/channel_members", api_channels_members_for_user, ROUTE_SESSION},
    {"GET", "/api/v4/users/{user_id}/channels/{channel_id}/posts/unread", api_posts_unread_for_channel, ROUTE_SESSION},
    {"POST", "/api/v4/users/{user_id}/posts/{post_id}/set_unread", api_posts_set_unread, ROUTE_SESSION},
    {"POST", "/api/v4/channels/members/{user_id}/view", api_channels_view, ROUTE_SESSION},
    {"GET", "/api/v4/users/{user_id}/teams/{team_id}/channels", api_channels_for_team_for_user, ROUTE_SESSION},
    /* sidebar categories: order before {category_id} */
    {"GET", CATEGORIES, api_sidebar_get_categories, ROUTE_SESSION},
    {"POST", CATEGORIES, api_sidebar_create_category, ROUTE_SESSION},
    {"PUT", CATEGORIES, api_sidebar_update_categories, ROUTE_SESSION},
    {"GET", CATEGORIES "/order", api_sidebar_get_order, ROUTE_SESSION},
    {"PUT", CATEGORIES "/order", api_sidebar_update_order, ROUTE_SESSION},
    {"GET", CATEGORIES "/{category_id}", api_sidebar_get_category, ROUTE_SESSION},
    {"PUT", CATEGORIES "/{category_id}", api_sidebar_update_category, ROUTE_SESSION},
    {"DELETE", CATEGORIES "/{category_id}", api_sidebar_delete_category, ROUTE_SESSION},
    {"POST", "/api/v4/channels", api_channels_create, ROUTE_SESSION},
    {"POST", "/api/v4/channels/direct", api_channels_create_direct, ROUTE_SESSION},
    {"POST", "/api/v4/channels/group", api_channels_create_group, ROUTE_SESSION},
    {"POST", "/api/v4/users/group_channels", api_users_by_group_channel_ids, ROUTE_SESSION},
    {"GET", "/api/v4/channels/{channel_id}", api_channels_get, ROUTE_SESSION},
    {"PUT", "/api/v4/channels/{channel_id}", api_channels_update, ROUTE_SESSION},
    {"DELETE", "/api/v4/channels/{channel_id}", api_channels_delete, ROUTE_SESSION},
    {"PUT", "/api/v4/channels/{channel_id}/patch", api_channels_patch, ROUTE_SESSION},
    {"PUT", "/api/v4/channels/{channel_id}/privacy", api_channels_update_privacy, ROUTE_SESSION},
    {"POST", "/api/v4/channels/{channel_id}/restore", api_channels_restore, ROUTE_SESSION},
    {"GET", "/api/v4/channels/{channel_id}/members", api_channels_get_members, ROUTE_SESSION},
    {"GET", "/api/v4/channels/{channel_id}/stats", api_channels_stats, ROUTE_SESSION},
    {"POST", "/api/v4/channels/{channel_id}/members", api_channels_add_member, ROUTE_SESSION},
    {"POST", "/api/v4/channels/{channel_id}/members/ids", api_channels_members_by_ids, ROUTE_SESSION},
    {"GET", "/api/v4/channels/{channel_id}/members/{user_id}", api_channels_get_member, ROUTE_SESSION},
    {"DELETE", "/api/v4/channels/{channel_id}/members/{user_id}", api_channels_remove_member, ROUTE_SESSION},
    {"PUT", "/api/v4/channels/{channel_id}/members/{user_id}/roles", api_channels_update_member_roles, ROUTE_SESSION},
    {"PUT", "/api/v4/channels/{channel_id}/members/{user_id}/notify_props", api_channels_update_member_notify_props,
     ROUTE_SESSION},
    /* a team's channels: fixed words before {channel_name} */
    {"GET", "/api/v4/teams/{team_id}/channels", api_channels_team_public, ROUTE_SESSION},
    {"GET", "/api/v4/teams/{team_id}/channels/deleted", api_channels_team_deleted, ROUTE_SESSION},
    {"GET", "/api/v4/teams/{team_id}/channels/autocomplete", api_channels_team_autocomplete, ROUTE_SESSION},
    {"POST", "/api/v4/teams/{team_id}/channels/search", api_channels_team_search, ROUTE_SESSION},
    {"POST", "/api/v4/teams/{team_id}/channels/ids", api_channels_team_by_ids, ROUTE_SESSION},
    {"GET", "/api/v4/teams/{team_id}/channels/name/{channel_name}", api_channels_by_name, ROUTE_SESSION},
    {"GET", "/api/v4/teams/name/{team_name}/channels/name/{channel_name}", api_channels_by_name_for_team_name,
     ROUTE_SESSION},
    /* roles */
    {"GET", "/api/v4/roles", api_roles_list, ROUTE_SESSION},
    {"POST", "/api/v4/roles/names", api_roles_by_names, ROUTE_SESSION},
    {"GET", "/api/v4/roles/name/{role_name}", api_roles_get_by_name, ROUTE_SESSION},
    {"GET", "/api/v4/roles/{role_id}", api_roles_get, ROUTE_SESSION},
    {"PUT", "/api/v4/roles/{role_id}/patch", api_roles_patch, ROUTE_SESSION},
    /* posts and search */
    {"POST", "/api/v4/posts", api_posts_create, ROUTE_SESSION},
    {"POST", "/api/v4/posts/ids/reactions", api_reactions_for_posts, ROUTE_SESSION},
    {"GET", "/api/v4/posts/{post_id}", api_posts_get, ROUTE_SESSION},
    {"DELETE", "/api/v4/posts/{post_id}", api_posts_delete, ROUTE_SESSION},
    {"PUT", "/api/v4/posts/{post_id}/patch", api_posts_patch, ROUTE_SESSION},
    {"GET", "/api/v4/posts/{post_id}/reactions", api_reactions_for_post, ROUTE_SESSION},
    {"POST", "/api/v4/posts/{post_id}/pin", api_posts_pin, ROUTE_SESSION},
    {"POST", "/api/v4/posts/{post_id}/unpin", api_posts_unpin, ROUTE_SESSION},
    {"GET", "/api/v4/channels/{channel_id}/pinned", api_channels_pinned, ROUTE_SESSION},
    {"GET", "/api/v4/users/{user_id}/posts/flagged", api_posts_flagged, ROUTE_SESSION},
    {"POST", "/api/v4/reactions", api_reactions_save, ROUTE_SESSION},
    {"DELETE", "/api/v4/users/{user_id}/posts/{post_id}/reactions/{emoji_name}", api_reactions_delete, ROUTE_SESSION},
    {"GET", "/api/v4/channels/{channel_id}/posts", api_posts_for_channel, ROUTE_SESSION},
    {"POST", "/api/v4/teams/{team_id}/posts/search", api_posts_search, ROUTE_SESSION},
    /* statuses */
    {"POST", "/api/v4/users/status/ids", api_status_get_by_ids, ROUTE_SESSION},
    {"GET", "/api/v4/users/{user_id}/status", api_status_get, ROUTE_SESSION},
    {"PUT", "/api/v4/users/{user_id}/status", api_status_update, ROUTE_SESSION},
    /* preferences */
    {"GET", "/api/v4/users/{user_id}/preferences", api_preferences_get, ROUTE_SESSION},
    {"PUT", "/api/v4/users/{user_id}/preferences", api_preferences_save, ROUTE_SESSION},
    {"POST", "/api/v4/users/{user_id}/preferences/delete", api_preferences_delete, ROUTE_SESSION},
    {"GET", "/api/v4/users/{user_id}/preferences/{category}", api_preferences_get_category, ROUTE_SESSION},
    {"GET", "/api/v4/users/{user_id}/preferences/{category}/name/{preference_name}", api_preferences_get_one,
     ROUTE_SESSION},
    /* database, config and cluster */
    {"POST", "/api/v4/database/recycle", api_database_recycle, ROUTE_SESSION},
    {"GET", "/api/v4/config", api_config_get, ROUTE_SESSION},
    {"PUT", "/api/v4/config", api_config_update, ROUTE_SESSION},
    {"POST", "/api/v4/config/reload", api_config_reload, ROUTE_SESSION},
    /* what the apps load first: the server describing itself */
    {"GET", "/api/v4/config/client", api_config_client, ROUTE_SESSION_IF_VALID},
    {"GET", "/api/v4/license/client", api_license_client, ROUTE_SESSION_IF_VALID},
    {"GET", "/api/v4/limits/server", api_limits_server, ROUTE_SESSION},
    {"GET", "/api/v4/plugins/webapp", api_plugins_webapp, ROUTE_PUBLIC},
    {"GET", "/api/v4/cluster/status", api_cluster_status, ROUTE_SESSION},
    /* jobs */
    {"POST", "/api/v4/jobs", api_jobs_create, ROUTE_SESSION},
    {"GET", "/api/v4/jobs", api_jobs_list, ROUTE_SESSION},
    {"GET", "/api/v4/jobs/type/{job_type}", api_jobs_list_by_type, ROUTE_SESSION},
    {"GET", "/api/v4/jobs/{job_id}", api_jobs_get, ROUTE_SESSION},
    {"POST", "/api/v4/jobs/{job_id}/cancel", api_jobs_cancel, ROUTE_SESSION},
};

void api_route(worker_t *worker, h2o_req_t *req)
{
    api_request_t *r = api_request_create(worker, req);
    if ((int64_t)req->entity.len > worker->config->service.maximum_payload_size_bytes) {
        api_send_error(r, 413, API_ERROR_TOO_LARGE_ID, API_ERROR_TOO_LARGE_MESSAGE, NULL);
        return;
    }
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (!h2o_memis(req->method.base, req->method.len, routes[i].method, strlen(routes[i].method)) ||
            !api_route_match(routes[i].pattern, req->path_normalized, r->params, API_PARAMS_MAX, &r->nparams))
            continue;
        switch (routes[i].access) {
        case ROUTE_PUBLIC: routes[i].handler(r); break;
        case ROUTE_SESSION: api_authenticate(r, API_AUTH_REQUIRED, routes[i].handler); break;
        case ROUTE_SESSION_IF_VALID: api_authenticate(r, API_AUTH_IF_VALID, routes[i].handler); break;
        }
        return;
    }
    api_route_not_found(r);
}
