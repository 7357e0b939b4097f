/*
 * The Reactions table: the statements of the reactions handlers and the
 * Reaction model's JSON, as Mattermost's SqlReactionStore and
 * model.Reaction have them.  A removed reaction keeps its row (DeleteAt
 * set); adding it again brings the row back.  Each write also keeps the
 * post's HasReactions and UpdateAt in step, in the same statement (the post
 * lists read HasReactions to know which posts to look up, and a changed
 * UpdateAt is what GET .../posts?since= answers).
 */
#ifndef CHORUS_STORE_REACTION_H
#define CHORUS_STORE_REACTION_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdint.h>

#include "store/channel.h"

/* The 8 columns of a reaction, from Reactions `x`. */
#define REACTION_COLUMNS  "x.UserId, x.PostId, x.EmojiName, x.CreateAt, x.UpdateAt, x.DeleteAt, x.RemoteId, x.ChannelId"
#define REACTION_NCOLUMNS 8

/* A reaction `x` as the JSON reaction_to_json makes, built in SQL where a
 * statement aggregates them (a post's metadata.reactions). */
#define REACTION_JSON(x)                                                                                      \
    "json_build_object('user_id', " x ".UserId, 'post_id', " x ".PostId, 'emoji_name', " x ".EmojiName,"      \
    " 'create_at', " x ".CreateAt, 'update_at', " x ".UpdateAt, 'delete_at', " x ".DeleteAt, 'remote_id', " x \
    ".RemoteId, 'channel_id', " x ".ChannelId)"

/* ServiceSettings.UniqueEmojiReactionLimitPerPost's default (not a setting
 * here yet): a post takes at most this many different emoji. */
#define REACTION_UNIQUE_LIMIT "50"

/* Save: $1 user, $2 post, $3 emoji name, $4 now (ms), $5 the post's
 * channel.  Inserts the reaction or brings back a removed one (UpdateAt
 * now, DeleteAt 0), unless the post already has REACTION_UNIQUE_LIMIT
 * different emoji and not this one; the post gets HasReactions and
 * UpdateAt now.  One row: whether it was saved (false: the limit). */
#define REACTION_SQL_SAVE                                                                                              \
    "WITH lim AS (SELECT EXISTS (SELECT 1 FROM Reactions WHERE PostId = $2 AND EmojiName = $3 AND DeleteAt = 0)"       \
    "  OR (SELECT count(DISTINCT EmojiName) FROM Reactions WHERE PostId = $2 AND DeleteAt = 0)"                        \
    "  < " REACTION_UNIQUE_LIMIT " AS ok),"                                                                            \
    " ins AS (INSERT INTO Reactions (UserId, PostId, EmojiName, CreateAt, UpdateAt, DeleteAt, RemoteId, ChannelId)"    \
    "  SELECT $1, $2, $3, $4::bigint, $4::bigint, 0, '', $5 FROM lim WHERE lim.ok"                                     \
    "  ON CONFLICT (PostId, UserId, EmojiName) DO UPDATE SET UpdateAt = EXCLUDED.UpdateAt, DeleteAt = 0,"              \
    "   RemoteId = EXCLUDED.RemoteId, ChannelId = EXCLUDED.ChannelId RETURNING 1),"                                    \
    " pu AS (UPDATE Posts SET HasReactions = true, UpdateAt = $4::bigint WHERE Id = $2 AND EXISTS (SELECT 1 FROM ins)" \
    "  RETURNING 1)"                                                                                                   \
    " SELECT ok FROM lim"

/* Delete: $1 user, $2 post, $3 emoji name, $4 now (ms).  Marks the
 * reaction removed (DeleteAt, UpdateAt now); the post's HasReactions says
 * whether any other is left and its UpdateAt moves to now, as Mattermost
 * does whether or not there was such a reaction.  One row per post (none
 * when the post is gone): the number of reactions removed (0 or 1). */
#define REACTION_SQL_DELETE                                                                     \
    "WITH del AS (UPDATE Reactions SET DeleteAt = $4::bigint, UpdateAt = $4::bigint"            \
    "  WHERE PostId = $2 AND UserId = $1 AND EmojiName = $3 AND DeleteAt = 0 RETURNING 1)"      \
    " UPDATE Posts SET UpdateAt = $4::bigint, HasReactions = EXISTS (SELECT 1 FROM Reactions r" \
    "  WHERE r.PostId = $2 AND r.DeleteAt = 0 AND NOT (r.UserId = $1 AND r.EmojiName = $3))"    \
    " WHERE Id = $2 RETURNING (SELECT count(*) FROM del)"

/* The post a reaction is on: $1 its id.  ChannelId and DeleteAt, or no
 * row.  A deleted post still decides the permission checks (Mattermost
 * finds its channel member without looking at DeleteAt), then is a 404. */
#define REACTION_SQL_POST "SELECT ChannelId, DeleteAt FROM Posts WHERE Id = $1"

/* A post's reactions: $1 the post.  REACTION_COLUMNS, oldest first. */
#define REACTION_SQL_FOR_POST \
    "SELECT " REACTION_COLUMNS " FROM Reactions x WHERE x.PostId = $1 AND x.DeleteAt = 0 ORDER BY x.CreateAt"

/* The reactions of several posts: $1 their ids (a JSON array text).
 * REACTION_COLUMNS, oldest first. */
#define REACTION_SQL_FOR_POSTS                                                                                   \
    "SELECT " REACTION_COLUMNS " FROM Reactions x WHERE x.PostId IN (SELECT json_array_elements_text($1::json))" \
    " AND x.DeleteAt = 0 ORDER BY x.CreateAt"

/* Who may read the posts $1 (a JSON array text of ids): for each id, user
 * $2's roles in the post's channel and in its team (CHANNEL_MEMBER_ROLES,
 * CHANNEL_TEAM_ROLES: '' for none, and for a missing post). */
#define REACTION_SQL_POSTS_ACCESS                                                            \
    "SELECT i.id, " CHANNEL_MEMBER_ROLES("cm") ", " CHANNEL_TEAM_ROLES(                      \
        "tm") " FROM (SELECT DISTINCT json_array_elements_text($1::json) AS id) i"           \
              " LEFT JOIN Posts p ON p.Id = i.id LEFT JOIN Channels c ON c.Id = p.ChannelId" \
              " LEFT JOIN ChannelMembers cm ON cm.ChannelId = c.Id AND cm.UserId = $2"       \
              " LEFT JOIN TeamMembers tm ON tm.TeamId = c.TeamId AND tm.UserId = $2"

/* The reaction in REACTION_COLUMNS at column `col` of `row`. */
json_t *reaction_to_json(const PGresult *res, int row, int col);

/* The Reaction Mattermost answers a save with, and sends in the reaction
 * events: `create_at` and `update_at` as given, delete_at 0, remote_id "". */
json_t *reaction_json(const char *user_id, const char *post_id, const char *emoji_name, int64_t create_at,
                      int64_t update_at, const char *channel_id);

#endif
