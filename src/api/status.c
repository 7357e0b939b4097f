/*
 * Statuses: reading one, reading many, setting one's own.
 *
 * Reads answer from the node's shared presence cache (shm) and fall back to
 * the Status table, filling the cache with what they found (on the master:
 * a lagging replica's row would be cached as the truth).  As Mattermost
 * does, any well-formed id without a row (no status yet, or no such user)
 * reads as "offline", and a miss for an id without a row is not cached.  With
 * ServiceSettings.EnableUserStatuses off Mattermost knows no statuses at all:
 * GET answers 404 api.status.user_not_found.app_error, POST .../status/ids an
 * empty list, and PUT validates, changes nothing and answers that 404 too.
 *
 * A PUT is one upsert that applies Mattermost's transition rules inside the
 * statement, against the row as it is (so two writers cannot interleave a
 * read and a write): online is never manual and refreshes last_activity_at;
 * offline is manual and starts afresh; away is manual and keeps the rest; dnd
 * is manual, remembers the previous status and keeps dnd_end_time (seconds)
 * truncated to the minute, as Mattermost's expiry job runs once a minute.
 * The row it returns then replaces the cache entry and goes out on the event
 * ring as EVENT_STATUS_CHANGED (WebSockets deliver it; the cluster forwards
 * it).
 *
 * Every write bumps the row's Version, and the cache keeps the highest
 * version it was offered (shm_cache_put_newer): a reader's stale row cannot
 * overwrite a writer's, nor two writers on two workers each other out of
 * commit order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/response.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/text.h"
#include "shm/presence.h"
#include "store/row.h"
#include "store/status.h"

static shm_cache_t *presence_cache(api_request_t *r)
{
    return shm_region_presence(r->worker->params->shm);
}

static bool statuses_enabled(api_request_t *r)
{
    return r->worker->config->service.enable_user_statuses;
}

static void status_not_found(api_request_t *r)
{
    api_send_error(r, 404, "api.status.user_not_found.app_error", "Unable to find the user.", NULL);
}

static void presence_fill(api_request_t *r, const char *user_id, const shm_presence_t *p)
{
    status_cache_put(r->worker->params->shm, user_id, p);
}

static const shm_presence_t offline = {.status = "offline"};

/* ---- GET /users/{user_id}/status ----------------------------------------------- */

static void on_status_loaded(api_request_t *r, PGresult *res, const char *error)
{
    const char *user_id = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_send_json(r, 200, status_to_json(user_id, &offline));
        return;
    }
    shm_presence_t p;
    status_from_row(res, 0, &p);
    presence_fill(r, user_id, &p);
    api_send_json(r, 200, status_to_json(user_id, &p));
}

void api_status_get(api_request_t *r)
{
    const char *id = api_param_id(r, 0, "user_id");
    if (id == NULL)
        return;
    if (!statuses_enabled(r)) {
        status_not_found(r);
        return;
    }
    shm_presence_t p;
    if (shm_cache_get(presence_cache(r), id, &p)) {
        api_send_json(r, 200, status_to_json(id, &p));
        return;
    }
    r->state = (void *)id;
    const char *params[] = {id};
    api_query(r, STATUS_SQL_BY_USER, 1, params, on_status_loaded);
}

/* ---- POST /users/status/ids ---------------------------------------------------- */

typedef struct {
    size_t n;
    const char **ids; /* sorted, unique */
    shm_presence_t *found;
    bool *known; /* found[i] is valid */
} batch_t;

static int compare_ids(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void send_batch(api_request_t *r, const batch_t *b)
{
    json_t *list = json_array();
    for (size_t i = 0; i < b->n; i++)
        json_array_append_new(list, status_to_json(b->ids[i], b->known[i] ? &b->found[i] : &offline));
    api_send_json(r, 200, list);
}

static void on_statuses_loaded(api_request_t *r, PGresult *res, const char *error)
{
    batch_t *b = r->state;
    if (api_query_failed(r, error))
        return;
    for (int row = 0; row < PQntuples(res); row++) {
        const char *id = row_str(res, row, 0);
        const char **at = bsearch(&id, b->ids, b->n, sizeof(*b->ids), compare_ids);
        if (at == NULL)
            continue;
        size_t i = (size_t)(at - b->ids);
        status_from_row(res, row, &b->found[i]);
        b->known[i] = true;
        presence_fill(r, b->ids[i], &b->found[i]);
    }
    send_batch(r, b);
}

/* Mattermost's SortedArrayFromJSON and checks: a JSON array of strings
 * (null elements read as ""), sorted and de-duplicated, not empty, each 26
 * bytes long.  NULL after answering 400. */
static batch_t *parse_ids(api_request_t *r)
{
    json_error_t jerr;
    json_t *body = json_loadb(r->req->entity.base, r->req->entity.len, JSON_DECODE_ANY, &jerr);
    json_decref(r->body);
    r->body = body; /* released with the request */
    size_t n = json_is_array(body) ? json_array_size(body) : 0;
    bool parsed = json_is_array(body) || json_is_null(body);
    for (size_t i = 0; parsed && i < n; i++)
        parsed = json_is_string(json_array_get(body, i)) || json_is_null(json_array_get(body, i));
    if (!parsed) {
        api_send_error(r, 400, "api.payload.parse.error", "Unable to parse the request body.", NULL);
        return NULL;
    }
    batch_t *b = h2o_mem_alloc_pool(&r->req->pool, sizeof(*b));
    b->ids = h2o_mem_alloc_pool(&r->req->pool, (n + 1) * sizeof(*b->ids));
    for (size_t i = 0; i < n; i++) {
        const char *id = json_string_value(json_array_get(body, i));
        b->ids[i] = id != NULL ? id : "";
    }
    qsort(b->ids, n, sizeof(*b->ids), compare_ids);
    b->n = 0;
    for (size_t i = 0; i < n; i++)
        if (b->n == 0 || strcmp(b->ids[b->n - 1], b->ids[i]) != 0)
            b->ids[b->n++] = b->ids[i];
    for (size_t i = 0; i < b->n; i++)
        if (strlen(b->ids[i]) != ID_LENGTH)
            b->n = 0;
    if (b->n == 0) {
        api_error_invalid_body(r, "user_ids");
        return NULL;
    }
    b->found = h2o_mem_alloc_pool(&r->req->pool, b->n * sizeof(*b->found));
    b->known = h2o_mem_alloc_pool(&r->req->pool, b->n * sizeof(*b->known));
    return b;
}

void api_status_get_by_ids(api_request_t *r)
{
    batch_t *b = parse_ids(r);
    if (b == NULL)
        return;
    if (!statuses_enabled(r)) {
        api_send_json(r, 200, json_array());
        return;
    }
    /* the misses, as a JSON array: ids are only length-checked, so they are
     * passed as data, never spliced into an array literal */
    json_t *missing = json_array();
    for (size_t i = 0; i < b->n; i++) {
        b->known[i] = shm_cache_get(presence_cache(r), b->ids[i], &b->found[i]);
        if (!b->known[i])
            json_array_append_new(missing, json_string(b->ids[i]));
    }
    if (json_array_size(missing) == 0) {
        json_decref(missing);
        send_batch(r, b);
        return;
    }
    char *text = json_dumps(missing, JSON_COMPACT);
    json_decref(missing);
    h2o_iovec_t copy = h2o_strdup(&r->req->pool, text, SIZE_MAX);
    free(text);
    r->state = b;
    const char *params[] = {copy.base};
    api_query(r, STATUS_SQL_BY_USERS, 1, params, on_statuses_loaded);
}

/* ---- PUT /users/{user_id}/status ------------------------------------------------- */

/* Mattermost's truncateDNDEndTime: down to a whole minute. */
static int64_t truncate_to_minute(int64_t s)
{
    int64_t t = s / 60 * 60; /* toward zero */
    return t > s && t >= INT64_MIN + 60 ? t - 60 : t;
}

static void on_status_saved(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_error_database(r, "the status upsert returned no row");
        return;
    }
    const char *user_id = row_str(res, 0, 0);
    shm_presence_t p;
    status_from_row(res, 0, &p);
    presence_fill(r, user_id, &p);
    status_publish(r->worker->params->shm, r->worker->params->ring_eventfds, user_id, &p);
    api_send_json(r, 200, status_to_json(user_id, &p));
}

/* Mattermost's Status, as the body decodes into it. */
static const api_body_field_t status_fields[] = {{"user_id", JSON_STRING},        {"status", JSON_STRING},
                                                 {"active_channel", JSON_STRING}, {"last_activity_at", JSON_INTEGER},
                                                 {"dnd_end_time", JSON_INTEGER},  {"manual", JSON_TRUE}};

void api_status_update(api_request_t *r)
{
    const char *id;
    json_t *body = api_param_id_and_body(r, "user_id", &id);
    if (body == NULL)
        return;
    if (!api_body_types_ok(body, status_fields, sizeof(status_fields) / sizeof(status_fields[0]))) {
        api_error_invalid_body(r, "status");
        return;
    }
    const char *user_id = json_string_value(json_object_get(body, "user_id"));
    const char *status = json_string_value(json_object_get(body, "status"));
    if (user_id == NULL || strcmp(user_id, id) != 0) {
        api_error_invalid_body(r, "user_id");
        return;
    }
    if (strcmp(id, r->session.user_id) != 0 && !api_require_permission(r, "edit_other_users"))
        return;
    static const char *const settable[] = {"online", "offline", "away", "dnd"};
    bool valid = false;
    for (size_t i = 0; status != NULL && i < sizeof(settable) / sizeof(settable[0]); i++)
        valid = valid || strcmp(status, settable[i]) == 0;
    if (!valid) {
        api_error_invalid_body(r, "status");
        return;
    }
    if (!statuses_enabled(r)) {
        status_not_found(r);
        return;
    }
    char now[TEXT_INT64_SIZE], dnd_end[TEXT_INT64_SIZE];
    text_int64(now, clock_now_ms());
    text_int64(dnd_end, truncate_to_minute(json_integer_value(json_object_get(body, "dnd_end_time"))));
    const char *params[] = {id, status, now, dnd_end};
    api_query(r, STATUS_SQL_SET, 4, params, on_status_saved);
}
