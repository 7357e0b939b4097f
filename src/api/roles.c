/*
 * Roles: reading them (by id, by name, by a list of names, all of them) and
 * patching a role's permissions (api4/role.go, app/role.go).
 *
 * Reading needs only a session, listing every role manage_system.  A patch
 * takes manage_system for system_admin and the system roles added since
 * (system_manager...), then sysconsole_write_user_management_permissions for
 * the scheme roles (team_user, channel_admin...) and
 * sysconsole_write_user_management_system_roles for the others; guest roles
 * need a license chorus does not have (501), and nobody adds or removes the
 * permissions that manage roles themselves (501).  An unknown permission
 * makes the role invalid (400).
 *
 * A patch that changes the role bumps the node's roles version before it
 * answers, so that the next check on any worker of this node reads the new
 * permissions, and publishes role_updated (data.role: the role as a JSON
 * string) to everyone; the other nodes' workers bump theirs when it reaches
 * them (worker/ring_consumer.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/response.h"
#include "core/clock.h"
#include "core/text.h"
#include "store/role.h"
#include "store/row.h"
#include "worker/roles.h"
#include "ws/ws.h"

static void send_role_or_404(api_request_t *r, PGresult *res, const char *error, const char *not_found_id)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_send_error(r, 404, not_found_id, "Unable to get role.", NULL);
        return;
    }
    api_send_json(r, 200, role_to_json(res, 0, 0));
}

static void send_role_list(api_request_t *r, PGresult *res, const char *error)
{
    api_send_rows(r, res, error, role_to_json);
}

/* The route's role id ("me" is no role); NULL after answering 400. */
static const char *role_id_param(api_request_t *r)
{
    const char *id = r->nparams > 0 ? api_param(r, 0) : "";
    if (!id_is_valid(id, strlen(id))) {
        api_error_invalid_param(r, "role_id");
        return NULL;
    }
    return id;
}

/* ---- reading ---------------------------------------------------------------------- */

static void on_role_by_id(api_request_t *r, PGresult *res, const char *error)
{
    send_role_or_404(r, res, error, "app.role.get.app_error");
}

void api_roles_get(api_request_t *r)
{
    const char *id = role_id_param(r);
    if (id == NULL)
        return;
    const char *params[] = {id};
    api_query_read(r, ROLE_SQL_BY_ID, 1, params, on_role_by_id);
}

static void on_role_by_name(api_request_t *r, PGresult *res, const char *error)
{
    send_role_or_404(r, res, error, "app.role.get_by_name.app_error");
}

void api_roles_get_by_name(api_request_t *r)
{
    const char *name = r->nparams > 0 ? api_param(r, 0) : "";
    if (!role_name_valid(name)) {
        api_error_invalid_param(r, "role_name");
        return;
    }
    const char *params[] = {name};
    api_query_read(r, ROLE_SQL_BY_NAME, 1, params, on_role_by_name);
}

void api_roles_list(api_request_t *r)
{
    if (api_require_admin(r))
        api_query_read(r, ROLE_SQL_ALL, 0, NULL, send_role_list);
}

/* True when `s` is only white space (strings.TrimSpace(s) == ""). */
static bool blank(const char *s)
{
    return s[strspn(s, " \t\n\v\f\r")] == '\0';
}

/* getRolesByNames: a JSON array of names (what is not a string decodes as
 * ""); none at all is a 400, blank names are skipped, an invalid one is a
 * 400, names of no role are left out of the answer. */
void api_roles_by_names(api_request_t *r)
{
    json_t *names = json_loadb(r->req->entity.base, r->req->entity.len, 0, NULL);
    json_decref(r->body);
    r->body = names; /* released with the request */
    if (!json_is_array(names) || json_array_size(names) == 0) {
        api_error_invalid_body(r, "rolenames");
        return;
    }
    /* a text[] literal: names are [a-z0-9_], nothing to quote */
    size_t size = json_array_size(names) * (ROLE_NAME_MAX + 1) + 3, n = 0;
    char *list = h2o_mem_alloc_pool(&r->req->pool, size);
    list[n++] = '{';
    size_t index;
    json_t *v;
    json_array_foreach(names, index, v)
    {
        const char *name = json_is_string(v) ? json_string_value(v) : "";
        if (blank(name))
            continue;
        if (!role_name_valid(name)) {
            api_error_invalid_body(r, "rolename");
            return;
        }
        n += (size_t)snprintf(list + n, size - n, "%s%s", n > 1 ? "," : "", name);
    }
    list[n++] = '}';
    list[n] = '\0';
    if (n == 2) {
        api_send_json(r, 200, json_array());
        return;
    }
    /* every web app load asks: the worker's copy answers while it is fresh */
    const worker_roles_t *roles = &r->worker->roles;
    json_t *found = worker_roles_fresh(roles, r->worker->params->shm) ? worker_roles_by_names(roles, names) : NULL;
    if (found != NULL) {
        api_send_json(r, 200, found);
        return;
    }
    const char *params[] = {list};
    api_query_read(r, ROLE_SQL_BY_NAMES, 1, params, send_role_list);
}

/* ---- patching ---------------------------------------------------------------------- */

typedef struct {
    const char *id;
    json_t *permissions; /* the patch's, without repeats (borrowed from r->body's array); NULL: unchanged */
} role_patch_t;

static bool name_in(const char *name, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

/* Protected by manage_system: system_admin and model.NewSystemRoleIDs. */
static const char *const manage_system_roles[] = {"system_admin", "system_user_manager", "system_read_only_admin",
                                                  "system_manager", "system_shared_channel_manager"};
/* Patched with sysconsole_write_user_management_permissions; any other role
 * takes sysconsole_write_user_management_system_roles. */
static const char *const scheme_roles[] = {"team_admin",     "channel_admin",   "system_user", "team_user",
                                           "channel_user",   "system_guest",    "team_guest",  "channel_guest",
                                           "playbook_admin", "playbook_member", "run_admin",   "run_member"};
static const char *const guest_roles[] = {"system_guest", "team_guest", "channel_guest"};
/* What no patch may add or remove (api4/role.go notAllowedPermissions). */
static const char *const not_allowed[] = {"sysconsole_write_user_management_system_roles",
                                          "sysconsole_read_user_management_system_roles", "manage_roles"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A permission the patch adds or removes that no patch may: NULL if none. */
static const char *forbidden_change(json_t *old, json_t *patch)
{
    for (size_t i = 0; i < COUNT(not_allowed); i++) {
        bool before = false, after = false;
        size_t index;
        json_t *v;
        json_array_foreach(old, index, v) before |= strcmp(json_string_value(v), not_allowed[i]) == 0;
        json_array_foreach(patch, index, v) after |= strcmp(json_string_value(v), not_allowed[i]) == 0;
        if (before != after)
            return not_allowed[i];
    }
    return NULL;
}

static void on_role_patched(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_send_error(r, 404, "app.role.get.app_error", "Unable to get role.", NULL);
        return;
    }
    json_t *role = role_to_json(res, 0, 0);
    /* before the answer: whatever the caller does next, on any worker of
     * this node, is checked against the new permissions */
    worker_roles_changed(r->worker->params->shm);
    char *text = json_dumps(role, JSON_COMPACT);
    json_t *data = text != NULL ? json_pack("{s:s}", "role", text) : NULL;
    if (data != NULL)
        ws_publish(r->worker, "role_updated", data, &(ws_broadcast_t){0});
    json_decref(data);
    free(text);
    api_send_json(r, 200, role);
}

/* The permission checks and rules of patchRole, in Mattermost's order, on
 * the role as it is; then the write. */
static void on_old_role(api_request_t *r, PGresult *res, const char *error)
{
    role_patch_t *p = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_send_error(r, 404, "app.role.get.app_error", "Unable to get role.", NULL);
        return;
    }
    const char *name = row_str(res, 0, ROLE_COLUMN_NAME);
    bool protected_role = name_in(name, manage_system_roles, COUNT(manage_system_roles));
    if (!api_require_permission(r, protected_role ? "manage_system" : "sysconsole_write_user_management_permissions"))
        return;
    if (p->permissions != NULL && name_in(name, guest_roles, COUNT(guest_roles))) {
        api_send_error(r, 501, "api.roles.patch_roles.license.error",
                       "Your license does not support advanced permissions.", NULL);
        return;
    }
    json_t *old = role_to_json(res, 0, 0);
    json_t *old_permissions = json_object_get(old, "permissions");
    const char *forbidden = p->permissions != NULL ? forbidden_change(old_permissions, p->permissions) : NULL;
    if (forbidden != NULL) {
        char detail[128];
        snprintf(detail, sizeof(detail), "Cannot add or remove permission: %s", forbidden);
        json_decref(old);
        api_send_error(r, 501, "api.roles.patch_roles.not_allowed_permission.error",
                       "One or more of the following permissions that you are trying to add or remove is not allowed",
                       detail);
        return;
    }
    bool scheme = name_in(name, scheme_roles, COUNT(scheme_roles));
    if (!api_require_permission(r, scheme ? "sysconsole_write_user_management_permissions"
                                          : "sysconsole_write_user_management_system_roles")) {
        json_decref(old);
        return;
    }
    /* PatchRole: the same list in the same order changes nothing */
    if (p->permissions != NULL && json_equal(old_permissions, p->permissions)) {
        api_send_json(r, 200, old);
        return;
    }
    json_decref(old);
    /* Role.IsValid, at Save */
    const char *joined = NULL;
    if (p->permissions != NULL) {
        size_t size = 1, index;
        json_t *v;
        json_array_foreach(p->permissions, index, v) size += strlen(json_string_value(v)) + 1;
        char *list = h2o_mem_alloc_pool(&r->req->pool, size), *at = list;
        *at = '\0';
        json_array_foreach(p->permissions, index, v)
        {
            const char *permission = json_string_value(v);
            if (!role_permission_known(permission)) {
                api_send_error(r, 400, "app.role.save.invalid_role.app_error", "The role was not valid.", NULL);
                return;
            }
            at += snprintf(at, size - (size_t)(at - list), "%s%s", at > list ? " " : "", permission);
        }
        joined = list;
    }
    const char *params[] = {p->id, joined, text_i64(&r->req->pool, clock_now_ms())};
    api_query(r, ROLE_SQL_PATCH, 3, params, on_role_patched);
}

/* The patch's permissions: an array of strings without repeats (first
 * occurrences kept), or NULL when absent or null; false after answering 400
 * for anything Go's decoder refuses. */
static bool read_patch(api_request_t *r, role_patch_t *p)
{
    json_t *body = json_loadb(r->req->entity.base, r->req->entity.len, 0, NULL);
    json_decref(r->body);
    r->body = body; /* released with the request */
    json_t *list = json_object_get(body, "permissions");
    if (!json_is_object(body) || (list != NULL && !json_is_null(list) && !json_is_array(list))) {
        api_error_invalid_body(r, "role");
        return false;
    }
    p->permissions = NULL;
    if (!json_is_array(list))
        return true;
    /* owned by the body: released with it */
    json_t *unique = json_array(), *seen = json_object();
    json_object_set_new(body, "chorus unique permissions", unique);
    json_object_set_new(body, "chorus seen permissions", seen);
    size_t index;
    json_t *v;
    json_array_foreach(list, index, v)
    {
        if (!json_is_string(v)) {
            api_error_invalid_body(r, "role");
            return false;
        }
        if (json_object_get(seen, json_string_value(v)) == NULL) {
            json_object_set(seen, json_string_value(v), json_true());
            json_array_append(unique, v);
        }
    }
    p->permissions = unique;
    return true;
}

void api_roles_patch(api_request_t *r)
{
    role_patch_t *p = h2o_mem_alloc_pool(&r->req->pool, sizeof(*p));
    if ((p->id = role_id_param(r)) == NULL || !read_patch(r, p))
        return;
    r->state = p;
    const char *params[] = {p->id};
    api_query(r, ROLE_SQL_BY_ID, 1, params, on_old_role);
}
