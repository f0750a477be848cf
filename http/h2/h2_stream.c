/* HTTP/2 streams as requests: nghttp2's callbacks build a tp_request from the header block
 * (pseudo-headers, cookie crumbs, limits) and feed the body to the delegate, acknowledging
 * DATA (window updates) only as the delegate takes it. The response side is in
 * h2_response.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "http/h2/h2_internal.h"
#include "http/response.h"

extern const struct tp_request_ops tp__h2_ops;

/* ---- a stream's request -------------------------------------------------------------- */

static h2_req *req_new(tp_h2_session *s, int32_t id)
{
    h2_req *r = tp_calloc(1, sizeof(*r));
    tp_arena_init(&r->req.arena, 0);
    tp_headers_init(&r->req.headers, &r->req.arena);
    r->req.ops = &tp__h2_ops;
    r->req.remote_ip = tp_slice_cstr(s->peer); /* the session outlives its requests */
    r->req.start_time = tp_loop_time(s->loop);
    r->sess = s;
    r->id = id;
    r->flags = R_NG;
    r->resp_length = -1;
    r->next = s->reqs;
    if (r->next)
        r->next->prev = r;
    s->reqs = r;
    tp__h2_sess_ref(s);
    return r;
}

static void free_segs(h2_seg *g)
{
    while (g) {
        h2_seg *next = g->next;
        if (g->fd >= 0 && g->close_fd)
            close(g->fd);
        tp_free(g);
        g = next;
    }
}

void tp__h2_maybe_free(h2_req *r)
{
    if (r->flags & (R_NG | R_APP | R_RESUMING | R_HELD))
        return;
    tp_h2_session *s = r->sess;
    if (r->prev)
        r->prev->next = r->next;
    else
        s->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    tp__h2_fire_waiters(r, -EPIPE);
    free_segs(r->out);
    free_segs(r->in);
    tp_buf_free(&r->cookie);
    tp_buf_free(&r->body);
    tp_arena_destroy(&r->req.arena);
    tp_free(r);
    tp__h2_sess_unref(s);
}

static void tell_app(h2_req *r)
{
    tp_http_server *srv = r->sess->srv;
    if ((r->flags & (R_APP | R_TOLD)) != R_APP)
        return;
    r->flags |= R_TOLD;
    if (srv && srv->delegate.connection_closed)
        srv->delegate.connection_closed(&r->req, srv->ctx);
}

/* Request body bytes received and not handed over: acknowledged now, for the window. */
static void consume(h2_req *r, size_t n)
{
    tp_h2_session *s = r->sess;
    if (!n || !tp__h2_live(s))
        return;
    if (r->flags & R_NG)
        nghttp2_session_consume(s->ng, r->id, n);
    else
        nghttp2_session_consume_connection(s->ng, n);
}

void tp__h2_stream_gone(h2_req *r)
{
    r->flags &= (uint16_t)~R_NG;
    r->sess->last_active = tp_loop_time(r->sess->loop);
    size_t unread = 0;
    for (h2_seg *g = r->in; g; g = g->next)
        unread += g->len - g->pos;
    free_segs(r->in);
    r->in = r->in_tail = NULL;
    consume(r, unread);
    tp__h2_fire_waiters(r, -EPIPE);
    uint16_t held = r->flags & R_HELD;
    r->flags |= R_HELD;
    tell_app(r); /* the delegate may finish r in there */
    r->flags = (uint16_t)((r->flags & ~R_HELD) | held);
    tp__h2_maybe_free(r);
}

/* ---- refusing ------------------------------------------------------------------------ */

static nghttp2_nv nv(const char *name, const char *value)
{
    return (nghttp2_nv){(uint8_t *)name, (uint8_t *)value, strlen(name), strlen(value),
                        NGHTTP2_NV_FLAG_NONE};
}

/* The server answers status itself, with no body, and the delegate's writes (if it holds the
 * request) are dropped from now on. */
static void refuse(h2_req *r, int status)
{
    tp_h2_session *s = r->sess;
    tp_log_info("HTTP/2 %d from %s: %.*s %.*s", status, s->peer, TP_SLICE_FMT(r->req.method),
                TP_SLICE_FMT(r->req.uri));
    if (!(r->flags & R_NG) || !tp__h2_live(s)) {
        /* nothing to send: the stream is gone */
    } else if (r->flags & R_SUBMITTED) {
        nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, r->id, NGHTTP2_INTERNAL_ERROR);
    } else {
        char *st = tp_arena_printf(&r->req.arena, "%d", status);
        nghttp2_nv h[] = {nv(":status", st), nv("content-length", "0")};
        nghttp2_submit_response(s->ng, r->id, h, 2, NULL);
    }
    if (!(r->flags & R_APP) && s->srv) /* else counted when the app finishes it */
        tp_http_stats_record(s->srv->stats, r->req.method, status, 0, 0, 0);
    r->flags |= R_HEAD | R_SUBMITTED | R_CUT | R_DONE;
    r->req.status = status;
    tell_app(r);
    tp__h2_kick(s);
}

/* ---- nghttp2's callbacks ------------------------------------------------------------- */

static h2_req *req_of(nghttp2_session *ng, int32_t id)
{
    return nghttp2_session_get_stream_user_data(ng, id);
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    h2_req *r = req_new(ud, f->hd.stream_id);
    nghttp2_session_set_stream_user_data(ng, f->hd.stream_id, r);
    return 0;
}

static void pseudo_header(h2_req *r, tp_slice name, tp_slice value)
{
    tp_slice v = tp_arena_slice_dup(&r->req.arena, value);
    if (tp_slice_eq(name, TP_SLICE_LIT(":method")))
        r->req.method = v;
    else if (tp_slice_eq(name, TP_SLICE_LIT(":path")))
        r->req.uri = v;
    else if (tp_slice_eq(name, TP_SLICE_LIT(":authority")))
        r->authority = v;
}

/* One decoded field. The header list is bounded by its decoded size (max_header_list_size,
 * HPACK's 32 bytes per field counted) and by max_headers fields: past either, 431. nghttp2
 * refuses connection-specific fields, bad pseudo-headers and uppercase names itself. */
static int on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
    (void)flags;
    tp_h2_session *s = ud;
    h2_req *r = req_of(ng, f->hd.stream_id);
    if (!r || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0; /* trailers are not kept (Tornado has none) */
    r->header_bytes += namelen + valuelen + 32;
    if (r->header_bytes > s->o->max_header_list_size || ++r->nheaders > s->srv->opts.max_headers)
        r->refuse = 431;
    if (r->refuse)
        return 0;
    tp_slice n = {(const char *)name, namelen}, v = {(const char *)value, valuelen};
    if (namelen && name[0] == ':') {
        pseudo_header(r, n, v);
    } else if (tp_slice_eq(n, TP_SLICE_LIT("cookie"))) {
        if (r->cookie.len)
            tp_buf_append(&r->cookie, "; ", 2); /* RFC 9113 §8.2.3: crumbs joined */
        tp_buf_append(&r->cookie, value, valuelen);
    } else {
        tp_headers_add(&r->req.headers, n, v);
    }
    return 0;
}

/* The body is complete: buffered bodies are handed over, then request_complete. */
static void body_done(h2_req *r)
{
    tp_http_server *srv = r->sess->srv;
    if ((r->flags & (R_APP | R_COMPLETE | R_CUT)) != R_APP || r->in || !srv)
        return;
    r->flags |= R_COMPLETE;
    if (!r->req.stream_body && r->body.len)
        r->req.body = tp_buf_slice(&r->body);
    srv->delegate.request_complete(&r->req, srv->ctx);
}

static int check_head(h2_req *r)
{
    tp_http_server *srv = r->sess->srv;
    if (r->refuse)
        return r->refuse;
    if (!r->req.method.p)
        return 400;
    if (r->cookie.len)
        tp_headers_add(&r->req.headers, TP_SLICE_LIT("Cookie"), tp_buf_slice(&r->cookie));
    int status = tp__request_h2_fill(&r->req, r->authority, r->sess->https, &srv->opts);
    if (status)
        return status;
    tp_slice cl = tp_headers_get(&r->req.headers, TP_SLICE_LIT("content-length"));
    uint64_t len; /* nghttp2 checks the DATA against it; here only the size limit */
    if (cl.p && tp__parse_length(cl, &len) && len > srv->opts.max_body_size)
        return 413;
    return 0;
}

/* The header block is complete: the request goes to the delegate. */
static void start_request(h2_req *r)
{
    tp_h2_session *s = r->sess;
    tp_http_server *srv = s->srv;
    int status = check_head(r);
    if (status) {
        refuse(r, status);
        return;
    }
    srv->requests++;
    r->flags |= R_APP;
    if (srv->delegate.headers_received(&r->req, srv->ctx) != TP_OK &&
        (r->flags & (R_APP | R_HEAD)) == R_APP) {
        tp_http_write_head(&r->req, 500, TP_SLICE_NULL, NULL);
        tp_http_finish(&r->req);
        return;
    }
    if (r->flags & R_IN_END)
        body_done(r);
}

/* Rapid Reset (CVE-2023-44487): RST_STREAMs from the client take tokens from a bucket of
 * reset_burst, refilled at reset_rate a second; an empty bucket ends the connection with
 * GOAWAY ENHANCE_YOUR_CALM. (nghttp2's own limiter, set looser, would say INTERNAL_ERROR.) */
static void count_reset(tp_h2_session *s)
{
    double now = tp_loop_time(s->loop);
    s->reset_tokens += (now - s->reset_time) * (double)s->o->reset_rate;
    if (s->reset_tokens > (double)s->o->reset_burst)
        s->reset_tokens = (double)s->o->reset_burst;
    s->reset_time = now;
    if (s->reset_tokens >= 1) {
        s->reset_tokens -= 1;
        return;
    }
    tp_log_warning("HTTP/2 connection from %s: too many stream resets", s->peer);
    nghttp2_session_terminate_session(s->ng, NGHTTP2_ENHANCE_YOUR_CALM);
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
    if (f->hd.type == NGHTTP2_RST_STREAM)
        count_reset(ud);
    h2_req *r = f->hd.stream_id ? req_of(ng, f->hd.stream_id) : NULL;
    if (!r || (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA))
        return 0;
    bool end = f->hd.flags & NGHTTP2_FLAG_END_STREAM;
    if (end)
        r->flags |= R_IN_END;
    if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST)
        start_request(r);
    else if (end)
        body_done(r);
    return 0;
}

/* Hands chunk to a streaming delegate in chunk_size pieces; false once it refused it. */
static bool deliver(h2_req *r, const char *p, size_t n)
{
    tp_http_server *srv = r->sess->srv;
    while (n && (r->flags & (R_APP | R_CUT)) == R_APP && srv) {
        size_t k = n < srv->opts.chunk_size ? n : srv->opts.chunk_size;
        if (srv->delegate.data_received(&r->req, (tp_slice){p, k}, srv->ctx) != TP_OK) {
            refuse(r, 400);
            return false;
        }
        p += k;
        n -= k;
    }
    return true;
}

static void queue_in(h2_req *r, const uint8_t *p, size_t n)
{
    h2_seg *g = tp_malloc(sizeof(*g) + n);
    *g = (h2_seg){.fd = -1, .len = n, .cap = n};
    memcpy(g->data, p, n);
    if (r->in_tail)
        r->in_tail->next = g;
    else
        r->in = g;
    r->in_tail = g;
}

/* DATA payload. Buffered bodies are acknowledged at once (bounded by max_body_size);
 * streamed ones as the delegate takes them: a paused delegate keeps the bytes here and the
 * window shut, so the client stops. */
static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *p, size_t n,
                         void *ud)
{
    (void)flags;
    tp_h2_session *s = ud;
    h2_req *r = req_of(ng, id);
    if (!r || (r->flags & (R_APP | R_CUT | R_COMPLETE)) != R_APP) {
        nghttp2_session_consume(ng, id, n);
        return 0;
    }
    r->body_len += n;
    if (r->body_len > s->srv->opts.max_body_size) {
        nghttp2_session_consume(ng, id, n);
        refuse(r, 413);
        return 0;
    }
    if (!r->req.stream_body) {
        tp_buf_append(&r->body, p, n);
        nghttp2_session_consume(ng, id, n);
    } else if ((r->flags & R_PAUSED) || r->in) {
        queue_in(r, p, n);
    } else {
        deliver(r, (const char *)p, n);
        consume(r, n);
    }
    return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t error, void *ud)
{
    (void)error, (void)ud;
    h2_req *r = req_of(ng, id);
    if (r)
        tp__h2_stream_gone(r);
    return 0;
}

/* A response that ended while the request body was still coming: RST_STREAM NO_ERROR tells
 * the client to stop sending (RFC 9113 §8.1). */
static int on_frame_send(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
    (void)ud;
    if (!(f->hd.flags & NGHTTP2_FLAG_END_STREAM) ||
        (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA))
        return 0;
    h2_req *r = req_of(ng, f->hd.stream_id);
    if (r && !(r->flags & R_IN_END))
        nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, f->hd.stream_id, NGHTTP2_NO_ERROR);
    return 0;
}

void tp__h2_set_stream_callbacks(nghttp2_session_callbacks *cbs)
{
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
}

/* ---- paused bodies ------------------------------------------------------------------- */

/* Hands the bytes kept while the body was paused to the delegate, acknowledging each. */
static void on_resume(tp_loop *loop, void *arg)
{
    (void)loop;
    h2_req *r = arg;
    while (r->in && !(r->flags & R_PAUSED) && (r->flags & (R_APP | R_CUT)) == R_APP) {
        h2_seg *g = r->in;
        r->in = g->next;
        if (!r->in)
            r->in_tail = NULL;
        bool ok = deliver(r, g->data, g->len);
        consume(r, g->len);
        tp_free(g);
        if (!ok)
            break;
    }
    if (r->flags & R_IN_END)
        body_done(r);
    r->flags &= (uint16_t)~R_RESUMING;
    tp__h2_kick(r->sess);
    tp__h2_maybe_free(r);
}

void tp__h2_pause_body(h2_req *r, bool pause)
{
    if (pause) {
        r->flags |= R_PAUSED;
        return;
    }
    r->flags &= (uint16_t)~R_PAUSED;
    if ((r->in || (r->flags & R_IN_END)) && !(r->flags & R_RESUMING)) {
        r->flags |= R_RESUMING;
        tp_loop_add_callback(r->sess->loop, on_resume, r);
    }
}
