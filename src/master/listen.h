/* The listening sockets: owned by the master, one SO_REUSEPORT socket per
 * worker slot, kept open across worker generations so that no queued
 * connection is lost on reload. */
#ifndef CHORUS_MASTER_LISTEN_H
#define CHORUS_MASTER_LISTEN_H

#include <stddef.h>

#define LISTEN_SLOTS_MAX 64

typedef struct {
    char address[256]; /* ServiceSettings.ListenAddress they were opened for */
    int fds[LISTEN_SLOTS_MAX];
    unsigned count;
} listen_set_t;

void listen_set_init(listen_set_t *set);
/* Opens sockets until `count` exist for `address`; 0 or -errno (logged). */
int listen_set_open(listen_set_t *set, const char *address, unsigned count);
void listen_set_close(listen_set_t *set);
/* Splits "[host]:port" into host ("" for any) and port; 0 or -1. */
int listen_parse_address(const char *address, char *host, size_t host_size, char *port, size_t port_size);

#endif
