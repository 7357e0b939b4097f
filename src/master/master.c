/*
 * The master: supervisor of one node.
 *
 * It reads the config, opens the listeners, creates the shm region and the
 * ring's eventfds, then forks a migration child and the workers, and from
 * then on only supervises.  Its loop is a poll() over a signalfd and the
 * control pipe, with a timeout for the next timer (a delayed respawn, a reload
 * or stop deadline); every decision is taken in the loop, none in a handler.
 *
 * Generations.  Each set of workers started with one config is a generation.
 * A reload (HUP) validates the new config first (an invalid one is logged key
 * by key and the old generation keeps serving), forks the new generation on
 * the same listening sockets, waits for every new worker's "ready" message,
 * and only then tells the old generation to drain (SIGQUIT).  Since the
 * sockets stay open in the master, no connection is lost in between.
 *
 * Like PostgreSQL's postmaster, the master creates the shm region but touches
 * nothing in it beyond the ring's consumer table, so a child that corrupts
 * shared state cannot take the supervisor down with it.
 */
#include "master/master.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "core/backoff.h"
#include "core/clock.h"
#include "core/id.h"
#include "core/log.h"
#include "core/tls.h"
#include "core/version.h"
#include "db/migrate.h"
#include "jobs/jobs.h"
#include "master/lifeline.h"
#include "master/listen.h"
#include "master/pidfile.h"
#include "master/process.h"
#include "shm/region.h"
#include "shm/ring.h"
#include "worker/main.h"

#define RELOAD_TIMEOUT_MS        15000
#define FAST_STOP_TIMEOUT_MS     5000
#define GRACEFUL_STOP_TIMEOUT_MS 30000
#define RESPAWN_BACKOFF_MIN_MS   250
#define RESPAWN_BACKOFF_MAX_MS   30000
#define QUICK_DEATH_MS           2000
#define SPAWN_RETRY_MS           1000 /* after a fork or a table slot failed */
#define MASTER_IDLE_POLL_MS      1000 /* the longest the loop sleeps */

typedef enum { MASTER_RUNNING, MASTER_STOPPING } master_state_t;

typedef struct {
    unsigned failures;   /* consecutive quick deaths */
    int64_t respawn_at;  /* monotonic ms; 0 = nothing scheduled */
    unsigned generation; /* of the process to respawn */
} master_slot_t;

typedef struct {
    config_t config; /* the serving generation's */
    char config_hash[65];
    config_t next_config; /* during a reload, until the new generation is ready */
    char next_hash[65];
    bool reloading;
    int64_t reload_deadline;
    unsigned generation;      /* serving */
    unsigned next_generation; /* starting, during a reload */

    shm_region_t shm;
    int ring_eventfds[SHM_RING_CONSUMERS_MAX];
    listen_set_t listeners;
    lifeline_t lifeline;
    int control_fds[2];
    int signal_fd;
    sigset_t blocked;
    process_table_t children;
    master_slot_t slots[LISTEN_SLOTS_MAX]; /* the workers', one per listener slot */
    master_slot_t singles[PROCESS_KINDS];  /* the one-per-node children's, by kind */
    bool schema_ready;

    master_state_t state;
    int exit_status;
    int64_t stop_deadline;
    bool stop_killed;
} master_t;

static void master_respawn_due(master_t *m);
static void reload_abort(master_t *m);
static void stop_begin(master_t *m, bool graceful);

static const config_t *config_of_generation(const master_t *m, unsigned generation)
{
    return m->reloading && generation == m->next_generation ? &m->next_config : &m->config;
}

static const char *hash_of_generation(const master_t *m, unsigned generation)
{
    return m->reloading && generation == m->next_generation ? m->next_hash : m->config_hash;
}

/* In a new child: what every child does before its own entry point. */
static void child_setup(master_t *m, pid_t master_pid)
{
    close(m->signal_fd);
    close(m->control_fds[0]);
    if (lifeline_attach_child(&m->lifeline, master_pid) != 0)
        _exit(0);
}

static void close_other_listeners(master_t *m, int keep)
{
    for (unsigned i = 0; i < m->listeners.count; i++)
        if ((int)i != keep && m->listeners.fds[i] >= 0)
            close(m->listeners.fds[i]);
}

/* ---- the kinds of children ------------------------------------------------------- */

static bool always(const master_t *m)
{
    (void)m;
    return true;
}

static bool cluster_enabled(const master_t *m)
{
    return m->config.cluster.enable;
}

static bool jobs_enabled(const master_t *m)
{
    return m->config.job.run_jobs;
}

typedef struct {
    const char *name;                           /* in the log */
    bool ring;                                  /* consumes the event ring */
    bool single;                                /* one per node, respawned into m->singles[kind] */
    bool plain_signals;                         /* blocks (on libpq): takes signals the ordinary way, not by signalfd */
    bool (*wanted)(const master_t *m);          /* runs (and is respawned) while true */
    int (*entry)(const child_params_t *params); /* runs in the new child; returns its exit status */
} child_kind_t;

static const child_kind_t child_kinds[PROCESS_KINDS] = {
    [PROCESS_WORKER] = {"worker", true, false, false, always, worker_main},
    [PROCESS_MIGRATE] = {"migration process", false, true, true, always, migrate_main},
    [PROCESS_CLUSTER] = {"cluster process", true, true, false, cluster_enabled, cluster_main},
    [PROCESS_JOBS] = {"jobs process", false, true, false, jobs_enabled, jobs_main},
};

/* In the new child: what it is started with.  A one-per-node child is
 * spawned with the serving generation, so its config is the serving one
 * (a reload replaces it: reload_finish). */
static int run_child(master_t *m, const child_kind_t *k, process_kind_t kind, unsigned slot, unsigned generation,
                     int ring_slot)
{
    if (k->plain_signals)
        sigprocmask(SIG_UNBLOCK, &m->blocked, NULL);
    child_params_t params = {
        .config = config_of_generation(m, generation),
        .config_hash = hash_of_generation(m, generation),
        .shm = &m->shm,
        .ring_eventfds = m->ring_eventfds,
        .ring_slot = ring_slot,
        .listen_fd = kind == PROCESS_WORKER ? m->listeners.fds[slot] : -1,
        .lifeline_fd = m->lifeline.read_fd,
        .control_fd = m->control_fds[1],
        .slot = slot,
        .generation = generation,
    };
    return k->entry(&params);
}

/* Forks a child of `kind` (a worker for listener `slot` of `generation`). */
static int spawn_child(master_t *m, process_kind_t kind, unsigned slot, unsigned generation)
{
    const child_kind_t *k = &child_kinds[kind];
    shm_ring_t *ring = shm_region_ring(&m->shm);
    int ring_slot = k->ring ? shm_ring_consumer_find_free(ring) : -1;
    process_t *p = process_table_add(&m->children);
    if ((k->ring && ring_slot < 0) || p == NULL) {
        log_error(0, "cannot start the %s: too many processes", k->name);
        return -ENOSPC;
    }
    pid_t master_pid = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int rc = errno;
        log_error(rc, "fork of the %s failed", k->name);
        return -rc;
    }
    if (pid == 0) {
        child_setup(m, master_pid);
        close_other_listeners(m, kind == PROCESS_WORKER ? (int)slot : -1);
        _exit(run_child(m, k, kind, slot, generation, ring_slot));
    }
    if (k->ring)
        shm_ring_consumer_attach(ring, (unsigned)ring_slot, pid);
    *p = (process_t){.pid = pid,
                     .kind = kind,
                     .slot = slot,
                     .generation = generation,
                     .ring_slot = ring_slot,
                     .started_ms = clock_monotonic_ms()};
    if (kind == PROCESS_WORKER)
        log_info("started worker %u (generation %u) pid %d", slot, generation, (int)pid);
    else if (kind != PROCESS_MIGRATE)
        log_info("started the %s pid %d", k->name, (int)pid);
    return 0;
}

/* The respawn state of a child: its listener slot's, or its kind's. */
static master_slot_t *slot_of(master_t *m, process_kind_t kind, unsigned slot)
{
    return child_kinds[kind].single ? &m->singles[kind] : &m->slots[slot];
}

/* Spawns, or tries again in SPAWN_RETRY_MS. */
static void spawn_or_retry(master_t *m, process_kind_t kind, unsigned slot, unsigned generation)
{
    if (spawn_child(m, kind, slot, generation) != 0) {
        master_slot_t *s = slot_of(m, kind, slot);
        s->respawn_at = clock_monotonic_ms() + SPAWN_RETRY_MS;
        s->generation = generation;
    }
}

/* A one-per-node child, if the config wants one, with the serving generation. */
static void spawn_single(master_t *m, process_kind_t kind)
{
    m->singles[kind] = (master_slot_t){0};
    if (child_kinds[kind].wanted(m))
        spawn_or_retry(m, kind, 0, m->generation);
}

static process_t *find_kind(master_t *m, process_kind_t kind)
{
    for (process_t *p = NULL; (p = process_table_next(&m->children, p)) != NULL;)
        if (p->kind == kind && !p->retiring)
            return p;
    return NULL;
}

/* Signals every child, or (workers_only) the workers of generations below
 * `generation_below` (-1: all workers).  The migration child runs with
 * default dispositions: it must get nothing but TERM and KILL. */
static void signal_children(master_t *m, int sig, bool workers_only, int generation_below)
{
    for (process_t *p = NULL; (p = process_table_next(&m->children, p)) != NULL;) {
        if (workers_only && p->kind != PROCESS_WORKER)
            continue;
        if (generation_below >= 0 && p->generation >= (unsigned)generation_below)
            continue;
        if (kill(p->pid, sig) != 0 && errno != ESRCH)
            log_warn(errno, "kill(%d, %d)", (int)p->pid, sig);
    }
}

static void schedule_respawn(master_slot_t *s, int64_t lived_ms, const char *what)
{
    s->failures = lived_ms < QUICK_DEATH_MS ? s->failures + 1 : 0;
    /* the first quick death respawns at once, the next ones back off */
    int64_t delay =
        s->failures < 2 ? 0 : backoff_delay_ms(RESPAWN_BACKOFF_MIN_MS, RESPAWN_BACKOFF_MAX_MS, s->failures - 2);
    s->respawn_at = clock_monotonic_ms() + delay;
    if (delay > 0)
        log_warn(0, "%s keeps dying: respawn in %lld ms", what, (long long)delay);
}

static void on_child_exit(master_t *m, process_t *p, int status)
{
    int64_t lived = clock_monotonic_ms() - p->started_ms;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (p->ring_slot >= 0)
        shm_ring_consumer_detach(shm_region_ring(&m->shm), (unsigned)p->ring_slot);

    const child_kind_t *k = &child_kinds[p->kind];
    if (p->kind != PROCESS_WORKER && p->kind != PROCESS_MIGRATE) {
        if (WIFSIGNALED(status))
            log_warn(0, "%s pid %d killed by signal %d", k->name, (int)p->pid, WTERMSIG(status));
        else
            log_info("%s pid %d exited with status %d", k->name, (int)p->pid, code);
        if (m->state == MASTER_RUNNING && !p->retiring && k->wanted(m))
            schedule_respawn(&m->singles[p->kind], lived, k->name);
        return;
    }
    if (p->kind == PROCESS_MIGRATE) {
        if (code == 0) {
            m->schema_ready = true;
            m->singles[PROCESS_MIGRATE].failures = 0;
        } else if (m->state == MASTER_RUNNING) {
            log_error(0, "migration process exited with status %d", code);
            schedule_respawn(&m->singles[PROCESS_MIGRATE], 0, k->name);
        }
        return;
    }
    if (WIFSIGNALED(status))
        log_warn(0, "worker %u (generation %u) pid %d killed by signal %d", p->slot, p->generation, (int)p->pid,
                 WTERMSIG(status));
    else
        log_info("worker %u (generation %u) pid %d exited with status %d", p->slot, p->generation, (int)p->pid, code);

    bool current = p->generation == m->generation || (m->reloading && p->generation == m->next_generation);
    if (m->state != MASTER_RUNNING || p->retiring || !current)
        return;
    if (code == WORKER_EXIT_FATAL) {
        /* its socket would take a share of the connections and never answer:
         * a failed reload falls back to the old generation, a serving
         * generation that cannot run stops the node (the balancer moves on) */
        if (m->reloading && p->generation == m->next_generation) {
            log_error(0, "worker %u of generation %u cannot run with the new config", p->slot, p->generation);
            reload_abort(m);
        } else {
            log_error(0, "worker %u cannot run with this config: stopping the node", p->slot);
            m->exit_status = 1;
            stop_begin(m, false);
        }
        return;
    }
    /* A worker of a starting generation that dies is part of a failed reload
     * unless it is simply respawned: treat both generations alike. */
    char what[64];
    snprintf(what, sizeof(what), "worker %u", p->slot);
    m->slots[p->slot].generation = p->generation;
    schedule_respawn(&m->slots[p->slot], lived, what);
}

static void reap_children(master_t *m)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        process_t *p = process_table_find(&m->children, pid);
        if (p == NULL)
            continue;
        process_t copy = *p;
        process_table_remove(p);
        on_child_exit(m, &copy, status);
    }
}

static void log_config_errors(const config_errors_t *errors, const char *prefix)
{
    for (size_t i = 0; i < errors->count; i++)
        log_error(0, "%s%s", prefix, errors->lines[i]);
    if (errors->dropped > 0)
        log_error(0, "%s%zu more problems", prefix, errors->dropped);
    for (size_t i = 0; i < errors->ignored_count; i++)
        log_debug("config: unknown key %s ignored", errors->ignored[i]);
}

/* Keys whose change needs a restart keep their running value. */
static void keep_restart_only_keys(const config_t *running, config_t *next)
{
    if (strcmp(running->service.listen_address, next->service.listen_address) != 0) {
        log_warn(0, "ServiceSettings.ListenAddress: a change needs a restart; still listening on \"%s\"",
                 running->service.listen_address);
        char *kept = strdup(running->service.listen_address);
        if (kept != NULL) {
            free(next->service.listen_address);
            next->service.listen_address = kept;
        }
    }
    if (strcmp(running->process.pid_file, next->process.pid_file) != 0) {
        log_warn(0, "ProcessSettings.PidFile: a change needs a restart; keeping \"%s\"", running->process.pid_file);
        char *kept = strdup(running->process.pid_file);
        if (kept != NULL) {
            free(next->process.pid_file);
            next->process.pid_file = kept;
        }
    }
    if (running->process.shm_size_mb != next->process.shm_size_mb) {
        log_warn(0, "ProcessSettings.ShmSizeMB: a change needs a restart; keeping %lld",
                 (long long)running->process.shm_size_mb);
        next->process.shm_size_mb = running->process.shm_size_mb;
    }
    if (running->rate_limit.memory_store_size != next->rate_limit.memory_store_size) {
        log_warn(0, "RateLimitSettings.MemoryStoreSize: a change needs a restart; keeping %lld",
                 (long long)running->rate_limit.memory_store_size);
        next->rate_limit.memory_store_size = running->rate_limit.memory_store_size;
    }
}

static void reload_begin(master_t *m)
{
    if (m->reloading) {
        log_warn(0, "reload requested while one is in progress: ignored");
        return;
    }
    config_errors_t errors;
    config_t next;
    log_info("reloading %s", m->config.path);
    if (config_load(m->config.path, &next, &errors) != 0) {
        log_config_errors(&errors, "reload refused, the old config keeps serving: ");
        return;
    }
    char tls_error[512];
    if (tls_check(&next.service, tls_error, sizeof(tls_error)) != 0) {
        log_error(0, "reload refused, the old config keeps serving: %s", tls_error);
        config_free(&next);
        return;
    }
    keep_restart_only_keys(&m->config, &next);
    unsigned workers = config_worker_count(&next);
    if (workers > m->listeners.count && listen_set_open(&m->listeners, next.service.listen_address, workers) != 0) {
        config_free(&next);
        return;
    }
    config_hash(&next, m->next_hash);
    m->next_config = next;
    m->reloading = true;
    m->next_generation = m->generation + 1;
    m->reload_deadline = clock_monotonic_ms() + RELOAD_TIMEOUT_MS;
    for (unsigned i = 0; i < workers; i++) {
        m->slots[i] = (master_slot_t){0};
        spawn_or_retry(m, PROCESS_WORKER, i, m->next_generation);
    }
}

static bool generation_ready(master_t *m, unsigned generation, unsigned workers)
{
    unsigned ready = 0;
    for (process_t *p = NULL; (p = process_table_next(&m->children, p)) != NULL;)
        if (p->kind == PROCESS_WORKER && p->generation == generation && p->ready)
            ready++;
    return ready >= workers;
}

static void reload_finish(master_t *m)
{
    unsigned workers = config_worker_count(&m->next_config);
    bool data_source_changed = strcmp(m->config.sql.data_source, m->next_config.sql.data_source) != 0;
    /* Sockets of slots that no longer exist: the master lets go first, the
     * retiring worker accepts what is queued and closes the last copy. */
    for (unsigned i = workers; i < m->listeners.count; i++) {
        close(m->listeners.fds[i]);
        m->listeners.fds[i] = -1;
        m->slots[i] = (master_slot_t){0};
    }
    if (m->listeners.count > workers)
        m->listeners.count = workers;
    signal_children(m, SIGQUIT, true, (int)m->next_generation);
    for (process_t *p = NULL; (p = process_table_next(&m->children, p)) != NULL;)
        if (p->kind == PROCESS_WORKER && p->generation < m->next_generation)
            p->retiring = true;
    config_free(&m->config);
    m->config = m->next_config;
    memset(&m->next_config, 0, sizeof(m->next_config));
    memcpy(m->config_hash, m->next_hash, sizeof(m->config_hash));
    m->generation = m->next_generation;
    m->reloading = false;
    if (log_open(&m->config.log, "master") != 0)
        log_warn(0, "LogSettings: cannot open the new log location; logging to the console");
    log_info("reload complete: generation %u serving, config hash %s", m->generation, m->config_hash);
    /* the cluster child announces the config hash: a new one takes over; and
     * the jobs child: the old one hands its job back after the statement in
     * flight, and the new one (or another node) resumes it */
    static const process_kind_t replaced[] = {PROCESS_CLUSTER, PROCESS_JOBS};
    for (size_t i = 0; i < sizeof(replaced) / sizeof(replaced[0]); i++) {
        process_t *old = find_kind(m, replaced[i]);
        if (old != NULL) {
            old->retiring = true;
            kill(old->pid, SIGQUIT);
        }
        spawn_single(m, replaced[i]);
    }
    if (data_source_changed && spawn_child(m, PROCESS_MIGRATE, 0, m->generation) != 0)
        log_error(0, "cannot start migrations for the new SqlSettings.DataSource");
}

static void reload_abort(master_t *m)
{
    log_error(0, "reload failed: generation %u did not become ready in %d ms; generation %u keeps serving",
              m->next_generation, RELOAD_TIMEOUT_MS, m->generation);
    for (process_t *p = NULL; (p = process_table_next(&m->children, p)) != NULL;) {
        if (p->kind == PROCESS_WORKER && p->generation == m->next_generation) {
            p->retiring = true;
            kill(p->pid, SIGKILL);
        }
    }
    for (unsigned i = 0; i < LISTEN_SLOTS_MAX; i++)
        if (m->slots[i].generation == m->next_generation)
            m->slots[i] = (master_slot_t){0};
    config_free(&m->next_config);
    m->reloading = false;
}

static void stop_begin(master_t *m, bool graceful)
{
    if (m->state == MASTER_STOPPING && graceful)
        return;
    log_info("%s stop requested", graceful ? "graceful" : "fast");
    m->state = MASTER_STOPPING;
    m->stop_deadline = clock_monotonic_ms() + (graceful ? GRACEFUL_STOP_TIMEOUT_MS : FAST_STOP_TIMEOUT_MS);
    for (process_t *p = NULL; (p = process_table_next(&m->children, p)) != NULL;)
        kill(p->pid, graceful && p->kind == PROCESS_WORKER ? SIGQUIT : SIGTERM);
}

static void reopen_logs(master_t *m)
{
    if (log_reopen() != 0)
        log_warn(errno, "cannot reopen master.log");
    log_info("log files reopened");
    signal_children(m, SIGUSR1, true, -1);
    static const process_kind_t loggers[] = {PROCESS_CLUSTER, PROCESS_JOBS};
    for (size_t i = 0; i < sizeof(loggers) / sizeof(loggers[0]); i++) {
        process_t *p = find_kind(m, loggers[i]);
        if (p != NULL)
            kill(p->pid, SIGUSR1);
    }
}

/* USR2 (from a worker serving POST /database/recycle, or an operator):
 * every worker recycles its database connections.  The sender's pid rides
 * along, so the worker that asked, having recycled already, skips it. */
static void forward_recycle(master_t *m, pid_t origin)
{
    log_info("recycling the database connections of every process");
    for (process_t *p = NULL; (p = process_table_next(&m->children, p)) != NULL;) {
        /* the migration child holds its one connection for a moment only */
        if (p->kind == PROCESS_MIGRATE)
            continue;
        if (sigqueue(p->pid, SIGUSR2, (union sigval){.sival_int = (int)origin}) != 0 && errno != ESRCH)
            log_warn(errno, "sigqueue(%d, SIGUSR2)", (int)p->pid);
    }
}

static void handle_signals(master_t *m)
{
    struct signalfd_siginfo si;
    while (read(m->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        switch (si.ssi_signo) {
        case SIGCHLD: reap_children(m); break;
        case SIGHUP:
            if (m->state == MASTER_RUNNING)
                reload_begin(m);
            break;
        case SIGTERM:
        case SIGINT: stop_begin(m, false); break;
        case SIGQUIT: stop_begin(m, true); break;
        case SIGUSR1: reopen_logs(m); break;
        case SIGUSR2: forward_recycle(m, (pid_t)si.ssi_pid); break;
        }
    }
}

static void handle_control(master_t *m)
{
    control_message_t msg;
    while (read(m->control_fds[0], &msg, sizeof(msg)) == (ssize_t)sizeof(msg)) {
        process_t *p = process_table_find(&m->children, msg.pid);
        if (p == NULL)
            continue;
        if (msg.type == CONTROL_READY) {
            p->ready = true;
            log_debug("worker %u (generation %u) ready", p->slot, p->generation);
        } else if (msg.type == CONTROL_SCHEMA_READY) {
            log_info("database schema ready (version %u)", shm_region_header(&m->shm)->schema_version);
        }
    }
}

static void run_timers(master_t *m, int64_t now)
{
    if (m->state == MASTER_STOPPING) {
        if (!m->stop_killed && now >= m->stop_deadline) {
            log_warn(0, "children still running at the stop deadline: killing them");
            signal_children(m, SIGKILL, false, -1);
            m->stop_killed = true;
        }
        return;
    }
    master_respawn_due(m);
    if (m->reloading) {
        if (generation_ready(m, m->next_generation, config_worker_count(&m->next_config)))
            reload_finish(m);
        else if (now >= m->reload_deadline)
            reload_abort(m);
    }
}

static void master_respawn_due(master_t *m)
{
    int64_t now = clock_monotonic_ms();
    for (unsigned i = 0; i < LISTEN_SLOTS_MAX; i++) {
        master_slot_t *s = &m->slots[i];
        if (s->respawn_at == 0 || s->respawn_at > now)
            continue;
        s->respawn_at = 0;
        if (i < m->listeners.count)
            spawn_or_retry(m, PROCESS_WORKER, i, s->generation);
    }
    for (process_kind_t kind = 0; kind < PROCESS_KINDS; kind++) {
        master_slot_t *s = &m->singles[kind];
        if (!child_kinds[kind].single || s->respawn_at == 0 || s->respawn_at > now)
            continue;
        s->respawn_at = 0;
        if (child_kinds[kind].wanted(m) && find_kind(m, kind) == NULL)
            spawn_or_retry(m, kind, 0, m->generation);
    }
}

static int next_timeout_ms(const master_t *m, int64_t now)
{
    int64_t next = now + MASTER_IDLE_POLL_MS;
    if (m->state == MASTER_STOPPING && !m->stop_killed && m->stop_deadline < next)
        next = m->stop_deadline;
    for (unsigned i = 0; i < LISTEN_SLOTS_MAX + PROCESS_KINDS; i++) {
        const master_slot_t *s = i < LISTEN_SLOTS_MAX ? &m->slots[i] : &m->singles[i - LISTEN_SLOTS_MAX];
        if (s->respawn_at != 0 && s->respawn_at < next)
            next = s->respawn_at;
    }
    /* a reload's progress arrives on the control pipe, which wakes the poll */
    if (m->reloading && m->reload_deadline < next)
        next = m->reload_deadline;
    return next <= now ? 0 : (int)(next - now);
}

static bool any_children(master_t *m)
{
    return process_table_next(&m->children, NULL) != NULL;
}

static void master_loop(master_t *m)
{
    struct pollfd fds[2] = {{.fd = m->signal_fd, .events = POLLIN}, {.fd = m->control_fds[0], .events = POLLIN}};
    for (;;) {
        int64_t now = clock_monotonic_ms();
        run_timers(m, now);
        if (m->state == MASTER_STOPPING && !any_children(m))
            return;
        int n = poll(fds, 2, next_timeout_ms(m, clock_monotonic_ms()));
        if (n < 0 && errno != EINTR) {
            log_error(errno, "poll");
            continue;
        }
        if (fds[0].revents & POLLIN)
            handle_signals(m);
        if (fds[1].revents & POLLIN)
            handle_control(m);
    }
}

static void raise_file_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        log_warn(errno, "getrlimit(RLIMIT_NOFILE)");
        return;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            log_warn(errno, "cannot raise RLIMIT_NOFILE to %llu", (unsigned long long)rl.rlim_max);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    log_info("open files limit (RLIMIT_NOFILE) is %llu", (unsigned long long)rl.rlim_cur);
}

static int setup_signals(master_t *m)
{
    sigemptyset(&m->blocked);
    int sigs[] = {SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaddset(&m->blocked, sigs[i]);
    signal(SIGPIPE, SIG_IGN);
    if (sigprocmask(SIG_BLOCK, &m->blocked, NULL) != 0)
        return -errno;
    m->signal_fd = signalfd(-1, &m->blocked, SFD_NONBLOCK | SFD_CLOEXEC);
    return m->signal_fd < 0 ? -errno : 0;
}

static int setup_node(master_t *m)
{
    int rc;
    size_t shm_bytes = (size_t)m->config.process.shm_size_mb << 20;
    if ((rc = shm_region_create_node(&m->shm, shm_bytes, (size_t)m->config.rate_limit.memory_store_size)) != 0) {
        log_error(-rc, "ProcessSettings.ShmSizeMB: cannot create a %zu MiB shared region", shm_bytes >> 20);
        return rc;
    }
    shm_header_t *header = shm_region_header(&m->shm);
    if (id_new(header->node_id) != 0)
        return -EIO;
    if ((rc = shm_ring_eventfds_create(m->ring_eventfds)) != 0) {
        log_error(-rc, "cannot create the event ring's eventfds");
        return rc;
    }
    if ((rc = lifeline_create(&m->lifeline)) != 0 || (rc = pipe2(m->control_fds, O_CLOEXEC) != 0 ? -errno : 0) != 0) {
        log_error(-rc, "cannot create the master's pipes");
        return rc;
    }
    /* Children write whole messages; the master must never block reading. */
    fcntl(m->control_fds[0], F_SETFL, O_NONBLOCK);
    unsigned workers = config_worker_count(&m->config);
    if ((rc = listen_set_open(&m->listeners, m->config.service.listen_address, workers)) != 0)
        return rc;
    log_info("node %s listening on %s with %u workers, shm %lld MiB", header->node_id, m->config.service.listen_address,
             workers, (long long)m->config.process.shm_size_mb);
    return 0;
}

static void start_children(master_t *m)
{
    spawn_single(m, PROCESS_MIGRATE);
    unsigned workers = config_worker_count(&m->config);
    for (unsigned i = 0; i < workers; i++)
        spawn_or_retry(m, PROCESS_WORKER, i, m->generation);
    spawn_single(m, PROCESS_CLUSTER);
    spawn_single(m, PROCESS_JOBS);
}

static void teardown(master_t *m)
{
    listen_set_close(&m->listeners);
    shm_ring_eventfds_close(m->ring_eventfds);
    shm_region_destroy(&m->shm);
    if (m->reloading)
        config_free(&m->next_config);
    if (m->config.process.pid_file[0] != '\0')
        pidfile_remove(m->config.process.pid_file);
    close(m->signal_fd);
    config_free(&m->config);
}

int master_run(config_t *config, const config_errors_t *notes, int ready_fd)
{
    static master_t master; /* large (fixed tables): kept off the stack */
    master_t *m = &master;
    memset(m, 0, sizeof(*m));
    m->config = *config;
    m->signal_fd = -1;
    listen_set_init(&m->listeners);
    config_hash(&m->config, m->config_hash);

    int rc = log_open(&m->config.log, "master");
    if (rc != 0)
        log_warn(-rc, "LogSettings.FileLocation: cannot open %s/master.log", log_directory(&m->config.log));
    log_info("chorus %s (Mattermost API %s) starting, config %s, hash %s", CHORUS_VERSION, CHORUS_API_VERSION,
             m->config.path, m->config_hash);
    for (size_t i = 0; i < notes->ignored_count; i++)
        log_debug("config: unknown key %s ignored", notes->ignored[i]);
    raise_file_limit();
    if (m->config.process.pid_file[0] != '\0' && (rc = pidfile_write(m->config.process.pid_file)) != 0) {
        log_error(rc == -EEXIST ? 0 : -rc, "ProcessSettings.PidFile: cannot write %s%s", m->config.process.pid_file,
                  rc == -EEXIST ? ": another chorusd is running with it" : "");
        config_free(&m->config);
        return 1;
    }
    if ((rc = setup_signals(m)) != 0 || setup_node(m) != 0) {
        if (rc != 0)
            log_error(-rc, "cannot set up signal handling");
        teardown(m);
        return 1;
    }
    start_children(m);
    if (ready_fd >= 0) {
        if (write(ready_fd, "1", 1) != 1)
            log_warn(errno, "cannot report the start to the launching process");
        close(ready_fd);
    }
    master_loop(m);
    log_info("stopped");
    teardown(m);
    return m->exit_status;
}
