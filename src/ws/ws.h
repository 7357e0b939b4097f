/*
 * WebSockets: GET /api/v4/websocket as Mattermost serves it, and the events
 * the REST handlers publish for it.  Every event goes through the shm ring
 * (EVENT_WS_EVENT), and every worker, the publisher included, delivers it
 * in ring order to its own sockets.
 */
#ifndef CHORUS_WS_WS_H
#define CHORUS_WS_WS_H

#include <jansson.h>
#include <stddef.h>

#include "h2o.h"

#include "core/events.h"
#include "worker/worker.h"

/* Who gets an event (Mattermost's WebsocketBroadcast); NULL or "" = unset. */
typedef struct {
    const char *user_id;
    const char *channel_id;
    const char *team_id;
    const char *connection_id;
    const char *omit_connection_id;
    const char *const *omit_users; /* n_omit_users ids */
    size_t n_omit_users;
} ws_broadcast_t;

int ws_init(worker_t *w);
void ws_dispose(worker_t *w);

typedef enum {
    WS_UPGRADE_OK,            /* switching protocols: the socket is ours */
    WS_UPGRADE_NOT_WEBSOCKET, /* not a WebSocket handshake (or not HTTP/1.1 GET) */
    WS_UPGRADE_BUSY,          /* draining, or out of memory */
    WS_UPGRADE_FORBIDDEN,     /* an Origin the config does not allow (ws/origin.h) */
} ws_upgrade_result_t;

/* Upgrades a request for /api/v4/websocket.  Only WS_UPGRADE_OK answers it;
 * the caller answers the others (HTTP errors are the API's to shape). */
ws_upgrade_result_t ws_handle_upgrade(worker_t *w, h2o_req_t *req);
/* True when `path` is /api/v4/websocket (trailing slash allowed). */
bool ws_is_websocket_path(h2o_iovec_t path);

/* Closes every WebSocket with 1001 (going away) and refuses new ones. */
void ws_start_drain(worker_t *w);
/* Open WebSockets of this worker. */
unsigned ws_count(const worker_t *w);

/* Publishes `event` with `data` (a JSON object, borrowed) to the ring.
 * 0 or a negative error (logged). */
int ws_publish(worker_t *w, const char *event, json_t *data, const ws_broadcast_t *b);
/* Tells every worker that a channel's or a team's members changed. */
int ws_publish_members_changed(worker_t *w, const char *channel_id, const char *team_id);

/* A ring record (ring_consumer.c), at `pos` with seq `seq` in our ring. */
void ws_on_ring_record(worker_t *w, const event_record_t *r, uint64_t pos, uint64_t seq);
/* Records were lost: forget every cached membership. */
void ws_on_ring_overrun(worker_t *w);

#endif
