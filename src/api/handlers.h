/* Every API handler, one line each; router.c maps routes to them. */
#ifndef CHORUS_API_HANDLERS_H
#define CHORUS_API_HANDLERS_H

#include "api/router.h"

void api_system_ping(api_request_t *r); /* GET /api/v4/system/ping */

void api_users_create(api_request_t *r);     /* POST /api/v4/users */
void api_users_login(api_request_t *r);      /* POST /api/v4/users/login */
void api_users_logout(api_request_t *r);     /* POST /api/v4/users/logout */
void api_users_get(api_request_t *r);        /* GET /api/v4/users/{user_id} ("me" too) */
void api_users_get_by_ids(api_request_t *r); /* POST /api/v4/users/ids */

/* teams and channels */

/* posts and search */

/* statuses */

/* database and config */

#endif
