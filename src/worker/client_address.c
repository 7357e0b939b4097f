/*
 * The client's address of a request (client_address.h).  An IPv4 peer seen
 * through an IPv6 socket (::ffff:a.b.c.d) is written as a.b.c.d, as Go
 * prints it, so one client is one key whichever way it connected.
 */
#include "worker/client_address.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <sys/socket.h>

/* `text` (len bytes) copied into out when it is an IPv4 or IPv6 address. */
static bool take_if_address(const char *text, size_t len, char out[CLIENT_ADDRESS_MAX])
{
    char buf[CLIENT_ADDRESS_MAX];
    unsigned char bin[sizeof(struct in6_addr)];
    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET, buf, bin) != 1 && inet_pton(AF_INET6, buf, bin) != 1)
        return false;
    memcpy(out, buf, len + 1);
    return true;
}

/* The first comma-separated entry of a header's value, spaces trimmed. */
static bool from_header(const h2o_req_t *req, const char *name, char out[CLIENT_ADDRESS_MAX])
{
    /* h2o keeps request header names in lower case; the config may not */
    char lower[128];
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof(lower))
        return false;
    for (size_t k = 0; k <= n; k++)
        lower[k] = (char)tolower((unsigned char)name[k]);
    ssize_t i = h2o_find_header_by_str(&req->headers, lower, n, -1);
    if (i < 0)
        return false;
    h2o_iovec_t v = req->headers.entries[i].value;
    const char *p = v.base, *end = v.base + v.len;
    const char *comma = memchr(p, ',', v.len);
    if (comma != NULL)
        end = comma;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    return take_if_address(p, (size_t)(end - p), out);
}

static void from_peer(const h2o_req_t *req, char out[CLIENT_ADDRESS_MAX])
{
    struct sockaddr_storage ss;
    socklen_t len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    out[0] = '\0';
    if (len == 0)
        return;
    if (ss.ss_family == AF_INET) {
        if (inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, CLIENT_ADDRESS_MAX) == NULL)
            out[0] = '\0';
    } else if (ss.ss_family == AF_INET6) {
        const struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
        const void *bin = a;
        int family = AF_INET6;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            bin = &a->s6_addr[12];
            family = AF_INET;
        }
        if (inet_ntop(family, bin, out, CLIENT_ADDRESS_MAX) == NULL)
            out[0] = '\0';
    }
}

void client_address(const h2o_req_t *req, const config_strings_t *trusted, char out[CLIENT_ADDRESS_MAX])
{
    for (size_t i = 0; i < trusted->count; i++)
        if (from_header(req, trusted->items[i], out))
            return;
    from_peer(req, out);
}
