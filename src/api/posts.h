/* The Post model as Mattermost serializes it, for every handler and
 * WebSocket event (posted, post_edited, post_deleted) that carries posts: select `api_post_columns` from
 * `Posts p` (in that order) and convert a row.  Also what the posts handlers
 * (posts.c, post_list.c, post_search.c) share. */
#ifndef CHORUS_API_POSTS_H
#define CHORUS_API_POSTS_H

#include <jansson.h>
#include <libpq-fe.h>

#include "api/request.h"

/* Posts.Message is varchar(65535): Mattermost allows a quarter of it, in
 * runes (and tells the clients so: MaxPostSize in the client config). */
#define POST_MESSAGE_MAX_RUNES 16383

/* The 16 columns of a post (without its reply count); the table or CTE they
 * come from must be aliased `p`. */
#define POST_COLS                                                                                                     \
    "p.Id, p.CreateAt, p.UpdateAt, p.EditAt, p.DeleteAt, p.IsPinned, p.UserId, p.ChannelId, p.RootId, p.OriginalId, " \
    "p.Message, p.Type, p.Props, p.Hashtags, p.FileIds, p.PendingPostId"

/* The 16 columns of a post, then its reply count (17 in all); the table or
 * CTE they come from must be aliased `p`. */
extern const char *const api_post_columns;
#define API_POST_NCOLUMNS 17

/* A post from columns 0..16 of `row`, as PreparePostForClient leaves it
 * (metadata {}, no participants). */
json_t *api_post_json(const PGresult *res, int row);

/* An empty PostList: no order, no posts, no cursors (post_list.c). */
json_t *api_post_list_empty(void);

/* Route parameter i, which must be an id ("me" is not one here); NULL after
 * a 400 (posts.c). */
const char *api_post_param_id(api_request_t *r, size_t i, const char *name);

#endif
