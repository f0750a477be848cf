/* tp_ws_connect: tornado.websocket.websocket_connect. Resolve, a non-blocking connect (each
 * address in turn), the upgrade request, the 101 checks (client_handshake.c), then the
 * stream goes to a tp_ws with is_client set.
 *
 * Lifetime: one struct ws_connect per call, in states START (the first loop callback is
 * queued) -> RESOLVING (opts.resolver: tp_resolve's future is pending) -> CONNECTING (our fd
 * handler on the socket) -> HANDSHAKE (a tp_stream reads the response head) -> DONE. `done`
 * runs once, from the loop, on the way to DONE. The struct is freed in release() only: at
 * once when no stream or resolve is left, else from the stream's close callback (a closed
 * stream still calls a pending read back first) or from the cancelled resolve's callback. */
#include <assert.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/alloc.h"
#include "core/async/future.h"
#include "core/log.h"
#include "core/netutil/netutil.h"
#include "http/websocket/client_internal.h"
#include "platform/socket.h"

/* The response head at most (Tornado's client: max_header_size 64 KiB). */
#define MAX_HEAD (64u << 10)

enum connect_state { CS_START, CS_RESOLVING, CS_CONNECTING, CS_HANDSHAKE, CS_DONE };

struct ws_connect {
    tp_loop *loop;
    enum connect_state state;
    tp_arena arena; /* URL, subprotocols, response headers, messages */
    tp_ws_url url;
    tp_address_list *addrs; /* the addresses */
    size_t next;            /* the next one to try */
    struct tp_executor *resolver;
    tp_future *resolving; /* while its callback has not run (a reference) */
    int fd;               /* while CONNECTING */
    tp_stream *s;         /* while HANDSHAKE, and until its close callback */
    tp_timer timer;       /* connect_timeout, from the first connect */
    double timeout;
    int last_error;
    tp_buf req;
    char accept[29];
    const char **subprotocols; /* copies, NULL-terminated, or NULL */
    bool compression;
    tp_ws_deflate_params want;
    tp_ws_opts ws;
    tp_ws_callbacks cb;
    void *arg;
    tp_ws_connect_fn done;
    void *done_arg;
};

#ifndef NDEBUG
static bool transition_allowed(enum connect_state from, enum connect_state to)
{
    switch (from) {
    case CS_START: return to == CS_RESOLVING || to == CS_CONNECTING || to == CS_DONE;
    case CS_RESOLVING: return to == CS_CONNECTING || to == CS_DONE;
    case CS_CONNECTING: return to == CS_HANDSHAKE || to == CS_DONE;
    case CS_HANDSHAKE: return to == CS_DONE;
    case CS_DONE: return false;
    }
    return false;
}
#endif

static void set_state(struct ws_connect *c, enum connect_state to)
{
    assert(transition_allowed(c->state, to));
    c->state = to;
}

static void release(struct ws_connect *c)
{
    if (c->resolving) { /* cancelled in report(): resolved() calls us again */
        tp_future_cancel(c->resolving);
        return;
    }
    tp_free(c->addrs);
    tp_buf_free(&c->req);
    tp_arena_destroy(&c->arena);
    tp_free(c);
}

/* Reports r once and leaves CONNECTING/HANDSHAKE: the socket or stream is closed (the stream
 * frees c from its close callback), else c goes now. */
static void report(struct ws_connect *c, const tp_ws_connect_result *r)
{
    enum connect_state was = c->state;
    set_state(c, CS_DONE);
    tp_timer_stop(c->loop, &c->timer);
    c->done(r, c->done_arg);
    if (was == CS_CONNECTING && c->fd >= 0) {
        tp_loop_remove_fd(c->loop, c->fd);
        close(c->fd);
    }
    if (c->s)
        tp_stream_close(c->s);
    else
        release(c);
}

static void fail(struct ws_connect *c, int error, int status, const tp_headers *h, const char *msg)
{
    tp_ws_connect_result r = {.error = error, .status = status, .headers = h, .message = msg};
    report(c, &r);
}

static void fail_errno(struct ws_connect *c, int error, const char *what)
{
    fail(c, error, 0, NULL,
         tp_arena_printf(&c->arena, "%s %s: %s", what, c->url.netloc, strerror(-error)));
}

static void on_stream_close(tp_stream *s, int error, void *arg)
{
    (void)s;
    struct ws_connect *c = arg;
    c->s = NULL;
    if (c->state != CS_DONE) /* the pending read normally reported it first */
        fail(c, error ? error : -ECONNRESET, 0, NULL, "connection closed during the handshake");
    else
        release(c);
}

/* A valid 101: the stream becomes the connection. */
static void succeed(struct ws_connect *c, const tp_ws_response *resp, const char *subprotocol,
                    const tp_ws_deflate_params *deflate)
{
    tp_stream *s = c->s;
    tp_ws_opts o = c->ws;
    o.is_client = true;
    o.deflate = *deflate;
    tp_stream_set_close_callback(s, NULL, NULL);
    c->s = NULL;
    tp_ws *ws = tp_ws_new(s, &o, &c->cb, c->arg);
    tp_ws_start(ws);
    tp_ws_connect_result r = {
        .ws = ws, .status = 101, .headers = &resp->headers, .subprotocol = subprotocol};
    report(c, &r);
}

static void on_head(tp_stream *s, int status, tp_slice head, void *arg)
{
    (void)s;
    struct ws_connect *c = arg;
    if (c->state == CS_DONE)
        return; /* timed out: the close callback frees c */
    if (status == -EMSGSIZE) {
        fail(c, -EPROTO, 0, NULL, "the response head is over 64 KiB");
        return;
    }
    if (status < 0) {
        fail_errno(c, status, "no handshake response from");
        return;
    }
    tp_ws_response resp;
    tp_ws_deflate_params deflate;
    const char *msg = NULL, *sub = NULL;
    if (tp__ws_parse_response(head, &c->arena, &resp, &msg) < 0) {
        fail(c, -EPROTO, 0, NULL, msg);
        return;
    }
    if (tp__ws_check_response(&resp, c->accept, c->subprotocols, c->compression ? &c->want : NULL,
                              &c->arena, &sub, &deflate, &msg) < 0) {
        fail(c, -EPROTO, resp.status == 101 ? 0 : resp.status, &resp.headers, msg);
        return;
    }
    succeed(c, &resp, sub, &deflate);
}

static void start_handshake(struct ws_connect *c)
{
    tp_loop_remove_fd(c->loop, c->fd);
    set_state(c, CS_HANDSHAKE);
    c->s = tp_stream_new(c->loop, c->fd, NULL);
    tp_stream_set_close_callback(c->s, on_stream_close, c);
    tp_stream_write(c->s, tp_buf_data(&c->req), c->req.len, NULL, NULL);
    tp_stream_read_until(c->s, TP_SLICE_LIT("\r\n\r\n"), MAX_HEAD, on_head, c);
}

static void try_next(struct ws_connect *c);

static void on_connect_event(tp_loop *loop, int fd, unsigned events, void *arg)
{
    (void)events;
    struct ws_connect *c = arg;
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err == 0) {
        start_handshake(c);
        return;
    }
    tp_loop_remove_fd(loop, fd);
    close(fd);
    c->fd = -1;
    c->last_error = -err;
    try_next(c);
}

/* Connects to the next address; reports the last error when none is left. */
static void try_next(struct ws_connect *c)
{
    for (; c->next < c->addrs->n; c->next++) {
        const tp_address *a = &c->addrs->addrs[c->next];
        int fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            c->last_error = -errno;
            continue;
        }
        if ((connect(fd, (const struct sockaddr *)&a->addr, a->addrlen) == 0 ||
             errno == EINPROGRESS) &&
            tp_loop_add_fd(c->loop, fd, TP_WRITE, on_connect_event, c) == 0) {
            c->fd = fd;
            c->next++;
            return;
        }
        c->last_error = -errno;
        close(fd);
    }
    fail_errno(c, c->last_error ? c->last_error : -ECONNREFUSED, "cannot connect to");
}

static void on_timeout(tp_loop *loop, void *arg)
{
    (void)loop;
    struct ws_connect *c = arg;
    fail(c, -ETIMEDOUT, 0, NULL,
         tp_arena_printf(&c->arena, "timed out after %g s connecting to %s", c->timeout,
                         c->url.netloc));
}

static void connect_first(struct ws_connect *c)
{
    set_state(c, CS_CONNECTING);
    c->next = 0;
    c->fd = -1;
    try_next(c);
}

/* opts.resolver's answer, on the loop; after a timeout (DONE) it only frees c. */
static void resolved(tp_future *f, void *arg)
{
    struct ws_connect *c = arg;
    c->resolving = NULL;
    if (c->state == CS_DONE) {
        release(c);
    } else if (tp_future_error(f)) {
        fail(c, -EHOSTUNREACH, 0, NULL,
             tp_arena_printf(&c->arena, "cannot resolve %s", tp_future_error_message(f)));
    } else {
        const tp_address_list *l = tp_future_result(f);
        size_t size = sizeof(*l) + l->n * sizeof(l->addrs[0]);
        c->addrs = memcpy(tp_malloc(size), l, size);
        connect_first(c);
    }
    tp_future_unref(f);
}

/* With opts.resolver a host name is resolved on its threads; else (and for a numeric host,
 * which getaddrinfo answers without waiting) getaddrinfo runs here, blocking the loop. */
static void start(tp_loop *loop, void *arg)
{
    struct ws_connect *c = arg;
    tp_timer_init(&c->timer, on_timeout, c);
    tp_timer_start_at(loop, &c->timer, tp_loop_time(loop) + c->timeout);
    if (c->resolver && !tp_is_valid_ip(c->url.host, strlen(c->url.host))) {
        set_state(c, CS_RESOLVING);
        c->resolving = tp_resolve(c->resolver, loop, c->url.host, atoi(c->url.port), AF_UNSPEC);
        tp_future_add_done_callback(c->resolving, resolved, c);
        return;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res;
    int rc = getaddrinfo(c->url.host, c->url.port, &hints, &res);
    if (rc != 0) {
        fail(c, -EHOSTUNREACH, 0, NULL,
             tp_arena_printf(&c->arena, "cannot resolve %s: %s", c->url.host, gai_strerror(rc)));
        return;
    }
    c->addrs = tp_address_list_new(res);
    freeaddrinfo(res);
    connect_first(c);
}

/* 16 random bytes, base64: 24 characters and a NUL. */
static int make_key(char key[25])
{
    unsigned char raw[16];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return -EIO;
    EVP_EncodeBlock((unsigned char *)key, raw, sizeof raw);
    return 0;
}

/* What we offer: p with each zero field taken from Tornado's defaults (so a zeroed struct is
 * the defaults, and setting one flag keeps the rest). */
static tp_ws_deflate_params deflate_want(const tp_ws_deflate_params *p)
{
    tp_ws_deflate_params d = tp_ws_deflate_defaults(), w = *p;
    w.enabled = true;
    w.server_max_window_bits =
        w.server_max_window_bits ? w.server_max_window_bits : d.server_max_window_bits;
    w.client_max_window_bits =
        w.client_max_window_bits ? w.client_max_window_bits : d.client_max_window_bits;
    w.compression_level = w.compression_level ? w.compression_level : d.compression_level;
    w.mem_level = w.mem_level ? w.mem_level : d.mem_level;
    return w;
}

static void copy_opts(struct ws_connect *c, const tp_ws_connect_opts *o)
{
    c->timeout = o->connect_timeout > 0 ? o->connect_timeout : 20;
    c->ws = o->ws;
    c->resolver = o->resolver;
    c->compression = o->compression;
    if (o->compression)
        c->want = deflate_want(&o->deflate);
    size_t n = 0;
    while (o->subprotocols && o->subprotocols[n])
        n++;
    if (!o->subprotocols)
        return;
    c->subprotocols = tp_arena_alloc(&c->arena, (n + 1) * sizeof(char *));
    for (size_t i = 0; i < n; i++)
        c->subprotocols[i] =
            tp_arena_strndup(&c->arena, o->subprotocols[i], strlen(o->subprotocols[i]));
    c->subprotocols[n] = NULL;
}

/* The request and the expected accept value. */
static int prepare(struct ws_connect *c, const tp_ws_connect_opts *o)
{
    char key[25];
    tp_buf offer = {0};
    if (make_key(key) < 0)
        return -EIO;
    tp_ws_accept_key(tp_slice_cstr(key), c->accept);
    if (c->compression)
        tp_ws_deflate_write_offer(&c->want, &offer);
    int rc = tp__ws_build_request(&c->req, &c->url, key, o,
                                  c->compression ? tp_buf_slice(&offer) : TP_SLICE_NULL);
    tp_buf_free(&offer);
    return rc;
}

int tp_ws_connect(tp_loop *loop, const char *url, const tp_ws_connect_opts *o,
                  const tp_ws_callbacks *cb, void *arg, tp_ws_connect_fn done, void *done_arg)
{
    static const tp_ws_connect_opts none;
    if (!loop || !url || !cb || !done)
        return -EINVAL;
    o = o ? o : &none;
    struct ws_connect *c = tp_calloc(1, sizeof *c);
    *c = (struct ws_connect){
        .loop = loop, .fd = -1, .cb = *cb, .arg = arg, .done = done, .done_arg = done_arg};
    tp_arena_init(&c->arena, 0);
    int rc = tp__ws_parse_url(url, &c->arena, &c->url);
    if (rc == 0) {
        copy_opts(c, o);
        rc = prepare(c, o);
    }
    if (rc < 0) {
        release(c);
        return rc;
    }
    tp_loop_add_callback(loop, start, c);
    return 0;
}
