/* The session cache rules shared by HTTP and WebSocket (worker/session.h). */
#include "worker/session.h"

#include "core/clock.h"
#include "core/log.h"

static int64_t cache_ttl_ms(const worker_t *w)
{
    return w->config->service.session_cache_in_minutes * 60000;
}

bool session_cache_lookup(worker_t *w, const char *token, shm_session_t *out, uint64_t *prior_write_lsn)
{
    int64_t now = clock_now_ms(), ttl = cache_ttl_ms(w);
    shm_cache_t *cache = shm_region_sessions(w->params->shm);
    *prior_write_lsn = 0;
    if (ttl > 0 && shm_cache_get(cache, token, out)) {
        if (out->expires_at > now && now - out->cached_at < ttl) {
            w->session_cache_hits++;
            return true;
        }
        *prior_write_lsn = out->write_lsn;
        shm_cache_remove(cache, token);
    }
    w->session_cache_misses++;
    return false;
}

/* The smallest master position the session's reads must see when its entry
 * is (re)filled: what its earlier entry knew, and at least the master's
 * position as this worker last saw it (its monitor, its writes), which
 * covers the session's writes through this worker and any older than one
 * monitor interval. */
static uint64_t fill_write_lsn(const worker_t *w, uint64_t prior)
{
    uint64_t known = db_router_master_lsn(w->router);
    if (prior == DB_LSN_MASTER_ONLY)
        prior = 0; /* an unknown position long covered by now */
    return prior > known ? prior : known;
}

void session_cache_fill(worker_t *w, const char *token, shm_session_t *session, uint64_t prior_write_lsn)
{
    session->write_lsn = fill_write_lsn(w, prior_write_lsn);
    if (cache_ttl_ms(w) > 0 && shm_cache_put(shm_region_sessions(w->params->shm), token, session) != 0)
        log_warn(0, "cannot cache a session");
}

void session_cache_forget(worker_t *w, const char *token)
{
    shm_cache_remove(shm_region_sessions(w->params->shm), token);
}
