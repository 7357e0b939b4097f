/*
 * Resolving without blocking.
 *
 * Host names to addresses for an event loop that must never stall (the
 * cluster child: its gossip probes every 200 ms and its failure detection
 * count on it), while getaddrinfo() on a name can block for as long as DNS
 * takes (resolv.conf's timeout × attempts × servers: many seconds when a
 * server is down).  So the loop never resolves a name itself.  An IP literal is parsed inline; a name
 * goes through a cache that one resolver thread fills:
 *   - a fresh answer (under a minute old) is returned at once;
 *   - a stale one is returned too, and a refresh is queued: a peer keeps
 *     its last known address while DNS is slow or down;
 *   - a name never resolved is queued and the call says -EAGAIN;
 *   - a name that failed says -EHOSTUNREACH, and is asked again no more
 *     than once every ADDRESS_RETRY_MS.
 * Nothing wakes the loop when an answer lands: callers retry on their own
 * schedule (SWIM at its next probe, a link dial after a short backoff).
 *
 * The cache is keyed by name alone (a peer's gossip and streaming ports
 * share one lookup); the caller's port is set on the copy it gets.  The
 * queue is a FIFO of cache slots, so it holds at most RESOLVER_NAMES_MAX names
 * and a name is queued once however often it is asked for; a queued slot is
 * never evicted, so the thread can read its name without holding the lock
 * while it resolves.  Everything the thread shares is under one mutex.
 *
 * The thread starts at the first name to resolve and blocks every signal
 * (the loop's process takes its signals through signalfd).  resolver_stop()
 * joins it, waiting at most RESOLVER_JOIN_MS: a thread still inside
 * getaddrinfo() is left to finish and free the resolver itself, and exit()
 * ends it anyway.  A process using it must not fork afterwards (the cluster
 * child never does): a lock held by the thread would be copied locked.
 */
#include "core/resolver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"

/* An IP literal, never the resolver: an EAI_* code, EAI_NONAME for a name. */
static int numeric(const char *host, uint16_t port, int socktype, struct sockaddr_storage *addr, socklen_t *len)
{
    char service[8];
    snprintf(service, sizeof(service), "%u", port);
    struct addrinfo hints = {.ai_socktype = socktype, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0)
        return rc;
    if (res == NULL)
        return EAI_NONAME;
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

int resolver_numeric(const char *host, uint16_t port, int socktype, struct sockaddr_storage *addr, socklen_t *len)
{
    return numeric(host, port, socktype, addr, len) == 0 ? 0 : -EINVAL;
}

#define ADDRESS_TTL_MS   60000 /* a name answered is asked again after a minute */
#define ADDRESS_RETRY_MS 5000  /* a name that failed, after five seconds */
#define RESOLVER_JOIN_MS 1000

typedef struct {
    char host[RESOLVER_HOST_MAX + 1]; /* "" = a free slot */
    struct sockaddr_storage addr;     /* port 0: set on the caller's copy */
    socklen_t addr_len;               /* 0 = no address yet */
    int64_t refresh_at;               /* monotonic ms: ask again from then; 0 = never answered */
    int64_t used_at;                  /* last asked for by the loop: the least recent is evicted */
    int error, sys_error;             /* the last answer's EAI_* (0: an address) and errno for EAI_SYSTEM */
    bool pending;                     /* queued or being resolved: neither evicted nor queued again */
    bool reported;                    /* its failure was logged */
} name_t;

typedef struct {
    pthread_mutex_t mutex;
    pthread_cond_t wake; /* a name was queued, or stop */
    pthread_t thread;
    bool started;
    bool stopping;
    bool exited;                        /* the thread's last act, under the mutex */
    bool orphaned;                      /* stop stopped waiting: the thread frees the resolver */
    unsigned queue[RESOLVER_NAMES_MAX]; /* indices into names, oldest first */
    unsigned head, queued;
    name_t names[RESOLVER_NAMES_MAX];
} resolver_t;

/* The process's resolver, created at the first name.  Only the loop
 * thread reads or sets this pointer; the thread is handed the resolver. */
static resolver_t *resolver;

static void must(int rc)
{
    if (rc != 0)
        abort(); /* a pthread call on our own mutex or condvar: a bug */
}

static void resolver_destroy(resolver_t *r)
{
    pthread_mutex_destroy(&r->mutex);
    pthread_cond_destroy(&r->wake);
    free(r);
}

/* The first address of a name; the socket type only dedups getaddrinfo's
 * answer (one entry per address), the address is the same for both. */
static int resolve(const char *host, struct sockaddr_storage *addr, socklen_t *len, int *sys_error)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    *sys_error = rc == EAI_SYSTEM ? errno : 0;
    if (rc == 0 && res == NULL)
        rc = EAI_NONAME;
    if (rc == 0) {
        memcpy(addr, res->ai_addr, res->ai_addrlen);
        *len = res->ai_addrlen;
    }
    if (res != NULL)
        freeaddrinfo(res);
    return rc;
}

static void *resolver_main(void *arg)
{
    resolver_t *r = arg;
    must(pthread_mutex_lock(&r->mutex));
    while (!r->stopping) {
        if (r->queued == 0) {
            must(pthread_cond_wait(&r->wake, &r->mutex));
            continue;
        }
        name_t *n = &r->names[r->queue[r->head]];
        r->head = (r->head + 1) % RESOLVER_NAMES_MAX;
        r->queued--;
        must(pthread_mutex_unlock(&r->mutex));
        /* n->host is stable while n is pending */
        struct sockaddr_storage addr;
        socklen_t len = 0;
        int sys_error;
        int rc = resolve(n->host, &addr, &len, &sys_error);
        int64_t now = clock_monotonic_ms();
        must(pthread_mutex_lock(&r->mutex));
        n->pending = false;
        n->error = rc;
        n->sys_error = sys_error;
        if (rc == 0) {
            memcpy(&n->addr, &addr, len);
            n->addr_len = len;
            n->reported = false;
        }
        n->refresh_at = now + (rc == 0 ? ADDRESS_TTL_MS : ADDRESS_RETRY_MS);
    }
    bool orphaned = r->orphaned;
    r->exited = true;
    must(pthread_mutex_unlock(&r->mutex));
    if (orphaned)
        resolver_destroy(r);
    return NULL;
}

/* Under the mutex.  New threads inherit the creating thread's mask: block
 * everything around pthread_create, then restore ours. */
static int resolver_start(resolver_t *r)
{
    sigset_t all, saved;
    sigfillset(&all);
    int rc = pthread_sigmask(SIG_SETMASK, &all, &saved);
    if (rc == 0) {
        rc = pthread_create(&r->thread, NULL, resolver_main, r);
        must(pthread_sigmask(SIG_SETMASK, &saved, NULL));
    }
    if (rc == 0) {
        r->started = true;
        pthread_setname_np(r->thread, "resolver");
    }
    return rc;
}

static resolver_t *resolver_create(void)
{
    resolver_t *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    if (pthread_mutex_init(&r->mutex, NULL) != 0) {
        free(r);
        return NULL;
    }
    if (pthread_cond_init(&r->wake, NULL) != 0) {
        pthread_mutex_destroy(&r->mutex);
        free(r);
        return NULL;
    }
    return r;
}

/* Under the mutex: host's slot, else a free one, else the least recently
 * used that is not pending (claimed for host); NULL when every slot is. */
static name_t *name_slot(resolver_t *r, const char *host)
{
    name_t *victim = NULL;
    for (size_t i = 0; i < RESOLVER_NAMES_MAX; i++) {
        name_t *n = &r->names[i];
        if (strcmp(n->host, host) == 0)
            return n;
        if (n->pending)
            continue;
        if (victim == NULL || (victim->host[0] != '\0' && (n->host[0] == '\0' || n->used_at < victim->used_at)))
            victim = n;
    }
    if (victim != NULL) {
        memset(victim, 0, sizeof(*victim));
        snprintf(victim->host, sizeof(victim->host), "%s", host);
    }
    return victim;
}

/* Under the mutex: hands n to the thread, starting it the first time. */
static void name_queue(resolver_t *r, name_t *n, int64_t now)
{
    if (!r->started) {
        int rc = resolver_start(r);
        if (rc != 0) {
            log_warn(rc, "cannot start the resolver thread: host names stay unresolved");
            n->refresh_at = now + ADDRESS_RETRY_MS;
            n->error = EAI_SYSTEM;
            n->sys_error = rc;
            n->reported = true;
            return;
        }
    }
    r->queue[(r->head + r->queued) % RESOLVER_NAMES_MAX] = (unsigned)(n - r->names);
    r->queued++;
    n->pending = true;
    must(pthread_cond_signal(&r->wake));
}

static void set_port(struct sockaddr_storage *addr, uint16_t port)
{
    if (addr->ss_family == AF_INET)
        ((struct sockaddr_in *)addr)->sin_port = htons(port);
    else if (addr->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)addr)->sin6_port = htons(port);
}

int resolver_lookup(const char *host, uint16_t port, int socktype, struct sockaddr_storage *addr, socklen_t *len)
{
    int rc = numeric(host, port, socktype, addr, len);
    if (rc != EAI_NONAME)
        return rc == 0 ? 0 : -EHOSTUNREACH;
    if (host[0] == '\0' || strlen(host) > RESOLVER_HOST_MAX)
        return -EHOSTUNREACH;
    if (resolver == NULL && (resolver = resolver_create()) == NULL)
        return -ENOMEM;
    resolver_t *r = resolver;
    int64_t now = clock_monotonic_ms();
    int error = 0, sys_error = 0;
    bool had_address = false;
    must(pthread_mutex_lock(&r->mutex));
    name_t *n = name_slot(r, host);
    if (n == NULL) {
        rc = -EAGAIN; /* RESOLVER_NAMES_MAX names already wait for the thread */
    } else {
        n->used_at = now;
        if (!n->pending && now >= n->refresh_at)
            name_queue(r, n, now);
        had_address = n->addr_len > 0;
        if (had_address) {
            memcpy(addr, &n->addr, n->addr_len);
            *len = n->addr_len;
            set_port(addr, port);
            rc = 0;
        } else {
            rc = n->refresh_at == 0 ? -EAGAIN : -EHOSTUNREACH;
        }
        if (n->error != 0 && !n->reported) {
            n->reported = true;
            error = n->error;
            sys_error = n->sys_error;
        }
    }
    must(pthread_mutex_unlock(&r->mutex));
    if (error != 0) /* once per failure, until the name resolves again */
        log_warn(sys_error, "cannot resolve host %s: %s%s", host, gai_strerror(error),
                 had_address ? " (still using its last address)" : "");
    return rc;
}

void resolver_stop(void)
{
    resolver_t *r = resolver;
    if (r == NULL)
        return;
    resolver = NULL;
    must(pthread_mutex_lock(&r->mutex));
    r->stopping = true;
    bool started = r->started;
    pthread_t thread = r->thread;
    must(pthread_cond_signal(&r->wake));
    must(pthread_mutex_unlock(&r->mutex));
    if (!started) {
        resolver_destroy(r);
        return;
    }
    /* nothing interrupts getaddrinfo(): wait a while, not a DNS timeout */
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += RESOLVER_JOIN_MS / 1000;
    deadline.tv_nsec += (RESOLVER_JOIN_MS % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    if (pthread_clockjoin_np(thread, NULL, CLOCK_MONOTONIC, &deadline) == 0) {
        resolver_destroy(r);
        return;
    }
    must(pthread_mutex_lock(&r->mutex));
    bool exited = r->exited;
    r->orphaned = !exited;
    must(pthread_mutex_unlock(&r->mutex));
    if (exited) {
        must(pthread_join(thread, NULL));
        resolver_destroy(r);
        return;
    }
    /* from here on r is the thread's */
    must(pthread_detach(thread));
    log_warn(0, "the resolver thread is still waiting for DNS: leaving it behind");
}
