/*
 * The records of the shm event ring and of the cluster's streaming links:
 * one enum of types, one struct per type, one msgpack encoder and one
 * decoder per type.  See events.c for the wire format and its bounds, and
 * shm/events_publish.h for putting a record on the ring.
 */
#ifndef CHORUS_CORE_EVENTS_H
#define CHORUS_CORE_EVENTS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/id.h"

/* Ring record types.  Values are on the wire: never renumber, only append. */
typedef enum {
    EVENT_STATUS_CHANGED = 1,        /* a user's presence changed */
    EVENT_SESSION_REVOKED = 2,       /* one session token is no longer valid */
    EVENT_USER_SESSIONS_REVOKED = 3, /* every session of a user is no longer valid */
    EVENT_WS_EVENT = 4,              /* a WebSocket event to deliver (src/ws) */
    EVENT_MEMBERS_CHANGED = 5,       /* a channel's or team's members changed */
    EVENT_CONFIG_RELOAD = 6,         /* every node reloads its config file (POST /config/reload) */
    EVENT_CONFIG_SAVED = 7,          /* a new config was saved (PUT /config): every node adopts it */
    EVENT_REPLAY_REQUEST = 8,        /* a reconnect asks the cluster for its connection (ws/replay_cluster.c) */
    EVENT_REPLAY_ANSWER = 9,         /* the node that owned it answers: one part of the missed events */
    EVENT_USER_CHANGED = 10,         /* a user's row changed: drop its cached JSON (and maybe sessions) */
} event_type_t;

/* Set on the type of a record the cluster child received from a peer and
 * re-published: consumers mask it off; the cluster child never forwards it. */
#define EVENT_FROM_CLUSTER 0x8000u
#define EVENT_TYPE_MASK    0x7fffu

/* Where a record was first published: the node and its ring seq there.  A
 * record from the cluster starts with it (EVENT_ORIGIN_SIZE bytes: the node
 * id, then the seq big-endian), so that every node can tell, for each
 * origin, how far a stream of records went (cross-node replay needs that:
 * the same records sit at different places in each node's ring).  Records
 * of a node's own stay as published: their origin is the node and the seq
 * the ring gave them. */
typedef struct {
    char node_id[ID_LENGTH + 1]; /* "": this node */
    uint64_t seq;
} event_origin_t;
#define EVENT_ORIGIN_SIZE (ID_LENGTH + 8)

/* A ring record as its consumers see it: `type` without EVENT_FROM_CLUSTER,
 * `data` without the origin header. */
typedef struct {
    uint16_t type;
    bool from_cluster;
    const uint8_t *data;
    size_t len;
    event_origin_t origin;
} event_record_t;

/* Splits what the ring gave (`raw_type`, `raw`, `raw_len`, ring seq
 * `ring_seq`): 0, or EVENT_EMALFORMED for a record from the cluster whose
 * header is not one. */
int event_record_parse(uint16_t raw_type, const void *raw, size_t raw_len, uint64_t ring_seq, event_record_t *out);
/* Writes the origin header of a record from the cluster into `out`
 * (EVENT_ORIGIN_SIZE bytes).  -EINVAL when the node id is not an id. */
int event_origin_write(const event_origin_t *origin, uint8_t *out);

/* Longest status string ("offline"); Mattermost's column is varchar(32), but
 * its values are online, away, dnd, offline, ooo. */
#define EVENT_STATUS_MAX 15
/* Largest encoded small record of any type so far (a record is at most
 * EVENT_RECORD_MAX; raise this when a type needs more). */
#define EVENT_ENCODED_MAX 512

/* The largest record, origin header included: what one ring record holds
 * (shm/events_publish.c checks it against SHM_RING_RECORD_MAX). */
#define EVENT_RECORD_MAX (256 * 1024)

/* WebSocket events: the event name, its data (a JSON object's text) and at
 * most EVENT_WS_OMIT_MAX omitted users; a whole record fits the ring. */
#define EVENT_WS_NAME_MAX    64
#define EVENT_WS_OMIT_MAX    8
#define EVENT_WS_ENCODED_MAX (EVENT_RECORD_MAX - 64) /* room for the origin header */
#define EVENT_WS_DATA_MAX    (EVENT_WS_ENCODED_MAX - 1024)

/* Decoding errors (encoders return -EINVAL for a field they would not
 * decode, -EMSGSIZE past EVENT_ENCODED_MAX). */
#define EVENT_EMALFORMED (-EBADMSG)  /* not msgpack, truncated, trailing bytes, wrong field types */
#define EVENT_EMISSING   (-ENOMSG)   /* a required field is absent */
#define EVENT_ETOOBIG    (-EMSGSIZE) /* a field or the record is longer than allowed */

typedef struct {
    char user_id[ID_LENGTH + 1];
    char status[EVENT_STATUS_MAX + 1];
    bool manual;
    int64_t last_activity_at; /* ms */
    int64_t dnd_end_time;     /* s, as Mattermost */
} event_status_changed_t;

typedef struct {
    char token[ID_LENGTH + 1];
    char user_id[ID_LENGTH + 1];
} event_session_revoked_t;

typedef struct {
    char user_id[ID_LENGTH + 1];
} event_user_sessions_revoked_t;

/* `sessions`: the change reaches what a cached session holds (the roles),
 * so the user's cached sessions go too (its sockets stay open). */
typedef struct {
    char user_id[ID_LENGTH + 1];
    bool sessions;
} event_user_changed_t;

/* A byte string borrowed from elsewhere: when decoded, from the record. */
typedef struct {
    const char *ptr;
    size_t len;
} event_text_t;

typedef struct {
    uint32_t count;
    char ids[EVENT_WS_OMIT_MAX][ID_LENGTH + 1];
} event_id_list_t;

/* Empty ids mean "not set" (Mattermost's broadcast fields). */
typedef struct {
    char event[EVENT_WS_NAME_MAX + 1];
    event_text_t data; /* decoded: points into the record, not NUL-terminated */
    char user_id[ID_LENGTH + 1];
    char channel_id[ID_LENGTH + 1];
    char team_id[ID_LENGTH + 1];
    char connection_id[ID_LENGTH + 1];
    char omit_connection_id[ID_LENGTH + 1];
    event_id_list_t omit_users;
} event_ws_event_t;

/* One of the two ids is set (or both). */
typedef struct {
    char channel_id[ID_LENGTH + 1];
    char team_id[ID_LENGTH + 1];
} event_members_changed_t;

/* Which node asked (the origin applies it itself; the others on receipt). */
typedef struct {
    char node_id[ID_LENGTH + 1];
} event_config_reload_t;

/* The saved config as Mattermost-shaped JSON text (per-node keys are each
 * node's own: a receiver keeps its values for those). */
#define EVENT_CONFIG_TEXT_MAX (EVENT_WS_ENCODED_MAX - 1024)
typedef struct {
    char node_id[ID_LENGTH + 1];
    event_text_t config; /* decoded: points into the record */
} event_config_saved_t;

/* Cross-node replay (ws/replay_cluster.c): a reconnect with a connection_id
 * its node does not know asks every node; the one that kept it answers with
 * the events missed, in parts of at most EVENT_REPLAY_PART_MAX bytes. */
#define EVENT_REPLAY_EVENTS_MAX  256 /* a socket's whole send queue */
#define EVENT_REPLAY_ORIGINS_MAX 64
#define EVENT_REPLAY_PART_MAX    (EVENT_WS_ENCODED_MAX - 4096) /* events' bytes per part */
typedef struct {
    char request_id[ID_LENGTH + 1];
    char node_id[ID_LENGTH + 1]; /* who asks */
    char connection_id[ID_LENGTH + 1];
    char user_id[ID_LENGTH + 1];
    int64_t sequence_number;
} event_replay_request_t;

typedef struct {
    uint32_t count;
    event_text_t items[EVENT_REPLAY_EVENTS_MAX];
} event_text_list_t;

typedef struct {
    uint32_t count;
    event_origin_t items[EVENT_REPLAY_ORIGINS_MAX];
} event_origin_list_t;

typedef enum {
    EVENT_REPLAY_OK = 0,      /* `events` follow; the last part has next_seq and frontier */
    EVENT_REPLAY_REFUSED = 1, /* kept here but not resumable (user, window): a fresh connection */
} event_replay_status_t;

typedef struct {
    char request_id[ID_LENGTH + 1];
    char node_id[ID_LENGTH + 1]; /* who asked: the only node that takes it */
    int64_t part;                /* 0, 1, ... in order */
    bool last;
    int64_t status;   /* event_replay_status_t */
    int64_t next_seq; /* the last part: the seq the new connection goes on with */
    /* The last part: for each origin, the last record the answer covers;
     * the asking node sends what came after. */
    event_origin_list_t frontier;
    event_text_list_t events; /* frames as sent, with their seqs, oldest first */
} event_replay_answer_t;

/* An encoded record, on the stack: no allocation. */
typedef struct {
    size_t len;
    uint8_t data[EVENT_ENCODED_MAX];
} event_buf_t;

/* The type's name ("status_changed"), or "unknown". */
const char *event_type_name(uint16_t type);

int event_encode_status_changed(const event_status_changed_t *ev, event_buf_t *out);
int event_decode_status_changed(const void *data, size_t len, event_status_changed_t *ev);

int event_encode_session_revoked(const event_session_revoked_t *ev, event_buf_t *out);
int event_decode_session_revoked(const void *data, size_t len, event_session_revoked_t *ev);

int event_encode_user_sessions_revoked(const event_user_sessions_revoked_t *ev, event_buf_t *out);
int event_decode_user_sessions_revoked(const void *data, size_t len, event_user_sessions_revoked_t *ev);

int event_encode_user_changed(const event_user_changed_t *ev, event_buf_t *out);
int event_decode_user_changed(const void *data, size_t len, event_user_changed_t *ev);

int event_encode_members_changed(const event_members_changed_t *ev, event_buf_t *out);
int event_decode_members_changed(const void *data, size_t len, event_members_changed_t *ev);

int event_encode_config_reload(const event_config_reload_t *ev, event_buf_t *out);
int event_decode_config_reload(const void *data, size_t len, event_config_reload_t *ev);

/* Into `out`, `cap` bytes (EVENT_WS_ENCODED_MAX will always do); *len set. */
int event_encode_config_saved(const event_config_saved_t *ev, uint8_t *out, size_t cap, size_t *len);
int event_decode_config_saved(const void *data, size_t len, event_config_saved_t *ev);

/* Into `out`, `cap` bytes (EVENT_WS_ENCODED_MAX will always do); *len set. */
int event_encode_ws_event(const event_ws_event_t *ev, uint8_t *out, size_t cap, size_t *len);
int event_decode_ws_event(const void *data, size_t len, event_ws_event_t *ev);

int event_encode_replay_request(const event_replay_request_t *ev, event_buf_t *out);
int event_decode_replay_request(const void *data, size_t len, event_replay_request_t *ev);

/* Into `out`, `cap` bytes (EVENT_WS_ENCODED_MAX will always do for a part
 * within EVENT_REPLAY_PART_MAX); *len set.  The answer struct is large
 * (~7 KB): not for a small stack. */
int event_encode_replay_answer(const event_replay_answer_t *ev, uint8_t *out, size_t cap, size_t *len);
int event_decode_replay_answer(const void *data, size_t len, event_replay_answer_t *ev);

#endif
