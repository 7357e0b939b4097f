/*
 * Listening sockets.
 *
 * Worker slot i of every generation accepts on socket i.  The master holds
 * all of them for its whole life: a retiring worker closes only its copy, so
 * the kernel never resets the connections queued on a socket (which it does
 * when the last holder of a SO_REUSEPORT socket closes it).  SO_REUSEPORT
 * also spreads new connections evenly over the workers, where one shared
 * listener lets a burst pile into whichever worker wakes first.
 */
#include "master/listen.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"

void listen_set_init(listen_set_t *set)
{
    memset(set, 0, sizeof(*set));
    for (unsigned i = 0; i < LISTEN_SLOTS_MAX; i++)
        set->fds[i] = -1;
}

int listen_parse_address(const char *address, char *host, size_t host_size, char *port, size_t port_size)
{
    const char *colon = strrchr(address, ':');
    if (colon == NULL || colon[1] == '\0')
        return -1;
    const char *h = address;
    size_t hlen = (size_t)(colon - address);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (hlen >= host_size || strlen(colon + 1) >= port_size)
        return -1;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    snprintf(port, port_size, "%s", colon + 1);
    return 0;
}

static int open_one(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return -errno;
    int on = 1, off = 0;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) != 0 ||
        (ai->ai_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) != 0) ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    /* Children inherit it across fork (no exec), so CLOEXEC costs nothing
     * and keeps it out of anything the node ever spawns. */
    return fd;
}

int listen_set_open(listen_set_t *set, const char *address, unsigned count)
{
    char host[256], port[16];
    if (count > LISTEN_SLOTS_MAX || listen_parse_address(address, host, sizeof(host), port, sizeof(port)) != 0) {
        log_error(0, "ServiceSettings.ListenAddress: cannot listen on \"%s\"", address);
        return -EINVAL;
    }
    struct addrinfo hints = {.ai_flags = AI_PASSIVE, .ai_socktype = SOCK_STREAM}, *res = NULL;
    hints.ai_family = host[0] == '\0' ? AF_INET6 : AF_UNSPEC;
    int rc = getaddrinfo(host[0] == '\0' ? NULL : host, port, &hints, &res);
    if (rc != 0) {
        log_error(0, "ServiceSettings.ListenAddress: cannot resolve \"%s\": %s", address, gai_strerror(rc));
        return -EINVAL;
    }
    int err = 0;
    while (set->count < count) {
        int fd = open_one(res);
        if (fd == -EAFNOSUPPORT && host[0] == '\0') {
            /* no IPv6 on this host: fall back to IPv4 any */
            struct sockaddr_in any = {.sin_family = AF_INET,
                                      .sin_port = ((struct sockaddr_in6 *)res->ai_addr)->sin6_port};
            struct addrinfo v4 = {.ai_family = AF_INET,
                                  .ai_socktype = SOCK_STREAM,
                                  .ai_addr = (struct sockaddr *)&any,
                                  .ai_addrlen = sizeof(any)};
            fd = open_one(&v4);
        }
        if (fd < 0) {
            err = fd;
            log_error(-fd, "ServiceSettings.ListenAddress: cannot listen on \"%s\"", address);
            break;
        }
        set->fds[set->count++] = fd;
    }
    freeaddrinfo(res);
    if (err == 0)
        snprintf(set->address, sizeof(set->address), "%s", address);
    return err;
}

void listen_set_close(listen_set_t *set)
{
    for (unsigned i = 0; i < set->count; i++) {
        if (set->fds[i] >= 0)
            close(set->fds[i]);
        set->fds[i] = -1;
    }
    set->count = 0;
}
