/*
 * The Posts table: the SQL every posts handler runs and the Post model's
 * JSON as Mattermost serializes it, for every handler and WebSocket event
 * (posted, post_edited, post_deleted) that carries posts.
 *
 * A statement that answers posts selects POST_COLUMNS, a reply count and
 * the post's reactions (POST_NCOLUMNS columns), which post_to_json reads;
 * what a statement adds after them is at POST_NCOLUMNS + k, as its comment
 * says.  The reactions are read only for posts whose HasReactions is set:
 * POST_REACTIONS_OF for one post, POST_REACTIONS_GROUPED once for a list.  Every write is
 * one statement: its CTEs keep the channel's LastPostAt/TotalMsgCount, the
 * poster's ChannelMembers row and the thread root's UpdateAt in step.
 */
#ifndef CHORUS_STORE_POST_H
#define CHORUS_STORE_POST_H

#include <jansson.h>
#include <libpq-fe.h>

#include "store/channel.h"
#include "store/reaction.h"

/* The 17 columns of a post; the table or CTE they come from must be
 * aliased `p`. */
#define POST_COLUMNS                                                                                                  \
    "p.Id, p.CreateAt, p.UpdateAt, p.EditAt, p.DeleteAt, p.IsPinned, p.UserId, p.ChannelId, p.RootId, p.OriginalId, " \
    "p.Message, p.Type, p.Props, p.Hashtags, p.FileIds, p.PendingPostId, p.HasReactions"

/* POST_COLUMNS, the reply count and the reactions: what post_to_json reads. */
#define POST_NCOLUMNS 19

/* The reactions of post `p` (a JSON array text of REACTION_JSON, oldest
 * first), NULL when it has none. */
#define POST_REACTIONS_OF(p)                                                                                          \
    "(CASE WHEN " p ".HasReactions THEN (SELECT json_agg(" REACTION_JSON("x") " ORDER BY x.CreateAt)::text"           \
                                                                              " FROM Reactions x WHERE x.PostId = " p \
                                                                              ".Id AND x.DeleteAt = 0) END)"

/* A CTE `rx` (PostId, j) with the reactions, as POST_REACTIONS_OF, of the
 * posts of `rows` that have some: one grouped read for a whole list. */
#define POST_REACTIONS_GROUPED(rows)                                                                                \
    " rx AS (SELECT x.PostId, json_agg(" REACTION_JSON(                                                             \
        "x") " ORDER BY x.CreateAt)::text AS j"                                                                     \
             "  FROM Reactions x WHERE x.PostId IN (SELECT Id FROM " rows " WHERE HasReactions) AND x.DeleteAt = 0" \
             "  GROUP BY x.PostId)"

/* Replies of the thread of post `p` that are not deleted.  A reply is never
 * older than its root (POST_SQL_CREATE makes sure), so the (ChannelId,
 * CreateAt) index bounds the scan to the thread's lifetime. */
#define POST_REPLY_COUNT                                                                                               \
    "(SELECT count(*) FROM Posts r WHERE r.ChannelId = p.ChannelId AND r.RootId = (CASE WHEN p.RootId = '' THEN p.Id " \
    "ELSE p.RootId END) AND r.DeleteAt = 0 AND r.CreateAt >= (CASE WHEN p.RootId = '' THEN p.CreateAt ELSE "           \
    "(SELECT o.CreateAt FROM Posts o WHERE o.Id = p.RootId) END))"

/* Mattermost answers a retried pending_post_id with the post it made, for 30 s. */
#define POST_DEDUP_WINDOW_MS "30000"

/*
 * Whether the message `msg` (a SQL text expression) mentions user `u`
 * (Users row), member `m` (its ChannelMembers row) of a channel of type
 * `ctype`, as Mattermost's app/notification.go decides: everyone in a direct
 * or group channel; @username (not inside a word: an email is none); @channel and @all, and @here when `here` (a
 * boolean expression: the user is online), when `chan` (a boolean
 * expression: the post allows channel mentions, allowChannelMentions)
 * unless the member ignores channel mentions (the channel's
 * ignore_channel_mentions "on", or the user's "channel" notify prop
 * "false"); the user's mention_keys and, with first_name "true", their
 * first name, as words of the message.  The sender is the caller's to
 * exclude.
 */
#define POST_MENTIONS(u, m, msg, ctype, here, chan)                                                            \
    "(" ctype " IN ('D', 'G')"                                                                                 \
    " OR " u ".Username IN (SELECT lower(rtrim(w[2], '.-_'))"                                                  \
    "  FROM regexp_matches(" msg ", '(^|[^A-Za-z0-9_])@([A-Za-z0-9.\\-_]+)', 'g') AS w)"                       \
    " OR (" chan " AND COALESCE(" m ".NotifyProps->>'ignore_channel_mentions', '') <> 'on'"                    \
    "  AND COALESCE(" u ".NotifyProps->>'channel', 'true') = 'true'"                                           \
    "  AND (" msg " ~* '(^|[^A-Za-z0-9_])@(all|channel)([^A-Za-z0-9_]|$)'"                                     \
    "   OR (" here " AND " msg " ~* '(^|[^A-Za-z0-9_])@here([^A-Za-z0-9_]|$)')))"                              \
    " OR EXISTS (SELECT 1 FROM regexp_split_to_table(lower(" msg "), '\\s+') AS x(w),"                         \
    "  regexp_split_to_table(lower(COALESCE(" u ".NotifyProps->>'mention_keys', '')"                           \
    "   || CASE WHEN " u ".NotifyProps->>'first_name' = 'true' THEN ',' || " u ".FirstName ELSE '' END), ',')" \
    "   AS k(key) WHERE btrim(k.key) <> '' AND btrim(x.w, '.,:;!?()[]{}<>\"''*~') = btrim(k.key)))"

/* A member of the channel of a new post ($6 the message, `ch` the channel)
 * it mentions: @here for those online. */
#define POST_ONLINE(u)       "EXISTS (SELECT 1 FROM Status s WHERE s.UserId = " u ".Id AND s.Status = 'online')"
#define POST_CREATE_MENTIONS POST_MENTIONS("u", "m", "$6::text", "ch.Type", POST_ONLINE("u"), "true")

/* Create: $1 id, $2 create_at, $3 user, $4 channel, $5 root ('' for none),
 * $6 message, $7 type, $8 props (JSON text), $9 hashtags, $10 file ids (JSON
 * text), $11 pending post id, $12 now.  One row: the post (NULL columns when
 * refused), then the verdict ('' done, 'root' no such root, 'channel' root in
 * another channel), the poster's username, whether a post was inserted
 * (false: the one from the dedup window, or refused), and the ids of the
 * members it mentions (POST_MENTIONS, @here for those online; a JSON array
 * text, '[]' for none).  The post is never older than its root; the
 * channel's counters (TotalMsgCount, and for a root TotalMsgCountRoot and
 * LastRootPostAt), the poster's membership (viewed), the mentioned members'
 * MentionCount (and MentionCountRoot for a root) and the root's UpdateAt
 * move with it. */
#define POST_SQL_CREATE                                                                                       \
    "WITH root AS ("                                                                                          \
    "  SELECT Id, ChannelId, RootId, CreateAt FROM Posts WHERE Id = $5 AND DeleteAt = 0),"                    \
    " verdict AS ("                                                                                           \
    "  SELECT CASE WHEN $5 = '' THEN ''"                                                                      \
    "   WHEN NOT EXISTS (SELECT 1 FROM root WHERE RootId = '') THEN 'root'"                                   \
    "   WHEN NOT EXISTS (SELECT 1 FROM root WHERE ChannelId = $4) THEN 'channel'"                             \
    "   ELSE '' END AS v),"                                                                                   \
    " dup AS ("                                                                                               \
    "  SELECT * FROM Posts d WHERE $11 <> '' AND d.ChannelId = $4"                                            \
    "   AND d.CreateAt > $12::bigint - " POST_DEDUP_WINDOW_MS " AND d.PendingPostId = $11 AND d.UserId = $3"  \
    "   AND d.DeleteAt = 0 ORDER BY d.CreateAt DESC LIMIT 1),"                                                \
    " ins AS ("                                                                                               \
    "  INSERT INTO Posts (Id, CreateAt, UpdateAt, UserId, ChannelId, RootId, Message, Type, Props, Hashtags," \
    "   FileIds, PendingPostId)"                                                                              \
    "  SELECT $1, t.at, t.at, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11 FROM verdict,"                      \
    "   (SELECT GREATEST($2::bigint, (SELECT CreateAt FROM root)) AS at) t"                                   \
    "  WHERE verdict.v = '' AND NOT EXISTS (SELECT 1 FROM dup) RETURNING *),"                                 \
    " ch AS ("                                                                                                \
    "  UPDATE Channels SET LastPostAt = GREATEST(LastPostAt, (SELECT CreateAt FROM ins)),"                    \
    "   TotalMsgCount = TotalMsgCount + 1,"                                                                   \
    "   TotalMsgCountRoot = TotalMsgCountRoot + CASE WHEN $5 = '' THEN 1 ELSE 0 END,"                         \
    "   LastRootPostAt = CASE WHEN $5 = '' THEN GREATEST(LastRootPostAt, (SELECT CreateAt FROM ins))"         \
    "    ELSE LastRootPostAt END"                                                                             \
    "  WHERE Id = $4 AND EXISTS (SELECT 1 FROM ins)"                                                          \
    "  RETURNING Id, Type, LastPostAt, TotalMsgCount, TotalMsgCountRoot),"                                    \
    " cm AS ("                                                                                                \
    "  UPDATE ChannelMembers m SET LastViewedAt = GREATEST(m.LastViewedAt, ch.LastPostAt),"                   \
    "   MsgCount = GREATEST(m.MsgCount, ch.TotalMsgCount),"                                                   \
    "   MsgCountRoot = GREATEST(m.MsgCountRoot, ch.TotalMsgCountRoot),"                                       \
    "   MentionCount = 0, MentionCountRoot = 0, UrgentMentionCount = 0,"                                      \
    "   LastUpdateAt = GREATEST(m.LastUpdateAt, $12::bigint)"                                                 \
    "  FROM ch WHERE m.ChannelId = ch.Id AND m.UserId = $3 RETURNING 1),"                                     \
    " ment AS ("                                                                                              \
    "  SELECT m.UserId FROM ch JOIN ChannelMembers m ON m.ChannelId = ch.Id JOIN Users u ON u.Id = m.UserId"  \
    "  WHERE m.UserId <> $3 AND u.DeleteAt = 0 AND " POST_CREATE_MENTIONS "),"                                \
    " mc AS ("                                                                                                \
    "  UPDATE ChannelMembers m SET MentionCount = m.MentionCount + 1,"                                        \
    "   MentionCountRoot = m.MentionCountRoot + CASE WHEN $5 = '' THEN 1 ELSE 0 END,"                         \
    "   LastUpdateAt = $12::bigint"                                                                           \
    "  FROM ment WHERE m.ChannelId = $4 AND m.UserId = ment.UserId RETURNING 1),"                             \
    " rt AS ("                                                                                                \
    "  UPDATE Posts SET UpdateAt = GREATEST(UpdateAt, (SELECT CreateAt FROM ins))"                            \
    "  WHERE Id = $5 AND EXISTS (SELECT 1 FROM ins) RETURNING 1)"                                             \
    " SELECT " POST_COLUMNS ", p.rc, " POST_REACTIONS_OF(                                                     \
        "p") ", verdict.v, (SELECT Username FROM Users WHERE Id = $3),"                                       \
             "  EXISTS (SELECT 1 FROM ins),"                                                                  \
             "  (SELECT COALESCE(json_agg(UserId ORDER BY UserId), '[]')::text FROM ment)"                    \
             "  FROM verdict LEFT JOIN ("                                                                     \
             "  SELECT i.*, CASE WHEN i.RootId = '' THEN 0 ELSE (SELECT count(*) FROM Posts r"                \
             "   WHERE r.ChannelId = i.ChannelId AND r.RootId = i.RootId AND r.DeleteAt = 0"                  \
             "   AND r.CreateAt >= (SELECT CreateAt FROM root)) + 1 END AS rc FROM ins i"                     \
             "  UNION ALL"                                                                                    \
             "  SELECT p.*, " POST_REPLY_COUNT " FROM dup p) p ON true"

/* Get: $1 id, $2 include deleted (boolean).  The post, or no row. */
#define POST_SQL_GET                             \
    "SELECT " POST_COLUMNS ", " POST_REPLY_COUNT \
    ", " POST_REACTIONS_OF("p") " FROM Posts p WHERE p.Id = $1 AND ($2::boolean OR p.DeleteAt = 0)"

/* Where a post is: $1 id, $2 include deleted (boolean).  ChannelId, UserId,
 * or no row. */
#define POST_SQL_FIND "SELECT ChannelId, UserId FROM Posts WHERE Id = $1 AND ($2::boolean OR DeleteAt = 0)"

/* Patch: $1 id, $2 message, $3 its hashtags, $4 is_pinned (boolean), $5
 * props (JSON text), $6 file ids (JSON text), $7 now; NULL leaves a field
 * as it is.  One row: the post (NULL columns when refused), then the
 * verdict ('' done, 'gone' missing or deleted, 'system' a system message).
 * EditAt moves only when the message changes; the channel's LastPostAt and
 * the root's UpdateAt move to now. */
#define POST_SQL_PATCH                                                                                          \
    "WITH old AS (SELECT Type FROM Posts WHERE Id = $1 AND DeleteAt = 0),"                                      \
    " verdict AS (SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM old) THEN 'gone'"                                  \
    "  WHEN (SELECT Type FROM old) LIKE 'system\\_%' THEN 'system' ELSE '' END AS v),"                          \
    " upd AS ("                                                                                                 \
    "  UPDATE Posts p SET"                                                                                      \
    "   EditAt = CASE WHEN $2::text IS NOT NULL AND $2::text <> p.Message THEN $7::bigint ELSE p.EditAt END,"   \
    "   Hashtags = CASE WHEN $2::text IS NOT NULL AND $2::text <> p.Message THEN $3::text ELSE p.Hashtags END," \
    "   Message = COALESCE($2::text, p.Message), IsPinned = COALESCE($4::boolean, p.IsPinned),"                 \
    "   Props = COALESCE($5::jsonb, p.Props), FileIds = COALESCE($6::text, p.FileIds), UpdateAt = $7::bigint"   \
    "  FROM verdict WHERE p.Id = $1 AND p.DeleteAt = 0 AND verdict.v = '' RETURNING p.*),"                      \
    " ch AS (UPDATE Channels SET LastPostAt = $7::bigint"                                                       \
    "  WHERE Id IN (SELECT ChannelId FROM upd) AND LastPostAt < $7::bigint RETURNING 1),"                       \
    " rt AS (UPDATE Posts SET UpdateAt = $7::bigint"                                                            \
    "  WHERE Id IN (SELECT RootId FROM upd) AND UpdateAt < $7::bigint RETURNING 1)"                             \
    " SELECT " POST_COLUMNS ", " POST_REPLY_COUNT ", " POST_REACTIONS_OF("p") ", verdict.v"                     \
                                                                              " FROM verdict LEFT JOIN upd p ON true"

/* Delete: $1 id, $2 now, $3 the deleter, $4 the post's channel.  Soft-deletes
 * the post and its thread's replies (as Mattermost's store), props.deleteBy
 * set; a row per post deleted (reply count 0), none when it was gone. */
#define POST_SQL_DELETE                                                                      \
    "WITH target AS (SELECT Id FROM Posts WHERE Id = $1 AND DeleteAt = 0)"                   \
    " UPDATE Posts p SET DeleteAt = $2::bigint, UpdateAt = $2::bigint,"                      \
    "  Props = jsonb_set(Props, '{deleteBy}', to_jsonb($3::text))"                           \
    " WHERE EXISTS (SELECT 1 FROM target) AND (Id = $1 OR (ChannelId = $4 AND RootId = $1))" \
    " RETURNING " POST_COLUMNS ", 0::bigint, NULL::text"

/*
 * A channel's posts, as Mattermost's store lists them.  Every list ends the
 * same way (POST_LIST_TAIL): the rows of `page` (kind 'o', in `order`) and
 * of `extra` (kind 'x', in `posts` only), each with its thread's reply count
 * from one grouped scan of the channel (replies are never older than their
 * root), then the id after the newest and before the oldest of the page
 * (GetPostIdAfterTime / GetPostIdBeforeTime).  Rows: the post, then at
 * POST_NCOLUMNS the kind, the next id, the previous id; order rows newest
 * first.
 */
#define POST_LIST_TAIL                                                                                               \
    " rows AS (SELECT p.*, 'o' AS kind FROM page p"                                                                  \
    "  UNION ALL SELECT e.*, 'x' FROM extra e WHERE e.Id NOT IN (SELECT Id FROM page)),"                             \
    " thr AS (SELECT DISTINCT CASE WHEN RootId = '' THEN Id ELSE RootId END AS t FROM rows),"                        \
    " rc AS (SELECT r.RootId, count(*) AS n FROM Posts r WHERE r.ChannelId = $1 AND r.DeleteAt = 0"                  \
    "  AND r.RootId IN (SELECT t FROM thr)"                                                                          \
    "  AND r.CreateAt >= (SELECT min(o.CreateAt) FROM Posts o WHERE o.Id IN (SELECT t FROM thr)) GROUP BY "          \
    "r.RootId)," POST_REACTIONS_GROUPED(                                                                             \
        "rows") ","                                                                                                  \
                " cur AS (SELECT"                                                                                    \
                "  (SELECT n.Id FROM Posts n WHERE n.ChannelId = $1 AND n.DeleteAt = 0"                              \
                "   AND n.CreateAt > (SELECT max(CreateAt) FROM page) ORDER BY n.CreateAt ASC LIMIT 1) AS next_id,"  \
                "  (SELECT n.Id FROM Posts n WHERE n.ChannelId = $1 AND n.DeleteAt = 0"                              \
                "   AND n.CreateAt < (SELECT min(CreateAt) FROM page) ORDER BY n.CreateAt DESC LIMIT 1) AS prev_id)" \
                " SELECT " POST_COLUMNS ", COALESCE(rc.n, 0), rx.j, p.kind, cur.next_id, cur.prev_id FROM rows p"    \
                "  LEFT JOIN rc ON rc.RootId = (CASE WHEN p.RootId = '' THEN p.Id ELSE p.RootId END) CROSS JOIN cur" \
                "  LEFT JOIN rx ON rx.PostId = p.Id"                                                                 \
                " ORDER BY p.kind, p.CreateAt DESC"

/* The thread posts of `roots` (ids) for `posts` only: the roots by id and,
 * with $4 (fetch threads), their replies, never older than the oldest root. */
#define POST_LIST_THREADS(roots)                                                                               \
    " extra AS (SELECT * FROM Posts p WHERE p.Id IN (SELECT i FROM " roots ") AND p.ChannelId = $1"            \
    "  AND ($5::boolean OR p.DeleteAt = 0)"                                                                    \
    "  UNION SELECT * FROM Posts p WHERE $4::boolean AND p.ChannelId = $1 AND ($5::boolean OR p.DeleteAt = 0)" \
    "  AND p.CreateAt >= (SELECT min(CreateAt) FROM Posts WHERE Id IN (SELECT i FROM " roots "))"              \
    "  AND p.RootId IN (SELECT i FROM " roots ")),"

/* A page, newest first: $1 channel, $2 limit, $3 offset, $4 fetch threads
 * (boolean), $5 include deleted (boolean). */
#define POST_SQL_LIST_PAGE                                                                           \
    "WITH page AS (SELECT * FROM Posts p WHERE p.ChannelId = $1 AND ($5::boolean OR p.DeleteAt = 0)" \
    "  ORDER BY p.CreateAt DESC LIMIT $2::bigint OFFSET $3::bigint),"                                \
    " roots AS (SELECT DISTINCT RootId AS i FROM page WHERE RootId <> '')," POST_LIST_THREADS("roots") POST_LIST_TAIL

/* Around an anchor: $1..$5 as POST_SQL_LIST_PAGE, $6 the anchor post;
 * before it (older, newest first) or after it (newer, oldest first). */
#define POST_LIST_AROUND(cmp, dir)                                                                                  \
    "WITH page AS (SELECT * FROM Posts p WHERE p.ChannelId = $1 AND ($5::boolean OR p.DeleteAt = 0)"                \
    "  AND p.CreateAt " cmp " (SELECT CreateAt FROM Posts WHERE Id = $6)"                                           \
    "  ORDER BY p.CreateAt " dir " LIMIT $2::bigint OFFSET $3::bigint),"                                            \
    " ids AS (SELECT Id AS i FROM page UNION SELECT RootId FROM page WHERE RootId <> '')," POST_LIST_THREADS("ids") \
        POST_LIST_TAIL
#define POST_SQL_LIST_BEFORE POST_LIST_AROUND("<", "DESC")
#define POST_SQL_LIST_AFTER  POST_LIST_AROUND(">", "ASC")

/* Around the first unread post (GetPostsForChannelAroundLastUnread): $1..$5
 * as POST_SQL_LIST_PAGE but $2 the posts to take before it and $3 after it,
 * $6 when the user last viewed the channel (ms), $7 root posts only
 * (collapsed threads).  The anchor is the oldest post after $6; the page is
 * it, the $2 before it and the $3 after it; no rows when there is none. */
#define POST_SQL_LIST_UNREAD                                                                                        \
    "WITH anchor AS (SELECT * FROM Posts p WHERE p.ChannelId = $1 AND p.DeleteAt = 0 AND p.CreateAt > $6::bigint"   \
    "  AND (NOT $7::boolean OR p.RootId = '') ORDER BY p.CreateAt ASC LIMIT 1),"                                    \
    " page AS (SELECT * FROM anchor"                                                                                \
    "  UNION ALL (SELECT p.* FROM Posts p, anchor a WHERE p.ChannelId = $1 AND ($5::boolean OR p.DeleteAt = 0)"     \
    "   AND (NOT $7::boolean OR p.RootId = '') AND p.CreateAt < a.CreateAt ORDER BY p.CreateAt DESC"                \
    "   LIMIT $2::bigint)"                                                                                          \
    "  UNION ALL (SELECT p.* FROM Posts p, anchor a WHERE p.ChannelId = $1 AND ($5::boolean OR p.DeleteAt = 0)"     \
    "   AND (NOT $7::boolean OR p.RootId = '') AND p.CreateAt > a.CreateAt ORDER BY p.CreateAt ASC"                 \
    "   LIMIT $3::bigint)),"                                                                                        \
    " ids AS (SELECT Id AS i FROM page UNION SELECT RootId FROM page WHERE RootId <> '')," POST_LIST_THREADS("ids") \
        POST_LIST_TAIL

/* Since: $1 channel, $2 since (ms): the posts changed after it (deleted too),
 * at most POST_LIST_SINCE_MAX, and their roots; no cursors. */
#define POST_LIST_SINCE_MAX "1000"
#define POST_SQL_LIST_SINCE                                                                  \
    "WITH page AS (SELECT * FROM Posts p WHERE p.ChannelId = $1 AND p.UpdateAt > $2::bigint" \
    "  ORDER BY p.UpdateAt ASC LIMIT " POST_LIST_SINCE_MAX "),"                              \
    " extra AS (SELECT * FROM Posts p WHERE p.Id IN (SELECT RootId FROM page))," POST_LIST_TAIL

/* A channel's pinned posts (GetPinnedPosts): $1 the channel.  The posts not
 * deleted, oldest first. */
#define POST_SQL_PINNED                                                                                     \
    "WITH page AS (SELECT * FROM Posts p WHERE p.ChannelId = $1 AND p.IsPinned AND p.DeleteAt = "           \
    "0)," POST_REACTIONS_GROUPED("page") " SELECT " POST_COLUMNS ", " POST_REPLY_COUNT ", rx.j FROM page p" \
                                         " LEFT JOIN rx ON rx.PostId = p.Id ORDER BY p.CreateAt ASC"

/* A user's saved posts (GetFlaggedPosts, ...ForTeam, ...ForChannel): $1 the
 * user, $2 a channel ('' for any), $3 a team ('' for any: a team also takes
 * direct and group channels), $4 the limit, $5 the offset, $6 the caller.
 * The posts their flagged_post preferences name, not deleted, in channels
 * the user is a member of, newest first; then at POST_NCOLUMNS the
 * caller's roles in the post's channel and in its team (CHANNEL_MEMBER_ROLES,
 * CHANNEL_TEAM_ROLES), for the read check Mattermost makes on each. */
#define POST_SQL_FLAGGED                                                                                              \
    "WITH page AS (SELECT p.* FROM Posts p JOIN Channels c ON c.Id = p.ChannelId"                                     \
    "  WHERE p.Id IN (SELECT Name FROM Preferences WHERE UserId = $1 AND Category = 'flagged_post')"                  \
    "   AND p.DeleteAt = 0 AND ($2 = '' OR p.ChannelId = $2)"                                                         \
    "   AND p.ChannelId IN (SELECT ChannelId FROM ChannelMembers WHERE UserId = $1)"                                  \
    "   AND ($3 = '' OR c.TeamId = $3 OR c.TeamId = '')"                                                              \
    "  ORDER BY p.CreateAt DESC LIMIT $4::bigint OFFSET $5::bigint)," POST_REACTIONS_GROUPED(                         \
        "page") " SELECT " POST_COLUMNS ", " POST_REPLY_COUNT                                                         \
                ", rx.j, " CHANNEL_MEMBER_ROLES("cm") ", " CHANNEL_TEAM_ROLES(                                        \
                    "tm") " FROM page p LEFT JOIN rx ON rx.PostId = p.Id JOIN Channels c ON c.Id = p.ChannelId"       \
                          " LEFT JOIN ChannelMembers cm ON cm.ChannelId = c.Id AND cm.UserId = $6"                    \
                          " LEFT JOIN TeamMembers tm ON tm.TeamId = c.TeamId AND tm.UserId = $6 ORDER BY p.CreateAt " \
                          "DESC"

/* A post from columns 0..POST_NCOLUMNS-1 of `row`, as PreparePostForClient
 * leaves it: has_reactions when set, metadata.reactions when it has some
 * (metadata {} otherwise), no participants.  metadata.emojis names the
 * custom emoji of the post and its reactions: custom emoji do not exist
 * here yet, so it is never there. */
json_t *post_to_json(const PGresult *res, int row);

/* An empty PostList: no order, no posts, no cursors. */
json_t *post_list_empty(void);

/* The PostList of rows `rows` of `res` (posts in POST_NCOLUMNS columns),
 * `order` in the rows' order, no cursors: the list of a statement that
 * answers exactly its posts (pinned, saved). */
json_t *post_list_of_rows(const PGresult *res, const int *rows, int n);

/* The PostList of a POST_SQL_LIST_* result, its cursors still empty;
 * `*next` and `*prev` are the neighbours of its page ("" when none), which
 * the caller adjusts as AddCursorIdsForPostList does.  `*n` is the number
 * of posts in `order`. */
json_t *post_list_to_json(const PGresult *res, const char **next, const char **prev, int *n);

#endif
