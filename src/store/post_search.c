/*
 * The search statement's parameters and its results (store/post_search.h).
 * The to_tsquery texts follow the postgres store: terms without a letter or
 * digit dropped unless quoted, the characters it treats as operators turned
 * to spaces, `word*` a prefix, quoted words adjacent (<->), the others joined
 * by & (| for an OR search), excluded terms as &!(...).  A query PostgreSQL
 * still cannot parse fails with a syntax error, which the handler answers
 * with no results, as Mattermost does.
 */
#include "store/post_search.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "store/row.h"

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
static void date_range(const post_search_terms_t *st, int64_t tz, date_range_t *dr)
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

bool post_search_build(h2o_mem_pool_t *pool, const post_search_terms_t *st, bool or_terms, int64_t tz_offset,
                       const char *user_id, const char *team_id, post_search_t *out)
{
    bool filters = st->in.n + st->in_ex.n + st->from.n + st->from_ex.n > 0 || st->on != NULL || st->after != NULL ||
                   st->before != NULL;
    const char *plain = NULL, *tags = NULL, *match = NULL;
    const char *plain_terms = text_sl_join(pool, &st->plain, " "), *plain_ex = text_sl_join(pool, &st->plain_ex, " ");
    if ((plain_terms[0] != '\0' || plain_ex[0] != '\0') && strcmp(plain_terms, "*") != 0) {
        plain_terms = drop_symbol_terms(pool, plain_terms);
        if (plain_terms[0] == '\0' && plain_ex[0] == '\0') {
            plain = filters ? "" : NULL;
        } else {
            plain = ts_query(pool, plain_terms, plain_ex, false, or_terms);
            match = plain != NULL ? match_query(pool, plain_terms) : NULL;
        }
    }
    const char *tag_terms = text_sl_join(pool, &st->tags, " "), *tag_ex = text_sl_join(pool, &st->tags_ex, " ");
    if (tag_terms[0] != '\0' || tag_ex[0] != '\0') {
        tag_terms = drop_symbol_terms(pool, tag_terms);
        if (tag_terms[0] == '\0' && tag_ex[0] == '\0')
            plain = plain != NULL ? plain : filters ? "" : NULL;
        else
            tags = ts_query(pool, tag_terms, tag_ex, true, or_terms);
    }
    bool no_terms = st->plain.n + st->plain_ex.n + st->tags.n + st->tags_ex.n == 0;
    if (no_terms && filters)
        plain = ""; /* the filters alone */
    if (plain == NULL && tags == NULL)
        return false;
    date_range_t dr;
    date_range(st, tz_offset, &dr);
    memset(out, 0, sizeof(*out));
    upper_tags(pool, &st->tags, &out->tags);
    const char *params[POST_SEARCH_NPARAMS] = {user_id,
                                               team_id,
                                               plain,
                                               tags,
                                               pg_text_array(pool, &st->in),
                                               pg_text_array(pool, &st->in_ex),
                                               pg_text_array(pool, &st->from),
                                               pg_text_array(pool, &st->from_ex),
                                               dr.has_lo ? text_i64(pool, dr.lo) : NULL,
                                               dr.has_hi ? text_i64(pool, dr.hi) : NULL,
                                               dr.has_ex ? text_i64(pool, dr.ex_lo) : NULL,
                                               dr.has_ex ? text_i64(pool, dr.ex_hi) : NULL,
                                               pg_text_array(pool, &out->tags),
                                               match};
    memcpy(out->params, params, sizeof(params));
    out->sql = POST_SQL_SEARCH;
    out->nparams = POST_SEARCH_NPARAMS;
    return true;
}

json_t *post_search_empty(void)
{
    json_t *list = post_list_empty();
    json_object_set_new(list, "matches", json_object());
    return list;
}

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
static json_t *hit_matches(const post_search_t *st, const PGresult *res, int row)
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

json_t *post_search_to_json(const PGresult *res, const post_search_t *search)
{
    json_t *list = post_search_empty();
    json_t *order = json_object_get(list, "order"), *posts = json_object_get(list, "posts");
    json_t *matches = json_object_get(list, "matches");
    for (int i = 0; i < PQntuples(res); i++) {
        const char *id = row_str(res, i, 0);
        json_array_append_new(order, json_string(id));
        json_object_set_new(posts, id, post_to_json(res, i));
        json_object_set_new(matches, id, hit_matches(search, res, i));
    }
    return list;
}
