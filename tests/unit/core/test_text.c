/*
 * tests/unit/core/test_text.c - src/core/text.c: the chat model's text
 * rules as Mattermost's model package has them: strings.Fields, the trims
 * of ParseHashtags' punctuation regexps, its hashtag rule and its 1000-byte
 * bound, strconv.ParseBool, and counting runes.
 */
#include <check.h>
#include <string.h>

#include "core/text.h"
#include "../check_main.h"

static h2o_mem_pool_t pool;

static void setup(void)
{
    h2o_mem_init_pool(&pool);
}

static void teardown(void)
{
    h2o_mem_clear_pool(&pool);
}

START_TEST(test_fields)
{
    text_strlist_t words = {0};
    const char *s = "  one\ttwo\n\u00a0three\u3000four  ";
    text_fields(&pool, s, strlen(s), &words);
    ck_assert_uint_eq(words.n, 4); /* unicode.IsSpace: NBSP and the ideographic space too */
    ck_assert_str_eq(words.v[0], "one");
    ck_assert_str_eq(words.v[1], "two");
    ck_assert_str_eq(words.v[2], "three");
    ck_assert_str_eq(words.v[3], "four");
    ck_assert_str_eq(text_sl_join(&pool, &words, ","), "one,two,three,four");
    text_strlist_t none = {0};
    text_fields(&pool, " \t ", 3, &none);
    ck_assert_uint_eq(none.n, 0);
}
END_TEST

/* model.ParseHashtags' first result, case by case */
static const struct {
    const char *message, *hashtags;
} hashtag_cases[] = {
    {"#test", "#test"},
    {"test", ""},
    {"#test #test2", "#test #test2"},
    {"#test, #other.", "#test #other"},
    {"(#test)", "#test"},
    {"##test", "#test"},
    {"###test", "#test"},
    {"#test-test", "#test-test"},
    {"#test.test", "#test.test"},
    {"#test_test", "#test_test"},
    {"#test_", "#test"},
    {"#a", ""},
    {"#ab", "#ab"},
    {"#1test", ""},
    {"#-test", ""},
    {"#日本語", "#日本語"},
    {"plain words and #one in the middle", "#one"},
    {"", ""},
};

START_TEST(test_hashtags)
{
    for (size_t i = 0; i < sizeof(hashtag_cases) / sizeof(hashtag_cases[0]); i++)
        ck_assert_msg(strcmp(text_hashtags(&pool, hashtag_cases[i].message), hashtag_cases[i].hashtags) == 0,
                      "\"%s\" gave \"%s\", not \"%s\"", hashtag_cases[i].message,
                      text_hashtags(&pool, hashtag_cases[i].message), hashtag_cases[i].hashtags);
}
END_TEST

START_TEST(test_hashtags_bound)
{
    /* 200 tags of 9 bytes with their space: past 1000, so cut at 999 (111
     * tags exactly) and then, as Go's code does, back to the last space:
     * the 111th tag goes too */
    text_sbuf_t b;
    text_sb_init(&b, &pool, 2048);
    for (int i = 0; i < 200; i++) {
        char tag[16];
        snprintf(tag, sizeof(tag), "#tag%04d ", i);
        text_sb_puts(&b, tag);
    }
    const char *tags = text_hashtags(&pool, b.s);
    ck_assert_uint_le(strlen(tags), 999);
    ck_assert_uint_eq(strlen(tags), 110 * 9 - 1);
    ck_assert(strncmp(tags, "#tag0000 #tag0001", 17) == 0);
    ck_assert_str_eq(tags + strlen(tags) - 8, "#tag0109");
}
END_TEST

START_TEST(test_parse_bool)
{
    const char *yes[] = {"1", "t", "T", "TRUE", "true", "True"};
    const char *no[] = {"0", "f", "false", "", "yes", "on", "tru"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        ck_assert_msg(text_parse_bool(yes[i]), "%s", yes[i]);
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        ck_assert_msg(!text_parse_bool(no[i]), "%s", no[i]);
    ck_assert(!text_parse_bool(NULL));
}
END_TEST

START_TEST(test_utf8_runes)
{
    ck_assert_uint_eq(text_utf8_runes(""), 0);
    ck_assert_uint_eq(text_utf8_runes("town"), 4);
    ck_assert_uint_eq(text_utf8_runes("caf\u00e9 \u65e5\u672c\U0001F600"), 8); /* 2-, 3- and 4-byte runes count once */
}
END_TEST

START_TEST(test_i64_and_join)
{
    ck_assert_str_eq(text_i64(&pool, 0), "0");
    ck_assert_str_eq(text_i64(&pool, -9223372036854775807LL - 1), "-9223372036854775808");
    char out[TEXT_INT64_SIZE];
    ck_assert_ptr_eq(text_int64(out, 9223372036854775807LL), out);
    ck_assert_str_eq(out, "9223372036854775807");
    ck_assert_str_eq(text_strndup(&pool, "abcdef", 3), "abc");
    text_strlist_t l = {0};
    ck_assert_str_eq(text_sl_join(&pool, &l, " "), "");
    text_sl_push(&pool, &l, "a");
    text_sl_push(&pool, &l, "b");
    ck_assert_str_eq(text_sl_join(&pool, &l, " OR "), "a OR b");
}
END_TEST

static Suite *text_suite(void)
{
    Suite *s = suite_create("core_text");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_fields);
    tcase_add_test(tc, test_hashtags);
    tcase_add_test(tc, test_hashtags_bound);
    tcase_add_test(tc, test_parse_bool);
    tcase_add_test(tc, test_utf8_runes);
    tcase_add_test(tc, test_i64_and_join);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(text_suite());
}
