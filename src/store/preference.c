/* Preferences as Mattermost validates, sanitizes and serializes them
 * (store/preference.h). */
#include "store/preference.h"

#include <stdlib.h>
#include <string.h>

#include "core/id.h"
#include "core/text.h"
#include "store/row.h"

/* strconv.Atoi within 1..40 (PreferenceMaxLimitVisibleDmsGmsValue). */
static bool visible_dms_gms_ok(const char *v, size_t len)
{
    size_t i = 0;
    if (len > 0 && (v[0] == '+' || v[0] == '-'))
        i++;
    if (i == len)
        return false;
    while (i + 1 < len && v[i] == '0') /* leading zeros do not count toward int64's digits */
        i++;
    if (len - i > 18)
        return false;
    long long n = 0;
    for (; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        n = n * 10 + (v[i] - '0');
    }
    if (v[0] == '-')
        n = -n;
    return n >= 1 && n <= 40;
}

/* The theme as Go decodes it into map[string]string with Decoder.Decode:
 * the first JSON value of the text (what follows it is not read), null
 * for no map, an object whose values are strings (null reads as "").
 * NULL when it does not decode; *null_map when it is null. */
static json_t *theme_decode(const preference_t *p, bool *null_map)
{
    json_t *v = json_loadb(p->value, p->value_len, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, NULL);
    *null_map = json_is_null(v);
    if (*null_map)
        return v;
    if (!json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    const char *key;
    json_t *item;
    json_object_foreach(v, key, item)
    {
        if (!json_is_string(item) && !json_is_null(item)) {
            json_decref(v);
            return NULL;
        }
    }
    return v;
}

const char *preference_check(const preference_t *p, const char **message)
{
    if (!id_is_valid(p->user_id, p->user_id_len)) {
        *message = "Invalid user id.";
        return "id";
    }
    if (p->category_len == 0 || p->category_len > 32) {
        *message = "Invalid category.";
        return "category";
    }
    if (p->name_len > 32) {
        *message = "Invalid name.";
        return "name";
    }
    /* a NUL ends the count early: such a value fails at the database */
    if (text_utf8_runes(p->value) > PREFERENCE_VALUE_MAX_RUNES) {
        *message = "Value is too long.";
        return "value";
    }
    if (strcmp(p->category, "theme") == 0) {
        bool null_map;
        json_t *theme = theme_decode(p, &null_map);
        if (theme == NULL) {
            *message = "Invalid theme.";
            return "theme";
        }
        json_decref(theme);
    }
    if (strcmp(p->category, "sidebar_settings") == 0 && strcmp(p->name, "limit_visible_dms_gms") == 0 &&
        !visible_dms_gms_ok(p->value, p->value_len)) {
        *message = "Invalid value for limit_visible_dms_gms.";
        return "limit_visible_dms_gms";
    }
    return NULL;
}

/* ^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$ */
static bool is_colour(const char *s)
{
    size_t n = strlen(s);
    if ((n != 4 && n != 7) || s[0] != '#')
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
            return false;
    return true;
}

/* Go's encoder escapes <, > and & (HTML-safe) and U+2028, U+2029 inside
 * strings, where jansson writes them as they are; elsewhere JSON text has
 * none of them.  Takes `text` over. */
static char *go_escape(char *text)
{
    if (text == NULL)
        return NULL;
    size_t extra = 0;
    for (const unsigned char *s = (const unsigned char *)text; *s != '\0'; s++)
        extra += (*s == '<' || *s == '>' || *s == '&') ? 5 : (*s == 0xE2) ? 3 : 0;
    char *out = malloc(strlen(text) + extra + 1);
    if (out == NULL) {
        free(text);
        return NULL;
    }
    char *o = out;
    for (const unsigned char *s = (const unsigned char *)text; *s != '\0'; s++) {
        if (*s == '<' || *s == '>' || *s == '&') {
            static const char hex[] = "0123456789abcdef";
            memcpy(o, "\\u00", 4);
            o[4] = hex[*s >> 4];
            o[5] = hex[*s & 15];
            o += 6;
        } else if (s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9)) {
            memcpy(o, s[2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
            o += 6;
            s += 2;
        } else {
            *o++ = (char)*s;
        }
    }
    *o = '\0';
    free(text);
    return out;
}

char *preference_sanitized_value(const preference_t *p)
{
    if (strcmp(p->category, "theme") != 0)
        return NULL;
    bool null_map;
    json_t *theme = theme_decode(p, &null_map);
    if (theme == NULL)
        return NULL;
    if (null_map) {
        json_decref(theme);
        return strdup("null");
    }
    const char *key;
    json_t *item;
    json_object_foreach(theme, key, item)
    {
        if (strcmp(key, "image") == 0 || strcmp(key, "type") == 0 || strcmp(key, "codeTheme") == 0) {
            if (json_is_null(item))
                json_object_set_new(theme, key, json_string(""));
            continue;
        }
        const char *colour = json_string_value(item);
        if (colour == NULL || !is_colour(colour))
            json_object_set_new(theme, key, json_string("#ffffff"));
    }
    char *text = json_dumps(theme, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(theme);
    return go_escape(text);
}

char *preference_list_text(const preference_t *list, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < n; i++) {
        const preference_t *p = &list[i];
        json_t *o = json_object();
        json_object_set_new(o, "user_id", json_stringn(p->user_id, p->user_id_len));
        json_object_set_new(o, "category", json_stringn(p->category, p->category_len));
        json_object_set_new(o, "name", json_stringn(p->name, p->name_len));
        json_object_set_new(o, "value", json_stringn(p->value, p->value_len));
        json_array_append_new(arr, o);
    }
    char *text = arr != NULL ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    return go_escape(text);
}

json_t *preference_to_json(const PGresult *res, int row)
{
    json_t *p = json_object();
    json_object_set_new(p, "user_id", json_string(row_str(res, row, 0)));
    json_object_set_new(p, "category", json_string(row_str(res, row, 1)));
    json_object_set_new(p, "name", json_string(row_str(res, row, 2)));
    json_object_set_new(p, "value", json_string(row_str(res, row, 3)));
    return p;
}
