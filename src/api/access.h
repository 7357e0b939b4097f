/*
 * Permissions on teams and channels, as Mattermost grants them by default:
 * a system admin may do anything; a team member reads the team; a channel
 * member reads and writes its channel; a team member also reads the open
 * (type O) channels of the team; nobody else sees a private, direct or
 * group channel (403), and a missing or deleted one is a 404.
 */
#ifndef CHORUS_API_ACCESS_H
#define CHORUS_API_ACCESS_H

#include "api/request.h"

typedef enum { ACCESS_READ, ACCESS_WRITE } api_access_t;

/* What the access check learned of the channel, for the handler. */
typedef struct {
    char id[ID_LENGTH + 1];
    char team_id[ID_LENGTH + 1];
    char type; /* O, P, D, G */
    char name[65];
    char display_name[65];
    bool member;      /* the caller is a member of the channel */
    bool team_member; /* ... of its team */
} api_channel_access_t;

/* The caller is a system admin: true; else answers 403
 * (api.context.permissions.app_error) and returns false. */
bool api_require_admin(api_request_t *r);

/* Loads channel `channel_id` and the caller's memberships, checks `want`,
 * stores what it learned in r->state (an api_channel_access_t, which the
 * handler may replace) and calls `next`; answers 403/404 itself. */
void api_require_channel(api_request_t *r, const char *channel_id, api_access_t want, api_handler_fn next);
/* The caller is a member of team `team_id` (or a system admin): then `next`
 * runs; a missing team is a 404, a non-member gets 403. */
void api_require_team_member(api_request_t *r, const char *team_id, api_handler_fn next);

#endif
