/* Request bodies: Content-Length and chunked framing (RFC 9112 §6-7), gzip decoding for
 * decompress_request and the body size limit; see http/body.h. */
#include "http/body.h"

#include <string.h>
#include <zlib.h>

#include "core/alloc.h"
#include "core/hex.h"

#define MAX_CHUNK_DIGITS 16
#define MAX_CHUNK_EXT    4096
#define INFLATE_OUT      16384

/* Transfer-Encoding must end in exactly one "chunked"; other codings are not implemented
 * (501); anything where chunked is not last leaves the framing unknown (400). */
static int check_transfer_encoding(tp_slice te)
{
    size_t chunked = 0, items = 0;
    bool last_chunked = false;
    tp_list_iter it = tp_list_begin(te);
    for (tp_slice item; tp_list_next(&it, &item);) {
        item = tp_slice_trim(item);
        if (!item.n)
            return 400;
        items++;
        last_chunked = tp_slice_caseeq(item, TP_SLICE_LIT("chunked"));
        chunked += last_chunked;
    }
    if (!last_chunked || chunked > 1)
        return 400;
    return items > 1 ? 501 : 0;
}

/* One Content-Length value: digits only. 0 ok, else the status. */
static int parse_length_item(tp_slice item, uint64_t *out)
{
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
    *out = v;
    return huge ? 413 : 0;
}

/* "5, 5" (repeated equal values) is one length. 0 ok, else the status. */
static int parse_content_length(tp_slice cl, uint64_t max, uint64_t *out)
{
    bool seen = false;
    uint64_t value = 0;
    tp_list_iter it = tp_list_begin(cl);
    for (tp_slice item; tp_list_next(&it, &item);) {
        uint64_t v;
        int st = parse_length_item(tp_slice_trim(item), &v);
        if (st)
            return st;
        if (seen && v != value)
            return 400;
        value = v;
        seen = true;
    }
    if (value > max)
        return 413;
    *out = value;
    return 0;
}

static int begin_inflate(tp_body_decoder *d)
{
    d->inflate = tp_calloc(1, sizeof(z_stream));
    if (inflateInit2(d->inflate, 16 + MAX_WBITS) != Z_OK) {
        tp_free(d->inflate);
        d->inflate = NULL;
        return 500;
    }
    return 0;
}

int tp__body_begin(tp_body_decoder *d, tp_headers *h, uint64_t max_body, size_t max_trailer,
                   bool decompress)
{
    tp_slice te = tp_headers_get_joined(h, TP_SLICE_LIT("Transfer-Encoding"));
    tp_slice cl = tp_headers_get_joined(h, TP_SLICE_LIT("Content-Length"));
    int st;
    *d = (tp_body_decoder){.max_body = max_body, .max_trailer = max_trailer, .chunk = CH_SIZE};
    if (te.p && cl.p)
        return 400; /* the classic smuggling pair */
    if (te.p) {
        if ((st = check_transfer_encoding(te)))
            return st;
        d->chunked = true;
    } else if (cl.p && (st = parse_content_length(cl, max_body, &d->left))) {
        return st;
    }
    tp_slice ce = tp_headers_get(h, TP_SLICE_LIT("Content-Encoding"));
    if (decompress && ce.p && tp_slice_caseeq(ce, TP_SLICE_LIT("gzip")) && tp__body_pending(d)) {
        if ((st = begin_inflate(d)))
            return st;
        tp_headers_remove(h, TP_SLICE_LIT("Content-Encoding"));
        tp_headers_add(h, TP_SLICE_LIT("X-Consumed-Content-Encoding"), TP_SLICE_LIT("gzip"));
    }
    return 0;
}

bool tp__body_pending(const tp_body_decoder *d)
{
    return d->chunked || d->left;
}

/* Decoded body bytes: counted against the limit, then handed to the sink. */
static int sink_bytes(tp_body_decoder *d, const char *p, size_t n, tp_body_sink sink, void *arg)
{
    d->total += n;
    if (d->total > d->max_body)
        return 413;
    return n ? sink(arg, p, n) : 0;
}

static int deliver(tp_body_decoder *d, const char *p, size_t n, tp_body_sink sink, void *arg)
{
    if (!d->inflate)
        return sink_bytes(d, p, n, sink, arg);
    z_stream *z = d->inflate;
    char out[INFLATE_OUT];
    z->next_in = (Bytef *)(uintptr_t)p;
    z->avail_in = (uInt)n;
    while (z->avail_in) {
        z->next_out = (Bytef *)out;
        z->avail_out = sizeof(out);
        int r = inflate(z, Z_NO_FLUSH);
        if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
            return 400;
        int st = sink_bytes(d, out, sizeof(out) - z->avail_out, sink, arg);
        if (st)
            return st;
        if (r == Z_STREAM_END || (r == Z_BUF_ERROR && z->avail_out))
            break; /* trailing bytes after the gzip member are ignored */
    }
    return 0;
}

static int size_byte(tp_body_decoder *d, char ch)
{
    if (tp_hex_value(ch) >= 0) {
        if (++d->chunk_line > MAX_CHUNK_DIGITS)
            return 400;
        d->left = d->left * 16 + (uint64_t)tp_hex_value(ch);
        return 0;
    }
    if (!d->chunk_line)
        return 400;
    d->chunk = ch == '\r' ? CH_SIZE_LF : CH_EXT;
    d->chunk_line = 0;
    return ch == '\r' || ch == ';' || ch == ' ' || ch == '\t' ? 0 : 400;
}

static bool is_ctl(char ch)
{
    return ((unsigned char)ch < 0x20 && ch != '\t') || ch == 0x7f;
}

/* One step of the chunked decoder on byte ch; returns 0 or a status. */
static int chunk_byte(tp_body_decoder *d, char ch)
{
    switch (d->chunk) {
    case CH_SIZE: return size_byte(d, ch);
    case CH_EXT: /* chunk extensions are ignored (RFC 9112 §7.1.1) */
        if (ch == '\r')
            d->chunk = CH_SIZE_LF;
        else if (is_ctl(ch) || ++d->chunk_line > MAX_CHUNK_EXT)
            return 400;
        return 0;
    case CH_SIZE_LF:
        if (ch != '\n')
            return 400;
        if (d->total + d->left > d->max_body && !d->inflate)
            return 413;
        d->chunk = d->left ? CH_DATA : CH_TRAILER;
        d->chunk_line = 0;
        return 0;
    case CH_DATA_CR: d->chunk = CH_DATA_LF; return ch == '\r' ? 0 : 400;
    case CH_DATA_LF: d->chunk = CH_SIZE; return ch == '\n' ? 0 : 400;
    case CH_TRAILER: /* trailer fields are accepted and dropped */
        d->chunk = ch == '\r' ? CH_END_LF : CH_TRAILER_LINE;
        /* fall through */
    case CH_TRAILER_LINE:
        if (++d->trailer_bytes > d->max_trailer)
            return 431;
        if (ch == '\n' && d->chunk == CH_TRAILER_LINE)
            d->chunk = CH_TRAILER;
        else if (ch != '\r' && ch != '\n' && is_ctl(ch))
            return 400;
        return 0;
    case CH_END_LF:
    case CH_DATA: break;
    }
    return 400;
}

static ssize_t decode_chunked(tp_body_decoder *d, tp_slice data, tp_body_sink sink, void *arg,
                              bool *done)
{
    size_t i = 0;
    while (i < data.n) {
        if (d->chunk == CH_DATA) {
            size_t n = data.n - i < d->left ? data.n - i : (size_t)d->left;
            int st = deliver(d, data.p + i, n, sink, arg);
            if (st == TP_BODY_STOP)
                return (ssize_t)data.n;
            if (st)
                return -st;
            d->left -= n;
            i += n;
            if (!d->left)
                d->chunk = CH_DATA_CR;
            continue;
        }
        if (d->chunk == CH_END_LF) {
            if (data.p[i] != '\n')
                return -400;
            *done = true;
            return (ssize_t)i + 1;
        }
        int st = chunk_byte(d, data.p[i++]);
        if (st)
            return -st;
    }
    return (ssize_t)i;
}

ssize_t tp__body_decode(tp_body_decoder *d, tp_slice data, tp_body_sink sink, void *arg, bool *done)
{
    *done = false;
    if (d->chunked)
        return decode_chunked(d, data, sink, arg, done);
    size_t n = data.n < d->left ? data.n : (size_t)d->left;
    int st = deliver(d, data.p, n, sink, arg);
    if (st == TP_BODY_STOP)
        return (ssize_t)data.n;
    if (st)
        return -st;
    d->left -= n;
    *done = !d->left;
    return (ssize_t)n;
}

void tp__body_reset(tp_body_decoder *d)
{
    if (d->inflate) {
        inflateEnd(d->inflate);
        tp_free(d->inflate);
        d->inflate = NULL;
    }
}
