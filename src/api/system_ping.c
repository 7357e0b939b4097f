/*
 * GET /api/v4/system/ping, as Mattermost answers it.
 *
 * Plain ping touches nothing and answers from memory: it is what load
 * balancers poll.  With get_server_status=true it proves the node can really
 * work: a write and a delete of a file in FileSettings.Directory (on the
 * worker's CPU pool: a slow disk must not stall the loop), then a write and a
 * delete of the Systems row health_check_<node id> on the master database
 * (two statements through the worker's async pool, chained by callbacks).
 * Any failure makes the status UNHEALTHY and the HTTP status 500, unless the
 * client asked for use_rest_semantics=true (then 200 with the same body); so
 * does a schema not yet migrated to this binary's last version.
 *
 * The deep check is unauthenticated, so it is throttled node-wide: its result
 * is kept in the shm header for PING_CACHE_MS, and one worker at a time runs
 * the next check (it claims it in shm) while the others answer the last
 * result.  A flood of deep pings therefore costs one file write and two
 * statements a second per node, whatever its rate.
 *
 * With ClusterSettings.Enable, the server status also reports the cluster as
 * the cluster child last published it (shm/cluster_view.h): cluster_status
 * "green" when every member is green, cluster_nodes_alive and cluster_nodes.
 * A red cluster does not make this node UNHEALTHY: a balancer must keep
 * sending traffic to the nodes that still work.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/handlers.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/text.h"
#include "db/migrate.h"
#include "shm/cluster_view.h"
#include "shm/region.h"
#include "store/system.h"
#include "worker/cpu_pool.h"

#define PING_CACHE_MS 1000 /* a deep check's result answers for this long */
#define PING_CLAIM_MS 5000 /* a check that takes longer no longer holds off the next */

typedef struct {
    api_request_t *r;
    db_query_t *query; /* in flight, cancelled if the request goes away */
    cpu_task_t *task;  /* the file check, likewise */
    bool claimed;      /* this request runs the node's check */
    bool rest_semantics;
    bool filestore_ok;
    char row_name[64];
} ping_state_t;

/* The file check's job, run on a pool thread with its own copy. */
typedef struct {
    char path[4096]; /* "" when FileSettings.DriverName is not "local" */
    bool ok;
} filestore_job_t;

static json_t *base_body(const char *status)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "status", status, "AndroidLatestVersion", "",
                     "AndroidMinVersion", "", "IosLatestVersion", "", "IosMinVersion", "", "ActiveSearchBackend",
                     "database");
}

/* FileSettings.Directory is usable when a file can be created in it. */
static void check_filestore(void *data)
{
    filestore_job_t *job = data;
    job->ok = false;
    if (job->path[0] == '\0')
        return;
    int fd = open(job->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    bool ok = write(fd, "ok", 2) == 2;
    ok = close(fd) == 0 && ok;
    job->ok = unlink(job->path) == 0 && ok;
}

/* The cluster's health from the view; with no view (the cluster child is
 * not running or has not published), this node alone, red. */
static void add_cluster_status(const worker_t *w, json_t *body)
{
    /* one request at a time per worker (one loop thread), ~80 KB: not the stack */
    static cluster_view_data_t view;
    bool green = false;
    uint32_t alive = 1, total = 1;
    uint64_t dropped = 0;

    if (cluster_view_read_published(shm_region_cluster(w->params->shm), &view) == 0) {
        dropped = view.dropped_packets;
        green = view.count > 0;
        for (uint32_t i = 0; i < view.count; i++)
            green = green && view.members[i].green;
        alive = view.alive_count;
        total = view.count;
    }
    json_object_set_new(body, "cluster_status", json_string(green ? "green" : "red"));
    json_object_set_new(body, "cluster_nodes_alive", json_integer(alive));
    json_object_set_new(body, "cluster_nodes", json_integer(total));
    /* refused by the envelope or a decoder: wrong cluster, key, replay, garbage */
    json_object_set_new(body, "cluster_dropped_packets", json_integer((json_int_t)dropped));
}

static void send_status(ping_state_t *st, bool database_ok, bool filestore_ok)
{
    /* a database this binary has not finished migrating cannot serve it yet,
     * though its Systems table takes the health row */
    if (!schema_at_least(st->r->worker->params->shm, migrations[migrations_count - 1].version))
        database_ok = false;
    bool healthy = database_ok && filestore_ok;
    const char *status = healthy ? "OK" : "UNHEALTHY";
    const char *db = database_ok ? "OK" : "UNHEALTHY", *fs = filestore_ok ? "OK" : "UNHEALTHY";
    json_t *body = base_body(status);
    json_object_set_new(body, "database_status", json_string(db));
    json_object_set_new(body, "filestore_status", json_string(fs));
    if (st->r->worker->config->cluster.enable)
        add_cluster_status(st->r->worker, body);
    api_add_header(st->r, "status", status);
    api_add_header(st->r, "database_status", db);
    api_add_header(st->r, "filestore_status", fs);
    api_send_json(st->r, healthy || st->rest_semantics ? 200 : 500, body);
}

/* The check is done: its result is the node's for PING_CACHE_MS. */
static void respond(ping_state_t *st, bool database_ok)
{
    st->query = NULL;
    shm_header_t *h = shm_region_header(st->r->worker->params->shm);
    uint64_t bits = (database_ok ? SHM_HEALTH_DATABASE_OK : 0) | (st->filestore_ok ? SHM_HEALTH_FILESTORE_OK : 0);
    __atomic_store_n(&h->health_last, (uint64_t)clock_monotonic_ms() << 2 | bits, __ATOMIC_RELEASE);
    if (st->claimed) {
        __atomic_store_n(&h->health_claimed_until, 0, __ATOMIC_RELEASE);
        st->claimed = false;
    }
    send_status(st, database_ok, st->filestore_ok);
}

static void on_health_row_deleted(void *data, PGresult *result, const char *error)
{
    ping_state_t *st = data;
    if (error != NULL)
        log_warn(0, "ping: database health check failed: %.*s", (int)strcspn(error, "\n"), error);
    respond(st, error == NULL && result != NULL);
}

static void on_health_row_written(void *data, PGresult *result, const char *error)
{
    ping_state_t *st = data;
    st->query = NULL;
    if (error != NULL || result == NULL) {
        if (error == NULL)
            error = "no result";
        log_warn(0, "ping: database health check failed: %.*s", (int)strcspn(error, "\n"), error);
        respond(st, false);
        return;
    }
    const char *params[] = {st->row_name};
    db_query_t *q = db_pool_query(st->r->worker->db, SYSTEM_SQL_DELETE, 1, params, on_health_row_deleted, st);
    if (q != NULL)
        st->query = q;
}

static void check_database(ping_state_t *st)
{
    char now[TEXT_INT64_SIZE];
    text_int64(now, clock_now_ms());
    const char *params[] = {st->row_name, now};
    /* a query that fails at once has answered already: `st` may be gone */
    db_query_t *q = db_pool_query(st->r->worker->db, SYSTEM_SQL_PUT, 2, params, on_health_row_written, st);
    if (q != NULL)
        st->query = q;
}

static void on_filestore_checked(void *data, void *job)
{
    ping_state_t *st = data;
    st->task = NULL;
    st->filestore_ok = ((const filestore_job_t *)job)->ok;
    check_database(st);
}

static void on_request_disposed(void *data)
{
    ping_state_t *st = data;
    if (st->query != NULL)
        db_query_cancel(st->query);
    if (st->task != NULL)
        cpu_task_cancel(st->task);
    if (st->claimed) /* the client left mid-check: the next request checks */
        __atomic_store_n(&shm_region_header(st->r->worker->params->shm)->health_claimed_until, 0, __ATOMIC_RELEASE);
}

/* True when this request is to run the node's check; false when the last
 * result answers it (fresh, or another worker is checking already). */
static bool claim_check(ping_state_t *st, uint64_t *last)
{
    shm_header_t *h = shm_region_header(st->r->worker->params->shm);
    int64_t now = clock_monotonic_ms();
    *last = __atomic_load_n(&h->health_last, __ATOMIC_ACQUIRE);
    if (*last != 0 && now - (int64_t)(*last >> 2) < PING_CACHE_MS)
        return false;
    int64_t until = __atomic_load_n(&h->health_claimed_until, __ATOMIC_ACQUIRE);
    st->claimed = until <= now && __atomic_compare_exchange_n(&h->health_claimed_until, &until, now + PING_CLAIM_MS,
                                                              false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    return st->claimed || *last == 0; /* nothing to answer yet: check as well */
}

void api_system_ping(api_request_t *r)
{
    const char *server_status = api_query_param(r, "get_server_status");
    const char *rest = api_query_param(r, "use_rest_semantics");
    if (server_status == NULL || strcmp(server_status, "true") != 0) {
        /* what load balancers poll: a constant, never rebuilt */
        static const char ok[] =
            "{\"status\":\"OK\",\"AndroidLatestVersion\":\"\",\"AndroidMinVersion\":\"\","
            "\"IosLatestVersion\":\"\",\"IosMinVersion\":\"\",\"ActiveSearchBackend\":\"database\"}";
        api_send_static(r, 200, ok, sizeof(ok) - 1);
        return;
    }
    worker_t *w = r->worker;
    ping_state_t *st = h2o_mem_alloc_shared(&r->req->pool, sizeof(*st), on_request_disposed);
    memset(st, 0, sizeof(*st));
    st->r = r;
    st->rest_semantics = rest != NULL && strcmp(rest, "true") == 0;
    uint64_t last;
    if (!claim_check(st, &last)) {
        send_status(st, (last & SHM_HEALTH_DATABASE_OK) != 0, (last & SHM_HEALTH_FILESTORE_OK) != 0);
        return;
    }
    snprintf(st->row_name, sizeof(st->row_name), "health_check_%s", w->node_id);
    filestore_job_t job = {.ok = false};
    if (strcmp(w->config->file.driver_name, "local") == 0)
        snprintf(job.path, sizeof(job.path), "%s/health_check_%s_%d", w->config->file.directory, w->node_id,
                 (int)getpid());
    st->task = cpu_pool_submit(w->cpu, check_filestore, on_filestore_checked, st, &job, sizeof(job));
    if (st->task == NULL) {
        /* the pool is full of logins: once a second, the loop can afford it */
        check_filestore(&job);
        st->filestore_ok = job.ok;
        check_database(st);
    }
}
