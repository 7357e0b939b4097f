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
 * $13 the members' NotifyProps.  Returns TEAM_COLUMNS, then the ids of
 * town-square and off-topic (for the creator's join posts); no row when the
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
            " AS v (id, display_name, name) RETURNING Id, Name),"                                           \
            " cm AS (INSERT INTO ChannelMembers (ChannelId, UserId, NotifyProps, LastUpdateAt, SchemeUser," \
            " SchemeAdmin) SELECT ch.Id, u.Id, $13, $3, true, true FROM ch, u)"                             \
            " SELECT " TEAM_COLUMNS("") ", (SELECT Id FROM ch WHERE Name = 'town-square'),"                 \
                                        " (SELECT Id FROM ch WHERE Name = 'off-topic') FROM t"

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

/* SQL: the id of team $1's open default channel `name`, or NULL. */
#define TEAM_DEFAULT_CHANNEL(name) \
    "(SELECT Id FROM Channels WHERE TeamId = $1 AND Name = '" name "' AND Type = 'O' AND DeleteAt = 0)"

/* User $2 joins team $1 (JoinUserToTeam): a new member, or a removed one
 * active again, a scheme admin when the team's Email is theirs, and in the
 * team's default channels; an active member stays as it is.  $3 the time in
 * ms, $4 the channel members' NotifyProps, $5 TeamSettings.MaxUsersPerTeam:
 * a team whose active members (active users) already number $5 takes no
 * one more.  Returns TEAM_MEMBER_COLUMNS, whether the membership is new,
 * whether the team was full (a full team's row is NULLs and true), then the
 * ids of the team's open town-square and off-topic (NULL when there is none:
 * the join posts'); no row when the team or the user is missing (or another
 * request wrote the member after this one's snapshot). */
#define TEAM_SQL_MEMBER_ADD                                                                                            \
    "WITH n AS (SELECT count(*) >= $5::bigint AS full FROM TeamMembers m JOIN Users mu ON mu.Id = m.UserId"            \
    " WHERE m.TeamId = $1 AND m.DeleteAt = 0 AND mu.DeleteAt = 0),"                                                    \
    " tm AS (INSERT INTO TeamMembers (TeamId, UserId, Roles, DeleteAt, SchemeUser, SchemeAdmin, CreateAt)"             \
    " SELECT t.Id, u.Id, '', 0, true, t.Email = u.Email, $3 FROM Teams t, Users u, n"                                  \
    " WHERE t.Id = $1 AND t.DeleteAt = 0 AND u.Id = $2 AND NOT n.full"                                                 \
    " ON CONFLICT (TeamId, UserId) DO UPDATE SET Roles = '', DeleteAt = 0, SchemeUser = true,"                         \
    " SchemeAdmin = EXCLUDED.SchemeAdmin, CreateAt = EXCLUDED.CreateAt WHERE TeamMembers.DeleteAt <> 0"                \
    " RETURNING " TEAM_MEMBER_COLUMNS(                                                                                 \
        "") "),"                                                                                                       \
            " cm AS (INSERT INTO ChannelMembers (ChannelId, UserId, NotifyProps, LastUpdateAt, SchemeUser, "           \
            "SchemeAdmin)"                                                                                             \
            " SELECT c.Id, tm.UserId, $4, $3, true, tm.SchemeAdmin FROM tm JOIN Channels c ON c.TeamId = tm.TeamId"    \
            " AND c.Name IN ('town-square', 'off-topic') AND c.Type = 'O' AND c.DeleteAt = 0"                          \
            " ON CONFLICT (ChannelId, UserId) DO NOTHING),"                                                            \
            " uu AS (UPDATE Users SET UpdateAt = $3 WHERE Id IN (SELECT UserId FROM tm))"                              \
            " SELECT x.*, " TEAM_DEFAULT_CHANNEL("town-square") ", " TEAM_DEFAULT_CHANNEL(                             \
                "off-topic") " FROM ("                                                                                 \
                             " SELECT " TEAM_MEMBER_COLUMNS(                                                           \
                                 "") ", true, false FROM tm"                                                           \
                                     " UNION ALL SELECT " TEAM_MEMBER_COLUMNS(                                         \
                                         "") ", false, false FROM TeamMembers"                                         \
                                             " WHERE TeamId = $1 AND UserId = $2 AND DeleteAt = 0"                     \
                                             " UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, false, "     \
                                             "true FROM n WHERE n.full"                                                \
                                             " AND EXISTS (SELECT 1 FROM Teams WHERE Id = $1 AND DeleteAt = 0) AND "   \
                                             "EXISTS (SELECT 1 FROM Users"                                             \
                                             " WHERE Id = $2) AND NOT EXISTS (SELECT 1 FROM TeamMembers WHERE TeamId " \
                                             "= $1 AND UserId = $2"                                                    \
                                             " AND DeleteAt = 0)) AS x"

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

/* SQL: a team member row `m`'s effective roles as one space-separated text
 * (scheme roles first, as member_roles_json writes them); '' for no row. */
#define TEAM_MEMBER_ROLES(m)                                                                                    \
    "COALESCE(concat_ws(' ', CASE WHEN " m ".SchemeUser THEN 'team_user' END, CASE WHEN " m ".SchemeAdmin THEN" \
    " 'team_admin' END, NULLIF(" m ".Roles, '')), '')"

/* Team $1 (by id) and caller $2's place in it: TEAM_COLUMNS, then the
 * caller's team roles (TEAM_MEMBER_ROLES: '' for no active membership),
 * then whether the caller is an active member; no row for no such team
 * (deleted teams included). */
#define TEAM_SQL_WITH_CALLER                                                     \
    "SELECT " TEAM_COLUMNS("t.") ", " TEAM_MEMBER_ROLES(                         \
        "tm") ", tm.UserId IS NOT NULL FROM Teams t"                             \
              " LEFT JOIN TeamMembers tm ON tm.TeamId = t.Id AND tm.UserId = $2" \
              " AND tm.DeleteAt = 0 WHERE t.Id = $1"
/* TEAM_SQL_WITH_CALLER for the team named $1. */
#define TEAM_SQL_BY_NAME_WITH_CALLER                                             \
    "SELECT " TEAM_COLUMNS("t.") ", " TEAM_MEMBER_ROLES(                         \
        "tm") ", tm.UserId IS NOT NULL FROM Teams t"                             \
              " LEFT JOIN TeamMembers tm ON tm.TeamId = t.Id AND tm.UserId = $2" \
              " AND tm.DeleteAt = 0 WHERE t.Name = $1"

/* A page of every team, deleted ones too (GetAllPage), by display name.
 * $1 '' for any team, 't' or 'f' for those whose AllowOpenInvite is that;
 * $2 the limit, $3 the offset, $4 the caller.  Returns TEAM_COLUMNS, then
 * the caller's team roles (TEAM_MEMBER_ROLES). */
#define TEAM_SQL_LIST                                                                  \
    "SELECT " TEAM_COLUMNS("t.") ", " TEAM_MEMBER_ROLES(                               \
        "tm") " FROM Teams t"                                                          \
              " LEFT JOIN TeamMembers tm ON tm.TeamId = t.Id AND tm.UserId = $4"       \
              " AND tm.DeleteAt = 0 WHERE ($1 = '' OR t.AllowOpenInvite = ($1 = 't'))" \
              " ORDER BY t.DisplayName, t.Id LIMIT $2 OFFSET $3"
/* How many teams TEAM_SQL_LIST's filter $1 holds, deleted ones left out
 * (AnalyticsTeamCount): one row, one count. */
#define TEAM_SQL_COUNT "SELECT count(*) FROM Teams WHERE DeleteAt = 0 AND ($1 = '' OR AllowOpenInvite = ($1 = 't'))"

/* Team $1's editable fields (Team.Patch, then PreUpdate): $2 the time in
 * ms, $3 display name, $4 description, $5 company name, $6 allowed domains,
 * $7 allow_open_invite ('t'/'f'); each NULL keeps the stored value.  Type
 * and AllowOpenInvite stay in sync as Mattermost keeps them: an invite-only
 * team never allows open invites, and a team that does not is invite-only.
 * $8 a new invite id, or NULL to keep it.  Returns TEAM_COLUMNS; no row for
 * no such team. */
#define TEAM_SQL_UPDATE                                                                               \
    "UPDATE Teams SET UpdateAt = $2, DisplayName = COALESCE($3, DisplayName),"                        \
    " Description = COALESCE($4, Description), CompanyName = COALESCE($5, CompanyName),"              \
    " AllowedDomains = COALESCE($6, AllowedDomains),"                                                 \
    " AllowOpenInvite = COALESCE($7::boolean, AllowOpenInvite) AND Type <> 'I',"                      \
    " Type = CASE WHEN COALESCE($7::boolean, AllowOpenInvite) AND Type <> 'I' THEN 'O' ELSE 'I' END," \
    " InviteId = COALESCE($8, InviteId) WHERE Id = $1 RETURNING " TEAM_COLUMNS("")

/* Team $1's privacy (UpdateTeamPrivacy): Type $2 ('O' or 'I') and
 * AllowOpenInvite $3; a change towards invite-only ($3 false or $2 'I')
 * takes the new invite id $4, as Mattermost forces one; $5 the time in ms.
 * Returns TEAM_COLUMNS; no row for no such team. */
#define TEAM_SQL_SET_PRIVACY                                                                                  \
    "UPDATE Teams SET InviteId = CASE WHEN (AllowOpenInvite <> $3::boolean OR Type <> $2)"                    \
    " AND (NOT $3::boolean OR $2 = 'I') THEN $4 ELSE InviteId END, Type = $2, AllowOpenInvite = $3::boolean," \
    " UpdateAt = $5::bigint WHERE Id = $1 RETURNING " TEAM_COLUMNS("")

/* Team $1 gets invite id $2 (RegenerateTeamInviteId) at time $3 (ms).
 * Returns TEAM_COLUMNS; no row for no such team. */
#define TEAM_SQL_SET_INVITE_ID \
    "UPDATE Teams SET InviteId = $2, UpdateAt = $3::bigint WHERE Id = $1 RETURNING " TEAM_COLUMNS("")

/* SQL: '%' $1 '%' as a LIKE pattern, $1's own \ % _ escaped. */
#define TEAM_TERM_PATTERN "('%' || replace(replace(replace($1, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%')"
/* Teams whose Name or DisplayName holds term $1 (any case; % and _ are
 * plain characters, as sanitizeSearchTerm makes them), deleted ones too,
 * by display name (SearchAll's teamSearchQuery).  $2 allow_open_invite (''
 * no filter, 't', 'f'), $3 group_constrained (likewise: no team here is
 * group constrained, so 't' matches none and 'f' every one); the two
 * filters are ORed, as Mattermost builds them.  $4 '' or the Type every
 * team must have; $5 the limit (NULL: all), $6 the offset; $7 the caller.
 * Rows: TEAM_COLUMNS, the caller's team roles (TEAM_MEMBER_ROLES), then how
 * many teams match in all; a page past the last team is one row of NULLs
 * and the count. */
#define TEAM_SQL_SEARCH                                                                                               \
    "WITH m AS (SELECT " TEAM_COLUMNS(                                                                                \
        "t.") " FROM Teams t"                                                                                         \
              " WHERE (t.Name ILIKE " TEAM_TERM_PATTERN " OR t.DisplayName ILIKE " TEAM_TERM_PATTERN ")"              \
              " AND ($2 = '' AND $3 = '' OR ($2 = 't' AND t.AllowOpenInvite) OR ($2 = 'f' AND NOT t.AllowOpenInvite)" \
              " OR $3 = 'f') AND ($4 = '' OR t.Type = $4))"                                                           \
              " SELECT p.*, n.n FROM (SELECT count(*) AS n FROM m) AS n LEFT JOIN LATERAL (SELECT " TEAM_COLUMNS(     \
                  "m.") ", " TEAM_MEMBER_ROLES("tm") " FROM m LEFT JOIN TeamMembers tm ON tm.TeamId = m.Id AND "      \
                                                     "tm.UserId = $7"                                                 \
                                                     " AND tm.DeleteAt = 0 ORDER BY m.DisplayName, m.Id LIMIT "       \
                                                     "$5::bigint OFFSET $6::bigint) AS p ON true"

/* Soft-deletes (DeleteAt $2, the time in ms) or restores ($2 = 0) team $1;
 * $3 the time in ms.  Returns TEAM_COLUMNS; no row for no such team. */
#define TEAM_SQL_SET_DELETED "UPDATE Teams SET DeleteAt = $2, UpdateAt = $3 WHERE Id = $1 RETURNING " TEAM_COLUMNS("")

/* Team $1 and everything in it, for good (PermanentDeleteTeam): its
 * channels with their posts, members and sidebar places, the sidebar
 * categories of the team, its members.  Returns TEAM_COLUMNS as the team
 * was; no row for no such team. */
#define TEAM_SQL_DELETE_PERMANENTLY                                                                      \
    "WITH ch AS (SELECT Id FROM Channels WHERE TeamId = $1),"                                            \
    " p AS (DELETE FROM Posts WHERE ChannelId IN (SELECT Id FROM ch)),"                                  \
    " cm AS (DELETE FROM ChannelMembers WHERE ChannelId IN (SELECT Id FROM ch)),"                        \
    " sch AS (DELETE FROM SidebarChannels WHERE ChannelId IN (SELECT Id FROM ch)"                        \
    " OR CategoryId IN (SELECT Id FROM SidebarCategories WHERE TeamId = $1)),"                           \
    " sca AS (DELETE FROM SidebarCategories WHERE TeamId = $1),"                                         \
    " c AS (DELETE FROM Channels WHERE TeamId = $1), tm AS (DELETE FROM TeamMembers WHERE TeamId = $1)," \
    " t AS (DELETE FROM Teams WHERE Id = $1 RETURNING " TEAM_COLUMNS("") ") SELECT * FROM t"

/* Team $1's member counts (GetTotalMemberCount, GetActiveMemberCount): its
 * active members, and those of them whose account is not deactivated. */
#define TEAM_SQL_STATS                                                            \
    "SELECT count(*), count(*) FILTER (WHERE u.DeleteAt = 0) FROM TeamMembers tm" \
    " JOIN Users u ON u.Id = tm.UserId WHERE tm.TeamId = $1 AND tm.DeleteAt = 0"

/* A page of team $1's active members: $2 the limit, $3 the offset, $4 't'
 * to order by username (else by user id), $5 't' to leave deactivated
 * accounts out.  Returns TEAM_MEMBER_COLUMNS. */
#define TEAM_SQL_MEMBERS                                                                    \
    "SELECT " TEAM_MEMBER_COLUMNS(                                                          \
        "tm.") " FROM TeamMembers tm JOIN Users u ON u.Id = tm.UserId WHERE tm.TeamId = $1" \
               " AND tm.DeleteAt = 0 AND (NOT $5::boolean OR u.DeleteAt = 0)"               \
               " ORDER BY CASE WHEN $4::boolean THEN u.Username END, tm.UserId LIMIT $2 OFFSET $3"

/* Team $1's active members among the users in $2 (a JSON array of
 * strings), by user id: TEAM_MEMBER_COLUMNS. */
#define TEAM_SQL_MEMBERS_BY_IDS                                                              \
    "SELECT " TEAM_MEMBER_COLUMNS("") " FROM TeamMembers WHERE TeamId = $1 AND DeleteAt = 0" \
                                      " AND UserId IN (SELECT jsonb_array_elements_text($2::jsonb)) ORDER BY UserId"

/* Member $2 of team $1, a removed one too (GetMember): TEAM_MEMBER_COLUMNS,
 * or no row. */
#define TEAM_SQL_MEMBER_GET_ANY "SELECT " TEAM_MEMBER_COLUMNS("") " FROM TeamMembers WHERE TeamId = $1 AND UserId = $2"

/* What an action of caller $2 on user $3's membership of team $1 depends
 * on.  One row: the team exists, the caller's team roles
 * (TEAM_MEMBER_ROLES), the user exists, the user has a membership (a
 * removed one too). */
#define TEAM_SQL_MEMBER_CHECK                                                                      \
    "SELECT t.Id IS NOT NULL, COALESCE((SELECT " TEAM_MEMBER_ROLES(                                \
        "c") " FROM TeamMembers c WHERE c.TeamId = $1 AND c.UserId = $2 AND c.DeleteAt = 0), '')," \
             " EXISTS (SELECT 1 FROM Users WHERE Id = $3),"                                        \
             " EXISTS (SELECT 1 FROM TeamMembers m WHERE m.TeamId = $1 AND m.UserId = $3)"         \
             " FROM (SELECT 1) AS one LEFT JOIN Teams t ON t.Id = $1"

/* User $2 leaves team $1 (LeaveTeam): the membership is removed (DeleteAt
 * $3, the time in ms, and no explicit roles), the user leaves every channel
 * of the team, and its sidebar and team preferences there go.  Returns the
 * user id, then the id of the team's town-square (NULL when there is none:
 * the leave post's channel); no row when there was no membership. */
#define TEAM_SQL_MEMBER_REMOVE                                                                              \
    "WITH tm AS (UPDATE TeamMembers SET Roles = '', DeleteAt = $3 WHERE TeamId = $1 AND UserId = $2"        \
    " RETURNING UserId),"                                                                                   \
    " cm AS (DELETE FROM ChannelMembers WHERE UserId IN (SELECT UserId FROM tm)"                            \
    " AND ChannelId IN (SELECT Id FROM Channels WHERE TeamId = $1)),"                                       \
    " sch AS (DELETE FROM SidebarChannels WHERE UserId IN (SELECT UserId FROM tm)"                          \
    " AND CategoryId IN (SELECT Id FROM SidebarCategories WHERE UserId = $2 AND TeamId = $1)),"             \
    " sca AS (DELETE FROM SidebarCategories WHERE UserId IN (SELECT UserId FROM tm) AND TeamId = $1),"      \
    " pr AS (DELETE FROM Preferences WHERE UserId IN (SELECT UserId FROM tm) AND Category = $1),"           \
    " uu AS (UPDATE Users SET UpdateAt = $3 WHERE Id IN (SELECT UserId FROM tm))"                           \
    " SELECT UserId, (SELECT Id FROM Channels WHERE TeamId = $1 AND Name = 'town-square' AND DeleteAt = 0)" \
    " FROM tm"

/* Member $2 of team $1 gets explicit roles $3 and scheme roles user $4 and
 * admin $5 ('t'/'f').  Returns TEAM_MEMBER_COLUMNS; no row for no such
 * member. */
#define TEAM_SQL_MEMBER_SET_ROLES                                                            \
    "UPDATE TeamMembers SET Roles = $3, SchemeUser = $4, SchemeAdmin = $5 WHERE TeamId = $1" \
    " AND UserId = $2 RETURNING " TEAM_MEMBER_COLUMNS("")

/* The team whose invite id is $1, not deleted: its Id, or no row. */
#define TEAM_SQL_BY_INVITE_ID "SELECT Id FROM Teams WHERE InviteId = $1 AND DeleteAt = 0"

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

/* IsValidTeamName: 2 or more lowercase letters and digits, with inner
 * hyphens, or one inner "__" and no hyphen. */
bool team_name_valid(const char *name);

#endif
