/*
 * A worker's life: set up, announce ready, serve, drain, exit.
 *
 * Signals arrive through a signalfd watched by the loop (a handler would make
 * h2o_evloop_run return EINTR at random points): TERM/INT stop at once, QUIT
 * drains (stop accepting, let in-flight requests finish, close idle keep-alive
 * connections, exit when none is left or at the drain deadline), USR1 reopens
 * the log, USR2 recycles the database connections (the master forwards it
 * from the worker that served POST /database/recycle), HUP is the master's
 * business and ignored here.  The lifeline pipe reports the master's death,
 * any death, and the worker then stops at once so that no orphan keeps a
 * port or the shm region.
 */
#include "worker/worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/child.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/version.h"
#include "worker/cpu_pool.h"
#include "ws/ws.h"

#define WORKER_DRAIN_DEADLINE_MS 20000
#define WORKER_TICK_MS           100

static void worker_stop(worker_t *w, const char *why)
{
    if (!w->stopping)
        log_info("stopping: %s", why);
    w->stopping = true;
}

static void worker_drain(worker_t *w)
{
    if (w->draining)
        return;
    w->draining = true;
    log_info("draining %u connections", w->connections);
    worker_http_start_drain(w);
    ws_start_drain(w); /* counted in w->connections until they close */
    h2o_timeout_link(w->loop, &w->drain_timeout, &w->drain_deadline);
}

static void on_drain_deadline(h2o_timeout_entry_t *entry)
{
    worker_t *w = H2O_STRUCT_FROM_MEMBER(worker_t, drain_deadline, entry);
    log_warn(0, "drain deadline reached with %u connections open", w->connections);
    worker_stop(w, "drain deadline");
}

/* Periodic housekeeping: the ring records nobody woke us for, and the
 * progress of a drain. */
static void on_tick(h2o_timeout_entry_t *entry)
{
    worker_t *w = H2O_STRUCT_FROM_MEMBER(worker_t, tick, entry);
    worker_ring_poll(w);
    if (w->draining) {
        worker_http_close_idle(w, clock_monotonic_ms());
        if (w->connections == 0)
            worker_stop(w, "drained");
    }
    h2o_timeout_link(w->loop, &w->tick_timeout, &w->tick);
}

/* SIGUSR2: recycle the database connections.  The master forwards the one a
 * worker sent it (POST /database/recycle) to every worker with the sender's
 * pid as value (sigqueue); the sender has recycled already. */
static void on_recycle_signal(worker_t *w, const struct signalfd_siginfo *si)
{
    if (si->ssi_code == SI_QUEUE && (pid_t)si->ssi_int == getpid())
        return;
    log_info("recycling database connections");
    db_router_recycle(w->router);
}

static void on_signal(void *data, const struct signalfd_siginfo *si)
{
    worker_t *w = data;
    switch (si->ssi_signo) {
    case SIGTERM:
    case SIGINT: worker_stop(w, "fast stop"); break;
    case SIGQUIT: worker_drain(w); break;
    case SIGUSR2: on_recycle_signal(w, si); break;
    default: break; /* USR1 is the watch's; HUP the master's */
    }
}

static void on_orphan(void *data)
{
    worker_stop(data, "the master is gone");
}

static int open_database(worker_t *w)
{
    int rc = db_router_create(&w->router, w->loop, &w->config->sql, config_worker_count(w->config));
    if (rc == 0)
        w->db = db_router_master(w->router);
    return rc;
}

int worker_signal_master(worker_t *w, int sig)
{
    if (getppid() != w->master_pid)
        return -ESRCH;
    return kill(w->master_pid, sig) == 0 ? 0 : -errno;
}

static int worker_setup(worker_t *w)
{
    int rc;
    w->loop = h2o_evloop_create();
    w->master_pid = getppid(); /* the lifeline check made sure it is the master */
    memcpy(w->node_id, shm_region_header(w->params->shm)->node_id, sizeof(w->node_id));
    /* Mattermost: {version}.{build}.{client config hash}.{licensed} */
    snprintf(w->version_id, sizeof(w->version_id), "%s.%s.%s.false", CHORUS_API_VERSION, CHORUS_BUILD_NUMBER,
             w->params->config_hash);
    h2o_timeout_init(w->loop, &w->drain_timeout, WORKER_DRAIN_DEADLINE_MS);
    w->drain_deadline.cb = on_drain_deadline;
    h2o_timeout_init(w->loop, &w->tick_timeout, WORKER_TICK_MS);
    w->tick.cb = on_tick;
    h2o_timeout_link(w->loop, &w->tick_timeout, &w->tick);
    if ((rc = child_watch_start(&w->watch, w->loop, w->params->lifeline_fd, on_signal, on_orphan, w)) != 0) {
        log_error(-rc, "cannot watch signals");
        return rc;
    }
    if ((rc = worker_roles_init(&w->roles)) != 0) {
        log_error(-rc, "cannot hold the default roles");
        return rc;
    }
    if ((rc = open_database(w)) != 0) {
        log_error(-rc, "cannot create the database pool");
        return rc;
    }
    /* bcrypt (≈55 ms) must never run on the loop (worker.h: the bounds) */
    if ((rc = cpu_pool_create(&w->cpu, w->loop, WORKER_CPU_THREADS, WORKER_CPU_QUEUE_MAX)) != 0) {
        log_error(-rc, "cannot start the CPU thread pool");
        return rc;
    }
    if ((rc = worker_ring_start(w)) != 0)
        return rc;
    if ((rc = ws_init(w)) != 0) {
        log_error(-rc, "cannot start the WebSocket hub");
        return rc;
    }
    return worker_http_setup(w);
}

int worker_main(const child_params_t *params)
{
    static worker_t worker;
    worker_t *w = &worker;
    memset(w, 0, sizeof(*w));
    w->params = params;
    w->config = params->config;
    snprintf(w->process_name, sizeof(w->process_name), "worker-%u", params->slot);
    int rc = log_open(&w->config->log, w->process_name);
    if (rc != 0)
        log_warn(-rc, "LogSettings.FileLocation: cannot open %s/%s.log", log_directory(&w->config->log),
                 w->process_name);
    if ((rc = worker_setup(w)) != 0)
        return rc == -EINVAL ? WORKER_EXIT_FATAL : 1;
    if (control_send(params->control_fd, CONTROL_READY) != 0) {
        log_error(errno, "cannot tell the master we are ready");
        return 1;
    }
    log_info("worker %u (generation %u) serving", params->slot, params->generation);
    while (!w->stopping)
        h2o_evloop_run(w->loop, INT32_MAX);
    worker_ring_stop(w);
    ws_dispose(w);
    worker_http_dispose(w);
    db_router_destroy(w->router);
    worker_roles_free(&w->roles);
    if (w->cpu != NULL)
        cpu_pool_destroy(w->cpu);
    log_info("worker %u exiting (%llu ring events, %llu overruns; session cache %llu hits, %llu misses)", params->slot,
             (unsigned long long)w->ring_events, (unsigned long long)w->ring_overruns,
             (unsigned long long)w->session_cache_hits, (unsigned long long)w->session_cache_misses);
    log_close();
    return 0;
}
