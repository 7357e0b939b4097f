/*
 * GET and PUT /api/v4/config and POST /api/v4/config/reload, for system
 * admins only.
 *
 * The master owns the running config (a worker's is a read-only copy
 * inherited across fork), so a worker never changes it in place: PUT writes
 * the config file (core/config_save.c: validated, per-node keys kept, written
 * atomically) and then asks the master to reload, exactly as an operator's
 * edit and `kill -HUP` would.  The answer goes out before the reload is done,
 * as Mattermost's does; a new generation of workers serves the new config.
 *
 * The rest of the cluster learns through the event ring: PUT publishes
 * EVENT_CONFIG_SAVED with what it saved, but for the secrets, which go as
 * the admin sent them, masked ones still masked (each peer's cluster child
 * fills them, and the per-node keys, from its own config, saves and
 * reloads): this node's DataSource and replica URLs never leave it, POST /config/reload publishes
 * EVENT_CONFIG_RELOAD (each peer reloads its own file).  The cluster child
 * forwards both; with clustering off nobody does, and they cost one record.
 *
 * With ClusterSettings.Enable && ReadOnlyConfig, PUT is refused, as
 * Mattermost refuses it: the file is then the operator's to manage.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/response.h"
#include "core/config_save.h"
#include "core/events.h"
#include "core/log.h"
#include "shm/events_publish.h"

/* The sanitized config, as GET /config and a successful PUT answer it. */
static void send_config(api_request_t *r, const config_t *cfg)
{
    json_t *view = config_to_json(cfg, true);
    if (view == NULL) {
        api_send_error(r, 500, "api.config.get_config.app_error", "Unable to build the configuration.", NULL);
        return;
    }
    api_add_header(r, "cache-control", "no-cache, no-store, must-revalidate");
    api_send_json(r, 200, view);
}

void api_config_get(api_request_t *r)
{
    if (!api_require_admin(r))
        return;
    send_config(r, r->worker->config);
}

/* Every problem, "Section.Key: reason; ...", for the error's message. */
static char *join_errors(const config_errors_t *e)
{
    size_t cap = 64 + e->count * (sizeof e->lines[0] + 2), used;
    char *msg = malloc(cap);

    if (msg == NULL)
        return NULL;
    used = (size_t)snprintf(msg, cap, "Invalid configuration: ");
    for (size_t i = 0; i < e->count; i++)
        used += (size_t)snprintf(msg + used, cap - used, "%s%s", i > 0 ? "; " : "", e->lines[i]);
    if (e->dropped > 0)
        snprintf(msg + used, cap - used, "; and %zu more", e->dropped);
    return msg;
}

static void publish_saved(worker_t *w, json_t *saved)
{
    event_config_saved_t ev = {0};
    char *text = json_dumps(saved, JSON_COMPACT);
    int rc;

    if (text == NULL) {
        log_warn(ENOMEM, "config saved, but cannot tell the other nodes");
        return;
    }
    snprintf(ev.node_id, sizeof(ev.node_id), "%s", w->node_id);
    ev.config.ptr = text;
    ev.config.len = strlen(text);
    if (ev.config.len > EVENT_CONFIG_TEXT_MAX)
        rc = -EMSGSIZE;
    else
        rc = events_publish_config_saved(shm_region_ring(w->params->shm), w->params->ring_eventfds, &ev);
    if (rc != 0)
        log_warn(-rc, "config saved (%zu bytes), but cannot publish it to the other nodes", ev.config.len);
    free(text);
}

static void publish_reload(worker_t *w)
{
    event_config_reload_t ev = {0};
    snprintf(ev.node_id, sizeof(ev.node_id), "%s", w->node_id);
    int rc = events_publish_config_reload(shm_region_ring(w->params->shm), w->params->ring_eventfds, &ev);
    if (rc != 0)
        log_warn(-rc, "cannot publish the config reload to the other nodes");
}

/* Answers the save's failure: every bad key (400) or the file (500). */
static void send_save_error(api_request_t *r, int rc, const config_errors_t *errors)
{
    if (rc == -EINVAL) {
        char *msg = join_errors(errors);
        log_info("request %s: config not saved: %s", r->request_id, msg != NULL ? msg : "invalid");
        api_send_error(r, 400, "api.config.update_config.invalid.app_error",
                       msg != NULL ? msg : "Invalid configuration.", NULL);
        free(msg);
        return;
    }
    log_error(-rc, "cannot save the config: %s", errors->count > 0 ? errors->lines[0] : "unknown error");
    api_send_error(r, 500, "app.save_config.app_error", "An error occurred saving the configuration.",
                   errors->count > 0 ? errors->lines[0] : NULL);
}

void api_config_update(api_request_t *r)
{
    worker_t *w = r->worker;
    const config_t *running = w->config;
    config_errors_t *errors;
    config_t saved;

    if (!api_require_admin(r))
        return;
    if (running->cluster.enable && running->cluster.read_only_config) {
        api_send_error(r, 403, "ent.cluster.save_config.error",
                       "The configuration cannot be saved while ClusterSettings.ReadOnlyConfig is enabled in a "
                       "cluster; edit the configuration file of every node instead.",
                       NULL);
        return;
    }
    if (running->path == NULL) {
        api_send_error(r, 500, "app.save_config.app_error", "An error occurred saving the configuration.",
                       "this node was not started from a configuration file");
        return;
    }
    json_t *doc = api_request_body(r, JSON_OBJECT);
    if (doc == NULL)
        return;
    /* the secrets as the admin sent them, before config_save fills their
     * placeholders with this node's: what the peers get */
    json_t *sent = json_deep_copy(doc);
    /* ~25 KB of problem lines: the heap, not a worker's stack */
    if (sent == NULL || (errors = calloc(1, sizeof(*errors))) == NULL) {
        json_decref(sent);
        api_send_error(r, 500, "app.save_config.app_error", "An error occurred saving the configuration.", NULL);
        return;
    }
    int rc = config_save(running->path, doc, running, errors);
    if (rc != 0) {
        send_save_error(r, rc, errors);
        free(errors);
        json_decref(sent);
        return;
    }
    /* what a reload will load: the saved file as this node's environment sees it */
    rc = config_load_json(doc, &saved, errors);
    free(errors);
    if (rc != 0) {
        json_decref(sent);
        api_send_error(r, 500, "app.save_config.app_error", "An error occurred saving the configuration.", NULL);
        return;
    }
    log_info("request %s: configuration saved to %s", r->request_id, running->path);
    /* Both are asynchronous (a signal, a ring record): the answer still goes
     * out before the reload happens.  Done first so nothing touches the
     * request's body once the answer may have released it. */
    rc = worker_signal_master(w, SIGHUP);
    if (rc != 0)
        log_warn(-rc, "config saved, but cannot ask the master to reload");
    json_t *for_peers = config_save_for_peers(doc, sent);
    json_decref(sent);
    if (for_peers != NULL)
        publish_saved(w, for_peers);
    else
        log_warn(ENOMEM, "config saved, but cannot tell the other nodes");
    json_decref(for_peers);
    send_config(r, &saved);
    config_free(&saved);
}

void api_config_reload(api_request_t *r)
{
    if (!api_require_admin(r))
        return;
    worker_t *w = r->worker;
    int rc = worker_signal_master(w, SIGHUP);
    if (rc != 0) {
        log_warn(-rc, "cannot ask the master to reload");
        api_send_error(r, 500, "api.config.reload_config.app_error", "Unable to reload the configuration.", NULL);
        return;
    }
    log_info("request %s: configuration reload requested", r->request_id);
    publish_reload(w);
    api_send_json(r, 200, json_pack("{s:s}", "status", "OK"));
}
