/*
 * tests/unit/core/test_msgpack_bounds.c - src/core/msgpack_bounds.c: every
 * msgpack form accepted when whole, refused when a length or count promises
 * more than the bytes that remain, too deep, trailing or reserved; several
 * objects walked in a row; and msgpack-c's own output always accepted.
 */
#include <check.h>
#include <msgpack.h>
#include <string.h>

#include "core/msgpack_bounds.h"
#include "../check_main.h"

#define OK(bytes, depth)      ck_assert_int_eq(msgpack_bounds_check(bytes, sizeof(bytes), depth), 0)
#define REFUSED(bytes, depth) ck_assert_int_eq(msgpack_bounds_check(bytes, sizeof(bytes), depth), -1)

START_TEST(test_scalars)
{
    static const uint8_t fixint[] = {0x05}, negative[] = {0xe0}, nil[] = {0xc0}, t[] = {0xc3};
    static const uint8_t u64[] = {0xcf, 1, 2, 3, 4, 5, 6, 7, 8}, f32[] = {0xca, 0, 0, 0, 0};
    static const uint8_t str[] = {0xa3, 'a', 'b', 'c'}, str8[] = {0xd9, 2, 'h', 'i'};
    static const uint8_t bin16[] = {0xc5, 0, 1, 0xff}, ext[] = {0xd4, 1, 9};
    OK(fixint, 1);
    OK(negative, 1);
    OK(nil, 1);
    OK(t, 1);
    OK(u64, 1);
    OK(f32, 1);
    OK(str, 1);
    OK(str8, 1);
    OK(bin16, 1);
    OK(ext, 1);
}
END_TEST

START_TEST(test_lengths_past_the_end)
{
    static const uint8_t u64[] = {0xcf, 1, 2, 3}, str[] = {0xa5, 'a'}, str32[] = {0xdb, 0xff, 0xff, 0xff, 0xff, 'x'};
    static const uint8_t bin32[] = {0xc6, 0x7f, 0, 0, 0}, empty[] = {0};
    /* five bytes declaring a 2^28-element array: msgpack-c would map gigabytes */
    static const uint8_t huge_array[] = {0xdd, 0x10, 0, 0, 0}, huge_map[] = {0xdf, 0xff, 0xff, 0xff, 0xff};
    REFUSED(u64, 4);
    REFUSED(str, 4);
    REFUSED(str32, 4);
    REFUSED(bin32, 4);
    REFUSED(huge_array, 4);
    REFUSED(huge_map, 4);
    ck_assert_int_eq(msgpack_bounds_check(empty, 0, 4), -1);
}
END_TEST

START_TEST(test_containers_and_depth)
{
    static const uint8_t array[] = {0x93, 1, 2, 0xa1, 'x'};         /* [1, 2, "x"] */
    static const uint8_t map[] = {0x81, 0xa1, 'k', 0x91, 0x90};     /* {"k": [[]]} */
    static const uint8_t short_array[] = {0x93, 1, 2};              /* one element missing */
    static const uint8_t nested[] = {0x91, 0x91, 0x91, 0x91, 0x90}; /* [[[[[]]]]]: [] at depth 4 */
    /* depth: how many containers enclose an object (the top one: none) */
    OK(array, 1);
    REFUSED(array, 0);
    OK(map, 2);
    REFUSED(map, 1);
    REFUSED(short_array, 4);
    OK(nested, 4);
    REFUSED(nested, 3);
}
END_TEST

START_TEST(test_trailing_and_reserved)
{
    static const uint8_t trailing[] = {0x01, 0x02}, reserved[] = {0xc1};
    REFUSED(trailing, 1);
    REFUSED(reserved, 1);
    const uint8_t *p = trailing, *end = trailing + sizeof(trailing);
    ck_assert_int_eq(msgpack_bounds_skip(&p, end, 1), 0);
    ck_assert_ptr_eq(p, trailing + 1);
    ck_assert_int_eq(msgpack_bounds_skip(&p, end, 1), 0);
    ck_assert_ptr_eq(p, end);
    ck_assert_int_eq(msgpack_bounds_skip(&p, end, 1), -1); /* nothing left */
}
END_TEST

START_TEST(test_msgpack_c_output_accepted)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_uint64(&pk, UINT64_MAX);
    msgpack_pack_str_with_body(&pk, "hello", 5);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str_with_body(&pk, "k", 1);
    msgpack_pack_bin_with_body(&pk, "\0\1\2", 3);
    char big[70000];
    memset(big, 'b', sizeof(big));
    msgpack_pack_str_with_body(&pk, big, sizeof(big));
    ck_assert_int_eq(msgpack_bounds_check(sb.data, sb.size, 2), 0);
    for (size_t cut = 0; cut < sb.size; cut += cut < 64 ? 1 : 997)
        ck_assert_msg(msgpack_bounds_check(sb.data, cut, 2) == -1, "cut at %zu", cut);
    msgpack_sbuffer_destroy(&sb);
}
END_TEST

static Suite *bounds_suite(void)
{
    Suite *s = suite_create("core_msgpack_bounds");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_scalars);
    tcase_add_test(tc, test_lengths_past_the_end);
    tcase_add_test(tc, test_containers_and_depth);
    tcase_add_test(tc, test_trailing_and_reserved);
    tcase_add_test(tc, test_msgpack_c_output_accepted);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(bounds_suite());
}
