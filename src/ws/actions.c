/*
 * Client requests on an authenticated socket, as Mattermost answers them:
 * ping, user_typing, user_update_active_status, get_statuses,
 * get_statuses_by_ids, presence, posted_notify_ack.  An unknown action gets
 * Mattermost's FAIL reply (api.web_socket_router.bad_action.app_error).
 *
 * user_typing needs the sender to be a member of the channel: the channel's
 * member set when the worker has it loaded, else the sender's own channels
 * (one set per user, members.c), never a load of the channel named: a
 * client naming any channel id costs one query, for its own channels.
 * While that set loads the request waits on its socket (one at a time; a
 * newer one replaces it) and the load answers it.
 *
 * user_update_active_status writes only a change: when the node's presence
 * cache already shows what the write would leave (online and active, away
 * when idle, a manual status kept), the primary is not asked; the web app
 * reports activity every minute or so from every tab.
 */
#include <errno.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/version.h"
#include "shm/presence.h"
#include "ws/internal.h"

/* The client reports activity: inactive → away, active again → online
 * (Mattermost's SetStatusAwayIfNeeded / SetStatusOnline); statuses set by
 * hand are kept.  `manual: true` is the user choosing away themselves. */
static void update_active_status(ws_conn_t *c, int64_t seq, json_t *data)
{
    json_t *active = json_object_get(data, "user_is_active");
    if (!json_is_boolean(active)) {
        ws_conn_reply_fail(c, seq, "api.websocket_handler.invalid_param.app_error", "Invalid user_is_active parameter.",
                           400);
        return;
    }
    bool manual = json_is_true(json_object_get(data, "manual"));
    ws_presence_set_activity(c->hub, c->user_id, json_is_true(active), manual);
    ws_conn_reply_ok(c, seq, NULL);
}

#define WS_STATUS_IDS_MAX 1000

static void fail_param(ws_conn_t *c, int64_t seq, const char *action, const char *name)
{
    char message[128];
    snprintf(message, sizeof(message), "Invalid %s parameter.", name);
    (void)action;
    ws_conn_reply_fail(c, seq, "api.websocket_handler.invalid_param.app_error", message, 400);
}

static void ping(ws_conn_t *c, int64_t seq)
{
    ws_conn_reply_ok(c, seq,
                     json_pack("{s:s,s:s,s:I,s:s}", "text", "pong", "version", CHORUS_API_VERSION, "server_time",
                               (json_int_t)clock_now_ms(), "node_id", c->hub->worker->node_id));
}

static void typing_publish(ws_conn_t *c, const ws_typing_t *t)
{
    const char *omit[] = {c->user_id};
    ws_broadcast_t b = {.channel_id = t->channel_id, .omit_users = omit, .n_omit_users = 1};
    json_t *data = json_pack("{s:s,s:s}", "parent_id", t->parent_id, "user_id", c->user_id);
    if (data != NULL)
        ws_publish(c->hub->worker, "typing", data, &b);
    json_decref(data);
}

static bool typing_allowed(ws_conn_t *c, const char *channel_id)
{
    if (ws_members_ready(c->hub, 'c', channel_id))
        return ws_members_has(c->hub, 'c', channel_id, c->user_id);
    return ws_members_has(c->hub, 'u', c->user_id, channel_id);
}

/* Answers a typing request whose sender's channels are READY or FAILED. */
static void typing_answer(ws_conn_t *c, const ws_typing_t *t)
{
    if (!typing_allowed(c, t->channel_id)) {
        fail_param(c, t->seq, "user_typing", "channel_id");
        return;
    }
    typing_publish(c, t);
    ws_conn_reply_ok(c, t->seq, NULL);
}

static void user_typing(ws_conn_t *c, int64_t seq, json_t *data)
{
    const char *channel_id = json_string_value(json_object_get(data, "channel_id"));
    const char *parent_id = json_string_value(json_object_get(data, "parent_id"));
    if (channel_id == NULL || !id_is_valid(channel_id, strlen(channel_id))) {
        fail_param(c, seq, "user_typing", "channel_id");
        return;
    }
    ws_typing_t t = {.seq = seq};
    snprintf(t.channel_id, sizeof(t.channel_id), "%s", channel_id);
    if (parent_id != NULL && id_is_valid(parent_id, strlen(parent_id)))
        snprintf(t.parent_id, sizeof(t.parent_id), "%s", parent_id);
    ws_members_state_t state =
        ws_members_ready(c->hub, 'c', channel_id) ? WS_MEMBERS_READY : ws_members_get(c->hub, 'u', c->user_id);
    if (state == WS_MEMBERS_LOADING) {
        t.waiting = true;
        c->typing = t;
        return;
    }
    typing_answer(c, &t);
    if (state == WS_MEMBERS_FAILED)
        ws_members_forget_failed(c->hub, 'u', c->user_id);
}

void ws_actions_user_channels_loaded(ws_hub_t *hub, const char *user_id)
{
    h2o_linklist_t *next;
    for (h2o_linklist_t *l = hub->conns.next; l != &hub->conns; l = next) {
        next = l->next;
        ws_conn_t *c = H2O_STRUCT_FROM_MEMBER(ws_conn_t, link, l);
        if (!c->typing.waiting || strcmp(c->user_id, user_id) != 0)
            continue;
        c->typing.waiting = false;
        if (!c->closing)
            typing_answer(c, &c->typing);
        ws_conn_flush(c); /* may free c */
    }
}

static const char *status_of(ws_hub_t *hub, const char *user_id, shm_presence_t *p)
{
    shm_cache_t *presence = shm_region_presence(hub->worker->params->shm);
    return presence != NULL && shm_cache_get(presence, user_id, p) && p->status[0] != '\0' ? p->status : "offline";
}

static void get_statuses_by_ids(ws_conn_t *c, int64_t seq, json_t *data)
{
    json_t *ids = json_object_get(data, "user_ids");
    if (!json_is_array(ids) || json_array_size(ids) == 0 || json_array_size(ids) > WS_STATUS_IDS_MAX) {
        fail_param(c, seq, "get_statuses_by_ids", "user_ids");
        return;
    }
    json_t *out = json_object(), *v;
    size_t i;
    json_array_foreach(ids, i, v)
    {
        const char *id = json_string_value(v);
        if (id == NULL || !id_is_valid(id, strlen(id))) {
            json_decref(out);
            fail_param(c, seq, "get_statuses_by_ids", "user_ids");
            return;
        }
        shm_presence_t p;
        json_object_set_new(out, id, json_string(status_of(c->hub, id, &p)));
    }
    ws_conn_reply_ok(c, seq, out);
}

/* Every status the node's presence cache holds (Mattermost answers from its
 * status cache too), the caller's always, at most WS_STATUSES_MAX: the
 * reply of one request stays bounded whatever the cache size. */
#define WS_STATUSES_MAX 10000

static void add_status(const char *key, const void *value, void *arg)
{
    const shm_presence_t *p = value;
    if (p->status[0] != '\0' && id_is_valid(key, strlen(key)))
        json_object_set_new(arg, key, json_string(p->status));
}

static void get_statuses(ws_conn_t *c, int64_t seq)
{
    shm_presence_t p;
    json_t *out = json_object();
    shm_cache_t *presence = shm_region_presence(c->hub->worker->params->shm);
    if (out == NULL) {
        ws_conn_reply_fail(c, seq, "api.websocket_handler.server_busy.app_error", "Server busy.", 500);
        return;
    }
    if (presence != NULL && shm_cache_foreach(presence, WS_STATUSES_MAX - 1, add_status, out) < 0)
        log_warn(ENOMEM, "get_statuses: the presence cache cannot be listed");
    json_object_set_new(out, c->user_id, json_string(status_of(c->hub, c->user_id, &p)));
    ws_conn_reply_ok(c, seq, out);
}

/* The web app names the channel, team or thread on screen.  Mattermost keeps
 * them on the connection for what it alone does with them (push
 * notifications skipped for the channel being read, plugin hooks) and answers
 * OK whatever the data holds; chorus has no such reader, so it keeps nothing
 * (no bytes per socket for it) and answers the same OK. */
static void presence(ws_conn_t *c, int64_t seq)
{
    ws_conn_reply_ok(c, seq, NULL);
}

/* The client acknowledges a `posted` event it was notified of (post_id,
 * status, reason...).  Mattermost only counts these in its metrics, and
 * answers OK to any data. */
static void posted_notify_ack(ws_conn_t *c, int64_t seq)
{
    ws_conn_reply_ok(c, seq, NULL);
}

void ws_action_dispatch(ws_conn_t *c, const char *action, int64_t seq, json_t *data)
{
    if (strcmp(action, "ping") == 0)
        ping(c, seq);
    else if (strcmp(action, "user_typing") == 0)
        user_typing(c, seq, data);
    else if (strcmp(action, "get_statuses") == 0)
        get_statuses(c, seq);
    else if (strcmp(action, "get_statuses_by_ids") == 0)
        get_statuses_by_ids(c, seq, data);
    else if (strcmp(action, "user_update_active_status") == 0)
        update_active_status(c, seq, data);
    else if (strcmp(action, "presence") == 0)
        presence(c, seq);
    else if (strcmp(action, "posted_notify_ack") == 0)
        posted_notify_ack(c, seq);
    else
        ws_conn_reply_fail(c, seq, "api.web_socket_router.bad_action.app_error", "We could not find the action.", 500);
}
