/*
 * tests/fuzz/events.c - every ring record decoder of src/core/events.c, on a
 * record as the ring hands it to a consumer (src/worker/ring_consumer.c) or
 * as a peer sends it (src/cluster/inbound.c): the first byte picks the type
 * (bit 7: from the cluster, so the origin header is parsed first), the rest
 * is the record.  Checked: what decodes and encodes again decodes again, to
 * the same bytes (encoders and decoders agree).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/events.h"

static uint8_t enc1[EVENT_WS_ENCODED_MAX], enc2[EVENT_WS_ENCODED_MAX];

/* Decoded record `a` of a type with a small encoder: re-encoded twice through
 * a decode, both encodings the same. */
#define ROUND_TRIP_SMALL(type, a)                                                                           \
    do {                                                                                                    \
        static event_##type##_t b;                                                                          \
        event_buf_t e1, e2;                                                                                 \
        if (event_encode_##type(&(a), &e1) != 0)                                                            \
            break;                                                                                          \
        if (event_decode_##type(e1.data, e1.len, &b) != 0)                                                  \
            abort();                                                                                        \
        if (event_encode_##type(&b, &e2) != 0 || e1.len != e2.len || memcmp(e1.data, e2.data, e1.len) != 0) \
            abort();                                                                                        \
    } while (0)

#define ROUND_TRIP_LARGE(type, a)                                                                             \
    do {                                                                                                      \
        static event_##type##_t b;                                                                            \
        size_t l1, l2;                                                                                        \
        if (event_encode_##type(&(a), enc1, sizeof(enc1), &l1) != 0)                                          \
            break;                                                                                            \
        if (event_decode_##type(enc1, l1, &b) != 0)                                                           \
            abort();                                                                                          \
        if (event_encode_##type(&b, enc2, sizeof(enc2), &l2) != 0 || l1 != l2 || memcmp(enc1, enc2, l1) != 0) \
            abort();                                                                                          \
    } while (0)

#define CASE(kind, type, const_name)                         \
    case const_name: {                                       \
        static event_##type##_t a;                           \
        if (event_decode_##type(rec.data, rec.len, &a) == 0) \
            ROUND_TRIP_##kind(type, a);                      \
        break;                                               \
    }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint16_t raw_type = (uint16_t)(1 + (data[0] & 0x7f) % 10);
    if (data[0] & 0x80)
        raw_type |= EVENT_FROM_CLUSTER;
    event_record_t rec;
    if (event_record_parse(raw_type, data + 1, size - 1, 7, &rec) != 0)
        return 0;
    if (rec.len > size - 1 || (rec.len > 0 && (rec.data < data + 1 || rec.data + rec.len > data + size)))
        abort();
    (void)event_type_name(rec.type);
    switch (rec.type) {
        CASE(SMALL, status_changed, EVENT_STATUS_CHANGED)
        CASE(SMALL, session_revoked, EVENT_SESSION_REVOKED)
        CASE(SMALL, user_sessions_revoked, EVENT_USER_SESSIONS_REVOKED)
        CASE(LARGE, ws_event, EVENT_WS_EVENT)
        CASE(SMALL, members_changed, EVENT_MEMBERS_CHANGED)
        CASE(SMALL, config_reload, EVENT_CONFIG_RELOAD)
        CASE(LARGE, config_saved, EVENT_CONFIG_SAVED)
        CASE(SMALL, replay_request, EVENT_REPLAY_REQUEST)
        CASE(LARGE, replay_answer, EVENT_REPLAY_ANSWER)
        CASE(SMALL, user_changed, EVENT_USER_CHANGED)
    default: abort();
    }
    return 0;
}
