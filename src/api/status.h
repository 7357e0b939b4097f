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

#endif
