/*
 * System posts: what Mattermost's app layer writes into a channel when its
 * membership or its properties change (app/channel.go, app/team.go), and
 * the one statement that writes one.
 *
 * A system post is made like any other post (store/post.h): the channel's
 * LastPostAt, LastRootPostAt and counters move with it and the members it
 * mentions get a mention; the author's membership is not marked viewed
 * (CreatePost, unlike CreatePostAsUser).  Join and leave posts
 * (Post.IsJoinLeaveMessage) are not counted in TotalMsgCount and
 * TotalMsgCountRoot, as SqlPostStore.SaveMultiple does not count them.
 *
 * Texts are the server's English (i18n/en.json): the posts are written
 * once, in the server's locale, and the apps render their own text from
 * the type and props anyway.
 */
#ifndef CHORUS_STORE_POST_SYSTEM_H
#define CHORUS_STORE_POST_SYSTEM_H

#include "store/post.h"

/* model.Post.IsJoinLeaveMessage's types (the system_join_leave and
 * system_add_remove of old servers included). */
#define POST_JOIN_LEAVE_TYPES                                                                          \
    "'system_join_leave', 'system_add_remove', 'system_join_channel', 'system_leave_channel',"         \
    " 'system_join_team', 'system_leave_team', 'system_add_to_channel', 'system_remove_from_channel'," \
    " 'system_add_to_team', 'system_remove_from_team'"

/*
 * Create a system post: $1 id, $2 now (ms), $3 its author, $4 the channel,
 * $5 its root ('' for none), $6 its type, $7 its message and $8 its props
 * as format() templates (post_system_message, post_system_props), $9 the
 * other user it names ('' for none), $10 and $11 the old and new value it
 * names ('' for none).  In the templates %1$s is the author's username,
 * %2$s the other user's, %3$s and %4$s the old and new values, %5$s and
 * %6$s the two user ids; props take them as JSON strings.  One row: the
 * post (POST_COLUMNS, reply count 0, no reactions), then the channel's Type, DisplayName,
 * Name and TeamId, the author's username, and the ids of the members it
 * mentions (a JSON array text, '[]' for none: POST_MENTIONS, but no
 * @all, @channel or @here in a header or purpose change, which
 * allowChannelMentions refuses, and the user an add-to-channel post adds,
 * as getExplicitMentionsAndKeywords adds him); no row when the author or
 * the channel is gone.
 */
#define POST_SYSTEM_MENTIONS                                                          \
    POST_MENTIONS("u", "m", "(SELECT Message FROM ins)", "ch.Type", POST_ONLINE("u"), \
                  "$6::text NOT IN ('system_header_change', 'system_purpose_change')")
#define POST_SQL_CREATE_SYSTEM                                                                                         \
    "WITH n AS (SELECT a.Username AS actor, COALESCE((SELECT Username FROM Users WHERE Id = $9::text), '') AS subject" \
    "  FROM Users a WHERE a.Id = $3::text),"                                                                           \
    " ins AS ("                                                                                                        \
    "  INSERT INTO Posts (Id, CreateAt, UpdateAt, UserId, ChannelId, RootId, Message, Type, Props, Hashtags,"          \
    "   FileIds, PendingPostId)"                                                                                       \
    "  SELECT $1::text, $2::bigint, $2::bigint, $3::text, $4::text, $5::text, format($7::text, n.actor, n.subject, "   \
    "$10::text, $11::text), $6::text,"                                                                                 \
    "   format($8::text, to_json(n.actor)::text, to_json(n.subject)::text, to_json($10::text)::text,"                  \
    "    to_json($11::text)::text, to_json($3::text)::text, to_json($9::text)::text)::jsonb, '', '[]', ''"             \
    "  FROM n WHERE EXISTS (SELECT 1 FROM Channels WHERE Id = $4::text) RETURNING *),"                                 \
    " ch AS ("                                                                                                         \
    "  UPDATE Channels SET LastPostAt = GREATEST(LastPostAt, (SELECT CreateAt FROM ins)),"                             \
    "   TotalMsgCount = TotalMsgCount + CASE WHEN $6::text IN (" POST_JOIN_LEAVE_TYPES ") THEN 0 ELSE 1 END,"          \
    "   TotalMsgCountRoot = TotalMsgCountRoot"                                                                         \
    "    + CASE WHEN $5::text = '' AND $6::text NOT IN (" POST_JOIN_LEAVE_TYPES ") THEN 1 ELSE 0 END,"                 \
    "   LastRootPostAt = CASE WHEN $5::text = '' THEN GREATEST(LastRootPostAt, (SELECT CreateAt FROM ins))"            \
    "    ELSE LastRootPostAt END"                                                                                      \
    "  WHERE Id = $4::text AND EXISTS (SELECT 1 FROM ins) RETURNING Id, Type, DisplayName, Name, TeamId),"             \
    " ment AS ("                                                                                                       \
    "  SELECT m.UserId FROM ch JOIN ChannelMembers m ON m.ChannelId = ch.Id JOIN Users u ON u.Id = m.UserId"           \
    "  WHERE m.UserId <> $3::text AND u.DeleteAt = 0"                                                                  \
    "   AND (($6::text = 'system_add_to_channel' AND m.UserId = $9::text) OR " POST_SYSTEM_MENTIONS ")),"              \
    " mc AS ("                                                                                                         \
    "  UPDATE ChannelMembers m SET MentionCount = m.MentionCount + 1,"                                                 \
    "   MentionCountRoot = m.MentionCountRoot + CASE WHEN $5::text = '' THEN 1 ELSE 0 END, LastUpdateAt = $2::bigint"  \
    "  FROM ment WHERE m.ChannelId = $4::text AND m.UserId = ment.UserId RETURNING 1)"                                 \
    " SELECT " POST_COLUMNS ", 0::bigint, NULL::text, ch.Type, ch.DisplayName, ch.Name, ch.TeamId, n.actor,"           \
    "  (SELECT COALESCE(json_agg(UserId ORDER BY UserId), '[]')::text FROM ment)"                                      \
    " FROM ins p, ch, n"

/* The format() template of the message of a post of `type` (a system_
 * type below) naming `old_value` and `new_value` ("" for none): the header
 * and purpose messages depend on which is empty, the privacy one on the
 * new type (O or P).  NULL for a type it does not know. */
const char *post_system_message(const char *type, const char *old_value, const char *new_value);

/* The format() template of the props of a post of `type` (a JSON object
 * once formatted); NULL for a type it does not know. */
const char *post_system_props(const char *type);

#endif
