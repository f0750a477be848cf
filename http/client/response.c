/* Building the response: libcurl's header lines into tp_headers (a new status line starts
 * over: 100 Continue, redirects, a proxy's CONNECT answer), body chunks into a buffer bounded
 * by max_body_size (after decompression), and the finished transfer into code, reason,
 * effective_url, time_info or a 599 with an errno and a message. */
#include "http/client/client_internal.h"

#include <errno.h>
#include <stdio.h>
#include <sys/time.h>

#include "core/alloc.h"
#include "core/status.h"

tp__http_resp_box *tp__http_box_new(const char *url)
{
    tp__http_resp_box *b = tp_calloc(1, sizeof(*b));
    tp_arena_init(&b->arena, 0);
    tp_headers_init(&b->headers, &b->arena);
    b->r.headers = &b->headers;
    b->r.url = tp_arena_strndup(&b->arena, url, strlen(url));
    b->r.effective_url = b->r.url;
    b->r.reason = "Unknown";
    struct timeval tv;
    gettimeofday(&tv, NULL);
    b->r.start_time = tv.tv_sec + tv.tv_usec / 1e6;
    return b;
}

void tp_http_response_free(tp_http_response *r)
{
    if (!r)
        return;
    tp__http_resp_box *b = (tp__http_resp_box *)r;
    tp_buf_free(&b->body);
    tp_arena_destroy(&b->arena);
    tp_free(b);
}

/* A header line from libcurl without its line end, spaces and tabs trimmed. */
static tp_slice line_of(const char *p, size_t n)
{
    while (n && (p[n - 1] == '\r' || p[n - 1] == '\n'))
        n--;
    return tp_slice_trim(tp_slice_make(p, n));
}

/* "HTTP/1.1 200 OK": a new response starts; its reason replaces the last one. */
static void status_line(tp__http_resp_box *b, const char *p, size_t n)
{
    tp_headers_init(&b->headers, &b->arena);
    tp_slice line = line_of(p, n);
    const char *sp = memchr(line.p, ' ', line.n);
    const char *sp2 = sp ? memchr(sp + 1, ' ', line.n - (size_t)(sp + 1 - line.p)) : NULL;
    if (sp2) {
        tp_slice reason =
            tp_slice_trim(tp_slice_make(sp2 + 1, line.n - (size_t)(sp2 + 1 - line.p)));
        b->r.reason = tp_arena_strndup(&b->arena, reason.p, reason.n);
    } else {
        b->r.reason = "Unknown";
    }
}

size_t tp__http_on_header(char *p, size_t size, size_t n, void *userdata)
{
    tp__http_fetch *f = userdata;
    tp__http_resp_box *b = f->box;
    size_t len = size * n;
    if (f->header_callback)
        f->header_callback(tp_slice_make(p, len), f->header_arg);
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        status_line(b, p, len);
        return len;
    }
    const char *colon = memchr(p, ':', len);
    if (!colon)
        return len; /* the blank line, or a line we cannot use */
    tp_slice name = tp_headers_normalize_name(&b->arena, line_of(p, (size_t)(colon - p)));
    tp_slice value = line_of(colon + 1, len - (size_t)(colon + 1 - p));
    tp_headers_add(&b->headers, name, value);
    return len;
}

size_t tp__http_on_write(char *p, size_t size, size_t n, void *userdata)
{
    tp__http_fetch *f = userdata;
    size_t len = size * n;
    f->received += len;
    if (f->received > f->max_body_size) {
        f->abort_error = -EMSGSIZE;
        f->abort_message = "Body too large (max_body_size)";
        return 0; /* CURLE_WRITE_ERROR ends the transfer */
    }
    if (f->streaming_callback)
        f->streaming_callback(tp_slice_make(p, len), f->streaming_arg);
    else
        tp_buf_append(&f->box->body, p, len);
    return len;
}

static int os_errno(tp__http_fetch *f, int fallback)
{
    long e = 0;
    curl_easy_getinfo(f->easy, CURLINFO_OS_ERRNO, &e);
    return e > 0 ? -(int)e : fallback;
}

/* libcurl's result as -errno (Tornado gives 599 with curl's message for all of these). */
static int curl_errno(tp__http_fetch *f, CURLcode rc)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
    case CURLE_COULDNT_CONNECT: return os_errno(f, -ECONNREFUSED);
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return -EHOSTUNREACH;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE: return os_errno(f, -ECONNRESET);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE: return -EPROTO;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: return -EINVAL;
    case CURLE_FILESIZE_EXCEEDED: return -EMSGSIZE;
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_READ_ERROR: return -ECANCELED;
    default: return -EIO;
    }
}

void tp__http_fail(tp__http_fetch *f, int err, const char *msg)
{
    tp__http_resp_box *b = f->box;
    b->r.code = 599;
    b->r.reason = "Unknown";
    b->r.error = err;
    b->r.error_message = tp_arena_strndup(&b->arena, msg, strlen(msg));
    b->r.body = TP_SLICE_NULL;
}

static double info_time(CURL *e, CURLINFO what)
{
    curl_off_t us = 0;
    curl_easy_getinfo(e, what, &us);
    return us / 1e6;
}

static void fill_times(tp__http_fetch *f)
{
    tp_http_time_info *t = &f->box->r.time_info;
    t->queue = f->queued_for;
    t->namelookup = info_time(f->easy, CURLINFO_NAMELOOKUP_TIME_T);
    t->connect = info_time(f->easy, CURLINFO_CONNECT_TIME_T);
    t->appconnect = info_time(f->easy, CURLINFO_APPCONNECT_TIME_T);
    t->pretransfer = info_time(f->easy, CURLINFO_PRETRANSFER_TIME_T);
    t->starttransfer = info_time(f->easy, CURLINFO_STARTTRANSFER_TIME_T);
    t->total = info_time(f->easy, CURLINFO_TOTAL_TIME_T);
    t->redirect = info_time(f->easy, CURLINFO_REDIRECT_TIME_T);
}

/* An HTTP answer arrived (code set): with raise_error, codes outside 2xx are errors,
 * "HTTP 404: Not Found" as Tornado's HTTPClientError. */
static void http_result(tp__http_fetch *f)
{
    tp__http_resp_box *b = f->box;
    tp_slice enc = tp_headers_get(&b->headers, TP_SLICE_LIT("Content-Encoding"));
    if (f->decompress && tp_slice_caseeq(enc, TP_SLICE_LIT("gzip"))) {
        /* As Tornado's _GzipMessageDelegate: the body is no longer gzip. */
        tp_headers_remove(&b->headers, TP_SLICE_LIT("Content-Encoding"));
        tp_headers_add(&b->headers, TP_SLICE_LIT("X-Consumed-Content-Encoding"), enc);
    }
    b->r.body = tp_buf_slice(&b->body);
    if (f->raise_error && (b->r.code < 200 || b->r.code >= 300)) {
        b->r.error = TP_ERROR;
        b->r.error_message = tp_arena_printf(&b->arena, "HTTP %d: %s", b->r.code, b->r.reason);
    }
}

void tp__http_fill_response(tp__http_fetch *f, CURLcode result)
{
    tp__http_resp_box *b = f->box;
    long code = 0, redirects = 0;
    char *url = NULL;
    curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(f->easy, CURLINFO_REDIRECT_COUNT, &redirects);
    curl_easy_getinfo(f->easy, CURLINFO_EFFECTIVE_URL, &url);
    if (url)
        b->r.effective_url = tp_arena_strndup(&b->arena, url, strlen(url));
    b->r.redirects = (int)redirects;
    fill_times(f);
    if (result == CURLE_OK && code > 0) {
        b->r.code = (int)code;
        http_result(f);
    } else if (result == CURLE_TOO_MANY_REDIRECTS && code >= 300 && code < 400) {
        /* As simple_httpclient: past max_redirects, the last redirect is the response. */
        b->r.code = (int)code;
        http_result(f);
    } else if (f->abort_error) {
        tp__http_fail(f, f->abort_error, f->abort_message);
    } else {
        const char *msg = f->errbuf[0] ? f->errbuf : curl_easy_strerror(result);
        tp__http_fail(f, result == CURLE_OK ? -EPROTO : curl_errno(f, result), msg);
    }
}
