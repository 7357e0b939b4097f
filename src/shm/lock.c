/*
 * shm/lock.c - robust process-shared mutex.
 *
 * Every lock in the shared region is a pthread mutex created with
 * PTHREAD_PROCESS_SHARED (it is taken by several processes through the same MAP_SHARED
 * mapping) and PTHREAD_MUTEX_ROBUST (a process SIGKILLed while holding it must not wedge
 * the node). The kernel walks a dying thread's robust list and marks every mutex it held
 * as "owner died"; the next pthread_mutex_lock() then succeeds with EOWNERDEAD.
 *
 * This file turns that protocol into one call: shm_lock_acquire() returns 0 for a normal
 * acquisition, or 1 after it ran the caller's repair callback (with the lock held) and
 * called pthread_mutex_consistent(). The repair callback is where the owner of the
 * protected structure re-establishes its invariants; structures designed so that every
 * intermediate state is already consistent (the event ring) pass a callback that only
 * records the event.
 *
 * Invariants and trade-offs:
 *  - The mutex is never marked consistent without the repair having run first, so no
 *    caller can observe a half-updated structure through the lock.
 *  - If pthread_mutex_consistent() fails (it cannot for a robust mutex in EOWNERDEAD
 *    state, but we check), the lock is released without being made consistent: it then
 *    becomes ENOTRECOVERABLE, which is loud, rather than silently handing out an
 *    unrepaired structure.
 *  - No priority inheritance: every process that takes these locks runs at the same
 *    priority, and PI futexes cost a syscall on every contended unlock.
 *  - The lock contains no pointers; it works at any address in any process.
 */
#include "shm/lock.h"

#include <errno.h>

int shm_lock_init(shm_lock_t *lock)
{
    pthread_mutexattr_t attr;
    int rc;

    if (lock == NULL)
        return -EINVAL;
    rc = pthread_mutexattr_init(&attr);
    if (rc != 0)
        return -rc;
    rc = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (rc == 0)
        rc = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    if (rc == 0)
        rc = pthread_mutex_init(&lock->mutex, &attr);
    (void)pthread_mutexattr_destroy(&attr);
    return -rc;
}

int shm_lock_acquire(shm_lock_t *lock, shm_lock_repair_cb repair, void *arg)
{
    int rc;

    rc = pthread_mutex_lock(&lock->mutex);
    if (rc == 0)
        return 0;
    if (rc != EOWNERDEAD)
        return -rc;

    /* We hold the lock; the previous holder died inside its critical section. */
    if (repair != NULL)
        repair(arg);
    rc = pthread_mutex_consistent(&lock->mutex);
    if (rc != 0) {
        (void)pthread_mutex_unlock(&lock->mutex);
        return -rc;
    }
    return 1;
}

void shm_lock_release(shm_lock_t *lock)
{
    /* Can only fail with EPERM when the caller does not hold the lock: a programming
     * error that the caller cannot recover from either; nothing useful to return. */
    (void)pthread_mutex_unlock(&lock->mutex);
}
