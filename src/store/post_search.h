/*
 * Searching posts: the PostgreSQL full-text search of Mattermost's SQL store.
 * The handler (api/post_search.c) parses the terms as
 * model.ParseSearchParams does into a post_search_terms_t; post_search_build
 * turns them into POST_SQL_SEARCH's parameters as the postgres store builds
 * its query (to_tsquery texts, channel and user filters, the CreateAt range),
 * and post_search_to_json shapes the hits as a PostList with `matches`.
 */
#ifndef CHORUS_STORE_POST_SEARCH_H
#define CHORUS_STORE_POST_SEARCH_H

#include <h2o/memory.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/text.h"
#include "store/post.h"

/* What model.ParseSearchParams finds in the terms: words and hashtags,
 * searched or excluded, and the flags (in:/channel:, from:, after:,
 * before:, on:; ext: is noted and ignored). */
typedef struct {
    text_strlist_t plain, plain_ex, tags, tags_ex;
    text_strlist_t in, in_ex, from, from_ex;
    const char *after, *after_ex, *before, *before_ex, *on, *on_ex;
    bool ext;
} post_search_terms_t;

#define POST_SEARCH_LIMIT "100"

/*
 * The search, in one statement that only ever looks at channels of the team
 * (or DMs and GMs) the caller is a member of; it is the query a search
 * replica runs.  $1 user, $2 team, $3 plain to_tsquery text (NULL: none, '':
 * filters only), $4 hashtag to_tsquery text (NULL: none), $5/$6 channel
 * names in/excluded, $7/$8 usernames from/excluded (text[] literals),
 * $9/$10 CreateAt bounds, $11/$12 an excluded CreateAt range (NULL: none),
 * $13 the hashtags searched (upper case), $14 the OR query of the words
 * `matches` reports.  Rows, newest first: the post, then at POST_NCOLUMNS
 * its message with the matching words between \1 and \2 (ts_headline), and
 * whether it is a hashtag hit.
 */
#define POST_SQL_SEARCH                                                                                                \
    "WITH chans AS ("                                                                                                  \
    "  SELECT c.Id FROM Channels c JOIN ChannelMembers cm ON cm.ChannelId = c.Id AND cm.UserId = $1"                   \
    "  WHERE c.DeleteAt = 0 AND (c.TeamId = $2 OR c.TeamId = '')"                                                      \
    "   AND (cardinality($5::text[]) = 0 OR c.Name = ANY($5::text[])) AND NOT (c.Name = ANY($6::text[]))),"            \
    " base AS NOT MATERIALIZED ("                                                                                      \
    "  SELECT p.* FROM Posts p WHERE p.DeleteAt = 0 AND p.Type NOT LIKE 'system_%'"                                    \
    "   AND p.ChannelId IN (SELECT Id FROM chans)"                                                                     \
    "   AND ((cardinality($7::text[]) = 0 AND cardinality($8::text[]) = 0) OR p.UserId IN ("                           \
    "    SELECT u.Id FROM Users u JOIN TeamMembers tm ON tm.UserId = u.Id AND tm.TeamId = $2"                          \
    "    WHERE (cardinality($7::text[]) = 0 OR u.Username = ANY($7::text[])) AND NOT (u.Username = ANY($8::text[]))))" \
    "   AND ($9::bigint IS NULL OR p.CreateAt >= $9::bigint) AND ($10::bigint IS NULL OR p.CreateAt <= $10::bigint)"   \
    "   AND ($11::bigint IS NULL OR p.CreateAt NOT BETWEEN $11::bigint AND $12::bigint)),"                             \
    " plain AS ("                                                                                                      \
    "  SELECT * FROM base b WHERE $3::text IS NOT NULL"                                                                \
    "   AND ($3::text = '' OR to_tsvector('english', b.Message) @@ to_tsquery('english', $3::text))"                   \
    "  ORDER BY b.CreateAt DESC LIMIT " POST_SEARCH_LIMIT "),"                                                         \
    " tags AS ("                                                                                                       \
    "  SELECT * FROM base b WHERE $4::text IS NOT NULL"                                                                \
    "   AND to_tsvector('english', b.Hashtags) @@ to_tsquery('english', $4::text)"                                     \
    "   AND EXISTS (SELECT 1 FROM unnest(string_to_array(upper(b.Hashtags), ' ')) t WHERE t = ANY($13::text[]))"       \
    "  ORDER BY b.CreateAt DESC LIMIT " POST_SEARCH_LIMIT "),"                                                         \
    " hits AS (SELECT * FROM plain UNION SELECT * FROM tags),"                                                         \
    " thr AS (SELECT DISTINCT ChannelId AS c, CASE WHEN RootId = '' THEN Id ELSE RootId END AS t FROM hits),"          \
    " rc AS (SELECT r.RootId, count(*) AS n FROM Posts r WHERE r.ChannelId = ANY(ARRAY(SELECT c FROM thr))"            \
    "  AND r.CreateAt >= (SELECT min(o.CreateAt) FROM Posts o WHERE o.Id IN (SELECT t FROM thr))"                      \
    "  AND r.RootId IN (SELECT t FROM thr) AND r.DeleteAt = 0 GROUP BY r.RootId)," POST_REACTIONS_GROUPED(             \
        "hits") " SELECT " POST_COLUMNS ", COALESCE(rc.n, 0), rx.j,"                                                   \
                "  CASE WHEN $14::text IS NOT NULL AND p.Id IN (SELECT Id FROM plain) THEN ts_headline('english', "    \
                "p.Message,"                                                                                           \
                "   to_tsquery('english', $14::text), 'StartSel=' || chr(1) || ', StopSel=' || chr(2) || ', "          \
                "HighlightAll=true')"                                                                                  \
                "  END, p.Id IN (SELECT Id FROM tags)"                                                                 \
                " FROM hits p LEFT JOIN rc ON rc.RootId = (CASE WHEN p.RootId = '' THEN p.Id ELSE p.RootId END)"       \
                " LEFT JOIN rx ON rx.PostId = p.Id"                                                                    \
                " ORDER BY p.CreateAt DESC"

#define POST_SEARCH_NPARAMS 14

/* One search, ready to run: its statement and parameters, in the pool. */
typedef struct {
    const char *sql;
    const char *params[POST_SEARCH_NPARAMS];
    int nparams;
    text_strlist_t tags; /* the hashtags searched, upper case (for `matches`) */
} post_search_t;

/* The search of `terms` (AND unless `or_terms`) by `user_id` in `team_id`,
 * days starting at UTC + `tz_offset` seconds; false when it can match
 * nothing, as Mattermost's store then answers no results. */
bool post_search_build(h2o_mem_pool_t *pool, const post_search_terms_t *terms, bool or_terms, int64_t tz_offset,
                       const char *user_id, const char *team_id, post_search_t *out);

/* No results: an empty PostList with empty `matches`. */
json_t *post_search_empty(void);

/* The hits of a POST_SQL_SEARCH result, newest first, each with the words
 * that matched it. */
json_t *post_search_to_json(const PGresult *res, const post_search_t *search);

#endif
