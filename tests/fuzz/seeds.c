/*
 * tests/fuzz/seeds.c - writes the seed corpora (tests/fuzz/corpus/<target>/)
 * with the project's own encoders, as the unit tests build their inputs:
 * a valid input or two of each kind a target reads, prefixed with the mode
 * bytes the target takes.  Not a fuzzer: run once, by hand, when a wire
 * format changes (make -f tests/fuzz/fuzz.mk seeds; see README.md), and
 * commit what it wrote.  Usage: seeds CORPUS_DIR
 */
#include <errno.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cluster/config_digest.h"
#include "cluster/frame.h"
#include "cluster/link_wire.h"
#include "cluster/seal.h"
#include "cluster/swim_wire.h"
#include "core/config.h"
#include "core/events.h"

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ID_C "cccccccccccccccccccccccccc"
#define NOW  INT64_C(1700000000000)

static const char *dir;

/* a string literal and its length */
#define S(lit) lit, (sizeof(lit) - 1)

static void put(const char *target, const char *name, const uint8_t *prefix, size_t plen, const void *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof(path), "%s/%s/%s", dir, target, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(prefix, 1, plen, f) != plen || (len > 0 && fwrite(data, 1, len, f) != len) ||
        fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static void put1(const char *target, const char *name, uint8_t mode, const void *data, size_t len)
{
    put(target, name, &mode, 1, data, len);
}

static void need(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "seeds: cannot encode %s\n", what);
        exit(1);
    }
}

/* ---- WebSocket frames (ws_frame) -------------------------------------------------------- */

static size_t client_frame(uint8_t *out, uint8_t b0, const char *payload, size_t len)
{
    static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    size_t h = 2;
    out[0] = b0;
    if (len < 126) {
        out[1] = 0x80 | (uint8_t)len;
    } else {
        out[1] = 0x80 | 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        h = 4;
    }
    memcpy(out + h, mask, 4);
    for (size_t i = 0; i < len; i++)
        out[h + 4 + i] = (uint8_t)((payload != NULL ? payload[i] : 'x') ^ mask[i & 3]);
    return h + 4 + len;
}

static void ws_frames(void)
{
    static uint8_t b[4096];
    size_t n = 0;
    n += client_frame(b + n, 0x81, S("{\"seq\":1,\"action\":\"user_typing\",\"data\":{\"channel_id\":\"x\"}}"));
    put1("ws_frame", "text", 4, b, n);
    n = client_frame(b, 0x01, S("{\"seq\":2,"));
    n += client_frame(b + n, 0x89, S("ping"));
    n += client_frame(b + n, 0x80, S("\"action\":\"ping\"}"));
    n += client_frame(b + n, 0x8a, NULL, 0);
    put1("ws_frame", "fragments_and_ping", 4, b, n);
    n = client_frame(b, 0x82, NULL, 300);
    n += client_frame(b + n, 0x88,
                      "\x03\xe8"
                      "bye",
                      5);
    put1("ws_frame", "binary_300_and_close", 5, b, n);
}

/* ---- ring records (events, msgpack_bounds) -------------------------------------------- */

static void record(const char *name, uint16_t type, const uint8_t *data, size_t len)
{
    char file[64];
    uint8_t origin[EVENT_ORIGIN_SIZE];
    event_origin_t o = {.node_id = ID_C, .seq = 42};
    put1("events", name, (uint8_t)(type - 1), data, len);
    need(event_origin_write(&o, origin) == 0, "an origin");
    snprintf(file, sizeof(file), "%s_from_cluster", name);
    uint8_t mode = (uint8_t)(0x80 | (type - 1));
    uint8_t *both = malloc(sizeof(origin) + len);
    need(both != NULL, "memory");
    memcpy(both, origin, sizeof(origin));
    memcpy(both + sizeof(origin), data, len);
    put("events", file, &mode, 1, both, sizeof(origin) + len);
    free(both);
    put1("msgpack_bounds", name, 4, data, len);
}

/* the ws_event record, also sent on a link (link_frames) */
static uint8_t ws_rec[4096];
static size_t ws_rec_len;

static void records(void)
{
    event_buf_t b;
    event_status_changed_t sc = {.user_id = ID_A, .status = "dnd", .manual = true, .last_activity_at = NOW};
    need(event_encode_status_changed(&sc, &b) == 0, "status_changed");
    record("status_changed", EVENT_STATUS_CHANGED, b.data, b.len);
    event_session_revoked_t sr = {.token = ID_B, .user_id = ID_A};
    need(event_encode_session_revoked(&sr, &b) == 0, "session_revoked");
    record("session_revoked", EVENT_SESSION_REVOKED, b.data, b.len);
    event_user_sessions_revoked_t ur = {.user_id = ID_A};
    need(event_encode_user_sessions_revoked(&ur, &b) == 0, "user_sessions_revoked");
    record("user_sessions_revoked", EVENT_USER_SESSIONS_REVOKED, b.data, b.len);
    event_user_changed_t uc = {.user_id = ID_A, .sessions = true};
    need(event_encode_user_changed(&uc, &b) == 0, "user_changed");
    record("user_changed", EVENT_USER_CHANGED, b.data, b.len);
    event_members_changed_t mc = {.channel_id = ID_B};
    need(event_encode_members_changed(&mc, &b) == 0, "members_changed");
    record("members_changed", EVENT_MEMBERS_CHANGED, b.data, b.len);
    event_config_reload_t cr = {.node_id = ID_C};
    need(event_encode_config_reload(&cr, &b) == 0, "config_reload");
    record("config_reload", EVENT_CONFIG_RELOAD, b.data, b.len);
    event_replay_request_t rq = {
        .request_id = ID_A, .node_id = ID_B, .connection_id = ID_C, .user_id = ID_A, .sequence_number = 7};
    need(event_encode_replay_request(&rq, &b) == 0, "replay_request");
    record("replay_request", EVENT_REPLAY_REQUEST, b.data, b.len);

    static const char post[] = "{\"post\":\"{\\\"id\\\":\\\"x\\\",\\\"message\\\":\\\"hi #tag\\\"}\"}";
    event_ws_event_t we = {.event = "posted", .data = {post, sizeof(post) - 1}, .channel_id = ID_B};
    we.omit_users.count = 1;
    strcpy(we.omit_users.ids[0], ID_C);
    need(event_encode_ws_event(&we, ws_rec, sizeof(ws_rec), &ws_rec_len) == 0, "ws_event");
    record("ws_event", EVENT_WS_EVENT, ws_rec, ws_rec_len);

    static uint8_t big[8192];
    size_t len;
    static const char cfg[] = "{\"ServiceSettings\":{\"SiteURL\":\"http://localhost:8065\"}}";
    event_config_saved_t cs = {.node_id = ID_A, .config = {cfg, sizeof(cfg) - 1}};
    need(event_encode_config_saved(&cs, big, sizeof(big), &len) == 0, "config_saved");
    record("config_saved", EVENT_CONFIG_SAVED, big, len);

    static event_replay_answer_t ra = {.request_id = ID_A, .node_id = ID_B, .part = 0, .last = true, .next_seq = 9};
    ra.frontier.count = 1;
    strcpy(ra.frontier.items[0].node_id, ID_C);
    ra.frontier.items[0].seq = 3;
    ra.events.count = 2;
    ra.events.items[0] = (event_text_t){"{\"event\":\"hello\",\"seq\":1}", 25};
    ra.events.items[1] = (event_text_t){"{\"event\":\"typing\",\"seq\":2}", 26};
    need(event_encode_replay_answer(&ra, big, sizeof(big), &len) == 0, "replay_answer");
    record("replay_answer", EVENT_REPLAY_ANSWER, big, len);

    static const uint8_t nested[] = {0x93, 0x91, 0x90, 0x82, 0xa1, 'k', 0xc3, 0xa1, 'n', 0xc0, 0xd9, 1, 'x'};
    put1("msgpack_bounds", "nested", 4, nested, sizeof(nested));
}

/* ---- SWIM and links (swim_wire, link_wire) ---------------------------------------------- */

static uint8_t state[SWIM_STATE_MAX];
static size_t state_len;

static void swim(void)
{
    static swim_wire_packet_t packet;
    static const uint8_t meta[] = {0x81, 0xa1, 'v', 0x01};
    swim_msg_t m[] = {
        {.type = MSG_PING, .num = 1, .id = ID_A, .reply_host = "10.0.0.1", .reply_host_len = 8, .reply_port = 7946},
        {.type = MSG_ACK, .num = 2},
        {.type = MSG_PING_REQ,
         .num = 3,
         .id = ID_C,
         .host = "node-c.example.com",
         .host_len = 18,
         .port = 7947,
         .reply_host = "[fe80::1%eth0]",
         .reply_host_len = 14,
         .reply_port = 7948},
        {.type = MSG_NACK, .num = 4},
        {.type = MSG_SUSPECT, .num = 5, .id = ID_C, .from = ID_B},
        {.type = MSG_ALIVE, .num = 6, .id = ID_B, .host = "b", .host_len = 1, .port = 1, .meta = meta, .meta_len = 4},
        {.type = MSG_DEAD, .num = 7, .id = ID_C, .from = ID_C},
    };
    const uint8_t *data;
    size_t len;
    swim_wire_packet_begin(&packet, 1400);
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
        need(swim_wire_packet_add(&packet, &m[i]) == 0, "a SWIM message");
    need(swim_wire_packet_finish(&packet, ID_B, &data, &len) == 0, "a SWIM packet");
    put1("swim_wire", "packet", 0, data, len);

    static swim_member_t members[3];
    const char *ids[] = {ID_B, ID_C, ID_A};
    for (size_t i = 0; i < 3; i++) {
        strcpy(members[i].id, ids[i]);
        snprintf(members[i].host, sizeof(members[i].host), "10.0.0.%zu", i + 1);
        members[i].port = 7946;
        members[i].incarnation = (uint32_t)i;
        members[i].state = (swim_state_t)i;
        memcpy(members[i].meta, meta, sizeof(meta));
        members[i].meta_len = sizeof(meta);
    }
    need(swim_wire_encode_state(members, 3, state, sizeof(state), &state_len) == 0, "a SWIM state");
    put1("swim_wire", "state", 1, state, state_len);
}

static void frame_append(msgpack_sbuffer *stream, const msgpack_sbuffer *payload)
{
    uint8_t h[FRAME_HEADER_SIZE];
    frame_write_header(h, (uint32_t)payload->size);
    need(msgpack_sbuffer_write(stream, (const char *)h, sizeof(h)) == 0 &&
             msgpack_sbuffer_write(stream, payload->data, payload->size) == 0,
         "a frame");
}

static void link_frames(void)
{
    config_t cfg;
    static config_digest_t digest;
    json_t *doc = json_object();
    need(doc != NULL && config_load_json(doc, &cfg, NULL) == 0 && config_digest_compute(&cfg, &digest) == 0,
         "the default config's digests");
    json_decref(doc);
    config_free(&cfg);

    msgpack_sbuffer stream, p;
    msgpack_sbuffer_init(&stream);
    msgpack_sbuffer_init(&p);
    need(link_wire_encode_hello(&p, ID_B, &digest, ID_A) == 0, "a hello");
    frame_append(&stream, &p);
    msgpack_sbuffer_clear(&p);
    need(link_wire_encode_state(&p, state, state_len) == 0, "a state frame");
    frame_append(&stream, &p);
    msgpack_sbuffer_clear(&p);
    need(link_wire_encode_event(&p, EVENT_WS_EVENT, ws_rec, ws_rec_len, 12) == 0, "an event frame");
    frame_append(&stream, &p);
    uint8_t mode[2] = {4, 255}; /* the link's limit, 256-byte reads */
    put("link_wire", "hello_state_event", mode, 2, stream.data, stream.size);
    mode[1] = 6; /* 7-byte reads */
    put("link_wire", "hello_state_event_small_reads", mode, 2, stream.data, stream.size);
    msgpack_sbuffer_destroy(&p);
    msgpack_sbuffer_destroy(&stream);
}

/* ---- envelopes (seal) --------------------------------------------------------------------- */

static void envelopes(void)
{
    static const uint8_t key[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
    static const char payload[] = "\x93\x03\x04\xc4\x02hi";
    for (int encrypt = 0; encrypt < 2; encrypt++) {
        seal_t *s;
        uint8_t env[256];
        size_t len = 0;
        /* bits 2-3 = 2: the 32-byte key */
        need(seal_create(&s, "chorus-fuzz", SEAL_CHANNEL_LINK, key, 32, encrypt, ID_B, NOW - 1000) == 0 &&
                 seal_wrap(s, (const uint8_t *)payload, sizeof(payload) - 1, env, sizeof(env), &len, NOW) == 0,
             "an envelope");
        put1("seal", encrypt ? "sealed" : "authenticated", (uint8_t)(8 | encrypt), env, len);
        seal_destroy(s);
        uint8_t wrap[3] = {(uint8_t)(8 | 2 | encrypt), 0, 0};
        put("seal", encrypt ? "wrap_sealed" : "wrap_authenticated", wrap, 3, payload, sizeof(payload) - 1);
        wrap[1] = 250, wrap[2] = 1; /* a flipped tag byte */
        put("seal", encrypt ? "wrap_sealed_flipped" : "wrap_authenticated_flipped", wrap, 3, payload,
            sizeof(payload) - 1);
    }
    put1("seal", "plain", 0,
         "CHP\x0b"
         "chorus-fuzz",
         15);
}

/* ---- text inputs (route_match, text) ------------------------------------------------------ */

static void texts(void)
{
    put1("route_match", "user", 0x19, S("/api/v4/users/aaaaaaaaaaaaaaaaaaaaaaaaaa"));
    put1("route_match", "user_teams", 0x26, S("/api/v4/users/me/teams/bbbbbbbbbbbbbbbbbbbbbbbbbb/channels/"));
    put1("route_match", "five", 0x5a, S("/a/b/c/d/e"));
    static const char *msgs[] = {
        "hello #world and ##double #x #a-b_c.d #ünïcode-tag",
        "search terms: from:alice in:town-square \"exact phrase\" -excluded #tag before:2024-01-01 wild*",
        ("\xe3\x80\x80#tag\xe2\x80\x83#other\xc2\xa0 #\xf0\x9f\x98\x80"
         "emoji #end."),
    };
    static const char *names[] = {"hashtags", "search", "unicode_spaces"};
    for (size_t i = 0; i < 3; i++)
        put("text", names[i], NULL, 0, msgs[i], strlen(msgs[i]));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: seeds CORPUS_DIR\n");
        return 2;
    }
    dir = argv[1];
    ws_frames();
    records();
    swim();
    link_frames();
    envelopes();
    texts();
    return 0;
}
