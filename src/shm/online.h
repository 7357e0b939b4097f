/* How many WebSockets each user has open on this node (all workers): a
 * user is online while the count is above zero (ARCHITECTURE.md §5). */
#ifndef CHORUS_SHM_ONLINE_H
#define CHORUS_SHM_ONLINE_H

#include <stdint.h>

typedef struct {
    int32_t sockets;
    int32_t reserved;
} shm_online_t;

#endif
