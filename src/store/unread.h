/*
 * Unreads: what a user has not read yet, per channel (ChannelMembers'
 * counters against their channel's totals) and per team, and the writes
 * that move them: viewing channels and marking a post unread.
 *
 * Mattermost keeps on each member the count of posts read (MsgCount,
 * MsgCountRoot, up to the channel's TotalMsgCount, TotalMsgCountRoot), the
 * mentions not yet seen (MentionCount, MentionCountRoot,
 * UrgentMentionCount) and when the channel was last viewed (LastViewedAt);
 * a post moves them (store/post.h, POST_SQL_CREATE), a view resets them, a
 * set-unread rewinds them to a post.
 */
#ifndef CHORUS_STORE_UNREAD_H
#define CHORUS_STORE_UNREAD_H

#include <jansson.h>
#include <libpq-fe.h>

#include "store/post.h"

/* User $1's unreads per team but team $2 (GetChannelUnreadsForAllTeams,
 * summed as GetTeamsUnreadForUser does: a channel muted to mentions
 * (mark_unread "mention") adds its mentions only), over the channels not
 * deleted; "" is the direct and group channels' team.  Rows by team id:
 * TeamId, msg_count, mention_count, mention_count_root, msg_count_root. */
#define UNREAD_SQL_TEAMS                                                                                      \
    "SELECT c.TeamId,"                                                                                        \
    " COALESCE(sum(CASE WHEN m.NotifyProps->>'mark_unread' = 'mention' THEN 0"                                \
    "  ELSE c.TotalMsgCount - m.MsgCount END), 0), COALESCE(sum(m.MentionCount), 0),"                         \
    " COALESCE(sum(m.MentionCountRoot), 0), COALESCE(sum(CASE WHEN m.NotifyProps->>'mark_unread' = 'mention'" \
    "  THEN 0 ELSE c.TotalMsgCountRoot - m.MsgCountRoot END), 0)"                                             \
    " FROM Channels c JOIN ChannelMembers m ON m.ChannelId = c.Id"                                            \
    " WHERE m.UserId = $1 AND c.DeleteAt = 0 AND c.TeamId <> $2 GROUP BY c.TeamId ORDER BY c.TeamId"

/* User $1 views channels $2 (a varchar[] literal): their memberships read
 * up to the channel's last post, mentions cleared (UpdateLastViewedAt);
 * a membership already in that state is not rewritten (most views are of
 * channels read before: no write, no dead row).
 * Rows: each existing channel's Id and LastPostAt (member or not, as
 * Mattermost answers them); none when no channel exists. */
#define UNREAD_SQL_VIEW                                                                                            \
    "WITH c AS (SELECT Id, LastPostAt, TotalMsgCount, TotalMsgCountRoot FROM Channels"                             \
    "  WHERE Id = ANY ($2::varchar[])),"                                                                           \
    " upd AS (UPDATE ChannelMembers cm SET MentionCount = 0, MentionCountRoot = 0, UrgentMentionCount = 0,"        \
    "  MsgCount = GREATEST(cm.MsgCount, c.TotalMsgCount), MsgCountRoot = GREATEST(cm.MsgCountRoot,"                \
    "  c.TotalMsgCountRoot), LastViewedAt = GREATEST(cm.LastViewedAt, c.LastPostAt),"                              \
    "  LastUpdateAt = GREATEST(cm.LastViewedAt, c.LastPostAt) FROM c WHERE cm.UserId = $1 AND cm.ChannelId = c.Id" \
    "  AND (cm.LastViewedAt < c.LastPostAt OR cm.MsgCount < c.TotalMsgCount"                                       \
    "  OR cm.MsgCountRoot < c.TotalMsgCountRoot OR cm.MentionCount <> 0 OR cm.MentionCountRoot <> 0"               \
    "  OR cm.UrgentMentionCount <> 0)"                                                                             \
    "  RETURNING 1)"                                                                                               \
    " SELECT Id, LastPostAt FROM c ORDER BY Id"

/* User $1 marks post $2 (not deleted) and what follows it unread, at $3 (ms)
 * (UpdateLastViewedAtPost): LastViewedAt just before the post, the posts
 * since then unread again, and the ones among them by others that mention
 * the user (POST_MENTIONS, @here as if online) counted as mentions.  One
 * row (ChannelUnreadAt): TeamId, UserId, ChannelId, MsgCount,
 * MentionCount, MentionCountRoot, UrgentMentionCount, MsgCountRoot,
 * LastViewedAt; none when the post is gone or the user is not a member of
 * its channel.  UNREAD_MENTIONS: the user's mentions in a later post `l`. */
#define UNREAD_MENTIONS POST_MENTIONS("u", "m", "l.Message::text", "c.Type", "true", "true")
#define UNREAD_SQL_SET_UNREAD                                                                          \
    "WITH p AS (SELECT ChannelId, CreateAt FROM Posts WHERE Id = $2 AND DeleteAt = 0),"                \
    " c AS (SELECT ch.Id, ch.TeamId, ch.Type, ch.TotalMsgCount, ch.TotalMsgCountRoot FROM Channels ch" \
    "  JOIN p ON ch.Id = p.ChannelId),"                                                                \
    " mem AS (SELECT m.* FROM ChannelMembers m JOIN c ON m.ChannelId = c.Id WHERE m.UserId = $1),"     \
    " later AS (SELECT q.RootId, q.UserId, q.Message FROM Posts q JOIN p ON q.ChannelId = p.ChannelId" \
    "  WHERE q.CreateAt >= p.CreateAt AND q.DeleteAt = 0),"                                            \
    " cnt AS (SELECT count(*) AS n, count(*) FILTER (WHERE RootId = '') AS nroot FROM later),"         \
    " ment AS (SELECT count(*) AS n, count(*) FILTER (WHERE l.RootId = '') AS nroot"                   \
    "  FROM later l, mem m, c, Users u WHERE u.Id = $1 AND l.UserId <> $1 AND " UNREAD_MENTIONS "),"   \
    " upd AS (UPDATE ChannelMembers m SET MentionCount = ment.n, MentionCountRoot = ment.nroot,"       \
    "  UrgentMentionCount = 0, MsgCount = GREATEST(0, c.TotalMsgCount - cnt.n),"                       \
    "  MsgCountRoot = GREATEST(0, c.TotalMsgCountRoot - cnt.nroot), LastViewedAt = p.CreateAt - 1,"    \
    "  LastUpdateAt = $3::bigint FROM p, c, cnt, ment WHERE m.ChannelId = c.Id AND m.UserId = $1"      \
    "  RETURNING m.UserId, m.ChannelId, m.MsgCount, m.MentionCount, m.MentionCountRoot,"               \
    "  m.UrgentMentionCount, m.MsgCountRoot, m.LastViewedAt)"                                          \
    " SELECT c.TeamId, upd.* FROM upd, c"

/* When user $2 last viewed channel $1: LastViewedAt, or no row when the user
 * is not a member. */
#define UNREAD_SQL_LAST_VIEWED "SELECT LastViewedAt FROM ChannelMembers WHERE ChannelId = $1 AND UserId = $2"

/* A UNREAD_SQL_TEAMS row as Mattermost's TeamUnread (no threads: their
 * counts are 0). */
json_t *unread_team_to_json(const PGresult *res, int row);
/* The UNREAD_SQL_SET_UNREAD row as Mattermost's ChannelUnreadAt. */
json_t *unread_channel_at_to_json(const PGresult *res, int row);

#endif
