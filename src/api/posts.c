/*
 * Posts, as Mattermost's REST API v4 serves them: the Post model's JSON
 * (api_post_json, api_post_columns) and creating, getting, patching and
 * deleting a post.  Listing a channel's posts is post_list.c, search is
 * post_search.c, the text helpers they share are text.c.
 *
 * Every write is one statement: creating a post inserts it, bumps the
 * channel's LastPostAt/TotalMsgCount, marks the channel viewed for the poster
 * (ChannelMembers LastViewedAt/MsgCount/MentionCount) and bumps the root's
 * UpdateAt for a reply, all in CTEs of a single INSERT, which also checks the
 * root post and answers a retried pending_post_id with the post already made
 * (Mattermost's 30 s dedup window).  A patch and a delete are one UPDATE each
 * (a delete also soft-deletes the thread's replies, as Mattermost's store).
 *
 * Handlers that start from a post id look the post up first (its channel),
 * then let api_require_channel decide, then run the statement; a post that
 * changed in between is decided by the statement's own WHERE.
 *
 * Creating, patching and deleting a post publish `posted`, `post_edited` and
 * `post_deleted` to the channel's WebSockets (publish_post_event); a retried
 * create answered from the dedup window publishes nothing.
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
#include "store/row.h"
#include "ws/ws.h"

#define POST_FILEIDS_MAX_RUNES 300
#define POST_PROPS_MAX_RUNES   800000
#define POST_PENDING_ID_MAX    64
#define DEDUP_WINDOW_MS        "30000"

#define ERR_MESSAGE_LENGTH "model.post.is_valid.message_length.app_error"

/* Replies of the post's thread that are not deleted.  A reply is never older
 * than its root (create_post_insert makes sure), so the (ChannelId, CreateAt)
 * index bounds the scan to the thread's lifetime. */
#define REPLY_COUNT                                                                                                    \
    "(SELECT count(*) FROM Posts r WHERE r.ChannelId = p.ChannelId AND r.RootId = (CASE WHEN p.RootId = '' THEN p.Id " \
    "ELSE p.RootId END) AND r.DeleteAt = 0 AND r.CreateAt >= (CASE WHEN p.RootId = '' THEN p.CreateAt ELSE "           \
    "(SELECT o.CreateAt FROM Posts o WHERE o.Id = p.RootId) END))"

const char *const api_post_columns = POST_COLS ", " REPLY_COUNT;

json_t *api_post_json(const PGresult *res, int row)
{
    json_t *p = json_object();
    json_object_set_new(p, "id", json_string(row_str(res, row, 0)));
    json_object_set_new(p, "create_at", json_integer(row_int64(res, row, 1)));
    json_object_set_new(p, "update_at", json_integer(row_int64(res, row, 2)));
    json_object_set_new(p, "edit_at", json_integer(row_int64(res, row, 3)));
    json_object_set_new(p, "delete_at", json_integer(row_int64(res, row, 4)));
    json_object_set_new(p, "is_pinned", json_boolean(row_bool(res, row, 5)));
    json_object_set_new(p, "user_id", json_string(row_str(res, row, 6)));
    json_object_set_new(p, "channel_id", json_string(row_str(res, row, 7)));
    json_object_set_new(p, "root_id", json_string(row_str(res, row, 8)));
    json_object_set_new(p, "original_id", json_string(row_str(res, row, 9)));
    json_object_set_new(p, "message", json_string(row_str(res, row, 10)));
    json_object_set_new(p, "type", json_string(row_str(res, row, 11)));
    json_object_set_new(p, "props", row_json(res, row, 12));
    json_object_set_new(p, "hashtags", json_string(row_str(res, row, 13)));
    json_t *files = json_loads(row_str(res, row, 14), 0, NULL);
    if (!json_is_array(files)) {
        json_decref(files);
        files = json_array();
    }
    json_object_set_new(p, "file_ids", files);
    json_object_set_new(p, "pending_post_id", json_string(row_str(res, row, 15)));
    json_object_set_new(p, "reply_count", json_integer(row_int64(res, row, 16)));
    json_object_set_new(p, "last_reply_at", json_integer(0));
    json_object_set_new(p, "participants", json_null());
    json_object_set_new(p, "metadata", json_object());
    return p;
}

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
static void publish_post_event(api_request_t *r, const char *event, json_t *post, const char *sender,
                               const char *mentions)
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

/* A post that mentions someone: `posted` carries the mentioned members' ids
 * (explicit @username, or everyone for @all, @channel, @here), never the
 * sender, as a JSON-array string.  Resolved by one query, only for messages
 * with an '@'. */
typedef struct {
    api_channel_access_t *channel;
    json_t *post;
    char sender[65];
} mentions_t;

static void on_mentions_found(api_request_t *r, PGresult *res, const char *error)
{
    mentions_t *m = r->state;
    r->state = m->channel;
    const char *ids = NULL;
    if (error == NULL && PQntuples(res) == 1 && strcmp(row_str(res, 0, 0), "[]") != 0)
        ids = row_str(res, 0, 0);
    else if (error != NULL)
        log_warn(0, "mentions not resolved: %.*s", (int)strcspn(error, "\n"), error);
    publish_post_event(r, "posted", m->post, m->sender, ids);
    json_t *post = m->post;
    m->post = NULL; /* the response takes it */
    api_send_json(r, 201, post);
}

/* A request that goes away while its mentions resolve still owns the post. */
static void on_mentions_disposed(void *data)
{
    json_decref(((mentions_t *)data)->post);
}

static void find_mentions(api_request_t *r, json_t *post, const char *sender)
{
    mentions_t *m = h2o_mem_alloc_shared(&r->req->pool, sizeof(*m), on_mentions_disposed);
    m->channel = r->state;
    m->post = post;
    snprintf(m->sender, sizeof(m->sender), "%s", sender);
    r->state = m;
    const char *params[] = {m->channel->id, json_string_value(json_object_get(post, "message")), r->session.user_id};
    api_query(r,
              "SELECT COALESCE(json_agg(DISTINCT cm.UserId ORDER BY cm.UserId), '[]')::text"
              " FROM ChannelMembers cm JOIN Users u ON u.Id = cm.UserId"
              " WHERE cm.ChannelId = $1 AND u.Id <> $3 AND u.DeleteAt = 0 AND ("
              "  u.Username IN (SELECT lower(rtrim(w[1], '.-_'))"
              "   FROM regexp_matches($2, '@([A-Za-z0-9.\\-_]+)', 'g') AS w)"
              "  OR $2 ~* '(^|[^A-Za-z0-9_])@(all|channel|here)([^A-Za-z0-9_]|$)')",
              3, params, on_mentions_found);
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
        const char *verdict = row_str(res, 0, API_POST_NCOLUMNS);
        if (strcmp(verdict, "channel") == 0)
            api_send_error(r, 400, "api.post.create_post.channel_root_id.app_error",
                           "Invalid ChannelId for RootId parameter.", NULL);
        else
            api_send_error(r, 400, "api.post.create_post.root_id.app_error", "Invalid RootId parameter.", NULL);
        return;
    }
    json_t *post = api_post_json(res, 0);
    if (!row_bool(res, 0, API_POST_NCOLUMNS + 2)) { /* a retried pending_post_id: nothing new */
        api_send_json(r, 201, post);
        return;
    }
    const char *message = json_string_value(json_object_get(post, "message"));
    if (message == NULL || strchr(message, '@') == NULL) {
        publish_post_event(r, "posted", post, row_str(res, 0, API_POST_NCOLUMNS + 1), NULL);
        api_send_json(r, 201, post);
        return;
    }
    find_mentions(r, post, row_str(res, 0, API_POST_NCOLUMNS + 1));
}

/* After the channel check: the body's meaning, then the one statement. */
static void create_post_insert(api_request_t *r)
{
    new_post_t np;
    if (!read_new_post(r, r->body, &np))
        return;
    if (message_too_long(r, np.message))
        return;
    if (np.root_id[0] != '\0' && !id_is_valid(np.root_id, strlen(np.root_id))) {
        api_send_error(r, 400, "api.post.create_post.root_id.app_error", "Invalid RootId parameter.", NULL);
        return;
    }
    if (strncmp(np.type, "system_", 7) == 0) {
        api_send_error(r, 400, "api.context.invalid_param.app_error", "Invalid post.type parameter.", NULL);
        return;
    }
    if (!allowed_post_type(np.type)) {
        api_send_error(r, 400, "model.post.is_valid.type.app_error", "Invalid type.", NULL);
        return;
    }
    if (strlen(np.pending_post_id) > POST_PENDING_ID_MAX) {
        api_error_invalid_body(r, "pending_post_id");
        return;
    }
    const char *props = np.props != NULL ? props_text(r, np.props) : "{}";
    if (props == NULL)
        return;
    const char *files = np.file_ids != NULL ? file_ids_text(r, np.file_ids) : "[]";
    if (files == NULL)
        return;
    char id[ID_LENGTH + 1];
    id_new(id);
    int64_t now = clock_now_ms();
    int64_t create_at = np.create_at > 0 && api_has_role(r, "system_admin") ? np.create_at : now;
    const char *params[] = {id,
                            i64s(r, create_at),
                            r->session.user_id,
                            ((api_channel_access_t *)r->state)->id,
                            np.root_id,
                            np.message,
                            np.type,
                            props,
                            text_hashtags(pool_of(r), np.message),
                            files,
                            np.pending_post_id,
                            i64s(r, now)};
    api_query(r,
              "WITH root AS ("
              "  SELECT Id, ChannelId, RootId, CreateAt FROM Posts WHERE Id = $5 AND DeleteAt = 0),"
              " verdict AS ("
              "  SELECT CASE WHEN $5 = '' THEN ''"
              "   WHEN NOT EXISTS (SELECT 1 FROM root WHERE RootId = '') THEN 'root'"
              "   WHEN NOT EXISTS (SELECT 1 FROM root WHERE ChannelId = $4) THEN 'channel'"
              "   ELSE '' END AS v),"
              " dup AS ("
              "  SELECT * FROM Posts d WHERE $11 <> '' AND d.ChannelId = $4"
              "   AND d.CreateAt > $12::bigint - " DEDUP_WINDOW_MS " AND d.PendingPostId = $11 AND d.UserId = $3"
              "   AND d.DeleteAt = 0 ORDER BY d.CreateAt DESC LIMIT 1),"
              " ins AS ("
              "  INSERT INTO Posts (Id, CreateAt, UpdateAt, UserId, ChannelId, RootId, Message, Type, Props, Hashtags,"
              "   FileIds, PendingPostId)"
              "  SELECT $1, t.at, t.at, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11 FROM verdict,"
              "   (SELECT GREATEST($2::bigint, (SELECT CreateAt FROM root)) AS at) t"
              "  WHERE verdict.v = '' AND NOT EXISTS (SELECT 1 FROM dup) RETURNING *),"
              " ch AS ("
              "  UPDATE Channels SET LastPostAt = GREATEST(LastPostAt, (SELECT CreateAt FROM ins)),"
              "   TotalMsgCount = TotalMsgCount + 1"
              "  WHERE Id = $4 AND EXISTS (SELECT 1 FROM ins) RETURNING Id, LastPostAt, TotalMsgCount),"
              " cm AS ("
              "  UPDATE ChannelMembers m SET LastViewedAt = GREATEST(m.LastViewedAt, ch.LastPostAt),"
              "   MsgCount = GREATEST(m.MsgCount, ch.TotalMsgCount), MentionCount = 0,"
              "   LastUpdateAt = GREATEST(m.LastUpdateAt, $12::bigint)"
              "  FROM ch WHERE m.ChannelId = ch.Id AND m.UserId = $3 RETURNING 1),"
              " rt AS ("
              "  UPDATE Posts SET UpdateAt = GREATEST(UpdateAt, (SELECT CreateAt FROM ins))"
              "  WHERE Id = $5 AND EXISTS (SELECT 1 FROM ins) RETURNING 1)"
              " SELECT " POST_COLS ", p.rc, verdict.v, (SELECT Username FROM Users WHERE Id = $3),"
              "  EXISTS (SELECT 1 FROM ins) FROM verdict LEFT JOIN ("
              "  SELECT i.*, CASE WHEN i.RootId = '' THEN 0 ELSE (SELECT count(*) FROM Posts r"
              "   WHERE r.ChannelId = i.ChannelId AND r.RootId = i.RootId AND r.DeleteAt = 0"
              "   AND r.CreateAt >= (SELECT CreateAt FROM root)) + 1 END AS rc FROM ins i"
              "  UNION ALL"
              "  SELECT p.*, " REPLY_COUNT " FROM dup p) p ON true",
              12, params, on_post_created);
}

void api_posts_create(api_request_t *r)
{
    json_t *body = api_request_body(r, JSON_OBJECT);
    if (body == NULL)
        return;
    new_post_t np;
    if (!read_new_post(r, body, &np))
        return;
    if (!id_is_valid(np.channel_id, strlen(np.channel_id))) {
        api_error_invalid_body(r, "channel_id");
        return;
    }
    api_require_channel(r, text_strndup(pool_of(r), np.channel_id, ID_LENGTH), ACCESS_WRITE, create_post_insert);
}

/* ---- GET /api/v4/posts/{post_id} ------------------------------------------------- */

static const char *const sql_get_post =
    "SELECT " POST_COLS ", " REPLY_COUNT " FROM Posts p WHERE p.Id = $1 AND ($2::boolean OR p.DeleteAt = 0)";

static void on_post_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        api_error_not_found(r, "app.post.get.app_error", "post");
        return;
    }
    api_send_json(r, 200, api_post_json(res, 0));
}

static void get_post_send(api_request_t *r)
{
    bool deleted = text_parse_bool(api_query_param(r, "include_deleted"));
    const char *params[] = {api_param(r, 0), deleted ? "t" : "f"};
    api_query_read(r, sql_get_post, 2, params, on_post_loaded);
}

/* The first step of every post-id handler: the post's channel and author. */
typedef struct {
    api_handler_fn next;
    api_access_t want;
    int missing_status; /* 404, or 403 where Mattermost answers a permission error */
    bool author_only;   /* others need system_admin (edit/delete_others_posts) */
    bool read;          /* may ask a replica (a read), else the master (before a write) */
} post_step_t;

static void on_post_found(api_request_t *r, PGresult *res, const char *error)
{
    post_step_t *st = r->state;
    if (api_query_failed(r, error))
        return;
    if (PQntuples(res) != 1) {
        if (st->missing_status == 403)
            api_error_permissions(r);
        else
            api_error_not_found(r, "app.post.get.app_error", "post");
        return;
    }
    if (st->author_only && strcmp(row_str(res, 0, 1), r->session.user_id) != 0 && !api_has_role(r, "system_admin")) {
        api_error_permissions(r);
        return;
    }
    char *channel_id = (char *)text_strndup(pool_of(r), row_str(res, 0, 0), strlen(row_str(res, 0, 0)));
    api_require_channel(r, channel_id, st->want, st->next);
}

static void find_post(api_request_t *r, const char *post_id, bool include_deleted, const post_step_t *step)
{
    post_step_t *st = h2o_mem_alloc_pool(pool_of(r), sizeof(*st));
    *st = *step;
    r->state = st;
    const char *params[] = {post_id, include_deleted ? "t" : "f"};
    const char *sql = "SELECT ChannelId, UserId FROM Posts WHERE Id = $1 AND ($2::boolean OR DeleteAt = 0)";
    if (step->read)
        api_query_read(r, sql, 2, params, on_post_found);
    else
        api_query(r, sql, 2, params, on_post_found);
}

void api_posts_get(api_request_t *r)
{
    const char *id = api_post_param_id(r, 0, "post_id");
    if (id == NULL)
        return;
    bool deleted = text_parse_bool(api_query_param(r, "include_deleted"));
    if (deleted && !api_has_role(r, "system_admin")) {
        api_error_permissions(r);
        return;
    }
    find_post(r, id, deleted, &(post_step_t){get_post_send, ACCESS_READ, 404, false, true});
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
    const char *verdict = row_str(res, 0, API_POST_NCOLUMNS);
    if (strcmp(verdict, "system") == 0) {
        api_send_error(r, 400, "api.post.update_post.system_message.app_error", "Unable to update system message.",
                       NULL);
        return;
    }
    if (PQgetisnull(res, 0, 0)) {
        api_error_permissions(r); /* deleted meanwhile: as a missing post */
        return;
    }
    json_t *post = api_post_json(res, 0);
    publish_post_event(r, "post_edited", post, NULL, NULL);
    api_send_json(r, 200, post);
}

static void patch_post_update(api_request_t *r)
{
    patch_t pt;
    if (!read_patch(r, r->body, &pt))
        return;
    if (pt.message != NULL && message_too_long(r, pt.message))
        return;
    const char *props = NULL, *files = NULL;
    if (pt.props != NULL && (props = props_text(r, pt.props)) == NULL)
        return;
    if (pt.file_ids != NULL && (files = file_ids_text(r, pt.file_ids)) == NULL)
        return;
    const char *params[] = {api_param(r, 0),
                            pt.message,
                            pt.message != NULL ? text_hashtags(pool_of(r), pt.message) : NULL,
                            pt.pinned < 0 ? NULL
                            : pt.pinned   ? "t"
                                          : "f",
                            props,
                            files,
                            i64s(r, clock_now_ms())};
    api_query(
        r,
        "WITH old AS (SELECT Type FROM Posts WHERE Id = $1 AND DeleteAt = 0),"
        " verdict AS (SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM old) THEN 'gone'"
        "  WHEN (SELECT Type FROM old) LIKE 'system\\_%' THEN 'system' ELSE '' END AS v),"
        " upd AS ("
        "  UPDATE Posts p SET"
        "   EditAt = CASE WHEN $2::text IS NOT NULL AND $2::text <> p.Message THEN $7::bigint ELSE p.EditAt END,"
        "   Hashtags = CASE WHEN $2::text IS NOT NULL AND $2::text <> p.Message THEN $3::text ELSE p.Hashtags END,"
        "   Message = COALESCE($2::text, p.Message), IsPinned = COALESCE($4::boolean, p.IsPinned),"
        "   Props = COALESCE($5::jsonb, p.Props), FileIds = COALESCE($6::text, p.FileIds), UpdateAt = $7::bigint"
        "  FROM verdict WHERE p.Id = $1 AND p.DeleteAt = 0 AND verdict.v = '' RETURNING p.*),"
        " ch AS (UPDATE Channels SET LastPostAt = $7::bigint"
        "  WHERE Id IN (SELECT ChannelId FROM upd) AND LastPostAt < $7::bigint RETURNING 1),"
        " rt AS (UPDATE Posts SET UpdateAt = $7::bigint"
        "  WHERE Id IN (SELECT RootId FROM upd) AND UpdateAt < $7::bigint RETURNING 1)"
        " SELECT " POST_COLS ", " REPLY_COUNT ", verdict.v FROM verdict LEFT JOIN upd p ON true",
        7, params, on_post_patched);
}

void api_posts_patch(api_request_t *r)
{
    const char *id = api_post_param_id(r, 0, "post_id");
    if (id == NULL)
        return;
    json_t *body = api_request_body(r, JSON_OBJECT);
    if (body == NULL)
        return;
    patch_t pt;
    if (!read_patch(r, body, &pt))
        return;
    /* Mattermost: a missing or deleted post is a permission error here */
    find_post(r, id, false, &(post_step_t){patch_post_update, ACCESS_WRITE, 403, true, false});
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
    json_t *post = api_post_json(res, found);
    publish_post_event(r, "post_deleted", post, NULL, NULL);
    json_decref(post);
    api_send_json(r, 200, json_pack("{s:s}", "status", "OK"));
}

static void delete_post_update(api_request_t *r)
{
    const char *params[] = {api_param(r, 0), i64s(r, clock_now_ms()), r->session.user_id,
                            ((api_channel_access_t *)r->state)->id};
    api_query(r,
              "WITH target AS (SELECT Id FROM Posts WHERE Id = $1 AND DeleteAt = 0)"
              " UPDATE Posts p SET DeleteAt = $2::bigint, UpdateAt = $2::bigint,"
              "  Props = jsonb_set(Props, '{deleteBy}', to_jsonb($3::text))"
              " WHERE EXISTS (SELECT 1 FROM target) AND (Id = $1 OR (ChannelId = $4 AND RootId = $1))"
              " RETURNING " POST_COLS ", 0::bigint",
              4, params, on_post_deleted);
}

void api_posts_delete(api_request_t *r)
{
    const char *id = api_post_param_id(r, 0, "post_id");
    if (id == NULL)
        return;
    find_post(r, id, false, &(post_step_t){delete_post_update, ACCESS_WRITE, 404, true, false});
}
