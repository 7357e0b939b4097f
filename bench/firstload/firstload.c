/*
 * bench/firstload/firstload.c: the web app's first load, many users at once,
 * against GET /system/ping on the same connections; the load client of
 * bench/firstload.sh.
 *
 * C keep-alive HTTP/1.1 connections, one request in flight on each, one
 * thread, one epoll.  Rounds alternate two modes for D seconds each (ping,
 * firstload, ping, firstload...):
 *   ping       GET <base>/system/ping, again and again;
 *   firstload  connection c walks users c, c+C, c+2C... (wrapping) through
 *              the first-load sequence (steps[] below), in order, each user
 *              with their own token; a whole load is one user's sequence,
 *              from sending its first request to the last response.
 * A request whose response arrives after the round's deadline is not counted
 * (the connection finishes it, then the next round starts); a load cut by
 * the deadline is dropped, and the connection starts its next user from the
 * first step the next firstload round.  Any non-2xx answer, or a connection
 * that fails, is an error; the first error of each step is shown on stderr.
 *
 * With --warmup S, a firstload round of S seconds comes first, printed as
 * round=0 and left out of every figure: a server that has run for a while
 * has its database connections open and their statements planned.
 *
 * Users file: one "USER_ID TOKEN" per line.  The first --peers users are the
 * ones whose statuses and profiles every load asks for (the authors of the
 * open channel's posts, as the web app would).
 *
 * Output, one line per round on stdout:
 *   round=R mode=ping|firstload requests=N errors=N rps=X p50_ms=X p99_ms=X
 *   [loads=N loads_per_s=X load_p50_ms=X load_p99_ms=X] client_cpu_pct=X
 *   server_cpu_pct=X db_cpu_pct=X others_cpu_pct=X
 * then per step (all firstload rounds): count, errors, p50 and p99, and last
 *   ping_rps=<median> firstload_rps=<median> firstload_vs_ping=<ratio of the
 *   medians> load_p50_ms=X load_p99_ms=X (of every load of every round)
 * CPU: 100 = one core over the round; server and db are --server-pid and
 * --db-pid with their direct children (read from /proc at round edges);
 * others is the rest of the machine (/proc/stat): other work on the cores.
 *
 * Build: cc -O2 -Wall -o firstload firstload.c
 * Usage: firstload -u http://127.0.0.1:8065/api/v4 -f USERS --team ID
 *                  --channel ID [-c 64] [-d 5] [-r 3] [--peers 20]
 *                  [--server-pid P] [--db-pid P]
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WBUF_SIZE   8192
#define RBUF_START  (64 * 1024)
#define RBUF_MAX    (32 * 1024 * 1024)
#define DRAIN_NS    (10 * 1000000000ull) /* in-flight answers after a deadline */
#define ERR_SNIPPET 160

/* The first-load sequence.  %T is the team, %C the open channel.  Bodies:
 * the role names, the peers' ids (a JSON array), the channel view. */
enum { B_NONE, B_ROLES, B_PEERS, B_VIEW };
static const struct step {
    const char *name, *method, *path;
    int body;
} steps[] = {
    {"config_client", "GET", "/config/client?format=old", B_NONE},
    {"license_client", "GET", "/license/client?format=old", B_NONE},
    {"me", "GET", "/users/me", B_NONE},
    {"preferences", "GET", "/users/me/preferences", B_NONE},
    {"teams", "GET", "/users/me/teams", B_NONE},
    {"team_members", "GET", "/users/me/teams/members", B_NONE},
    {"teams_unread", "GET", "/users/me/teams/unread?include_collapsed_threads=true", B_NONE},
    {"limits_server", "GET", "/limits/server", B_NONE},
    {"roles_names", "POST", "/roles/names", B_ROLES},
    {"plugins_webapp", "GET", "/plugins/webapp", B_NONE},
    {"team_channels", "GET", "/users/me/teams/%T/channels?include_deleted=true", B_NONE},
    {"team_channel_members", "GET", "/users/me/teams/%T/channels/members", B_NONE},
    {"categories", "GET", "/users/me/teams/%T/channels/categories", B_NONE},
    {"channel_members", "GET", "/users/me/channel_members?page=-1", B_NONE},
    {"my_channels", "GET", "/users/me/channels", B_NONE},
    {"statuses", "POST", "/users/status/ids", B_PEERS},
    {"channel_stats", "GET", "/channels/%C/stats?exclude_files_count=true", B_NONE},
    {"posts_unread", "GET",
     "/users/me/channels/%C/posts/unread?limit_after=30&limit_before=30&skipFetchThreads=false"
     "&collapsedThreads=true&collapsedThreadsExtended=false",
     B_NONE},
    {"view", "POST", "/channels/members/me/view", B_VIEW},
    {"users_ids", "POST", "/users/ids", B_PEERS},
};
#define NSTEPS ((int)(sizeof(steps) / sizeof(steps[0])))
static const char roles_body[] = "[\"system_user\",\"team_user\",\"channel_user\"]";

enum { M_PING, M_LOAD };
static const char *mode_names[] = {"ping", "firstload"};
enum { C_DOWN, C_IDLE, C_BUSY };

struct conn {
    int fd, state, want_out;
    char wbuf[WBUF_SIZE];
    size_t wlen, woff;
    char *rbuf;
    size_t rlen, rcap;
    size_t hlen;      /* header length once parsed, else 0 */
    long long clen;   /* Content-Length, -1 chunked, -2 none */
    size_t chunk_pos; /* chunked: where the next chunk size line starts */
    int status, close_after;
    uint64_t sent_ns;
    int step;       /* firstload: the step in flight or next */
    long user;      /* firstload: the user being loaded, -1 none */
    long next_user; /* firstload: the next user this connection takes */
    uint64_t load_start_ns;
    int load_errors;
};

/* a growable array of latencies in microseconds */
struct lat {
    uint32_t *v;
    size_t n, cap;
};

static struct {
    const char *users_file, *team, *channel;
    char host[256], port[16], prefix[256], hostport[300];
    int conns, duration, rounds, peers, warmup;
    long server_pid, db_pid;
} cfg = {.conns = 64, .duration = 5, .rounds = 3, .peers = 20};
/* the warm-up round's answers go into no figure */
static int warming;

static char **user_ids, **tokens;
static long nusers;
static char *peers_json;
static struct addrinfo *addr;
static int epfd;
static struct conn *conns;

/* per round */
static int mode;
static int draining;
static uint64_t deadline_ns;
static uint64_t r_requests, r_errors, r_loads;
static struct lat r_lat, r_load_lat;
/* over all firstload rounds */
static struct lat all_load_lat, step_lat[NSTEPS];
static uint64_t step_errors[NSTEPS];
static int step_error_shown[NSTEPS];
static int ping_error_shown;

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("firstload: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (p == NULL)
        die("out of memory");
    return p;
}

static void lat_add(struct lat *l, uint64_t ns)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4096;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    uint64_t us = ns / 1000;
    l->v[l->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The q-quantile (nearest rank) in ms; sorts l. */
static double lat_ms(struct lat *l, double q)
{
    if (l->n == 0)
        return 0;
    qsort(l->v, l->n, sizeof *l->v, cmp_u32);
    size_t i = (size_t)(q * (double)l->n);
    if (i >= l->n)
        i = l->n - 1;
    return l->v[i] / 1000.0;
}

/* --------------------------------------------------------------- CPU time */

static double self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* utime + stime of `pid` and its direct children, in clock ticks. */
static unsigned long long tree_ticks(long pid)
{
    if (pid <= 0)
        return 0;
    DIR *d = opendir("/proc");
    if (d == NULL)
        return 0;
    unsigned long long total = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char path[300], buf[1024];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
            continue;
        buf[n] = 0;
        char *p = strrchr(buf, ')'); /* the command may hold spaces */
        if (p == NULL)
            continue;
        char state;
        long ppid;
        unsigned long long ut, st;
        /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
        if (sscanf(p + 2, "%c %ld %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &state, &ppid, &ut, &st) != 4)
            continue;
        if (atol(e->d_name) == pid || ppid == pid)
            total += ut + st;
    }
    closedir(d);
    return total;
}

/* busy ticks of the whole machine, all cores */
static unsigned long long machine_ticks(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (f == NULL)
        return 0;
    unsigned long long u = 0, n = 0, s = 0, idle = 0, io = 0, irq = 0, sirq = 0, steal = 0;
    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &u, &n, &s, &idle, &io, &irq, &sirq, &steal) != 8)
        u = n = s = irq = sirq = steal = 0;
    fclose(f);
    return u + n + s + irq + sirq + steal;
}

/* ------------------------------------------------------------- requests */

static void ep_set(struct conn *c, int op, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.u32 = (uint32_t)(c - conns)};
    if (epoll_ctl(epfd, op, c->fd, &ev) != 0)
        die("epoll_ctl: %s", strerror(errno));
}

static int conn_open(struct conn *c)
{
    c->fd = socket(addr->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        die("socket: %s", strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, addr->ai_addr, addr->ai_addrlen) != 0) { /* loopback: blocking, once */
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    if (fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) != 0)
        die("fcntl: %s", strerror(errno));
    c->state = C_IDLE;
    c->want_out = 0;
    ep_set(c, EPOLL_CTL_ADD, EPOLLIN);
    return 0;
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->state = C_DOWN;
}

/* Appends the path of step `s` with %T and %C filled in. */
static size_t expand_path(char *out, size_t cap, const char *path)
{
    size_t n = 0;
    for (const char *p = path; *p && n + 1 < cap; p++) {
        const char *sub = NULL;
        if (p[0] == '%' && p[1] == 'T')
            sub = cfg.team;
        else if (p[0] == '%' && p[1] == 'C')
            sub = cfg.channel;
        if (sub != NULL) {
            size_t l = strlen(sub);
            if (n + l >= cap)
                die("path too long");
            memcpy(out + n, sub, l);
            n += l;
            p++;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = 0;
    return n;
}

static void conn_flush(struct conn *c)
{
    while (c->woff < c->wlen) {
        ssize_t w = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            break;
        if (w < 0)
            return; /* the read side sees the failure */
        c->woff += (size_t)w;
    }
    int want = c->woff < c->wlen;
    if (want != c->want_out) {
        c->want_out = want;
        ep_set(c, EPOLL_CTL_MOD, EPOLLIN | (want ? EPOLLOUT : 0));
    }
}

static void conn_send(struct conn *c)
{
    int n;
    if (mode == M_PING) {
        n = snprintf(c->wbuf, sizeof c->wbuf, "GET %s/system/ping HTTP/1.1\r\nHost: %s\r\n\r\n", cfg.prefix,
                     cfg.hostport);
    } else {
        if (c->user < 0) { /* a new load */
            c->user = c->next_user;
            c->next_user = (c->next_user + cfg.conns) % nusers;
            c->step = 0;
            c->load_errors = 0;
            c->load_start_ns = now_ns();
        }
        const struct step *s = &steps[c->step];
        char path[1024], body[WBUF_SIZE / 2];
        expand_path(path, sizeof path, s->path);
        const char *b = "";
        switch (s->body) {
        case B_ROLES: b = roles_body; break;
        case B_PEERS: b = peers_json; break;
        case B_VIEW:
            snprintf(body, sizeof body,
                     "{\"channel_id\":\"%s\",\"prev_channel_id\":\"\",\"collapsed_threads_supported\":true}",
                     cfg.channel);
            b = body;
            break;
        }
        if (s->body == B_NONE)
            n = snprintf(c->wbuf, sizeof c->wbuf, "%s %s%s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n",
                         s->method, cfg.prefix, path, cfg.hostport, tokens[c->user]);
        else
            n = snprintf(c->wbuf, sizeof c->wbuf,
                         "%s %s%s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                         "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                         s->method, cfg.prefix, path, cfg.hostport, tokens[c->user], strlen(b), b);
    }
    if (n < 0 || (size_t)n >= sizeof c->wbuf)
        die("request too long");
    c->wlen = (size_t)n;
    c->woff = 0;
    c->rlen = c->hlen = c->chunk_pos = 0;
    c->state = C_BUSY;
    c->sent_ns = now_ns();
    conn_flush(c);
}

/* Is the response in rbuf complete?  1 yes, 0 not yet, -1 malformed. */
static int response_done(struct conn *c)
{
    if (c->hlen == 0) {
        char *end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
        if (end == NULL)
            return 0;
        if (c->rlen < 12 || strncmp(c->rbuf, "HTTP/1.", 7) != 0)
            return -1;
        c->hlen = (size_t)(end + 4 - c->rbuf);
        c->status = atoi(c->rbuf + 9);
        char saved = *end;
        *end = 0;
        char *cl = strcasestr(c->rbuf, "\r\ncontent-length:");
        c->clen = cl ? strtoll(cl + 17, NULL, 10) : strcasestr(c->rbuf, "\r\ntransfer-encoding: chunked") ? -1 : -2;
        c->close_after = strcasestr(c->rbuf, "\r\nconnection: close") != NULL;
        *end = saved;
        c->chunk_pos = c->hlen;
    }
    if (c->clen >= 0)
        return c->rlen >= c->hlen + (size_t)c->clen;
    if (c->clen == -2) /* no body unless the connection closes */
        return c->status == 204 || c->status == 304 || c->status < 200 ? 1 : -1;
    for (;;) { /* chunked: walk the chunks that have arrived */
        char *line_end = memmem(c->rbuf + c->chunk_pos, c->rlen - c->chunk_pos, "\r\n", 2);
        if (line_end == NULL)
            return 0;
        char *hex_end;
        unsigned long long size = strtoull(c->rbuf + c->chunk_pos, &hex_end, 16);
        if (hex_end == c->rbuf + c->chunk_pos)
            return -1;
        size_t data = (size_t)(line_end + 2 - c->rbuf);
        if (size == 0) /* no trailers: the final CRLF */
            return c->rlen >= data + 2;
        if (c->rlen < data + size + 2)
            return 0;
        c->chunk_pos = data + size + 2;
    }
}

static void note_error(struct conn *c, const char *what)
{
    int shown = mode == M_PING ? ping_error_shown : step_error_shown[c->step];
    if (shown)
        return;
    const char *name = mode == M_PING ? "ping" : steps[c->step].name;
    if (c->rlen > 0) {
        size_t l = c->rlen < ERR_SNIPPET ? c->rlen : ERR_SNIPPET;
        char snip[ERR_SNIPPET + 1];
        for (size_t i = 0; i < l; i++)
            snip[i] = c->rbuf[i] == '\r' || c->rbuf[i] == '\n' ? ' ' : c->rbuf[i];
        snip[l] = 0;
        fprintf(stderr, "firstload: %s: %s: %s\n", name, what, snip);
    } else {
        fprintf(stderr, "firstload: %s: %s\n", name, what);
    }
    if (mode == M_PING)
        ping_error_shown = 1;
    else
        step_error_shown[c->step] = 1;
}

/* A request ended (ok or not) at `t`: count it, move the load on. */
static void request_ended(struct conn *c, int ok, uint64_t t)
{
    c->state = C_IDLE;
    int counted = !draining && t <= deadline_ns;
    if (counted) {
        r_requests++;
        if (!ok)
            r_errors++;
        lat_add(&r_lat, t - c->sent_ns);
    }
    if (mode != M_LOAD)
        return;
    if (counted && !warming) {
        lat_add(&step_lat[c->step], t - c->sent_ns);
        if (!ok)
            step_errors[c->step]++;
    }
    if (!ok)
        c->load_errors++;
    if (++c->step < NSTEPS)
        return;
    if (counted) {
        r_loads++;
        lat_add(&r_load_lat, t - c->load_start_ns);
        if (!warming)
            lat_add(&all_load_lat, t - c->load_start_ns);
    }
    c->user = -1;
}

static void conn_failed(struct conn *c, const char *what)
{
    if (c->state == C_BUSY) {
        note_error(c, what);
        request_ended(c, 0, now_ns());
    }
    conn_close(c);
}

/* Start the next request on an idle (or dropped) connection, if the round
 * still runs. */
static void conn_next(struct conn *c)
{
    if (draining || now_ns() >= deadline_ns)
        return;
    if (c->state == C_DOWN && conn_open(c) != 0)
        return;
    if (c->state == C_IDLE)
        conn_send(c);
}

static void conn_event(struct conn *c, uint32_t ev)
{
    if (c->state == C_DOWN)
        return;
    if (ev & EPOLLOUT)
        conn_flush(c);
    if (!(ev & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        return;
    for (;;) {
        if (c->rcap - c->rlen < 4096) {
            if (c->rcap >= RBUF_MAX) {
                conn_failed(c, "response too large");
                conn_next(c);
                return;
            }
            c->rcap *= 2;
            c->rbuf = xrealloc(c->rbuf, c->rcap);
        }
        ssize_t r = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen - 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            return;
        if (r <= 0) {
            conn_failed(c, r == 0 ? "connection closed" : strerror(errno));
            conn_next(c);
            return;
        }
        if (c->state != C_BUSY) { /* bytes nobody asked for */
            conn_close(c);
            return;
        }
        c->rlen += (size_t)r;
        int done = response_done(c);
        if (done == 0)
            continue;
        uint64_t t = now_ns();
        int ok = done > 0 && c->status >= 200 && c->status < 300;
        if (!ok) {
            char what[64];
            snprintf(what, sizeof what, done < 0 ? "malformed response" : "status %d", c->status);
            note_error(c, what);
        }
        request_ended(c, ok, t);
        if (done < 0 || c->close_after)
            conn_close(c);
        conn_next(c);
        return;
    }
}

/* --------------------------------------------------------------- rounds */

static int busy_count(void)
{
    int n = 0;
    for (int i = 0; i < cfg.conns; i++)
        n += conns[i].state == C_BUSY;
    return n;
}

static double median(double *v, int n)
{
    for (int i = 1; i < n; i++) /* insertion sort: a handful of rounds */
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double run_round(int round, int m, int seconds)
{
    mode = m;
    draining = 0;
    r_requests = r_errors = r_loads = 0;
    r_lat.n = r_load_lat.n = 0;
    for (int i = 0; i < cfg.conns; i++)
        conns[i].user = -1; /* a load cut by the last deadline is dropped */
    long hz = sysconf(_SC_CLK_TCK);
    double cpu0 = self_cpu();
    unsigned long long srv0 = tree_ticks(cfg.server_pid), db0 = tree_ticks(cfg.db_pid), mach0 = machine_ticks();
    uint64_t t0 = now_ns();
    deadline_ns = t0 + (uint64_t)seconds * 1000000000u;
    for (int i = 0; i < cfg.conns; i++)
        conn_next(&conns[i]);
    struct epoll_event evs[256];
    for (;;) {
        uint64_t now = now_ns();
        if (now >= deadline_ns)
            break;
        int timeout = (int)((deadline_ns - now) / 1000000u) + 1;
        int n = epoll_wait(epfd, evs, 256, timeout);
        if (n < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++)
            conn_event(&conns[evs[i].data.u32], evs[i].events);
    }
    /* measured: now the answers still owed, uncounted */
    uint64_t t1 = now_ns();
    double cpu1 = self_cpu();
    unsigned long long srv1 = tree_ticks(cfg.server_pid), db1 = tree_ticks(cfg.db_pid), mach1 = machine_ticks();
    draining = 1;
    while (busy_count() > 0 && now_ns() < t1 + DRAIN_NS) {
        int n = epoll_wait(epfd, evs, 256, 100);
        if (n < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++)
            conn_event(&conns[evs[i].data.u32], evs[i].events);
    }
    for (int i = 0; i < cfg.conns; i++)
        if (conns[i].state == C_BUSY) /* never answered: start afresh */
            conn_close(&conns[i]);

    double secs = (double)(t1 - t0) / 1e9;
    double rps = (double)r_requests / secs;
    double cpct = 100 * (cpu1 - cpu0) / secs, spct = 100.0 * (double)(srv1 - srv0) / (double)hz / secs,
           dpct = 100.0 * (double)(db1 - db0) / (double)hz / secs,
           opct = 100.0 * (double)(mach1 - mach0) / (double)hz / secs - cpct - spct - dpct;
    printf("round=%d mode=%s requests=%" PRIu64 " errors=%" PRIu64 " rps=%.0f p50_ms=%.3f p99_ms=%.3f", round,
           mode_names[m], r_requests, r_errors, rps, lat_ms(&r_lat, 0.50), lat_ms(&r_lat, 0.99));
    if (m == M_LOAD)
        printf(" loads=%" PRIu64 " loads_per_s=%.1f load_p50_ms=%.3f load_p99_ms=%.3f", r_loads, (double)r_loads / secs,
               lat_ms(&r_load_lat, 0.50), lat_ms(&r_load_lat, 0.99));
    printf(" client_cpu_pct=%.0f server_cpu_pct=%.0f db_cpu_pct=%.0f others_cpu_pct=%.0f\n", cpct, spct, dpct,
           opct > 0 ? opct : 0);
    fflush(stdout);
    return rps;
}

/* ---------------------------------------------------------------- setup */

static void load_users(void)
{
    FILE *f = fopen(cfg.users_file, "r");
    if (f == NULL)
        die("%s: %s", cfg.users_file, strerror(errno));
    char line[256], id[64], tok[64];
    long cap = 0;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%63s %63s", id, tok) != 2)
            continue;
        if (nusers == cap) {
            cap = cap ? cap * 2 : 1024;
            user_ids = xrealloc(user_ids, (size_t)cap * sizeof *user_ids);
            tokens = xrealloc(tokens, (size_t)cap * sizeof *tokens);
        }
        user_ids[nusers] = strdup(id);
        tokens[nusers] = strdup(tok);
        if (user_ids[nusers] == NULL || tokens[nusers] == NULL)
            die("out of memory");
        nusers++;
    }
    fclose(f);
    if (nusers == 0)
        die("%s: no users", cfg.users_file);
    int p = cfg.peers < nusers ? cfg.peers : (int)nusers;
    peers_json = xrealloc(NULL, (size_t)p * 32 + 3);
    size_t n = 0;
    peers_json[n++] = '[';
    for (int i = 0; i < p; i++)
        n += (size_t)sprintf(peers_json + n, "%s\"%.26s\"", i ? "," : "", user_ids[i]);
    peers_json[n++] = ']';
    peers_json[n] = 0;
}

/* http://HOST:PORT/PREFIX */
static void parse_url(const char *url)
{
    if (strncmp(url, "http://", 7) != 0)
        die("the URL must start with http://");
    const char *h = url + 7, *slash = strchr(h, '/'), *colon = strchr(h, ':');
    if (slash == NULL)
        slash = h + strlen(h);
    if (colon == NULL || colon > slash)
        die("the URL needs a port");
    snprintf(cfg.host, sizeof cfg.host, "%.*s", (int)(colon - h), h);
    snprintf(cfg.port, sizeof cfg.port, "%.*s", (int)(slash - colon - 1), colon + 1);
    snprintf(cfg.prefix, sizeof cfg.prefix, "%s", slash);
    size_t l = strlen(cfg.prefix);
    if (l > 0 && cfg.prefix[l - 1] == '/')
        cfg.prefix[l - 1] = 0;
    snprintf(cfg.hostport, sizeof cfg.hostport, "%s:%s", cfg.host, cfg.port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    int rc = getaddrinfo(cfg.host, cfg.port, &hints, &addr);
    if (rc != 0)
        die("%s: %s", cfg.host, gai_strerror(rc));
}

static void usage(void)
{
    fputs("usage: firstload -u http://HOST:PORT/api/v4 -f USERS --team ID --channel ID\n"
          "                 [-c CONNS] [-d SECONDS] [-r ROUNDS] [--peers N] [--warmup SECONDS]\n"
          "                 [--server-pid PID] [--db-pid PID]\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"url", 1, 0, 'u'},     {"users", 1, 0, 'f'}, {"team", 1, 0, 'T'},
                                         {"channel", 1, 0, 'C'}, {"conns", 1, 0, 'c'}, {"duration", 1, 0, 'd'},
                                         {"rounds", 1, 0, 'r'},  {"peers", 1, 0, 'p'}, {"server-pid", 1, 0, 'S'},
                                         {"db-pid", 1, 0, 'D'},  {"warmup", 1, 0, 'W'},
                                         {0, 0, 0, 0}};
    const char *url = NULL;
    int o;
    while ((o = getopt_long(argc, argv, "u:f:c:d:r:", opts, NULL)) != -1) {
        switch (o) {
        case 'u': url = optarg; break;
        case 'f': cfg.users_file = optarg; break;
        case 'T': cfg.team = optarg; break;
        case 'C': cfg.channel = optarg; break;
        case 'c': cfg.conns = atoi(optarg); break;
        case 'd': cfg.duration = atoi(optarg); break;
        case 'r': cfg.rounds = atoi(optarg); break;
        case 'p': cfg.peers = atoi(optarg); break;
        case 'S': cfg.server_pid = atol(optarg); break;
        case 'D': cfg.db_pid = atol(optarg); break;
        case 'W': cfg.warmup = atoi(optarg); break;
        default: usage();
        }
    }
    if (url == NULL || cfg.users_file == NULL || cfg.team == NULL || cfg.channel == NULL || cfg.conns < 1 ||
        cfg.duration < 1 || cfg.rounds < 1 || cfg.peers < 1 || cfg.warmup < 0)
        usage();
    parse_url(url);
    load_users();
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        die("epoll_create1: %s", strerror(errno));
    conns = calloc((size_t)cfg.conns, sizeof *conns);
    if (conns == NULL)
        die("out of memory");
    for (int i = 0; i < cfg.conns; i++) {
        conns[i].fd = -1;
        conns[i].state = C_DOWN;
        conns[i].user = -1;
        conns[i].next_user = i % nusers;
        conns[i].rcap = RBUF_START;
        conns[i].rbuf = xrealloc(NULL, RBUF_START);
        if (conn_open(&conns[i]) != 0)
            die("cannot connect to %s", cfg.hostport);
    }
    fprintf(stderr, "firstload: %ld users, %d connections, %d steps a load, %d s a round, %d rounds of each\n", nusers,
            cfg.conns, NSTEPS, cfg.duration, cfg.rounds);

    double *ping = xrealloc(NULL, (size_t)cfg.rounds * sizeof *ping);
    double *load = xrealloc(NULL, (size_t)cfg.rounds * sizeof *load);
    if (cfg.warmup > 0) {
        warming = 1;
        run_round(0, M_LOAD, cfg.warmup);
        warming = 0;
    }
    for (int r = 0; r < cfg.rounds; r++) {
        ping[r] = run_round(r + 1, M_PING, cfg.duration);
        load[r] = run_round(r + 1, M_LOAD, cfg.duration);
    }

    printf("per step (all firstload rounds):\n");
    for (int i = 0; i < NSTEPS; i++)
        printf("  %-21s %8zu requests %6" PRIu64 " errors  p50 %8.3f ms  p99 %8.3f ms\n", steps[i].name, step_lat[i].n,
               step_errors[i], lat_ms(&step_lat[i], 0.50), lat_ms(&step_lat[i], 0.99));
    double pm = median(ping, cfg.rounds), lm = median(load, cfg.rounds);
    printf("ping_rps=%.0f firstload_rps=%.0f firstload_vs_ping=%.2f load_p50_ms=%.3f load_p99_ms=%.3f loads=%zu\n", pm,
           lm, pm > 0 ? lm / pm : 0, lat_ms(&all_load_lat, 0.50), lat_ms(&all_load_lat, 0.99), all_load_lat.n);
    return 0;
}
