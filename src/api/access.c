/* Team and channel permission checks (see access.h).  One query each
 * (TEAM_SQL_ACCESS, CHANNEL_SQL_ACCESS): the object and the caller's
 * memberships come back together. */
#include "api/access.h"

#include <stdio.h>
#include <string.h>

#include "api/response.h"
#include "store/channel.h"
#include "store/row.h"
#include "store/team.h"

bool api_require_admin(api_request_t *r)
{
    if (api_has_role(r, "system_admin"))
        return true;
    api_error_permissions(r);
    return false;
}

typedef struct {
    api_handler_fn next;
    api_access_t want;
} access_state_t;

static void on_channel_loaded(api_request_t *r, PGresult *res, const char *error)
{
    access_state_t *st = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1 || row_int64(res, 0, 3) != 0) {
        api_error_not_found(r, "app.channel.get.existing.app_error", "channel");
        return;
    }
    api_channel_access_t *c = h2o_mem_alloc_pool(&r->req->pool, sizeof(*c));
    memset(c, 0, sizeof(*c));
    snprintf(c->id, sizeof(c->id), "%s", row_str(res, 0, 0));
    c->type = row_str(res, 0, 1)[0];
    snprintf(c->team_id, sizeof(c->team_id), "%s", row_str(res, 0, 2));
    c->member = row_bool(res, 0, 4);
    c->team_member = row_bool(res, 0, 5);
    snprintf(c->name, sizeof(c->name), "%s", row_str(res, 0, 6));
    snprintf(c->display_name, sizeof(c->display_name), "%s", row_str(res, 0, 7));
    bool admin = api_has_role(r, "system_admin");
    bool allowed = admin || c->member || (st->want == ACCESS_READ && c->type == 'O' && c->team_member);
    if (!allowed) {
        api_error_permissions(r);
        return;
    }
    r->state = c;
    st->next(r);
}

void api_require_channel(api_request_t *r, const char *channel_id, api_access_t want, api_handler_fn next)
{
    access_state_t *st = h2o_mem_alloc_pool(&r->req->pool, sizeof(*st));
    *st = (access_state_t){.next = next, .want = want};
    r->state = st;
    const char *params[] = {channel_id, r->session.user_id};
    api_query(r, CHANNEL_SQL_ACCESS, 2, params, on_channel_loaded);
}

static void on_team_loaded(api_request_t *r, PGresult *res, const char *error)
{
    access_state_t *st = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1 || row_int64(res, 0, 1) != 0) {
        api_error_not_found(r, "app.team.get.find.app_error", "team");
        return;
    }
    if (!row_bool(res, 0, 2) && !api_has_role(r, "system_admin")) {
        api_error_permissions(r);
        return;
    }
    r->state = NULL;
    st->next(r);
}

void api_require_team_member(api_request_t *r, const char *team_id, api_handler_fn next)
{
    access_state_t *st = h2o_mem_alloc_pool(&r->req->pool, sizeof(*st));
    *st = (access_state_t){.next = next, .want = ACCESS_READ};
    r->state = st;
    const char *params[] = {team_id, r->session.user_id};
    api_query(r, TEAM_SQL_ACCESS, 2, params, on_team_loaded);
}
