/*
 * The Origin check of the WebSocket upgrade (origin.h).  With AllowCorsFrom
 * empty Mattermost leaves the check to gorilla/websocket's default, which
 * compares the Origin's host with the request's Host; with a list, it adds
 * SiteURL (its path dropped) and compares whole origins, so a request
 * without Origin is refused then, unless the list is "*".
 */
#include "ws/origin.h"

#include <string.h>
#include <strings.h>

/* The host[:port] of an origin "scheme://host[:port][/...]": false when it
 * has no scheme or no host. */
static bool origin_host(const char *origin, size_t len, const char **host, size_t *host_len)
{
    const char *sep = memmem(origin, len, "://", 3);
    if (sep == NULL || sep == origin)
        return false;
    const char *start = sep + 3, *end = origin + len;
    const char *slash = memchr(start, '/', (size_t)(end - start));
    *host = start;
    *host_len = (size_t)((slash != NULL ? slash : end) - start);
    return *host_len > 0;
}

/* True when `origin` is one of the space-separated entries of `list`. */
static bool listed(const char *list, const char *origin, size_t origin_len)
{
    for (const char *p = list;;) {
        const char *space = strchr(p, ' ');
        size_t n = space != NULL ? (size_t)(space - p) : strlen(p);
        if (n == origin_len && memcmp(p, origin, n) == 0)
            return true;
        if (space == NULL)
            return false;
        p = space + 1;
    }
}

bool ws_origin_allowed(const char *allow_cors_from, const char *site_url, const char *origin, size_t origin_len,
                       const char *host, size_t host_len)
{
    if (allow_cors_from == NULL || allow_cors_from[0] == '\0') {
        const char *oh;
        size_t oh_len;
        if (origin == NULL)
            return true;
        return origin_host(origin, origin_len, &oh, &oh_len) && host != NULL && oh_len == host_len &&
               strncasecmp(oh, host, host_len) == 0;
    }
    if (strcmp(allow_cors_from, "*") == 0)
        return true;
    const char *o = origin != NULL ? origin : "";
    size_t o_len = origin != NULL ? origin_len : 0;
    if (listed(allow_cors_from, o, o_len))
        return true;
    /* SiteURL without its path: "scheme://host[:port]" */
    const char *site = site_url != NULL ? site_url : "", *sh;
    size_t site_len = strlen(site), sh_len;
    if (origin_host(site, site_len, &sh, &sh_len))
        site_len = (size_t)(sh + sh_len - site);
    return o_len == site_len && memcmp(o, site, site_len) == 0;
}
