/*
 * Teams beyond creating and joining: listing them, reading one by name or
 * asking whether a name is taken, editing (patch and update, privacy, a new
 * invite id), deleting (soft, or for good when
 * ServiceSettings.EnableAPITeamDeletion allows), restoring, and the member
 * counts, as api4/team.go and app/team.go answer (searching: team_search.c).
 *
 * Permissions: a team-scoped permission (manage_team, view_team) is held
 * through the session's roles or the caller's membership of the team
 * (SessionHasPermissionToTeam), so each handler first reads the team with
 * the caller's team roles (TEAM_SQL_WITH_CALLER); the check comes before the
 * team's existence, as in Mattermost: a caller without the permission gets
 * 403 for a missing team, an admin 404.  Listing takes list_public_teams
 * (open teams) and list_private_teams (the others) at system scope.
 *
 * A changed, deleted or restored team is told to its members
 * (update_team, delete_team, restore_team: the sanitized team as JSON text);
 * a privacy change regenerates the invite id when the team becomes
 * invite-only, as UpdateTeamPrivacy does.
 */
#include <stdio.h>
#include <string.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/response.h"
#include "api/teams.h"
#include "core/clock.h"
#include "core/text.h"
#include "store/row.h"
#include "store/team.h"
#include "ws/ws.h"

/* Mattermost's model.Team limits, for the fields an edit may change. */
#define TEAM_DISPLAY_NAME_MAX    64 /* runes */
#define TEAM_DESCRIPTION_MAX     255
#define TEAM_COMPANY_NAME_MAX    64
#define TEAM_ALLOWED_DOMAINS_MAX 500

json_t *api_team_json(const api_request_t *r, const PGresult *res, int row, int col, const char *team_roles)
{
    if (api_has_permission(r, "manage_team", team_roles))
        return team_to_json(res, row, col, false);
    json_t *t = team_to_json(res, row, col, true);
    if (t != NULL && api_has_permission(r, "invite_user", team_roles))
        json_object_set_new(t, "invite_id", json_string(row_str(res, row, col + 11)));
    return t;
}

void api_team_publish(api_request_t *r, const char *event, json_t *team)
{
    json_t *copy = json_deep_copy(team);
    if (copy == NULL)
        return;
    json_object_set_new(copy, "email", json_string(""));
    json_object_set_new(copy, "invite_id", json_string(""));
    char *text = json_dumps(copy, JSON_COMPACT);
    const char *team_id = json_string_value(json_object_get(team, "id"));
    json_t *data = text != NULL ? json_pack("{s:s}", "team", text) : NULL;
    if (data != NULL)
        ws_publish(r->worker, event, data, &(ws_broadcast_t){.team_id = team_id});
    json_decref(data);
    free(text);
    json_decref(copy);
}

/* ---- the team and the caller's roles in it, then the handler's step ----------- */

typedef struct team_op_s team_op_t;
/* `res` holds TEAM_SQL_WITH_CALLER's row, or is NULL for no such team. */
typedef void (*team_op_fn)(api_request_t *r, team_op_t *op, PGresult *res);

struct team_op_s {
    const char *team_id;
    const char *permission; /* at team scope; NULL: none */
    team_op_fn next;
    const char *roles; /* the caller's team roles ("" for none) */
    /* an edit: display name, description, company name, allowed domains,
     * allow_open_invite ('t'/'f'); NULL keeps the stored value */
    const char *fields[5];
    bool patch;    /* PUT .../patch (a closed team gets a new invite id) */
    bool sanitize; /* answer the team sanitized for the caller */
    bool permanent;
};

static void on_team_with_caller(api_request_t *r, PGresult *res, const char *error)
{
    team_op_t *op = r->state;
    if (api_query_failed(r, error))
        return;
    bool found = PQntuples(res) == 1;
    op->roles = found ? h2o_strdup(&r->req->pool, row_str(res, 0, TEAM_NCOLUMNS), SIZE_MAX).base : "";
    if (op->permission != NULL && !api_has_permission(r, op->permission, op->roles)) {
        api_error_permissions(r);
        return;
    }
    op->next(r, op, found ? res : NULL);
}

/* Reads team `team_id` with the caller's roles, checks `permission` and
 * calls `next`; NULL when the route's team id was invalid (answered). */
static team_op_t *team_op_start(api_request_t *r, const char *permission, team_op_fn next, bool defer)
{
    const char *team_id = api_param_id(r, 0, "team_id");
    if (team_id == NULL)
        return NULL;
    team_op_t *op = h2o_mem_alloc_pool(&r->req->pool, sizeof(*op));
    *op = (team_op_t){.team_id = team_id, .permission = permission, .next = next};
    r->state = op;
    if (!defer) {
        const char *params[] = {team_id, r->session.user_id};
        api_query(r, TEAM_SQL_WITH_CALLER, 2, params, on_team_with_caller);
    }
    return op;
}

static void team_op_run(api_request_t *r, team_op_t *op)
{
    const char *params[] = {op->team_id, r->session.user_id};
    api_query(r, TEAM_SQL_WITH_CALLER, 2, params, on_team_with_caller);
}

static bool team_missing(api_request_t *r, PGresult *res)
{
    if (res != NULL)
        return false;
    api_error_not_found(r, "app.team.get.find.app_error", "team");
    return true;
}

/* ---- GET /teams ---------------------------------------------------------------- */

typedef struct {
    const char *filter; /* '' every team, 't' open, 'f' the others */
    api_page_t page;
    bool with_count;
    long long total;
} team_list_t;

static void on_teams_listed(api_request_t *r, PGresult *res, const char *error)
{
    team_list_t *l = r->state;
    if (api_query_failed(r, error))
        return;
    json_t *teams = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(teams, api_team_json(r, res, i, 0, row_str(res, i, TEAM_NCOLUMNS)));
    if (!l->with_count) {
        api_send_json(r, 200, teams);
        return;
    }
    api_send_json(r, 200, json_pack("{s:o,s:I}", "teams", teams, "total_count", (json_int_t)l->total));
}

static void list_page(api_request_t *r)
{
    team_list_t *l = r->state;
    char limit[TEXT_INT64_SIZE], offset[TEXT_INT64_SIZE];
    text_int64(limit, l->page.per_page);
    text_int64(offset, l->page.offset);
    const char *params[] = {l->filter, limit, offset, r->session.user_id};
    api_query_read(r, TEAM_SQL_LIST, 4, params, on_teams_listed);
}

static void on_teams_counted(api_request_t *r, PGresult *res, const char *error)
{
    team_list_t *l = r->state;
    if (api_query_failed(r, error))
        return;
    l->total = PQntuples(res) == 1 ? row_int64(res, 0, 0) : 0;
    list_page(r);
}

void api_teams_list(api_request_t *r)
{
    /* no team is under a data retention policy here: the flag only asks
     * for the permission */
    if (text_parse_bool(api_query_param(r, "exclude_policy_constrained")) &&
        !api_require_permission(r, "sysconsole_read_compliance_data_retention_policy"))
        return;
    bool private_teams = api_has_permission(r, "list_private_teams", NULL);
    bool public_teams = api_has_permission(r, "list_public_teams", NULL);
    if (!private_teams && !public_teams) {
        api_send_error(r, 403, "api.team.get_all_teams.insufficient_permissions",
                       "You don't have the appropriate permissions to list all teams", NULL);
        return;
    }
    team_list_t *l = h2o_mem_alloc_pool(&r->req->pool, sizeof(*l));
    *l = (team_list_t){.filter = private_teams && public_teams ? ""
                                 : private_teams               ? "f"
                                                               : "t",
                       .page = api_query_page(r, NULL),
                       .with_count = text_parse_bool(api_query_param(r, "include_total_count"))};
    r->state = l;
    if (!l->with_count) {
        list_page(r);
        return;
    }
    const char *params[] = {l->filter};
    api_query_read(r, TEAM_SQL_COUNT, 1, params, on_teams_counted);
}

/* ---- GET /teams/name/{name}, GET /teams/name/{name}/exists ---------------------- */

static void on_team_by_name(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_send_error(r, 404, "app.team.get_by_name.missing.app_error", "Unable to find the existing team.", NULL);
        return;
    }
    const char *roles = row_str(res, 0, TEAM_NCOLUMNS);
    bool open = row_bool(res, 0, TEAM_COLUMN_ALLOW_OPEN_INVITE) && strcmp(row_str(res, 0, TEAM_COLUMN_TYPE), "O") == 0;
    if (!open && !api_has_permission(r, "view_team", roles)) {
        api_error_permissions(r);
        return;
    }
    api_send_json(r, 200, api_team_json(r, res, 0, 0, roles));
}

/* The route's team name, checked as RequireTeamName does; NULL after 400. */
static const char *team_name_param(api_request_t *r)
{
    const char *name = api_param(r, 0);
    if (!team_name_valid(name)) {
        api_error_invalid_param(r, "team_name");
        return NULL;
    }
    return name;
}

void api_teams_get_by_name(api_request_t *r)
{
    const char *name = team_name_param(r);
    if (name == NULL)
        return;
    const char *params[] = {name, r->session.user_id};
    api_query_read(r, TEAM_SQL_BY_NAME_WITH_CALLER, 2, params, on_team_by_name);
}

static void on_team_exists(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    bool exists = false;
    if (PQntuples(res) == 1) {
        /* the caller may see it: a member, or one who may list such teams */
        bool open = row_bool(res, 0, TEAM_COLUMN_ALLOW_OPEN_INVITE);
        exists = row_bool(res, 0, TEAM_NCOLUMNS + 1) ||
                 api_has_permission(r, open ? "list_public_teams" : "list_private_teams", NULL);
    }
    api_send_json(r, 200, json_pack("{s:b}", "exists", exists));
}

void api_teams_exists(api_request_t *r)
{
    const char *name = team_name_param(r);
    if (name == NULL)
        return;
    const char *params[] = {name, r->session.user_id};
    api_query_read(r, TEAM_SQL_BY_NAME_WITH_CALLER, 2, params, on_team_exists);
}

/* ---- PUT /teams/{id}/patch, PUT /teams/{id} ------------------------------------- */

/* Team.IsValid on the fields an edit sets, in its order. */
static bool validate_edit(api_request_t *r, const team_op_t *op)
{
    const char *display = op->fields[0], *description = op->fields[1], *company = op->fields[2];
    const char *domains = op->fields[3];
    size_t runes = display != NULL ? text_utf8_runes(display) : 1;
    if (runes == 0 || runes > TEAM_DISPLAY_NAME_MAX)
        return api_error_model_invalid(r, "team", "name", "Invalid display name.");
    if (description != NULL && strlen(description) > TEAM_DESCRIPTION_MAX)
        return api_error_model_invalid(r, "team", "description", "Invalid description.");
    if (company != NULL && strlen(company) > TEAM_COMPANY_NAME_MAX)
        return api_error_model_invalid(r, "team", "company", "Invalid company name.");
    if (domains != NULL && strlen(domains) > TEAM_ALLOWED_DOMAINS_MAX)
        return api_error_model_invalid(r, "team", "domains", "Invalid allowed domains.");
    return true;
}

static void on_team_edited(api_request_t *r, PGresult *res, const char *error)
{
    team_op_t *op = r->state;
    if (!api_query_one_row(r, res, error, "app.team.get.find.app_error", "team"))
        return;
    json_t *team = team_to_json(res, 0, 0, false);
    api_team_publish(r, "update_team", team);
    json_decref(team);
    api_send_json(r, 200, api_team_json(r, res, 0, 0, op->roles));
}

static void edit_team(api_request_t *r, team_op_t *op, PGresult *res)
{
    if (team_missing(r, res) || !validate_edit(r, op))
        return;
    /* Team.Patch: closing a team's open invites changes its invite id */
    char invite[ID_LENGTH + 1], now[TEXT_INT64_SIZE];
    bool new_invite = op->patch && op->fields[4] != NULL && strcmp(op->fields[4], "f") == 0;
    if (new_invite)
        id_new(invite);
    text_int64(now, clock_now_ms());
    const char *params[] = {op->team_id,   now,           op->fields[0], op->fields[1],
                            op->fields[2], op->fields[3], op->fields[4], new_invite ? invite : NULL};
    api_query(r, TEAM_SQL_UPDATE, 8, params, on_team_edited);
}

static const api_body_field_t team_edit_fields[] = {
    {"id", JSON_STRING},
    {"display_name", JSON_STRING},
    {"name", JSON_STRING},
    {"description", JSON_STRING},
    {"email", JSON_STRING},
    {"type", JSON_STRING},
    {"company_name", JSON_STRING},
    {"allowed_domains", JSON_STRING},
    {"invite_id", JSON_STRING},
    {"allow_open_invite", JSON_TRUE},
    {"group_constrained", JSON_TRUE},
    {"cloud_limits_archived", JSON_TRUE},
};
static const char *const team_edit_keys[] = {"display_name", "description", "company_name", "allowed_domains"};

/* The body's edit into op->fields: with `patch`, a field absent or null
 * keeps its value; otherwise (a whole Team) it is Go's zero value. */
static bool read_edit(api_request_t *r, team_op_t *op, bool patch)
{
    json_t *body = api_request_body(r, JSON_OBJECT);
    if (body == NULL)
        return false;
    if (!api_body_types_ok(body, team_edit_fields, sizeof(team_edit_fields) / sizeof(team_edit_fields[0]))) {
        api_error_invalid_body(r, "team");
        return false;
    }
    for (size_t i = 0; i < 4; i++) {
        const char *v = json_string_value(json_object_get(body, team_edit_keys[i]));
        op->fields[i] = v != NULL ? v : patch ? NULL : "";
    }
    json_t *open = json_object_get(body, "allow_open_invite");
    op->fields[4] = json_is_boolean(open) ? (json_is_true(open) ? "t" : "f") : patch ? NULL : "f";
    op->patch = patch;
    if (!patch) {
        /* the team in the body must be the one in the URL */
        const char *id = json_string_value(json_object_get(body, "id"));
        if (id == NULL || strcmp(id, op->team_id) != 0) {
            api_error_invalid_body(r, "id");
            return false;
        }
    }
    return true;
}

void api_teams_patch(api_request_t *r)
{
    team_op_t *op = team_op_start(r, "manage_team", edit_team, true);
    if (op != NULL && read_edit(r, op, true))
        team_op_run(r, op);
}

void api_teams_update(api_request_t *r)
{
    team_op_t *op = team_op_start(r, "manage_team", edit_team, true);
    if (op != NULL && read_edit(r, op, false))
        team_op_run(r, op);
}

/* ---- DELETE /teams/{id}, POST /teams/{id}/restore -------------------------------- */

static void on_team_deleted(api_request_t *r, PGresult *res, const char *error)
{
    team_op_t *op = r->state;
    if (!api_query_one_row(r, res, error, "app.team.get.find.app_error", "team"))
        return;
    json_t *team = team_to_json(res, 0, 0, false);
    if (op->permanent && team != NULL)
        json_object_set_new(team, "delete_at", json_integer(clock_now_ms()));
    api_team_publish(r, "delete_team", team);
    json_decref(team);
    if (op->permanent)
        ws_publish_members_changed(r->worker, NULL, op->team_id);
    api_send_json(r, 200, json_pack("{s:s}", "status", "OK"));
}

static void delete_team(api_request_t *r, team_op_t *op, PGresult *res)
{
    if (op->permanent && !r->worker->config->service.enable_api_team_deletion) {
        api_send_error(r, 401, "api.user.delete_team.not_enabled.app_error",
                       "Permanent team deletion feature is not enabled. Please ask your System Administrator.", NULL);
        return;
    }
    if (team_missing(r, res))
        return;
    if (op->permanent) {
        const char *params[] = {op->team_id};
        api_query(r, TEAM_SQL_DELETE_PERMANENTLY, 1, params, on_team_deleted);
        return;
    }
    char now[TEXT_INT64_SIZE];
    text_int64(now, clock_now_ms());
    const char *params[] = {op->team_id, now, now};
    api_query(r, TEAM_SQL_SET_DELETED, 3, params, on_team_deleted);
}

void api_teams_delete(api_request_t *r)
{
    team_op_t *op = team_op_start(r, "manage_team", delete_team, true);
    if (op == NULL)
        return;
    op->permanent = text_parse_bool(api_query_param(r, "permanent"));
    team_op_run(r, op);
}

static void on_team_restored(api_request_t *r, PGresult *res, const char *error)
{
    if (!api_query_one_row(r, res, error, "app.team.get.find.app_error", "team"))
        return;
    json_t *team = team_to_json(res, 0, 0, false);
    api_team_publish(r, "restore_team", team);
    /* restoreTeam answers the team as GetTeam reads it, unsanitized */
    api_send_json(r, 200, team);
}

static void restore_team(api_request_t *r, team_op_t *op, PGresult *res)
{
    if (team_missing(r, res))
        return;
    char now[TEXT_INT64_SIZE];
    text_int64(now, clock_now_ms());
    const char *params[] = {op->team_id, "0", now};
    api_query(r, TEAM_SQL_SET_DELETED, 3, params, on_team_restored);
}

void api_teams_restore(api_request_t *r)
{
    team_op_start(r, "manage_team", restore_team, false);
}

/* ---- PUT /teams/{id}/privacy, POST /teams/{id}/regenerate_invite_id ------------- */

static void on_team_privacy_set(api_request_t *r, PGresult *res, const char *error)
{
    team_op_t *op = r->state;
    if (!api_query_one_row(r, res, error, "app.team.get.find.app_error", "team"))
        return;
    json_t *team = team_to_json(res, 0, 0, false);
    api_team_publish(r, "update_team", team);
    if (op->sanitize) {
        /* regenerateTeamInviteId answers the team sanitized for the caller */
        json_decref(team);
        api_send_json(r, 200, api_team_json(r, res, 0, 0, op->roles));
        return;
    }
    /* updateTeamPrivacy answers the team as GetTeam reads it */
    api_send_json(r, 200, team);
}

static void set_privacy(api_request_t *r, team_op_t *op, PGresult *res)
{
    if (team_missing(r, res))
        return;
    const char *type = op->fields[0];
    char invite[ID_LENGTH + 1], now[TEXT_INT64_SIZE];
    id_new(invite);
    text_int64(now, clock_now_ms());
    const char *params[] = {op->team_id, type, strcmp(type, "O") == 0 ? "t" : "f", invite, now};
    api_query(r, TEAM_SQL_SET_PRIVACY, 5, params, on_team_privacy_set);
}

void api_teams_update_privacy(api_request_t *r)
{
    team_op_t *op = team_op_start(r, "manage_team", set_privacy, true);
    if (op == NULL)
        return;
    /* StringInterfaceFromJSON: a body that is no object has no privacy */
    json_t *body = json_loadb(r->req->entity.base, r->req->entity.len, 0, NULL);
    const char *privacy = json_string_value(json_object_get(body, "privacy"));
    bool ok = privacy != NULL && (strcmp(privacy, "O") == 0 || strcmp(privacy, "I") == 0);
    op->fields[0] = ok ? (privacy[0] == 'O' ? "O" : "I") : NULL;
    json_decref(body);
    if (!ok) {
        api_error_invalid_body(r, "privacy");
        return;
    }
    team_op_run(r, op);
}

static void regenerate_invite(api_request_t *r, team_op_t *op, PGresult *res)
{
    if (team_missing(r, res))
        return;
    char invite[ID_LENGTH + 1], now[TEXT_INT64_SIZE];
    id_new(invite);
    text_int64(now, clock_now_ms());
    op->sanitize = true;
    const char *params[] = {op->team_id, invite, now};
    api_query(r, TEAM_SQL_SET_INVITE_ID, 3, params, on_team_privacy_set);
}

void api_teams_regenerate_invite_id(api_request_t *r)
{
    team_op_start(r, "manage_team", regenerate_invite, false);
}

/* ---- GET /teams/{id}/stats ------------------------------------------------------- */

static void on_team_stats(api_request_t *r, PGresult *res, const char *error)
{
    team_op_t *op = r->state;
    if (api_query_failed(r, error))
        return;
    json_int_t total = PQntuples(res) == 1 ? row_int64(res, 0, 0) : 0;
    json_int_t active = PQntuples(res) == 1 ? row_int64(res, 0, 1) : 0;
    api_send_json(
        r, 200,
        json_pack("{s:s,s:I,s:I}", "team_id", op->team_id, "total_member_count", total, "active_member_count", active));
}

/* GetTeamStats counts whatever team id it is given: an admin asking for a
 * missing team gets zeros, as from Mattermost. */
static void team_stats(api_request_t *r, team_op_t *op, PGresult *res)
{
    (void)res;
    const char *params[] = {op->team_id};
    api_query_read(r, TEAM_SQL_STATS, 1, params, on_team_stats);
}

void api_teams_stats(api_request_t *r)
{
    team_op_start(r, "view_team", team_stats, false);
}
