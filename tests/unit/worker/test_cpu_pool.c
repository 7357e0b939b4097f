/* Tests for src/worker/cpu_pool.c: completions on the loop thread, bounded
 * queue, cancel in every state, destroy with work outstanding.  Each test
 * drives a real h2o evloop; leaks and use-after-free show under valgrind and
 * ASan (CK_FORK=no), races under TSan. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "worker/cpu_pool.h"
#include "../fork_support.h"
#include "../check_main.h"

typedef struct {
    unsigned index;
    unsigned sleep_ms;
    atomic_int *gate; /* test-owned: work waits until it is set */
    atomic_int *started;
    uint64_t result;
    pthread_t thread;
    bool signals_blocked;
} job_t;

typedef struct {
    h2o_evloop_t *loop;
    cpu_pool_t *pool;
    pthread_t loop_thread;
    unsigned done_count;
    unsigned wrong_thread, wrong_result, pool_thread_is_loop, signals_unblocked;
    unsigned order[1024];
} ctx_t;

static uint64_t expected(unsigned index)
{
    return (uint64_t)index * index + 7;
}

static void on_work(void *p)
{
    job_t *job = p;
    if (job->started != NULL)
        atomic_store(job->started, 1);
    if (job->gate != NULL)
        while (!atomic_load(job->gate))
            usleep(500);
    if (job->sleep_ms > 0)
        usleep(job->sleep_ms * 1000);
    sigset_t set;
    pthread_sigmask(SIG_BLOCK, NULL, &set);
    int sigs[] = {SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGHUP, SIGCHLD, SIGPIPE};
    job->signals_blocked = true;
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        job->signals_blocked &= sigismember(&set, sigs[i]) == 1;
    job->thread = pthread_self();
    job->result = expected(job->index);
}

static void on_done(void *data, void *p)
{
    ctx_t *ctx = data;
    job_t *job = p;
    ctx->wrong_thread += !pthread_equal(pthread_self(), ctx->loop_thread);
    ctx->pool_thread_is_loop += pthread_equal(job->thread, ctx->loop_thread) != 0;
    ctx->wrong_result += job->result != expected(job->index);
    ctx->signals_unblocked += !job->signals_blocked;
    if (ctx->done_count < sizeof(ctx->order) / sizeof(ctx->order[0]))
        ctx->order[ctx->done_count] = job->index;
    ctx->done_count++;
}

/* A cancelled task's done(): `data` may already be freed, so reaching here
 * is a failure in itself (and a use-after-free under ASan if it looked). */
static void on_done_never(void *data, void *p)
{
    (void)data;
    (void)p;
    ck_abort_msg("done() ran for a cancelled or dropped task");
}

static void ctx_init(ctx_t *ctx, unsigned threads, unsigned queue_max)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->loop = h2o_evloop_create();
    ctx->loop_thread = pthread_self();
    ck_assert_int_eq(cpu_pool_create(&ctx->pool, ctx->loop, threads, queue_max), 0);
}

static void ctx_dispose(ctx_t *ctx)
{
    cpu_pool_destroy(ctx->pool);
    h2o_evloop_run(ctx->loop, 0); /* frees the closed eventfd socket */
    h2o_evloop_destroy(ctx->loop);
}

static cpu_task_t *submit(ctx_t *ctx, job_t job)
{
    return cpu_pool_submit(ctx->pool, on_work, on_done, ctx, &job, sizeof(job));
}

static void run_until(ctx_t *ctx, unsigned target)
{
    uint64_t deadline = now_ms() + 20000;
    while (ctx->done_count < target) {
        ck_assert_msg(now_ms() < deadline, "timed out with %u of %u done", ctx->done_count, target);
        h2o_evloop_run(ctx->loop, 10);
    }
}

/* Runs the loop for `ms` whatever happens. */
static void run_for(ctx_t *ctx, unsigned ms)
{
    uint64_t end = now_ms() + ms;
    while (now_ms() < end)
        h2o_evloop_run(ctx->loop, 5);
}

static void wait_for(atomic_int *flag)
{
    uint64_t deadline = now_ms() + 10000;
    while (!atomic_load(flag)) {
        ck_assert_msg(now_ms() < deadline, "a pool thread never started the task");
        usleep(200);
    }
}

/* Running counts drop and a finished task is posted in one critical section:
 * once the pool is idle, every finished task waits for the loop. */
static void wait_idle(cpu_pool_t *pool)
{
    uint64_t deadline = now_ms() + 10000;
    for (;;) {
        cpu_pool_stats_t st;
        cpu_pool_get_stats(pool, &st);
        if (st.queued == 0 && st.running == 0)
            return;
        ck_assert_msg(now_ms() < deadline, "the pool never went idle");
        usleep(200);
    }
}

START_TEST(test_many_tasks_complete_on_the_loop)
{
    enum { N = 1000 };
    ctx_t ctx;
    ctx_init(&ctx, 4, N);
    for (unsigned i = 0; i < N; i++)
        ck_assert_ptr_nonnull(submit(&ctx, (job_t){.index = i}));
    run_until(&ctx, N);
    ck_assert_uint_eq(ctx.wrong_thread, 0);
    ck_assert_uint_eq(ctx.pool_thread_is_loop, 0);
    ck_assert_uint_eq(ctx.wrong_result, 0);
    ck_assert_uint_eq(ctx.signals_unblocked, 0);
    bool seen[N] = {false};
    for (unsigned i = 0; i < N; i++) {
        ck_assert(!seen[ctx.order[i]]);
        seen[ctx.order[i]] = true;
    }
    cpu_pool_stats_t st;
    cpu_pool_get_stats(ctx.pool, &st);
    ck_assert_uint_eq(st.threads, 4);
    ck_assert_uint_eq(st.submitted, N);
    ck_assert_uint_eq(st.completed, N);
    ck_assert_uint_eq(st.rejected, 0);
    ctx_dispose(&ctx);
}
END_TEST

/* A slow first task finishes last: results follow their own job, not the
 * submission order. */
START_TEST(test_completion_order_is_independent)
{
    ctx_t ctx;
    ctx_init(&ctx, 2, 16);
    ck_assert_ptr_nonnull(submit(&ctx, (job_t){.index = 0, .sleep_ms = 300}));
    for (unsigned i = 1; i <= 5; i++)
        ck_assert_ptr_nonnull(submit(&ctx, (job_t){.index = i, .sleep_ms = 1}));
    run_until(&ctx, 6);
    ck_assert_uint_eq(ctx.wrong_result, 0);
    ck_assert_uint_eq(ctx.wrong_thread, 0);
    ck_assert_uint_eq(ctx.order[5], 0);
    ctx_dispose(&ctx);
}
END_TEST

/* The caller's signal mask is its own again after create. */
START_TEST(test_caller_mask_is_restored)
{
    sigset_t before, after;
    ck_assert_int_eq(pthread_sigmask(SIG_BLOCK, NULL, &before), 0);
    ctx_t ctx;
    ctx_init(&ctx, 3, 4);
    ck_assert_int_eq(pthread_sigmask(SIG_BLOCK, NULL, &after), 0);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig < SIGRTMIN || sig > SIGRTMAX)
            ck_assert_int_eq(sigismember(&before, sig), sigismember(&after, sig));
    ctx_dispose(&ctx);
}
END_TEST

START_TEST(test_queue_full_returns_null)
{
    ctx_t ctx;
    atomic_int gate = 0, started = 0;
    ctx_init(&ctx, 1, 2);
    ck_assert_uint_eq(cpu_pool_room(ctx.pool), 2);
    ck_assert_ptr_nonnull(submit(&ctx, (job_t){.index = 0, .gate = &gate, .started = &started}));
    wait_for(&started); /* the thread holds it: the queue is empty again */
    ck_assert_uint_eq(cpu_pool_room(ctx.pool), 2);
    ck_assert_ptr_nonnull(submit(&ctx, (job_t){.index = 1}));
    ck_assert_uint_eq(cpu_pool_room(ctx.pool), 1);
    ck_assert_ptr_nonnull(submit(&ctx, (job_t){.index = 2}));
    ck_assert_uint_eq(cpu_pool_room(ctx.pool), 0);
    errno = 0;
    ck_assert_ptr_null(submit(&ctx, (job_t){.index = 3}));
    ck_assert_int_eq(errno, EAGAIN);
    atomic_store(&gate, 1);
    run_until(&ctx, 3);
    /* room again once the queue drained */
    ck_assert_uint_eq(cpu_pool_room(ctx.pool), 2);
    ck_assert_ptr_nonnull(submit(&ctx, (job_t){.index = 4}));
    run_until(&ctx, 4);
    cpu_pool_stats_t st;
    cpu_pool_get_stats(ctx.pool, &st);
    ck_assert_uint_eq(st.rejected, 1);
    ck_assert_uint_eq(st.completed, 4);
    ctx_dispose(&ctx);
}
END_TEST

START_TEST(test_cancel_before_start)
{
    ctx_t ctx;
    atomic_int gate = 0, started = 0;
    ctx_init(&ctx, 1, 8);
    ck_assert_ptr_nonnull(submit(&ctx, (job_t){.index = 0, .gate = &gate, .started = &started}));
    wait_for(&started);
    job_t job = {.index = 1};
    void *request = malloc(64);
    cpu_task_t *t = cpu_pool_submit(ctx.pool, on_work, on_done_never, request, &job, sizeof(job));
    ck_assert_ptr_nonnull(t);
    ck_assert_ptr_nonnull(submit(&ctx, (job_t){.index = 2}));
    cpu_task_cancel(t);
    free(request); /* the request goes away with its task */
    atomic_store(&gate, 1);
    run_until(&ctx, 2);
    run_for(&ctx, 20);
    ck_assert_uint_eq(ctx.done_count, 2);
    cpu_pool_stats_t st;
    cpu_pool_get_stats(ctx.pool, &st);
    ck_assert_uint_eq(st.cancelled, 1);
    ck_assert_uint_eq(st.completed, 2);
    ck_assert_uint_eq(st.queued, 0);
    ctx_dispose(&ctx);
}
END_TEST

START_TEST(test_cancel_while_running)
{
    ctx_t ctx;
    atomic_int gate = 0, started = 0;
    ctx_init(&ctx, 1, 8);
    job_t job = {.index = 0, .gate = &gate, .started = &started};
    void *request = malloc(64);
    cpu_task_t *t = cpu_pool_submit(ctx.pool, on_work, on_done_never, request, &job, sizeof(job));
    ck_assert_ptr_nonnull(t);
    wait_for(&started);
    cpu_task_cancel(t);
    cpu_task_cancel(t); /* still running: a second cancel is harmless */
    free(request);
    atomic_store(&gate, 1);
    /* the same single thread runs this one after it dropped the cancelled */
    ck_assert_ptr_nonnull(submit(&ctx, (job_t){.index = 1}));
    run_until(&ctx, 1);
    run_for(&ctx, 20);
    ck_assert_uint_eq(ctx.done_count, 1);
    ck_assert_uint_eq(ctx.order[0], 1);
    cpu_pool_stats_t st;
    cpu_pool_get_stats(ctx.pool, &st);
    ck_assert_uint_eq(st.cancelled, 1);
    ck_assert_uint_eq(st.running, 0);
    ctx_dispose(&ctx);
}
END_TEST

/* Finished, posted, not yet delivered: the loop must drop it. */
START_TEST(test_cancel_after_work_before_delivery)
{
    ctx_t ctx;
    ctx_init(&ctx, 2, 8);
    job_t job = {.index = 0};
    void *request = malloc(64);
    cpu_task_t *t = cpu_pool_submit(ctx.pool, on_work, on_done_never, request, &job, sizeof(job));
    ck_assert_ptr_nonnull(t);
    wait_idle(ctx.pool);
    cpu_task_cancel(t);
    free(request);
    run_for(&ctx, 50); /* the eventfd is readable: the loop finds nothing */
    ck_assert_uint_eq(ctx.done_count, 0);
    ck_assert_ptr_nonnull(submit(&ctx, (job_t){.index = 1}));
    run_until(&ctx, 1);
    ctx_dispose(&ctx);
}
END_TEST

typedef struct {
    ctx_t *ctx;
    cpu_task_t *self, *victim;
    unsigned chained;
} chain_t;

/* done() may cancel itself (no effect), cancel another task, and submit. */
static void on_done_chain(void *data, void *p)
{
    chain_t *c = data;
    (void)p;
    cpu_task_cancel(c->self);
    if (c->victim != NULL) {
        cpu_task_cancel(c->victim);
        c->victim = NULL;
    }
    if (c->chained < 10) {
        c->chained++;
        job_t job = {.index = c->chained};
        c->self = cpu_pool_submit(c->ctx->pool, on_work, on_done_chain, c, &job, sizeof(job));
        ck_assert_ptr_nonnull(c->self);
    }
    c->ctx->done_count++;
}

START_TEST(test_done_may_submit_and_cancel)
{
    ctx_t ctx;
    atomic_int gate = 0, started = 0;
    ctx_init(&ctx, 2, 16); /* one thread may sit on the victim until the end */
    chain_t c = {.ctx = &ctx};
    job_t job = {.index = 0};
    c.self = cpu_pool_submit(ctx.pool, on_work, on_done_chain, &c, &job, sizeof(job));
    ck_assert_ptr_nonnull(c.self);
    job_t blocked = {.index = 99, .gate = &gate, .started = &started};
    c.victim = cpu_pool_submit(ctx.pool, on_work, on_done_never, NULL, &blocked, sizeof(blocked));
    ck_assert_ptr_nonnull(c.victim);
    run_until(&ctx, 11);
    atomic_store(&gate, 1);
    wait_idle(ctx.pool);
    run_for(&ctx, 20);
    ck_assert_uint_eq(ctx.done_count, 11);
    ck_assert_uint_eq(c.chained, 10);
    ctx_dispose(&ctx);
}
END_TEST

/* Destroy waits for running work, then drops queued and undelivered tasks
 * without calling done(); nothing leaks. */
START_TEST(test_destroy_with_pending_tasks)
{
    ctx_t ctx;
    ctx_init(&ctx, 2, 64);
    for (unsigned i = 0; i < 2; i++) {
        job_t job = {.index = i};
        ck_assert_ptr_nonnull(cpu_pool_submit(ctx.pool, on_work, on_done_never, NULL, &job, sizeof(job)));
    }
    wait_idle(ctx.pool); /* two finished, undelivered */
    for (unsigned i = 2; i < 40; i++) {
        job_t job = {.index = i, .sleep_ms = 20};
        ck_assert_ptr_nonnull(cpu_pool_submit(ctx.pool, on_work, on_done_never, NULL, &job, sizeof(job)));
    }
    usleep(5000); /* let the threads pick some up */
    uint64_t start = now_ms();
    ctx_dispose(&ctx);
    ck_assert_uint_lt(now_ms() - start, 1000); /* did not run the 38 * 20 ms */
}
END_TEST

START_TEST(test_invalid_arguments)
{
    h2o_evloop_t *loop = h2o_evloop_create();
    cpu_pool_t *pool = NULL;
    ck_assert_int_eq(cpu_pool_create(&pool, loop, 0, 8), -EINVAL);
    ck_assert_int_eq(cpu_pool_create(&pool, loop, CPU_POOL_THREADS_MAX + 1, 8), -EINVAL);
    ck_assert_int_eq(cpu_pool_create(&pool, loop, 1, 0), -EINVAL);
    ck_assert_ptr_null(pool);
    ck_assert_int_eq(cpu_pool_create(&pool, loop, 1, 1), 0);
    errno = 0;
    ck_assert_ptr_null(cpu_pool_submit(pool, on_work, on_done, NULL, NULL, CPU_POOL_JOB_MAX + 1));
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_ptr_null(cpu_pool_submit(pool, NULL, on_done, NULL, NULL, 0));
    ck_assert_ptr_null(cpu_pool_submit(pool, on_work, NULL, NULL, NULL, 0));
    cpu_pool_destroy(pool);
    cpu_pool_destroy(NULL);
    h2o_evloop_run(loop, 0);
    h2o_evloop_destroy(loop);
}
END_TEST

static void on_work_check_zeroed(void *p)
{
    unsigned char *b = p;
    for (size_t i = 0; i < 256; i++)
        if (b[i] != 0)
            abort();
    b[0] = 42;
}

static void on_done_zeroed(void *data, void *p)
{
    ctx_t *ctx = data;
    ctx->wrong_result += ((unsigned char *)p)[0] != 42;
    ctx->done_count++;
}

/* A NULL job gives work() a zeroed buffer of the requested size. */
START_TEST(test_null_job_is_zeroed)
{
    ctx_t ctx;
    ctx_init(&ctx, 1, 4);
    ck_assert_ptr_nonnull(cpu_pool_submit(ctx.pool, on_work_check_zeroed, on_done_zeroed, &ctx, NULL, 256));
    run_until(&ctx, 1);
    ck_assert_uint_eq(ctx.wrong_result, 0);
    ctx_dispose(&ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cpu_pool");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_many_tasks_complete_on_the_loop);
    tcase_add_test(tc, test_completion_order_is_independent);
    tcase_add_test(tc, test_caller_mask_is_restored);
    tcase_add_test(tc, test_queue_full_returns_null);
    tcase_add_test(tc, test_cancel_before_start);
    tcase_add_test(tc, test_cancel_while_running);
    tcase_add_test(tc, test_cancel_after_work_before_delivery);
    tcase_add_test(tc, test_done_may_submit_and_cancel);
    tcase_add_test(tc, test_destroy_with_pending_tasks);
    tcase_add_test(tc, test_invalid_arguments);
    tcase_add_test(tc, test_null_job_is_zeroed);
    suite_add_tcase(s, tc);
    return check_run(s);
}
