/* permessage-deflate (RFC 7692): the Sec-WebSocket-Extensions negotiation of Tornado 6.5's
 * WebSocketProtocol13 (_accept_connection, _process_server_headers, _create_compressors) and
 * its _PerMessageDeflateCompressor / _PerMessageDeflateDecompressor over zlib's raw deflate. */
#define ZLIB_CONST
#include "http/websocket/deflate.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "core/alloc.h"
#include "core/status.h"
#include "http/parser.h"

/* ---- negotiation ------------------------------------------------------------------------ */

/* The four parameters, one bit each in offer.seen. */
enum { SERVER_NCT = 1, CLIENT_NCT = 2, SERVER_BITS = 4, CLIENT_BITS = 8 };

static const struct {
    const char *name;
    unsigned bit;
} params[] = {
    {"server_no_context_takeover", SERVER_NCT},
    {"client_no_context_takeover", CLIENT_NCT},
    {"server_max_window_bits", SERVER_BITS},
    {"client_max_window_bits", CLIENT_BITS},
};

/* One permessage-deflate offer or answer as read: the parameters seen, the window bits given
 * (0 when absent or valueless; [0] server's, [1] client's) and the first error among them. */
typedef struct offer {
    unsigned seen;
    int bits[2];
    int err;
} offer;

typedef struct scan {
    const char *p, *end;
} scan;

static void skip_ows(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t'))
        s->p++;
}

static bool eat(scan *s, char c)
{
    skip_ows(s);
    if (s->p == s->end || *s->p != c)
        return false;
    s->p++;
    return true;
}

static tp_slice token(scan *s)
{
    skip_ows(s);
    const char *start = s->p;
    while (s->p < s->end && tp_http_token_chars[(uint8_t)*s->p])
        s->p++;
    return tp_slice_make(start, (size_t)(s->p - start));
}

/* A parameter value: a token or a quoted-string (RFC 7692 §7: its unescaped content counts).
 * Stores the first `cap` bytes of the value in buf and its whole length in *len. */
static int value(scan *s, char *buf, size_t cap, size_t *len)
{
    *len = 0;
    if (!eat(s, '"')) {
        tp_slice t = token(s);
        memcpy(buf, t.p, t.n < cap ? t.n : cap);
        *len = t.n;
        return t.n ? 0 : -EINVAL;
    }
    for (; s->p < s->end && *s->p != '"'; s->p++, ++*len) {
        if (*s->p == '\\' && ++s->p == s->end)
            return -EINVAL;
        if (*len < cap)
            buf[*len] = *s->p;
    }
    if (s->p == s->end)
        return -EINVAL;
    s->p++;
    return 0;
}

/* RFC 7692's window bits values are exactly "8" to "15" (no sign, no leading zero). */
static int window_bits(const char *v, size_t n)
{
    if (n == 1 && v[0] >= '8' && v[0] <= '9')
        return v[0] - '0';
    if (n == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5')
        return 10 + v[1] - '0';
    return -1;
}

/* Records one parameter. Unknown names, repeats, a value on a no_context_takeover, a missing
 * value (allowed only for client_max_window_bits in an offer) and bad bits are -EINVAL. */
static int add_param(offer *o, tp_slice name, bool has_value, const char *v, size_t n, bool answer)
{
    unsigned bit = 0;
    for (size_t i = 0; i < sizeof(params) / sizeof(params[0]) && !bit; i++)
        if (tp_slice_caseeq(name, tp_slice_cstr(params[i].name)))
            bit = params[i].bit;
    if (!bit || (o->seen & bit))
        return -EINVAL;
    o->seen |= bit;
    if (bit & (SERVER_NCT | CLIENT_NCT))
        return has_value ? -EINVAL : 0;
    if (!has_value)
        return bit == CLIENT_BITS && !answer ? 0 : -EINVAL;
    int b = window_bits(v, n);
    o->bits[bit == CLIENT_BITS] = b;
    return b < 0 ? -EINVAL : 0;
}

static bool is_pmd(tp_slice name)
{
    return tp_slice_eq(name, TP_SLICE_LIT("permessage-deflate"));
}

/* One extension, `name *( ";" param [ "=" value ] )`, up to the next comma. Parameters of
 * permessage-deflate go into *o (their first error in o->err); others are only scanned. */
static int parse_ext(scan *s, tp_slice *name, offer *o, bool answer)
{
    *name = token(s);
    *o = (offer){0};
    while (eat(s, ';')) {
        tp_slice pname = token(s);
        char v[4];
        size_t n = 0;
        bool has_value = eat(s, '=');
        if (!pname.n || (has_value && value(s, v, sizeof(v), &n)))
            return -EINVAL;
        if (is_pmd(*name) && !o->err)
            o->err = add_param(o, pname, has_value, v, n, answer);
    }
    skip_ows(s);
    return name->n && (s->p == s->end || *s->p == ',') ? 0 : -EINVAL;
}

/* The next extension of the list (empty items skipped): 1, 0 at the end, or -EINVAL. */
static int next_ext(scan *s, tp_slice *name, offer *o, bool answer)
{
    while (eat(s, ','))
        ;
    skip_ows(s);
    if (s->p == s->end)
        return 0;
    int rc = parse_ext(s, name, o, answer);
    return rc ? rc : 1;
}

/* The parameter list in Tornado's _encode_header order (sorted by name). client_bits -1
 * writes a valueless client_max_window_bits, 0 none. */
static void write_params(tp_buf *b, int client_bits, bool client_nct, int server_bits,
                         bool server_nct)
{
    tp_buf_append_str(b, "permessage-deflate");
    if (client_bits)
        tp_buf_append_str(b, "; client_max_window_bits");
    if (client_bits > 0)
        tp_buf_appendf(b, "=%d", client_bits);
    if (client_nct)
        tp_buf_append_str(b, "; client_no_context_takeover");
    if (server_bits)
        tp_buf_appendf(b, "; server_max_window_bits=%d", server_bits);
    if (server_nct)
        tp_buf_append_str(b, "; server_no_context_takeover");
}

tp_ws_deflate_params tp_ws_deflate_defaults(void)
{
    return (tp_ws_deflate_params){.enabled = true,
                                  .server_max_window_bits = 15,
                                  .client_max_window_bits = 15,
                                  .compression_level = 6,
                                  .mem_level = 8};
}

static int min_bits(int a, int b)
{
    a = a ? a : 15;
    return a < b ? a : b;
}

/* As Tornado, only the first permessage-deflate offer counts: a bad one fails the handshake
 * even when a later one would do (RFC 7692 would decline it and try the next). Tornado 6.5's
 * header parser drops valueless parameters, so it never honours (nor echoes) the
 * no_context_takeover ones; we follow the RFC there and echo them. What we send may use less
 * than allowed (ours' server_* settings), which needs no answer parameter. */
int tp_ws_deflate_accept_offer(tp_slice header, const tp_ws_deflate_params *ours,
                               tp_ws_deflate_params *out, tp_buf *resp)
{
    scan s = {header.p, header.p + header.n};
    tp_slice name;
    offer o;
    int rc;
    if (!ours->enabled)
        return -ENOENT;
    while ((rc = next_ext(&s, &name, &o, false)) > 0 && !is_pmd(name))
        ;
    if (rc <= 0)
        return rc ? rc : -ENOENT;
    if (o.err)
        return o.err;
    *out = *ours;
    out->server_no_context_takeover = (o.seen & SERVER_NCT) || ours->server_no_context_takeover;
    out->client_no_context_takeover = o.seen & CLIENT_NCT;
    out->server_max_window_bits = min_bits(o.bits[0], ours->server_max_window_bits);
    out->client_max_window_bits = min_bits(o.bits[1], 15);
    write_params(resp, o.bits[1], o.seen & CLIENT_NCT, o.bits[0], o.seen & SERVER_NCT);
    return 0;
}

void tp_ws_deflate_write_offer(const tp_ws_deflate_params *want, tp_buf *b)
{
    int client_bits = want->client_max_window_bits < 15 ? want->client_max_window_bits : -1;
    int server_bits = want->server_max_window_bits < 15 ? want->server_max_window_bits : 0;
    write_params(b, client_bits, want->client_no_context_takeover, server_bits,
                 want->server_no_context_takeover);
}

/* Lenient where that is safe: an answer without a parameter we offered leaves its default
 * (15 bits, context kept), which decodes whatever the server sends. */
int tp_ws_deflate_read_answer(tp_slice header, const tp_ws_deflate_params *want,
                              tp_ws_deflate_params *out)
{
    scan s = {header.p, header.p + header.n};
    tp_slice name;
    offer o = {0}, cur;
    int rc, n = 0;
    while ((rc = next_ext(&s, &name, &cur, true)) > 0) {
        if (!want->enabled || !is_pmd(name) || n++)
            return -EINVAL;
        o = cur;
    }
    if (rc < 0 || o.err)
        return rc < 0 ? rc : o.err;
    if (!n)
        return -ENOENT;
    if (o.bits[0] > want->server_max_window_bits || o.bits[1] > want->client_max_window_bits)
        return -EINVAL;
    *out = *want;
    out->enabled = true;
    out->server_no_context_takeover = o.seen & SERVER_NCT;
    out->client_no_context_takeover = (o.seen & CLIENT_NCT) || want->client_no_context_takeover;
    out->server_max_window_bits = min_bits(o.bits[0], 15);
    out->client_max_window_bits = min_bits(o.bits[1], want->client_max_window_bits);
    return 0;
}

/* ---- compression ------------------------------------------------------------------------ */

#define CHUNK (16 * 1024)
#define SLICE (1u << 30) /* input handed to zlib at a time (avail_in is an unsigned int) */

static const unsigned char tail[4] = {0x00, 0x00, 0xff, 0xff};

struct tp_ws_deflater {
    z_stream z;
    bool reset; /* our side's no_context_takeover */
};

struct tp_ws_inflater {
    z_stream z;
    bool reset; /* the peer's no_context_takeover */
    bool ended; /* the message had a BFINAL block: the rest of it is ignored */
};

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    TP_UNUSED(opaque);
    return tp_malloc((size_t)items * size);
}

static void z_free(voidpf opaque, voidpf p)
{
    TP_UNUSED(opaque);
    tp_free(p);
}

static void use_tp_alloc(z_stream *z)
{
    z->zalloc = z_alloc;
    z->zfree = z_free;
}

/* The window bits (-1 when outside 8..15) and no_context_takeover of the client's or the
 * server's compressor: a deflater's own side, the peer's for an inflater. */
static int side(const tp_ws_deflate_params *p, bool client, bool *reset)
{
    *reset = client ? p->client_no_context_takeover : p->server_no_context_takeover;
    int bits = client ? p->client_max_window_bits : p->server_max_window_bits;
    return bits >= 8 && bits <= 15 ? bits : -1;
}

/* zlib refuses windowBits 8 for raw deflate (deflateInit2 returns Z_STREAM_ERROR, so Python's
 * zlib.compressobj(wbits=-8) raises and Tornado 6.5 fails the handshake on
 * server_max_window_bits=8). We deflate with 9 instead, as Node's zlib does: zlib never emits
 * a distance beyond w_size - MIN_LOOKAHEAD (512 - 262 = 250 for 9 bits), so the stream fits
 * the peer's 256-byte window (test: window_bits_8, inflated by a window of 8 bits). Inflating
 * with 8 is fine in zlib. */
tp_ws_deflater *tp_ws_deflater_new(const tp_ws_deflate_params *p, bool is_client)
{
    bool reset;
    int bits = side(p, is_client, &reset);
    tp_ws_deflater *d = tp_calloc(1, sizeof(*d));
    d->reset = reset;
    use_tp_alloc(&d->z);
    if (bits < 0 || deflateInit2(&d->z, p->compression_level, Z_DEFLATED, bits == 8 ? -9 : -bits,
                                 p->mem_level, Z_DEFAULT_STRATEGY) != Z_OK) {
        tp_free(d);
        return NULL;
    }
    return d;
}

void tp_ws_deflater_free(tp_ws_deflater *d)
{
    if (!d)
        return;
    deflateEnd(&d->z);
    tp_free(d);
}

/* Deflates n (<= SLICE) bytes with `flush`, appending everything zlib gives to out. */
static void deflate_some(z_stream *z, const char *p, size_t n, int flush, tp_buf *out)
{
    size_t room = deflateBound(z, (uLong)n) + 16;
    z->next_in = (const Bytef *)p;
    z->avail_in = (uInt)n;
    do {
        z->next_out = (Bytef *)tp_buf_reserve(out, room);
        z->avail_out = (uInt)room;
        int rc = deflate(z, flush);
        assert(rc == Z_OK || rc == Z_BUF_ERROR);
        TP_UNUSED(rc);
        tp_buf_commit(out, room - z->avail_out);
        room = CHUNK;
    } while (z->avail_out == 0);
}

/* An empty message is the single byte 00 (RFC 7692 §7.2.3.6), what Python's zlib gives too:
 * zlib itself would return Z_BUF_ERROR and nothing for an empty SYNC_FLUSH right after one. */
int tp_ws_deflate_message(tp_ws_deflater *d, tp_slice msg, tp_buf *out)
{
    if (!msg.n) {
        tp_buf_append(out, "", 1);
        return 0;
    }
    size_t start = out->len;
    for (size_t off = 0; off < msg.n; off += SLICE) {
        size_t n = msg.n - off < SLICE ? msg.n - off : SLICE;
        deflate_some(&d->z, msg.p + off, n, off + n == msg.n ? Z_SYNC_FLUSH : Z_NO_FLUSH, out);
    }
    assert(out->len >= start + 4 && !memcmp(tp_buf_data(out) + out->len - 4, tail, 4));
    TP_UNUSED(start);
    out->len -= 4;
    if (d->reset)
        deflateReset(&d->z);
    return 0;
}

tp_ws_inflater *tp_ws_inflater_new(const tp_ws_deflate_params *p, bool is_client)
{
    bool reset;
    int bits = side(p, !is_client, &reset);
    tp_ws_inflater *in = tp_calloc(1, sizeof(*in));
    in->reset = reset;
    use_tp_alloc(&in->z);
    if (bits < 0 || inflateInit2(&in->z, -bits) != Z_OK) {
        tp_free(in);
        return NULL;
    }
    return in;
}

void tp_ws_inflater_free(tp_ws_inflater *in)
{
    if (!in)
        return;
    inflateEnd(&in->z);
    tp_free(in);
}

/* Inflates n (<= SLICE) bytes into out in chunks of at most CHUNK, and never more than one
 * byte past max: that byte tells a message of exactly max bytes from a longer one. */
static int inflate_some(tp_ws_inflater *in, const void *p, size_t n, size_t max, tp_buf *out)
{
    z_stream *z = &in->z;
    z->next_in = p;
    z->avail_in = (uInt)n;
    while (!in->ended) {
        size_t room = max - out->len, want = room < CHUNK ? room + 1 : CHUNK;
        z->next_out = (Bytef *)tp_buf_reserve(out, want);
        z->avail_out = (uInt)want;
        int rc = inflate(z, Z_SYNC_FLUSH);
        size_t got = want - z->avail_out;
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
            return -EINVAL;
        tp_buf_commit(out, got < room ? got : room);
        if (got > room)
            return -EMSGSIZE;
        in->ended = rc == Z_STREAM_END;
        if (z->avail_out)
            break; /* all input used and all output given */
    }
    return 0;
}

static int inflate_all(tp_ws_inflater *in, const char *p, size_t n, size_t max, tp_buf *out)
{
    int rc = 0;
    for (size_t off = 0; off < n && !rc; off += SLICE)
        rc = inflate_some(in, p + off, n - off < SLICE ? n - off : SLICE, max, out);
    return rc;
}

/* A new deflate stream for the next message. After a BFINAL block with context takeover the
 * sender may still refer to earlier messages, so the window is carried over (Tornado's
 * decompressobj would instead inflate every later message to nothing). */
static void restart(tp_ws_inflater *in, bool keep_window)
{
    Bytef *dict = NULL;
    uInt n = 0;
    if (keep_window) {
        dict = tp_malloc(1u << 15);
        inflateGetDictionary(&in->z, dict, &n);
    }
    inflateReset(&in->z);
    if (n)
        inflateSetDictionary(&in->z, dict, n);
    tp_free(dict);
    in->ended = false;
}

/* After an error the stream starts afresh: the connection is failing anyway, and the object
 * stays usable (and freeable) in a defined state. */
int tp_ws_inflate_frame(tp_ws_inflater *in, tp_slice payload, bool fin, size_t max, tp_buf *out)
{
    int rc = out->len > max ? -EMSGSIZE : inflate_all(in, payload.p, payload.n, max, out);
    if (!rc && fin)
        rc = inflate_some(in, tail, sizeof(tail), max, out);
    if (rc)
        restart(in, false);
    else if (fin && (in->reset || in->ended))
        restart(in, !in->reset);
    return rc;
}
