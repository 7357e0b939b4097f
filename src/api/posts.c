/*
 * Posts and search, as Mattermost's REST API v4 serves them.
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
 * Listing a channel follows Mattermost's store and API exactly: plain pages
 * (newest first, deleted excluded), `since` (update_at > since, deleted
 * included, at most 1000, no cursors), `before`/`after` cursors with
 * page/per_page, the thread posts of the page in `posts` only, and
 * next_post_id/prev_post_id as AddCursorIdsForPostList sets them; the page,
 * its threads and both neighbour ids come from one query.
 *
 * Search is the PostgreSQL full-text search of Mattermost's SQL store: the
 * terms are parsed as model.ParseSearchParams does (quoted phrases, -term
 * exclusions, term* prefixes, #hashtags, from:/in:/on:/before:/after:) and
 * turned into a to_tsquery text as the postgres store builds it.  The one
 * statement (search_sql) only ever looks at channels of the team (or DMs/GMs)
 * the caller is a member of; it is the query a search replica would run.
 *
 * Creating, patching and deleting a post publish `posted`, `post_edited` and
 * `post_deleted` to the channel's WebSockets (publish_post_event); a retried
 * create answered from the dedup window publishes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/posts.h"
#include "api/response.h"
#include "api/row.h"
#include "core/clock.h"
#include "core/log.h"
#include "ws/ws.h"

/* Posts.Message is varchar(65535): Mattermost allows a quarter of it, in runes. */
#define POST_MESSAGE_MAX_RUNES  16383
#define POST_HASHTAGS_MAX_BYTES 1000
#define POST_FILEIDS_MAX_RUNES  300
#define POST_PROPS_MAX_RUNES    800000
#define POST_PENDING_ID_MAX     64
#define PER_PAGE_DEFAULT        60
#define PER_PAGE_MAXIMUM        200
#define SINCE_LIMIT             "1000"
#define SEARCH_LIMIT            "100"
#define DEDUP_WINDOW_MS         "30000"

#define ERR_MESSAGE_LENGTH "model.post.is_valid.message_length.app_error"

#define POST_COLS                                                                                                     \
    "p.Id, p.CreateAt, p.UpdateAt, p.EditAt, p.DeleteAt, p.IsPinned, p.UserId, p.ChannelId, p.RootId, p.OriginalId, " \
    "p.Message, p.Type, p.Props, p.Hashtags, p.FileIds, p.PendingPostId"
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

static const char *pool_strndup(h2o_mem_pool_t *pool, const char *s, size_t n)
{
    char *d = h2o_mem_alloc_pool(pool, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static const char *i64s(api_request_t *r, int64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%lld", (long long)v);
    return pool_strndup(pool_of(r), buf, (size_t)n);
}

/* A route parameter that must be an id ("me" is not one here). */
static const char *param_id(api_request_t *r, size_t i, const char *name)
{
    if (i >= r->nparams || !id_is_valid(r->params[i].base, r->params[i].len)) {
        api_error_invalid_param(r, name);
        return NULL;
    }
    return api_param(r, i);
}

/* A growable string in the request pool. */
typedef struct {
    h2o_mem_pool_t *pool;
    char *s;
    size_t len, cap;
} sbuf_t;

static void sb_init(sbuf_t *b, h2o_mem_pool_t *pool, size_t cap)
{
    b->pool = pool;
    b->cap = cap < 16 ? 16 : cap;
    b->s = h2o_mem_alloc_pool(pool, b->cap);
    b->len = 0;
    b->s[0] = '\0';
}

static void sb_putn(sbuf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap * 2 > b->len + n + 1 ? b->cap * 2 : b->len + n + 1;
        char *s2 = h2o_mem_alloc_pool(b->pool, cap);
        memcpy(s2, b->s, b->len);
        b->s = s2;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_puts(sbuf_t *b, const char *s)
{
    sb_putn(b, s, strlen(s));
}

/* A list of strings in the request pool. */
typedef struct {
    const char **v;
    size_t n, cap;
} strlist_t;

static void sl_push(h2o_mem_pool_t *pool, strlist_t *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap == 0 ? 8 : l->cap * 2;
        const char **v = h2o_mem_alloc_pool(pool, cap * sizeof(*v));
        if (l->n > 0)
            memcpy(v, l->v, l->n * sizeof(*v));
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = s;
}

static const char *sl_join(h2o_mem_pool_t *pool, const strlist_t *l, const char *sep)
{
    sbuf_t b;
    sb_init(&b, pool, 64);
    for (size_t i = 0; i < l->n; i++) {
        if (i > 0)
            sb_puts(&b, sep);
        sb_puts(&b, l->v[i]);
    }
    return b.s;
}

/* A PostgreSQL array literal of text elements, each quoted. */
static const char *pg_text_array(h2o_mem_pool_t *pool, const strlist_t *l)
{
    sbuf_t b;
    sb_init(&b, pool, 64);
    sb_puts(&b, "{");
    for (size_t i = 0; i < l->n; i++) {
        sb_puts(&b, i > 0 ? ",\"" : "\"");
        for (const char *c = l->v[i]; *c != '\0'; c++) {
            if (*c == '"' || *c == '\\')
                sb_putn(&b, "\\", 1);
            sb_putn(&b, c, 1);
        }
        sb_puts(&b, "\"");
    }
    sb_puts(&b, "}");
    return b.s;
}

/* ---- UTF-8 and the character classes of Go's regexps ----------------------------- */

/* Decodes the code point at s (valid UTF-8: jansson checked every string). */
static size_t utf8_next(const char *s, size_t len, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    if (u[0] < 0x80 || len < 2) {
        *cp = u[0];
        return 1;
    }
    if ((u[0] & 0xE0) == 0xC0) {
        *cp = ((uint32_t)(u[0] & 0x1F) << 6) | (u[1] & 0x3F);
        return 2;
    }
    if ((u[0] & 0xF0) == 0xE0 && len >= 3) {
        *cp = ((uint32_t)(u[0] & 0x0F) << 12) | ((uint32_t)(u[1] & 0x3F) << 6) | (u[2] & 0x3F);
        return 3;
    }
    if (len >= 4) {
        *cp = ((uint32_t)(u[0] & 0x07) << 18) | ((uint32_t)(u[1] & 0x3F) << 12) | ((uint32_t)(u[2] & 0x3F) << 6) |
              (u[3] & 0x3F);
        return 4;
    }
    *cp = u[0];
    return 1;
}

static size_t utf8_runes(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* unicode.IsSpace */
static bool uc_space(uint32_t c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

static bool uc_digit(uint32_t c)
{
    return c >= '0' && c <= '9';
}

/* \pL, approximated: ASCII letters, and any other code point outside the
 * blocks of punctuation, symbols, spaces, emoji and private use. */
static bool uc_letter(uint32_t c)
{
    if (c < 0x80)
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (c <= 0xBF)
        return c == 0xAA || c == 0xB5 || c == 0xBA;
    if (c == 0xD7 || c == 0xF7 || uc_space(c))
        return false;
    if ((c >= 0x2000 && c <= 0x2BFF) || (c >= 0x2E00 && c <= 0x2E7F) || (c >= 0x3000 && c <= 0x303F) ||
        (c >= 0xE000 && c <= 0xF8FF) || (c >= 0xFE10 && c <= 0xFE6F) || (c >= 0xFF00 && c <= 0xFF0F) ||
        (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65) ||
        (c >= 0xFFF0 && c <= 0xFFFF) || (c >= 0x1F000 && c <= 0x1FAFF))
        return false;
    return true;
}

static bool uc_alnum(uint32_t c)
{
    return uc_letter(c) || uc_digit(c);
}

/* strings.Fields: the words of [s, s+len) between runs of spaces. */
static void fields(h2o_mem_pool_t *pool, const char *s, size_t len, strlist_t *out)
{
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n;
        while (i < len && (n = utf8_next(s + i, len - i, &cp), uc_space(cp)))
            i += n;
        size_t start = i;
        while (i < len && (n = utf8_next(s + i, len - i, &cp), !uc_space(cp)))
            i += n;
        if (i > start)
            sl_push(pool, out, pool_strndup(pool, s + start, i - start));
    }
}

/* Removes the leading runes for which keep() is false. */
static const char *trim_start(const char *s, bool (*keep)(uint32_t))
{
    size_t len = strlen(s), i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = utf8_next(s + i, len - i, &cp);
        if (keep(cp))
            break;
        i += n;
    }
    return s + i;
}

/* Removes the trailing runes for which keep() is false. */
static const char *trim_end(h2o_mem_pool_t *pool, const char *s, bool (*keep)(uint32_t))
{
    size_t len = strlen(s), i = 0, cut = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = utf8_next(s + i, len - i, &cp);
        i += n;
        if (keep(cp))
            cut = i;
    }
    return cut == len ? s : pool_strndup(pool, s, cut);
}

/* ^#{2,} → # */
static const char *collapse_hashes(const char *s)
{
    while (s[0] == '#' && s[1] == '#')
        s++;
    return s;
}

/* ---- hashtags (model.ParseHashtags) ---------------------------------------------- */

static bool ht_keep_start(uint32_t c) /* not in ^[^\pL\d\s#]+ */
{
    return uc_alnum(c) || uc_space(c) || c == '#';
}

static bool ht_keep_end(uint32_t c) /* not in [^\pL\d\s]+$ */
{
    return uc_alnum(c) || uc_space(c);
}

/* ^(#\pL[\pL\d\-_.]*[\pL\d])$ */
static bool valid_hashtag(const char *w)
{
    size_t len = strlen(w);
    if (len < 3 || w[0] != '#')
        return false;
    size_t i = 1, runes = 0;
    uint32_t cp = 0;
    while (i < len) {
        i += utf8_next(w + i, len - i, &cp);
        if (runes == 0 && !uc_letter(cp))
            return false;
        if (!uc_alnum(cp) && cp != '-' && cp != '_' && cp != '.')
            return false;
        runes++;
    }
    return runes >= 2 && uc_alnum(cp);
}

static const char *parse_hashtags(h2o_mem_pool_t *pool, const char *message)
{
    strlist_t words = {0};
    fields(pool, message, strlen(message), &words);
    sbuf_t b;
    sb_init(&b, pool, 64);
    for (size_t i = 0; i < words.n; i++) {
        const char *w = trim_end(pool, trim_start(words.v[i], ht_keep_start), ht_keep_end);
        w = collapse_hashes(w);
        if (valid_hashtag(w)) {
            sb_puts(&b, " ");
            sb_puts(&b, w);
        }
    }
    const char *tags = b.s;
    if (b.len > POST_HASHTAGS_MAX_BYTES) {
        b.s[999] = '\0';
        char *space = strrchr(b.s, ' ');
        if (space != NULL)
            *space = '\0';
        else
            b.s[0] = '\0';
    }
    while (*tags == ' ')
        tags++;
    return tags;
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
    char *text = json_dumps(unique, JSON_COMPACT);
    json_decref(unique);
    if (text == NULL || utf8_runes(text) > POST_FILEIDS_MAX_RUNES) {
        free(text);
        api_send_error(r, 400, "model.post.is_valid.file_ids.app_error", "Invalid file ids.", NULL);
        return NULL;
    }
    const char *out = pool_strndup(pool_of(r), text, strlen(text));
    free(text);
    return out;
}

/* props as stored (SanitizeProps: no add_channel_member/force_notification), or NULL after a 400. */
static const char *props_text(api_request_t *r, json_t *props)
{
    json_t *copy = json_copy(props);
    json_object_del(copy, "add_channel_member");
    json_object_del(copy, "force_notification");
    char *text = json_dumps(copy, JSON_COMPACT);
    json_decref(copy);
    if (text == NULL || utf8_runes(text) > POST_PROPS_MAX_RUNES) {
        free(text);
        api_send_error(r, 400, "model.post.is_valid.props.app_error", "Invalid props.", NULL);
        return NULL;
    }
    const char *out = pool_strndup(pool_of(r), text, strlen(text));
    free(text);
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
    if (error != NULL) {
        api_error_database(r, error);
        return;
    }
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
                            parse_hashtags(pool_of(r), np.message),
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
    api_require_channel(r, pool_strndup(pool_of(r), np.channel_id, ID_LENGTH), ACCESS_WRITE, create_post_insert);
}

/* ---- GET /api/v4/posts/{post_id} ------------------------------------------------- */

/* strconv.ParseBool */
static bool parse_bool(const char *v)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    for (size_t i = 0; v != NULL && i < sizeof(yes) / sizeof(yes[0]); i++)
        if (strcmp(v, yes[i]) == 0)
            return true;
    return false;
}

static const char *const sql_get_post =
    "SELECT " POST_COLS ", " REPLY_COUNT " FROM Posts p WHERE p.Id = $1 AND ($2::boolean OR p.DeleteAt = 0)";

static void on_post_loaded(api_request_t *r, PGresult *res, const char *error)
{
    if (error != NULL) {
        api_error_database(r, error);
        return;
    }
    if (PQntuples(res) != 1) {
        api_error_not_found(r, "app.post.get.app_error", "post");
        return;
    }
    api_send_json(r, 200, api_post_json(res, 0));
}

static void get_post_send(api_request_t *r)
{
    bool deleted = parse_bool(api_query_param(r, "include_deleted"));
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
    if (error != NULL) {
        api_error_database(r, error);
        return;
    }
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
    char *channel_id = (char *)pool_strndup(pool_of(r), row_str(res, 0, 0), strlen(row_str(res, 0, 0)));
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
    const char *id = param_id(r, 0, "post_id");
    if (id == NULL)
        return;
    bool deleted = parse_bool(api_query_param(r, "include_deleted"));
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
    if (error != NULL) {
        api_error_database(r, error);
        return;
    }
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
                            pt.message != NULL ? parse_hashtags(pool_of(r), pt.message) : NULL,
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
    const char *id = param_id(r, 0, "post_id");
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
    if (error != NULL) {
        api_error_database(r, error);
        return;
    }
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
    const char *id = param_id(r, 0, "post_id");
    if (id == NULL)
        return;
    find_post(r, id, false, &(post_step_t){delete_post_update, ACCESS_WRITE, 404, true, false});
}

/* ---- GET /api/v4/channels/{channel_id}/posts ------------------------------------- */

typedef struct {
    const char *after, *before; /* "" when absent */
    int64_t since;              /* > 0: the since mode */
    int64_t page, per_page, offset;
    bool skip_threads, include_deleted;
} list_params_t;

/* strconv.Atoi: an optional sign and decimal digits, within int64. */
static bool parse_int(const char *v, int64_t *out)
{
    if (v == NULL || *v == '\0')
        return false;
    const char *d = v + (*v == '+' || *v == '-');
    if (*d == '\0' || strspn(d, "0123456789") != strlen(d))
        return false;
    errno = 0;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = n;
    return true;
}

/* As web.ParamsFromRequest and getPostsForChannel read them; false after a 400/403. */
static bool read_list_params(api_request_t *r, list_params_t *lp)
{
    memset(lp, 0, sizeof(*lp));
    lp->after = api_query_param(r, "after");
    lp->before = api_query_param(r, "before");
    lp->after = lp->after != NULL ? lp->after : "";
    lp->before = lp->before != NULL ? lp->before : "";
    if (lp->after[0] != '\0' && !id_is_valid(lp->after, strlen(lp->after))) {
        api_error_invalid_body(r, "after");
        return false;
    }
    if (lp->before[0] != '\0' && !id_is_valid(lp->before, strlen(lp->before))) {
        api_error_invalid_body(r, "before");
        return false;
    }
    const char *since = api_query_param(r, "since");
    if (since != NULL && since[0] != '\0' && !parse_int(since, &lp->since)) {
        api_error_invalid_body(r, "since");
        return false;
    }
    if (!parse_int(api_query_param(r, "page"), &lp->page) || lp->page < 0)
        lp->page = 0;
    if (!parse_int(api_query_param(r, "per_page"), &lp->per_page) &&
        !parse_int(api_query_param(r, "pageSize"), &lp->per_page))
        lp->per_page = PER_PAGE_DEFAULT;
    else if (lp->per_page < 0)
        lp->per_page = PER_PAGE_DEFAULT;
    else if (lp->per_page > PER_PAGE_MAXIMUM)
        lp->per_page = PER_PAGE_MAXIMUM;
    lp->offset = lp->per_page > 0 && lp->page > INT64_MAX / lp->per_page ? INT64_MAX : lp->page * lp->per_page;
    lp->skip_threads = parse_bool(api_query_param(r, "skipFetchThreads"));
    lp->include_deleted = parse_bool(api_query_param(r, "include_deleted"));
    if (lp->include_deleted && !api_has_role(r, "system_admin")) {
        api_error_permissions(r);
        return false;
    }
    return true;
}

/* Every mode ends the same way: the rows of `page` (kind 'o', in `order`)
 * and of `extra` (kind 'x', in `posts` only), each with its thread's reply
 * count from one grouped scan of the channel (replies are never older than
 * their root), then the id after the newest and before the oldest of the
 * page (GetPostIdAfterTime / GetPostIdBeforeTime). */
#define LIST_TAIL                                                                                                     \
    " rows AS (SELECT p.*, 'o' AS kind FROM page p"                                                                   \
    "  UNION ALL SELECT e.*, 'x' FROM extra e WHERE e.Id NOT IN (SELECT Id FROM page)),"                              \
    " thr AS (SELECT DISTINCT CASE WHEN RootId = '' THEN Id ELSE RootId END AS t FROM rows),"                         \
    " rc AS (SELECT r.RootId, count(*) AS n FROM Posts r WHERE r.ChannelId = $1 AND r.DeleteAt = 0"                   \
    "  AND r.RootId IN (SELECT t FROM thr)"                                                                           \
    "  AND r.CreateAt >= (SELECT min(o.CreateAt) FROM Posts o WHERE o.Id IN (SELECT t FROM thr)) GROUP BY r.RootId)," \
    " cur AS (SELECT"                                                                                                 \
    "  (SELECT n.Id FROM Posts n WHERE n.ChannelId = $1 AND n.DeleteAt = 0"                                           \
    "   AND n.CreateAt > (SELECT max(CreateAt) FROM page) ORDER BY n.CreateAt ASC LIMIT 1) AS next_id,"               \
    "  (SELECT n.Id FROM Posts n WHERE n.ChannelId = $1 AND n.DeleteAt = 0"                                           \
    "   AND n.CreateAt < (SELECT min(CreateAt) FROM page) ORDER BY n.CreateAt DESC LIMIT 1) AS prev_id)"              \
    " SELECT " POST_COLS ", COALESCE(rc.n, 0), p.kind, cur.next_id, cur.prev_id FROM rows p"                          \
    "  LEFT JOIN rc ON rc.RootId = (CASE WHEN p.RootId = '' THEN p.Id ELSE p.RootId END) CROSS JOIN cur"              \
    " ORDER BY p.kind, p.CreateAt DESC"

/* The thread posts of `roots` (ids) for `posts` only: the roots by id and,
 * with $4 (fetch threads), their replies, never older than the oldest root. */
#define LIST_THREADS(roots)                                                                                    \
    " extra AS (SELECT * FROM Posts p WHERE p.Id IN (SELECT i FROM " roots ") AND p.ChannelId = $1"            \
    "  AND ($5::boolean OR p.DeleteAt = 0)"                                                                    \
    "  UNION SELECT * FROM Posts p WHERE $4::boolean AND p.ChannelId = $1 AND ($5::boolean OR p.DeleteAt = 0)" \
    "  AND p.CreateAt >= (SELECT min(CreateAt) FROM Posts WHERE Id IN (SELECT i FROM " roots "))"              \
    "  AND p.RootId IN (SELECT i FROM " roots ")),"

/* $1 channel, $2 limit, $3 offset, $4 fetch threads, $5 include deleted */
static const char *const sql_list_page =
    "WITH page AS (SELECT * FROM Posts p WHERE p.ChannelId = $1 AND ($5::boolean OR p.DeleteAt = 0)"
    "  ORDER BY p.CreateAt DESC LIMIT $2::bigint OFFSET $3::bigint),"
    " roots AS (SELECT DISTINCT RootId AS i FROM page WHERE RootId <> '')," LIST_THREADS("roots") LIST_TAIL;

/* $6 the anchor post; before: older than it, newest first */
#define LIST_AROUND(cmp, dir)                                                                                  \
    "WITH page AS (SELECT * FROM Posts p WHERE p.ChannelId = $1 AND ($5::boolean OR p.DeleteAt = 0)"           \
    "  AND p.CreateAt " cmp " (SELECT CreateAt FROM Posts WHERE Id = $6)"                                      \
    "  ORDER BY p.CreateAt " dir " LIMIT $2::bigint OFFSET $3::bigint),"                                       \
    " ids AS (SELECT Id AS i FROM page UNION SELECT RootId FROM page WHERE RootId <> '')," LIST_THREADS("ids") \
        LIST_TAIL

static const char *const sql_list_before = LIST_AROUND("<", "DESC");
static const char *const sql_list_after = LIST_AROUND(">", "ASC");

/* $1 channel, $2 since: changed posts (deleted too) and their roots; no cursors */
static const char *const sql_list_since =
    "WITH page AS (SELECT * FROM Posts p WHERE p.ChannelId = $1 AND p.UpdateAt > $2::bigint"
    "  ORDER BY p.UpdateAt ASC LIMIT " SINCE_LIMIT "),"
    " extra AS (SELECT * FROM Posts p WHERE p.Id IN (SELECT RootId FROM page))," LIST_TAIL;

static json_t *empty_post_list(void)
{
    return json_pack("{s:[], s:{}, s:s, s:s, s:i}", "order", "posts", "next_post_id", "", "prev_post_id", "",
                     "first_inaccessible_post_time", 0);
}

static void on_posts_listed(api_request_t *r, PGresult *res, const char *error)
{
    if (error != NULL) {
        api_error_database(r, error);
        return;
    }
    list_params_t lp;
    read_list_params(r, &lp); /* validated before the query */
    json_t *list = empty_post_list();
    json_t *order = json_object_get(list, "order"), *posts = json_object_get(list, "posts");
    int n = 0, col = API_POST_NCOLUMNS;
    const char *next = "", *prev = "";
    for (int i = 0; i < PQntuples(res); i++) {
        json_object_set_new(posts, row_str(res, i, 0), api_post_json(res, i));
        if (row_str(res, i, col)[0] != 'o')
            continue;
        json_array_append_new(order, json_string(row_str(res, i, 0)));
        if (n++ == 0) {
            next = row_str(res, i, col + 1);
            prev = row_str(res, i, col + 2);
        }
    }
    /* AddCursorIdsForPostList */
    if (lp.since > 0) {
        next = prev = "";
    } else if (lp.after[0] != '\0') {
        if (lp.page == 0)
            prev = lp.after;
        if (n < lp.per_page)
            next = "";
    } else if (lp.before[0] != '\0') {
        if (lp.page == 0)
            next = lp.before;
        if (n < lp.per_page)
            prev = "";
    }
    json_object_set_new(list, "next_post_id", json_string(next));
    json_object_set_new(list, "prev_post_id", json_string(prev));
    api_send_json(r, 200, list);
}

static void list_posts_query(api_request_t *r)
{
    list_params_t lp;
    if (!read_list_params(r, &lp))
        return;
    const char *channel = api_param(r, 0);
    if (lp.since > 0) {
        const char *params[] = {channel, i64s(r, lp.since)};
        api_query_read(r, sql_list_since, 2, params, on_posts_listed);
        return;
    }
    const char *params[] = {channel,
                            i64s(r, lp.per_page),
                            i64s(r, lp.offset),
                            lp.skip_threads ? "f" : "t",
                            lp.include_deleted ? "t" : "f",
                            lp.after[0] != '\0' ? lp.after : lp.before};
    if (lp.after[0] != '\0')
        api_query_read(r, sql_list_after, 6, params, on_posts_listed);
    else if (lp.before[0] != '\0')
        api_query_read(r, sql_list_before, 6, params, on_posts_listed);
    else
        api_query_read(r, sql_list_page, 5, params, on_posts_listed);
}

void api_posts_for_channel(api_request_t *r)
{
    const char *channel = param_id(r, 0, "channel_id");
    if (channel == NULL)
        return;
    list_params_t lp;
    if (!read_list_params(r, &lp))
        return;
    api_require_channel(r, channel, ACCESS_READ, list_posts_query);
}

/* ---- POST /api/v4/teams/{team_id}/posts/search ------------------------------------ */

/* What model.ParseSearchParams finds in the terms. */
typedef struct {
    strlist_t plain, plain_ex, tags, tags_ex;
    strlist_t in, in_ex, from, from_ex;
    const char *after, *after_ex, *before, *before_ex, *on, *on_ex;
    bool ext;
} search_terms_t;

/* splitWords: words between spaces, a quoted section (with a '-' before it) as one. */
static void split_words(h2o_mem_pool_t *pool, const char *text, strlist_t *out)
{
    size_t len = strlen(text), loc = 0;
    bool quoted = false;
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '"')
            continue;
        if (quoted) {
            sl_push(pool, out, pool_strndup(pool, text + loc, i + 1 - loc));
            quoted = false;
            loc = i + 1;
        } else {
            size_t next = i > 0 && text[i - 1] == '-' ? i - 1 : i;
            fields(pool, text + loc, next - loc, out);
            quoted = true;
            loc = next;
        }
    }
    fields(pool, text + loc, len - loc, out);
}

static bool st_keep_start(uint32_t c) /* not in ^[^\pL\d\s#"]+ */
{
    return uc_alnum(c) || uc_space(c) || c == '#' || c == '"';
}

static bool st_keep_end(uint32_t c) /* not in [^\pL\d\s*"]+$ */
{
    return uc_alnum(c) || uc_space(c) || c == '*' || c == '"';
}

static const char *ascii_lower(h2o_mem_pool_t *pool, const char *s)
{
    char *d = (char *)pool_strndup(pool, s, strlen(s));
    for (char *c = d; *c != '\0'; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    return d;
}

static void add_flag(h2o_mem_pool_t *pool, search_terms_t *st, const char *name, const char *value, bool exclude)
{
    if (strcmp(name, "in") == 0 || strcmp(name, "channel") == 0)
        sl_push(pool, exclude ? &st->in_ex : &st->in, ascii_lower(pool, value));
    else if (strcmp(name, "from") == 0)
        sl_push(pool, exclude ? &st->from_ex : &st->from, ascii_lower(pool, value));
    else if (strcmp(name, "after") == 0)
        *(exclude ? &st->after_ex : &st->after) = value;
    else if (strcmp(name, "before") == 0)
        *(exclude ? &st->before_ex : &st->before) = value;
    else if (strcmp(name, "on") == 0)
        *(exclude ? &st->on_ex : &st->on) = value;
    else
        st->ext = true;
}

/* parseSearchFlags, then the split into plain terms and hashtags. */
static void parse_search_terms(h2o_mem_pool_t *pool, const char *text, search_terms_t *st)
{
    static const char *const flags[] = {"from", "channel", "in", "before", "after", "on", "ext"};
    strlist_t words = {0};
    memset(st, 0, sizeof(*st));
    split_words(pool, text, &words);
    for (size_t i = 0; i < words.n; i++) {
        const char *word = words.v[i];
        bool is_flag = false;
        const char *colon = strchr(word, ':');
        if (colon != NULL) {
            bool exclude = word[0] == '-';
            const char *name = word + exclude;
            size_t name_len = colon >= name ? (size_t)(colon - name) : 0;
            for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]) && !is_flag; f++) {
                if (strlen(flags[f]) != name_len || strncasecmp(name, flags[f], name_len) != 0)
                    continue;
                if (colon[1] != '\0') {
                    add_flag(pool, st, flags[f], colon + 1, exclude);
                    is_flag = true;
                } else if (i + 1 < words.n) {
                    add_flag(pool, st, flags[f], words.v[++i], exclude);
                    is_flag = true;
                }
            }
        }
        if (is_flag)
            continue;
        bool exclude = word[0] == '-';
        word = collapse_hashes(trim_end(pool, trim_start(word, st_keep_start), st_keep_end));
        if (word[0] == '\0')
            continue;
        if (valid_hashtag(word))
            sl_push(pool, exclude ? &st->tags_ex : &st->tags, word);
        else
            sl_push(pool, exclude ? &st->plain_ex : &st->plain, word);
    }
}

/* removeNonAlphaNumericUnquotedTerms */
static const char *drop_symbol_terms(h2o_mem_pool_t *pool, const char *line)
{
    sbuf_t b;
    sb_init(&b, pool, strlen(line) + 1);
    bool first = true;
    const char *p = line;
    for (;;) {
        const char *sp = strchr(p, ' ');
        size_t len = sp != NULL ? (size_t)(sp - p) : strlen(p);
        bool keep = len >= 2 && p[0] == '"' && p[len - 1] == '"';
        for (size_t i = 0; i < len && !keep;) {
            uint32_t cp;
            i += utf8_next(p + i, len - i, &cp);
            keep = uc_alnum(cp);
        }
        if (keep) {
            strlist_t one = {0};
            fields(pool, p, len, &one); /* TrimSpace */
            if (!first)
                sb_puts(&b, " ");
            sb_puts(&b, sl_join(pool, &one, " "));
            first = false;
        }
        if (sp == NULL)
            break;
        p = sp + 1;
    }
    return b.s;
}

/* Characters of special meaning that the store treats as spaces (postgres keeps '@'). */
static void blank_special(char *s)
{
    for (; *s != '\0'; s++)
        if (strchr("<>+-()~:", *s) != NULL)
            *s = ' ';
}

/* `\*($| )` → ":* " */
static const char *expand_wildcards(h2o_mem_pool_t *pool, const char *s)
{
    sbuf_t b;
    sb_init(&b, pool, strlen(s) * 2 + 1);
    for (size_t i = 0; s[i] != '\0'; i++) {
        if (s[i] == '*' && (s[i + 1] == '\0' || s[i + 1] == ' ')) {
            sb_puts(&b, ":* ");
            if (s[i + 1] == ' ')
                i++;
        } else {
            sb_putn(&b, s + i, 1);
        }
    }
    return b.s;
}

/* replaceSpaces: single spaces; '<->' inside "..." pairs, `op` elsewhere. */
static const char *join_terms(h2o_mem_pool_t *pool, const char *input, char op)
{
    strlist_t words = {0};
    fields(pool, input, strlen(input), &words);
    const char *s = sl_join(pool, &words, " ");
    sbuf_t b;
    sb_init(&b, pool, strlen(s) * 3 + 1);
    bool quoted = false;
    for (size_t i = 0; s[i] != '\0'; i++) {
        if (s[i] == '"')
            quoted = quoted ? false : strchr(s + i + 1, '"') != NULL;
        if (s[i] == ' ')
            sb_puts(&b, quoted ? "<->" : (op == '|' ? "|" : "&"));
        else
            sb_putn(&b, s + i, 1);
    }
    return b.s;
}

/* The to_tsquery text of one search, or NULL when it can match nothing. */
static const char *ts_query(h2o_mem_pool_t *pool, const char *terms, const char *excluded, bool hashtag, bool or_terms)
{
    char *t = (char *)pool_strndup(pool, terms, strlen(terms));
    char *x = (char *)pool_strndup(pool, excluded, strlen(excluded));
    if (!hashtag)
        blank_special(t);
    blank_special(x);
    const char *q = join_terms(pool, expand_wildcards(pool, t), or_terms ? '|' : '&');
    const char *qx = join_terms(pool, expand_wildcards(pool, x), '|');
    if (q[0] == '\0')
        return NULL; /* Mattermost's query fails or is empty: no results */
    if (qx[0] == '\0')
        return q;
    sbuf_t b;
    sb_init(&b, pool, strlen(q) + strlen(qx) + 8);
    sb_puts(&b, q);
    sb_puts(&b, " &!(");
    sb_puts(&b, qx);
    sb_puts(&b, ")");
    return b.s;
}

/* The words of the plain terms as an OR query of safe lexemes, for `matches`. */
static const char *match_query(h2o_mem_pool_t *pool, const char *terms)
{
    char *t = (char *)pool_strndup(pool, terms, strlen(terms));
    blank_special(t);
    strlist_t words = {0};
    fields(pool, t, strlen(t), &words);
    sbuf_t b;
    sb_init(&b, pool, strlen(t) + 8);
    for (size_t w = 0; w < words.n; w++) {
        const char *s = words.v[w];
        size_t len = strlen(s), mark = b.len;
        if (b.len > 0)
            sb_puts(&b, "|");
        size_t start = b.len;
        for (size_t i = 0; i < len;) {
            uint32_t cp;
            size_t n = utf8_next(s + i, len - i, &cp);
            if (uc_alnum(cp) || cp == '_')
                sb_putn(&b, s + i, n);
            i += n;
        }
        if (b.len == start) { /* nothing searchable in it */
            b.len = mark;
            b.s[b.len] = '\0';
        } else if (s[len - 1] == '*') {
            sb_puts(&b, ":*");
        }
    }
    return b.len > 0 ? b.s : NULL;
}

/* A run of 1..max ASCII digits ending at `end` (NUL or '-'); its value. */
static bool date_part(const char **p, size_t min, size_t max, int *out)
{
    size_t n = strspn(*p, "0123456789");
    if (n < min || n > max || ((*p)[n] != '\0' && (*p)[n] != '-'))
        return false;
    *out = atoi(*p);
    *p += n + ((*p)[n] == '-');
    return true;
}

/* PadDateStringZeros + time.Parse("2006-01-02"): days since the epoch. */
static bool parse_day(const char *v, int64_t *days)
{
    int y, m, d;
    if (v == NULL || !date_part(&v, 4, 4, &y) || !date_part(&v, 1, 2, &m) || !date_part(&v, 1, 2, &d) || *v != '\0' ||
        v[-1] == '-')
        return false;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap))
        return false;
    /* days_from_civil */
    int64_t yy = m <= 2 ? y - 1 : y, era = yy / 400;
    int64_t yoe = yy - era * 400, mp = (m + 9) % 12, doy = (153 * mp + 2) / 5 + d - 1;
    *days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    return true;
}

static int64_t day_start_ms(int64_t days, int64_t tz)
{
    return days * 86400000 - tz * 1000;
}

typedef struct {
    bool has_lo, has_hi, has_ex;
    int64_t lo, hi, ex_lo, ex_hi;
} date_range_t;

/* buildCreateDateFilterClause, with Get*DateMillis' fallbacks for bad dates. */
static void date_range(const search_terms_t *st, int64_t tz, date_range_t *dr)
{
    int64_t today = clock_now_ms() / 86400000, day;
    memset(dr, 0, sizeof(*dr));
    if (st->on != NULL) {
        bool ok = parse_day(st->on, &day);
        dr->has_lo = dr->has_hi = true;
        dr->lo = ok ? day_start_ms(day, tz) : 0;
        dr->hi = ok ? day_start_ms(day + 1, tz) - 1 : 0;
        return;
    }
    if (st->on_ex != NULL) {
        bool ok = parse_day(st->on_ex, &day);
        dr->has_ex = true;
        dr->ex_lo = ok ? day_start_ms(day, tz) : 0;
        dr->ex_hi = ok ? day_start_ms(day + 1, tz) - 1 : 0;
    }
    if (st->after != NULL) {
        dr->has_lo = true;
        dr->lo = day_start_ms((parse_day(st->after, &day) ? day : today) + 1, tz);
    }
    if (st->before != NULL) {
        dr->has_hi = true;
        dr->hi = parse_day(st->before, &day) ? day_start_ms(day, tz) - 1 : 0;
    }
    if (st->after_ex != NULL) { /* CreateAt < start of the next day */
        int64_t v = day_start_ms((parse_day(st->after_ex, &day) ? day : today) + 1, tz) - 1;
        dr->hi = dr->has_hi && dr->hi < v ? dr->hi : v;
        dr->has_hi = true;
    }
    if (st->before_ex != NULL) { /* CreateAt > end of the previous day */
        int64_t v = parse_day(st->before_ex, &day) ? day_start_ms(day, tz) : 1;
        dr->lo = dr->has_lo && dr->lo > v ? dr->lo : v;
        dr->has_lo = true;
    }
}

/*
 * The search, in one place: $1 user, $2 team, $3 plain to_tsquery text (NULL:
 * none, '': filters only), $4 hashtag to_tsquery text (NULL: none), $5/$6
 * channel names in/excluded, $7/$8 usernames from/excluded, $9/$10 CreateAt
 * bounds, $11/$12 an excluded CreateAt range, $13 the hashtags searched
 * (upper case), $14 the OR query of the words `matches` reports.  Each hit
 * comes with its reply count, its message with the matching words between
 * \1 and \2 (ts_headline), and whether it is a hashtag hit.
 */
static const char *const search_sql =
    "WITH chans AS ("
    "  SELECT c.Id FROM Channels c JOIN ChannelMembers cm ON cm.ChannelId = c.Id AND cm.UserId = $1"
    "  WHERE c.DeleteAt = 0 AND (c.TeamId = $2 OR c.TeamId = '')"
    "   AND (cardinality($5::text[]) = 0 OR c.Name = ANY($5::text[])) AND NOT (c.Name = ANY($6::text[]))),"
    " base AS NOT MATERIALIZED ("
    "  SELECT p.* FROM Posts p WHERE p.DeleteAt = 0 AND p.Type NOT LIKE 'system_%'"
    "   AND p.ChannelId IN (SELECT Id FROM chans)"
    "   AND ((cardinality($7::text[]) = 0 AND cardinality($8::text[]) = 0) OR p.UserId IN ("
    "    SELECT u.Id FROM Users u JOIN TeamMembers tm ON tm.UserId = u.Id AND tm.TeamId = $2"
    "    WHERE (cardinality($7::text[]) = 0 OR u.Username = ANY($7::text[])) AND NOT (u.Username = ANY($8::text[]))))"
    "   AND ($9::bigint IS NULL OR p.CreateAt >= $9::bigint) AND ($10::bigint IS NULL OR p.CreateAt <= $10::bigint)"
    "   AND ($11::bigint IS NULL OR p.CreateAt NOT BETWEEN $11::bigint AND $12::bigint)),"
    " plain AS ("
    "  SELECT * FROM base b WHERE $3::text IS NOT NULL"
    "   AND ($3::text = '' OR to_tsvector('english', b.Message) @@ to_tsquery('english', $3::text))"
    "  ORDER BY b.CreateAt DESC LIMIT " SEARCH_LIMIT "),"
    " tags AS ("
    "  SELECT * FROM base b WHERE $4::text IS NOT NULL"
    "   AND to_tsvector('english', b.Hashtags) @@ to_tsquery('english', $4::text)"
    "   AND EXISTS (SELECT 1 FROM unnest(string_to_array(upper(b.Hashtags), ' ')) t WHERE t = ANY($13::text[]))"
    "  ORDER BY b.CreateAt DESC LIMIT " SEARCH_LIMIT "),"
    " hits AS (SELECT * FROM plain UNION SELECT * FROM tags),"
    " thr AS (SELECT DISTINCT ChannelId AS c, CASE WHEN RootId = '' THEN Id ELSE RootId END AS t FROM hits),"
    " rc AS (SELECT r.RootId, count(*) AS n FROM Posts r WHERE r.ChannelId = ANY(ARRAY(SELECT c FROM thr))"
    "  AND r.CreateAt >= (SELECT min(o.CreateAt) FROM Posts o WHERE o.Id IN (SELECT t FROM thr))"
    "  AND r.RootId IN (SELECT t FROM thr) AND r.DeleteAt = 0 GROUP BY r.RootId)"
    " SELECT " POST_COLS ", COALESCE(rc.n, 0),"
    "  CASE WHEN $14::text IS NOT NULL AND p.Id IN (SELECT Id FROM plain) THEN ts_headline('english', p.Message,"
    "   to_tsquery('english', $14::text), 'StartSel=' || chr(1) || ', StopSel=' || chr(2) || ', HighlightAll=true')"
    "  END, p.Id IN (SELECT Id FROM tags)"
    " FROM hits p LEFT JOIN rc ON rc.RootId = (CASE WHEN p.RootId = '' THEN p.Id ELSE p.RootId END)"
    " ORDER BY p.CreateAt DESC";

static json_t *empty_search_results(void)
{
    json_t *list = empty_post_list();
    json_object_set_new(list, "matches", json_object());
    return list;
}

typedef struct {
    strlist_t tags; /* the hashtags searched, upper case */
} search_state_t;

static void add_match(json_t *words, const char *w, size_t len)
{
    json_t *v = json_stringn(w, len);
    size_t i;
    json_t *x;
    json_array_foreach(words, i, x)
    {
        if (json_equal(x, v)) {
            json_decref(v);
            return;
        }
    }
    json_array_append_new(words, v);
}

/* The words of a hit that matched: highlighted by ts_headline, or its hashtags searched. */
static json_t *hit_matches(const search_state_t *st, const PGresult *res, int row)
{
    json_t *words = json_array();
    const char *h = PQgetisnull(res, row, API_POST_NCOLUMNS) ? "" : row_str(res, row, API_POST_NCOLUMNS);
    for (const char *open; (open = strchr(h, '\1')) != NULL;) {
        const char *close = strchr(open + 1, '\2');
        if (close == NULL)
            break;
        if (close > open + 1)
            add_match(words, open + 1, (size_t)(close - open - 1));
        h = close + 1;
    }
    if (!row_bool(res, row, API_POST_NCOLUMNS + 1))
        return words;
    const char *tags = row_str(res, row, 13);
    while (*tags != '\0') {
        size_t len = strcspn(tags, " ");
        for (size_t i = 0; i < st->tags.n; i++)
            if (strlen(st->tags.v[i]) == len && strncasecmp(st->tags.v[i], tags, len) == 0)
                add_match(words, tags, len);
        tags += len + (tags[len] == ' ');
    }
    return words;
}

static void on_posts_searched(api_request_t *r, PGresult *res, const char *error)
{
    /* Mattermost answers a query its text search cannot parse with no results */
    if (error != NULL && strcmp(row_sqlstate(res), "42601") == 0) {
        log_warn(0, "request %s: query error searching posts: %.*s", r->request_id, (int)strcspn(error, "\n"), error);
        api_send_json(r, 200, empty_search_results());
        return;
    }
    if (error != NULL) {
        api_error_database(r, error);
        return;
    }
    search_state_t *st = r->state;
    json_t *list = empty_search_results();
    json_t *order = json_object_get(list, "order"), *posts = json_object_get(list, "posts");
    json_t *matches = json_object_get(list, "matches");
    for (int i = 0; i < PQntuples(res); i++) {
        const char *id = row_str(res, i, 0);
        json_array_append_new(order, json_string(id));
        json_object_set_new(posts, id, api_post_json(res, i));
        json_object_set_new(matches, id, hit_matches(st, res, i));
    }
    api_send_json(r, 200, list);
}

static void upper_tags(h2o_mem_pool_t *pool, const strlist_t *tags, strlist_t *out)
{
    for (size_t i = 0; i < tags->n; i++) {
        char *u = (char *)pool_strndup(pool, tags->v[i], strlen(tags->v[i]));
        for (char *c = u; *c != '\0'; c++)
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 'a' + 'A');
        sl_push(pool, out, u);
    }
}

static void search_invalid_body(api_request_t *r)
{
    api_send_error(r, 400, "api.post.search_posts.invalid_body.app_error", "Unable to parse the request body.", NULL);
}

static void search_posts_query(api_request_t *r)
{
    json_t *body = json_loadb(r->req->entity.base, r->req->entity.len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(body)) {
        json_decref(body);
        search_invalid_body(r);
        return;
    }
    json_decref(r->body);
    r->body = body; /* released with the request */
    json_t *terms = json_object_get(body, "terms"), *is_or = json_object_get(body, "is_or_search");
    json_t *page = json_object_get(body, "page"), *per_page = json_object_get(body, "per_page");
    json_t *tz = json_object_get(body, "time_zone_offset");
    json_t *deleted = json_object_get(body, "include_deleted_channels");
    if ((terms != NULL && !json_is_null(terms) && !json_is_string(terms)) ||
        (is_or != NULL && !json_is_null(is_or) && !json_is_boolean(is_or)) ||
        (page != NULL && !json_is_null(page) && !json_is_integer(page)) ||
        (per_page != NULL && !json_is_null(per_page) && !json_is_integer(per_page)) ||
        (tz != NULL && !json_is_null(tz) && !json_is_integer(tz)) ||
        (deleted != NULL && !json_is_null(deleted) && !json_is_boolean(deleted))) {
        search_invalid_body(r);
        return;
    }
    if (!json_is_string(terms) || json_string_length(terms) == 0) {
        api_error_invalid_body(r, "terms");
        return;
    }
    /* the database search has no pages: later ones are empty */
    if (json_is_integer(page) && json_integer_value(page) > 0) {
        api_send_json(r, 200, empty_search_results());
        return;
    }
    h2o_mem_pool_t *pool = pool_of(r);
    bool or_terms = json_is_true(is_or);
    int64_t offset = json_is_integer(tz) ? json_integer_value(tz) : 0;
    offset = offset > 1000000000 ? 1000000000 : offset < -1000000000 ? -1000000000 : offset;
    strlist_t words = {0};
    fields(pool, json_string_value(terms), json_string_length(terms), &words); /* TrimSpace */
    search_terms_t st;
    parse_search_terms(pool, sl_join(pool, &words, " "), &st);

    bool filters =
        st.in.n + st.in_ex.n + st.from.n + st.from_ex.n > 0 || st.on != NULL || st.after != NULL || st.before != NULL;
    const char *plain = NULL, *tags = NULL, *match = NULL;
    const char *plain_terms = sl_join(pool, &st.plain, " "), *plain_ex = sl_join(pool, &st.plain_ex, " ");
    if ((plain_terms[0] != '\0' || plain_ex[0] != '\0') && strcmp(plain_terms, "*") != 0) {
        plain_terms = drop_symbol_terms(pool, plain_terms);
        if (plain_terms[0] == '\0' && plain_ex[0] == '\0') {
            plain = filters ? "" : NULL;
        } else {
            plain = ts_query(pool, plain_terms, plain_ex, false, or_terms);
            match = plain != NULL ? match_query(pool, plain_terms) : NULL;
        }
    }
    const char *tag_terms = sl_join(pool, &st.tags, " "), *tag_ex = sl_join(pool, &st.tags_ex, " ");
    if (tag_terms[0] != '\0' || tag_ex[0] != '\0') {
        tag_terms = drop_symbol_terms(pool, tag_terms);
        if (tag_terms[0] == '\0' && tag_ex[0] == '\0')
            plain = plain != NULL ? plain : filters ? "" : NULL;
        else
            tags = ts_query(pool, tag_terms, tag_ex, true, or_terms);
    }
    bool no_terms = st.plain.n + st.plain_ex.n + st.tags.n + st.tags_ex.n == 0;
    if (no_terms && filters)
        plain = ""; /* the filters alone */
    if (plain == NULL && tags == NULL) {
        api_send_json(r, 200, empty_search_results());
        return;
    }
    date_range_t dr;
    date_range(&st, offset, &dr);
    search_state_t *state = h2o_mem_alloc_pool(pool, sizeof(*state));
    memset(state, 0, sizeof(*state));
    upper_tags(pool, &st.tags, &state->tags);
    r->state = state;
    const char *params[] = {r->session.user_id,
                            api_param(r, 0),
                            plain,
                            tags,
                            pg_text_array(pool, &st.in),
                            pg_text_array(pool, &st.in_ex),
                            pg_text_array(pool, &st.from),
                            pg_text_array(pool, &st.from_ex),
                            dr.has_lo ? i64s(r, dr.lo) : NULL,
                            dr.has_hi ? i64s(r, dr.hi) : NULL,
                            dr.has_ex ? i64s(r, dr.ex_lo) : NULL,
                            dr.has_ex ? i64s(r, dr.ex_hi) : NULL,
                            pg_text_array(pool, &state->tags),
                            match};
    api_query_search(r, search_sql, 14, params, on_posts_searched);
}

void api_posts_search(api_request_t *r)
{
    const char *team = param_id(r, 0, "team_id");
    if (team == NULL)
        return;
    api_require_team_member(r, team, search_posts_query);
}
