/*
 * The web client's files, as Mattermost serves its client/ directory
 * (web/static.go): /static/<file> is <file> of the directory, cached for a
 * year; every other path a browser opens (GET or HEAD, outside /api/,
 * /hooks/ and /plugins/) is the app's page, root.html (index.html for a
 * client built without Mattermost's name for it), revalidated each time so a
 * new release is seen at once; /robots.txt keeps crawlers out.  Everything
 * else stays the API's, so a miss there is its JSON 404.
 *
 * h2o's file handler does the sending (HEAD, ranges, ETag and 304, the
 * precompressed .br/.gz variants with Vary when WebserverMode is "gzip").
 * It follows symbolic links and answers directories with a redirect or an
 * index, so each path is checked here first: resolved, it must be a regular
 * file inside the directory, and so must any variant h2o might pick instead.
 * The handlers live on a pathconf of our own, never registered on the host:
 * only this file calls them.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "worker/worker.h"

#define STATIC_PREFIX  "/static/"
#define MAX_AGE_PUBLIC "max-age=31556926, public"

struct worker_webclient_s {
    char root[PATH_MAX + 1]; /* the directory, resolved, ending in '/' */
    size_t root_len;
    int flags; /* H2O_FILE_FLAG_* for both handlers */
    h2o_pathconf_t pathconf;
    h2o_handler_t *files; /* /static/ → the directory */
    h2o_handler_t *page;  /* NULL when the directory has neither page */
};

static const char robots_txt[] = "User-agent: *\nDisallow: /\n";

/* Whether `path` resolves to a regular file inside the directory. */
static bool inside(const worker_webclient_t *wc, const char *path)
{
    char real[PATH_MAX];
    struct stat st;
    if (realpath(path, real) == NULL || stat(real, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    return strncmp(real, wc->root, wc->root_len) == 0;
}

/* The file and the variants h2o may send instead: all inside, or none. */
static bool servable(const worker_webclient_t *wc, const char *path)
{
    if (!inside(wc, path))
        return false;
    if ((wc->flags & H2O_FILE_FLAG_SEND_COMPRESSED) == 0)
        return true;
    static const char *const suffixes[] = {".br", ".gz"};
    char variant[PATH_MAX + 4];
    for (size_t i = 0; i < 2; i++) {
        snprintf(variant, sizeof(variant), "%s%s", path, suffixes[i]);
        if (access(variant, F_OK) == 0 && !inside(wc, variant))
            return false;
    }
    return true;
}

static void add_header(h2o_req_t *req, const h2o_token_t *token, const char *value, size_t len)
{
    h2o_set_header(&req->pool, &req->res.headers, token, value, len, 1);
}

static void add_named_header(h2o_req_t *req, const char *name, const char *value, size_t len)
{
    h2o_set_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 0, value, len, 1);
}

/* Mattermost's fixed security headers for what its static handler sends. */
static void add_security_headers(h2o_req_t *req)
{
    add_named_header(req, "permissions-policy", "", 0);
    add_named_header(req, "x-content-type-options", H2O_STRLIT("nosniff"));
    add_named_header(req, "referrer-policy", H2O_STRLIT("no-referrer"));
}

static bool has_prefix(h2o_iovec_t path, const char *prefix)
{
    size_t n = strlen(prefix);
    return path.len >= n && memcmp(path.base, prefix, n) == 0;
}

/* The API's prefixes (Mattermost's IsAPICall, webhooks, plugin routes). */
static bool is_api_path(h2o_iovec_t path)
{
    return has_prefix(path, "/api/") || has_prefix(path, "/hooks/") || has_prefix(path, "/plugins/");
}

static webclient_result_t serve_static(worker_webclient_t *wc, h2o_req_t *req)
{
    h2o_iovec_t path = req->path_normalized;
    h2o_iovec_t rest = h2o_iovec_init(path.base + strlen(STATIC_PREFIX), path.len - strlen(STATIC_PREFIX));
    /* a directory (Mattermost: any path ending in '/'), a NUL from %00 */
    if (rest.len == 0 || rest.base[rest.len - 1] == '/' || memchr(rest.base, '\0', rest.len) != NULL ||
        wc->root_len + rest.len >= PATH_MAX)
        return WEBCLIENT_NOT_FOUND;
    char file[PATH_MAX + 1]; /* the lengths are checked above */
    memcpy(file, wc->root, wc->root_len);
    memcpy(file + wc->root_len, rest.base, rest.len);
    file[wc->root_len + rest.len] = '\0';
    if (!servable(wc, file))
        return WEBCLIENT_NOT_FOUND;
    /* the entry point of a module federation build must be revalidated */
    bool entry = rest.len >= 15 && memcmp(rest.base + rest.len - 15, "remote_entry.js", 15) == 0 &&
                 (rest.len == 15 || rest.base[rest.len - 16] == '/');
    if (entry)
        add_header(req, H2O_TOKEN_CACHE_CONTROL, H2O_STRLIT("no-cache, " MAX_AGE_PUBLIC));
    else
        add_header(req, H2O_TOKEN_CACHE_CONTROL, H2O_STRLIT(MAX_AGE_PUBLIC));
    add_security_headers(req);
    if (wc->files->on_req(wc->files, req) != 0) /* gone since the check */
        h2o_send_error_404(req, "Not Found", "not found", 0);
    return WEBCLIENT_SERVED;
}

static webclient_result_t serve_page(worker_webclient_t *wc, h2o_req_t *req)
{
    if (wc->page == NULL)
        return WEBCLIENT_NOT_FOUND;
    add_header(req, H2O_TOKEN_CACHE_CONTROL, H2O_STRLIT("no-cache, " MAX_AGE_PUBLIC));
    add_named_header(req, "x-frame-options", H2O_STRLIT("SAMEORIGIN"));
    add_security_headers(req);
    if (wc->page->on_req(wc->page, req) != 0)
        h2o_send_error_404(req, "Not Found", "not found", 0);
    return WEBCLIENT_SERVED;
}

webclient_result_t worker_webclient_serve(worker_t *w, h2o_req_t *req)
{
    worker_webclient_t *wc = w->webclient;
    h2o_iovec_t path = req->path_normalized;
    bool get = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET"));
    bool head = h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"));
    if (wc == NULL || (!get && !head) || is_api_path(path))
        return WEBCLIENT_NOT_MINE;
    webclient_result_t result;
    if (has_prefix(path, STATIC_PREFIX)) {
        result = serve_static(wc, req);
    } else if (h2o_memis(path.base, path.len, H2O_STRLIT("/robots.txt"))) {
        req->res.status = 200;
        req->res.reason = "OK";
        add_header(req, H2O_TOKEN_CONTENT_TYPE, H2O_STRLIT("text/plain; charset=utf-8"));
        h2o_send_inline(req, robots_txt, head ? 0 : sizeof(robots_txt) - 1);
        return WEBCLIENT_SERVED;
    } else {
        result = serve_page(wc, req);
    }
    if (result == WEBCLIENT_NOT_FOUND) /* Mattermost: a miss is not cached */
        add_header(req, H2O_TOKEN_CACHE_CONTROL, H2O_STRLIT("no-cache, public"));
    return result;
}

/* The page's file, or "" when the directory has neither (logged). */
static void find_page(const worker_webclient_t *wc, char *page, size_t size, bool log)
{
    static const char *const names[] = {"root.html", "index.html"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(page, size, "%s%s", wc->root, names[i]);
        if (servable(wc, page))
            return;
    }
    page[0] = '\0';
    if (log)
        log_warn(0, "ServiceSettings.ClientDirectory \"%s\" has no root.html or index.html: only /static/ is served",
                 wc->root);
}

int worker_webclient_setup(worker_t *w)
{
    const config_service_t *s = &w->config->service;
    bool log = w->params->slot == 0; /* one line per node, not per worker */
    if (strcmp(s->webserver_mode, "disabled") == 0 || s->client_directory[0] == '\0')
        return 0;
    worker_webclient_t *wc = calloc(1, sizeof(*wc));
    if (wc == NULL)
        return -ENOMEM;
    struct stat st;
    int err = 0;
    if (realpath(s->client_directory, wc->root) == NULL || stat(wc->root, &st) != 0)
        err = errno;
    else if (!S_ISDIR(st.st_mode))
        err = ENOTDIR;
    else if ((wc->root_len = strlen(wc->root)) + 1 >= sizeof(wc->root))
        err = ENAMETOOLONG;
    if (err != 0) {
        if (log)
            log_warn(err, "ServiceSettings.ClientDirectory \"%s\": the web client is not served", s->client_directory);
        free(wc);
        return 0;
    }
    if (wc->root[wc->root_len - 1] != '/')
        wc->root[wc->root_len++] = '/';
    wc->flags = H2O_FILE_FLAG_SEND_COMPRESSED;
    if (strcmp(s->webserver_mode, "uncompressed") == 0)
        wc->flags = 0;

    h2o_mimemap_t *mimemap = h2o_mimemap_create();
    h2o_config_init_pathconf(&wc->pathconf, &w->globalconf, STATIC_PREFIX, mimemap);
    /* no index files: a directory is never answered with a file of it */
    static const char *no_index[] = {NULL};
    /* the file handler begins with its h2o_handler_t (h2o's file.c) */
    wc->files = (h2o_handler_t *)h2o_file_register(&wc->pathconf, wc->root, no_index, mimemap, wc->flags);
    char page[PATH_MAX + 16];
    find_page(wc, page, sizeof(page), log);
    if (page[0] != '\0')
        wc->page = h2o_file_register_file(
            &wc->pathconf, page, h2o_mimemap_get_type_by_extension(mimemap, h2o_iovec_init(H2O_STRLIT("html"))),
            wc->flags);
    h2o_mem_release_shared(mimemap);
    w->webclient = wc;
    if (log)
        log_info("the web client: %s (WebserverMode \"%s\")", wc->root, s->webserver_mode);
    return 0;
}

void worker_webclient_context_init(worker_t *w)
{
    if (w->webclient != NULL)
        h2o_context_init_pathconf_context(&w->ctx, &w->webclient->pathconf);
}

void worker_webclient_dispose(worker_t *w)
{
    worker_webclient_t *wc = w->webclient;
    if (wc == NULL)
        return;
    h2o_context_dispose_pathconf_context(&w->ctx, &wc->pathconf);
    h2o_config_dispose_pathconf(&wc->pathconf);
    free(wc);
    w->webclient = NULL;
}
