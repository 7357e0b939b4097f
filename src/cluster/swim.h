/*
 * SWIM membership with Lifeguard's refinements, as a pure state machine:
 * no sockets, no clock, no allocation after creation.  The cluster child
 * feeds it UDP payloads (already unsealed, see seal.h) and the time, and it
 * answers through callbacks: "send these bytes to that member", "this member
 * changed".  That is what lets tests/unit/cluster/test_swim.c run a whole
 * cluster over a simulated network, with losses and pauses, in milliseconds.
 *
 * Protocol (memberlist's, see ../shared/reference/mattermost-wire.md §E):
 * every probe interval the next member in a shuffled round-robin is pinged;
 * no ack within the probe timeout → ping-req through `indirect_checks` other
 * members; no ack by the end of the interval → suspect.  A suspect becomes
 * dead when its suspicion timeout runs out; the timeout starts at
 * suspicion_max_timeout_mult × min and shrinks toward min as independent
 * suspicions from other members arrive (Lifeguard), min being
 * suspicion_mult × max(1, log10(n)) × probe_interval.  A member that hears
 * itself suspected or declared dead refutes with a higher incarnation.
 * Lifeguard's local health: a member that misses acks itself (its own loop is
 * slow) raises its awareness score, which stretches its probe timeout, so a
 * paused node does not accuse everyone else.
 * State changes (alive, suspect, dead, with incarnations and meta) are
 * piggybacked on every packet and retransmitted retransmit_mult × log(n+1)
 * times.  Full state (push-pull) is exchanged by the caller over TCP (the
 * streaming links) with swim_encode_state / swim_merge_state.
 */
#ifndef CHORUS_CLUSTER_SWIM_H
#define CHORUS_CLUSTER_SWIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/id.h"

#define SWIM_MEMBERS_MAX 64
#define SWIM_HOST_MAX    255 /* a DNS name or an IP literal */
#define SWIM_META_MAX    512 /* opaque node metadata (cluster/node_meta.h encodes it) */
#define SWIM_PACKET_MAX  65000
/* The largest push-pull state (a full table with the longest hosts and
 * meta); swim_merge_state refuses anything larger. */
#define SWIM_STATE_MAX 52224

typedef enum { SWIM_ALIVE = 0, SWIM_SUSPECT = 1, SWIM_DEAD = 2, SWIM_LEFT = 3 } swim_state_t;

typedef struct {
    char id[ID_LENGTH + 1];
    char host[SWIM_HOST_MAX + 1];
    uint16_t port; /* UDP gossip port */
    uint32_t incarnation;
    swim_state_t state;
    int64_t state_since_ms; /* caller's clock when it entered `state` */
    int64_t last_ack_ms;    /* last direct or indirect ack, 0 = never */
    uint8_t meta[SWIM_META_MAX];
    size_t meta_len;
    bool is_self;
} swim_member_t;

typedef struct {
    int64_t probe_interval_ms;           /* 200 */
    int64_t probe_timeout_ms;            /* 100 */
    unsigned indirect_checks;            /* 3 */
    unsigned suspicion_mult;             /* 3 */
    unsigned suspicion_max_timeout_mult; /* 6 */
    unsigned awareness_max;              /* 8 */
    int64_t gossip_interval_ms;          /* 100 */
    unsigned gossip_nodes;               /* 3 */
    unsigned retransmit_mult;            /* 4 */
    size_t packet_max;                   /* 1400: no packet built is larger */
} swim_options_t;

/* The defaults above; they declare a SIGKILLed node dead in about 1 s on a LAN
 * and let a node paused for 300 ms keep its membership. */
void swim_options_default(swim_options_t *options);

typedef struct {
    void *ctx;
    /* Sends one packet to a member's host:port (UDP, best effort). */
    void (*send)(void *ctx, const char *host, uint16_t port, const uint8_t *data, size_t len);
    /* A member appeared, changed state, incarnation or meta (`previous` is its
     * earlier state; SWIM_DEAD for one never seen before). */
    void (*on_change)(void *ctx, const swim_member_t *member, swim_state_t previous);
} swim_callbacks_t;

typedef struct swim_s swim_t;

/* `self` gives our id, host, port and meta (state and incarnation ignored).
 * 0, -EINVAL (bad options or self) or -ENOMEM. */
int swim_create(swim_t **out, const swim_options_t *options, const swim_member_t *self,
                const swim_callbacks_t *callbacks, int64_t now_ms);
void swim_destroy(swim_t *swim);

/* Runs whatever is due at `now_ms` (probes, timeouts, gossip). */
void swim_tick(swim_t *swim, int64_t now_ms);
/* When swim_tick next has something to do. */
int64_t swim_next_deadline(const swim_t *swim);

/* One received packet.  0, or a negative error (malformed, oversize, from
 * ourselves): the caller counts it and drops the packet; nothing changes. */
int swim_receive(swim_t *swim, const uint8_t *data, size_t len, int64_t now_ms);

/* A hint from outside (the streaming link to it broke): probe it now. */
void swim_probe_now(swim_t *swim, const char *id, int64_t now_ms);

/* Our meta changed (e.g. after a reload): new incarnation, gossiped. */
int swim_set_meta(swim_t *swim, const uint8_t *meta, size_t len, int64_t now_ms);

/* Clean stop: tells the others we left (they mark us SWIM_LEFT, not dead). */
void swim_leave(swim_t *swim, int64_t now_ms);

/* Full state for a push-pull: every member, its state, incarnation, address
 * and meta.  Writes at most `cap` bytes; 0 and *len, or -EMSGSIZE. */
int swim_encode_state(const swim_t *swim, uint8_t *out, size_t cap, size_t *len);
/* Merges a peer's full state as memberlist does (remote dead counts as
 * suspect; never overrides what we know with an older incarnation).
 * 0 or a negative error (nothing merged). */
int swim_merge_state(swim_t *swim, const uint8_t *data, size_t len, int64_t now_ms);

/* Members, ourselves included (index 0).  Stable until the next call that
 * takes `now_ms`.  Dead and left members stay until the table is full; then
 * the one dead or left the longest makes room for a newcomer. */
size_t swim_member_count(const swim_t *swim);
const swim_member_t *swim_member_at(const swim_t *swim, size_t index);
const swim_member_t *swim_member_find(const swim_t *swim, const char *id);

typedef struct {
    uint64_t packets_in, packets_out, malformed, probes, indirect_probes, suspicions, refutations;
    unsigned awareness; /* Lifeguard's local health score, 0 = healthy */
} swim_stats_t;
void swim_get_stats(const swim_t *swim, swim_stats_t *stats);

#endif
