/*
 * GET /api/v4/config/client?format=old: the client config map
 * (core/config_client.c), limited before login and full after, plus what
 * Mattermost computes per request (NoAccounts; MaxPostSize and friends in
 * the full map).  `format` missing is Mattermost's 501, any value but "old"
 * its 400.
 *
 * Every page of the web app asks for it, so it is rendered once per worker
 * and sent from memory: a worker's config never changes (a reload forks a
 * new generation), so the four texts (limited or full, with NoAccounts true
 * or false) are built at the first request and kept for the worker's life.
 * NoAccounts needs the database only until someone has an account: once a
 * user exists one always does (accounts are deactivated, not deleted), as
 * Mattermost caches it too.  A database that cannot say answers "false",
 * as Mattermost does: the config must load while the database is down.
 */
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/posts.h"
#include "api/response.h"
#include "core/config_client.h"
#include "core/log.h"
#include "store/row.h"
#include "store/users_count.h"

typedef struct {
    char *text;
    size_t len;
} rendered_t;

/* [full][no_accounts], for `config`; this worker's alone. */
static const config_t *rendered_for;
static rendered_t rendered[2][2];
static bool accounts_exist;

static int render(const config_t *cfg, bool full, bool no_accounts, rendered_t *out)
{
    json_t *map = config_client_map(cfg, full);
    if (map == NULL)
        return -1;
    int rc = json_object_set_new(map, "NoAccounts", json_string(no_accounts ? "true" : "false"));
    if (full) {
        char size[16];
        snprintf(size, sizeof(size), "%d", POST_MESSAGE_MAX_RUNES);
        rc |= json_object_set_new(map, "MaxPostSize", json_string(size));
        rc |= json_object_set_new(map, "UpgradedFromTE", json_string("false"));
        rc |= json_object_set_new(map, "InstallationDate", json_string(""));
    }
    /* sorted, as Go's encoding/json writes a map */
    out->text = rc == 0 ? json_dumps(map, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(map);
    if (out->text == NULL)
        return -1;
    out->len = strlen(out->text);
    return 0;
}

static const rendered_t *lookup(const config_t *cfg, bool full, bool no_accounts)
{
    if (rendered_for != cfg) {
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++) {
                free(rendered[i][j].text);
                rendered[i][j] = (rendered_t){0};
            }
        rendered_for = cfg;
    }
    rendered_t *slot = &rendered[full][no_accounts];
    if (slot->text == NULL && render(cfg, full, no_accounts, slot) != 0)
        return NULL;
    return slot;
}

static void send_map(api_request_t *r, bool no_accounts)
{
    const rendered_t *text = lookup(r->worker->config, r->authenticated, no_accounts);
    if (text == NULL) {
        api_send_error(r, 500, "api.marshal_error", "Unable to build the client configuration.", NULL);
        return;
    }
    api_send_static(r, 200, text->text, text->len);
}

static void on_accounts(api_request_t *r, PGresult *res, const char *error)
{
    if (error != NULL || PQntuples(res) != 1) {
        log_warn(0, "request %s: cannot tell whether any account exists: %s", r->request_id,
                 error != NULL ? error : "no row");
        send_map(r, false);
        return;
    }
    if (row_bool(res, 0, 0))
        accounts_exist = true;
    send_map(r, !accounts_exist);
}

void api_config_client(api_request_t *r)
{
    const char *format = api_query_param(r, "format");
    if (format == NULL || format[0] == '\0') {
        api_send_error(r, 501, "api.config.client.old_format.app_error",
                       "New format for the client configuration is not supported yet. Please specify "
                       "format=old in the query string.",
                       NULL);
        return;
    }
    if (strcmp(format, "old") != 0) {
        api_error_invalid_param(r, "format");
        return;
    }
    if (r->authenticated)
        accounts_exist = true; /* the caller has one */
    if (accounts_exist) {
        send_map(r, false);
        return;
    }
    /* the master: a replica may not have the first account yet */
    api_query(r, USERS_COUNT_SQL_ANY, 0, NULL, on_accounts);
}
