/* What the sidebar category handlers (sidebar.c, sidebar_update.c) share:
 * the route's ids, Mattermost's permission on a user's sidebar, reading a
 * category body, and the events.  The SQL is store/sidebar.h. */
#ifndef CHORUS_API_SIDEBAR_H
#define CHORUS_API_SIDEBAR_H

#include <jansson.h>
#include <stdbool.h>

#include "api/request.h"

/* The route's {user_id} ("me" resolved), {team_id} and {category_id}, and
 * whether the caller is a system admin (who may act on anyone's sidebar:
 * edit_other_users). */
typedef struct {
    const char *user_id, *team_id, *category_id;
    bool admin;
} api_sidebar_t;

/* Reads the route's ids (the category's too when `with_category`) into a
 * pool-allocated api_sidebar_t, and checks that the caller may act on the
 * user's sidebar (SessionHasPermissionToUser: the user, or an admin).
 * NULL after answering 400 or 403. */
api_sidebar_t *api_sidebar_begin(api_request_t *r, bool with_category);

/* The body as JSON of `type`; NULL after answering Mattermost's 400 for a
 * body it cannot decode (api.context.invalid_url_param.app_error, "category").
 * It is released with the request. */
json_t *api_sidebar_body(api_request_t *r, json_type type);
/* A category of a body, normalized for the statements of store/sidebar.h:
 * {id, display_name, sorting, muted, collapsed, channel_ids}, every field
 * present (`id` given replaces the body's).  NULL after answering 400 when a
 * field has the wrong type or does not fit its column. */
json_t *api_sidebar_category_input(api_request_t *r, json_t *category, const char *id);

/* 400 api.context.invalid_url_param.app_error for "category". */
void api_sidebar_error_category(api_request_t *r);
/* Mattermost's one error id of the sidebar store, with `status`. */
void api_sidebar_error_store(api_request_t *r, int status);
/* 400 api.invalid_channel: the user has no channel to place in the team. */
void api_sidebar_error_no_channels(api_request_t *r);

/* Publishes `event` with `data` (borrowed) to the sidebar's user (Mattermost
 * sets the team too). */
void api_sidebar_publish(api_request_t *r, const api_sidebar_t *s, const char *event, json_t *data);

#endif
