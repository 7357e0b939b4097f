/*
 * The text rules of the chat model, in one home for every process that
 * needs them (the posts API and its search, the search-index rebuild job),
 * in a caller's memory pool: a growable string and a list of strings, UTF-8 decoding and
 * the character classes of Go's regexps (\s, \d, \pL as Mattermost's model
 * package uses them), strings.Fields, the trims of its word regexps, and
 * model.ParseHashtags.  Nothing here is freed: the pool goes with the request (or the job's batch).
 */
#include <stdio.h>
#include <string.h>

#include "core/text.h"

/* Post.Hashtags is varchar(1000). */
#define POST_HASHTAGS_MAX_BYTES 1000

/* ---- strings in the pool ------------------------------------------------------------ */

const char *text_strndup(h2o_mem_pool_t *pool, const char *s, size_t n)
{
    char *d = h2o_mem_alloc_pool(pool, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

const char *text_int64(char out[TEXT_INT64_SIZE], int64_t v)
{
    snprintf(out, TEXT_INT64_SIZE, "%lld", (long long)v);
    return out;
}

const char *text_i64(h2o_mem_pool_t *pool, int64_t v)
{
    char buf[TEXT_INT64_SIZE];
    text_int64(buf, v);
    return text_strndup(pool, buf, strlen(buf));
}

/* strconv.ParseBool */
bool text_parse_bool(const char *v)
{
    static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    for (size_t i = 0; v != NULL && i < sizeof(yes) / sizeof(yes[0]); i++)
        if (strcmp(v, yes[i]) == 0)
            return true;
    return false;
}

void text_sb_init(text_sbuf_t *b, h2o_mem_pool_t *pool, size_t cap)
{
    b->pool = pool;
    b->cap = cap < 16 ? 16 : cap;
    b->s = h2o_mem_alloc_pool(pool, b->cap);
    b->len = 0;
    b->s[0] = '\0';
}

void text_sb_putn(text_sbuf_t *b, const char *s, size_t n)
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

void text_sb_puts(text_sbuf_t *b, const char *s)
{
    text_sb_putn(b, s, strlen(s));
}

void text_sl_push(h2o_mem_pool_t *pool, text_strlist_t *l, const char *s)
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

const char *text_sl_join(h2o_mem_pool_t *pool, const text_strlist_t *l, const char *sep)
{
    text_sbuf_t b;
    text_sb_init(&b, pool, 64);
    for (size_t i = 0; i < l->n; i++) {
        if (i > 0)
            text_sb_puts(&b, sep);
        text_sb_puts(&b, l->v[i]);
    }
    return b.s;
}

/* ---- UTF-8 and the character classes of Go's regexps ----------------------------- */

/* Decodes the code point at s (valid UTF-8: jansson checked every string). */
size_t text_utf8_next(const char *s, size_t len, uint32_t *cp)
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

size_t text_utf8_runes(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* unicode.IsSpace */
bool text_uc_space(uint32_t c)
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
    if (c == 0xD7 || c == 0xF7 || text_uc_space(c))
        return false;
    if ((c >= 0x2000 && c <= 0x2BFF) || (c >= 0x2E00 && c <= 0x2E7F) || (c >= 0x3000 && c <= 0x303F) ||
        (c >= 0xE000 && c <= 0xF8FF) || (c >= 0xFE10 && c <= 0xFE6F) || (c >= 0xFF00 && c <= 0xFF0F) ||
        (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65) ||
        (c >= 0xFFF0 && c <= 0xFFFF) || (c >= 0x1F000 && c <= 0x1FAFF))
        return false;
    return true;
}

bool text_uc_alnum(uint32_t c)
{
    return uc_letter(c) || uc_digit(c);
}

/* strings.Fields: the words of [s, s+len) between runs of spaces. */
void text_fields(h2o_mem_pool_t *pool, const char *s, size_t len, text_strlist_t *out)
{
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n;
        while (i < len && (n = text_utf8_next(s + i, len - i, &cp), text_uc_space(cp)))
            i += n;
        size_t start = i;
        while (i < len && (n = text_utf8_next(s + i, len - i, &cp), !text_uc_space(cp)))
            i += n;
        if (i > start)
            text_sl_push(pool, out, text_strndup(pool, s + start, i - start));
    }
}

/* Removes the leading runes for which keep() is false. */
const char *text_trim_start(const char *s, bool (*keep)(uint32_t))
{
    size_t len = strlen(s), i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = text_utf8_next(s + i, len - i, &cp);
        if (keep(cp))
            break;
        i += n;
    }
    return s + i;
}

/* Removes the trailing runes for which keep() is false. */
const char *text_trim_end(h2o_mem_pool_t *pool, const char *s, bool (*keep)(uint32_t))
{
    size_t len = strlen(s), i = 0, cut = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = text_utf8_next(s + i, len - i, &cp);
        i += n;
        if (keep(cp))
            cut = i;
    }
    return cut == len ? s : text_strndup(pool, s, cut);
}

/* ^#{2,} → # */
const char *text_collapse_hashes(const char *s)
{
    while (s[0] == '#' && s[1] == '#')
        s++;
    return s;
}

/* ---- hashtags (model.ParseHashtags) ---------------------------------------------- */

static bool ht_keep_start(uint32_t c) /* not in ^[^\pL\d\s#]+ */
{
    return text_uc_alnum(c) || text_uc_space(c) || c == '#';
}

static bool ht_keep_end(uint32_t c) /* not in [^\pL\d\s]+$ */
{
    return text_uc_alnum(c) || text_uc_space(c);
}

/* ^(#\pL[\pL\d\-_.]*[\pL\d])$ */
bool text_valid_hashtag(const char *w)
{
    size_t len = strlen(w);
    if (len < 3 || w[0] != '#')
        return false;
    size_t i = 1, runes = 0;
    uint32_t cp = 0;
    while (i < len) {
        i += text_utf8_next(w + i, len - i, &cp);
        if (runes == 0 && !uc_letter(cp))
            return false;
        if (!text_uc_alnum(cp) && cp != '-' && cp != '_' && cp != '.')
            return false;
        runes++;
    }
    return runes >= 2 && text_uc_alnum(cp);
}

const char *text_hashtags(h2o_mem_pool_t *pool, const char *message)
{
    text_strlist_t words = {0};
    text_fields(pool, message, strlen(message), &words);
    text_sbuf_t b;
    text_sb_init(&b, pool, 64);
    for (size_t i = 0; i < words.n; i++) {
        const char *w = text_trim_end(pool, text_trim_start(words.v[i], ht_keep_start), ht_keep_end);
        w = text_collapse_hashes(w);
        if (text_valid_hashtag(w)) {
            text_sb_puts(&b, " ");
            text_sb_puts(&b, w);
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
