/* What the posts handlers (posts.c, post_list.c, post_search.c) share; the
 * SQL and the Post model's JSON are store/post.h. */
#ifndef CHORUS_API_POSTS_H
#define CHORUS_API_POSTS_H

#include "api/access.h"
#include "api/request.h"

/* Posts.Message is varchar(65535): Mattermost allows a quarter of it, in
 * runes (and tells the clients so: MaxPostSize in the client config). */
#define POST_MESSAGE_MAX_RUNES 16383

/* Route parameter i, which must be an id ("me" is not one here); NULL after
 * a 400 (posts.c). */
const char *api_post_param_id(api_request_t *r, size_t i, const char *name);

/* The first step of a handler that starts from a post id (api_post_find):
 * the post's channel and author. */
typedef struct {
    api_handler_fn next;
    api_access_t want;
    int missing_status; /* 404, or 403 where Mattermost answers a permission error */
    const char *others; /* the permission another's post takes (edit/delete_others_posts; at system
                           scope only for now), NULL for none */
    bool read;          /* may ask a replica (a read), else the master (before a write) */
} api_post_step_t;

/* Finds post `post_id` (a deleted one too with `include_deleted`), checks
 * `step` (a missing post answers `missing_status`), then runs step->next
 * after api_require_channel with step->want: r->state is then the
 * channel's api_channel_access_t. */
void api_post_find(api_request_t *r, const char *post_id, bool include_deleted, const api_post_step_t *step);

/* Publishes `event` ("posted", "post_edited", "post_deleted") with `post`
 * as a JSON string to the channel in r->state (an api_channel_access_t);
 * `posted` takes the sender's username and the mentioned ids' JSON text
 * (NULL for none), the others NULL. */
void api_post_publish(api_request_t *r, const char *event, json_t *post, const char *sender, const char *mentions);

#endif
