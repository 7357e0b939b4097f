/*
 * Teams: creating one, reading one, joining or adding members, listing a
 * user's teams.
 *
 * Permissions (see access.h): creating a team takes create_team (every user
 * holds it by default, and becomes the team's admin: the team's Email is the
 * creator's, and Mattermost makes the member whose email matches the team's
 * a scheme admin); adding someone else takes add_user_to_team, from the
 * caller's system roles or team membership (team_user holds it); adding
 * oneself takes join_public_teams for an open team (type O and
 * allow_open_invite), join_private_teams for another.  A team member reads
 * the team, and so does anyone when the team is open; view_team,
 * manage_team and read_other_users_teams at system scope stand for a system
 * admin elsewhere.  Type and allow_open_invite are kept in sync as
 * current Mattermost does (Team.PreSave): invite-only unless open invites are
 * allowed.
 *
 * Every write is one statement: a new team comes with its creator's
 * membership and the default channels ("town-square", "off-topic") with the
 * creator in them; a new (or re-activated) member joins the default channels
 * in the same statement.  Checks that only read run first, as one query on
 * the master; the write repeats what integrity needs, so a race cannot leave
 * half a join; a join past TeamSettings.MaxUsersPerTeam active members is
 * refused there too.  Plain reads (GET) may be answered by a replica.
 *
 * The statements and the Team JSON are store/team.h's; here are the body
 * checks, the permissions and the events.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/post_system.h"
#include "api/response.h"
#include "core/clock.h"
#include "core/text.h"
#include "db/sqlstate.h"
#include "store/channel.h"
#include "store/row.h"
#include "store/team.h"
#include "ws/ws.h"

/* Mattermost's model.Team limits. */
#define TEAM_NAME_MAX         64
#define TEAM_DISPLAY_NAME_MAX 64 /* runes */
#define TEAM_DESCRIPTION_MAX  255
#define TEAM_COMPANY_NAME_MAX 64

/* ---- creating a team ---------------------------------------------------------- */

typedef struct {
    const char *name, *display_name, *type, *description, *company_name;
    bool allow_open_invite;
} team_input_t;

/* IsReservedTeamName: these are prefixes, not whole names. */
static bool reserved_team_name(const char *s)
{
    static const char *const reserved[] = {"admin",   "api",     "channel", "claim",  "error",    "files",
                                           "help",    "landing", "login",   "mfa",    "oauth",    "plug",
                                           "plugins", "post",    "signup",  "boards", "playbooks"};
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (strncasecmp(s, reserved[i], strlen(reserved[i])) == 0)
            return true;
    return false;
}

/* Team.IsValid, in Mattermost's order; answers 400 and returns false. */
static bool validate_team(api_request_t *r, const team_input_t *t)
{
    size_t runes = text_utf8_runes(t->display_name);
    if (runes == 0 || runes > TEAM_DISPLAY_NAME_MAX)
        return api_error_model_invalid(r, "team", "name", "Invalid display name.");
    if (strlen(t->name) > TEAM_NAME_MAX)
        return api_error_model_invalid(r, "team", "url", "Invalid team name (more than 64 characters).");
    if (strlen(t->description) > TEAM_DESCRIPTION_MAX)
        return api_error_model_invalid(r, "team", "description", "Invalid description.");
    if (reserved_team_name(t->name))
        return api_error_model_invalid(r, "team", "reserved", "This URL is unavailable. Please try another.");
    if (!team_name_valid(t->name))
        return api_error_model_invalid(
            r, "team", "characters",
            "Name must be 2 or more lowercase alphanumeric characters (letters, numbers and '-').");
    if (strcmp(t->type, "O") != 0 && strcmp(t->type, "I") != 0)
        return api_error_model_invalid(r, "team", "type", "Invalid type.");
    if (strlen(t->company_name) > TEAM_COMPANY_NAME_MAX)
        return api_error_model_invalid(r, "team", "company", "Invalid company name.");
    return true;
}

/* The body's fields, type-checked as Go's decoder would. */
static bool read_team_input(api_request_t *r, json_t *body, team_input_t *t)
{
    json_t *open = json_object_get(body, "allow_open_invite");
    if (!api_json_string_field(body, "name", &t->name) ||
        !api_json_string_field(body, "display_name", &t->display_name) ||
        !api_json_string_field(body, "type", &t->type) ||
        !api_json_string_field(body, "description", &t->description) ||
        !api_json_string_field(body, "company_name", &t->company_name) ||
        (open != NULL && !json_is_boolean(open) && !json_is_null(open))) {
        api_error_invalid_body(r, "team");
        return false;
    }
    t->allow_open_invite = json_is_true(open);
    return true;
}

/* JoinDefaultChannels' posts for `user_id` joining by itself (no requestor:
 * creating the team, POST /teams/{id}/members, an invite), when
 * ExperimentalEnableDefaultChannelLeaveJoinMessages: "joined the team" in
 * town-square, "joined the channel" in off-topic, whose ids are columns
 * `col` and `col` + 1 of `res` (NULL for none).  Into `posts` (2 at most);
 * returns how many. */
static size_t join_posts(api_request_t *r, const PGresult *res, int col, const char *user_id, api_system_post_t *posts)
{
    static const char *const types[] = {"system_join_team", "system_join_channel"};
    size_t n = 0;
    if (!api_team_join_leave_posts(r))
        return 0;
    for (int i = 0; i < 2; i++)
        if (!PQgetisnull(res, 0, col + i))
            posts[n++] =
                (api_system_post_t){.type = types[i], .channel_id = row_str(res, 0, col + i), .user_id = user_id};
    return n;
}

static void on_team_created(api_request_t *r, PGresult *res, const char *error)
{
    if (error != NULL && sqlstate_is(row_sqlstate(res), SQLSTATE_UNIQUE_VIOLATION)) {
        api_send_error(r, 400, "app.team.save.existing.app_error", "A team with that name already exists.", NULL);
        return;
    }
    if (!api_query_one_row(r, res, error, "app.user.missing_account.const", "user"))
        return;
    /* event: none for the team itself; added_to_team for the creator would go here */
    json_t *team = team_to_json(res, 0, 0, false);
    api_system_post_t posts[2];
    size_t n = join_posts(r, res, TEAM_NCOLUMNS, r->session.user_id, posts);
    api_system_posts_respond(r, posts, n, 201, team);
}

void api_teams_create(api_request_t *r)
{
    json_t *body = api_request_body(r, JSON_OBJECT);
    team_input_t t;
    if (body == NULL || !read_team_input(r, body, &t))
        return;
    if (!api_has_permission(r, "create_team", NULL)) {
        api_send_error(r, 403, "api.team.is_team_creation_allowed.disabled.app_error",
                       "Team creation has been disabled. Please ask your System Administrator for details.", NULL);
        return;
    }
    if (!validate_team(r, &t))
        return;
    /* Team.PreSave: invite-only teams never allow open invites, and the type
     * follows allow_open_invite */
    bool open = t.allow_open_invite && strcmp(t.type, "I") != 0;
    char id[ID_LENGTH + 1], invite[ID_LENGTH + 1], town[ID_LENGTH + 1], off[ID_LENGTH + 1], now[TEXT_INT64_SIZE];
    id_new(id);
    id_new(invite);
    id_new(town);
    id_new(off);
    text_int64(now, clock_now_ms());
    const char *params[] = {r->session.user_id,
                            id,
                            now,
                            t.display_name,
                            t.name,
                            t.description,
                            open ? "O" : "I",
                            t.company_name,
                            invite,
                            open ? "t" : "f",
                            town,
                            off,
                            CHANNEL_NOTIFY_PROPS_DEFAULT};
    api_query(r, TEAM_SQL_CREATE, 13, params, on_team_created);
}

/* ---- reading teams ------------------------------------------------------------ */

static void on_team_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (!api_query_one_row(r, res, error, "app.team.get.find.app_error", "team"))
        return;
    const int c = TEAM_NCOLUMNS;
    bool open = row_bool(res, 0, TEAM_COLUMN_ALLOW_OPEN_INVITE) && strcmp(row_str(res, 0, TEAM_COLUMN_TYPE), "O") == 0;
    if (!open && !row_bool(res, 0, c) && !api_has_permission(r, "view_team", NULL)) {
        api_error_permissions(r);
        return;
    }
    bool manager = api_has_permission(r, "manage_team", NULL) || row_bool(res, 0, c + 1);
    api_send_json(r, 200, team_to_json(res, 0, 0, !manager));
}

void api_teams_get(api_request_t *r)
{
    const char *team_id = api_param_id(r, 0, "team_id");
    if (team_id == NULL)
        return;
    const char *params[] = {team_id, r->session.user_id};
    api_query_read(r, TEAM_SQL_GET, 2, params, on_team_loaded);
}

static void on_teams_for_user_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    /* a system admin sees every field; the user sees them on teams it administers */
    bool sysadmin = api_has_permission(r, "manage_team", NULL);
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(list, team_to_json(res, i, 0, !sysadmin && !row_bool(res, i, TEAM_NCOLUMNS)));
    api_send_json(r, 200, list);
}

void api_teams_for_user(api_request_t *r)
{
    const char *user_id = api_param_id(r, 0, "user_id");
    if (user_id == NULL)
        return;
    if (strcmp(user_id, r->session.user_id) != 0 && !api_require_permission(r, "read_other_users_teams"))
        return;
    const char *params[] = {user_id};
    api_query_read(r, TEAM_SQL_FOR_USER, 1, params, on_teams_for_user_loaded);
}

/* ---- adding a member ------------------------------------------------------------ */

typedef struct {
    const char *team_id, *user_id;
} add_member_t;

static void on_member_reloaded(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_error_database(r, "the team membership vanished while it was written");
        return;
    }
    api_send_json(r, 201, team_member_to_json(res, 0, 0));
}

static void on_member_added(api_request_t *r, PGresult *res, const char *error)
{
    add_member_t *a = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) == 0) {
        /* another request added the member between our snapshot and our write */
        const char *params[] = {a->team_id, a->user_id};
        api_query(r, TEAM_SQL_MEMBER_GET, 2, params, on_member_reloaded);
        return;
    }
    if (row_bool(res, 0, TEAM_MEMBER_NCOLUMNS + 1)) {
        api_send_error(r, 400, "app.team.join_user_to_team.max_accounts.app_error",
                       "This team has reached the maximum number of allowed accounts. Contact your System "
                       "Administrator to set a higher limit.",
                       NULL);
        return;
    }
    if (row_bool(res, 0, TEAM_MEMBER_NCOLUMNS)) {
        /* the team's members changed, and those of its default channels */
        ws_publish_members_changed(r->worker, NULL, a->team_id);
        json_t *data = json_pack("{s:s,s:s}", "team_id", a->team_id, "user_id", a->user_id);
        if (data != NULL)
            ws_publish(r->worker, "added_to_team", data, &(ws_broadcast_t){.user_id = a->user_id});
        json_decref(data);
        api_system_post_t posts[2];
        size_t n = join_posts(r, res, TEAM_MEMBER_NCOLUMNS + 2, a->user_id, posts);
        api_system_posts_respond(r, posts, n, 201, team_member_to_json(res, 0, 0));
        return;
    }
    api_send_json(r, 201, team_member_to_json(res, 0, 0));
}

/* Inserts the member, or re-activates a removed one (JoinUserToTeam), and
 * joins it to the team's default channels; an active member is returned as
 * it is.  The columns after the member tell whether the membership is new
 * and whether TeamSettings.MaxUsersPerTeam kept the user out (400), then
 * where the join posts go. */
static void add_member(api_request_t *r)
{
    add_member_t *a = r->state;
    char now[TEXT_INT64_SIZE];
    text_int64(now, clock_now_ms());
    const char *max = text_i64(&r->req->pool, r->worker->config->team.max_users_per_team);
    const char *params[] = {a->team_id, a->user_id, now, CHANNEL_NOTIFY_PROPS_DEFAULT, max};
    api_query(r, TEAM_SQL_MEMBER_ADD, 5, params, on_member_added);
}

/* TEAM_SQL_MEMBER_ADD_CHECK's row: team exists, allows open invites, the
 * caller is a member, the user exists. */
static void on_add_member_checked(api_request_t *r, PGresult *res, const char *error)
{
    add_member_t *a = r->state;
    if (api_query_failed(r, error))
        return;
    bool team = row_bool(res, 0, 0), open = row_bool(res, 0, 1), member_grants = row_bool(res, 0, 2);
    bool self = strcmp(a->user_id, r->session.user_id) == 0;
    if (self && !team) {
        api_error_not_found(r, "app.team.get.find.app_error", "team");
        return;
    }
    bool allowed = self ? api_has_permission(r, open ? "join_public_teams" : "join_private_teams", NULL)
                        : member_grants || api_has_permission(r, "add_user_to_team", NULL);
    if (!allowed) {
        api_error_permissions(r);
        return;
    }
    if (!team) {
        api_error_not_found(r, "app.team.get.find.app_error", "team");
        return;
    }
    if (!row_bool(res, 0, 3)) {
        api_error_not_found(r, "app.user.missing_account.const", "user");
        return;
    }
    add_member(r);
}

/* Body errors as Mattermost's addTeamMember reports them. */
static bool read_member_body(api_request_t *r, add_member_t *a)
{
    json_t *body = json_loadb(r->req->entity.base, r->req->entity.len, JSON_REJECT_DUPLICATES, NULL);
    json_decref(r->body);
    r->body = body; /* released with the request */
    const char *team_id, *user_id;
    if (body == NULL || !json_is_object(body) || !api_json_string_field(body, "team_id", &team_id) ||
        !api_json_string_field(body, "user_id", &user_id)) {
        api_send_error(r, 400, "api.team.add_team_member.invalid_body.app_error",
                       "Error decoding the team member from the request body.", NULL);
        return false;
    }
    if (strcmp(team_id, a->team_id) != 0) {
        api_error_invalid_body(r, "team_id");
        return false;
    }
    if (!id_is_valid(user_id, strlen(user_id))) {
        api_error_invalid_body(r, "user_id");
        return false;
    }
    a->user_id = user_id;
    return true;
}

void api_teams_add_member(api_request_t *r)
{
    add_member_t *a = h2o_mem_alloc_pool(&r->req->pool, sizeof(*a));
    a->team_id = api_param_id(r, 0, "team_id");
    if (a->team_id == NULL || !read_member_body(r, a))
        return;
    r->state = a;
    const char *params[] = {a->team_id, r->session.user_id, a->user_id, api_roles_granting(r, "add_user_to_team")};
    api_query(r, TEAM_SQL_MEMBER_ADD_CHECK, 4, params, on_add_member_checked);
}

/* ---- joining by invite id -------------------------------------------------------- */

static void on_invite_found(api_request_t *r, PGresult *res, const char *error)
{
    add_member_t *a = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_send_error(r, 404, "app.team.get_by_invite_id.finding.app_error", "Unable to find the existing team.",
                       NULL);
        return;
    }
    a->team_id = h2o_strdup(&r->req->pool, row_str(res, 0, 0), SIZE_MAX).base;
    add_member(r);
}

/* POST /teams/members/invite: the caller joins the team whose invite id it
 * holds, whatever the team's type (AddUserToTeamByInviteId).  Email
 * invitation tokens (`token`) need the Tokens table chorus does not keep:
 * every token is unknown. */
void api_teams_join_by_invite(api_request_t *r)
{
    const char *token = api_query_param(r, "token"), *invite_id = api_query_param(r, "invite_id");
    if (token != NULL && token[0] != '\0') {
        api_send_error(r, 400, "api.user.create_user.signup_link_invalid.app_error",
                       "The signup link does not appear to be valid.", NULL);
        return;
    }
    if (invite_id == NULL || invite_id[0] == '\0') {
        api_send_error(r, 400, "api.team.add_user_to_team.missing_parameter.app_error",
                       "Parameter required to add user to team.", NULL);
        return;
    }
    add_member_t *a = h2o_mem_alloc_pool(&r->req->pool, sizeof(*a));
    *a = (add_member_t){.user_id = r->session.user_id};
    r->state = a;
    const char *params[] = {invite_id};
    api_query(r, TEAM_SQL_BY_INVITE_ID, 1, params, on_invite_found);
}
