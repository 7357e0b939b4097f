/* Emoji names (core/emoji.h). */
#include "core/emoji.h"

#include <stdlib.h>
#include <string.h>

static int compare_name(const void *key, const void *member)
{
    return strcmp(key, *(const char *const *)member);
}

bool emoji_is_system(const char *name)
{
    return bsearch(name, emoji_system_names, emoji_system_names_count, sizeof(emoji_system_names[0]), compare_name) !=
           NULL;
}

bool emoji_name_is_valid(const char *name, size_t len)
{
    if (len == 0 || len > EMOJI_NAME_MAX_LENGTH)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '+' ||
              c == '_'))
            return false;
    }
    return true;
}
