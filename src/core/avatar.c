/* The default profile picture (avatar.h): a flat colour, one bitmap glyph,
 * and the smallest PNG that carries them (IHDR, one IDAT, IEND; 8-bit RGB,
 * no filtering: a flat picture deflates to a few hundred bytes anyway). */
#include "core/avatar.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Mattermost's list, in its order (the index is the hash modulo 26). */
static const uint8_t colors[AVATAR_COLORS][3] = {
    {197, 8, 126}, {227, 207, 18}, {28, 181, 105}, {35, 188, 224}, {116, 49, 196}, {197, 8, 126},  {197, 19, 19},
    {250, 134, 6}, {227, 207, 18}, {123, 201, 71}, {28, 181, 105}, {35, 188, 224}, {116, 49, 196}, {197, 8, 126},
    {197, 19, 19}, {250, 134, 6},  {227, 207, 18}, {123, 201, 71}, {28, 181, 105}, {35, 188, 224}, {116, 49, 196},
    {197, 8, 126}, {197, 19, 19},  {250, 134, 6},  {227, 207, 18}, {123, 201, 71},
};

/* 5×7 glyphs, one byte a row, the low 5 bits left to right: A-Z, then 0-9. */
#define GLYPH_W 5
#define GLYPH_H 7
static const uint8_t glyphs[AVATAR_GLYPHS - 1][GLYPH_H] = {
    {0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11}, /* A */
    {0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e}, /* B */
    {0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e}, /* C */
    {0x1e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1e}, /* D */
    {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f}, /* E */
    {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10}, /* F */
    {0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f}, /* G */
    {0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11}, /* H */
    {0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e}, /* I */
    {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c}, /* J */
    {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}, /* K */
    {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f}, /* L */
    {0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11}, /* M */
    {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}, /* N */
    {0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e}, /* O */
    {0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10}, /* P */
    {0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d}, /* Q */
    {0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11}, /* R */
    {0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e}, /* S */
    {0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}, /* T */
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e}, /* U */
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04}, /* V */
    {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a}, /* W */
    {0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11}, /* X */
    {0x11, 0x11, 0x0a, 0x04, 0x04, 0x04, 0x04}, /* Y */
    {0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f}, /* Z */
    {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e}, /* 0 */
    {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e}, /* 1 */
    {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f}, /* 2 */
    {0x1e, 0x01, 0x01, 0x0e, 0x01, 0x01, 0x1e}, /* 3 */
    {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02}, /* 4 */
    {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e}, /* 5 */
    {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e}, /* 6 */
    {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}, /* 7 */
    {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e}, /* 8 */
    {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c}, /* 9 */
};

/* Each glyph pixel is SCALE×SCALE image pixels, the glyph centred. */
#define SCALE  10
#define ORIG_X ((AVATAR_SIZE - GLYPH_W * SCALE) / 2)
#define ORIG_Y ((AVATAR_SIZE - GLYPH_H * SCALE) / 2)

unsigned avatar_color_index(const char *user_id)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)user_id; *p != '\0'; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return h % AVATAR_COLORS;
}

unsigned avatar_glyph_index(char c)
{
    if (c >= 'A' && c <= 'Z')
        return (unsigned)(c - 'A');
    if (c >= '0' && c <= '9')
        return 26u + (unsigned)(c - '0');
    return AVATAR_GLYPHS - 1;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A chunk at `p`: length, type, `len` data bytes already in place after
 * them, CRC.  Returns the chunk's size. */
static size_t chunk(uint8_t *p, const char type[4], size_t len)
{
    put32(p, (uint32_t)len);
    memcpy(p + 4, type, 4);
    uLong crc = crc32(0L, p + 4, (uInt)(4 + len));
    put32(p + 8 + len, (uint32_t)crc);
    return 12 + len;
}

static bool lit(unsigned glyph, int x, int y)
{
    if (glyph >= AVATAR_GLYPHS - 1 || x < ORIG_X || y < ORIG_Y)
        return false;
    int gx = (x - ORIG_X) / SCALE, gy = (y - ORIG_Y) / SCALE;
    if (gx >= GLYPH_W || gy >= GLYPH_H)
        return false;
    return (glyphs[glyph][gy] >> (GLYPH_W - 1 - gx)) & 1;
}

int avatar_png(unsigned color, unsigned glyph, uint8_t **png, size_t *len)
{
    enum { ROW = 1 + AVATAR_SIZE * 3, RAW = ROW * AVATAR_SIZE };
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t *raw = malloc(RAW);
    uLong bound = compressBound(RAW);
    uint8_t *out = malloc(8 + 25 + 12 + bound + 12);
    if (raw == NULL || out == NULL) {
        free(raw);
        free(out);
        return -ENOMEM;
    }
    const uint8_t *bg = colors[color % AVATAR_COLORS];
    for (int y = 0; y < AVATAR_SIZE; y++) {
        uint8_t *row = raw + (size_t)y * ROW;
        row[0] = 0; /* filter: none */
        for (int x = 0; x < AVATAR_SIZE; x++) {
            bool on = lit(glyph, x, y);
            for (int c = 0; c < 3; c++)
                row[1 + x * 3 + c] = on ? 255 : bg[c];
        }
    }
    size_t n = 0;
    memcpy(out, signature, sizeof(signature));
    n += sizeof(signature);
    uint8_t *ihdr = out + n + 8;
    put32(ihdr, AVATAR_SIZE);
    put32(ihdr + 4, AVATAR_SIZE);
    ihdr[8] = 8;  /* bit depth */
    ihdr[9] = 2;  /* RGB */
    ihdr[10] = 0; /* deflate */
    ihdr[11] = 0; /* adaptive filtering (each row says "none") */
    ihdr[12] = 0; /* not interlaced */
    n += chunk(out + n, "IHDR", 13);
    uLongf zlen = bound;
    int zrc = compress2(out + n + 8, &zlen, raw, RAW, Z_BEST_COMPRESSION);
    free(raw);
    if (zrc != Z_OK) {
        free(out);
        return -EIO;
    }
    n += chunk(out + n, "IDAT", zlen);
    n += chunk(out + n, "IEND", 0);
    *png = out;
    *len = n;
    return 0;
}
