/* Request bodies: Content-Length and chunked framing (RFC 9112 §6-7), gzip decoding for
 * decompress_request, the body size limit, and delivery to the delegate, whole or streamed. */
#include <string.h>
#include <zlib.h>

#include "core/alloc.h"
#include "core/hex.h"
#include "http/conn_internal.h"

#define MAX_CHUNK_DIGITS 16
#define MAX_CHUNK_EXT    4096
#define INFLATE_OUT      16384

/* Transfer-Encoding must end in exactly one "chunked"; other codings are not implemented
 * (501); anything where chunked is not last leaves the framing unknown (400). */
static int check_transfer_encoding(tp_slice te)
{
    size_t chunked = 0, items = 0;
    bool last_chunked = false;
    const char *p = te.p, *end = te.p + te.n;
    while (p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        tp_slice item = tp_slice_trim((tp_slice){p, (size_t)((comma ? comma : end) - p)});
        if (!item.n)
            return 400;
        items++;
        last_chunked = tp_slice_caseeq(item, TP_SLICE_LIT("chunked"));
        chunked += last_chunked;
        p = (comma ? comma : end) + 1;
    }
    if (!last_chunked || chunked > 1)
        return 400;
    return items > 1 ? 501 : 0;
}

/* digits only; "5, 5" (repeated equal values) is one length. 0 ok, else the status. */
static int parse_content_length(tp_slice cl, size_t max, uint64_t *out)
{
    bool seen = false;
    uint64_t value = 0;
    const char *p = cl.p, *end = cl.p + cl.n;
    while (p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        tp_slice item = tp_slice_trim((tp_slice){p, (size_t)((comma ? comma : end) - p)});
        uint64_t v = 0;
        bool huge = false;
        if (!item.n)
            return 400;
        for (size_t i = 0; i < item.n; i++) {
            if (item.p[i] < '0' || item.p[i] > '9')
                return 400;
            if (v > (UINT64_MAX - 9) / 10)
                huge = true;
            else
                v = v * 10 + (uint64_t)(item.p[i] - '0');
        }
        if (huge)
            return 413;
        if (seen && v != value)
            return 400;
        value = v;
        seen = true;
        p = (comma ? comma : end) + 1;
    }
    if (value > max)
        return 413;
    *out = value;
    return 0;
}

static int begin_inflate(tp_http_conn *c)
{
    c->x->inflate = tp_calloc(1, sizeof(z_stream));
    if (inflateInit2(c->x->inflate, 16 + MAX_WBITS) != Z_OK) {
        tp_free(c->x->inflate);
        c->x->inflate = NULL;
        return 500;
    }
    return 0;
}

int tp__body_begin(tp_http_conn *c, int *status)
{
    tp_request *req = c->req;
    tp_headers *h = &req->headers;
    tp_slice te = tp_headers_get_joined(h, TP_SLICE_LIT("Transfer-Encoding"));
    tp_slice cl = tp_headers_get_joined(h, TP_SLICE_LIT("Content-Length"));
    c->x->body_chunked = false;
    c->x->body_left = c->x->body_total = 0;
    c->x->chunk = CH_SIZE;
    c->x->chunk_line = c->x->trailer_bytes = 0;
    if (te.p && cl.p)
        return *status = 400, TP_ERROR; /* the classic smuggling pair */
    if (te.p) {
        if ((*status = check_transfer_encoding(te)))
            return TP_ERROR;
        c->x->body_chunked = true;
    } else if (cl.p && (*status = parse_content_length(cl, c->server->opts.max_body_size,
                                                       &c->x->body_left))) {
        return TP_ERROR;
    }
    tp_slice ce = tp_headers_get(h, TP_SLICE_LIT("Content-Encoding"));
    if (c->server->opts.decompress_request && ce.p && tp_slice_caseeq(ce, TP_SLICE_LIT("gzip")) &&
        (c->x->body_chunked || c->x->body_left)) {
        if ((*status = begin_inflate(c)))
            return TP_ERROR;
        tp_headers_remove(h, TP_SLICE_LIT("Content-Encoding"));
        tp_headers_add(h, TP_SLICE_LIT("X-Consumed-Content-Encoding"), TP_SLICE_LIT("gzip"));
    }
    *status = 0;
    return TP_OK;
}

/* sink/deliver status for "the request was answered meanwhile: drop the rest". */
#define STOP 1

/* Decoded body bytes: counted against the limit, then streamed or buffered. */
static int sink(tp_http_conn *c, const char *p, size_t n)
{
    tp_http_server *srv = c->server;
    c->x->body_total += n;
    if (c->x->body_total > srv->opts.max_body_size)
        return 413;
    if (!c->req->stream_body) {
        tp_buf_append(&c->x->body, p, n);
        return 0;
    }
    while (n) {
        size_t k = n < srv->opts.chunk_size ? n : srv->opts.chunk_size;
        if (srv->delegate.data_received(c->req, (tp_slice){p, k}, srv->ctx) != TP_OK)
            return 400;
        if (c->state != CONN_BODY)
            return STOP;
        p += k;
        n -= k;
    }
    return 0;
}

static int deliver(tp_http_conn *c, const char *p, size_t n)
{
    if (!c->x->inflate)
        return sink(c, p, n);
    z_stream *z = c->x->inflate;
    char out[INFLATE_OUT];
    z->next_in = (Bytef *)(uintptr_t)p;
    z->avail_in = (uInt)n;
    while (z->avail_in) {
        z->next_out = (Bytef *)out;
        z->avail_out = sizeof(out);
        int r = inflate(z, Z_NO_FLUSH);
        if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
            return 400;
        int st = sink(c, out, sizeof(out) - z->avail_out);
        if (st)
            return st;
        if (r == Z_STREAM_END || (r == Z_BUF_ERROR && z->avail_out))
            break; /* trailing bytes after the gzip member are ignored */
    }
    return 0;
}

/* One step of the chunked decoder on byte ch; returns 0 or a status. */
static int chunk_byte(tp_http_conn *c, char ch)
{
    switch (c->x->chunk) {
    case CH_SIZE:
        if (tp_hex_value(ch) >= 0) {
            if (++c->x->chunk_line > MAX_CHUNK_DIGITS)
                return 400;
            c->x->body_left = c->x->body_left * 16 + (uint64_t)tp_hex_value(ch);
            return 0;
        }
        if (!c->x->chunk_line)
            return 400;
        c->x->chunk = ch == '\r' ? CH_SIZE_LF : CH_EXT;
        c->x->chunk_line = 0;
        return ch == '\r' || ch == ';' || ch == ' ' || ch == '\t' ? 0 : 400;
    case CH_EXT: /* chunk extensions are ignored (RFC 9112 §7.1.1) */
        if (ch == '\r')
            c->x->chunk = CH_SIZE_LF;
        else if (((unsigned char)ch < 0x20 && ch != '\t') || ch == 0x7f ||
                 ++c->x->chunk_line > MAX_CHUNK_EXT)
            return 400;
        return 0;
    case CH_SIZE_LF:
        if (ch != '\n')
            return 400;
        if (c->x->body_total + c->x->body_left > c->server->opts.max_body_size && !c->x->inflate)
            return 413;
        c->x->chunk = c->x->body_left ? CH_DATA : CH_TRAILER;
        c->x->chunk_line = 0;
        return 0;
    case CH_DATA_CR: c->x->chunk = CH_DATA_LF; return ch == '\r' ? 0 : 400;
    case CH_DATA_LF: c->x->chunk = CH_SIZE; return ch == '\n' ? 0 : 400;
    case CH_TRAILER: /* trailer fields are accepted and dropped */
        c->x->chunk = ch == '\r' ? CH_END_LF : CH_TRAILER_LINE;
        /* fall through */
    case CH_TRAILER_LINE:
        if (++c->x->trailer_bytes > c->server->opts.max_header_size)
            return 431;
        if (ch == '\n' && c->x->chunk == CH_TRAILER_LINE)
            c->x->chunk = CH_TRAILER;
        else if (ch != '\r' && ch != '\n' &&
                 (((unsigned char)ch < 0x20 && ch != '\t') || ch == 0x7f))
            return 400;
        return 0;
    case CH_END_LF:
    case CH_DATA: break;
    }
    return 400;
}

static ssize_t feed_chunked(tp_http_conn *c, tp_slice d)
{
    size_t i = 0;
    while (i < d.n) {
        if (c->x->chunk == CH_DATA) {
            size_t n = d.n - i < c->x->body_left ? d.n - i : (size_t)c->x->body_left;
            int st = deliver(c, d.p + i, n);
            if (st == STOP)
                return (ssize_t)d.n;
            if (st)
                return -st;
            c->x->body_left -= n;
            i += n;
            if (!c->x->body_left)
                c->x->chunk = CH_DATA_CR;
            continue;
        }
        if (c->x->chunk == CH_END_LF) {
            if (d.p[i] != '\n')
                return -400;
            tp__conn_body_done(c);
            return (ssize_t)i + 1;
        }
        int st = chunk_byte(c, d.p[i++]);
        if (st)
            return -st;
    }
    return (ssize_t)i;
}

ssize_t tp__body_feed(tp_http_conn *c, tp_slice d)
{
    if (c->x->body_chunked)
        return feed_chunked(c, d);
    size_t n = d.n < c->x->body_left ? d.n : (size_t)c->x->body_left;
    int st = deliver(c, d.p, n);
    if (st == STOP)
        return (ssize_t)d.n;
    if (st)
        return -st;
    c->x->body_left -= n;
    if (!c->x->body_left)
        tp__conn_body_done(c);
    return (ssize_t)n;
}

void tp__body_reset(tp_exchange *x)
{
    tp_buf_free(&x->body);
    if (x->inflate) {
        inflateEnd(x->inflate);
        tp_free(x->inflate);
        x->inflate = NULL;
    }
}
