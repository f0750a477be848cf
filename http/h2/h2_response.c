/* The response calls of http/request.h for HTTP/2 streams (tp__h2_ops): the head becomes a
 * HEADERS frame (names lower-cased, hop-by-hop fields dropped), the body is queued and taken
 * by a data provider as the peer's window allows (deferred while the queue is empty), files
 * are read with pread into DATA frames. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "http/date.h"
#include "http/h2/h2_internal.h"
#include "http/response.h"

static h2_req *h2(const tp_request *req)
{
    return (h2_req *)(void *)req;
}

/* The client can no longer get this response. */
static bool gone(const h2_req *r)
{
    return !(r->flags & R_NG) || (r->flags & R_CUT) || !tp__h2_live(r->sess);
}

/* ---- the head ------------------------------------------------------------------------ */

/* Fields that mean something for one HTTP/1.1 connection only (RFC 9113 §8.2.2). */
static bool hop_by_hop(tp_slice n)
{
    static const char *const names[] = {"connection",        "keep-alive", "proxy-connection",
                                        "transfer-encoding", "upgrade",    "te"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (tp_slice_caseeq(n, tp_slice_cstr(names[i])))
            return true;
    return false;
}

static nghttp2_nv nv_of(tp_arena *a, tp_slice name, tp_slice value, bool lower)
{
    char *n = tp_arena_alloc(a, name.n + 1);
    for (size_t i = 0; i < name.n; i++)
        n[i] = lower ? (char)tolower((unsigned char)name.p[i]) : name.p[i];
    return (nghttp2_nv){(uint8_t *)n, (uint8_t *)(uintptr_t)value.p, name.n, value.n,
                        NGHTTP2_NV_FLAG_NO_COPY_VALUE};
}

static int build_head(h2_req *r, int status, const tp_headers *h)
{
    tp_arena *a = &r->req.arena;
    size_t n = h ? h->n : 0;
    bool has_date = false;
    r->nva = tp_arena_alloc(a, (n + 2) * sizeof(nghttp2_nv));
    char *st = tp_arena_printf(a, "%d", status);
    r->nva[r->nnv++] = nv_of(a, TP_SLICE_LIT(":status"), tp_slice_cstr(st), false);
    for (size_t i = 0; i < n; i++) {
        tp_slice name = h->v[i].name, value = h->v[i].value;
        if (hop_by_hop(name))
            continue;
        if (tp_slice_caseeq(name, TP_SLICE_LIT("content-length"))) {
            uint64_t len;
            if (!tp__parse_length(value, &len) || len > INT64_MAX)
                return -EINVAL;
            r->resp_length = (int64_t)len;
        }
        has_date |= tp_slice_caseeq(name, TP_SLICE_LIT("date"));
        r->nva[r->nnv++] = nv_of(a, name, value, true);
    }
    if (!has_date) {
        tp_slice d = tp_arena_slice_dup(a, tp_slice_cstr(tp_http_date_now()));
        r->nva[r->nnv++] = nv_of(a, TP_SLICE_LIT("date"), d, false);
    }
    return 0;
}

static int write_head(tp_request *req, int status, tp_slice reason, const tp_headers *h)
{
    h2_req *r = h2(req);
    (void)reason; /* HTTP/2 has no reason phrase */
    if (r->flags & R_HEAD)
        return -EALREADY;
    if (status < 100 || status > 999)
        return -EINVAL;
    if (gone(r)) {
        r->flags |= R_HEAD;
        req->status = status;
        return -EPIPE;
    }
    r->nnv = 0;
    r->resp_length = -1;
    int rc = build_head(r, status, h);
    if (rc < 0)
        return rc;
    if (status < 200 || status == 204 || status == 304 ||
        tp_slice_eq(req->method, TP_SLICE_LIT("HEAD")))
        r->flags |= R_BODYLESS;
    r->flags |= R_HEAD;
    req->status = status;
    tp__h2_kick(r->sess); /* submitted by the flush, or by tp_http_finish before it */
    return 0;
}

/* ---- the body ------------------------------------------------------------------------ */

/* The provider may have run dry: it gets more now. */
static void wake(h2_req *r)
{
    if ((r->flags & R_DEFERRED) && (r->flags & R_NG) && tp__h2_live(r->sess)) {
        r->flags &= (uint16_t)~R_DEFERRED;
        nghttp2_session_resume_data(r->sess->ng, r->id);
    }
    tp__h2_kick(r->sess);
}

static h2_seg *push_seg(h2_req *r, size_t cap)
{
    h2_seg *g = tp_malloc(sizeof(*g) + cap);
    *g = (h2_seg){.fd = -1, .cap = cap};
    if (r->out_tail)
        r->out_tail->next = g;
    else
        r->out = g;
    r->out_tail = g;
    return g;
}

/* 0 to queue n bytes, 1 to drop them, or -errno. */
static int body_check(h2_req *r, size_t n)
{
    if (gone(r))
        return -EPIPE;
    if (!(r->flags & R_HEAD) || (r->flags & R_DONE))
        return -EINVAL;
    if (r->flags & R_BODYLESS)
        return 1;
    if (r->resp_length >= 0 && r->req.bytes_out + n > (uint64_t)r->resp_length)
        return -EMSGSIZE;
    return 0;
}

static int write_body(tp_request *req, const void *p, size_t n)
{
    h2_req *r = h2(req);
    int rc = body_check(r, n);
    if (rc || !n)
        return rc > 0 ? 0 : rc;
    h2_seg *g = r->out_tail;
    if (!g || g->fd >= 0 || g->cap - g->len < n)
        g = push_seg(r, n < 4096 ? 4096 : n);
    memcpy(g->data + g->len, p, n);
    g->len += n;
    r->out_len += n;
    req->bytes_out += n;
    wake(r);
    return 0;
}

static int h2_sendfile(tp_request *req, int fd, off_t off, size_t n, bool close_fd)
{
    h2_req *r = h2(req);
    int rc = body_check(r, n);
    if (rc || !n) {
        if (close_fd)
            close(fd);
        return rc > 0 ? 0 : rc;
    }
    h2_seg *g = push_seg(r, 0);
    g->fd = fd;
    g->close_fd = close_fd;
    g->off = off;
    g->len = n;
    r->out_len += n;
    req->bytes_out += n;
    wake(r);
    return 0;
}

/* Copies up to len queued bytes to buf (pread for files); -1 when a file read failed. */
static ssize_t take(h2_req *r, uint8_t *buf, size_t len)
{
    size_t n = 0;
    while (n < len && r->out) {
        h2_seg *g = r->out;
        size_t k = g->len - g->pos < len - n ? g->len - g->pos : len - n;
        if (g->fd >= 0) {
            ssize_t got = pread(g->fd, buf + n, k, g->off + (off_t)g->pos);
            if (got <= 0)
                return -1;
            k = (size_t)got;
        } else {
            memcpy(buf + n, g->data + g->pos, k);
        }
        g->pos += k;
        n += k;
        r->out_len -= k;
        if (g->pos == g->len) {
            r->out = g->next;
            if (!r->out)
                r->out_tail = NULL;
            g->next = NULL;
            h2_seg *one = g;
            if (one->fd >= 0 && one->close_fd)
                close(one->fd);
            tp_free(one);
        }
    }
    return (ssize_t)n;
}

static ssize_t read_body(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *ud)
{
    (void)ng, (void)id, (void)ud;
    h2_req *r = src->ptr;
    ssize_t n = take(r, buf, len);
    if (n < 0) {
        tp_log_error("HTTP/2 response body: file read failed: %s", strerror(errno));
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* the stream is reset */
    }
    r->sess->data_sent += (uint64_t)n;
    if (!r->out && (r->flags & R_DONE))
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    else if (n == 0) {
        r->flags |= R_DEFERRED;
        return NGHTTP2_ERR_DEFERRED;
    }
    return n;
}

void tp__h2_submit(h2_req *r)
{
    tp_h2_session *s = r->sess;
    nghttp2_data_provider prd = {.source.ptr = r, .read_callback = read_body};
    bool empty = (r->flags & R_BODYLESS) || ((r->flags & R_DONE) && !r->out);
    r->flags |= R_SUBMITTED;
    if (nghttp2_submit_response(s->ng, r->id, r->nva, r->nnv, empty ? NULL : &prd) != 0)
        nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, r->id, NGHTTP2_INTERNAL_ERROR);
}

static void finish(tp_request *req)
{
    h2_req *r = h2(req);
    if (!gone(r)) {
        if (!(r->flags & R_HEAD)) {
            tp_headers h;
            tp_headers_init(&h, &req->arena);
            tp_headers_add(&h, TP_SLICE_LIT("Content-Length"), TP_SLICE_LIT("0"));
            write_head(req, 200, TP_SLICE_NULL, &h);
        }
        r->flags |= R_DONE;
        if (!(r->flags & R_SUBMITTED))
            tp__h2_submit(r);
        wake(r);
    }
    r->flags |= R_DONE;
    r->flags &= (uint16_t)~R_APP;
    if (r->sess->srv) /* the connection may be gone (and the server with it) */
        tp_http_stats_record(r->sess->srv->stats, req->method, req->status,
                             tp__monotonic() - req->start_time, r->body_len, req->bytes_out);
    tp__h2_maybe_free(r);
}

/* ---- the rest of the calls ----------------------------------------------------------- */

static bool client_gone(const tp_request *req)
{
    return gone(h2(req));
}

static bool head_written(const tp_request *req)
{
    return h2(req)->flags & R_HEAD;
}

static void pause_body(tp_request *req, bool pause)
{
    h2_req *r = h2(req);
    if ((r->flags & (R_APP | R_COMPLETE)) == R_APP && !gone(r))
        tp__h2_pause_body(r, pause);
}

static size_t output_pending(const tp_request *req)
{
    return gone(h2(req)) ? 0 : h2(req)->out_len;
}

typedef struct failed_wait {
    tp_write_fn fn;
    void *arg;
} failed_wait;

static void fire_failed(tp_loop *loop, void *arg)
{
    (void)loop;
    failed_wait w = *(failed_wait *)arg;
    tp_free(arg);
    w.fn(NULL, -EPIPE, w.arg);
}

void tp__h2_fire_waiters(h2_req *r, int status)
{
    h2_wait *w = r->waiters;
    r->waiters = NULL;
    while (w) {
        h2_wait *next = w->next;
        if (status == 0 && r->sess->io) {
            tp_stream_write(r->sess->io, NULL, 0, w->fn, w->arg); /* once in the kernel */
        } else {
            failed_wait *f = tp_malloc(sizeof(*f));
            *f = (failed_wait){w->fn, w->arg};
            tp_loop_add_callback(r->sess->loop, fire_failed, f);
        }
        tp_free(w);
        w = next;
    }
}

static int when_drained(tp_request *req, tp_write_fn fn, void *arg)
{
    h2_req *r = h2(req);
    if (gone(r))
        return -EPIPE;
    h2_wait *w = tp_malloc(sizeof(*w));
    *w = (h2_wait){r->waiters, fn, arg};
    r->waiters = w;
    tp__h2_kick(r->sess);
    return 0;
}

static void h2_abort(tp_request *req)
{
    h2_req *r = h2(req);
    if (gone(r))
        return;
    r->flags |= R_TOLD | R_CUT; /* the caller knows: no connection_closed */
    nghttp2_submit_rst_stream(r->sess->ng, NGHTTP2_FLAG_NONE, r->id, NGHTTP2_INTERNAL_ERROR);
    tp__h2_kick(r->sess);
}

static bool xheaders(const tp_request *req)
{
    return h2(req)->sess->xheaders;
}

static tp_slice peer_ip(tp_request *req)
{
    return tp_slice_cstr(h2(req)->sess->peer);
}

const struct tp_request_ops tp__h2_ops = {
    .write_head = write_head,
    .write_body = write_body,
    .sendfile = h2_sendfile,
    .finish = finish,
    .client_gone = client_gone,
    .head_written = head_written,
    .pause_body = pause_body,
    .output_pending = output_pending,
    .when_drained = when_drained,
    .abort = h2_abort,
    .xheaders = xheaders,
    .peer_ip = peer_ip,
};
