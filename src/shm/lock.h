/*
 * Robust, process-shared mutex for structures that live in the shm region.
 * See lock.c for the design.
 */
#ifndef CHORUS_SHM_LOCK_H
#define CHORUS_SHM_LOCK_H

#include <pthread.h>

typedef struct {
    pthread_mutex_t mutex;
} shm_lock_t;

/* Called with the lock held when the previous holder died holding it. It must bring the
 * protected structure back to a consistent state (or clear it). It cannot fail. */
typedef void (*shm_lock_repair_cb)(void *arg);

/* PTHREAD_PROCESS_SHARED | PTHREAD_MUTEX_ROBUST. `lock` must live in memory shared by every
 * process that will take it (MAP_SHARED) and be initialised once, before fork.
 * 0 or -errno. */
int shm_lock_init(shm_lock_t *lock);

/* 0 when taken normally; 1 when the previous holder died holding it: `repair` (may be NULL)
 * was called with the lock held, then the mutex was marked consistent. Either way the
 * caller holds the lock and must shm_lock_release() it.
 * -errno on failure (-ENOTRECOVERABLE, -EINVAL, ...): the lock is NOT held. */
int shm_lock_acquire(shm_lock_t *lock, shm_lock_repair_cb repair, void *arg);

void shm_lock_release(shm_lock_t *lock);

#endif /* CHORUS_SHM_LOCK_H */
