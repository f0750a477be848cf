/* A WebSocket connection over an IOStream (websocket.h): frames in and out, messages,
 * control frames, the close handshake, pings, permessage-deflate.
 *
 * Reading is a raw data handler on the stream. A whole unfragmented, uncompressed frame that
 * is already in the read buffer is unmasked in place and handed to on_message without a
 * copy (the echo and chat case); anything else is assembled in ws->msg, a frame's payload
 * consumed as it arrives, so the stream's buffer never has to hold a whole large message.
 *
 * Life cycle (the state changes only in set_state; debug builds assert each step):
 *
 *   NEW ── tp_ws_start ──▶ OPEN ── a Close sent (tp_ws_close, a protocol failure) ──▶ CLOSING
 *   NEW, OPEN, CLOSING ── the stream closed (handshake over, abort, peer gone) ──▶ CLOSED
 *
 * on_close runs once, on the step to CLOSED, from the stream's close callback. References:
 * one held by the stream until then, one per queued write callback, one around every call
 * out to the user, and the user's tp_ws_ref; ws_unref frees at zero, the one place a tp_ws's
 * memory goes.
 *
 * zlib's state (some 300 KB at the default parameters) is made on the first compressed message
 * each way, not at the handshake: an idle connection that negotiated compression costs what
 * one without it does. */
#include "http/websocket/websocket.h"

#include <assert.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/status.h"
#include "core/escape.h"
#include "http/websocket/frame.h"

#define DEFAULT_MAX_MESSAGE (10u * 1024 * 1024)
#define DEFAULT_MAX_WRITE   (64u * 1024 * 1024)
#define DEFAULT_CLOSE_WAIT  5.0
/* After the close handshake the sending side is shut down and input drained for at most
 * this long, so the peer reads our Close before the socket goes. */
#define CLOSE_LINGER 1.0
/* A message written with one copy into the stream when head + payload fit here. */
#define SMALL_WRITE 4096
/* Assembly buffers larger than this are freed after each message (idle connections hold
 * none of them). */
#define KEEP_BUFFER 16384

enum ws_state { WS_NEW, WS_OPEN, WS_CLOSING, WS_CLOSED };

struct tp_ws {
    tp_stream *s; /* NULL once CLOSED */
    tp_loop *loop;
    tp_ws_callbacks cb;
    void *arg;
    tp_ws_opts o;
    uint8_t state; /* enum ws_state */
    bool sent_close, got_close, held, stopped, pong_seen;
    bool reading; /* tp_ws_start installed the data handler */
    unsigned refs;
    tp_ws_frame f;  /* the frame being read, when in_frame */
    uint64_t f_got; /* its payload bytes read so far */
    bool in_frame;
    uint8_t msg_op;    /* TEXT or BINARY while a message is assembled, else 0 */
    bool msg_deflated; /* the message in progress is compressed (RSV1) */
    uint64_t msg_wire; /* payload bytes of its frames so far (before inflating) */
    tp_buf msg;        /* the message in progress (inflated) */
    tp_buf scratch;    /* a compressed frame's unmasked bytes before inflating */
    uint8_t ctl[TP_WS_MAX_CONTROL];
    int close_code; /* the peer's Close: its code, TP_WS_NO_STATUS for none */
    uint8_t reason_len;
    char reason[TP_WS_MAX_CONTROL];
    tp_timer close_timer, ping_timer;
    bool ping_waiting; /* ping_timer is the pong deadline */
    double ping_sent_at;
    tp_ws_deflater *def;
    tp_ws_inflater *inf;
};

static void set_state(tp_ws *ws, enum ws_state to)
{
#ifndef NDEBUG
    static const uint8_t ok[] = {
        [WS_NEW] = 1u << WS_OPEN | 1u << WS_CLOSING | 1u << WS_CLOSED,
        [WS_OPEN] = 1u << WS_CLOSING | 1u << WS_CLOSED,
        [WS_CLOSING] = 1u << WS_CLOSED,
        [WS_CLOSED] = 0,
    };
    assert(ok[ws->state] & (1u << to));
#endif
    ws->state = (uint8_t)to;
}

void tp_ws_ref(tp_ws *ws)
{
    ws->refs++;
}

static void ws_free(tp_ws *ws)
{
    tp_buf_free(&ws->msg);
    tp_buf_free(&ws->scratch);
    if (ws->def)
        tp_ws_deflater_free(ws->def);
    if (ws->inf)
        tp_ws_inflater_free(ws->inf);
    tp_free(ws);
}

void tp_ws_unref(tp_ws *ws)
{
    assert(ws->refs > 0);
    if (--ws->refs == 0) {
        assert(ws->state == WS_CLOSED);
        ws_free(ws);
    }
}

/* The kernel or OpenSSL failed where nothing can go on: as the allocator does. */
_Noreturn static void die(const char *what)
{
    tp_log_error("websocket: %s", what);
    tp_log_flush();
    abort();
}

/* ---- masks ---------------------------------------------------------------------------------- */

/* Client masks must be unpredictable (RFC 6455 §10.3): taken from the kernel's CSPRNG, a
 * pool per thread (one loop per thread) refilled 256 bytes at a time. */
static void new_mask(uint8_t mask[4])
{
    static __thread uint8_t pool[256];
    static __thread size_t left;
    if (left < 4) {
        size_t got = 0;
        while (got < sizeof(pool)) {
            ssize_t r = getrandom(pool + got, sizeof(pool) - got, 0);
            if (r > 0)
                got += (size_t)r;
            else if (errno != EINTR)
                die("getrandom failed");
        }
        left = sizeof(pool);
    }
    left -= 4;
    memcpy(mask, pool + left, 4);
}

/* ---- writing -------------------------------------------------------------------------------- */

typedef struct sent_box {
    tp_ws *ws;
    tp_ws_sent_fn fn;
    void *arg;
} sent_box;

static void on_sent(tp_stream *s, int status, void *arg)
{
    (void)s;
    sent_box *b = arg;
    b->fn(b->ws, status, b->arg);
    tp_ws_unref(b->ws);
    tp_free(b);
}

/* Queues one frame: head and payload (masked on the client) in one stream write when small,
 * else the head and the payload as two. */
static int send_frame(tp_ws *ws, unsigned op, bool rsv1, const void *p, size_t n, tp_ws_sent_fn fn,
                      void *arg)
{
    uint8_t mask[4], *m = NULL;
    if (ws->o.is_client)
        new_mask(m = mask);
    uint8_t small[SMALL_WRITE];
    size_t k = tp__ws_frame_write_head(small, op, true, rsv1, n, m);
    tp_write_fn wfn = NULL;
    sent_box *box = NULL;
    if (fn) {
        box = tp_malloc(sizeof(*box));
        *box = (sent_box){ws, fn, arg};
        tp_ws_ref(ws);
        wfn = on_sent;
    }
    int r;
    if (k + n <= sizeof(small)) {
        if (m)
            tp__ws_mask_copy(small + k, p, n, m, 0);
        else if (n)
            memcpy(small + k, p, n);
        r = tp_stream_write(ws->s, small, k + n, wfn, box);
    } else if (m) {
        uint8_t *w = tp_malloc(k + n);
        memcpy(w, small, k);
        tp__ws_mask_copy(w + k, p, n, m, 0);
        r = tp_stream_write_ref(ws->s, w, k + n, tp_free, w, wfn, box);
    } else {
        r = tp_stream_write(ws->s, small, k, NULL, NULL);
        if (r == 0)
            r = tp_stream_write(ws->s, p, n, wfn, box);
    }
    if (r < 0 && box) {
        tp_ws_unref(ws);
        tp_free(box);
    }
    return r;
}

static bool can_send(const tp_ws *ws)
{
    return ws->state <= WS_OPEN && !ws->sent_close && ws->s;
}

int tp_ws_write_message(tp_ws *ws, const void *p, size_t n, bool binary, tp_ws_sent_fn fn,
                        void *arg)
{
    if (!can_send(ws))
        return -EPIPE;
    if (!binary && !tp_utf8_valid(tp_slice_make(p, n)))
        return -EINVAL;
    if (tp_stream_pending_write(ws->s) + n > ws->o.max_write_buffer)
        return -ENOBUFS;
    unsigned op = binary ? TP_WS_OP_BINARY : TP_WS_OP_TEXT;
    if (!ws->o.deflate.enabled)
        return send_frame(ws, op, false, p, n, fn, arg);
    if (!ws->def && !(ws->def = tp_ws_deflater_new(&ws->o.deflate, ws->o.is_client)))
        return -ENOMEM;
    tp_buf z = {0};
    int r = tp_ws_deflate_message(ws->def, tp_slice_make(p, n), &z);
    if (r == 0)
        r = send_frame(ws, op, true, tp_buf_data(&z), z.len, fn, arg);
    tp_buf_free(&z);
    return r;
}

int tp_ws_ping(tp_ws *ws, const void *p, size_t n)
{
    if (!can_send(ws))
        return -EPIPE;
    if (n > TP_WS_MAX_CONTROL)
        return -EINVAL;
    return send_frame(ws, TP_WS_OP_PING, false, p, n, NULL, NULL);
}

/* A Close frame with code (0: none) and reason (n bytes). */
static void send_close(tp_ws *ws, unsigned code, const char *reason, size_t n)
{
    uint8_t b[TP_WS_MAX_CONTROL];
    size_t k = 0;
    if (code) {
        b[0] = (uint8_t)(code >> 8);
        b[1] = (uint8_t)code;
        if (n) /* reason may be NULL then: memcpy's arguments must not be */
            memcpy(b + 2, reason, n);
        k = 2 + n;
    }
    ws->sent_close = true;
    send_frame(ws, TP_WS_OP_CLOSE, false, b, k, NULL, NULL);
}

static size_t on_data(tp_stream *s, tp_slice data, bool eof, void *arg);

static void close_timeout(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_ws_abort(arg);
}

int tp_ws_close(tp_ws *ws, int code, const char *reason)
{
    size_t n = reason ? strlen(reason) : 0;
    if (code == 0 && reason)
        code = TP_WS_NORMAL;
    if ((code && !tp__ws_close_code_valid((unsigned)code)) || n > TP_WS_MAX_CONTROL - 2)
        return -EINVAL;
    if (!can_send(ws))
        return -EPIPE;
    if (ws->state == WS_NEW) /* closing before the start (an async open): hear the answer */
        tp_stream_set_data_handler(ws->s, on_data, ws);
    send_close(ws, (unsigned)code, reason, n);
    if (ws->got_close) { /* our answer: the handshake is complete */
        tp_stream_close_after_flush(ws->s, CLOSE_LINGER);
        return 0;
    }
    if (ws->state != WS_CLOSING)
        set_state(ws, WS_CLOSING);
    tp_timer_start_at(ws->loop, &ws->close_timer, tp_loop_time(ws->loop) + ws->o.close_timeout);
    return 0;
}

void tp_ws_abort(tp_ws *ws)
{
    if (ws->s)
        tp_stream_close(ws->s);
}

/* Fails the connection (RFC 6455 §7.1.7): a Close with the reason's code unless one went
 * out already, then the TCP connection is closed once it is written. Reading stops. */
static void fail(tp_ws *ws, unsigned code, const char *why)
{
    tp_log_debug("websocket: closing with %u: %s", code, why);
    ws->stopped = true;
    if (!ws->s)
        return;
    if (!ws->sent_close)
        send_close(ws, code, why, strlen(why));
    if (ws->state != WS_CLOSING && ws->state != WS_CLOSED)
        set_state(ws, WS_CLOSING);
    tp_stream_close_after_flush(ws->s, CLOSE_LINGER);
}

/* ---- pings ---------------------------------------------------------------------------------- */

/* Tornado's periodic_ping: every interval a ping; no pong within the timeout closes the
 * connection with "ping timed out". */
static void ping_tick(tp_loop *loop, void *arg)
{
    tp_ws *ws = arg;
    if (!can_send(ws))
        return;
    double now = tp_loop_time(loop);
    if (ws->ping_waiting) {
        ws->ping_waiting = false;
        if (!ws->pong_seen) {
            tp_ws_close(ws, 0, "ping timed out");
            return;
        }
        double next = ws->ping_sent_at + ws->o.ping_interval; /* on the interval's grid */
        tp_timer_start_at(loop, &ws->ping_timer, next > now ? next : now);
        return;
    }
    ws->pong_seen = false;
    ws->ping_sent_at = now;
    tp_ws_ping(ws, "", 0);
    ws->ping_waiting = ws->o.ping_timeout > 0;
    tp_timer_start_at(loop, &ws->ping_timer,
                      now + (ws->ping_waiting ? ws->o.ping_timeout : ws->o.ping_interval));
}

/* ---- reading: control frames ---------------------------------------------------------------- */

static void got_close(tp_ws *ws, const uint8_t *p, size_t n)
{
    if (n == 1)
        return fail(ws, TP_WS_PROTOCOL_ERROR, "bad close frame");
    unsigned code = n >= 2 ? (unsigned)p[0] << 8 | p[1] : TP_WS_NO_STATUS;
    if (n >= 2 && !tp__ws_close_code_valid(code))
        return fail(ws, TP_WS_PROTOCOL_ERROR, "invalid close code");
    if (n > 2 && !tp_utf8_valid(tp_slice_make((const char *)p + 2, n - 2)))
        return fail(ws, TP_WS_INVALID_DATA, "invalid UTF-8 in close reason");
    ws->got_close = true;
    ws->close_code = (int)code;
    ws->reason_len = (uint8_t)(n > 2 ? n - 2 : 0);
    memcpy(ws->reason, p + 2 * (n > 2), ws->reason_len);
    ws->stopped = true;
    tp_timer_stop(ws->loop, &ws->close_timer);
    if (!ws->sent_close) /* echo the code only, as Tornado */
        send_close(ws, code == TP_WS_NO_STATUS ? 0 : code, "", 0);
    if (ws->state != WS_CLOSING)
        set_state(ws, WS_CLOSING);
    tp_stream_close_after_flush(ws->s, CLOSE_LINGER);
}

static void got_control(tp_ws *ws, unsigned op, const uint8_t *p, size_t n)
{
    tp_slice data = tp_slice_make((const char *)p, n);
    if (op == TP_WS_OP_CLOSE)
        return got_close(ws, p, n);
    if (op == TP_WS_OP_PING) {
        if (can_send(ws))
            send_frame(ws, TP_WS_OP_PONG, false, p, n, NULL, NULL);
        if (ws->cb.on_ping)
            ws->cb.on_ping(ws, data, ws->arg);
    } else {
        ws->pong_seen = true;
        if (ws->cb.on_pong)
            ws->cb.on_pong(ws, data, ws->arg);
    }
}

/* ---- reading: messages ---------------------------------------------------------------------- */

static void drop_message(tp_ws *ws)
{
    ws->msg_op = 0;
    ws->msg_wire = 0;
    ws->msg.len = ws->msg.off = 0;
    if (ws->msg.cap > KEEP_BUFFER)
        tp_buf_free(&ws->msg);
    if (ws->scratch.cap > KEEP_BUFFER)
        tp_buf_free(&ws->scratch);
}

/* Hands a whole message to on_message; TP_AGAIN holds the reading. */
static void deliver(tp_ws *ws, const uint8_t *p, size_t n, unsigned op)
{
    if (op == TP_WS_OP_TEXT && !tp_utf8_valid(tp_slice_make((const char *)p, n)))
        return fail(ws, TP_WS_INVALID_DATA, "invalid UTF-8 in text message");
    if (!ws->cb.on_message)
        return;
    int r =
        ws->cb.on_message(ws, tp_slice_make((const char *)p, n), op == TP_WS_OP_BINARY, ws->arg);
    if (r == TP_AGAIN && ws->s && !ws->stopped) {
        ws->held = true;
        tp_stream_pause(ws->s);
    } else if (r != TP_OK && r != TP_AGAIN) {
        tp_log_error("websocket: on_message failed (%d): closing the connection", r);
        tp_ws_abort(ws);
    }
}

/* The frame's head is read: is it one the protocol allows here? A reason for fail(), or
 * NULL; *code gets the close code. */
static const char *check_head(tp_ws *ws, const tp_ws_frame *f, unsigned *code)
{
    *code = TP_WS_PROTOCOL_ERROR;
    bool control = f->opcode >= 8;
    bool rsv1_ok = ws->o.deflate.enabled && !control && f->opcode != TP_WS_OP_CONT;
    if (f->rsv & ~(rsv1_ok ? 4 : 0))
        return "reserved bits set";
    if (f->opcode > TP_WS_OP_BINARY && (f->opcode < TP_WS_OP_CLOSE || f->opcode > TP_WS_OP_PONG))
        return "unknown opcode";
    if (control && (!f->fin || f->len > TP_WS_MAX_CONTROL))
        return "fragmented or oversized control frame";
    if (f->opcode == TP_WS_OP_CONT && !ws->msg_op)
        return "continuation without a message";
    if ((f->opcode == TP_WS_OP_TEXT || f->opcode == TP_WS_OP_BINARY) && ws->msg_op)
        return "new message inside a fragmented one";
    if (ws->o.is_client ? f->masked : !f->masked && !ws->o.allow_unmasked)
        return ws->o.is_client ? "masked frame from the server" : "unmasked frame from the client";
    if (!control &&
        (f->len > ws->o.max_message_size || ws->msg_wire + f->len > ws->o.max_message_size)) {
        *code = TP_WS_TOO_BIG;
        return "message too big";
    }
    return NULL;
}

/* n payload bytes of the current frame, from payload offset `at`, unmasked into dst. */
static void copy_payload(const tp_ws_frame *f, uint8_t *dst, const uint8_t *src, size_t n,
                         uint64_t at)
{
    if (f->masked)
        tp__ws_mask_copy(dst, src, n, f->mask, at);
    else if (n)
        memcpy(dst, src, n);
}

static void inflate_failed(tp_ws *ws, int r)
{
    if (r == -EMSGSIZE)
        fail(ws, TP_WS_TOO_BIG, "message too big after decompression");
    else
        fail(ws, TP_WS_INVALID_DATA, "bad compressed data");
}

/* A data frame's payload piece: unmasked into the message, or through the inflater. */
static void take_payload(tp_ws *ws, const uint8_t *p, size_t n)
{
    ws->msg_wire += n;
    if (!ws->msg_deflated) {
        copy_payload(&ws->f, (uint8_t *)tp_buf_reserve(&ws->msg, n), p, n, ws->f_got);
        tp_buf_commit(&ws->msg, n);
        return;
    }
    ws->scratch.len = ws->scratch.off = 0;
    uint8_t *w = (uint8_t *)tp_buf_reserve(&ws->scratch, n);
    copy_payload(&ws->f, w, p, n, ws->f_got);
    int r = tp_ws_inflate_frame(ws->inf, tp_slice_make((const char *)w, n), false,
                                ws->o.max_message_size, &ws->msg);
    if (r < 0)
        inflate_failed(ws, r);
}

/* The whole frame is read. */
static void frame_done(tp_ws *ws)
{
    tp_ws_frame *f = &ws->f;
    ws->in_frame = false;
    if (f->opcode >= 8)
        return got_control(ws, f->opcode, ws->ctl, (size_t)f->len);
    if (!f->fin)
        return;
    if (ws->msg_deflated) {
        int r = tp_ws_inflate_frame(ws->inf, TP_SLICE_NULL, true, ws->o.max_message_size, &ws->msg);
        if (r < 0)
            return inflate_failed(ws, r);
    }
    /* An empty message may have no buffer at all (and NULL + 0 is undefined). */
    const char *p = ws->msg.len ? tp_buf_data(&ws->msg) : "";
    deliver(ws, (const uint8_t *)p, ws->msg.len, ws->msg_op);
    drop_message(ws);
}

/* Starts a frame whose head is valid. */
static void begin_frame(tp_ws *ws)
{
    ws->in_frame = true;
    ws->f_got = 0;
    if (ws->f.opcode >= 8 || ws->f.opcode == TP_WS_OP_CONT)
        return;
    ws->msg_op = ws->f.opcode;
    ws->msg_deflated = ws->f.rsv & 4;
    if (ws->msg_deflated && !ws->inf &&
        !(ws->inf = tp_ws_inflater_new(&ws->o.deflate, ws->o.is_client)))
        fail(ws, TP_WS_INTERNAL, "zlib could not set up permessage-deflate");
}

/* The fast path: a whole single-frame, uncompressed message in the buffer, delivered from
 * there. The stream's read buffer is writable memory that the stream lends us for the call
 * (its bytes are consumed when we return), so the payload is unmasked in place. */
static bool whole_frame(tp_ws *ws, uint8_t *p, size_t avail)
{
    tp_ws_frame *f = &ws->f;
    if (!f->fin || f->opcode >= 8 || (f->rsv & 4) || f->len > avail - f->head_len)
        return false;
    uint8_t *payload = p + f->head_len;
    if (f->masked)
        tp__ws_mask_copy(payload, payload, (size_t)f->len, f->mask, 0);
    deliver(ws, payload, (size_t)f->len, f->opcode);
    return true;
}

/* Reads frames from p until the data runs out, a message holds the reading, or the
 * connection fails. Returns the bytes consumed. */
static size_t read_frames(tp_ws *ws, uint8_t *p, size_t n)
{
    size_t used = 0;
    while (!ws->held && !ws->stopped) {
        if (!ws->in_frame) {
            int r = tp__ws_frame_read_head(p + used, n - used, &ws->f);
            unsigned code;
            const char *why = r < 0 ? "bad frame length" : r ? check_head(ws, &ws->f, &code) : NULL;
            if (r == 0)
                break;
            if (why) {
                fail(ws, r < 0 ? TP_WS_PROTOCOL_ERROR : code, why);
                break;
            }
            if (!ws->msg_op && whole_frame(ws, p + used, n - used)) {
                used += ws->f.head_len + (size_t)ws->f.len;
                continue;
            }
            used += ws->f.head_len;
            begin_frame(ws);
            if (ws->stopped)
                break;
        }
        size_t take =
            (size_t)(ws->f.len - ws->f_got) < n - used ? (size_t)(ws->f.len - ws->f_got) : n - used;
        if (ws->f.opcode >= 8)
            copy_payload(&ws->f, ws->ctl + ws->f_got, p + used, take, ws->f_got);
        else
            take_payload(ws, p + used, take);
        used += take;
        ws->f_got += take;
        if (ws->f_got < ws->f.len || ws->stopped)
            break;
        frame_done(ws);
    }
    return used;
}

static size_t on_data(tp_stream *s, tp_slice data, bool eof, void *arg)
{
    (void)s;
    tp_ws *ws = arg;
    tp_ws_ref(ws);
    size_t used = read_frames(ws, (uint8_t *)data.p, data.n);
    if (eof && !ws->stopped && !ws->held && ws->s) /* the peer left without a Close */
        tp_stream_close(ws->s);
    tp_ws_unref(ws);
    return used;
}

/* ---- the connection ------------------------------------------------------------------------- */

static void on_stream_close(tp_stream *s, int error, void *arg)
{
    (void)s;
    (void)error;
    tp_ws *ws = arg;
    tp_timer_stop(ws->loop, &ws->close_timer);
    tp_timer_stop(ws->loop, &ws->ping_timer);
    ws->s = NULL;
    ws->stopped = true;
    set_state(ws, WS_CLOSED);
    int code = ws->got_close ? ws->close_code : TP_WS_ABNORMAL;
    if (ws->cb.on_close)
        ws->cb.on_close(ws, code, tp_slice_make(ws->reason, ws->reason_len), ws->arg);
    tp_ws_unref(ws); /* the stream's */
}

tp_ws *tp_ws_new(tp_stream *s, const tp_ws_opts *o, const tp_ws_callbacks *cb, void *arg)
{
    tp_ws *ws = tp_calloc(1, sizeof(*ws));
    ws->s = s;
    ws->loop = tp_stream_loop(s);
    ws->cb = *cb;
    ws->arg = arg;
    ws->o = *o;
    ws->refs = 1;
    ws->close_code = TP_WS_NO_STATUS;
    if (!ws->o.max_message_size)
        ws->o.max_message_size = DEFAULT_MAX_MESSAGE;
    if (!ws->o.max_write_buffer)
        ws->o.max_write_buffer = DEFAULT_MAX_WRITE;
    if (ws->o.close_timeout <= 0)
        ws->o.close_timeout = DEFAULT_CLOSE_WAIT;
    if (ws->o.ping_timeout == 0 || ws->o.ping_timeout > ws->o.ping_interval)
        ws->o.ping_timeout = ws->o.ping_interval; /* < 0: pings without a deadline */
    tp_timer_init(&ws->close_timer, close_timeout, ws);
    tp_timer_init(&ws->ping_timer, ping_tick, ws);
    tp_stream_set_close_callback(s, on_stream_close, ws);
    return ws;
}

/* A Close sent before the start (close() in an open callback) leaves the connection CLOSING:
 * reading starts all the same, or the peer's answering Close would never be read and the
 * close timeout would abort a handshake the peer completed. */
void tp_ws_start(tp_ws *ws)
{
    if (ws->reading || ws->stopped || !ws->s || ws->state == WS_CLOSED)
        return;
    ws->reading = true;
    if (ws->state == WS_NEW)
        set_state(ws, WS_OPEN);
    tp_stream_set_data_handler(ws->s, on_data, ws);
    if (ws->o.ping_interval > 0 && ws->state == WS_OPEN)
        tp_timer_start_at(ws->loop, &ws->ping_timer, tp_loop_time(ws->loop) + ws->o.ping_interval);
}

void tp_ws_resume(tp_ws *ws)
{
    if (!ws->held)
        return;
    ws->held = false;
    if (ws->s)
        tp_stream_resume(ws->s);
}

bool tp_ws_closed(const tp_ws *ws)
{
    return !can_send(ws);
}

tp_stream *tp_ws_stream(const tp_ws *ws)
{
    return ws->s;
}

tp_loop *tp_ws_loop(const tp_ws *ws)
{
    return ws->loop;
}

void *tp_ws_arg(const tp_ws *ws)
{
    return ws->arg;
}

void tp_ws_set_arg(tp_ws *ws, void *arg)
{
    ws->arg = arg;
}

size_t tp_ws_buffered_amount(const tp_ws *ws)
{
    return ws->s ? tp_stream_pending_write(ws->s) : 0;
}

const tp_ws_deflate_params *tp_ws_deflate(const tp_ws *ws)
{
    return &ws->o.deflate;
}

void tp_ws_accept_key(tp_slice key, char out[29])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c || !EVP_DigestInit_ex(c, EVP_sha1(), NULL) || !EVP_DigestUpdate(c, key.p, key.n) ||
        !EVP_DigestUpdate(c, guid, sizeof(guid) - 1) || !EVP_DigestFinal_ex(c, md, &mdlen))
        die("SHA-1 unavailable");
    EVP_MD_CTX_free(c);
    EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
}
