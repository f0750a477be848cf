/* The HTTP/1.1 server connection: reads request heads (resumable, zero-copy), validates
 * framing, hands requests to the delegate one at a time (pipelined requests wait in the read
 * buffer), and decides between keep-alive and close. Bodies are in body.c, response framing
 * in response.c. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "http/conn_internal.h"
#include "http/date.h"
#include "platform/socket.h"

static size_t on_data(tp_stream *s, tp_slice d, bool eof, void *arg);
static void on_stream_closed(tp_stream *s, int error, void *arg);
static void on_timer(tp_loop *loop, void *arg);

/* One timer serves the head timeout and the body timeout. It is re-armed lazily: it fires at
 * an old deadline and only then moves to the current one, so a busy keep-alive connection
 * costs no heap operation per request. */
static void set_deadline(tp_http_conn *c, double seconds)
{
    tp_loop *loop = c->server->loop;
    c->deadline = seconds > 0 ? tp_loop_time(loop) + seconds : 0;
    if (c->deadline && (!tp_timer_armed(&c->timer) || c->timer.when > c->deadline))
        tp_timer_start_at(loop, &c->timer, c->deadline);
}

static void enter_head(tp_http_conn *c)
{
    tp_http_server *srv = c->server;
    c->state = CONN_HEAD;
    c->parser = (tp_http_parser){0};
    set_deadline(c, srv->draining ? srv->idle_grace : srv->opts.idle_connection_timeout);
}

void tp__conn_drain(tp_http_conn *c, double idle_grace)
{
    if (c->state == CONN_HEAD && !c->req)
        set_deadline(c, idle_grace > 0 ? idle_grace : 0.001);
}

void tp__conn_start(tp_http_server *srv, int fd, const char *ip)
{
    tp_http_conn *c = tp_calloc(1, sizeof(*c));
    c->server = srv;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->nconns++;
    snprintf(c->remote_ip, sizeof(c->remote_ip), "%s", ip);
    tp_stream_opts so = {.max_buffer_size = srv->opts.max_buffer_size,
                         .read_chunk_size = srv->opts.chunk_size};
    c->stream = tp_stream_new(srv->loop, fd, &so);
    tp_timer_init(&c->timer, on_timer, c);
    tp_stream_set_close_callback(c->stream, on_stream_closed, c);
    enter_head(c);
    tp_stream_set_data_handler(c->stream, on_data, c);
}

static void unlink_conn(tp_http_conn *c)
{
    tp_http_server *srv = c->server;
    if (!srv)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->nconns--;
    c->server = NULL; /* the server may be freed before a detached request finishes */
    c->prev = c->next = NULL;
    tp__server_conn_gone(srv);
}

static void free_conn(tp_http_conn *c)
{
    tp_free(c);
}

/* From now on the client is gone for the request in flight: its writes are dropped, and the
 * delegate is told once, so it can clean up and call tp_http_finish. */
static void mark_gone(tp_http_conn *c)
{
    if (c->gone)
        return;
    c->gone = true;
    c->state = CONN_CLOSED;
    if (c->req && c->server && c->server->delegate.connection_closed)
        c->server->delegate.connection_closed(c->req, c->server->ctx);
}

/* The stream is gone (peer closed, error, timeout, or our own close). A request still in the
 * delegate's hands keeps the conn alive until tp_http_finish. */
static void on_stream_closed(tp_stream *s, int error, void *arg)
{
    (void)error;
    tp_http_conn *c = arg;
    tp_loop *loop = tp_stream_loop(s);
    c->stream = NULL;
    tp_timer_stop(loop, &c->timer);
    c->in_close = true; /* a handler finishing inside mark_gone must not free c under us */
    mark_gone(c);
    c->in_close = false;
    unlink_conn(c);
    if (!c->req)
        free_conn(c);
}

void tp__conn_abort(tp_http_conn *c)
{
    mark_gone(c);
    if (c->stream)
        tp_stream_close(c->stream);
    unlink_conn(c);
}

static void on_timer(tp_loop *loop, void *arg)
{
    tp_http_conn *c = arg;
    if ((c->state != CONN_HEAD && c->state != CONN_BODY) || !c->stream || !c->deadline)
        return;
    if (tp_loop_time(loop) < c->deadline) {
        tp_timer_start_at(loop, &c->timer, c->deadline);
        return;
    }
    /* The wait for the next head starts once the last response is out: a slow reader that
     * keeps taking bytes is not idle (one that stops is dropped a timeout later). */
    /* Progress is what the client took: bytes written minus those still unsent in the socket
     * (a big send buffer can hold a slow reader's next seconds of data). */
    uint64_t unsent = tp_stream_unsent(c->stream);
    uint64_t taken = tp_stream_bytes_written(c->stream) - unsent;
    if (c->state == CONN_HEAD && unsent && taken != c->written_mark) {
        c->written_mark = taken;
        set_deadline(c, c->server->opts.idle_connection_timeout);
        return;
    }
    if (c->state == CONN_BODY) {
        tp_log_info("Timeout reading body from %s", c->remote_ip);
        tp_stream_close(c->stream);
    } else if (c->server->draining && !c->parser.start_line_done &&
               !tp_stream_buffered(c->stream)) {
        c->state = CONN_CLOSED; /* draining: an idle keep-alive connection ends with a FIN */
        tp_stream_close_after_flush(c->stream, c->server->opts.linger);
    } else {
        tp_log_debug("closing idle connection from %s", c->remote_ip);
        tp_stream_close(c->stream);
    }
}

void tp__conn_reject(tp_http_conn *c, int status, const char *why)
{
    tp_log_info("Malformed HTTP message from %s: %s", c->remote_ip, why);
    if (!c->stream)
        return;
    if (!c->x || !c->x->head_written) {
        char head[256];
        int n = snprintf(head, sizeof(head),
                         "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Length: 0\r\n"
                         "Connection: close\r\n\r\n",
                         status, tp_http_reason(status), tp_http_date_now());
        tp_stream_write(c->stream, head, (size_t)n, NULL, NULL);
        if (c->x)
            c->x->head_written = true;
    }
    c->keep_alive = false;
    tp_stream_close_after_flush(c->stream, c->server ? c->server->opts.linger : 0);
    mark_gone(c);
}

/* ---- request heads ----------------------------------------------------------------------- */

/* The request struct sits at the start of one cached block whose rest is the arena's first
 * block: one block per request, no allocator call for a typical request. */
#define REQ_SPACE ((sizeof(tp_request) + 15) & ~(size_t)15)

tp_request *tp__request_new(void)
{
    tp_request *req = tp_block_get();
    memset(req, 0, sizeof(*req));
    tp_arena_init_in(&req->arena, (char *)req + REQ_SPACE, TP_BLOCK_SIZE - REQ_SPACE, 0);
    return req;
}

void tp__request_free(tp_request *req)
{
    tp_arena_destroy(&req->arena);
    tp_block_put(req);
}

static bool has_token(tp_slice list, const char *token)
{
    size_t tn = strlen(token);
    const char *p = list.p, *end = list.p + list.n;
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        tp_slice item = tp_slice_trim((tp_slice){p, (size_t)((comma ? comma : end) - p)});
        if (item.n == tn && strncasecmp(item.p, token, tn) == 0)
            return true;
        p = comma ? comma + 1 : end;
    }
    return false;
}

/* Host = uri-host [ ":" port ], uri-host from RFC 3986 characters (no spaces, no commas:
 * two Host headers joined by Tornado's "," are refused too). */
static bool valid_host(tp_slice h)
{
    static bool ok[256];
    if (!ok['a']) {
        for (int ch = 0; ch < 256; ch++)
            ok[ch] = isalnum(ch) || (ch && strchr("-._~!$&'()*+;=%:[]", ch));
    }
    for (size_t i = 0; i < h.n; i++)
        if (!ok[(unsigned char)h.p[i]])
            return false;
    return true;
}

static tp_slice host_name_of(tp_arena *a, tp_slice host)
{
    size_t n = host.n;
    if (n && host.p[0] == '[') {
        const char *close = memchr(host.p, ']', n);
        n = close ? (size_t)(close - host.p) + 1 : n;
    } else {
        const char *colon = memchr(host.p, ':', n);
        n = colon ? (size_t)(colon - host.p) : n;
    }
    char *out = tp_arena_alloc(a, n + 1);
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)host.p[i]);
    out[n] = '\0';
    return (tp_slice){out, n};
}

/* Tornado's xheaders: X-Forwarded-For walked from the right past trusted proxies, X-Real-Ip
 * over it, kept only if it is an IP; X-Scheme or X-Forwarded-Proto (last entry) for the
 * protocol. */
static void apply_xheaders(tp_http_conn *c, tp_request *req)
{
    tp_slice ip = req->remote_ip;
    tp_slice xff = tp_headers_get_joined(&req->headers, TP_SLICE_LIT("X-Forwarded-For"));
    const char *list = c->server->opts.trusted_downstream;
    if (xff.p) {
        const char *end = xff.p + xff.n;
        while (end > xff.p) {
            const char *start = end;
            while (start > xff.p && start[-1] != ',')
                start--;
            ip = tp_slice_trim((tp_slice){start, (size_t)(end - start)});
            if (!list || !has_token(tp_slice_cstr(list), tp_arena_strndup(&req->arena, ip.p, ip.n)))
                break;
            end = start > xff.p ? start - 1 : xff.p;
        }
    }
    tp_slice real = tp_headers_get(&req->headers, TP_SLICE_LIT("X-Real-Ip"));
    if (real.p)
        ip = tp_slice_trim(real);
    if (tp_is_valid_ip(ip.p, ip.n))
        req->remote_ip = tp_arena_slice_dup(&req->arena, ip);
    tp_slice proto = tp_headers_get(&req->headers, TP_SLICE_LIT("X-Scheme"));
    if (!proto.p)
        proto = tp_headers_get_joined(&req->headers, TP_SLICE_LIT("X-Forwarded-Proto"));
    if (proto.p) {
        const char *comma = proto.n ? memrchr(proto.p, ',', proto.n) : NULL;
        if (comma)
            proto = (tp_slice){comma + 1, (size_t)(proto.p + proto.n - comma - 1)};
        proto = tp_slice_trim(proto);
        if (tp_slice_eq(proto, TP_SLICE_LIT("http")) || tp_slice_eq(proto, TP_SLICE_LIT("https")))
            req->protocol = tp_arena_slice_dup(&req->arena, proto);
    }
}

/* HTTP/1.1 keeps the connection unless "close" is among the Connection tokens; HTTP/1.0
 * only with "keep-alive" and a request whose end is known (Tornado's rule). */
static bool decide_keep_alive(tp_http_conn *c, tp_request *req)
{
    tp_slice conn = tp_headers_get_joined(&req->headers, TP_SLICE_LIT("Connection"));
    if (req->version_minor >= 1)
        return !c->server->opts.no_keep_alive && (!conn.p || !has_token(conn, "close"));
    c->x->asked_keep_alive = conn.p && has_token(conn, "keep-alive");
    if (!c->x->asked_keep_alive || c->server->opts.no_keep_alive || c->x->body_chunked)
        return false; /* HTTP/1.0 with Transfer-Encoding: close after it (RFC 9112 §6.1) */
    return tp_headers_get(&req->headers, TP_SLICE_LIT("Content-Length")).p ||
           tp_slice_eq(req->method, TP_SLICE_LIT("GET")) ||
           tp_slice_eq(req->method, TP_SLICE_LIT("HEAD"));
}

static void split_target(tp_request *req)
{
    const char *q = memchr(req->uri.p, '?', req->uri.n);
    if (q) {
        req->path = (tp_slice){req->uri.p, (size_t)(q - req->uri.p)};
        req->query = (tp_slice){q + 1, (size_t)(req->uri.p + req->uri.n - q - 1)};
    } else {
        req->path = req->uri;
        req->query = (tp_slice){req->uri.p + req->uri.n, 0};
    }
}

/* Fills the request from its head (copied into the arena so the read buffer can move), or
 * returns the status to refuse it with. */
static int build_request(tp_http_conn *c, tp_request *req, const char *head, size_t len)
{
    char *copy = tp_arena_alloc(&req->arena, len);
    memcpy(copy, head, len);
    size_t max = c->parser.lines ? c->parser.lines : 1;
    tp_http_header *hv = tp_arena_alloc(&req->arena, max * sizeof(*hv));
    tp_request_head h;
    int status = 400;
    if (tp_http_parse_head(copy, len, &h, hv, max, &status) != TP_OK)
        return status;
    tp_headers_init(&req->headers, &req->arena);
    tp_headers_adopt(&req->headers, h.headers, h.num_headers);
    req->method = h.method;
    req->uri = h.target;
    req->version_minor = h.version_minor;
    req->version = h.version_minor ? TP_SLICE_LIT("HTTP/1.1") : TP_SLICE_LIT("HTTP/1.0");
    split_target(req);
    req->remote_ip = tp_slice_cstr(c->remote_ip);
    req->protocol =
        c->server->opts.protocol ? tp_slice_cstr(c->server->opts.protocol) : TP_SLICE_LIT("http");
    size_t nhost = tp_headers_count(&req->headers, TP_SLICE_LIT("Host"));
    req->host = tp_headers_get(&req->headers, TP_SLICE_LIT("Host"));
    if (nhost > 1 || (nhost == 0 && req->version_minor >= 1))
        return 400;
    if (!req->host.p)
        req->host = TP_SLICE_LIT("127.0.0.1");
    if (!valid_host(req->host))
        return 400;
    req->host_name = host_name_of(&req->arena, req->host);
    if (c->server->opts.xheaders)
        apply_xheaders(c, req);
    return 0;
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

static void expect_continue(tp_http_conn *c, tp_request *req)
{
    tp_slice e = tp_headers_get(&req->headers, TP_SLICE_LIT("Expect"));
    if (e.p && req->version_minor >= 1 && tp_slice_caseeq(e, TP_SLICE_LIT("100-continue")) &&
        !c->x->head_written && c->stream)
        tp_stream_write(c->stream, "HTTP/1.1 100 Continue\r\n\r\n", 25, NULL, NULL);
}

/* A complete head: build, validate and hand the request over. Returns false if the
 * connection is done for (the request was refused). */
static bool start_request(tp_http_conn *c, const char *head, size_t len)
{
    tp_http_server *srv = c->server;
    tp_request *req = tp__request_new();
    req->conn = c;
    req->start_time = tp_loop_time(srv->loop);
    c->req = req;
    c->x = tp_arena_calloc(&req->arena, sizeof(*c->x));
    int status = build_request(c, req, head, len);
    if (!status && tp__body_begin(c, &status) != TP_OK && !status)
        status = 400;
    if (status) {
        tp__body_reset(c->x);
        c->req = NULL;
        c->x = NULL;
        tp__request_free(req);
        tp__conn_reject(c, status, reject_reason(status));
        return false;
    }
    c->keep_alive = decide_keep_alive(c, req) && !srv->draining;
    srv->requests++;
    c->state = c->x->body_left || c->x->body_chunked ? CONN_BODY : CONN_HANDLER;
    if (srv->delegate.headers_received(req, srv->ctx) != TP_OK && c->req == req &&
        !c->x->head_written) {
        tp_http_write_head(req, 500, TP_SLICE_NULL, NULL);
        tp_http_finish(req);
        return c->state == CONN_HEAD;
    }
    if (c->req != req)
        return c->state == CONN_HEAD; /* answered and finished from headers_received */
    if (c->state == CONN_BODY) {
        expect_continue(c, req);
        set_deadline(c, srv->opts.body_timeout);
        return true;
    }
    tp__conn_body_done(c);
    return true;
}

void tp__conn_body_done(tp_http_conn *c)
{
    tp_request *req = c->req;
    c->state = CONN_HANDLER;
    if (!req->stream_body && c->x->body.len)
        req->body = tp_buf_slice(&c->x->body);
    c->server->delegate.request_complete(req, c->server->ctx);
}

/* A client that pipelines requests without reading the answers would make us queue output
 * without bound: past this much unsent output, the next request waits until it drained. */
#define OUTPUT_HIGH_WATER (1u << 20)

static void on_drained(tp_stream *s, int status, void *arg)
{
    tp_http_conn *c = arg;
    c->draining = false;
    if (status == 0 && !c->gone && c->state == CONN_HEAD)
        tp_stream_resume(s);
}

/* The stream's data callback: as many requests as the buffer holds, one after another. */
static size_t on_data(tp_stream *s, tp_slice d, bool eof, void *arg)
{
    tp_http_conn *c = arg;
    size_t used = 0;
    c->in_data = true;
    while (c->stream && (c->state == CONN_HEAD || c->state == CONN_BODY)) {
        tp_slice rest = {d.p + used, d.n - used};
        if (c->state == CONN_BODY) {
            ssize_t k = rest.n ? tp__body_feed(c, rest) : 0;
            if (k < 0) {
                tp__conn_reject(c, (int)-k, reject_reason((int)-k));
                used = d.n;
                break;
            }
            used += (size_t)k;
            if (c->state == CONN_BODY) {
                if (eof)
                    tp_stream_close(s); /* the client stopped sending mid-body */
                break;
            }
            continue;
        }
        if (!rest.n) {
            if (eof)
                tp_stream_close_after_flush(s, 0); /* half-closed: answered, now close */
            break;
        }
        if (tp_stream_pending_write(s) > OUTPUT_HIGH_WATER) {
            c->draining = true;
            tp_stream_write(s, NULL, 0, on_drained, c);
            break;
        }
        int status = 400;
        int r = tp_http_scan_head(&c->parser, rest.p, rest.n, &c->server->limits, &status);
        if (r == TP_AGAIN) {
            if (eof)
                tp_stream_close_after_flush(s, 0);
            break;
        }
        if (r < 0) {
            tp__conn_reject(c, status, reject_reason(status));
            used = d.n;
            break;
        }
        used += (size_t)r;
        if (!start_request(c, rest.p, (size_t)r)) {
            used = d.n;
            break;
        }
    }
    c->in_data = false;
    if (c->free_after_data) {
        free_conn(c); /* detached (tp_http_detach) and finished while we were in here */
        return used;
    }
    if (c->stream && (c->state == CONN_HANDLER || c->draining))
        tp_stream_pause(s); /* pipelined requests wait until this one is answered */
    return used;
}

/* The response is complete: serve the next request, or close. Called by tp_http_finish. */
void tp__conn_request_done(tp_http_conn *c, bool reusable)
{
    if (!c->stream) {
        if (c->in_data)
            c->free_after_data = true; /* detached inside on_data: it frees c on its way out */
        else if (!c->in_close)
            free_conn(c); /* the stream's close callback ran already, or it was detached */
        return;
    }
    if (c->gone)
        return; /* closing: the stream's close callback frees the conn */
    if (!reusable) {
        c->state = CONN_CLOSED;
        tp_stream_close_after_flush(c->stream, c->server ? c->server->opts.linger : 0);
        return;
    }
    enter_head(c);
    if (!c->in_data && !c->draining)
        tp_stream_resume(c->stream);
}

tp_stream *tp_http_detach(tp_request *req)
{
    tp_http_conn *c = req->conn;
    tp_stream *s = c->stream;
    if (!s || c->gone || c->x->head_written)
        return NULL;
    tp_timer_stop(tp_stream_loop(s), &c->timer);
    tp_stream_set_close_callback(s, NULL, NULL);
    tp_stream_set_data_handler(s, NULL, NULL); /* bytes after this request stay buffered */
    c->stream = NULL;
    c->gone = true; /* whatever the request still writes is dropped */
    c->state = CONN_CLOSED;
    unlink_conn(c);
    return s;
}
