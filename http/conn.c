/* The HTTP/1.1 server connection: reads request heads (resumable, zero-copy), hands requests
 * to the delegate one at a time (pipelined requests wait in the read buffer), feeds bodies
 * to the decoder (body.c), frames responses with the framer (response.c), and decides
 * between keep-alive and close. This is the one file that touches a connection. */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "http/body.h"
#include "http/conn_internal.h"
#include "http/date.h"
#include "http/h2/h2.h"
#include "http/request_ops.h"
#include "http/response.h"

/* A connection's life, one state at a time (debug builds assert each transition in
 * set_state):
 *
 *   HEAD ── a head ──▶ BODY ── body complete ──▶ HANDLER ── finished, kept ──▶ HEAD
 *     (no body: HEAD ── a head ──▶ HANDLER)
 *   HEAD, BODY, HANDLER ── refused, or finished and not kept ──▶ CLOSING (closes after the flush)
 *   any ── the stream closed, was detached, or the server let go ──▶ GONE
 *
 * While it is not GONE the connection is in one of its server's lists (HEAD: idle, by
 * deadline; the others: busy). It is referenced by its stream (until the stream's close
 * callback or tp_http_detach), by the request in flight (until tp_http_finish) and by the
 * functions that call out to the delegate while it may drop the others; conn_unref frees it
 * when the last reference goes, and is the one place a connection's memory goes. */
enum conn_state { CONN_HEAD, CONN_BODY, CONN_HANDLER, CONN_CLOSING, CONN_GONE };

enum conn_flag {
    CF_KEEP_ALIVE = 1 << 0,  /* the request in flight allows another after it */
    CF_OUTPUT_WAIT = 1 << 1, /* too much output queued: the next head waits for the drain */
    CF_IN_DATA = 1 << 2,     /* inside the stream's data callback */
    CF_ADDR_INET = 1 << 3,   /* addr is an IPv4 address (4 bytes) */
    CF_ADDR_INET6 = 1 << 4,  /* addr is an IPv6 address */
    CF_TOLD = 1 << 5,        /* the delegate heard that the client left (request in flight) */
    CF_HTTPS = 1 << 6,       /* a PROXY header said the client used TLS: protocol https */
};

/* 80 bytes: one jemalloc size class for each idle keep-alive connection. */
struct tp_http_conn {
    tp_http_server *server; /* NULL once GONE */
    tp_http_conn *prev, *next;
    tp_stream *stream; /* NULL once closed or detached */
    tp_request *req;   /* the request in flight, or NULL */
    tp_http_parser parser;
    uint8_t state; /* enum conn_state */
    uint8_t refs;
    uint8_t flags;         /* enum conn_flag bits */
    uint32_t deadline;     /* HEAD: idle deadline in ticks (see ticks_of) */
    uint32_t written_mark; /* bytes the client had taken when the deadline last passed */
    uint8_t addr[16];      /* the peer's address (CF_ADDR_*; see store_addr) */
};

_Static_assert(sizeof(struct tp_http_conn) <= 80,
               "an idle connection fits jemalloc's 80-byte class");

/* One request/response exchange, in the request's block right after the request: body
 * decoding and response framing state. An idle connection carries none of it. */
typedef struct tp_exchange {
    tp_body_decoder body;
    tp_buf body_buf; /* the buffered body (non-streaming delegates) */
    tp_framing resp;
    bool asked_keep_alive; /* an HTTP/1.0 request with Connection: keep-alive */
    tp_timer body_timer;   /* body_timeout, while the body is read */
} tp_exchange;

/* A client that pipelines requests without reading the answers would make us queue output
 * without bound: past this much unsent output, the next request waits until it drained. */
#define OUTPUT_HIGH_WATER (1u << 20)

/* Idle deadlines are 32-bit ticks of 1/64 s of loop time, compared wrap-safe; a timeout
 * longer than MAX_TIMEOUT_TICKS (194 days) counts as that. */
#define TICKS_PER_SEC     64
#define MAX_TIMEOUT_TICKS (1u << 30)

static size_t on_data(tp_stream *s, tp_slice d, bool eof, void *arg);
static void on_stream_closed(tp_stream *s, int error, void *arg);
static void on_idle_timer(tp_loop *loop, void *arg);
static void on_body_timeout(tp_loop *loop, void *arg);

/* ---- the request block --------------------------------------------------------------- */

/* The request, its exchange and the arena's first block share one cached block: no
 * allocator call for a typical request. */
#define REQ_SPACE  ((sizeof(tp_request) + 15) & ~(size_t)15)
#define XCHG_SPACE ((sizeof(tp_exchange) + 15) & ~(size_t)15)

static tp_exchange *xchg(const tp_request *req)
{
    return (tp_exchange *)(void *)((char *)req + REQ_SPACE);
}

static tp_request *request_new(void)
{
    tp_request *req = tp_block_get();
    memset(req, 0, REQ_SPACE + XCHG_SPACE);
    tp_arena_init_in(&req->arena, (char *)req + REQ_SPACE + XCHG_SPACE,
                     TP_BLOCK_SIZE - REQ_SPACE - XCHG_SPACE, 0);
    return req;
}

static void request_free(tp_request *req)
{
    tp_exchange *x = xchg(req);
    tp__body_reset(&x->body);
    tp_buf_free(&x->body_buf);
    tp_arena_destroy(&req->arena);
    tp_block_put(req);
}

/* ---- references, lists and states ---------------------------------------------------- */

static void conn_ref(tp_http_conn *c)
{
    c->refs++;
}

static void conn_unref(tp_http_conn *c)
{
    assert(c->refs > 0);
    if (--c->refs)
        return;
    assert(c->state == CONN_GONE && !c->stream && !c->req);
    tp_free(c);
}

static void list_push(tp_conn_list *l, tp_http_conn *c)
{
    c->prev = l->tail;
    c->next = NULL;
    if (l->tail)
        l->tail->next = c;
    else
        l->head = c;
    l->tail = c;
}

static void list_remove(tp_conn_list *l, tp_http_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        l->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        l->tail = c->prev;
    c->prev = c->next = NULL;
}

static uint32_t ticks_of(double t)
{
    return (uint32_t)(uint64_t)(t * TICKS_PER_SEC); /* loop time is positive: truncation floors */
}

static bool due(uint32_t deadline, uint32_t now)
{
    return (int32_t)(deadline - now) <= 0;
}

/* The idle timeout in ticks (idle_grace while draining), computed when either changes. */
static void update_idle_ticks(tp_http_server *srv)
{
    double t = srv->draining ? srv->idle_grace : srv->opts.idle_connection_timeout;
    if (srv->draining && t <= 0)
        srv->idle_ticks = 1;
    else if (t <= 0 || t * TICKS_PER_SEC >= MAX_TIMEOUT_TICKS)
        srv->idle_ticks = MAX_TIMEOUT_TICKS;
    else
        srv->idle_ticks = (uint32_t)ceil(t * TICKS_PER_SEC);
}

/* Arms the idle timer for the first deadline unless it is armed: connections join the list
 * at its tail, so an armed timer is due at or before the first deadline (it looks again
 * when it fires). */
static void arm_idle_timer(tp_http_server *srv)
{
    tp_http_conn *first = srv->idle.head;
    if (!first || tp_timer_armed(&srv->idle_timer))
        return;
    double now = tp_loop_time(srv->loop);
    int32_t left = (int32_t)(first->deadline - ticks_of(now));
    double when = (double)ticks_of(now) / TICKS_PER_SEC + (double)left / TICKS_PER_SEC;
    tp_timer_start_at(srv->loop, &srv->idle_timer, when + 1e-4);
}

/* The connection starts waiting for a head: a new deadline, at the idle list's tail (one
 * tick more, so rounding never makes it early). */
static void idle_push(tp_http_conn *c)
{
    tp_http_server *srv = c->server;
    c->deadline = ticks_of(tp_loop_time(srv->loop)) + srv->idle_ticks + 1;
    list_push(&srv->idle, c);
    arm_idle_timer(srv);
}

#ifndef NDEBUG
static bool transition_allowed(enum conn_state from, enum conn_state to)
{
    switch (from) {
    case CONN_HEAD:
        return to == CONN_BODY || to == CONN_HANDLER || to == CONN_CLOSING || to == CONN_GONE;
    case CONN_BODY: return to == CONN_HANDLER || to == CONN_CLOSING || to == CONN_GONE;
    case CONN_HANDLER: return to == CONN_HEAD || to == CONN_CLOSING || to == CONN_GONE;
    case CONN_CLOSING: return to == CONN_GONE;
    case CONN_GONE: return false;
    }
    return false;
}
#endif

/* The connection leaves its server for good. */
static void unlink_conn(tp_http_conn *c, tp_http_server *srv)
{
    srv->nconns--;
    c->server = NULL;
    tp__server_conn_gone(srv);
}

static void set_state(tp_http_conn *c, enum conn_state to)
{
    assert(transition_allowed((enum conn_state)c->state, to));
    tp_http_server *srv = c->server;
    if (c->state == CONN_BODY && c->req)
        tp_timer_stop(srv->loop, &xchg(c->req)->body_timer);
    if (srv)
        list_remove(c->state == CONN_HEAD ? &srv->idle : &srv->busy, c);
    c->state = (uint8_t)to;
    if (!srv)
        return;
    if (to == CONN_GONE)
        unlink_conn(c, srv);
    else if (to == CONN_HEAD)
        idle_push(c);
    else
        list_push(&srv->busy, c);
}

/* The request in flight can still be answered. */
static bool writable(const tp_http_conn *c)
{
    return c->state == CONN_BODY || c->state == CONN_HANDLER;
}

/* The delegate learns that the client left the request in flight, once per request (a FIN,
 * then a reset, is one departure). */
static void tell_client_left(tp_http_conn *c, tp_http_server *srv)
{
    c->flags |= CF_TOLD;
    conn_ref(c); /* the delegate may finish the request in there */
    srv->delegate.connection_closed(c->req, srv->ctx);
    conn_unref(c);
}

/* To CLOSING or GONE: from then on the client is gone for the request in flight (its writes
 * are dropped), and the delegate is told, so it can clean up and call tp_http_finish. */
static void client_left(tp_http_conn *c, enum conn_state to)
{
    tp_http_server *srv = c->server;
    bool tell =
        c->req && writable(c) && srv && srv->delegate.connection_closed && !(c->flags & CF_TOLD);
    if (c->state == to)
        return;
    set_state(c, to);
    if (tell)
        tell_client_left(c, srv);
}

/* No more requests: what is queued goes out, then the stream closes (after `linger` seconds
 * of discarding input, so the peer reads the response before a reset). */
static void close_after_flush(tp_http_conn *c, double linger)
{
    set_state(c, CONN_CLOSING);
    tp_stream_close_after_flush(c->stream, linger);
}

/* ---- the peer's address -------------------------------------------------------------- */

/* An IPv4 peer is kept as its text (at most 15 characters and a NUL fit the 16 bytes), so a
 * request points at it; an IPv6 one as its 16 bytes, formatted per request. */
static void store_addr(tp_http_conn *c, const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct in_addr *a = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
        if (inet_ntop(AF_INET, a, (char *)c->addr, sizeof(c->addr)))
            c->flags |= CF_ADDR_INET;
    } else if (sa->sa_family == AF_INET6) {
        memcpy(c->addr, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        c->flags |= CF_ADDR_INET6;
    }
}

/* The address as text: in the connection (IPv4), written to buf (IPv6; at least
 * INET6_ADDRSTRLEN bytes), or "0.0.0.0" for a Unix socket, as Tornado's request.remote_ip. */
static tp_slice peer_ip(const tp_http_conn *c, char *buf)
{
    if (c->flags & CF_ADDR_INET)
        return (tp_slice){(const char *)c->addr, strnlen((const char *)c->addr, sizeof(c->addr))};
    if ((c->flags & CF_ADDR_INET6) && inet_ntop(AF_INET6, c->addr, buf, INET6_ADDRSTRLEN))
        return tp_slice_cstr(buf);
    return TP_SLICE_LIT("0.0.0.0");
}

/* ---- starting, closing, timing out --------------------------------------------------- */

void tp__conn_start(tp_http_server *srv, int fd, const struct sockaddr *peer, bool https)
{
    tp_stream_opts so = {.max_buffer_size = srv->opts.max_buffer_size,
                         .read_chunk_size = srv->opts.chunk_size};
    tp__conn_start_stream(srv, tp_stream_new(srv->loop, fd, &so), peer, https);
}

tp_stream *tp__request_stream(const tp_request *req)
{
    return req->conn ? req->conn->stream : NULL;
}

void tp__conn_start_stream(tp_http_server *srv, tp_stream *s, const struct sockaddr *peer,
                           bool https)
{
    tp_http_conn *c = tp_calloc(1, sizeof(*c));
    c->server = srv;
    c->refs = 1; /* the stream's */
    c->flags = https ? CF_HTTPS : 0;
    store_addr(c, peer);
    srv->nconns++;
    srv->stats->connections++;
    c->stream = s;
    tp_stream_set_close_callback(c->stream, on_stream_closed, c);
    idle_push(c); /* calloc made it HEAD */
    tp_stream_set_data_handler(c->stream, on_data, c);
}

/* The stream is gone (peer closed, error, timeout, or our own close): its reference goes. A
 * request still in the delegate's hands keeps the connection until tp_http_finish. */
static void on_stream_closed(tp_stream *s, int error, void *arg)
{
    (void)s, (void)error;
    tp_http_conn *c = arg;
    client_left(c, CONN_GONE);
    c->stream = NULL;
    conn_unref(c);
}

static void close_conn(tp_http_conn *c)
{
    conn_ref(c);
    client_left(c, CONN_GONE);
    if (c->stream)
        tp_stream_close(c->stream); /* its close callback drops the stream's reference */
    conn_unref(c);
}

void tp__conns_close_all(tp_http_server *srv)
{
    tp__h2_close_all(srv);
    while (srv->idle.head)
        close_conn(srv->idle.head);
    while (srv->busy.head)
        close_conn(srv->busy.head);
    tp_timer_stop(srv->loop, &srv->idle_timer);
}

/* Every idle connection's deadline becomes at most now + idle_grace; the list stays in
 * order, as every deadline moves to the same bound or stays before it. */
void tp__conns_drain(tp_http_server *srv)
{
    tp__h2_drain_all(srv);
    update_idle_ticks(srv);
    uint32_t bound = ticks_of(tp_loop_time(srv->loop)) + srv->idle_ticks + 1;
    for (tp_http_conn *c = srv->idle.head; c; c = c->next)
        if (!due(c->deadline, bound))
            c->deadline = bound;
    tp_timer_stop(srv->loop, &srv->idle_timer); /* it may be due after the new deadlines */
    arm_idle_timer(srv);
}

/* A connection's wait for a head is over. A client still taking the last response is not
 * idle: progress is what it took (bytes written minus those still unsent in the socket,
 * whose buffer can hold a slow reader's next seconds of data); one that stops is dropped a
 * timeout later. Draining, an idle keep-alive connection ends with a FIN. */
static void idle_expired(tp_http_conn *c)
{
    tp_http_server *srv = c->server;
    uint64_t unsent = tp_stream_unsent(c->stream);
    uint32_t taken = (uint32_t)(tp_stream_bytes_written(c->stream) - unsent);
    if (unsent && taken != c->written_mark && !tp_stream_closed(c->stream)) {
        c->written_mark = taken;
        list_remove(&srv->idle, c);
        idle_push(c);
        return;
    }
    if (srv->draining && !c->parser.start_line_done && !tp_stream_buffered(c->stream)) {
        close_after_flush(c, srv->opts.linger);
    } else {
        char buf[INET6_ADDRSTRLEN];
        tp_slice ip = peer_ip(c, buf);
        tp_log_debug("closing idle connection from %.*s", TP_SLICE_FMT(ip));
        set_state(c, CONN_CLOSING);
        tp_stream_close(c->stream);
    }
}

static void on_idle_timer(tp_loop *loop, void *arg)
{
    tp_http_server *srv = arg;
    uint32_t now = ticks_of(tp_loop_time(loop));
    while (srv->idle.head && due(srv->idle.head->deadline, now))
        idle_expired(srv->idle.head);
    arm_idle_timer(srv);
}

void tp__conns_init(tp_http_server *srv)
{
    tp_timer_init(&srv->idle_timer, on_idle_timer, srv);
    update_idle_ticks(srv);
}

static void on_body_timeout(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_http_conn *c = arg;
    char buf[INET6_ADDRSTRLEN];
    tp_slice ip = peer_ip(c, buf);
    tp_log_info("Timeout reading body from %.*s", TP_SLICE_FMT(ip));
    tp_stream_close(c->stream);
}

/* Counts a finished request into the server's stats. */
static void count_request(tp_http_server *srv, const tp_request *req, uint64_t body_in)
{
    if (srv)
        tp_http_stats_record(srv->stats, req->method, req->status,
                             tp__monotonic() - req->start_time, body_in, req->bytes_out);
}

/* Answers a framing error with `status` and no body, then closes (after a linger). */
static void reject(tp_http_conn *c, int status, const char *why)
{
    char buf[INET6_ADDRSTRLEN];
    tp_slice ip = peer_ip(c, buf);
    tp_log_info("Malformed HTTP message from %.*s: %s", TP_SLICE_FMT(ip), why);
    if (!c->req || !xchg(c->req)->resp.head_written) {
        char head[256];
        int n = snprintf(head, sizeof(head),
                         "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Length: 0\r\n"
                         "Connection: close\r\n\r\n",
                         status, tp_http_reason(status), tp_http_date_now());
        tp_stream_write(c->stream, head, (size_t)n, NULL, NULL);
        if (c->req) {
            xchg(c->req)->resp.head_written = true;
            c->req->status = status;
        } else if (c->server) {
            tp_http_stats_record(c->server->stats, TP_SLICE_NULL, status, 0, 0, 0);
        }
    }
    c->flags &= (uint8_t)~CF_KEEP_ALIVE;
    tp_stream_close_after_flush(c->stream, c->server ? c->server->opts.linger : 0);
    client_left(c, CONN_CLOSING);
}

static const char *reject_reason(int status)
{
    switch (status) {
    case 413: return "body too large";
    case 414: return "request-target too long";
    case 431: return "header block too large or too many headers";
    case 501: return "unsupported transfer coding";
    case 505: return "unsupported HTTP version";
    default: return "malformed request";
    }
}

/* ---- requests ------------------------------------------------------------------------ */

/* HTTP/1.1 keeps the connection unless "close" is among the Connection tokens; HTTP/1.0
 * only with "keep-alive" and a request whose end is known (Tornado's rule). */
static bool decide_keep_alive(tp_http_conn *c, tp_request *req)
{
    const tp_http_server_opts *o = &c->server->opts;
    tp_exchange *x = xchg(req);
    tp_slice conn = tp_headers_get_joined(&req->headers, TP_SLICE_LIT("Connection"));
    if (req->version_minor >= 1)
        return !o->no_keep_alive && (!conn.p || !tp_list_has(conn, TP_SLICE_LIT("close")));
    x->asked_keep_alive = conn.p && tp_list_has(conn, TP_SLICE_LIT("keep-alive"));
    if (!x->asked_keep_alive || o->no_keep_alive || x->body.chunked)
        return false; /* HTTP/1.0 with Transfer-Encoding: close after it (RFC 9112 §6.1) */
    return tp_headers_get(&req->headers, TP_SLICE_LIT("Content-Length")).p ||
           tp_slice_eq(req->method, TP_SLICE_LIT("GET")) ||
           tp_slice_eq(req->method, TP_SLICE_LIT("HEAD"));
}

static void expect_continue(tp_http_conn *c, tp_request *req)
{
    tp_slice e = tp_headers_get(&req->headers, TP_SLICE_LIT("Expect"));
    if (e.p && req->version_minor >= 1 && tp_slice_caseeq(e, TP_SLICE_LIT("100-continue")) &&
        !xchg(req)->resp.head_written && c->stream)
        tp_stream_write(c->stream, "HTTP/1.1 100 Continue\r\n\r\n", 25, NULL, NULL);
}

/* A new request from its head, or NULL after refusing it. */
static tp_request *make_request(tp_http_conn *c, const char *head, size_t len)
{
    tp_http_server *srv = c->server;
    tp_request *req = request_new();
    char buf[INET6_ADDRSTRLEN];
    req->remote_ip = peer_ip(c, buf); /* the connection outlives its request */
    if (req->remote_ip.p == buf)
        req->remote_ip = tp_arena_slice_dup(&req->arena, req->remote_ip);
    req->conn = c;
    req->start_time = tp_loop_time(srv->loop);
    if ((c->flags & CF_HTTPS) && !srv->opts.protocol) /* --protocol wins, as on HTTP/2 */
        req->protocol = TP_SLICE_LIT("https");        /* before xheaders, which may replace it */
    int status = tp__request_build(req, head, len, c->parser.lines, &srv->opts);
    if (!status)
        status = tp__body_begin(&xchg(req)->body, &req->headers, srv->opts.max_body_size,
                                srv->opts.max_header_size, srv->opts.decompress_request);
    if (status) {
        request_free(req);
        reject(c, status, reject_reason(status));
        return NULL;
    }
    return req;
}

static void body_done(tp_http_conn *c)
{
    tp_request *req = c->req;
    tp_exchange *x = xchg(req);
    if (c->state == CONN_BODY)
        set_state(c, CONN_HANDLER);
    if (!req->stream_body && x->body_buf.len)
        req->body = tp_buf_slice(&x->body_buf);
    c->server->delegate.request_complete(req, c->server->ctx);
}

/* A complete head: build, validate and hand the request over. Returns false if the
 * connection reads no further heads now (the request was refused or answered for good). */
static bool start_request(tp_http_conn *c, const char *head, size_t len)
{
    tp_http_server *srv = c->server;
    tp_request *req = make_request(c, head, len);
    if (!req)
        return false;
    tp_exchange *x = xchg(req);
    c->req = req;
    conn_ref(c); /* the request's, until tp_http_finish */
    c->flags = (uint8_t)((c->flags & ~(CF_KEEP_ALIVE | CF_TOLD)) |
                         (decide_keep_alive(c, req) && !srv->draining ? CF_KEEP_ALIVE : 0));
    srv->requests++;
    set_state(c, tp__body_pending(&x->body) ? CONN_BODY : CONN_HANDLER);
    if (srv->delegate.headers_received(req, srv->ctx) != TP_OK && c->req == req &&
        !x->resp.head_written) {
        tp_http_write_head(req, 500, TP_SLICE_NULL, NULL);
        tp_http_finish(req);
        return c->state == CONN_HEAD;
    }
    if (c->req != req || !writable(c))
        return c->state == CONN_HEAD; /* answered (or detached) from headers_received */
    if (c->state != CONN_BODY) {
        body_done(c);
        return true;
    }
    expect_continue(c, req);
    if (srv->opts.body_timeout > 0) {
        tp_timer_init(&x->body_timer, on_body_timeout, c);
        tp_timer_start_at(srv->loop, &x->body_timer, req->start_time + srv->opts.body_timeout);
    }
    return true;
}

/* Decoded body bytes: buffered, or handed to the delegate in chunk_size pieces. */
static int body_sink(void *arg, const char *p, size_t n)
{
    tp_http_conn *c = arg;
    tp_http_server *srv = c->server;
    tp_request *req = c->req;
    if (!req->stream_body) {
        tp_buf_append(&xchg(req)->body_buf, p, n);
        return 0;
    }
    while (n) {
        size_t k = n < srv->opts.chunk_size ? n : srv->opts.chunk_size;
        if (srv->delegate.data_received(req, (tp_slice){p, k}, srv->ctx) != TP_OK)
            return 400;
        if (c->state != CONN_BODY)
            return TP_BODY_STOP; /* answered meanwhile (req may be gone) */
        p += k;
        n -= k;
    }
    return 0;
}

/* Feeds body bytes from d; returns how many were used, or -1 once the connection is done. */
static ssize_t feed_body(tp_http_conn *c, tp_slice d, bool eof)
{
    bool done = false;
    ssize_t k = d.n ? tp__body_decode(&xchg(c->req)->body, d, body_sink, c, &done) : 0;
    if (k < 0) {
        reject(c, (int)-k, reject_reason((int)-k));
        return -1;
    }
    if (done && c->state == CONN_BODY)
        body_done(c);
    if (c->state == CONN_BODY && eof)
        tp_stream_close(c->stream); /* the client stopped sending mid-body */
    return k;
}

static void on_drained(tp_stream *s, int status, void *arg)
{
    tp_http_conn *c = arg;
    c->flags &= (uint8_t)~CF_OUTPUT_WAIT;
    if (status == 0 && c->state == CONN_HEAD)
        tp_stream_resume(s);
}

/* Scans for the next head in rest and starts its request. Returns the bytes used, 0 to wait
 * for more, or -1 once the connection reads no further heads now. */
static ssize_t next_head(tp_http_conn *c, tp_stream *s, tp_slice rest, bool eof)
{
    if (!rest.n) {
        if (eof)
            close_after_flush(c, 0); /* half-closed: answered, now close */
        return 0;
    }
    if (tp_stream_pending_write(s) > OUTPUT_HIGH_WATER) {
        c->flags |= CF_OUTPUT_WAIT;
        tp_stream_write(s, NULL, 0, on_drained, c);
        return 0;
    }
    int status = 400;
    int r = tp_http_scan_head(&c->parser, rest.p, rest.n, &c->server->limits, &status);
    if (r == TP_AGAIN) {
        if (eof)
            close_after_flush(c, 0);
        return 0;
    }
    if (r < 0) {
        reject(c, status, reject_reason(status));
        return -1;
    }
    return start_request(c, rest.p, (size_t)r) ? r : -1;
}

/* Serves the requests in d from offset used on, one after another, until one is in the
 * handler's hands or more bytes are needed; returns the new offset. */
static size_t serve_buffered(tp_http_conn *c, tp_stream *s, tp_slice d, size_t used, bool eof)
{
    while (c->stream && (c->state == CONN_HEAD || c->state == CONN_BODY)) {
        tp_slice rest = {d.p + used, d.n - used};
        bool body = c->state == CONN_BODY;
        ssize_t k = body ? feed_body(c, rest, eof) : next_head(c, s, rest, eof);
        if (k < 0)
            return d.n;
        used += (size_t)k;
        if (body ? c->state == CONN_BODY : k == 0)
            break;
    }
    return used;
}

/* A client that starts with the HTTP/2 preface (prior knowledge) goes to http/h2: 1 when it
 * went (c is gone), TP_AGAIN while d is a prefix of the preface, else 0. */
static int prior_knowledge(tp_http_conn *c, tp_stream *s, tp_slice d)
{
    if (!c->server->opts.h2.http2 || tp_stream_bytes_written(s) || tp_stream_pending_write(s))
        return 0;
    int r = tp_h2_preface(d);
    if (r != 1)
        return r;
    char buf[INET6_ADDRSTRLEN];
    tp_stream_set_close_callback(s, NULL, NULL);
    tp_stream_set_data_handler(s, NULL, NULL);
    /* counted in before c leaves */
    tp_h2_serve(c->server, s, peer_ip(c, buf), (c->flags & CF_HTTPS) != 0);
    set_state(c, CONN_GONE);
    c->stream = NULL;
    conn_unref(c);
    return 1;
}

/* The stream's data callback: as many requests as the buffer holds, one after another. The
 * stream is paused while a request is in the handler's hands, and calls this once more if
 * the client shuts down its side meanwhile (eof): the delegate hears of it at once (Tornado's
 * on_connection_close) while the response can still be written, to a half-closed client. If
 * that finishes the request, the requests the client sent before its FIN are served. */
static size_t on_data(tp_stream *s, tp_slice d, bool eof, void *arg)
{
    tp_http_conn *c = arg;
    size_t used = 0;
    if (d.n && d.p[0] == 'P' && c->state == CONN_HEAD) {
        int r = prior_knowledge(c, s, d);
        if (r == 1 || (r == TP_AGAIN && !eof))
            return 0; /* HTTP/2's now, or wait for the rest of its preface */
    }
    if (c->flags & CF_OUTPUT_WAIT)
        return 0; /* on_drained resumes the stream, and this sees the EOF then */
    conn_ref(c);  /* a request finished and detached in here must not free c under us */
    c->flags |= CF_IN_DATA;
    for (;;) {
        used = serve_buffered(c, s, d, used, eof);
        if (!eof || c->state != CONN_HANDLER || (c->flags & CF_TOLD) ||
            !c->server->delegate.connection_closed)
            break;
        tell_client_left(c, c->server);
    }
    c->flags &= (uint8_t)~CF_IN_DATA;
    if (c->stream && (c->state == CONN_HANDLER || (c->flags & CF_OUTPUT_WAIT)))
        tp_stream_pause(s); /* pipelined requests wait until this one is answered */
    conn_unref(c);
    return used;
}

/* The response is complete (c->req already released): next request, or close. */
static void request_done(tp_http_conn *c, bool reusable)
{
    if (c->state == CONN_GONE || c->state == CONN_CLOSING)
        return; /* closing: the stream's close callback drops the last reference */
    if (!reusable) {
        close_after_flush(c, c->server->opts.linger);
        return;
    }
    c->parser = (tp_http_parser){0};
    set_state(c, CONN_HEAD);
    if (!(c->flags & (CF_IN_DATA | CF_OUTPUT_WAIT)))
        tp_stream_resume(c->stream);
}

/* ---- the response API (http/request.h) ----------------------------------------------- */

/* A request of another protocol (HTTP/2): its own response calls (http/request_ops.h). */
#define OTHER(req) __builtin_expect((req)->ops != NULL, 0)

int tp_http_write_head(tp_request *req, int status, tp_slice reason, const tp_headers *headers)
{
    if (OTHER(req))
        return req->ops->write_head(req, status, reason, headers);
    tp_http_conn *c = req->conn;
    tp_exchange *x = xchg(req);
    static __thread tp_buf b;
    if (x->resp.head_written)
        return -EALREADY;
    if (status < 100 || status > 999 || (reason.p && !tp_http_valid_header_value(reason)))
        return -EINVAL;
    if (!writable(c)) {
        x->resp.head_written = true;
        req->status = status;
        return -EPIPE;
    }
    tp_frame_ctx ctx = {.asked_keep_alive = x->asked_keep_alive,
                        .body_unread = c->state == CONN_BODY,
                        .keep_alive = c->flags & CF_KEEP_ALIVE};
    tp_buf_clear(&b);
    int r = tp__frame_head(&x->resp, &ctx, req, status, reason, headers, &b);
    if (r < 0)
        return r;
    if (!ctx.keep_alive)
        c->flags &= (uint8_t)~CF_KEEP_ALIVE;
    req->status = status;
    return tp_stream_write(c->stream, tp_buf_data(&b), b.len, NULL, NULL);
}

/* 0 to write n body bytes (after the chunk line in pre, when *pre_n), 1 to drop them, or
 * -errno. */
static int body_check(tp_request *req, size_t n, char pre[24], size_t *pre_n)
{
    tp_exchange *x = xchg(req);
    *pre_n = 0;
    if (!writable(req->conn))
        return -EPIPE;
    if (!x->resp.head_written)
        return -EINVAL;
    return tp__frame_body(&x->resp, req, n, pre, pre_n);
}

/* Queues n body bytes, memory (p) or a file (fd >= 0), framed as a chunk when chunked. */
static int write_framed(tp_request *req, const void *p, int fd, off_t off, size_t n, bool close_fd)
{
    tp_stream *s = req->conn->stream;
    char pre[24];
    size_t pre_n;
    int r = body_check(req, n, pre, &pre_n);
    if (r) {
        if (fd >= 0 && close_fd)
            close(fd);
        return r > 0 ? 0 : r;
    }
    req->bytes_out += n;
    if (pre_n)
        tp_stream_write(s, pre, pre_n, NULL, NULL);
    r = fd >= 0 ? tp_stream_sendfile(s, fd, off, n, close_fd, NULL, NULL)
                : tp_stream_write(s, p, n, NULL, NULL);
    if (pre_n && r == 0)
        r = tp_stream_write(s, "\r\n", 2, NULL, NULL);
    return r;
}

int tp_http_write_body(tp_request *req, const void *p, size_t n)
{
    if (OTHER(req))
        return req->ops->write_body(req, p, n);
    return write_framed(req, p, -1, 0, n, false);
}

int tp_http_sendfile(tp_request *req, int fd, off_t off, size_t n, bool close_fd)
{
    if (OTHER(req))
        return req->ops->sendfile(req, fd, off, n, close_fd);
    return write_framed(req, NULL, fd, off, n, close_fd);
}

bool tp_http_client_gone(const tp_request *req)
{
    if (OTHER(req))
        return req->ops->client_gone(req);
    return !writable(req->conn);
}

bool tp_http_head_written(const tp_request *req)
{
    if (OTHER(req))
        return req->ops->head_written(req);
    return xchg(req)->resp.head_written;
}

void tp_http_finish(tp_request *req)
{
    if (OTHER(req)) {
        req->ops->finish(req);
        return;
    }
    tp_http_conn *c = req->conn;
    tp_exchange *x = xchg(req);
    if (writable(c)) {
        if (!x->resp.head_written) {
            tp_headers h;
            tp_headers_init(&h, &req->arena);
            tp_headers_add(&h, TP_SLICE_LIT("Content-Length"), TP_SLICE_LIT("0"));
            tp_http_write_head(req, 200, TP_SLICE_NULL, &h);
        }
        tp_slice tail;
        tp__frame_end(&x->resp, req, &tail);
        if (tail.n)
            tp_stream_write(c->stream, tail.p, tail.n, NULL, NULL);
    }
    bool reusable = (c->flags & CF_KEEP_ALIVE) && !x->resp.close_after && c->state == CONN_HANDLER;
    count_request(c->server, req, x->body.total);
    if (c->state == CONN_BODY)
        tp_timer_stop(c->server->loop, &x->body_timer);
    c->req = NULL;
    request_free(req);
    request_done(c, reusable);
    conn_unref(c); /* the request's */
}

tp_stream *tp_http_upgrade(tp_request *req, int status, tp_slice reason, const tp_headers *headers)
{
    if (OTHER(req))
        return NULL; /* no Upgrade on HTTP/2 */
    tp_http_conn *c = req->conn;
    if (!c->stream || !writable(c) || xchg(req)->resp.head_written)
        return NULL;
    tp_buf b = {0};
    int r = tp__frame_upgrade_head(status, reason, headers, &b);
    if (r == 0)
        r = tp_stream_write(c->stream, tp_buf_data(&b), b.len, NULL, NULL);
    tp_buf_free(&b);
    if (r < 0)
        return NULL;
    req->status = status;
    return tp_http_detach(req);
}

tp_stream *tp_http_detach(tp_request *req)
{
    if (OTHER(req))
        return NULL;
    tp_http_conn *c = req->conn;
    tp_stream *s = c->stream;
    if (!s || !writable(c) || xchg(req)->resp.head_written)
        return NULL;
    tp_stream_set_close_callback(s, NULL, NULL);
    tp_stream_set_data_handler(s, NULL, NULL); /* bytes after this request stay buffered */
    set_state(c, CONN_GONE);                   /* whatever the request still writes is dropped */
    c->stream = NULL;
    conn_unref(c); /* the stream's reference went with it */
    return s;
}

/* ---- for streaming delegates (proxies) ------------------------------------------------- */

void tp_http_pause_body(tp_request *req)
{
    if (OTHER(req)) {
        req->ops->pause_body(req, true);
        return;
    }
    tp_http_conn *c = req->conn;
    if (c->req == req && c->state == CONN_BODY && c->stream)
        tp_stream_pause(c->stream);
}

void tp_http_resume_body(tp_request *req)
{
    if (OTHER(req)) {
        req->ops->pause_body(req, false);
        return;
    }
    tp_http_conn *c = req->conn;
    if (c->req == req && c->state == CONN_BODY && c->stream)
        tp_stream_resume(c->stream);
}

size_t tp_http_output_pending(const tp_request *req)
{
    if (OTHER(req))
        return req->ops->output_pending(req);
    const tp_http_conn *c = req->conn;
    return c->stream && writable(c) ? tp_stream_pending_write(c->stream) : 0;
}

int tp_http_when_drained(tp_request *req, tp_write_fn fn, void *arg)
{
    if (OTHER(req))
        return req->ops->when_drained(req, fn, arg);
    tp_http_conn *c = req->conn;
    if (!c->stream || !writable(c))
        return -EPIPE;
    return tp_stream_write(c->stream, NULL, 0, fn, arg);
}

void tp_http_abort(tp_request *req)
{
    if (OTHER(req)) {
        req->ops->abort(req);
        return;
    }
    tp_http_conn *c = req->conn;
    if (c->req != req || !writable(c))
        return;
    c->flags |= CF_TOLD; /* the caller knows: no connection_closed for this */
    close_conn(c);
}

bool tp_http_xheaders(const tp_request *req)
{
    if (OTHER(req))
        return req->ops->xheaders(req);
    const tp_http_conn *c = req->conn;
    return c->server && c->server->opts.xheaders;
}

tp_slice tp_http_peer_ip(tp_request *req)
{
    if (OTHER(req))
        return req->ops->peer_ip(req);
    char buf[INET6_ADDRSTRLEN];
    tp_slice ip = peer_ip(req->conn, buf);
    return ip.p == buf ? tp_arena_slice_dup(&req->arena, ip) : ip;
}
