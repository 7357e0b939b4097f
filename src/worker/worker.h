/* A worker process: one h2o event loop serving the REST API on its slot's
 * listening socket, with its own database pool, reading the shm event ring. */
#ifndef CHORUS_WORKER_WORKER_H
#define CHORUS_WORKER_WORKER_H

#include "h2o.h"

#include "core/child.h"
#include "core/config.h"
#include "core/id.h"
#include "db/pool.h"
#include "db/router.h"
#include "shm/region.h"
#include "shm/ring.h"
#include "worker/main.h"
#include "worker/member_counts.h"
#include "worker/roles.h"

/* bcrypt (cost 10, ≈55 ms on one core) runs on WORKER_CPU_THREADS threads
 * per worker, never on the loop.  The queue in front of them is bounded in
 * time, not memory: WORKER_CPU_QUEUE_MAX tasks are ≈0.9 s of work for two
 * threads, so a request that gets in waits at most about a second; past it
 * the API answers 503 with Retry-After (a longer queue only makes every
 * login slower, the flood's and everyone's).  Logins take at most
 * WORKER_CPU_QUEUE_LOGIN_MAX of it: a flood of them (unauthenticated, one
 * per guessed password) leaves room for the hashing signed-in users ask for
 * (a password change, an admin creating an account).  Constants rather than
 * config keys: the figures follow from bcrypt's cost, which Mattermost fixes
 * too; a slower machine waits longer per task, not more tasks. */
#define WORKER_CPU_THREADS         2
#define WORKER_CPU_QUEUE_MAX       32
#define WORKER_CPU_QUEUE_LOGIN_MAX 24

/* The worker process's own context: everything it owns, in one place. */
typedef struct worker_s {
    const child_params_t *params;
    const config_t *config;
    h2o_globalconf_t globalconf;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_evloop_t *loop;
    h2o_socket_t *listener;
    child_watch_t watch; /* signals and the master's lifeline */
    h2o_socket_t *ring_watch;
    db_pool_t *db;          /* SqlSettings.DataSource: the router's master pool */
    db_router_t *router;    /* every pool of this worker: master, replicas, search replicas */
    pid_t master_pid;       /* our parent, for worker_signal_master */
    struct cpu_pool_s *cpu; /* bcrypt and other CPU-heavy work */
    struct ws_hub_s *ws;    /* WebSockets (src/ws) */
    unsigned connections;   /* open client connections */
    h2o_linklist_t connection_list;
    unsigned requests_in_flight;
    bool draining; /* not accepting; exits when connections reach 0 */
    bool stopping; /* leave the loop now */
    h2o_timeout_t drain_timeout;
    h2o_timeout_entry_t drain_deadline;
    h2o_timeout_t tick_timeout;
    h2o_timeout_entry_t tick;
    shm_ring_cursor_t ring_cursor;
    uint64_t ring_events, ring_overruns;
    uint64_t session_cache_hits, session_cache_misses;
    worker_roles_t roles;                 /* what permission checks read (roles.h) */
    member_counts_t member_counts;        /* channel stats (member_counts.h) */
    struct worker_webclient_s *webclient; /* NULL: no web client to serve */
    char node_id[ID_LENGTH + 1];
    char version_id[192]; /* X-Version-ID */
    char process_name[32];
} worker_t;

/* Asks the master for what only it does: SIGHUP reloads the node, SIGUSR2
 * recycles the database connections of every other worker.  -ESRCH when the
 * master is gone (never a signal to whoever adopted us). */
int worker_signal_master(worker_t *worker, int sig);

/* Ring consumption (ring_consumer.c). */
int worker_ring_start(worker_t *worker);
void worker_ring_stop(worker_t *worker);
/* Reads every record published since the last call. */
void worker_ring_poll(worker_t *worker);

/* HTTP serving (http.c). */
int worker_http_setup(worker_t *worker);
void worker_http_start_drain(worker_t *worker);
void worker_http_close_idle(worker_t *worker, int64_t now);
void worker_http_dispose(worker_t *worker);

/* The web client's files (webclient.c).  Setup reads ServiceSettings
 * (WebserverMode, ClientDirectory) between h2o_config_init and
 * h2o_context_init, and logs, on slot 0, a directory it cannot serve. */
typedef struct worker_webclient_s worker_webclient_t;
typedef enum {
    WEBCLIENT_NOT_MINE, /* the API's: an API path, another method, no web client */
    WEBCLIENT_SERVED,
    WEBCLIENT_NOT_FOUND, /* a miss: Cache-Control is set, the API's 404 follows */
} webclient_result_t;
int worker_webclient_setup(worker_t *worker);
void worker_webclient_context_init(worker_t *worker);
webclient_result_t worker_webclient_serve(worker_t *worker, h2o_req_t *req);
void worker_webclient_dispose(worker_t *worker);
#endif
