/*
 * Saved posts, as Mattermost's getFlaggedPostsForUser (api4/post.go)
 * answers them: the posts a user's flagged_post preferences name (saving
 * and unsaving are preferences: preferences.c), filtered by channel_id or
 * team_id (a team also takes direct and group channels), paged (page,
 * per_page), newest first, in a PostList without cursors.  Only channels
 * the user is a member of count, and the caller must be able to read each
 * post's channel (read_channel_content), as Mattermost checks post by post.
 * A user reads their own; another's takes edit_other_users.
 */
#include <string.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/posts.h"
#include "api/response.h"
#include "core/text.h"
#include "store/post.h"
#include "store/row.h"

static void on_flagged_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    int n = PQntuples(res), kept = 0;
    int *rows = h2o_mem_alloc_pool(&r->req->pool, sizeof(*rows) * (size_t)(n > 0 ? n : 1));
    for (int i = 0; i < n; i++)
        if (api_has_permission(r, "read_channel_content", row_str(res, i, POST_NCOLUMNS)) ||
            api_has_permission(r, "read_channel_content", row_str(res, i, POST_NCOLUMNS + 1)))
            rows[kept++] = i;
    api_send_json(r, 200, post_list_of_rows(res, rows, kept));
}

void api_posts_flagged(api_request_t *r)
{
    const char *user_id = api_param_id(r, 0, "user_id");
    if (user_id == NULL)
        return;
    if (strcmp(user_id, r->session.user_id) != 0 && !api_require_permission(r, "edit_other_users"))
        return;
    const char *channel_id = api_query_param(r, "channel_id"), *team_id = api_query_param(r, "team_id");
    api_page_t page = api_query_page(r, NULL);
    /* channel_id wins over team_id, as Mattermost picks one */
    const char *params[] = {user_id,
                            channel_id != NULL ? channel_id : "",
                            channel_id != NULL && channel_id[0] != '\0' ? "" : (team_id != NULL ? team_id : ""),
                            text_i64(&r->req->pool, page.per_page),
                            text_i64(&r->req->pool, page.offset),
                            r->session.user_id};
    api_query_read(r, POST_SQL_FLAGGED, 6, params, on_flagged_loaded);
}
