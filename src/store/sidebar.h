/*
 * SidebarCategories and SidebarChannels: each user's channel sidebar per
 * team, as Mattermost keeps it, the SQL and the row → JSON mapping.
 *
 * A category is favorites, channels, direct_messages (one of each per user
 * and team, made when first asked for, with the ids
 * "<type>_<user id>_<team id>") or custom.  SidebarChannels holds the
 * channels a user placed, in order; the channels category also lists, first
 * and by display name, every open or private channel of the team the user
 * is a member of and has placed nowhere in that team, and direct_messages
 * the same of the user's direct and group channels.  A placed channel the
 * user is no longer a member of is not listed.
 *
 * Every statement that returns categories selects SIDEBAR_CATEGORY_COLUMNS(p)
 * (p a table alias with its dot, "k.") and the row goes through
 * sidebar_category_to_json from the column where the list starts.  Bodies
 * arrive as JSON text parameters ($n::jsonb) that the handler has checked
 * and normalized: every field present with its type.
 */
#ifndef CHORUS_STORE_SIDEBAR_H
#define CHORUS_STORE_SIDEBAR_H

#include <jansson.h>
#include <libpq-fe.h>

#include "store/channel.h"

/* Mattermost's MinimalSidebarSortDistance: sort orders go 0, 10, 20... */
#define SIDEBAR_SORT_DISTANCE "10"

/* The channel ids of category row p (Id, UserId, TeamId, Type) as a JSON
 * array: the derived ones first (channels and direct_messages), then the
 * placed ones by SortOrder. */
#define SIDEBAR_CHANNEL_IDS(p)                                                                                \
    "(SELECT COALESCE(json_agg(u.Id ORDER BY u.g, u.o, u.n, u.Id), '[]') FROM ("                              \
    " SELECT c.Id, 0 AS g, 0::bigint AS o, c.DisplayName AS n"                                                \
    " FROM ChannelMembers cm JOIN Channels c ON c.Id = cm.ChannelId"                                          \
    " WHERE cm.UserId = " p "UserId AND c.DeleteAt = 0"                                                       \
    " AND ((" p "Type = 'channels' AND c.Type IN ('O', 'P') AND c.TeamId = " p "TeamId)"                      \
    " OR (" p "Type = 'direct_messages' AND c.Type IN ('D', 'G')))"                                           \
    " AND NOT EXISTS (SELECT 1 FROM SidebarChannels s JOIN SidebarCategories sk ON sk.Id = s.CategoryId"      \
    " WHERE s.ChannelId = c.Id AND sk.UserId = " p "UserId AND sk.TeamId = " p "TeamId)"                      \
    " UNION ALL SELECT s.ChannelId, 1, s.SortOrder, '' FROM SidebarChannels s WHERE s.CategoryId = " p "Id"   \
    " AND EXISTS (SELECT 1 FROM ChannelMembers m WHERE m.ChannelId = s.ChannelId AND m.UserId = " p "UserId)" \
    ") AS u)"

/* The 10 columns sidebar_category_to_json reads, in its order. */
#define SIDEBAR_CATEGORY_COLUMNS(p)                                                                             \
    p "Id, " p "UserId, " p "TeamId, " p "SortOrder, " p "Sorting, " p "Type, " p "DisplayName, " p "Muted, " p \
      "Collapsed, " SIDEBAR_CHANNEL_IDS(p)
#define SIDEBAR_CATEGORY_NCOLUMNS 10

/* The categories of user $1 in team $2 by SortOrder, while the user is an
 * active member of the team and the team is not deleted: rows of
 * SIDEBAR_CATEGORY_COLUMNS. */
#define SIDEBAR_SQL_FOR_TEAM                                        \
    "SELECT " SIDEBAR_CATEGORY_COLUMNS(                             \
        "k.") " FROM SidebarCategories k"                           \
              " JOIN Teams t ON t.Id = k.TeamId AND t.DeleteAt = 0" \
              " JOIN TeamMembers tm ON tm.TeamId = k.TeamId"        \
              " AND tm.UserId = k.UserId AND tm.DeleteAt = 0"       \
              " WHERE k.UserId = $1::varchar AND k.TeamId = $2::varchar ORDER BY k.SortOrder, k.Id"

/* Creates the default categories of user $1 in team $2 that are missing
 * (Mattermost's createInitialSidebarCategories: favorites 0, channels 10,
 * direct_messages 20 sorted by recency) while the user is an active member
 * of the team, the channels its favorite_channel preferences name in
 * favorites, and returns the user's categories there (their channel ids as
 * this statement's snapshot saw them: read SIDEBAR_SQL_FOR_TEAM after it). */
#define SIDEBAR_SQL_CREATE_DEFAULTS                                                                                    \
    "WITH m AS (SELECT 1 FROM TeamMembers tm JOIN Teams t ON t.Id = tm.TeamId AND t.DeleteAt = 0"                      \
    " WHERE tm.TeamId = $2::varchar AND tm.UserId = $1::varchar AND tm.DeleteAt = 0),"                                 \
    " d (type, name, ord, sorting) AS (VALUES ('favorites', 'Favorites', 0, ''),"                                      \
    " ('channels', 'Channels', 10, ''), ('direct_messages', 'Direct Messages', 20, 'recent')),"                        \
    " ins AS (INSERT INTO SidebarCategories (Id, UserId, TeamId, SortOrder, Sorting, Type, DisplayName, Muted,"        \
    " Collapsed) SELECT d.type || '_' || $1::varchar || '_' || $2::varchar, $1::varchar, $2::varchar, d.ord, "         \
    "d.sorting, d.type, d.name, false, false"                                                                          \
    " FROM d, m WHERE NOT EXISTS (SELECT 1 FROM SidebarCategories e WHERE e.UserId = $1::varchar AND e.TeamId = "      \
    "$2::varchar"                                                                                                      \
    " AND e.Type = d.type) ON CONFLICT (Id) DO NOTHING"                                                                \
    " RETURNING Id, UserId, TeamId, SortOrder, Sorting, Type, DisplayName, Muted, Collapsed),"                         \
    " favs AS (INSERT INTO SidebarChannels (ChannelId, UserId, CategoryId, SortOrder)"                                 \
    " SELECT c.Id, $1::varchar, i.Id, (row_number() OVER (ORDER BY c.DisplayName, c.Id) - 1) * " SIDEBAR_SORT_DISTANCE \
    " FROM ins i JOIN Preferences p ON p.UserId = $1::varchar AND p.Category = 'favorite_channel' AND p.Value = "      \
    "'true'"                                                                                                           \
    " JOIN Channels c ON c.Id = p.Name AND (c.TeamId = $2::varchar OR c.TeamId = '')"                                  \
    " JOIN ChannelMembers cm ON cm.ChannelId = c.Id AND cm.UserId = $1::varchar"                                       \
    " WHERE i.Type = 'favorites' ON CONFLICT (ChannelId, UserId, CategoryId) DO NOTHING),"                             \
    " k AS (SELECT * FROM ins UNION ALL SELECT e.Id, e.UserId, e.TeamId, e.SortOrder, e.Sorting, e.Type,"              \
    " e.DisplayName, e.Muted, e.Collapsed FROM SidebarCategories e, m WHERE e.UserId = $1::varchar AND e.TeamId = "    \
    "$2::varchar)"                                                                                                     \
    " SELECT " SIDEBAR_CATEGORY_COLUMNS("k.") " FROM k ORDER BY k.SortOrder, k.Id"

/* Category $1: SIDEBAR_CATEGORY_COLUMNS, or no row. */
#define SIDEBAR_SQL_GET "SELECT " SIDEBAR_CATEGORY_COLUMNS("k.") " FROM SidebarCategories k WHERE k.Id = $1::varchar"

/* Whose category $1 is: UserId, TeamId; or no row. */
#define SIDEBAR_SQL_OWNER "SELECT UserId, TeamId FROM SidebarCategories WHERE Id = $1::varchar"

/* The categories $1 (a JSON array of ids) of user $2 in team $3, in the
 * array's order: rows of SIDEBAR_CATEGORY_COLUMNS. */
#define SIDEBAR_SQL_BY_IDS                                                                \
    "SELECT " SIDEBAR_CATEGORY_COLUMNS("k.") " FROM jsonb_array_elements_text($1::jsonb)" \
                                             " WITH ORDINALITY AS w (id, ord)"            \
                                             " JOIN SidebarCategories k ON k.Id = w.id"   \
                                             " WHERE k.UserId = $2::varchar AND k.TeamId = $3::varchar ORDER BY w.ord"

/* The ids of user $1's categories in team $2, by SortOrder. */
#define SIDEBAR_SQL_ORDER \
    "SELECT Id FROM SidebarCategories WHERE UserId = $1::varchar AND TeamId = $2::varchar ORDER BY SortOrder, Id"

/* The channels a user may place in a team's sidebar (Mattermost's
 * GetChannelsForTeamForUser with deleted ones): their channels of team
 * $3 and their direct and group channels, for user $2.  A CTE named mine. */
#define SIDEBAR_SQL_MINE                                                                         \
    "mine AS (SELECT cm.ChannelId FROM ChannelMembers cm JOIN Channels c ON c.Id = cm.ChannelId" \
    " WHERE cm.UserId = $2::varchar AND (c.TeamId = $3::varchar OR c.TeamId = ''))"

/* A custom category of user $2 in team $3 (CreateSidebarCategory): id $1,
 * $4 sorting, $5 display name, $6 muted, $7 its channels (a JSON array of
 * ids; those the user may not place are dropped, repeats kept once).  It
 * goes right after favorites when favorites comes first, else first; the
 * categories are renumbered 0, 10, 20...; its channels leave the user's
 * other categories of the team.  Nothing is written unless the user has a
 * channel to place and has categories in the team.  One row: the user has a
 * channel to place, then SIDEBAR_CATEGORY_COLUMNS of the new category's row
 * (NULL when not created) with the kept channels as channel ids. */
#define SIDEBAR_SQL_CREATE                                                                                             \
    "WITH " SIDEBAR_SQL_MINE ","                                                                                       \
    " req AS (SELECT x.id, min(x.ord) AS ord FROM jsonb_array_elements_text($7::jsonb) WITH ORDINALITY"                \
    " AS x (id, ord) WHERE x.id IN (SELECT ChannelId FROM mine) GROUP BY x.id),"                                       \
    " cats AS (SELECT k.Id, k.Type, row_number() OVER (ORDER BY k.SortOrder, k.Id) AS pos"                             \
    " FROM SidebarCategories k JOIN Teams t ON t.Id = k.TeamId AND t.DeleteAt = 0"                                     \
    " JOIN TeamMembers tm ON tm.TeamId = k.TeamId AND tm.UserId = k.UserId AND tm.DeleteAt = 0"                        \
    " WHERE k.UserId = $2::varchar AND k.TeamId = $3::varchar),"                                                       \
    " head AS (SELECT Type = 'favorites' AS fav FROM cats WHERE pos = 1 AND EXISTS (SELECT 1 FROM mine)),"             \
    " ins AS (INSERT INTO SidebarCategories (Id, UserId, TeamId, SortOrder, Sorting, Type, DisplayName, Muted,"        \
    " Collapsed) SELECT $1::varchar, $2::varchar, $3::varchar, CASE WHEN head.fav THEN " SIDEBAR_SORT_DISTANCE         \
    " ELSE 0 END, $4::varchar,"                                                                                        \
    " 'custom', $5::varchar, $6::boolean, false FROM head"                                                             \
    " RETURNING Id, UserId, TeamId, SortOrder, Sorting, Type, DisplayName, Muted, Collapsed),"                         \
    " favs AS (INSERT INTO SidebarChannels (ChannelId, UserId, CategoryId, SortOrder)"                                 \
    " SELECT c.Id, $1::varchar, i.Id, (row_number() OVER (ORDER BY c.DisplayName, c.Id) - 1) * " SIDEBAR_SORT_DISTANCE \
    " FROM ins i JOIN Preferences p ON p.UserId = $1::varchar AND p.Category = 'favorite_channel' AND p.Value = "      \
    "'true'"                                                                                                           \
    " JOIN Channels c ON c.Id = p.Name AND (c.TeamId = $2::varchar OR c.TeamId = '')"                                  \
    " JOIN ChannelMembers cm ON cm.ChannelId = c.Id AND cm.UserId = $1::varchar"                                       \
    " WHERE i.Type = 'favorites' ON CONFLICT (ChannelId, UserId, CategoryId) DO NOTHING),"                             \
    " renumber AS (UPDATE SidebarCategories k SET SortOrder = CASE WHEN head.fav AND c.pos = 1 THEN 0"                 \
    " ELSE c.pos * " SIDEBAR_SORT_DISTANCE " END FROM cats c, head WHERE k.Id = c.Id),"                                \
    " moved AS (DELETE FROM SidebarChannels s USING SidebarCategories k, head WHERE s.CategoryId = k.Id"               \
    " AND s.UserId = $2::varchar AND k.TeamId = $3::varchar AND s.ChannelId IN (SELECT id FROM req)),"                 \
    " placed AS (INSERT INTO SidebarChannels (ChannelId, UserId, CategoryId, SortOrder)"                               \
    " SELECT req.id, $2::varchar, $1::varchar, (row_number() OVER (ORDER BY req.ord) - 1) * " SIDEBAR_SORT_DISTANCE    \
    " FROM req, head)"                                                                                                 \
    " SELECT EXISTS (SELECT 1 FROM mine), ins.Id, ins.UserId, ins.TeamId, ins.SortOrder, ins.Sorting,"                 \
    " ins.Type, ins.DisplayName, ins.Muted, ins.Collapsed,"                                                            \
    " (SELECT COALESCE(json_agg(id ORDER BY ord), '[]') FROM req)"                                                     \
    " FROM (SELECT 1) AS one LEFT JOIN ins ON true"

/* SIDEBAR_SQL_UPDATE's muting, CTEs over its src (the categories updated)
 * and want (where their channels go): kcat the user's categories as they
 * were, orig the category each channel of the user was listed in (placed,
 * or its home: channels, or direct_messages for a direct or group channel),
 * moved where it is listed afterwards (a channel an updated category drops
 * goes home), mutes what it becomes (NULL: unchanged), muted the members
 * written. */
#define SIDEBAR_MUTE_CTES                                                                                          \
    "kcat AS (SELECT Id, Type, Muted FROM SidebarCategories WHERE UserId = $2::varchar AND TeamId = $3::varchar)," \
    " orig AS (SELECT o.ch, COALESCE(o.placed, h.Id) AS cat, h.Id AS home FROM (SELECT m.ChannelId AS ch,"         \
    " CASE WHEN c.Type IN ('D', 'G') THEN 'direct_messages' ELSE 'channels' END AS home_type,"                     \
    " (SELECT sc.CategoryId FROM SidebarChannels sc JOIN kcat ON kcat.Id = sc.CategoryId"                          \
    " WHERE sc.ChannelId = m.ChannelId AND sc.UserId = $2::varchar ORDER BY sc.CategoryId LIMIT 1) AS placed"      \
    " FROM mine m JOIN Channels c ON c.Id = m.ChannelId) AS o LEFT JOIN kcat h ON h.Type = o.home_type),"          \
    " moved AS (SELECT o.ch, o.cat AS was, COALESCE((SELECT w.cat FROM want w WHERE w.ch = o.ch"                   \
    " ORDER BY w.cat LIMIT 1), CASE WHEN o.cat IN (SELECT Id FROM src) THEN o.home ELSE o.cat END) AS now"         \
    " FROM orig o),"                                                                                               \
    " mutes AS (SELECT m.ch, CASE"                                                                                 \
    " WHEN m.now IN (SELECT Id FROM src) AND nw.muted AND NOT nk.Muted THEN true"                                  \
    " WHEN m.now IN (SELECT Id FROM src) AND NOT nw.muted AND nk.Muted THEN false"                                 \
    " WHEN m.now <> m.was AND nw.muted AND NOT wk.Muted THEN true"                                                 \
    " WHEN m.now <> m.was AND NOT nw.muted AND wk.Muted THEN false END AS mute"                                    \
    " FROM moved m JOIN kcat nk ON nk.Id = m.now JOIN kcat wk ON wk.Id = m.was"                                    \
    " CROSS JOIN LATERAL (SELECT COALESCE((SELECT CASE WHEN s.Type = 'direct_messages' THEN nk.Muted"              \
    " ELSE (s.v->>'muted')::boolean END FROM src s WHERE s.Id = m.now), nk.Muted) AS muted) AS nw),"               \
    " muted AS (UPDATE ChannelMembers cm SET NotifyProps = cm.NotifyProps || jsonb_build_object('mark_unread',"    \
    " CASE WHEN x.mute THEN 'mention' ELSE 'all' END), LastUpdateAt = $4::bigint FROM mutes x"                     \
    " WHERE x.mute IS NOT NULL AND cm.ChannelId = x.ch AND cm.UserId = $2::varchar"                                \
    " AND (COALESCE(cm.NotifyProps->>'mark_unread', '') = 'mention') <> x.mute RETURNING cm.ChannelId)"

/* The members of user $1 in channels $2 (a JSON array of ids), by channel:
 * CHANNEL_MEMBER_COLUMNS. */
#define SIDEBAR_SQL_MUTED_MEMBERS                                                                          \
    "SELECT " CHANNEL_MEMBER_COLUMNS("") " FROM ChannelMembers WHERE UserId = $1::varchar"                 \
                                         " AND ChannelId IN (SELECT jsonb_array_elements_text($2::jsonb))" \
                                         " ORDER BY ChannelId"

/* Updates categories of user $2 in team $3 (UpdateSidebarCategories): $1 a
 * JSON array of {id, display_name, sorting, muted, collapsed, channel_ids},
 * the last one of an id winning.  Sorting and collapsed change on every
 * category, display_name on custom ones, muted and the placed channels
 * (those the user may place, in the given order) on all but
 * direct_messages; a category's placed channels are exactly the given ones
 * afterwards; the channels favorites gains or loses set or delete their
 * favorite_channel preference, as Mattermost keeps both in step.  The
 * user's channels follow the categories' muting
 * (muteChannelsForUpdatedCategories): a channel listed in a category the
 * update mutes or unmutes, or moved from a category into one muted
 * otherwise, gets notify prop mark_unread "mention" (muted) or "all", at
 * time $4 (ms).  Nothing is written unless every id is a category of the
 * user in the team and the user has a channel to place.  One row: how many
 * entries, how many of them name a category of the user in the team,
 * whether the user has a channel to place, the ids of the channels muted or
 * unmuted (a JSON array). */
#define SIDEBAR_SQL_UPDATE                                                                                          \
    "WITH " SIDEBAR_SQL_MINE ","                                                                                    \
    " r AS (SELECT e.v, e.ord FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e (v, ord)),"                 \
    " found AS (SELECT count(*) AS n FROM r JOIN SidebarCategories k ON k.Id = r.v->>'id'"                          \
    " AND k.UserId = $2::varchar AND k.TeamId = $3::varchar),"                                                      \
    " go AS (SELECT 1 WHERE (SELECT n FROM found) = (SELECT count(*) FROM r) AND EXISTS (SELECT 1 FROM mine)),"     \
    " src AS (SELECT DISTINCT ON (k.Id) k.Id, k.Type, r.v FROM r JOIN SidebarCategories k ON k.Id = r.v->>'id'"     \
    " WHERE EXISTS (SELECT 1 FROM go) ORDER BY k.Id, r.ord DESC),"                                                  \
    " want AS (SELECT s.Id AS cat, x.id AS ch,"                                                                     \
    " (row_number() OVER (PARTITION BY s.Id ORDER BY min(x.ord)) - 1) * " SIDEBAR_SORT_DISTANCE " AS ord"           \
    " FROM src s CROSS JOIN LATERAL jsonb_array_elements_text(s.v->'channel_ids') WITH ORDINALITY AS x (id, ord)"   \
    " WHERE s.Type <> 'direct_messages' AND x.id IN (SELECT ChannelId FROM mine) GROUP BY s.Id, x.id),"             \
    " upd AS (UPDATE SidebarCategories k SET"                                                                       \
    " DisplayName = CASE WHEN k.Type = 'custom' THEN s.v->>'display_name' ELSE k.DisplayName END,"                  \
    " Sorting = s.v->>'sorting',"                                                                                   \
    " Muted = CASE WHEN k.Type = 'direct_messages' THEN k.Muted ELSE (s.v->>'muted')::boolean END,"                 \
    " Collapsed = (s.v->>'collapsed')::boolean FROM src s WHERE k.Id = s.Id),"                                      \
    " unplaced AS (DELETE FROM SidebarChannels c USING src s WHERE c.CategoryId = s.Id"                             \
    " AND NOT EXISTS (SELECT 1 FROM want w WHERE w.cat = c.CategoryId AND w.ch = c.ChannelId AND c.UserId = "       \
    "$2::varchar))"                                                                                                 \
    " , placed AS (INSERT INTO SidebarChannels (ChannelId, UserId, CategoryId, SortOrder)"                          \
    " SELECT w.ch, $2::varchar, w.cat, w.ord FROM want w ON CONFLICT (ChannelId, UserId, CategoryId)"               \
    " DO UPDATE SET SortOrder = excluded.SortOrder)"                                                                \
    " , fav_now AS (SELECT w.ch FROM want w JOIN src s ON s.Id = w.cat WHERE s.Type = 'favorites'),"                \
    " fav_before AS (SELECT c.ChannelId AS ch FROM SidebarChannels c JOIN src s ON s.Id = c.CategoryId"             \
    " WHERE s.Type = 'favorites' AND c.UserId = $2::varchar),"                                                      \
    " fav_on AS (INSERT INTO Preferences (UserId, Category, Name, Value)"                                           \
    " SELECT $2::varchar, 'favorite_channel', ch, 'true' FROM fav_now"                                              \
    " ON CONFLICT (UserId, Category, Name) DO UPDATE SET Value = 'true'),"                                          \
    " fav_off AS (DELETE FROM Preferences p WHERE p.UserId = $2::varchar AND p.Category = 'favorite_channel'"       \
    " AND p.Name IN (SELECT ch FROM fav_before) AND p.Name NOT IN (SELECT ch FROM fav_now))"                        \
    " , " SIDEBAR_MUTE_CTES " SELECT (SELECT count(*) FROM r), (SELECT n FROM found), EXISTS (SELECT 1 FROM mine)," \
    " (SELECT COALESCE(json_agg(ChannelId ORDER BY ChannelId), '[]') FROM muted)"

/* Orders the categories of user $2 in team $3 as $1 (a JSON array of
 * ids): 0, 10, 20... when $1 names each of them once; $4 the caller may
 * name other users' categories (a system admin).  One row: every id of $1
 * is a category of the user in the team, $1 names each of them (and no
 * other). */
#define SIDEBAR_SQL_ORDER_UPDATE                                                                               \
    "WITH w AS (SELECT x.id, x.ord FROM jsonb_array_elements_text($1::jsonb) WITH ORDINALITY AS x (id, ord))," \
    " cur AS (SELECT Id FROM SidebarCategories WHERE UserId = $2::varchar AND TeamId = $3::varchar),"          \
    " chk AS (SELECT NOT EXISTS (SELECT 1 FROM w WHERE w.id NOT IN (SELECT Id FROM cur)) AS owned,"            \
    " (SELECT count(*) FROM w) = (SELECT count(*) FROM cur)"                                                   \
    " AND NOT EXISTS (SELECT 1 FROM cur WHERE Id NOT IN (SELECT id FROM w)) AS same),"                         \
    " upd AS (UPDATE SidebarCategories k SET SortOrder = (w.ord - 1) * " SIDEBAR_SORT_DISTANCE                 \
    " FROM w, chk WHERE k.Id = w.id AND chk.same AND (chk.owned OR $4::boolean))"                              \
    " SELECT owned, same FROM chk"

/* Deletes category $1 when it is custom and, unless $4 (a system admin),
 * of user $2 in team $3, with its placed channels (which go back to the
 * channels and direct_messages categories).  One row: its UserId, TeamId,
 * Type and whether it was deleted; no row when there is no such category. */
#define SIDEBAR_SQL_DELETE                                                                       \
    "WITH k AS (SELECT Id, UserId, TeamId, Type FROM SidebarCategories WHERE Id = $1::varchar)," \
    " d AS (DELETE FROM SidebarCategories c USING k WHERE c.Id = k.Id AND k.Type = 'custom'"     \
    " AND ($4::boolean OR (k.UserId = $2::varchar AND k.TeamId = $3::varchar)) RETURNING c.Id)," \
    " dc AS (DELETE FROM SidebarChannels WHERE CategoryId IN (SELECT Id FROM d))"                \
    " SELECT k.UserId, k.TeamId, k.Type, EXISTS (SELECT 1 FROM d) FROM k"

/* A SIDEBAR_CATEGORY_COLUMNS row from column `col` as Mattermost's
 * SidebarCategoryWithChannels. */
json_t *sidebar_category_to_json(const PGresult *res, int row, int col);

#endif
