/*
 * RateLimitSettings on every HTTP request (ratelimit.h), in the order
 * Mattermost's limiter wraps its whole router: before the web client, the
 * API and the WebSocket upgrade, so a refused request costs a digest and
 * one locked step in the node's table (shm/ratelimit.c), nothing more.
 *
 * The key is Mattermost's GenerateKey: the session token when VaryByUser
 * and the request carries one, else the client's address when
 * VaryByRemoteAddr, then the value of the VaryByHeader header in lower case.
 * The concatenation is digested (SHA-256, 128 bits kept) to fit the table's
 * keys whatever its length; nobody can aim a header value at another
 * client's bucket without a second preimage.
 *
 * The headers follow the throttled library's: X-RateLimit-Limit (MaxBurst +
 * 1), -Remaining, -Reset (seconds until a full burst again) on every answer,
 * Retry-After on a refusal, whose body is Mattermost's plain "limit
 * exceeded".  A table that cannot be used lets the request through, as
 * Mattermost does when its store fails: an outage of the limiter must not
 * become an outage of the service.
 */
#include "worker/ratelimit.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "shm/ratelimit.h"
#include "worker/client_address.h"
#include "worker/token.h"
#include "worker/worker.h"

#define RATELIMIT_DIGEST_BYTES 16 /* hex: SHM_CACHE_KEY_MAX characters */

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The access_token query parameter, the last place Mattermost looks. */
static bool token_from_query(const h2o_req_t *req, char out[ID_LENGTH + 1])
{
    static const char name[] = "access_token=";
    if (req->query_at == SIZE_MAX)
        return false;
    const char *p = req->path.base + req->query_at + 1, *end = req->path.base + req->path.len;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp != NULL ? amp : end;
        size_t n = sizeof(name) - 1;
        if ((size_t)(stop - p) == n + ID_LENGTH && memcmp(p, name, n) == 0) {
            memcpy(out, p + n, ID_LENGTH);
            out[ID_LENGTH] = '\0';
            return true;
        }
        p = stop + 1;
    }
    return false;
}

/* The value of header `name` (any case), or an empty one. */
static h2o_iovec_t header_value(const h2o_req_t *req, const char *name)
{
    char lower[128];
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof(lower))
        return h2o_iovec_init(NULL, 0);
    for (size_t k = 0; k <= n; k++)
        lower[k] = (char)tolower((unsigned char)name[k]);
    ssize_t i = h2o_find_header_by_str(&req->headers, lower, n, -1);
    return i < 0 ? h2o_iovec_init(NULL, 0) : req->headers.entries[i].value;
}

/* The first `n` parts of a key, digested to hex in out; false when no digest. */
static bool digest_key(const char *const *parts, size_t n, h2o_iovec_t lower_tail, char out[SHM_CACHE_KEY_MAX + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    for (size_t i = 0; ok && i < n; i++)
        ok = EVP_DigestUpdate(ctx, parts[i], strlen(parts[i])) == 1;
    for (size_t i = 0; ok && i < lower_tail.len; i++) {
        unsigned char c = (unsigned char)tolower((unsigned char)lower_tail.base[i]);
        ok = EVP_DigestUpdate(ctx, &c, 1) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &md_len) == 1 && md_len >= RATELIMIT_DIGEST_BYTES;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return false;
    for (size_t i = 0; i < RATELIMIT_DIGEST_BYTES; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return true;
}

/* The request's key, digested to hex in out; false when no digest. */
static bool request_key(const config_t *cfg, const h2o_req_t *req, char out[SHM_CACHE_KEY_MAX + 1])
{
    const config_rate_limit_t *rl = &cfg->rate_limit;
    char token[ID_LENGTH + 1] = "", address[CLIENT_ADDRESS_MAX] = "";
    bool by_address = rl->vary_by_remote_addr;
    if (rl->vary_by_user) {
        if (token_from_headers(req, token) != TOKEN_NONE || token_from_query(req, token))
            by_address = false;
    }
    if (by_address)
        client_address(req, &cfg->service.trusted_proxy_ip_header, address);

    const char *parts[] = {token, address};
    h2o_iovec_t header =
        rl->vary_by_header[0] != '\0' ? header_value(req, rl->vary_by_header) : h2o_iovec_init(NULL, 0);
    return digest_key(parts, 2, header, out);
}

static void add_number(h2o_req_t *req, const char *name, int64_t value)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%" PRId64, value);
    h2o_iovec_t v = h2o_strdup(&req->pool, buf, (size_t)n);
    h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 1, NULL, v.base, v.len);
}

static int64_t ceil_seconds(int64_t ns)
{
    return ns <= 0 ? 0 : (ns + 999999999LL) / 1000000000LL;
}

/* Charges `key` (NULL: no digest could be made) and answers as
 * worker_ratelimit says. */
static bool charge(worker_t *w, h2o_req_t *req, const char *key)
{
    const config_rate_limit_t *rl = &w->config->rate_limit;
    static bool warned; /* once per worker: a broken table would flood the log */
    shm_ratelimit_result_t res;
    shm_ratelimit_quota_t quota = {.per_sec = rl->per_sec, .max_burst = rl->max_burst};
    int rc = key != NULL ? shm_ratelimit_take(shm_region_ratelimit(w->params->shm), key, monotonic_ns(), quota, &res)
                         : -ENOMEM;
    if (rc < 0) {
        if (!warned)
            log_error(-rc, "rate limiting is broken: requests pass unlimited");
        warned = true;
        return false;
    }
    add_number(req, "x-ratelimit-limit", res.limit);
    add_number(req, "x-ratelimit-remaining", res.remaining);
    add_number(req, "x-ratelimit-reset", ceil_seconds(res.reset_after_ns));
    if (rc == 0)
        return false;
    add_number(req, "retry-after", ceil_seconds(res.retry_after_ns));
    log_debug("denied due to throttling settings code=429");
    static const char body[] = "limit exceeded\n";
    req->res.status = 429;
    req->res.reason = "Too Many Requests";
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("text/plain; charset=utf-8"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-content-type-options"), 1, NULL,
                          H2O_STRLIT("nosniff"));
    h2o_send_inline(req, body, sizeof(body) - 1);
    return true;
}

bool worker_ratelimit(worker_t *w, h2o_req_t *req)
{
    if (!w->config->rate_limit.enable)
        return false;
    char key[SHM_CACHE_KEY_MAX + 1];
    return charge(w, req, request_key(w->config, req, key) ? key : NULL);
}

bool worker_ratelimit_user(worker_t *w, h2o_req_t *req, const char *user_id)
{
    const config_rate_limit_t *rl = &w->config->rate_limit;
    if (!rl->enable || !rl->vary_by_user)
        return false;
    char key[SHM_CACHE_KEY_MAX + 1];
    const char *parts[] = {user_id};
    return charge(w, req, digest_key(parts, 1, h2o_iovec_init(NULL, 0), key) ? key : NULL);
}
