/*
 * Roles: the SQL, the row → Mattermost JSON mapping, and the rules on a
 * role's permissions every process shares (which permissions exist, whether
 * a space-separated list holds one).
 *
 * Permissions are kept as Mattermost keeps them, one space-separated text.
 * A statement that returns a role selects ROLE_COLUMNS, and the row goes
 * through role_to_json from the column where the list starts.
 */
#ifndef CHORUS_STORE_ROLE_H
#define CHORUS_STORE_ROLE_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/* The 10 columns role_to_json reads, in its order. */
#define ROLE_COLUMNS \
    "Id, Name, DisplayName, Description, CreateAt, UpdateAt, DeleteAt, Permissions, SchemeManaged, BuiltIn"
#define ROLE_NCOLUMNS 10
/* Where Name and Permissions sit in ROLE_COLUMNS. */
#define ROLE_COLUMN_NAME        1
#define ROLE_COLUMN_DELETE_AT   6
#define ROLE_COLUMN_PERMISSIONS 7

/* Every role, by name.  Returns ROLE_COLUMNS. */
#define ROLE_SQL_ALL "SELECT " ROLE_COLUMNS " FROM Roles ORDER BY Name"
/* Role $1 (an id): ROLE_COLUMNS, or no row. */
#define ROLE_SQL_BY_ID "SELECT " ROLE_COLUMNS " FROM Roles WHERE Id = $1"
/* Role named $1: ROLE_COLUMNS, or no row. */
#define ROLE_SQL_BY_NAME "SELECT " ROLE_COLUMNS " FROM Roles WHERE Name = $1"
/* The roles named in $1 (a text[]), by name; names of no role are skipped.
 * Returns ROLE_COLUMNS. */
#define ROLE_SQL_BY_NAMES "SELECT " ROLE_COLUMNS " FROM Roles WHERE Name = ANY($1::text[]) ORDER BY Name"
/* What permission checks read, and POST /roles/names answers from: every
 * role, by name.  Returns ROLE_COLUMNS (checks skip the deleted ones). */
#define ROLE_SQL_PERMISSIONS "SELECT " ROLE_COLUMNS " FROM Roles ORDER BY Name"
/* Role $1 gets permissions $2 (space-separated; NULL keeps them) at time $3
 * (ms).  UpdateAt only grows, even for two patches in the same ms.  Returns
 * ROLE_COLUMNS; no row when there is no such role. */
#define ROLE_SQL_PATCH                                                                                        \
    "UPDATE Roles SET Permissions = COALESCE($2, Permissions), UpdateAt = GREATEST($3::bigint, UpdateAt + 1)" \
    " WHERE Id = $1 RETURNING " ROLE_COLUMNS

/* Mattermost's limit on a role name (model.RoleNameMaxLength). */
#define ROLE_NAME_MAX 64

/* A ROLE_COLUMNS row from column `col` as Mattermost's Role. */
json_t *role_to_json(const PGresult *res, int row, int col);

/* IsValidRoleName: 1 to 64 characters of a-z, 0-9 and '_'. */
bool role_name_valid(const char *name);
/* `permission` is one Mattermost knows (AllPermissions) or still accepts in
 * a role (its deprecated ones): Role.IsValid's test. */
bool role_permission_known(const char *permission);
/* The space-separated `list` holds the word `word` (of `len` bytes). */
bool role_list_has(const char *list, const char *word, size_t len);

#endif
