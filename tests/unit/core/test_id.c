/* Tests for src/core/id.c: Mattermost's id shape and uniqueness. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/id.h"
#include "../check_main.h"

START_TEST(test_new_id_is_valid)
{
    char id[ID_LENGTH + 1];
    for (int i = 0; i < 1000; i++) {
        ck_assert_int_eq(id_new(id), 0);
        ck_assert_uint_eq(strlen(id), ID_LENGTH);
        ck_assert(id_is_valid(id, strlen(id)));
        for (size_t j = 0; j < ID_LENGTH; j++)
            ck_assert_ptr_nonnull(strchr("ybndrfg8ejkmcpqxot1uwisza345h769", id[j]));
    }
}
END_TEST

START_TEST(test_ids_are_unique)
{
    enum { N = 10000 };
    char(*ids)[ID_LENGTH + 1] = malloc(N * sizeof(*ids));
    for (int i = 0; i < N; i++)
        id_new(ids[i]);
    qsort(ids, N, sizeof(*ids), (int (*)(const void *, const void *))strcmp);
    for (int i = 1; i < N; i++)
        ck_assert_str_ne(ids[i - 1], ids[i]);
    free(ids);
}
END_TEST

/* A forked child must not hand out ids from the parent's random buffer. */
START_TEST(test_fork_does_not_repeat_ids)
{
    char parent[ID_LENGTH + 1], child[ID_LENGTH + 1];
    id_new(parent); /* fills the buffer before the fork */
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        id_new(child);
        _exit(write(fds[1], child, sizeof(child)) == sizeof(child) ? 0 : 1);
    }
    ck_assert_int_eq(read(fds[0], child, sizeof(child)), sizeof(child));
    waitpid(pid, NULL, 0);
    id_new(parent);
    ck_assert_str_ne(parent, child);
}
END_TEST

START_TEST(test_invalid_ids)
{
    ck_assert(!id_is_valid(NULL, 0));
    ck_assert(!id_is_valid("abc", 3));
    ck_assert(!id_is_valid("abcdefghijklmnopqrstuvwxy", 25));
    ck_assert(!id_is_valid("abcdefghijklmnopqrstuvwxyz1", 27));
    ck_assert(!id_is_valid("abcdefghijklmnopqrstuvwxy!", 26));
    ck_assert(!id_is_valid("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 26));
    ck_assert(id_is_valid("abcdefghijklmnopqrstuvwxyz", 26));
    ck_assert(id_is_valid("0123456789abcdefghijklmnop", 26));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("id");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_new_id_is_valid);
    tcase_add_test(tc, test_ids_are_unique);
    tcase_add_test(tc, test_invalid_ids);
    tcase_add_test(tc, test_fork_does_not_repeat_ids);
    suite_add_tcase(s, tc);
    return check_run(s);
}
