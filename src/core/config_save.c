/*
 * core/config_save.c - replacing this node's config file with a whole new
 * config, safely.
 *
 * The file is what every later start and reload of this node reads, so two
 * rules drive this file:
 *
 *   1. Nothing invalid is ever written.  The new document goes through the
 *      same loader a start uses (defaults for absent keys, the environment,
 *      every check), and any problem stops the save with all of them listed.
 *   2. The file is never seen half-written.  The text goes to a temporary
 *      file in the same directory (same file system, so rename(2) is atomic),
 *      which is fsync'd, given the old file's mode and renamed over the old
 *      one; then the directory is fsync'd so the rename survives a crash.  Any
 *      failure before the rename removes the temporary file and leaves the old
 *      one as it was.
 *
 * Before validating, the document is adjusted to this node (see the header
 * for why): per-node keys and placeholder secrets come from the running
 * config, environment-overridden keys from the file on disk.  After
 * validating, every key chorus knows is written out with its effective value,
 * so the file is complete in Mattermost's shape; keys chorus does not know
 * (a real Mattermost config has hundreds) are kept as the document had them.
 *
 * Trade-off: the write and fsyncs are synchronous.  A save is a rare admin
 * action on a file of a few kilobytes; doing it in place keeps "saved" and
 * "answered" one step, where handing it to a thread could leave a saved file
 * that nobody reloads if the client went away in between.
 */
#include "core/config_save.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config_schema.h"
#include "core/log.h"

static void save_error(config_errors_t *e, const char *fmt, const char *a, int err)
{
    if (e->count == CONFIG_ERRORS_MAX) {
        e->dropped++;
        return;
    }
    snprintf(e->lines[e->count++], sizeof e->lines[0], fmt, a, strerror(err));
}

/* ---- finding and setting members, in any case (as the loader finds them) ---- */

/* Removes every spelling of `name` but `keep` (NULL: all of them); the loader
 * would read the exact one, but a file with two spellings of a key reads as a
 * mistake. */
static void member_del(json_t *obj, const char *name, const char *keep)
{
    const char *key;
    json_t *v;
    void *tmp;

    json_object_foreach_safe(obj, tmp, key, v)
    {
        if (strcasecmp(key, name) == 0 && (keep == NULL || strcmp(key, keep) != 0))
            json_object_del(obj, key);
    }
}

/* Sets obj[name] = v (taken over), under the schema's spelling; a key that
 * is there already keeps its place, so the file reads in the order its
 * author (or Mattermost) gave it. */
static int member_set(json_t *obj, const char *name, json_t *v)
{
    if (v == NULL)
        return -ENOMEM;
    member_del(obj, name, name);
    return json_object_set_new(obj, name, v) == 0 ? 0 : -ENOMEM;
}

/* The section object of `doc` to write into, created when absent; NULL when
 * the document has something else there (the loader reports that). */
static json_t *section_for_write(json_t *doc, const char *name)
{
    json_t *s = config_json_member(doc, name);

    if (json_is_object(s))
        return s;
    if (s != NULL && !json_is_null(s))
        return NULL;
    if (member_set(doc, name, json_object()) != 0)
        return NULL;
    return json_object_get(doc, name);
}

static json_t *value_in(json_t *doc, const config_key_t *k)
{
    json_t *s = config_json_member(doc, k->section);
    return json_is_object(s) ? config_json_member(s, k->key) : NULL;
}

static bool env_overridden(const config_key_t *k)
{
    char name[128];

    snprintf(name, sizeof name, "MM_%s_%s", k->section, k->key);
    for (char *p = name; *p != '\0'; p++)
        *p = (char)toupper((unsigned char)*p);
    return getenv(name) != NULL;
}

/* ---- adjusting the document to this node ---- */

/* The body's value with placeholders replaced by the running ones: a string
 * as a whole, an array item by item (by position, as the sanitized view
 * listed them).  A placeholder with no running counterpart stays, and fails
 * validation as the nonsense it is. */
static json_t *unmask(json_t *body, json_t *running)
{
    if (json_is_string(body))
        return strcmp(json_string_value(body), CONFIG_FAKE_SETTING) == 0 && running != NULL ? json_deep_copy(running)
                                                                                            : json_deep_copy(body);
    if (!json_is_array(body))
        return json_deep_copy(body);
    json_t *out = json_array(), *item;
    size_t i;
    json_array_foreach(body, i, item)
    {
        json_t *run = json_array_get(running, i);
        bool fake = json_is_string(item) && strcmp(json_string_value(item), CONFIG_FAKE_SETTING) == 0;
        if (out == NULL || json_array_append_new(out, json_deep_copy(fake && run != NULL ? run : item)) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* One row: what this node keeps, whatever the body says. */
static int adjust_key(json_t *doc, const config_key_t *k, json_t *ondisk, json_t *running)
{
    json_t *section, *body = value_in(doc, k), *keep;

    if (env_overridden(k)) {
        keep = value_in(ondisk, k);
        if (keep == NULL) {
            if ((section = config_json_member(doc, k->section)) != NULL && json_is_object(section))
                member_del(section, k->key, NULL);
            return 0;
        }
        keep = json_deep_copy(keep);
    } else if (running == NULL) {
        return 0;
    } else if (k->flags & CONFIG_PER_NODE) {
        keep = json_deep_copy(value_in(running, k));
    } else if ((k->flags & CONFIG_SECRET) && body != NULL) {
        keep = unmask(body, value_in(running, k));
    } else {
        return 0;
    }
    if ((section = section_for_write(doc, k->section)) == NULL) {
        json_decref(keep);
        return 0; /* not an object: the loader says so */
    }
    return member_set(section, k->key, keep);
}

/* Every key chorus knows, with the value the loader settled on (defaults
 * included, canonical spelling), except those the environment overrides. */
static int complete(json_t *doc, const config_t *cfg)
{
    json_t *view = config_to_json(cfg, false), *section;
    int rc = view != NULL ? 0 : -ENOMEM;

    for (size_t i = 0; rc == 0 && i < config_schema_count; i++) {
        const config_key_t *k = &config_schema[i];
        if (env_overridden(k))
            continue;
        if ((section = section_for_write(doc, k->section)) == NULL)
            rc = -ENOMEM; /* validated: every section is an object by now */
        else
            rc = member_set(section, k->key, json_deep_copy(value_in(view, k)));
    }
    json_decref(view);
    return rc;
}

/* ---- writing ---- */

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* `text` replaces `path`, or nothing changes. */
static int write_atomically(const char *path, const char *text, config_errors_t *errors)
{
    char target[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX];
    struct stat st;
    mode_t mode = 0600;
    int fd, rc;

    /* through a symlink to the real file, so the link stays a link */
    if (realpath(path, target) == NULL) {
        if (errno != ENOENT || strlen(path) >= sizeof target) {
            rc = errno == ENOENT ? -ENAMETOOLONG : -errno;
            save_error(errors, "%.200s: cannot resolve: %s", path, -rc);
            return rc;
        }
        snprintf(target, sizeof target, "%s", path);
    }
    const char *slash = strrchr(target, '/');
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == target ? 1 : (int)(slash - target), target);
    const char *base = slash != NULL ? slash + 1 : target;
    if (snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, base) >= (int)sizeof tmp) {
        save_error(errors, "%.200s: cannot write: %s", path, ENAMETOOLONG);
        return -ENAMETOOLONG;
    }
    if (stat(target, &st) == 0)
        mode = st.st_mode & 07777;
    if ((fd = mkstemp(tmp)) < 0) {
        rc = -errno;
        save_error(errors, "%.200s: cannot create a temporary file: %s", dir, -rc);
        return rc;
    }
    rc = fchmod(fd, mode) == 0 ? 0 : -errno;
    if (rc == 0)
        rc = write_all(fd, text, strlen(text));
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, target) != 0)
        rc = -errno;
    if (rc != 0) {
        save_error(errors, "%.200s: cannot write: %s", path, -rc);
        if (unlink(tmp) != 0)
            log_warn(errno, "cannot remove the temporary file %s", tmp);
        return rc;
    }
    /* The new file is in place; only its durability across a power loss is
     * at stake here, so a failure is worth a warning, not a failed save. */
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(fd) != 0)
        log_warn(errno, "%s: saved, but cannot sync the directory %s", path, dir);
    if (fd >= 0)
        (void)close(fd);
    return 0;
}

int config_save(const char *path, json_t *doc, const config_t *running, config_errors_t *errors)
{
    config_errors_t scratch;
    json_t *ondisk = NULL, *run = NULL;
    config_t cfg;
    char *text;
    int rc = 0;

    if (errors == NULL)
        errors = &scratch;
    memset(errors, 0, sizeof *errors);
    if (path == NULL || !json_is_object(doc)) {
        snprintf(errors->lines[errors->count++], sizeof errors->lines[0],
                 "config: the top level must be a JSON object");
        return -EINVAL;
    }
    /* unreadable or absent: env-overridden keys then stay absent, as they were */
    ondisk = json_load_file(path, 0, NULL);
    if (running != NULL && (run = config_to_json(running, false)) == NULL)
        rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < config_schema_count; i++)
        rc = adjust_key(doc, &config_schema[i], ondisk, run);
    json_decref(ondisk);
    json_decref(run);
    if (rc != 0) {
        save_error(errors, "%.200s: cannot prepare the config: %s", path, -rc);
        return rc;
    }
    if (config_load_json(doc, &cfg, errors) != 0)
        return -EINVAL;
    rc = complete(doc, &cfg);
    config_free(&cfg);
    if (rc != 0 || (text = json_dumps(doc, JSON_INDENT(4))) == NULL) {
        save_error(errors, "%.200s: cannot prepare the config: %s", path, ENOMEM);
        return -ENOMEM;
    }
    /* a text file ends with a newline, as an operator's editor leaves it */
    size_t len = strlen(text);
    char *file = realloc(text, len + 2);
    if (file == NULL) {
        free(text);
        save_error(errors, "%.200s: cannot prepare the config: %s", path, ENOMEM);
        return -ENOMEM;
    }
    memcpy(file + len, "\n", 2);
    rc = write_atomically(path, file, errors);
    free(file);
    return rc;
}

json_t *config_save_for_peers(json_t *saved, json_t *sent)
{
    json_t *out = json_deep_copy(saved), *section;
    for (size_t i = 0; out != NULL && i < config_schema_count; i++) {
        const config_key_t *k = &config_schema[i];
        if (!(k->flags & CONFIG_SECRET) || (section = config_json_member(out, k->section)) == NULL ||
            !json_is_object(section))
            continue;
        json_t *as_sent = value_in(sent, k);
        if (as_sent == NULL) {
            member_del(section, k->key, NULL);
        } else if (member_set(section, k->key, json_deep_copy(as_sent)) != 0) {
            json_decref(out);
            out = NULL;
        }
    }
    return out;
}
