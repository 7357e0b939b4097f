/* The WebSocket frame codec (RFC 6455, server side, no extensions): client
 * frames parsed and unmasked in place, server frame headers encoded.  It
 * knows bytes only, no connection: conn.c holds the state it is given and
 * acts on what it answers.  Not for use outside src/ws. */
#ifndef CHORUS_WS_FRAME_H
#define CHORUS_WS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WS_CONTROL_MAX 125 /* payload of a control frame (RFC 6455) */

/* Frame opcodes (RFC 6455 5.2). */
enum { WS_OP_CONTINUATION = 0, WS_OP_TEXT = 1, WS_OP_BINARY = 2, WS_OP_CLOSE = 8, WS_OP_PING = 9, WS_OP_PONG = 10 };

/* Close codes (RFC 6455 7.4.1, and 1012 of the IANA registry). */
enum {
    WS_CLOSE_NORMAL = 1000,          /* the session it ran on ended */
    WS_CLOSE_GOING_AWAY = 1001,      /* the worker drains, or the client fell silent */
    WS_CLOSE_PROTOCOL_ERROR = 1002,  /* a malformed frame */
    WS_CLOSE_UNSUPPORTED = 1003,     /* a message we do not take (binary, bad JSON) */
    WS_CLOSE_POLICY = 1008,          /* authentication failed, or a limit passed */
    WS_CLOSE_TOO_BIG = 1009,         /* past the message limit */
    WS_CLOSE_INTERNAL_ERROR = 1011,  /* out of memory */
    WS_CLOSE_SERVICE_RESTART = 1012, /* fell a ring behind: reconnect and resume */
};

/* A client frame as parsed; on a protocol error, the close it calls for. */
typedef struct {
    uint8_t op;
    bool fin;
    uint8_t *payload; /* unmasked, in the input buffer */
    size_t len;
    uint16_t close_code; /* WS_CLOSE_PROTOCOL_ERROR or WS_CLOSE_TOO_BIG */
    const char *reason;  /* of the close, a constant string */
} ws_frame_t;

/* Parses and unmasks in place the client frame at `p` (`avail` bytes), in a
 * message whose fragments so far had opcode `frag_op` (0: none) and
 * `frag_len` bytes, of at most `max` bytes in all (frag_len <= max): its
 * size, 0 while incomplete, or -1 on a protocol error (close_code, reason).
 * An error is answered as soon as the header shows it. */
ssize_t ws_frame_parse(uint8_t *p, size_t avail, uint8_t frag_op, size_t frag_len, uint64_t max, ws_frame_t *f);

/* The size of a server frame's header for a `len`-byte payload. */
size_t ws_frame_header_size(uint64_t len);
/* Writes at `h` the header of an unmasked final frame: its size. */
size_t ws_frame_header(uint8_t *h, uint8_t opcode, uint64_t len);

/* Writes at `body` the payload of a close frame: `code`, then `reason` cut
 * to fit a control frame; its size. */
size_t ws_frame_close_body(uint8_t body[WS_CONTROL_MAX], uint16_t code, const char *reason);

#endif
