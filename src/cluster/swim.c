/*
 * SWIM + Lifeguard membership as a pure state machine (see swim.h).
 *
 * What this file owns: the member table (slot 0 is ourselves, at most
 * SWIM_MEMBERS_MAX slots, dead and left members kept so the caller can show
 * "unreachable since"), one probe in flight, a few relayed probes (ping-req),
 * one pending broadcast per member, and which messages go to whom.  How a
 * message looks in bytes, and the checks on what peers send, are the wire
 * format's (swim_wire.c); this file only sees swim_msg_t.  Everything is in
 * the swim_t allocated by swim_create, including the packet being built and
 * the msgpack-c zone that decoding uses, which swim_wire_zone_init sizes so
 * that the largest accepted input fits; msgpack_zone_clear keeps its chunk,
 * so nothing is allocated after creation.
 *
 * A received packet or push-pull state is decoded and checked whole before
 * any of its messages is applied, so it is either applied whole or refused
 * without a trace.  The first message of a packet is the reason it was sent
 * (ping, ack...); the rest of the room is filled with pending broadcasts.
 *
 * Lifeguard's three refinements are here: suspicion timeouts that shrink as
 * independent confirmations arrive; local health (awareness) that stretches
 * our probe timing when we are the slow one; and nacks from the members that
 * relay an indirect probe, so a failed probe only counts against our own
 * health when the relays did not answer either.
 */
#include "cluster/swim.h"
#include "cluster/swim_wire.h"

#include <errno.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#define SWIM_RELAYS_MAX 32
#define SWIM_PACKET_MIN 1024 /* a full-size alive must fit in a packet of its own */
/* Dead and left members still get gossip for this many probe intervals, so
 * that a node wrongly declared dead (a partition) hears it and refutes
 * (memberlist's GossipToTheDeadTime: 30 s at a 1 s probe interval). */
#define SWIM_GOSSIP_TO_DEAD_INTERVALS 30

_Static_assert(SWIM_MEMBERS_MAX <= 64, "suspicion confirmers are a 64-bit mask of slots");

/* What the table keeps per member beside the public swim_member_t. */
typedef struct {
    /* suspicion (Lifeguard) */
    int64_t suspect_start, suspect_min, suspect_max;
    unsigned suspect_k, confirmations;
    uint64_t confirmers; /* slots that already suspected it */
    /* the one pending broadcast about this member */
    bool bcast;
    swim_msg_type_t bcast_type;
    uint32_t bcast_inc;
    char bcast_from[ID_LENGTH + 1];
    unsigned bcast_sent;
    uint64_t bcast_order; /* larger = newer */
    uint64_t bcast_told;  /* slots it was sent to */
} swim_peer_t;

typedef struct {
    bool active, indirect_sent;
    size_t slot;
    char id[ID_LENGTH + 1];
    uint32_t seq;
    int64_t start, indirect_at, end;
    unsigned expected_nacks, nacks;
} swim_probe_t;

/* A probe we run for another member (it sent us a ping-req). */
typedef struct {
    bool active;
    uint32_t our_seq, their_seq;
    int64_t nack_at;
    char reply_host[SWIM_HOST_MAX + 1];
    uint16_t reply_port;
} swim_relay_t;

struct swim_s {
    swim_options_t opt;
    swim_callbacks_t cb;
    swim_member_t members[SWIM_MEMBERS_MAX];
    swim_peer_t peers[SWIM_MEMBERS_MAX];
    size_t count;
    bool left;

    swim_probe_t probe;
    int64_t next_probe, next_gossip;
    size_t order[SWIM_MEMBERS_MAX], order_len, order_pos;
    int pending_probe; /* slot asked for by swim_probe_now, or -1 */
    swim_relay_t relays[SWIM_RELAYS_MAX];

    uint32_t seq;
    uint64_t rng, bcast_counter;
    swim_stats_t stats;

    swim_wire_packet_t tx; /* the packet being built */

    /* decoding: the objects of the input, then its messages */
    msgpack_zone zone;
    swim_msg_t msgs[SWIM_MSGS_MAX];
};

/* ---- small helpers ------------------------------------------------------------------ */

static uint64_t swim_random(swim_t *swim)
{
    /* xorshift64*: the state machine must not read the clock or /dev/urandom
     * (tests replay a cluster from a seed) */
    uint64_t x = swim->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    swim->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static size_t swim_random_below(swim_t *swim, size_t n)
{
    return n == 0 ? 0 : (size_t)(swim_random(swim) % n);
}

/* Natural logarithm for x >= 1 without libm (which chorus does not link):
 * x = m * 2^e, ln m = 2 atanh((m - 1) / (m + 1)), a series that converges
 * fast for m in [1, 2). */
static double swim_ln(double x)
{
    int e = 0;
    while (x >= 2.0) {
        x /= 2.0;
        e++;
    }
    double y = (x - 1.0) / (x + 1.0), y2 = y * y, term = y, sum = 0.0;
    for (int i = 1; i < 40; i += 2) {
        sum += term / i;
        term *= y2;
    }
    return e * 0.69314718055994530942 + 2.0 * sum;
}

static bool swim_gone(swim_state_t state)
{
    return state == SWIM_DEAD || state == SWIM_LEFT;
}

static int swim_find(const swim_t *swim, const char *id)
{
    for (size_t i = 0; i < swim->count; i++)
        if (strcmp(swim->members[i].id, id) == 0)
            return (int)i;
    return -1;
}

/* Members not dead or left, ourselves included. */
static size_t swim_live_count(const swim_t *swim)
{
    size_t n = 0;
    for (size_t i = 0; i < swim->count; i++)
        n += !swim_gone(swim->members[i].state);
    return n;
}

static void swim_copy_str(char *dst, const char *src, size_t len)
{
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static void swim_notify(swim_t *swim, size_t slot, swim_state_t previous)
{
    if (swim->cb.on_change != NULL)
        swim->cb.on_change(swim->cb.ctx, &swim->members[slot], previous);
}

static void swim_set_state(swim_t *swim, size_t slot, swim_state_t state, int64_t now)
{
    swim_member_t *m = &swim->members[slot];
    if (m->state != state)
        m->state_since_ms = now;
    m->state = state;
}

static void swim_awareness(swim_t *swim, int delta)
{
    int a = (int)swim->stats.awareness + delta;
    if (a < 0)
        a = 0;
    if (a > (int)swim->opt.awareness_max)
        a = (int)swim->opt.awareness_max;
    swim->stats.awareness = (unsigned)a;
}

/* ---- broadcasts ---------------------------------------------------------------------- */

/* Queues a state change about `slot`, replacing any older one about it. */
static void swim_broadcast(swim_t *swim, size_t slot, swim_msg_type_t type, uint32_t inc, const char *from)
{
    swim_peer_t *p = &swim->peers[slot];
    p->bcast = true;
    p->bcast_type = type;
    p->bcast_inc = inc;
    swim_copy_str(p->bcast_from, from != NULL ? from : "", from != NULL ? strlen(from) : 0);
    p->bcast_sent = 0;
    p->bcast_order = ++swim->bcast_counter;
    p->bcast_told = 0;
}

/* memberlist's retransmitLimit: mult × ceil(log10(n + 1)). */
static unsigned swim_retransmit_limit(const swim_t *swim)
{
    unsigned digits = 0;
    for (size_t n = swim->count; n > 0; n /= 10)
        digits++;
    /* ceil(log10(n + 1)) is the number of decimal digits of n */
    return swim->opt.retransmit_mult * (digits == 0 ? 1 : digits);
}

static bool swim_any_broadcast(const swim_t *swim)
{
    for (size_t i = 0; i < swim->count; i++)
        if (swim->peers[i].bcast)
            return true;
    return false;
}

static void swim_broadcast_msg(const swim_t *swim, size_t slot, swim_msg_t *msg)
{
    const swim_member_t *m = &swim->members[slot];
    const swim_peer_t *p = &swim->peers[slot];
    *msg = (swim_msg_t){.type = p->bcast_type, .num = p->bcast_inc};
    memcpy(msg->id, m->id, sizeof(msg->id));
    memcpy(msg->from, p->bcast_from, sizeof(msg->from));
    if (p->bcast_type == MSG_ALIVE) {
        msg->host = m->host;
        msg->host_len = strlen(m->host);
        msg->port = m->port;
        msg->meta = m->meta;
        msg->meta_len = m->meta_len;
    }
}

/* ---- sending packets ------------------------------------------------------------------- */

/* The broadcast to piggyback next: least transmitted first, then newest. */
static int swim_pick_broadcast(const swim_t *swim, uint64_t tried)
{
    int best = -1;
    for (size_t i = 0; i < swim->count; i++) {
        const swim_peer_t *p = &swim->peers[i];
        if (!p->bcast || (tried >> i & 1))
            continue;
        const swim_peer_t *b = best < 0 ? NULL : &swim->peers[best];
        if (b == NULL || p->bcast_sent < b->bcast_sent ||
            (p->bcast_sent == b->bcast_sent && p->bcast_order > b->bcast_order))
            best = (int)i;
    }
    return best;
}

static int swim_find_addr(const swim_t *swim, const char *host, uint16_t port)
{
    for (size_t i = 1; i < swim->count; i++)
        if (swim->members[i].port == port && strcmp(swim->members[i].host, host) == 0)
            return (int)i;
    return -1;
}

/* Whether a broadcast about `slot` is worth sending to `dest` (-1: an address
 * not in the table).  Each transmission goes to a member that has not had
 * it yet (an epidemic spreads by new contacts; memberlist may send one twice
 * to the same member and so, in a small cluster, miss one), and an alive is
 * not news to the member it is about. */
static bool swim_worth_sending(const swim_t *swim, size_t slot, int dest)
{
    const swim_peer_t *p = &swim->peers[slot];
    if (dest < 0)
        return true;
    return !(p->bcast_told >> dest & 1) && !((size_t)dest == slot && p->bcast_type == MSG_ALIVE);
}

/* Fills the rest of the packet to host:port with pending broadcasts. */
static void swim_piggyback(swim_t *swim, const char *host, uint16_t port)
{
    unsigned limit = swim_retransmit_limit(swim);
    int dest = swim_find_addr(swim, host, port);
    uint64_t tried = 0;
    int slot;
    while ((slot = swim_pick_broadcast(swim, tried)) >= 0) {
        swim_peer_t *p = &swim->peers[slot];
        swim_msg_t msg;
        tried |= (uint64_t)1 << slot;
        if (!swim_worth_sending(swim, (size_t)slot, dest))
            continue;
        swim_broadcast_msg(swim, (size_t)slot, &msg);
        if (swim_wire_packet_add(&swim->tx, &msg) != 0)
            continue; /* a smaller one may still fit */
        if (dest >= 0)
            p->bcast_told |= (uint64_t)1 << dest;
        if (++p->bcast_sent >= limit)
            p->bcast = false;
    }
}

/* Finishes the packet being built and hands it over. */
static void swim_packet_send(swim_t *swim, const char *host, uint16_t port)
{
    const uint8_t *data;
    size_t len;
    if (swim_wire_packet_finish(&swim->tx, swim->members[0].id, &data, &len) != 0)
        return; /* cannot happen: room for the largest header is kept */
    swim->stats.packets_out++;
    swim->cb.send(swim->cb.ctx, host, port, data, len);
}

static void swim_send_one(swim_t *swim, const swim_msg_t *msg, const char *host, uint16_t port)
{
    swim_wire_packet_begin(&swim->tx, swim->opt.packet_max);
    if (swim_wire_packet_add(&swim->tx, msg) != 0)
        return; /* a primary message always fits in SWIM_PACKET_MIN */
    swim_piggyback(swim, host, port);
    swim_packet_send(swim, host, port);
}

static void swim_send_ping(swim_t *swim, uint32_t seq, const char *target, const char *host, uint16_t port)
{
    const swim_member_t *self = &swim->members[0];
    swim_msg_t msg = {.type = MSG_PING, .num = seq, .reply_host = self->host, .reply_port = self->port};
    msg.reply_host_len = strlen(self->host);
    memcpy(msg.id, target, sizeof(msg.id));
    swim_send_one(swim, &msg, host, port);
}

static void swim_send_seq(swim_t *swim, swim_msg_type_t type, uint32_t seq, const char *host, uint16_t port)
{
    swim_msg_t msg = {.type = type, .num = seq};
    swim_send_one(swim, &msg, host, port);
}

static void swim_send_ping_req(swim_t *swim, size_t via, const swim_member_t *target, uint32_t seq)
{
    const swim_member_t *self = &swim->members[0];
    swim_msg_t msg = {.type = MSG_PING_REQ, .num = seq, .host = target->host, .port = target->port};
    msg.host_len = strlen(target->host);
    msg.reply_host = self->host;
    msg.reply_host_len = strlen(self->host);
    msg.reply_port = self->port;
    memcpy(msg.id, target->id, sizeof(msg.id));
    swim_send_one(swim, &msg, swim->members[via].host, swim->members[via].port);
}

/* ---- the member table ------------------------------------------------------------------ */

/* A slot for a new member: a free one, else the oldest dead or left member. */
static int swim_slot_for_new(swim_t *swim)
{
    if (swim->count < SWIM_MEMBERS_MAX)
        return (int)swim->count++;
    int oldest = -1;
    for (size_t i = 1; i < swim->count; i++) {
        const swim_member_t *m = &swim->members[i];
        if (swim_gone(m->state) && (oldest < 0 || m->state_since_ms < swim->members[oldest].state_since_ms))
            oldest = (int)i;
    }
    if (oldest >= 0 && swim->probe.active && swim->probe.slot == (size_t)oldest)
        swim->probe.active = false;
    if (oldest >= 0 && swim->pending_probe == oldest)
        swim->pending_probe = -1;
    return oldest;
}

static void swim_set_address(swim_member_t *m, const swim_msg_t *msg)
{
    swim_copy_str(m->host, msg->host, msg->host_len);
    m->port = msg->port;
    memcpy(m->meta, msg->meta, msg->meta_len);
    m->meta_len = msg->meta_len;
}

static void swim_refute(swim_t *swim, uint32_t accused_inc)
{
    swim_member_t *self = &swim->members[0];
    uint32_t base = accused_inc > self->incarnation ? accused_inc : self->incarnation;
    if (swim->left || base == UINT32_MAX)
        return;
    self->incarnation = base + 1;
    swim_broadcast(swim, 0, MSG_ALIVE, self->incarnation, NULL);
    /* being suspected is a hint that we are the slow one (Lifeguard) */
    swim_awareness(swim, 1);
    swim->stats.refutations++;
    swim_notify(swim, 0, SWIM_ALIVE);
}

static void swim_on_alive_self(swim_t *swim, const swim_msg_t *msg)
{
    const swim_member_t *self = &swim->members[0];
    bool same = msg->host_len == strlen(self->host) && memcmp(msg->host, self->host, msg->host_len) == 0 &&
                msg->port == self->port && msg->meta_len == self->meta_len &&
                memcmp(msg->meta, self->meta, msg->meta_len) == 0;
    /* our own alive echoed back is fine; a newer or different claim to be us
     * (e.g. what others remember from before a restart) is refuted */
    if (msg->num > self->incarnation || (msg->num == self->incarnation && !same))
        swim_refute(swim, msg->num);
}

static void swim_on_alive(swim_t *swim, const swim_msg_t *msg, int64_t now)
{
    int slot = swim_find(swim, msg->id);
    if (slot == 0) {
        swim_on_alive_self(swim, msg);
        return;
    }
    swim_state_t previous = SWIM_DEAD;
    if (slot < 0) {
        if ((slot = swim_slot_for_new(swim)) < 0)
            return; /* full of live members */
        swim->members[slot] = (swim_member_t){.state = SWIM_DEAD};
        swim->peers[slot] = (swim_peer_t){0};
        swim_copy_str(swim->members[slot].id, msg->id, ID_LENGTH);
    } else if (msg->num <= swim->members[slot].incarnation) {
        return; /* old news; a dead member needs a newer incarnation to rejoin */
    } else {
        previous = swim->members[slot].state;
    }
    swim_member_t *m = &swim->members[slot];
    swim_set_address(m, msg);
    m->incarnation = msg->num;
    swim_set_state(swim, (size_t)slot, SWIM_ALIVE, now);
    swim_broadcast(swim, (size_t)slot, MSG_ALIVE, msg->num, NULL);
    swim_notify(swim, (size_t)slot, previous);
}

/* Lifeguard: min = suspicion_mult × max(1, log10 n) × probe interval,
 * max = suspicion_max_timeout_mult × min, and k confirmations expected. */
static void swim_suspicion_start(swim_t *swim, size_t slot, const char *from, int64_t now)
{
    swim_peer_t *p = &swim->peers[slot];
    size_t n = swim_live_count(swim);
    double scale = swim_ln((double)(n > 1 ? n : 1)) / swim_ln(10.0);
    int64_t scale_milli = scale > 1.0 ? (int64_t)(scale * 1000.0) : 1000;
    p->suspect_min = (int64_t)swim->opt.suspicion_mult * scale_milli * swim->opt.probe_interval_ms / 1000;
    p->suspect_max = (int64_t)swim->opt.suspicion_max_timeout_mult * p->suspect_min;
    /* the first accuser does not count, nor can the suspect confirm itself:
     * too few members to expect confirmations means none are expected */
    unsigned k = swim->opt.suspicion_mult > 2 ? swim->opt.suspicion_mult - 2 : 0;
    p->suspect_k = n < (size_t)k + 2 ? 0 : k;
    p->suspect_start = now;
    p->confirmations = 0;
    int accuser = swim_find(swim, from);
    p->confirmers = accuser >= 0 ? (uint64_t)1 << accuser : 0;
}

static int64_t swim_suspicion_deadline(const swim_t *swim, size_t slot)
{
    const swim_peer_t *p = &swim->peers[slot];
    if (p->suspect_k == 0 || p->confirmations >= p->suspect_k)
        return p->suspect_start + p->suspect_min;
    double frac = swim_ln(p->confirmations + 1.0) / swim_ln(p->suspect_k + 1.0);
    int64_t t = p->suspect_max - (int64_t)((double)(p->suspect_max - p->suspect_min) * frac);
    return p->suspect_start + (t > p->suspect_min ? t : p->suspect_min);
}

/* An independent accuser shrinks the timeout; true when it was new. */
static bool swim_suspicion_confirm(swim_t *swim, size_t slot, const char *from)
{
    swim_peer_t *p = &swim->peers[slot];
    int accuser = swim_find(swim, from);
    if (accuser < 0 || (p->confirmers >> accuser & 1) || p->confirmations >= p->suspect_k)
        return false;
    p->confirmers |= (uint64_t)1 << accuser;
    p->confirmations++;
    return true;
}

/* The member a suspect or dead message about `id` at incarnation `inc`
 * applies to: its slot, 0 when it is us (refuted at once), -1 when the
 * message is stale or about a member unknown or gone. */
static int swim_accused(swim_t *swim, uint32_t inc, const char *id)
{
    int slot = swim_find(swim, id);
    if (slot < 0)
        return -1;
    const swim_member_t *m = &swim->members[slot];
    if (inc < m->incarnation || swim_gone(m->state))
        return -1;
    if (slot == 0)
        swim_refute(swim, inc);
    return slot;
}

static void swim_on_suspect(swim_t *swim, uint32_t inc, const char *id, const char *from, int64_t now)
{
    int slot = swim_accused(swim, inc, id);
    if (slot <= 0)
        return;
    swim_member_t *m = &swim->members[slot];
    if (m->state == SWIM_SUSPECT) {
        if (swim_suspicion_confirm(swim, (size_t)slot, from))
            swim_broadcast(swim, (size_t)slot, MSG_SUSPECT, inc, from);
        return;
    }
    m->incarnation = inc;
    swim_set_state(swim, (size_t)slot, SWIM_SUSPECT, now);
    swim_suspicion_start(swim, (size_t)slot, from, now);
    swim_broadcast(swim, (size_t)slot, MSG_SUSPECT, inc, from);
    swim->stats.suspicions++;
    swim_notify(swim, (size_t)slot, SWIM_ALIVE);
}

static void swim_on_dead(swim_t *swim, uint32_t inc, const char *id, const char *from, int64_t now)
{
    int slot = swim_accused(swim, inc, id);
    if (slot <= 0)
        return;
    swim_member_t *m = &swim->members[slot];
    swim_state_t previous = m->state;
    m->incarnation = inc;
    swim_set_state(swim, (size_t)slot, strcmp(from, id) == 0 ? SWIM_LEFT : SWIM_DEAD, now);
    swim_broadcast(swim, (size_t)slot, MSG_DEAD, inc, from);
    swim_notify(swim, (size_t)slot, previous);
}

/* ---- probing --------------------------------------------------------------------------- */

static bool swim_probeable(const swim_t *swim, size_t slot)
{
    return slot > 0 && slot < swim->count && !swim_gone(swim->members[slot].state);
}

/* The next member of a shuffled round robin (reshuffled each round, as SWIM
 * does, so that every member is probed within a bounded time). */
static int swim_next_target(swim_t *swim)
{
    if (swim->pending_probe >= 0) {
        int slot = swim->pending_probe;
        swim->pending_probe = -1;
        if (swim_probeable(swim, (size_t)slot))
            return slot;
    }
    for (int round = 0; round < 2; round++) {
        while (swim->order_pos < swim->order_len) {
            size_t slot = swim->order[swim->order_pos++];
            if (swim_probeable(swim, slot))
                return (int)slot;
        }
        swim->order_len = 0;
        swim->order_pos = 0;
        for (size_t i = 1; i < swim->count; i++) {
            size_t j = swim_random_below(swim, swim->order_len + 1);
            swim->order[swim->order_len] = swim->order[j];
            swim->order[j] = i;
            swim->order_len++;
        }
    }
    return -1;
}

static void swim_probe_start(swim_t *swim, int64_t now)
{
    int slot = swim_next_target(swim);
    if (slot < 0) {
        swim->next_probe = now + swim->opt.probe_interval_ms;
        return;
    }
    /* a slow local loop stretches our timing before it accuses anyone */
    int64_t scale = (int64_t)swim->stats.awareness + 1;
    swim_probe_t *p = &swim->probe;
    *p = (swim_probe_t){.active = true, .slot = (size_t)slot, .seq = ++swim->seq, .start = now};
    memcpy(p->id, swim->members[slot].id, sizeof(p->id));
    p->indirect_at = now + swim->opt.probe_timeout_ms * scale;
    p->end = now + swim->opt.probe_interval_ms * scale;
    swim->next_probe = now + swim->opt.probe_interval_ms;
    swim->stats.probes++;
    swim_send_ping(swim, p->seq, p->id, swim->members[slot].host, swim->members[slot].port);
}

static void swim_probe_indirect(swim_t *swim)
{
    swim_probe_t *p = &swim->probe;
    size_t cand[SWIM_MEMBERS_MAX], n = 0;
    for (size_t i = 1; i < swim->count; i++)
        if (i != p->slot && swim->members[i].state == SWIM_ALIVE)
            cand[n++] = i;
    p->indirect_sent = true;
    for (unsigned sent = 0; sent < swim->opt.indirect_checks && n > 0; sent++) {
        size_t j = swim_random_below(swim, n);
        size_t via = cand[j];
        cand[j] = cand[--n];
        p->expected_nacks++;
        swim->stats.indirect_probes++;
        swim_send_ping_req(swim, via, &swim->members[p->slot], p->seq);
    }
}

static void swim_probe_failed(swim_t *swim, int64_t now)
{
    swim_probe_t *p = &swim->probe;
    p->active = false;
    /* relays that did not even nack point at us (our network, our loop);
     * without relays, the failure itself is all the evidence there is */
    int delta = p->expected_nacks > 0 ? (int)(p->expected_nacks - p->nacks) : 1;
    swim_awareness(swim, delta);
    if (strcmp(swim->members[p->slot].id, p->id) != 0)
        return;
    swim_on_suspect(swim, swim->members[p->slot].incarnation, p->id, swim->members[0].id, now);
}

static void swim_tick_probe(swim_t *swim, int64_t now)
{
    swim_probe_t *p = &swim->probe;
    if (p->active && !p->indirect_sent && now >= p->indirect_at)
        swim_probe_indirect(swim);
    if (p->active && now >= p->end)
        swim_probe_failed(swim, now);
    if (!p->active && now >= swim->next_probe)
        swim_probe_start(swim, now);
}

/* ---- relays (ping-req) ----------------------------------------------------------------- */

static void swim_relay_start(swim_t *swim, const swim_msg_t *msg, int64_t now)
{
    char host[SWIM_HOST_MAX + 1], target_host[SWIM_HOST_MAX + 1];
    swim_copy_str(host, msg->reply_host, msg->reply_host_len);
    if (strcmp(msg->id, swim->members[0].id) == 0) {
        swim_send_seq(swim, MSG_ACK, msg->num, host, msg->reply_port);
        return;
    }
    swim_relay_t *r = NULL;
    for (size_t i = 0; i < SWIM_RELAYS_MAX && r == NULL; i++)
        if (!swim->relays[i].active)
            r = &swim->relays[i];
    if (r == NULL)
        return; /* busy: the requester asked others too */
    *r = (swim_relay_t){.active = true, .our_seq = ++swim->seq, .their_seq = msg->num, .reply_port = msg->reply_port};
    memcpy(r->reply_host, host, sizeof(host));
    /* the nack must reach the requester before its probe window closes,
     * which is about one probe timeout after it asked */
    r->nack_at = now + swim->opt.probe_timeout_ms * 8 / 10;
    swim_copy_str(target_host, msg->host, msg->host_len);
    swim_send_ping(swim, r->our_seq, msg->id, target_host, msg->port);
}

static void swim_tick_relays(swim_t *swim, int64_t now)
{
    for (size_t i = 0; i < SWIM_RELAYS_MAX; i++) {
        swim_relay_t *r = &swim->relays[i];
        if (r->active && now >= r->nack_at) {
            r->active = false;
            swim_send_seq(swim, MSG_NACK, r->their_seq, r->reply_host, r->reply_port);
        }
    }
}

/* ---- received messages ----------------------------------------------------------------- */

static void swim_on_ack(swim_t *swim, uint32_t seq, int64_t now)
{
    swim_probe_t *p = &swim->probe;
    if (p->active && p->seq == seq) {
        p->active = false;
        swim_awareness(swim, -1);
        if (strcmp(swim->members[p->slot].id, p->id) == 0)
            swim->members[p->slot].last_ack_ms = now;
        return;
    }
    for (size_t i = 0; i < SWIM_RELAYS_MAX; i++) {
        swim_relay_t *r = &swim->relays[i];
        if (r->active && r->our_seq == seq) {
            r->active = false;
            swim_send_seq(swim, MSG_ACK, r->their_seq, r->reply_host, r->reply_port);
            return;
        }
    }
}

static void swim_on_ping(swim_t *swim, const swim_msg_t *msg)
{
    char host[SWIM_HOST_MAX + 1];
    if (strcmp(msg->id, swim->members[0].id) != 0)
        return; /* meant for whoever had our address before */
    swim_copy_str(host, msg->reply_host, msg->reply_host_len);
    swim_send_seq(swim, MSG_ACK, msg->num, host, msg->reply_port);
}

static void swim_apply(swim_t *swim, const swim_msg_t *msg, int64_t now)
{
    switch (msg->type) {
    case MSG_PING: swim_on_ping(swim, msg); break;
    case MSG_ACK: swim_on_ack(swim, msg->num, now); break;
    case MSG_PING_REQ: swim_relay_start(swim, msg, now); break;
    case MSG_NACK:
        if (swim->probe.active && swim->probe.seq == msg->num && swim->probe.nacks < swim->probe.expected_nacks)
            swim->probe.nacks++;
        break;
    case MSG_SUSPECT: swim_on_suspect(swim, msg->num, msg->id, msg->from, now); break;
    case MSG_ALIVE: swim_on_alive(swim, msg, now); break;
    case MSG_DEAD: swim_on_dead(swim, msg->num, msg->id, msg->from, now); break;
    }
}

/* ---- timers ---------------------------------------------------------------------------- */

static void swim_tick_suspicions(swim_t *swim, int64_t now)
{
    for (size_t i = 1; i < swim->count; i++) {
        swim_member_t *m = &swim->members[i];
        if (m->state == SWIM_SUSPECT && now >= swim_suspicion_deadline(swim, i))
            swim_on_dead(swim, m->incarnation, m->id, swim->members[0].id, now);
    }
}

static bool swim_gossip_target(const swim_t *swim, size_t slot, int64_t now)
{
    const swim_member_t *m = &swim->members[slot];
    return !swim_gone(m->state) ||
           now - m->state_since_ms <= SWIM_GOSSIP_TO_DEAD_INTERVALS * swim->opt.probe_interval_ms;
}

static void swim_tick_gossip(swim_t *swim, int64_t now)
{
    if (now < swim->next_gossip)
        return;
    swim->next_gossip = now + swim->opt.gossip_interval_ms;
    size_t cand[SWIM_MEMBERS_MAX], n = 0;
    for (size_t i = 1; i < swim->count; i++)
        if (swim_gossip_target(swim, i, now))
            cand[n++] = i;
    for (unsigned sent = 0; sent < swim->opt.gossip_nodes && n > 0 && swim_any_broadcast(swim); sent++) {
        size_t j = swim_random_below(swim, n);
        size_t to = cand[j];
        cand[j] = cand[--n];
        swim_wire_packet_begin(&swim->tx, swim->opt.packet_max);
        swim_piggyback(swim, swim->members[to].host, swim->members[to].port);
        if (swim->tx.msgs > 0)
            swim_packet_send(swim, swim->members[to].host, swim->members[to].port);
    }
}

/* ---- public API ------------------------------------------------------------------------ */

void swim_options_default(swim_options_t *o)
{
    *o = (swim_options_t){
        .probe_interval_ms = 200,
        .probe_timeout_ms = 100,
        .indirect_checks = 3,
        .suspicion_mult = 3,
        .suspicion_max_timeout_mult = 6,
        .awareness_max = 8,
        .gossip_interval_ms = 100,
        .gossip_nodes = 3,
        .retransmit_mult = 4,
        .packet_max = 1400,
    };
}

static bool swim_options_valid(const swim_options_t *o)
{
    return o->probe_interval_ms > 0 && o->probe_timeout_ms > 0 && o->probe_timeout_ms <= o->probe_interval_ms &&
           o->suspicion_mult >= 1 && o->suspicion_mult <= 64 && o->suspicion_max_timeout_mult >= 1 &&
           o->suspicion_max_timeout_mult <= 64 && o->awareness_max <= 64 && o->gossip_interval_ms > 0 &&
           o->gossip_nodes <= SWIM_MEMBERS_MAX && o->retransmit_mult >= 1 && o->retransmit_mult <= 64 &&
           o->packet_max >= SWIM_PACKET_MIN && o->packet_max <= SWIM_PACKET_MAX && o->indirect_checks <= 64;
}

static bool swim_self_valid(const swim_member_t *s)
{
    size_t host_len = strnlen(s->host, sizeof(s->host));
    return id_is_valid(s->id, strnlen(s->id, sizeof(s->id))) && host_len > 0 && host_len <= SWIM_HOST_MAX &&
           swim_wire_host_chars(s->host, host_len) && s->port != 0 && s->meta_len <= SWIM_META_MAX;
}

static uint64_t swim_seed(const char *id, int64_t now)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)now;
    for (; *id != '\0'; id++)
        h = (h ^ (uint8_t)*id) * 1099511628211ULL;
    return h == 0 ? 1 : h;
}

int swim_create(swim_t **out, const swim_options_t *options, const swim_member_t *self,
                const swim_callbacks_t *callbacks, int64_t now_ms)
{
    *out = NULL;
    if (options == NULL || self == NULL || callbacks == NULL || callbacks->send == NULL ||
        !swim_options_valid(options) || !swim_self_valid(self))
        return -EINVAL;
    swim_t *swim = calloc(1, sizeof(*swim));
    if (swim == NULL)
        return -ENOMEM;
    if (!swim_wire_zone_init(&swim->zone)) {
        free(swim);
        return -ENOMEM;
    }
    swim->opt = *options;
    swim->cb = *callbacks;
    swim_member_t *me = &swim->members[0];
    *me = (swim_member_t){.port = self->port,
                          .incarnation = 1,
                          .state = SWIM_ALIVE,
                          .state_since_ms = now_ms,
                          .meta_len = self->meta_len,
                          .is_self = true};
    memcpy(me->id, self->id, sizeof(me->id));
    memcpy(me->host, self->host, sizeof(me->host));
    memcpy(me->meta, self->meta, self->meta_len);
    swim->count = 1;
    swim->pending_probe = -1;
    swim->rng = swim_seed(me->id, now_ms);
    swim->next_probe = now_ms + swim->opt.probe_interval_ms;
    swim->next_gossip = now_ms + swim->opt.gossip_interval_ms;
    swim_broadcast(swim, 0, MSG_ALIVE, me->incarnation, NULL);
    *out = swim;
    return 0;
}

void swim_destroy(swim_t *swim)
{
    if (swim == NULL)
        return;
    msgpack_zone_destroy(&swim->zone);
    free(swim);
}

void swim_tick(swim_t *swim, int64_t now_ms)
{
    swim_tick_relays(swim, now_ms);
    swim_tick_suspicions(swim, now_ms);
    if (!swim->left)
        swim_tick_probe(swim, now_ms);
    swim_tick_gossip(swim, now_ms);
}

static int64_t swim_min(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

int64_t swim_next_deadline(const swim_t *swim)
{
    int64_t d = swim->next_gossip;
    const swim_probe_t *p = &swim->probe;
    if (!swim->left && p->active)
        d = swim_min(d, p->indirect_sent ? p->end : p->indirect_at);
    else if (!swim->left)
        d = swim_min(d, swim->next_probe);
    for (size_t i = 0; i < SWIM_RELAYS_MAX; i++)
        if (swim->relays[i].active)
            d = swim_min(d, swim->relays[i].nack_at);
    for (size_t i = 1; i < swim->count; i++)
        if (swim->members[i].state == SWIM_SUSPECT)
            d = swim_min(d, swim_suspicion_deadline(swim, i));
    return d;
}

int swim_receive(swim_t *swim, const uint8_t *data, size_t len, int64_t now_ms)
{
    char sender[ID_LENGTH + 1];
    size_t n = 0;
    swim->stats.packets_in++;
    int rc = swim_wire_decode_packet(&swim->zone, swim->members[0].id, data, len, sender, swim->msgs, &n);
    if (rc == 0)
        for (size_t i = 0; i < n; i++)
            swim_apply(swim, &swim->msgs[i], now_ms);
    else
        swim->stats.malformed++;
    msgpack_zone_clear(&swim->zone);
    return rc;
}

void swim_probe_now(swim_t *swim, const char *id, int64_t now_ms)
{
    int slot = swim_find(swim, id);
    if (swim->left || slot < 0 || !swim_probeable(swim, (size_t)slot))
        return;
    swim->pending_probe = slot;
    swim->next_probe = now_ms; /* right away, or as soon as the probe in flight ends */
    if (!swim->probe.active)
        swim_probe_start(swim, now_ms);
}

int swim_set_meta(swim_t *swim, const uint8_t *meta, size_t len, int64_t now_ms)
{
    swim_member_t *self = &swim->members[0];
    if ((meta == NULL && len > 0) || len > SWIM_META_MAX)
        return -EINVAL;
    if (swim->left || self->incarnation == UINT32_MAX)
        return -EINVAL;
    if (len > 0)
        memcpy(self->meta, meta, len);
    self->meta_len = len;
    self->incarnation++;
    swim_broadcast(swim, 0, MSG_ALIVE, self->incarnation, NULL);
    (void)now_ms;
    swim_notify(swim, 0, SWIM_ALIVE);
    return 0;
}

void swim_leave(swim_t *swim, int64_t now_ms)
{
    swim_member_t *self = &swim->members[0];
    if (swim->left)
        return;
    swim->left = true;
    swim->probe.active = false;
    swim_set_state(swim, 0, SWIM_LEFT, now_ms);
    swim_broadcast(swim, 0, MSG_DEAD, self->incarnation, self->id);
    /* the caller may stop right after: tell every live member now rather
     * than wait for gossip rounds */
    for (size_t i = 1; i < swim->count; i++) {
        if (swim_gone(swim->members[i].state))
            continue;
        swim_wire_packet_begin(&swim->tx, swim->opt.packet_max);
        swim_piggyback(swim, swim->members[i].host, swim->members[i].port);
        if (swim->tx.msgs > 0)
            swim_packet_send(swim, swim->members[i].host, swim->members[i].port);
        if (!swim->peers[0].bcast) /* retransmit limit reached: keep telling */
            swim_broadcast(swim, 0, MSG_DEAD, self->incarnation, self->id);
    }
    swim_notify(swim, 0, SWIM_ALIVE);
}

int swim_encode_state(const swim_t *swim, uint8_t *out, size_t cap, size_t *len)
{
    return swim_wire_encode_state(swim->members, swim->count, out, cap, len);
}

/* As memberlist's mergeState: a remote "dead" only makes us suspect (we
 * check for ourselves), "left" is taken as is. */
static void swim_merge_entry(swim_t *swim, const swim_msg_t *e, const char *sender, int64_t now)
{
    switch (e->state) {
    case SWIM_ALIVE: swim_on_alive(swim, e, now); break;
    case SWIM_SUSPECT:
    case SWIM_DEAD: swim_on_suspect(swim, e->num, e->id, sender, now); break;
    case SWIM_LEFT: swim_on_dead(swim, e->num, e->id, e->id, now); break;
    }
}

int swim_merge_state(swim_t *swim, const uint8_t *data, size_t len, int64_t now_ms)
{
    char sender[ID_LENGTH + 1];
    size_t n = 0;
    _Static_assert(SWIM_MEMBERS_MAX <= SWIM_MSGS_MAX, "state entries are decoded into msgs");
    int rc = swim_wire_decode_state(&swim->zone, swim->members[0].id, data, len, sender, swim->msgs, &n);
    if (rc == 0)
        for (size_t i = 0; i < n; i++)
            swim_merge_entry(swim, &swim->msgs[i], sender, now_ms);
    else
        swim->stats.malformed++;
    msgpack_zone_clear(&swim->zone);
    return rc;
}

size_t swim_member_count(const swim_t *swim)
{
    return swim->count;
}

const swim_member_t *swim_member_at(const swim_t *swim, size_t index)
{
    return index < swim->count ? &swim->members[index] : NULL;
}

const swim_member_t *swim_member_find(const swim_t *swim, const char *id)
{
    int slot = id != NULL ? swim_find(swim, id) : -1;
    return slot >= 0 ? &swim->members[slot] : NULL;
}

void swim_get_stats(const swim_t *swim, swim_stats_t *stats)
{
    *stats = swim->stats;
}
