/* Putting an event record (core/events.h) on the node's ring: encode it, then
 * append it and wake every consumer (`efds` as for shm_ring_publish).  Each
 * returns 0 or a negative error (the encoder's or the ring's). */
#ifndef CHORUS_SHM_EVENTS_PUBLISH_H
#define CHORUS_SHM_EVENTS_PUBLISH_H

#include "core/events.h"
#include "shm/ring.h"

/* An already encoded record. */
int events_publish(shm_ring_t *ring, const int *efds, event_type_t type, const event_buf_t *buf);

int events_publish_status_changed(shm_ring_t *ring, const int *efds, const event_status_changed_t *ev);
int events_publish_session_revoked(shm_ring_t *ring, const int *efds, const event_session_revoked_t *ev);
int events_publish_user_sessions_revoked(shm_ring_t *ring, const int *efds, const event_user_sessions_revoked_t *ev);
int events_publish_user_changed(shm_ring_t *ring, const int *efds, const event_user_changed_t *ev);
int events_publish_members_changed(shm_ring_t *ring, const int *efds, const event_members_changed_t *ev);
int events_publish_config_reload(shm_ring_t *ring, const int *efds, const event_config_reload_t *ev);
int events_publish_replay_request(shm_ring_t *ring, const int *efds, const event_replay_request_t *ev);
/* These encode into a heap buffer (EVENT_WS_ENCODED_MAX), freed before returning. */
int events_publish_config_saved(shm_ring_t *ring, const int *efds, const event_config_saved_t *ev);
int events_publish_ws_event(shm_ring_t *ring, const int *efds, const event_ws_event_t *ev);
int events_publish_replay_answer(shm_ring_t *ring, const int *efds, const event_replay_answer_t *ev);

#endif
