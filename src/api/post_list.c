/*
 * GET /api/v4/channels/{channel_id}/posts, as Mattermost's store and API
 * list a channel: plain pages (newest first, deleted excluded), `since`
 * (update_at > since, deleted included, at most 1000, no cursors),
 * `before`/`after` cursors with page/per_page, the thread posts of the page
 * in `posts` only, and next_post_id/prev_post_id as AddCursorIdsForPostList
 * sets them; the page, its threads and both neighbour ids come from one query
 * (store/post.h, POST_SQL_LIST_*).  The posts around a user's first unread
 * one (GetPostsForChannelAroundLastUnread) are listed the same way, from
 * the member's LastViewedAt.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/posts.h"
#include "api/response.h"
#include "core/text.h"
#include "store/post.h"
#include "store/row.h"
#include "store/unread.h"

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
    if (lp->include_deleted && !api_require_permission(r, "read_deleted_posts"))
        return false;
    return true;
}

static void on_posts_listed(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    list_params_t lp;
    read_list_params(r, &lp); /* validated before the query */
    const char *next, *prev;
    int n;
    json_t *list = post_list_to_json(res, &next, &prev, &n);
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
        api_query_read(r, POST_SQL_LIST_SINCE, 2, params, on_posts_listed);
        return;
    }
    const char *params[] = {channel,
                            text_i64(pool, lp.per_page),
                            text_i64(pool, lp.offset),
                            lp.skip_threads ? "f" : "t",
                            lp.include_deleted ? "t" : "f",
                            lp.after[0] != '\0' ? lp.after : lp.before};
    if (lp.after[0] != '\0')
        api_query_read(r, POST_SQL_LIST_AFTER, 6, params, on_posts_listed);
    else if (lp.before[0] != '\0')
        api_query_read(r, POST_SQL_LIST_BEFORE, 6, params, on_posts_listed);
    else
        api_query_read(r, POST_SQL_LIST_PAGE, 5, params, on_posts_listed);
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

/* ---- GET /users/{user_id}/channels/{channel_id}/posts/unread ---------------- */

/* limit_before / limit_after as web.ParamsFromRequest reads them: malformed,
 * negative or above 200 is 60. */
static int64_t unread_limit(api_request_t *r, const char *name)
{
    int64_t v;
    if (!api_parse_int64(api_query_param(r, name), &v) || v < 0 || v > API_PER_PAGE_MAX)
        return API_PER_PAGE_DEFAULT;
    return v;
}

static void on_unread_listed(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    const char *next, *prev;
    int n;
    json_t *list = post_list_to_json(res, &next, &prev, &n);
    /* the neighbours of the newest and the oldest post of the list */
    json_object_set_new(list, "next_post_id", json_string(next));
    json_object_set_new(list, "prev_post_id", json_string(prev));
    api_send_json(r, 200, list);
}

/* The member's LastViewedAt: none is a 404, 0 (never viewed) an empty list;
 * else the list around the oldest post after it. */
static void on_last_viewed(api_request_t *r, PGresult *res, const char *error)
{
    if (!api_query_one_row(r, res, error, "app.channel.get_member.missing.app_error", "channel member"))
        return;
    int64_t last_viewed = row_int64(res, 0, 0);
    if (last_viewed == 0) {
        api_send_json(r, 200, post_list_empty());
        return;
    }
    h2o_mem_pool_t *pool = &r->req->pool;
    bool collapsed = text_parse_bool(api_query_param(r, "collapsedThreads"));
    bool threads = !collapsed && !text_parse_bool(api_query_param(r, "skipFetchThreads"));
    const char *params[] = {api_param(r, 1),
                            text_i64(pool, unread_limit(r, "limit_before")),
                            text_i64(pool, unread_limit(r, "limit_after") - 1),
                            threads ? "t" : "f",
                            "f",
                            text_i64(pool, last_viewed),
                            collapsed ? "t" : "f"};
    api_query_read(r, POST_SQL_LIST_UNREAD, 7, params, on_unread_listed);
}

static void unread_last_viewed(api_request_t *r)
{
    if (unread_limit(r, "limit_after") == 0) {
        api_error_invalid_param(r, "limit_after");
        return;
    }
    const char *params[] = {api_param(r, 1), api_param_id(r, 0, "user_id")};
    api_query_read(r, UNREAD_SQL_LAST_VIEWED, 2, params, on_last_viewed);
}

void api_posts_unread_for_channel(api_request_t *r)
{
    const char *user_id = api_param_id(r, 0, "user_id"), *channel;
    if (user_id == NULL || (channel = api_post_param_id(r, 1, "channel_id")) == NULL)
        return;
    if (strcmp(user_id, r->session.user_id) != 0 && !api_has_permission(r, "edit_other_users", NULL)) {
        api_error_permissions(r);
        return;
    }
    api_require_channel(r, channel, ACCESS_READ, unread_last_viewed);
}
