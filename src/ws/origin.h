/* Whether a WebSocket upgrade's Origin may open a socket, as Mattermost
 * decides (App.OriginChecker): a page of another site must not open a
 * cookie-authenticated socket and read its victim's events. */
#ifndef CHORUS_WS_ORIGIN_H
#define CHORUS_WS_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>

/* `origin` (NULL: the request had none) against the config:
 * - AllowCorsFrom empty: a request without Origin passes (not a browser);
 *   otherwise the Origin's host[:port] must be the request's Host
 *   (case-insensitive): the same site, behind any proxy that keeps Host;
 * - AllowCorsFrom "*": any;
 * - else the Origin must be one of AllowCorsFrom's space-separated origins
 *   or SiteURL's scheme://host[:port], exactly. */
bool ws_origin_allowed(const char *allow_cors_from, const char *site_url, const char *origin, size_t origin_len,
                       const char *host, size_t host_len);

#endif
