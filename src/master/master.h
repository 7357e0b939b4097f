/* The master process: owns config, listeners, the shm region, eventfds and
 * signals; forks and supervises the children; never serves a client. */
#ifndef CHORUS_MASTER_MASTER_H
#define CHORUS_MASTER_MASTER_H

#include "core/config.h"

/* Runs the node with an already validated `config` (taken over: the master
 * frees it); `notes` lists the unknown keys loading it ignored.  `ready_fd`,
 * when >= 0, gets one byte once the node listens (how `chorusd -d` reports a
 * successful start).  Returns the exit status. */
int master_run(config_t *config, const config_errors_t *notes, int ready_fd);

#endif
