/*
 * Roles as Mattermost serializes them (store/role.h), and the permission
 * rules: the known permissions are db/roles_default.h's lists, the ones the
 * migration seeded system_admin with.
 */
#include "store/role.h"

#include <string.h>

#include "db/roles_default.h"
#include "store/row.h"

json_t *role_to_json(const PGresult *res, int row, int c)
{
    json_t *role = json_object();
    json_object_set_new(role, "id", json_string(row_str(res, row, c + 0)));
    json_object_set_new(role, "name", json_string(row_str(res, row, c + 1)));
    json_object_set_new(role, "display_name", json_string(row_str(res, row, c + 2)));
    json_object_set_new(role, "description", json_string(row_str(res, row, c + 3)));
    json_object_set_new(role, "create_at", json_integer(row_int64(res, row, c + 4)));
    json_object_set_new(role, "update_at", json_integer(row_int64(res, row, c + 5)));
    json_object_set_new(role, "delete_at", json_integer(row_int64(res, row, c + 6)));
    /* strings.Fields: any run of spaces separates, none gives [] */
    json_t *permissions = json_array();
    const char *p = row_str(res, row, c + 7);
    while (*p != '\0') {
        size_t n = strcspn(p, " ");
        if (n > 0)
            json_array_append_new(permissions, json_stringn(p, n));
        p += n + (p[n] == ' ');
    }
    json_object_set_new(role, "permissions", permissions);
    json_object_set_new(role, "scheme_managed", json_boolean(row_bool(res, row, c + 8)));
    json_object_set_new(role, "built_in", json_boolean(row_bool(res, row, c + 9)));
    return role;
}

bool role_name_valid(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && n <= ROLE_NAME_MAX && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

bool role_list_has(const char *list, const char *word, size_t len)
{
    for (const char *p = list; len > 0 && *p != '\0';) {
        size_t n = strcspn(p, " ");
        if (n == len && memcmp(p, word, len) == 0)
            return true;
        p += n;
        p += strspn(p, " ");
    }
    return false;
}

bool role_permission_known(const char *permission)
{
    size_t len = strlen(permission);
    if (len == 0 || strchr(permission, ' ') != NULL)
        return false;
    return role_list_has(ROLE_PERMISSIONS_ALL, permission, len) ||
           role_list_has(ROLE_PERMISSIONS_DEPRECATED, permission, len);
}
