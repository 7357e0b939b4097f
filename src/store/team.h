/*
 * Teams and TeamMembers: the SQL and the row → Mattermost JSON mapping.
 *
 * A statement that returns a team or a member selects TEAM_COLUMNS(p) or
 * TEAM_MEMBER_COLUMNS(p) (p a table alias such as "t." or ""), and the row
 * goes through team_to_json or team_member_to_json from the column where
 * the list starts.  Columns the handler reads itself follow the list; each
 * statement's comment names its parameters and its result columns.
 */
#ifndef CHORUS_STORE_TEAM_H
#define CHORUS_STORE_TEAM_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

/* The 13 columns team_to_json reads, in its order. */
#define TEAM_COLUMNS(p)                                                                                                \
    p "Id, " p "CreateAt, " p "UpdateAt, " p "DeleteAt, " p "DisplayName, " p "Name, " p "Description, " p "Email, " p \
      "Type, " p "CompanyName, " p "AllowedDomains, " p "InviteId, " p "AllowOpenInvite"
#define TEAM_NCOLUMNS 13
/* Where Type and AllowOpenInvite sit in TEAM_COLUMNS (open: 'O' and true). */
#define TEAM_COLUMN_TYPE              8
#define TEAM_COLUMN_ALLOW_OPEN_INVITE 12

/* The 7 columns team_member_to_json reads, in its order. */
#define TEAM_MEMBER_COLUMNS(p) \
    p "TeamId, " p "UserId, " p "Roles, " p "DeleteAt, " p "SchemeUser, " p "SchemeAdmin, " p "CreateAt"
#define TEAM_MEMBER_NCOLUMNS 7

/* SQL: team member row `m` (a table alias) holds one of the roles named in
 * `names` (a text[] parameter: api_roles_granting's), through its scheme
 * roles (team_user, team_admin) or its explicit Roles. */
#define TEAM_MEMBER_GRANTS(m, names)                                                                      \
    "((" m ".SchemeUser AND 'team_user' = ANY(" names "::text[])) OR (" m ".SchemeAdmin AND 'team_admin'" \
    " = ANY(" names "::text[])) OR string_to_array(" m ".Roles, ' ') && " names "::text[])"

/* A new team with its creator as member and scheme admin, and the default
 * channels ("town-square", "off-topic") with the creator in them.  $1 the
 * creator (the team's Email is theirs), $2 the team id, $3 the time in ms,
 * $4 display name, $5 name, $6 description, $7 type, $8 company name,
 * $9 invite id, $10 allow_open_invite, $11 and $12 the two channels' ids,
 * $13 the members' NotifyProps.  Returns TEAM_COLUMNS; no row when the
 * creator is missing or deleted. */
#define TEAM_SQL_CREATE                                                                                     \
    "WITH u AS (SELECT Id, Email FROM Users WHERE Id = $1 AND DeleteAt = 0),"                               \
    " t AS (INSERT INTO Teams (Id, CreateAt, UpdateAt, DisplayName, Name, Description, Email, Type,"        \
    " CompanyName, InviteId, AllowOpenInvite)"                                                              \
    " SELECT $2, $3, $3, $4, $5, $6, u.Email, $7, $8, $9, $10 FROM u RETURNING " TEAM_COLUMNS(              \
        "") "),"                                                                                            \
            " tm AS (INSERT INTO TeamMembers (TeamId, UserId, SchemeUser, SchemeAdmin, CreateAt)"           \
            " SELECT t.Id, u.Id, true, true, $3 FROM t, u),"                                                \
            " ch AS (INSERT INTO Channels (Id, CreateAt, UpdateAt, TeamId, Type, DisplayName, Name)"        \
            " SELECT v.id, $3, $3, t.Id, 'O', v.display_name, v.name FROM t,"                               \
            " (VALUES ($11, 'Town Square', 'town-square'), ($12, 'Off-Topic', 'off-topic'))"                \
            " AS v (id, display_name, name) RETURNING Id),"                                                 \
            " cm AS (INSERT INTO ChannelMembers (ChannelId, UserId, NotifyProps, LastUpdateAt, SchemeUser," \
            " SchemeAdmin) SELECT ch.Id, u.Id, $13, $3, true, true FROM ch, u)"                             \
            " SELECT " TEAM_COLUMNS("") " FROM t"

/* A team and the caller's place in it.  $1 the team, $2 the caller.
 * Returns TEAM_COLUMNS, then whether the caller is an active member, then
 * whether they are its team admin; no row when there is no such team. */
#define TEAM_SQL_GET                                                 \
    "SELECT " TEAM_COLUMNS(                                          \
        "t.") ", tm.UserId IS NOT NULL AND tm.DeleteAt = 0,"         \
              " COALESCE(tm.SchemeAdmin AND tm.DeleteAt = 0, false)" \
              " FROM Teams t LEFT JOIN TeamMembers tm ON tm.TeamId = t.Id AND tm.UserId = $2 WHERE t.Id = $1"

/* The teams user $1 is an active member of, by display name.  Returns
 * TEAM_COLUMNS, then whether the user is the team's admin. */
#define TEAM_SQL_FOR_USER                                                             \
    "SELECT " TEAM_COLUMNS(                                                           \
        "t.") ", tm.SchemeAdmin FROM TeamMembers tm JOIN Teams t ON t.Id = tm.TeamId" \
              " WHERE tm.UserId = $1 AND tm.DeleteAt = 0 AND t.DeleteAt = 0 ORDER BY t.DisplayName, t.Id"

/* What adding user $3 to team $1 depends on, for caller $2.  One row: the
 * team exists (not deleted), it is open (type O and allow_open_invite), the
 * caller is an active member holding one of the roles in $4 (a text[]: those
 * granting add_user_to_team), the user exists. */
#define TEAM_SQL_MEMBER_ADD_CHECK                                                                   \
    "SELECT t.Id IS NOT NULL, COALESCE(t.AllowOpenInvite AND t.Type = 'O', false),"                 \
    " EXISTS (SELECT 1 FROM TeamMembers m WHERE m.TeamId = $1 AND m.UserId = $2 AND m.DeleteAt = 0" \
    " AND " TEAM_MEMBER_GRANTS("m", "$4") "),"                                                      \
                                          " EXISTS (SELECT 1 FROM Users WHERE Id = $3)"             \
                                          " FROM (SELECT 1) AS one LEFT JOIN Teams t ON t.Id = $1 AND t.DeleteAt = 0"

/* User $2 joins team $1 (JoinUserToTeam): a new member, or a removed one
 * active again, a scheme admin when the team's Email is theirs, and in the
 * team's default channels; an active member stays as it is.  $3 the time in
 * ms, $4 the channel members' NotifyProps.  Returns TEAM_MEMBER_COLUMNS,
 * then whether the membership is new; no row when the team or the user is
 * missing (or another request wrote the member after this one's snapshot). */
#define TEAM_SQL_MEMBER_ADD                                                                                         \
    "WITH tm AS (INSERT INTO TeamMembers (TeamId, UserId, Roles, DeleteAt, SchemeUser, SchemeAdmin, CreateAt)"      \
    " SELECT t.Id, u.Id, '', 0, true, t.Email = u.Email, $3 FROM Teams t, Users u"                                  \
    " WHERE t.Id = $1 AND t.DeleteAt = 0 AND u.Id = $2"                                                             \
    " ON CONFLICT (TeamId, UserId) DO UPDATE SET Roles = '', DeleteAt = 0, SchemeUser = true,"                      \
    " SchemeAdmin = EXCLUDED.SchemeAdmin, CreateAt = EXCLUDED.CreateAt WHERE TeamMembers.DeleteAt <> 0"             \
    " RETURNING " TEAM_MEMBER_COLUMNS(                                                                              \
        "") "),"                                                                                                    \
            " cm AS (INSERT INTO ChannelMembers (ChannelId, UserId, NotifyProps, LastUpdateAt, SchemeUser, "        \
            "SchemeAdmin)"                                                                                          \
            " SELECT c.Id, tm.UserId, $4, $3, true, tm.SchemeAdmin FROM tm JOIN Channels c ON c.TeamId = tm.TeamId" \
            " AND c.Name IN ('town-square', 'off-topic') AND c.Type = 'O' AND c.DeleteAt = 0"                       \
            " ON CONFLICT (ChannelId, UserId) DO NOTHING),"                                                         \
            " uu AS (UPDATE Users SET UpdateAt = $3 WHERE Id IN (SELECT UserId FROM tm))"                           \
            " SELECT " TEAM_MEMBER_COLUMNS("") ", true FROM tm"                                                     \
                                               " UNION ALL SELECT " TEAM_MEMBER_COLUMNS(                            \
                                                   "") ", false FROM TeamMembers"                                   \
                                                       " WHERE TeamId = $1 AND UserId = $2 AND DeleteAt = 0"

/* Active member $2 of team $1: TEAM_MEMBER_COLUMNS, or no row. */
#define TEAM_SQL_MEMBER_GET \
    "SELECT " TEAM_MEMBER_COLUMNS("") " FROM TeamMembers WHERE TeamId = $1 AND UserId = $2 AND DeleteAt = 0"

/* Every team membership of user $1, left ones too (GetTeamsForUser with
 * deleted members), by team id: TEAM_MEMBER_COLUMNS. */
#define TEAM_SQL_MEMBERS_FOR_USER \
    "SELECT " TEAM_MEMBER_COLUMNS("") " FROM TeamMembers WHERE UserId = $1 ORDER BY TeamId"

/* Team $1 and whether caller $2 is an active member of it (the access
 * check).  Returns Id, DeleteAt, member; no row when there is no such team. */
#define TEAM_SQL_ACCESS                                                               \
    "SELECT t.Id, t.DeleteAt, tm.UserId IS NOT NULL AND tm.DeleteAt = 0 FROM Teams t" \
    " LEFT JOIN TeamMembers tm ON tm.TeamId = t.Id AND tm.UserId = $2 WHERE t.Id = $1"

/* A TEAM_COLUMNS row from column `col` as Mattermost's Team; `sanitize`
 * blanks email and invite_id (callers that may not manage the team:
 * Team.Sanitize). */
json_t *team_to_json(const PGresult *res, int row, int col, bool sanitize);
/* A TEAM_MEMBER_COLUMNS row from column `col` as Mattermost's TeamMember. */
json_t *team_member_to_json(const PGresult *res, int row, int col);

/* A team or channel member's effective roles as Mattermost reports them:
 * the scheme roles ("<kind>_user", "<kind>_admin", kind "team" or
 * "channel") first, then the explicit ones. */
json_t *member_roles_json(const char *kind, bool scheme_user, bool scheme_admin, const char *explicit_roles);

#endif
