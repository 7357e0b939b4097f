/*
 * ChannelMembers one at a time: reading a member or some by user ids,
 * removing one, its roles and its notify props; and the users of group
 * channels.  Columns and JSON are store/channel.h's (and store/user.h's).
 */
#ifndef CHORUS_STORE_CHANNEL_MEMBER_H
#define CHORUS_STORE_CHANNEL_MEMBER_H

#include "store/channel.h"
#include "store/user.h"

/* User $2's member of channel $1: CHANNEL_MEMBER_COLUMNS, or no row. */
#define CHANNEL_SQL_MEMBER_GET \
    "SELECT " CHANNEL_MEMBER_COLUMNS("") " FROM ChannelMembers WHERE ChannelId = $1 AND UserId = $2"

/* Channel $1's members among users $2 (a text[]), by user id. */
#define CHANNEL_SQL_MEMBERS_BY_IDS                                                   \
    "SELECT " CHANNEL_MEMBER_COLUMNS("") " FROM ChannelMembers WHERE ChannelId = $1" \
                                         " AND UserId = ANY($2::varchar[]) ORDER BY UserId"

/* Whether user $2 exists, and whether they are a member of channel $1. */
#define CHANNEL_SQL_MEMBER_REMOVE_CHECK                  \
    "SELECT EXISTS (SELECT 1 FROM Users WHERE Id = $2)," \
    " EXISTS (SELECT 1 FROM ChannelMembers WHERE ChannelId = $1 AND UserId = $2)"

/* Removes user $2 from channel $1.  Returns the UserId; no row when they
 * were not a member (any more). */
#define CHANNEL_SQL_MEMBER_REMOVE "DELETE FROM ChannelMembers WHERE ChannelId = $1 AND UserId = $2 RETURNING UserId"

/* What setting user $2's roles in channel $1 to the names $3 (a text[])
 * depends on.  Rows: whether the member exists, then a role among $3 that
 * exists (Name, SchemeManaged; NULL when none does). */
#define CHANNEL_SQL_MEMBER_ROLES_CHECK                                                                 \
    "SELECT m.ok, r.Name, r.SchemeManaged FROM (SELECT EXISTS (SELECT 1 FROM ChannelMembers"           \
    " WHERE ChannelId = $1 AND UserId = $2) AS ok) AS m LEFT JOIN Roles r ON r.Name = ANY($3::text[])" \
    " AND r.DeleteAt = 0"

/* User $2's member of channel $1 with SchemeUser $3, SchemeAdmin $4 and the
 * explicit Roles $5, at time $6 (ms).  Returns CHANNEL_MEMBER_COLUMNS; no
 * row when there is no such member. */
#define CHANNEL_SQL_MEMBER_SET_ROLES                                                             \
    "UPDATE ChannelMembers SET SchemeUser = $3::boolean, SchemeAdmin = $4::boolean, Roles = $5," \
    " LastUpdateAt = $6::bigint WHERE ChannelId = $1 AND UserId = $2 RETURNING " CHANNEL_MEMBER_COLUMNS("")

/* User $2's member of channel $1 with the notify props of $3 (a JSON
 * object) written over its own, at time $4 (ms).  Returns
 * CHANNEL_MEMBER_COLUMNS; no row when there is no such member. */
#define CHANNEL_SQL_MEMBER_NOTIFY_PROPS                                                           \
    "UPDATE ChannelMembers SET NotifyProps = NotifyProps || $3::jsonb, LastUpdateAt = $4::bigint" \
    " WHERE ChannelId = $1 AND UserId = $2 RETURNING " CHANNEL_MEMBER_COLUMNS("")

/* The users of the group channels among $1 (a text[]) that user $2 is in:
 * USER_COLUMNS then the ChannelId, by channel and username. */
#define CHANNEL_SQL_GROUP_USERS                                                                                \
    "SELECT " USER_COLUMNS ", g.ChannelId FROM Users JOIN (SELECT m.ChannelId, m.UserId FROM ChannelMembers m" \
    " JOIN Channels c ON c.Id = m.ChannelId AND c.Type = 'G' WHERE m.ChannelId = ANY($1::varchar[])"           \
    " AND EXISTS (SELECT 1 FROM ChannelMembers me WHERE me.ChannelId = m.ChannelId AND me.UserId = $2)) AS g"  \
    " ON g.UserId = Users.Id ORDER BY g.ChannelId, Users.Username"

#endif
