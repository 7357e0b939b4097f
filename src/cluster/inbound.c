/*
 * What a peer forwarded: re-published into our ring marked EVENT_FROM_CLUSTER
 * (so our workers deliver it and we never forward it again) behind its origin
 * header (the peer and its ring seq: core/events.h), or, for config
 * records, acted on here: the cluster child is the node's only listener to
 * the cluster, so it asks its own master to reload.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cluster/internal.h"
#include "core/clock.h"
#include "core/config_save.h"
#include "core/events.h"
#include "core/log.h"
#include "shm/region.h"

static void reload_node(cluster_t *c, const char *why)
{
    if (getppid() != c->master_pid || kill(c->master_pid, SIGHUP) != 0)
        log_warn(errno, "cannot ask the master to reload (%s)", why);
    else
        log_info("reloading this node: %s", why);
}

static void on_config_saved(cluster_t *c, const char *peer_id, const uint8_t *record, size_t len)
{
    event_config_saved_t ev;
    if (event_decode_config_saved(record, len, &ev) != 0) {
        log_warn(0, "a config from %s does not decode: ignored", peer_id);
        return;
    }
    /* this node's file is the operator's alone: a peer that let an admin save
     * (its own ReadOnlyConfig off) does not write it */
    if (c->config->cluster.read_only_config) {
        log_warn(0, "node %s saved a config: not written here, ClusterSettings.ReadOnlyConfig is true on this node",
                 ev.node_id);
        return;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(ev.config.ptr, ev.config.len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        log_warn(0, "the config node %s saved is not JSON (%s): ignored", ev.node_id, jerr.text);
        return;
    }
    config_errors_t errors;
    int rc = config_save(c->config->path, doc, c->config, &errors);
    json_decref(doc);
    if (rc != 0) {
        for (size_t i = 0; i < errors.count; i++)
            log_error(0, "the config node %s saved is refused here: %s", ev.node_id, errors.lines[i]);
        if (errors.count == 0)
            log_error(-rc, "cannot save the config node %s sent into %s", ev.node_id, c->config->path);
        return;
    }
    log_info("config saved by node %s written to %s", ev.node_id, c->config->path);
    reload_node(c, "the config was saved on another node");
}

/* A peer re-sends the last seconds of its stream when a link comes back
 * (link.c): what we had already is dropped by its seq, which only grows per
 * peer.  The last seq taken is in shm, so the next cluster process of this
 * node (a reload) knows it too. */
static bool first_time(cluster_t *c, const char *peer_id, uint64_t seq)
{
    cluster_stream_in_t *slot = NULL;
    for (size_t i = 0; i < CLUSTER_VIEW_MEMBERS_MAX; i++) {
        cluster_stream_in_t *in = &c->streams->in[i];
        if (strcmp(in->node_id, peer_id) == 0) {
            slot = in;
            break;
        }
        if (slot == NULL || (slot->node_id[0] != '\0' && (in->node_id[0] == '\0' || in->at < slot->at)))
            slot = in; /* a free one, or the one not heard from longest */
    }
    if (strcmp(slot->node_id, peer_id) == 0 && seq <= slot->seq)
        return false;
    snprintf(slot->node_id, sizeof(slot->node_id), "%s", peer_id);
    slot->seq = seq;
    slot->at = clock_now_ms();
    return true;
}

void cluster_inbound_record(cluster_t *c, const char *peer_id, uint16_t type, const uint8_t *record, size_t len,
                            uint64_t seq)
{
    if (!first_time(c, peer_id, seq)) {
        c->duplicates++;
        return;
    }
    switch (type) {
    case EVENT_CONFIG_RELOAD: {
        event_config_reload_t ev;
        if (event_decode_config_reload(record, len, &ev) == 0)
            reload_node(c, "POST /api/v4/config/reload on another node");
        return;
    }
    case EVENT_CONFIG_SAVED: on_config_saved(c, peer_id, record, len); return;
    case EVENT_STATUS_CHANGED: {
        /* our presence cache may hold the old status: the next read takes
         * the database's, which the peer wrote before publishing */
        event_status_changed_t ev;
        if (event_decode_status_changed(record, len, &ev) != 0)
            return;
        shm_cache_remove(shm_region_presence(c->params->shm), ev.user_id);
        break;
    }
    case EVENT_REPLAY_ANSWER: {
        static event_replay_answer_t answer; /* ~7 KB: not on the stack */
        if (event_decode_replay_answer(record, len, &answer) != 0 || strcmp(answer.node_id, c->node_id) != 0)
            return; /* not ours (the peer sends only to the node that asked) */
        break;
    }
    case EVENT_REPLAY_REQUEST:
    case EVENT_WS_EVENT:
    case EVENT_SESSION_REVOKED:
    case EVENT_USER_SESSIONS_REVOKED:
    case EVENT_USER_CHANGED:
    case EVENT_MEMBERS_CHANGED: break;
    default: log_debug("record type %u from %s not handled here: dropped", type, peer_id); return;
    }
    event_origin_t origin = {.seq = seq};
    snprintf(origin.node_id, sizeof(origin.node_id), "%s", peer_id);
    int rc = len <= SHM_RING_RECORD_MAX - EVENT_ORIGIN_SIZE ? event_origin_write(&origin, c->inbound) : -EMSGSIZE;
    if (rc == 0) {
        memcpy(c->inbound + EVENT_ORIGIN_SIZE, record, len);
        uint64_t ring_seq;
        rc = shm_ring_publish(shm_region_ring(c->params->shm), c->params->ring_eventfds,
                              (uint16_t)(type | EVENT_FROM_CLUSTER), c->inbound, EVENT_ORIGIN_SIZE + len, &ring_seq);
    }
    if (rc != 0)
        log_warn(-rc, "cannot publish a %s record from %s", event_type_name(type), peer_id);
}
