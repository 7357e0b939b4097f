/*
 * GET /api/v4/channels/{channel_id}/posts, as Mattermost's store and API
 * list a channel: plain pages (newest first, deleted excluded), `since`
 * (update_at > since, deleted included, at most 1000, no cursors),
 * `before`/`after` cursors with page/per_page, the thread posts of the page
 * in `posts` only, and next_post_id/prev_post_id as AddCursorIdsForPostList
 * sets them; the page, its threads and both neighbour ids come from one query.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/posts.h"
#include "api/response.h"
#include "core/text.h"
#include "store/row.h"

#define SINCE_LIMIT "1000"

typedef struct {
    const char *after, *before; /* "" when absent */
    int64_t since;              /* > 0: the since mode */
    int64_t page, per_page, offset;
    bool skip_threads, include_deleted;
} list_params_t;

/* As web.ParamsFromRequest and getPostsForChannel read them; false after a 400/403. */
static bool read_list_params(api_request_t *r, list_params_t *lp)
{
    memset(lp, 0, sizeof(*lp));
    lp->after = api_query_param(r, "after");
    lp->before = api_query_param(r, "before");
    lp->after = lp->after != NULL ? lp->after : "";
    lp->before = lp->before != NULL ? lp->before : "";
    if (lp->after[0] != '\0' && !id_is_valid(lp->after, strlen(lp->after))) {
        api_error_invalid_body(r, "after");
        return false;
    }
    if (lp->before[0] != '\0' && !id_is_valid(lp->before, strlen(lp->before))) {
        api_error_invalid_body(r, "before");
        return false;
    }
    const char *since = api_query_param(r, "since");
    if (since != NULL && since[0] != '\0' && !api_parse_int64(since, &lp->since)) {
        api_error_invalid_body(r, "since");
        return false;
    }
    api_page_t page = api_query_page(r, "pageSize");
    lp->page = page.page;
    lp->per_page = page.per_page;
    lp->offset = page.offset;
    lp->skip_threads = text_parse_bool(api_query_param(r, "skipFetchThreads"));
    lp->include_deleted = text_parse_bool(api_query_param(r, "include_deleted"));
    if (lp->include_deleted && !api_has_role(r, "system_admin")) {
        api_error_permissions(r);
        return false;
    }
    return true;
}

/* Every mode ends the same way: the rows of `page` (kind 'o', in `order`)
 * and of `extra` (kind 'x', in `posts` only), each with its thread's reply
 * count from one grouped scan of the channel (replies are never older than
 * their root), then the id after the newest and before the oldest of the
 * page (GetPostIdAfterTime / GetPostIdBeforeTime). */
#define LIST_TAIL                                                                                                     \
    " rows AS (SELECT p.*, 'o' AS kind FROM page p"                                                                   \
    "  UNION ALL SELECT e.*, 'x' FROM extra e WHERE e.Id NOT IN (SELECT Id FROM page)),"                              \
    " thr AS (SELECT DISTINCT CASE WHEN RootId = '' THEN Id ELSE RootId END AS t FROM rows),"                         \
    " rc AS (SELECT r.RootId, count(*) AS n FROM Posts r WHERE r.ChannelId = $1 AND r.DeleteAt = 0"                   \
    "  AND r.RootId IN (SELECT t FROM thr)"                                                                           \
    "  AND r.CreateAt >= (SELECT min(o.CreateAt) FROM Posts o WHERE o.Id IN (SELECT t FROM thr)) GROUP BY r.RootId)," \
    " cur AS (SELECT"                                                                                                 \
    "  (SELECT n.Id FROM Posts n WHERE n.ChannelId = $1 AND n.DeleteAt = 0"                                           \
    "   AND n.CreateAt > (SELECT max(CreateAt) FROM page) ORDER BY n.CreateAt ASC LIMIT 1) AS next_id,"               \
    "  (SELECT n.Id FROM Posts n WHERE n.ChannelId = $1 AND n.DeleteAt = 0"                                           \
    "   AND n.CreateAt < (SELECT min(CreateAt) FROM page) ORDER BY n.CreateAt DESC LIMIT 1) AS prev_id)"              \
    " SELECT " POST_COLS ", COALESCE(rc.n, 0), p.kind, cur.next_id, cur.prev_id FROM rows p"                          \
    "  LEFT JOIN rc ON rc.RootId = (CASE WHEN p.RootId = '' THEN p.Id ELSE p.RootId END) CROSS JOIN cur"              \
    " ORDER BY p.kind, p.CreateAt DESC"

/* The thread posts of `roots` (ids) for `posts` only: the roots by id and,
 * with $4 (fetch threads), their replies, never older than the oldest root. */
#define LIST_THREADS(roots)                                                                                    \
    " extra AS (SELECT * FROM Posts p WHERE p.Id IN (SELECT i FROM " roots ") AND p.ChannelId = $1"            \
    "  AND ($5::boolean OR p.DeleteAt = 0)"                                                                    \
    "  UNION SELECT * FROM Posts p WHERE $4::boolean AND p.ChannelId = $1 AND ($5::boolean OR p.DeleteAt = 0)" \
    "  AND p.CreateAt >= (SELECT min(CreateAt) FROM Posts WHERE Id IN (SELECT i FROM " roots "))"              \
    "  AND p.RootId IN (SELECT i FROM " roots ")),"

/* $1 channel, $2 limit, $3 offset, $4 fetch threads, $5 include deleted */
static const char *const sql_list_page =
    "WITH page AS (SELECT * FROM Posts p WHERE p.ChannelId = $1 AND ($5::boolean OR p.DeleteAt = 0)"
    "  ORDER BY p.CreateAt DESC LIMIT $2::bigint OFFSET $3::bigint),"
    " roots AS (SELECT DISTINCT RootId AS i FROM page WHERE RootId <> '')," LIST_THREADS("roots") LIST_TAIL;

/* $6 the anchor post; before: older than it, newest first */
#define LIST_AROUND(cmp, dir)                                                                                  \
    "WITH page AS (SELECT * FROM Posts p WHERE p.ChannelId = $1 AND ($5::boolean OR p.DeleteAt = 0)"           \
    "  AND p.CreateAt " cmp " (SELECT CreateAt FROM Posts WHERE Id = $6)"                                      \
    "  ORDER BY p.CreateAt " dir " LIMIT $2::bigint OFFSET $3::bigint),"                                       \
    " ids AS (SELECT Id AS i FROM page UNION SELECT RootId FROM page WHERE RootId <> '')," LIST_THREADS("ids") \
        LIST_TAIL

static const char *const sql_list_before = LIST_AROUND("<", "DESC");
static const char *const sql_list_after = LIST_AROUND(">", "ASC");

/* $1 channel, $2 since: changed posts (deleted too) and their roots; no cursors */
static const char *const sql_list_since =
    "WITH page AS (SELECT * FROM Posts p WHERE p.ChannelId = $1 AND p.UpdateAt > $2::bigint"
    "  ORDER BY p.UpdateAt ASC LIMIT " SINCE_LIMIT "),"
    " extra AS (SELECT * FROM Posts p WHERE p.Id IN (SELECT RootId FROM page))," LIST_TAIL;

json_t *api_post_list_empty(void)
{
    return json_pack("{s:[], s:{}, s:s, s:s, s:i}", "order", "posts", "next_post_id", "", "prev_post_id", "",
                     "first_inaccessible_post_time", 0);
}

static void on_posts_listed(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    list_params_t lp;
    read_list_params(r, &lp); /* validated before the query */
    json_t *list = api_post_list_empty();
    json_t *order = json_object_get(list, "order"), *posts = json_object_get(list, "posts");
    int n = 0, col = API_POST_NCOLUMNS;
    const char *next = "", *prev = "";
    for (int i = 0; i < PQntuples(res); i++) {
        json_object_set_new(posts, row_str(res, i, 0), api_post_json(res, i));
        if (row_str(res, i, col)[0] != 'o')
            continue;
        json_array_append_new(order, json_string(row_str(res, i, 0)));
        if (n++ == 0) {
            next = row_str(res, i, col + 1);
            prev = row_str(res, i, col + 2);
        }
    }
    /* AddCursorIdsForPostList */
    if (lp.since > 0) {
        next = prev = "";
    } else if (lp.after[0] != '\0') {
        if (lp.page == 0)
            prev = lp.after;
        if (n < lp.per_page)
            next = "";
    } else if (lp.before[0] != '\0') {
        if (lp.page == 0)
            next = lp.before;
        if (n < lp.per_page)
            prev = "";
    }
    json_object_set_new(list, "next_post_id", json_string(next));
    json_object_set_new(list, "prev_post_id", json_string(prev));
    api_send_json(r, 200, list);
}

static void list_posts_query(api_request_t *r)
{
    h2o_mem_pool_t *pool = &r->req->pool;
    list_params_t lp;
    if (!read_list_params(r, &lp))
        return;
    const char *channel = api_param(r, 0);
    if (lp.since > 0) {
        const char *params[] = {channel, text_i64(pool, lp.since)};
        api_query_read(r, sql_list_since, 2, params, on_posts_listed);
        return;
    }
    const char *params[] = {channel,
                            text_i64(pool, lp.per_page),
                            text_i64(pool, lp.offset),
                            lp.skip_threads ? "f" : "t",
                            lp.include_deleted ? "t" : "f",
                            lp.after[0] != '\0' ? lp.after : lp.before};
    if (lp.after[0] != '\0')
        api_query_read(r, sql_list_after, 6, params, on_posts_listed);
    else if (lp.before[0] != '\0')
        api_query_read(r, sql_list_before, 6, params, on_posts_listed);
    else
        api_query_read(r, sql_list_page, 5, params, on_posts_listed);
}

void api_posts_for_channel(api_request_t *r)
{
    const char *channel = api_post_param_id(r, 0, "channel_id");
    if (channel == NULL)
        return;
    list_params_t lp;
    if (!read_list_params(r, &lp))
        return;
    api_require_channel(r, channel, ACCESS_READ, list_posts_query);
}
