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

#include "core/config.h"
#include "shm/region.h"

typedef struct {
    const config_t *config;
    const char *config_hash; /* 64 hex chars */
    shm_region_t *shm;
    const int *ring_eventfds; /* every consumer's eventfd (to publish) */
    int ring_slot;            /* our consumer slot */
    int lifeline_fd;          /* EOF when the master dies */
    int control_fd;           /* write end of the master's control pipe */
} cluster_params_t;

/* Runs until told to stop; returns the exit status.  SIGTERM/SIGINT: the node
 * is stopping (leave the cluster, delete our discovery row); SIGQUIT: replaced
 * by a new cluster child after a reload (no leave: the node stays). */
int cluster_main(const cluster_params_t *params);

#endif
