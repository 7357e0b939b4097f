/*
 * POST /api/v4/teams/{team_id}/posts/search: the body read as Mattermost
 * reads it, the terms parsed as model.ParseSearchParams does (quoted phrases,
 * -term exclusions, term* prefixes, #hashtags, from:/in:/on:/before:/after:),
 * then the one statement store/post_search.h builds from them, which only
 * ever looks at channels of the team (or DMs/GMs) the caller is a member of.
 */
#include <string.h>
#include <strings.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/posts.h"
#include "api/response.h"
#include "core/log.h"
#include "core/text.h"
#include "db/sqlstate.h"
#include "store/post_search.h"
#include "store/row.h"

/* splitWords: words between spaces, a quoted section (with a '-' before it) as one. */
static void split_words(h2o_mem_pool_t *pool, const char *text, text_strlist_t *out)
{
    size_t len = strlen(text), loc = 0;
    bool quoted = false;
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '"')
            continue;
        if (quoted) {
            text_sl_push(pool, out, text_strndup(pool, text + loc, i + 1 - loc));
            quoted = false;
            loc = i + 1;
        } else {
            size_t next = i > 0 && text[i - 1] == '-' ? i - 1 : i;
            text_fields(pool, text + loc, next - loc, out);
            quoted = true;
            loc = next;
        }
    }
    text_fields(pool, text + loc, len - loc, out);
}

static bool st_keep_start(uint32_t c) /* not in ^[^\pL\d\s#"]+ */
{
    return text_uc_alnum(c) || text_uc_space(c) || c == '#' || c == '"';
}

static bool st_keep_end(uint32_t c) /* not in [^\pL\d\s*"]+$ */
{
    return text_uc_alnum(c) || text_uc_space(c) || c == '*' || c == '"';
}

static const char *ascii_lower(h2o_mem_pool_t *pool, const char *s)
{
    char *d = (char *)text_strndup(pool, s, strlen(s));
    for (char *c = d; *c != '\0'; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    return d;
}

static void add_flag(h2o_mem_pool_t *pool, post_search_terms_t *st, const char *name, const char *value, bool exclude)
{
    if (strcmp(name, "in") == 0 || strcmp(name, "channel") == 0)
        text_sl_push(pool, exclude ? &st->in_ex : &st->in, ascii_lower(pool, value));
    else if (strcmp(name, "from") == 0)
        text_sl_push(pool, exclude ? &st->from_ex : &st->from, ascii_lower(pool, value));
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
static void parse_search_terms(h2o_mem_pool_t *pool, const char *text, post_search_terms_t *st)
{
    static const char *const flags[] = {"from", "channel", "in", "before", "after", "on", "ext"};
    text_strlist_t words = {0};
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
        word = text_collapse_hashes(text_trim_end(pool, text_trim_start(word, st_keep_start), st_keep_end));
        if (word[0] == '\0')
            continue;
        if (text_valid_hashtag(word))
            text_sl_push(pool, exclude ? &st->tags_ex : &st->tags, word);
        else
            text_sl_push(pool, exclude ? &st->plain_ex : &st->plain, word);
    }
}

static void on_posts_searched(api_request_t *r, PGresult *res, const char *error)
{
    /* Mattermost answers a query its text search cannot parse with no results */
    if (error != NULL && sqlstate_is(row_sqlstate(res), SQLSTATE_SYNTAX_ERROR)) {
        log_warn(0, "request %s: query error searching posts: %.*s", r->request_id, (int)strcspn(error, "\n"), error);
        api_send_json(r, 200, post_search_empty());
        return;
    }
    if (api_query_failed(r, error))
        return;
    api_send_json(r, 200, post_search_to_json(res, r->state));
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
        api_send_json(r, 200, post_search_empty());
        return;
    }
    h2o_mem_pool_t *pool = &r->req->pool;
    int64_t offset = json_is_integer(tz) ? json_integer_value(tz) : 0;
    offset = offset > 1000000000 ? 1000000000 : offset < -1000000000 ? -1000000000 : offset;
    text_strlist_t words = {0};
    text_fields(pool, json_string_value(terms), json_string_length(terms), &words); /* TrimSpace */
    post_search_terms_t st;
    parse_search_terms(pool, text_sl_join(pool, &words, " "), &st);
    post_search_t *search = h2o_mem_alloc_pool(pool, sizeof(*search));
    if (!post_search_build(pool, &st, json_is_true(is_or), offset, r->session.user_id, api_param(r, 0), search)) {
        api_send_json(r, 200, post_search_empty());
        return;
    }
    r->state = search;
    api_query_search(r, search->sql, search->nparams, search->params, on_posts_searched);
}

void api_posts_search(api_request_t *r)
{
    const char *team = api_post_param_id(r, 0, "team_id");
    if (team == NULL)
        return;
    api_require_team_member(r, team, search_posts_query);
}
