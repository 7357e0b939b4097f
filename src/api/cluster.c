/*
 * GET /api/v4/cluster/status: the cluster as this node sees it, for system
 * admins only.
 *
 * Mattermost answers ClusterInfo[] ({id, version, schema_version, config_hash,
 * ipaddress, hostname}), [] when clustering is off.  chorus adds what an
 * operator needs to act on: each member's `status` ("green" when alive with
 * our version and config hash, else "red"), the `reasons` it is red,
 * `is_leader` and `last_seen_at` (ms).
 *
 * The cluster child owns membership and publishes it in the shm cluster view
 * (a seqlock, shm/cluster_view.c); this handler only copies it, so it never
 * waits for gossip.  When there is no view to copy (the cluster child is not
 * running, died mid-write, or has not published yet) the answer is this node
 * alone, red, "cluster process not running": the truth as far as a worker can
 * tell, and what an operator must fix first.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/response.h"
#include "core/clock.h"
#include "core/version.h"
#include "shm/cluster_view.h"

#define REASON_NOT_RUNNING "cluster process not running"

/* A fixed-size field of the view as a JSON string: bounded by its buffer
 * (the writer NUL-terminates, a reader trusts nothing in shm), "" when it is
 * not UTF-8, so one bad byte never costs the whole answer. */
static json_t *field(const char *s, size_t size)
{
    json_t *v = json_stringn(s, strnlen(s, size));
    return v != NULL ? v : json_string("");
}

static json_t *member_json(const cluster_view_member_t *m)
{
    char schema[16];
    json_t *o = json_object(), *reasons = json_array();
    uint32_t n = m->reason_count > CLUSTER_VIEW_REASONS_MAX ? CLUSTER_VIEW_REASONS_MAX : m->reason_count;
    int rc = o != NULL && reasons != NULL ? 0 : -1;

    snprintf(schema, sizeof(schema), "%u", m->schema_version);
    for (uint32_t i = 0; rc == 0 && i < n; i++)
        rc = json_array_append_new(reasons, field(m->reasons[i], sizeof(m->reasons[i])));
    if (rc == 0)
        rc = json_object_set_new(o, "id", field(m->id, sizeof(m->id))) |
             json_object_set_new(o, "version", field(m->version, sizeof(m->version))) |
             json_object_set_new(o, "schema_version", json_string(schema)) |
             json_object_set_new(o, "config_hash", field(m->config_hash, sizeof(m->config_hash))) |
             json_object_set_new(o, "ipaddress", field(m->ipaddress, sizeof(m->ipaddress))) |
             json_object_set_new(o, "hostname", field(m->hostname, sizeof(m->hostname))) |
             json_object_set_new(o, "status", json_string(m->green ? "green" : "red")) |
             json_object_set(o, "reasons", reasons) | json_object_set_new(o, "is_leader", json_boolean(m->is_leader)) |
             json_object_set_new(o, "last_seen_at", json_integer(m->last_seen_at));
    json_decref(reasons);
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The first address that is neither loopback nor link-local, as the cluster
 * child advertises by default (ClusterSettings.UseIPAddress); "" if none. */
static void first_address(char *out, size_t len)
{
    struct ifaddrs *ifs, *i;

    out[0] = '\0';
    if (getifaddrs(&ifs) != 0)
        return;
    for (i = ifs; i != NULL && out[0] == '\0'; i = i->ifa_next) {
        if (i->ifa_addr == NULL)
            continue;
        if (i->ifa_addr->sa_family == AF_INET) {
            const struct in_addr *a = &((const struct sockaddr_in *)i->ifa_addr)->sin_addr;
            uint32_t host = ntohl(a->s_addr);
            if ((host >> 24) == 127 || (host >> 16) == 0xa9fe) /* 127/8, 169.254/16 */
                continue;
            (void)inet_ntop(AF_INET, a, out, (socklen_t)len);
        } else if (i->ifa_addr->sa_family == AF_INET6) {
            const struct in6_addr *a = &((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
            if (IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_LINKLOCAL(a))
                continue;
            (void)inet_ntop(AF_INET6, a, out, (socklen_t)len);
        }
    }
    freeifaddrs(ifs);
}

/* This node, red, for when there is no view to report. */
static void self_member(const worker_t *w, cluster_view_member_t *m)
{
    const config_cluster_t *c = &w->config->cluster;

    memset(m, 0, sizeof(*m));
    snprintf(m->id, sizeof(m->id), "%s", w->node_id);
    snprintf(m->version, sizeof(m->version), "%s", CHORUS_VERSION);
    m->schema_version = shm_region_header(w->params->shm)->schema_version;
    snprintf(m->config_hash, sizeof(m->config_hash), "%s", w->params->config_hash);
    if (c->advertise_address[0] != '\0')
        snprintf(m->ipaddress, sizeof(m->ipaddress), "%s", c->advertise_address);
    else
        first_address(m->ipaddress, sizeof(m->ipaddress));
    if (c->override_hostname[0] != '\0')
        snprintf(m->hostname, sizeof(m->hostname), "%s", c->override_hostname);
    else if (gethostname(m->hostname, sizeof(m->hostname) - 1) != 0)
        snprintf(m->hostname, sizeof(m->hostname), "%s", m->ipaddress);
    m->is_self = true;
    m->alive = true; /* this worker is answering */
    m->last_seen_at = clock_now_ms();
    m->reason_count = 1;
    snprintf(m->reasons[0], sizeof(m->reasons[0]), "%s", REASON_NOT_RUNNING);
}

void api_cluster_status(api_request_t *r)
{
    /* one request at a time per worker (one loop thread), ~80 KB: not the stack */
    static cluster_view_data_t view;
    worker_t *w = r->worker;

    if (!api_require_admin(r))
        return;
    json_t *list = json_array();
    if (list == NULL) {
        api_send_error(r, 500, "api.cluster.status.app_error", "Unable to build the cluster status.", NULL);
        return;
    }
    if (!w->config->cluster.enable) {
        api_send_json(r, 200, list);
        return;
    }
    if (cluster_view_read_published(shm_region_cluster(w->params->shm), &view) != 0) {
        view.count = 1;
        self_member(w, &view.members[0]);
    }
    for (uint32_t i = 0; i < view.count; i++) {
        json_t *m = member_json(&view.members[i]);
        if (m == NULL || json_array_append_new(list, m) != 0) {
            json_decref(list);
            api_send_error(r, 500, "api.cluster.status.app_error", "Unable to build the cluster status.", NULL);
            return;
        }
    }
    api_send_json(r, 200, list);
}
