/* web/gzip.h. The expected bytes come from Debian's Tornado 6.2 GZipContentEncoding (the
 * same code in 6.5) run once with gzip's clock patched to 0, and were pasted here:
 *
 *   gzip.time.time = lambda: 0
 *   t = GZipContentEncoding(request_with({"Accept-Encoding": "gzip"}))
 *   _, h, out = t.transform_first_chunk(200, HTTPHeaders({"Content-Type": "text/plain",
 *                                       "Content-Length": "1"}), chunk, finishing)
 *   out2 = t.transform_chunk(next_chunk, finishing) ...     # print(out.hex())
 *
 * Embedding keeps the suite independent of python3-tornado being installed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/arena.h"
#include "web/gzip.h"
#include "tests/unit/suites.h"

#define N(v) (sizeof(v) / sizeof((v)[0]))

typedef struct env {
    tp_arena arena;
    tp_headers req, resp;
    tp_gzip gz;
} env;

static void env_init(env *e, const char *accept, const char *ctype)
{
    tp_arena_init(&e->arena, 0);
    tp_headers_init(&e->req, &e->arena);
    tp_headers_init(&e->resp, &e->arena);
    if (accept)
        tp_headers_add(&e->req, TP_SLICE_LIT("Accept-Encoding"), tp_slice_cstr(accept));
    if (ctype)
        tp_headers_add(&e->resp, TP_SLICE_LIT("Content-Type"), tp_slice_cstr(ctype));
    tp_gzip_init(&e->gz);
}

static void env_free(env *e)
{
    tp_gzip_end(&e->gz);
    tp_arena_destroy(&e->arena);
}

static char *to_hex(tp_slice s)
{
    char *h = malloc(2 * s.n + 1);
    for (size_t i = 0; i < s.n; i++)
        sprintf(h + 2 * i, "%02x", (unsigned char)s.p[i]);
    h[2 * s.n] = '\0';
    return h;
}

static char *repeat(const char *unit, size_t times)
{
    size_t n = strlen(unit);
    char *p = malloc(n * times + 1);
    for (size_t i = 0; i < times; i++)
        memcpy(p + i * n, unit, n);
    p[n * times] = '\0';
    return p;
}

typedef struct bytes_case {
    const char *unit[3]; /* chunk i is unit[i] repeated times[i] */
    size_t times[3];
    size_t nchunks;
    const char *want[3];        /* hex of each call's output */
    const char *content_length; /* after begin, or NULL if removed */
} bytes_case;

static const bytes_case bytes_cases[] = {
    {{"hello world\n"},
     {100},
     1,
     {"1f8b08000000000000ffcb48cdc9c95728cf2fca49e1ca18658fb247d9a3ec41cc06002ef9b05db0040000"},
     "43"},
    {{"a", "b", ""},
     {10, 2000, 0},
     3,
     {"1f8b08000000000000ff4a4c840100000000ffff", "4a1a05a360148c8251300a46c1900700000000ffff",
      "0300d24db84fda070000"},
     NULL},
    {{"x"}, {1024}, 1, {"1f8b08000000000000ffaba81805a360148c54000063f0d74800040000"}, "29"},
    {{"", "tail"},
     {0, 1},
     2,
     {"1f8b08000000000000ff000000ffff", "2b49cccc01005db4377c04000000"},
     NULL},
};

START_TEST(bytes_equal_tornado)
{
    for (size_t i = 0; i < N(bytes_cases); i++) {
        const bytes_case *c = &bytes_cases[i];
        env e;
        env_init(&e, "gzip", "text/plain");
        tp_headers_add(&e.resp, TP_SLICE_LIT("Content-Length"), TP_SLICE_LIT("1"));
        int status = 200;
        for (size_t k = 0; k < c->nchunks; k++) {
            char *in = repeat(c->unit[k], c->times[k]);
            bool fin = k + 1 == c->nchunks;
            tp_slice out;
            int rc = k == 0 ? tp_gzip_begin(&e.gz, &e.req, &status, &e.resp, tp_slice_cstr(in), fin,
                                            &out)
                            : tp_gzip_chunk(&e.gz, tp_slice_cstr(in), fin, &out);
            ck_assert_int_eq(rc, 0);
            char *hex = to_hex(out);
            ck_assert_msg(strcmp(hex, c->want[k]) == 0, "case %zu chunk %zu: %s", i, k, hex);
            free(hex);
            free(in);
        }
        tp_slice cl = tp_headers_get(&e.resp, TP_SLICE_LIT("Content-Length"));
        if (c->content_length)
            ck_assert_msg(tp_slice_eq(cl, tp_slice_cstr(c->content_length)),
                          "case %zu: Content-Length %.*s", i, TP_SLICE_FMT(cl));
        else
            ck_assert_ptr_null(cl.p);
        ck_assert(tp_slice_eq(tp_headers_get(&e.resp, TP_SLICE_LIT("Content-Encoding")),
                              TP_SLICE_LIT("gzip")));
        ck_assert_int_eq(status, 200);
        env_free(&e);
    }
}
END_TEST

typedef struct decide_case {
    const char *accept;   /* NULL: no Accept-Encoding */
    const char *accept2;  /* a second Accept-Encoding field, or NULL */
    const char *ctype;    /* NULL: no Content-Type */
    const char *encoding; /* an existing Content-Encoding, or NULL */
    int status;
    size_t len;
    bool finishing;
    bool gzip;
} decide_case;

static const decide_case decide_cases[] = {
    {"gzip", NULL, "text/html; charset=UTF-8", NULL, 200, 2000, true, true},
    {"gzip, deflate, br", NULL, "text/plain", NULL, 200, 2000, true, true},
    {"x-gzip", NULL, "text/plain", NULL, 200, 2000, true, true},
    {"gzip;q=0", NULL, "text/plain", NULL, 200, 2000, true, true}, /* q-values ignored */
    {"GZIP", NULL, "text/plain", NULL, 200, 2000, true, false},    /* substring, case-sensitive */
    {"deflate", NULL, "text/plain", NULL, 200, 2000, true, false},
    {NULL, NULL, "text/plain", NULL, 200, 2000, true, false},
    {"deflate", "gzip", "text/plain", NULL, 200, 2000, true, true}, /* fields joined */
    {"gzip", NULL, "application/json", NULL, 200, 2000, true, true},
    {"gzip", NULL, "application/javascript", NULL, 200, 2000, true, true},
    {"gzip", NULL, "application/x-javascript", NULL, 200, 2000, true, true},
    {"gzip", NULL, "application/xml", NULL, 200, 2000, true, true},
    {"gzip", NULL, "application/atom+xml", NULL, 200, 2000, true, true},
    {"gzip", NULL, "application/xhtml+xml", NULL, 200, 2000, true, true},
    {"gzip", NULL, "image/svg+xml", NULL, 200, 2000, true, true},
    {"gzip", NULL, "application/json; charset=UTF-8", NULL, 200, 2000, true, true},
    {"gzip", NULL, "image/png", NULL, 200, 2000, true, false},
    {"gzip", NULL, "application/octet-stream", NULL, 200, 2000, true, false},
    {"gzip", NULL, " text/html", NULL, 200, 2000, true, false},
    {"gzip", NULL, "TEXT/html", NULL, 200, 2000, true, false},
    {"gzip", NULL, "application/jsonx", NULL, 200, 2000, true, false},
    {"gzip", NULL, NULL, NULL, 200, 2000, true, false},
    {"gzip", NULL, "text/plain", NULL, 200, 1023, true, false},
    {"gzip", NULL, "text/plain", NULL, 200, 1024, true, true},
    {"gzip", NULL, "text/plain", NULL, 200, 10, false, true}, /* streaming: any size */
    {"gzip", NULL, "text/plain", NULL, 200, 0, false, true},
    {"gzip", NULL, "text/plain", "br", 200, 2000, true, false},
    {"gzip", NULL, "text/plain", "", 200, 2000, true, false},
    {"gzip", NULL, "text/plain", NULL, 304, 0, false, false},
    {"gzip", NULL, "text/plain", NULL, 204, 0, false, false},
    {"gzip", NULL, "text/plain", NULL, 404, 2000, true, true},
};

START_TEST(decisions)
{
    char *body = repeat("z", 2000);
    for (size_t i = 0; i < N(decide_cases); i++) {
        const decide_case *c = &decide_cases[i];
        env e;
        env_init(&e, c->accept, c->ctype);
        if (c->accept2)
            tp_headers_add(&e.req, TP_SLICE_LIT("Accept-Encoding"), tp_slice_cstr(c->accept2));
        if (c->encoding)
            tp_headers_add(&e.resp, TP_SLICE_LIT("Content-Encoding"), tp_slice_cstr(c->encoding));
        int status = c->status;
        tp_slice in = tp_slice_make(body, c->len), out;
        ck_assert_int_eq(tp_gzip_begin(&e.gz, &e.req, &status, &e.resp, in, c->finishing, &out), 0);
        ck_assert_msg(tp_gzip_active(&e.gz) == c->gzip, "case %zu: gzip %d", i,
                      tp_gzip_active(&e.gz));
        if (c->gzip) {
            ck_assert(out.n >= 10 && (unsigned char)out.p[0] == 0x1f);
        } else {
            ck_assert_msg(out.p == in.p && out.n == in.n, "case %zu: not passed through", i);
            tp_slice ce = tp_headers_get(&e.resp, TP_SLICE_LIT("Content-Encoding"));
            ck_assert_msg(c->encoding ? tp_slice_eq(ce, tp_slice_cstr(c->encoding)) : !ce.p,
                          "case %zu: Content-Encoding changed", i);
        }
        ck_assert(tp_slice_eq(tp_headers_get(&e.resp, TP_SLICE_LIT("Vary")),
                              TP_SLICE_LIT("Accept-Encoding")));
        env_free(&e);
    }
    free(body);
}
END_TEST

/* Vary is extended as Tornado's `headers["Vary"] += ", Accept-Encoding"` does, gzip or not. */
START_TEST(vary_merge)
{
    static const struct {
        const char *vary[2];
        const char *accept;
        const char *want;
    } cases[] = {
        {{"Cookie", NULL}, "gzip", "Cookie, Accept-Encoding"},
        {{"Cookie", NULL}, NULL, "Cookie, Accept-Encoding"},
        {{"A", "B"}, "gzip", "A,B, Accept-Encoding"},
        {{"Accept-Encoding", NULL}, "gzip", "Accept-Encoding, Accept-Encoding"},
        {{NULL, NULL}, NULL, "Accept-Encoding"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        env e;
        env_init(&e, cases[i].accept, "text/html");
        for (size_t k = 0; k < 2 && cases[i].vary[k]; k++)
            tp_headers_add(&e.resp, TP_SLICE_LIT("Vary"), tp_slice_cstr(cases[i].vary[k]));
        int status = 200;
        tp_slice out;
        tp_gzip_begin(&e.gz, &e.req, &status, &e.resp, TP_SLICE_LIT("x"), false, &out);
        ck_assert_uint_eq(tp_headers_count(&e.resp, TP_SLICE_LIT("Vary")), 1);
        tp_slice v = tp_headers_get(&e.resp, TP_SLICE_LIT("Vary"));
        ck_assert_msg(tp_slice_eq(v, tp_slice_cstr(cases[i].want)), "case %zu: Vary %.*s", i,
                      TP_SLICE_FMT(v));
        env_free(&e);
    }
}
END_TEST

/* Many chunks of varied data stream out as one gzip member that inflates to the input. */
START_TEST(stream_roundtrip)
{
    env e;
    env_init(&e, "gzip", "application/json");
    tp_headers_add(&e.resp, TP_SLICE_LIT("Content-Length"), TP_SLICE_LIT("99999"));
    size_t total = 0, cap = 1 << 20;
    unsigned char *input = malloc(cap);
    tp_buf gz = {0};
    uint32_t x = 12345;
    int status = 200;
    for (int k = 0; k < 40; k++) {
        size_t n = (size_t)(k * 997) % 20000;
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            input[total + i] = (unsigned char)(k % 3 ? 'a' + (x >> 28) : x >> 24);
        }
        tp_slice in = tp_slice_make((char *)input + total, n), out;
        total += n;
        bool fin = k == 39;
        ck_assert_int_eq(k ? tp_gzip_chunk(&e.gz, in, fin, &out)
                           : tp_gzip_begin(&e.gz, &e.req, &status, &e.resp, in, fin, &out),
                         0);
        tp_buf_append(&gz, out.p, out.n);
    }
    ck_assert_ptr_null(tp_headers_get(&e.resp, TP_SLICE_LIT("Content-Length")).p);
    tp_slice out;
    ck_assert_int_eq(tp_gzip_chunk(&e.gz, TP_SLICE_LIT("late"), true, &out), -EINVAL);
    unsigned char *back = malloc(total + 1);
    z_stream zs = {0};
    ck_assert_int_eq(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
    zs.next_in = (Bytef *)tp_buf_data(&gz);
    zs.avail_in = (uInt)gz.len;
    zs.next_out = back;
    zs.avail_out = (uInt)total + 1;
    ck_assert_int_eq(inflate(&zs, Z_FINISH), Z_STREAM_END);
    ck_assert_uint_eq(zs.total_out, total);
    ck_assert_uint_eq(zs.avail_in, 0);
    ck_assert(memcmp(back, input, total) == 0);
    inflateEnd(&zs);
    free(back);
    free(input);
    tp_buf_free(&gz);
    env_free(&e);
}
END_TEST

/* Ending early (an aborted response) frees everything; LeakSanitizer checks the ASan run. */
START_TEST(abort_frees)
{
    env e;
    env_init(&e, "gzip", "text/plain");
    int status = 200;
    tp_slice out;
    tp_gzip_begin(&e.gz, &e.req, &status, &e.resp, TP_SLICE_LIT("partial"), false, &out);
    ck_assert(tp_gzip_active(&e.gz));
    tp_gzip_end(&e.gz);
    ck_assert(!tp_gzip_active(&e.gz));
    ck_assert_ptr_null(e.gz.out.base);
    tp_gzip_end(&e.gz); /* twice is harmless */
    tp_arena_destroy(&e.arena);
}
END_TEST

Suite *gzip_suite(void)
{
    Suite *s = suite_create("gzip");
    TCase *tc = tcase_create("gzip");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, bytes_equal_tornado);
    tcase_add_test(tc, decisions);
    tcase_add_test(tc, vary_merge);
    tcase_add_test(tc, stream_roundtrip);
    tcase_add_test(tc, abort_frees);
    suite_add_tcase(s, tc);
    return s;
}
