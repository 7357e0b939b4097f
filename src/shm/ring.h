/*
 * Broadcast event ring in shared memory: many producers, many consumers, each consumer
 * with a private cursor. See ring.c for the design and the crash-safety invariants.
 *
 * Consumer loop (one per process, watching its slot's eventfd in the event loop):
 *
 *     on readable(efds[slot]):
 *         shm_ring_drain_eventfd(efds[slot]);        // drain FIRST, then read everything
 *         while ((rc = shm_ring_read(ring, &cur, &type, buf, &len, &seq)) != 0) {
 *             if (rc == SHM_RING_EOVERRUN) { resynchronise(); continue; }
 *             if (rc < 0) { resynchronise(); break; }  // corrupt: should never happen
 *             handle(type, buf, len);
 *         }
 */
#ifndef CHORUS_SHM_RING_H
#define CHORUS_SHM_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shm/lock.h"

#define SHM_RING_CONSUMERS_MAX 128
#define SHM_RING_RECORD_MAX    (256 * 1024) /* largest payload: a WebSocket event with a full post */
#define SHM_RING_CAPACITY_MIN  (4 * SHM_RING_RECORD_MAX)

typedef struct shm_ring_s shm_ring_t; /* lives in shared memory: offsets only, no pointers */

/* Bytes the ring needs for a data area of `capacity` (a power of two
 * >= SHM_RING_CAPACITY_MIN). 0 if `capacity` is invalid. */
size_t shm_ring_footprint(size_t capacity);

/* Lays a ring out in `mem` (shm_ring_footprint(capacity) bytes, 64-byte aligned, shared);
 * the ring is then `(shm_ring_t *)mem`. 0 or -EINVAL, or -errno from the lock. */
int shm_ring_init(void *mem, size_t capacity);

/* One nonblocking (and close-on-exec) eventfd per consumer slot, created before fork.
 * 0 or -errno; on failure closes what it opened and sets every entry to -1. */
int shm_ring_eventfds_create(int efds[SHM_RING_CONSUMERS_MAX]);
void shm_ring_eventfds_close(int efds[SHM_RING_CONSUMERS_MAX]);

/* Slot table: written by the master only. 0, -EINVAL (bad slot), -EBUSY (already live). */
int shm_ring_consumer_attach(shm_ring_t *ring, unsigned slot, pid_t pid);
void shm_ring_consumer_detach(shm_ring_t *ring, unsigned slot);
int shm_ring_consumer_find_free(shm_ring_t *ring); /* a free slot index or -ENOSPC */
/* pid attached to `slot`, 0 if free or invalid. */
pid_t shm_ring_consumer_pid(shm_ring_t *ring, unsigned slot);

/* Appends one record (type, payload) under the ring's robust lock, assigns it the next
 * 64-bit sequence number (first is 1), then writes 1 to the eventfd of every attached
 * consumer (EAGAIN on a saturated eventfd is fine; other write errors are counted in the
 * stats, the record is published anyway). `efds` may be NULL (no notification).
 * 0, -EMSGSIZE if len > SHM_RING_RECORD_MAX, -EINVAL, or -errno from the lock. */
int shm_ring_publish(shm_ring_t *ring, const int *efds, uint16_t type, const void *data, size_t len, uint64_t *seq_out);

typedef struct {
    uint64_t seq;    /* sequence number of the last record consumed (or skipped) */
    uint64_t pos;    /* ring position where record seq + 1 starts */
} shm_ring_cursor_t; /* private to one consumer */

/* At the current head: only records published later are seen. */
void shm_ring_cursor_init(shm_ring_t *ring, shm_ring_cursor_t *cursor);

#define SHM_RING_EOVERRUN (-75)

/* 1 = one record copied out (type, len, seq set; buf must hold SHM_RING_RECORD_MAX bytes),
 * 0 = nothing new, SHM_RING_EOVERRUN = records were lost (the cursor was moved to the
 * head; the caller resynchronises), other negative (-EPROTO) = corrupt record or cursor
 * (the cursor was moved to the head as well). Lock-free: never blocks on a producer. */
int shm_ring_read(shm_ring_t *ring, shm_ring_cursor_t *cursor, uint16_t *type, void *buf, size_t *len, uint64_t *seq);

/* Reads record `expected_seq` at ring position `pos` (both from an earlier
 * read): 1 and the record, or a negative error when it was overwritten or
 * is not there (nothing else changes).  Lock-free. */
int shm_ring_read_at(shm_ring_t *ring, uint64_t pos, uint64_t expected_seq, uint16_t *type, void *buf, size_t *len);

/* A ring point noted at some moment, to go back later to where a reader
 * was a while ago (a cursor: the last record consumed, where the next starts). */
typedef struct {
    int64_t at; /* monotonic ms; 0: unused */
    uint64_t seq, pos;
} shm_ring_mark_t;

/* Of `n` marks, the newest one at least `age_ms` old at `now`, else the
 * oldest; NULL when none is used. */
const shm_ring_mark_t *shm_ring_mark_pick(const shm_ring_mark_t *marks, size_t n, int64_t now, int64_t age_ms);

/* Reads the eventfd counter away. 0 or -errno (EAGAIN -> 0). */
int shm_ring_drain_eventfd(int efd);

/* Sequence number of the last published record (0 when none yet). */
uint64_t shm_ring_head_seq(shm_ring_t *ring);

/* Data area size in bytes (a power of two). */
size_t shm_ring_capacity(shm_ring_t *ring);

/* Bytes a record of `len` payload bytes occupies in the ring (header + padding). */
size_t shm_ring_record_size(size_t len);

typedef struct {
    uint64_t head_seq;      /* = total records published */
    uint64_t head_pos;      /* ring position after the last published record */
    uint64_t reserve_pos;   /* > head_pos while an append is in flight, or after a
                             * producer died inside one (until the next append passes it) */
    uint64_t repairs;       /* times a producer died holding the ring lock */
    uint64_t notify_errors; /* eventfd writes that failed with something else than EAGAIN */
} shm_ring_stats_t;

/* Lock-free snapshot for metrics and diagnostics. */
void shm_ring_stats(shm_ring_t *ring, shm_ring_stats_t *stats);

/* The ring's lock, for diagnostics and crash tests only: holding it stops every producer.
 * Take it with shm_lock_acquire(shm_ring_lock(ring), shm_ring_repair, ring). */
shm_lock_t *shm_ring_lock(shm_ring_t *ring);

/* The ring's EOWNERDEAD repair (a shm_lock_repair_cb; `arg` is the ring). */
void shm_ring_repair(void *arg);

#endif /* CHORUS_SHM_RING_H */
