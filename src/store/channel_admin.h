/*
 * Channels: the statements that change a channel itself (patch and update,
 * archive and restore, privacy) and that make a group channel.  Columns and
 * JSON are store/channel.h's.
 */
#ifndef CHORUS_STORE_CHANNEL_ADMIN_H
#define CHORUS_STORE_CHANNEL_ADMIN_H

#include "store/channel.h"

/* Channel $1's DisplayName $2, Name $3, Header $4, Purpose $5 (each NULL to
 * keep it) and Type $6 (NULL to keep it), at time $7 (ms).  Returns
 * CHANNEL_COLUMNS, then the DisplayName, Header and Purpose it had (for the
 * system posts naming them); no row when the channel is gone. */
#define CHANNEL_SQL_UPDATE                                                                                      \
    "WITH old AS (SELECT Id, DisplayName, Header, Purpose FROM Channels WHERE Id = $1 FOR UPDATE)"              \
    " UPDATE Channels c SET DisplayName = COALESCE($2, c.DisplayName), Name = COALESCE($3, c.Name),"            \
    " Header = COALESCE($4, c.Header), Purpose = COALESCE($5, c.Purpose), Type = COALESCE($6, c.Type),"         \
    " UpdateAt = $7::bigint FROM old WHERE c.Id = old.Id RETURNING " CHANNEL_COLUMNS("c.") ", old.DisplayName," \
                                                                                           " old.Header, old.Purpose"

/* Archives channel $1 at time $2 (ms) unless archived already.  Returns its
 * Id; no row when it was. */
#define CHANNEL_SQL_ARCHIVE \
    "UPDATE Channels SET DeleteAt = $2::bigint, UpdateAt = $2::bigint WHERE Id = $1 AND DeleteAt = 0 RETURNING Id"

/* Channel $1 and everything in it, for good (PermanentDeleteChannel): its
 * posts, its members and their sidebar places.  Returns its Id; no row when
 * it was gone already. */
#define CHANNEL_SQL_DELETE_PERMANENTLY                         \
    "WITH p AS (DELETE FROM Posts WHERE ChannelId = $1),"      \
    " m AS (DELETE FROM ChannelMembers WHERE ChannelId = $1)," \
    " s AS (DELETE FROM SidebarChannels WHERE ChannelId = $1)" \
    " DELETE FROM Channels WHERE Id = $1 RETURNING Id"

/* Restores archived channel $1 at time $2 (ms).  Returns CHANNEL_COLUMNS; no
 * row when it is not archived (any more). */
#define CHANNEL_SQL_RESTORE                                                                    \
    "UPDATE Channels SET DeleteAt = 0, UpdateAt = $2::bigint WHERE Id = $1 AND DeleteAt <> 0 " \
    "RETURNING " CHANNEL_COLUMNS("")

/* The group channel of users $2 (a text[] of distinct ids, sorted), named
 * $4 (Mattermost's GetGroupNameFromUserIds), with them all as members, or
 * the one already there.  $1 the channel id, $3 the time in ms, $5 the
 * members' NotifyProps.  Its DisplayName is the usernames, sorted, joined
 * by ", " and cut at 64 characters (GetGroupDisplayNameFromUsers).  One
 * row: how many of the users exist, then CHANNEL_COLUMNS (NULL when a user
 * is missing, or another request made the channel after this snapshot),
 * then whether this statement made it. */
#define CHANNEL_SQL_CREATE_GROUP                                                                                     \
    "WITH u AS (SELECT Id, Username FROM Users WHERE Id = ANY($2::varchar[])),"                                      \
    " n AS (SELECT count(*) AS n, left(string_agg(Username, ', ' ORDER BY Username), 64) AS dn FROM u),"             \
    " c AS (INSERT INTO Channels (Id, CreateAt, UpdateAt, TeamId, Type, DisplayName, Name, CreatorId)"               \
    " SELECT $1, $3, $3, '', 'G', n.dn, $4, '' FROM n WHERE n.n = cardinality($2::varchar[])"                        \
    " ON CONFLICT (Name, TeamId) DO NOTHING RETURNING " CHANNEL_COLUMNS(                                             \
        "") "),"                                                                                                     \
            " m AS (INSERT INTO ChannelMembers (ChannelId, UserId, NotifyProps, LastUpdateAt, SchemeUser,"           \
            " SchemeAdmin) SELECT c.Id, u.Id, $5, $3, true, false FROM c, u)"                                        \
            " SELECT n.n, x.* FROM n LEFT JOIN LATERAL (SELECT " CHANNEL_COLUMNS(                                    \
                "") ", true AS created FROM c"                                                                       \
                    " UNION ALL SELECT " CHANNEL_COLUMNS("") ", false FROM Channels WHERE Name = $4 AND TeamId = ''" \
                                                             " AND n.n = cardinality($2::varchar[])) AS x ON true"

#endif
