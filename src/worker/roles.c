/* The worker's copy of the Roles table, by version (see roles.h).  A handful
 * of roles: a linear scan is all a lookup needs. */
#include "worker/roles.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db/roles_default.h"
#include "store/role.h"

static void free_table(worker_role_t *table, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(table[i].name);
        free(table[i].permissions);
        json_decref(table[i].json);
    }
    free(table);
}

static void replace(worker_roles_t *roles, worker_role_t *table, size_t count)
{
    free_table(roles->roles, roles->count);
    roles->roles = table;
    roles->count = count;
}

int worker_roles_init(worker_roles_t *roles)
{
    static const role_default_t defaults[] = {ROLE_DEFAULTS_INIT};
    size_t count = sizeof(defaults) / sizeof(defaults[0]);
    worker_role_t *table = calloc(count, sizeof(*table));
    if (table == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < count; i++) {
        table[i].name = strdup(defaults[i].name);
        table[i].permissions = strdup(defaults[i].permissions);
        if (table[i].name == NULL || table[i].permissions == NULL) {
            free_table(table, count);
            return -ENOMEM;
        }
    }
    *roles = (worker_roles_t){.roles = table, .count = count};
    return 0;
}

void worker_roles_free(worker_roles_t *roles)
{
    replace(roles, NULL, 0);
}

uint64_t worker_roles_version(const shm_region_t *shm)
{
    return __atomic_load_n(&shm_region_header(shm)->roles_version, __ATOMIC_ACQUIRE);
}

void worker_roles_changed(const shm_region_t *shm)
{
    __atomic_add_fetch(&shm_region_header(shm)->roles_version, 1, __ATOMIC_ACQ_REL);
}

bool worker_roles_fresh(const worker_roles_t *roles, const shm_region_t *shm)
{
    return roles->from_table && roles->loaded == worker_roles_version(shm);
}

int worker_roles_install(worker_roles_t *roles, const PGresult *res, uint64_t version)
{
    if (roles->from_table && version < roles->loaded)
        return 0;
    size_t count = (size_t)PQntuples(res);
    worker_role_t *table = calloc(count > 0 ? count : 1, sizeof(*table));
    if (table == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < count; i++) {
        table[i].name = strdup(PQgetvalue(res, (int)i, ROLE_COLUMN_NAME));
        table[i].permissions = strdup(PQgetvalue(res, (int)i, ROLE_COLUMN_PERMISSIONS));
        table[i].deleted = strcmp(PQgetvalue(res, (int)i, ROLE_COLUMN_DELETE_AT), "0") != 0;
        table[i].json = role_to_json(res, (int)i, 0);
        if (table[i].name == NULL || table[i].permissions == NULL || table[i].json == NULL) {
            free_table(table, count);
            return -ENOMEM;
        }
    }
    replace(roles, table, count);
    roles->loaded = version;
    roles->from_table = true;
    return 0;
}

static const worker_role_t *find(const worker_roles_t *roles, const char *name, size_t len)
{
    for (size_t i = 0; i < roles->count; i++)
        if (!roles->roles[i].deleted && strlen(roles->roles[i].name) == len &&
            memcmp(roles->roles[i].name, name, len) == 0)
            return &roles->roles[i];
    return NULL;
}

static bool named(const json_t *names, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), name) == 0)
            return true;
    }
    return false;
}

json_t *worker_roles_by_names(const worker_roles_t *roles, const json_t *names)
{
    json_t *out = json_array();
    /* the table is by name, as ROLE_SQL_BY_NAMES answers */
    for (size_t i = 0; out != NULL && i < roles->count; i++) {
        if (roles->roles[i].json != NULL && named(names, roles->roles[i].name) &&
            json_array_append(out, roles->roles[i].json) != 0) {
            json_decref(out);
            out = NULL;
        }
    }
    return out;
}

bool worker_roles_grant(const worker_roles_t *roles, const char *role_names, const char *permission)
{
    size_t plen = strlen(permission);
    for (const char *p = role_names != NULL ? role_names : ""; *p != '\0';) {
        size_t n = strcspn(p, " ");
        const worker_role_t *role = n > 0 ? find(roles, p, n) : NULL;
        if (role != NULL && role_list_has(role->permissions, permission, plen))
            return true;
        p += n;
        p += strspn(p, " ");
    }
    return false;
}

bool worker_roles_granting(const worker_roles_t *roles, const char *permission, char *out, size_t size)
{
    size_t plen = strlen(permission), n = 0;
    if (size < 3)
        return false;
    out[n++] = '{';
    for (size_t i = 0; i < roles->count; i++) {
        if (roles->roles[i].deleted || !role_list_has(roles->roles[i].permissions, permission, plen))
            continue;
        /* role names are [a-z0-9_]: nothing to quote */
        size_t len = strlen(roles->roles[i].name);
        if (n + len + 3 > size)
            return false;
        if (n > 1)
            out[n++] = ',';
        memcpy(out + n, roles->roles[i].name, len);
        n += len;
    }
    out[n++] = '}';
    out[n] = '\0';
    return true;
}
