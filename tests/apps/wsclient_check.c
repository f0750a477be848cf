/* Our WebSocket client (tp_ws_connect) against an echo server written by someone else: the
 * peer tests (tests/peers) run it against an npm `ws` echo server. It sends a series of
 * messages one at a time and checks that each comes back identical (type and bytes), then a
 * ping (the pong must carry its data), then a Close with a code and a reason, which the peer
 * echoes. Prints the negotiated compression and "wsclient_check: ok" with the number of
 * messages and of pings the peer sent, and exits 0, or says
 * what went wrong on stderr and exits 1.
 *
 * Usage: wsclient_check URL [--compression] [--client-bits=N] [--client-nct] [--big]
 *   --big adds 16 MiB text and binary messages (max_message_size is set to 32 MiB). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp.h"

enum { PING_STEP = -1, CLOSE_STEP = -2 };

typedef struct msg {
    char *p;
    size_t n;
    bool binary;
} msg;

static struct {
    tp_loop *loop;
    msg msgs[16];
    int nmsgs, step; /* the message awaited, or PING_STEP / CLOSE_STEP */
    int pings;       /* pings from the peer (answered by the library) */
    bool ok, failed;
} C;

static void failf(tp_ws *ws, const char *what, long detail)
{
    fprintf(stderr, "wsclient_check: step %d: %s (%ld)\n", C.step, what, detail);
    C.failed = true;
    if (ws)
        tp_ws_abort(ws);
    tp_loop_stop(C.loop);
}

/* Sends what step C.step stands for. */
static void send_step(tp_ws *ws)
{
    int r;
    if (C.step < C.nmsgs) {
        msg *m = &C.msgs[C.step];
        r = tp_ws_write_message(ws, m->p, m->n, m->binary, NULL, NULL);
    } else if (C.step == C.nmsgs) {
        C.step = PING_STEP;
        r = tp_ws_ping(ws, "ping-data", 9);
    } else {
        C.step = CLOSE_STEP;
        r = tp_ws_close(ws, 4002, "done here");
    }
    if (r != 0)
        failf(ws, "send failed", r);
}

static int on_message(tp_ws *ws, tp_slice data, bool binary, void *arg)
{
    (void)arg;
    if (C.step < 0 || C.step >= C.nmsgs) {
        failf(ws, "unexpected message", (long)data.n);
        return TP_OK;
    }
    msg *m = &C.msgs[C.step];
    if (binary != m->binary || data.n != m->n || memcmp(data.p, m->p, m->n) != 0) {
        failf(ws, "the echo differs; its length", (long)data.n);
        return TP_OK;
    }
    C.step++;
    send_step(ws);
    return TP_OK;
}

static void on_ping(tp_ws *ws, tp_slice data, void *arg)
{
    (void)ws, (void)data, (void)arg;
    C.pings++;
}

static void on_pong(tp_ws *ws, tp_slice data, void *arg)
{
    (void)arg;
    if (C.step != PING_STEP || data.n != 9 || memcmp(data.p, "ping-data", 9) != 0)
        return failf(ws, "unexpected pong", (long)data.n);
    C.step = C.nmsgs + 1;
    send_step(ws);
}

static void on_close(tp_ws *ws, int code, tp_slice reason, void *arg)
{
    (void)ws, (void)arg;
    if (C.failed)
        return;
    if (C.step != CLOSE_STEP || code != 4002 || !tp_slice_eq(reason, TP_SLICE_LIT("done here")))
        return failf(NULL, "unexpected close; code", code);
    C.ok = true;
    tp_loop_stop(C.loop);
}

static void on_connect(const tp_ws_connect_result *r, void *arg)
{
    (void)arg;
    if (!r->ws) {
        fprintf(stderr, "wsclient_check: connect failed: %d, status %d: %s\n", r->error, r->status,
                r->message ? r->message : "");
        C.failed = true;
        tp_loop_stop(C.loop);
        return;
    }
    const tp_ws_deflate_params *d = tp_ws_deflate(r->ws);
    printf("deflate enabled=%d client_bits=%d server_bits=%d client_nct=%d server_nct=%d\n",
           d->enabled, d->enabled ? d->client_max_window_bits : 0,
           d->enabled ? d->server_max_window_bits : 0, d->client_no_context_takeover,
           d->server_no_context_takeover);
    fflush(stdout);
    send_step(r->ws);
}

/* n bytes: random over a 64-character alphabet for text (compressible somewhat), random
 * bytes for binary (xorshift, a fixed seed). */
static void add(size_t n, bool binary, const char *fixed)
{
    static uint64_t x = 88172645463325252ull;
    msg *m = &C.msgs[C.nmsgs++];
    m->binary = binary;
    m->n = fixed ? strlen(fixed) : n;
    m->p = malloc(m->n + 1);
    if (fixed) {
        memcpy(m->p, fixed, m->n);
        return;
    }
    static const char abc[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .";
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        m->p[i] = binary ? (char)(x >> 24) : abc[(x >> 24) & 63];
    }
}

static const char *check_url;

static void start(tp_loop *loop, void *arg)
{
    tp_ws_connect_opts *o = arg;
    static const tp_ws_callbacks cb = {
        .on_message = on_message, .on_ping = on_ping, .on_pong = on_pong, .on_close = on_close};
    if (tp_ws_connect(loop, check_url, o, &cb, NULL, on_connect, NULL) != 0) {
        fprintf(stderr, "wsclient_check: bad url %s\n", check_url);
        C.failed = true;
        tp_loop_stop(loop);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: wsclient_check URL [--compression] [--client-bits=N] "
                        "[--client-nct] [--big]\n");
        return 2;
    }
    check_url = argv[1];
    tp_ws_connect_opts o = {.connect_timeout = 60};
    o.ws.max_message_size = 32u << 20;
    o.ws.close_timeout = 60;
    bool big = false;
    o.deflate = tp_ws_deflate_defaults();
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--compression"))
            o.compression = true;
        else if (!strncmp(argv[i], "--client-bits=", 14))
            o.deflate.client_max_window_bits = atoi(argv[i] + 14);
        else if (!strcmp(argv[i], "--client-nct"))
            o.deflate.client_no_context_takeover = true;
        else if (!strcmp(argv[i], "--big"))
            big = true;
        else
            return fprintf(stderr, "wsclient_check: unknown option %s\n", argv[i]), 2;
    }
    add(0, false, "hello");
    add(0, false, "");
    add(0, true, "");
    add(0, false, "h\xc3\xa9llo \xe2\x98\x83 \xf0\x9d\x84\x9e");
    add(256, true, NULL);
    add(70000, false, NULL);
    add(1u << 20, true, NULL);
    add(0, false, "hello"); /* again: context takeover refers back to the first one */
    if (big) {
        add(16u << 20, false, NULL);
        add(16u << 20, true, NULL);
    }
    C.loop = tp_loop_new();
    int r = tp_loop_run_sync(C.loop, start, &o, 300);
    if (r == -ETIMEDOUT)
        fprintf(stderr, "wsclient_check: step %d: no progress within 300 s\n", C.step);
    if (!C.ok)
        return 1;
    printf("wsclient_check: ok (%d messages, %d pings from the peer, ping, close)\n", C.nmsgs,
           C.pings);
    return 0;
}
