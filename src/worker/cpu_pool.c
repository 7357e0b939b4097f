/*
 * CPU pool: a few pthreads per worker that run blocking, CPU-heavy jobs
 * (bcrypt, ≈55 ms each) so that the h2o loop never does.
 *
 * Ownership.  A task is one allocation: its header and the caller's job
 * struct copied behind it.  work() runs on a pool thread and sees only that
 * copy; done() runs on the loop thread with the copy, then the pool wipes
 * (the job may hold a password) and frees the task.  Nothing the caller owns
 * is reachable from a pool thread, which is what makes cancel simple: a
 * request can cancel its task and free itself at once, whatever the task is
 * doing.
 *
 * States, all changed under the one mutex:
 *   QUEUED     on `queue`, waiting for a thread (cancel frees it at once);
 *   RUNNING    work() on a thread, on no list (cancel only marks it, the
 *              thread frees it when work() returns instead of posting it);
 *   DONE       on `finished`, waiting for the loop (cancel frees it at once);
 *   DELIVERING popped by the loop, done() running (cancel does nothing).
 * So a cancelled task never reaches done(), and every task is freed exactly
 * once: by cancel, by its thread, by delivery, or by destroy.
 *
 * Back to the loop.  A thread that finishes a task appends it to `finished`
 * and writes 1 to an eventfd the loop watches (h2o reads the counter for us).
 * One write per completion, after the append: a completion the loop misses
 * in one pass has written after that pass drained the counter, so the loop
 * wakes again.  A spurious wake-up finds an empty list and costs nothing.
 *
 * Threads block every signal (the worker takes its signals via signalfd, and
 * a thread with a signal unblocked would steal them).  The queue is bounded:
 * past `queue_max` waiting tasks, submit fails and the API answers 503 rather
 * than letting logins pile up seconds deep.  A pthread call that fails on a
 * mutex or condvar we own is a bug, not a condition to handle: it aborts.
 */
#include "worker/cpu_pool.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef enum { TASK_QUEUED, TASK_RUNNING, TASK_DONE, TASK_DELIVERING } task_state_t;

struct cpu_task_s {
    cpu_pool_t *pool;
    h2o_linklist_t link; /* in `queue` or `finished` */
    task_state_t state;
    bool cancelled; /* while RUNNING: the thread frees it */
    cpu_work_fn work;
    cpu_done_fn done;
    void *done_data;
    size_t job_size;
    max_align_t job[]; /* job_size bytes, the task's own copy */
};

struct cpu_pool_s {
    h2o_loop_t *loop;
    h2o_socket_t *wake; /* the eventfd, watched by the loop */
    int efd;
    pthread_mutex_t mutex;
    pthread_cond_t work_ready;
    h2o_linklist_t queue, finished;
    unsigned queue_max, queued, running;
    bool stopping;
    uint64_t submitted, rejected, completed, cancelled;
    unsigned nthreads;
    pthread_t threads[CPU_POOL_THREADS_MAX];
};

static void must(int rc)
{
    if (rc != 0)
        abort();
}

static void pool_lock(cpu_pool_t *pool)
{
    must(pthread_mutex_lock(&pool->mutex));
}

static void pool_unlock(cpu_pool_t *pool)
{
    must(pthread_mutex_unlock(&pool->mutex));
}

static void task_free(cpu_task_t *t)
{
    explicit_bzero(t->job, t->job_size);
    free(t);
}

/* Only a completion writes: the counter cannot reach 2^64 - 1, so the write
 * can fail only with EINTR. */
static void wake_loop(cpu_pool_t *pool)
{
    uint64_t one = 1;
    ssize_t n;
    while ((n = write(pool->efd, &one, sizeof(one))) < 0 && errno == EINTR)
        ;
    if (n != (ssize_t)sizeof(one))
        abort();
}

static void *thread_main(void *arg)
{
    cpu_pool_t *pool = arg;
    pool_lock(pool);
    for (;;) {
        while (!pool->stopping && h2o_linklist_is_empty(&pool->queue))
            must(pthread_cond_wait(&pool->work_ready, &pool->mutex));
        if (pool->stopping)
            break;
        cpu_task_t *t = H2O_STRUCT_FROM_MEMBER(cpu_task_t, link, pool->queue.next);
        h2o_linklist_unlink(&t->link);
        pool->queued--;
        pool->running++;
        t->state = TASK_RUNNING;
        pool_unlock(pool);
        t->work(t->job);
        pool_lock(pool);
        pool->running--;
        if (t->cancelled) {
            pool_unlock(pool);
            task_free(t);
        } else {
            t->state = TASK_DONE;
            h2o_linklist_insert(&pool->finished, &t->link);
            pool_unlock(pool);
            wake_loop(pool);
        }
        pool_lock(pool);
    }
    pool_unlock(pool);
    return NULL;
}

/* Runs on the loop: delivers every finished task, one at a time, so that a
 * done() may submit or cancel other tasks. */
static void on_wake(h2o_socket_t *sock, const char *err)
{
    cpu_pool_t *pool = sock->data;
    (void)err; /* an eventfd read cannot fail; deliver what is there anyway */
    h2o_buffer_consume(&sock->input, sock->input->size);
    for (;;) {
        pool_lock(pool);
        if (h2o_linklist_is_empty(&pool->finished)) {
            pool_unlock(pool);
            return;
        }
        cpu_task_t *t = H2O_STRUCT_FROM_MEMBER(cpu_task_t, link, pool->finished.next);
        h2o_linklist_unlink(&t->link);
        t->state = TASK_DELIVERING;
        pool->completed++;
        pool_unlock(pool);
        t->done(t->done_data, t->job);
        task_free(t);
    }
}

static void stop_threads(cpu_pool_t *pool)
{
    pool_lock(pool);
    pool->stopping = true;
    must(pthread_cond_broadcast(&pool->work_ready));
    pool_unlock(pool);
    for (unsigned i = 0; i < pool->nthreads; i++)
        must(pthread_join(pool->threads[i], NULL));
    pool->nthreads = 0;
}

/* New threads inherit the creating thread's mask: block everything around
 * pthread_create, then restore ours. */
static int start_threads(cpu_pool_t *pool, unsigned threads)
{
    sigset_t all, saved;
    int rc;
    if (sigfillset(&all) != 0)
        return -errno;
    if ((rc = pthread_sigmask(SIG_SETMASK, &all, &saved)) != 0)
        return -rc;
    for (unsigned i = 0; i < threads; i++) {
        if ((rc = pthread_create(&pool->threads[i], NULL, thread_main, pool)) != 0)
            break;
        pool->nthreads++;
    }
    must(pthread_sigmask(SIG_SETMASK, &saved, NULL));
    if (rc != 0) {
        stop_threads(pool);
        return -rc;
    }
    return 0;
}

static void drop_tasks(h2o_linklist_t *list)
{
    while (!h2o_linklist_is_empty(list)) {
        cpu_task_t *t = H2O_STRUCT_FROM_MEMBER(cpu_task_t, link, list->next);
        h2o_linklist_unlink(&t->link);
        task_free(t);
    }
}

int cpu_pool_create(cpu_pool_t **out, h2o_loop_t *loop, unsigned threads, unsigned queue_max)
{
    int rc;
    if (threads == 0 || threads > CPU_POOL_THREADS_MAX || queue_max == 0)
        return -EINVAL;
    cpu_pool_t *pool = calloc(1, sizeof(*pool));
    if (pool == NULL)
        return -ENOMEM;
    pool->loop = loop;
    pool->queue_max = queue_max;
    h2o_linklist_init_anchor(&pool->queue);
    h2o_linklist_init_anchor(&pool->finished);
    if ((rc = pthread_mutex_init(&pool->mutex, NULL)) != 0) {
        free(pool);
        return -rc;
    }
    if ((rc = pthread_cond_init(&pool->work_ready, NULL)) != 0) {
        pthread_mutex_destroy(&pool->mutex);
        free(pool);
        return -rc;
    }
    pool->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (pool->efd < 0) {
        rc = -errno;
        cpu_pool_destroy(pool);
        return rc;
    }
    if ((rc = start_threads(pool, threads)) != 0) {
        cpu_pool_destroy(pool);
        return rc;
    }
    pool->wake = h2o_evloop_socket_create(loop, pool->efd, 0);
    pool->wake->data = pool;
    h2o_socket_read_start(pool->wake, on_wake);
    *out = pool;
    return 0;
}

void cpu_pool_destroy(cpu_pool_t *pool)
{
    if (pool == NULL)
        return;
    stop_threads(pool);
    /* no thread left: the lists are ours alone */
    drop_tasks(&pool->queue);
    drop_tasks(&pool->finished);
    if (pool->wake != NULL) {
        h2o_socket_read_stop(pool->wake);
        h2o_socket_close(pool->wake); /* closes the eventfd */
    } else if (pool->efd >= 0) {
        close(pool->efd);
    }
    must(pthread_cond_destroy(&pool->work_ready));
    must(pthread_mutex_destroy(&pool->mutex));
    free(pool);
}

cpu_task_t *cpu_pool_submit(cpu_pool_t *pool, cpu_work_fn work, cpu_done_fn done, void *done_data, const void *job,
                            size_t job_size)
{
    if (work == NULL || done == NULL || job_size > CPU_POOL_JOB_MAX) {
        errno = EINVAL;
        return NULL;
    }
    cpu_task_t *t = malloc(sizeof(*t) + job_size);
    if (t == NULL) {
        pool_lock(pool);
        pool->rejected++;
        pool_unlock(pool);
        errno = ENOMEM;
        return NULL;
    }
    *t = (cpu_task_t){
        .pool = pool, .state = TASK_QUEUED, .work = work, .done = done, .done_data = done_data, .job_size = job_size};
    if (job != NULL)
        memcpy(t->job, job, job_size);
    else
        memset(t->job, 0, job_size);
    pool_lock(pool);
    if (pool->stopping || pool->queued >= pool->queue_max) {
        pool->rejected++;
        pool_unlock(pool);
        task_free(t);
        errno = EAGAIN;
        return NULL;
    }
    h2o_linklist_insert(&pool->queue, &t->link);
    pool->queued++;
    pool->submitted++;
    must(pthread_cond_signal(&pool->work_ready));
    pool_unlock(pool);
    return t;
}

void cpu_task_cancel(cpu_task_t *t)
{
    cpu_pool_t *pool = t->pool;
    bool free_now = false;
    pool_lock(pool);
    switch (t->state) {
    case TASK_QUEUED:
        h2o_linklist_unlink(&t->link);
        pool->queued--;
        pool->cancelled++;
        free_now = true;
        break;
    case TASK_RUNNING:
        if (!t->cancelled)
            pool->cancelled++;
        t->cancelled = true;
        break;
    case TASK_DONE:
        h2o_linklist_unlink(&t->link);
        pool->cancelled++;
        free_now = true;
        break;
    case TASK_DELIVERING: break;
    }
    pool_unlock(pool);
    if (free_now)
        task_free(t);
}

unsigned cpu_pool_room(cpu_pool_t *pool)
{
    pool_lock(pool);
    unsigned room = pool->stopping || pool->queued >= pool->queue_max ? 0 : pool->queue_max - pool->queued;
    pool_unlock(pool);
    return room;
}

void cpu_pool_get_stats(cpu_pool_t *pool, cpu_pool_stats_t *stats)
{
    pool_lock(pool);
    *stats = (cpu_pool_stats_t){
        .threads = pool->nthreads,
        .queued = pool->queued,
        .running = pool->running,
        .submitted = pool->submitted,
        .rejected = pool->rejected,
        .completed = pool->completed,
        .cancelled = pool->cancelled,
    };
    pool_unlock(pool);
}
