/*
 * A team's channels as the apps browse them: GET /teams/{team_id}/channels
 * (its public channels, paged) and /channels/deleted (archived), a channel
 * by name in a team (by the team's id or name), POST .../channels/search,
 * GET .../channels/autocomplete and POST .../channels/ids.
 *
 * Permissions are Mattermost's: listing, autocomplete and search take
 * list_team_channels in the team (team_user holds it), reading by ids
 * view_team; the statements check the team membership's roles themselves
 * (store/channel_list.h).  A channel by name answers as getChannelByName:
 * an open one to whoever may read public channels of its team or read the
 * channel, any other to its members (and to whoever may manage the team),
 * and 404 to the rest, as if there were no such channel.
 */
#include <string.h>

#include "api/access.h"
#include "api/channels.h"
#include "api/handlers.h"
#include "api/response.h"
#include "core/text.h"
#include "store/channel_list.h"
#include "store/row.h"

/* ---- the lists: rows of p.ok, then the channels from column `col` ------------- */

static void send_channels(api_request_t *r, PGresult *res, int col)
{
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        if (!PQgetisnull(res, i, col))
            json_array_append_new(list, channel_to_json(res, i, col));
    api_send_json(r, 200, list);
}

static void on_list_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (!api_channel_list_allowed(r, res, error, NULL))
        return;
    send_channels(r, res, 1);
}

/* The archived list: Mattermost's store answers none as not found. */
static void on_deleted_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (!api_channel_list_allowed(r, res, error, "app.channel.get_deleted.missing.app_error"))
        return;
    send_channels(r, res, 1);
}

static void on_by_ids_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (!api_channel_list_allowed(r, res, error, "app.channel.get_channels_by_ids.not_found.app_error"))
        return;
    send_channels(r, res, 1);
}

/* Runs a CHANNEL_TEAM_LIST statement for `permission` in team `team_id`:
 * $1..$4, then `extra` parameters from $5. */
static void list_in_team(api_request_t *r, const char *team_id, const char *permission, const char *sql,
                         const char *const *extra, int nextra, api_query_cb cb)
{
    const char *params[8] = {team_id, api_has_permission(r, permission, NULL) ? "t" : "f", r->session.user_id,
                             api_roles_granting(r, permission)};
    for (int i = 0; i < nextra && i < 4; i++)
        params[4 + i] = extra[i];
    api_query_read(r, sql, 4 + nextra, params, cb);
}

/* ---- GET /teams/{team_id}/channels and /channels/deleted ------------------------- */

static void list_page(api_request_t *r, const char *sql, api_query_cb cb, bool with_private)
{
    const char *team_id = api_param_id(r, 0, "team_id");
    if (team_id == NULL)
        return;
    api_page_t page = api_query_page(r, NULL);
    const char *extra[] = {text_i64(&r->req->pool, page.per_page), text_i64(&r->req->pool, page.offset),
                           api_has_permission(r, "manage_system", NULL) ? "t" : "f"};
    list_in_team(r, team_id, "list_team_channels", sql, extra, with_private ? 3 : 2, cb);
}

void api_channels_team_public(api_request_t *r)
{
    list_page(r, CHANNEL_SQL_TEAM_PUBLIC, on_list_loaded, false);
}

void api_channels_team_deleted(api_request_t *r)
{
    list_page(r, CHANNEL_SQL_TEAM_DELETED, on_deleted_loaded, true);
}

/* ---- GET /teams/{team_id}/channels/autocomplete ----------------------------------- */

void api_channels_team_autocomplete(api_request_t *r)
{
    const char *team_id = api_param_id(r, 0, "team_id");
    if (team_id == NULL)
        return;
    const char *name = api_query_param(r, "name");
    const char *extra[] = {name != NULL ? name : ""};
    list_in_team(r, team_id, "list_team_channels", CHANNEL_SQL_TEAM_AUTOCOMPLETE, extra, 1, on_list_loaded);
}

/* ---- POST /teams/{team_id}/channels/search ----------------------------------------- */

/* Rows: p.ok, whether the caller is an active member of the team, then the
 * channels from column 2. */
static void on_search_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) < 1 || (!row_bool(res, 0, 0) && !row_bool(res, 0, 1))) {
        /* searchChannelsForTeam: not a team member is GetTeamMember's 404 */
        api_error_not_found(r, "app.team.get_member.missing.app_error", "team member");
        return;
    }
    send_channels(r, res, 2);
}

void api_channels_team_search(api_request_t *r)
{
    const char *team_id = api_param_id(r, 0, "team_id");
    json_t *body;
    if (team_id == NULL || (body = api_request_body(r, JSON_OBJECT)) == NULL)
        return;
    const char *term;
    if (!api_json_string_field(body, "term", &term)) {
        api_error_invalid_body(r, "channel_search");
        return;
    }
    const char *extra[] = {term};
    list_in_team(r, team_id, "list_team_channels", CHANNEL_SQL_TEAM_SEARCH, extra, 1, on_search_loaded);
}

/* ---- POST /teams/{team_id}/channels/ids ------------------------------------------- */

void api_channels_team_by_ids(api_request_t *r)
{
    const char *team_id = api_param_id(r, 0, "team_id");
    json_t *body;
    api_id_list_t ids;
    if (team_id == NULL || (body = api_request_body(r, JSON_ARRAY)) == NULL ||
        !api_read_id_list(r, body, "channel_ids", "channel_id", &ids))
        return;
    const char *extra[] = {api_id_array(r, &ids)};
    list_in_team(r, team_id, "view_team", CHANNEL_SQL_TEAM_BY_IDS, extra, 1, on_by_ids_loaded);
}

/* ---- a channel by name ------------------------------------------------------------- */

/* Columns of CHANNEL_SQL_BY_NAME after CHANNEL_COLUMNS (from column 1). */
enum { BN_TEAM = 0, BN_CHANNEL = 1, BN_CHANNEL_ROLES = 1 + CHANNEL_NCOLUMNS, BN_TEAM_ROLES };

static void on_by_name_loaded(api_request_t *r, PGresult *res, const char *error)
{
    bool by_team_name = r->input != NULL;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_error_database(r, NULL);
        return;
    }
    if (by_team_name && !row_bool(res, 0, BN_TEAM)) {
        api_error_not_found(r, "app.team.get_by_name.missing.app_error", "team");
        return;
    }
    if (PQgetisnull(res, 0, BN_CHANNEL)) {
        api_error_not_found(r, "app.channel.get_by_name.missing.app_error", "channel");
        return;
    }
    const char *channel_roles = row_str(res, 0, BN_CHANNEL_ROLES), *team_roles = row_str(res, 0, BN_TEAM_ROLES);
    bool channel_ok =
        api_has_permission(r, "read_channel", channel_roles) || api_has_permission(r, "read_channel", team_roles);
    bool open = row_str(res, 0, BN_CHANNEL + 5)[0] == 'O';
    if (open && !channel_ok && !api_has_permission(r, "read_public_channel", team_roles)) {
        api_error_permissions(r);
        return;
    }
    if (!open && !channel_ok && !api_has_permission(r, "manage_team", team_roles)) {
        api_error_not_found(r, "app.channel.get_by_name.missing.app_error", "channel");
        return;
    }
    api_send_json(r, 200, channel_to_json(res, 0, BN_CHANNEL));
}

/* Mattermost's route pattern for a channel name: [A-Za-z0-9_-]+ (longer than
 * a channel name may be is no channel). */
static bool name_param_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static void get_by_name(api_request_t *r, const char *team_id, const char *team_name, const char *name)
{
    r->input = team_name;
    const char *params[] = {team_id, team_name, name,
                            text_parse_bool(api_query_param(r, "include_deleted")) ? "t" : "f", r->session.user_id};
    api_query_read(r, CHANNEL_SQL_BY_NAME, 5, params, on_by_name_loaded);
}

void api_channels_by_name(api_request_t *r)
{
    const char *team_id = api_param_id(r, 0, "team_id");
    if (team_id == NULL)
        return;
    const char *name = api_param(r, 1);
    if (!name_param_ok(name)) {
        api_error_invalid_param(r, "channel_name");
        return;
    }
    get_by_name(r, team_id, NULL, name);
}

void api_channels_by_name_for_team_name(api_request_t *r)
{
    const char *team_name = api_param(r, 0), *name = api_param(r, 1);
    if (!name_param_ok(team_name)) {
        api_error_invalid_param(r, "team_name");
        return;
    }
    if (!name_param_ok(name)) {
        api_error_invalid_param(r, "channel_name");
        return;
    }
    get_by_name(r, NULL, team_name, name);
}
