/*
 * The schema of config_t: one row per key, in the order the keys appear in
 * Mattermost's config.json.  A row says where the key lives (section and
 * Mattermost spelling), where its value lives (offset into config_t), its type
 * and default, what values are valid, and two flags:
 *
 *   CONFIG_PER_NODE  the key may legitimately differ between the nodes of a
 *                    cluster (listen addresses, log location, ClusterSettings,
 *                    ProcessSettings): it is left out of the config hash.
 *   CONFIG_SECRET    the value is masked in the sanitized JSON view.
 *
 * Validation is declarative where it can be (integer bounds, a list of allowed
 * strings) and a small check function where it cannot (address syntax, keys
 * that depend on other keys).  A check function sees the whole config, after
 * every key has been loaded, and returns NULL or the reason the value is bad.
 */
#ifndef CHORUS_CORE_CONFIG_SCHEMA_H
#define CHORUS_CORE_CONFIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

typedef enum {
    CONFIG_BOOL,    /* bool */
    CONFIG_INT64,   /* int64_t */
    CONFIG_STRING,  /* char *, never NULL once loaded */
    CONFIG_STRINGS, /* config_strings_t */
} config_type_t;

#define CONFIG_PER_NODE 0x1u
#define CONFIG_SECRET   0x2u
#define CONFIG_ICASE    0x4u /* allowed values match case-insensitively */

/* What a secret reads as in the sanitized view (Mattermost's FakeSetting). */
#define CONFIG_FAKE_SETTING "********************************"

typedef const char *(*config_check_fn)(const config_t *cfg, const void *value);

typedef struct config_key_s {
    const char *section; /* "ServiceSettings" */
    const char *key;     /* "ListenAddress" */
    config_type_t type;
    size_t offset; /* into config_t */
    unsigned flags;
    bool def_bool;
    int64_t def_int;
    const char *def_str;        /* string defaults; string arrays default to [] */
    int64_t min, max;           /* integer bounds, inclusive */
    const char *const *allowed; /* NULL-terminated; NULL: any string */
    config_check_fn check;      /* NULL: no further check */
} config_key_t;

extern const config_key_t config_schema[];
extern const size_t config_schema_count;

/* Names match case-insensitively, as Go's encoding/json (which Mattermost
 * reads config.json with) matches them: "UseIpAddress" is "UseIPAddress". */

/* The row for Section.Key, or NULL. */
const config_key_t *config_schema_find(const char *section, const char *key);

/* The schema's spelling of `section`, or NULL if no row belongs to it. */
const char *config_schema_section(const char *section);

/* The member `name` of a JSON object, spelled exactly or else in any case
 * (as Go's encoding/json finds it); NULL when absent or `obj` is no object. */
json_t *config_json_member(json_t *obj, const char *name);

/* The value of row `k` inside `cfg`. */
static inline void *config_schema_field(const config_t *cfg, const config_key_t *k)
{
    return (char *)cfg + k->offset;
}

#endif
