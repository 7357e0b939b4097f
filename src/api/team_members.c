/*
 * A team's members: listing them (a page, or by user ids), reading one,
 * removing one (or leaving), and setting a member's team roles, as
 * api4/team.go and app/team.go answer.
 *
 * Permissions are team-scoped (SessionHasPermissionToTeam): view_team to
 * read, remove_user_from_team to remove someone else (leaving takes
 * nothing), manage_team_roles to set roles; each is held through the
 * session's roles or the caller's membership, so the first statement reads
 * the caller's team roles with what else the handler depends on.
 *
 * Leaving is LeaveTeam in one statement: the membership is marked removed,
 * the user leaves every channel of the team (the rows go, as Mattermost's
 * RemoveMember does, and with no user_removed event: LeaveTeam sends none),
 * and the user's sidebar and team preferences there go.  leave_team goes to
 * the team's other members and to the user.
 */
#include <stdio.h>
#include <string.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/post_system.h"
#include "api/response.h"
#include "core/clock.h"
#include "core/text.h"
#include "store/role.h"
#include "store/row.h"
#include "store/team.h"
#include "ws/ws.h"

typedef struct {
    const char *team_id, *user_id;
    const char *permission; /* at team scope, or NULL */
    api_handler_fn next;
    api_page_t page;
    bool by_username, active_users;
    const char *ids_json; /* POST .../members/ids */
    const char *roles;    /* PUT .../roles: the new roles */
} member_op_t;

static member_op_t *member_op(api_request_t *r, bool with_user)
{
    const char *team_id = api_param_id(r, 0, "team_id");
    if (team_id == NULL)
        return NULL;
    const char *user_id = NULL;
    if (with_user && (user_id = api_param_id(r, 1, "user_id")) == NULL)
        return NULL;
    member_op_t *op = h2o_mem_alloc_pool(&r->req->pool, sizeof(*op));
    *op = (member_op_t){.team_id = team_id, .user_id = user_id};
    r->state = op;
    return op;
}

/* ---- reads: the caller's team roles, then the members ----------------------------- */

static void on_caller_roles(api_request_t *r, PGresult *res, const char *error)
{
    member_op_t *op = r->state;
    if (api_query_failed(r, error))
        return;
    const char *roles = PQntuples(res) == 1 ? row_str(res, 0, TEAM_NCOLUMNS) : "";
    if (!api_has_permission(r, op->permission, roles)) {
        api_error_permissions(r);
        return;
    }
    op->next(r);
}

static void with_team_permission(api_request_t *r, member_op_t *op, const char *permission, api_handler_fn next)
{
    op->permission = permission;
    op->next = next;
    const char *params[] = {op->team_id, r->session.user_id};
    api_query_read(r, TEAM_SQL_WITH_CALLER, 2, params, on_caller_roles);
}

static void on_members_loaded(api_request_t *r, PGresult *res, const char *error)
{
    api_send_rows(r, res, error, team_member_to_json);
}

static void list_members(api_request_t *r)
{
    member_op_t *op = r->state;
    char limit[TEXT_INT64_SIZE], offset[TEXT_INT64_SIZE];
    text_int64(limit, op->page.per_page);
    text_int64(offset, op->page.offset);
    const char *params[] = {op->team_id, limit, offset, op->by_username ? "t" : "f", op->active_users ? "t" : "f"};
    api_query_read(r, TEAM_SQL_MEMBERS, 5, params, on_members_loaded);
}

void api_teams_members_get(api_request_t *r)
{
    member_op_t *op = member_op(r, false);
    if (op == NULL)
        return;
    op->page = api_query_page(r, NULL);
    const char *sort = api_query_param(r, "sort");
    op->by_username = sort != NULL && strcmp(sort, "Username") == 0;
    op->active_users = text_parse_bool(api_query_param(r, "exclude_deleted_users"));
    with_team_permission(r, op, "view_team", list_members);
}

static void members_by_ids(api_request_t *r)
{
    member_op_t *op = r->state;
    const char *params[] = {op->team_id, op->ids_json};
    api_query_read(r, TEAM_SQL_MEMBERS_BY_IDS, 2, params, on_members_loaded);
}

void api_teams_members_by_ids(api_request_t *r)
{
    member_op_t *op = member_op(r, false);
    if (op == NULL)
        return;
    json_t *ids = api_request_body(r, JSON_ARRAY);
    if (ids == NULL)
        return;
    bool strings = json_array_size(ids) > 0;
    for (size_t i = 0; strings && i < json_array_size(ids); i++)
        strings = json_is_string(json_array_get(ids, i));
    char *text = strings ? json_dumps(ids, JSON_COMPACT) : NULL;
    if (text == NULL) {
        api_error_invalid_body(r, "user_ids");
        return;
    }
    op->ids_json = h2o_strdup(&r->req->pool, text, SIZE_MAX).base;
    free(text);
    with_team_permission(r, op, "view_team", members_by_ids);
}

static void on_member_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_send_error(r, 404, "app.team.get_member.missing.app_error",
                       "No team member found for that user ID and team ID.", NULL);
        return;
    }
    api_send_json(r, 200, team_member_to_json(res, 0, 0));
}

static void get_member(api_request_t *r)
{
    member_op_t *op = r->state;
    const char *params[] = {op->team_id, op->user_id};
    api_query(r, TEAM_SQL_MEMBER_GET_ANY, 2, params, on_member_loaded);
}

void api_teams_member_get(api_request_t *r)
{
    member_op_t *op = member_op(r, true);
    if (op != NULL)
        with_team_permission(r, op, "view_team", get_member);
}

/* ---- DELETE /teams/{id}/members/{user_id} ------------------------------------------ */

static void publish_leave(api_request_t *r, const member_op_t *op)
{
    json_t *data = json_pack("{s:s,s:s}", "user_id", op->user_id, "team_id", op->team_id);
    if (data == NULL)
        return;
    const char *const omit[] = {op->user_id};
    ws_publish(r->worker, "leave_team", data,
               &(ws_broadcast_t){.team_id = op->team_id, .omit_users = omit, .n_omit_users = 1});
    ws_publish(r->worker, "leave_team", data, &(ws_broadcast_t){.user_id = op->user_id});
    json_decref(data);
    ws_publish_members_changed(r->worker, NULL, op->team_id);
}

static void on_member_removed(api_request_t *r, PGresult *res, const char *error)
{
    member_op_t *op = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_send_error(r, 400, "api.team.remove_user_from_team.missing.app_error",
                       "This user doesn't appear to be part of this team.", NULL);
        return;
    }
    publish_leave(r, op);
    /* LeaveTeam, when ExperimentalEnableDefaultChannelLeaveJoinMessages: in
     * town-square (which the user has left already), by the user who left
     * or was removed */
    bool self = strcmp(op->user_id, r->session.user_id) == 0;
    api_system_post_t post = {.type = self ? "system_leave_team" : "system_remove_from_team",
                              .channel_id = row_str(res, 0, 1),
                              .user_id = op->user_id};
    size_t n = api_team_join_leave_posts(r) && !PQgetisnull(res, 0, 1) ? 1 : 0;
    api_system_posts_respond(r, &post, n, 200, json_pack("{s:s}", "status", "OK"));
}

/* TEAM_SQL_MEMBER_CHECK's row: team, caller's team roles, user, membership. */
static void on_remove_checked(api_request_t *r, PGresult *res, const char *error)
{
    member_op_t *op = r->state;
    if (api_query_failed(r, error))
        return;
    bool self = strcmp(op->user_id, r->session.user_id) == 0;
    if (!self && !api_has_permission(r, "remove_user_from_team", row_str(res, 0, 1))) {
        api_error_permissions(r);
        return;
    }
    if (!row_bool(res, 0, 0)) {
        api_error_not_found(r, "app.team.get.find.app_error", "team");
        return;
    }
    if (!row_bool(res, 0, 2)) {
        api_error_not_found(r, "app.user.missing_account.const", "user");
        return;
    }
    if (!row_bool(res, 0, 3)) {
        api_send_error(r, 400, "api.team.remove_user_from_team.missing.app_error",
                       "This user doesn't appear to be part of this team.", NULL);
        return;
    }
    char now[TEXT_INT64_SIZE];
    text_int64(now, clock_now_ms());
    const char *params[] = {op->team_id, op->user_id, now};
    api_query(r, TEAM_SQL_MEMBER_REMOVE, 3, params, on_member_removed);
}

void api_teams_member_remove(api_request_t *r)
{
    member_op_t *op = member_op(r, true);
    if (op == NULL)
        return;
    const char *params[] = {op->team_id, r->session.user_id, op->user_id};
    api_query(r, TEAM_SQL_MEMBER_CHECK, 3, params, on_remove_checked);
}

/* ---- PUT /teams/{id}/members/{user_id}/roles --------------------------------------- */

static void on_roles_set(api_request_t *r, PGresult *res, const char *error)
{
    member_op_t *op = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_send_error(r, 404, "app.team.get_member.missing.app_error",
                       "No team member found for that user ID and team ID.", NULL);
        return;
    }
    json_t *member = team_member_to_json(res, 0, 0);
    char *text = member != NULL ? json_dumps(member, JSON_COMPACT) : NULL;
    json_t *data = text != NULL ? json_pack("{s:s}", "member", text) : NULL;
    if (data != NULL)
        ws_publish(r->worker, "memberrole_updated", data, &(ws_broadcast_t){.user_id = op->user_id});
    json_decref(data);
    free(text);
    json_decref(member);
    api_send_json(r, 200, json_pack("{s:s}", "status", "OK"));
}

/* ROLE_SQL_BY_NAMES's rows for the new roles: UpdateTeamMemberRoles sorts
 * them into the scheme flags and the explicit roles. */
static void on_roles_loaded(api_request_t *r, PGresult *res, const char *error)
{
    member_op_t *op = r->state;
    if (api_query_failed(r, error))
        return;
    size_t len = strlen(op->roles);
    char *explicit_roles = h2o_mem_alloc_pool(&r->req->pool, len + 1);
    size_t n = 0;
    bool scheme_user = false, scheme_admin = false, scheme_guest = false;
    for (const char *p = op->roles; *p != '\0';) {
        p += strspn(p, " \t\n\r\v\f");
        size_t w = strcspn(p, " \t\n\r\v\f");
        if (w == 0)
            break;
        int found = -1;
        for (int i = 0; i < PQntuples(res) && found < 0; i++)
            if (strlen(row_str(res, i, ROLE_COLUMN_NAME)) == w && strncmp(row_str(res, i, ROLE_COLUMN_NAME), p, w) == 0)
                found = i;
        if (found < 0) {
            api_send_error(r, 400, "app.role.get_by_name.app_error", "Unable to get role.", NULL);
            return;
        }
        if (!row_bool(res, found, 8)) { /* not scheme-managed: an explicit role */
            if (n > 0)
                explicit_roles[n++] = ' ';
            memcpy(explicit_roles + n, p, w);
            n += w;
        } else if (w == 10 && strncmp(p, "team_admin", w) == 0) {
            scheme_admin = true;
        } else if (w == 9 && strncmp(p, "team_user", w) == 0) {
            scheme_user = true;
        } else if (w == 10 && strncmp(p, "team_guest", w) == 0) {
            scheme_guest = true;
        } else {
            api_send_error(r, 400, "api.channel.update_team_member_roles.scheme_role.app_error",
                           "The provided role is managed by a Scheme and therefore cannot be applied directly to a "
                           "Team Member.",
                           NULL);
            return;
        }
        p += w;
    }
    explicit_roles[n] = '\0';
    if (scheme_guest && scheme_user) {
        api_send_error(r, 400, "api.team.update_team_member_roles.guest_and_user.app_error",
                       "Invalid team member update: A user must be a guest or a user but not both.", NULL);
        return;
    }
    if (scheme_guest) { /* chorus has no guests: every member was not one */
        api_send_error(r, 400, "api.channel.update_team_member_roles.changing_guest_role.app_error",
                       "Invalid team member update: You can't add or remove the guest role manually.", NULL);
        return;
    }
    const char *params[] = {op->team_id, op->user_id, explicit_roles, scheme_user ? "t" : "f",
                            scheme_admin ? "t" : "f"};
    api_query(r, TEAM_SQL_MEMBER_SET_ROLES, 5, params, on_roles_set);
}

static void on_roles_checked(api_request_t *r, PGresult *res, const char *error)
{
    member_op_t *op = r->state;
    if (api_query_failed(r, error))
        return;
    if (!api_has_permission(r, "manage_team_roles", row_str(res, 0, 1))) {
        api_error_permissions(r);
        return;
    }
    if (!row_bool(res, 0, 3)) {
        api_send_error(r, 404, "app.team.get_member.missing.app_error",
                       "No team member found for that user ID and team ID.", NULL);
        return;
    }
    /* the names as a JSON array for ROLE_SQL_BY_NAMES's text[]: valid role
     * names need no quoting */
    size_t len = strlen(op->roles);
    char *lit = h2o_mem_alloc_pool(&r->req->pool, len + 3);
    size_t n = 0;
    lit[n++] = '{';
    for (const char *p = op->roles; *p != '\0';) {
        p += strspn(p, " \t\n\r\v\f");
        size_t w = strcspn(p, " \t\n\r\v\f");
        if (w == 0)
            break;
        if (n > 1)
            lit[n++] = ',';
        memcpy(lit + n, p, w);
        n += w;
        p += w;
    }
    lit[n++] = '}';
    lit[n] = '\0';
    const char *params[] = {lit};
    api_query(r, ROLE_SQL_BY_NAMES, 1, params, on_roles_loaded);
}

/* IsValidUserRoles: every word a valid role name, and not system_admin
 * alone. */
static bool valid_user_roles(const char *roles)
{
    size_t count = 0;
    bool admin = false;
    for (const char *p = roles; *p != '\0';) {
        p += strspn(p, " \t\n\r\v\f");
        size_t w = strcspn(p, " \t\n\r\v\f");
        if (w == 0)
            break;
        char name[128];
        if (w >= sizeof(name))
            return false;
        memcpy(name, p, w);
        name[w] = '\0';
        if (!role_name_valid(name))
            return false;
        admin = strcmp(name, "system_admin") == 0;
        count++;
        p += w;
    }
    return !(count == 1 && admin);
}

void api_teams_member_roles(api_request_t *r)
{
    member_op_t *op = member_op(r, true);
    if (op == NULL)
        return;
    /* MapFromJSON: a body that is not an object of strings reads as empty */
    json_t *body = json_loadb(r->req->entity.base, r->req->entity.len, 0, NULL);
    json_t *roles = json_is_object(body) ? json_object_get(body, "roles") : NULL;
    op->roles = h2o_strdup(&r->req->pool, json_is_string(roles) ? json_string_value(roles) : "", SIZE_MAX).base;
    json_decref(body);
    if (!valid_user_roles(op->roles)) {
        api_error_invalid_body(r, "team_member_roles");
        return;
    }
    const char *params[] = {op->team_id, r->session.user_id, op->user_id};
    api_query(r, TEAM_SQL_MEMBER_CHECK, 3, params, on_roles_checked);
}
