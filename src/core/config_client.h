/*
 * The config as Mattermost's clients read it: GET /config/client?format=old
 * answers a flat map of strings, the limited map before login and the full
 * one after (Mattermost's GenerateLimitedClientConfig and
 * GenerateClientConfig, without a license).
 *
 * A key follows chorus's own config where chorus has the setting, and
 * otherwise says what Mattermost says when that feature is off, so the web
 * and mobile apps never offer what chorus does not serve (no file uploads,
 * no slash commands, no collapsed threads, no SSO...).  Features Mattermost
 * reserves for a license (cluster, metrics, data retention, compliance)
 * read as an unlicensed Mattermost sends them: chorus claims no license.
 */
#ifndef CHORUS_CORE_CONFIG_CLIENT_H
#define CHORUS_CORE_CONFIG_CLIENT_H

#include <jansson.h>
#include <stdbool.h>

#include "core/config.h"

/* The limited map (`full` false) or the full one, as a new JSON object of
 * strings; NULL when out of memory.  Keys Mattermost computes from the
 * database (NoAccounts, MaxPostSize...) are the caller's to add. */
json_t *config_client_map(const config_t *cfg, bool full);

#endif
