/* http/websocket/deflate.h: the extension negotiation, round trips, interop with Python's
 * zlib (what Tornado's _PerMessageDeflateCompressor sends), RFC 7692's examples, the
 * decompression bomb cut and corrupt input. The Python vectors were made with python3 3.11
 * (zlib 1.2.13) and pasted here:
 *
 *   c = zlib.compressobj(6, zlib.DEFLATED, -wbits, 8)
 *   for m in msgs: print((c.compress(m) + c.flush(zlib.Z_SYNC_FLUSH))[:-4].hex())
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/hex.h"
#include "http/websocket/deflate.h"
#include "tests/unit/suites.h"

#define N(v) (sizeof(v) / sizeof((v)[0]))

/* The bytes of a hex string, in b (cleared first). */
static tp_slice unhex(const char *hex, tp_buf *b)
{
    tp_buf_clear(b);
    for (size_t i = 0; hex[i] && hex[i + 1]; i += 2) {
        char c = (char)(tp_hex_value(hex[i]) * 16 + tp_hex_value(hex[i + 1]));
        tp_buf_append(b, &c, 1);
    }
    return tp_buf_slice(b);
}

static const char *tohex(tp_slice s)
{
    static char out[4096];
    ck_assert_uint_lt(2 * s.n, sizeof(out));
    tp_hex_encode((const unsigned char *)s.p, s.n, out);
    return out;
}

/* ---- negotiation ---- */

typedef struct accept_case {
    const char *header;
    int rc;
    const char *resp;
    bool snct, cnct;
    int sbits, cbits;
} accept_case;

#define BAD(h)                                                                                     \
    {                                                                                              \
        h, -EINVAL, NULL, 0, 0, 0, 0                                                               \
    }
#define NONE(h)                                                                                    \
    {                                                                                              \
        h, -ENOENT, NULL, 0, 0, 0, 0                                                               \
    }

static const accept_case accept_cases[] = {
    /* Tornado's own client offer: the valueless client_max_window_bits is not echoed. */
    {"permessage-deflate; client_max_window_bits", 0, "permessage-deflate", 0, 0, 15, 15},
    {"permessage-deflate", 0, "permessage-deflate", 0, 0, 15, 15},
    {"permessage-deflate; client_max_window_bits=10", 0,
     "permessage-deflate; client_max_window_bits=10", 0, 0, 15, 10},
    {"permessage-deflate; server_max_window_bits=9", 0,
     "permessage-deflate; server_max_window_bits=9", 0, 0, 9, 15},
    {"permessage-deflate; server_no_context_takeover", 0,
     "permessage-deflate; server_no_context_takeover", 1, 0, 15, 15},
    {"permessage-deflate; client_no_context_takeover", 0,
     "permessage-deflate; client_no_context_takeover", 0, 1, 15, 15},
    /* Echoed sorted by name, as Tornado's _encode_header. */
    {"permessage-deflate; server_no_context_takeover; server_max_window_bits=12; "
     "client_no_context_takeover; client_max_window_bits=8",
     0,
     "permessage-deflate; client_max_window_bits=8; client_no_context_takeover; "
     "server_max_window_bits=12; server_no_context_takeover",
     1, 1, 12, 8},
    /* Quoted values (RFC 7692 §7), escapes, whitespace, parameter names in any case. */
    {"permessage-deflate; client_max_window_bits=\"10\"", 0,
     "permessage-deflate; client_max_window_bits=10", 0, 0, 15, 10},
    {"permessage-deflate; server_max_window_bits=\"1\\3\"", 0,
     "permessage-deflate; server_max_window_bits=13", 0, 0, 13, 15},
    {" \tpermessage-deflate ;CLIENT_MAX_WINDOW_BITS = 11 ; Server_No_Context_Takeover\t", 0,
     "permessage-deflate; client_max_window_bits=11; server_no_context_takeover", 1, 0, 15, 11},
    /* Only the first permessage-deflate offer counts; other extensions are skipped. */
    {"x-webkit-deflate-frame; no_context_takeover, permessage-deflate; "
     "client_max_window_bits=9, permessage-deflate",
     0, "permessage-deflate; client_max_window_bits=9", 0, 0, 15, 9},
    {"foo; bar=\"a,b;c\", , permessage-deflate", 0, "permessage-deflate", 0, 0, 15, 15},
    /* Nothing offered. */
    NONE(""),
    NONE("x-webkit-deflate-frame"),
    NONE(" , ,"),
    NONE("Permessage-Deflate"), /* Tornado compares exactly */
    /* Unknown, repeated and bad parameters fail the handshake (Tornado: ValueError). */
    BAD("permessage-deflate; foo"),
    BAD("permessage-deflate; foo=1"),
    BAD("permessage-deflate; client_max_window_bits=10; client_max_window_bits=10"),
    BAD("permessage-deflate; server_no_context_takeover; server_no_context_takeover"),
    BAD("permessage-deflate; server_max_window_bits"),
    BAD("permessage-deflate; server_max_window_bits=7"),
    BAD("permessage-deflate; server_max_window_bits=16"),
    BAD("permessage-deflate; client_max_window_bits=010"),
    BAD("permessage-deflate; client_max_window_bits=+9"),
    BAD("permessage-deflate; client_max_window_bits=\"\""),
    BAD("permessage-deflate; client_max_window_bits=\"100\""),
    BAD("permessage-deflate; client_max_window_bits=ten"),
    BAD("permessage-deflate; client_no_context_takeover=1"),
    /* A bad first offer fails even with a good one after it (Tornado: the first decides). */
    BAD("permessage-deflate; foo, permessage-deflate"),
    /* Malformed headers. */
    BAD("permessage-deflate; client_max_window_bits=\"10"),
    BAD("permessage-deflate; =10"),
    BAD("permessage-deflate; client_max_window_bits="),
    BAD("permessage-deflate client_max_window_bits"),
    BAD("; client_max_window_bits"),
    BAD("\"x\", permessage-deflate"),
};

START_TEST(accept_offers)
{
    const accept_case *c = &accept_cases[_i];
    tp_ws_deflate_params ours = tp_ws_deflate_defaults(), out = {0};
    ours.compression_level = 3;
    tp_buf resp = {0};
    int rc = tp_ws_deflate_accept_offer(tp_slice_cstr(c->header), &ours, &out, &resp);
    ck_assert_msg(rc == c->rc, "%s: %d", c->header, rc);
    if (!rc) {
        tp_buf_append(&resp, "", 1);
        ck_assert_str_eq(tp_buf_data(&resp), c->resp);
        ck_assert(out.enabled);
        ck_assert_int_eq(out.server_no_context_takeover, c->snct);
        ck_assert_int_eq(out.client_no_context_takeover, c->cnct);
        ck_assert_int_eq(out.server_max_window_bits, c->sbits);
        ck_assert_int_eq(out.client_max_window_bits, c->cbits);
        ck_assert_int_eq(out.compression_level, 3);
        ck_assert_int_eq(out.mem_level, 8);
    } else {
        ck_assert_uint_eq(resp.len, 0);
    }
    tp_buf_free(&resp);
}
END_TEST

/* Compression disabled on our side: nothing is negotiated. Our server_* settings only make
 * what we send stricter, and are not written in the answer. */
START_TEST(accept_ours)
{
    tp_ws_deflate_params ours = tp_ws_deflate_defaults(), out;
    tp_buf resp = {0};
    ours.enabled = false;
    ck_assert_int_eq(
        tp_ws_deflate_accept_offer(TP_SLICE_LIT("permessage-deflate"), &ours, &out, &resp),
        -ENOENT);
    ours = tp_ws_deflate_defaults();
    ours.server_no_context_takeover = true;
    ours.server_max_window_bits = 10;
    tp_slice offer = TP_SLICE_LIT("permessage-deflate; server_max_window_bits=12");
    ck_assert_int_eq(tp_ws_deflate_accept_offer(offer, &ours, &out, &resp), 0);
    ck_assert(out.server_no_context_takeover);
    ck_assert_int_eq(out.server_max_window_bits, 10);
    ck_assert_int_eq(out.client_max_window_bits, 15);
    tp_buf_append(&resp, "", 1);
    ck_assert_str_eq(tp_buf_data(&resp), "permessage-deflate; server_max_window_bits=12");
    tp_buf_free(&resp);
}
END_TEST

START_TEST(client_offer)
{
    tp_ws_deflate_params want = tp_ws_deflate_defaults();
    tp_buf b = {0};
    tp_ws_deflate_write_offer(&want, &b);
    tp_buf_append(&b, "", 1);
    ck_assert_str_eq(tp_buf_data(&b), "permessage-deflate; client_max_window_bits");
    want.client_max_window_bits = 9;
    want.server_max_window_bits = 10;
    want.server_no_context_takeover = want.client_no_context_takeover = true;
    tp_buf_clear(&b);
    tp_ws_deflate_write_offer(&want, &b);
    tp_buf_append(&b, "", 1);
    ck_assert_str_eq(tp_buf_data(&b), "permessage-deflate; client_max_window_bits=9; "
                                      "client_no_context_takeover; server_max_window_bits=10; "
                                      "server_no_context_takeover");
    /* Our offer is one a server accepts. */
    tp_ws_deflate_params out;
    tp_buf resp = {0};
    ck_assert_int_eq(
        tp_ws_deflate_accept_offer(tp_slice_make(tp_buf_data(&b), b.len - 1), &want, &out, &resp),
        0);
    ck_assert_int_eq(out.client_max_window_bits, 9);
    tp_buf_free(&b);
    tp_buf_free(&resp);
}
END_TEST

typedef struct answer_case {
    const char *header;
    int want_sbits, want_cbits; /* what the client offered (15: no value) */
    int rc;
    bool snct, cnct;
    int sbits, cbits;
} answer_case;

#define ABAD(h, sbits, cbits)                                                                      \
    {                                                                                              \
        h, sbits, cbits, -EINVAL, 0, 0, 0, 0                                                       \
    }

static const answer_case answer_cases[] = {
    {"permessage-deflate", 15, 15, 0, 0, 0, 15, 15},
    {"permessage-deflate; client_max_window_bits=10", 15, 15, 0, 0, 0, 15, 10},
    {"permessage-deflate; client_no_context_takeover", 15, 15, 0, 0, 1, 15, 15},
    {"permessage-deflate; server_no_context_takeover; server_max_window_bits=9", 15, 15, 0, 1, 0, 9,
     15},
    {"permessage-deflate; server_max_window_bits=10", 10, 15, 0, 0, 0, 10, 15},
    {"permessage-deflate", 10, 12, 0, 0, 0, 15, 12}, /* parameters left out: defaults */
    {"", 15, 15, -ENOENT, 0, 0, 0, 0},
    ABAD("permessage-deflate; client_max_window_bits", 15, 15),
    ABAD("permessage-deflate; server_max_window_bits=11", 10, 15),
    ABAD("permessage-deflate; client_max_window_bits=13", 15, 12),
    ABAD("permessage-deflate; foo", 15, 15),
    ABAD("permessage-deflate; server_max_window_bits=16", 15, 15),
    ABAD("x-webkit-deflate-frame", 15, 15),
    ABAD("permessage-deflate, permessage-deflate", 15, 15),
    ABAD("permessage-deflate; client_max_window_bits=\"10", 15, 15),
};

START_TEST(client_answers)
{
    const answer_case *c = &answer_cases[_i];
    tp_ws_deflate_params want = tp_ws_deflate_defaults(), out = {0};
    want.server_max_window_bits = c->want_sbits;
    want.client_max_window_bits = c->want_cbits;
    int rc = tp_ws_deflate_read_answer(tp_slice_cstr(c->header), &want, &out);
    ck_assert_msg(rc == c->rc, "%s: %d", c->header, rc);
    if (rc)
        return;
    ck_assert(out.enabled);
    ck_assert_int_eq(out.server_no_context_takeover, c->snct);
    ck_assert_int_eq(out.client_no_context_takeover, c->cnct);
    ck_assert_int_eq(out.server_max_window_bits, c->sbits);
    ck_assert_int_eq(out.client_max_window_bits, c->cbits);
}
END_TEST

/* A client that did not offer the extension fails on any answer. */
START_TEST(answer_not_offered)
{
    tp_ws_deflate_params want = tp_ws_deflate_defaults(), out;
    want.enabled = false;
    ck_assert_int_eq(tp_ws_deflate_read_answer(TP_SLICE_LIT("permessage-deflate"), &want, &out),
                     -EINVAL);
    ck_assert_int_eq(tp_ws_deflate_read_answer(TP_SLICE_LIT(""), &want, &out), -ENOENT);
}
END_TEST

/* ---- compression ---- */

/* One message through d and in (frames of `frag` compressed bytes, 0: one frame); checks the
 * result and returns the compressed size. */
static size_t roundtrip(tp_ws_deflater *d, tp_ws_inflater *in, tp_slice msg, size_t frag)
{
    tp_buf z = {0}, out = {0};
    ck_assert_int_eq(tp_ws_deflate_message(d, msg, &z), 0);
    size_t n = z.len, step = frag ? frag : (n ? n : 1);
    for (size_t off = 0;; off += step) {
        size_t k = n - off < step ? n - off : step;
        bool fin = off + k >= n;
        tp_slice part = tp_slice_make(tp_buf_data(&z) + off, k);
        ck_assert_int_eq(tp_ws_inflate_frame(in, part, fin, msg.n, &out), 0);
        if (fin)
            break;
    }
    ck_assert(tp_slice_eq(tp_buf_slice(&out), msg));
    tp_buf_free(&z);
    tp_buf_free(&out);
    return n;
}

/* Text with repeats both near and about 3.9 KB back (past small windows). */
static void sample_text(tp_buf *b, size_t items)
{
    for (size_t i = 0; i < items; i++)
        tp_buf_appendf(b, "%zu,", (i * 7919) % 1000);
}

typedef struct pair {
    tp_ws_deflater *d;
    tp_ws_inflater *in;
} pair;

/* Server to client (is_client false for the sender), or the other way round. */
static pair pair_new(const tp_ws_deflate_params *p, bool from_client)
{
    pair x = {tp_ws_deflater_new(p, from_client), tp_ws_inflater_new(p, !from_client)};
    ck_assert_ptr_nonnull(x.d);
    ck_assert_ptr_nonnull(x.in);
    return x;
}

static void pair_free(pair *x)
{
    tp_ws_deflater_free(x->d);
    tp_ws_inflater_free(x->in);
}

/* With context takeover the second identical message refers to the first and is smaller;
 * without it, each message stands alone (and the same bytes come out). */
START_TEST(context_takeover)
{
    tp_slice msg = TP_SLICE_LIT("The quick brown fox jumps over the lazy dog, twice.");
    for (int side = 0; side < 2; side++) {
        tp_ws_deflate_params p = tp_ws_deflate_defaults();
        pair x = pair_new(&p, side);
        size_t a = roundtrip(x.d, x.in, msg, 0), b = roundtrip(x.d, x.in, msg, 0);
        ck_assert_uint_lt(b, a / 2);
        pair_free(&x);
        if (side)
            p.client_no_context_takeover = true;
        else
            p.server_no_context_takeover = true;
        x = pair_new(&p, side);
        a = roundtrip(x.d, x.in, msg, 0);
        b = roundtrip(x.d, x.in, msg, 0);
        ck_assert_uint_eq(a, b);
        ck_assert_uint_eq(roundtrip(x.d, x.in, TP_SLICE_LIT(""), 0), 1);
        ck_assert_uint_eq(roundtrip(x.d, x.in, msg, 0), a);
        pair_free(&x);
    }
}
END_TEST

/* Empty messages (the one byte 00), one-byte frames, a message of 100 KB. */
START_TEST(messages_and_frames)
{
    tp_ws_deflate_params p = tp_ws_deflate_defaults();
    pair x = pair_new(&p, false);
    tp_buf big = {0};
    sample_text(&big, 25000);
    ck_assert_uint_eq(roundtrip(x.d, x.in, TP_SLICE_LIT(""), 0), 1);
    ck_assert_uint_eq(roundtrip(x.d, x.in, TP_SLICE_LIT(""), 0), 1);
    roundtrip(x.d, x.in, TP_SLICE_LIT("abcabcabcabc"), 1);
    roundtrip(x.d, x.in, tp_buf_slice(&big), 0);
    roundtrip(x.d, x.in, tp_buf_slice(&big), 7);
    roundtrip(x.d, x.in, TP_SLICE_LIT(""), 0);
    tp_buf_free(&big);
    pair_free(&x);
}
END_TEST

/* Every window size both ways, context kept and not; smaller windows compress the sample
 * (repeats 3.9 KB apart) worse. */
START_TEST(window_bits)
{
    tp_buf text = {0};
    sample_text(&text, 3000);
    size_t sizes[16] = {0};
    for (int bits = 8; bits <= 15; bits++) {
        for (int side = 0; side < 4; side++) {
            tp_ws_deflate_params p = tp_ws_deflate_defaults();
            p.server_max_window_bits = p.client_max_window_bits = bits;
            p.server_no_context_takeover = p.client_no_context_takeover = side >= 2;
            pair x = pair_new(&p, side & 1);
            sizes[bits] = roundtrip(x.d, x.in, tp_buf_slice(&text), 0);
            roundtrip(x.d, x.in, tp_buf_slice(&text), 1000);
            pair_free(&x);
        }
    }
    ck_assert_uint_lt(sizes[15], sizes[11] / 2);
    tp_buf_free(&text);
}
END_TEST

/* server_max_window_bits=8: zlib refuses raw windowBits 8 for deflate (Python's
 * compressobj(wbits=-8) raises "Invalid initialization option"), so we deflate with 9, whose
 * distances stay within 250 bytes: an inflater with a 256-byte window reads it, even for data
 * repeating 300-500 bytes back. */
START_TEST(window_bits_8)
{
    tp_ws_deflate_params p = tp_ws_deflate_defaults();
    p.server_max_window_bits = 8;
    pair x = pair_new(&p, false);
    unsigned seed = 1;
    for (int round = 0; round < 50; round++) {
        char blk[520], buf[4000];
        size_t bn = 250 + (size_t)round * 5, n = 0;
        for (size_t i = 0; i < bn; i++)
            blk[i] = (char)((seed = seed * 1103515245 + 12345) >> 16);
        while (n + bn <= sizeof(buf))
            memcpy(buf + n, blk, bn), n += bn;
        roundtrip(x.d, x.in, tp_slice_make(buf, n), 0);
    }
    pair_free(&x);
}
END_TEST

/* Python's bytes, inflated by ours; and ours equal Python's with the same zlib version. */
static const struct {
    int bits;
    const char *hex;
} py_vectors[] = {
    {15, "f248cdc9c90700"}, /* "Hello" */
    {15, "f200110000"},     /* "Hello" again, with context takeover */
    {15, "0ac94855282ccd4cce56482aca2fcf5348cbaf50c82acd2d2856c82f4b2d5228014ae72456552aa4e4a7"
         "eb298c2a1e553caa98ea8a0100"}, /* fox */
    {15, "1a553caa7854f1c02a0600"},     /* fox again */
};
#define FOX "The quick brown fox jumps over the lazy dog. "

START_TEST(python_interop)
{
    tp_buf fox = {0}, b = {0}, out = {0}, z = {0};
    for (int i = 0; i < 20; i++)
        tp_buf_append_str(&fox, FOX);
    tp_slice msgs[] = {TP_SLICE_LIT("Hello"), TP_SLICE_LIT("Hello"), tp_buf_slice(&fox),
                       tp_buf_slice(&fox)};
    tp_ws_deflate_params p = tp_ws_deflate_defaults();
    tp_ws_inflater *in = tp_ws_inflater_new(&p, true);
    tp_ws_deflater *d = tp_ws_deflater_new(&p, false);
    bool same_zlib = strcmp(zlibVersion(), "1.2.13") == 0;
    for (size_t i = 0; i < N(py_vectors); i++) {
        tp_buf_clear(&out);
        tp_buf_clear(&z);
        ck_assert_int_eq(tp_ws_inflate_frame(in, unhex(py_vectors[i].hex, &b), true, 1 << 20, &out),
                         0);
        ck_assert(tp_slice_eq(tp_buf_slice(&out), msgs[i]));
        ck_assert_int_eq(tp_ws_deflate_message(d, msgs[i], &z), 0);
        if (same_zlib)
            ck_assert_str_eq(tohex(tp_buf_slice(&z)), py_vectors[i].hex);
    }
    tp_ws_inflater_free(in);
    tp_ws_deflater_free(d);
    tp_buf_free(&fox);
    tp_buf_free(&b);
    tp_buf_free(&out);
    tp_buf_free(&z);
}
END_TEST

/* Python's compressobj(6, DEFLATED, -9, 8) of b''.join(b'%d,' % ((i * 7919) % 200) for i in
 * range(300)), inflated with 9 and with 8 window bits. */
static const char py_bits9[] =
    "14cfdb09c0400844d186e6c3f56dff8de50602413d8caee9bd53ac5e8da6f5aee8a422e8b8e6d1313d3b3926"
    "478d598ca51c93aec6ace98e9f5e8c0a32a54b2a3e5721c6b427808f12d0a5650db52b99b7694838c41b05a2"
    "4a43c4619e2b3065ea7f0bc6468ec9526316632ec7a4a930b3ba2195fda5824ce89c241aa644f46a790e0794"
    "12d0a105509b8279ad868443bc52202a3488c33c936372d598c558c931196acc62ccb0ac5b15665a57cc6984"
    "0a324f6702f82aff535bcb25d4a164de4ffb2720de2a10d51a220ef34281a9a7c12cc6568ec9566316632"
    "1c7e45363e674cb8ffdad824cea826d349e0ad1a7e5cdb45a09e8d41241fd94cceb34241ce2b50251a921e2"
    "30ef2930796acc62ace5ff83538d598c3d39264ef55f32ba268346aa20e3ba8762e129113d5a6ea54e25a05d"
    "fbc4fc9d82798d868443bc5420ca35441cc64e8ec95163166329c7a4ab316bbae3c7fa5141a67449c5e72ac4"
    "98f604f05102bab4aca17625f3360d098778a3f8df521a220ef35c812953ff5b3036724c961ab3187339264d"
    "8599d50da9ec2f156442e724d13025a257cb7338a094800e2d80da14cc6b35241ce2950251a1411ce6991c93"
    "abc62cc64a8ec95063f6e903";

START_TEST(python_interop_bits9)
{
    tp_buf text = {0}, b = {0}, out = {0};
    for (int i = 0; i < 300; i++)
        tp_buf_appendf(&text, "%d,", (i * 7919) % 200);
    for (int bits = 8; bits <= 9; bits++) {
        tp_ws_deflate_params p = tp_ws_deflate_defaults();
        p.client_max_window_bits = bits;
        tp_ws_inflater *in = tp_ws_inflater_new(&p, false);
        tp_buf_clear(&out);
        ck_assert_int_eq(tp_ws_inflate_frame(in, unhex(py_bits9, &b), true, text.len, &out), 0);
        ck_assert(tp_slice_eq(tp_buf_slice(&out), tp_buf_slice(&text)));
        tp_ws_inflater_free(in);
    }
    tp_buf_free(&text);
    tp_buf_free(&b);
    tp_buf_free(&out);
}
END_TEST

/* RFC 7692 §7.2.3: "Hello" compressed, in two fragments, in a stored block, with BFINAL set,
 * and twice with context takeover. */
START_TEST(rfc7692_examples)
{
    static const char *const msgs[][3] = {
        {"f248cdc9c90700", NULL},   {"f248cd", "c9c90700"},   {"000500faff48656c6c6f00", NULL},
        {"f348cdc9c9070000", NULL}, {"f248cdc9c90700", NULL}, {"f200110000", NULL},
    };
    tp_ws_deflate_params p = tp_ws_deflate_defaults();
    tp_ws_inflater *in = tp_ws_inflater_new(&p, true);
    tp_buf b = {0}, out = {0};
    for (size_t i = 0; i < N(msgs); i++) {
        tp_buf_clear(&out);
        for (int f = 0; msgs[i][f]; f++) {
            bool fin = !msgs[i][f + 1];
            ck_assert_int_eq(tp_ws_inflate_frame(in, unhex(msgs[i][f], &b), fin, 5, &out), 0);
        }
        ck_assert(tp_slice_eq(tp_buf_slice(&out), TP_SLICE_LIT("Hello")));
    }
    tp_ws_inflater_free(in);
    tp_buf_free(&b);
    tp_buf_free(&out);
}
END_TEST

/* A message that ends its deflate stream (BFINAL) while the context is kept: the next one may
 * still refer to it (Tornado's decompressobj would inflate it to nothing). */
START_TEST(bfinal_keeps_window)
{
    tp_ws_deflate_params p = tp_ws_deflate_defaults();
    tp_ws_inflater *in = tp_ws_inflater_new(&p, false);
    tp_buf b = {0}, out = {0};
    /* "Hello" with BFINAL, then a stream made with the dictionary "Hello" (python3:
     * compressobj(6, DEFLATED, -15, 8, zdict=b"Hello") of b"Hello, Hello"). */
    tp_buf z = {0};
    unhex("f200113a0a600a00", &z);
    ck_assert_int_eq(tp_ws_inflate_frame(in, unhex("f348cdc9c9070000", &b), true, 100, &out), 0);
    tp_buf_clear(&out);
    ck_assert_int_eq(tp_ws_inflate_frame(in, tp_buf_slice(&z), true, 100, &out), 0);
    ck_assert(tp_slice_eq(tp_buf_slice(&out), TP_SLICE_LIT("Hello, Hello")));
    /* Without context takeover the same bytes refer to nothing: corrupt. */
    p.client_no_context_takeover = true;
    tp_ws_inflater_free(in);
    in = tp_ws_inflater_new(&p, false);
    ck_assert_int_eq(tp_ws_inflate_frame(in, unhex("f348cdc9c9070000", &b), true, 100, &out), 0);
    ck_assert_int_eq(tp_ws_inflate_frame(in, tp_buf_slice(&z), true, 100, &out), -EINVAL);
    tp_ws_inflater_free(in);
    tp_buf_free(&b);
    tp_buf_free(&z);
    tp_buf_free(&out);
}
END_TEST

/* A message of exactly max bytes passes; one more byte is -EMSGSIZE, in any frame. */
START_TEST(max_exact)
{
    tp_ws_deflate_params p = tp_ws_deflate_defaults();
    pair x = pair_new(&p, false);
    tp_buf z = {0}, out = {0};
    tp_ws_deflate_message(x.d, TP_SLICE_LIT("0123456789"), &z);
    ck_assert_int_eq(tp_ws_inflate_frame(x.in, tp_buf_slice(&z), true, 10, &out), 0);
    ck_assert_uint_eq(out.len, 10);
    tp_buf_clear(&z);
    tp_buf_clear(&out);
    tp_ws_deflate_message(x.d, TP_SLICE_LIT("0123456789A"), &z);
    ck_assert_int_eq(tp_ws_inflate_frame(x.in, tp_buf_slice(&z), true, 10, &out), -EMSGSIZE);
    ck_assert_uint_le(out.len, 10);
    /* Earlier frames count: out already holds 8 of the 10 bytes allowed. */
    tp_buf_clear(&z);
    tp_buf_clear(&out);
    tp_buf_append(&out, "12345678", 8);
    tp_ws_deflate_message(x.d, TP_SLICE_LIT("abc"), &z);
    ck_assert_int_eq(tp_ws_inflate_frame(x.in, tp_buf_slice(&z), true, 10, &out), -EMSGSIZE);
    tp_buf_free(&z);
    tp_buf_free(&out);
    pair_free(&x);
}
END_TEST

/* 10 MB of zeros compress to about 10 KB. Fed in 1 KB frames (each worth about 1 MB) with
 * max 64 KiB, the first frame fails and out never holds, nor has room for, much more than
 * max: the inflater stops within one chunk of the limit. The inflater then works again. */
START_TEST(bomb_cut)
{
    tp_ws_deflate_params p = tp_ws_deflate_defaults();
    pair x = pair_new(&p, false);
    size_t big = 10 << 20, max = 64 << 10;
    char *zeros = calloc(1, big);
    tp_buf z = {0}, out = {0};
    tp_ws_deflate_message(x.d, tp_slice_make(zeros, big), &z);
    ck_assert_uint_lt(z.len, 20 << 10);
    tp_slice first = tp_slice_make(tp_buf_data(&z), 1024);
    ck_assert_int_eq(tp_ws_inflate_frame(x.in, first, false, max, &out), -EMSGSIZE);
    ck_assert_uint_le(out.len, max);
    ck_assert_uint_le(out.cap, 2 * (max + 16 * 1024));
    /* All of it at once, to a limit of 1 MB. */
    tp_ws_inflater_free(x.in);
    x.in = tp_ws_inflater_new(&p, true);
    tp_buf_free(&out);
    ck_assert_int_eq(tp_ws_inflate_frame(x.in, tp_buf_slice(&z), true, 1 << 20, &out), -EMSGSIZE);
    ck_assert_uint_le(out.len, 1 << 20);
    ck_assert_uint_le(out.cap, 2 * ((1 << 20) + 16 * 1024));
    tp_buf_clear(&out);
    roundtrip(x.d, x.in, TP_SLICE_LIT("still works"), 0);
    free(zeros);
    tp_buf_free(&z);
    tp_buf_free(&out);
    pair_free(&x);
}
END_TEST

/* Corrupt data is -EINVAL, and the inflater works again afterwards. */
START_TEST(corrupt)
{
    static const char *const bad[] = {
        "ff",               /* BTYPE 11: invalid block type */
        "000100ffff",       /* stored block whose LEN and NLEN disagree */
        "f200110000",       /* a copy from before the start: distance too far back */
        "f248cdc9c907ffff", /* "Hello" then an invalid block */
    };
    tp_ws_deflate_params p = tp_ws_deflate_defaults();
    p.client_no_context_takeover = true; /* each message on a fresh stream */
    pair x = pair_new(&p, true);
    tp_buf b = {0}, out = {0};
    for (size_t i = 0; i < N(bad); i++) {
        tp_buf_clear(&out);
        ck_assert_msg(tp_ws_inflate_frame(x.in, unhex(bad[i], &b), true, 1000, &out) == -EINVAL,
                      "%s", bad[i]);
        roundtrip(x.d, x.in, TP_SLICE_LIT("fine again"), 0);
    }
    tp_buf_free(&b);
    tp_buf_free(&out);
    pair_free(&x);
}
END_TEST

/* Parameters zlib refuses give NULL. */
START_TEST(bad_params)
{
    tp_ws_deflate_params p = tp_ws_deflate_defaults();
    p.server_max_window_bits = 16;
    ck_assert_ptr_null(tp_ws_deflater_new(&p, false));
    ck_assert_ptr_null(tp_ws_inflater_new(&p, true));
    p = tp_ws_deflate_defaults();
    p.client_max_window_bits = 7;
    ck_assert_ptr_null(tp_ws_deflater_new(&p, true));
    ck_assert_ptr_null(tp_ws_inflater_new(&p, false));
    p = tp_ws_deflate_defaults();
    p.compression_level = 10;
    ck_assert_ptr_null(tp_ws_deflater_new(&p, false));
    p.compression_level = 6;
    p.mem_level = 0;
    ck_assert_ptr_null(tp_ws_deflater_new(&p, false));
    tp_ws_deflater_free(NULL);
    tp_ws_inflater_free(NULL);
}
END_TEST

Suite *ws_deflate_suite(void)
{
    Suite *s = suite_create("ws_deflate");
    TCase *tc = tcase_create("ws_deflate");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_loop_test(tc, accept_offers, 0, (int)N(accept_cases));
    tcase_add_test(tc, accept_ours);
    tcase_add_test(tc, client_offer);
    tcase_add_loop_test(tc, client_answers, 0, (int)N(answer_cases));
    tcase_add_test(tc, answer_not_offered);
    tcase_add_test(tc, context_takeover);
    tcase_add_test(tc, messages_and_frames);
    tcase_add_test(tc, window_bits);
    tcase_add_test(tc, window_bits_8);
    tcase_add_test(tc, python_interop);
    tcase_add_test(tc, python_interop_bits9);
    tcase_add_test(tc, rfc7692_examples);
    tcase_add_test(tc, bfinal_keeps_window);
    tcase_add_test(tc, max_exact);
    tcase_add_test(tc, bomb_cut);
    tcase_add_test(tc, corrupt);
    tcase_add_test(tc, bad_params);
    suite_add_tcase(s, tc);
    return s;
}
