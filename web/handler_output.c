/* The handler's output: write, flush, finish, errors and redirects. What is written is kept
 * in the request arena until a flush or the finish sends it, so a response that finishes
 * without a flush goes out with a Content-Length. */
#include <errno.h>
#include <execinfo.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/status.h"
#include "core/escape.h"
#include "web/gzip.h"
#include "web/web_internal.h"

/* The largest file body read into memory to be gzipped. */
#define TP_GZIP_FILE_MAX (16u << 20)

/* ---- output ------------------------------------------------------------------------------ */

int tp_write(tp_handler *h, const void *p, size_t n)
{
    if (tp__handler_done(h))
        return -EALREADY;
    if (h->file_fd >= 0 && n)
        return -EBUSY; /* the file goes first: flush it before writing more */
    if (!n)
        return 0;
    if (h->out_len + n > h->out_cap)
        h->out =
            tp_arena_grow(&h->req->arena, h->out, h->out_len, &h->out_cap, h->out_len + n, 1, 256);
    memcpy(h->out + h->out_len, p, n);
    h->out_len += n;
    return 0;
}

int tp_write_str(tp_handler *h, const char *s)
{
    return tp_write(h, s, strlen(s));
}

int tp_write_json(tp_handler *h, const json_t *obj)
{
    if (!json_is_object(obj))
        return -EINVAL; /* Tornado: "Lists not accepted for security reasons" */
    tp_slice s = tp_json_encode(&h->req->arena, obj);
    if (!s.p)
        return -EINVAL;
    int r = tp_write(h, s.p, s.n);
    if (r == 0)
        tp_set_header(h, "Content-Type", "application/json; charset=UTF-8");
    return r;
}

int tp_writef(tp_handler *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    if ((size_t)n < sizeof(small))
        return tp_write(h, small, (size_t)n);
    char *big = tp_arena_alloc(&h->req->arena, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return tp_write(h, big, (size_t)n);
}

static void close_pending_file(void *arg)
{
    tp_handler *h = arg;
    tp__handler_drop_file(h);
}

void tp__handler_drop_file(tp_handler *h)
{
    if (h->file_fd >= 0)
        close(h->file_fd);
    h->file_fd = -1;
    h->file_len = 0;
}

int tp_write_file(tp_handler *h, int fd, off_t off, size_t n)
{
    if (tp__handler_done(h) || h->file_fd >= 0) {
        close(fd);
        return tp__handler_done(h) ? -EALREADY : -EBUSY;
    }
    h->file_fd = fd;
    h->file_off = off;
    h->file_len = n;
    tp_arena_on_cleanup(&h->req->arena, close_pending_file, h);
    return 0;
}

/* Hands the pending file to the connection (which closes it). */
static int send_file(tp_handler *h)
{
    if (h->file_fd < 0)
        return 0;
    int fd = h->file_fd;
    h->file_fd = -1;
    size_t n = h->file_len;
    h->file_len = 0;
    return tp_http_sendfile(h->req, fd, h->file_off, n, true);
}

/* Tornado's flush() adds the cookies set with set_cookie after the transforms, with
 * add_header: after the other headers (with any Set-Cookie an app added itself). */
static void add_cookies(tp_handler *h)
{
    for (size_t i = 0; i < h->new_cookies.n; i++)
        tp_headers_add_ref(&h->headers, h->new_cookies.v[i].name, h->new_cookies.v[i].value);
}

static int write_head(tp_handler *h)
{
    h->flushed = true;
    if (h->new_cookies.n)
        add_cookies(h);
    int r = tp_http_write_head(h->req, h->status, h->reason, &h->headers);
    if (r == -EINVAL)
        tp_log_error("invalid response head for %.*s %.*s", TP_SLICE_FMT(h->req->method),
                     TP_SLICE_FMT(h->req->uri));
    return r;
}

/* ---- the gzip transform (compress_response) ---------------------------------------------- */

static void gzip_free(void *arg)
{
    tp_gzip_end(arg);
}

static bool accepts_gzip(tp_handler *h)
{
    tp_slice ae = tp_headers_get_joined(&h->req->headers, TP_SLICE_LIT("Accept-Encoding"));
    return ae.p && memmem(ae.p, ae.n, "gzip", 4);
}

/* A file body about to be gzipped is read into the written bytes (sendfile cannot compress);
 * false if it is too big for that (then the response goes out unchanged). */
static bool gzip_candidate(tp_handler *h)
{
    return accepts_gzip(h) && tp_gzip_compressible_type(
                                  tp_headers_get_joined(&h->headers, TP_SLICE_LIT("Content-Type")));
}

static bool inline_file(tp_handler *h)
{
    if (h->file_fd < 0 || !gzip_candidate(h))
        return true;
    if (h->file_len > TP_GZIP_FILE_MAX)
        return false;
    size_t n = h->file_len, had = h->out_len;
    char *buf = tp_arena_alloc(&h->req->arena, had + n + 1);
    if (had)
        memcpy(buf, h->out, had);
    ssize_t got = n ? pread(h->file_fd, buf + had, n, h->file_off) : 0;
    if (got != (ssize_t)n)
        return false;
    h->out = buf;
    h->out_len = h->out_cap = had + n;
    tp__handler_drop_file(h);
    return true;
}

/* transform_first_chunk over the written bytes (which it may replace). */
static void transform_first(tp_handler *h, bool finishing)
{
    if (!h->app->settings.compress_response || !inline_file(h))
        return;
    h->gz = tp_arena_alloc(&h->req->arena, sizeof(*h->gz));
    tp_gzip_init(h->gz);
    h->gz->mtime = (uint32_t)time(NULL); /* GzipFile(mtime=None) writes the time, as Tornado */
    tp_arena_on_cleanup(&h->req->arena, gzip_free, h->gz);
    tp_slice out;
    tp_gzip_begin(h->gz, &h->req->headers, &h->status, &h->headers, (tp_slice){h->out, h->out_len},
                  finishing, &out);
    h->out = (char *)out.p;
    h->out_len = out.n;
}

static void transform_next(tp_handler *h, bool finishing)
{
    if (!h->gz || !tp_gzip_active(h->gz))
        return;
    tp_slice out;
    if (tp_gzip_chunk(h->gz, (tp_slice){h->out, h->out_len}, finishing, &out) == 0) {
        h->out = (char *)out.p;
        h->out_len = out.n;
    }
}

int tp_flush(tp_handler *h)
{
    if (tp__handler_done(h))
        return -EALREADY;
    int r = 0;
    if (!h->flushed) {
        transform_first(h, false);
        r = write_head(h);
    } else {
        transform_next(h, false);
    }
    if (h->out_len && r == 0)
        r = tp_http_write_body(h->req, h->out, h->out_len);
    if (r == 0)
        r = send_file(h);
    h->out_len = 0;
    h->out = NULL;
    h->out_cap = 0;
    return r;
}

double tp_request_time(tp_handler *h)
{
    return (h->finish_time > 0 ? h->finish_time : tp__monotonic()) - h->req->start_time;
}

static void log_request(tp_handler *h)
{
    int level = h->status < 400 ? TP_LOG_INFO : h->status < 500 ? TP_LOG_WARNING : TP_LOG_ERROR;
    if (!tp_log_enabled(TP_LOG_ACCESS, level))
        return;
    tp_request *req = h->req;
    double ms = tp_request_time(h) * 1000.0;
    tp_log_cwrite(TP_LOG_ACCESS, level, "web.c", __LINE__, "%d %.*s %.*s (%.*s) %.2fms", h->status,
                  TP_SLICE_FMT(req->method), TP_SLICE_FMT(req->uri), TP_SLICE_FMT(req->remote_ip),
                  ms);
}

/* A response without a body has no representation either (Tornado's
 * _clear_representation_headers). */
static void drop_representation(tp_handler *h)
{
    h->out_len = 0;
    tp__handler_drop_file(h);
    static const tp_slice gone[] = {TP_SLICE_LIT("Content-Length"), TP_SLICE_LIT("Content-Type"),
                                    TP_SLICE_LIT("Content-Encoding"),
                                    TP_SLICE_LIT("Content-Language")};
    for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
        tp_headers_remove(&h->headers, gone[i]);
}

/* Finishing without a flush sends the body with a Content-Length (no chunking). */
static void set_length(tp_handler *h)
{
    tp__handler_conditional(h);
    if (h->status == 204 || h->status == 304 || h->status < 200) {
        drop_representation(h);
        return;
    }
    if (tp_headers_get(&h->headers, TP_SLICE_LIT("Content-Length")).p)
        return;
    char digits[24], *p = digits + sizeof(digits);
    size_t v = h->out_len + h->file_len;
    do
        *--p = (char)('0' + v % 10);
    while (v /= 10);
    tp_slice len = tp_arena_slice_dup(&h->req->arena, (tp_slice){p, (size_t)(digits + 24 - p)});
    tp_headers_append_ref(&h->headers, TP_SLICE_LIT("Content-Length"), len); /* absent: above */
}

/* What finish() does after the head went out: FINISHED, the access log line, on_finish. */
static void finished(tp_handler *h, bool log)
{
    tp__handler_to(h, HANDLER_FINISHED);
    if (h->cls->on_finish || (log && tp_log_access_enabled()))
        h->finish_time = tp__monotonic(); /* only read there: no clock for the others */
    if (log)
        log_request(h);
    if (h->cls->on_finish)
        CALL(h, h->cls->on_finish(h));
}

struct tp_stream *tp__handler_upgrade(tp_handler *h)
{
    if (tp__handler_done(h) || h->flushed)
        return NULL;
    drop_representation(h);
    transform_first(h, true); /* Tornado's finish() runs the transforms: gzip's Vary */
    h->flushed = true;
    if (h->new_cookies.n)
        add_cookies(h);
    struct tp_stream *s = tp_http_upgrade(h->req, h->status, h->reason, &h->headers);
    finished(h, true);
    if (!s)
        tp__handler_put(h); /* the request's reference: nothing takes it over */
    return s;
}

int tp__handler_finish(tp_handler *h, bool log)
{
    if (tp__handler_done(h))
        return -EALREADY;
    if (!h->flushed) {
        set_length(h);
        transform_first(h, true);
        write_head(h);
    } else {
        transform_next(h, true);
    }
    if (h->out_len)
        tp_http_write_body(h->req, h->out, h->out_len);
    send_file(h);
    h->out_len = 0;
    finished(h, log);
    tp__handler_put(h); /* the request's reference */
    return 0;
}

int tp_finish(tp_handler *h)
{
    return tp__handler_finish(h, true);
}

struct tp_stream *tp_detach(tp_handler *h)
{
    if (tp__handler_done(h) || h->flushed)
        return NULL;
    struct tp_stream *s = tp_http_detach(h->req);
    if (!s)
        return NULL;
    tp__handler_drop_file(h);
    tp__handler_to(h, HANDLER_FINISHED); /* without on_finish or a log line */
    tp__handler_put(h);                  /* the request's reference */
    return s;
}

bool tp_finished(tp_handler *h)
{
    return tp__handler_done(h);
}

void tp__handler_capture_traceback(tp_handler *h, const char *what, int r)
{
    void *frames[32];
    int n = backtrace(frames, 32);
    char **names = backtrace_symbols(frames, n);
    tp_buf b = {0};
    tp_buf_appendf(&b, "Traceback (C stack, innermost first):\n");
    for (int i = 0; i < n; i++)
        tp_buf_appendf(&b, "  #%d %s\n", i, names ? names[i] : "?");
    tp_buf_appendf(&b, "Error: %s of %s returned %d for %.*s %.*s\n", what,
                   h->cls->name ? h->cls->name : "handler", r, TP_SLICE_FMT(h->req->method),
                   TP_SLICE_FMT(h->req->uri));
    free(names);
    h->traceback = tp_arena_strndup(&h->req->arena, tp_buf_data(&b), b.len);
    tp_buf_free(&b);
}

static int default_write_error(tp_handler *h, int status)
{
    if (h->traceback && h->app->settings.debug) { /* serve_traceback, as Tornado's debug */
        tp_set_header(h, "Content-Type", "text/plain");
        return tp_write_str(h, h->traceback);
    }
    /* Tornado 6.5 escapes the reason (an app's reason may hold quotes or ampersands) */
    const char *raw = h->reason.p ? h->reason.p : tp_http_reason(status);
    tp_slice reason = tp_xhtml_escape(&h->req->arena, tp_slice_cstr(raw));
    return tp_writef(h, "<html><title>%d: %.*s</title><body>%d: %.*s</body></html>", status,
                     TP_SLICE_FMT(reason), status, TP_SLICE_FMT(reason));
}

/* write_error may finish h itself (as Tornado's often do): h is held until we are done. */
int tp_send_error_reason(tp_handler *h, int status, const char *reason)
{
    if (tp__handler_done(h))
        return -EALREADY;
    if (h->flushed) {
        tp__web_log(TP_LOG_ERROR, "Cannot send error response after headers written");
        return tp_finish(h);
    }
    tp__handler_hold(h);
    tp_clear(h);
    tp_set_status(h, status, reason);
    int r = TP_OK;
    if (status == 304) /* Tornado 6.5: a 304 gets no page (and finish() drops the body) */
        ;
    else if (h->cls->write_error)
        CALL(h, r = h->cls->write_error(h, status));
    else
        default_write_error(h, status);
    if (r != TP_OK && status != 304 && !tp__handler_done(h)) {
        tp_clear(h);
        tp_set_status(h, status, reason);
        default_write_error(h, status);
    }
    if (!tp__handler_done(h))
        tp_finish(h);
    tp__handler_put(h);
    return 0;
}

int tp_send_error(tp_handler *h, int status)
{
    return tp_send_error_reason(h, status, NULL);
}

/* Tornado's log_exception for an HTTPError with a log_message: gen_log.warning("%d %s: " +
 * log_message, status, _request_summary(), *args), from web.py. */
int tp_http_error(tp_handler *h, int status, const char *reason, const char *log_fmt, ...)
{
    if (tp__handler_done(h))
        return -EALREADY;
    if (log_fmt) {
        va_list ap;
        va_start(ap, log_fmt);
        tp_buf b = {0};
        tp_buf_vappendf(&b, log_fmt, ap);
        va_end(ap);
        h->error_log_message = tp_arena_strndup(&h->req->arena, tp_buf_data(&b), b.len);
        tp_buf_free(&b);
        tp_request *req = h->req;
        tp__web_log(TP_LOG_WARNING, "%d %.*s %.*s (%.*s): %s", status, TP_SLICE_FMT(req->method),
                    TP_SLICE_FMT(req->uri), TP_SLICE_FMT(req->remote_ip), h->error_log_message);
    }
    /* send_error takes exception.reason only when it is truthy: "" is the standard one */
    return tp_send_error_reason(h, status, reason && *reason ? reason : NULL);
}

const char *tp_get_reason(tp_handler *h)
{
    return h->reason.p ? h->reason.p : tp_http_reason(h->status);
}

const char *tp_error_log_message(tp_handler *h)
{
    return h->error_log_message;
}

int tp_redirect_status(tp_handler *h, const char *url, int status)
{
    if (h->flushed)
        return -EALREADY;
    if (status < 300 || status > 399 || !tp__safe_text(url))
        return -EINVAL; /* Tornado: AssertionError, ValueError("Unsafe header value") */
    tp_set_status(h, status, NULL);
    tp_set_header(h, "Location", url);
    return tp_finish(h);
}

int tp_redirect(tp_handler *h, const char *url, bool permanent)
{
    return tp_redirect_status(h, url, permanent ? 301 : 302);
}
