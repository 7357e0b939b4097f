/* What this build calls itself on the wire and in logs. */
#ifndef CHORUS_CORE_VERSION_H
#define CHORUS_CORE_VERSION_H
#include "build_config.h"

#define CHORUS_VERSION PACKAGE_VERSION
/* Mattermost's X-Version-ID carries a build number after the version. */
#define CHORUS_BUILD_NUMBER "0"

#endif
