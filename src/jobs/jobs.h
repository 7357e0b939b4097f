/*
 * The jobs child: runs the jobs of the Jobs table (data retention,
 * compliance export, search index rebuild), one at a time, on its own event
 * loop with async libpq, so a long job never delays a request or gossip.
 * Forked by the master when JobSettings.RunJobs.
 */
#ifndef CHORUS_JOBS_JOBS_H
#define CHORUS_JOBS_JOBS_H

#include "core/child.h"
#include "core/config.h"
#include "shm/region.h"

/* Runs until told to stop; returns the exit status.  SIGTERM/SIGINT/SIGQUIT
 * (node stop, or a reload replacing us): the current job is handed back
 * (pending again, resumed by whoever claims it next) after its statement in
 * flight, within JOBS_STOP_DEADLINE_MS. */
int jobs_main(const child_params_t *params);

#endif
