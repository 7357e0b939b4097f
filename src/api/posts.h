/* What the posts handlers (posts.c, post_list.c, post_search.c) share; the
 * SQL and the Post model's JSON are store/post.h. */
#ifndef CHORUS_API_POSTS_H
#define CHORUS_API_POSTS_H

#include "api/request.h"

/* Posts.Message is varchar(65535): Mattermost allows a quarter of it, in
 * runes (and tells the clients so: MaxPostSize in the client config). */
#define POST_MESSAGE_MAX_RUNES 16383

/* Route parameter i, which must be an id ("me" is not one here); NULL after
 * a 400 (posts.c). */
const char *api_post_param_id(api_request_t *r, size_t i, const char *name);

#endif
