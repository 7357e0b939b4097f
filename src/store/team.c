/*
 * Teams and TeamMembers as Mattermost serializes them (store/team.h).  The
 * fields chorus does not keep (schemes, policies, group constraints) are
 * null or false, as Mattermost writes them when they are unset.
 */
#include "store/team.h"

#include <stdio.h>
#include <string.h>

#include "store/row.h"

json_t *member_roles_json(const char *kind, bool scheme_user, bool scheme_admin, const char *explicit_roles)
{
    char roles[512];
    size_t n = 0;
    roles[0] = '\0';
    if (scheme_user)
        n += (size_t)snprintf(roles + n, sizeof(roles) - n, "%s_user", kind);
    if (scheme_admin && n < sizeof(roles))
        n += (size_t)snprintf(roles + n, sizeof(roles) - n, "%s%s_admin", n > 0 ? " " : "", kind);
    if (explicit_roles[0] != '\0' && n < sizeof(roles))
        snprintf(roles + n, sizeof(roles) - n, "%s%s", n > 0 ? " " : "", explicit_roles);
    return json_string(roles);
}

json_t *team_to_json(const PGresult *res, int row, int c, bool sanitize)
{
    json_t *t = json_object();
    json_object_set_new(t, "id", json_string(row_str(res, row, c + 0)));
    json_object_set_new(t, "create_at", json_integer(row_int64(res, row, c + 1)));
    json_object_set_new(t, "update_at", json_integer(row_int64(res, row, c + 2)));
    json_object_set_new(t, "delete_at", json_integer(row_int64(res, row, c + 3)));
    json_object_set_new(t, "display_name", json_string(row_str(res, row, c + 4)));
    json_object_set_new(t, "name", json_string(row_str(res, row, c + 5)));
    json_object_set_new(t, "description", json_string(row_str(res, row, c + 6)));
    json_object_set_new(t, "email", json_string(sanitize ? "" : row_str(res, row, c + 7)));
    json_object_set_new(t, "type", json_string(row_str(res, row, c + 8)));
    json_object_set_new(t, "company_name", json_string(row_str(res, row, c + 9)));
    json_object_set_new(t, "allowed_domains", json_string(row_str(res, row, c + 10)));
    json_object_set_new(t, "invite_id", json_string(sanitize ? "" : row_str(res, row, c + 11)));
    json_object_set_new(t, "allow_open_invite", json_boolean(row_bool(res, row, c + 12)));
    json_object_set_new(t, "scheme_id", json_null());
    json_object_set_new(t, "group_constrained", json_null());
    json_object_set_new(t, "policy_id", json_null());
    json_object_set_new(t, "cloud_limits_archived", json_false());
    return t;
}

json_t *team_member_to_json(const PGresult *res, int row, int c)
{
    json_t *m = json_object();
    bool user = row_bool(res, row, c + 4), admin = row_bool(res, row, c + 5);
    json_object_set_new(m, "team_id", json_string(row_str(res, row, c + 0)));
    json_object_set_new(m, "user_id", json_string(row_str(res, row, c + 1)));
    json_object_set_new(m, "roles", member_roles_json("team", user, admin, row_str(res, row, c + 2)));
    json_object_set_new(m, "delete_at", json_integer(row_int64(res, row, c + 3)));
    json_object_set_new(m, "scheme_guest", json_false());
    json_object_set_new(m, "scheme_user", json_boolean(user));
    json_object_set_new(m, "scheme_admin", json_boolean(admin));
    json_object_set_new(m, "explicit_roles", json_string(row_str(res, row, c + 2)));
    json_object_set_new(m, "create_at", json_integer(row_int64(res, row, c + 6)));
    return m;
}

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* ^[a-z0-9]+([a-z\-0-9]+|(__)?)[a-z0-9]+$ */
bool team_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
        return false;
    const char *us = strstr(s, "__");
    bool underscores = strchr(s, '_') != NULL;
    for (size_t i = 0; i < n; i++) {
        bool in_us = us != NULL && (s + i == us || s + i == us + 1);
        if (underscores ? !(in_us || is_lower_alnum(s[i])) : !(s[i] == '-' || is_lower_alnum(s[i])))
            return false;
    }
    return true;
}
