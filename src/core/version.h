/* What this build calls itself.  Two versions, for two readers:
 * - the Mattermost server version whose REST and WebSocket API chorus follows
 *   (the one @mattermost/client 11.9.0 targets): the web and mobile apps read
 *   it from X-Version-Id and the hello's server_version and gate features on
 *   it, the mobile app refusing servers below its minimum;
 * - chorus's own release, for operators: `chorusd -v`, the log, and the
 *   cluster status `version`, where nodes of different builds show red. */
#ifndef CHORUS_CORE_VERSION_H
#define CHORUS_CORE_VERSION_H
#include "build_config.h"

#define CHORUS_VERSION     PACKAGE_VERSION
#define CHORUS_API_VERSION "11.9.0"
/* Mattermost's X-Version-Id carries a build number after the version. */
#define CHORUS_BUILD_NUMBER "0"

#endif
