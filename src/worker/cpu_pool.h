/* A small per-worker thread pool for CPU-heavy work (bcrypt) whose
 * completions run on the worker's h2o event loop thread.
 *
 * Each task owns a private copy of its job: the caller describes the job as a
 * plain struct (inputs and room for outputs), the pool copies it into the
 * task, work() reads and writes that copy on a pool thread, and done() reads
 * the results on the loop thread.  work() therefore never touches memory the
 * caller owns, and cancelling a task whose work is already running is safe
 * even if the request that submitted it is freed right after the cancel. */
#ifndef CHORUS_WORKER_CPU_POOL_H
#define CHORUS_WORKER_CPU_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "h2o.h"

#define CPU_POOL_THREADS_MAX 64
#define CPU_POOL_JOB_MAX     (64 * 1024) /* largest job struct a task copies */

typedef struct cpu_pool_s cpu_pool_t;
typedef struct cpu_task_s cpu_task_t;

/* Runs on a pool thread with the task's own copy of the job: it must touch
 * nothing else that the loop or the caller owns. */
typedef void (*cpu_work_fn)(void *job);
/* Runs on the loop thread after work() returned, unless the task was
 * cancelled first.  `job` is the task's copy, valid during the call only.
 * The task handle is dead once done() returns. */
typedef void (*cpu_done_fn)(void *done_data, void *job);

/* `threads` (1..CPU_POOL_THREADS_MAX) threads, at most `queue_max` (>= 1)
 * tasks waiting for one.  Call on the loop thread.  0 or a negative errno. */
int cpu_pool_create(cpu_pool_t **out, h2o_loop_t *loop, unsigned threads, unsigned queue_max);
/* Waits for running work to finish, joins the threads and frees every task
 * without calling done(): every task handle dies here, so destroy the pool
 * after whatever may still cancel a task.  Loop thread, never from done(). */
void cpu_pool_destroy(cpu_pool_t *pool);

/* Copies `job_size` bytes (0..CPU_POOL_JOB_MAX) from `job` into the task
 * (zeroes when `job` is NULL), then queues work(copy).  The copy is wiped
 * before it is freed, so it may carry a password.  Loop thread only.
 * NULL with errno EAGAIN when the queue is full (answer 503), ENOMEM, or
 * EINVAL. */
cpu_task_t *cpu_pool_submit(cpu_pool_t *pool, cpu_work_fn work, cpu_done_fn done, void *done_data, const void *job,
                            size_t job_size);
/* done() will not be called.  A task not started yet is freed now; one
 * whose work() is running is freed by its pool thread when work() returns
 * (work() only ever sees the task's copy, so `done_data` may be freed as
 * soon as this returns).  Valid from submit until done() starts; calling it
 * from the task's own done() does nothing.  Loop thread only. */
void cpu_task_cancel(cpu_task_t *task);

/* How many more tasks submit would queue now.  Loop thread: only the loop
 * queues, so the room can only grow until the loop's next submit. */
unsigned cpu_pool_room(cpu_pool_t *pool);

typedef struct {
    unsigned threads, queued, running;
    uint64_t submitted, rejected, completed, cancelled;
} cpu_pool_stats_t;
void cpu_pool_get_stats(cpu_pool_t *pool, cpu_pool_stats_t *stats);

#endif
