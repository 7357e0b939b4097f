/*
 * How peers reach this node, as Mattermost decides it: OverrideHostname when set; else,
 * with UseIPAddress, the first address of an interface that is up, not
 * loopback and not link-local (NetworkInterface, when set, picks the
 * interface); else gethostname().  A name (rather than an address) is
 * resolved by each peer, in its cluster child, when it sends or dials.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cluster/internal.h"
#include "core/log.h"

static bool usable(const struct ifaddrs *ifa, const char *interface)
{
    if (ifa->ifa_addr == NULL || !(ifa->ifa_flags & IFF_UP) || (ifa->ifa_flags & IFF_LOOPBACK))
        return false;
    if (interface[0] != '\0' && strcmp(ifa->ifa_name, interface) != 0)
        return false;
    if (ifa->ifa_addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ifa->ifa_addr;
        uint32_t a = ntohl(in->sin_addr.s_addr);
        return (a >> 24) != 127 && (a >> 16) != 0xa9fe; /* 169.254/16 is link-local */
    }
    if (ifa->ifa_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ifa->ifa_addr;
        return !IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr) && !IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return false;
}

/* The first usable address, IPv4 preferred (what a peer most likely routes). */
static int first_address(const char *interface, char *out, size_t size)
{
    struct ifaddrs *list;
    if (getifaddrs(&list) != 0)
        return -errno;
    int rc = -ENOENT;
    for (int family = AF_INET; rc != 0 && family != 0; family = family == AF_INET ? AF_INET6 : 0) {
        for (const struct ifaddrs *ifa = list; ifa != NULL && rc != 0; ifa = ifa->ifa_next) {
            if (!usable(ifa, interface) || ifa->ifa_addr->sa_family != family)
                continue;
            const void *addr = family == AF_INET
                                   ? (const void *)&((const struct sockaddr_in *)ifa->ifa_addr)->sin_addr
                                   : (const void *)&((const struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr;
            if (inet_ntop(family, addr, out, (socklen_t)size) != NULL)
                rc = 0;
        }
    }
    freeifaddrs(list);
    return rc;
}

int cluster_address_resolve(const config_t *config, char *hostname, size_t hostname_size, char *ipaddress,
                            size_t ipaddress_size)
{
    const config_cluster_t *cl = &config->cluster;
    char ip[INET6_ADDRSTRLEN] = "";
    bool have_ip = first_address(cl->network_interface, ip, sizeof(ip)) == 0;
    snprintf(ipaddress, ipaddress_size, "%s", have_ip ? ip : "");
    if (cl->override_hostname[0] != '\0') {
        if (strlen(cl->override_hostname) >= hostname_size)
            return -ENAMETOOLONG;
        snprintf(hostname, hostname_size, "%s", cl->override_hostname);
        /* an override that is an address is the address peers see */
        unsigned char probe[sizeof(struct in6_addr)];
        if (inet_pton(AF_INET, hostname, probe) == 1 || inet_pton(AF_INET6, hostname, probe) == 1)
            snprintf(ipaddress, ipaddress_size, "%s", hostname);
        return 0;
    }
    if (cl->use_ip_address && have_ip) {
        snprintf(hostname, hostname_size, "%s", ip);
        return 0;
    }
    if (cl->use_ip_address)
        log_warn(0, "ClusterSettings.UseIPAddress: no usable non-loopback address%s%s; using the host name",
                 cl->network_interface[0] ? " on " : "", cl->network_interface);
    if (gethostname(hostname, hostname_size) != 0)
        return -errno;
    hostname[hostname_size - 1] = '\0';
    return 0;
}
