/* WebSocket frames and the connection (http/websocket/): frame heads, masking, the accept
 * key, and a server-side tp_ws over a socketpair fed raw frames by the test, checking what
 * it delivers and the Close it answers with for each protocol violation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/status.h"
#include "core/stream.h"
#include "http/websocket/frame.h"
#include "http/websocket/websocket.h"
#include "tests/unit/suites.h"

START_TEST(head_round_trip)
{
    static const uint64_t lens[] = {0, 1, 125, 126, 127, 65535, 65536, 1ull << 32};
    static const size_t heads[] = {2, 2, 2, 4, 4, 4, 10, 10};
    static const uint8_t mask[4] = {1, 2, 3, 4};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
        for (int masked = 0; masked < 2; masked++) {
            uint8_t b[TP_WS_MAX_HEAD];
            size_t k = tp__ws_frame_write_head(b, TP_WS_OP_BINARY, masked, true, lens[i],
                                               masked ? mask : NULL);
            ck_assert_uint_eq(k, heads[i] + (masked ? 4 : 0));
            tp_ws_frame f;
            for (size_t cut = 0; cut < k; cut++) /* a partial head asks for more */
                ck_assert_int_eq(tp__ws_frame_read_head(b, cut, &f), 0);
            ck_assert_int_eq(tp__ws_frame_read_head(b, k, &f), 1);
            ck_assert_uint_eq(f.len, lens[i]);
            ck_assert_uint_eq(f.head_len, k);
            ck_assert_int_eq(f.fin, masked);
            ck_assert_uint_eq(f.rsv, 4);
            ck_assert_uint_eq(f.opcode, TP_WS_OP_BINARY);
            ck_assert_int_eq(f.masked, masked);
            if (masked)
                ck_assert_mem_eq(f.mask, mask, 4);
        }
}
END_TEST

START_TEST(length_msb_refused)
{
    uint8_t b[10] = {0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1};
    tp_ws_frame f;
    ck_assert_int_eq(tp__ws_frame_read_head(b, sizeof(b), &f), -1);
}
END_TEST

START_TEST(mask_offsets)
{
    static const uint8_t mask[4] = {0x11, 0x22, 0x33, 0x44};
    uint8_t src[37], whole[37], pieces[37];
    for (size_t i = 0; i < sizeof(src); i++)
        src[i] = (uint8_t)(i * 7);
    for (size_t i = 0; i < sizeof(src); i++)
        whole[i] = src[i] ^ mask[i & 3];
    for (size_t cut = 0; cut <= sizeof(src); cut++) { /* any split point, any alignment */
        tp__ws_mask_copy(pieces, src, cut, mask, 0);
        tp__ws_mask_copy(pieces + cut, src + cut, sizeof(src) - cut, mask, cut);
        ck_assert_mem_eq(pieces, whole, sizeof(src));
    }
    memcpy(pieces, src, sizeof(src)); /* in place */
    tp__ws_mask_copy(pieces, pieces, sizeof(src), mask, 0);
    ck_assert_mem_eq(pieces, whole, sizeof(src));
}
END_TEST

START_TEST(accept_key_rfc_example)
{
    char out[29];
    tp_ws_accept_key(TP_SLICE_LIT("dGhlIHNhbXBsZSBub25jZQ=="), out);
    ck_assert_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}
END_TEST

START_TEST(close_codes)
{
    static const unsigned ok[] = {1000, 1001, 1002, 1003, 1007, 1011, 1012, 1014, 3000, 4999};
    static const unsigned bad[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        ck_assert_msg(tp__ws_close_code_valid(ok[i]), "%u", ok[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!tp__ws_close_code_valid(bad[i]), "%u", bad[i]);
}
END_TEST

/* ---- a server connection fed raw frames --------------------------------------------------------
 */

static struct {
    tp_loop *loop;
    int peer;
    char got[256]; /* messages seen: "T:text|B:len|P:ping|" */
    int closes, close_code;
    bool hold; /* on_message answers TP_AGAIN */
    tp_ws *ws;
} W;

static void note(const char *fmt, const char *tag, size_t n, const char *p)
{
    size_t k = strlen(W.got);
    snprintf(W.got + k, sizeof(W.got) - k, fmt, tag, (int)n, p);
}

static int ws_message(tp_ws *ws, tp_slice m, bool binary, void *arg)
{
    (void)ws, (void)arg;
    if (binary) {
        char len[24];
        snprintf(len, sizeof(len), "%zu", m.n);
        note("%s%.*s|", "B:", strlen(len), len);
    } else {
        note("%s%.*s|", "T:", m.n, m.p);
    }
    if (!binary && m.n >= 4 && !memcmp(m.p, "echo", 4))
        tp_ws_write_message(ws, m.p, m.n, false, NULL, NULL);
    return W.hold ? TP_AGAIN : TP_OK;
}

static void ws_ping(tp_ws *ws, tp_slice d, void *arg)
{
    (void)ws, (void)arg;
    note("%s%.*s|", "P:", d.n, d.p);
}

static void ws_close(tp_ws *ws, int code, tp_slice reason, void *arg)
{
    (void)ws, (void)reason, (void)arg;
    W.closes++;
    W.close_code = code;
    tp_loop_stop(W.loop);
}

static const tp_ws_callbacks cbs = {
    .on_message = ws_message, .on_ping = ws_ping, .on_close = ws_close};

/* Appends a client frame (masked unless unmasked) to b at *n. */
static void frame(uint8_t *b, size_t *n, unsigned first_byte, const char *p, size_t len,
                  bool unmasked)
{
    static const uint8_t mask[4] = {0xa1, 0xb2, 0xc3, 0xd4};
    size_t k = tp__ws_frame_write_head(b + *n, first_byte & 0x0f, first_byte & 0x80,
                                       first_byte & 0x40, len, unmasked ? NULL : mask);
    b[*n] = (uint8_t)first_byte; /* RSV2/RSV3 as given */
    if (unmasked)
        memcpy(b + *n + k, p, len);
    else
        tp__ws_mask_copy(b + *n + k, (const uint8_t *)p, len, mask, 0);
    *n += k + len;
}

static void stop_cb(tp_loop *loop, void *arg)
{
    (void)arg;
    tp_loop_stop(loop);
}

/* Runs a server connection on the bytes in, the peer shutting down its sending side after
 * them (so the server's close ends without a linger); returns what the server wrote back (in
 * out, at most cap bytes). */
static size_t run_ws(const uint8_t *in, size_t n, const tp_ws_opts *o, uint8_t *out, size_t cap)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    memset(&W, 0, sizeof(W));
    W.loop = tp_loop_new();
    W.peer = sv[1];
    ck_assert_int_eq(write(sv[1], in, n), (ssize_t)n);
    shutdown(sv[1], SHUT_WR);
    tp_stream *s = tp_stream_new(W.loop, sv[0], NULL);
    W.ws = tp_ws_new(s, o, &cbs, NULL);
    tp_ws_start(W.ws);
    tp_loop_call_later(W.loop, 10, stop_cb, NULL);
    tp_loop_run(W.loop);
    size_t got = 0;
    ssize_t r;
    while (got < cap && (r = recv(sv[1], out + got, cap - got, MSG_DONTWAIT)) > 0)
        got += (size_t)r;
    close(sv[1]);
    if (W.closes == 0) { /* still open (a held message): close it */
        tp_ws_abort(W.ws);
        tp_loop_call_later(W.loop, 10, stop_cb, NULL);
        tp_loop_run(W.loop);
    }
    ck_assert_int_eq(W.closes, 1);
    tp_loop_free(W.loop);
    return got;
}

/* The close code of the first Close frame in out (0 if none). */
static unsigned close_sent(const uint8_t *out, size_t n)
{
    size_t at = 0;
    tp_ws_frame f;
    while (tp__ws_frame_read_head(out + at, n - at, &f) == 1) {
        if (f.opcode == TP_WS_OP_CLOSE)
            return f.len >= 2 ? (unsigned)out[at + f.head_len] << 8 | out[at + f.head_len + 1]
                              : 1005;
        at += f.head_len + f.len;
    }
    return 0;
}

static const struct violation {
    const char *name;
    unsigned first; /* first byte of the offending frame */
    size_t len;
    bool unmasked;
    unsigned code; /* the Close the server sends */
} violations[] = {
    {"unmasked frame", 0x81, 3, true, 1002},
    {"RSV1 without deflate", 0xc1, 3, false, 1002},
    {"RSV2", 0xa1, 3, false, 1002},
    {"RSV3", 0x91, 3, false, 1002},
    {"opcode 3", 0x83, 3, false, 1002},
    {"opcode 0xb", 0x8b, 3, false, 1002},
    {"fragmented ping", 0x09, 3, false, 1002},
    {"ping of 126 bytes", 0x89, 126, false, 1002},
    {"continuation first", 0x80, 3, false, 1002},
    {"message too big", 0x82, 2000, false, 1009},
};

START_TEST(violations_close)
{
    const struct violation *v = &violations[_i];
    static char payload[2000];
    memset(payload, 'x', sizeof(payload));
    uint8_t in[4096], out[4096];
    size_t n = 0;
    frame(in, &n, v->first, payload, v->len, v->unmasked);
    tp_ws_opts o = {.max_message_size = 1000};
    size_t got = run_ws(in, n, &o, out, sizeof(out));
    ck_assert_msg(close_sent(out, got) == v->code, "%s: close %u", v->name, close_sent(out, got));
    ck_assert_msg(W.got[0] == 0, "%s: delivered %s", v->name, W.got);
}
END_TEST

START_TEST(messages_and_control)
{
    uint8_t in[4096], out[4096];
    size_t n = 0;
    frame(in, &n, 0x81, "hello", 5, false);
    frame(in, &n, 0x01, "frag", 4, false);     /* text, not final */
    frame(in, &n, 0x89, "pi", 2, false);       /* a ping between the fragments */
    frame(in, &n, 0x80, "ment", 4, false);     /* final continuation */
    frame(in, &n, 0x82, "\x00\x01", 2, false); /* binary */
    frame(in, &n, 0x81, "echo!", 5, false);
    frame(in, &n, 0x88,
          "\x03\xe8"
          "bye",
          5, false); /* Close 1000 "bye" */
    tp_ws_opts o = {0};
    size_t got = run_ws(in, n, &o, out, sizeof(out));
    ck_assert_str_eq(W.got, "T:hello|P:pi|T:fragment|B:2|T:echo!|");
    ck_assert_int_eq(W.close_code, 1000);
    /* back: the pong, the echo, the Close echoing the code only */
    static const uint8_t want[] = {0x8a, 2,   'p', 'i',  0x81, 5,    'e', 'c',
                                   'h',  'o', '!', 0x88, 2,    0x03, 0xe8};
    ck_assert_uint_eq(got, sizeof(want));
    ck_assert_mem_eq(out, want, sizeof(want));
}
END_TEST

START_TEST(bad_close_frames)
{
    static const struct {
        const char *payload;
        size_t n;
        unsigned code;
    } cases[] = {
        {"\x03", 1, 1002},         /* one byte */
        {"\x03\xed", 2, 1002},     /* 1005 may not be sent */
        {"\x03\xe8\xff", 3, 1007}, /* reason not UTF-8 */
        {"\x0b\xb8ok", 4, 3000},   /* fine: echoed */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t in[256], out[256];
        size_t n = 0;
        frame(in, &n, 0x88, cases[i].payload, cases[i].n, false);
        tp_ws_opts o = {0};
        size_t got = run_ws(in, n, &o, out, sizeof(out));
        ck_assert_msg(close_sent(out, got) == cases[i].code, "case %zu: %u", i,
                      close_sent(out, got));
    }
}
END_TEST

START_TEST(invalid_utf8_text)
{
    uint8_t in[256], out[256];
    size_t n = 0;
    frame(in, &n, 0x01, "ok\xc3", 3, false); /* split character: fine across fragments */
    frame(in, &n, 0x80, "\xa9", 1, false);
    frame(in, &n, 0x81, "bad\xff", 4, false);
    tp_ws_opts o = {0};
    size_t got = run_ws(in, n, &o, out, sizeof(out));
    ck_assert_str_eq(W.got, "T:ok\xc3\xa9|");
    ck_assert_uint_eq(close_sent(out, got), 1007);
}
END_TEST

START_TEST(peer_leaves_without_close)
{
    uint8_t in[64], out[64];
    size_t n = 0;
    frame(in, &n, 0x81, "hi", 2, false);
    tp_ws_opts o = {0};
    run_ws(in, n, &o, out, sizeof(out));
    ck_assert_str_eq(W.got, "T:hi|");
    ck_assert_int_eq(W.close_code, TP_WS_ABNORMAL);
}
END_TEST

START_TEST(held_message_stops_reading)
{
    uint8_t in[64], out[64];
    size_t n = 0;
    frame(in, &n, 0x81, "one", 3, false);
    frame(in, &n, 0x81, "two", 3, false);
    W.hold = true;
    tp_ws_opts o = {0};
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    memset(&W, 0, sizeof(W));
    W.hold = true;
    W.loop = tp_loop_new();
    ck_assert_int_eq(write(sv[1], in, n), (ssize_t)n);
    W.ws = tp_ws_new(tp_stream_new(W.loop, sv[0], NULL), &o, &cbs, NULL);
    tp_ws_start(W.ws);
    tp_loop_call_later(W.loop, 0.2, stop_cb, NULL);
    tp_loop_run(W.loop);
    ck_assert_str_eq(W.got, "T:one|"); /* held: the second waits */
    W.hold = false;
    tp_ws_resume(W.ws);
    tp_loop_call_later(W.loop, 0.2, stop_cb, NULL);
    tp_loop_run(W.loop);
    ck_assert_str_eq(W.got, "T:one|T:two|");
    close(sv[1]);
    tp_loop_run(W.loop); /* EOF: on_close stops the loop */
    ck_assert_int_eq(W.closes, 1);
    (void)out;
    tp_loop_free(W.loop);
}
END_TEST

Suite *websocket_suite(void)
{
    Suite *s = suite_create("websocket");
    TCase *tc = tcase_create("frames");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, head_round_trip);
    tcase_add_test(tc, length_msb_refused);
    tcase_add_test(tc, mask_offsets);
    tcase_add_test(tc, accept_key_rfc_example);
    tcase_add_test(tc, close_codes);
    suite_add_tcase(s, tc);
    tc = tcase_create("connection");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_loop_test(tc, violations_close, 0, sizeof(violations) / sizeof(violations[0]));
    tcase_add_test(tc, messages_and_control);
    tcase_add_test(tc, bad_close_frames);
    tcase_add_test(tc, invalid_utf8_text);
    tcase_add_test(tc, peer_leaves_without_close);
    tcase_add_test(tc, held_message_stops_reading);
    suite_add_tcase(s, tc);
    return s;
}
