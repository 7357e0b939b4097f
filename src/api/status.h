/* Statuses seen from outside the status handlers: what the WebSocket
 * presence tracking needs to change a status the same way a PUT does. */
#ifndef CHORUS_API_STATUS_H
#define CHORUS_API_STATUS_H

#include <libpq-fe.h>

#include "worker/worker.h"

/* The Status columns, in the order api_status_apply_row reads them. */
#define API_STATUS_COLUMNS "UserId, Status, Manual, LastActivityAt, DndEndTime, PrevStatus, Version"

/* A Status row just written: into the node's presence cache (unless it holds
 * a later version) and out on the ring as a status change. */
void api_status_apply_row(worker_t *w, const PGresult *res, int row);
/* The same from any process of the node (the cluster child's presence sweep). */
void api_status_apply_row_to(shm_region_t *shm, const int *ring_eventfds, const PGresult *res, int row);

/* Cluster-wide presence (OnlineUsers: one row per user and node holding a
 * socket of theirs).  Sweep: forget the rows of every node not in $1 (a
 * text[] of live node ids) and set offline, unless manual, the users no live
 * node holds.  Resync: rows for the users in $1 on node $2, online again
 * (time $3) those a sweep during a partition set offline. */
#define API_STATUS_SWEEP_SQL                                                                                 \
    "WITH gone AS (DELETE FROM OnlineUsers WHERE NOT (NodeId = ANY($1::text[])) RETURNING UserId) "          \
    "UPDATE Status s SET Status = 'offline', Version = s.Version + 1 "                                       \
    "WHERE s.UserId IN (SELECT UserId FROM gone) AND NOT s.Manual AND s.Status <> 'offline' "                \
    "AND NOT EXISTS (SELECT 1 FROM OnlineUsers o WHERE o.UserId = s.UserId AND o.NodeId = ANY($1::text[])) " \
    "RETURNING " API_STATUS_COLUMNS
#define API_STATUS_RESYNC_SQL                                                                      \
    "WITH here AS (INSERT INTO OnlineUsers (UserId, NodeId) SELECT unnest($1::text[]), $2 "        \
    "ON CONFLICT DO NOTHING) "                                                                     \
    "UPDATE Status s SET Status = 'online', LastActivityAt = $3::bigint, Version = s.Version + 1 " \
    "WHERE s.UserId = ANY($1::text[]) AND NOT s.Manual AND s.Status = 'offline' RETURNING " API_STATUS_COLUMNS

#endif
