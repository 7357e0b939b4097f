/* The Post model as Mattermost serializes it, for every handler (and, later,
 * the websocket events) that returns posts: select `api_post_columns` from
 * `Posts p` (in that order) and convert a row. */
#ifndef CHORUS_API_POSTS_H
#define CHORUS_API_POSTS_H

#include <jansson.h>
#include <libpq-fe.h>

/* The 16 columns of a post, then its reply count (17 in all); the table or
 * CTE they come from must be aliased `p`. */
extern const char *const api_post_columns;
#define API_POST_NCOLUMNS 17

/* A post from columns 0..16 of `row`, as PreparePostForClient leaves it
 * (metadata {}, no participants). */
json_t *api_post_json(const PGresult *res, int row);

#endif
