/*
 * Ring records: every type, its encoder and its decoder, in this one file.
 *
 * A record is one msgpack map from field names (Mattermost's JSON names:
 * "user_id", "dnd_end_time") to scalars: strings, booleans, integers.  Names
 * rather than positions make a record readable in a hex dump and let a newer
 * node add a field that an older one ignores: a decoder skips keys it does
 * not know, but insists on every field it needs, with the right type, once.
 * Each type is a table of fields (name, kind, offset in its struct, bounds);
 * one generic walk encodes a table and one decodes it, so a type is a struct,
 * a table and two one-line functions.
 *
 * Records will also cross the network (the cluster forwards them), so a
 * decoder trusts nothing.  msgpack-c allocates for a container as soon as it
 * reads its header: five bytes declaring a 2^28-element array make it map
 * 8 GB.  A bounded pre-pass therefore walks the record first, without
 * allocating, and refuses any length or element count larger than the bytes
 * that remain, nesting deeper than EVENT_DEPTH_MAX, and reserved bytes; only
 * then does msgpack-c unpack it (into at most a few objects per input byte).
 * The record must be exactly one object: trailing bytes are an error too.
 * Encoders refuse what decoders would refuse, so a record that was published
 * always decodes.
 *
 * WebSocket events (EVENT_WS_EVENT) add three kinds of field: an optional id
 * (empty = not set, may be absent), a long text (the event's JSON data, up
 * to EVENT_WS_DATA_MAX, decoded as a pointer into the record: no copy) and a
 * bounded list of ids (omit_users).  Their records are larger than
 * EVENT_ENCODED_MAX, so each decoder has its own length bound.
 */
#include "core/events.h"

#include "core/msgpack_bounds.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#define EVENT_DEPTH_MAX  4
#define EVENT_FIELDS_MAX 16

typedef enum {
    FIELD_ID,
    FIELD_STR,
    FIELD_BOOL,
    FIELD_INT64,
    FIELD_OPT_ID,
    FIELD_TEXT,
    FIELD_ID_LIST,
    FIELD_TEXT_LIST,  /* texts of at most EVENT_WS_ENCODED_MAX bytes */
    FIELD_ORIGIN_LIST /* [node id, seq] pairs */
} field_kind_t;

typedef struct {
    const char *name;
    field_kind_t kind;
    size_t offset;
    size_t max; /* FIELD_STR: longest value (the member holds max + 1 bytes);
                 * FIELD_TEXT: longest text; the lists: most items */
} field_t;

#define FIELD(type, member, kind, max)             \
    {                                              \
#member, kind, offsetof(type, member), max \
    }

static const field_t status_changed_fields[] = {
    FIELD(event_status_changed_t, user_id, FIELD_ID, ID_LENGTH),
    FIELD(event_status_changed_t, status, FIELD_STR, EVENT_STATUS_MAX),
    FIELD(event_status_changed_t, manual, FIELD_BOOL, 0),
    FIELD(event_status_changed_t, last_activity_at, FIELD_INT64, 0),
    FIELD(event_status_changed_t, dnd_end_time, FIELD_INT64, 0),
};

static const field_t session_revoked_fields[] = {
    FIELD(event_session_revoked_t, token, FIELD_ID, ID_LENGTH),
    FIELD(event_session_revoked_t, user_id, FIELD_ID, ID_LENGTH),
};

static const field_t user_sessions_revoked_fields[] = {
    FIELD(event_user_sessions_revoked_t, user_id, FIELD_ID, ID_LENGTH),
};

static const field_t user_changed_fields[] = {
    FIELD(event_user_changed_t, user_id, FIELD_ID, ID_LENGTH),
    FIELD(event_user_changed_t, sessions, FIELD_BOOL, 0),
};

static const field_t members_changed_fields[] = {
    FIELD(event_members_changed_t, channel_id, FIELD_OPT_ID, ID_LENGTH),
    FIELD(event_members_changed_t, team_id, FIELD_OPT_ID, ID_LENGTH),
};

static const field_t ws_event_fields[] = {
    FIELD(event_ws_event_t, event, FIELD_STR, EVENT_WS_NAME_MAX),
    FIELD(event_ws_event_t, data, FIELD_TEXT, EVENT_WS_DATA_MAX),
    FIELD(event_ws_event_t, user_id, FIELD_OPT_ID, ID_LENGTH),
    FIELD(event_ws_event_t, channel_id, FIELD_OPT_ID, ID_LENGTH),
    FIELD(event_ws_event_t, team_id, FIELD_OPT_ID, ID_LENGTH),
    FIELD(event_ws_event_t, connection_id, FIELD_OPT_ID, ID_LENGTH),
    FIELD(event_ws_event_t, omit_connection_id, FIELD_OPT_ID, ID_LENGTH),
    FIELD(event_ws_event_t, omit_users, FIELD_ID_LIST, EVENT_WS_OMIT_MAX),
};

static const field_t config_reload_fields[] = {
    FIELD(event_config_reload_t, node_id, FIELD_ID, ID_LENGTH),
};

static const field_t config_saved_fields[] = {
    FIELD(event_config_saved_t, node_id, FIELD_ID, ID_LENGTH),
    FIELD(event_config_saved_t, config, FIELD_TEXT, EVENT_CONFIG_TEXT_MAX),
};

static const field_t replay_request_fields[] = {
    FIELD(event_replay_request_t, request_id, FIELD_ID, ID_LENGTH),
    FIELD(event_replay_request_t, node_id, FIELD_ID, ID_LENGTH),
    FIELD(event_replay_request_t, connection_id, FIELD_ID, ID_LENGTH),
    FIELD(event_replay_request_t, user_id, FIELD_ID, ID_LENGTH),
    FIELD(event_replay_request_t, sequence_number, FIELD_INT64, 0),
};

static const field_t replay_answer_fields[] = {
    FIELD(event_replay_answer_t, request_id, FIELD_ID, ID_LENGTH),
    FIELD(event_replay_answer_t, node_id, FIELD_ID, ID_LENGTH),
    FIELD(event_replay_answer_t, part, FIELD_INT64, 0),
    FIELD(event_replay_answer_t, last, FIELD_BOOL, 0),
    FIELD(event_replay_answer_t, status, FIELD_INT64, 0),
    FIELD(event_replay_answer_t, next_seq, FIELD_INT64, 0),
    FIELD(event_replay_answer_t, frontier, FIELD_ORIGIN_LIST, EVENT_REPLAY_ORIGINS_MAX),
    FIELD(event_replay_answer_t, events, FIELD_TEXT_LIST, EVENT_REPLAY_EVENTS_MAX),
};

#define NFIELDS(table) (sizeof(table) / sizeof((table)[0]))

const char *event_type_name(uint16_t type)
{
    switch (type & EVENT_TYPE_MASK) {
    case EVENT_STATUS_CHANGED: return "status_changed";
    case EVENT_SESSION_REVOKED: return "session_revoked";
    case EVENT_USER_SESSIONS_REVOKED: return "user_sessions_revoked";
    case EVENT_WS_EVENT: return "ws_event";
    case EVENT_MEMBERS_CHANGED: return "members_changed";
    case EVENT_CONFIG_RELOAD: return "config_reload";
    case EVENT_CONFIG_SAVED: return "config_saved";
    case EVENT_REPLAY_REQUEST: return "replay_request";
    case EVENT_REPLAY_ANSWER: return "replay_answer";
    case EVENT_USER_CHANGED: return "user_changed";
    }
    return "unknown";
}

/* ---- encoding --------------------------------------------------------------- */

/* Where an encoder writes: `cap` bytes at `data`. */
typedef struct {
    uint8_t *data;
    size_t len, cap;
} sink_t;

static int buf_write(void *data, const char *bytes, size_t len)
{
    sink_t *b = data;
    if (len > b->cap - b->len)
        return -1;
    memcpy(b->data + b->len, bytes, len);
    b->len += len;
    return 0;
}

static int pack_string(msgpack_packer *pk, const char *s, size_t len)
{
    return msgpack_pack_str(pk, len) != 0 || msgpack_pack_str_body(pk, s, len) != 0 ? -1 : 0;
}

/* Validates one string field as its decoder will: 0 or -EINVAL. */
static int check_string(const field_t *f, const char *s)
{
    size_t len = strnlen(s, f->max + 1);
    if (f->kind == FIELD_OPT_ID && len == 0)
        return 0;
    if (f->kind == FIELD_ID || f->kind == FIELD_OPT_ID)
        return id_is_valid(s, len) ? 0 : -EINVAL;
    return len == 0 || len > f->max ? -EINVAL : 0;
}

static int encode_text(msgpack_packer *pk, const event_text_t *t, size_t max)
{
    if (t->ptr == NULL || t->len == 0 || t->len > max || memchr(t->ptr, '\0', t->len) != NULL)
        return -EINVAL;
    return pack_string(pk, t->ptr, t->len) != 0 ? -EMSGSIZE : 0;
}

static int encode_text_list(msgpack_packer *pk, const field_t *f, const event_text_list_t *l)
{
    if (l->count > f->max)
        return -EINVAL;
    if (msgpack_pack_array(pk, l->count) != 0)
        return -EMSGSIZE;
    for (uint32_t i = 0; i < l->count; i++) {
        int rc = encode_text(pk, &l->items[i], EVENT_WS_ENCODED_MAX);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int encode_origin_list(msgpack_packer *pk, const field_t *f, const event_origin_list_t *l)
{
    if (l->count > f->max)
        return -EINVAL;
    for (uint32_t i = 0; i < l->count; i++)
        if (!id_is_valid(l->items[i].node_id, strnlen(l->items[i].node_id, ID_LENGTH + 1)))
            return -EINVAL;
    if (msgpack_pack_array(pk, l->count) != 0)
        return -EMSGSIZE;
    for (uint32_t i = 0; i < l->count; i++)
        if (msgpack_pack_array(pk, 2) != 0 || pack_string(pk, l->items[i].node_id, ID_LENGTH) != 0 ||
            msgpack_pack_uint64(pk, l->items[i].seq) != 0)
            return -EMSGSIZE;
    return 0;
}

/* The text and list kinds: 0, -EINVAL (would not decode) or -EMSGSIZE. */
static int encode_long(msgpack_packer *pk, const field_t *f, const void *member)
{
    if (f->kind == FIELD_TEXT)
        return encode_text(pk, member, f->max);
    if (f->kind == FIELD_TEXT_LIST)
        return encode_text_list(pk, f, member);
    if (f->kind == FIELD_ORIGIN_LIST)
        return encode_origin_list(pk, f, member);
    const event_id_list_t *l = member;
    if (l->count > f->max)
        return -EINVAL;
    for (uint32_t i = 0; i < l->count; i++)
        if (!id_is_valid(l->ids[i], strnlen(l->ids[i], ID_LENGTH + 1)))
            return -EINVAL;
    if (msgpack_pack_array(pk, l->count) != 0)
        return -EMSGSIZE;
    for (uint32_t i = 0; i < l->count; i++)
        if (pack_string(pk, l->ids[i], ID_LENGTH) != 0)
            return -EMSGSIZE;
    return 0;
}

static int encode_value(msgpack_packer *pk, const field_t *f, const void *member)
{
    switch (f->kind) {
    case FIELD_ID:
    case FIELD_STR:
    case FIELD_OPT_ID:
        if (check_string(f, member) != 0)
            return -EINVAL;
        return pack_string(pk, member, strlen(member)) != 0 ? -EMSGSIZE : 0;
    case FIELD_BOOL: return (*(const bool *)member ? msgpack_pack_true(pk) : msgpack_pack_false(pk)) ? -EMSGSIZE : 0;
    case FIELD_INT64: return msgpack_pack_int64(pk, *(const int64_t *)member) != 0 ? -EMSGSIZE : 0;
    case FIELD_TEXT:
    case FIELD_ID_LIST:
    case FIELD_TEXT_LIST:
    case FIELD_ORIGIN_LIST: return encode_long(pk, f, member);
    }
    return -EINVAL;
}

static int encode_fields(const field_t *fields, size_t n, const void *ev, sink_t *out)
{
    msgpack_packer pk;
    out->len = 0;
    msgpack_packer_init(&pk, out, buf_write);
    if (msgpack_pack_map(&pk, n) != 0)
        return -EMSGSIZE;
    for (size_t i = 0; i < n; i++) {
        const field_t *f = &fields[i];
        if (pack_string(&pk, f->name, strlen(f->name)) != 0)
            return -EMSGSIZE;
        int rc = encode_value(&pk, f, (const uint8_t *)ev + f->offset);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* The types whose records outgrow EVENT_ENCODED_MAX: into `out`, at most
 * `cap` and EVENT_WS_ENCODED_MAX bytes. */
static int encode_large(const field_t *fields, size_t n, const void *ev, uint8_t *out, size_t cap, size_t *len)
{
    sink_t sink = {out, 0, cap < EVENT_WS_ENCODED_MAX ? cap : EVENT_WS_ENCODED_MAX};
    int rc = encode_fields(fields, n, ev, &sink);
    *len = sink.len;
    return rc;
}

static int encode_small(const field_t *fields, size_t n, const void *ev, event_buf_t *out)
{
    sink_t sink = {out->data, 0, sizeof(out->data)};
    int rc = encode_fields(fields, n, ev, &sink);
    out->len = sink.len;
    return rc;
}

/* ---- the bounded pre-pass ------------------------------------------------------ */

/* ---- decoding ------------------------------------------------------------------ */

static int decode_string(const field_t *f, const msgpack_object *v, char *member)
{
    if (v->type != MSGPACK_OBJECT_STR)
        return EVENT_EMALFORMED;
    size_t len = v->via.str.size;
    if (len > f->max)
        return EVENT_ETOOBIG;
    if (f->kind == FIELD_OPT_ID && len == 0) {
        member[0] = '\0';
        return 0;
    }
    if (len == 0 || memchr(v->via.str.ptr, '\0', len) != NULL)
        return EVENT_EMALFORMED;
    if ((f->kind == FIELD_ID || f->kind == FIELD_OPT_ID) && !id_is_valid(v->via.str.ptr, len))
        return EVENT_EMALFORMED;
    memcpy(member, v->via.str.ptr, len);
    member[len] = '\0';
    return 0;
}

/* The record being decoded, which a text must point into. */
typedef struct {
    const char *start, *end;
} span_t;

static int decode_text(const field_t *f, const msgpack_object *v, event_text_t *t, const span_t *in)
{
    if (v->type != MSGPACK_OBJECT_STR)
        return EVENT_EMALFORMED;
    const char *p = v->via.str.ptr;
    size_t len = v->via.str.size;
    if (len > f->max)
        return EVENT_ETOOBIG;
    if (len == 0 || p < in->start || p > in->end || len > (size_t)(in->end - p) || memchr(p, '\0', len) != NULL)
        return EVENT_EMALFORMED;
    *t = (event_text_t){p, len};
    return 0;
}

static int decode_text_list(const field_t *f, const msgpack_object *v, event_text_list_t *l, const span_t *in)
{
    if (v->type != MSGPACK_OBJECT_ARRAY)
        return EVENT_EMALFORMED;
    if (v->via.array.size > f->max)
        return EVENT_ETOOBIG;
    const field_t text = {f->name, FIELD_TEXT, 0, EVENT_WS_ENCODED_MAX};
    for (uint32_t i = 0; i < v->via.array.size; i++) {
        int rc = decode_text(&text, &v->via.array.ptr[i], &l->items[i], in);
        if (rc != 0)
            return rc;
    }
    l->count = v->via.array.size;
    return 0;
}

static int decode_origin_list(const field_t *f, const msgpack_object *v, event_origin_list_t *l)
{
    if (v->type != MSGPACK_OBJECT_ARRAY)
        return EVENT_EMALFORMED;
    if (v->via.array.size > f->max)
        return EVENT_ETOOBIG;
    const field_t id = {f->name, FIELD_ID, 0, ID_LENGTH};
    for (uint32_t i = 0; i < v->via.array.size; i++) {
        const msgpack_object *pair = &v->via.array.ptr[i];
        if (pair->type != MSGPACK_OBJECT_ARRAY || pair->via.array.size != 2 ||
            pair->via.array.ptr[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
            return EVENT_EMALFORMED;
        int rc = decode_string(&id, &pair->via.array.ptr[0], l->items[i].node_id);
        if (rc != 0)
            return rc;
        l->items[i].seq = pair->via.array.ptr[1].via.u64;
    }
    l->count = v->via.array.size;
    return 0;
}

static int decode_id_list(const field_t *f, const msgpack_object *v, event_id_list_t *l)
{
    if (v->type != MSGPACK_OBJECT_ARRAY)
        return EVENT_EMALFORMED;
    if (v->via.array.size > f->max)
        return EVENT_ETOOBIG;
    const field_t id = {f->name, FIELD_ID, 0, ID_LENGTH};
    for (uint32_t i = 0; i < v->via.array.size; i++) {
        int rc = decode_string(&id, &v->via.array.ptr[i], l->ids[i]);
        if (rc != 0)
            return rc;
    }
    l->count = v->via.array.size;
    return 0;
}

static int decode_value(const field_t *f, const msgpack_object *v, void *member, const span_t *in)
{
    switch (f->kind) {
    case FIELD_TEXT: return decode_text(f, v, member, in);
    case FIELD_ID_LIST: return decode_id_list(f, v, member);
    case FIELD_TEXT_LIST: return decode_text_list(f, v, member, in);
    case FIELD_ORIGIN_LIST: return decode_origin_list(f, v, member);
    case FIELD_ID:
    case FIELD_OPT_ID:
    case FIELD_STR: return decode_string(f, v, member);
    case FIELD_BOOL:
        if (v->type != MSGPACK_OBJECT_BOOLEAN)
            return EVENT_EMALFORMED;
        *(bool *)member = v->via.boolean;
        return 0;
    case FIELD_INT64:
        if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
            *(int64_t *)member = v->via.i64;
        else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 <= INT64_MAX)
            *(int64_t *)member = (int64_t)v->via.u64;
        else
            return EVENT_EMALFORMED;
        return 0;
    }
    return EVENT_EMALFORMED;
}

static int decode_map(const field_t *fields, size_t n, const msgpack_object *obj, void *ev, const span_t *in)
{
    if (obj->type != MSGPACK_OBJECT_MAP)
        return EVENT_EMALFORMED;
    uint32_t seen = 0;
    for (uint32_t i = 0; i < obj->via.map.size; i++) {
        const msgpack_object *k = &obj->via.map.ptr[i].key, *v = &obj->via.map.ptr[i].val;
        if (k->type != MSGPACK_OBJECT_STR)
            return EVENT_EMALFORMED;
        for (size_t j = 0; j < n; j++) {
            const field_t *f = &fields[j];
            if (k->via.str.size != strlen(f->name) || memcmp(k->via.str.ptr, f->name, k->via.str.size) != 0)
                continue;
            if (seen & (1u << j))
                return EVENT_EMALFORMED; /* twice */
            seen |= 1u << j;
            int rc = decode_value(f, v, (uint8_t *)ev + f->offset, in);
            if (rc != 0)
                return rc;
            break;
        }
        /* a key we do not know: a newer node's field, ignored */
    }
    uint32_t required = 0;
    for (size_t j = 0; j < n; j++)
        required |= fields[j].kind == FIELD_OPT_ID ? 0 : 1u << j;
    return (seen & required) == required ? 0 : EVENT_EMISSING;
}

static int decode_fields(const field_t *fields, size_t n, const void *data, size_t len, void *ev, size_t ev_size,
                         size_t max)
{
    _Static_assert(EVENT_FIELDS_MAX <= 32, "the seen-mask is 32 bits");
    if (data == NULL || n > EVENT_FIELDS_MAX)
        return EVENT_EMALFORMED;
    if (len > max)
        return EVENT_ETOOBIG;
    const span_t in = {data, (const char *)data + len};
    const uint8_t *p = data;
    if (msgpack_bounds_check(p, len, EVENT_DEPTH_MAX) != 0)
        return EVENT_EMALFORMED;
    memset(ev, 0, ev_size);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int rc = msgpack_unpack_next(&u, data, len, &off) == MSGPACK_UNPACK_SUCCESS && off == len
                 ? decode_map(fields, n, &u.data, ev, &in)
                 : EVENT_EMALFORMED;
    msgpack_unpacked_destroy(&u);
    if (rc != 0)
        memset(ev, 0, ev_size);
    return rc;
}

/* ---- the types --------------------------------------------------------------------- */

int event_encode_status_changed(const event_status_changed_t *ev, event_buf_t *out)
{
    return encode_small(status_changed_fields, NFIELDS(status_changed_fields), ev, out);
}

int event_decode_status_changed(const void *data, size_t len, event_status_changed_t *ev)
{
    return decode_fields(status_changed_fields, NFIELDS(status_changed_fields), data, len, ev, sizeof(*ev),
                         EVENT_ENCODED_MAX);
}

int event_encode_session_revoked(const event_session_revoked_t *ev, event_buf_t *out)
{
    return encode_small(session_revoked_fields, NFIELDS(session_revoked_fields), ev, out);
}

int event_decode_session_revoked(const void *data, size_t len, event_session_revoked_t *ev)
{
    return decode_fields(session_revoked_fields, NFIELDS(session_revoked_fields), data, len, ev, sizeof(*ev),
                         EVENT_ENCODED_MAX);
}

int event_encode_user_sessions_revoked(const event_user_sessions_revoked_t *ev, event_buf_t *out)
{
    return encode_small(user_sessions_revoked_fields, NFIELDS(user_sessions_revoked_fields), ev, out);
}

int event_decode_user_sessions_revoked(const void *data, size_t len, event_user_sessions_revoked_t *ev)
{
    return decode_fields(user_sessions_revoked_fields, NFIELDS(user_sessions_revoked_fields), data, len, ev,
                         sizeof(*ev), EVENT_ENCODED_MAX);
}

int event_encode_user_changed(const event_user_changed_t *ev, event_buf_t *out)
{
    return encode_small(user_changed_fields, NFIELDS(user_changed_fields), ev, out);
}

int event_decode_user_changed(const void *data, size_t len, event_user_changed_t *ev)
{
    return decode_fields(user_changed_fields, NFIELDS(user_changed_fields), data, len, ev, sizeof(*ev),
                         EVENT_ENCODED_MAX);
}

int event_encode_members_changed(const event_members_changed_t *ev, event_buf_t *out)
{
    if (ev->channel_id[0] == '\0' && ev->team_id[0] == '\0')
        return -EINVAL;
    return encode_small(members_changed_fields, NFIELDS(members_changed_fields), ev, out);
}

int event_decode_members_changed(const void *data, size_t len, event_members_changed_t *ev)
{
    int rc = decode_fields(members_changed_fields, NFIELDS(members_changed_fields), data, len, ev, sizeof(*ev),
                           EVENT_ENCODED_MAX);
    if (rc == 0 && ev->channel_id[0] == '\0' && ev->team_id[0] == '\0')
        rc = EVENT_EMISSING;
    return rc;
}

int event_encode_ws_event(const event_ws_event_t *ev, uint8_t *out, size_t cap, size_t *len)
{
    return encode_large(ws_event_fields, NFIELDS(ws_event_fields), ev, out, cap, len);
}

int event_decode_ws_event(const void *data, size_t len, event_ws_event_t *ev)
{
    return decode_fields(ws_event_fields, NFIELDS(ws_event_fields), data, len, ev, sizeof(*ev), EVENT_WS_ENCODED_MAX);
}

int event_encode_config_reload(const event_config_reload_t *ev, event_buf_t *out)
{
    return encode_small(config_reload_fields, NFIELDS(config_reload_fields), ev, out);
}

int event_decode_config_reload(const void *data, size_t len, event_config_reload_t *ev)
{
    return decode_fields(config_reload_fields, NFIELDS(config_reload_fields), data, len, ev, sizeof(*ev),
                         EVENT_ENCODED_MAX);
}

int event_encode_config_saved(const event_config_saved_t *ev, uint8_t *out, size_t cap, size_t *len)
{
    return encode_large(config_saved_fields, NFIELDS(config_saved_fields), ev, out, cap, len);
}

int event_decode_config_saved(const void *data, size_t len, event_config_saved_t *ev)
{
    return decode_fields(config_saved_fields, NFIELDS(config_saved_fields), data, len, ev, sizeof(*ev),
                         EVENT_WS_ENCODED_MAX);
}

int event_encode_replay_request(const event_replay_request_t *ev, event_buf_t *out)
{
    return encode_small(replay_request_fields, NFIELDS(replay_request_fields), ev, out);
}

int event_decode_replay_request(const void *data, size_t len, event_replay_request_t *ev)
{
    return decode_fields(replay_request_fields, NFIELDS(replay_request_fields), data, len, ev, sizeof(*ev),
                         EVENT_ENCODED_MAX);
}

int event_encode_replay_answer(const event_replay_answer_t *ev, uint8_t *out, size_t cap, size_t *len)
{
    return encode_large(replay_answer_fields, NFIELDS(replay_answer_fields), ev, out, cap, len);
}

int event_decode_replay_answer(const void *data, size_t len, event_replay_answer_t *ev)
{
    return decode_fields(replay_answer_fields, NFIELDS(replay_answer_fields), data, len, ev, sizeof(*ev),
                         EVENT_WS_ENCODED_MAX);
}

/* ---- the origin of a record from the cluster ---------------------------------------- */

int event_record_parse(uint16_t raw_type, const void *raw, size_t raw_len, uint64_t ring_seq, event_record_t *out)
{
    memset(out, 0, sizeof(*out));
    out->type = raw_type & EVENT_TYPE_MASK;
    out->from_cluster = (raw_type & EVENT_FROM_CLUSTER) != 0;
    out->data = raw;
    out->len = raw_len;
    out->origin.seq = ring_seq;
    if (!out->from_cluster)
        return 0;
    const uint8_t *p = raw;
    if (raw_len < EVENT_ORIGIN_SIZE || !id_is_valid((const char *)p, ID_LENGTH))
        return EVENT_EMALFORMED;
    memcpy(out->origin.node_id, p, ID_LENGTH);
    out->origin.node_id[ID_LENGTH] = '\0';
    uint64_t seq = 0;
    for (size_t i = 0; i < 8; i++)
        seq = seq << 8 | p[ID_LENGTH + i];
    out->origin.seq = seq;
    out->data = p + EVENT_ORIGIN_SIZE;
    out->len = raw_len - EVENT_ORIGIN_SIZE;
    return 0;
}

int event_origin_write(const event_origin_t *origin, uint8_t *out)
{
    if (!id_is_valid(origin->node_id, strnlen(origin->node_id, ID_LENGTH + 1)))
        return -EINVAL;
    memcpy(out, origin->node_id, ID_LENGTH);
    for (size_t i = 0; i < 8; i++)
        out[ID_LENGTH + i] = (uint8_t)(origin->seq >> (56 - 8 * i));
    return 0;
}
