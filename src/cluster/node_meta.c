/*
 * Node metadata (node_meta.h) to and from msgpack, in the manner of
 * core/events.c: a table of fields (short key, kind, offset, bound, whether
 * required), one walk that encodes it and one that decodes it.
 *
 * The bytes come from any host that can reach the gossip port (sealing is
 * optional), so the decoder trusts nothing: the bounded pre-pass
 * (core/msgpack_bounds.h) walks them before msgpack-c allocates anything,
 * then every field is checked for type and bounds, ids with id_is_valid,
 * texts for printable ASCII (they end up in logs and on the status page),
 * the config hash for 64 lower-case hex digits.  Unknown keys are skipped, a
 * known key twice is an error.  A required field must be present and set (a
 * text non-empty, a number non-zero); an optional one may be absent.  The
 * encoder applies the same checks, so what one node sends, all decode.
 */
#include "cluster/node_meta.h"

#include "core/msgpack_bounds.h"

#include <errno.h>
#include <msgpack.h>
#include <stdbool.h>
#include <string.h>

#define NODE_META_DEPTH_MAX 4 /* room for a newer node's nested fields */

typedef enum { NM_ID, NM_TEXT, NM_HASH, NM_UINT } node_meta_kind_t;

typedef struct {
    const char *key;
    node_meta_kind_t kind;
    bool required;
    size_t offset, size; /* of the member */
    uint64_t max;        /* NM_UINT: largest value */
} node_meta_field_t;

#define NM_FIELD(key, member, kind, required, max)                                                  \
    {                                                                                               \
        key, kind, required, offsetof(node_meta_t, member), sizeof(((node_meta_t *)0)->member), max \
    }

static const node_meta_field_t node_meta_fields[] = {
    NM_FIELD("id", id, NM_ID, true, 0),
    NM_FIELD("v", version, NM_TEXT, true, 0),
    NM_FIELD("sv", schema_version, NM_UINT, false, UINT32_MAX),
    NM_FIELD("ch", config_hash, NM_HASH, true, 0),
    NM_FIELD("h", hostname, NM_TEXT, true, 0),
    NM_FIELD("ip", ipaddress, NM_TEXT, false, 0),
    NM_FIELD("gp", gossip_port, NM_UINT, true, UINT16_MAX),
    NM_FIELD("sp", streaming_port, NM_UINT, true, UINT16_MAX),
    NM_FIELD("ap", api_port, NM_UINT, false, UINT16_MAX),
    NM_FIELD("st", start_at, NM_UINT, true, INT64_MAX),
    NM_FIELD("l", leader_id, NM_ID, false, 0),
};

#define NODE_META_NFIELDS (sizeof(node_meta_fields) / sizeof(node_meta_fields[0]))
_Static_assert(NODE_META_NFIELDS <= 32, "the seen-mask is 32 bits");

/* Whether a string value is acceptable for `f` (len < member size known). */
static bool text_ok(const node_meta_field_t *f, const char *s, size_t len)
{
    if (len == 0)
        return !f->required;
    if (f->kind == NM_ID)
        return id_is_valid(s, len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (f->kind == NM_HASH ? !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) : c < 0x21 || c > 0x7e)
            return false;
    }
    return f->kind != NM_HASH || len == NODE_META_HASH_LENGTH;
}

static bool uint_ok(const node_meta_field_t *f, uint64_t v)
{
    return v <= f->max && (v != 0 || !f->required);
}

static uint64_t uint_get(const node_meta_field_t *f, const void *member)
{
    switch (f->size) {
    case 2: return *(const uint16_t *)member;
    case 4: return *(const uint32_t *)member;
    }
    int64_t v = *(const int64_t *)member;
    return v < 0 ? UINT64_MAX : (uint64_t)v; /* negative: refused by uint_ok */
}

static void uint_set(const node_meta_field_t *f, void *member, uint64_t v)
{
    switch (f->size) {
    case 2: *(uint16_t *)member = (uint16_t)v; break;
    case 4: *(uint32_t *)member = (uint32_t)v; break;
    default: *(int64_t *)member = (int64_t)v; break;
    }
}

/* ---- encoding -------------------------------------------------------------- */

typedef struct {
    uint8_t *data;
    size_t len, cap;
} node_meta_sink_t;

static int sink_write(void *data, const char *bytes, size_t len)
{
    node_meta_sink_t *b = data;
    if (len > b->cap - b->len)
        return -1;
    memcpy(b->data + b->len, bytes, len);
    b->len += len;
    return 0;
}

static int pack_str(msgpack_packer *pk, const char *s, size_t len)
{
    return msgpack_pack_str(pk, len) != 0 || msgpack_pack_str_body(pk, s, len) != 0 ? -EMSGSIZE : 0;
}

/* Whether a member holds what the decoder accepts. */
static bool member_ok(const node_meta_field_t *f, const void *member)
{
    if (f->kind == NM_UINT)
        return uint_ok(f, uint_get(f, member));
    size_t len = strnlen(member, f->size);
    return len < f->size && text_ok(f, member, len);
}

static int encode_field(msgpack_packer *pk, const node_meta_field_t *f, const void *member)
{
    if (pack_str(pk, f->key, strlen(f->key)) != 0)
        return -EMSGSIZE;
    if (f->kind == NM_UINT)
        return msgpack_pack_uint64(pk, uint_get(f, member)) != 0 ? -EMSGSIZE : 0;
    return pack_str(pk, member, strlen(member));
}

int node_meta_encode(const node_meta_t *meta, uint8_t *out, size_t cap, size_t *len)
{
    if (meta == NULL || out == NULL || len == NULL)
        return -EINVAL;
    *len = 0;
    for (size_t i = 0; i < NODE_META_NFIELDS; i++)
        if (!member_ok(&node_meta_fields[i], (const uint8_t *)meta + node_meta_fields[i].offset))
            return -EINVAL;
    node_meta_sink_t sink = {out, 0, cap < NODE_META_MAX ? cap : NODE_META_MAX};
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sink, sink_write);
    if (msgpack_pack_map(&pk, NODE_META_NFIELDS) != 0)
        return -EMSGSIZE;
    for (size_t i = 0; i < NODE_META_NFIELDS; i++) {
        int rc = encode_field(&pk, &node_meta_fields[i], (const uint8_t *)meta + node_meta_fields[i].offset);
        if (rc != 0)
            return rc;
    }
    *len = sink.len;
    return 0;
}

/* ---- decoding -------------------------------------------------------------- */

static int decode_field(const node_meta_field_t *f, const msgpack_object *v, void *member)
{
    if (f->kind == NM_UINT) {
        if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || !uint_ok(f, v->via.u64))
            return -EBADMSG;
        uint_set(f, member, v->via.u64);
        return 0;
    }
    if (v->type != MSGPACK_OBJECT_STR || v->via.str.size >= f->size || !text_ok(f, v->via.str.ptr, v->via.str.size))
        return -EBADMSG;
    memcpy(member, v->via.str.ptr, v->via.str.size);
    ((char *)member)[v->via.str.size] = '\0';
    return 0;
}

static int decode_map(const msgpack_object *obj, node_meta_t *meta)
{
    if (obj->type != MSGPACK_OBJECT_MAP)
        return -EBADMSG;
    uint32_t seen = 0, required = 0;
    for (uint32_t i = 0; i < obj->via.map.size; i++) {
        const msgpack_object *k = &obj->via.map.ptr[i].key;
        if (k->type != MSGPACK_OBJECT_STR)
            return -EBADMSG;
        for (size_t j = 0; j < NODE_META_NFIELDS; j++) {
            const node_meta_field_t *f = &node_meta_fields[j];
            if (k->via.str.size != strlen(f->key) || memcmp(k->via.str.ptr, f->key, k->via.str.size) != 0)
                continue;
            if ((seen & 1u << j) != 0 || decode_field(f, &obj->via.map.ptr[i].val, (uint8_t *)meta + f->offset) != 0)
                return -EBADMSG;
            seen |= 1u << j;
            break;
        }
        /* a key we do not know: a newer node's field, skipped */
    }
    for (size_t j = 0; j < NODE_META_NFIELDS; j++)
        required |= node_meta_fields[j].required ? 1u << j : 0;
    return (seen & required) == required ? 0 : -EBADMSG;
}

int node_meta_decode(const uint8_t *data, size_t len, node_meta_t *meta)
{
    if (meta == NULL)
        return -EINVAL;
    memset(meta, 0, sizeof(*meta));
    if (len > NODE_META_MAX)
        return -EMSGSIZE;
    if (data == NULL || msgpack_bounds_check(data, len, NODE_META_DEPTH_MAX) != 0)
        return -EBADMSG;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int rc = msgpack_unpack_next(&u, (const char *)data, len, &off) == MSGPACK_UNPACK_SUCCESS && off == len
                 ? decode_map(&u.data, meta)
                 : -EBADMSG;
    msgpack_unpacked_destroy(&u);
    if (rc != 0)
        memset(meta, 0, sizeof(*meta));
    return rc;
}
