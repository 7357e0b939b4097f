/*
 * Reading users: one by id, username or email, many by ids or usernames, a
 * page filtered by team and channel membership, and the active count.
 *
 * As Mattermost, a user reading itself gets its whole profile; anyone else,
 * a system admin included, gets it through SanitizeProfile
 * (user_sanitize_profile).  Every user may see every other: chorus has no
 * view restrictions (Mattermost's RestrictDirectMessage "any" and no
 * team-limited views), so UserCanSeeOtherUser always holds.
 *
 * GET /users/{id} is on every page load (/users/me): the node's users cache
 * holds the owner's JSON and answers the owner without parsing it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/response.h"
#include "api/users.h"
#include "core/text.h"
#include "shm/region.h"
#include "shm/users.h"
#include "store/row.h"
#include "store/user.h"

/* Mattermost's limit on POST /users/usernames and /users/ids. */
#define USERS_BY_LIST_MAX 1000

static bool is_self(const api_request_t *r, const char *user_id)
{
    return strcmp(user_id, r->session.user_id) == 0;
}

/* `user`, sanitized unless the caller reads itself. */
static json_t *as_seen_by_caller(const api_request_t *r, json_t *user)
{
    const char *id = json_string_value(json_object_get(user, "id"));
    if (id == NULL || !is_self(r, id))
        user_sanitize_profile(user);
    return user;
}

static void send_users(api_request_t *r, const PGresult *res)
{
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(list, as_seen_by_caller(r, user_to_json(res, i)));
    api_send_json(r, 200, list);
}

/* ---- GET /users/{user_id} ----------------------------------------------------- */

static void on_user_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (!api_query_one_row(r, res, error, "app.user.missing_account.const", "user"))
        return;
    json_t *user = user_to_json(res, 0);
    shm_user_t *cached = h2o_mem_alloc_pool(&r->req->pool, sizeof(*cached));
    size_t len = json_dumpb(user, cached->json, sizeof(cached->json), JSON_COMPACT);
    if (len > 0 && len < sizeof(cached->json)) {
        cached->length = (uint32_t)len;
        shm_cache_put(shm_region_users(r->worker->params->shm), row_str(res, 0, USER_COLUMN_ID), cached);
    }
    api_send_json(r, 200, as_seen_by_caller(r, user));
}

void api_users_get(api_request_t *r)
{
    const char *id = api_param_id(r, 0, "user_id");
    if (id == NULL)
        return;
    shm_user_t *cached = h2o_mem_alloc_pool(&r->req->pool, sizeof(*cached));
    if (shm_cache_get(shm_region_users(r->worker->params->shm), id, cached)) {
        json_t *user;
        if (is_self(r, id))
            api_send_static(r, 200, cached->json, cached->length);
        else if ((user = json_loadb(cached->json, cached->length, 0, NULL)) != NULL)
            api_send_json(r, 200, as_seen_by_caller(r, user));
        else
            api_error_database(r, "a cached user is not JSON");
        return;
    }
    const char *params[] = {id};
    /* the master, not a replica: the row fills the node's users cache, where
     * a lagging replica's version would be served to everybody, its writer
     * included (read-your-writes), until invalidated */
    api_query(r, USER_SQL_BY_ID, 1, params, on_user_loaded);
}

/* ---- GET /users/username/{username}, /users/email/{email} ---------------------- */

static void on_user_by_name_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_send_error(r, 404, "app.user.get_by_username.app_error",
                       "Unable to find an existing account matching your username for this team. This team may require "
                       "an invite from the team owner to join.",
                       NULL);
        return;
    }
    api_send_json(r, 200, as_seen_by_caller(r, user_to_json(res, 0)));
}

/* Mattermost's route only matches [A-Za-z0-9_.-]+: anything else is no route. */
static bool username_route_chars(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("_.-", *s) != NULL))
            return false;
    return true;
}

void api_users_get_by_username(api_request_t *r)
{
    const char *username = api_param(r, 0);
    if (!username_route_chars(username)) {
        api_route_not_found(r);
        return;
    }
    const char *params[] = {username};
    api_query_read(r, USER_SQL_BY_USERNAME, 1, params, on_user_by_name_loaded);
}

static void on_user_by_email_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (!api_query_one_row(r, res, error, "app.user.missing_account.const", "user"))
        return;
    api_send_json(r, 200, as_seen_by_caller(r, user_to_json(res, 0)));
}

/* model.IsValidEmail, as far as a lookup needs it: one '@' with text on each
 * side, no spaces or angle brackets, within the column's 128 bytes. */
static bool plausible_email(const char *s)
{
    const char *at = strchr(s, '@');
    size_t n = strlen(s);
    return at != NULL && at != s && at[1] != '\0' && strchr(at + 1, '@') == NULL && n <= 128 &&
           strpbrk(s, " <>\t") == NULL;
}

void api_users_get_by_email(api_request_t *r)
{
    const char *email = api_param(r, 0);
    if (!plausible_email(email)) {
        api_error_invalid_param(r, "email");
        return;
    }
    const char *params[] = {email};
    api_query_read(r, USER_SQL_BY_EMAIL, 1, params, on_user_by_email_loaded);
}

/* ---- POST /users/ids, POST /users/usernames -------------------------------------- */

static void on_users_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    send_users(r, res);
}

/* A PostgreSQL array literal of validated ids ("{a,b}") from a JSON array,
 * or NULL (after answering 400).  Ids are [a-z0-9] only: nothing to quote. */
const char *api_id_array_literal(api_request_t *r, json_t *ids, size_t max)
{
    size_t n = json_array_size(ids);
    if (n == 0 || n > max) {
        api_error_invalid_body(r, "ids");
        return NULL;
    }
    char *lit = h2o_mem_alloc_pool(&r->req->pool, n * (ID_LENGTH + 1) + 2);
    size_t len = 0;
    lit[len++] = '{';
    for (size_t i = 0; i < n; i++) {
        const char *id = json_string_value(json_array_get(ids, i));
        if (id == NULL || !id_is_valid(id, strlen(id))) {
            api_error_invalid_body(r, "ids");
            return NULL;
        }
        if (i > 0)
            lit[len++] = ',';
        memcpy(lit + len, id, ID_LENGTH);
        len += ID_LENGTH;
    }
    lit[len++] = '}';
    lit[len] = '\0';
    return lit;
}

void api_users_get_by_ids(api_request_t *r)
{
    json_t *ids = api_request_body(r, JSON_ARRAY);
    if (ids == NULL)
        return;
    const char *lit = api_id_array_literal(r, ids, USERS_BY_LIST_MAX);
    if (lit == NULL)
        return;
    const char *params[] = {lit};
    api_query_read(r, USER_SQL_BY_IDS, 1, params, on_users_loaded);
}

void api_users_get_by_usernames(api_request_t *r)
{
    json_t *names = api_request_body(r, JSON_ARRAY);
    if (names == NULL)
        return;
    size_t n = json_array_size(names);
    bool strings = n > 0 && n <= USERS_BY_LIST_MAX;
    for (size_t i = 0; strings && i < n; i++)
        strings = json_is_string(json_array_get(names, i));
    if (!strings) {
        api_error_invalid_body(r, "usernames");
        return;
    }
    char *text = json_dumps(names, JSON_COMPACT);
    if (text == NULL) {
        api_error_busy(r);
        return;
    }
    const char *params[] = {h2o_strdup(&r->req->pool, text, SIZE_MAX).base};
    free(text);
    api_query_read(r, USER_SQL_BY_USERNAMES, 1, params, on_users_loaded);
}

/* ---- GET /users/stats -------------------------------------------------------------- */

static void on_users_counted(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    api_send_json(r, 200, json_pack("{s:I}", "total_users_count", (json_int_t)row_int64(res, 0, 0)));
}

void api_users_stats(api_request_t *r)
{
    api_query_read(r, USER_SQL_COUNT_ACTIVE, 0, NULL, on_users_counted);
}

/* ---- GET /users ----------------------------------------------------------------- */

typedef struct {
    const char *in_team, *not_in_team, *in_channel, *not_in_channel;
    bool without_team;
    const char *state; /* active, inactive, all */
    const char *sort;
    api_page_t page;
} users_page_t;

static void on_users_page_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    send_users(r, res);
}

static void load_users_page(api_request_t *r)
{
    const users_page_t *q = r->input;
    char limit[TEXT_INT64_SIZE], offset[TEXT_INT64_SIZE];
    const char *params[] = {q->in_team,
                            q->not_in_team,
                            q->in_channel,
                            q->not_in_channel,
                            q->without_team ? "t" : "f",
                            q->state,
                            q->sort,
                            text_int64(limit, q->page.per_page),
                            text_int64(offset, q->page.offset)};
    api_query_read(r, USER_SQL_PAGE, 9, params, on_users_page_loaded);
}

/* An id filter: NULL when absent or empty, else it must be an id (400). */
static bool id_filter(api_request_t *r, const char *name, const char **out)
{
    const char *v = api_query_param(r, name);
    *out = v != NULL && v[0] != '\0' ? v : NULL;
    if (*out != NULL && !id_is_valid(*out, strlen(*out))) {
        api_error_invalid_param(r, name);
        return false;
    }
    return true;
}

/* getUsers' parameter rules, in its order: sorts only where Mattermost
 * supports them, not_in_channel only within a team, not both active and
 * inactive. */
static bool read_users_page(api_request_t *r, users_page_t *q)
{
    if (!id_filter(r, "in_team", &q->in_team) || !id_filter(r, "not_in_team", &q->not_in_team) ||
        !id_filter(r, "in_channel", &q->in_channel) || !id_filter(r, "not_in_channel", &q->not_in_channel))
        return false;
    q->without_team = text_parse_bool(api_query_param(r, "without_team"));
    const char *sort = api_query_param(r, "sort");
    q->sort = sort != NULL ? sort : "";
    if (q->not_in_channel != NULL && q->in_team == NULL) {
        api_error_invalid_param(r, "team_id");
        return false;
    }
    bool by_time = strcmp(q->sort, "last_activity_at") == 0 || strcmp(q->sort, "create_at") == 0;
    bool in_channel_sort = strcmp(q->sort, "status") == 0 || strcmp(q->sort, "admin") == 0;
    bool other = q->not_in_team != NULL || q->in_channel != NULL || q->not_in_channel != NULL || q->without_team;
    if ((q->sort[0] != '\0' && !by_time && !in_channel_sort && strcmp(q->sort, "display_name") != 0) ||
        (by_time && (q->in_team == NULL || other)) || (in_channel_sort && q->in_channel == NULL) ||
        strcmp(q->sort, "display_name") == 0) { /* display_name sorts groups, which chorus has not */
        api_error_invalid_param(r, "sort");
        return false;
    }
    bool inactive = text_parse_bool(api_query_param(r, "inactive"));
    bool active = text_parse_bool(api_query_param(r, "active"));
    if (inactive && active) {
        api_error_invalid_param(r, "inactive");
        return false;
    }
    q->state = inactive ? "inactive" : active ? "active" : "all";
    q->page = api_query_page(r, NULL);
    return true;
}

void api_users_list(api_request_t *r)
{
    users_page_t *q = h2o_mem_alloc_pool(&r->req->pool, sizeof(*q));
    if (!read_users_page(r, q))
        return;
    r->input = q;
    /* the permission of the first filter Mattermost looks at, in its order */
    if (q->without_team) {
        if (api_require_permission(r, "list_users_without_team"))
            load_users_page(r);
    } else if (q->not_in_channel != NULL) {
        api_require_channel(r, q->not_in_channel, ACCESS_READ, load_users_page);
    } else if (q->not_in_team != NULL) {
        api_require_team_member(r, q->not_in_team, load_users_page);
    } else if (q->in_team != NULL) {
        api_require_team_member(r, q->in_team, load_users_page);
    } else if (q->in_channel != NULL) {
        api_require_channel(r, q->in_channel, ACCESS_READ, load_users_page);
    } else {
        load_users_page(r);
    }
}

/* ---- GET /users/autocomplete, POST /users/search ------------------------------------ */

/* Mattermost's UserSearchDefaultLimit and UserSearchMaxLimit. */
#define USER_SEARCH_LIMIT_DEFAULT 100
#define USER_SEARCH_LIMIT_MAX     1000

typedef struct {
    const char *terms; /* a JSON array of lower-case terms */
    const char *in_team, *not_in_team, *in_channel, *not_in_channel;
    bool without_team, allow_inactive, allow_emails;
    int64_t limit;
    bool autocomplete;
    json_t *in_channel_users; /* autocomplete in a channel: its first answer */
    unsigned checked;         /* scopes authorized so far */
} user_search_t;

/* The search's terms as the store takes them: split on white space, lower
 * case, a leading '@' dropped (a mention being typed). */
static const char *search_terms_json(api_request_t *r, const char *term)
{
    json_t *terms = json_array();
    const char *p = term;
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        const char *start = p;
        while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n')
            p++;
        if (p == start)
            break;
        if (*start == '@')
            start++;
        if (p > start) {
            char *word = h2o_mem_alloc_pool(&r->req->pool, (size_t)(p - start) + 1);
            for (size_t i = 0; i < (size_t)(p - start); i++)
                word[i] = (start[i] >= 'A' && start[i] <= 'Z') ? (char)(start[i] - 'A' + 'a') : start[i];
            word[p - start] = '\0';
            json_array_append_new(terms, json_string(word));
        }
    }
    char *text = json_dumps(terms, JSON_COMPACT);
    json_decref(terms);
    if (text == NULL)
        return NULL;
    const char *copy = h2o_strdup(&r->req->pool, text, SIZE_MAX).base;
    free(text);
    return copy;
}

static void run_search(api_request_t *r, const char *in_channel, const char *not_in_channel, api_query_cb cb)
{
    const user_search_t *s = r->input;
    char limit[TEXT_INT64_SIZE];
    const char *params[] = {s->terms,
                            s->in_team,
                            s->not_in_team,
                            in_channel,
                            not_in_channel,
                            s->without_team ? "t" : "f",
                            s->allow_inactive ? "t" : "f",
                            s->allow_emails ? "t" : "f",
                            text_int64(limit, s->limit)};
    api_query_read(r, USER_SQL_SEARCH, 9, params, cb);
}

static json_t *users_json(api_request_t *r, const PGresult *res)
{
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(list, as_seen_by_caller(r, user_to_json(res, i)));
    return list;
}

static void on_out_of_channel_found(api_request_t *r, PGresult *res, const char *error)
{
    user_search_t *s = (user_search_t *)r->input;
    if (api_query_failed(r, error))
        return;
    json_t *body = json_pack("{s:O, s:o}", "users", s->in_channel_users, "out_of_channel", users_json(r, res));
    api_send_json(r, 200, body);
}

static void on_json_disposed(void *held)
{
    json_decref(*(json_t **)held);
}

static void on_users_found(api_request_t *r, PGresult *res, const char *error)
{
    user_search_t *s = (user_search_t *)r->input;
    if (api_query_failed(r, error))
        return;
    json_t *users = users_json(r, res);
    if (!s->autocomplete) {
        api_send_json(r, 200, users);
        return;
    }
    if (s->in_channel == NULL) {
        api_send_json(r, 200, json_pack("{s:o}", "users", users));
        return;
    }
    /* then the team's members outside the channel; the first list lives
     * with the request until the answer takes it */
    json_t **held = h2o_mem_alloc_shared(&r->req->pool, sizeof(*held), on_json_disposed);
    *held = users;
    s->in_channel_users = users;
    run_search(r, NULL, s->in_channel, on_out_of_channel_found);
}

/* Each scope the search names needs its permission (read_channel for a
 * channel, view_team for a team), checked one after the other; then the
 * search runs. */
static void search_authorized_step(api_request_t *r)
{
    user_search_t *s = (user_search_t *)r->input;
    const char *channel = NULL, *team = NULL;
    switch (s->checked++) {
    case 0: channel = s->in_channel; break;
    case 1: channel = s->not_in_channel; break;
    case 2: team = s->in_team; break;
    case 3: team = s->not_in_team; break;
    default: run_search(r, s->in_channel, s->not_in_channel, on_users_found); return;
    }
    if (channel != NULL)
        api_require_channel(r, channel, ACCESS_READ, search_authorized_step);
    else if (team != NULL)
        api_require_team_member(r, team, search_authorized_step);
    else
        search_authorized_step(r);
}

static void start_search(api_request_t *r, user_search_t *s, const char *term)
{
    s->terms = search_terms_json(r, term);
    if (s->terms == NULL) {
        api_error_busy(r);
        return;
    }
    r->input = s;
    if (s->without_team && !api_require_admin(r))
        return;
    search_authorized_step(r);
}

void api_users_autocomplete(api_request_t *r)
{
    user_search_t *s = h2o_mem_alloc_pool(&r->req->pool, sizeof(*s));
    memset(s, 0, sizeof(*s));
    s->autocomplete = true;
    if (!id_filter(r, "in_team", &s->in_team) || !id_filter(r, "in_channel", &s->in_channel))
        return;
    const char *name = api_query_param(r, "name"), *limit = api_query_param(r, "limit");
    s->limit = limit == NULL ? USER_SEARCH_LIMIT_DEFAULT : strtoll(limit, NULL, 10);
    if (s->limit > USER_SEARCH_LIMIT_MAX)
        s->limit = USER_SEARCH_LIMIT_MAX;
    if (s->limit < 0)
        s->limit = 0;
    if (s->in_channel != NULL && s->in_team == NULL) {
        api_send_error(r, 500, "api.user.autocomplete_users.missing_team_id.app_error",
                       "Team id parameter is required to autocomplete by channel.", NULL);
        return;
    }
    /* autocomplete never matches emails (Mattermost's AllowEmails false) */
    start_search(r, s, name != NULL ? name : "");
}

/* Mattermost's UserSearch body. */
static const api_body_field_t user_search_fields[] = {{"term", JSON_STRING},
                                                      {"team_id", JSON_STRING},
                                                      {"not_in_team_id", JSON_STRING},
                                                      {"in_channel_id", JSON_STRING},
                                                      {"not_in_channel_id", JSON_STRING},
                                                      {"allow_inactive", JSON_TRUE},
                                                      {"without_team", JSON_TRUE},
                                                      {"limit", JSON_INTEGER}};

static bool body_id(api_request_t *r, json_t *body, const char *key, const char **out)
{
    const char *v = json_string_value(json_object_get(body, key));
    *out = v != NULL && v[0] != '\0' ? v : NULL;
    if (*out != NULL && !id_is_valid(*out, strlen(*out))) {
        api_error_invalid_body(r, key);
        return false;
    }
    return true;
}

void api_users_search(api_request_t *r)
{
    json_t *body = api_request_body(r, JSON_OBJECT);
    if (body == NULL)
        return;
    if (!api_body_types_ok(body, user_search_fields, sizeof(user_search_fields) / sizeof(user_search_fields[0]))) {
        api_error_invalid_body(r, "props");
        return;
    }
    user_search_t *s = h2o_mem_alloc_pool(&r->req->pool, sizeof(*s));
    memset(s, 0, sizeof(*s));
    const char *term = json_string_value(json_object_get(body, "term"));
    json_t *limit = json_object_get(body, "limit");
    s->limit = json_is_integer(limit) && json_integer_value(limit) != 0 ? json_integer_value(limit)
                                                                        : USER_SEARCH_LIMIT_DEFAULT;
    if (term == NULL || term[0] == '\0') {
        api_error_invalid_body(r, "term");
        return;
    }
    if (!body_id(r, body, "team_id", &s->in_team) || !body_id(r, body, "not_in_team_id", &s->not_in_team) ||
        !body_id(r, body, "in_channel_id", &s->in_channel) ||
        !body_id(r, body, "not_in_channel_id", &s->not_in_channel))
        return;
    if (s->in_team == NULL && s->not_in_channel != NULL) {
        api_error_invalid_body(r, "team_id");
        return;
    }
    if (s->limit <= 0 || s->limit > USER_SEARCH_LIMIT_MAX) {
        api_error_invalid_body(r, "limit");
        return;
    }
    s->allow_inactive = json_is_true(json_object_get(body, "allow_inactive"));
    s->without_team = json_is_true(json_object_get(body, "without_team"));
    s->allow_emails = true; /* PrivacySettings.ShowEmailAddress: chorus shows emails */
    start_search(r, s, term);
}
