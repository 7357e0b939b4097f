/*
 * tests/fuzz/link_wire.c - a streaming link's input as src/cluster/link.c
 * reads it: bytes arriving in chunks into the frame reader (cluster/frame.c),
 * each whole frame decoded by link_wire.c (after the envelope: seal.c is
 * fuzzed on its own), a hello's config digests, a push-pull state through
 * swim_wire.c and an event's record through its events.c decoder, as
 * cluster/inbound.c does.  The first byte picks the frame limit, the second
 * the chunk size.  Checked against a plain reading of the same stream: the
 * reader hands out exactly its frames, in order, refuses a zero or oversized
 * length where the stream has it, and always has room when no frame waits.
 */
#include <errno.h>
#include <msgpack.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/frame.h"
#include "cluster/link_wire.h"
#include "cluster/swim_wire.h"
#include "core/events.h"

static const size_t limits[] = {1, 16, 1024, 65536, 300000};

static msgpack_zone zone;
static bool zone_ready;
static swim_msg_t entries[SWIM_MEMBERS_MAX];

static void decode_record(uint16_t type, const uint8_t *p, size_t len)
{
    static union {
        event_status_changed_t status_changed;
        event_session_revoked_t session_revoked;
        event_user_sessions_revoked_t user_sessions_revoked;
        event_ws_event_t ws_event;
        event_members_changed_t members_changed;
        event_config_reload_t config_reload;
        event_config_saved_t config_saved;
        event_replay_request_t replay_request;
        event_replay_answer_t replay_answer;
    } ev;
    switch (type) {
    case EVENT_STATUS_CHANGED: (void)event_decode_status_changed(p, len, &ev.status_changed); break;
    case EVENT_SESSION_REVOKED: (void)event_decode_session_revoked(p, len, &ev.session_revoked); break;
    case EVENT_USER_SESSIONS_REVOKED:
        (void)event_decode_user_sessions_revoked(p, len, &ev.user_sessions_revoked);
        break;
    case EVENT_WS_EVENT: (void)event_decode_ws_event(p, len, &ev.ws_event); break;
    case EVENT_MEMBERS_CHANGED: (void)event_decode_members_changed(p, len, &ev.members_changed); break;
    case EVENT_CONFIG_RELOAD: (void)event_decode_config_reload(p, len, &ev.config_reload); break;
    case EVENT_CONFIG_SAVED: (void)event_decode_config_saved(p, len, &ev.config_saved); break;
    case EVENT_REPLAY_REQUEST: (void)event_decode_replay_request(p, len, &ev.replay_request); break;
    case EVENT_REPLAY_ANSWER: (void)event_decode_replay_answer(p, len, &ev.replay_answer); break;
    default: break;
    }
}

static void on_frame(const uint8_t *p, size_t len)
{
    msgpack_unpacked u;
    link_wire_frame_t f;
    msgpack_unpacked_init(&u);
    int rc = link_wire_decode(&u, p, len, &f);
    if (rc == 0 && f.kind == LINK_WIRE_HELLO) {
        if (f.hello.digest.count > CONFIG_DIGEST_KEYS_MAX || strlen(f.hello.node_id) != ID_LENGTH)
            abort();
        char diff[256];
        (void)config_digest_diff(&f.hello.digest, &f.hello.digest, diff, sizeof(diff));
    } else if (rc == 0 && f.kind == LINK_WIRE_STATE) {
        char sender[ID_LENGTH + 1];
        size_t n;
        if (zone_ready || (zone_ready = swim_wire_zone_init(&zone))) {
            (void)swim_wire_decode_state(&zone, "aaaaaaaaaaaaaaaaaaaaaaaaaa", f.state.state, f.state.len, sender,
                                         entries, &n);
            msgpack_zone_clear(&zone);
        }
    } else if (rc == 0 && f.kind == LINK_WIRE_EVENT) {
        if (f.event.type > EVENT_TYPE_MASK)
            abort();
        decode_record(f.event.type, f.event.record, f.event.len);
    } else if (rc == 0) {
        abort(); /* 0 only for the kinds this node knows */
    }
    msgpack_unpacked_destroy(&u);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t max = limits[data[0] % (sizeof(limits) / sizeof(limits[0]))];
    size_t chunk = 1 + data[1];
    const uint8_t *s = data + 2;
    size_t len = size - 2, fed = 0, ref = 0; /* ref: where the next frame starts in s */
    /* one reader per limit, kept with the buffer it grew: a fresh one per
     * input would cost more than the parsing; emptied as a link's reader starts */
    static frame_reader_t readers[sizeof(limits) / sizeof(limits[0])];
    frame_reader_t *rp = &readers[data[0] % (sizeof(limits) / sizeof(limits[0]))];
    if (rp->limit == 0 && frame_reader_init(rp, max) != 0)
        return 0;
    rp->len = rp->consumed = rp->checked = 0;
    frame_reader_t r = *rp;
    while (fed < len) {
        size_t n = len - fed < chunk ? len - fed : chunk, taken;
        int rc = frame_reader_feed(&r, s + fed, n, &taken);
        if (taken > n)
            abort();
        fed += taken;
        if (rc != 0) {
            /* the plain reading must find that bad length among what was fed */
            size_t at = ref;
            while (at + 4 <= fed && be32(s + at) != 0 && be32(s + at) <= max)
                at += 4 + be32(s + at);
            if (at + 4 > fed || (rc == -EINVAL) != (be32(s + at) == 0))
                abort();
            break;
        }
        uint8_t *frame;
        size_t flen;
        bool any = false;
        while (frame_reader_next(&r, &frame, &flen) == 1) {
            if (ref + 4 > fed || be32(s + ref) != flen || ref + 4 + flen > fed || memcmp(frame, s + ref + 4, flen) != 0)
                abort();
            ref += 4 + flen;
            any = true;
            on_frame(frame, flen);
        }
        if (taken == 0 && !any)
            abort(); /* a reader with no whole frame always has room (link.c relies on it) */
    }
    *rp = r; /* keeps what the reader grew */
    return 0;
}
