/* Tests for src/core/emoji.c: the system emoji table and the name rule. */
#include <check.h>
#include <string.h>

#include "core/emoji.h"
#include "../check_main.h"

/* bsearch needs strcmp order; a regenerated table that lost it would make
 * names vanish at random. */
START_TEST(test_table_is_sorted)
{
    ck_assert_uint_gt(emoji_system_names_count, 4000);
    for (unsigned i = 1; i < emoji_system_names_count; i++)
        ck_assert_int_lt(strcmp(emoji_system_names[i - 1], emoji_system_names[i]), 0);
}
END_TEST

START_TEST(test_system_names)
{
    static const char *const known[] = {"+1",         "-1",
                                        "smile",      "thumbsup",
                                        "heart",      "100",
                                        "mattermost", "wave_light_skin_tone",
                                        "canada",     "fist_raised_dark_skin_tone"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        ck_assert_msg(emoji_is_system(known[i]), "%s", known[i]);
    ck_assert(!emoji_is_system("no_such_emoji"));
    ck_assert(!emoji_is_system(""));
    ck_assert(!emoji_is_system("Smile"));
}
END_TEST

START_TEST(test_name_rule)
{
    ck_assert(emoji_name_is_valid("smile", 5));
    ck_assert(emoji_name_is_valid("+1", 2));
    ck_assert(emoji_name_is_valid("a-b_C9", 6));
    ck_assert(!emoji_name_is_valid("", 0));
    ck_assert(!emoji_name_is_valid("thank you", 9));
    ck_assert(!emoji_name_is_valid("smile:", 6));
    char long_name[EMOJI_NAME_MAX_LENGTH + 2];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    ck_assert(emoji_name_is_valid(long_name, EMOJI_NAME_MAX_LENGTH));
    ck_assert(!emoji_name_is_valid(long_name, EMOJI_NAME_MAX_LENGTH + 1));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("emoji");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_table_is_sorted);
    tcase_add_test(tc, test_system_names);
    tcase_add_test(tc, test_name_rule);
    suite_add_tcase(s, tc);
    return check_run(s);
}
