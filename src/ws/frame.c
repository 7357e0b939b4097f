/*
 * The WebSocket frame codec: chorus's own server side of RFC 6455, without
 * extensions (we use neither h2o's websocket.c nor wslay: see conn.c).
 *
 * In: client frames must be masked, RSV bits clear, control frames
 * unfragmented and <= 125 bytes, a continuation only inside a fragmented
 * message and a data frame only outside one; a message (all its fragments)
 * is bounded by ServiceSettings.MaximumPayloadSizeBytes (1009 past it);
 * anything else malformed is 1002.  The checks run on the header alone, so
 * a bad or oversized frame is refused before its payload arrives, and a
 * frame waiting for its payload is bounded by the limit.  A whole frame is
 * unmasked in place: nothing is copied or allocated here.
 *
 * Out: the server's frames are final (FIN) and unmasked; only their header
 * is encoded here, the caller lays the payload after it.
 *
 * No connection state lives here: the caller passes the fragmentation state
 * it keeps (the message's opcode and length so far) and reassembles.
 */
#include "ws/frame.h"

#include <string.h>

ssize_t ws_frame_parse(uint8_t *p, size_t avail, uint8_t frag_op, size_t frag_len, uint64_t max, ws_frame_t *f)
{
    if (avail < 2)
        return 0;
    bool fin = (p[0] & 0x80) != 0, masked = (p[1] & 0x80) != 0;
    uint8_t op = p[0] & 0x0f;
    uint64_t len = p[1] & 0x7f;
    size_t hlen = len == 126 ? 4 : len == 127 ? 10 : 2;
    if (avail < hlen)
        return 0;
    if (len == 126)
        len = (uint64_t)p[2] << 8 | p[3];
    else if (len == 127)
        for (int i = 0; i < 8; i++)
            len = (i == 0 ? 0 : len << 8) | p[2 + i];
    bool control = (op & 0x08) != 0;
    if ((p[0] & 0x70) != 0 || !masked || (control && (!fin || len > WS_CONTROL_MAX)) ||
        (control && op != WS_OP_CLOSE && op != WS_OP_PING && op != WS_OP_PONG) || (!control && op > WS_OP_BINARY) ||
        (op == WS_OP_CONTINUATION) != (!control && frag_op != 0) || (op == WS_OP_CLOSE && len == 1)) {
        f->close_code = WS_CLOSE_PROTOCOL_ERROR;
        f->reason = "protocol error";
        return -1;
    }
    if (!control && len > max - frag_len) { /* frag_len <= max always */
        f->close_code = WS_CLOSE_TOO_BIG;
        f->reason = "message too big";
        return -1;
    }
    if (avail - hlen < 4 || avail - hlen - 4 < len)
        return 0; /* bounded: len <= MaximumPayloadSizeBytes */
    uint8_t *mask = p + hlen, *payload = mask + 4;
    for (uint64_t i = 0; i < len; i++)
        payload[i] ^= mask[i & 3];
    f->op = op;
    f->fin = fin;
    f->payload = payload;
    f->len = (size_t)len;
    return (ssize_t)(hlen + 4 + len);
}

size_t ws_frame_header_size(uint64_t len)
{
    return len < 126 ? 2 : len <= 0xffff ? 4 : 10;
}

size_t ws_frame_header(uint8_t *h, uint8_t opcode, uint64_t len)
{
    size_t hlen = ws_frame_header_size(len);
    h[0] = 0x80 | opcode; /* FIN */
    if (hlen == 2) {
        h[1] = (uint8_t)len;
    } else if (hlen == 4) {
        h[1] = 126;
        h[2] = (uint8_t)(len >> 8);
        h[3] = (uint8_t)len;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    }
    return hlen;
}

size_t ws_frame_close_body(uint8_t body[WS_CONTROL_MAX], uint16_t code, const char *reason)
{
    size_t n = strlen(reason);
    if (n > WS_CONTROL_MAX - 2)
        n = WS_CONTROL_MAX - 2;
    body[0] = (uint8_t)(code >> 8);
    body[1] = (uint8_t)code;
    memcpy(body + 2, reason, n);
    return n + 2;
}
