/*
 * Saving a whole new config to this node's config file: what PUT
 * /api/v4/config does on the node that received it, and what the cluster
 * child does on every other node when the saved config arrives.
 */
#ifndef CHORUS_CORE_CONFIG_SAVE_H
#define CHORUS_CORE_CONFIG_SAVE_H

#include <jansson.h>

#include "core/config.h"

/* Validates `doc` (a whole config in Mattermost's shape, as the client sends
 * it) and, when valid, replaces the file at `path` with it atomically.
 * Before validating, `doc` is adjusted to what this node must keep:
 *  - per-node keys (CONFIG_PER_NODE) take `running`'s values;
 *  - a secret that reads as the sanitized placeholder takes `running`'s value
 *    (a client round-trips GET /config);
 *  - a key overridden by an MM_<SECTION>_<KEY> variable keeps what the file
 *    on disk says (or stays absent), as Mattermost saves: the environment
 *    still wins at every load, and its value is not this file's to record.
 * `running` may be NULL (no overlay).  Keys absent from `doc` take their
 * defaults, as they would from a file; the file written then lists every key
 * chorus knows (plus the unknown ones `doc` carried), so a restart loads the
 * same config.
 * Returns 0 with `doc` being exactly what was written; -EINVAL with every
 * problem in `errors` (nothing written); or -errno when the file could not
 * be replaced (one line in `errors`; the old file is intact and no
 * temporary file is left behind). */
int config_save(const char *path, json_t *doc, const config_t *running, config_errors_t *errors);

/* What the other nodes are sent of a save: `saved` (config_save's `doc`
 * after it succeeded) with every secret as the admin `sent` it: a masked
 * value stays masked (each peer's config_save fills it from its own
 * config), a new value typed in passes, a secret the admin left out is left
 * out.  So this node's DataSource and replica URLs never leave it.  A new
 * document, or NULL when out of memory. */
json_t *config_save_for_peers(json_t *saved, json_t *sent);

#endif
