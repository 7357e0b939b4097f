/* What the files of src/ws share: the per-worker hub, a connection, the
 * membership cache.  Not for use outside src/ws.  The frame codec, which
 * knows no connection, has its own header: ws/frame.h. */
#ifndef CHORUS_WS_INTERNAL_H
#define CHORUS_WS_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "h2o.h"

#include "core/events.h"
#include "core/id.h"
#include "db/router.h"
#include "worker/worker.h"
#include "shm/replay.h"
#include "shm/sessions.h"
#include "ws/throttle.h"
#include "ws/ws.h"

#define WS_SEND_QUEUE_MAX      256         /* messages, as Mattermost */
#define WS_AUTH_TIMEOUT_MS     5000        /* an unauthenticated socket lives this long */
#define WS_PING_MS             60000       /* server ping interval */
#define WS_SILENCE_MS          100000      /* nothing received this long: closed */
#define WS_CLOSING_MS          5000        /* a close handshake the peer never finishes */
#define WS_WRITE_WAIT_MS       30000       /* a write the peer does not take this long: closed, as Mattermost */
#define WS_OUT_BYTES_MAX       (16u << 20) /* bytes waiting to be written, envelopes included */
#define WS_TICK_MS             1000
#define WS_ACTIONS_BURST       50   /* actions a client may send at once (conn.c) */
#define WS_ACTIONS_PER_SECOND  10   /* and after that */
#define WS_SESSION_CHECK_MS    5000 /* an open socket looks its session up this often (session_check.c) */
#define WS_PENDING_MAX         4096 /* ring records waiting for a membership load */
#define WS_PENDING_BYTES       (64u * 1024 * 1024)
#define WS_OFFLINE_GRACE_MS    5000 /* a reconnect within it does not flap the status */
#define WS_OFFLINE_CHECKS_MAX  1024
#define WS_RESUMABLE_MS        (5 * 60000)              /* a dropped connection stays resumable */
#define WS_RESUME_WAIT_MS      5000                     /* a resume waiting for membership loads */
#define WS_FLUSH_SLICE_US      1000                     /* writing time of one flush slice */
#define WS_ORIGINS_MAX         EVENT_REPLAY_ORIGINS_MAX /* nodes whose records this worker tracks */
#define WS_MARKS_MAX           16                       /* delivery points kept, one a tick */
#define WS_CLUSTER_LOOKBACK_MS 10000                    /* a peer's record may reach us this much before the old node */
#define WS_CLUSTER_WAIT_MS     1000                     /* an unknown connection_id waits this long for its node */
#define WS_CLUSTER_POLL_MS     50                       /* how late past that wait a fresh connection may start */
#define WS_CLUSTER_ASKS_MAX    64                       /* answers waiting for membership loads */
#define WS_CLUSTER_ANSWER_MAX  (8u * 1024 * 1024)       /* bytes of missed events one answer carries */

/* An event's envelope up to `"seq":`, shared by every socket it goes to:
 * a socket's queue points at it until written (no copy per socket).  The
 * worker is one thread: a plain count. */
typedef struct ws_shared_s {
    unsigned refs;
    size_t len;
    char text[];
} ws_shared_t;

/* A shared envelope in a socket's queue: it goes right after the first `at`
 * bytes of `out` (its frame header), before what follows (its seq). */
typedef struct {
    ws_shared_t *env;
    size_t at;
} ws_out_seg_t;

typedef struct ws_members_s ws_members_t;
typedef struct ws_pending_s ws_pending_t;
typedef struct ws_remote_s ws_remote_t;
typedef struct ws_ask_s ws_ask_t;

/* The last record of each origin node this worker delivered (or passed):
 * how far each node's stream went at the delivery point. */
typedef struct {
    event_origin_t last; /* node_id "": this node */
    int64_t used_at;     /* monotonic ms: the least recently updated goes first */
} ws_origin_seen_t;

/* Events rendered for a resume, in order. */
typedef struct {
    char *text;
    size_t len;
    uint64_t pos, ring_seq; /* the ring record it came from, in our ring; 0: another node's */
} ws_rendered_t;

typedef struct {
    ws_rendered_t *v;
    size_t n, cap, bytes;
} ws_rendered_list_t;

/* A user whose last socket closed: offline at `due` unless one reopened. */
typedef struct {
    char user_id[ID_LENGTH + 1];
    int64_t due;
} ws_offline_check_t;

typedef struct ws_hub_s {
    worker_t *worker;
    h2o_linklist_t conns;
    unsigned count;
    bool draining;
    h2o_timeout_t tick_timeout;
    h2o_timeout_entry_t tick;
    h2o_linklist_t dirty;        /* connections with frames to write, oldest first */
    h2o_timeout_t flush_timeout; /* zero: runs at the end of this loop turn */
    h2o_timeout_entry_t flush;
    /* A flush writes for at most WS_FLUSH_SLICE_US, then yields to the loop
     * (posts, ring records) and goes on at the next turn (hub.c). */
    h2o_timeout_t flush_more_timeout; /* zero, run before flush_timeout */
    h2o_timeout_entry_t flush_more;
    char hostname[256];
    ws_pending_t *pending_head, *pending_tail; /* ring records, in ring order */
    size_t pending_count, pending_bytes;
    ws_members_t *members;
    ws_offline_check_t offline_checks[WS_OFFLINE_CHECKS_MAX];
    size_t offline_count;
    bool presence_swept;       /* the start-up sweep of OnlineUsers ran */
    uint64_t rec_pos, rec_seq; /* of the ring record being delivered; 0: none */
    bool in_pump;              /* the pending head is being delivered */
    unsigned resuming;         /* connections waiting to resume */
    char node_id[ID_LENGTH + 1];
    ws_origin_seen_t origins[WS_ORIGINS_MAX];
    shm_ring_mark_t marks[WS_MARKS_MAX]; /* delivery points, one a tick: where a cross-node resume looks from */
    unsigned next_mark;
    ws_ask_t *asks; /* other nodes' requests waiting for membership loads */
    unsigned ask_count;
    h2o_timeout_t cluster_wait_timeout; /* WS_CLUSTER_POLL_MS, while a resume waits for the cluster */
    h2o_timeout_entry_t cluster_wait;
} ws_hub_t;

/* A user_typing request waiting for its channel's members to load. */
typedef struct {
    bool waiting;
    int64_t seq;
    char channel_id[ID_LENGTH + 1];
    char parent_id[ID_LENGTH + 1];
} ws_typing_t;

typedef struct ws_conn_s {
    h2o_linklist_t link;       /* in hub->conns */
    h2o_linklist_t dirty_link; /* in hub->dirty while frames wait for a write */
    ws_hub_t *hub;
    h2o_socket_t *sock; /* NULL until the 101 is written */
    char connection_id[ID_LENGTH + 1];
    char user_id[ID_LENGTH + 1]; /* set once authenticated */
    char token[ID_LENGTH + 1];
    bool authenticated;
    bool counted;          /* in the node's open-socket count of its user */
    bool closing;          /* a close frame is queued: nothing else goes out */
    bool close_received;   /* the peer's close came: nothing more is read */
    bool broken;           /* the peer broke the protocol: closed once our close is out */
    bool writing;          /* h2o is writing `wbuf` */
    int64_t writing_since; /* when that write began (monotonic ms) */
    bool upgrade_auth;     /* the token of the upgrade request is being looked up */
    uint8_t frag_op;       /* opcode of the fragmented message being received, 0: none */
    uint64_t seq;          /* of the next event */
    int64_t opened_at, last_recv_at, last_ping_at, closing_at;
    db_routed_t *auth_query;    /* a session lookup in flight */
    db_routed_t *session_query; /* a re-check of the session in flight (session_check.c) */
    int64_t session_expires_at; /* ms (wall clock): the session's expiry as last seen */
    int64_t session_checked_at; /* ms (monotonic): when it was last looked up */
    uint64_t prior_write_lsn;   /* of an expired cache entry the lookup refills */
    int64_t auth_seq;
    ws_typing_t typing;
    ws_bucket_t actions; /* the client's actions (throttle.h) */
    bool resumable;      /* opened with connection_id: kept when dropped */
    bool resuming;       /* a resume waits for membership loads: no live events */
    char resume_id[ID_LENGTH + 1];
    uint64_t resume_from;
    ws_remote_t *remote; /* resuming from another node's answer (replay_cluster.c) */
    int64_t resume_started;
    bool stopped; /* closing: no events after stop_seq */
    bool saved;   /* kept in the replay cache already */
    uint64_t stop_seq, stop_pos;
    /* Output: frames are appended to `out`; a write hands it to h2o as
     * `wbuf`, which lives until the write completes.  Both are freed when
     * empty, so an idle socket holds no buffer.  `queued` counts the
     * messages in both (the send queue of Mattermost's limit). */
    char *out, *wbuf;
    size_t out_len, out_cap, wbuf_len;
    unsigned out_msgs, wbuf_msgs;
    /* Shared envelopes interleaved with `out` (at most one per message, so
     * bounded by the send queue); `out` holds their headers and seqs. */
    ws_out_seg_t *segs;
    unsigned nsegs, segs_cap;
    size_t out_env_bytes; /* the envelopes' text those segments stand for */
    /* A fragmented message being received (at most MaximumPayloadSizeBytes). */
    uint8_t *frag;
    size_t frag_len;
    /* The ring record of each event sent, for a reconnect: seq s at
     * sent[s % sent_cap]; allocated at the first event from the ring, grown
     * by doubling to SHM_REPLAY_KEPT (while smaller, every seq sent is below
     * sent_cap).  NULL: no event came from the ring. */
    shm_replay_sent_t *sent;
    unsigned sent_cap;
} ws_conn_t;

/* conn.c */
/* Queues a text message made of `head` then `tail` (may be empty); false
 * when the queue is full (the socket is then being closed) or closing. */
bool ws_conn_queue(ws_conn_t *c, const char *head, size_t head_len, const char *tail, size_t tail_len);
/* The same with a shared envelope as the head (a reference is taken). */
bool ws_conn_queue_shared(ws_conn_t *c, ws_shared_t *env, const char *tail, size_t tail_len);
void ws_shared_release(ws_shared_t *env);
/* Messages queued and not yet written. */
unsigned ws_conn_queued(const ws_conn_t *c);
/* Queues a close frame; the socket goes once the peer answers (or later). */
void ws_conn_close(ws_conn_t *c, uint16_t code, const char *reason);
/* Has what was queued written at the end of this loop turn, with one write
 * per socket whatever the number of frames.  Never frees the connection. */
void ws_conn_flush(ws_conn_t *c);
/* Writes the queued frames of the connections that have some, oldest first,
 * for at most WS_FLUSH_SLICE_US: true when some are left. */
bool ws_conns_flush_all(ws_hub_t *hub);
/* Authenticated as `user_id` with `token`: queues hello. */
void ws_conn_authenticated(ws_conn_t *c, const char *user_id, const char *token);
/* The same without hello (a resumed connection). */
void ws_conn_set_user(ws_conn_t *c, const char *user_id, const char *token);
/* Queues a reply {status:"OK", seq_reply, data?}; `data` is stolen. */
void ws_conn_reply_ok(ws_conn_t *c, int64_t seq, json_t *data);
void ws_conn_reply_fail(ws_conn_t *c, int64_t seq, const char *id, const char *message, int status);

/* Timeouts and pings of every connection. */
void ws_conns_tick(ws_hub_t *hub, int64_t now);
void ws_conns_close_if(ws_hub_t *hub, bool (*match)(const ws_conn_t *c, const void *arg), const void *arg,
                       uint16_t code, const char *reason);
void ws_conns_destroy_all(ws_hub_t *hub);

/* session_check.c: an open socket's session, checked again on the tick. */
/* Authenticated with session `s`: notes its expiry. */
void ws_session_noted(ws_conn_t *c, const shm_session_t *s);
/* Closes `c` (1000) when its session expired or vanished; looks it up every
 * WS_SESSION_CHECK_MS.  Never frees `c`. */
void ws_session_tick(ws_conn_t *c, int64_t now);
void ws_session_check_cancel(ws_conn_t *c);

/* presence.c: online while a socket is open on the node, offline after the
 * last one closed and a grace period; manual statuses are kept. */
void ws_presence_connected(ws_hub_t *hub, const char *user_id);
void ws_presence_disconnected(ws_hub_t *hub, const char *user_id);
void ws_presence_tick(ws_hub_t *hub, int64_t now);
/* The client's activity report: online when active, away when not (a
 * manual away when `manual`); statuses set by hand otherwise kept. */
void ws_presence_set_activity(ws_hub_t *hub, const char *user_id, bool active, bool manual);

/* actions.c */
void ws_action_dispatch(ws_conn_t *c, const char *action, int64_t seq, json_t *data);
/* A user's channels were loaded: answer the typing requests waiting for them. */
void ws_actions_user_channels_loaded(ws_hub_t *hub, const char *user_id);

/* deliver.c */
/* A record for the sockets; `pos` and `seq`: where it sits in our ring. */
void ws_deliver_record(ws_hub_t *hub, const event_record_t *r, uint64_t pos, uint64_t seq);
/* Runs the pending records that no longer wait. */
void ws_deliver_pump(ws_hub_t *hub);
void ws_deliver_dispose(ws_hub_t *hub);
/* Queues event `ev` to `c` with the connection's next seq (hello, direct). */
void ws_deliver_to(ws_conn_t *c, const event_ws_event_t *ev);
/* A ring record as the event sockets get: 0, 1 when not an event, or <0. */
int ws_deliver_decode(uint16_t type, const void *data, size_t len, event_ws_event_t *ev, char *status_data, size_t cap);
/* Would `c` get `ev`?  Sets *kind / *id when a membership set is needed and
 * is not loaded (false then). */
bool ws_deliver_wants(ws_hub_t *hub, const ws_conn_t *c, const event_ws_event_t *ev, char *kind, const char **id);
/* `ev` as sent with `seq` (malloc'd, *len bytes), or NULL. */
char *ws_deliver_render(const event_ws_event_t *ev, uint64_t seq, size_t *len);
/* The ring point up to which this worker's sockets got their records. */
void ws_deliver_point(ws_hub_t *hub, uint64_t *seq, uint64_t *pos);
/* Notes a record of `origin` passed the delivery point. */
void ws_deliver_seen(ws_hub_t *hub, const event_origin_t *origin);
/* The last record of node `node_id` ("": ours) passed here: its seq, 0 if none. */
uint64_t ws_deliver_seen_seq(const ws_hub_t *hub, const char *node_id);

/* replay.c: reconnects with connection_id and sequence_number. */
/* Reads the upgrade's query: 0, or -1 = close it (connection_id without
 * sequence_number). */
int ws_replay_parse(ws_conn_t *c, h2o_req_t *req);
/* Authenticated at the upgrade as `user_id`: 0 = a fresh connection, 1 =
 * resumed or resuming (no hello). */
int ws_replay_start(ws_conn_t *c, const char *user_id, const char *token);
/* Notes that event `seq` of `c` came from ring record (pos, ring_seq);
 * ring_seq 0: not from the ring.  false when out of memory. */
bool ws_replay_note(ws_conn_t *c, uint64_t seq, uint64_t pos, uint64_t ring_seq);
/* Retries the resumes that waited for membership loads or another node. */
void ws_replay_retry(ws_hub_t *hub);
/* What connection `target` (its user_id and connection_id) missed since
 * seq `from`, from what its old socket left (`kept`, in our node's replay
 * cache): the kept events re-read from our ring, then the ring scanned from
 * the drop point to our delivery point.  Fills `out` (the caller frees it
 * with ws_rendered_free) and *next_seq.  RESUME_DONE, RESUME_WAIT (a
 * membership set is loading: try again) or RESUME_FRESH. */
#define RESUME_FRESH   0
#define RESUME_DONE    1
#define RESUME_WAIT    2
#define RESUME_UNKNOWN 3 /* not kept on this node */
int ws_replay_render(ws_hub_t *hub, const ws_conn_t *target, shm_replay_t *kept, uint64_t from, ws_rendered_list_t *out,
                     uint64_t *next_seq);
/* One record met by a resume's scan (`result`: RESUME_DONE or RESUME_WAIT so
 * far): rendered into `out` with seq *seq (then incremented) when `target`
 * wants it; a membership set still loading makes the resume wait, one that
 * cannot load makes it start afresh.  The new result. */
int ws_replay_scan_one(ws_hub_t *hub, const ws_conn_t *target, const event_ws_event_t *ev, uint64_t pos,
                       uint64_t ring_seq, ws_rendered_list_t *out, uint64_t *seq, int result);
bool ws_rendered_add(ws_rendered_list_t *l, const event_ws_event_t *ev, uint64_t seq, uint64_t pos, uint64_t ring_seq);
void ws_rendered_free(ws_rendered_list_t *l);
/* Where replay.c and replay_cluster.c copy ring records (the worker is one thread). */
extern uint8_t ws_replay_record[SHM_RING_RECORD_MAX];

/* replay_cluster.c: a reconnect whose connection_id another node kept. */
/* Asks the cluster for connection c->resume_id: 1 = asked (c waits), 0 = no
 * other node to ask. */
int ws_replay_cluster_ask(ws_conn_t *c);
/* The answer arrived, or time is up: a RESUME_ value for c. */
int ws_replay_cluster_finish(ws_conn_t *c, int64_t now);
void ws_replay_cluster_forget(ws_conn_t *c); /* c goes: drops what it collected */
void ws_replay_cluster_on_request(ws_hub_t *hub, const event_replay_request_t *rq);
void ws_replay_cluster_on_answer(ws_hub_t *hub, const event_replay_answer_t *answer);
/* Answers waiting for membership loads, and the hub's delivery-point marks. */
void ws_replay_cluster_tick(ws_hub_t *hub, int64_t now);
void ws_replay_cluster_retry(ws_hub_t *hub);
void ws_replay_cluster_dispose(ws_hub_t *hub);
/* The socket is closing or goes: keeps what a reconnect needs (once). */
void ws_replay_save(ws_conn_t *c);

/* members.c: channel ('c') and team ('t') member sets, and a user's
 * channels ('u'), loaded from the database on first need, invalidated by
 * EVENT_MEMBERS_CHANGED. */
typedef enum { WS_MEMBERS_READY, WS_MEMBERS_LOADING, WS_MEMBERS_FAILED } ws_members_state_t;
int ws_members_create(ws_hub_t *hub);
void ws_members_destroy(ws_hub_t *hub);
/* The state of `kind`'s `id` set, starting a load when absent. */
ws_members_state_t ws_members_get(ws_hub_t *hub, char kind, const char *id);
/* Is the set loaded (without starting a load)? */
bool ws_members_ready(ws_hub_t *hub, char kind, const char *id);
/* Only when READY: is `user_id` a member (for 'u': is channel `user_id` one
 * of user `id`'s)? */
bool ws_members_has(ws_hub_t *hub, char kind, const char *id, const char *user_id);
/* Forgets a set (a load in flight is redone); kind 0 / id NULL: all. */
void ws_members_invalidate(ws_hub_t *hub, char kind, const char *id);
/* Drops a FAILED entry so that the next need reloads it. */
void ws_members_forget_failed(ws_hub_t *hub, char kind, const char *id);

#endif
