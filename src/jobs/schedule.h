/*
 * Scheduled jobs: which daily slots are due, and creating each one once.
 *
 * A slot is a job type and the wall-clock time (ms, UTC) it is due.  The
 * Jobs table has a unique key on (Type, ScheduleSlot), so inserting a slot is
 * idempotent: any number of schedulers (a leader and its successor, or two
 * leaders on both sides of a partition) create at most one job per slot.
 * The scheduler always (re)inserts the most recent due slot, so a new
 * leader creates the slot its predecessor missed, and never any older one.
 *
 * Who schedules: the cluster child of the leader (src/cluster/scheduler.c)
 * with clustering on, the jobs child with clustering off (a single node is
 * its own leader).  Both need JobSettings.RunScheduler.
 *
 * The leader also hands a dead node's job over (jobs_handover_*): when the
 * cluster declares a node dead, its running job goes back to pending (or to
 * canceled, or error after JOBS_MAX_ATTEMPTS claims, as the reaper does) in
 * seconds instead of after the reaper's JOBS_STALE_MS of silence.  Gossip
 * alone is not proof of death, though: a node cut off from its peers but not
 * from the database (a partition) is "dead" to them and still running its
 * job.  So the runner's own heartbeat is the fence: the job moves only once
 * it has also been silent in the database for JOBS_HANDOVER_SILENT_MS (two
 * heartbeats missed).  A SIGKILLed runner passes that a few seconds after its
 * death; a live one never does, and the handover is retried until then.
 * Every node notes deaths; only the leader's ticks act on them, so the new
 * leader hands over the job of a leader that died running one.
 */
#ifndef CHORUS_JOBS_SCHEDULE_H
#define CHORUS_JOBS_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "core/id.h"
#include "db/pool.h"

#define JOBS_SCHEDULE_PERIOD_MS  10000 /* how often due slots are (re)inserted */
#define JOBS_EXPORT_DAILY_MINUTE 0     /* ComplianceSettings.EnableDaily: at 00:00 UTC */

/* Minutes after midnight of "HH:MM", or -1 when it is not one. */
int jobs_time_of_day(const char *hhmm);
/* The most recent daily slot at `minute` after midnight UTC that is due at
 * `now_ms` (the slot is <= now_ms), in ms since the epoch. */
int64_t jobs_daily_slot(int64_t now_ms, int minute);

/* A scheduler's state: the owner keeps one and ticks it. */
typedef struct {
    int64_t next_ms;      /* monotonic: the next round */
    int64_t last_tick_ms; /* monotonic: the previous tick */
    unsigned in_flight;   /* inserts not answered yet */
} jobs_scheduler_t;

/* Called often (every loop tick) while this process should schedule.  Runs a
 * round every JOBS_SCHEDULE_PERIOD_MS, and at once when the ticks resume
 * after a gap (this node has just become the leader). */
void jobs_scheduler_tick(jobs_scheduler_t *s, db_pool_t *db, const config_t *config, int64_t now_mono);

#define JOBS_HANDOVER_SILENT_MS 4000 /* two runner heartbeats (JOBS_HEARTBEAT_MS) missed */
#define JOBS_HANDOVER_RETRY_MS  500  /* how often a dead node's still-fresh job is looked at again */
#define JOBS_HANDOVER_MAX       8    /* dead nodes being handled at once; beyond, the reaper does it */

/* The dead nodes whose jobs are being handed over. */
typedef struct {
    struct jobs_dead_node {
        char node_id[ID_LENGTH + 1];
        int64_t until_ms; /* monotonic: then the reaper's timeout takes over */
        int64_t next_ms;  /* monotonic: the next try */
        bool in_flight;
    } dead[JOBS_HANDOVER_MAX];
} jobs_handover_t;

/* The cluster declared `node_id` dead (or it left): note it, on any node. */
void jobs_handover_note_death(jobs_handover_t *h, const char *node_id, int64_t now_mono);
/* Called often while this process leads: hands the noted nodes' jobs over. */
void jobs_handover_tick(jobs_handover_t *h, db_pool_t *db, int64_t now_mono);

#endif
