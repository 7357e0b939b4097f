/*
 * Pinned posts, as Mattermost's api4/post.go (saveIsPinnedPost) and
 * api4/channel.go (getPinnedPosts) serve them.  Pinning or unpinning is a
 * patch of is_pinned (the patch statement of posts.c: UpdateAt, the
 * channel's LastPostAt and the root's UpdateAt move as for any edit) by
 * anyone who may read the channel, not refused for another's post; a post
 * that is missing is a permission error, an archived channel's post is
 * refused as an edit there is, and so is a system message.  It publishes
 * `post_edited` and answers {"status": "OK"}.  The channel's pinned posts
 * are a PostList, oldest first, no cursors; channel stats count them
 * (pinnedpost_count, read each time: memberships.c).
 */
#include <string.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/posts.h"
#include "api/response.h"
#include "core/clock.h"
#include "core/text.h"
#include "store/post.h"
#include "store/row.h"

/* ---- POST /api/v4/posts/{post_id}/pin and /unpin ------------------------------------ */

static void on_pin_saved(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_error_database(r, NULL);
        return;
    }
    if (strcmp(row_str(res, 0, POST_NCOLUMNS), "system") == 0) {
        api_send_error(r, 400, "api.post.update_post.system_message.app_error", "Unable to update system message.",
                       NULL);
        return;
    }
    if (PQgetisnull(res, 0, 0)) { /* deleted meanwhile: as a missing post */
        api_error_permissions(r);
        return;
    }
    json_t *post = post_to_json(res, 0);
    api_post_publish(r, "post_edited", post, NULL, NULL);
    json_decref(post);
    api_send_json(r, 200, json_pack("{s:s}", "status", "OK"));
}

static void pin_update(api_request_t *r)
{
    const api_channel_access_t *ch = r->state;
    if (ch->delete_at != 0) {
        api_send_error(r, 400, "api.post.patch_post.can_not_update_post_in_deleted.error",
                       "Can not update a post in a deleted channel.", NULL);
        return;
    }
    /* POST_SQL_PATCH with is_pinned alone */
    const char *params[] = {api_param(r, 0), NULL, NULL, r->input, NULL, NULL, text_i64(&r->req->pool, clock_now_ms())};
    api_query(r, POST_SQL_PATCH, 7, params, on_pin_saved);
}

static void save_pinned(api_request_t *r, const char *pinned)
{
    const char *id = api_post_param_id(r, 0, "post_id");
    if (id == NULL)
        return;
    r->input = pinned;
    /* GetSinglePost failing is a permission error; then who may read the
     * channel (SessionHasPermissionToReadChannel) may pin */
    api_post_find(r, id, false, &(api_post_step_t){pin_update, ACCESS_READ, 403, NULL, false});
}

void api_posts_pin(api_request_t *r)
{
    save_pinned(r, "t");
}

void api_posts_unpin(api_request_t *r)
{
    save_pinned(r, "f");
}

/* ---- GET /api/v4/channels/{channel_id}/pinned --------------------------------------- */

static void on_pinned_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    int n = PQntuples(res);
    int *rows = h2o_mem_alloc_pool(&r->req->pool, sizeof(*rows) * (size_t)(n > 0 ? n : 1));
    for (int i = 0; i < n; i++)
        rows[i] = i;
    api_send_json(r, 200, post_list_of_rows(res, rows, n));
}

static void pinned_send(api_request_t *r)
{
    const api_channel_access_t *ch = r->state;
    const char *params[] = {ch->id};
    api_query_read(r, POST_SQL_PINNED, 1, params, on_pinned_loaded);
}

void api_channels_pinned(api_request_t *r)
{
    const char *id = api_post_param_id(r, 0, "channel_id");
    if (id == NULL)
        return;
    api_require_channel(r, id, ACCESS_READ, pinned_send);
}
