/*
 * Loading, validating and viewing the configuration, driven by the schema.
 *
 * A load is a pipeline over the schema rows, in three passes:
 *
 *   1. scan the document: unknown sections and keys are listed as ignored
 *      (a real Mattermost config.json has hundreds; a whole unknown section is
 *      listed once, as "Section.*"), a known section that is not an object is
 *      an error;
 *   2. per row: the default, then the file's value (null counts as absent;
 *      names match in any case, as Go's encoding/json matches them, so both
 *      "UseIpAddress" and "UseIPAddress" are found), then the
 *      MM_<SECTION>_<KEY> environment override.  A value of the wrong
 *      type is an error and the row keeps its default, so the config stays
 *      well-formed while we go on collecting problems;
 *   3. per row that loaded: bounds, allowed values, the row's check function.
 *      Checks run last because some compare keys with each other.
 *
 * Every problem is collected as "Section.Key: reason", never only the first,
 * so an operator fixes a file in one round.  A config that fails is freed
 * before returning; a config that loads is never changed afterwards.
 * Secrets are never echoed in messages.
 *
 * The JSON view and the hash are the same walk over the rows: the hash is
 * SHA-256 of the compact, key-sorted dump of the view without per-node rows,
 * so it does not depend on key order or whitespace in anyone's file.
 */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/config_schema.h"

/* ---- collecting problems ---- */

__attribute__((format(printf, 2, 3))) static void errors_add(config_errors_t *e, const char *fmt, ...)
{
    va_list ap;

    if (e->count == CONFIG_ERRORS_MAX) {
        e->dropped++;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(e->lines[e->count++], sizeof e->lines[0], fmt, ap);
    va_end(ap);
}

/* "Section.Key: <formatted reason>". */
__attribute__((format(printf, 3, 4))) static void key_error(config_errors_t *e, const config_key_t *k, const char *fmt,
                                                            ...)
{
    char reason[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    errors_add(e, "%s.%s: %s", k->section, k->key, reason);
}

static void errors_ignore(config_errors_t *e, const char *section, const char *key)
{
    if (e->ignored_count == CONFIG_ERRORS_MAX) {
        e->ignored_dropped++;
        return;
    }
    snprintf(e->ignored[e->ignored_count++], sizeof e->ignored[0], "%s.%s", section, key);
}

/* ---- values ---- */

static void strings_free(config_strings_t *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i]);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

static void value_free(config_t *cfg, const config_key_t *k)
{
    void *field = config_schema_field(cfg, k);

    if (k->type == CONFIG_STRING) {
        free(*(char **)field);
        *(char **)field = NULL;
    } else if (k->type == CONFIG_STRINGS) {
        strings_free(field);
    }
}

static const char *replace_string(char **dst, const char *src)
{
    char *copy = strdup(src);

    if (copy == NULL)
        return "out of memory";
    free(*dst);
    *dst = copy;
    return NULL;
}

static const char *set_default(config_t *cfg, const config_key_t *k)
{
    void *field = config_schema_field(cfg, k);

    switch (k->type) {
    case CONFIG_BOOL: *(bool *)field = k->def_bool; return NULL;
    case CONFIG_INT64: *(int64_t *)field = k->def_int; return NULL;
    case CONFIG_STRING: return replace_string(field, k->def_str);
    case CONFIG_STRINGS: strings_free(field); return NULL;
    }
    return "unknown type";
}

/* Replaces `list` with the strings of `array`, or leaves it alone. */
static const char *strings_from_json(config_strings_t *list, json_t *array)
{
    config_strings_t fresh = {NULL, 0};
    size_t i;
    json_t *item;

    if (!json_is_array(array))
        return "must be an array of strings";
    json_array_foreach(array, i, item)
    {
        if (!json_is_string(item))
            return "must be an array of strings";
    }
    if (json_array_size(array) > 0) {
        fresh.items = calloc(json_array_size(array), sizeof *fresh.items);
        if (fresh.items == NULL)
            return "out of memory";
    }
    json_array_foreach(array, i, item)
    {
        if ((fresh.items[i] = strdup(json_string_value(item))) == NULL) {
            fresh.count = i;
            strings_free(&fresh);
            return "out of memory";
        }
    }
    fresh.count = json_array_size(array);
    strings_free(list);
    *list = fresh;
    return NULL;
}

static const char *value_from_json(void *field, const config_key_t *k, json_t *v)
{
    switch (k->type) {
    case CONFIG_BOOL:
        if (!json_is_boolean(v))
            return "must be true or false";
        *(bool *)field = json_is_true(v);
        return NULL;
    case CONFIG_INT64:
        if (!json_is_integer(v))
            return "must be an integer";
        *(int64_t *)field = json_integer_value(v);
        return NULL;
    case CONFIG_STRING:
        if (!json_is_string(v))
            return "must be a string";
        return replace_string(field, json_string_value(v));
    case CONFIG_STRINGS: return strings_from_json(field, v);
    }
    return "unknown type";
}

/* ---- environment overrides ---- */

static void env_name(const config_key_t *k, char *buf, size_t len)
{
    snprintf(buf, len, "MM_%s_%s", k->section, k->key);
    for (char *p = buf; *p != '\0'; p++)
        *p = (char)toupper((unsigned char)*p);
}

static const char *bool_from_env(bool *field, const char *s)
{
    if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0)
        *field = true;
    else if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0)
        *field = false;
    else
        return "must be true or false";
    return NULL;
}

static const char *int_from_env(int64_t *field, const char *s)
{
    char *end;
    long long n;

    errno = 0;
    n = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE)
        return "must be a decimal integer";
    *field = n;
    return NULL;
}

/* A JSON array of strings, or words separated by white space. */
static const char *strings_from_env(config_strings_t *list, const char *s)
{
    const char *reason;
    json_t *array;

    if (s[strspn(s, " \t\r\n")] == '[') {
        array = json_loads(s, JSON_DECODE_ANY, NULL);
        if (array == NULL)
            return "must be a JSON array of strings or space-separated words";
    } else {
        char *copy = strdup(s), *save = NULL;
        if (copy == NULL || (array = json_array()) == NULL) {
            free(copy);
            return "out of memory";
        }
        for (char *w = strtok_r(copy, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save))
            if (json_array_append_new(array, json_string(w)) != 0) {
                free(copy);
                json_decref(array);
                return "must be valid UTF-8";
            }
        free(copy);
    }
    reason = strings_from_json(list, array);
    json_decref(array);
    return reason;
}

static const char *value_from_env(void *field, const config_key_t *k, const char *s)
{
    json_t *utf8;

    switch (k->type) {
    case CONFIG_BOOL: return bool_from_env(field, s);
    case CONFIG_INT64: return int_from_env(field, s);
    case CONFIG_STRING:
        if ((utf8 = json_string(s)) == NULL)
            return "must be valid UTF-8";
        json_decref(utf8);
        return replace_string(field, s);
    case CONFIG_STRINGS: return strings_from_env(field, s);
    }
    return "unknown type";
}

static int apply_env(config_t *cfg, const config_key_t *k, config_errors_t *e)
{
    char name[128];
    const char *value, *reason;

    env_name(k, name, sizeof name);
    if ((value = getenv(name)) == NULL)
        return 0;
    reason = value_from_env(config_schema_field(cfg, k), k, value);
    if (reason == NULL)
        return 0;
    if (k->flags & CONFIG_SECRET)
        key_error(e, k, "environment %s: %s", name, reason);
    else
        key_error(e, k, "environment %s=\"%.40s\": %s", name, value, reason);
    return -1;
}

/* ---- the three passes ---- */

static void scan_document(json_t *doc, config_errors_t *e)
{
    const char *section, *key;
    json_t *obj, *v;

    json_object_foreach(doc, section, obj)
    {
        if (config_schema_section(section) == NULL) {
            errors_ignore(e, section, "*");
            continue;
        }
        if (!json_is_object(obj)) {
            if (!json_is_null(obj))
                errors_add(e, "%s: must be a JSON object", section);
            continue;
        }
        json_object_foreach(obj, key, v)
        {
            if (config_schema_find(section, key) == NULL)
                errors_ignore(e, section, key);
        }
    }
}

json_t *config_json_member(json_t *obj, const char *name)
{
    const char *key;
    json_t *v = json_object_get(obj, name);

    if (v != NULL || !json_is_object(obj))
        return v;
    json_object_foreach(obj, key, v)
    {
        if (strcasecmp(key, name) == 0)
            return v;
    }
    return NULL;
}

/* Default, file, environment.  Returns -1 if the row's value is unusable. */
static int load_key(config_t *cfg, const config_key_t *k, json_t *doc, config_errors_t *e)
{
    json_t *section = config_json_member(doc, k->section);
    json_t *v = json_is_object(section) ? config_json_member(section, k->key) : NULL;
    const char *reason;
    int rc = 0;

    if ((reason = set_default(cfg, k)) != NULL) {
        key_error(e, k, "%s", reason);
        return -1;
    }
    if (v != NULL && !json_is_null(v) && (reason = value_from_json(config_schema_field(cfg, k), k, v)) != NULL) {
        key_error(e, k, "%s", reason);
        rc = -1;
    }
    if (apply_env(cfg, k, e) != 0)
        rc = -1;
    return rc;
}

static void report_allowed(config_errors_t *e, const config_key_t *k, const char *value)
{
    char list[160] = "";
    size_t used = 0;

    for (const char *const *a = k->allowed; *a != NULL && used < sizeof list; a++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s\"%s\"", a == k->allowed ? "" : ", ", *a);
    if (k->flags & CONFIG_SECRET)
        key_error(e, k, "must be one of %s", list);
    else
        key_error(e, k, "must be one of %s (not \"%.40s\")", list, value);
}

/* With CONFIG_ICASE the value is rewritten to the canonical spelling. */
static bool match_allowed(const config_key_t *k, char *value)
{
    for (const char *const *a = k->allowed; *a != NULL; a++) {
        if (strcmp(value, *a) == 0)
            return true;
        if ((k->flags & CONFIG_ICASE) && strcasecmp(value, *a) == 0) {
            memcpy(value, *a, strlen(*a)); /* same length: strcasecmp matched */
            return true;
        }
    }
    return false;
}

static void report_bounds(config_errors_t *e, const config_key_t *k, int64_t n)
{
    if (k->max == INT64_MAX)
        key_error(e, k, "must be at least %" PRId64 " (not %" PRId64 ")", k->min, n);
    else
        key_error(e, k, "must be between %" PRId64 " and %" PRId64 " (not %" PRId64 ")", k->min, k->max, n);
}

static void validate_key(config_t *cfg, const config_key_t *k, config_errors_t *e)
{
    void *field = config_schema_field(cfg, k);
    const char *reason;

    if (k->type == CONFIG_INT64) {
        int64_t n = *(int64_t *)field;
        if (n < k->min || n > k->max) {
            report_bounds(e, k, n);
            return;
        }
    }
    if (k->type == CONFIG_STRING && k->allowed != NULL && !match_allowed(k, *(char **)field)) {
        report_allowed(e, k, *(char **)field);
        return;
    }
    if (k->check != NULL && (reason = k->check(cfg, field)) != NULL)
        key_error(e, k, "%s", reason);
}

int config_load_json(json_t *doc, config_t *cfg, config_errors_t *errors)
{
    config_errors_t scratch;
    bool *unusable;

    if (errors == NULL)
        errors = &scratch;
    memset(cfg, 0, sizeof *cfg);
    memset(errors, 0, sizeof *errors);
    if (!json_is_object(doc)) {
        errors_add(errors, "config: the top level must be a JSON object");
        return -1;
    }
    if ((unusable = calloc(config_schema_count, sizeof *unusable)) == NULL) {
        errors_add(errors, "config: out of memory");
        return -1;
    }
    scan_document(doc, errors);
    for (size_t i = 0; i < config_schema_count; i++)
        unusable[i] = load_key(cfg, &config_schema[i], doc, errors) != 0;
    for (size_t i = 0; i < config_schema_count; i++)
        if (!unusable[i])
            validate_key(cfg, &config_schema[i], errors);
    free(unusable);
    if (errors->count == 0)
        return 0;
    config_free(cfg);
    return -1;
}

int config_load(const char *path, config_t *cfg, config_errors_t *errors)
{
    config_errors_t scratch;
    json_error_t jerr;
    struct stat st;
    json_t *doc;
    FILE *f;
    int rc;

    if (errors == NULL)
        errors = &scratch;
    memset(cfg, 0, sizeof *cfg);
    memset(errors, 0, sizeof *errors);
    if ((f = fopen(path, "r")) == NULL) {
        errors_add(errors, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        errors_add(errors, "%s: cannot read: %s", path, strerror(EISDIR));
        fclose(f);
        return -1;
    }
    doc = json_loadf(f, 0, &jerr);
    fclose(f);
    if (doc == NULL) {
        if (jerr.line > 0)
            errors_add(errors, "%s: line %d, column %d: %s", path, jerr.line, jerr.column, jerr.text);
        else
            errors_add(errors, "%s: %s", path, jerr.text);
        return -1;
    }
    if (!json_is_object(doc)) {
        errors_add(errors, "%s: the top level must be a JSON object", path);
        json_decref(doc);
        return -1;
    }
    rc = config_load_json(doc, cfg, errors);
    json_decref(doc);
    if (rc == 0 && (cfg->path = strdup(path)) == NULL) {
        config_free(cfg);
        errors_add(errors, "%s: out of memory", path);
        rc = -1;
    }
    return rc;
}

void config_free(config_t *cfg)
{
    for (size_t i = 0; i < config_schema_count; i++)
        value_free(cfg, &config_schema[i]);
    free(cfg->path);
    memset(cfg, 0, sizeof *cfg);
}

unsigned config_worker_count(const config_t *cfg)
{
    long cpus;

    if (cfg->process.workers > 0)
        return (unsigned)cfg->process.workers;
    cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus < 1 ? 1 : (unsigned)cpus;
}

/* ---- the JSON view and the hash ---- */

static json_t *strings_to_json(const config_strings_t *list, bool mask)
{
    json_t *array = json_array();

    for (size_t i = 0; array != NULL && i < list->count; i++)
        json_array_append_new(array, json_string(mask ? CONFIG_FAKE_SETTING : list->items[i]));
    return array;
}

static json_t *value_to_json(const config_t *cfg, const config_key_t *k, bool sanitize)
{
    const void *field = config_schema_field(cfg, k);
    bool mask = sanitize && (k->flags & CONFIG_SECRET);
    const char *s;

    switch (k->type) {
    case CONFIG_BOOL: return json_boolean(*(const bool *)field);
    case CONFIG_INT64: return json_integer(*(const int64_t *)field);
    case CONFIG_STRING: s = *(char *const *)field; return json_string(mask ? CONFIG_FAKE_SETTING : s != NULL ? s : "");
    case CONFIG_STRINGS: return strings_to_json(field, mask);
    }
    return NULL;
}

/* The view of the rows without `skip` flags, of one section or (NULL) all. */
static json_t *build_json(const config_t *cfg, bool sanitize, unsigned skip, const char *only)
{
    json_t *root = json_object(), *section;

    for (size_t i = 0; root != NULL && i < config_schema_count; i++) {
        const config_key_t *k = &config_schema[i];
        if ((k->flags & skip) || (only != NULL && strcmp(k->section, only) != 0))
            continue;
        if ((section = json_object_get(root, k->section)) == NULL) {
            section = json_object();
            if (json_object_set_new(root, k->section, section) != 0)
                goto fail;
        }
        if (json_object_set_new(section, k->key, value_to_json(cfg, k, sanitize)) != 0)
            goto fail;
    }
    return root;
fail:
    json_decref(root);
    return NULL;
}

json_t *config_to_json(const config_t *cfg, bool sanitize)
{
    return build_json(cfg, sanitize, 0, NULL);
}

static int hash_json(const json_t *j, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    char *text;
    int ok;

    if (j == NULL || (text = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT)) == NULL)
        return -1;
    ok = EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL);
    free(text);
    if (!ok || len != 32)
        return -1;
    for (unsigned i = 0; i < len; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

int config_hash(const config_t *cfg, char out[65])
{
    json_t *view = build_json(cfg, false, CONFIG_PER_NODE, NULL);
    int rc = hash_json(view, out);

    json_decref(view);
    return rc;
}

/* A section whose keys are all per-node hashes as the empty object. */
int config_hash_section(const config_t *cfg, const char *section, char out[65])
{
    json_t *view, *empty;
    int rc;

    if ((section = config_schema_section(section)) == NULL)
        return -1;
    if ((view = build_json(cfg, false, CONFIG_PER_NODE, section)) == NULL)
        return -1;
    if (json_object_get(view, section) != NULL) {
        rc = hash_json(json_object_get(view, section), out);
    } else {
        empty = json_object();
        rc = hash_json(empty, out);
        json_decref(empty);
    }
    json_decref(view);
    return rc;
}
