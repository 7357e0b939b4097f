/*
 * Permissions, as Mattermost grants them: a permission is held through a
 * role (the Roles table: worker/roles.h), and a caller holds the roles of
 * its session (system scope) and, within a team or channel, those of its
 * membership (scheme roles team_user / team_admin and the explicit ones).
 * api_has_permission answers for the session's roles (and any member roles
 * the handler read); a statement that checks a membership itself takes the
 * names of the roles granting the permission (api_roles_granting).
 *
 * Teams and channels under the default roles: a system admin may do
 * anything; a team member reads the team; a channel member reads and writes
 * its channel; a team member also reads the open (type O) channels of the
 * team; nobody else sees a private, direct or group channel (403), and a
 * missing one is a 404.  An archived channel passes every check (Mattermost
 * keeps it readable, posts included); a write that refuses it reads
 * delete_at.
 */
#ifndef CHORUS_API_ACCESS_H
#define CHORUS_API_ACCESS_H

#include "api/request.h"

/* ACCESS_MANAGE loads the channel, an archived one too, and checks nothing:
 * the handler checks its own permission with the member roles. */
typedef enum { ACCESS_READ, ACCESS_WRITE, ACCESS_MANAGE } api_access_t;

/* What the access check learned of the channel, for the handler. */
typedef struct {
    char id[ID_LENGTH + 1];
    char team_id[ID_LENGTH + 1];
    char type; /* O, P, D, G */
    char name[65];
    char display_name[65];
    bool member;      /* the caller is a member of the channel */
    bool team_member; /* ... of its team */
    int64_t delete_at;
    /* The caller's roles in the channel and in its team, space-separated
     * ("" for none), for api_has_permission at channel or team scope
     * (SessionHasPermissionToChannel reads both, ...ToTeam the team's). */
    const char *channel_roles, *team_roles;
} api_channel_access_t;

/* `permission` at channel scope: the caller's system, channel or team roles. */
bool api_has_channel_permission(const api_request_t *r, const api_channel_access_t *c, const char *permission);

/* Brings the worker's roles up to date when a role changed since it loaded
 * them (one query on the master), then calls `next`; every authenticated
 * request passes here before its handler (auth.c).  Should the load fail,
 * the checks read the roles last loaded. */
void api_roles_ready(api_request_t *r, api_handler_fn next);

/* The caller's session roles, or the space-separated `member_roles` (NULL
 * for none), grant `permission` ("create_public_channel"). */
bool api_has_permission(const api_request_t *r, const char *permission, const char *member_roles);
/* api_has_permission at system scope: true; else answers 403
 * (api.context.permissions.app_error) and returns false. */
bool api_require_permission(api_request_t *r, const char *permission);
/* The caller holds manage_system: api_require_permission for it. */
bool api_require_admin(api_request_t *r);
/* The names of the roles that grant `permission`, as a PostgreSQL text[]
 * literal in the request pool, for statements that check a membership's
 * roles themselves (TEAM_MEMBER_GRANTS). */
const char *api_roles_granting(api_request_t *r, const char *permission);

/* Loads channel `channel_id` and the caller's memberships, checks `want`,
 * stores what it learned in r->state (an api_channel_access_t, which the
 * handler may replace) and calls `next`; answers 403/404 itself. */
void api_require_channel(api_request_t *r, const char *channel_id, api_access_t want, api_handler_fn next);
/* The caller is a member of team `team_id` (or a system admin): then `next`
 * runs; a missing team is a 404, a non-member gets 403.  For reads only: it
 * checks on a replica that has the caller's own writes. */
void api_require_team_member(api_request_t *r, const char *team_id, api_handler_fn next);

#endif
