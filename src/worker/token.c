/*
 * The session token of a request (token.h).  Each form must be exactly a
 * token's length: anything else is not taken as a token, and the next
 * place is looked at.
 */
#include "worker/token.h"

#include <string.h>
#include <strings.h>

static bool find_cookie(const h2o_req_t *req, const char *name, char out[ID_LENGTH + 1])
{
    size_t name_len = strlen(name);
    for (ssize_t i = -1; (i = h2o_find_header(&req->headers, H2O_TOKEN_COOKIE, i)) != -1;) {
        h2o_iovec_t v = req->headers.entries[i].value;
        const char *p = v.base, *end = v.base + v.len;
        while (p < end) {
            while (p < end && (*p == ' ' || *p == ';'))
                p++;
            const char *semi = memchr(p, ';', (size_t)(end - p));
            const char *stop = semi != NULL ? semi : end;
            if ((size_t)(stop - p) == name_len + 1 + ID_LENGTH && memcmp(p, name, name_len) == 0 &&
                p[name_len] == '=') {
                memcpy(out, p + name_len + 1, ID_LENGTH);
                out[ID_LENGTH] = '\0';
                return true;
            }
            p = stop;
        }
    }
    return false;
}

static bool find_bearer(const h2o_req_t *req, char out[ID_LENGTH + 1])
{
    ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i < 0)
        return false;
    h2o_iovec_t v = req->headers.entries[i].value;
    static const char *const schemes[] = {"bearer ", "token "};
    for (size_t s = 0; s < 2; s++) {
        size_t n = strlen(schemes[s]);
        if (v.len == n + ID_LENGTH && strncasecmp(v.base, schemes[s], n) == 0) {
            memcpy(out, v.base + n, ID_LENGTH);
            out[ID_LENGTH] = '\0';
            return true;
        }
    }
    return false;
}

token_source_t token_from_headers(const h2o_req_t *req, char out[ID_LENGTH + 1])
{
    if (find_cookie(req, "MMAUTHTOKEN", out))
        return TOKEN_FROM_COOKIE;
    if (find_bearer(req, out))
        return TOKEN_FROM_HEADER;
    return TOKEN_NONE;
}
