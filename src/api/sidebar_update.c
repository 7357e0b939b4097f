/*
 * Changing sidebar categories (Mattermost's api4/channel_category.go):
 * several categories at once, one category, and their order.
 *
 * An update is one statement that writes nothing unless every category
 * named is the route user's in the route team and the user has a channel
 * to place (Mattermost's validateSidebarCategories); channels the user may
 * not place are dropped, as Mattermost drops them.  The categories are then
 * read back (the channels and direct_messages categories list what is not
 * placed elsewhere, which the update may have changed) and go, as a JSON
 * string, into sidebar_category_updated's updatedCategories.  The order is
 * one statement too: it must name each of the user's categories in the
 * team once; sidebar_category_order_updated carries it.
 *
 * Departures, for a client's mistake is never a 500 here: an admin naming a
 * category that is not the user's in the team gets 404 (Mattermost: 500),
 * an order of another size than the categories' gets 400 (Mattermost: 500).
 *
 * Muting or unmuting a category mutes or unmutes its channels, and a
 * channel moved into a muted category (or out of one) follows it, as
 * Mattermost's muteChannelsForUpdatedCategories does: the same statement
 * writes the members' mark_unread, then each changed member goes to its
 * user as channel_member_updated, after sidebar_category_updated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/channels.h"
#include "api/handlers.h"
#include "api/response.h"
#include "api/sidebar.h"
#include "core/log.h"
#include "store/row.h"
#include "store/sidebar.h"

typedef struct {
    const api_sidebar_t *s;
    const char *input; /* the normalized categories, JSON text */
    const char *ids;   /* their ids in the request's order, JSON text */
    bool single;       /* PUT .../categories/{category_id}: answer the category itself */
    const char *muted; /* the channels muted or unmuted, JSON text ("[]" for none) */
    json_t *answer;    /* held while their members load */
} update_t;

/* `v` as JSON text in the request pool ("[]" when it cannot be written). */
static const char *pool_dump(api_request_t *r, const json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT);
    if (text == NULL)
        return "[]";
    const char *copy = h2o_strdup(&r->req->pool, text, SIZE_MAX).base;
    free(text);
    return copy;
}

/* channel_member_updated for each member the update muted or unmuted, then
 * the answer (the update stands even when the members cannot be read, as
 * Mattermost only logs a muting that failed). */
static void on_muted_loaded(api_request_t *r, PGresult *res, const char *error)
{
    update_t *u = r->state;
    if (error != NULL)
        log_warn(0, "cannot read the members a category muted: %s", error);
    else
        for (int i = 0; i < PQntuples(res); i++)
            api_channel_publish_member_updated(r, channel_member_to_json(res, i, 0));
    api_send_json(r, 200, u->answer);
}

static void send_answer(api_request_t *r, update_t *u, json_t *answer)
{
    if (strcmp(u->muted, "[]") == 0) {
        api_send_json(r, 200, answer);
        return;
    }
    u->answer = answer;
    const char *params[] = {u->s->user_id, u->muted};
    api_query(r, SIDEBAR_SQL_MUTED_MEMBERS, 2, params, on_muted_loaded);
}

static void on_updated_loaded(api_request_t *r, PGresult *res, const char *error)
{
    update_t *u = r->state;
    if (api_query_failed(r, error))
        return;
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(list, sidebar_category_to_json(res, i, 0));
    if (u->single && json_array_size(list) != 1) {
        json_decref(list);
        api_sidebar_error_store(r, 404); /* deleted meanwhile */
        return;
    }
    json_t *data = json_pack("{s:s}", "updatedCategories", pool_dump(r, list));
    api_sidebar_publish(r, u->s, "sidebar_category_updated", data);
    json_decref(data);
    if (u->single) {
        json_t *category = json_incref(json_array_get(list, 0));
        json_decref(list);
        send_answer(r, u, category);
        return;
    }
    send_answer(r, u, list);
}

/* Columns of SIDEBAR_SQL_UPDATE's row. */
enum { UPD_ENTRIES, UPD_FOUND, UPD_HAS_CHANNELS, UPD_MUTED };

static void on_updated(api_request_t *r, PGresult *res, const char *error)
{
    update_t *u = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_error_database(r, "no row");
        return;
    }
    if (row_int64(res, 0, UPD_FOUND) != row_int64(res, 0, UPD_ENTRIES)) {
        if (u->s->admin || u->single)
            api_sidebar_error_store(r, 404);
        else
            api_sidebar_error_category(r); /* SessionHasPermissionToCategory */
        return;
    }
    if (!row_bool(res, 0, UPD_HAS_CHANNELS)) {
        api_sidebar_error_no_channels(r);
        return;
    }
    u->muted = h2o_strdup(&r->req->pool, row_str(res, 0, UPD_MUTED), SIZE_MAX).base;
    const char *params[] = {u->ids, u->s->user_id, u->s->team_id};
    api_query(r, SIDEBAR_SQL_BY_IDS, 3, params, on_updated_loaded);
}

/* Runs the update of `list` (normalized categories, taken over). */
static void update(api_request_t *r, const api_sidebar_t *s, json_t *list, bool single)
{
    update_t *u = h2o_mem_alloc_pool(&r->req->pool, sizeof(*u));
    json_t *ids = json_array(), *v;
    size_t i;
    json_array_foreach(list, i, v) json_array_append(ids, json_object_get(v, "id"));
    *u = (update_t){.s = s, .input = pool_dump(r, list), .ids = pool_dump(r, ids), .single = single};
    json_decref(ids);
    json_decref(list);
    r->state = u;
    const char *params[] = {u->input, s->user_id, s->team_id, api_channel_now(r)};
    api_query(r, SIDEBAR_SQL_UPDATE, 4, params, on_updated);
}

void api_sidebar_update_categories(api_request_t *r)
{
    api_sidebar_t *s = api_sidebar_begin(r, false);
    json_t *body, *v;
    if (s == NULL || (body = api_sidebar_body(r, JSON_ARRAY)) == NULL)
        return;
    json_t *list = json_array();
    size_t i;
    json_array_foreach(body, i, v)
    {
        json_t *in = api_sidebar_category_input(r, v, NULL);
        if (in == NULL) {
            json_decref(list);
            return;
        }
        json_array_append_new(list, in);
    }
    update(r, s, list, false);
}

/* ---- one category ------------------------------------------------------------------ */

/* After the permission: the body must name the route's user and team. */
static void update_one(api_request_t *r)
{
    const api_sidebar_t *s = r->state;
    json_t *body = api_sidebar_body(r, JSON_OBJECT), *in;
    if (body == NULL)
        return;
    const char *user_id = json_string_value(json_object_get(body, "user_id"));
    const char *team_id = json_string_value(json_object_get(body, "team_id"));
    if (user_id == NULL || team_id == NULL || strcmp(user_id, s->user_id) != 0 || strcmp(team_id, s->team_id) != 0) {
        api_sidebar_error_category(r);
        return;
    }
    if ((in = api_sidebar_category_input(r, body, s->category_id)) == NULL)
        return;
    json_t *list = json_array();
    json_array_append_new(list, in);
    update(r, s, list, true);
}

static void on_owner_loaded(api_request_t *r, PGresult *res, const char *error)
{
    const api_sidebar_t *s = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1 || strcmp(row_str(res, 0, 0), s->user_id) != 0 ||
        strcmp(row_str(res, 0, 1), s->team_id) != 0) {
        api_error_permissions(r);
        return;
    }
    update_one(r);
}

void api_sidebar_update_category(api_request_t *r)
{
    api_sidebar_t *s = api_sidebar_begin(r, true);
    if (s == NULL)
        return;
    r->state = s;
    if (s->admin) {
        update_one(r);
        return;
    }
    const char *params[] = {s->category_id};
    api_query_read(r, SIDEBAR_SQL_OWNER, 1, params, on_owner_loaded);
}

/* ---- the order ------------------------------------------------------------------------ */

typedef struct {
    const api_sidebar_t *s;
    json_t *order; /* borrowed from r->body's lifetime: kept in r->body */
} order_t;

static void on_order_updated(api_request_t *r, PGresult *res, const char *error)
{
    const order_t *o = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_error_database(r, "no row");
        return;
    }
    if (!row_bool(res, 0, 0) && !o->s->admin) {
        api_sidebar_error_category(r);
        return;
    }
    if (!row_bool(res, 0, 1)) {
        api_sidebar_error_store(r, 400);
        return;
    }
    json_t *data = json_pack("{s:O}", "order", o->order);
    api_sidebar_publish(r, o->s, "sidebar_category_order_updated", data);
    json_decref(data);
    api_send_json(r, 200, json_incref(o->order));
}

/* Mattermost's ArrayFromJSON: a body it cannot read is an empty list, an
 * element that is not a string is "". */
static json_t *order_from_body(api_request_t *r)
{
    json_t *body = json_loadb(r->req->entity.base, r->req->entity.len, 0, NULL), *order = json_array(), *v;
    size_t i;
    if (json_is_array(body))
        json_array_foreach(body, i, v)
            json_array_append_new(order, json_string(json_is_string(v) ? json_string_value(v) : ""));
    json_decref(body);
    json_decref(r->body);
    r->body = order;
    return order;
}

void api_sidebar_update_order(api_request_t *r)
{
    api_sidebar_t *s = api_sidebar_begin(r, false);
    if (s == NULL)
        return;
    order_t *o = h2o_mem_alloc_pool(&r->req->pool, sizeof(*o));
    *o = (order_t){.s = s, .order = order_from_body(r)};
    r->state = o;
    const char *params[] = {pool_dump(r, o->order), s->user_id, s->team_id, s->admin ? "t" : "f"};
    api_query(r, SIDEBAR_SQL_ORDER_UPDATE, 4, params, on_order_updated);
}
