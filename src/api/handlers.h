/* Every API handler, one line each; router.c maps routes to them. */
#ifndef CHORUS_API_HANDLERS_H
#define CHORUS_API_HANDLERS_H

#include "api/router.h"

void api_system_ping(api_request_t *r); /* GET /api/v4/system/ping */

#endif
