/* The chat model's text rules (text.c), shared by api/ and jobs/: strings in
 * a memory pool, UTF-8, Go's regexp character classes, words and hashtags as
 * Mattermost's model package finds them. */
#ifndef CHORUS_CORE_TEXT_H
#define CHORUS_CORE_TEXT_H

#include <h2o/memory.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable string in the request pool. */
typedef struct {
    h2o_mem_pool_t *pool;
    char *s;
    size_t len, cap;
} text_sbuf_t;

void text_sb_init(text_sbuf_t *b, h2o_mem_pool_t *pool, size_t cap);
void text_sb_putn(text_sbuf_t *b, const char *s, size_t n);
void text_sb_puts(text_sbuf_t *b, const char *s);

/* A list of strings in the request pool. */
typedef struct {
    const char **v;
    size_t n, cap;
} text_strlist_t;

void text_sl_push(h2o_mem_pool_t *pool, text_strlist_t *l, const char *s);
const char *text_sl_join(h2o_mem_pool_t *pool, const text_strlist_t *l, const char *sep);

/* [s, s+n) as a NUL-terminated copy in the pool. */
const char *text_strndup(h2o_mem_pool_t *pool, const char *s, size_t n);
/* v in decimal, in the pool. */
const char *text_i64(h2o_mem_pool_t *pool, int64_t v);
/* Decimal text of `v` into `out`, which it returns: the one way chorus
 * writes an integer as text (SQL parameters, headers). */
#define TEXT_INT64_SIZE 24
const char *text_int64(char out[TEXT_INT64_SIZE], int64_t v);
/* strconv.ParseBool's true values (NULL is false). */
bool text_parse_bool(const char *v);

/* Decodes the code point at s (valid UTF-8); its length in bytes. */
size_t text_utf8_next(const char *s, size_t len, uint32_t *cp);
/* The number of code points of UTF-8 `s` (Mattermost limits lengths in runes). */
size_t text_utf8_runes(const char *s);
/* unicode.IsSpace */
bool text_uc_space(uint32_t c);
/* [\pL\d], \pL approximated */
bool text_uc_alnum(uint32_t c);

/* strings.Fields: the words of [s, s+len) between runs of spaces, appended to out. */
void text_fields(h2o_mem_pool_t *pool, const char *s, size_t len, text_strlist_t *out);
/* Removes the leading runes for which keep() is false. */
const char *text_trim_start(const char *s, bool (*keep)(uint32_t));
/* Removes the trailing runes for which keep() is false. */
const char *text_trim_end(h2o_mem_pool_t *pool, const char *s, bool (*keep)(uint32_t));
/* ^#{2,} → # */
const char *text_collapse_hashes(const char *s);
/* ^(#\pL[\pL\d\-_.]*[\pL\d])$ */
bool text_valid_hashtag(const char *w);
/* model.ParseHashtags: the message's hashtags, space-separated, within 1000 bytes. */
const char *text_hashtags(h2o_mem_pool_t *pool, const char *message);

#endif
