/* http/form.h. The multipart cases are tornado/test/httputil_test.py's MultipartFormDataTest
 * plus the RFC 2231 and header edge cases; every expected result was produced once by
 * Debian's Tornado 6.2 (which carries the 6.5 multipart fixes: errors raise, linear
 * _parseparam) with HTTPHeaders.parse made 6.5-strict (token names, no control characters
 * in values) and pasted here. 2100 random mutants of these cases also matched it when this
 * was written (a differential run, not part of the suite). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "http/form.h"
#include "tests/unit/suites.h"

#define S(lit)                    lit, sizeof(lit) - 1
#define N(v)                      (sizeof(v) / sizeof((v)[0]))
#define CRLF                      "\r\n"
#define PART(disp, body)          "--1234" CRLF "Content-Disposition: " disp CRLF CRLF body CRLF
#define FILE_PART(filename_param) PART("form-data; name=\"files\"; " filename_param, "Foo")

typedef struct mp_case {
    const char *what;
    const char *boundary;
    const char *body;
    size_t body_n;
    int rc;               /* 0, -EINVAL or -E2BIG */
    const char *field;    /* name of the one argument or file expected */
    const char *filename; /* NULL: an argument; else a file with this filename */
    const char *value;    /* the argument's value or the file's body */
    const char *ctype;    /* the file's content type */
} mp_case;

static const mp_case mp_cases[] = {
    {"file upload", "1234", S(FILE_PART("filename=\"ab.txt\"") "--1234--"), 0, "files", "ab.txt",
     "Foo", "application/unknown"},
    {"unquoted names", "1234", S(PART("form-data; name=files; filename=ab.txt", "Foo") "--1234--"),
     0, "files", "ab.txt", "Foo", "application/unknown"},
    {"special a;b", "1234", S(FILE_PART("filename=\"a;b.txt\"") "--1234--"), 0, "files", "a;b.txt",
     "Foo", "application/unknown"},
    {"special a\"b", "1234", S(FILE_PART("filename=\"a\\\"b.txt\"") "--1234--"), 0, "files",
     "a\"b.txt", "Foo", "application/unknown"},
    {"special a\";b", "1234", S(FILE_PART("filename=\"a\\\";b.txt\"") "--1234--"), 0, "files",
     "a\";b.txt", "Foo", "application/unknown"},
    {"special a;\"b", "1234", S(FILE_PART("filename=\"a;\\\"b.txt\"") "--1234--"), 0, "files",
     "a;\"b.txt", "Foo", "application/unknown"},
    {"special a\";\";", "1234", S(FILE_PART("filename=\"a\\\";\\\";.txt\"") "--1234--"), 0, "files",
     "a\";\";.txt", "Foo", "application/unknown"},
    {"special a\\\"b", "1234", S(FILE_PART("filename=\"a\\\\\\\"b.txt\"") "--1234--"), 0, "files",
     "a\\\"b.txt", "Foo", "application/unknown"},
    {"special a\\b", "1234", S(FILE_PART("filename=\"a\\\\b.txt\"") "--1234--"), 0, "files",
     "a\\b.txt", "Foo", "application/unknown"},
    {"non-ascii filename*", "1234",
     S(FILE_PART("filename=\"ab.txt\"; filename*=UTF-8''%C3%A1b.txt") "--1234--"), 0, "files",
     "\303\241b.txt", "Foo", "application/unknown"},
    {"raw UTF-8 filename", "1234", S(FILE_PART("filename=\"\303\241b.txt\"") "--1234--"), 0,
     "files", "\303\241b.txt", "Foo", "application/unknown"},
    {"quoted boundary", "\"1234\"", S(FILE_PART("filename=\"ab.txt\"") "--1234--"), 0, "files",
     "ab.txt", "Foo", "application/unknown"},
    {"missing headers", "1234", S("--1234" CRLF CRLF "Foo" CRLF "--1234--"), -EINVAL, NULL, NULL,
     NULL, NULL},
    {"invalid disposition", "1234",
     S(PART("invalid; name=\"files\"; filename=\"ab.txt\"", "Foo") "--1234--"), -EINVAL, NULL, NULL,
     NULL, NULL},
    {"no CRLF before boundary", "1234",
     S("--1234" CRLF "Content-Disposition: form-data; name=\"f\"" CRLF CRLF "Foo--1234--"), -EINVAL,
     NULL, NULL, NULL, NULL},
    {"no name", "1234", S(PART("form-data; filename=\"ab.txt\"", "Foo") "--1234--"), -EINVAL, NULL,
     NULL, NULL, NULL},
    {"empty name", "1234", S(PART("form-data; name=\"\"", "Foo") "--1234--"), -EINVAL, NULL, NULL,
     NULL, NULL},
    {"data after final boundary", "1234", S(FILE_PART("filename=\"ab.txt\"") "--1234--" CRLF), 0,
     "files", "ab.txt", "Foo", "application/unknown"},
    {"no final boundary", "1234", S(PART("form-data; name=\"a\"", "Foo")), -EINVAL, NULL, NULL,
     NULL, NULL},
    {"preamble", "1234", S("junk" PART("form-data; name=\"a\"", "x") "--1234--"), -EINVAL, NULL,
     NULL, NULL, NULL},
    {"empty value", "1234", S(PART("form-data; name=\"a\"", "") "--1234--"), 0, "a", NULL, "",
     NULL},
    {"value overlaps final boundary", "1234",
     S("--1234" CRLF "Content-Disposition: form-data; name=\"a\"" CRLF CRLF "--1234--"), 0, "a",
     NULL, "", NULL},
    {"content type", "1234",
     S("--1234" CRLF "Content-Type: text/plain" CRLF "Content-Disposition: form-data; "
       "name=\"f\"; filename=\"x\"" CRLF CRLF "zz" CRLF "--1234--"),
     0, "f", "x", "zz", "text/plain"},
    {"repeated content type joined", "1234",
     S("--1234" CRLF "Content-Type: text/plain" CRLF "content-type: a/b" CRLF
       "Content-Disposition: form-data; name=\"f\"; filename=\"x\"" CRLF CRLF "zz" CRLF "--1234--"),
     0, "f", "x", "zz", "text/plain,a/b"},
    {"folded header", "1234",
     S("--1234" CRLF "Content-Disposition: form-data;" CRLF " name=\"c\"" CRLF CRLF "v" CRLF
       "--1234--"),
     0, "c", NULL, "v", NULL},
    {"LF-only header line", "1234",
     S("--1234" CRLF "X: y\nContent-Disposition: form-data; name=\"c\"" CRLF CRLF "v" CRLF
       "--1234--"),
     0, "c", NULL, "v", NULL},
    {"control character", "1234", S(PART("form-data; name=\"c\001\"", "v") "--1234--"), -EINVAL,
     NULL, NULL, NULL, NULL},
    {"CR in a header", "1234", S(PART("form-data; name=\"c\r\"", "v") "--1234--"), -EINVAL, NULL,
     NULL, NULL, NULL},
    {"space before colon", "1234",
     S("--1234" CRLF "Content-Disposition : form-data; name=\"a\"" CRLF CRLF "x" CRLF "--1234--"),
     -EINVAL, NULL, NULL, NULL, NULL},
    {"continuation first", "1234",
     S("--1234" CRLF " x" CRLF "Content-Disposition: form-data; name=\"a\"" CRLF CRLF "x" CRLF
       "--1234--"),
     -EINVAL, NULL, NULL, NULL, NULL},
    {"no colon", "1234",
     S("--1234" CRLF "junk" CRLF "Content-Disposition: form-data; name=\"a\"" CRLF CRLF "x" CRLF
       "--1234--"),
     -EINVAL, NULL, NULL, NULL, NULL},
    {"invalid UTF-8 header", "1234", S(PART("form-data; name=\"\377\"", "v") "--1234--"), -EINVAL,
     NULL, NULL, NULL, NULL},
    {"RFC 2231 sections", "1234",
     S(PART("form-data; name=n; filename*0*=UTF-8''a%20; filename*1=b; filename*2*=%C3%A9",
            "Foo") "--1234--"),
     0, "n", "a b\303\251", "Foo", "application/unknown"},
    {"RFC 2231 mixed sections", "1234",
     S(PART("form-data; name=n; filename*=x; filename*0=y", "Foo") "--1234--"), -EINVAL, NULL, NULL,
     NULL, NULL},
    {"RFC 2231 latin-1", "1234",
     S(PART("form-data; name=n; filename*=iso-8859-1'en'%E9t%E9", "Foo") "--1234--"), 0, "n",
     "\303\251t\303\251", "Foo", "application/unknown"},
    {"RFC 2231 unknown charset", "1234",
     S(PART("form-data; name=n; filename*=klingon''%E9\\\"x", "Foo") "--1234--"), 0, "n",
     "\303\251\\\"x", "Foo", "application/unknown"},
    {"RFC 2231 no charset", "1234",
     S(PART("form-data; name=n; filename*=%E9abc", "Foo") "--1234--"), 0, "n", "\357\277\275abc",
     "Foo", "application/unknown"},
    {"RFC 2231 bad UTF-8", "1234",
     S(PART("form-data; name=n; filename*=utf-8''%E0%80%C3x", "Foo") "--1234--"), 0, "n",
     "\357\277\275\357\277\275\357\277\275x", "Foo", "application/unknown"},
    {"RFC 2231 quoting kept", "1234",
     S(PART("form-data; name=n; filename*=utf-8''a\\\\b%22c", "Foo") "--1234--"), 0, "n",
     "a\\\\\\\\b\\\"c", "Foo", "application/unknown"},
    {"RFC 2231 name", "1234",
     S(PART("form-data; name*=utf-8''%C3%A9; filename=", "Foo") "--1234--"), 0, "\303\251", NULL,
     "Foo", NULL},
    {"angle brackets", "1234", S(PART("form-data; name=<x>", "Foo") "--1234--"), 0, "x", NULL,
     "Foo", NULL},
    {"doubled quotes", "1234", S(PART("form-data; name=\"\"x\"\"", "Foo") "--1234--"), 0, "x", NULL,
     "Foo", NULL},
    {"unicode whitespace", "1234",
     S(PART("form-data; name=\302\240abc\343\200\200; filename=\" f \"", "Foo") "--1234--"), 0,
     "abc", " f ", "Foo", "application/unknown"},
    {"later parameters win", "1234",
     S(PART("form-data; name=\"a\"; name=\"b\"; filename=\"x\"; filename*=utf-8''y; "
            "filename=z",
            "Foo") "--1234--"),
     0, "b", "y", "Foo", "application/unknown"},
    {"boundary -", "-",
     S("---" CRLF "Content-Disposition: form-data; name=\"a\"" CRLF CRLF "x" CRLF "-----"), 0, "a",
     NULL, "x", NULL},
    {"boundary \" (empty)", "\"",
     S("--" CRLF "Content-Disposition: form-data; name=\"a\"" CRLF CRLF "x" CRLF "----"), 0, "a",
     NULL, "x", NULL},
};

static void ck_eq(tp_slice got, const char *want, const char *what, const char *field)
{
    ck_assert_msg(tp_slice_eq(got, tp_slice_cstr(want)), "%s: %s is '%.*s', want '%s'", what, field,
                  TP_SLICE_FMT(got), want);
}

START_TEST(multipart_table)
{
    for (size_t i = 0; i < N(mp_cases); i++) {
        const mp_case *c = &mp_cases[i];
        tp_arena a;
        tp_arena_init(&a, 0);
        tp_args args = {0};
        tp_form_files files = {0};
        const char *err = NULL;
        int rc =
            tp_form_parse_multipart(&a, tp_slice_cstr(c->boundary),
                                    tp_slice_make(c->body, c->body_n), NULL, &args, &files, &err);
        ck_assert_msg(rc == c->rc, "%s: rc %d (%s), want %d", c->what, rc, err ? err : "", c->rc);
        if (rc) {
            ck_assert_msg(err && *err, "%s: no message", c->what);
            ck_assert_msg(args.n == 0 && files.n == 0, "%s: partial result", c->what);
        } else if (c->filename) {
            ck_assert_msg(args.n == 0 && files.n == 1, "%s: %zu args %zu files", c->what, args.n,
                          files.n);
            ck_eq(files.v[0].name, c->field, c->what, "name");
            ck_eq(files.v[0].filename, c->filename, c->what, "filename");
            ck_eq(files.v[0].body, c->value, c->what, "body");
            ck_eq(files.v[0].content_type, c->ctype, c->what, "content_type");
        } else {
            ck_assert_msg(args.n == 1 && files.n == 0, "%s: %zu args %zu files", c->what, args.n,
                          files.n);
            ck_eq(args.v[0].name, c->field, c->what, "name");
            ck_eq(args.v[0].value, c->value, c->what, "value");
        }
        tp_arena_destroy(&a);
    }
}
END_TEST

/* Several fields: arguments in order (repeats kept), files apart, bodies not copied. */
START_TEST(multipart_many_fields)
{
    static const char body[] = PART("form-data; name=\"a\"", "1") PART("form-data; name=\"b\"", "2")
        PART("form-data; name=\"a\"", "3") PART("form-data; name=\"f\"; filename=\"1.txt\"", "one")
            PART("form-data; name=\"f\"; filename=\"2.txt\"", "two") "--1234--" CRLF;
    tp_arena a;
    tp_arena_init(&a, 0);
    tp_args args = {0};
    tp_form_files files = {0};
    const char *err = NULL;
    ck_assert_int_eq(tp_form_parse_multipart(&a, TP_SLICE_LIT("1234"),
                                             tp_slice_make(body, sizeof(body) - 1), NULL, &args,
                                             &files, &err),
                     0);
    tp_slice vals[4];
    ck_assert_uint_eq(tp_args_get_all(&args, TP_SLICE_LIT("a"), vals, 4), 2);
    ck_eq(vals[0], "1", "many", "a[0]");
    ck_eq(vals[1], "3", "many", "a[1]");
    ck_eq(tp_args_get_last(&args, TP_SLICE_LIT("b")), "2", "many", "b");
    ck_assert_msg(vals[0].p > body && vals[0].p < body + sizeof(body), "value was copied");
    const tp_form_file *f[3];
    ck_assert_uint_eq(tp_form_files_get(&files, TP_SLICE_LIT("f"), f, 3), 2);
    ck_eq(f[0]->filename, "1.txt", "many", "f[0]");
    ck_eq(f[1]->body, "two", "many", "f[1]");
    tp_arena_destroy(&a);
}
END_TEST

/* A body of n parts named p0.. with boundary "1234", in buf. */
static tp_slice n_parts(char *buf, size_t cap, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(buf + k, cap - k, PART("form-data; name=\"p%zu\"", "x"), i);
    k += (size_t)snprintf(buf + k, cap - k, "--1234--");
    return tp_slice_make(buf, k);
}

START_TEST(multipart_limits)
{
    static char buf[64 * 1024];
    tp_arena a;
    tp_arena_init(&a, 0);
    const char *err = NULL;
    tp_form_limits lim = tp_form_limits_default();
    ck_assert_uint_eq(lim.max_parts, 100);
    ck_assert_uint_eq(lim.max_part_header_size, 10240);
    ck_assert(lim.multipart_enabled);
    tp_args args = {0};
    tp_form_files files = {0};
    ck_assert_int_eq(tp_form_parse_multipart(&a, TP_SLICE_LIT("1234"),
                                             n_parts(buf, sizeof(buf), 100), NULL, &args, &files,
                                             &err),
                     0);
    ck_assert_uint_eq(args.n, 100);
    args.n = 0;
    ck_assert_int_eq(tp_form_parse_multipart(&a, TP_SLICE_LIT("1234"),
                                             n_parts(buf, sizeof(buf), 101), NULL, &args, &files,
                                             &err),
                     -E2BIG);
    ck_assert_str_eq(err, "multipart/form-data has too many parts");
    ck_assert_uint_eq(args.n, 0);
    lim.max_parts = 3;
    ck_assert_int_eq(tp_form_parse_multipart(&a, TP_SLICE_LIT("1234"), n_parts(buf, sizeof(buf), 4),
                                             &lim, &args, &files, &err),
                     -E2BIG);
    /* Tornado's own bound test: ten empty parts, max_parts 3 */
    ck_assert_int_eq(tp_form_parse_multipart(&a, TP_SLICE_LIT("x"),
                                             TP_SLICE_LIT("--x\r\n--x\r\n--x\r\n--x\r\n--x\r\n"
                                                          "--x\r\n--x\r\n--x\r\n--x\r\n--x\r\n"
                                                          "--x--"),
                                             &lim, &args, &files, &err),
                     -E2BIG);
    /* A preamble that looks like a part is parsed as one (as Tornado does) and counts: two
     * parts after it exceed max_parts 2 (found by the fuzzer as args + files > max_parts). */
    lim.max_parts = 2;
    args.n = files.n = 0;
    tp_slice pre = TP_SLICE_LIT("Content-Disposition: form-data; name=\"p\"\r\n\r\nv\r\n"
                                "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
                                "--B\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n2\r\n"
                                "--B--");
    ck_assert_int_eq(tp_form_parse_multipart(&a, TP_SLICE_LIT("B"), pre, &lim, &args, &files, &err),
                     -E2BIG);
    ck_assert_uint_eq(args.n, 0);
    lim.max_parts = 3;
    ck_assert_int_eq(tp_form_parse_multipart(&a, TP_SLICE_LIT("B"), pre, &lim, &args, &files, &err),
                     0);
    ck_assert_uint_eq(args.n, 3);
    lim = tp_form_limits_default();
    lim.max_part_header_size = 50;
    size_t k = (size_t)snprintf(buf, sizeof(buf), "--1234\r\nX-Pad: %060d\r\n", 0);
    k += (size_t)snprintf(buf + k, sizeof(buf) - k,
                          "Content-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--1234--");
    ck_assert_int_eq(tp_form_parse_multipart(&a, TP_SLICE_LIT("1234"), tp_slice_make(buf, k), &lim,
                                             &args, &files, &err),
                     -E2BIG);
    lim.max_part_header_size = 10240;
    ck_assert_int_eq(tp_form_parse_multipart(&a, TP_SLICE_LIT("1234"), tp_slice_make(buf, k), &lim,
                                             &args, &files, &err),
                     0);
    lim.multipart_enabled = false;
    ck_assert_int_eq(tp_form_parse_multipart(&a, TP_SLICE_LIT("1234"), tp_slice_make(buf, k), &lim,
                                             &args, &files, &err),
                     -EINVAL);
    tp_arena_destroy(&a);
}
END_TEST

/* A failure in a late part leaves the lists as they were (earlier parts appended nothing). */
START_TEST(multipart_atomic)
{
    static const char body[] = PART("form-data; name=\"a\"", "1")
        PART("form-data; name=\"f\"; filename=\"x\"", "2") PART("form-data", "3") "--1234--";
    tp_arena a;
    tp_arena_init(&a, 0);
    tp_args args = {0};
    tp_form_files files = {0};
    const char *err = NULL;
    tp_args_add(&a, &args, TP_SLICE_LIT("q"), TP_SLICE_LIT("query"));
    ck_assert_int_eq(tp_form_parse_multipart(&a, TP_SLICE_LIT("1234"),
                                             tp_slice_make(body, sizeof(body) - 1), NULL, &args,
                                             &files, &err),
                     -EINVAL);
    ck_assert_str_eq(err, "multipart/form-data missing name");
    ck_assert_uint_eq(args.n, 1);
    ck_assert_uint_eq(files.n, 0);
    tp_arena_destroy(&a);
}
END_TEST

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* test_disposition_param_linear_performance, and a boundary made to make a naive reverse
 * search quadratic. */
static double time_semicolons(tp_arena *a, size_t n)
{
    static char buf[256 * 1024];
    size_t k = (size_t)snprintf(buf, sizeof(buf), "--1234\r\nContent-Disposition: form-data; x=\"");
    memset(buf + k, ';', n);
    k += n;
    k += (size_t)snprintf(buf + k, sizeof(buf) - k,
                          "\"; name=\"files\"; filename=\"a.txt\"\r\n\r\nFoo\r\n--1234--\r\n");
    tp_form_limits lim = tp_form_limits_default();
    lim.max_part_header_size = sizeof(buf);
    tp_args args = {0};
    tp_form_files files = {0};
    const char *err = NULL;
    double t = seconds();
    ck_assert_int_eq(tp_form_parse_multipart(a, TP_SLICE_LIT("1234"), tp_slice_make(buf, k), &lim,
                                             &args, &files, &err),
                     0);
    ck_eq(files.v[0].filename, "a.txt", "semicolons", "filename");
    return seconds() - t;
}

START_TEST(multipart_linear)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    double d1 = time_semicolons(&a, 10000), d2 = time_semicolons(&a, 100000);
    ck_assert_msg(d2 < 0.5 && d2 / (d1 + 1e-4) < 40, "not linear: %f vs %f", d1, d2);
    /* 1 MiB of '-' with a 2000-dash boundary: no final boundary, found out quickly */
    static char dashes[1 << 20], bnd[2000];
    memset(dashes, '-', sizeof(dashes) - 1);
    memset(bnd, '-', sizeof(bnd));
    dashes[sizeof(dashes) - 1] = 'x';
    tp_args args = {0};
    tp_form_files files = {0};
    const char *err = NULL;
    double t = seconds();
    int rc =
        tp_form_parse_multipart(&a, tp_slice_make(bnd, sizeof(bnd)),
                                tp_slice_make(dashes, sizeof(dashes)), NULL, &args, &files, &err);
    ck_assert_int_ne(rc, 0);
    ck_assert_msg(seconds() - t < 0.5, "boundary search took %f s", seconds() - t);
    tp_arena_destroy(&a);
}
END_TEST

typedef struct body_case {
    const char *what;
    const char *ctype;
    const char *encoding; /* Content-Encoding or NULL */
    const char *body;
    int rc;
    const char *err;      /* expected message, or NULL */
    size_t nargs, nfiles; /* on success */
    const char *arg0;     /* "name=value" of the first argument */
} body_case;

#define FORM_BODY PART("form-data; name=\"a\"", "1") "--1234--"

static const body_case body_cases[] = {
    {"urlencoded", "application/x-www-form-urlencoded", NULL, "foo=bar+baz&foo=&x=%41", 0, NULL, 3,
     0, "foo=bar baz"},
    {"urlencoded with charset", "application/x-www-form-urlencoded; charset=UTF-8", NULL, "a=1", 0,
     NULL, 1, 0, "a=1"},
    {"urlencoded encoded", "application/x-www-form-urlencoded", "gzip", "a=1", -EINVAL,
     "Unsupported Content-Encoding: gzip", 0, 0, NULL},
    {"other type ignored", "application/json", NULL, "{\"a\": 1}", 0, NULL, 0, 0, NULL},
    {"no type", "", NULL, "a=1", 0, NULL, 0, 0, NULL},
    {"type case-sensitive", "Application/x-www-form-urlencoded", NULL, "a=1", 0, NULL, 0, 0, NULL},
    {"multipart", "multipart/form-data; boundary=1234", NULL, FORM_BODY, 0, NULL, 1, 0, "a=1"},
    {"multipart quoted boundary", "multipart/form-data; boundary=\"1234\"", NULL, FORM_BODY, 0,
     NULL, 1, 0, "a=1"},
    {"multipart later boundary", "multipart/form-data;charset=x;  boundary=1234 ", NULL, FORM_BODY,
     0, NULL, 1, 0, "a=1"},
    {"multipart first boundary wins", "multipart/form-data; boundary=1234; boundary=zz", NULL,
     FORM_BODY, 0, NULL, 1, 0, "a=1"},
    {"multipart empty boundary skipped", "multipart/form-data; boundary=; boundary=1234", NULL,
     FORM_BODY, 0, NULL, 1, 0, "a=1"},
    {"multipart no boundary", "multipart/form-data", NULL, FORM_BODY, -EINVAL,
     "Invalid multipart/form-data: multipart boundary not found", 0, 0, NULL},
    {"multipart Boundary", "multipart/form-data; Boundary=1234", NULL, FORM_BODY, -EINVAL,
     "Invalid multipart/form-data: multipart boundary not found", 0, 0, NULL},
    {"multipart/form-dataxyz", "multipart/form-dataxyz; boundary=1234", NULL, FORM_BODY, -EINVAL,
     "Invalid multipart/form-data: Invalid content type", 0, 0, NULL},
    {"multipart encoded", "multipart/form-data; boundary=1234", "gzip", FORM_BODY, -EINVAL,
     "Unsupported Content-Encoding: gzip", 0, 0, NULL},
    {"multipart no final", "multipart/form-data; boundary=1234", NULL, "--1234\r\n", -EINVAL,
     "Invalid multipart/form-data: Invalid multipart/form-data: no final boundary found", 0, 0,
     NULL},
    {"multipart missing headers", "multipart/form-data; boundary=1234", NULL,
     "--1234\r\nx\r\n--1234--", -EINVAL,
     "Invalid multipart/form-data: multipart/form-data missing headers", 0, 0, NULL},
    {"latin-1 boundary", "multipart/form-data; boundary=\351", NULL,
     "--\303\251\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--\303\251--", 0, NULL, 1, 0,
     "a=1"},
};

START_TEST(body_table)
{
    for (size_t i = 0; i < N(body_cases); i++) {
        const body_case *c = &body_cases[i];
        tp_arena a;
        tp_arena_init(&a, 0);
        tp_args args = {0};
        tp_form_files files = {0};
        const char *err = NULL;
        int rc = tp_form_parse_body(&a, tp_slice_cstr(c->ctype), tp_slice_cstr(c->body),
                                    c->encoding ? tp_slice_cstr(c->encoding) : TP_SLICE_NULL, NULL,
                                    &args, &files, &err);
        ck_assert_msg(rc == c->rc, "%s: rc %d (%s)", c->what, rc, err ? err : "");
        if (rc) {
            ck_assert_msg(err && strcmp(err, c->err) == 0, "%s: message '%s'", c->what, err);
            ck_assert_msg(args.n == 0 && files.n == 0, "%s: partial result", c->what);
        } else {
            ck_assert_msg(args.n == c->nargs && files.n == c->nfiles, "%s: %zu args %zu files",
                          c->what, args.n, files.n);
            if (c->arg0) {
                char got[64];
                snprintf(got, sizeof(got), "%.*s=%.*s", TP_SLICE_FMT(args.v[0].name),
                         TP_SLICE_FMT(args.v[0].value));
                ck_assert_msg(strcmp(got, c->arg0) == 0, "%s: first argument %s", c->what, got);
            }
        }
        tp_arena_destroy(&a);
    }
}
END_TEST

/* _parse_header's doctest, and a parameter without '=' dropped. */
START_TEST(parse_header_doctest)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    tp_slice key;
    tp_args params = {0};
    const char *err = NULL;
    ck_assert_int_eq(tp_form_parse_header(&a,
                                          TP_SLICE_LIT("form-data; foo=\"b\\\\a\\\"r\"; "
                                                       "file*=utf-8''T%C3%A4st; flag"),
                                          &key, &params, &err),
                     0);
    ck_eq(key, "form-data", "doctest", "key");
    ck_assert_uint_eq(params.n, 2);
    ck_eq(tp_args_get_last(&params, TP_SLICE_LIT("foo")), "b\\a\"r", "doctest", "foo");
    ck_eq(tp_args_get_last(&params, TP_SLICE_LIT("file")), "T\303\244st", "doctest", "file");
    tp_arena_destroy(&a);
}
END_TEST

Suite *form_suite(void)
{
    Suite *s = suite_create("form");
    TCase *tc = tcase_create("form");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, multipart_table);
    tcase_add_test(tc, multipart_many_fields);
    tcase_add_test(tc, multipart_limits);
    tcase_add_test(tc, multipart_atomic);
    tcase_add_test(tc, multipart_linear);
    tcase_add_test(tc, body_table);
    tcase_add_test(tc, parse_header_doctest);
    suite_add_tcase(s, tc);
    return s;
}
