/* See config_digest.h. */
#include "cluster/config_digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_schema.h"

int config_digest_compute(const config_t *cfg, config_digest_t *out)
{
    json_t *doc = config_to_json(cfg, false);
    if (doc == NULL)
        return -ENOMEM;
    int rc = 0;
    out->count = 0;
    for (size_t i = 0; i < config_schema_count && out->count < CONFIG_DIGEST_KEYS_MAX; i++) {
        const config_key_t *k = &config_schema[i];
        if (k->flags & CONFIG_PER_NODE)
            continue;
        json_t *value = json_object_get(json_object_get(doc, k->section), k->key);
        char *text = value != NULL ? json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS) : NULL;
        if (text == NULL) {
            rc = -ENOMEM;
            break;
        }
        char *entry = out->keys[out->count].name;
        snprintf(entry, CONFIG_DIGEST_NAME_MAX, "%s.%s", k->section, k->key);
        char *input = NULL;
        unsigned char full[EVP_MAX_MD_SIZE];
        unsigned int full_len = 0;
        int n = asprintf(&input, "%s=%s", entry, text);
        free(text);
        if (n < 0 || EVP_Digest(input, (size_t)n, full, &full_len, EVP_sha256(), NULL) != 1) {
            free(n < 0 ? NULL : input);
            rc = -ENOMEM;
            break;
        }
        free(input);
        memcpy(out->keys[out->count].digest, full, CONFIG_DIGEST_SIZE);
        out->count++;
    }
    json_decref(doc);
    return rc;
}

static const uint8_t *find_key(const config_digest_t *d, const char *name)
{
    for (size_t i = 0; i < d->count; i++)
        if (strcmp(d->keys[i].name, name) == 0)
            return d->keys[i].digest;
    return NULL;
}

static void append_name(char *out, size_t size, size_t *used, const char *name, bool *truncated)
{
    if (*truncated)
        return;
    const char *sep = *used > 0 ? ", " : "";
    size_t need = strlen(sep) + strlen(name);
    if (*used + need + 4 >= size) { /* keep room for ", …" */
        if (*used + 6 < size) {
            memcpy(out + *used, ", \xe2\x80\xa6", 6);
            *used += 5;
            out[*used] = '\0';
        }
        *truncated = true;
        return;
    }
    *used += (size_t)snprintf(out + *used, size - *used, "%s%s", sep, name);
}

size_t config_digest_diff(const config_digest_t *ours, const config_digest_t *theirs, char *out, size_t size)
{
    size_t differing = 0, used = 0;
    bool truncated = false;
    if (size > 0)
        out[0] = '\0';
    for (size_t i = 0; i < ours->count; i++) {
        const uint8_t *other = find_key(theirs, ours->keys[i].name);
        if (other == NULL || memcmp(other, ours->keys[i].digest, CONFIG_DIGEST_SIZE) != 0) {
            differing++;
            if (size > 0)
                append_name(out, size, &used, ours->keys[i].name, &truncated);
        }
    }
    for (size_t i = 0; i < theirs->count; i++) {
        if (find_key(ours, theirs->keys[i].name) == NULL) {
            differing++;
            if (size > 0)
                append_name(out, size, &used, theirs->keys[i].name, &truncated);
        }
    }
    return differing;
}

int config_digest_pack(msgpack_packer *pk, const config_digest_t *d)
{
    if (msgpack_pack_map(pk, d->count) != 0)
        return -ENOMEM;
    for (size_t i = 0; i < d->count; i++) {
        size_t len = strlen(d->keys[i].name);
        if (msgpack_pack_str(pk, len) != 0 || msgpack_pack_str_body(pk, d->keys[i].name, len) != 0 ||
            msgpack_pack_bin(pk, CONFIG_DIGEST_SIZE) != 0 ||
            msgpack_pack_bin_body(pk, d->keys[i].digest, CONFIG_DIGEST_SIZE) != 0)
            return -ENOMEM;
    }
    return 0;
}

int config_digest_unpack(const msgpack_object *obj, config_digest_t *d)
{
    d->count = 0;
    if (obj->type != MSGPACK_OBJECT_MAP || obj->via.map.size > CONFIG_DIGEST_KEYS_MAX)
        return -EBADMSG;
    for (uint32_t i = 0; i < obj->via.map.size; i++) {
        const msgpack_object *k = &obj->via.map.ptr[i].key, *v = &obj->via.map.ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR || k->via.str.size == 0 || k->via.str.size >= CONFIG_DIGEST_NAME_MAX ||
            memchr(k->via.str.ptr, '\0', k->via.str.size) != NULL || v->type != MSGPACK_OBJECT_BIN ||
            v->via.bin.size != CONFIG_DIGEST_SIZE) {
            d->count = 0;
            return -EBADMSG;
        }
        memcpy(d->keys[i].name, k->via.str.ptr, k->via.str.size);
        d->keys[i].name[k->via.str.size] = '\0';
        memcpy(d->keys[i].digest, v->via.bin.ptr, CONFIG_DIGEST_SIZE);
        d->count++;
    }
    return 0;
}
