/* Scheduled jobs (see schedule.h). */
#include "jobs/schedule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/id.h"
#include "core/log.h"
#include "core/text.h"
#include "jobs/internal.h"
#include "store/job.h"

#define DAY_MS           (24LL * 60 * 60 * 1000)
#define RESUME_GAP_MS    1000 /* no tick for this long: we were not scheduling */
#define SCHEDULE_PENDING 4    /* inserts in flight beyond which a round is skipped */

int jobs_time_of_day(const char *hhmm)
{
    if (hhmm == NULL || strlen(hhmm) != 5 || hhmm[2] != ':' || strspn(hhmm, "0123456789") != 2 ||
        strspn(hhmm + 3, "0123456789") != 2)
        return -1;
    int hh = (hhmm[0] - '0') * 10 + (hhmm[1] - '0'), mm = (hhmm[3] - '0') * 10 + (hhmm[4] - '0');
    return hh < 24 && mm < 60 ? hh * 60 + mm : -1;
}

int64_t jobs_daily_slot(int64_t now_ms, int minute)
{
    int64_t day = now_ms >= 0 ? now_ms / DAY_MS : (now_ms - DAY_MS + 1) / DAY_MS;
    int64_t slot = day * DAY_MS + (int64_t)minute * 60000;
    return slot <= now_ms ? slot : slot - DAY_MS;
}

typedef struct {
    jobs_scheduler_t *s;
    char type[32];
    int64_t slot;
} schedule_insert_t;

static void on_inserted(void *data, PGresult *result, const char *error)
{
    schedule_insert_t *ins = data;
    ins->s->in_flight--;
    if (error != NULL || result == NULL)
        log_warn(0, "scheduler: cannot create the %s job of slot %lld: %s", ins->type, (long long)ins->slot,
                 error != NULL ? error : "no result");
    else if (PQntuples(result) == 1)
        log_info("scheduler: created %s job %s for slot %lld", ins->type, PQgetvalue(result, 0, 0),
                 (long long)ins->slot);
    free(ins);
}

/* One slot, once: the unique key (Type, ScheduleSlot) makes a repeat a no-op. */
static void insert_slot(jobs_scheduler_t *s, db_pool_t *db, const char *type, int64_t slot)
{
    schedule_insert_t *ins = malloc(sizeof(*ins));
    char id[ID_LENGTH + 1], slot_text[TEXT_INT64_SIZE];
    if (ins == NULL || id_new(id) != 0) {
        free(ins);
        log_error(0, "scheduler: out of memory or randomness");
        return;
    }
    *ins = (schedule_insert_t){.s = s, .slot = slot};
    snprintf(ins->type, sizeof(ins->type), "%s", type);
    text_int64(slot_text, slot);
    const char *params[] = {id, type, slot_text};
    s->in_flight++;
    db_pool_query(db,
                  "INSERT INTO Jobs (Id, Type, CreateAt, Status, ScheduleSlot)"
                  " VALUES ($1, $2, " JOBS_SQL_NOW ", '" JOB_STATUS_PENDING "', $3::bigint)"
                  " ON CONFLICT (Type, ScheduleSlot) DO NOTHING RETURNING Id",
                  3, params, on_inserted, ins);
}

void jobs_scheduler_tick(jobs_scheduler_t *s, db_pool_t *db, const config_t *config, int64_t now_mono)
{
    bool resumed = s->last_tick_ms == 0 || now_mono - s->last_tick_ms > RESUME_GAP_MS;
    s->last_tick_ms = now_mono;
    if (!config->job.run_scheduler || (!resumed && now_mono < s->next_ms) || s->in_flight > SCHEDULE_PENDING)
        return;
    if (resumed)
        log_info("scheduler: active on this node");
    s->next_ms = now_mono + JOBS_SCHEDULE_PERIOD_MS;
    int64_t now = clock_now_ms();
    int minute = jobs_time_of_day(config->data_retention.deletion_job_start_time);
    if (config->data_retention.enable_message_deletion && minute >= 0)
        insert_slot(s, db, JOB_TYPE_DATA_RETENTION, jobs_daily_slot(now, minute));
    if (config->compliance.enable && config->compliance.enable_daily)
        insert_slot(s, db, JOB_TYPE_MESSAGE_EXPORT, jobs_daily_slot(now, JOBS_EXPORT_DAILY_MINUTE));
}

/* ---- a dead node's job (see schedule.h) ------------------------------------ */

_Static_assert(JOBS_HANDOVER_SILENT_MS >= 2 * JOBS_HEARTBEAT_MS, "a live runner must never look silent");
_Static_assert(JOBS_HANDOVER_SILENT_MS < JOBS_STALE_MS, "the handover must beat the reaper");

/* The node's entry if it has one (it died, came back and died again), else a
 * free one, else the one nearest its end; never another node's entry in
 * flight, whose answer would land on the newcomer. */
static struct jobs_dead_node *entry_for(jobs_handover_t *h, const char *node_id)
{
    struct jobs_dead_node *oldest = NULL;
    for (size_t i = 0; i < JOBS_HANDOVER_MAX; i++)
        if (strcmp(h->dead[i].node_id, node_id) == 0)
            return &h->dead[i];
    for (size_t i = 0; i < JOBS_HANDOVER_MAX; i++)
        if (h->dead[i].node_id[0] == '\0' && !h->dead[i].in_flight)
            return &h->dead[i];
    for (size_t i = 0; i < JOBS_HANDOVER_MAX; i++)
        if (!h->dead[i].in_flight && (oldest == NULL || h->dead[i].until_ms < oldest->until_ms))
            oldest = &h->dead[i];
    return oldest;
}

void jobs_handover_note_death(jobs_handover_t *h, const char *node_id, int64_t now_mono)
{
    struct jobs_dead_node *slot = entry_for(h, node_id);
    if (slot == NULL) {
        log_warn(0, "jobs: too many dead nodes at once; %s's job (if any) waits for the %d s timeout", node_id,
                 JOBS_STALE_MS / 1000);
        return;
    }
    snprintf(slot->node_id, sizeof(slot->node_id), "%s", node_id);
    slot->until_ms = now_mono + JOBS_STALE_MS; /* by then the reaper of any node does it */
    slot->next_ms = now_mono;
}

typedef struct {
    struct jobs_dead_node *d;
    char node_id[ID_LENGTH + 1];
} handover_query_t;

static void on_handed_over(void *data, PGresult *result, const char *error)
{
    handover_query_t *q = data;
    struct jobs_dead_node *d = q->d;
    d->in_flight = false;
    if (error != NULL || result == NULL) {
        log_warn(0, "jobs: cannot hand over the job of dead node %s: %s", q->node_id,
                 error != NULL ? error : "no result");
    } else {
        bool waiting = false;
        for (int i = 0; i < PQntuples(result); i++) {
            if (strcmp(PQgetvalue(result, i, 2), "waiting") == 0)
                waiting = true;
            else
                log_warn(0, "job %s (%s): its runner on node %s was declared dead: now %s", PQgetvalue(result, i, 0),
                         PQgetvalue(result, i, 1), q->node_id, PQgetvalue(result, i, 2));
        }
        /* done unless a job of it still shows activity: a live runner that
         * gossip lost (a partition), or a death younger than the fence */
        if (!waiting && strcmp(d->node_id, q->node_id) == 0)
            d->node_id[0] = '\0';
    }
    free(q);
}

static void hand_over(struct jobs_dead_node *d, db_pool_t *db)
{
    handover_query_t *q = malloc(sizeof(*q));
    if (q == NULL) {
        log_error(0, "jobs: out of memory handing over the job of dead node %s", d->node_id);
        return;
    }
    q->d = d;
    snprintf(q->node_id, sizeof(q->node_id), "%s", d->node_id);
    char silent[24], attempts[24];
    snprintf(silent, sizeof(silent), "%d", JOBS_HANDOVER_SILENT_MS);
    snprintf(attempts, sizeof(attempts), "%d", JOBS_MAX_ATTEMPTS);
    const char *params[] = {attempts, d->node_id, silent};
    d->in_flight = true;
    /* `owned` locks the node's running jobs (waiting for a heartbeat in
     * flight, then judging by the row it wrote); the silent ones move, the
     * others are reported as waiting and looked at again */
    db_pool_query(db,
                  "WITH owned AS (SELECT Id, LastActivityAt < " JOBS_SQL_NOW " - $3::bigint AS silent FROM Jobs"
                  " WHERE NodeId = $2 AND Status IN ('" JOB_STATUS_IN_PROGRESS "', '" JOB_STATUS_CANCEL_REQUESTED
                  "') FOR UPDATE),"
                  " moved AS (UPDATE Jobs j SET " JOBS_SQL_ORPHAN_SET
                  " FROM owned WHERE j.Id = owned.Id AND owned.silent RETURNING j.Id, j.Type, j.Status)"
                  " SELECT Id, Type, Status FROM moved UNION ALL SELECT Id, '', 'waiting' FROM owned WHERE NOT silent",
                  3, params, on_handed_over, q);
}

void jobs_handover_tick(jobs_handover_t *h, db_pool_t *db, int64_t now_mono)
{
    for (size_t i = 0; i < JOBS_HANDOVER_MAX; i++) {
        struct jobs_dead_node *d = &h->dead[i];
        if (d->node_id[0] == '\0' || d->in_flight || now_mono < d->next_ms)
            continue;
        if (now_mono >= d->until_ms) {
            d->node_id[0] = '\0'; /* still running somewhere, or the reaper's now */
            continue;
        }
        d->next_ms = now_mono + JOBS_HANDOVER_RETRY_MS;
        hand_over(d, db);
    }
}
