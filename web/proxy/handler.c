/* The proxy handler: one exchange (struct px) per request, from prepare (the upstream head
 * goes out while the client's body may still be coming) to the end of the response.
 *
 * An exchange is reference counted (px_ref/px_unref, freed in px_unref only): one reference
 * for the handler's state, one while it holds an upstream connection, one for each drain
 * callback in flight. It holds a reference on its handler (so the request stays valid) from
 * prepare until px_release_handler. Its state, changed by px_to only:
 *
 *   WAIT_HEAD -> BODY      the response head came and went to the client
 *   WAIT_HEAD -> TUNNEL    a 101 to an Upgrade: the streams belong to tunnel.c
 *   any -> DONE            the response ended, failed, or the client left
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "http/body.h"
#include "web/proxy/proxy_internal.h"
#include "web/web_internal.h"

enum px_state { PX_WAIT_HEAD, PX_BODY, PX_TUNNEL, PX_DONE };

typedef struct px {
    unsigned refs;
    enum px_state state;
    tp_handler *h; /* held; NULL once released */
    tp_upstream *up;
    tp_up_conn *uc; /* the upstream connection while the exchange has it */
    tp_loop *loop;
    tp_buf head; /* the request head (kept for one retry on a stale keep-alive connection) */
    tp_http_parser parser;
    tp_body_decoder body;
    enum tp_proxy_body req_body;
    bool upgrade, req_done, body_sent, resp_started, until_close, resp_close, timed_out;
    bool heard;     /* response bytes came on this connection */
    tp_timer timer; /* connect, then read timeout */
} px;

#define MAX_RESPONSE_HEADERS 100
#define MAX_RESPONSE_HEAD    (64u << 10)

static void px_ref(px *x)
{
    x->refs++;
}

static void px_unref(px *x)
{
    if (--x->refs)
        return;
    assert(!x->h && !x->uc);
    tp__body_reset(&x->body);
    tp_buf_free(&x->head);
    tp__upstream_unref(x->up);
    tp_free(x);
}

static void px_to(px *x, enum px_state to)
{
    assert(to == PX_DONE || x->state == PX_WAIT_HEAD);
    x->state = to;
}

/* The exchange lets go of its handler: the state's pointer is cleared, and the handler's
 * reference and the state's reference on x are put. */
static void px_release_handler(px *x)
{
    tp_handler *h = x->h;
    if (!h)
        return;
    x->h = NULL;
    tp_timer_stop(x->loop, &x->timer);
    *(px **)tp_handler_state(h) = NULL;
    tp__handler_put(h);
    px_unref(x);
}

/* Lets go of the upstream connection: back to the pool when reusable, else closed. */
static void px_drop_conn(px *x, bool reusable)
{
    tp_up_conn *c = x->uc;
    if (!c)
        return;
    x->uc = NULL;
    if (reusable)
        tp__pool_put(c);
    else
        tp__pool_close(c);
    px_unref(x);
}

static void px_finish(px *x)
{
    tp_handler *h = x->h;
    px_ref(x); /* on_finish may release the handler (and the state's reference) */
    px_to(x, PX_DONE);
    if (h && !tp_finished(h) && h->state != HANDLER_IN_METHOD)
        tp_finish(h);
    px_release_handler(x);
    px_unref(x);
}

/* The upstream failed: 502 (504 after a timeout) if nothing was answered yet, else the
 * client connection is closed so the response does not look complete. */
static void px_fail(px *x, const char *why)
{
    tp_handler *h = x->h;
    px_drop_conn(x, false);
    if (!h || x->state == PX_DONE)
        return;
    int status = x->timed_out ? 504 : 502;
    tp_request *req = h->req;
    px_ref(x);
    tp_log_warning("proxy: %s for %.*s %.*s (upstream %s)", why, TP_SLICE_FMT(req->method),
                   TP_SLICE_FMT(req->uri), x->up->host_port);
    if (x->resp_started) {
        tp_http_abort(req);
        px_finish(x);
        px_unref(x);
        return;
    }
    px_to(x, PX_DONE);
    if (!tp_finished(h))
        tp_send_error(h, status);
    px_release_handler(x);
    px_unref(x);
}

static void arm_timer(px *x, double seconds)
{
    if (x->h)
        tp_timer_start_at(x->loop, &x->timer, tp_loop_time(x->loop) + seconds);
}

static void on_timeout(tp_loop *loop, void *arg)
{
    (void)loop;
    px *x = arg;
    x->timed_out = true;
    px_fail(x, x->resp_started ? "upstream timed out mid-response" : "upstream timed out");
}

/* ---- the response ------------------------------------------------------------------------ */

static size_t on_up_data(tp_stream *s, tp_slice d, bool eof, void *arg);
static void on_up_closed(void *owner, int error);

static void on_client_drained(tp_stream *s, int status, void *arg)
{
    (void)s;
    px *x = arg;
    if (status == 0 && x->uc && x->state == PX_BODY) {
        arm_timer(x, x->up->opts.read_timeout);
        tp_stream_resume(x->uc->s);
    }
    px_unref(x);
}

static int body_sink(void *arg, const char *p, size_t n)
{
    px *x = arg;
    return tp_http_write_body(x->h->req, p, n) == -EPIPE ? TP_BODY_STOP : 0;
}

/* The body is complete: the connection goes back to the pool if both sides are in step. */
static void response_done(px *x, bool leftover)
{
    bool reusable = !x->until_close && !x->resp_close && x->req_done && !leftover;
    px_drop_conn(x, reusable);
    px_finish(x);
}

/* Response body bytes from d; returns how many were used. */
static size_t feed_body(px *x, tp_slice d, bool eof)
{
    bool done = false;
    ssize_t k = (ssize_t)d.n;
    if (x->until_close)
        body_sink(x, d.p, d.n);
    else if (d.n && (k = tp__body_decode(&x->body, d, body_sink, x, &done)) < 0) {
        px_fail(x, "bad response body framing");
        return d.n;
    }
    if (done) {
        response_done(x, (size_t)k < d.n);
        return d.n;
    }
    if (eof) {
        if (x->until_close)
            response_done(x, false);
        else
            px_fail(x, "upstream closed mid-response");
        return d.n;
    }
    if (x->h && tp_http_output_pending(x->h->req) > TP_PROXY_HIGH_WATER &&
        tp_http_when_drained(x->h->req, on_client_drained, x) == 0) {
        px_ref(x);
        tp_stream_pause(x->uc->s);
    }
    return (size_t)k;
}

static void put_handler_ref(void *arg)
{
    tp__handler_put(arg);
}

/* A 101 to the client's Upgrade: the 101 goes to the client and the streams are joined. */
static void start_tunnel(px *x, tp_response_head *rh)
{
    tp_handler *h = x->h;
    tp_up_conn *c = x->uc;
    x->uc = NULL;
    tp_stream *upstream = tp__pool_detach(c);
    px_unref(x); /* the connection's (the caller holds one) */
    tp_headers_init(&h->headers, &h->req->arena);
    tp__proxy_response_fields(rh, &h->headers);
    tp_headers_add(&h->headers, TP_SLICE_LIT("Upgrade"),
                   tp_headers_get(&(tp_headers){.v = rh->headers, .n = rh->num_headers},
                                  TP_SLICE_LIT("Upgrade")));
    tp_headers_add(&h->headers, TP_SLICE_LIT("Connection"), TP_SLICE_LIT("Upgrade"));
    h->status = 101;
    h->reason = tp_arena_slice_dup(&h->req->arena, rh->reason);
    px_to(x, PX_TUNNEL);
    tp_timer_stop(x->loop, &x->timer);
    x->resp_started = true;
    /* on_finish runs in there (and releases x's hold); the request's reference passes to
     * us with the client's stream, and on to the tunnel */
    tp_stream *client = tp__handler_upgrade(h);
    px_release_handler(x);
    if (!client) {
        tp_stream_close(upstream);
        return;
    }
    tp__proxy_tunnel(client, upstream, put_handler_ref, h);
}

/* Sets up the client's response from the upstream's head; false after a failure. */
static bool start_response(px *x, tp_response_head *rh)
{
    tp_handler *h = x->h;
    tp_headers up_h = {.v = rh->headers, .n = rh->num_headers, .cap = rh->num_headers};
    bool head = tp_slice_eq(h->req->method, TP_SLICE_LIT("HEAD"));
    bool no_body = head || rh->status == 204 || rh->status == 304;
    tp_slice conn = tp_headers_get_joined(&up_h, TP_SLICE_LIT("Connection"));
    x->resp_close = rh->version_minor == 0 || x->upgrade ||
                    (conn.p && tp_list_has(conn, TP_SLICE_LIT("close")));
    if (!no_body && tp__body_begin(&x->body, &up_h, UINT64_MAX, MAX_RESPONSE_HEAD, false) != 0) {
        px_fail(x, "bad response framing");
        return false;
    }
    x->until_close = !no_body && !tp__body_pending(&x->body) &&
                     !tp_headers_get(&up_h, TP_SLICE_LIT("Content-Length")).p;
    tp_headers out;
    tp_headers_init(&out, &h->req->arena);
    tp__proxy_response_fields(rh, &out);
    if (x->body.chunked)
        tp_headers_remove(&out, TP_SLICE_LIT("Content-Length"));
    h->flushed = true; /* the handler's own output (and gzip) stays out of it */
    h->status = rh->status;
    x->resp_started = true;
    px_to(x, PX_BODY);
    tp_slice reason = tp_arena_slice_dup(&h->req->arena, rh->reason);
    if (tp_http_write_head(h->req, rh->status, reason.n ? reason : TP_SLICE_NULL, &out) ==
        -EINVAL) {
        x->resp_started = false;
        px_to(x, PX_WAIT_HEAD);
        px_fail(x, "invalid response head");
        return false;
    }
    if (no_body)
        response_done(x, false);
    return true;
}

/* The response head in d, if complete; returns the bytes used. */
static size_t feed_head(px *x, tp_slice d, bool eof)
{
    static const tp_http_limits lim = {MAX_RESPONSE_HEAD, MAX_RESPONSE_HEAD, MAX_RESPONSE_HEADERS};
    int status = 0;
    int n = tp_http_scan_head(&x->parser, d.p, d.n, &lim, &status);
    if (n == TP_AGAIN) {
        if (eof && !x->heard)
            tp_stream_close(x->uc->s); /* on_up_closed: a retry, or 502 */
        else if (eof)
            px_fail(x, "upstream closed mid-head");
        return 0;
    }
    tp_http_header fields[MAX_RESPONSE_HEADERS];
    tp_response_head rh;
    if (n < 0 || tp_http_parse_response_head(d.p, (size_t)n, &rh, fields, MAX_RESPONSE_HEADERS,
                                             &status) != TP_OK) {
        px_fail(x, "invalid response head");
        return d.n;
    }
    x->parser = (tp_http_parser){.response = 1};
    if (rh.status == 101 && x->upgrade) {
        start_tunnel(x, &rh);
        return (size_t)n;
    }
    if (rh.status < 200) /* 100 Continue, 102, 103: the client gets the final answer only */
        return (size_t)n;
    start_response(x, &rh);
    return (size_t)n;
}

static size_t on_up_data(tp_stream *s, tp_slice d, bool eof, void *arg)
{
    (void)s;
    px *x = arg;
    size_t used = 0;
    px_ref(x);
    x->heard = x->heard || d.n;
    if (x->h)
        arm_timer(x, x->up->opts.read_timeout);
    while (x->uc && x->h && (used < d.n || eof)) {
        tp_slice rest = {d.p + used, d.n - used};
        size_t k = x->state == PX_WAIT_HEAD ? feed_head(x, rest, eof) : feed_body(x, rest, eof);
        used += k;
        if (!k || x->state == PX_TUNNEL || x->state == PX_DONE || tp_stream_closed(s))
            break;
    }
    if (x->state == PX_DONE && x->uc)
        px_drop_conn(x, false);
    px_unref(x);
    return used > d.n ? d.n : used;
}

/* ---- the request ------------------------------------------------------------------------- */

static void px_send(px *x);

/* The upstream connection closed (the pool frees it after this). A reused keep-alive
 * connection the upstream had closed before anything came gets one more try on a new one,
 * for a request whose body (if any) is not under way yet, as nginx does. */
static void on_up_closed(void *owner, int error)
{
    px *x = owner;
    bool again = x->uc->reused && !x->body_sent && !x->heard && x->state == PX_WAIT_HEAD && x->h;
    x->uc = NULL;
    if (again) {
        x->parser = (tp_http_parser){.response = 1};
        px_send(x);
    } else if (x->h && x->state != PX_DONE) {
        px_fail(x, error ? "upstream connection failed" : "upstream closed the connection");
    }
    px_unref(x); /* the connection's */
}

static void on_head_sent(tp_stream *s, int status, void *arg)
{
    (void)s;
    px *x = arg;
    if (status == 0 && x->state == PX_WAIT_HEAD)
        arm_timer(x, x->up->opts.read_timeout);
    px_unref(x);
}

/* Takes a connection and sends the head; false after a 502. */
static void px_send(px *x)
{
    int err = 0;
    tp_up_conn *c = tp__pool_get(x->up, x->loop, &err);
    if (!c) {
        px_fail(x, strerror(-err));
        return;
    }
    x->uc = c;
    px_ref(x);
    c->on_close = on_up_closed;
    c->owner = x;
    tp_stream_set_data_handler(c->s, on_up_data, x);
    arm_timer(x, x->up->opts.connect_timeout);
    px_ref(x);
    if (tp_stream_write(c->s, tp_buf_data(&x->head), x->head.len, on_head_sent, x) < 0)
        px_unref(x);
}

static void on_up_drained(tp_stream *s, int status, void *arg)
{
    (void)s;
    px *x = arg;
    if (status == 0 && x->h && !tp_finished(x->h)) {
        arm_timer(x, x->up->opts.read_timeout);
        tp_http_resume_body(x->h->req);
    }
    px_unref(x);
}

static int proxy_prepare(tp_handler *h)
{
    px **slot = tp_handler_state(h);
    px *x = tp_calloc(1, sizeof(*x));
    *slot = x;
    x->refs = 1; /* the handler state's, put in px_release_handler */
    x->h = h;
    tp__handler_hold(h);
    x->up = h->route_data;
    x->up->refs++;
    x->loop = tp_loop_current();
    x->parser.response = 1;
    tp_timer_init(&x->timer, on_timeout, x);
    tp_request *req = h->req;
    x->req_body = tp__proxy_body_mode(req);
    x->upgrade = tp__proxy_wants_upgrade(req);
    x->req_done = x->req_body == PROXY_BODY_NONE;
    tp__proxy_request_head(x->up, req, tp_http_peer_ip(req), tp_http_xheaders(req), x->req_body,
                           x->upgrade, &x->head);
    px_send(x);
    return TP_OK;
}

static int proxy_data(tp_handler *h, tp_slice chunk)
{
    px *x = *(px **)tp_handler_state(h);
    if (!x || !x->uc || x->state == PX_DONE || x->state == PX_TUNNEL)
        return TP_OK; /* failed or answered: the rest of the body is dropped */
    tp_stream *s = x->uc->s;
    x->body_sent = true;
    arm_timer(x, x->up->opts.read_timeout);
    if (x->req_body == PROXY_BODY_CHUNKED) {
        char line[24];
        int n = snprintf(line, sizeof line, "%zx\r\n", chunk.n);
        tp_stream_write(s, line, (size_t)n, NULL, NULL);
    }
    tp_stream_write(s, chunk.p, chunk.n, NULL, NULL);
    if (x->req_body == PROXY_BODY_CHUNKED)
        tp_stream_write(s, "\r\n", 2, NULL, NULL);
    if (tp_stream_pending_write(s) > TP_PROXY_HIGH_WATER) {
        tp_http_pause_body(h->req);
        px_ref(x);
        if (tp_stream_write(s, NULL, 0, on_up_drained, x) < 0)
            px_unref(x);
    }
    return TP_OK;
}

/* Every method: the body is complete (it went upstream as it came); the response comes. */
static int proxy_method(tp_handler *h)
{
    px *x = *(px **)tp_handler_state(h);
    if (!x)
        return TP_OK;
    if (x->req_body == PROXY_BODY_CHUNKED && x->uc && x->state != PX_DONE)
        tp_stream_write(x->uc->s, "0\r\n\r\n", 5, NULL, NULL);
    x->req_done = true;
    return tp_finished(h) ? TP_OK : TP_AGAIN;
}

/* The client left: the upstream connection goes too (mid-exchange it cannot be reused). */
static void proxy_connection_close(tp_handler *h)
{
    px *x = *(px **)tp_handler_state(h);
    if (!x || x->state == PX_DONE || x->state == PX_TUNNEL)
        return;
    px_ref(x);
    px_drop_conn(x, false);
    px_to(x, PX_DONE);
    if (h->state == HANDLER_WAITING)
        tp_finish(h);
    px_release_handler(x);
    px_unref(x);
}

/* Finished from anywhere (our own tp_finish included): the exchange lets go. */
static void proxy_on_finish(tp_handler *h)
{
    px *x = *(px **)tp_handler_state(h);
    if (!x)
        return;
    px_ref(x);
    if (x->state != PX_TUNNEL) {
        px_drop_conn(x, false);
        x->state = PX_DONE;
    }
    px_release_handler(x);
    px_unref(x);
}

static const tp_extra_method extra_methods[] = {
    {"PROPFIND", proxy_method},
    {"PROPPATCH", proxy_method},
    {"MKCOL", proxy_method},
    {"COPY", proxy_method},
    {"MOVE", proxy_method},
    {"LOCK", proxy_method},
    {"UNLOCK", proxy_method},
    {"REPORT", proxy_method},
    {"SEARCH", proxy_method},
    {"PURGE", proxy_method},
    {NULL, NULL},
};

static const tp_handler_class proxy_class = {
    .name = "ProxyHandler",
    .state_size = sizeof(px *),
    .flags = TP_STREAM_REQUEST_BODY | TP_NO_ETAG | TP_NO_XSRF_CHECK,
    .prepare = proxy_prepare,
    .get = proxy_method,
    .head = proxy_method,
    .post = proxy_method,
    .put = proxy_method,
    .delete_ = proxy_method,
    .patch = proxy_method,
    .options = proxy_method,
    .data_received = proxy_data,
    .on_connection_close = proxy_connection_close,
    .on_finish = proxy_on_finish,
    .extra_methods = extra_methods,
};

int tp_proxy_route(tp_app *app, const char *pattern, const char *upstream_url,
                   const tp_proxy_opts *opts)
{
    tp_upstream *up = tp__upstream_new(upstream_url, pattern, opts);
    if (!up)
        return strncmp(upstream_url, "http://", 7) == 0 ? -EHOSTUNREACH : -EINVAL;
    int r = tp_app_route(app, pattern, &proxy_class, up);
    if (r < 0) {
        tp__upstream_unref(up);
        return r;
    }
    up->next = app->proxies;
    app->proxies = up;
    return 0;
}

int tp_proxy_stats(tp_app *app, const char *pattern, unsigned long *connects, unsigned long *reuses)
{
    for (tp_upstream *up = app->proxies; up; up = up->next)
        if (strcmp(up->pattern, pattern) == 0) {
            *connects = up->connects;
            *reuses = up->reuses;
            return 0;
        }
    return -ENOENT;
}

void tp__proxies_free(tp_app *app)
{
    while (app->proxies) {
        tp_upstream *up = app->proxies;
        app->proxies = up->next;
        tp__pool_close_idle(up);
        tp__upstream_unref(up);
    }
}
