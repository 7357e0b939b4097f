/*
 * The Status rows and what follows a write (store/status.h).  Every write
 * bumps the row's Version, and the presence cache keeps the highest version
 * it was offered (shm_cache_put_newer): whichever process applies a row, a
 * stale one never wins.
 */
#include "store/status.h"

#include <stdio.h>
#include <string.h>

#include "core/events.h"
#include "core/log.h"
#include "shm/events_publish.h"
#include "store/row.h"

void status_from_row(const PGresult *res, int row, shm_presence_t *p)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->status, sizeof(p->status), "%s", row_str(res, row, 1));
    p->manual = row_bool(res, row, 2);
    p->last_activity_at = row_int64(res, row, 3);
    p->dnd_end_time = row_int64(res, row, 4);
    snprintf(p->prev_status, sizeof(p->prev_status), "%s", row_str(res, row, 5));
    p->version = row_int64(res, row, 6);
}

json_t *status_to_json(const char *user_id, const shm_presence_t *p)
{
    return json_pack("{s:s, s:s, s:b, s:I, s:I}", "user_id", user_id, "status", p->status, "manual", p->manual,
                     "last_activity_at", (json_int_t)p->last_activity_at, "dnd_end_time", (json_int_t)p->dnd_end_time);
}

static bool later_version(const void *candidate, const void *current)
{
    return ((const shm_presence_t *)candidate)->version > ((const shm_presence_t *)current)->version;
}

void status_cache_put(shm_region_t *shm, const char *user_id, const shm_presence_t *p)
{
    if (shm_cache_put_newer(shm_region_presence(shm), user_id, p, later_version) != 0)
        log_warn(0, "cannot cache the status of %s", user_id);
}

void status_publish(shm_region_t *shm, const int *ring_eventfds, const char *user_id, const shm_presence_t *p)
{
    event_status_changed_t ev = {
        .manual = p->manual, .last_activity_at = p->last_activity_at, .dnd_end_time = p->dnd_end_time};
    snprintf(ev.user_id, sizeof(ev.user_id), "%s", user_id);
    snprintf(ev.status, sizeof(ev.status), "%s", p->status);
    int rc = events_publish_status_changed(shm_region_ring(shm), ring_eventfds, &ev);
    if (rc != 0)
        log_warn(-rc, "cannot publish the status change of %s", user_id);
}

void status_apply_row(shm_region_t *shm, const int *ring_eventfds, const PGresult *res, int row)
{
    shm_presence_t p;
    status_from_row(res, row, &p);
    status_cache_put(shm, row_str(res, row, 0), &p);
    status_publish(shm, ring_eventfds, row_str(res, row, 0), &p);
}
