/* Every API handler, one line each; router.c maps routes to them. */
#ifndef CHORUS_API_HANDLERS_H
#define CHORUS_API_HANDLERS_H

#include "api/router.h"

void api_system_ping(api_request_t *r); /* GET /api/v4/system/ping */

void api_users_create(api_request_t *r);           /* POST /api/v4/users */
void api_users_login(api_request_t *r);            /* POST /api/v4/users/login */
void api_users_logout(api_request_t *r);           /* POST /api/v4/users/logout */
void api_users_get(api_request_t *r);              /* GET /api/v4/users/{user_id} ("me" too) */
void api_users_get_by_ids(api_request_t *r);       /* POST /api/v4/users/ids */
void api_users_get_by_usernames(api_request_t *r); /* POST /api/v4/users/usernames */
void api_users_get_by_username(api_request_t *r);  /* GET /api/v4/users/username/{username} */
void api_users_get_by_email(api_request_t *r);     /* GET /api/v4/users/email/{email} */
void api_users_list(api_request_t *r);             /* GET /api/v4/users */
void api_users_autocomplete(api_request_t *r);     /* GET /api/v4/users/autocomplete */
void api_users_search(api_request_t *r);           /* POST /api/v4/users/search */
void api_users_stats(api_request_t *r);            /* GET /api/v4/users/stats */
void api_users_patch(api_request_t *r);            /* PUT /api/v4/users/{user_id}/patch */
void api_users_update(api_request_t *r);           /* PUT /api/v4/users/{user_id} */
void api_users_update_active(api_request_t *r);    /* PUT /api/v4/users/{user_id}/active */
void api_users_update_roles(api_request_t *r);     /* PUT /api/v4/users/{user_id}/roles */
void api_users_update_password(api_request_t *r);  /* PUT /api/v4/users/{user_id}/password */
void api_users_image(api_request_t *r);            /* GET /api/v4/users/{user_id}/image (and /image/default) */

/* teams and channels */
void api_teams_create(api_request_t *r);         /* POST /api/v4/teams */
void api_teams_get(api_request_t *r);            /* GET /api/v4/teams/{team_id} */
void api_teams_add_member(api_request_t *r);     /* POST /api/v4/teams/{team_id}/members */
void api_teams_for_user(api_request_t *r);       /* GET /api/v4/users/{user_id}/teams ("me" too) */
void api_teams_join_by_invite(api_request_t *r); /* POST /api/v4/teams/members/invite */
/* teams beyond creating and joining (teams_admin.c), under /api/v4/teams */
void api_teams_list(api_request_t *r);                 /* GET . */
void api_teams_get_by_name(api_request_t *r);          /* GET ./name/{name} */
void api_teams_exists(api_request_t *r);               /* GET ./name/{name}/exists */
void api_teams_patch(api_request_t *r);                /* PUT ./{team_id}/patch */
void api_teams_update(api_request_t *r);               /* PUT ./{team_id} */
void api_teams_delete(api_request_t *r);               /* DELETE ./{team_id} */
void api_teams_restore(api_request_t *r);              /* POST ./{team_id}/restore */
void api_teams_stats(api_request_t *r);                /* GET ./{team_id}/stats */
void api_teams_update_privacy(api_request_t *r);       /* PUT ./{team_id}/privacy */
void api_teams_regenerate_invite_id(api_request_t *r); /* POST ./{team_id}/regenerate_invite_id */
void api_teams_search(api_request_t *r);               /* POST ./search (team_search.c) */
/* a team's members (team_members.c), under /api/v4/teams/{team_id}/members */
void api_teams_members_get(api_request_t *r);          /* GET . */
void api_teams_members_by_ids(api_request_t *r);       /* POST ./ids */
void api_teams_member_get(api_request_t *r);           /* GET ./{user_id} */
void api_teams_member_remove(api_request_t *r);        /* DELETE ./{user_id} */
void api_teams_member_roles(api_request_t *r);         /* PUT ./{user_id}/roles */
void api_channels_create(api_request_t *r);            /* POST /api/v4/channels */
void api_channels_create_direct(api_request_t *r);     /* POST /api/v4/channels/direct */
void api_channels_get(api_request_t *r);               /* GET /api/v4/channels/{channel_id} */
void api_channels_add_member(api_request_t *r);        /* POST /api/v4/channels/{channel_id}/members */
void api_channels_get_members(api_request_t *r);       /* GET /api/v4/channels/{channel_id}/members */
void api_channels_for_team_for_user(api_request_t *r); /* GET /api/v4/users/{user_id}/teams/{team_id}/channels */
/* changing a channel (channel_admin.c), under /api/v4/channels/{channel_id} */
void api_channels_patch(api_request_t *r);          /* PUT .../patch */
void api_channels_update(api_request_t *r);         /* PUT (the channel) */
void api_channels_delete(api_request_t *r);         /* DELETE (archive) */
void api_channels_restore(api_request_t *r);        /* POST .../restore */
void api_channels_update_privacy(api_request_t *r); /* PUT .../privacy */
/* a team's channels (channel_lists.c), under /api/v4/teams/{team_id}/channels */
void api_channels_team_public(api_request_t *r);           /* GET */
void api_channels_team_deleted(api_request_t *r);          /* GET .../deleted */
void api_channels_team_search(api_request_t *r);           /* POST .../search */
void api_channels_team_autocomplete(api_request_t *r);     /* GET .../autocomplete */
void api_channels_team_by_ids(api_request_t *r);           /* POST .../ids */
void api_channels_by_name(api_request_t *r);               /* GET .../name/{channel_name} */
void api_channels_by_name_for_team_name(api_request_t *r); /* GET /teams/name/{t}/channels/name/{c} */
/* one channel member (channel_members.c), under /api/v4/channels/{channel_id}/members */
void api_channels_get_member(api_request_t *r);                 /* GET .../{user_id} */
void api_channels_members_by_ids(api_request_t *r);             /* POST .../ids */
void api_channels_remove_member(api_request_t *r);              /* DELETE .../{user_id} */
void api_channels_update_member_roles(api_request_t *r);        /* PUT .../{user_id}/roles */
void api_channels_update_member_notify_props(api_request_t *r); /* PUT .../{user_id}/notify_props */
/* group channels (channel_group.c) */
void api_channels_create_group(api_request_t *r);      /* POST /api/v4/channels/group */
void api_users_by_group_channel_ids(api_request_t *r); /* POST /api/v4/users/group_channels */

/* memberships and unreads (me too for user_id) */
void api_teams_members_for_user(api_request_t *r);             /* GET /users/{user_id}/teams/members */
void api_teams_unread_for_user(api_request_t *r);              /* GET /users/{user_id}/teams/unread */
void api_channels_members_for_team_for_user(api_request_t *r); /* GET /users/{u}/teams/{t}/channels/members */
void api_channels_members_for_user(api_request_t *r);          /* GET /users/{user_id}/channel_members */
void api_channels_for_user(api_request_t *r);                  /* GET /users/{user_id}/channels */
void api_channels_stats(api_request_t *r);                     /* GET /channels/{channel_id}/stats */
void api_channels_view(api_request_t *r);                      /* POST /channels/members/{user_id}/view */
void api_posts_set_unread(api_request_t *r);                   /* POST /users/{u}/posts/{post_id}/set_unread */
void api_posts_unread_for_channel(api_request_t *r);           /* GET /users/{u}/channels/{c}/posts/unread */
/* sidebar categories, under /api/v4/users/{user_id}/teams/{team_id}/channels/categories */
void api_sidebar_get_categories(api_request_t *r);    /* GET . */
void api_sidebar_create_category(api_request_t *r);   /* POST . */
void api_sidebar_update_categories(api_request_t *r); /* PUT . */
void api_sidebar_get_order(api_request_t *r);         /* GET ./order */
void api_sidebar_update_order(api_request_t *r);      /* PUT ./order */
void api_sidebar_get_category(api_request_t *r);      /* GET ./{category_id} */
void api_sidebar_update_category(api_request_t *r);   /* PUT ./{category_id} */
void api_sidebar_delete_category(api_request_t *r);   /* DELETE ./{category_id} */
/* roles */
void api_roles_list(api_request_t *r);        /* GET /api/v4/roles */
void api_roles_by_names(api_request_t *r);    /* POST /api/v4/roles/names */
void api_roles_get_by_name(api_request_t *r); /* GET /api/v4/roles/name/{role_name} */
void api_roles_get(api_request_t *r);         /* GET /api/v4/roles/{role_id} */
void api_roles_patch(api_request_t *r);       /* PUT /api/v4/roles/{role_id}/patch */

/* posts and search */
void api_posts_create(api_request_t *r);        /* POST /api/v4/posts */
void api_posts_get(api_request_t *r);           /* GET /api/v4/posts/{post_id} */
void api_posts_patch(api_request_t *r);         /* PUT /api/v4/posts/{post_id}/patch */
void api_posts_delete(api_request_t *r);        /* DELETE /api/v4/posts/{post_id} */
void api_posts_for_channel(api_request_t *r);   /* GET /api/v4/channels/{channel_id}/posts */
void api_posts_search(api_request_t *r);        /* POST /api/v4/teams/{team_id}/posts/search */
void api_posts_pin(api_request_t *r);           /* POST /api/v4/posts/{post_id}/pin */
void api_posts_unpin(api_request_t *r);         /* POST /api/v4/posts/{post_id}/unpin */
void api_channels_pinned(api_request_t *r);     /* GET /api/v4/channels/{channel_id}/pinned */
void api_posts_flagged(api_request_t *r);       /* GET /api/v4/users/{user_id}/posts/flagged */
void api_reactions_save(api_request_t *r);      /* POST /api/v4/reactions */
void api_reactions_delete(api_request_t *r);    /* DELETE /users/{u}/posts/{post_id}/reactions/{emoji_name} */
void api_reactions_for_post(api_request_t *r);  /* GET /api/v4/posts/{post_id}/reactions */
void api_reactions_for_posts(api_request_t *r); /* POST /api/v4/posts/ids/reactions */

/* statuses */
void api_status_get(api_request_t *r);        /* GET /api/v4/users/{user_id}/status */
void api_status_update(api_request_t *r);     /* PUT /api/v4/users/{user_id}/status */
void api_status_get_by_ids(api_request_t *r); /* POST /api/v4/users/status/ids */

/* preferences */
void api_preferences_get(api_request_t *r);          /* GET /api/v4/users/{user_id}/preferences */
void api_preferences_save(api_request_t *r);         /* PUT /api/v4/users/{user_id}/preferences */
void api_preferences_delete(api_request_t *r);       /* POST /api/v4/users/{user_id}/preferences/delete */
void api_preferences_get_category(api_request_t *r); /* GET /api/v4/users/{user_id}/preferences/{category} */
void api_preferences_get_one(api_request_t *r);      /* GET .../preferences/{category}/name/{preference_name} */

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
