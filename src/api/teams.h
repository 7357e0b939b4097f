/* Helpers of the teams handlers that other handlers share. */
#ifndef CHORUS_API_TEAMS_H
#define CHORUS_API_TEAMS_H

#include <jansson.h>
#include <libpq-fe.h>

#include "api/request.h"

/* A TEAM_COLUMNS row from column `col` as the caller may read it
 * (SanitizeTeam): whole with manage_team, the invite id kept with
 * invite_user, else without email and invite id; `team_roles` are the
 * caller's roles in that team (TEAM_MEMBER_ROLES). */
json_t *api_team_json(const api_request_t *r, const PGresult *res, int row, int col, const char *team_roles);

/* The team's event (update_team, delete_team, restore_team) to its members:
 * {"team": the sanitized team as JSON text}. */
void api_team_publish(api_request_t *r, const char *event, json_t *team);

#endif
