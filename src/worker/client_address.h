/* Who is at the other end of a request: the address a trusted proxy names
 * (ServiceSettings.TrustedProxyIPHeader), else the socket's peer. */
#ifndef CHORUS_WORKER_CLIENT_ADDRESS_H
#define CHORUS_WORKER_CLIENT_ADDRESS_H

#include <netinet/in.h>

#include "h2o.h"

#include "core/config.h"

#define CLIENT_ADDRESS_MAX INET6_ADDRSTRLEN

/* The client's address of `req` as text into `out` (CLIENT_ADDRESS_MAX
 * bytes), as Mattermost's GetIPAddress finds it: the first entry of the
 * first of `trusted` headers present whose first entry is an IP address,
 * else the peer's address without its port; "" when there is none (a unix
 * socket).  A header is believed only when the operator listed it: any
 * client can send X-Forwarded-For. */
void client_address(const h2o_req_t *req, const config_strings_t *trusted, char out[CLIENT_ADDRESS_MAX]);

#endif
