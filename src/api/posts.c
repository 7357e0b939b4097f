/*
 * Posts, as Mattermost's REST API v4 serves them: creating, getting,
 * patching and deleting a post.  Listing a channel's posts is post_list.c,
 * search is post_search.c; the SQL and the Post model's JSON are
 * store/post.h, the text rules (hashtags) core/text.c.
 *
 * Every write is one statement (store/post.h says what each keeps in step);
 * a create also answers a retried pending_post_id with the post already made
 * (Mattermost's 30 s dedup window).
 *
 * Handlers that start from a post id look the post up first (its channel),
 * then let api_require_channel decide, then run the statement; a post that
 * changed in between is decided by the statement's own WHERE.
 *
 * Creating, patching and deleting a post publish `posted`, `post_edited` and
 * `post_deleted` to the channel's WebSockets (api_post_publish); a retried
 * create answered from the dedup window publishes nothing.  The create
 * statement also counts the post's mentions (store/post.h, POST_MENTIONS)
 * and answers who they are, for `posted`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/posts.h"
#include "api/response.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/text.h"
#include "store/post.h"
#include "store/row.h"
#include "ws/ws.h"

#define POST_FILEIDS_MAX_RUNES 300
#define POST_PROPS_MAX_RUNES   800000
#define POST_PENDING_ID_MAX    64

#define ERR_MESSAGE_LENGTH "model.post.is_valid.message_length.app_error"

/* ---- small helpers -------------------------------------------------------------- */

static h2o_mem_pool_t *pool_of(api_request_t *r)
{
    return &r->req->pool;
}

static const char *i64s(api_request_t *r, int64_t v)
{
    return text_i64(pool_of(r), v);
}

/* A route parameter that must be an id ("me" is not one here). */
const char *api_post_param_id(api_request_t *r, size_t i, const char *name)
{
    if (i >= r->nparams || !id_is_valid(r->params[i].base, r->params[i].len)) {
        api_error_invalid_param(r, name);
        return NULL;
    }
    return api_param(r, i);
}

static size_t utf8_runes(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* ---- validation shared by create and patch -------------------------------------- */

static bool message_too_long(api_request_t *r, const char *message)
{
    size_t runes = utf8_runes(message);
    if (runes <= POST_MESSAGE_MAX_RUNES)
        return false;
    char msg[160];
    snprintf(msg, sizeof(msg), "Post Message property is longer than the maximum permitted length (%zu > %d).", runes,
             POST_MESSAGE_MAX_RUNES);
    api_send_error(r, 400, ERR_MESSAGE_LENGTH, msg, NULL);
    return true;
}

/* `value` as the compact JSON text a column stores, in the request pool; at
 * most `max_runes`, else NULL after a 400 with `id`. */
static const char *stored_json(api_request_t *r, json_t *value, size_t max_runes, const char *id, const char *message)
{
    char *text = json_dumps(value, JSON_COMPACT);
    if (text == NULL || utf8_runes(text) > max_runes) {
        free(text);
        api_send_error(r, 400, id, message, NULL);
        return NULL;
    }
    const char *out = text_strndup(pool_of(r), text, strlen(text));
    free(text);
    return out;
}

/* file_ids as stored (a JSON array of unique strings), or NULL after a 400. */
static const char *file_ids_text(api_request_t *r, json_t *ids)
{
    json_t *unique = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        bool seen = false;
        for (size_t j = 0; j < json_array_size(unique) && !seen; j++)
            seen = json_equal(json_array_get(unique, j), v);
        if (!seen)
            json_array_append(unique, v);
    }
    const char *out =
        stored_json(r, unique, POST_FILEIDS_MAX_RUNES, "model.post.is_valid.file_ids.app_error", "Invalid file ids.");
    json_decref(unique);
    return out;
}

/* props as stored (SanitizeProps: no add_channel_member/force_notification), or NULL after a 400. */
static const char *props_text(api_request_t *r, json_t *props)
{
    json_t *copy = json_copy(props);
    json_object_del(copy, "add_channel_member");
    json_object_del(copy, "force_notification");
    const char *out =
        stored_json(r, copy, POST_PROPS_MAX_RUNES, "model.post.is_valid.props.app_error", "Invalid props.");
    json_decref(copy);
    return out;
}

static bool is_string_array(json_t *a)
{
    size_t i;
    json_t *v;
    if (!json_is_array(a))
        return false;
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v))
            return false;
    }
    return true;
}

/* ---- POST /api/v4/posts ----------------------------------------------------------- */

typedef struct {
    const char *channel_id, *message, *root_id, *type, *pending_post_id;
    json_t *props, *file_ids;
    int64_t create_at;
} new_post_t;

/* Reads the body's fields with their JSON types (null = absent); false after a 400. */
static bool read_new_post(api_request_t *r, json_t *body, new_post_t *np)
{
    memset(np, 0, sizeof(*np));
    const char *keys[] = {"channel_id", "message", "root_id", "type", "pending_post_id"};
    const char **out[] = {&np->channel_id, &np->message, &np->root_id, &np->type, &np->pending_post_id};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        json_t *v = json_object_get(body, keys[i]);
        if (v != NULL && !json_is_null(v) && !json_is_string(v)) {
            api_error_invalid_body(r, "post");
            return false;
        }
        *out[i] = json_is_string(v) ? json_string_value(v) : "";
    }
    json_t *props = json_object_get(body, "props"), *files = json_object_get(body, "file_ids");
    json_t *create_at = json_object_get(body, "create_at");
    if ((props != NULL && !json_is_null(props) && !json_is_object(props)) ||
        (files != NULL && !json_is_null(files) && !is_string_array(files)) ||
        (create_at != NULL && !json_is_null(create_at) && !json_is_integer(create_at))) {
        api_error_invalid_body(r, "post");
        return false;
    }
    np->props = json_is_object(props) ? props : NULL;
    np->file_ids = json_is_array(files) ? files : NULL;
    np->create_at = json_is_integer(create_at) ? json_integer_value(create_at) : 0;
    return true;
}

static bool allowed_post_type(const char *type)
{
    static const char *const types[] = {"", "slack_attachment", "me", "reminder", "add_bot_teams_channels"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(type, types[i]) == 0)
            return true;
    return strncmp(type, "custom_", 7) == 0;
}

/* `event` with the post as a JSON string to the channel in r->state (the
 * access check's); `posted` adds the channel and the sender. */
void api_post_publish(api_request_t *r, const char *event, json_t *post, const char *sender, const char *mentions)
{
    const api_channel_access_t *ch = r->state;
    char *text = json_dumps(post, JSON_COMPACT);
    json_t *data = text != NULL ? json_pack("{s:s}", "post", text) : NULL;
    free(text);
    if (data == NULL) {
        log_warn(ENOMEM, "cannot publish %s", event);
        return;
    }
    if (sender != NULL) {
        char type[2] = {ch->type, '\0'}, name[80];
        snprintf(name, sizeof(name), "@%s", sender);
        json_t *more =
            json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "channel_type", type, "channel_display_name", ch->display_name,
                      "channel_name", ch->name, "sender_name", name, "team_id", ch->team_id, "set_online", 1);
        if (more != NULL)
            json_object_update(data, more);
        json_decref(more);
        if (mentions != NULL)
            json_object_set_new(data, "mentions", json_string(mentions));
    } else if (strcmp(event, "post_deleted") == 0) {
        json_object_set_new(data, "delete_by", json_string(r->session.user_id));
    }
    ws_publish(r->worker, event, data, &(ws_broadcast_t){.channel_id = ch->id});
    json_decref(data);
}

static void on_post_created(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_error_database(r, NULL);
        return;
    }
    if (PQgetisnull(res, 0, 0)) {
        const char *verdict = row_str(res, 0, POST_NCOLUMNS);
        if (strcmp(verdict, "channel") == 0)
            api_send_error(r, 400, "api.post.create_post.channel_root_id.app_error",
                           "Invalid ChannelId for RootId parameter.", NULL);
        else
            api_send_error(r, 400, "api.post.create_post.root_id.app_error", "Invalid RootId parameter.", NULL);
        return;
    }
    json_t *post = post_to_json(res, 0);
    if (!row_bool(res, 0, POST_NCOLUMNS + 2)) { /* a retried pending_post_id: nothing new */
        api_send_json(r, 201, post);
        return;
    }
    /* the members it mentions: `posted` carries their ids (never the
     * sender's) as a JSON-array string, and only when there are some */
    const char *mentions = row_str(res, 0, POST_NCOLUMNS + 3);
    api_post_publish(r, "posted", post, row_str(res, 0, POST_NCOLUMNS + 1),
                     strcmp(mentions, "[]") != 0 ? mentions : NULL);
    api_send_json(r, 201, post);
}

/* After the channel check: the body as api_posts_create read it (r->input)
 * checked further, then the one statement. */
static void create_post_insert(api_request_t *r)
{
    const new_post_t *np = r->input;
    if (message_too_long(r, np->message))
        return;
    if (np->root_id[0] != '\0' && !id_is_valid(np->root_id, strlen(np->root_id))) {
        api_send_error(r, 400, "api.post.create_post.root_id.app_error", "Invalid RootId parameter.", NULL);
        return;
    }
    if (strncmp(np->type, "system_", 7) == 0) {
        api_send_error(r, 400, "api.context.invalid_param.app_error", "Invalid post.type parameter.", NULL);
        return;
    }
    if (!allowed_post_type(np->type)) {
        api_send_error(r, 400, "model.post.is_valid.type.app_error", "Invalid type.", NULL);
        return;
    }
    if (strlen(np->pending_post_id) > POST_PENDING_ID_MAX) {
        api_error_invalid_body(r, "pending_post_id");
        return;
    }
    const char *props = np->props != NULL ? props_text(r, np->props) : "{}";
    if (props == NULL)
        return;
    const char *files = np->file_ids != NULL ? file_ids_text(r, np->file_ids) : "[]";
    if (files == NULL)
        return;
    if (((api_channel_access_t *)r->state)->delete_at != 0) {
        api_send_error(r, 400, "api.post.create_post.can_not_post_to_deleted.error", "Can not post to deleted channel.",
                       NULL);
        return;
    }
    char id[ID_LENGTH + 1];
    id_new(id);
    int64_t now = clock_now_ms();
    int64_t create_at = np->create_at > 0 && api_has_permission(r, "manage_system", NULL) ? np->create_at : now;
    const char *params[] = {id,
                            i64s(r, create_at),
                            r->session.user_id,
                            ((api_channel_access_t *)r->state)->id,
                            np->root_id,
                            np->message,
                            np->type,
                            props,
                            text_hashtags(pool_of(r), np->message),
                            files,
                            np->pending_post_id,
                            i64s(r, now)};
    api_query(r, POST_SQL_CREATE, 12, params, on_post_created);
}

void api_posts_create(api_request_t *r)
{
    json_t *body = api_request_body(r, JSON_OBJECT);
    if (body == NULL)
        return;
    new_post_t *np = h2o_mem_alloc_pool(pool_of(r), sizeof(*np));
    if (!read_new_post(r, body, np))
        return;
    if (!id_is_valid(np->channel_id, strlen(np->channel_id))) {
        api_error_invalid_body(r, "channel_id");
        return;
    }
    r->input = np;
    api_require_channel(r, text_strndup(pool_of(r), np->channel_id, ID_LENGTH), ACCESS_WRITE, create_post_insert);
}

/* ---- GET /api/v4/posts/{post_id} ------------------------------------------------- */

static void on_post_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (!api_query_one_row(r, res, error, "app.post.get.app_error", "post"))
        return;
    api_send_json(r, 200, post_to_json(res, 0));
}

static void get_post_send(api_request_t *r)
{
    bool deleted = text_parse_bool(api_query_param(r, "include_deleted"));
    const char *params[] = {api_param(r, 0), deleted ? "t" : "f"};
    api_query_read(r, POST_SQL_GET, 2, params, on_post_loaded);
}

static void on_post_found(api_request_t *r, PGresult *res, const char *error)
{
    api_post_step_t *st = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        if (st->missing_status == 403)
            api_error_permissions(r);
        else
            api_error_not_found(r, "app.post.get.app_error", "post");
        return;
    }
    if (st->others != NULL && strcmp(row_str(res, 0, 1), r->session.user_id) != 0 &&
        !api_has_permission(r, st->others, NULL)) {
        api_error_permissions(r);
        return;
    }
    char *channel_id = (char *)text_strndup(pool_of(r), row_str(res, 0, 0), strlen(row_str(res, 0, 0)));
    api_require_channel(r, channel_id, st->want, st->next);
}

void api_post_find(api_request_t *r, const char *post_id, bool include_deleted, const api_post_step_t *step)
{
    api_post_step_t *st = h2o_mem_alloc_pool(pool_of(r), sizeof(*st));
    *st = *step;
    r->state = st;
    const char *params[] = {post_id, include_deleted ? "t" : "f"};
    if (step->read)
        api_query_read(r, POST_SQL_FIND, 2, params, on_post_found);
    else
        api_query(r, POST_SQL_FIND, 2, params, on_post_found);
}

void api_posts_get(api_request_t *r)
{
    const char *id = api_post_param_id(r, 0, "post_id");
    if (id == NULL)
        return;
    bool deleted = text_parse_bool(api_query_param(r, "include_deleted"));
    if (deleted && !api_require_permission(r, "read_deleted_posts"))
        return;
    api_post_find(r, id, deleted, &(api_post_step_t){get_post_send, ACCESS_READ, 404, NULL, true});
}

/* ---- PUT /api/v4/posts/{post_id}/patch ------------------------------------------- */

typedef struct {
    const char *message; /* NULL: unchanged */
    int pinned;          /* -1: unchanged */
    json_t *props, *file_ids;
} patch_t;

static bool read_patch(api_request_t *r, json_t *body, patch_t *pt)
{
    json_t *m = json_object_get(body, "message"), *pin = json_object_get(body, "is_pinned");
    json_t *props = json_object_get(body, "props"), *files = json_object_get(body, "file_ids");
    json_t *reactions = json_object_get(body, "has_reactions");
    if ((m != NULL && !json_is_null(m) && !json_is_string(m)) ||
        (pin != NULL && !json_is_null(pin) && !json_is_boolean(pin)) ||
        (props != NULL && !json_is_null(props) && !json_is_object(props)) ||
        (files != NULL && !json_is_null(files) && !is_string_array(files)) ||
        (reactions != NULL && !json_is_null(reactions) && !json_is_boolean(reactions))) {
        api_error_invalid_body(r, "post");
        return false;
    }
    pt->message = json_is_string(m) ? json_string_value(m) : NULL;
    pt->pinned = json_is_boolean(pin) ? json_is_true(pin) : -1;
    pt->props = json_is_object(props) ? props : NULL;
    pt->file_ids = json_is_array(files) ? files : NULL;
    return true;
}

static void on_post_patched(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_error_database(r, NULL);
        return;
    }
    const char *verdict = row_str(res, 0, POST_NCOLUMNS);
    if (strcmp(verdict, "system") == 0) {
        api_send_error(r, 400, "api.post.update_post.system_message.app_error", "Unable to update system message.",
                       NULL);
        return;
    }
    if (PQgetisnull(res, 0, 0)) {
        api_error_permissions(r); /* deleted meanwhile: as a missing post */
        return;
    }
    json_t *post = post_to_json(res, 0);
    api_post_publish(r, "post_edited", post, NULL, NULL);
    api_send_json(r, 200, post);
}

/* After the post and channel checks: the body as api_posts_patch read it. */
static void patch_post_update(api_request_t *r)
{
    const patch_t *pt = r->input;
    if (((api_channel_access_t *)r->state)->delete_at != 0) {
        api_send_error(r, 400, "api.post.patch_post.can_not_update_post_in_deleted.error",
                       "Can not update a post in a deleted channel.", NULL);
        return;
    }
    if (pt->message != NULL && message_too_long(r, pt->message))
        return;
    const char *props = NULL, *files = NULL;
    if (pt->props != NULL && (props = props_text(r, pt->props)) == NULL)
        return;
    if (pt->file_ids != NULL && (files = file_ids_text(r, pt->file_ids)) == NULL)
        return;
    const char *params[] = {api_param(r, 0),
                            pt->message,
                            pt->message != NULL ? text_hashtags(pool_of(r), pt->message) : NULL,
                            pt->pinned < 0 ? NULL
                            : pt->pinned   ? "t"
                                           : "f",
                            props,
                            files,
                            i64s(r, clock_now_ms())};
    api_query(r, POST_SQL_PATCH, 7, params, on_post_patched);
}

void api_posts_patch(api_request_t *r)
{
    const char *id = api_post_param_id(r, 0, "post_id");
    if (id == NULL)
        return;
    json_t *body = api_request_body(r, JSON_OBJECT);
    if (body == NULL)
        return;
    patch_t *pt = h2o_mem_alloc_pool(pool_of(r), sizeof(*pt));
    if (!read_patch(r, body, pt))
        return;
    r->input = pt;
    /* Mattermost: a missing or deleted post is a permission error here */
    api_post_find(r, id, false, &(api_post_step_t){patch_post_update, ACCESS_WRITE, 403, "edit_others_posts", false});
}

/* ---- DELETE /api/v4/posts/{post_id} ---------------------------------------------- */

static void on_post_deleted(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    int found = -1;
    for (int i = 0; i < PQntuples(res) && found < 0; i++)
        found = strcmp(row_str(res, i, 0), api_param(r, 0)) == 0 ? i : -1;
    if (found < 0) {
        api_error_not_found(r, "app.post.get.app_error", "post");
        return;
    }
    json_t *post = post_to_json(res, found);
    api_post_publish(r, "post_deleted", post, NULL, NULL);
    json_decref(post);
    api_send_json(r, 200, json_pack("{s:s}", "status", "OK"));
}

static void delete_post_update(api_request_t *r)
{
    if (((api_channel_access_t *)r->state)->delete_at != 0) {
        api_send_error(r, 400, "api.post.delete_post.can_not_delete_post_in_deleted.error",
                       "Can not delete a post in a deleted channel.", NULL);
        return;
    }
    const char *params[] = {api_param(r, 0), i64s(r, clock_now_ms()), r->session.user_id,
                            ((api_channel_access_t *)r->state)->id};
    api_query(r, POST_SQL_DELETE, 4, params, on_post_deleted);
}

void api_posts_delete(api_request_t *r)
{
    const char *id = api_post_param_id(r, 0, "post_id");
    if (id == NULL)
        return;
    api_post_find(r, id, false,
                  &(api_post_step_t){delete_post_update, ACCESS_WRITE, 404, "delete_others_posts", false});
}
