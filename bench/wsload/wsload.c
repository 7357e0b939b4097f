/*
 * bench/wsload/wsload.c: WebSocket fan-out load client for bench/fanout.sh.
 *
 * Opens N WebSocket connections (RFC 6455 client framing, written here) to one
 * URL with an `Authorization: Bearer <token>` header, keeps them open, and
 * drives posts itself: R posts per second for D seconds over plain HTTP/1.1
 * keep-alive POSTs whose message is `ts=<CLOCK_MONOTONIC ns> ...`.  Every text
 * message received is counted; a message that contains `ts=<digits>` (found
 * anywhere in the frame, so the escaped post JSON inside a `posted` event
 * works) is a delivery, and now - ts goes into a latency histogram.
 *
 * One thread, one epoll.  Memory per connection is fixed (~450 bytes plus a
 * 2 KiB buffer during the handshake only): payloads are scanned as they stream
 * through one shared read buffer, never kept.  Partial reads and writes,
 * fragmented messages, ping (answered with pong) and close (answered, then the
 * connection is counted as an error) are handled.
 *
 * Phases: connect (at most --concurrency handshakes in flight) -> idle
 * (--idle s) -> [--wait-signal: print "wsload: ready ..." on stderr and wait
 * for SIGUSR1, so a caller can measure the server while idle] -> post
 * (--duration s) -> drain (until every delivery arrived, or --drain s).
 *
 * Output, one line on stdout:
 *   connected=N delivered=N expected=N events_per_s=X p50_ms=X p99_ms=X
 *   max_ms=X msgs=N posts=N posts_requested=N post_errors=N posts_missed=N
 *   client_cpu_pct=X errors=N
 * (posts: answered 2xx; posts_requested: R * D; the first close frame a
 * server sends is noted on stderr with its code and reason)
 * events_per_s = deliveries / max(D, time from the first post to the last
 * delivery).  Latency includes this client's own queueing: it shares the CPU
 * (client_cpu_pct: its CPU use from the first post to the end, 100 = a core).
 * Posts go over --post-conns keep-alive connections, one request in flight on
 * each: when all are waiting for answers, the posts due are sent late, and
 * those still owed when D ends are counted in posts_missed.
 *
 * Build: cc -O2 -Wall -o wsload wsload.c
 * Usage: wsload -u ws://127.0.0.1:8065/api/v4/websocket -n 1000 -t TOKEN
 *               -c CHANNEL_ID [-r 100] [-d 10] [--post-url URL] [-T TOKENFILE]
 *               [--idle 1] [--drain 5] [--concurrency 200] [--post-conns 8]
 *               [--wait-signal] [-v]
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define RBUF_SIZE (256 * 1024) /* shared read buffer */
#define HS_SIZE   2048         /* handshake request, then response headers */
#define OUT_SIZE  256          /* per connection: pong / close replies */
#define PC_RBUF   16384        /* post connection: one response */
#define PC_WBUF   4096         /* post connection: one request */

/* epoll tags: kind in the high 32 bits, index in the low 32 */
enum { K_WS = 1, K_POST, K_TIMER, K_SIGNAL };
enum { WS_NEW, WS_CONNECTING, WS_SENDING, WS_HANDSHAKE, WS_OPEN, WS_DEAD };
enum { PH_CONNECT, PH_IDLE, PH_WAIT, PH_POST, PH_DRAIN };
enum { PC_DOWN, PC_IDLE, PC_BUSY };
enum { E_CONNECT, E_HANDSHAKE, E_EOF, E_RESET, E_PROTO, E_CLOSED, E_OVERFLOW, E_TIMEOUT, E_N };
static const char *err_names[E_N] = {"connect",  "handshake",   "eof",          "reset",
                                     "protocol", "close_frame", "out_overflow", "timeout"};

struct hs {
    size_t len, off;
    char buf[HS_SIZE];
};

struct ws {
    int fd;
    uint8_t state, want_out, in_payload, hlen, hneed;
    uint8_t opcode, fin, masked, msg_op; /* msg_op: data message in progress (1 text, 2 binary) */
    uint8_t ts_state, prev_alnum, ndig, ctl_len;
    uint8_t mask[4];
    uint8_t hdr[14];
    uint16_t out_len, out_off;
    uint64_t remaining, pos, ts_val;
    struct hs *hs;
    uint8_t ctl[125];
    uint8_t out[OUT_SIZE];
};

struct pc {
    int fd, state, want_out;
    size_t wlen, woff, rlen;
    uint64_t sent_ns;
    char wbuf[PC_WBUF];
    char rbuf[PC_RBUF];
};

struct url {
    char host[256], port[16], path[512], hostport[280];
};

static struct {
    struct url ws, post;
    int n, concurrency, post_conns, wait_signal, verbose;
    double rate, duration, idle, drain, connect_timeout;
    const char *channel, *post_token;
    char **tokens;
    int ntokens;
} cfg = {.n = 100,
         .concurrency = 200,
         .post_conns = 8,
         .rate = 100,
         .duration = 10,
         .idle = 1,
         .drain = 5,
         .connect_timeout = 60};

static struct {
    uint64_t msgs, delivered, stale, posts_sent, posts_ok, post_errors, posts_missed;
    uint64_t errors, err[E_N], sec_msgs, sec_delivered;
    uint64_t post_start, last_delivery;
    int open, failed, inflight, next, connected_at_post;
    int first_post_status;
} st;

/* latency histogram: 1 us buckets below 10 ms, 100 us buckets up to 60 s */
#define H_FINE   10000
#define H_COARSE 600000
static uint64_t hist[H_FINE + H_COARSE];
static uint64_t hist_n, hist_max_us;

static struct ws *conns;
static struct pc *pcs;
static int ep, tfd = -1, sfd = -1, phase;
static struct addrinfo *ws_ai, *post_ai;
static uint8_t rbuf[RBUF_SIZE];
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("wsload: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("wsload: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static uint32_t rand32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

static void hist_add(uint64_t ns)
{
    uint64_t us = ns / 1000;
    size_t i = us < H_FINE ? us : H_FINE + (us - H_FINE) / 100;
    if (i >= H_FINE + H_COARSE)
        i = H_FINE + H_COARSE - 1;
    hist[i]++;
    hist_n++;
    if (us > hist_max_us)
        hist_max_us = us;
}

static double hist_pct_ms(double p)
{
    if (hist_n == 0)
        return 0;
    uint64_t want = (uint64_t)(p * (double)hist_n + 0.999999), sum = 0;
    if (want < 1)
        want = 1;
    for (size_t i = 0; i < H_FINE + H_COARSE; i++) {
        sum += hist[i];
        if (sum >= want)
            return i < H_FINE ? (double)i / 1000.0 : (H_FINE + (double)(i - H_FINE) * 100) / 1000.0;
    }
    return (double)hist_max_us / 1000.0;
}

static void parse_url(const char *s, const char *scheme, struct url *u)
{
    size_t sl = strlen(scheme);
    if (strncmp(s, scheme, sl) != 0 || strncmp(s + sl, "://", 3) != 0)
        die("URL %s: expected %s://host:port/path", s, scheme);
    s += sl + 3;
    const char *slash = strchr(s, '/');
    size_t hl = slash ? (size_t)(slash - s) : strlen(s);
    if (hl == 0 || hl >= sizeof u->hostport)
        die("bad host in URL");
    memcpy(u->hostport, s, hl);
    u->hostport[hl] = 0;
    snprintf(u->path, sizeof u->path, "%s", slash ? slash : "/");
    const char *colon = strrchr(u->hostport, ':');
    if (u->hostport[0] == '[') { /* [v6]:port */
        const char *rb = strchr(u->hostport, ']');
        if (!rb)
            die("bad IPv6 host in URL");
        snprintf(u->host, sizeof u->host, "%.*s", (int)(rb - u->hostport - 1), u->hostport + 1);
        colon = rb[1] == ':' ? rb + 1 : NULL;
    } else {
        snprintf(u->host, sizeof u->host, "%.*s", (int)(colon ? colon - u->hostport : (long)hl), u->hostport);
    }
    snprintf(u->port, sizeof u->port, "%s", colon ? colon + 1 : "80");
}

static struct addrinfo *resolve(const struct url *u)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    int rc = getaddrinfo(u->host, u->port, &hints, &ai);
    if (rc != 0)
        die("cannot resolve %s: %s", u->host, gai_strerror(rc));
    return ai;
}

static void ep_set(int fd, int op, uint32_t events, int kind, int idx)
{
    struct epoll_event ev = {.events = events, .data.u64 = ((uint64_t)kind << 32) | (uint32_t)idx};
    if (epoll_ctl(ep, op, fd, &ev) != 0)
        die("epoll_ctl: %s", strerror(errno));
}

static int tcp_socket(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* ---------------------------------------------------------------- WebSocket */

static void ws_fail(struct ws *c, int why)
{
    if (c->state == WS_DEAD)
        return;
    if (c->state == WS_OPEN)
        st.open--;
    else {
        st.failed++;
        st.inflight--;
    }
    close(c->fd);
    c->fd = -1;
    free(c->hs);
    c->hs = NULL;
    c->state = WS_DEAD;
    st.errors++;
    st.err[why]++;
}

static void ws_want_out(struct ws *c, int on)
{
    if (c->want_out == on)
        return;
    c->want_out = (uint8_t)on;
    ep_set(c->fd, EPOLL_CTL_MOD, EPOLLIN | (on ? EPOLLOUT : 0), K_WS, (int)(c - conns));
}

/* Write what is queued (handshake request or control frames). 0 ok, -1 failed. */
static int ws_flush(struct ws *c)
{
    char *buf = c->state == WS_SENDING ? c->hs->buf : (char *)c->out;
    size_t len = c->state == WS_SENDING ? c->hs->len : c->out_len;
    size_t off = c->state == WS_SENDING ? c->hs->off : c->out_off;
    while (off < len) {
        ssize_t w = send(c->fd, buf + off, len - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            break;
        if (w < 0) {
            ws_fail(c, E_RESET);
            return -1;
        }
        off += (size_t)w;
    }
    if (c->state == WS_SENDING) {
        c->hs->off = off;
        if (off == len) { /* request sent: the buffer now collects the response */
            c->hs->len = 0;
            c->state = WS_HANDSHAKE;
        }
    } else {
        c->out_off = (uint16_t)off;
        if (off == len)
            c->out_off = c->out_len = 0;
    }
    ws_want_out(c, off < len);
    return 0;
}

/* Queue one masked client frame (control frames only: payload <= 125). */
static int ws_queue_frame(struct ws *c, int opcode, const uint8_t *payload, size_t len)
{
    if (len > 125 || c->out_len + 6 + len > OUT_SIZE) {
        ws_fail(c, E_OVERFLOW);
        return -1;
    }
    uint8_t *o = c->out + c->out_len;
    uint32_t m = rand32();
    uint8_t mk[4] = {(uint8_t)m, (uint8_t)(m >> 8), (uint8_t)(m >> 16), (uint8_t)(m >> 24)};
    o[0] = (uint8_t)(0x80 | opcode);
    o[1] = (uint8_t)(0x80 | len);
    memcpy(o + 2, mk, 4);
    for (size_t i = 0; i < len; i++)
        o[6 + i] = payload[i] ^ mk[i & 3];
    c->out_len = (uint16_t)(c->out_len + 6 + len);
    return ws_flush(c);
}

static void ws_connect(int i)
{
    struct ws *c = &conns[i];
    const char *tok = cfg.tokens[i % cfg.ntokens];
    memset(c, 0, sizeof *c);
    c->hs = malloc(sizeof *c->hs);
    if (!c->hs)
        die("out of memory");
    int n = snprintf(c->hs->buf, HS_SIZE,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                     "Authorization: Bearer %s\r\n\r\n",
                     cfg.ws.path, cfg.ws.hostport, tok);
    if (n < 0 || n >= HS_SIZE)
        die("handshake request too long (token?)");
    c->hs->len = (size_t)n;
    c->hs->off = 0;
    st.inflight++;
    c->fd = tcp_socket(ws_ai);
    if (c->fd < 0) {
        c->state = WS_NEW;
        ws_fail(c, E_CONNECT);
        return;
    }
    c->state = WS_CONNECTING;
    ep_set(c->fd, EPOLL_CTL_ADD, EPOLLIN | EPOLLOUT, K_WS, i);
    c->want_out = 1;
    if (connect(c->fd, ws_ai->ai_addr, ws_ai->ai_addrlen) == 0) {
        c->state = WS_SENDING;
        ws_flush(c);
    } else if (errno != EINPROGRESS) {
        ws_fail(c, E_CONNECT);
    }
}

/* A post's timestamp was found in a complete text message. */
static void delivery(uint64_t ts)
{
    uint64_t now = now_ns();
    if (phase < PH_POST || ts < st.post_start || ts > now) {
        st.stale++;
        return;
    }
    st.delivered++;
    st.sec_delivered++;
    st.last_delivery = now;
    hist_add(now - ts);
}

static int is_alnum(uint8_t b)
{
    return isalnum(b) != 0;
}

/* Scan text payload bytes for `ts=<digits>` not preceded by a letter or digit.
 * States: 0 searching, 1 saw "t", 2 saw "ts", 3 in the digits, 4 done. */
static void scan_ts(struct ws *c, const uint8_t *p, size_t k)
{
    size_t i = 0;
    while (i < k && c->ts_state != 4) {
        switch (c->ts_state) {
        case 0: {
            /* '=' is rare in the JSON of an event: memchr for it and look
             * back, several times cheaper than memmem("ts=") (which was a
             * third of this client's CPU at 700k events/s) */
            const uint8_t *q = NULL, *e = p + k, *s = p + i;
            while (s < e && (s = memchr(s, '=', (size_t)(e - s))) != NULL) {
                if (s - (p + i) >= 2 && s[-2] == 't' && s[-1] == 's') {
                    q = s - 2;
                    break;
                }
                s++;
            }
            if (q) {
                int prev = q > p ? is_alnum(q[-1]) : c->prev_alnum;
                i = (size_t)(q - p) + (prev ? 1 : 3);
                if (!prev) {
                    c->ts_state = 3;
                    c->ts_val = 0;
                    c->ndig = 0;
                }
                break;
            }
            /* not here; the chunk may end inside a split "ts=" */
            if (k - i >= 2 && p[k - 2] == 't' && p[k - 1] == 's' && !(k >= 3 ? is_alnum(p[k - 3]) : c->prev_alnum))
                c->ts_state = 2;
            else if (p[k - 1] == 't' && !(k >= 2 ? is_alnum(p[k - 2]) : c->prev_alnum))
                c->ts_state = 1;
            i = k;
            break;
        }
        case 1: c->ts_state = p[i++] == 's' ? 2 : 0; break;
        case 2:
            if (p[i++] == '=') {
                c->ts_state = 3;
                c->ts_val = 0;
                c->ndig = 0;
            } else {
                c->ts_state = 0;
            }
            break;
        case 3:
            while (i < k && p[i] >= '0' && p[i] <= '9' && c->ndig < 20) {
                c->ts_val = c->ts_val * 10 + (uint64_t)(p[i] - '0');
                c->ndig++;
                i++;
            }
            if (c->ndig >= 20)
                c->ts_state = 0; /* not ours */
            else if (i < k)
                c->ts_state = c->ndig ? 4 : 0;
            break;
        }
    }
    if (k > 0)
        c->prev_alnum = (uint8_t)is_alnum(p[k - 1]);
}

static int frame_begin(struct ws *c)
{
    uint8_t b0 = c->hdr[0], b1 = c->hdr[1];
    uint64_t len = b1 & 0x7f;
    size_t i = 2;
    if (b0 & 0x70)
        return -1; /* no extension was negotiated */
    c->fin = (b0 & 0x80) != 0;
    c->opcode = b0 & 0x0f;
    c->masked = (b1 & 0x80) != 0; /* servers must not mask; accept it anyway */
    if (len == 126) {
        len = (uint64_t)c->hdr[2] << 8 | c->hdr[3];
        i = 4;
    } else if (len == 127) {
        len = 0;
        for (i = 2; i < 10; i++)
            len = len << 8 | c->hdr[i];
        if (len >> 62)
            return -1;
    }
    if (c->masked)
        memcpy(c->mask, c->hdr + i, 4);
    if (c->opcode >= 8) {
        if (!c->fin || len > 125 || c->opcode > 10)
            return -1;
        c->ctl_len = 0;
    } else if (c->opcode == 0) {
        if (!c->msg_op)
            return -1; /* continuation of nothing */
    } else if (c->opcode == 1 || c->opcode == 2) {
        if (c->msg_op)
            return -1; /* new message inside a fragmented one */
        c->msg_op = c->opcode;
        c->ts_state = 0;
        c->prev_alnum = 0;
    } else {
        return -1;
    }
    c->remaining = len;
    c->pos = 0;
    c->in_payload = 1;
    return 0;
}

/* 0 ok, -1 failed (connection gone) */
static int frame_end(struct ws *c)
{
    c->in_payload = 0;
    c->hlen = 0;
    c->hneed = 2;
    if (c->opcode == 9)
        return ws_queue_frame(c, 10, c->ctl, c->ctl_len);
    if (c->opcode == 8) {
        /* answer with the same status code, then hang up; the first close
         * of the run is noted: why the server closes (slow consumer, ...) */
        if (st.err[E_CLOSED] == 0)
            note("close frame: code %d %.*s", c->ctl_len >= 2 ? c->ctl[0] << 8 | c->ctl[1] : 0,
                 c->ctl_len > 2 ? c->ctl_len - 2 : 0, (const char *)c->ctl + 2);
        ws_queue_frame(c, 8, c->ctl, c->ctl_len >= 2 ? 2 : 0);
        ws_fail(c, E_CLOSED);
        return -1;
    }
    if (c->opcode >= 8 || !c->fin)
        return 0;
    st.msgs++;
    st.sec_msgs++;
    if (c->msg_op == 1 && (c->ts_state == 4 || (c->ts_state == 3 && c->ndig > 0)))
        delivery(c->ts_val);
    c->msg_op = 0;
    return 0;
}

/* Frame bytes from the server, streamed. 0 ok, -1 connection gone. */
static int ws_feed(struct ws *c, uint8_t *p, size_t n)
{
    while (n > 0) {
        if (!c->in_payload) {
            c->hdr[c->hlen++] = *p++;
            n--;
            if (c->hlen == 2)
                c->hneed = (uint8_t)(2 +
                                     ((c->hdr[1] & 0x7f) == 126   ? 2
                                      : (c->hdr[1] & 0x7f) == 127 ? 8
                                                                  : 0) +
                                     ((c->hdr[1] & 0x80) ? 4 : 0));
            if (c->hlen < 2 || c->hlen < c->hneed)
                continue;
            if (frame_begin(c) < 0) {
                ws_fail(c, E_PROTO);
                return -1;
            }
            if (c->remaining == 0 && frame_end(c) < 0)
                return -1;
            continue;
        }
        size_t k = n < c->remaining ? n : (size_t)c->remaining;
        if (c->masked)
            for (size_t j = 0; j < k; j++)
                p[j] ^= c->mask[(c->pos + j) & 3];
        if (c->opcode >= 8) {
            memcpy(c->ctl + c->ctl_len, p, k);
            c->ctl_len = (uint8_t)(c->ctl_len + k);
        } else if (c->msg_op == 1 && c->ts_state != 4) {
            scan_ts(c, p, k);
        }
        c->pos += k;
        c->remaining -= k;
        p += k;
        n -= k;
        if (c->remaining == 0 && frame_end(c) < 0)
            return -1;
    }
    return 0;
}

/* Handshake response bytes: 101 with the accept key of our fixed nonce. */
static void ws_handshake_read(struct ws *c)
{
    struct hs *h = c->hs;
    ssize_t r = recv(c->fd, h->buf + h->len, HS_SIZE - 1 - h->len, 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) {
        ws_fail(c, r == 0 ? E_EOF : E_RESET);
        return;
    }
    h->len += (size_t)r;
    h->buf[h->len] = 0;
    char *end = strstr(h->buf, "\r\n\r\n");
    if (!end) {
        if (h->len >= HS_SIZE - 1)
            ws_fail(c, E_HANDSHAKE);
        return;
    }
    *end = 0;
    int ok = strncmp(h->buf, "HTTP/1.1 101", 12) == 0;
    char *acc = ok ? strcasestr(h->buf, "\r\nsec-websocket-accept:") : NULL;
    if (acc) {
        acc += 23;
        while (*acc == ' ' || *acc == '\t')
            acc++;
        ok = strncmp(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", 28) == 0; /* RFC 6455 1.3 */
    } else {
        ok = 0;
    }
    if (!ok) {
        if (cfg.verbose || st.err[E_HANDSHAKE] == 0)
            note("handshake refused: %.80s", h->buf);
        ws_fail(c, E_HANDSHAKE);
        return;
    }
    size_t hdr_len = (size_t)(end + 4 - h->buf), rest = h->len - hdr_len;
    uint8_t early[HS_SIZE];
    memcpy(early, h->buf + hdr_len, rest);
    free(h);
    c->hs = NULL;
    c->state = WS_OPEN;
    c->hneed = 2;
    st.inflight--;
    st.open++;
    if (rest)
        ws_feed(c, early, rest); /* the hello may arrive with the 101 */
}

static void ws_read(struct ws *c)
{
    for (int round = 0; round < 4 && c->state == WS_OPEN; round++) {
        ssize_t r = recv(c->fd, rbuf, sizeof rbuf, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            return;
        if (r <= 0) {
            ws_fail(c, r == 0 ? E_EOF : E_RESET);
            return;
        }
        if (ws_feed(c, rbuf, (size_t)r) < 0 || (size_t)r < sizeof rbuf)
            return;
    }
}

static void ws_event(int i, uint32_t ev)
{
    struct ws *c = &conns[i];
    if (c->state == WS_CONNECTING && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0;
        socklen_t l = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err) {
            if (cfg.verbose || st.err[E_CONNECT] == 0)
                note("connect: %s", strerror(err));
            ws_fail(c, E_CONNECT);
            return;
        }
        c->state = WS_SENDING;
    }
    if ((ev & EPOLLOUT) && (c->state == WS_SENDING || c->state == WS_OPEN))
        if (ws_flush(c) < 0)
            return;
    if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        if (c->state == WS_HANDSHAKE)
            ws_handshake_read(c);
        else if (c->state == WS_OPEN)
            ws_read(c);
        else if (c->state == WS_SENDING && (ev & (EPOLLERR | EPOLLHUP)))
            ws_fail(c, E_RESET);
    }
}

/* ----------------------------------------------------------- post driver */

static int pc_connect(struct pc *p, int idx)
{
    p->fd = tcp_socket(post_ai);
    if (p->fd < 0)
        return -1;
    int fl = fcntl(p->fd, F_GETFL);
    fcntl(p->fd, F_SETFL, fl & ~O_NONBLOCK); /* loopback: connect blocking, once */
    if (connect(p->fd, post_ai->ai_addr, post_ai->ai_addrlen) != 0) {
        close(p->fd);
        p->fd = -1;
        return -1;
    }
    fcntl(p->fd, F_SETFL, fl | O_NONBLOCK);
    p->state = PC_IDLE;
    p->want_out = 0;
    p->rlen = p->wlen = p->woff = 0;
    ep_set(p->fd, EPOLL_CTL_ADD, EPOLLIN, K_POST, idx);
    return 0;
}

static void pc_down(struct pc *p, int count_error)
{
    if (p->state == PC_BUSY && count_error)
        st.post_errors++;
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    p->state = PC_DOWN;
}

static void pc_flush(struct pc *p, int idx)
{
    while (p->woff < p->wlen) {
        ssize_t w = send(p->fd, p->wbuf + p->woff, p->wlen - p->woff, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN)
            break;
        if (w < 0) {
            pc_down(p, 1);
            return;
        }
        p->woff += (size_t)w;
    }
    int want = p->woff < p->wlen;
    if (want != p->want_out) {
        p->want_out = want;
        ep_set(p->fd, EPOLL_CTL_MOD, EPOLLIN | (want ? EPOLLOUT : 0), K_POST, idx);
    }
}

static void pc_send(struct pc *p, int idx)
{
    char body[512];
    p->sent_ns = now_ns();
    int bl = snprintf(body, sizeof body, "{\"channel_id\":\"%s\",\"message\":\"ts=%" PRIu64 " fanout benchmark post\"}",
                      cfg.channel, p->sent_ns);
    int n = snprintf(p->wbuf, sizeof p->wbuf,
                     "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                     cfg.post.path, cfg.post.hostport, cfg.post_token, bl, body);
    if (n < 0 || (size_t)n >= sizeof p->wbuf)
        die("post request too long");
    p->wlen = (size_t)n;
    p->woff = 0;
    p->rlen = 0;
    p->state = PC_BUSY;
    st.posts_sent++;
    pc_flush(p, idx);
}

/* Send owed posts on idle connections (reconnecting dropped ones). */
static uint64_t owed;
static void dispatch(void)
{
    for (int i = 0; i < cfg.post_conns && owed > 0; i++) {
        struct pc *p = &pcs[i];
        if (p->state == PC_DOWN && pc_connect(p, i) < 0)
            continue;
        if (p->state == PC_IDLE) {
            owed--;
            pc_send(p, i);
        }
    }
}

/* One complete response in rbuf?  1 yes (status set), 0 not yet, -1 bad. */
static int http_response_done(struct pc *p, int *status, int *close_after)
{
    p->rbuf[p->rlen] = 0;
    char *end = strstr(p->rbuf, "\r\n\r\n");
    if (!end)
        return 0;
    if (strncmp(p->rbuf, "HTTP/1.", 7) != 0)
        return -1;
    *status = atoi(p->rbuf + 9);
    *end = 0;
    char *cl = strcasestr(p->rbuf, "\r\ncontent-length:");
    int chunked = strcasestr(p->rbuf, "\r\ntransfer-encoding: chunked") != NULL;
    *close_after = strcasestr(p->rbuf, "\r\nconnection: close") != NULL;
    *end = '\r';
    size_t hl = (size_t)(end + 4 - p->rbuf);
    if (cl)
        return p->rlen >= hl + strtoul(cl + 17, NULL, 10);
    if (chunked) /* small bodies only: the whole response must fit in rbuf */
        return strstr(end + 2, "\r\n0\r\n\r\n") != NULL;
    return *status == 204 || *status == 304 || (*status >= 100 && *status < 200) ? 1 : -1;
}

static void pc_event(int idx, uint32_t ev)
{
    struct pc *p = &pcs[idx];
    if (p->state == PC_DOWN)
        return;
    if (ev & EPOLLOUT)
        pc_flush(p, idx);
    if (p->state == PC_DOWN || !(ev & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        return;
    ssize_t r = recv(p->fd, p->rbuf + p->rlen, PC_RBUF - 1 - p->rlen, 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r <= 0) {
        pc_down(p, 1);
        return;
    }
    p->rlen += (size_t)r;
    if (p->state != PC_BUSY) { /* unsolicited bytes */
        pc_down(p, 0);
        return;
    }
    int status = 0, close_after = 0, done = http_response_done(p, &status, &close_after);
    if (done == 0 && p->rlen >= PC_RBUF - 1)
        done = -1;
    if (done == 0)
        return;
    if (done > 0 && status >= 200 && status < 300) {
        st.posts_ok++;
    } else {
        st.post_errors++;
        if (!st.first_post_status) {
            st.first_post_status = status ? status : -1;
            note("post failed: %.120s", p->rbuf);
        }
    }
    p->state = PC_IDLE;
    p->rlen = 0;
    if (done < 0 || close_after)
        pc_down(p, 0);
    dispatch();
}

/* ------------------------------------------------------------------ main */

static void load_tokens(const char *file)
{
    FILE *f = fopen(file, "r");
    if (!f)
        die("%s: %s", file, strerror(errno));
    char line[1024];
    int cap = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0])
            continue;
        if (cfg.ntokens == cap) {
            cap = cap ? cap * 2 : 64;
            cfg.tokens = realloc(cfg.tokens, (size_t)cap * sizeof *cfg.tokens);
            if (!cfg.tokens)
                die("out of memory");
        }
        cfg.tokens[cfg.ntokens++] = strdup(line);
    }
    fclose(f);
    if (!cfg.ntokens)
        die("%s: no tokens", file);
}

static void usage(void)
{
    fputs("usage: wsload -u ws://HOST:PORT/api/v4/websocket -n N (-t TOKEN | -T FILE) -c CHANNEL\n"
          "              [-r RATE] [-d SECONDS] [--post-url http://HOST:PORT/api/v4/posts]\n"
          "              [--post-token TOKEN] [--idle S] [--drain S] [--concurrency C]\n"
          "              [--post-conns K] [--connect-timeout S] [--wait-signal] [-v]\n",
          stderr);
    exit(2);
}

static double cpu_at_post;
static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void start_posting(void)
{
    phase = PH_POST;
    cpu_at_post = cpu_seconds();
    st.connected_at_post = st.open;
    st.post_start = now_ns();
    st.sec_msgs = st.sec_delivered = 0;
    uint64_t iv = (uint64_t)(1e9 / cfg.rate);
    struct itimerspec its = {.it_interval = {(time_t)(iv / 1000000000u), (long)(iv % 1000000000u)}};
    its.it_value = its.it_interval;
    if (timerfd_settime(tfd, 0, &its, NULL) != 0)
        die("timerfd_settime: %s", strerror(errno));
    owed = 1; /* the first post goes now */
    dispatch();
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"url", 1, 0, 'u'},
                                         {"connections", 1, 0, 'n'},
                                         {"token", 1, 0, 't'},
                                         {"token-file", 1, 0, 'T'},
                                         {"channel", 1, 0, 'c'},
                                         {"rate", 1, 0, 'r'},
                                         {"duration", 1, 0, 'd'},
                                         {"post-url", 1, 0, 'P'},
                                         {"post-token", 1, 0, 'K'},
                                         {"idle", 1, 0, 'i'},
                                         {"drain", 1, 0, 'D'},
                                         {"concurrency", 1, 0, 'C'},
                                         {"post-conns", 1, 0, 'p'},
                                         {"connect-timeout", 1, 0, 'O'},
                                         {"wait-signal", 0, 0, 'W'},
                                         {"verbose", 0, 0, 'v'},
                                         {0, 0, 0, 0}};
    const char *ws_url = NULL, *post_url = NULL, *token = NULL, *token_file = NULL;
    int o;
    while ((o = getopt_long(argc, argv, "u:n:t:T:c:r:d:v", opts, NULL)) != -1) {
        switch (o) {
        case 'u': ws_url = optarg; break;
        case 'n': cfg.n = atoi(optarg); break;
        case 't': token = optarg; break;
        case 'T': token_file = optarg; break;
        case 'c': cfg.channel = optarg; break;
        case 'r': cfg.rate = atof(optarg); break;
        case 'd': cfg.duration = atof(optarg); break;
        case 'P': post_url = optarg; break;
        case 'K': cfg.post_token = optarg; break;
        case 'i': cfg.idle = atof(optarg); break;
        case 'D': cfg.drain = atof(optarg); break;
        case 'C': cfg.concurrency = atoi(optarg); break;
        case 'p': cfg.post_conns = atoi(optarg); break;
        case 'O': cfg.connect_timeout = atof(optarg); break;
        case 'W': cfg.wait_signal = 1; break;
        case 'v': cfg.verbose = 1; break;
        default: usage();
        }
    }
    if (!ws_url || !cfg.channel || (!token && !token_file) || cfg.n < 1 || cfg.rate <= 0 || cfg.duration <= 0 ||
        cfg.concurrency < 1 || cfg.post_conns < 1)
        usage();
    if (token_file)
        load_tokens(token_file);
    else {
        static char *one[1];
        one[0] = (char *)token;
        cfg.tokens = one;
        cfg.ntokens = 1;
    }
    if (!cfg.post_token)
        cfg.post_token = cfg.tokens[0];
    parse_url(ws_url, "ws", &cfg.ws);
    if (post_url) {
        parse_url(post_url, "http", &cfg.post);
    } else {
        cfg.post = cfg.ws;
        snprintf(cfg.post.path, sizeof cfg.post.path, "/api/v4/posts");
    }
    ws_ai = resolve(&cfg.ws);
    post_ai = resolve(&cfg.post);
    rng ^= now_ns() ^ ((uint64_t)getpid() << 32);

    /* our own fd limit: N sockets + a few */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)cfg.n + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < (rlim_t)cfg.n + 64)
            die("open files limit %lu is too low for %d connections (raise ulimit -n)", (unsigned long)rl.rlim_cur,
                cfg.n);
    }

    conns = calloc((size_t)cfg.n, sizeof *conns);
    pcs = calloc((size_t)cfg.post_conns, sizeof *pcs);
    if (!conns || !pcs)
        die("out of memory");
    ep = epoll_create1(EPOLL_CLOEXEC);
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (ep < 0 || tfd < 0)
        die("epoll/timerfd: %s", strerror(errno));
    ep_set(tfd, EPOLL_CTL_ADD, EPOLLIN, K_TIMER, 0);
    signal(SIGINT, SIG_DFL); /* a shell starts background jobs with SIGINT ignored */
    signal(SIGTERM, SIG_DFL);
    sigset_t ss;
    sigemptyset(&ss);
    sigaddset(&ss, SIGUSR1);
    sigprocmask(SIG_BLOCK, &ss, NULL);
    sfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0)
        die("signalfd: %s", strerror(errno));
    ep_set(sfd, EPOLL_CTL_ADD, EPOLLIN, K_SIGNAL, 0);
    for (int i = 0; i < cfg.post_conns; i++) {
        pcs[i].fd = -1;
        if (pc_connect(&pcs[i], i) < 0)
            die("cannot connect to %s: %s", cfg.post.hostport, strerror(errno));
    }

    uint64_t t0 = now_ns(), deadline = t0 + (uint64_t)(cfg.connect_timeout * 1e9), next_sec = 0;
    int sec = 0, go_early = 0;
    struct epoll_event evs[512];
    phase = PH_CONNECT;
    for (;;) {
        if (phase == PH_CONNECT)
            while (st.next < cfg.n && st.inflight < cfg.concurrency)
                ws_connect(st.next++);
        int n = epoll_wait(ep, evs, 512, 20);
        if (n < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (int k = 0; k < n; k++) {
            int kind = (int)(evs[k].data.u64 >> 32), idx = (int)(uint32_t)evs[k].data.u64;
            if (kind == K_WS) {
                ws_event(idx, evs[k].events);
            } else if (kind == K_POST) {
                pc_event(idx, evs[k].events);
            } else if (kind == K_TIMER) {
                uint64_t exp;
                if (read(tfd, &exp, sizeof exp) == sizeof exp && phase == PH_POST) {
                    owed += exp;
                    dispatch();
                }
            } else if (kind == K_SIGNAL) {
                struct signalfd_siginfo si;
                while (read(sfd, &si, sizeof si) == sizeof si)
                    if (phase == PH_WAIT)
                        start_posting();
                    else if (phase < PH_WAIT)
                        go_early = 1; /* start as soon as we are ready */
            }
        }
        uint64_t now = now_ns();
        switch (phase) {
        case PH_CONNECT:
            if (st.next == cfg.n && st.inflight == 0) {
                note("connected %d of %d in %.2f s (%d failed)", st.open, cfg.n, (double)(now - t0) / 1e9, st.failed);
                phase = PH_IDLE;
                deadline = now + (uint64_t)(cfg.idle * 1e9);
            } else if (now > deadline) {
                for (int i = 0; i < cfg.n; i++)
                    if (conns[i].state != WS_OPEN && conns[i].state != WS_DEAD && i < st.next)
                        ws_fail(&conns[i], E_TIMEOUT);
                st.failed += cfg.n - st.next;
                st.errors += (uint64_t)(cfg.n - st.next);
                st.err[E_TIMEOUT] += (uint64_t)(cfg.n - st.next);
                st.next = cfg.n;
            }
            break;
        case PH_IDLE:
            if (now >= deadline) {
                if (cfg.wait_signal && !go_early) {
                    fprintf(stderr, "wsload: ready connected=%d msgs=%" PRIu64 "\n", st.open, st.msgs);
                    fflush(stderr);
                    phase = PH_WAIT;
                    deadline = now + 120 * 1000000000ull;
                } else {
                    start_posting();
                }
            }
            break;
        case PH_WAIT:
            if (now >= deadline) {
                note("no SIGUSR1 within 120 s; posting anyway");
                start_posting();
            }
            break;
        case PH_POST:
        case PH_DRAIN:
            if (cfg.verbose && now >= st.post_start + next_sec) {
                if (next_sec)
                    note("t=%d msgs=%" PRIu64 " delivered=%" PRIu64 " posts_ok=%" PRIu64 " open=%d", sec, st.sec_msgs,
                         st.sec_delivered, st.posts_ok, st.open);
                st.sec_msgs = st.sec_delivered = 0;
                sec++;
                next_sec = (uint64_t)sec * 1000000000ull;
            }
            if (phase == PH_POST && now >= st.post_start + (uint64_t)(cfg.duration * 1e9)) {
                struct itimerspec off = {{0, 0}, {0, 0}};
                timerfd_settime(tfd, 0, &off, NULL);
                st.posts_missed = owed;
                owed = 0;
                phase = PH_DRAIN;
                deadline = now + (uint64_t)(cfg.drain * 1e9);
            }
            if (phase == PH_DRAIN) {
                int busy = 0;
                for (int i = 0; i < cfg.post_conns; i++)
                    busy |= pcs[i].state == PC_BUSY;
                uint64_t expected = st.posts_ok * (uint64_t)st.connected_at_post;
                if ((!busy && st.delivered >= expected) || now >= deadline)
                    goto done;
            }
            break;
        }
    }
done:;
    double cpu_pct = 100.0 * (cpu_seconds() - cpu_at_post) / ((double)(now_ns() - st.post_start) / 1e9);
    uint64_t expected = st.posts_ok * (uint64_t)st.connected_at_post;
    double span = st.last_delivery > st.post_start ? (double)(st.last_delivery - st.post_start) / 1e9 : 0;
    if (span < cfg.duration)
        span = cfg.duration;
    if (st.errors || st.stale) {
        fprintf(stderr, "wsload: errors:");
        for (int e = 0; e < E_N; e++)
            if (st.err[e])
                fprintf(stderr, " %s=%" PRIu64, err_names[e], st.err[e]);
        fprintf(stderr, " stale_ts=%" PRIu64 "\n", st.stale);
    }
    printf("connected=%d delivered=%" PRIu64 " expected=%" PRIu64 " events_per_s=%.0f p50_ms=%.3f "
           "p99_ms=%.3f max_ms=%.3f msgs=%" PRIu64 " posts=%" PRIu64 " posts_requested=%.0f post_errors=%" PRIu64
           " posts_missed=%" PRIu64 " client_cpu_pct=%.0f errors=%" PRIu64 "\n",
           st.connected_at_post, st.delivered, expected, (double)st.delivered / span, hist_pct_ms(0.50),
           hist_pct_ms(0.99), (double)hist_max_us / 1000.0, st.msgs, st.posts_ok, cfg.rate * cfg.duration,
           st.post_errors, st.posts_missed, cpu_pct, st.errors + st.post_errors);
    fflush(stdout);
    return 0;
}
