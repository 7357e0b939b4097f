/*
 * tests/fuzz/ws_frame.c - src/ws/frame.c on a client's byte stream, read as
 * ws/conn.c reads it: frame after frame, fragments reassembled with the
 * state the parser is given back, until a close, an error or a partial frame.
 * The first byte picks the message limit (MaximumPayloadSizeBytes).  Checked:
 * a frame never claims more than the bytes there are, a message never grows
 * past the limit, control frames stay small and whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ws/frame.h"

static const uint64_t limits[] = {0, 1, 125, 126, 1024, 65535, 65536, 300000};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint64_t max = limits[data[0] % (sizeof(limits) / sizeof(limits[0]))];
    size_t avail = size - 1;
    uint8_t *buf = malloc(avail + 1); /* the parser unmasks in place */
    if (buf == NULL)
        return 0;
    memcpy(buf, data + 1, avail);
    uint8_t frag_op = 0;
    size_t frag_len = 0, off = 0;
    while (off < avail) {
        ws_frame_t f;
        ssize_t n = ws_frame_parse(buf + off, avail - off, frag_op, frag_len, max, &f);
        if (n < 0) {
            if (f.close_code != WS_CLOSE_PROTOCOL_ERROR && f.close_code != WS_CLOSE_TOO_BIG)
                abort();
            break;
        }
        if (n == 0)
            break;
        if ((size_t)n > avail - off || f.payload < buf + off || f.payload + f.len > buf + off + (size_t)n)
            abort();
        off += (size_t)n;
        if (f.op & 0x08) {
            if (!f.fin || f.len > WS_CONTROL_MAX)
                abort();
            if (f.op == WS_OP_CLOSE)
                break;
            continue;
        }
        if (frag_len + f.len > max)
            abort();
        if (frag_op == 0 && f.fin)
            continue; /* a whole message */
        if (frag_op == 0)
            frag_op = f.op;
        frag_len += f.len;
        if (f.fin) {
            frag_op = 0;
            frag_len = 0;
        }
    }
    free(buf);
    return 0;
}
