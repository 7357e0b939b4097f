/* Tests for src/core/password.c: bcrypt as Mattermost hashes and compares. */
#include <check.h>
#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/password.h"
#include "../check_main.h"

static const char bcrypt_alphabet[] = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

START_TEST(test_hash_then_check)
{
    char hash[PASSWORD_HASH_MAX];
    ck_assert_int_eq(password_hash("Sup3r-secret!", hash), 0);
    ck_assert_int_eq(password_check("Sup3r-secret!", hash), 0);
    ck_assert_int_eq(password_check("Sup3r-secret", hash), -EACCES);
    ck_assert_int_eq(password_check("Sup3r-secret!!", hash), -EACCES);
    ck_assert_int_eq(password_check("sup3r-secret!", hash), -EACCES);
    ck_assert_int_eq(password_check("", hash), -EACCES);
}
END_TEST

START_TEST(test_hash_shape_is_2b_cost_10)
{
    char hash[PASSWORD_HASH_MAX];
    ck_assert_int_eq(password_hash("password", hash), 0);
    ck_assert_uint_eq(strlen(hash), PASSWORD_HASH_LENGTH);
    ck_assert_int_eq(strncmp(hash, "$2b$10$", 7), 0);
    ck_assert_uint_eq(strspn(hash + 7, bcrypt_alphabet), PASSWORD_HASH_LENGTH - 7);
}
END_TEST

START_TEST(test_salt_differs)
{
    char a[PASSWORD_HASH_MAX], b[PASSWORD_HASH_MAX];
    ck_assert_int_eq(password_hash("same password", a), 0);
    ck_assert_int_eq(password_hash("same password", b), 0);
    ck_assert_str_ne(a, b);
    ck_assert_int_ne(memcmp(a + 7, b + 7, 22), 0); /* the salts */
    ck_assert_int_eq(password_check("same password", a), 0);
    ck_assert_int_eq(password_check("same password", b), 0);
}
END_TEST

/* Hashes written by golang.org/x/crypto/bcrypt (its own test vectors), as a
 * Mattermost database holds them, and Openwall's reference vectors. */
START_TEST(test_mattermost_hashes_verify)
{
    ck_assert_int_eq(password_check("allmine", "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"), 0);
    ck_assert_int_eq(password_check("012345678901234567890123456789012345678901234567890123456",
                                    "$2a$10$XajjQvNhvvRt5GSeFk1xFe5l47dONXg781AmZtd869sO8zfsHuw7C"),
                     0);
    ck_assert_int_eq(password_check("allminE", "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"),
                     -EACCES);
    ck_assert_int_eq(password_check("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"), 0);
    ck_assert_int_eq(password_check("U*U*U", "$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a"), 0);
    /* the same hash as $2b$ and $2y$: identical for ASCII */
    ck_assert_int_eq(password_check("U*U", "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"), 0);
    ck_assert_int_eq(password_check("U*U", "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"), 0);
}
END_TEST

/* Mattermost refuses more than 72 bytes (bytes, not characters) to hash and
 * to compare, although bcrypt itself ignores everything past byte 72. */
START_TEST(test_more_than_72_bytes)
{
    char plain[80], hash[PASSWORD_HASH_MAX];
    memset(plain, 'p', sizeof(plain));
    plain[72] = '\0';
    ck_assert_int_eq(password_hash(plain, hash), 0);
    ck_assert_int_eq(password_check(plain, hash), 0);
    plain[72] = 'x';
    plain[73] = '\0';
    ck_assert_int_eq(password_hash(plain, hash), -EMSGSIZE);
    /* bcrypt alone would accept the 73-byte one against the 72-byte hash */
    const char *vector = "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui";
    const char *long_plain =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789chars after 72 are ignored";
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    ck_assert_str_eq(crypt_r(long_plain, vector, cd), vector);
    free(cd);
    ck_assert_int_eq(password_check(long_plain, vector), -EACCES);
    char first72[73];
    memcpy(first72, long_plain, 72);
    first72[72] = '\0';
    ck_assert_int_eq(password_check(first72, vector), 0);
    /* 36 two-byte characters are 72 bytes; 37 are too many */
    char utf8[2 * 37 + 1] = "";
    for (int i = 0; i < 36; i++)
        strcat(utf8, "\xc3\xa9");
    ck_assert_int_eq(password_hash(utf8, hash), 0);
    ck_assert_int_eq(password_check(utf8, hash), 0);
    strcat(utf8, "\xc3\xa9");
    ck_assert_int_eq(password_hash(utf8, hash), -EMSGSIZE);
    ck_assert_int_eq(password_check(utf8, hash), -EACCES);
}
END_TEST

START_TEST(test_empty_password_is_refused)
{
    char hash[PASSWORD_HASH_MAX];
    ck_assert_int_eq(password_hash("", hash), -EINVAL);
    /* a valid hash of "" exists, but an empty password never matches */
    ck_assert_int_eq(password_check("", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy"), -EACCES);
}
END_TEST

START_TEST(test_corrupt_hashes_fail)
{
    char hash[PASSWORD_HASH_MAX], bad[PASSWORD_HASH_MAX + 8];
    ck_assert_int_eq(password_hash("hunter2", hash), 0);
    const char *plain = "hunter2";
    /* one character of the hash part changed */
    strcpy(bad, hash);
    bad[PASSWORD_HASH_LENGTH - 1] = bad[PASSWORD_HASH_LENGTH - 1] == 'a' ? 'b' : 'a';
    ck_assert_int_eq(password_check(plain, bad), -EACCES);
    /* one character of the salt changed */
    strcpy(bad, hash);
    bad[10] = bad[10] == 'a' ? 'b' : 'a';
    ck_assert_int_eq(password_check(plain, bad), -EACCES);
    /* truncated, extended */
    strcpy(bad, hash);
    bad[PASSWORD_HASH_LENGTH - 1] = '\0';
    ck_assert_int_eq(password_check(plain, bad), -EACCES);
    strcpy(bad, hash);
    strcat(bad, "x");
    ck_assert_int_eq(password_check(plain, bad), -EACCES);
    /* a character outside bcrypt's alphabet */
    strcpy(bad, hash);
    bad[30] = '!';
    ck_assert_int_eq(password_check(plain, bad), -EACCES);
    /* other costs and versions */
    strcpy(bad, hash);
    memcpy(bad, "$2b$03$", 7);
    ck_assert_int_eq(password_check(plain, bad), -EACCES);
    memcpy(bad, "$2b$32$", 7);
    ck_assert_int_eq(password_check(plain, bad), -EACCES);
    memcpy(bad, "$2b$1a$", 7);
    ck_assert_int_eq(password_check(plain, bad), -EACCES);
    memcpy(bad, "$2x$10$", 7);
    ck_assert_int_eq(password_check(plain, bad), -EACCES);
    memcpy(bad, "$3a$10$", 7);
    ck_assert_int_eq(password_check(plain, bad), -EACCES);
    /* the cost is part of the hash: 04 instead of 10 does not match */
    strcpy(bad, hash);
    memcpy(bad, "$2b$04$", 7);
    ck_assert_int_eq(password_check(plain, bad), -EACCES);
    /* crypt's failure tokens, empty, other schemes crypt would verify */
    ck_assert_int_eq(password_check(plain, "*0"), -EACCES);
    ck_assert_int_eq(password_check(plain, "*1"), -EACCES);
    ck_assert_int_eq(password_check(plain, ""), -EACCES);
    ck_assert_int_eq(password_check(plain, NULL), -EACCES);
    ck_assert_int_eq(password_check(NULL, hash), -EACCES);
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    char des[64], md5[128];
    strcpy(des, crypt_r(plain, "ab", cd));
    strcpy(md5, crypt_r(plain, "$1$saltsalt$", cd));
    free(cd);
    ck_assert_int_ne(des[0], '*');
    ck_assert_int_eq(password_check(plain, des), -EACCES);
    ck_assert_int_eq(password_check(plain, md5), -EACCES);
    /* the original still works */
    ck_assert_int_eq(password_check(plain, hash), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("password");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120); /* ≈55 ms per hash, far more under valgrind */
    tcase_add_test(tc, test_hash_then_check);
    tcase_add_test(tc, test_hash_shape_is_2b_cost_10);
    tcase_add_test(tc, test_salt_differs);
    tcase_add_test(tc, test_mattermost_hashes_verify);
    tcase_add_test(tc, test_more_than_72_bytes);
    tcase_add_test(tc, test_empty_password_is_refused);
    tcase_add_test(tc, test_corrupt_hashes_fail);
    suite_add_tcase(s, tc);
    return check_run(s);
}
