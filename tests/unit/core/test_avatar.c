/* Tests for src/core/avatar.c: Mattermost's colour pick, and a PNG whose
 * chunks, size and pixels are what a decoder reads. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/avatar.h"
#include "../check_main.h"

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

START_TEST(test_color_is_fnv1a_of_the_id)
{
    /* FNV-1a 32 of "abcdefghijklmnopqrstuvwxyz" is 2965113986; mod 26 = 16 */
    ck_assert_uint_eq(avatar_color_index("abcdefghijklmnopqrstuvwxyz"), 16);
    ck_assert_uint_eq(avatar_color_index(""), 2166136261u % AVATAR_COLORS);
}
END_TEST

START_TEST(test_glyphs)
{
    ck_assert_uint_eq(avatar_glyph_index('A'), 0);
    ck_assert_uint_eq(avatar_glyph_index('Z'), 25);
    ck_assert_uint_eq(avatar_glyph_index('0'), 26);
    ck_assert_uint_eq(avatar_glyph_index('a'), AVATAR_GLYPHS - 1);
    ck_assert_uint_eq(avatar_glyph_index('?'), AVATAR_GLYPHS - 1);
}
END_TEST

START_TEST(test_png_decodes)
{
    uint8_t *png;
    size_t len;
    /* colour 16 is (227, 207, 18); "T": its top bar is lit across the middle */
    ck_assert_int_eq(avatar_png(16, avatar_glyph_index('T'), &png, &len), 0);
    ck_assert_uint_gt(len, 8 + 25 + 12 + 12);
    ck_assert_int_eq(memcmp(png, "\x89PNG\r\n\x1a\n", 8), 0);
    ck_assert_uint_eq(get32(png + 8), 13);
    ck_assert_int_eq(memcmp(png + 12, "IHDR", 4), 0);
    ck_assert_uint_eq(get32(png + 16), AVATAR_SIZE);
    ck_assert_uint_eq(get32(png + 20), AVATAR_SIZE);
    ck_assert_uint_eq(get32(png + 29), crc32(0, png + 12, 17));
    const uint8_t *idat = png + 33;
    uint32_t zlen = get32(idat);
    ck_assert_int_eq(memcmp(idat + 4, "IDAT", 4), 0);
    ck_assert_uint_eq(get32(idat + 8 + zlen), crc32(0, idat + 4, 4 + zlen));
    ck_assert_int_eq(memcmp(idat + 12 + zlen + 4, "IEND", 4), 0);
    ck_assert_uint_eq(idat + 12 + zlen + 12 - png, len);

    enum { ROW = 1 + AVATAR_SIZE * 3 };
    uLongf rawlen = ROW * AVATAR_SIZE;
    uint8_t *raw = malloc(rawlen);
    ck_assert_ptr_nonnull(raw);
    ck_assert_int_eq(uncompress(raw, &rawlen, idat + 8, zlen), Z_OK);
    ck_assert_uint_eq(rawlen, ROW * AVATAR_SIZE);
    const uint8_t *corner = raw + 1, *bar = raw + 34 * ROW + 1 + 64 * 3, *beside = raw + 50 * ROW + 1 + 45 * 3;
    ck_assert_uint_eq(raw[0], 0);
    ck_assert_uint_eq(corner[0], 227);
    ck_assert_uint_eq(corner[1], 207);
    ck_assert_uint_eq(corner[2], 18);
    ck_assert_uint_eq(bar[0], 255); /* in the glyph: white */
    ck_assert_uint_eq(bar[2], 255);
    ck_assert_uint_eq(beside[0], 227); /* under the bar, left of the stem */
    free(raw);
    free(png);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("avatar");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_color_is_fnv1a_of_the_id);
    tcase_add_test(tc, test_glyphs);
    tcase_add_test(tc, test_png_decodes);
    suite_add_tcase(s, tc);
    return check_run(s);
}
