/*
 * POST /api/v4/database/recycle: one of the two steps of a manual database
 * failover (promote a replica, point DataSource at it and reload, see
 * config.c; or recycle the connections), for system admins only.
 *
 * It acts on this node, as the design of one process tree wants it: the
 * master owns the set of workers, so a worker asks it with a signal, exactly
 * what an operator's `kill -USR2` does.  This worker recycles its pools at
 * once (so the caller's next request already runs on new connections), then
 * SIGUSR2 makes the master forward the recycle to every other worker.
 */
#include <errno.h>
#include <signal.h>

#include "api/access.h"
#include "api/handlers.h"
#include "api/response.h"
#include "core/log.h"

static void send_ok(api_request_t *r)
{
    api_send_json(r, 200, json_pack("{s:s}", "status", "OK"));
}

void api_database_recycle(api_request_t *r)
{
    if (!api_require_admin(r))
        return;
    log_info("request %s: recycling database connections", r->request_id);
    db_router_recycle(r->worker->router);
    int rc = worker_signal_master(r->worker, SIGUSR2);
    if (rc != 0)
        log_warn(-rc, "cannot ask the master to recycle the other workers' connections");
    send_ok(r);
}
