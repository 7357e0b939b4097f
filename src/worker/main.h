/* The worker process as the master sees it: how to start one, and what its
 * exit status means.  Nothing of h2o or of the worker's own context
 * (worker/worker.h, for the code that runs inside the worker). */
#ifndef CHORUS_WORKER_MAIN_H
#define CHORUS_WORKER_MAIN_H

#include "core/child.h"

/* Exit status that tells the master not to respawn (a config problem that a
 * respawn cannot fix, e.g. an unreadable TLS certificate). */
#define WORKER_EXIT_FATAL 2

/* Runs the worker until it is told to stop; returns the exit status. */
int worker_main(const child_params_t *params);

#endif
