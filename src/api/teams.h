/* Teams, channels and their members as Mattermost serializes them, for every
 * handler that returns them.  Select API_*_COLUMNS(prefix) (in that order,
 * prefix being a table alias such as "c." or "") starting at column `col`,
 * then convert the row with the matching api_*_json. */
#ifndef CHORUS_API_TEAMS_H
#define CHORUS_API_TEAMS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

/* 13 columns of Teams. */
#define API_TEAM_COLUMNS(p)                                                                                            \
    p "Id, " p "CreateAt, " p "UpdateAt, " p "DeleteAt, " p "DisplayName, " p "Name, " p "Description, " p "Email, " p \
      "Type, " p "CompanyName, " p "AllowedDomains, " p "InviteId, " p "AllowOpenInvite"
#define API_TEAM_NCOLUMNS 13

/* 7 columns of TeamMembers. */
#define API_TEAM_MEMBER_COLUMNS(p) \
    p "TeamId, " p "UserId, " p "Roles, " p "DeleteAt, " p "SchemeUser, " p "SchemeAdmin, " p "CreateAt"
#define API_TEAM_MEMBER_NCOLUMNS 7

/* 13 columns of Channels. */
#define API_CHANNEL_COLUMNS(p)                                                                                   \
    p "Id, " p "CreateAt, " p "UpdateAt, " p "DeleteAt, " p "TeamId, " p "Type, " p "DisplayName, " p "Name, " p \
      "Header, " p "Purpose, " p "LastPostAt, " p "TotalMsgCount, " p "CreatorId"
#define API_CHANNEL_NCOLUMNS 13

/* 10 columns of ChannelMembers. */
#define API_CHANNEL_MEMBER_COLUMNS(p)                                                                                 \
    p "ChannelId, " p "UserId, " p "Roles, " p "LastViewedAt, " p "MsgCount, " p "MentionCount, " p "NotifyProps, " p \
      "LastUpdateAt, " p "SchemeUser, " p "SchemeAdmin"
#define API_CHANNEL_MEMBER_NCOLUMNS 10

/* NotifyProps of a new channel member (Mattermost's defaults), as JSON. */
#define API_CHANNEL_NOTIFY_PROPS_DEFAULT                                                           \
    "{\"desktop\":\"default\",\"email\":\"default\",\"mark_unread\":\"all\",\"push\":\"default\"," \
    "\"ignore_channel_mentions\":\"default\",\"channel_auto_follow_threads\":\"off\"}"

/* A Team; `sanitize` blanks email and invite_id (callers that may not manage
 * the team: Mattermost's Team.Sanitize). */
json_t *api_team_json(const PGresult *res, int row, int col, bool sanitize);
json_t *api_team_member_json(const PGresult *res, int row, int col);
json_t *api_channel_json(const PGresult *res, int row, int col);
json_t *api_channel_member_json(const PGresult *res, int row, int col);

/* A member's effective roles as Mattermost reports them: the scheme roles
 * ("<kind>_user", "<kind>_admin") first, then the explicit ones. */
json_t *api_member_roles(const char *kind, bool scheme_user, bool scheme_admin, const char *explicit_roles);

#endif
