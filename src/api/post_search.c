/*
 * POST /api/v4/teams/{team_id}/posts/search: the PostgreSQL full-text search
 * of Mattermost's SQL store.  The terms are parsed as model.ParseSearchParams
 * does (quoted phrases, -term exclusions, term* prefixes, #hashtags,
 * from:/in:/on:/before:/after:) and turned into a to_tsquery text as the
 * postgres store builds it.  The one statement (search_sql) only ever looks
 * at channels of the team (or DMs/GMs) the caller is a member of; it is the
 * query a search replica would run.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/posts.h"
#include "api/response.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/text.h"
#include "db/sqlstate.h"
#include "store/post.h"
#include "store/row.h"

#define SEARCH_LIMIT "100"

/* A PostgreSQL array literal of text elements, each quoted. */
static const char *pg_text_array(h2o_mem_pool_t *pool, const text_strlist_t *l)
{
    text_sbuf_t b;
    text_sb_init(&b, pool, 64);
    text_sb_puts(&b, "{");
    for (size_t i = 0; i < l->n; i++) {
        text_sb_puts(&b, i > 0 ? ",\"" : "\"");
        for (const char *c = l->v[i]; *c != '\0'; c++) {
            if (*c == '"' || *c == '\\')
                text_sb_putn(&b, "\\", 1);
            text_sb_putn(&b, c, 1);
        }
        text_sb_puts(&b, "\"");
    }
    text_sb_puts(&b, "}");
    return b.s;
}

/* What model.ParseSearchParams finds in the terms. */
typedef struct {
    text_strlist_t plain, plain_ex, tags, tags_ex;
    text_strlist_t in, in_ex, from, from_ex;
    const char *after, *after_ex, *before, *before_ex, *on, *on_ex;
    bool ext;
} search_terms_t;

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

static void add_flag(h2o_mem_pool_t *pool, search_terms_t *st, const char *name, const char *value, bool exclude)
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
static void parse_search_terms(h2o_mem_pool_t *pool, const char *text, search_terms_t *st)
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

/* removeNonAlphaNumericUnquotedTerms */
static const char *drop_symbol_terms(h2o_mem_pool_t *pool, const char *line)
{
    text_sbuf_t b;
    text_sb_init(&b, pool, strlen(line) + 1);
    bool first = true;
    const char *p = line;
    for (;;) {
        const char *sp = strchr(p, ' ');
        size_t len = sp != NULL ? (size_t)(sp - p) : strlen(p);
        bool keep = len >= 2 && p[0] == '"' && p[len - 1] == '"';
        for (size_t i = 0; i < len && !keep;) {
            uint32_t cp;
            i += text_utf8_next(p + i, len - i, &cp);
            keep = text_uc_alnum(cp);
        }
        if (keep) {
            text_strlist_t one = {0};
            text_fields(pool, p, len, &one); /* TrimSpace */
            if (!first)
                text_sb_puts(&b, " ");
            text_sb_puts(&b, text_sl_join(pool, &one, " "));
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
    text_sbuf_t b;
    text_sb_init(&b, pool, strlen(s) * 2 + 1);
    for (size_t i = 0; s[i] != '\0'; i++) {
        if (s[i] == '*' && (s[i + 1] == '\0' || s[i + 1] == ' ')) {
            text_sb_puts(&b, ":* ");
            if (s[i + 1] == ' ')
                i++;
        } else {
            text_sb_putn(&b, s + i, 1);
        }
    }
    return b.s;
}

/* replaceSpaces: single spaces; '<->' inside "..." pairs, `op` elsewhere. */
static const char *join_terms(h2o_mem_pool_t *pool, const char *input, char op)
{
    text_strlist_t words = {0};
    text_fields(pool, input, strlen(input), &words);
    const char *s = text_sl_join(pool, &words, " ");
    text_sbuf_t b;
    text_sb_init(&b, pool, strlen(s) * 3 + 1);
    bool quoted = false;
    for (size_t i = 0; s[i] != '\0'; i++) {
        if (s[i] == '"')
            quoted = quoted ? false : strchr(s + i + 1, '"') != NULL;
        if (s[i] == ' ')
            text_sb_puts(&b, quoted ? "<->" : (op == '|' ? "|" : "&"));
        else
            text_sb_putn(&b, s + i, 1);
    }
    return b.s;
}

/* The to_tsquery text of one search, or NULL when it can match nothing. */
static const char *ts_query(h2o_mem_pool_t *pool, const char *terms, const char *excluded, bool hashtag, bool or_terms)
{
    char *t = (char *)text_strndup(pool, terms, strlen(terms));
    char *x = (char *)text_strndup(pool, excluded, strlen(excluded));
    if (!hashtag)
        blank_special(t);
    blank_special(x);
    const char *q = join_terms(pool, expand_wildcards(pool, t), or_terms ? '|' : '&');
    const char *qx = join_terms(pool, expand_wildcards(pool, x), '|');
    if (q[0] == '\0')
        return NULL; /* Mattermost's query fails or is empty: no results */
    if (qx[0] == '\0')
        return q;
    text_sbuf_t b;
    text_sb_init(&b, pool, strlen(q) + strlen(qx) + 8);
    text_sb_puts(&b, q);
    text_sb_puts(&b, " &!(");
    text_sb_puts(&b, qx);
    text_sb_puts(&b, ")");
    return b.s;
}

/* The words of the plain terms as an OR query of safe lexemes, for `matches`. */
static const char *match_query(h2o_mem_pool_t *pool, const char *terms)
{
    char *t = (char *)text_strndup(pool, terms, strlen(terms));
    blank_special(t);
    text_strlist_t words = {0};
    text_fields(pool, t, strlen(t), &words);
    text_sbuf_t b;
    text_sb_init(&b, pool, strlen(t) + 8);
    for (size_t w = 0; w < words.n; w++) {
        const char *s = words.v[w];
        size_t len = strlen(s), mark = b.len;
        if (b.len > 0)
            text_sb_puts(&b, "|");
        size_t start = b.len;
        for (size_t i = 0; i < len;) {
            uint32_t cp;
            size_t n = text_utf8_next(s + i, len - i, &cp);
            if (text_uc_alnum(cp) || cp == '_')
                text_sb_putn(&b, s + i, n);
            i += n;
        }
        if (b.len == start) { /* nothing searchable in it */
            b.len = mark;
            b.s[b.len] = '\0';
        } else if (s[len - 1] == '*') {
            text_sb_puts(&b, ":*");
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
    " SELECT " POST_COLUMNS ", COALESCE(rc.n, 0),"
    "  CASE WHEN $14::text IS NOT NULL AND p.Id IN (SELECT Id FROM plain) THEN ts_headline('english', p.Message,"
    "   to_tsquery('english', $14::text), 'StartSel=' || chr(1) || ', StopSel=' || chr(2) || ', HighlightAll=true')"
    "  END, p.Id IN (SELECT Id FROM tags)"
    " FROM hits p LEFT JOIN rc ON rc.RootId = (CASE WHEN p.RootId = '' THEN p.Id ELSE p.RootId END)"
    " ORDER BY p.CreateAt DESC";

static json_t *empty_search_results(void)
{
    json_t *list = post_list_empty();
    json_object_set_new(list, "matches", json_object());
    return list;
}

typedef struct {
    text_strlist_t tags; /* the hashtags searched, upper case */
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
    const char *h = PQgetisnull(res, row, POST_NCOLUMNS) ? "" : row_str(res, row, POST_NCOLUMNS);
    for (const char *open; (open = strchr(h, '\1')) != NULL;) {
        const char *close = strchr(open + 1, '\2');
        if (close == NULL)
            break;
        if (close > open + 1)
            add_match(words, open + 1, (size_t)(close - open - 1));
        h = close + 1;
    }
    if (!row_bool(res, row, POST_NCOLUMNS + 1))
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
    if (error != NULL && sqlstate_is(row_sqlstate(res), SQLSTATE_SYNTAX_ERROR)) {
        log_warn(0, "request %s: query error searching posts: %.*s", r->request_id, (int)strcspn(error, "\n"), error);
        api_send_json(r, 200, empty_search_results());
        return;
    }
    if (api_query_failed(r, error))
        return;
    search_state_t *st = r->state;
    json_t *list = empty_search_results();
    json_t *order = json_object_get(list, "order"), *posts = json_object_get(list, "posts");
    json_t *matches = json_object_get(list, "matches");
    for (int i = 0; i < PQntuples(res); i++) {
        const char *id = row_str(res, i, 0);
        json_array_append_new(order, json_string(id));
        json_object_set_new(posts, id, post_to_json(res, i));
        json_object_set_new(matches, id, hit_matches(st, res, i));
    }
    api_send_json(r, 200, list);
}

static void upper_tags(h2o_mem_pool_t *pool, const text_strlist_t *tags, text_strlist_t *out)
{
    for (size_t i = 0; i < tags->n; i++) {
        char *u = (char *)text_strndup(pool, tags->v[i], strlen(tags->v[i]));
        for (char *c = u; *c != '\0'; c++)
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 'a' + 'A');
        text_sl_push(pool, out, u);
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
    h2o_mem_pool_t *pool = &r->req->pool;
    bool or_terms = json_is_true(is_or);
    int64_t offset = json_is_integer(tz) ? json_integer_value(tz) : 0;
    offset = offset > 1000000000 ? 1000000000 : offset < -1000000000 ? -1000000000 : offset;
    text_strlist_t words = {0};
    text_fields(pool, json_string_value(terms), json_string_length(terms), &words); /* TrimSpace */
    search_terms_t st;
    parse_search_terms(pool, text_sl_join(pool, &words, " "), &st);

    bool filters =
        st.in.n + st.in_ex.n + st.from.n + st.from_ex.n > 0 || st.on != NULL || st.after != NULL || st.before != NULL;
    const char *plain = NULL, *tags = NULL, *match = NULL;
    const char *plain_terms = text_sl_join(pool, &st.plain, " "), *plain_ex = text_sl_join(pool, &st.plain_ex, " ");
    if ((plain_terms[0] != '\0' || plain_ex[0] != '\0') && strcmp(plain_terms, "*") != 0) {
        plain_terms = drop_symbol_terms(pool, plain_terms);
        if (plain_terms[0] == '\0' && plain_ex[0] == '\0') {
            plain = filters ? "" : NULL;
        } else {
            plain = ts_query(pool, plain_terms, plain_ex, false, or_terms);
            match = plain != NULL ? match_query(pool, plain_terms) : NULL;
        }
    }
    const char *tag_terms = text_sl_join(pool, &st.tags, " "), *tag_ex = text_sl_join(pool, &st.tags_ex, " ");
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
                            dr.has_lo ? text_i64(pool, dr.lo) : NULL,
                            dr.has_hi ? text_i64(pool, dr.hi) : NULL,
                            dr.has_ex ? text_i64(pool, dr.ex_lo) : NULL,
                            dr.has_ex ? text_i64(pool, dr.ex_hi) : NULL,
                            pg_text_array(pool, &state->tags),
                            match};
    api_query_search(r, search_sql, 14, params, on_posts_searched);
}

void api_posts_search(api_request_t *r)
{
    const char *team = api_post_param_id(r, 0, "team_id");
    if (team == NULL)
        return;
    api_require_team_member(r, team, search_posts_query);
}
