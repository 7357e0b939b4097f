/*
 * tests/fuzz/text.c - src/core/text.c's word and hashtag rules on a post's
 * message or a search's terms: text that reached them through JSON (jansson)
 * or PostgreSQL, so valid UTF-8 without NUL; other input is skipped.
 * Checked: words are non-empty and hold no leading or trailing space; the
 * hashtags are valid ones, at most 1000 bytes in all, and still valid UTF-8
 * (PostgreSQL refuses anything else).
 */
#include <h2o/memory.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"

static bool is_space_byte(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static bool valid_utf8(const char *s)
{
    json_t *j = json_string(s); /* NULL for invalid UTF-8 */
    json_decref(j);
    return j != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (memchr(data, '\0', size) != NULL)
        return 0;
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (!valid_utf8(s)) {
        free(s);
        return 0;
    }
    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);

    text_strlist_t words = {0};
    text_fields(&pool, s, size, &words);
    for (size_t i = 0; i < words.n; i++) {
        const char *w = words.v[i];
        size_t len = strlen(w);
        if (len == 0 || is_space_byte(w[0]) || is_space_byte(w[len - 1]))
            abort();
        (void)text_utf8_runes(w);
        (void)text_valid_hashtag(text_collapse_hashes(w));
    }
    const char *tags = text_hashtags(&pool, s);
    if (strlen(tags) > 1000 || !valid_utf8(tags))
        abort();
    char *copy = strdup(tags);
    for (char *save, *t = strtok_r(copy, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save))
        if (!text_valid_hashtag(t))
            abort();
    free(copy);

    h2o_mem_clear_pool(&pool);
    free(s);
    return 0;
}
