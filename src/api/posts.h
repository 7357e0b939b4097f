/* What the posts handlers (posts.c, post_list.c, post_search.c) share; the
 * SQL and the Post model's JSON are store/post.h. */
#ifndef CHORUS_API_POSTS_H
#define CHORUS_API_POSTS_H

#include "api/request.h"

/* Route parameter i, which must be an id ("me" is not one here); NULL after
 * a 400 (posts.c). */
const char *api_post_param_id(api_request_t *r, size_t i, const char *name);

#endif
