/* Host names to socket addresses without blocking the caller's event loop
 * (resolver.c says how): IP literals at once, names by one thread. */
#ifndef CHORUS_CORE_RESOLVER_H
#define CHORUS_CORE_RESOLVER_H

#include <stdint.h>
#include <sys/socket.h>

#define RESOLVER_HOST_MAX  255 /* a DNS name or an IP literal */
#define RESOLVER_NAMES_MAX 128 /* names cached and waiting for the thread */

/* An IP literal and port to a socket address, never the resolver (bind
 * addresses).  0, or -EINVAL for anything but an IP literal. */
int resolver_numeric(const char *host, uint16_t port, int socktype, struct sockaddr_storage *addr, socklen_t *len);

/* A host and port to a socket address, never blocking: an IP literal at
 * once; a name from the cache (a stale answer too, while it is refreshed),
 * else -EAGAIN (asked: call again later) or -EHOSTUNREACH (it failed, or the
 * host is empty or too long). */
int resolver_lookup(const char *host, uint16_t port, int socktype, struct sockaddr_storage *addr, socklen_t *len);

/* Stops and joins the thread (at most a second), forgets the cache. */
void resolver_stop(void);

#endif
