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
void api_teams_create(api_request_t *r);               /* POST /api/v4/teams */
void api_teams_get(api_request_t *r);                  /* GET /api/v4/teams/{team_id} */
void api_teams_add_member(api_request_t *r);           /* POST /api/v4/teams/{team_id}/members */
void api_teams_for_user(api_request_t *r);             /* GET /api/v4/users/{user_id}/teams ("me" too) */
void api_channels_create(api_request_t *r);            /* POST /api/v4/channels */
void api_channels_create_direct(api_request_t *r);     /* POST /api/v4/channels/direct */
void api_channels_get(api_request_t *r);               /* GET /api/v4/channels/{channel_id} */
void api_channels_add_member(api_request_t *r);        /* POST /api/v4/channels/{channel_id}/members */
void api_channels_get_members(api_request_t *r);       /* GET /api/v4/channels/{channel_id}/members */
void api_channels_for_team_for_user(api_request_t *r); /* GET /api/v4/users/{user_id}/teams/{team_id}/channels */

/* posts and search */
void api_posts_create(api_request_t *r);      /* POST /api/v4/posts */
void api_posts_get(api_request_t *r);         /* GET /api/v4/posts/{post_id} */
void api_posts_patch(api_request_t *r);       /* PUT /api/v4/posts/{post_id}/patch */
void api_posts_delete(api_request_t *r);      /* DELETE /api/v4/posts/{post_id} */
void api_posts_for_channel(api_request_t *r); /* GET /api/v4/channels/{channel_id}/posts */
void api_posts_search(api_request_t *r);      /* POST /api/v4/teams/{team_id}/posts/search */

/* statuses */
void api_status_get(api_request_t *r);        /* GET /api/v4/users/{user_id}/status */
void api_status_update(api_request_t *r);     /* PUT /api/v4/users/{user_id}/status */
void api_status_get_by_ids(api_request_t *r); /* POST /api/v4/users/status/ids */

/* database, config and cluster */
void api_database_recycle(api_request_t *r); /* POST /api/v4/database/recycle */
void api_config_get(api_request_t *r);       /* GET /api/v4/config */
void api_config_update(api_request_t *r);    /* PUT /api/v4/config */
void api_config_reload(api_request_t *r);    /* POST /api/v4/config/reload */
void api_cluster_status(api_request_t *r);   /* GET /api/v4/cluster/status */

/* the server describing itself to the apps (config_client.c, identity.c) */
void api_config_client(api_request_t *r);  /* GET /api/v4/config/client */
void api_license_client(api_request_t *r); /* GET /api/v4/license/client */
void api_limits_server(api_request_t *r);  /* GET /api/v4/limits/server */
void api_plugins_webapp(api_request_t *r); /* GET /api/v4/plugins/webapp */

/* jobs */
void api_jobs_create(api_request_t *r);       /* POST /api/v4/jobs */
void api_jobs_list(api_request_t *r);         /* GET /api/v4/jobs */
void api_jobs_get(api_request_t *r);          /* GET /api/v4/jobs/{job_id} */
void api_jobs_list_by_type(api_request_t *r); /* GET /api/v4/jobs/type/{job_type} */
void api_jobs_cancel(api_request_t *r);       /* POST /api/v4/jobs/{job_id}/cancel */

#endif
