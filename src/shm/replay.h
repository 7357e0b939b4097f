/* What a dropped WebSocket leaves for its reconnect (ws/replay.c), keyed by
 * its connection_id in the node's replay cache. */
#ifndef CHORUS_SHM_REPLAY_H
#define CHORUS_SHM_REPLAY_H

#include <stdint.h>

#define SHM_REPLAY_KEPT 128 /* events kept per connection, as Mattermost */

typedef struct {
    uint64_t pos;      /* ring position of the record */
    uint64_t ring_seq; /* its ring seq; 0: not from the ring (hello) */
} shm_replay_sent_t;

typedef struct {
    char user_id[27];
    int64_t dropped_at;                      /* wall clock, ms */
    uint64_t next_seq;                       /* the connection's next event seq */
    uint64_t cursor_seq, cursor_pos;         /* ring records up to here were considered */
    shm_replay_sent_t sent[SHM_REPLAY_KEPT]; /* seq s at sent[s % SHM_REPLAY_KEPT] */
} shm_replay_t;

#endif
