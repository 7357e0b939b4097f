/*
 * The default profile picture Mattermost draws for a user without one: a
 * 128×128 PNG, the user's initial in white on one of Mattermost's colours,
 * picked by the FNV-1a hash of the user id.  chorus draws the initial from
 * a 5×7 bitmap font of its own, scaled up (Mattermost renders a TrueType
 * font), and encodes the PNG itself with zlib: an image library would bring
 * a font renderer and a dozen codecs for one flat picture.
 */
#ifndef CHORUS_CORE_AVATAR_H
#define CHORUS_CORE_AVATAR_H

#include <stddef.h>
#include <stdint.h>

#define AVATAR_SIZE 128 /* Mattermost's imageProfilePixelDimension */

/* Mattermost's colour list has AVATAR_COLORS entries (some repeat). */
#define AVATAR_COLORS 26

/* Which colour user `user_id` gets: FNV-1a 32 of the id, modulo the list. */
unsigned avatar_color_index(const char *user_id);

/* The glyph drawn for `c` (an upper-case letter or a digit; anything else
 * draws no glyph): 0..36, 36 being "none". */
#define AVATAR_GLYPHS 37
unsigned avatar_glyph_index(char c);

/* The PNG for colour `color` and glyph `glyph`, malloc'ed into *png (*len
 * bytes): 0, or -ENOMEM / -EIO (zlib failed). */
int avatar_png(unsigned color, unsigned glyph, uint8_t **png, size_t *len);

#endif
