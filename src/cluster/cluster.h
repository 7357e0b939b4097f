/*
 * The cluster child: the only process of a node that talks to other nodes.
 * Forked by the master when ClusterSettings.Enable; one h2o event loop for
 * the database discovery (async libpq), UDP gossip (SWIM), the TCP streaming
 * links and the timers.  It reads the node's event ring like a worker and
 * forwards what matters beyond the node; what peers send it re-publishes into
 * the ring marked EVENT_FROM_CLUSTER.  It writes the cluster view into shm
 * for the workers (GET /api/v4/cluster/status).
 */
#ifndef CHORUS_CLUSTER_CLUSTER_H
#define CHORUS_CLUSTER_CLUSTER_H

#include <stdint.h>

#include "core/child.h"
#include "core/config.h"
#include "shm/region.h"

/* Runs until told to stop; returns the exit status.  SIGTERM/SIGINT: the node
 * is stopping (leave the cluster, delete our discovery row); SIGQUIT: replaced
 * by a new cluster child after a reload (no leave: the node stays). */
int cluster_main(const child_params_t *params);

#endif
