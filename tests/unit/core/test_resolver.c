/*
 * Tests for src/core/resolver.c: an
 * IP literal answers at once without a thread; a name answers -EAGAIN, then
 * (the thread having looked it up) an address; a name that cannot resolve
 * answers -EAGAIN, then -EHOSTUNREACH; more names than the cache holds never
 * block; the thread stops, and starts again.  No call may block: each is
 * timed.  "localhost" comes from /etc/hosts.  ".invalid" goes to whatever
 * resolv.conf names, which may answer at once or drop the query: RES_OPTIONS
 * caps that at a second, and the many names of the bulk test are not host
 * names at all ('!'), which glibc refuses before asking DNS.  The waits are
 * generous for a loaded machine.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/resolver.h"
#include "../check_main.h"

/* A call that takes longer has blocked: a DNS wait is a second at least
 * here (RES_OPTIONS), and valgrind on a busy machine needs the room. */
#define CALL_MAX_MS 500
#define WAIT_MAX_MS 10000 /* for the thread to answer */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* resolver_lookup, asserting it did not block. */
static int cached(const char *host, uint16_t port, int socktype, struct sockaddr_storage *addr, socklen_t *len)
{
    int64_t start = now_ms();
    int rc = resolver_lookup(host, port, socktype, addr, len);
    int64_t took = now_ms() - start;
    ck_assert_msg(took < CALL_MAX_MS, "resolver_lookup(%s) took %lld ms", host, (long long)took);
    return rc;
}

/* Asks until the answer is not -EAGAIN, as SWIM or a dial would. */
static int wait_answer(const char *host, uint16_t port, int socktype, struct sockaddr_storage *addr, socklen_t *len)
{
    int rc;
    int64_t deadline = now_ms() + WAIT_MAX_MS;
    while ((rc = cached(host, port, socktype, addr, len)) == -EAGAIN && now_ms() < deadline)
        usleep(2000);
    return rc;
}

static int thread_count(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    ck_assert_ptr_nonnull(f);
    char line[256];
    int n = -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    fclose(f);
    return n;
}

/* A joined thread may linger in /proc for a moment. */
static int settled_thread_count(int expected)
{
    int n;
    int64_t deadline = now_ms() + 1000;
    while ((n = thread_count()) != expected && now_ms() < deadline)
        usleep(1000);
    return n;
}

/* "localhost" from /etc/hosts: 127.0.0.1, or ::1 where the file lists it too
 * (a stock Debian's does, and getaddrinfo then prefers it). */
static void check_loopback(const struct sockaddr_storage *addr, socklen_t len, uint16_t port)
{
    if (addr->ss_family == AF_INET6) {
        ck_assert_uint_eq(len, sizeof(struct sockaddr_in6));
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
        ck_assert(IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr));
        ck_assert_uint_eq(ntohs(in6->sin6_port), port);
        return;
    }
    ck_assert_int_eq(addr->ss_family, AF_INET);
    ck_assert_uint_eq(len, sizeof(struct sockaddr_in));
    const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
    ck_assert_uint_eq(ntohl(in->sin_addr.s_addr), INADDR_LOOPBACK);
    ck_assert_uint_eq(ntohs(in->sin_port), port);
}

static void check_ipv4(const struct sockaddr_storage *addr, socklen_t len, const char *ip, uint16_t port)
{
    ck_assert_int_eq(addr->ss_family, AF_INET);
    ck_assert_uint_eq(len, sizeof(struct sockaddr_in));
    const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
    char text[INET_ADDRSTRLEN];
    ck_assert_ptr_nonnull(inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text)));
    ck_assert_str_eq(text, ip);
    ck_assert_uint_eq(ntohs(in->sin_port), port);
}

START_TEST(test_literal_at_once)
{
    int threads = thread_count();
    struct sockaddr_storage addr;
    socklen_t len;
    ck_assert_int_eq(cached("127.0.0.1", 8075, SOCK_DGRAM, &addr, &len), 0);
    check_ipv4(&addr, len, "127.0.0.1", 8075);
    ck_assert_int_eq(cached("::1", 8074, SOCK_STREAM, &addr, &len), 0);
    ck_assert_int_eq(addr.ss_family, AF_INET6);
    ck_assert_uint_eq(ntohs(((struct sockaddr_in6 *)&addr)->sin6_port), 8074);
    ck_assert_int_eq(cached("", 8074, SOCK_STREAM, &addr, &len), -EHOSTUNREACH);
    ck_assert_int_eq(thread_count(), threads); /* no resolver for literals */
    /* the bind address: literals only, a name is refused, not resolved */
    ck_assert_int_eq(resolver_numeric("::", 8074, SOCK_STREAM, &addr, &len), 0);
    ck_assert_int_eq(resolver_numeric("localhost", 8074, SOCK_STREAM, &addr, &len), -EINVAL);
    resolver_stop();
}
END_TEST

START_TEST(test_name_then_address)
{
    struct sockaddr_storage addr;
    socklen_t len;
    /* queued and answered under one lock: the thread cannot have answered yet */
    ck_assert_int_eq(cached("localhost", 8075, SOCK_DGRAM, &addr, &len), -EAGAIN);
    ck_assert_int_eq(wait_answer("localhost", 8075, SOCK_DGRAM, &addr, &len), 0);
    check_loopback(&addr, len, 8075);
    /* the same name for the streaming port: one lookup, the caller's port */
    ck_assert_int_eq(cached("localhost", 8074, SOCK_STREAM, &addr, &len), 0);
    check_loopback(&addr, len, 8074);
    resolver_stop();
}
END_TEST

START_TEST(test_unresolvable_name)
{
    struct sockaddr_storage addr;
    socklen_t len;
    ck_assert_int_eq(cached("no-such-host.invalid", 8075, SOCK_DGRAM, &addr, &len), -EAGAIN);
    ck_assert_int_eq(wait_answer("no-such-host.invalid", 8075, SOCK_DGRAM, &addr, &len), -EHOSTUNREACH);
    /* remembered: no new -EAGAIN while the retry waits */
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(cached("no-such-host.invalid", 8074, SOCK_STREAM, &addr, &len), -EHOSTUNREACH);
    resolver_stop();
}
END_TEST

START_TEST(test_more_names_than_cached)
{
    struct sockaddr_storage addr;
    socklen_t len;
    char host[64];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 2 * RESOLVER_NAMES_MAX; i++) {
            snprintf(host, sizeof(host), "peer-%d!", i); /* fails without a DNS query */
            int rc = cached(host, 8075, SOCK_DGRAM, &addr, &len);
            ck_assert_msg(rc == -EAGAIN || rc == -EHOSTUNREACH, "%s: %d", host, rc);
        }
    }
    /* a full cache still makes room once the queue drains */
    ck_assert_int_eq(wait_answer("localhost", 8075, SOCK_DGRAM, &addr, &len), 0);
    check_loopback(&addr, len, 8075);
    resolver_stop();
}
END_TEST

START_TEST(test_stop_and_restart)
{
    int threads = thread_count();
    struct sockaddr_storage addr;
    socklen_t len;
    resolver_stop(); /* never started: nothing to do */
    ck_assert_int_eq(cached("localhost", 8075, SOCK_DGRAM, &addr, &len), -EAGAIN);
    ck_assert_int_eq(thread_count(), threads + 1);
    int64_t start = now_ms();
    resolver_stop();
    ck_assert_int_lt(now_ms() - start, 1000);
    ck_assert_int_eq(settled_thread_count(threads), threads);
    resolver_stop(); /* twice is fine */
    /* the cache went with it; a new thread answers */
    ck_assert_int_eq(cached("localhost", 8075, SOCK_DGRAM, &addr, &len), -EAGAIN);
    ck_assert_int_eq(wait_answer("localhost", 8075, SOCK_DGRAM, &addr, &len), 0);
    resolver_stop();
    ck_assert_int_eq(settled_thread_count(threads), threads);
}
END_TEST

static Suite *address_suite(void)
{
    Suite *s = suite_create("resolver");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_literal_at_once);
    tcase_add_test(tc, test_name_then_address);
    tcase_add_test(tc, test_unresolvable_name);
    tcase_add_test(tc, test_more_names_than_cached);
    tcase_add_test(tc, test_stop_and_restart);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    setenv("RES_OPTIONS", "timeout:1 attempts:1", 0); /* a DNS server that drops queries */
    return check_run(address_suite());
}
