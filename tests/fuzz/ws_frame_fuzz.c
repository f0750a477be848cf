/* libFuzzer target for the WebSocket frame reader (http/websocket/conn.c, frame.c) and the
 * permessage-deflate inflater (deflate.c). The input's first two bytes choose the setup, the
 * rest is what the peer sends: it is written to the far end of a socketpair whose near end is
 * a tp_ws, and the loop runs until the connection has closed (the far end shuts down its
 * writing side after the input, so it always does).
 *
 *   byte 0: bit 0 client side (frames from the server come unmasked), bit 1 permessage-deflate,
 *           bit 2 the peer's no_context_takeover, bit 3 a small max_message_size (1000),
 *           bits 4-5 the peer's window bits (15, 8, 9, 12), bits 6-7 the stream's read chunk
 *           (64 KiB, 1, 7, 509 bytes: frames split anywhere)
 *   byte 1: bit 0 allow_unmasked, bit 1 on_message answers TP_AGAIN and resumes from the loop,
 *           bit 2 every message is echoed (through the deflater when negotiated), bit 3
 *           tp_ws_close after the first message, bit 4 on_message fails (TP_ERROR) from the
 *           second message on, bit 5 on_ping starts the close handshake (1001) and on_pong
 *           pings back
 *
 * Checks more than "no crash": on_close runs exactly once and the connection closes within
 * the deadline; every text message is valid UTF-8 and no message exceeds max_message_size;
 * what we write back is a sequence of well-formed frames, masked exactly when we are the
 * client, with nothing after our Close and a valid close code in it. */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/status.h"
#include "core/stream.h"
#include "http/websocket/frame.h"
#include "http/websocket/websocket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
    tp_loop *loop;
    int peer;
    bool client, hold, echo, close_first, error_second, close_on_ping;
    size_t max;
    int closes, messages, pending;
    tp_buf out; /* what the tp_ws wrote */
} F;

static void stop(tp_loop *loop, void *arg)
{
    (void)arg;
    tp_loop_stop(loop);
}

static void nothing(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
}

static void resume(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_ws *ws = arg;
    F.pending--;
    tp_ws_resume(ws);
    tp_ws_unref(ws);
}

static int on_message(tp_ws *ws, tp_slice m, bool binary, void *arg)
{
    (void)arg;
    assert(F.closes == 0);
    assert(m.n <= F.max);
    assert(binary || tp_utf8_valid(m));
    if (F.echo) {
        int r = tp_ws_write_message(ws, m.p, m.n, binary, NULL, NULL);
        assert(r == 0 || r == -EPIPE);
    }
    if (F.close_first && F.messages == 0)
        tp_ws_close(ws, 1000, "bye");
    F.messages++;
    if (F.error_second && F.messages >= 2)
        return TP_ERROR;
    if (!F.hold)
        return TP_OK;
    tp_ws_ref(ws);
    F.pending++;
    tp_loop_add_callback(F.loop, resume, ws);
    return TP_AGAIN;
}

static void on_ping(tp_ws *ws, tp_slice data, void *arg)
{
    (void)arg;
    assert(data.n <= TP_WS_MAX_CONTROL);
    if (F.close_on_ping) {
        int r = tp_ws_close(ws, 1001, "pinged");
        assert(r == 0 || r == -EPIPE);
    }
}

static void on_pong(tp_ws *ws, tp_slice data, void *arg)
{
    (void)arg;
    assert(data.n <= TP_WS_MAX_CONTROL);
    if (F.close_on_ping) {
        int r = tp_ws_ping(ws, data.p, data.n);
        assert(r == 0 || r == -EPIPE);
    }
}

static void on_close(tp_ws *ws, int code, tp_slice reason, void *arg)
{
    (void)ws, (void)arg;
    F.closes++;
    assert(F.closes == 1);
    assert(code == TP_WS_NO_STATUS || code == TP_WS_ABNORMAL ||
           tp__ws_close_code_valid((unsigned)code));
    assert(reason.n <= TP_WS_MAX_CONTROL - 2 && tp_utf8_valid(reason));
    tp_loop_add_callback(F.loop, stop, NULL); /* after a pending resume */
}

static void drain(tp_loop *loop, int fd, unsigned events, void *arg)
{
    (void)events, (void)arg;
    char b[65536];
    ssize_t r = recv(fd, b, sizeof(b), MSG_DONTWAIT);
    if (r > 0)
        tp_buf_append(&F.out, b, (size_t)r);
    else if (r == 0)
        tp_loop_remove_fd(loop, fd);
}

/* What we wrote back: whole frames, masked exactly on the client, a valid Close last. */
static void check_output(void)
{
    const uint8_t *p = (const uint8_t *)(F.out.len ? tp_buf_data(&F.out) : "");
    size_t n = F.out.len, at = 0;
    bool closed = false;
    tp_ws_frame f;
    while (at < n) {
        assert(!closed);
        assert(tp__ws_frame_read_head(p + at, n - at, &f) == 1);
        assert(f.masked == F.client && f.fin && f.len <= n - at - f.head_len);
        assert(f.opcode <= TP_WS_OP_BINARY || (f.opcode >= TP_WS_OP_CLOSE && f.len <= 125));
        if (f.opcode == TP_WS_OP_CLOSE && f.len) {
            uint8_t c[2] = {p[at + f.head_len], p[at + f.head_len + 1]};
            if (f.masked)
                tp__ws_mask_copy(c, c, 2, f.mask, 0);
            assert(f.len >= 2 && tp__ws_close_code_valid((unsigned)c[0] << 8 | c[1]));
        }
        closed = f.opcode == TP_WS_OP_CLOSE;
        at += f.head_len + (size_t)f.len;
    }
}

static const int bits[4] = {15, 8, 9, 12};
static const size_t chunks[4] = {65536, 1, 7, 509};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 65536)
        return 0;
    uint8_t a = data[0], b = data[1];
    memset(&F, 0, sizeof(F));
    tp_log_set_level(TP_LOG_NONE); /* "on_message failed" is expected here */
    F.client = a & 1;
    F.hold = b & 2;
    F.echo = b & 4;
    F.close_first = b & 8;
    F.error_second = b & 16;
    F.close_on_ping = b & 32;
    tp_ws_opts o = {.is_client = F.client, .allow_unmasked = b & 1};
    o.max_message_size = F.max = (a & 8) ? 1000 : 1u << 20;
    if (a & 2) {
        o.deflate = tp_ws_deflate_defaults();
        bool nct = a & 4;
        int wb = bits[(a >> 4) & 3];
        if (F.client) {
            o.deflate.server_no_context_takeover = nct;
            o.deflate.server_max_window_bits = wb;
        } else {
            o.deflate.client_no_context_takeover = nct;
            o.deflate.client_max_window_bits = wb;
        }
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        abort();
    int sndbuf = 1 << 20;
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    if (write(sv[1], data + 2, size - 2) != (ssize_t)(size - 2))
        abort();
    shutdown(sv[1], SHUT_WR);
    F.loop = tp_loop_new();
    F.peer = sv[1];
    tp_loop_add_fd(F.loop, sv[1], TP_READ, drain, NULL);
    tp_stream_opts so = {.read_chunk_size = chunks[a >> 6]};
    tp_stream *s = tp_stream_new(F.loop, sv[0], &so);
    static const tp_ws_callbacks cb = {
        .on_message = on_message, .on_ping = on_ping, .on_pong = on_pong, .on_close = on_close};
    tp_ws *ws = tp_ws_new(s, &o, &cb, NULL);
    tp_ws_start(ws);
    if (tp_loop_run_sync(F.loop, nothing, NULL, 30) == -ETIMEDOUT) {
        fprintf(stderr, "ws_frame_fuzz: the connection did not close within 30 s\n");
        abort();
    }
    assert(F.closes == 1 && F.pending == 0);
    /* the rest of what was written, now that the near end is closed */
    char buf[65536];
    ssize_t r;
    while ((r = recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT)) > 0)
        tp_buf_append(&F.out, buf, (size_t)r);
    tp_loop_remove_fd(F.loop, sv[1]);
    close(sv[1]);
    check_output();
    tp_buf_free(&F.out);
    tp_loop_free(F.loop);
    return 0;
}
