/* The node's presence cache: user id → status. */
#ifndef CHORUS_SHM_PRESENCE_H
#define CHORUS_SHM_PRESENCE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    char status[16]; /* online, away, dnd, offline, ooo */
    bool manual;
    int64_t last_activity_at; /* ms */
    int64_t dnd_end_time;     /* s, as Mattermost */
    char prev_status[16];
    int64_t version; /* Status.Version: bumped by every write, orders cache fills */
} shm_presence_t;

#endif
