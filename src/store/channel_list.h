/*
 * Channels of a team as the apps browse them: the public ones, the archived
 * ones, by name, search and autocomplete, by ids.  Each statement checks the
 * caller's team permission itself (CHANNEL_TEAM_OK: the system roles' answer
 * or the team membership's roles), so a role patched a moment ago counts,
 * and answers "ok" in its first column, then the channels (NULL when there
 * is none to see, one row then).  Columns and JSON are store/channel.h's.
 */
#ifndef CHORUS_STORE_CHANNEL_LIST_H
#define CHORUS_STORE_CHANNEL_LIST_H

#include "store/channel.h"

/* p.ok: the system roles grant it ($2), or caller $3's active membership of
 * team $1 holds one of the roles $4 (a text[]) granting it. */
#define CHANNEL_TEAM_OK                                                                          \
    "WITH p AS (SELECT $2::boolean OR EXISTS (SELECT 1 FROM TeamMembers tm WHERE tm.TeamId = $1" \
    " AND tm.UserId = $3 AND tm.DeleteAt = 0 AND " TEAM_MEMBER_GRANTS("tm", "$4") ") AS ok)"

/* $1..$4 as CHANNEL_TEAM_OK, then the channels `where` selects from
 * Channels c, by display name; `tail` ends the inner query (a LIMIT). */
#define CHANNEL_TEAM_LIST(where, tail)                                                                         \
    CHANNEL_TEAM_OK " SELECT p.ok, ch.* FROM p LEFT JOIN LATERAL (SELECT " CHANNEL_COLUMNS(                    \
        "c.") " FROM Channels c WHERE p.ok AND c.TeamId = $1 AND " where " ORDER BY c.DisplayName, c.Id " tail \
              ") AS ch ON true ORDER BY ch.DisplayName, ch.Id"

/* Whether caller $3 is a member of channel c. */
#define CHANNEL_CALLER_IN_C "EXISTS (SELECT 1 FROM ChannelMembers cm WHERE cm.ChannelId = c.Id AND cm.UserId = $3)"

/* `term` made a LIKE pattern's literal text. */
#define CHANNEL_LIKE_TEXT(term) "replace(replace(replace(" term ", '\\', '\\\\'), '%', '\\%'), '_', '\\_')"

/* Team $1's open channels, not archived (list_team_channels): $5 the
 * limit, $6 the offset. */
#define CHANNEL_SQL_TEAM_PUBLIC \
    CHANNEL_TEAM_LIST("c.Type = 'O' AND c.DeleteAt = 0", "LIMIT $5::bigint OFFSET $6::bigint")

/* Team $1's archived channels (list_team_channels): the open ones, and the
 * private ones caller $3 is in (all of them with $7: manage_system); $5 the
 * limit, $6 the offset. */
#define CHANNEL_SQL_TEAM_DELETED                                                                                    \
    CHANNEL_TEAM_LIST("c.DeleteAt <> 0 AND (c.Type = 'O' OR (c.Type = 'P' AND ($7::boolean OR " CHANNEL_CALLER_IN_C \
                      ")))",                                                                                        \
                      "LIMIT $5::bigint OFFSET $6::bigint")

/* Autocomplete in team $1 (list_team_channels): its open channels and the
 * private ones caller $3 is in, not archived, whose name or a word of whose
 * display name starts with $5; 50 at most. */
#define CHANNEL_SQL_TEAM_AUTOCOMPLETE                                                                      \
    CHANNEL_TEAM_LIST(                                                                                     \
        "c.DeleteAt = 0 AND (c.Type = 'O' OR (c.Type = 'P' AND " CHANNEL_CALLER_IN_C "))"                  \
        " AND (c.Name ILIKE " CHANNEL_LIKE_TEXT("$5") " || '%' OR c.DisplayName ILIKE " CHANNEL_LIKE_TEXT( \
            "$5") " || '%' OR c.DisplayName ILIKE '% ' || " CHANNEL_LIKE_TEXT("$5") " || '%')",            \
        "LIMIT 50")

/* Search in team $1 for $5 in names, display names and purposes: with
 * list_team_channels (p.ok) its open channels, archived ones too; else the
 * channels caller $3 is in, when an active member of the team.  Rows:
 * p.ok, whether the caller is an active member of the team, then
 * CHANNEL_COLUMNS from column 2 (NULL when none); 100 at most. */
#define CHANNEL_SQL_TEAM_SEARCH                                                                                    \
    CHANNEL_TEAM_OK ", mem AS (SELECT EXISTS (SELECT 1 FROM TeamMembers WHERE TeamId = $1"                         \
                    " AND UserId = $3 AND DeleteAt = 0) AS ok)"                                                    \
                    " SELECT p.ok, mem.ok, ch.* FROM p CROSS JOIN mem LEFT JOIN LATERAL (SELECT " CHANNEL_COLUMNS( \
                        "c.") " FROM Channels c WHERE c.TeamId = $1 AND " CHANNEL_SEARCH_WHO                       \
                              " AND " CHANNEL_SEARCH_MATCH                                                         \
                              " ORDER BY c.DisplayName, c.Id LIMIT 100) AS ch ON true ORDER BY ch.DisplayName, ch.Id"
/* Whom the search shows which channels. */
#define CHANNEL_SEARCH_WHO \
    "((p.ok AND c.Type = 'O') OR (NOT p.ok AND mem.ok AND c.DeleteAt = 0 AND " CHANNEL_CALLER_IN_C "))"
/* $5 in the channel's name, display name or purpose. */
#define CHANNEL_SEARCH_PATTERN "'%' || " CHANNEL_LIKE_TEXT("$5") " || '%'"
#define CHANNEL_SEARCH_MATCH                                                                  \
    "(c.Name ILIKE " CHANNEL_SEARCH_PATTERN " OR c.DisplayName ILIKE " CHANNEL_SEARCH_PATTERN \
    " OR c.Purpose ILIKE " CHANNEL_SEARCH_PATTERN ")"

/* Team $1's open channels among ids $5 (a text[]), not archived (view_team). */
#define CHANNEL_SQL_TEAM_BY_IDS CHANNEL_TEAM_LIST("c.Type = 'O' AND c.DeleteAt = 0 AND c.Id = ANY($5::varchar[])", "")

/* A channel by name $3 in team $1, or (with $1 NULL) in the team named $2,
 * archived too with $4, and caller $5's roles in it.  One row: whether the
 * team named $2 exists, CHANNEL_COLUMNS from column 1 (NULL when no such
 * channel), then the caller's channel roles and team roles. */
#define CHANNEL_SQL_BY_NAME                                                                                            \
    "SELECT t.Id IS NOT NULL, " CHANNEL_COLUMNS("c.") ", " CHANNEL_MEMBER_ROLES("cm") ", " CHANNEL_TEAM_ROLES(         \
        "tm") " FROM (SELECT 1) AS one LEFT JOIN Teams t ON t.Name = $2"                                               \
              " LEFT JOIN Channels c ON c.TeamId = COALESCE($1, t.Id) AND c.Name = $3 AND ($4::boolean OR c.DeleteAt " \
              "= 0)"                                                                                                   \
              " LEFT JOIN ChannelMembers cm ON cm.ChannelId = c.Id AND cm.UserId = $5"                                 \
              " LEFT JOIN TeamMembers tm ON tm.TeamId = c.TeamId AND tm.UserId = $5"

#endif
