/*
 * The worker's end of the shm event ring.
 *
 * The master made one eventfd per consumer slot; ours becomes readable when
 * a producer has appended records.  h2o reads the eventfd counter away for
 * us (it read()s whatever it watches), and we then copy out every new record
 * with our private cursor.  Records are dispatched by type (core/events.h):
 * a revoked session or user leaves the shared session cache (idempotent: the
 * publisher usually removed it already, but a record from another node did
 * not); a changed user leaves the users cache (and, when its roles changed,
 * the session cache: sessions carry the roles) and, like a membership change,
 * the member counts of channel stats (worker/member_counts.h); WebSocket
 * events, status changes, membership changes and the revocations go to the
 * WebSocket hub (src/ws), which delivers them to this worker's sockets in
 * ring order.  A peer's role_updated makes the node's
 * roles copies stale (worker/roles.h: the patching node's worker did that
 * for its own).  A record that does not decode is logged and skipped.
 * An overrun means records were lost: the worker must then drop whatever
 * caches the lost records would have invalidated (the roles copies among
 * them), which it counts and logs.
 * A producer killed between publishing and writing the eventfds leaves a
 * record nobody was woken for: the worker's tick also polls the ring, so such
 * a record waits at most one tick.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/events.h"
#include "core/log.h"
#include "shm/sessions.h"
#include "worker/worker.h"
#include "ws/ws.h"

static void on_ring_overrun(worker_t *w)
{
    w->ring_overruns++;
    worker_roles_changed(w->params->shm);
    member_counts_forget_all(&w->member_counts);
    ws_on_ring_overrun(w);
    log_warn(0, "fell a full ring behind: resynchronised at seq %llu",
             (unsigned long long)shm_ring_head_seq(shm_region_ring(w->params->shm)));
}

static void dispatch_record(worker_t *w, uint16_t raw_type, const void *raw, size_t raw_len, uint64_t seq)
{
    shm_cache_t *sessions = shm_region_sessions(w->params->shm);
    /* a record from a peer node is handled as one of ours, without its origin header */
    event_record_t r;
    int rc = event_record_parse(raw_type, raw, raw_len, seq, &r);
    uint16_t type = r.type;
    const void *data = r.data;
    size_t len = r.len;
    w->ring_events++;
    log_debug("ring event seq %llu %s (%zu bytes)", (unsigned long long)seq, event_type_name(type), len);
    if (rc == 0)
        ws_on_ring_record(w, &r, w->ring_cursor.pos - shm_ring_record_size(raw_len), seq);
    switch (rc == 0 ? type : 0) {
    case EVENT_SESSION_REVOKED: {
        event_session_revoked_t ev;
        if ((rc = event_decode_session_revoked(data, len, &ev)) == 0)
            shm_cache_remove(sessions, ev.token);
        break;
    }
    case EVENT_USER_SESSIONS_REVOKED: {
        event_user_sessions_revoked_t ev;
        if ((rc = event_decode_user_sessions_revoked(data, len, &ev)) == 0)
            shm_sessions_remove_user(sessions, ev.user_id);
        break;
    }
    case EVENT_USER_CHANGED: {
        event_user_changed_t ev;
        if ((rc = event_decode_user_changed(data, len, &ev)) == 0) {
            shm_cache_remove(shm_region_users(w->params->shm), ev.user_id);
            member_counts_forget_all(&w->member_counts); /* (de)activation changes counts */
            if (ev.sessions)
                shm_sessions_remove_user(sessions, ev.user_id);
        }
        break;
    }
    case EVENT_WS_EVENT: {
        static event_ws_event_t ev; /* ~1 KB of omitted users: not on the stack */
        if (r.from_cluster && (rc = event_decode_ws_event(data, len, &ev)) == 0 &&
            strcmp(ev.event, "role_updated") == 0)
            worker_roles_changed(w->params->shm);
        break;
    }
    case EVENT_MEMBERS_CHANGED: {
        event_members_changed_t ev;
        if ((rc = event_decode_members_changed(data, len, &ev)) == 0) {
            if (ev.team_id[0] != '\0') /* leaving a team leaves its channels */
                member_counts_forget_all(&w->member_counts);
            else
                member_counts_forget(&w->member_counts, ev.channel_id);
        }
        break;
    }
    case EVENT_STATUS_CHANGED: {
        event_status_changed_t ev;
        if ((rc = event_decode_status_changed(data, len, &ev)) == 0)
            log_debug("status of %s: %s (manual %d)", ev.user_id, ev.status, ev.manual);
        break;
    }
    default: break; /* a type for other consumers, or from a newer node */
    }
    if (rc != 0) {
        log_warn(-rc, "ring event seq %llu (%s, %zu bytes) does not decode: skipped", (unsigned long long)seq,
                 event_type_name(type), len);
    }
}

void worker_ring_poll(worker_t *w)
{
    static uint8_t record[SHM_RING_RECORD_MAX];
    shm_ring_t *ring = shm_region_ring(w->params->shm);
    for (;;) {
        uint16_t type;
        size_t len;
        uint64_t seq;
        int rc = shm_ring_read(ring, &w->ring_cursor, &type, record, &len, &seq);
        if (rc == 1) {
            dispatch_record(w, type, record, len, seq);
        } else if (rc == SHM_RING_EOVERRUN) {
            on_ring_overrun(w);
        } else {
            if (rc < 0) {
                log_error(0, "event ring is corrupt (%d): resynchronising", rc);
                shm_ring_cursor_init(ring, &w->ring_cursor);
            }
            break;
        }
    }
}

static void on_ring_ready(h2o_socket_t *sock, const char *err)
{
    (void)err;
    h2o_buffer_consume(&sock->input, sock->input->size);
    worker_ring_poll(sock->data);
}

int worker_ring_start(worker_t *w)
{
    int efd = w->params->ring_eventfds[w->params->ring_slot];
    shm_ring_cursor_init(shm_region_ring(w->params->shm), &w->ring_cursor);
    w->ring_watch = h2o_evloop_socket_create(w->loop, efd, 0);
    if (w->ring_watch == NULL) {
        log_error(0, "cannot watch the event ring's eventfd");
        return -EIO;
    }
    w->ring_watch->data = w;
    h2o_socket_read_start(w->ring_watch, on_ring_ready);
    return 0;
}

void worker_ring_stop(worker_t *w)
{
    if (w->ring_watch != NULL)
        h2o_socket_read_stop(w->ring_watch);
}
