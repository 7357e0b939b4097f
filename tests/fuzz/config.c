/*
 * tests/fuzz/config.c - the config loader of src/core/config.c on a JSON
 * text: what the file holds at start or reload, what PUT /api/v4/config and
 * a peer's saved config carry (both go through config_load_json).  Checked:
 * a config that loads comes back out as JSON that loads again to the same
 * config (same hash), and its per-key digests (cluster/config_digest.c)
 * compute.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/config_digest.h"
#include "core/config.h"

static config_errors_t errors;
static config_digest_t digest;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)data, size, 0, &jerr);
    if (doc == NULL)
        return 0;
    config_t cfg, again;
    int rc = config_load_json(doc, &cfg, &errors);
    json_decref(doc);
    if (errors.count > CONFIG_ERRORS_MAX || errors.ignored_count > CONFIG_ERRORS_MAX)
        abort();
    if (rc != 0)
        return 0;
    char h1[65], h2[65];
    json_t *out = config_to_json(&cfg, false), *shown = config_to_json(&cfg, true);
    if (out == NULL || shown == NULL || config_hash(&cfg, h1) != 0 || config_digest_compute(&cfg, &digest) != 0)
        abort();
    (void)config_worker_count(&cfg);
    if (config_load_json(out, &again, &errors) != 0 || config_hash(&again, h2) != 0 || strcmp(h1, h2) != 0)
        abort(); /* what a node writes out, it must read back the same */
    config_free(&again);
    json_decref(shown);
    json_decref(out);
    config_free(&cfg);
    return 0;
}
