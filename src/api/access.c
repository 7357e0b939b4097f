/* Permission checks (see access.h): the roles a request's checks read, and
 * the team and channel checks, one query each (TEAM_SQL_ACCESS,
 * CHANNEL_SQL_ACCESS): the object and the caller's memberships come back
 * together. */
#include "api/access.h"

#include <stdio.h>
#include <string.h>

#include "api/response.h"
#include "core/log.h"
#include "db/migrate.h"
#include "store/channel.h"
#include "store/role.h"
#include "store/row.h"
#include "store/team.h"

/* ---- the roles checks read ------------------------------------------------------ */

typedef struct {
    api_handler_fn next;
    uint64_t version; /* the roles version the load started at */
} roles_load_t;

static void on_roles_loaded(api_request_t *r, PGresult *res, const char *error)
{
    roles_load_t *st = r->state;
    int rc;
    if (error != NULL)
        log_warn(0, "cannot load the roles (%s): checking with those loaded before", error);
    else if ((rc = worker_roles_install(&r->worker->roles, res, st->version)) != 0)
        log_warn(-rc, "cannot hold the roles: checking with those loaded before");
    r->state = NULL;
    st->next(r);
}

void api_roles_ready(api_request_t *r, api_handler_fn next)
{
    shm_region_t *shm = r->worker->params->shm;
    /* an older schema has no Roles table: the defaults stand */
    if (worker_roles_fresh(&r->worker->roles, shm) || !schema_at_least(shm, SCHEMA_ROLES)) {
        next(r);
        return;
    }
    roles_load_t *st = h2o_mem_alloc_pool(&r->req->pool, sizeof(*st));
    /* read the version first: a change after it makes this load stale */
    *st = (roles_load_t){.next = next, .version = worker_roles_version(shm)};
    r->state = st;
    api_query(r, ROLE_SQL_PERMISSIONS, 0, NULL, on_roles_loaded);
}

bool api_has_permission(const api_request_t *r, const char *permission, const char *member_roles)
{
    const worker_roles_t *roles = &r->worker->roles;
    if (r->authenticated && worker_roles_grant(roles, r->session.roles, permission))
        return true;
    return member_roles != NULL && worker_roles_grant(roles, member_roles, permission);
}

bool api_require_permission(api_request_t *r, const char *permission)
{
    if (api_has_permission(r, permission, NULL))
        return true;
    api_error_permissions(r);
    return false;
}

bool api_require_admin(api_request_t *r)
{
    return api_require_permission(r, "manage_system");
}

const char *api_roles_granting(api_request_t *r, const char *permission)
{
    /* every role name at most ROLE_NAME_MAX bytes and a comma */
    size_t size = (r->worker->roles.count + 1) * (ROLE_NAME_MAX + 1) + 3;
    char *out = h2o_mem_alloc_pool(&r->req->pool, size);
    if (!worker_roles_granting(&r->worker->roles, permission, out, size))
        snprintf(out, size, "{}");
    return out;
}

/* ---- teams and channels --------------------------------------------------------- */

typedef struct {
    api_handler_fn next;
    api_access_t want;
} access_state_t;

static void on_channel_loaded(api_request_t *r, PGresult *res, const char *error)
{
    access_state_t *st = r->state;
    if (api_query_failed(r, error))
        return;
    /* an archived channel stays readable (Mattermost returns it, DeleteAt set,
     * and its posts); the writes that refuse it check delete_at themselves */
    if (PQntuples(res) != 1) {
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
    c->delete_at = row_int64(res, 0, 3);
    c->channel_roles = h2o_strdup(&r->req->pool, row_str(res, 0, 8), SIZE_MAX).base;
    c->team_roles = h2o_strdup(&r->req->pool, row_str(res, 0, 9), SIZE_MAX).base;
    if (st->want == ACCESS_MANAGE) {
        r->state = c;
        st->next(r);
        return;
    }
    bool admin = api_has_permission(r, st->want == ACCESS_READ ? "read_channel" : "create_post", NULL);
    bool allowed = admin || c->member || (st->want == ACCESS_READ && c->type == 'O' && c->team_member);
    if (!allowed) {
        api_error_permissions(r);
        return;
    }
    r->state = c;
    st->next(r);
}

bool api_has_channel_permission(const api_request_t *r, const api_channel_access_t *c, const char *permission)
{
    return api_has_permission(r, permission, c->channel_roles) || api_has_permission(r, permission, c->team_roles);
}

void api_require_channel(api_request_t *r, const char *channel_id, api_access_t want, api_handler_fn next)
{
    access_state_t *st = h2o_mem_alloc_pool(&r->req->pool, sizeof(*st));
    *st = (access_state_t){.next = next, .want = want};
    r->state = st;
    const char *params[] = {channel_id, r->session.user_id};
    /* A read is checked where it will be read: on a replica that has the
     * caller's own writes (as Mattermost reads members from a replica), so
     * reads go on while the master is gone; a change checks on the master. */
    if (want == ACCESS_READ)
        api_query_read(r, CHANNEL_SQL_ACCESS, 2, params, on_channel_loaded);
    else
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
    if (!row_bool(res, 0, 2) && !api_has_permission(r, "view_team", NULL)) {
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
    /* only reads ask (search, user lists): checked on a replica, as above */
    api_query_read(r, TEAM_SQL_ACCESS, 2, params, on_team_loaded);
}
