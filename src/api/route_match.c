/*
 * Route patterns (route_match.h).  One pass over pattern and path together:
 * a literal must match byte for byte; a placeholder takes the path up to the
 * next '/' (an empty segment matches nothing).
 */
#include "api/route_match.h"

#include <string.h>

bool api_route_match(const char *pattern, h2o_iovec_t path, h2o_iovec_t *params, size_t max, size_t *nparams)
{
    const char *p = pattern, *s = path.base, *end = path.base + path.len;
    size_t n = 0;
    while (*p != '\0' && s < end) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            const char *slash = memchr(s, '/', (size_t)(end - s));
            const char *seg_end = slash != NULL ? slash : end;
            if (close == NULL || seg_end == s || n == max)
                return false;
            params[n++] = h2o_iovec_init(s, (size_t)(seg_end - s));
            p = close + 1;
            s = seg_end;
        } else if (*p++ != *s++) {
            return false;
        }
    }
    if (*p == '\0' && end - s == 1 && *s == '/')
        s++;
    *nparams = n;
    return *p == '\0' && s == end;
}
