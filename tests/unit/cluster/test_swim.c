/*
 * tests/unit/cluster/test_swim.c - src/cluster/swim.c over a simulated network.
 *
 * The simulation owns the clock (1 ms steps), a queue of packets in flight (each
 * delayed 0-2 ms, drawn from a fixed seed), a link matrix (partitions), and two
 * ways for a node to stop: "killed" (drops everything, never ticks: SIGKILL)
 * and "paused" (its inbound packets wait in the queue and it does not tick: a
 * stopped process, a GC pause; on resume the held packets are delivered, then
 * its timers run).  Every node is ticked when swim_next_deadline says so, and
 * every on_change is recorded, so a test can ask who declared whom dead, when.
 *
 * Every packet a node sends is checked against packet_max and must decode on
 * the receiving node (a real packet refused is a failure); the fuzz test then
 * feeds random and mutated real packets and states and checks that whatever
 * is refused leaves no trace: same table, nothing sent, no callback.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/swim.h"
#include "../check_main.h"

/* ---- the simulated network ---------------------------------------------------------- */

#define SIM_MAX     24
#define SIM_PORT    7000
#define CAPTURE_MAX 2000
#define SIM_ID_FMT  "swimnode%018d"
/* runs per scenario (-D to sweep more) */
#ifndef JOIN_SEEDS
#define JOIN_SEEDS 20
#endif
#ifndef PAUSE_MS
#define PAUSE_MS 300
#endif
#ifndef SWEEP_SEEDS
#define SWEEP_SEEDS 20
#endif

typedef struct sim_pkt_s {
    struct sim_pkt_s *next;
    int64_t at;
    int to;
    size_t len;
    uint8_t data[];
} sim_pkt_t;

typedef struct sim_s sim_t;

typedef struct {
    sim_t *sim;
    int idx;
} sim_ctx_t;

struct sim_s {
    int n;
    swim_options_t opt;
    swim_t *node[SIM_MAX];
    sim_ctx_t ctx[SIM_MAX];
    char id[SIM_MAX][ID_LENGTH + 1];
    bool killed[SIM_MAX], paused[SIM_MAX], link[SIM_MAX][SIM_MAX];
    sim_pkt_t *queue;
    int64_t now;
    uint64_t rng;
    size_t meta_len;
    /* what was observed */
    size_t max_len;
    uint64_t sent, changes, sent_to[SIM_MAX][SIM_MAX];
    int64_t dead_at[SIM_MAX][SIM_MAX]; /* observer, subject: first SWIM_DEAD, 0 = never */
    unsigned deaths, lefts, rejoins;
    /* real packets and states, for the fuzz test */
    bool capture, fuzzing;
    uint8_t *captured[CAPTURE_MAX];
    size_t captured_len[CAPTURE_MAX];
    int ncaptured;
};

static uint64_t sim_random(sim_t *sim)
{
    sim->rng ^= sim->rng << 13;
    sim->rng ^= sim->rng >> 7;
    sim->rng ^= sim->rng << 17;
    return sim->rng;
}

static int sim_index_of(const sim_t *sim, const char *id)
{
    for (int i = 0; i < sim->n; i++)
        if (strcmp(sim->id[i], id) == 0)
            return i;
    return -1;
}

static void sim_capture(sim_t *sim, const uint8_t *data, size_t len)
{
    if (!sim->capture || sim->ncaptured >= CAPTURE_MAX)
        return;
    uint8_t *copy = malloc(len);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, data, len);
    sim->captured[sim->ncaptured] = copy;
    sim->captured_len[sim->ncaptured++] = len;
}

static void sim_send(void *ctx, const char *host, uint16_t port, const uint8_t *data, size_t len)
{
    sim_ctx_t *c = ctx;
    sim_t *sim = c->sim;
    int to = port - SIM_PORT;

    if (sim->fuzzing && (to < 0 || to >= sim->n || strcmp(host, "127.0.0.1") != 0)) {
        sim->sent++; /* an address made up by the fuzzer: nobody there */
        return;
    }
    ck_assert_int_ge(to, 0);
    ck_assert_int_lt(to, sim->n);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_uint_le(len, sim->opt.packet_max);
    ck_assert(!sim->killed[c->idx] && !sim->paused[c->idx]);
    sim->sent++;
    if (len > sim->max_len)
        sim->max_len = len;
    sim->sent_to[c->idx][to]++;
    sim_capture(sim, data, len);
    if (!sim->link[c->idx][to])
        return;
    sim_pkt_t *p = malloc(sizeof(*p) + len);
    ck_assert_ptr_nonnull(p);
    *p = (sim_pkt_t){.at = sim->now + (int64_t)(sim_random(sim) % 3), .to = to, .len = len};
    memcpy(p->data, data, len);
    sim_pkt_t **tail = &sim->queue;
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = p;
}

static void sim_on_change(void *ctx, const swim_member_t *m, swim_state_t previous)
{
    sim_ctx_t *c = ctx;
    sim_t *sim = c->sim;
    int subject = sim_index_of(sim, m->id);

    sim->changes++;
    ck_assert_int_ge(subject, 0);
    if (m->is_self)
        return;
    if (m->state == SWIM_DEAD) {
        sim->deaths++;
        if (sim->dead_at[c->idx][subject] == 0)
            sim->dead_at[c->idx][subject] = sim->now;
    }
    if (m->state == SWIM_LEFT)
        sim->lefts++;
    if (m->state == SWIM_ALIVE && previous == SWIM_DEAD && sim->dead_at[c->idx][subject] != 0)
        sim->rejoins++;
}

static void sim_start_node(sim_t *sim, int i)
{
    swim_member_t self = {.port = (uint16_t)(SIM_PORT + i)};
    swim_callbacks_t cb = {&sim->ctx[i], sim_send, sim_on_change};

    memcpy(self.id, sim->id[i], sizeof(self.id));
    strcpy(self.host, "127.0.0.1");
    self.meta_len = sim->meta_len;
    memset(self.meta, 'a' + i % 26, self.meta_len);
    sim->ctx[i] = (sim_ctx_t){sim, i};
    sim->killed[i] = false;
    sim->paused[i] = false;
    ck_assert_int_eq(swim_create(&sim->node[i], &sim->opt, &self, &cb, sim->now), 0);
}

static sim_t *sim_new(int n, uint64_t seed, size_t meta_len)
{
    sim_t *sim = calloc(1, sizeof(*sim));

    ck_assert_ptr_nonnull(sim);
    ck_assert_int_le(n, SIM_MAX);
    swim_options_default(&sim->opt);
    sim->n = n;
    sim->rng = seed * 2654435761u + 1;
    /* the nodes seed their generators from their id and the clock: a start time
     * per seed gives every run its own probe orders */
    sim->now = 1000 + (int64_t)(seed % 1000) * 7919;
    sim->meta_len = meta_len;
    for (int i = 0; i < n; i++) {
        snprintf(sim->id[i], sizeof(sim->id[i]), SIM_ID_FMT, i);
        for (int j = 0; j < n; j++)
            sim->link[i][j] = true;
    }
    for (int i = 0; i < n; i++)
        sim_start_node(sim, i);
    return sim;
}

static void sim_free(sim_t *sim)
{
    while (sim->queue != NULL) {
        sim_pkt_t *p = sim->queue;
        sim->queue = p->next;
        free(p);
    }
    for (int i = 0; i < sim->n; i++)
        swim_destroy(sim->node[i]);
    for (int i = 0; i < sim->ncaptured; i++)
        free(sim->captured[i]);
    free(sim);
}

/* The first packet due now whose receiver is not paused, unlinked. */
static sim_pkt_t *sim_take_due(sim_t *sim)
{
    for (sim_pkt_t **pp = &sim->queue; *pp != NULL; pp = &(*pp)->next) {
        sim_pkt_t *p = *pp;
        if (p->at <= sim->now && !sim->paused[p->to]) {
            *pp = p->next;
            return p;
        }
    }
    return NULL;
}

static void sim_step(sim_t *sim)
{
    sim_pkt_t *p;

    sim->now++;
    while ((p = sim_take_due(sim)) != NULL) {
        if (!sim->killed[p->to])
            ck_assert_int_eq(swim_receive(sim->node[p->to], p->data, p->len, sim->now), 0);
        free(p);
    }
    for (int i = 0; i < sim->n; i++)
        if (!sim->killed[i] && !sim->paused[i] && swim_next_deadline(sim->node[i]) <= sim->now)
            swim_tick(sim->node[i], sim->now);
}

static void sim_run(sim_t *sim, int64_t ms)
{
    for (int64_t t = 0; t < ms; t++)
        sim_step(sim);
}

/* The state `obs` has for `subj`, or -1 when it does not know it. */
static int sim_view(const sim_t *sim, int obs, int subj)
{
    const swim_member_t *m = swim_member_find(sim->node[obs], sim->id[subj]);
    return m == NULL ? -1 : (int)m->state;
}

/* Every running node sees every other running node alive. */
static bool sim_all_alive(const sim_t *sim)
{
    for (int i = 0; i < sim->n; i++)
        for (int j = 0; j < sim->n; j++)
            if (i != j && !sim->killed[i] && !sim->killed[j] && sim_view(sim, i, j) != SWIM_ALIVE)
                return false;
    return true;
}

/* Runs until pred holds; the simulated time it took, or -1 after max_ms. */
static int64_t sim_run_until(sim_t *sim, bool (*pred)(const sim_t *, int), int arg, int64_t max_ms)
{
    int64_t start = sim->now;
    while (!pred(sim, arg)) {
        if (sim->now - start >= max_ms)
            return -1;
        sim_step(sim);
    }
    return sim->now - start;
}

static bool pred_all_alive(const sim_t *sim, int unused)
{
    (void)unused;
    return sim_all_alive(sim);
}

static bool pred_dead_everywhere(const sim_t *sim, int subj)
{
    for (int i = 0; i < sim->n; i++)
        if (i != subj && !sim->killed[i] && sim_view(sim, i, subj) != SWIM_DEAD)
            return false;
    return true;
}

static void sim_push_pull(sim_t *sim, int a, int b)
{
    static uint8_t buf[SWIM_STATE_MAX];
    size_t len;

    ck_assert_int_eq(swim_encode_state(sim->node[a], buf, sizeof(buf), &len), 0);
    sim_capture(sim, buf, len);
    ck_assert_int_eq(swim_merge_state(sim->node[b], buf, len, sim->now), 0);
    ck_assert_int_eq(swim_encode_state(sim->node[b], buf, sizeof(buf), &len), 0);
    sim_capture(sim, buf, len);
    ck_assert_int_eq(swim_merge_state(sim->node[a], buf, len, sim->now), 0);
}

/* n nodes, each joined by a push-pull with node 0, all alive everywhere. */
static sim_t *sim_cluster(int n, uint64_t seed, size_t meta_len)
{
    sim_t *sim = sim_new(n, seed, meta_len);

    for (int i = 1; i < n; i++) {
        sim_push_pull(sim, i, 0);
        sim_run(sim, 10);
    }
    int64_t t = sim_run_until(sim, pred_all_alive, 0, 5000);
    if (t < 0)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                fprintf(stderr, "view %d of %d: %d\n", i, j, sim_view(sim, i, j));
    ck_assert_msg(t >= 0, "%d nodes did not converge (seed %" PRIu64 ")", n, seed);
    sim_run(sim, 500);
    ck_assert(sim_all_alive(sim));
    ck_assert_uint_eq(sim->deaths, 0);
    return sim;
}

static void sim_cut(sim_t *sim, int a, int b, bool up)
{
    sim->link[a][b] = up;
    sim->link[b][a] = up;
}

/* ---- packets built by hand --------------------------------------------------------- */

static void pack_str(msgpack_packer *pk, const char *s)
{
    ck_assert_int_eq(msgpack_pack_str(pk, strlen(s)), 0);
    ck_assert_int_eq(msgpack_pack_str_body(pk, s, strlen(s)), 0);
}

/* [1, sender, [5, inc, id, from]]: `from` accuses `id`. */
static void pack_suspect(msgpack_sbuffer *sb, const char *sender, uint32_t inc, const char *id, const char *from)
{
    msgpack_packer pk;

    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 3);
    msgpack_pack_uint8(&pk, 1);
    pack_str(&pk, sender);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_uint8(&pk, 5);
    msgpack_pack_uint32(&pk, inc);
    pack_str(&pk, id);
    pack_str(&pk, from);
}

/* ---- tests: joining ------------------------------------------------------------------- */

START_TEST(test_options_and_create)
{
    swim_options_t o;
    swim_member_t self = {.port = 7000};
    swim_callbacks_t cb = {NULL, sim_send, NULL};
    swim_t *s;

    swim_options_default(&o);
    ck_assert_int_eq(o.probe_interval_ms, 200);
    ck_assert_int_eq(o.probe_timeout_ms, 100);
    ck_assert_uint_eq(o.indirect_checks, 3);
    ck_assert_uint_eq(o.suspicion_mult, 3);
    ck_assert_uint_eq(o.suspicion_max_timeout_mult, 6);
    ck_assert_uint_eq(o.awareness_max, 8);
    ck_assert_int_eq(o.gossip_interval_ms, 100);
    ck_assert_uint_eq(o.gossip_nodes, 3);
    ck_assert_uint_eq(o.retransmit_mult, 4);
    ck_assert_uint_eq(o.packet_max, 1400);

    strcpy(self.host, "127.0.0.1");
    strcpy(self.id, "not-an-id");
    ck_assert_int_eq(swim_create(&s, &o, &self, &cb, 0), -EINVAL);
    snprintf(self.id, sizeof(self.id), SIM_ID_FMT, 1);
    self.meta_len = SWIM_META_MAX + 1;
    ck_assert_int_eq(swim_create(&s, &o, &self, &cb, 0), -EINVAL);
    self.meta_len = 0;
    o.packet_max = SWIM_PACKET_MAX + 1;
    ck_assert_int_eq(swim_create(&s, &o, &self, &cb, 0), -EINVAL);
    swim_options_default(&o);
    ck_assert_int_eq(swim_create(&s, &o, &self, &cb, 0), 0);
    ck_assert_uint_eq(swim_member_count(s), 1);
    ck_assert(swim_member_at(s, 0)->is_self);
    ck_assert_int_eq(swim_member_at(s, 0)->state, SWIM_ALIVE);
    ck_assert_ptr_null(swim_member_at(s, 1));
    swim_destroy(s);
}
END_TEST

/* Small and largest meta: with the largest, two alives fill a packet. */
START_TEST(test_join)
{
    static const int sizes[] = {3, 5};
    static const size_t metas[] = {40, SWIM_META_MAX};
    int n = sizes[_i];

    for (uint64_t seed = 1; seed <= JOIN_SEEDS; seed++) {
        for (size_t k = 0; k < 2; k++) {
            sim_t *sim = sim_cluster(n, seed, metas[k]);
            for (int i = 0; i < n; i++) {
                ck_assert_uint_eq(swim_member_count(sim->node[i]), (size_t)n);
                for (int j = 0; j < n; j++) {
                    const swim_member_t *m = swim_member_find(sim->node[i], sim->id[j]);
                    ck_assert_ptr_nonnull(m);
                    ck_assert_uint_eq(m->port, SIM_PORT + j);
                    ck_assert_uint_eq(m->meta_len, metas[k]);
                    ck_assert_uint_eq(m->meta[0], 'a' + j);
                }
            }
            sim_free(sim);
        }
    }
}
END_TEST

/* ---- tests: failure detection ---------------------------------------------------------- */

static int64_t kill_and_measure(int n, uint64_t seed)
{
    sim_t *sim = sim_cluster(n, seed, 40);
    int victim = n - 1;

    sim_run(sim, (int64_t)(sim_random(sim) % 1000)); /* any phase of the probe rounds */
    int64_t t0 = sim->now;

    sim->killed[victim] = true;
    int64_t t = sim_run_until(sim, pred_dead_everywhere, victim, 10000);
    ck_assert_msg(t >= 0, "n=%d seed=%" PRIu64 ": not declared dead in 10 s", n, seed);
    int64_t worst = 0;
    for (int i = 0; i < victim; i++)
        if (sim->dead_at[i][victim] - t0 > worst)
            worst = sim->dead_at[i][victim] - t0;
    /* nobody else was accused for good */
    for (int i = 0; i < victim; i++)
        for (int j = 0; j < victim; j++)
            ck_assert_int_eq(sim->dead_at[i][j], 0);
    sim_run(sim, 1000);
    for (int i = 0; i < victim; i++)
        for (int j = 0; j < victim; j++)
            if (i != j)
                ck_assert_int_eq(sim_view(sim, i, j), SWIM_ALIVE);
    sim_free(sim);
    return worst;
}

START_TEST(test_kill_detected)
{
    static const int sizes[] = {3, 5};
    int n = sizes[_i];
    int64_t max = 0, sum = 0;
    const int seeds = SWEEP_SEEDS;

    for (uint64_t seed = 1; seed <= (uint64_t)seeds; seed++) {
        int64_t t = kill_and_measure(n, seed);
        ck_assert_msg(t <= 2000, "n=%d seed=%" PRIu64 ": dead after %" PRId64 " ms", n, seed, t);
        sum += t;
        if (t > max)
            max = t;
    }
    printf("swim: %d nodes, killed node dead everywhere after max %" PRId64 " ms, mean %" PRId64 " ms (%d seeds)\n", n,
           max, sum / seeds, seeds);
}
END_TEST

static void pause_and_watch(int n, uint64_t seed, int64_t pause_ms)
{
    sim_t *sim = sim_cluster(n, seed, 40);
    int victim = (int)(seed % (uint64_t)n);
    sim_run(sim, (int64_t)(sim_random(sim) % 1000));
    sim->paused[victim] = true;
    sim_run(sim, pause_ms);
    sim->paused[victim] = false;
    sim_run(sim, 5000);
    ck_assert_msg(sim->deaths == 0, "n=%d seed=%" PRIu64 ": a %" PRId64 " ms pause caused %u deaths", n, seed, pause_ms,
                  sim->deaths);
    ck_assert(sim_all_alive(sim));
    sim_free(sim);
}

START_TEST(test_pause_not_dead)
{
    static const int sizes[] = {3, 5};
    int n = sizes[_i];

    for (uint64_t seed = 1; seed <= SWEEP_SEEDS; seed++)
        pause_and_watch(n, seed, PAUSE_MS);
    printf("swim: %d nodes, %d ms pause: never declared dead (%d seeds)\n", n, PAUSE_MS, SWEEP_SEEDS);
}
END_TEST

START_TEST(test_refutation)
{
    sim_t *sim = sim_cluster(3, 3, 40);
    msgpack_sbuffer sb;
    swim_stats_t before, after;
    const swim_member_t *b = swim_member_find(sim->node[0], sim->id[1]);
    uint32_t inc = b->incarnation;

    swim_get_stats(sim->node[1], &before);
    /* node 2 "says" node 1 is suspect, to node 0 */
    pack_suspect(&sb, sim->id[2], inc, sim->id[1], sim->id[2]);
    ck_assert_int_eq(swim_receive(sim->node[0], (const uint8_t *)sb.data, sb.size, sim->now), 0);
    msgpack_sbuffer_destroy(&sb);
    ck_assert_int_eq(sim_view(sim, 0, 1), SWIM_SUSPECT);
    int64_t t = sim_run_until(sim, pred_all_alive, 0, 2000);
    ck_assert_int_ge(t, 0);
    sim_run(sim, 5000);
    ck_assert(sim_all_alive(sim));
    ck_assert_uint_eq(sim->deaths, 0);
    swim_get_stats(sim->node[1], &after);
    ck_assert_uint_gt(after.refutations, before.refutations);
    for (int i = 0; i < 3; i++)
        ck_assert_uint_gt(swim_member_find(sim->node[i], sim->id[1])->incarnation, inc);
    sim_free(sim);
}
END_TEST

/* The streaming link to a node broke: it is probed at once, not in its turn. */
START_TEST(test_probe_now)
{
    sim_t *sim = sim_cluster(5, 29, 40);
    swim_stats_t before, after;

    /* just after one of node 0's probes to another node was acked: none in flight */
    for (int guard = 0;; guard++) {
        uint64_t to4 = sim->sent_to[0][4];
        ck_assert_int_lt(guard, 10000);
        swim_get_stats(sim->node[0], &before);
        sim_run(sim, 1);
        swim_get_stats(sim->node[0], &after);
        if (after.probes > before.probes && sim->sent_to[0][4] == to4)
            break;
    }
    sim_run(sim, 10);
    sim->killed[4] = true;
    uint64_t pings = sim->sent_to[0][4];
    swim_get_stats(sim->node[0], &before);
    swim_probe_now(sim->node[0], sim->id[4], sim->now);
    swim_get_stats(sim->node[0], &after);
    ck_assert_uint_eq(after.probes, before.probes + 1);
    ck_assert_uint_eq(sim->sent_to[0][4], pings + 1);
    sim_run(sim, sim->opt.probe_interval_ms);
    ck_assert_int_eq(sim_view(sim, 0, 4), SWIM_SUSPECT);
    swim_probe_now(sim->node[0], "nosuchnode0000000000000000", sim->now); /* unknown: ignored */
    sim_free(sim);
}
END_TEST

START_TEST(test_leave)
{
    sim_t *sim = sim_cluster(4, 5, 40);

    swim_leave(sim->node[3], sim->now);
    ck_assert_int_eq(swim_member_at(sim->node[3], 0)->state, SWIM_LEFT);
    sim->killed[3] = true; /* the process exits right after */
    sim_run(sim, 5000);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(sim_view(sim, i, 3), SWIM_LEFT);
    ck_assert_uint_eq(sim->deaths, 0);
    ck_assert_uint_eq(sim->lefts, 3);
    ck_assert(sim_all_alive(sim));
    /* still in the table, for "unreachable since" */
    ck_assert_uint_eq(swim_member_count(sim->node[0]), 4);
    sim_free(sim);
}
END_TEST

START_TEST(test_rejoin_after_dead)
{
    sim_t *sim = sim_cluster(3, 9, 40);

    sim->killed[2] = true;
    ck_assert_int_ge(sim_run_until(sim, pred_dead_everywhere, 2, 10000), 0);
    uint32_t dead_inc = swim_member_find(sim->node[0], sim->id[2])->incarnation;
    sim_run(sim, 500);
    /* the process restarts: a fresh instance (incarnation 1) joins through node 0 */
    swim_destroy(sim->node[2]);
    sim_start_node(sim, 2);
    sim_push_pull(sim, 2, 0);
    ck_assert_int_ge(sim_run_until(sim, pred_all_alive, 0, 3000), 0);
    for (int i = 0; i < 3; i++)
        ck_assert_uint_gt(swim_member_find(sim->node[i], sim->id[2])->incarnation, dead_inc);
    ck_assert_uint_eq(sim->rejoins, 2);
    sim_run(sim, 3000);
    ck_assert(sim_all_alive(sim));
    sim_free(sim);
}
END_TEST

START_TEST(test_partition_heals)
{
    sim_t *sim = sim_cluster(3, 11, 40);

    sim_cut(sim, 0, 1, false);
    sim_cut(sim, 0, 2, false);
    sim_run(sim, 5000);
    ck_assert_int_eq(sim_view(sim, 0, 1), SWIM_DEAD);
    ck_assert_int_eq(sim_view(sim, 0, 2), SWIM_DEAD);
    ck_assert_int_eq(sim_view(sim, 1, 0), SWIM_DEAD);
    ck_assert_int_eq(sim_view(sim, 2, 0), SWIM_DEAD);
    ck_assert_int_eq(sim_view(sim, 1, 2), SWIM_ALIVE);
    ck_assert_int_eq(sim_view(sim, 2, 1), SWIM_ALIVE);
    sim_cut(sim, 0, 1, true);
    sim_cut(sim, 0, 2, true);
    sim_push_pull(sim, 0, 1);
    int64_t t = sim_run_until(sim, pred_all_alive, 0, 5000);
    ck_assert_int_ge(t, 0);
    printf("swim: partition healed, all alive %" PRId64 " ms after one push-pull\n", t);
    sim_run(sim, 3000);
    ck_assert(sim_all_alive(sim));
    sim_free(sim);
}
END_TEST

START_TEST(test_meta_propagates)
{
    sim_t *sim = sim_cluster(5, 13, 40);
    const uint8_t meta[] = "version=10.5;config=abcdef";
    int64_t start = sim->now;

    ck_assert_int_eq(swim_set_meta(sim->node[1], meta, sizeof(meta), sim->now), 0);
    ck_assert_int_eq(swim_set_meta(sim->node[1], meta, SWIM_META_MAX + 1, sim->now), -EINVAL);
    bool all = false;
    while (!all && sim->now - start < 3000) {
        sim_step(sim);
        all = true;
        for (int i = 0; i < 5; i++) {
            const swim_member_t *m = swim_member_find(sim->node[i], sim->id[1]);
            all = all && m->meta_len == sizeof(meta) && memcmp(m->meta, meta, sizeof(meta)) == 0;
        }
    }
    ck_assert(all);
    ck_assert(sim_all_alive(sim));
    sim_free(sim);
}
END_TEST

START_TEST(test_packet_max)
{
    static const int sizes[] = {5, 20};
    int n = sizes[_i];
    /* the largest meta: one alive barely fits next to a ping */
    sim_t *sim = sim_cluster(n, 17, SWIM_META_MAX);

    sim->killed[n - 1] = true;
    ck_assert_int_ge(sim_run_until(sim, pred_dead_everywhere, n - 1, 10000), 0);
    ck_assert_int_eq(swim_set_meta(sim->node[0], (const uint8_t *)"m", 1, sim->now), 0);
    sim_run(sim, 2000);
    ck_assert_uint_le(sim->max_len, sim->opt.packet_max);
    ck_assert_uint_eq(sim->deaths, (unsigned)(n - 1));
    printf("swim: %d nodes, largest packet %zu bytes (max %zu), %" PRIu64 " packets\n", n, sim->max_len,
           sim->opt.packet_max, sim->sent);
    sim_free(sim);
}
END_TEST

START_TEST(test_receive_refuses)
{
    sim_t *sim = sim_cluster(3, 19, 10);
    static uint8_t big[SWIM_STATE_MAX + 1];
    msgpack_sbuffer sb;
    swim_stats_t st;

    /* from ourselves */
    pack_suspect(&sb, sim->id[0], 1, sim->id[1], sim->id[2]);
    ck_assert_int_eq(swim_receive(sim->node[0], (const uint8_t *)sb.data, sb.size, sim->now), -ELOOP);
    msgpack_sbuffer_destroy(&sb);
    /* a bad id inside an otherwise good packet */
    pack_suspect(&sb, sim->id[2], 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", sim->id[2]);
    ck_assert_int_eq(swim_receive(sim->node[0], (const uint8_t *)sb.data, sb.size, sim->now), -EINVAL);
    msgpack_sbuffer_destroy(&sb);
    ck_assert_int_eq(swim_receive(sim->node[0], big, SWIM_PACKET_MAX + 1, sim->now), -EMSGSIZE);
    ck_assert_int_eq(swim_merge_state(sim->node[0], big, sizeof(big), sim->now), -EMSGSIZE);
    ck_assert_int_eq(swim_receive(sim->node[0], big, 0, sim->now), -EINVAL);
    /* five bytes declaring a huge array */
    const uint8_t huge[] = {0xdd, 0x7f, 0xff, 0xff, 0xff};
    ck_assert_int_eq(swim_receive(sim->node[0], huge, sizeof(huge), sim->now), -EINVAL);
    ck_assert_int_eq(swim_merge_state(sim->node[0], huge, sizeof(huge), sim->now), -EINVAL);
    swim_get_stats(sim->node[0], &st);
    ck_assert_uint_eq(st.malformed, 7);
    size_t len;
    ck_assert_int_eq(swim_encode_state(sim->node[0], big, 64, &len), -EMSGSIZE);
    ck_assert(sim_all_alive(sim));
    sim_free(sim);
}
END_TEST

/* ---- fuzz ------------------------------------------------------------------------------ */

typedef struct {
    size_t count;
    swim_member_t members[SWIM_MEMBERS_MAX];
    swim_stats_t stats;
    uint64_t sent, changes;
} snapshot_t;

static void snapshot(const sim_t *sim, const swim_t *s, snapshot_t *snap)
{
    snap->count = swim_member_count(s);
    for (size_t i = 0; i < snap->count; i++)
        snap->members[i] = *swim_member_at(s, i);
    swim_get_stats(s, &snap->stats);
    snap->sent = sim->sent;
    snap->changes = sim->changes;
}

static void assert_unchanged(const snapshot_t *a, const snapshot_t *b)
{
    ck_assert_uint_eq(a->count, b->count);
    ck_assert(memcmp(a->members, b->members, a->count * sizeof(a->members[0])) == 0);
    ck_assert_uint_eq(a->sent, b->sent);
    ck_assert_uint_eq(a->changes, b->changes);
    ck_assert_uint_eq(b->stats.malformed, a->stats.malformed + 1);
    ck_assert_uint_eq(a->stats.refutations, b->stats.refutations);
    ck_assert_uint_eq(a->stats.suspicions, b->stats.suspicions);
    ck_assert_uint_eq(a->stats.packets_out, b->stats.packets_out);
}

/* A real packet or state, bit-flipped, truncated, or with bytes overwritten. */
static size_t mutate(sim_t *sim, const uint8_t *src, size_t len, uint8_t *out)
{
    memcpy(out, src, len);
    switch (sim_random(sim) % 4) {
    case 0:
        for (unsigned k = 1 + sim_random(sim) % 8; k > 0; k--)
            out[sim_random(sim) % len] ^= (uint8_t)(1u << sim_random(sim) % 8);
        break;
    case 1: len = sim_random(sim) % len; break;
    case 2: out[sim_random(sim) % len] = (uint8_t)sim_random(sim); break;
    default: /* a plausible header byte: lengths and counts that lie */
        out[sim_random(sim) % len] = (uint8_t[]){0xdc, 0xdd, 0xda, 0xdb, 0xc5, 0xc6, 0x9f, 0xbf}[sim_random(sim) % 8];
        break;
    }
    return len;
}

static void drop_queue(sim_t *sim)
{
    while (sim->queue != NULL) {
        sim_pkt_t *p = sim->queue;
        sim->queue = p->next;
        free(p);
    }
}

START_TEST(test_fuzz)
{
    sim_t *sim = sim_cluster(5, 23, 40);
    static uint8_t buf[SWIM_STATE_MAX];
    snapshot_t *before = malloc(sizeof(*before)), *after = malloc(sizeof(*after));
    unsigned refused = 0, accepted = 0;

    ck_assert_ptr_nonnull(before);
    ck_assert_ptr_nonnull(after);
    /* real traffic of every kind: probes, relays, a death, a refutation */
    sim->capture = true;
    sim->killed[4] = true;
    sim_run(sim, 3000);
    ck_assert_int_ge(sim->ncaptured, 100);
    sim->capture = false;
    sim->fuzzing = true;
    swim_t *target = sim->node[0];
    for (int iter = 0; iter < 100000; iter++) {
        uint64_t r = sim_random(sim);
        size_t len;
        if (r % 4 == 0) {
            len = sim_random(sim) % 300;
            for (size_t i = 0; i < len; i++)
                buf[i] = (uint8_t)sim_random(sim);
        } else {
            int k = (int)(sim_random(sim) % (uint64_t)sim->ncaptured);
            len = mutate(sim, sim->captured[k], sim->captured_len[k], buf);
        }
        sim->now++;
        snapshot(sim, target, before);
        bool as_state = sim_random(sim) % 3 == 0;
        int rc = as_state ? swim_merge_state(target, buf, len, sim->now) : swim_receive(target, buf, len, sim->now);
        if (rc < 0) {
            snapshot(sim, target, after);
            assert_unchanged(before, after);
            refused++;
        } else {
            accepted++;
        }
        if (swim_next_deadline(target) <= sim->now)
            swim_tick(target, sim->now);
        if (iter % 1000 == 0)
            drop_queue(sim);
    }
    printf("swim: fuzz: %u refused unchanged, %u accepted\n", refused, accepted);
    ck_assert_uint_gt(refused, 50000);
    free(before);
    free(after);
    sim_free(sim);
}
END_TEST

/* ---- suite ----------------------------------------------------------------------------- */

static Suite *swim_suite(void)
{
    Suite *s = suite_create("swim");
    TCase *tc = tcase_create("core");
    TCase *slow = tcase_create("simulated");

    tcase_add_test(tc, test_options_and_create);
    tcase_add_test(tc, test_receive_refuses);
    suite_add_tcase(s, tc);

    tcase_set_timeout(slow, 600);
    tcase_add_loop_test(slow, test_join, 0, 2);
    tcase_add_loop_test(slow, test_kill_detected, 0, 2);
    tcase_add_loop_test(slow, test_pause_not_dead, 0, 2);
    tcase_add_test(slow, test_refutation);
    tcase_add_test(slow, test_probe_now);
    tcase_add_test(slow, test_leave);
    tcase_add_test(slow, test_rejoin_after_dead);
    tcase_add_test(slow, test_partition_heals);
    tcase_add_test(slow, test_meta_propagates);
    tcase_add_loop_test(slow, test_packet_max, 0, 2);
    tcase_add_test(slow, test_fuzz);
    suite_add_tcase(s, slow);
    return s;
}

int main(void)
{
    return check_run(swim_suite());
}
