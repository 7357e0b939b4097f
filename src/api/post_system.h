/*
 * Writing Mattermost's system posts from a handler (post_system.c): after
 * a change succeeded (before it, for an archive, as DeleteChannel does),
 * the handler names the posts and what comes next, and they are written
 * one after the other, each published as `posted` to its channel.  A post
 * that cannot be written is logged and skipped: the change stands.
 */
#ifndef CHORUS_API_POST_SYSTEM_H
#define CHORUS_API_POST_SYSTEM_H

#include "api/request.h"

typedef struct {
    const char *type;       /* system_join_channel, ... (store/post_system.c) */
    const char *channel_id; /* where it goes */
    const char *user_id;    /* its author */
    const char *other_id;   /* the other user it names, or NULL */
    const char *root_id;    /* the thread it answers, or NULL */
    const char *old_value;  /* the old and new value it names, or NULL */
    const char *new_value;
} api_system_post_t;

/* Writes `posts` (n of them; copied, strings too), then calls `then` with r->state as it
 * was. */
void api_system_posts(api_request_t *r, const api_system_post_t *posts, size_t n, api_handler_fn then);

/* Writes `posts`, then answers `status` with `response` (which it owns). */
void api_system_posts_respond(api_request_t *r, const api_system_post_t *posts, size_t n, int status, json_t *response);

/* ServiceSettings.ExperimentalEnableDefaultChannelLeaveJoinMessages: the
 * team's join and leave posts (and the default channels' join posts). */
bool api_team_join_leave_posts(const api_request_t *r);

#endif
