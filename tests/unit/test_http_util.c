/* HTTP helpers: headers (http/headers.h), URL decoding and query strings (http/query.h),
 * dates (http/date.h), option tables (core/options.h) and sockets (platform/socket.h). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/loop.h"
#include "core/options.h"
#include "http/date.h"
#include "http/headers.h"
#include "http/query.h"
#include "platform/socket.h"
#include "tests/unit/suites.h"

static int slice_is(tp_slice s, const char *want)
{
    return s.p && s.n == strlen(want) && memcmp(s.p, want, s.n) == 0;
}

#define ck_assert_slice(s, want)                                                                   \
    ck_assert_msg(slice_is((s), (want)), "got '%.*s', want '%s'", TP_SLICE_FMT(s), (want))

#define S(lit) TP_SLICE_LIT(lit)

/* ---- headers ----------------------------------------------------------------------------- */

START_TEST(headers_multidict)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    tp_headers h;
    tp_headers_init(&h, &a);
    ck_assert_ptr_null(tp_headers_get(&h, S("Host")).p);
    for (int i = 0; i < 20; i++) { /* grows past the first allocation */
        char name[16];
        snprintf(name, sizeof(name), "X-N%d", i);
        tp_headers_add(&h, tp_slice_cstr(name), S("v"));
    }
    tp_headers_add(&h, S("Content-Type"), S("text/html"));
    tp_headers_add(&h, S("Set-Cookie"), S("a=1"));
    tp_headers_add_ref(&h, S("set-cookie"), S("b=2"));
    ck_assert_uint_eq(h.n, 23);
    ck_assert_slice(tp_headers_get(&h, S("content-TYPE")), "text/html");
    ck_assert_slice(tp_headers_get(&h, S("SET-COOKIE")), "a=1");
    ck_assert_slice(tp_headers_get_joined(&h, S("Set-Cookie")), "a=1,b=2");
    ck_assert_slice(tp_headers_get_joined(&h, S("Content-Type")), "text/html");
    ck_assert_ptr_null(tp_headers_get_joined(&h, S("Missing")).p);
    ck_assert_uint_eq(tp_headers_count(&h, S("set-cookie")), 2);
    ck_assert_uint_eq(tp_headers_count(&h, S("x-n19")), 1);
    ck_assert_uint_eq(tp_headers_count(&h, S("Missing")), 0);

    /* Copies: changing the source does not change the stored field. */
    char src[] = "Value";
    tp_headers_add(&h, S("X-Copy"), tp_slice_cstr(src));
    src[0] = 'Z';
    ck_assert_slice(tp_headers_get(&h, S("x-copy")), "Value");

    /* An empty value is present, not absent. */
    tp_headers_add(&h, S("X-Empty"), S(""));
    tp_slice e = tp_headers_get_joined(&h, S("x-empty"));
    ck_assert_ptr_nonnull(e.p);
    ck_assert_uint_eq(e.n, 0);

    tp_headers_set(&h, S("SET-COOKIE"), S("c=3"));
    ck_assert_uint_eq(tp_headers_count(&h, S("Set-Cookie")), 1);
    ck_assert_slice(tp_headers_get(&h, S("set-cookie")), "c=3");
    ck_assert_uint_eq(tp_headers_remove(&h, S("x-missing")), 0);
    ck_assert_uint_eq(tp_headers_remove(&h, S("CONTENT-type")), 1);
    ck_assert_ptr_null(tp_headers_get(&h, S("Content-Type")).p);
    tp_headers_add(&h, S("Vary"), S("a"));
    tp_headers_add(&h, S("vary"), S("b"));
    tp_headers_add(&h, S("VARY"), S("c"));
    ck_assert_uint_eq(tp_headers_remove(&h, S("Vary")), 3);
    ck_assert_uint_eq(tp_headers_count(&h, S("vary")), 0);
    /* The others keep their order. */
    ck_assert_slice(h.v[0].name, "X-N0");
    ck_assert_slice(h.v[19].name, "X-N19");
    tp_arena_destroy(&a);
}
END_TEST

START_TEST(headers_write)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    tp_headers h;
    tp_headers_init(&h, &a);
    tp_headers_add(&h, S("Content-Type"), S("text/plain"));
    tp_headers_add(&h, S("X-Empty"), S(""));
    tp_headers_add(&h, S("Set-Cookie"), S("a=1"));
    tp_headers_add(&h, S("Set-Cookie"), S("b=2"));
    tp_buf out = {0};
    tp_buf_append_str(&out, "HTTP/1.1 200 OK\r\n");
    tp_headers_write(&h, &out);
    const char want[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Empty: \r\n"
                        "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n";
    ck_assert_uint_eq(out.len, strlen(want));
    ck_assert_mem_eq(tp_buf_data(&out), want, strlen(want));
    tp_buf_free(&out);

    /* Adopted parsed headers: no copy. */
    tp_http_header parsed[2] = {{S("Host"), S("example.com")}, {S("Accept"), S("*/*")}};
    tp_headers p;
    tp_headers_init(&p, &a);
    tp_headers_adopt(&p, parsed, 2);
    ck_assert_ptr_eq(tp_headers_get(&p, S("host")).p, parsed[0].value.p);
    tp_headers_add(&p, S("X-More"), S("1")); /* grows into the arena, keeping the first two */
    ck_assert_uint_eq(p.n, 3);
    ck_assert_slice(tp_headers_get(&p, S("accept")), "*/*");
    ck_assert_slice(tp_headers_get(&p, S("x-more")), "1");
    tp_arena_destroy(&a);
}
END_TEST

/* Tornado's HTTPHeaders order: a name keeps the place it was first added at; set replaces
 * in place, add puts a value after the others of its name, a removed name comes back at the
 * end (Python's dict of lists). */
START_TEST(headers_order)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    tp_headers h;
    tp_headers_init(&h, &a);
    tp_headers_add(&h, S("Server"), S("s"));
    tp_headers_add(&h, S("Content-Type"), S("text/html"));
    tp_headers_add(&h, S("X-A"), S("1"));
    tp_headers_add(&h, S("X-B"), S("1"));
    tp_headers_set(&h, S("content-type"), S("text/plain")); /* in place */
    tp_headers_add(&h, S("x-a"), S("2"));                   /* after X-A: 1 */
    tp_headers_add(&h, S("X-C"), S("1"));
    tp_headers_add_ref(&h, S("X-A"), S("3"));
    tp_headers_set_ref(&h, S("X-B"), S("2"));
    tp_headers_remove(&h, S("Server"));
    tp_headers_set(&h, S("Server"), S("again")); /* deleted: appended */
    tp_buf out = {0};
    tp_headers_write(&h, &out);
    const char want[] = "content-type: text/plain\r\nX-A: 1\r\nx-a: 2\r\nX-A: 3\r\n"
                        "X-B: 2\r\nX-C: 1\r\nServer: again\r\n";
    ck_assert_uint_eq(out.len, strlen(want));
    ck_assert_mem_eq(tp_buf_data(&out), want, strlen(want));
    /* set of a name with several values: one, at the first one's place */
    tp_headers_set(&h, S("X-A"), S("only"));
    ck_assert_uint_eq(tp_headers_count(&h, S("x-a")), 1);
    ck_assert_slice(h.v[1].value, "only");
    ck_assert_slice(h.v[2].name, "X-B");
    tp_buf_free(&out);
    tp_arena_destroy(&a);
}
END_TEST

START_TEST(headers_normalize_name)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    static const char *cases[][2] = {
        {"content-type", "Content-Type"},
        {"x-forwarded-for", "X-Forwarded-For"},
        {"CONTENT-LENGTH", "Content-Length"},
        {"etag", "Etag"},
        {"www-authenticate", "Www-Authenticate"},
        {"x--y", "X--Y"},
        {"-a", "-A"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tp_slice n = tp_headers_normalize_name(&a, tp_slice_cstr(cases[i][0]));
        ck_assert_slice(n, cases[i][1]);
        ck_assert_int_eq(n.p[n.n], '\0');
    }
    tp_arena_destroy(&a);
}
END_TEST

/* ---- URL decoding and query strings ------------------------------------------------------ */

START_TEST(url_unescape)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    ck_assert_slice(tp_url_unescape(&a, S("a%20b+c"), true), "a b c");
    ck_assert_slice(tp_url_unescape(&a, S("a%20b+c"), false), "a b+c");
    ck_assert_slice(tp_url_unescape(&a, S("%2B%2b"), true), "++");
    ck_assert_slice(tp_url_unescape(&a, S("%C3%A9"), false), "\xc3\xa9");
    ck_assert_slice(tp_url_unescape(&a, S("%41"), false), "A");
    /* Invalid escapes are kept as they are. */
    ck_assert_slice(tp_url_unescape(&a, S("100%"), false), "100%");
    ck_assert_slice(tp_url_unescape(&a, S("%zz%4"), false), "%zz%4");
    ck_assert_slice(tp_url_unescape(&a, S("%%41"), false), "%A");
    ck_assert_slice(tp_url_unescape(&a, S("%4g"), false), "%4g");
    tp_slice z = tp_url_unescape(&a, S("a%00b"), false);
    ck_assert_uint_eq(z.n, 3);
    ck_assert_mem_eq(z.p, "a\0b", 3);
    tp_slice e = tp_url_unescape(&a, S(""), true);
    ck_assert_uint_eq(e.n, 0);
    ck_assert_int_eq(e.p[0], '\0');

    ck_assert(tp_url_escapes_valid(S("")));
    ck_assert(tp_url_escapes_valid(S("abc")));
    ck_assert(tp_url_escapes_valid(S("%41%c3%A9")));
    ck_assert(!tp_url_escapes_valid(S("%")));
    ck_assert(!tp_url_escapes_valid(S("%4")));
    ck_assert(!tp_url_escapes_valid(S("a%4")));
    ck_assert(!tp_url_escapes_valid(S("%zz")));
    ck_assert(!tp_url_escapes_valid(S("%4g")));
    ck_assert(!tp_url_escapes_valid(S("ok%41%")));
    tp_arena_destroy(&a);
}
END_TEST

START_TEST(parse_qs)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    tp_args args = {0};
    tp_parse_qs(&a, S("foo=&foo="), &args);
    ck_assert_uint_eq(args.n, 2);
    ck_assert_slice(args.v[0].name, "foo");
    ck_assert_slice(args.v[0].value, "");
    ck_assert_slice(args.v[1].value, "");

    args = (tp_args){0};
    tp_parse_qs(&a, S("a=1&b"), &args);
    ck_assert_uint_eq(args.n, 2);
    ck_assert_slice(args.v[1].name, "b");
    ck_assert_slice(args.v[1].value, "");

    args = (tp_args){0};
    tp_parse_qs(&a, S("name=%C3%A9t%C3%A9&q=a+b%2Bc&&x=1=2&=v"), &args);
    ck_assert_uint_eq(args.n, 4);
    ck_assert_slice(args.v[0].value, "\xc3\xa9t\xc3\xa9");
    ck_assert_slice(args.v[1].value, "a b+c");
    ck_assert_slice(args.v[2].name, "x");
    ck_assert_slice(args.v[2].value, "1=2");
    ck_assert_slice(args.v[3].name, "");
    ck_assert_slice(args.v[3].value, "v");

    args = (tp_args){0};
    tp_parse_qs(&a, S("a+b=c+d"), &args);
    ck_assert_slice(args.v[0].name, "a b");
    ck_assert_slice(args.v[0].value, "c d");

    args = (tp_args){0};
    tp_parse_qs(&a, S(""), &args);
    ck_assert_uint_eq(args.n, 0);
    tp_parse_qs(&a, S("&&&"), &args);
    ck_assert_uint_eq(args.n, 0);
    tp_arena_destroy(&a);
}
END_TEST

START_TEST(args_get)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    tp_args args = {0};
    for (int i = 0; i < 30; i++) { /* grows */
        char v[16];
        snprintf(v, sizeof(v), "%d", i);
        tp_args_add(&a, &args, i % 3 ? S("other") : S("x"), tp_slice_cstr(v));
    }
    ck_assert_uint_eq(args.n, 30);
    ck_assert_slice(tp_args_get_last(&args, S("x")), "27");
    ck_assert_slice(tp_args_get_last(&args, S("other")), "29");
    ck_assert_ptr_null(tp_args_get_last(&args, S("X")).p); /* names are case-sensitive */
    ck_assert_ptr_null(tp_args_get_last(&args, S("missing")).p);
    tp_slice out[4];
    ck_assert_uint_eq(tp_args_get_all(&args, S("x"), out, 4), 10);
    ck_assert_slice(out[0], "0");
    ck_assert_slice(out[1], "3");
    ck_assert_slice(out[3], "9");
    ck_assert_uint_eq(tp_args_get_all(&args, S("missing"), out, 4), 0);
    ck_assert_uint_eq(tp_args_get_all(&args, S("x"), NULL, 0), 10);
    tp_arena_destroy(&a);
}
END_TEST

/* ---- dates ------------------------------------------------------------------------------- */

START_TEST(date_format)
{
    char out[TP_HTTP_DATE_LEN + 1];
    tp_http_date_format(784111777, out);
    ck_assert_str_eq(out, "Sun, 06 Nov 1994 08:49:37 GMT");
    tp_http_date_format(0, out);
    ck_assert_str_eq(out, "Thu, 01 Jan 1970 00:00:00 GMT");
    tp_http_date_format(951782400, out); /* a leap day */
    ck_assert_str_eq(out, "Tue, 29 Feb 2000 00:00:00 GMT");
    tp_http_date_format(4102444799, out);
    ck_assert_str_eq(out, "Thu, 31 Dec 2099 23:59:59 GMT");
    const char *now = tp_http_date_now();
    ck_assert_uint_eq(strlen(now), TP_HTTP_DATE_LEN);
    time_t t;
    ck_assert(tp_http_date_parse(now, strlen(now), &t));
    ck_assert_int_le(labs((long)(t - time(NULL))), 2);
}
END_TEST

static bool parse_date(const char *s, time_t *t)
{
    *t = -1;
    return tp_http_date_parse(s, strlen(s), t);
}

START_TEST(date_parse)
{
    time_t t;
    ck_assert(parse_date("Sun, 06 Nov 1994 08:49:37 GMT", &t));
    ck_assert_int_eq(t, 784111777);
    ck_assert(parse_date("Sunday, 06-Nov-94 08:49:37 GMT", &t));
    ck_assert_int_eq(t, 784111777);
    ck_assert(parse_date("Sun Nov  6 08:49:37 1994", &t));
    ck_assert_int_eq(t, 784111777);
    ck_assert(parse_date("Thu, 01 Jan 1970 00:00:00 GMT", &t));
    ck_assert_int_eq(t, 0);
    ck_assert(parse_date("Tue, 29 Feb 2000 00:00:00 GMT", &t));
    ck_assert_int_eq(t, 951782400);
    /* Round trip. */
    char out[TP_HTTP_DATE_LEN + 1];
    tp_http_date_format(1700000000, out);
    ck_assert(parse_date(out, &t));
    ck_assert_int_eq(t, 1700000000);
    /* Only the given length counts. */
    ck_assert(tp_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMTxyz", 29, &t));
    ck_assert_int_eq(t, 784111777);

    static const char *bad[] = {
        "",
        "garbage",
        "Sun, 06 Nov 1994 08:49:37",
        "Sun, 06 Nov 1994 08:49:37 GMT trailing",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:49:37 GMT",
        "Sun, 06 Nov 1994 08:60:37 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 06 Nov 1994 08-49-37 GMT",
        "Sunday, 06-Nov-94 08:49:37",
        "Sun Nov  6 08:49:37",
        "1994-11-06T08:49:37Z",
        "Sun, 06 Nov 1994 08:49:37 GMT Sun, 06 Nov 1994 08:49:37 GMT xxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!parse_date(bad[i], &t), "accepted '%s'", bad[i]);
}
END_TEST

/* ---- options ----------------------------------------------------------------------------- */

typedef struct test_opts {
    bool debug;
    bool keep;
    int port;
    int workers;
    size_t max_body;
    double timeout;
    const char *name;
} test_opts;

static const tp_option opt_table[] = {
    {.name = "debug",
     .type = TP_OPT_BOOL,
     .offset = offsetof(test_opts, debug),
     .help = "help for debug",
     .min = 0,
     .max = 0},
    {.name = "keep",
     .type = TP_OPT_BOOL,
     .offset = offsetof(test_opts, keep),
     .help = "help for keep",
     .min = 0,
     .max = 0},
    {.name = "port",
     .type = TP_OPT_INT,
     .offset = offsetof(test_opts, port),
     .help = "help for port",
     .min = 1,
     .max = 65535},
    {.name = "workers",
     .type = TP_OPT_INT,
     .offset = offsetof(test_opts, workers),
     .help = "help for workers",
     .min = 0,
     .max = 0},
    {.name = "max_body",
     .type = TP_OPT_SIZE,
     .offset = offsetof(test_opts, max_body),
     .help = "help for max_body",
     .min = 0,
     .max = 0},
    {.name = "timeout",
     .type = TP_OPT_DOUBLE,
     .offset = offsetof(test_opts, timeout),
     .help = "help for timeout",
     .min = 0.5,
     .max = 100},
    {.name = "name",
     .type = TP_OPT_STRING,
     .offset = offsetof(test_opts, name),
     .help = "help for name",
     .min = 0,
     .max = 0},
};

static test_opts opts;
static tp_option_group opt_group = {"Test", opt_table, sizeof(opt_table) / sizeof(opt_table[0]),
                                    &opts};
static char opt_err[256];
static int opt_rest;

/* Parses a NULL-terminated argument list after a program name. */
static int parse_args(const char *first, ...)
{
    char *argv[32] = {"prog"};
    int argc = 1;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) {
        ck_assert_int_lt(argc, 31);
        argv[argc++] = (char *)a;
    }
    va_end(ap);
    opt_err[0] = '\0';
    opt_rest = -1;
    return tp_options_parse(&opt_group, 1, argc, argv, &opt_rest, opt_err, sizeof(opt_err));
}

static void reset_opts(void)
{
    opts = (test_opts){.keep = true, .port = 8888, .timeout = 1, .name = "default"};
}

START_TEST(options_parse)
{
    reset_opts();
    ck_assert_int_eq(parse_args("--port=8080", "--max-body=64k", "--debug", "--name=x y",
                                "--timeout=2.5", "--no-keep", "rest", "--port=1", NULL),
                     0);
    ck_assert_int_eq(opt_rest, 7);
    ck_assert_int_eq(opts.port, 8080);
    ck_assert_uint_eq(opts.max_body, 64 * 1024);
    ck_assert(opts.debug);
    ck_assert(!opts.keep);
    ck_assert_str_eq(opts.name, "x y");
    ck_assert_double_eq(opts.timeout, 2.5);

    /* Dashes and underscores are the same; sizes take k, m and g. */
    ck_assert_int_eq(parse_args("--max_body=1m", "--max-body=2G", NULL), 0);
    ck_assert_uint_eq(opts.max_body, (size_t)2 << 30);
    ck_assert_int_eq(opt_rest, 3);
    ck_assert_int_eq(parse_args("--max_body=3", NULL), 0);
    ck_assert_uint_eq(opts.max_body, 3);
    ck_assert_int_eq(parse_args("--debug=false", "--keep=yes", NULL), 0);
    ck_assert(!opts.debug && opts.keep);
    ck_assert_int_eq(parse_args("--debug=1", NULL), 0);
    ck_assert(opts.debug);
    ck_assert_int_eq(parse_args("--name=", NULL), 0);
    ck_assert_str_eq(opts.name, "");
    /* "--" ends the options; so does a lone argument. */
    ck_assert_int_eq(parse_args("--port=2", "--", "--port=3", NULL), 0);
    ck_assert_int_eq(opts.port, 2);
    ck_assert_int_eq(opt_rest, 3);
    ck_assert_int_eq(parse_args("file", "--port=3", NULL), 0);
    ck_assert_int_eq(opts.port, 2);
    ck_assert_int_eq(opt_rest, 1);
    ck_assert_int_eq(parse_args(NULL), 0);
    ck_assert_int_eq(opt_rest, 1);
    /* --help */
    ck_assert_int_eq(parse_args("--port=5", "--help", "--port=6", NULL), 1);
    ck_assert_int_eq(opts.port, 5);

    /* tp_options_set, the config-file path. */
    ck_assert_int_eq(tp_options_set(&opt_group, 1, "max-body", "5k", opt_err, sizeof(opt_err)), 0);
    ck_assert_uint_eq(opts.max_body, 5120);
    ck_assert_int_eq(tp_options_set(&opt_group, 1, "nope", "1", opt_err, sizeof(opt_err)), -EINVAL);
    ck_assert_ptr_nonnull(strstr(opt_err, "nope"));
}
END_TEST

/* Each must fail with -EINVAL, a message naming the option, and leave the field alone. */
static void expect_invalid(const char *arg, const char *in_msg)
{
    reset_opts();
    ck_assert_msg(parse_args(arg, NULL) == -EINVAL, "'%s' was accepted (port=%d workers=%d)", arg,
                  opts.port, opts.workers);
    ck_assert_msg(strstr(opt_err, in_msg) != NULL, "'%s': message '%s' lacks '%s'", arg, opt_err,
                  in_msg);
    ck_assert_msg(!opts.debug && opts.keep && opts.port == 8888 && opts.workers == 0 &&
                      opts.max_body == 0 && opts.timeout == 1 && !strcmp(opts.name, "default"),
                  "'%s' changed a field", arg);
}

START_TEST(options_invalid)
{
    expect_invalid("--bogus=1", "bogus");
    expect_invalid("--bogus", "bogus");
    expect_invalid("--no-port", "no-port");
    expect_invalid("--port=0", "port");
    expect_invalid("--port=65536", "port");
    expect_invalid("--port=-1", "port");
    expect_invalid("--port=12x", "port");
    expect_invalid("--port=abc", "port");
    expect_invalid("--port=", "port");
    expect_invalid("--port=1.5", "port");
    expect_invalid("--port", "port");
    expect_invalid("--timeout=0.1", "timeout");
    expect_invalid("--timeout=101", "timeout");
    expect_invalid("--max-body=64x", "max_body");
    expect_invalid("--max-body=64kb", "max_body");
    expect_invalid("--max-body=-1", "max_body");
    expect_invalid("--debug=maybe", "debug");
    expect_invalid("--port=1e30", "port");
}
END_TEST

START_TEST(options_int_without_bounds_out_of_range)
{
    /* An INT option with no min/max still cannot hold more than an int. */
    expect_invalid("--workers=3000000000", "workers");
    expect_invalid("--workers=-3000000000", "workers");
    reset_opts();
    ck_assert_int_eq(parse_args("--workers=2147483647", NULL), 0);
    ck_assert_int_eq(opts.workers, 2147483647);
}
END_TEST

START_TEST(options_describe_and_help)
{
    reset_opts();
    tp_buf b = {0};
    tp_options_describe(&opt_group, 1, &b);
    tp_buf_append(&b, "", 1);
    ck_assert_str_eq(tp_buf_data(&b), "debug=false keep=true port=8888 workers=0 max_body=0 "
                                      "timeout=1 name=default");
    tp_buf_free(&b);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    tp_options_print_help(&opt_group, 1, f);
    fclose(f);
    /* Tornado's layout: "TITLE options:" headings, names with dashes. */
    ck_assert_ptr_nonnull(strstr(text, "Test options:"));
    ck_assert_ptr_nonnull(strstr(text, "--max-body"));
    ck_assert_ptr_nonnull(strstr(text, "help for timeout"));
    ck_assert_ptr_nonnull(strstr(text, "8888"));
    free(text);
}
END_TEST

/* ---- sockets ----------------------------------------------------------------------------- */

START_TEST(bind_tcp_port_zero)
{
    int fds[4];
    int n = tp_bind_sockets("127.0.0.1", 0, 16, false, fds, 4);
    ck_assert_int_eq(n, 1);
    int port = tp_socket_port(fds[0]);
    ck_assert_int_gt(port, 0);
    ck_assert_int_lt(port, 65536);
    int on = 0;
    socklen_t len = sizeof(on);
    ck_assert_int_eq(getsockopt(fds[0], SOL_SOCKET, SO_ACCEPTCONN, &on, &len), 0);
    ck_assert_int_eq(on, 1);
    ck_assert(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
    ck_assert(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
    ck_assert_int_eq(tp_accept(fds[0], NULL, NULL), -EAGAIN);

    /* A client connects; the listener accepts it. */
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int a = -EAGAIN;
    for (double deadline = tp__monotonic() + 30; a == -EAGAIN && tp__monotonic() < deadline;) {
        a = tp_accept(fds[0], &ss, &sl);
        if (a == -EAGAIN)
            usleep(1000);
    }
    ck_assert_int_ge(a, 0);
    ck_assert(fcntl(a, F_GETFL) & O_NONBLOCK);
    char ip[64];
    tp_sockaddr_ip((struct sockaddr *)&ss, ip, sizeof(ip));
    ck_assert_str_eq(ip, "127.0.0.1");
    ck_assert_int_eq(tp_socket_set_nodelay(a, true), 0);
    close(a);
    close(c);

    /* The port is taken now: binding it again without SO_REUSEPORT fails, nothing left open. */
    int again[4];
    ck_assert_int_lt(tp_bind_sockets("127.0.0.1", port, 16, false, again, 4), 0);
    close(fds[0]);
}
END_TEST

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/tp-unit-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static int connect_unix(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int r = connect(c, (struct sockaddr *)&sun, sizeof(sun));
    close(c);
    return r;
}

START_TEST(bind_unix_socket)
{
    make_tmpdir();
    char path[128], file[128];
    snprintf(path, sizeof(path), "%s/sock", tmpdir);
    snprintf(file, sizeof(file), "%s/file", tmpdir);

    /* A stale socket file (its listener went away) is replaced. */
    int stale = tp_bind_unix_socket(path, 0600, 16);
    ck_assert_int_ge(stale, 0);
    close(stale);
    ck_assert_int_ne(connect_unix(path), 0);
    int fd = tp_bind_unix_socket(path, 0640, 16);
    ck_assert_int_ge(fd, 0);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert(S_ISSOCK(st.st_mode));
    ck_assert_int_eq(st.st_mode & 0777, 0640);
    ck_assert_int_eq(connect_unix(path), 0);
    ck_assert_int_eq(tp_socket_port(fd), -EAFNOSUPPORT);
    close(fd);
    unlink(path);

    /* Any other file is left alone. */
    int f = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    ck_assert_int_ge(f, 0);
    ck_assert_int_eq(write(f, "keep", 4), 4);
    close(f);
    ck_assert_int_eq(tp_bind_unix_socket(file, 0600, 16), -EEXIST);
    ck_assert_int_eq(stat(file, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    ck_assert_int_eq(st.st_size, 4);
    ck_assert_int_eq(tp_bind_unix_socket(tmpdir, 0600, 16), -EEXIST); /* a directory */
    unlink(file);

    char longpath[200];
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[sizeof(longpath) - 1] = '\0';
    ck_assert_int_eq(tp_bind_unix_socket(longpath, 0600, 16), -ENAMETOOLONG);
    ck_assert_int_lt(tp_bind_unix_socket("", 0600, 16), 0);
    rmdir(tmpdir);
}
END_TEST

START_TEST(valid_ip)
{
    static const char *good[] = {"127.0.0.1", "0.0.0.0",     "255.255.255.255", "::1",
                                 "::",        "2001:db8::1", "fe80::1:2:3:4",   "::ffff:192.0.2.1"};
    static const char *bad[] = {"",           "256.0.0.1", "1.2.3", "1.2.3.4.5",    "abc",
                                "1.2.3.4 ",   " 1.2.3.4",  "::g",   "2001:db8:::1", "localhost",
                                "1.2.3.4/24", "[::1]"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(tp_is_valid_ip(good[i], strlen(good[i])), "'%s' refused", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!tp_is_valid_ip(bad[i], strlen(bad[i])), "'%s' accepted", bad[i]);
    /* Length-delimited: the bytes after n do not count, an embedded NUL does. */
    ck_assert(tp_is_valid_ip("10.0.0.1xyz", 8));
    ck_assert(!tp_is_valid_ip("10.0\0.0.1", 9));
    char huge[100];
    memset(huge, '1', sizeof(huge));
    ck_assert(!tp_is_valid_ip(huge, sizeof(huge)));
}
END_TEST

Suite *http_util_suite(void)
{
    Suite *s = suite_create("http_util");
    TCase *tc = tcase_create("headers");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, headers_multidict);
    tcase_add_test(tc, headers_write);
    tcase_add_test(tc, headers_order);
    tcase_add_test(tc, headers_normalize_name);
    suite_add_tcase(s, tc);

    tc = tcase_create("query");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, url_unescape);
    tcase_add_test(tc, parse_qs);
    tcase_add_test(tc, args_get);
    suite_add_tcase(s, tc);

    tc = tcase_create("date");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, date_format);
    tcase_add_test(tc, date_parse);
    suite_add_tcase(s, tc);

    tc = tcase_create("options");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, options_parse);
    tcase_add_test(tc, options_invalid);
    tcase_add_test(tc, options_int_without_bounds_out_of_range);
    tcase_add_test(tc, options_describe_and_help);
    suite_add_tcase(s, tc);

    tc = tcase_create("sockets");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, bind_tcp_port_zero);
    tcase_add_test(tc, bind_unix_socket);
    tcase_add_test(tc, valid_ip);
    suite_add_tcase(s, tc);
    return s;
}
