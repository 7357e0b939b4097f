/*
 * Event records onto the ring (events_publish.h).  Small records encode
 * into an event_buf_t on the stack; the large ones (a WebSocket event, a
 * saved config, a replay answer) into one heap buffer of the largest record
 * size, so no caller's stack carries tens of kilobytes.
 */
#include "shm/events_publish.h"

#include <errno.h>
#include <stdlib.h>

_Static_assert(EVENT_RECORD_MAX <= SHM_RING_RECORD_MAX, "every event record fits one ring record");

int events_publish(shm_ring_t *ring, const int *efds, event_type_t type, const event_buf_t *buf)
{
    uint64_t seq;
    return shm_ring_publish(ring, efds, (uint16_t)type, buf->data, buf->len, &seq);
}

/* Publishes what an encoder left in `buf` (when it returned `rc` 0). */
static int publish_small(shm_ring_t *ring, const int *efds, event_type_t type, int rc, const event_buf_t *buf)
{
    return rc != 0 ? rc : events_publish(ring, efds, type, buf);
}

int events_publish_status_changed(shm_ring_t *ring, const int *efds, const event_status_changed_t *ev)
{
    event_buf_t buf;
    return publish_small(ring, efds, EVENT_STATUS_CHANGED, event_encode_status_changed(ev, &buf), &buf);
}

int events_publish_session_revoked(shm_ring_t *ring, const int *efds, const event_session_revoked_t *ev)
{
    event_buf_t buf;
    return publish_small(ring, efds, EVENT_SESSION_REVOKED, event_encode_session_revoked(ev, &buf), &buf);
}

int events_publish_user_sessions_revoked(shm_ring_t *ring, const int *efds, const event_user_sessions_revoked_t *ev)
{
    event_buf_t buf;
    return publish_small(ring, efds, EVENT_USER_SESSIONS_REVOKED, event_encode_user_sessions_revoked(ev, &buf), &buf);
}

int events_publish_user_changed(shm_ring_t *ring, const int *efds, const event_user_changed_t *ev)
{
    event_buf_t buf;
    return publish_small(ring, efds, EVENT_USER_CHANGED, event_encode_user_changed(ev, &buf), &buf);
}

int events_publish_members_changed(shm_ring_t *ring, const int *efds, const event_members_changed_t *ev)
{
    event_buf_t buf;
    return publish_small(ring, efds, EVENT_MEMBERS_CHANGED, event_encode_members_changed(ev, &buf), &buf);
}

int events_publish_config_reload(shm_ring_t *ring, const int *efds, const event_config_reload_t *ev)
{
    event_buf_t buf;
    return publish_small(ring, efds, EVENT_CONFIG_RELOAD, event_encode_config_reload(ev, &buf), &buf);
}

int events_publish_replay_request(shm_ring_t *ring, const int *efds, const event_replay_request_t *ev)
{
    event_buf_t buf;
    return publish_small(ring, efds, EVENT_REPLAY_REQUEST, event_encode_replay_request(ev, &buf), &buf);
}

/* Publishes what an encoder left in `buf` (*len bytes, when it returned `rc`
 * 0), then frees `buf`. */
static int publish_large(shm_ring_t *ring, const int *efds, event_type_t type, uint8_t *buf, int rc, const size_t *len)
{
    uint64_t seq;
    if (rc == 0)
        rc = shm_ring_publish(ring, efds, (uint16_t)type, buf, *len, &seq);
    free(buf);
    return rc;
}

int events_publish_config_saved(shm_ring_t *ring, const int *efds, const event_config_saved_t *ev)
{
    uint8_t *buf = malloc(EVENT_WS_ENCODED_MAX);
    size_t len = 0;
    if (buf == NULL)
        return -ENOMEM;
    return publish_large(ring, efds, EVENT_CONFIG_SAVED, buf,
                         event_encode_config_saved(ev, buf, EVENT_WS_ENCODED_MAX, &len), &len);
}

int events_publish_ws_event(shm_ring_t *ring, const int *efds, const event_ws_event_t *ev)
{
    uint8_t *buf = malloc(EVENT_WS_ENCODED_MAX);
    size_t len = 0;
    if (buf == NULL)
        return -ENOMEM;
    return publish_large(ring, efds, EVENT_WS_EVENT, buf, event_encode_ws_event(ev, buf, EVENT_WS_ENCODED_MAX, &len),
                         &len);
}

int events_publish_replay_answer(shm_ring_t *ring, const int *efds, const event_replay_answer_t *ev)
{
    uint8_t *buf = malloc(EVENT_WS_ENCODED_MAX);
    size_t len = 0;
    if (buf == NULL)
        return -ENOMEM;
    return publish_large(ring, efds, EVENT_REPLAY_ANSWER, buf,
                         event_encode_replay_answer(ev, buf, EVENT_WS_ENCODED_MAX, &len), &len);
}
