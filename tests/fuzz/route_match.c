/*
 * tests/fuzz/route_match.c - src/api/route_match.c on a request path against
 * every pattern shape the route table uses.  The first byte picks the
 * pattern; the rest is the path.  Checked: at most `max` captures, each a
 * non-empty segment inside the path without a slash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/route_match.h"

static const char *patterns[] = {
    "/api/v4/system/ping",
    "/api/v4/users/{user_id}",
    "/api/v4/users/{user_id}/teams/{team_id}/channels",
    "/api/v4/channels/{channel_id}/posts",
    "/api/v4/teams/{team_id}/channels/name/{channel_name}",
    "/api/v4/users/{user_id}/channels/{channel_id}/unread",
    "/{a}/{b}/{c}/{d}/{e}",
    "/api/v4/posts/{post_id}/thread",
    "/",
    "",
    "/{x}",
    "/api/v4/users/me/teams/{team_id}/channels/categories/{category_id}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *pattern = patterns[data[0] % (sizeof(patterns) / sizeof(patterns[0]))];
    size_t max = (data[0] >> 4) % 6;
    /* the path in a buffer of its own: reads past it are seen */
    char *copy = malloc(size);
    if (copy == NULL)
        return 0;
    memcpy(copy, data + 1, size - 1);
    h2o_iovec_t path = h2o_iovec_init(copy, size - 1), params[8];
    size_t n = 0;
    if (api_route_match(pattern, path, params, max, &n)) {
        if (n > max)
            abort();
        for (size_t i = 0; i < n; i++)
            if (params[i].len == 0 || params[i].base < copy || params[i].base + params[i].len > copy + size - 1 ||
                memchr(params[i].base, '/', params[i].len) != NULL)
                abort();
    }
    free(copy);
    return 0;
}
