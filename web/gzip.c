/* GZipContentEncoding as Tornado 6.5 has it (tornado/web.py); see web/gzip.h. The gzip
 * framing is Python's gzip.GzipFile(mode="w", fileobj=BytesIO(), compresslevel=6): a
 * 10-byte header without a file name (flags 0, XFL 0, OS 255), raw deflate at level 6
 * (window 15, memLevel 8), a Z_SYNC_FLUSH per flush() and Z_FINISH, CRC-32 and size at
 * close(). zlib is fed the same calls in the same order, so the bytes are Tornado's. */
#include "web/gzip.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/status.h"

/* GZipContentEncoding.CONTENT_TYPES (besides any "text/" type). */
static const char *const compressible[] = {
    "application/javascript", "application/x-javascript", "application/xml", "application/atom+xml",
    "application/json",       "application/xhtml+xml",    "image/svg+xml",
};

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    TP_UNUSED(opaque);
    return tp_calloc(items, size);
}

static void z_free(voidpf opaque, voidpf p)
{
    TP_UNUSED(opaque);
    tp_free(p);
}

void tp_gzip_init(tp_gzip *t)
{
    memset(t, 0, sizeof(*t));
}

bool tp_gzip_active(const tp_gzip *t)
{
    return t->gzipping;
}

void tp_gzip_end(tp_gzip *t)
{
    if (t->started)
        deflateEnd(&t->zs);
    tp_buf_free(&t->out);
    t->started = t->gzipping = false;
}

bool tp_gzip_compressible_type(tp_slice ctype)
{
    if (!ctype.p)
        return false;
    const char *semi = memchr(ctype.p, ';', ctype.n);
    if (semi)
        ctype.n = (size_t)(semi - ctype.p);
    if (ctype.n >= 5 && memcmp(ctype.p, "text/", 5) == 0)
        return true;
    for (size_t i = 0; i < TP_ARRAY_LEN(compressible); i++)
        if (tp_slice_eq(ctype, tp_slice_cstr(compressible[i])))
            return true;
    return false;
}

/* Runs deflate with flush until Python's zlib object would stop: all input consumed and
 * output room left (Z_NO_FLUSH, Z_SYNC_FLUSH), or the stream ended (Z_FINISH). */
static void run_deflate(tp_gzip *t, int flush)
{
    for (;;) {
        size_t room = 16384;
        char *w = tp_buf_reserve(&t->out, room);
        t->zs.next_out = (Bytef *)w;
        t->zs.avail_out = (uInt)room;
        int rc = deflate(&t->zs, flush);
        tp_buf_commit(&t->out, room - t->zs.avail_out);
        if (flush == Z_FINISH ? rc == Z_STREAM_END : t->zs.avail_in == 0 && t->zs.avail_out != 0)
            return;
    }
}

static void put32le(tp_buf *b, uint32_t v)
{
    unsigned char p[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    tp_buf_append(b, p, 4);
}

/* GzipFile.write + flush() or close(), appending to t->out. */
static void compress_chunk(tp_gzip *t, tp_slice chunk, bool finishing)
{
    /* GzipFile.write: compress only non-empty data, in pieces zlib's uInt can count */
    for (size_t off = 0; off < chunk.n;) {
        size_t n = chunk.n - off > UINT_MAX ? UINT_MAX : chunk.n - off;
        t->zs.next_in = (Bytef *)(uintptr_t)(chunk.p + off);
        t->zs.avail_in = (uInt)n;
        t->crc = (uint32_t)crc32(t->crc, (const Bytef *)chunk.p + off, (uInt)n);
        t->isize += (uint32_t)n;
        run_deflate(t, Z_NO_FLUSH);
        off += n;
    }
    t->zs.next_in = NULL;
    t->zs.avail_in = 0;
    if (finishing) {
        run_deflate(t, Z_FINISH);
        put32le(&t->out, t->crc);
        put32le(&t->out, t->isize);
        t->finished = true;
    } else {
        run_deflate(t, Z_SYNC_FLUSH);
    }
}

int tp_gzip_chunk(tp_gzip *t, tp_slice chunk, bool finishing, tp_slice *out)
{
    if (!t->gzipping) {
        *out = chunk;
        return 0;
    }
    if (t->finished)
        return -EINVAL;
    tp_buf_clear(&t->out);
    compress_chunk(t, chunk, finishing);
    *out = tp_buf_slice(&t->out);
    return 0;
}

/* headers["Vary"] += ", Accept-Encoding", or set. */
static void add_vary(tp_headers *h)
{
    tp_slice vary = tp_headers_get_joined(h, TP_SLICE_LIT("Vary"));
    if (!vary.p) {
        tp_headers_set(h, TP_SLICE_LIT("Vary"), TP_SLICE_LIT("Accept-Encoding"));
        return;
    }
    char *v = tp_arena_printf(h->arena, "%.*s, Accept-Encoding", TP_SLICE_FMT(vary));
    tp_headers_set(h, TP_SLICE_LIT("Vary"), tp_slice_cstr(v));
}

static bool decide(const tp_headers *request, int status, const tp_headers *response,
                   tp_slice chunk, bool finishing)
{
    tp_slice ae = tp_headers_get_joined(request, TP_SLICE_LIT("Accept-Encoding"));
    if (!ae.p || !memmem(ae.p, ae.n, "gzip", 4))
        return false;
    /* no body can follow these (Tornado gets there by their empty bodies) */
    if (status < 200 || status == 204 || status == 304)
        return false;
    tp_slice ctype = tp_headers_get_joined(response, TP_SLICE_LIT("Content-Type"));
    return tp_gzip_compressible_type(ctype.p ? ctype : TP_SLICE_LIT("")) &&
           (!finishing || chunk.n >= TP_GZIP_MIN_LENGTH) &&
           tp_headers_count(response, TP_SLICE_LIT("Content-Encoding")) == 0;
}

static void start(tp_gzip *t)
{
    t->zs.zalloc = z_alloc;
    t->zs.zfree = z_free;
    if (deflateInit2(&t->zs, TP_GZIP_LEVEL, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort(); /* only Z_MEM_ERROR is possible: out of memory aborts, as in core/alloc */
    t->started = true;
    t->crc = (uint32_t)crc32(0, NULL, 0);
    unsigned char hdr[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
    for (int i = 0; i < 4; i++)
        hdr[4 + i] = (unsigned char)(t->mtime >> (8 * i));
    tp_buf_clear(&t->out);
    tp_buf_append(&t->out, hdr, sizeof(hdr));
}

int tp_gzip_begin(tp_gzip *t, const tp_headers *request, int *status, tp_headers *response,
                  tp_slice chunk, bool finishing, tp_slice *out)
{
    add_vary(response);
    t->gzipping = decide(request, *status, response, chunk, finishing);
    if (!t->gzipping) {
        *out = chunk;
        return 0;
    }
    tp_headers_set(response, TP_SLICE_LIT("Content-Encoding"), TP_SLICE_LIT("gzip"));
    start(t);
    compress_chunk(t, chunk, finishing); /* after the header start() wrote */
    *out = tp_buf_slice(&t->out);
    if (tp_headers_count(response, TP_SLICE_LIT("Content-Length"))) {
        if (finishing) {
            char n[24];
            snprintf(n, sizeof(n), "%zu", out->n);
            tp_headers_set(response, TP_SLICE_LIT("Content-Length"), tp_slice_cstr(n));
        } else {
            tp_headers_remove(response, TP_SLICE_LIT("Content-Length"));
        }
    }
    return 0;
}
