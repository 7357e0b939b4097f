/*
 * What every child of the master watches in its event loop: its signals,
 * through a signalfd (a handler would make h2o_evloop_run return EINTR at
 * random points), and the lifeline pipe, whose EOF says the master is gone
 * (any death of it), after which a child stops at once so that no orphan
 * keeps a port, a database connection or the shm region.  And what a child
 * says to the master: the control messages (ready, schema ready).
 */
#ifndef CHORUS_CORE_CHILD_H
#define CHORUS_CORE_CHILD_H

#include <stdint.h>
#include <sys/signalfd.h>

#include "h2o.h"

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
