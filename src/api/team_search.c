/*
 * POST /teams/search, as api4/team.go's searchTeams answers: teams whose
 * name or display name holds the term (an empty term matches every team),
 * deleted ones too, by display name.
 *
 * Who sees what follows the system permissions: list_public_teams and
 * list_private_teams together search every team, with the allow_open_invite
 * and group_constrained filters and paging (then the answer is
 * {teams, total_count}); one of them alone searches the open teams (type O,
 * open invites) or the closed ones, without paging (501 when asked for, as
 * Mattermost has none there); neither finds nothing.  Each team is
 * sanitized for the caller (api_team_json).
 */
#include <string.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/response.h"
#include "api/teams.h"
#include "core/text.h"
#include "store/row.h"
#include "store/team.h"

typedef struct {
    bool paged;
} team_search_t;

static void on_teams_found(api_request_t *r, PGresult *res, const char *error)
{
    team_search_t *s = r->state;
    if (api_query_failed(r, error))
        return;
    json_t *teams = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        if (!PQgetisnull(res, i, 0)) /* NULLs: a page past the last team */
            json_array_append_new(teams, api_team_json(r, res, i, 0, row_str(res, i, TEAM_NCOLUMNS)));
    if (!s->paged) {
        api_send_json(r, 200, teams);
        return;
    }
    json_int_t total = PQntuples(res) > 0 ? row_int64(res, 0, TEAM_NCOLUMNS + 1) : 0;
    api_send_json(r, 200, json_pack("{s:o,s:I}", "teams", teams, "total_count", total));
}

static const api_body_field_t search_fields[] = {
    {"term", JSON_STRING},
    {"page", JSON_INTEGER},
    {"per_page", JSON_INTEGER},
    {"allow_open_invite", JSON_TRUE},
    {"group_constrained", JSON_TRUE},
    {"include_group_constrained", JSON_TRUE},
    {"policy_id", JSON_STRING},
    {"exclude_policy_constrained", JSON_TRUE},
    {"include_policy_id", JSON_TRUE},
    {"include_deleted", JSON_TRUE},
    {"team_type", JSON_STRING},
};

/* A *bool filter of the body: '' when absent or null, else 't' or 'f'. */
static const char *bool_filter(json_t *body, const char *key)
{
    json_t *v = json_object_get(body, key);
    return json_is_boolean(v) ? (json_is_true(v) ? "t" : "f") : "";
}

void api_teams_search(api_request_t *r)
{
    json_t *body = api_request_body(r, JSON_OBJECT);
    if (body == NULL)
        return;
    if (!api_body_types_ok(body, search_fields, sizeof(search_fields) / sizeof(search_fields[0]))) {
        api_error_invalid_body(r, "team_search");
        return;
    }
    json_t *exclude = json_object_get(body, "exclude_policy_constrained");
    if (exclude != NULL && !json_is_null(exclude) &&
        !api_require_permission(r, "sysconsole_read_compliance_data_retention_policy"))
        return;
    json_t *page = json_object_get(body, "page"), *per_page = json_object_get(body, "per_page");
    bool has_page = json_is_integer(page), has_per_page = json_is_integer(per_page);
    if ((has_page && json_integer_value(page) < 0) || (has_per_page && json_integer_value(per_page) < 0)) {
        api_error_invalid_body(r, has_page && json_integer_value(page) < 0 ? "page" : "per_page");
        return;
    }
    bool list_private = api_has_permission(r, "list_private_teams", NULL);
    bool list_public = api_has_permission(r, "list_public_teams", NULL);
    const char *open = bool_filter(body, "allow_open_invite"), *group = bool_filter(body, "group_constrained");
    const char *type = "";
    if (!list_private && !list_public) {
        api_send_json(r, 200, json_array());
        return;
    }
    if (!list_private || !list_public) {
        if (has_page || has_per_page) {
            api_send_error(r, 501,
                           list_private ? "api.team.search_teams.pagination_not_implemented.private_team_search"
                                        : "api.team.search_teams.pagination_not_implemented.public_team_search",
                           "Pagination not implemented for this search.", NULL);
            return;
        }
        /* SearchOpen / SearchPrivate: their own filters, none of the body's */
        open = list_public ? "t" : "f";
        group = "";
        type = "O";
    }
    team_search_t *s = h2o_mem_alloc_pool(&r->req->pool, sizeof(*s));
    s->paged = has_page && has_per_page;
    r->state = s;
    const char *limit = NULL, *offset = "0";
    if (s->paged) {
        int64_t n = json_integer_value(per_page), p = json_integer_value(page);
        limit = text_i64(&r->req->pool, n);
        offset = text_i64(&r->req->pool, p > 0 && n > INT64_MAX / p ? INT64_MAX : p * n);
    }
    const char *term = json_string_value(json_object_get(body, "term"));
    const char *params[] = {term != NULL ? term : "", open, group, type, limit, offset, r->session.user_id};
    api_query_read(r, TEAM_SQL_SEARCH, 7, params, on_teams_found);
}
