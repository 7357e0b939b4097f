/*
 * What the apps ask about the server on their first load, besides its
 * config (config_client.c):
 *
 * - GET /license/client: chorus holds no Mattermost license, so it answers
 *   what an unlicensed Mattermost answers, to everyone: {"IsLicensed":
 *   "false"}.  The features chorus has that Mattermost gates behind one
 *   (cluster, metrics, data retention, compliance export) are run from
 *   chorus's own config; claiming a license for them would make the apps
 *   treat chorus as an Enterprise edition (an SKU, an expiry, the System
 *   Console's licensed pages) and call routes it does not serve.  Recent
 *   Mattermost reads no `format` here, so neither does chorus.
 * - GET /limits/server: chorus enforces no user or post-history limit, so
 *   the limits are 0 (Mattermost's "none"), with the active user count for
 *   system admins only, as Mattermost hides it from everyone else.
 * - GET /plugins/webapp: plugins "on" (PluginsEnabled in the client config)
 *   and none installed: an empty list.
 */
#include "api/access.h"
#include "api/handlers.h"
#include "api/response.h"
#include "core/log.h"
#include "store/row.h"
#include "store/users_count.h"

static const char license_unlicensed[] = "{\"IsLicensed\":\"false\"}";
static const char plugins_none[] = "[]";

void api_license_client(api_request_t *r)
{
    api_send_static(r, 200, license_unlicensed, sizeof(license_unlicensed) - 1);
}

void api_plugins_webapp(api_request_t *r)
{
    api_send_static(r, 200, plugins_none, sizeof(plugins_none) - 1);
}

/* Mattermost's ServerLimits, its fields in its order. */
static void send_limits(api_request_t *r, json_int_t active_users)
{
    api_send_json(r, 200,
                  json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "maxUsersLimit", (json_int_t)0, "maxUsersHardLimit",
                            (json_int_t)0, "activeUserCount", active_users, "singleChannelGuestCount", (json_int_t)0,
                            "singleChannelGuestLimit", (json_int_t)0, "postHistoryLimit", (json_int_t)0,
                            "lastAccessiblePostTime", (json_int_t)0));
}

static void on_active_users(api_request_t *r, PGresult *res, const char *error)
{
    if (error != NULL || PQntuples(res) != 1) {
        log_warn(0, "request %s: cannot count the active users: %s", r->request_id, error != NULL ? error : "no row");
        api_send_error(r, 500, "app.limits.get_app_limits.user_count.store_error", "Failed to get user count.", NULL);
        return;
    }
    send_limits(r, (json_int_t)row_int64(res, 0, 0));
}

void api_limits_server(api_request_t *r)
{
    if (!api_has_permission(r, "manage_system", NULL)) {
        send_limits(r, 0);
        return;
    }
    api_query_read(r, USERS_COUNT_SQL_ACTIVE, 0, NULL, on_active_users);
}
