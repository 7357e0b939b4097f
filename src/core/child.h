/*
 * What every child of the master watches in its event loop: its signals,
 * through a signalfd (a handler would make h2o_evloop_run return EINTR at
 * random points), and the lifeline pipe, whose EOF says the master is gone
 * (any death of it), after which a child stops at once so that no orphan
 * keeps a port, a database connection or the shm region.  What every child
 * is started with (child_params_t, the one argument of each entry point).
 * And what a child says to the master: the control messages (ready, schema
 * ready).
 */
#ifndef CHORUS_CORE_CHILD_H
#define CHORUS_CORE_CHILD_H

#include <stdint.h>
#include <sys/signalfd.h>

#include "h2o.h"

#include "core/config.h"

struct shm_region_s; /* shm/region.h: core does not include shm */

/* What the master hands every child it forks, whatever its kind; a field a
 * kind has no use for is -1 (fds, slots) or left unread. */
typedef struct {
    const config_t *config;   /* its generation's */
    const char *config_hash;  /* 64 hex chars, of `config` */
    struct shm_region_s *shm; /* the node's region (shm_region_t) */
    const int *ring_eventfds; /* every ring consumer's eventfd (to publish) */
    int ring_slot;            /* our consumer slot, -1: not a ring consumer */
    int listen_fd;            /* a worker's listener, else -1 */
    int lifeline_fd;          /* EOF when the master dies */
    int control_fd;           /* write end of the master's control pipe */
    unsigned slot;            /* a worker's listener slot, else 0 */
    unsigned generation;      /* the config generation it was started for */
} child_params_t;

typedef void (*child_signal_cb)(void *data, const struct signalfd_siginfo *si);
typedef void (*child_orphan_cb)(void *data);

typedef struct {
    h2o_socket_t *signals, *lifeline;
    child_signal_cb on_signal;
    child_orphan_cb on_orphan;
    void *data;
} child_watch_t;

/* Blocks TERM, INT, QUIT, USR1, USR2 and HUP and reads them from a signalfd
 * on `loop`; USR1 (reopen the log) is handled here, every signal then goes
 * to `on_signal`.  0 or -errno. */
int child_watch_start(child_watch_t *watch, h2o_evloop_t *loop, int lifeline_fd, child_signal_cb on_signal,
                      child_orphan_cb on_orphan, void *data);
/* Stops reading both (the sockets go with the loop). */
void child_watch_stop(child_watch_t *watch);

/* A message on the control pipe, children → master (fits PIPE_BUF, so
 * writes from several children never interleave). */
typedef enum { CONTROL_READY = 1, CONTROL_SCHEMA_READY = 2 } control_type_t;
typedef struct {
    int32_t pid;
    int32_t type;
} control_message_t;

/* Sends `type` with our pid on the master's control pipe.  0 or -errno. */
int control_send(int fd, control_type_t type);

#endif
