/*
 * The leader's job scheduler.  cluster.c calls cluster_scheduler_tick on
 * every tick while gossip runs and this node is the leader (the alive member
 * with the lowest id, view.c); the rounds themselves, and why a slot is
 * created once whoever schedules it, are in src/jobs/schedule.h.  The
 * inserts go through the cluster child's own async pool (the discovery
 * pool), so a slow database delays scheduling and nothing else.
 *
 * Its state lives here rather than in cluster_t: the scheduler is the only
 * user, and keeping it out of the shared context leaves the rest of the
 * cluster child untouched.  When the ticks stop (leadership moved away) and
 * resume (it came back), jobs_scheduler_tick sees the gap and schedules at
 * once: a new leader creates the slot its predecessor may have missed.
 *
 * The leader also hands over the job of a node the cluster declares dead
 * (view.c calls cluster_scheduler_on_death on every node, whoever leads):
 * deaths are noted everywhere and acted on in the leader's ticks only, so a
 * leader that dies running a job is handled by its successor once the view
 * elects it.  Why gossip's verdict is checked against the runner's heartbeat
 * first: jobs/schedule.h.
 */
#include "cluster/internal.h"
#include "core/clock.h"
#include "jobs/schedule.h"

static jobs_scheduler_t scheduler; /* this cluster child's; see above */
static jobs_handover_t handover;

void cluster_scheduler_tick(cluster_t *c, int64_t now_ms)
{
    if (c->db == NULL)
        return;
    jobs_scheduler_tick(&scheduler, c->db, c->config, now_ms);
    jobs_handover_tick(&handover, c->db, now_ms);
}

void cluster_scheduler_on_death(cluster_t *c, const char *node_id)
{
    (void)c;
    jobs_handover_note_death(&handover, node_id, clock_monotonic_ms());
}
