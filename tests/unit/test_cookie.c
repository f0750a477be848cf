/* http/cookie.h. Every expected string was generated once with Debian's Tornado 6.2
 * (httputil.parse_cookie, RequestHandler.set_cookie + Morsel.OutputString,
 * web.create_signed_value / decode_signed_value) and pasted here as literals; the 6.5
 * rules are followed where they differ (max_age=0 omitted; name, domain, path and samesite
 * with 0x00-0x20, ';' or 0x7f refused, 6.5.5). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "http/cookie.h"
#include "web/signed_value.h"
#include "tests/unit/suites.h"

/* A literal and its length (literals may hold NULs). */
#define S(lit) lit, sizeof(lit) - 1
#define N(v)   (sizeof(v) / sizeof((v)[0]))
#define T0     ((time_t)1300000000)
#define DAY    86400

static const char secret_txt[] = "It's a secret to everybody";

static tp_secret one_secret(void)
{
    return (tp_secret){.secret = TP_SLICE_LIT(secret_txt)};
}

static void ck_slice(tp_slice got, const char *want, size_t want_n, const char *what, size_t row)
{
    ck_assert_msg(got.p && got.p[got.n] == '\0', "%s row %zu: result not NUL-terminated", what,
                  row);
    ck_assert_msg(got.n == want_n && memcmp(got.p, want, want_n) == 0,
                  "%s row %zu: got '%.*s' (%zu bytes), want '%.*s' (%zu bytes)", what, row,
                  TP_SLICE_FMT(got), got.n, (int)want_n, want, want_n);
}

/* ---- parsing ------------------------------------------------------------------------ */

typedef struct parse_case {
    const char *in;
    size_t in_n;
    size_t n;
    struct {
        const char *name, *value;
    } want[4];
} parse_case;

static const parse_case parse_cases[] = {
    {S("a=1; b=2"), 2, {{"a", "1"}, {"b", "2"}}},
    {S("a=\"1\""), 1, {{"a", "1"}}},
    {S("a=\"a\\\"b\""), 1, {{"a", "a\"b"}}},
    {S("x=\"\\073\\012\\377\""), 1, {{"x", ";\012\303\277"}}},
    {S("e="), 1, {{"e", ""}}},
    {S("=v"), 1, {{"", "v"}}},
    {S("bare"), 1, {{"", "bare"}}},
    {S(" ; ;"), 0, {}},
    {S("a=1; a=2; b=3; a=4"), 2, {{"a", "4"}, {"b", "3"}}},
    {S("k = \"  spaced  \" "), 1, {{"k", "  spaced  "}}},
    {S("q=\""), 1, {{"q", "\""}}},
    {S("q=\"\""), 1, {{"q", ""}}},
    {S("q=\"\\\""), 1, {{"q", "\\"}}},
    {S("q=\"\\400\\8\""), 1, {{"q", "4008"}}},
    {S("a=b=c"), 1, {{"a", "b=c"}}},
    {S("path=/; x/y=1"), 2, {{"path", "/"}, {"x/y", "1"}}},
    {S("n=\"\\\012\""), 1, {{"n", "\\\012"}}},
    {S("u=\303\251; \011 t=\0371\037"), 2, {{"u", "\303\251"}, {"t", "1"}}},
    {S("SID=31d4d96e407aad42; lang=en-US"), 2, {{"SID", "31d4d96e407aad42"}, {"lang", "en-US"}}},
    {S("c=\"abc"), 1, {{"c", "\"abc"}}},
    {S(";;a=1;;"), 1, {{"a", "1"}}},
    {S("a=\"\\\\\""), 1, {{"a", "\\"}}},
};

START_TEST(parse_table)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    for (size_t i = 0; i < N(parse_cases); i++) {
        const parse_case *c = &parse_cases[i];
        tp_args args = {0};
        ck_assert_int_eq(tp_cookie_parse(&a, tp_slice_make(c->in, c->in_n), &args), 0);
        ck_assert_msg(args.n == c->n, "row %zu: %zu cookies, want %zu", i, args.n, c->n);
        for (size_t j = 0; j < c->n; j++) {
            ck_slice(args.v[j].name, c->want[j].name, strlen(c->want[j].name), "name", i);
            ck_slice(args.v[j].value, c->want[j].value, strlen(c->want[j].value), "value", i);
        }
    }
    tp_arena_destroy(&a);
}
END_TEST

START_TEST(parse_appends_and_lookup)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    tp_args args = {0};
    tp_cookie_parse(&a, TP_SLICE_LIT("a=1; b=2"), &args);
    tp_cookie_parse(&a, TP_SLICE_LIT("b=3; c=\"x y\""), &args);
    ck_assert_uint_eq(args.n, 3);
    ck_slice(tp_args_get_last(&args, TP_SLICE_LIT("b")), S("3"), "b", 0);
    ck_slice(tp_args_get_last(&args, TP_SLICE_LIT("c")), S("x y"), "c", 0);
    tp_cookie_parse(&a, TP_SLICE_NULL, &args);
    ck_assert_uint_eq(args.n, 3);
    tp_arena_destroy(&a);
}
END_TEST

/* Python's SimpleCookie refuses these keys, so request.cookies drops them. */
START_TEST(name_legal)
{
    static const char *const ok[] = {"a", "SID", "x-y.z", "!#$%&'*+-.^_`|~:", "paths", "Max_Age"};
    static const char *const bad[] = {
        "",        "a b",     "x/y",     "a=b",         "a;b",      "a\"b",
        "path",    "Expires", "max-age", "HttpOnly",    "SameSite", "version",
        "comment", "secure",  "domain",  "caf\xc3\xa9", "a,b",      "(a)"};
    for (size_t i = 0; i < N(ok); i++)
        ck_assert_msg(tp_cookie_name_legal(tp_slice_cstr(ok[i])), "%s", ok[i]);
    for (size_t i = 0; i < N(bad); i++)
        ck_assert_msg(!tp_cookie_name_legal(tp_slice_cstr(bad[i])), "%s", bad[i]);
}
END_TEST

/* ---- Set-Cookie --------------------------------------------------------------------- */

typedef struct format_case {
    const char *name;
    const char *value;
    size_t value_n;
    tp_cookie_attrs attrs;
    const char *want;
} format_case;

#define DEF .path = "/", .max_age = -1

static const format_case format_cases[] = {
    {"a", S("1"), {DEF}, "a=1; Path=/"},
    {"a", S("1"), {.max_age = -1}, "a=1"},
    {"a", S(""), {DEF}, "a=\"\"; Path=/"},
    {"n", S("va_lue"), {DEF}, "n=va_lue; Path=/"},
    {"c", S("a;b,c\"d\\e"), {DEF}, "c=\"a\\073b\\054c\\\"d\\\\e\"; Path=/"},
    {"c", S("\x7f(x)/<=>?@[]{}"), {DEF}, "c=\"\\177(x)/<=>?@[]{}\"; Path=/"},
    {"u",
     S("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
     {DEF},
     "u=\"\\351\342\202\254\360\237\230\200\"; Path=/"},
    {"d", S("v"), {DEF, .domain = "example.com"}, "d=v; Domain=example.com; Path=/"},
    {"d", S("v"), {DEF, .expires = T0}, "d=v; expires=Sun, 13 Mar 2011 07:06:40 GMT; Path=/"},
    {"d", S("v"), {.path = "/", .max_age = 3600}, "d=v; Max-Age=3600; Path=/"},
    {"d", S("v"), {.path = "/", .max_age = -5}, "d=v; Max-Age=-5; Path=/"},
    /* 6.5: `if max_age:` leaves out max_age=0 (6.2 wrote Max-Age=0). */
    {"d", S("v"), {.path = "/", .max_age = 0}, "d=v; Path=/"},
    {"d", S("v"), {DEF, .httponly = true}, "d=v; HttpOnly; Path=/"},
    {"d", S("v"), {DEF, .secure = true}, "d=v; Path=/; Secure"},
    {"d", S("v"), {DEF, .samesite = "Lax"}, "d=v; Path=/; SameSite=Lax"},
    {"d", S("v"), {.path = "/sub", .max_age = -1}, "d=v; Path=/sub"},
    {"d", S("v"), {.path = "", .domain = "", .samesite = "", .max_age = -1}, "d=v"},
    {"all",
     S("xy"),
     {.domain = "a.example",
      .expires = T0,
      .path = "/p",
      .max_age = 10,
      .httponly = true,
      .secure = true,
      .samesite = "Strict"},
     "all=xy; Domain=a.example; expires=Sun, 13 Mar 2011 07:06:40 GMT; HttpOnly; Max-Age=10; "
     "Path=/p; SameSite=Strict; Secure"},
    /* clear_cookie: empty value, expires a year back. */
    {"e",
     S(""),
     {DEF, .expires = T0 - 365 * DAY},
     "e=\"\"; expires=Sat, 13 Mar 2010 07:06:40 GMT; Path=/"},
    {"m",
     S("v"),
     {.domain = "x.org", .secure = true, .samesite = "None", .max_age = -1},
     "m=v; Domain=x.org; SameSite=None; Secure"},
};

START_TEST(format_table)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    for (size_t i = 0; i < N(format_cases); i++) {
        const format_case *c = &format_cases[i];
        tp_slice out = TP_SLICE_NULL;
        int rc = tp_cookie_format(&a, tp_slice_cstr(c->name), tp_slice_make(c->value, c->value_n),
                                  &c->attrs, &out);
        ck_assert_msg(rc == 0, "row %zu: rc %d", i, rc);
        ck_slice(out, c->want, strlen(c->want), "format", i);
    }
    tp_slice out;
    ck_assert_int_eq(tp_cookie_format(&a, TP_SLICE_LIT("a"), TP_SLICE_LIT("1"), NULL, &out), 0);
    ck_slice(out, S("a=1; Path=/"), "default attrs", 0);
    tp_cookie_attrs d = tp_cookie_attrs_default();
    ck_assert_str_eq(d.path, "/");
    ck_assert(d.max_age == -1 && !d.expires && !d.domain && !d.samesite && !d.secure &&
              !d.httponly);
    tp_arena_destroy(&a);
}
END_TEST

typedef struct bad_case {
    const char *name;
    size_t name_n;
    const char *value;
    size_t value_n;
    const char *domain, *path, *samesite;
} bad_case;

static const bad_case bad_cases[] = {
    /* set_cookie: [\x00-\x20] in name or value is a ValueError. */
    {S("a"), S("x y"), NULL, "/", NULL},
    {S("a"), S("x\r\nSet-Cookie: evil=1"), NULL, "/", NULL},
    {S("a"), S("x\x00y"), NULL, "/", NULL},
    {S("a"), S("x\ty"), NULL, "/", NULL},
    {S("a b"), S("1"), NULL, "/", NULL},
    {S("a\nb"), S("1"), NULL, "/", NULL},
    /* Keys SimpleCookie refuses (CookieError). */
    {S(""), S("1"), NULL, "/", NULL},
    {S("a;b"), S("1"), NULL, "/", NULL},
    {S("a=b"), S("1"), NULL, "/", NULL},
    {S("x/y"), S("1"), NULL, "/", NULL},
    {S("Path"), S("1"), NULL, "/", NULL},
    {S("expires"), S("1"), NULL, "/", NULL},
    {S("a\x7f"), S("1"), NULL, "/", NULL},
    /* 6.5.5: attribute injection through domain, path or samesite. */
    {S("a"), S("1"), "example.com; HttpOnly", "/", NULL},
    {S("a"), S("1"), "ex ample.com", "/", NULL},
    {S("a"), S("1"), NULL, "/; Domain=evil.com", NULL},
    {S("a"), S("1"), NULL, "/a\r\nX-Evil: 1", NULL},
    {S("a"), S("1"), NULL, "/\x7f", NULL},
    {S("a"), S("1"), NULL, "/", "Lax; Secure"},
    {S("a"), S("1"), NULL, "/", "Lax\x01"},
    /* native_str: a value that is not UTF-8 cannot be a str. */
    {S("a"), S("\xff\xfe"), NULL, "/", NULL},
    {S("a"), S("\xc3"), NULL, "/", NULL},
    {S("a"), S("\xed\xa0\x80"), NULL, "/", NULL},
};

START_TEST(format_refused)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    for (size_t i = 0; i < N(bad_cases); i++) {
        const bad_case *c = &bad_cases[i];
        tp_cookie_attrs at = tp_cookie_attrs_default();
        at.domain = c->domain, at.path = c->path, at.samesite = c->samesite;
        tp_slice out = TP_SLICE_LIT("untouched");
        int rc = tp_cookie_format(&a, tp_slice_make(c->name, c->name_n),
                                  tp_slice_make(c->value, c->value_n), &at, &out);
        ck_assert_msg(rc == -EINVAL, "row %zu: rc %d ('%.*s')", i, rc, TP_SLICE_FMT(out));
    }
    tp_arena_destroy(&a);
}
END_TEST

/* Quoted and octal-escaped values read back to the same bytes. */
START_TEST(format_parse_roundtrip)
{
    static const char *const values[] = {"plain", "a;b,c\"d\\e", "caf\xc3\xa9 \xe2\x82\xac",
                                         "=\x7f{}", "\"q\""};
    tp_arena a;
    tp_arena_init(&a, 0);
    for (size_t i = 0; i < N(values); i++) {
        tp_slice set, v = tp_slice_cstr(values[i]);
        tp_cookie_attrs at = {.max_age = -1};
        if (strchr(values[i], ' '))
            continue;
        ck_assert_int_eq(tp_cookie_format(&a, TP_SLICE_LIT("k"), v, &at, &set), 0);
        tp_args args = {0};
        tp_cookie_parse(&a, set, &args);
        ck_assert_uint_eq(args.n, 1);
        ck_slice(args.v[0].value, values[i], strlen(values[i]), "roundtrip", i);
    }
    tp_arena_destroy(&a);
}
END_TEST

/* ---- signed values ------------------------------------------------------------------ */

typedef struct signed_case {
    const char *name;
    const char *value;
    size_t value_n;
    int version;
    const char *want;
} signed_case;

static const signed_case signed_cases[] = {
    /* web_test SignedValueTest.test_known_values */
    {"key", S("value"), 1, "dmFsdWU=|1300000000|31c934969f53e48164c50768b40cbd7e2daaaa4f"},
    {"key", S("value"), 2,
     "2|1:0|10:1300000000|3:key|8:dmFsdWU=|"
     "3d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e152"},
    {"key", S("value"), 0,
     "2|1:0|10:1300000000|3:key|8:dmFsdWU=|"
     "3d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e152"},
    {"sess", S(""), 1, "|1300000000|9db543092fecd0ef41ebc4d999d10b8102dbc9fa"},
    {"sess", S(""), 2,
     "2|1:0|10:1300000000|4:sess|0:|"
     "eb0a9f112abe183717fe807e7fcd93a4a4612bd294274e81c3a292889d78cef6"},
    {"sess", S("\000\377binary|data"), 1,
     "AP9iaW5hcnl8ZGF0YQ==|1300000000|09859e3ab84bcd9d1e6f4abea94137ce0ba17de1"},
    {"sess", S("\000\377binary|data"), 2,
     "2|1:0|10:1300000000|4:sess|20:AP9iaW5hcnl8ZGF0YQ==|"
     "08c209899930f686c24adc567fd08061479995f814536959815d12c3b7abfdc5"},
    {"sess", S("caf\303\251"), 1, "Y2Fmw6k=|1300000000|edcdd99d47f20f81a247af5568521949cc6d5dee"},
    {"sess", S("caf\303\251"), 2,
     "2|1:0|10:1300000000|4:sess|8:Y2Fmw6k=|"
     "04bfd505896c960e160fd14e069a7c54559548e6e3d0e1c47a36c8b20b57aee5"},
    {"sess",
     S("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
       "aaaaaaaaa"),
     1,
     "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhY"
     "WFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYQ==|1300000000|"
     "6b2ca65d8a0a9aca61a4e7d4f9c50a5636a4cbfe"},
    {"sess",
     S("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
       "aaaaaaaaa"),
     2,
     "2|1:0|10:1300000000|4:sess|136:"
     "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhY"
     "WFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYQ==|"
     "063361b6f2a23f38b5acba11a2f78c26f1cfe0618cbc275e26d1a8ab7bea9b3e"},
    /* an empty secret is an empty HMAC key */
};

START_TEST(signed_create_known)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    tp_secret s = one_secret();
    for (size_t i = 0; i < N(signed_cases); i++) {
        const signed_case *c = &signed_cases[i];
        tp_slice out = TP_SLICE_NULL, back = TP_SLICE_NULL;
        tp_slice v = tp_slice_make(c->value, c->value_n), name = tp_slice_cstr(c->name);
        ck_assert_int_eq(tp_signed_value_create(&a, &s, name, v, c->version, T0, &out), 0);
        ck_slice(out, c->want, strlen(c->want), "create", i);
        /* and Tornado's literal decodes here to the value */
        ck_assert_int_eq(
            tp_signed_value_decode(&a, &s, name, tp_slice_cstr(c->want), 31, T0, 0, &back), 0);
        ck_slice(back, c->value, c->value_n, "decode", i);
    }
    tp_secret empty = {.secret = TP_SLICE_LIT("")};
    tp_slice out;
    ck_assert_int_eq(
        tp_signed_value_create(&a, &empty, TP_SLICE_LIT("n"), TP_SLICE_LIT("v"), 2, T0, &out), 0);
    ck_slice(out,
             S("2|1:0|10:1300000000|1:n|4:dg==|"
               "55849556b2ac54951ff86cd6acc0523f7348b518911aa0e0cfa16b2ec4ae84fa"),
             "empty secret v2", 0);
    ck_assert_int_eq(
        tp_signed_value_create(&a, &empty, TP_SLICE_LIT("n"), TP_SLICE_LIT("v"), 1, T0, &out), 0);
    ck_slice(out, S("dg==|1300000000|055d1cb2761fc02393eaf282a302cce98498d448"), "empty secret v1",
             0);
    ck_assert_int_eq(
        tp_signed_value_create(&a, &s, TP_SLICE_LIT("n"), TP_SLICE_LIT("v"), 3, T0, &out), -EINVAL);
    tp_arena_destroy(&a);
}
END_TEST

static const char v1_known[] = "dmFsdWU=|1300000000|31c934969f53e48164c50768b40cbd7e2daaaa4f";
static const char v2_known[] = "2|1:0|10:1300000000|3:key|8:dmFsdWU=|"
                               "3d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e152";

static int decode_at(const char *sv, time_t now, double max_age_days, int min_version)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    tp_secret s = one_secret();
    tp_slice out = TP_SLICE_NULL;
    int rc = tp_signed_value_decode(&a, &s, TP_SLICE_LIT("key"), tp_slice_cstr(sv), max_age_days,
                                    now, min_version, &out);
    if (rc == 0)
        ck_assert_msg(tp_slice_eq(out, TP_SLICE_LIT("value")), "got '%.*s'", TP_SLICE_FMT(out));
    tp_arena_destroy(&a);
    return rc;
}

/* Expiry and clock rules, each checked against decode_signed_value with the same clock. */
START_TEST(signed_clock_rules)
{
    ck_assert_int_eq(decode_at(v1_known, T0 + 31 * DAY, 31, 0), 0);
    ck_assert_int_eq(decode_at(v1_known, T0 + 32 * DAY, 31, 0), -EINVAL);
    ck_assert_int_eq(decode_at(v2_known, T0 + 31 * DAY, 31, 0), 0);
    ck_assert_int_eq(decode_at(v2_known, T0 + 32 * DAY, 31, 0), -EINVAL);
    ck_assert_int_eq(decode_at(v2_known, T0 + 43000, 0.5, 0), 0);
    ck_assert_int_eq(decode_at(v2_known, T0 + 43201, 0.5, 0), -EINVAL);
    /* v1: at most 31 days in the future; v2 has no such check */
    ck_assert_int_eq(decode_at(v1_known, T0 - 31 * DAY, 31, 0), 0);
    ck_assert_int_eq(decode_at(v1_known, T0 - 31 * DAY - 1, 31, 0), -EINVAL);
    ck_assert_int_eq(decode_at(v2_known, T0 - 400 * DAY, 31, 0), 0);
}
END_TEST

START_TEST(signed_min_version)
{
    ck_assert_int_eq(decode_at(v1_known, T0, 31, 2), -EINVAL);
    ck_assert_int_eq(decode_at(v2_known, T0, 31, 2), 0);
    ck_assert_int_eq(decode_at(v1_known, T0, 31, 1), 0);
    ck_assert_int_eq(decode_at(v2_known, T0, 31, 1), 0);
    ck_assert_int_eq(decode_at(v2_known, T0, 31, 3), -EINVAL);
}
END_TEST

START_TEST(signed_refused)
{
    static const char *const bad[] = {
        "",
        /* forged signatures */
        "dmFsdWU=|1300000000|31c934969f53e48164c50768b40cbd7e2daaaa4e",
        "dmFsdWU=|1300000000|31C934969F53E48164C50768B40CBD7E2DAAAA4F",
        "dmFsdWU=|1300000000|31c934969f53e48164c50768b40cbd7e2daaaa4",
        "2|1:0|10:1300000000|3:key|8:dmFsdWU=|"
        "3d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e153",
        "2|1:0|10:1300000000|3:key|8:dmFsdWV=|"
        "3d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e152",
        "2|1:0|10:1300000001|3:key|8:dmFsdWU=|"
        "3d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e152",
        "2|1:0|10:1300000000|3:key|8:dmFsdWU=|",
        /* payload digits moved into the timestamp (Tornado: expired) */
        "dmFsdWU=1|300000000|31c934969f53e48164c50768b40cbd7e2daaaa4f",
        /* leading zero on a v1 timestamp, correctly signed (Tornado: "Tampered cookie") */
        "dmFsdWU=|01300000000|8e75c215f5245a83496d7a50a8a4e0c70697253e",
        /* malformed framing */
        "dmFsdWU=|1300000000",
        "dmFsdWU=|1300000000|31c934969f53e48164c50768b40cbd7e2daaaa4f|",
        "2|",
        "2|1:0|10:1300000000|3:key|9:dmFsdWU=|3d4e",
        "2|1:0|10:1300000000|3:key|8:dmFsdWU=",
        "2|x:0|10:1300000000|3:key|8:dmFsdWU=|00",
        "2|1:0|99999999999999999999:1|3:key|8:dmFsdWU=|00",
        "2|1:0|10:1300000000|3:keyx8:dmFsdWU=|00",
        "3|1:0|10:1300000000|3:key|8:dmFsdWU=|"
        "3d4e60b996ff9c5d5788e333a0cba6f238a22c6c0f94788870e1a9ecd482e152",
        "|||",
    };
    for (size_t i = 0; i < N(bad); i++)
        ck_assert_msg(decode_at(bad[i], T0, 31, 0) == -EINVAL, "row %zu", i);
    /* another name, another secret */
    tp_arena a;
    tp_arena_init(&a, 0);
    tp_secret s = one_secret(), other = {.secret = TP_SLICE_LIT("another secret")};
    tp_slice out;
    ck_assert_int_eq(tp_signed_value_decode(&a, &s, TP_SLICE_LIT("kez"), TP_SLICE_LIT(v2_known), 31,
                                            T0, 0, &out),
                     -EINVAL);
    ck_assert_int_eq(tp_signed_value_decode(&a, &s, TP_SLICE_LIT("kez"), TP_SLICE_LIT(v1_known), 31,
                                            T0, 0, &out),
                     -EINVAL);
    ck_assert_int_eq(tp_signed_value_decode(&a, &other, TP_SLICE_LIT("key"), TP_SLICE_LIT(v2_known),
                                            31, T0, 0, &out),
                     -EINVAL);
    ck_assert_int_eq(tp_signed_value_decode(&a, &other, TP_SLICE_LIT("key"), TP_SLICE_LIT(v1_known),
                                            31, T0, 0, &out),
                     -EINVAL);
    tp_arena_destroy(&a);
}
END_TEST

/* base64.b64decode's lenient rules, on v2 values signed with Tornado's
 * _create_signature_v2 over non-canonical base64 (expected from decode_signed_value). */
typedef struct b64_case {
    const char *signed_value;
    bool ok;
    const char *want;
} b64_case;

static const b64_case b64_cases[] = {
    {"2|1:0|10:1300000000|3:key|7:dmFsdWU|"
     "e3253d8fe2bf1668442f364d9906445853d13aa6717b388dccb134dd210672e9",
     false, NULL},
    {"2|1:0|10:1300000000|3:key|9:dmFsdWU==|"
     "3b2574b02b59cddcba4977e368d06a2dc87c356ee0fb91bec694f3afcb5010c1",
     true, "value"},
    {"2|1:0|10:1300000000|3:key|10:dm "
     "Fs*dWU=|023428908e7a0a6ac70d74b340386ca05e679e9dfc5693168eaa49b854e0d70f",
     true, "value"},
    {"2|1:0|10:1300000000|3:key|12:dmFsdWU=dmFs|"
     "c23a918f25c8482e8f439c278b12bb0c32172f8f2525bf441f5db901721c534a",
     true, "value"},
    {"2|1:0|10:1300000000|3:key|8:dmE=dWU=|"
     "78126fec0365efbd9c61839fcf641342f45d9a8720e2b18d9af1102b3a6939cf",
     true, "va"},
    {"2|1:0|10:1300000000|3:key|5:dmFsd|"
     "f90771521d6e472f636ffea9b393731ec7a90716665f97b219fa76ab14be724c",
     false, NULL},
    {"2|1:0|10:1300000000|3:key|5:d=mFs|"
     "4c793736fd1b29117d33cfd1d09966c2f9885a3d78f33e1edf33fb89ba02df75",
     true, "val"},
    {"2|1:0|10:1300000000|3:key|10:dmFs==dWU=|"
     "757339ad69cab9cd93c3a75db4454d8ff727ce444e90d19be732936302f281d1",
     true, "value"},
    {"2|1:0|10:1300000000|3:key|0:|"
     "6e95660506257587586edb4dbac28ab1c44d8163a37af507ec5c99232c6d4a87",
     true, ""},
    {"2|1:0|10:1300000000|3:key|4:====|"
     "c6930214ec1a9cd4ef8d9e07f5d9e9f4b4c366fe069221352681cb4f106979ca",
     true, ""},
    {"2|1:0|10:1300000000|3:key|6:Zg=\012=x|"
     "d684c81e258b4785e9cef6ce0ac863389389fd61415fbead7b94034d10d58501",
     false, NULL},
    {"2|1:0|10:1300000000|3:key|9:Zm9v!YmFy|"
     "2ddf9c9c8d2048eb799de797221e5f15ee30f684632f4083801bee4c129a1a64",
     true, "foobar"},
};

START_TEST(signed_base64_rules)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    tp_secret s = one_secret();
    for (size_t i = 0; i < N(b64_cases); i++) {
        tp_slice out = TP_SLICE_NULL;
        int rc = tp_signed_value_decode(&a, &s, TP_SLICE_LIT("key"),
                                        tp_slice_cstr(b64_cases[i].signed_value), 31, T0, 0, &out);
        ck_assert_msg(rc == (b64_cases[i].ok ? 0 : -EINVAL), "row %zu: rc %d", i, rc);
        if (b64_cases[i].ok)
            ck_slice(out, b64_cases[i].want, strlen(b64_cases[i].want), "b64", i);
    }
    tp_arena_destroy(&a);
}
END_TEST

static const tp_secret_key keys[] = {
    {0, TP_SLICE_LIT("old-secret")},
    {1, TP_SLICE_LIT("current-secret")},
    {7, TP_SLICE_LIT("")},
};

/* create_signed_value({0: 'old-secret', 1: 'current-secret', 7: ''}, 'k', 'hello',
 * key_version=...) */
static const char *const kv_known[] = {
    "2|1:0|10:1300000000|1:k|8:aGVsbG8=|"
    "56a0b05ed90109e0a462d1a10522674c6de1c8b594c801deba31ddb875cdf3c3",
    "2|1:1|10:1300000000|1:k|8:aGVsbG8=|"
    "c4446d5f5299ca69f2ad4b3d3dd1d4536f451c190a918f9afd6abed144a7ff9f",
    "2|1:7|10:1300000000|1:k|8:aGVsbG8=|"
    "b61d5fc506496c031439c771f94e5b16592ccb050060b34c836789c1cbc4c74e",
};

START_TEST(signed_key_versions)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    tp_secret s = {.keys = keys, .nkeys = N(keys), .key_version = 1};
    tp_slice out, back;
    for (size_t i = 0; i < N(keys); i++) {
        s.key_version = keys[i].version;
        ck_assert_int_eq(
            tp_signed_value_create(&a, &s, TP_SLICE_LIT("k"), TP_SLICE_LIT("hello"), 2, T0, &out),
            0);
        ck_slice(out, kv_known[i], strlen(kv_known[i]), "key version create", i);
        ck_assert_int_eq(tp_signed_value_key_version(out), keys[i].version);
    }
    /* current version 1: values signed with the old key 0 still verify */
    s.key_version = 1;
    for (size_t i = 0; i < N(kv_known); i++) {
        ck_assert_int_eq(tp_signed_value_decode(&a, &s, TP_SLICE_LIT("k"),
                                                tp_slice_cstr(kv_known[i]), 31, T0, 2, &back),
                         0);
        ck_slice(back, S("hello"), "key version decode", i);
    }
    /* a key version missing from the table is refused, to sign or to verify */
    tp_secret fewer = {.keys = keys + 1, .nkeys = 1, .key_version = 1};
    ck_assert_int_eq(tp_signed_value_decode(&a, &fewer, TP_SLICE_LIT("k"),
                                            tp_slice_cstr(kv_known[0]), 31, T0, 0, &back),
                     -EINVAL);
    s.key_version = 5;
    ck_assert_int_eq(
        tp_signed_value_create(&a, &s, TP_SLICE_LIT("k"), TP_SLICE_LIT("hello"), 2, T0, &out),
        -EINVAL);
    /* v1 cannot use a key table (Tornado asserts) */
    s.key_version = 1;
    ck_assert_int_eq(
        tp_signed_value_create(&a, &s, TP_SLICE_LIT("k"), TP_SLICE_LIT("hello"), 1, T0, &out),
        -EINVAL);
    ck_assert_int_eq(tp_signed_value_decode(&a, &s, TP_SLICE_LIT("key"), TP_SLICE_LIT(v1_known), 31,
                                            T0, 0, &back),
                     -EINVAL);
    /* the key version swapped in the framing breaks the signature */
    ck_assert_int_eq(tp_signed_value_decode(&a, &s, TP_SLICE_LIT("k"),
                                            TP_SLICE_LIT("2|1:1|10:1300000000|1:k|8:aGVsbG8=|"
                                                         "56a0b05ed90109e0a462d1a10522674c6de1c8b5"
                                                         "94c801deba31ddb875cdf3c3"),
                                            31, T0, 0, &back),
                     -EINVAL);
    /* get_signature_key_version: v1 and malformed values have none */
    ck_assert_int_eq(tp_signed_value_key_version(TP_SLICE_LIT(v2_known)), 0);
    ck_assert_int_eq(tp_signed_value_key_version(TP_SLICE_LIT(v1_known)), -EINVAL);
    ck_assert_int_eq(tp_signed_value_key_version(TP_SLICE_LIT("2|1:0|10:13")), -EINVAL);
    tp_arena_destroy(&a);
}
END_TEST

/* Values far larger than the HMAC's stack buffer. */
START_TEST(signed_large_roundtrip)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    size_t n = 5000;
    char *big = tp_arena_alloc(&a, n);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)(i * 7);
    tp_secret s = one_secret();
    for (int v = 1; v <= 2; v++) {
        tp_slice sv, back;
        ck_assert_int_eq(
            tp_signed_value_create(&a, &s, TP_SLICE_LIT("big"), tp_slice_make(big, n), v, T0, &sv),
            0);
        ck_assert_int_eq(
            tp_signed_value_decode(&a, &s, TP_SLICE_LIT("big"), sv, 31, T0 + 10, 0, &back), 0);
        ck_assert(back.n == n && memcmp(back.p, big, n) == 0);
    }
    tp_arena_destroy(&a);
}
END_TEST

Suite *cookie_suite(void)
{
    Suite *s = suite_create("cookie");
    TCase *tc = tcase_create("cookie");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, parse_table);
    tcase_add_test(tc, parse_appends_and_lookup);
    tcase_add_test(tc, name_legal);
    tcase_add_test(tc, format_table);
    tcase_add_test(tc, format_refused);
    tcase_add_test(tc, format_parse_roundtrip);
    tcase_add_test(tc, signed_create_known);
    tcase_add_test(tc, signed_clock_rules);
    tcase_add_test(tc, signed_min_version);
    tcase_add_test(tc, signed_refused);
    tcase_add_test(tc, signed_base64_rules);
    tcase_add_test(tc, signed_key_versions);
    tcase_add_test(tc, signed_large_roundtrip);
    suite_add_tcase(s, tc);
    return s;
}
