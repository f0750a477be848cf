/* libFuzzer target for the HTTP/2 input path: the input (after the client preface, which is
 * added) is what a client sends to an HTTP/2 session (http/h2/) over a socketpair, through
 * nghttp2's callbacks into our request building, to a delegate that answers every request
 * (streaming some bodies, pausing and resuming others). The loop runs until the session has
 * ended (the client side shuts down after the input and reads whatever comes back).
 *
 *   byte 0: bit 0 the delegate streams bodies, bit 1 it pauses them and resumes from the
 *           loop, bit 2 it answers from headers_received, bit 3 small limits (1000-byte
 *           bodies, 512-byte header lists, 4 streams), bit 4 the connection counts as TLS
 *
 * Checks more than "no crash": each request gets request_complete or connection_closed at
 * most once, every request the delegate was given is finished, and the session ends within
 * the deadline with no connection left. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/status.h"
#include "core/stream.h"
#include "http/h2/h2.h"
#include "http/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char PREFACE[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

typedef struct run {
    tp_loop *loop;
    tp_http_server *srv;
    int peer; /* the client's end */
    unsigned mode;
    long given, finished;
    tp_request *paused[64]; /* resumed by watch, on the next loop iteration */
    int npaused;
} run;

typedef struct fuzz_req {
    bool completed, told;
} fuzz_req;

static void answer(tp_request *req, run *r)
{
    for (int i = 0; i < r->npaused; i++)
        if (r->paused[i] == req)
            r->paused[i] = r->paused[--r->npaused];
    tp_headers h;
    tp_headers_init(&h, &req->arena);
    tp_headers_add(&h, TP_SLICE_LIT("X-Seen"), req->method);
    tp_http_write_head(req, 200, TP_SLICE_NULL, &h);
    tp_http_write_body(req, req->path.p, req->path.n);
    tp_http_finish(req);
    r->finished++;
}

static int on_headers(tp_request *req, void *ctx)
{
    run *r = ctx;
    req->delegate_data = tp_arena_calloc(&req->arena, sizeof(fuzz_req));
    r->given++;
    req->stream_body = r->mode & 1;
    if (r->mode & 4) {
        answer(req, r);
        return TP_OK;
    }
    if ((r->mode & 2) && r->npaused < 64) {
        tp_http_pause_body(req);
        r->paused[r->npaused++] = req;
    }
    return TP_OK;
}

static int on_data(tp_request *req, tp_slice chunk, void *ctx)
{
    (void)ctx, (void)chunk;
    assert(!((fuzz_req *)req->delegate_data)->completed);
    return TP_OK;
}

static void on_complete(tp_request *req, void *ctx)
{
    fuzz_req *f = req->delegate_data;
    assert(!f->completed);
    f->completed = true;
    answer(req, ctx);
}

static void on_closed(tp_request *req, void *ctx)
{
    fuzz_req *f = req->delegate_data;
    assert(!f->told && !f->completed);
    f->told = true;
    answer(req, ctx);
}

/* Resumes the paused bodies, reads what the session sends (so it never blocks on a full
 * socket) and stops the loop once no connection is left. */
static void watch(tp_loop *loop, void *arg)
{
    run *r = arg;
    char buf[65536];
    while (r->npaused)
        tp_http_resume_body(r->paused[--r->npaused]);
    while (read(r->peer, buf, sizeof(buf)) > 0) {
    }
    if (tp_http_server_connections(r->srv) == 0)
        tp_loop_stop(loop);
}

static void start(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tp_loop *loop;
    if (!loop) {
        loop = tp_loop_new();
        tp_log_set_level(TP_LOG_CRITICAL);
    }
    if (size < 1 || size > 65536)
        return 0;
    run r = {.loop = loop, .mode = data[0]};
    tp_http_server_opts o;
    tp_http_server_opts_default(&o);
    o.linger = 0;
    if (r.mode & 8) {
        o.max_body_size = 1000;
        o.h2.max_header_list_size = 512;
        o.h2.max_concurrent_streams = 4;
    }
    tp_http_delegate d = {on_headers, on_data, on_complete, on_closed};
    r.srv = tp_http_server_new(loop, &d, &r, &o);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
        abort();
    int sz = 1 << 20;
    setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    if (write(sv[1], PREFACE, sizeof(PREFACE) - 1) < 0 ||
        write(sv[1], data + 1, size - 1) != (ssize_t)(size - 1))
        abort();
    shutdown(sv[1], SHUT_WR);
    r.peer = sv[1];
    tp_h2_serve(r.srv, tp_stream_new(loop, sv[0], NULL), TP_SLICE_LIT("127.0.0.1"), r.mode & 16);
    tp_loop_set_prepare(loop, watch, &r, NULL);
    int rc = tp_loop_run_sync(loop, start, NULL, 30);
    tp_loop_set_prepare(loop, NULL, NULL, NULL);
    assert(rc == 0 && "the session ends");
    assert(r.finished == r.given);
    tp_http_server_free(r.srv);
    close(sv[1]);
    return 0;
}
