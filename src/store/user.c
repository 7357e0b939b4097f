/* Users rows as Mattermost's User JSON (store/user.h). */
#include "store/user.h"

#include <string.h>

#include "store/row.h"

bool user_username_valid(const char *u)
{
    size_t n = strlen(u);
    if (n < 3 || n > 22 || !(u[0] >= 'a' && u[0] <= 'z'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((u[i] >= 'a' && u[i] <= 'z') || (u[i] >= '0' && u[i] <= '9') || strchr(".-_", u[i]) != NULL))
            return false;
    static const char *const reserved[] = {"all", "channel", "here", "matterbot", "system"};
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (strcmp(u, reserved[i]) == 0)
            return false;
    return true;
}

bool user_email_valid(const char *email)
{
    const char *at = strchr(email, '@');
    return at != NULL && at != email && at[1] != '\0' && strchr(at + 1, '@') == NULL && strlen(email) <= 128 &&
           strpbrk(email, " <>\t\r\n") == NULL;
}

json_t *user_to_json(const PGresult *res, int row)
{
    json_t *u = json_object();
    json_object_set_new(u, "id", json_string(row_str(res, row, 0)));
    json_object_set_new(u, "create_at", json_integer(row_int64(res, row, 1)));
    json_object_set_new(u, "update_at", json_integer(row_int64(res, row, 2)));
    json_object_set_new(u, "delete_at", json_integer(row_int64(res, row, 3)));
    json_object_set_new(u, "username", json_string(row_str(res, row, 4)));
    json_object_set_new(u, "auth_data", json_string(""));
    json_object_set_new(u, "auth_service", json_string(row_str(res, row, 5)));
    json_object_set_new(u, "email", json_string(row_str(res, row, 6)));
    json_object_set_new(u, "email_verified", json_boolean(row_bool(res, row, 7)));
    json_object_set_new(u, "nickname", json_string(row_str(res, row, 8)));
    json_object_set_new(u, "first_name", json_string(row_str(res, row, 9)));
    json_object_set_new(u, "last_name", json_string(row_str(res, row, 10)));
    json_object_set_new(u, "position", json_string(row_str(res, row, 11)));
    json_object_set_new(u, "roles", json_string(row_str(res, row, 12)));
    json_object_set_new(u, "props", row_json(res, row, 13));
    json_object_set_new(u, "notify_props", row_json(res, row, 14));
    json_object_set_new(u, "last_password_update", json_integer(row_int64(res, row, 15)));
    json_object_set_new(u, "locale", json_string(row_str(res, row, 16)));
    json_object_set_new(u, "timezone", row_json(res, row, 17));
    json_object_set_new(u, "mfa_active", json_boolean(row_bool(res, row, 18)));
    json_object_set_new(u, "is_bot", json_boolean(row_bool(res, row, 19)));
    return u;
}

void user_sanitize_profile(json_t *user)
{
    json_object_set_new(user, "email_verified", json_false());
    json_object_set_new(user, "last_password_update", json_integer(0));
}
