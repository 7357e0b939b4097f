/*
 * tests/unit/ws/test_frame.c - src/ws/frame.c: client frames parsed and
 * unmasked in every length form, incomplete input waited for, each protocol
 * error refused from the header alone with its close code, the message
 * bound across fragments, and server headers and close bodies encoded.
 */
#include <check.h>
#include <string.h>

#include "ws/frame.h"
#include "../check_main.h"

static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};

/* A masked client frame: first byte `b0`, `len` bytes of `payload` (or of 'x'
 * when NULL), into `out`; its size. */
static size_t client_frame(uint8_t *out, uint8_t b0, const char *payload, size_t len)
{
    size_t h = 2;
    out[0] = b0;
    if (len < 126) {
        out[1] = 0x80 | (uint8_t)len;
    } else if (len <= 0xffff) {
        out[1] = 0x80 | 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        h = 4;
    } else {
        out[1] = 0x80 | 127;
        for (int i = 0; i < 8; i++)
            out[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
        h = 10;
    }
    memcpy(out + h, mask, 4);
    for (size_t i = 0; i < len; i++)
        out[h + 4 + i] = (uint8_t)((payload != NULL ? payload[i] : 'x') ^ mask[i & 3]);
    return h + 4 + len;
}

static uint8_t buf[70000 + 14];

START_TEST(test_text_frame)
{
    ws_frame_t f;
    size_t n = client_frame(buf, 0x81, "hello", 5);
    ck_assert_int_eq(ws_frame_parse(buf, n, 0, 0, 1024, &f), (ssize_t)n);
    ck_assert_uint_eq(f.op, WS_OP_TEXT);
    ck_assert(f.fin);
    ck_assert_uint_eq(f.len, 5);
    ck_assert(memcmp(f.payload, "hello", 5) == 0);
}
END_TEST

START_TEST(test_length_forms)
{
    static const size_t lengths[] = {0, 125, 126, 65535, 65536, 70000};
    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        ws_frame_t f;
        size_t n = client_frame(buf, 0x82, NULL, lengths[i]);
        ck_assert_int_eq(ws_frame_parse(buf, n, 0, 0, 100000, &f), (ssize_t)n);
        ck_assert_uint_eq(f.len, lengths[i]);
        ck_assert(lengths[i] == 0 || (f.payload[0] == 'x' && f.payload[lengths[i] - 1] == 'x'));
    }
}
END_TEST

START_TEST(test_incomplete)
{
    ws_frame_t f;
    size_t n = client_frame(buf, 0x81, NULL, 300);
    for (size_t avail = 0; avail < n; avail++)
        ck_assert_msg(ws_frame_parse(buf, avail, 0, 0, 1024, &f) == 0, "%zu bytes", avail);
}
END_TEST

static uint16_t refused(size_t n, uint8_t frag_op, size_t frag_len, uint64_t max)
{
    ws_frame_t f = {0};
    ck_assert_int_eq(ws_frame_parse(buf, n, frag_op, frag_len, max, &f), -1);
    ck_assert_ptr_nonnull(f.reason);
    return f.close_code;
}

START_TEST(test_protocol_errors)
{
    size_t n = client_frame(buf, 0x81, "x", 1);
    buf[1] &= 0x7f; /* unmasked */
    ck_assert_uint_eq(refused(n, 0, 0, 1024), WS_CLOSE_PROTOCOL_ERROR);
    n = client_frame(buf, 0xc1, "x", 1); /* RSV1 */
    ck_assert_uint_eq(refused(n, 0, 0, 1024), WS_CLOSE_PROTOCOL_ERROR);
    n = client_frame(buf, 0x83, "x", 1); /* reserved data opcode */
    ck_assert_uint_eq(refused(n, 0, 0, 1024), WS_CLOSE_PROTOCOL_ERROR);
    n = client_frame(buf, 0x8b, "x", 1); /* reserved control opcode */
    ck_assert_uint_eq(refused(n, 0, 0, 1024), WS_CLOSE_PROTOCOL_ERROR);
    n = client_frame(buf, 0x09, "x", 1); /* a fragmented ping */
    ck_assert_uint_eq(refused(n, 0, 0, 1024), WS_CLOSE_PROTOCOL_ERROR);
    n = client_frame(buf, 0x89, NULL, 126); /* a ping past 125 bytes */
    ck_assert_uint_eq(refused(n, 0, 0, 1024), WS_CLOSE_PROTOCOL_ERROR);
    n = client_frame(buf, 0x88, "x", 1); /* a close with a one-byte body */
    ck_assert_uint_eq(refused(n, 0, 0, 1024), WS_CLOSE_PROTOCOL_ERROR);
    n = client_frame(buf, 0x80, "x", 1); /* a continuation outside a message */
    ck_assert_uint_eq(refused(n, 0, 0, 1024), WS_CLOSE_PROTOCOL_ERROR);
    n = client_frame(buf, 0x81, "x", 1); /* a new message inside one */
    ck_assert_uint_eq(refused(n, WS_OP_TEXT, 10, 1024), WS_CLOSE_PROTOCOL_ERROR);
    /* refused from the header alone: two bytes say it */
    client_frame(buf, 0xc1, NULL, 100);
    ck_assert_uint_eq(refused(2, 0, 0, 1024), WS_CLOSE_PROTOCOL_ERROR);
}
END_TEST

START_TEST(test_message_bound)
{
    size_t n = client_frame(buf, 0x81, NULL, 1025);
    ck_assert_uint_eq(refused(n, 0, 0, 1024), WS_CLOSE_TOO_BIG);
    ck_assert_uint_eq(refused(4, 0, 0, 1024), WS_CLOSE_TOO_BIG); /* before its payload arrives */
    ws_frame_t f;
    n = client_frame(buf, 0x00, NULL, 24); /* a continuation that just fits, not the last */
    ck_assert_int_eq(ws_frame_parse(buf, n, WS_OP_TEXT, 1000, 1024, &f), (ssize_t)n);
    ck_assert_uint_eq(f.op, WS_OP_CONTINUATION);
    ck_assert(!f.fin);
    n = client_frame(buf, 0x80, NULL, 25); /* and a last one byte longer does not */
    ck_assert_uint_eq(refused(n, WS_OP_TEXT, 1000, 1024), WS_CLOSE_TOO_BIG);
    /* control frames are not part of the message */
    n = client_frame(buf, 0x89, NULL, 100);
    ck_assert_int_eq(ws_frame_parse(buf, n, WS_OP_TEXT, 1024, 1024, &f), (ssize_t)n);
    ck_assert_uint_eq(f.op, WS_OP_PING);
}
END_TEST

START_TEST(test_server_side)
{
    uint8_t h[10];
    ck_assert_uint_eq(ws_frame_header(h, WS_OP_TEXT, 5), 2);
    ck_assert(h[0] == 0x81 && h[1] == 5);
    ck_assert_uint_eq(ws_frame_header(h, WS_OP_BINARY, 300), 4);
    ck_assert(h[0] == 0x82 && h[1] == 126 && h[2] == 1 && h[3] == 44);
    ck_assert_uint_eq(ws_frame_header(h, WS_OP_TEXT, 70000), 10);
    ck_assert(h[1] == 127 && h[7] == 1 && h[8] == 0x11 && h[9] == 0x70);
    ck_assert_uint_eq(ws_frame_header_size(125), 2);
    ck_assert_uint_eq(ws_frame_header_size(65535), 4);
    ck_assert_uint_eq(ws_frame_header_size(65536), 10);
    uint8_t body[WS_CONTROL_MAX];
    ck_assert_uint_eq(ws_frame_close_body(body, WS_CLOSE_POLICY, "invalid token"), 2 + 13);
    ck_assert(body[0] == 0x03 && body[1] == 0xf0 && memcmp(body + 2, "invalid token", 13) == 0);
    char long_reason[300];
    memset(long_reason, 'r', sizeof(long_reason) - 1);
    long_reason[sizeof(long_reason) - 1] = '\0';
    ck_assert_uint_eq(ws_frame_close_body(body, WS_CLOSE_GOING_AWAY, long_reason), WS_CONTROL_MAX);
}
END_TEST

static Suite *frame_suite(void)
{
    Suite *s = suite_create("ws_frame");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_text_frame);
    tcase_add_test(tc, test_length_forms);
    tcase_add_test(tc, test_incomplete);
    tcase_add_test(tc, test_protocol_errors);
    tcase_add_test(tc, test_message_bound);
    tcase_add_test(tc, test_server_side);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(frame_suite());
}
