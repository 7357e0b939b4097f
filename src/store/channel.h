/*
 * Channels and ChannelMembers: the SQL and the row → Mattermost JSON mapping.
 *
 * A statement that returns a channel or a member selects CHANNEL_COLUMNS(p)
 * or CHANNEL_MEMBER_COLUMNS(p) (p a table alias such as "c." or ""), and the
 * row goes through channel_to_json or channel_member_to_json from the column
 * where the list starts.  Columns the handler reads itself follow the list;
 * each statement's comment names its parameters and its result columns.
 */
#ifndef CHORUS_STORE_CHANNEL_H
#define CHORUS_STORE_CHANNEL_H

#include <jansson.h>
#include <libpq-fe.h>

#include "store/team.h"

/* The 15 columns channel_to_json reads, in its order. */
#define CHANNEL_COLUMNS(p)                                                                                       \
    p "Id, " p "CreateAt, " p "UpdateAt, " p "DeleteAt, " p "TeamId, " p "Type, " p "DisplayName, " p "Name, " p \
      "Header, " p "Purpose, " p "LastPostAt, " p "TotalMsgCount, " p "CreatorId, " p "TotalMsgCountRoot, " p    \
      "LastRootPostAt"
#define CHANNEL_NCOLUMNS 15

/* The 13 columns channel_member_to_json reads, in its order. */
#define CHANNEL_MEMBER_COLUMNS(p)                                                                                     \
    p "ChannelId, " p "UserId, " p "Roles, " p "LastViewedAt, " p "MsgCount, " p "MentionCount, " p "NotifyProps, " p \
      "LastUpdateAt, " p "SchemeUser, " p "SchemeAdmin, " p "MsgCountRoot, " p "MentionCountRoot, " p                 \
      "UrgentMentionCount"
#define CHANNEL_MEMBER_NCOLUMNS 13

/* NotifyProps of a new channel member (Mattermost's defaults), as JSON: the
 * parameter every statement that adds channel members takes. */
#define CHANNEL_NOTIFY_PROPS_DEFAULT                                                               \
    "{\"desktop\":\"default\",\"email\":\"default\",\"mark_unread\":\"all\",\"push\":\"default\"," \
    "\"ignore_channel_mentions\":\"default\",\"channel_auto_follow_threads\":\"off\"}"

/* The role names a channel membership `m` (an alias, NULL when there is
 * none) holds, space-separated: its scheme roles and its explicit ones. */
#define CHANNEL_MEMBER_ROLES(m)                                                                      \
    "concat_ws(' ', CASE WHEN " m ".SchemeUser THEN 'channel_user' END, CASE WHEN " m ".SchemeAdmin" \
    " THEN 'channel_admin' END, NULLIF(" m ".Roles, ''))"
/* The same for an active team membership `m`. */
#define CHANNEL_TEAM_ROLES(m)                                                                           \
    "CASE WHEN " m ".DeleteAt = 0 THEN concat_ws(' ', CASE WHEN " m ".SchemeUser THEN 'team_user' END," \
    " CASE WHEN " m ".SchemeAdmin THEN 'team_admin' END, NULLIF(" m ".Roles, '')) ELSE '' END"

/* An open or private channel with its creator as member and channel admin,
 * in a team whose membership grants the creator the permission to create it
 * (or any team when their system roles do).  $1 the channel id, $2 the team,
 * $3 the time in ms, $4 type, $5 display name, $6 name, $7 header,
 * $8 purpose, $9 the creator, $10 the creator's system roles grant the
 * permission, $11 the member's NotifyProps, $12 the roles that grant it (a
 * text[]: TEAM_MEMBER_GRANTS).  Returns CHANNEL_COLUMNS; no row when the
 * team is missing or its membership does not grant it. */
#define CHANNEL_SQL_CREATE                                                                                            \
    "WITH t AS (SELECT Id FROM Teams WHERE Id = $2 AND DeleteAt = 0 AND ($10::boolean OR EXISTS"                      \
    " (SELECT 1 FROM TeamMembers tm WHERE tm.TeamId = $2 AND tm.UserId = $9 AND tm.DeleteAt = 0"                      \
    " AND " TEAM_MEMBER_GRANTS(                                                                                       \
        "tm",                                                                                                         \
        "$12") "))),"                                                                                                 \
               " c AS (INSERT INTO Channels (Id, CreateAt, UpdateAt, TeamId, Type, DisplayName, Name, Header, "       \
               "Purpose,"                                                                                             \
               " CreatorId) SELECT $1, $3, $3, t.Id, $4, $5, $6, $7, $8, $9 FROM t"                                   \
               " RETURNING " CHANNEL_COLUMNS(                                                                         \
                   "") "),"                                                                                           \
                       " m AS (INSERT INTO ChannelMembers (ChannelId, UserId, NotifyProps, LastUpdateAt, SchemeUser," \
                       " SchemeAdmin) SELECT c.Id, $9, $11, $3, true, true FROM c)"                                   \
                       " SELECT " CHANNEL_COLUMNS("") " FROM c"

/* The direct channel of users $2 and $3 (the same user for one's own), with
 * both as members, or the one already there.  $1 the channel id, $4 the time
 * in ms, $5 its name ("<smaller id>__<larger id>"), $6 how many distinct
 * users ("1" or "2"), $7 the members' NotifyProps.  Returns CHANNEL_COLUMNS;
 * no row when a user is missing, or when another request created the
 * channel after this one's snapshot. */
#define CHANNEL_SQL_CREATE_DIRECT                                                                          \
    "WITH u AS (SELECT count(*) AS n FROM Users WHERE Id IN ($2, $3)),"                                    \
    " c AS (INSERT INTO Channels (Id, CreateAt, UpdateAt, TeamId, Type, DisplayName, Name, CreatorId)"     \
    " SELECT $1, $4, $4, '', 'D', '', $5, $2 FROM u WHERE u.n = $6::bigint"                                \
    " ON CONFLICT (Name, TeamId) DO NOTHING RETURNING " CHANNEL_COLUMNS(                                   \
        "") "),"                                                                                           \
            " m AS (INSERT INTO ChannelMembers (ChannelId, UserId, NotifyProps, LastUpdateAt, SchemeUser," \
            " SchemeAdmin) SELECT c.Id, x.id, $7, $4, true, false FROM c,"                                 \
            " (SELECT DISTINCT unnest(ARRAY[$2, $3]::varchar[]) AS id) AS x)"                              \
            " SELECT " CHANNEL_COLUMNS("") " FROM c"                                                       \
                                           " UNION ALL SELECT " CHANNEL_COLUMNS(                           \
                                               "") " FROM Channels WHERE Name = $5 AND TeamId = ''"

/* The direct channel named $1: CHANNEL_COLUMNS, or no row. */
#define CHANNEL_SQL_GET_DIRECT "SELECT " CHANNEL_COLUMNS("") " FROM Channels WHERE Name = $1 AND TeamId = ''"

/* Channel $1: CHANNEL_COLUMNS, or no row. */
#define CHANNEL_SQL_GET "SELECT " CHANNEL_COLUMNS("") " FROM Channels WHERE Id = $1"

/* Channel $1 and caller $2's memberships (the access check).  Returns Id,
 * Type, TeamId, DeleteAt, whether the caller is a member of the channel,
 * whether they are an active member of its team, Name, DisplayName, the
 * caller's channel roles and team roles (CHANNEL_MEMBER_ROLES,
 * CHANNEL_TEAM_ROLES); no row when there is no such channel. */
#define CHANNEL_SQL_ACCESS                                                                                           \
    "SELECT c.Id, c.Type, c.TeamId, c.DeleteAt, cm.UserId IS NOT NULL,"                                              \
    " tm.UserId IS NOT NULL AND tm.DeleteAt = 0, c.Name, c.DisplayName, " CHANNEL_MEMBER_ROLES(                      \
        "cm") ", " CHANNEL_TEAM_ROLES("tm") " FROM Channels c"                                                       \
                                            " LEFT JOIN ChannelMembers cm ON cm.ChannelId = c.Id AND cm.UserId = $2" \
                                            " LEFT JOIN TeamMembers tm ON tm.TeamId = c.TeamId AND tm.UserId = $2"   \
                                            " WHERE c.Id = $1"

/* A page of channel $1's members by user id: $2 the limit, $3 the offset.
 * Returns CHANNEL_MEMBER_COLUMNS. */
#define CHANNEL_SQL_MEMBERS_PAGE                                                     \
    "SELECT " CHANNEL_MEMBER_COLUMNS("") " FROM ChannelMembers WHERE ChannelId = $1" \
                                         " ORDER BY UserId LIMIT $2::bigint OFFSET $3::bigint"

/* What adding user $3 to channel $1 depends on, for caller $2, with the
 * channel of root post $4 ("" for none).  One row: the channel's Type and
 * DeleteAt (NULL when it is missing), the caller is a member of it, the
 * caller is an active member of its team, the user exists, the user's
 * TeamMembers.DeleteAt in its team (NULL when never a member), the user is
 * a member of it, the root post's ChannelId (NULL when missing). */
#define CHANNEL_SQL_MEMBER_ADD_CHECK                                                                \
    "SELECT c.Type, c.DeleteAt,"                                                                    \
    " EXISTS (SELECT 1 FROM ChannelMembers WHERE ChannelId = c.Id AND UserId = $2),"                \
    " EXISTS (SELECT 1 FROM TeamMembers WHERE TeamId = c.TeamId AND UserId = $2 AND DeleteAt = 0)," \
    " EXISTS (SELECT 1 FROM Users WHERE Id = $3),"                                                  \
    " (SELECT DeleteAt FROM TeamMembers WHERE TeamId = c.TeamId AND UserId = $3),"                  \
    " EXISTS (SELECT 1 FROM ChannelMembers WHERE ChannelId = c.Id AND UserId = $3),"                \
    " (SELECT ChannelId FROM Posts WHERE Id = $4 AND DeleteAt = 0)"                                 \
    " FROM (SELECT 1) AS one LEFT JOIN Channels c ON c.Id = $1"

/* User $2 joins channel $1 unless a member already, as long as the channel
 * is not deleted and the user is an active member of its team.  $3 the
 * member's NotifyProps, $4 the time in ms.  Returns CHANNEL_MEMBER_COLUMNS,
 * then whether the membership is new, then the channel's TeamId; no row when
 * the user is not (or no longer) in the team, or the channel is gone. */
#define CHANNEL_SQL_MEMBER_ADD                                                                           \
    "WITH ins AS (INSERT INTO ChannelMembers (ChannelId, UserId, NotifyProps, LastUpdateAt, SchemeUser," \
    " SchemeAdmin) SELECT c.Id, $2::varchar, $3, $4, true, false FROM Channels c WHERE c.Id = $1"        \
    " AND c.DeleteAt = 0"                                                                                \
    " AND EXISTS (SELECT 1 FROM TeamMembers tm WHERE tm.TeamId = c.TeamId AND tm.UserId = $2"            \
    " AND tm.DeleteAt = 0)"                                                                              \
    " ON CONFLICT (ChannelId, UserId) DO NOTHING RETURNING " CHANNEL_MEMBER_COLUMNS(                     \
        "") ")"                                                                                          \
            " SELECT " CHANNEL_MEMBER_COLUMNS(                                                           \
                "") ", true, (SELECT TeamId FROM Channels WHERE Id = $1)"                                \
                    " FROM ins"                                                                          \
                    " UNION ALL SELECT " CHANNEL_MEMBER_COLUMNS(                                         \
                        "") ", false,"                                                                   \
                            " (SELECT TeamId FROM Channels WHERE Id = $1) FROM ChannelMembers"           \
                            " WHERE ChannelId = $1 AND UserId = $2"

/* User $1's channels in team $2 and their direct channels, by display name,
 * for caller $4: a system admin ($3) or an active member of the team sees
 * them.  $5 include deleted channels, $6 only those deleted since then (ms;
 * 0 for all).  Rows: whether the caller may see them, then CHANNEL_COLUMNS
 * from column 1, NULL when there is none to see (one row then). */
#define CHANNEL_SQL_FOR_TEAM_FOR_USER                                                                      \
    "WITH p AS (SELECT $3::boolean OR EXISTS (SELECT 1 FROM TeamMembers WHERE TeamId = $2 AND UserId = $4" \
    " AND DeleteAt = 0) AS ok)"                                                                            \
    " SELECT p.ok, ch.* FROM p LEFT JOIN LATERAL (SELECT " CHANNEL_COLUMNS(                                \
        "c.") " FROM Channels c"                                                                           \
              " JOIN ChannelMembers cm ON cm.ChannelId = c.Id AND cm.UserId = $1"                          \
              " WHERE p.ok AND (c.TeamId = $2 OR c.TeamId = '') AND (c.DeleteAt = 0"                       \
              " OR ($5::boolean AND ($6::bigint = 0 OR c.DeleteAt >= $6::bigint)))) AS ch ON true"         \
              " ORDER BY ch.DisplayName, ch.Id"

/* User $1's channel members in team $2 and in their direct and group
 * channels (GetMembersForUser), for caller $4: a system admin ($3) or an
 * active member of the team sees them.  Rows: whether the caller may, then
 * CHANNEL_MEMBER_COLUMNS from column 1, NULL when there is none to see (one
 * row then). */
#define CHANNEL_SQL_MEMBERS_FOR_TEAM_FOR_USER                                                              \
    "WITH p AS (SELECT $3::boolean OR EXISTS (SELECT 1 FROM TeamMembers WHERE TeamId = $2 AND UserId = $4" \
    " AND DeleteAt = 0) AS ok)"                                                                            \
    " SELECT p.ok, cm.* FROM p LEFT JOIN LATERAL (SELECT " CHANNEL_MEMBER_COLUMNS(                         \
        "m.") " FROM ChannelMembers m JOIN Channels c ON c.Id = m.ChannelId"                               \
              " WHERE p.ok AND m.UserId = $1 AND (c.TeamId = $2 OR c.TeamId = '')) AS cm ON true"          \
              " ORDER BY cm.ChannelId"

/* User $1's channel members in every team, by channel id, with their team's
 * DisplayName, Name and UpdateAt ('', '', 0 for direct and group channels:
 * ChannelMemberWithTeamData): $2 the limit (NULL for all), $3 the offset.
 * Returns CHANNEL_MEMBER_COLUMNS then those three. */
#define CHANNEL_SQL_MEMBERS_FOR_USER                                                                              \
    "SELECT " CHANNEL_MEMBER_COLUMNS(                                                                             \
        "m.") ", COALESCE(t.DisplayName, ''), COALESCE(t.Name, ''), COALESCE(t.UpdateAt, 0)"                      \
              " FROM ChannelMembers m JOIN Channels c ON c.Id = m.ChannelId LEFT JOIN Teams t ON t.Id = c.TeamId" \
              " WHERE m.UserId = $1 ORDER BY m.ChannelId LIMIT $2::bigint OFFSET $3::bigint"

/* User $1's channels in every team, by id (GetChannelsForUser): $2 include
 * deleted channels, $3 only those deleted since then (ms; 0 for all).
 * Returns CHANNEL_COLUMNS. */
#define CHANNEL_SQL_FOR_USER                                                                                       \
    "SELECT " CHANNEL_COLUMNS("c.") " FROM Channels c JOIN ChannelMembers m ON m.ChannelId = c.Id"                 \
                                    " WHERE m.UserId = $1 AND (c.DeleteAt = 0 OR ($2::boolean AND ($3::bigint = 0" \
                                    " OR c.DeleteAt >= $3::bigint))) ORDER BY c.Id"

/* Channel $1's statistics: its members whose account is active, its pinned
 * posts (not deleted; idx_posts_channel_id_pinned finds them). */
#define CHANNEL_SQL_STATS                                                           \
    "SELECT (SELECT count(*) FROM ChannelMembers m JOIN Users u ON u.Id = m.UserId" \
    " WHERE m.ChannelId = $1 AND u.DeleteAt = 0),"                                  \
    " (SELECT count(*) FROM Posts WHERE ChannelId = $1 AND IsPinned AND DeleteAt = 0)"

/* Only the pinned posts of CHANNEL_SQL_STATS, when the member count is known. */
#define CHANNEL_SQL_PINNED_COUNT "SELECT count(*) FROM Posts WHERE ChannelId = $1 AND IsPinned AND DeleteAt = 0"

/* A CHANNEL_COLUMNS row from column `col` as Mattermost's Channel. */
json_t *channel_to_json(const PGresult *res, int row, int col);
/* A CHANNEL_MEMBER_COLUMNS row from column `col` as Mattermost's ChannelMember. */
json_t *channel_member_to_json(const PGresult *res, int row, int col);

#endif
