/* tornado.escape (core/escape.h). Expected outputs come from Debian's Tornado 6.2 with the
 * 6.5 behaviour where they differ (xhtml_escape writes ' as &#x27;, xhtml_unescape is
 * html.unescape): generated once with python3 and pasted here as literals. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/escape.h"
#include "core/utf8.h"
#include "tests/unit/suites.h"

/* A literal and its length (literals may hold NULs). */
#define S(lit) lit, sizeof(lit) - 1

typedef struct pair {
    const char *in;
    size_t in_n;
    const char *want;
    size_t want_n;
} pair;

#define N(v) (sizeof(v) / sizeof((v)[0]))

static void ck_slice(tp_slice got, const char *want, size_t want_n, const char *what, size_t row)
{
    ck_assert_msg(got.p && got.p[got.n] == '\0', "%s row %zu: result not NUL-terminated", what,
                  row);
    ck_assert_msg(got.n == want_n && memcmp(got.p, want, want_n) == 0,
                  "%s row %zu: got '%.*s' (%zu bytes), want '%s' (%zu bytes)", what, row,
                  TP_SLICE_FMT(got), got.n, want, want_n);
}

typedef tp_slice (*str_fn)(tp_arena *a, tp_slice s);

static void check_pairs(str_fn fn, const pair *v, size_t n, const char *what)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    for (size_t i = 0; i < n; i++)
        ck_slice(fn(&a, tp_slice_make(v[i].in, v[i].in_n)), v[i].want, v[i].want_n, what, i);
    tp_arena_destroy(&a);
}

/* ---- xhtml -------------------------------------------------------------------------------- */

static const pair xhtml_escape_cases[] = {
    {S("<foo>"), S("&lt;foo&gt;")},
    {S("<>&\"'"), S("&lt;&gt;&amp;&quot;&#x27;")},
    {S("&amp;"), S("&amp;amp;")},
    {S("<\xc3\xa9>"), S("&lt;\xc3\xa9&gt;")},
    {S(""), S("")},
    {S("plain text"), S("plain text")},
    {S("<script>alert('x&y')</script>"),
     S("&lt;script&gt;alert(&#x27;x&amp;y&#x27;)&lt;/script&gt;")},
    {S("\" onmouseover=\"alert(1)"), S("&quot; onmouseover=&quot;alert(1)")},
    {S("a\x00<b\x00>"), S("a\x00&lt;b\x00&gt;")},
    {S("\xf0\x9f\x98\x80 & \xe2\x80\xa8"), S("\xf0\x9f\x98\x80 &amp; \xe2\x80\xa8")},
};

static const pair xhtml_unescape_cases[] = {
    {S("&lt;foo&gt;"), S("<foo>")},
    {S("&lt;&gt;&amp;&quot;&#39;"), S("<>&\"'")},
    {S("&amp;amp;"), S("&amp;")},
    {S("&lt;\xc3\xa9&gt;"), S("<\xc3\xa9>")},
    {S("foo&#32;bar"), S("foo bar")},
    {S("foo&#x20;bar"), S("foo bar")},
    {S("foo&#X20;bar"), S("foo bar")},
    {S("foo&#xabc;bar"), S("foo\xe0\xaa\xbc"
                           "bar")},
    {S("foo&#xyz;bar"), S("foo&#xyz;bar")},
    {S("foo&#;bar"), S("foo&#;bar")},
    {S("foo&#x;bar"), S("foo&#x;bar")},
    {S("&#x27;&apos;&#39"), S("'''")},
    {S("&amp &lt3 &gt;"), S("& <3 >")},
    {S("&ampx &amp;x"), S("&x &x")},
    {S("&notit; &notin; &not"), S("\xc2\xacit; \xe2\x88\x89 \xc2\xac")},
    {S("&nbsp;&copy;&reg;&COPY&eacute;&Eacute;&yuml;&szlig"),
     S("\xc2\xa0\xc2\xa9\xc2\xae\xc2\xa9\xc3\xa9\xc3\x89\xc3\xbf\xc3\x9f")},
    {S("&nGt; &NotEqualTilde;"), S("\xe2\x89\xab\xe2\x83\x92 \xe2\x89\x82\xcc\xb8")},
    {S("&CounterClockwiseContourIntegral;"), S("\xe2\x88\xb3")},
    {S("&unknown; & ;&;&&amp;"), S("&unknown; & ;&;&&")},
    {S("&#0;|&#x80;|&#128|&#x81;|&#x9F;"),
     S("\xef\xbf\xbd|\xe2\x82\xac|\xe2\x82\xac|\xc2\x81|\xc5\xb8")},
    {S("&#xD800;|&#xDFFF;|&#x110000;|&#99999999999999999999;|&#x10FFFF;"),
     S("\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd|\xef\xbf\xbd|")},
    {S("&#1;|&#x0B;|&#x7f;|&#xFFFE;|&#xFDD0;|&#13;"), S("|||||\x0d")},
    {S("&#65&#x42;C&#x1F600;"), S("ABC\xf0\x9f\x98\x80")},
    {S("a\x00&amp;\x00"
       "b"),
     S("a\x00&\x00"
       "b")},
    {S("&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;"),
     S("&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;")},
    {S("&Aringxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
     S("\xc3\x85xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")},
    {S("no entities at all"), S("no entities at all")},
    {S("&AMP;&AMP&amp"), S("&&&")},
    {S("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"), S("<script>alert('x')</script>")},
};

/* Every 97th name of the HTML5 table, and a few more, followed by "x]" (so the legacy names
 * also show their ';'-less reading). */
static const pair xhtml_unescape_names[] = {
    {S("[&AEligx]"), S("[\xc3\x86x]")},
    {S("[&DotDot;x]"), S("[\xe2\x83\x9cx]")},
    {S("[&HilbertSpace;x]"), S("[\xe2\x84\x8bx]")},
    {S("[&Lmidot;x]"), S("[\xc4\xbfx]")},
    {S("[&Oacute;x]"), S("[\xc3\x93x]")},
    {S("[&SHcy;x]"), S("[\xd0\xa8x]")},
    {S("[&Uring;x]"), S("[\xc5\xaex]")},
    {S("[&angst;x]"), S("[\xc3\x85x]")},
    {S("[&boxVl;x]"), S("[\xe2\x95\xa2x]")},
    {S("[&complexes;x]"), S("[\xe2\x84\x82x]")},
    {S("[&drcorn;x]"), S("[\xe2\x8c\x9fx]")},
    {S("[&forkv;x]"), S("[\xe2\xab\x99x]")},
    {S("[&hfr;x]"), S("[\xf0\x9d\x94\xa5x]")},
    {S("[&lagran;x]"), S("[\xe2\x84\x92x]")},
    {S("[&longmapsto;x]"), S("[\xe2\x9f\xbcx]")},
    {S("[&nVDash;x]"), S("[\xe2\x8a\xafx]")},
    {S("[&nrarrw;x]"), S("[\xe2\x86\x9d\xcc\xb8x]")},
    {S("[&operp;x]"), S("[\xe2\xa6\xb9x]")},
    {S("[&qopf;x]"), S("[\xf0\x9d\x95\xa2x]")},
    {S("[&rppolint;x]"), S("[\xe2\xa8\x92x]")},
    {S("[&sqsupseteq;x]"), S("[\xe2\x8a\x92x]")},
    {S("[&thorn;x]"), S("[\xc3\xbex]")},
    {S("[&varnothing;x]"), S("[\xe2\x88\x85x]")},
    {S("[&Aacutex]"), S("[\xc3\x81x]")},
    {S("[&quotx]"), S("[\"x]")},
    {S("[&frac12x]"), S("[\xc2\xbdx]")},
    {S("[&ltx]"), S("[<x]")},
    {S("[&GTx]"), S("[>x]")},
};

START_TEST(xhtml_escape_table)
{
    check_pairs(tp_xhtml_escape, xhtml_escape_cases, N(xhtml_escape_cases), "xhtml_escape");
}
END_TEST

/* Byte-at-a-time xhtml_escape, the oracle for the block-wise one. */
static size_t escape_ref(char *w, const char *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *e = p[i] == '&'    ? "&amp;"
                        : p[i] == '<'  ? "&lt;"
                        : p[i] == '>'  ? "&gt;"
                        : p[i] == '"'  ? "&quot;"
                        : p[i] == '\'' ? "&#x27;"
                                       : NULL;
        if (e) {
            memcpy(w + k, e, strlen(e));
            k += strlen(e);
        } else {
            w[k++] = p[i];
        }
    }
    return k;
}

/* Every length 0-80 with specials at every offset, alone and in runs, through both entry
 * points (arena and buffer, the buffer empty or holding bytes already): the 16-byte blocks,
 * the zero-padded tail and the boundaries between them. */
START_TEST(xhtml_escape_blocks)
{
    static const char specials[] = "&<>\"'";
    char in[80], want[80 * 6];
    tp_arena a;
    tp_arena_init(&a, 0);
    for (size_t n = 0; n <= sizeof in; n++) {
        for (size_t at = 0; at <= n; at++) {
            for (size_t i = 0; i < n; i++) /* letters, NULs and bytes above 0x7f */
                in[i] = (char)(i % 7 == 3 ? 0 : i % 5 == 1 ? 0xe9 : 'a' + (int)((i * 7 + n) % 26));
            for (size_t i = at; i < n && i < at + (n % 4) + 1; i++)
                in[i] = specials[(i + n) % 5];
            if (n % 3 == 0) /* specials from at to the last byte, which stays plain */
                for (size_t i = at; i + 1 < n; i++)
                    in[i] = specials[i % 5];
            size_t want_n = escape_ref(want, in, n);
            ck_slice(tp_xhtml_escape(&a, tp_slice_make(in, n)), want, want_n, "blocks", n);
            tp_buf b = {0};
            if (at & 1)
                tp_buf_append(&b, "x", 1);
            tp_xhtml_escape_buf(&b, tp_slice_make(in, n));
            size_t skip = at & 1;
            ck_assert_msg(b.len == want_n + skip &&
                              (!want_n || !memcmp(tp_buf_data(&b) + skip, want, want_n)),
                          "buf n=%zu at=%zu: got %zu bytes, want %zu", n, at, b.len - skip, want_n);
            tp_buf_free(&b);
        }
    }
    tp_arena_destroy(&a);
}
END_TEST

START_TEST(xhtml_unescape_table)
{
    check_pairs(tp_xhtml_unescape, xhtml_unescape_cases, N(xhtml_unescape_cases), "xhtml_unescape");
    check_pairs(tp_xhtml_unescape, xhtml_unescape_names, N(xhtml_unescape_names),
                "xhtml_unescape names");
}
END_TEST

/* Invalid UTF-8 (Python refuses it before escaping): the bytes pass through untouched. */
START_TEST(xhtml_invalid_utf8)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    ck_slice(tp_xhtml_escape(&a, TP_SLICE_LIT("\xff<\xc0'")), S("\xff&lt;\xc0&#x27;"), "esc", 0);
    ck_slice(tp_xhtml_unescape(&a, TP_SLICE_LIT("\xff&amp;\xfe&#xe9;")), S("\xff&\xfe\xc3\xa9"),
             "unesc", 0);
    ck_slice(tp_xhtml_escape(&a, TP_SLICE_NULL), S(""), "esc null", 0);
    ck_slice(tp_xhtml_unescape(&a, TP_SLICE_NULL), S(""), "unesc null", 0);
    tp_arena_destroy(&a);
}
END_TEST

/* ---- URLs --------------------------------------------------------------------------------- */

static const pair url_escape_plus_cases[] = {
    {S("+ #%"), S("%2B+%23%25")},
    {S("a b/c?d=e&f"), S("a+b%2Fc%3Fd%3De%26f")},
    {S("\xc3\xa9"), S("%C3%A9")},
    {S("\xe9"), S("%E9")},
    {S(""), S("")},
    {S("AZaz09_.-~"), S("AZaz09_.-~")},
    {S("\x00\xff\x7f"), S("%00%FF%7F")},
    {S("<script>\"'"), S("%3Cscript%3E%22%27")},
    {S("\xf0\x9f\x98\x80/"), S("%F0%9F%98%80%2F")},
};

static const pair url_escape_quote_cases[] = {
    {S("+ #%"), S("%2B%20%23%25")},
    {S("a b/c?d=e&f"), S("a%20b/c%3Fd%3De%26f")},
    {S("\xc3\xa9"), S("%C3%A9")},
    {S("\xe9"), S("%E9")},
    {S(""), S("")},
    {S("AZaz09_.-~"), S("AZaz09_.-~")},
    {S("\x00\xff\x7f"), S("%00%FF%7F")},
    {S("<script>\"'"), S("%3Cscript%3E%22%27")},
    {S("\xf0\x9f\x98\x80/"), S("%F0%9F%98%80/")},
};

/* url_unescape(v, encoding=None): bytes, as tp_url_unescape_slice gives them. */
static const pair url_unescape_plus_cases[] = {
    {S("%2B+%23%25"), S("+ #%")}, {S("%2B%20%23%25"), S("+ #%")},
    {S("%C3%A9"), S("\xc3\xa9")}, {S("%e9"), S("\xe9")},
    {S("a+b%20c"), S("a b c")},   {S("%"), S("%")},
    {S("abc%"), S("abc%")},       {S("%4"), S("%4")},
    {S("%zz%4g"), S("%zz%4g")},   {S("100%"), S("100%")},
    {S("%00x"), S("\x00x")},      {S("%%41"), S("%A")},
    {S("%2f%2F"), S("//")},       {S(""), S("")},
};

static const pair url_unescape_noplus_cases[] = {
    {S("%2B+%23%25"), S("++#%")}, {S("%2B%20%23%25"), S("+ #%")},
    {S("%C3%A9"), S("\xc3\xa9")}, {S("%e9"), S("\xe9")},
    {S("a+b%20c"), S("a+b c")},   {S("%"), S("%")},
    {S("abc%"), S("abc%")},       {S("%4"), S("%4")},
    {S("%zz%4g"), S("%zz%4g")},   {S("100%"), S("100%")},
    {S("%00x"), S("\x00x")},      {S("%%41"), S("%A")},
    {S("%2f%2F"), S("//")},       {S(""), S("")},
};

static tp_slice url_escape_plus(tp_arena *a, tp_slice s)
{
    return tp_url_escape(a, s, true);
}

static tp_slice url_escape_quote(tp_arena *a, tp_slice s)
{
    return tp_url_escape(a, s, false);
}

static tp_slice url_unescape_plus(tp_arena *a, tp_slice s)
{
    return tp_url_unescape_slice(a, s, true);
}

static tp_slice url_unescape_noplus(tp_arena *a, tp_slice s)
{
    return tp_url_unescape_slice(a, s, false);
}

START_TEST(url_escape_table)
{
    check_pairs(url_escape_plus, url_escape_plus_cases, N(url_escape_plus_cases), "quote_plus");
    check_pairs(url_escape_quote, url_escape_quote_cases, N(url_escape_quote_cases), "quote");
}
END_TEST

START_TEST(url_unescape_table)
{
    check_pairs(url_unescape_plus, url_unescape_plus_cases, N(url_unescape_plus_cases),
                "unquote_plus");
    check_pairs(url_unescape_noplus, url_unescape_noplus_cases, N(url_unescape_noplus_cases),
                "unquote");
}
END_TEST

/* ---- squeeze ------------------------------------------------------------------------------ */

static const pair squeeze_cases[] = {
    {S("sequences     of    whitespace   chars"), S("sequences of whitespace chars")},
    {S("  a \t\n b\x00\x01"
       "c  "),
     S("a b c")},
    {S("\xc2\xa0 x \xe3\x80\x80"), S("x")},
    {S(""), S("")},
    {S(" \x1f "), S("")},
    {S("a\x7f"
       "b"),
     S("a\x7f"
       "b")},
    {S("\x1c\x1d\x1e\x1f"
       "a\x1c"),
     S("a")},
    {S("\xe2\x80\x83\xe2\x80\x83"
       "a\xc2\xa0"
       "b\xc2\xa0"),
     S("a\xc2\xa0"
       "b")},
    {S("x\xc2\x85"), S("x")},
    {S("one"), S("one")},
};

START_TEST(squeeze_table)
{
    check_pairs(tp_squeeze, squeeze_cases, N(squeeze_cases), "squeeze");
}
END_TEST

/* ---- JSON --------------------------------------------------------------------------------- */

/* JSON text read by tp_json_decode, and Tornado's json_encode of json.loads of the same. */
static const pair json_cases[] = {
    {S("{\"a\": [1, 2.5, {\"b\": null}], \"c\": \"\\u00e9</script>\", \"d\": true, \"e\": {}, "
       "\"f\": []}"),
     S("{\"a\": [1, 2.5, {\"b\": null}], \"c\": \"\\u00e9<\\/script>\", \"d\": true, \"e\": {}, "
       "\"f\": []}")},
    {S("\"\\ud83d\\ude00 \\u2028 \\u00ff\""), S("\"\\ud83d\\ude00 \\u2028 \\u00ff\"")},
    {S("\"</script><script>alert(1)</script>\""), S("\"<\\/script><script>alert(1)<\\/script>\"")},
    {S("\"<//>\""), S("\"<\\//>\"")},
    {S("\"\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f \\\" \\\\ /\""),
     S("\"\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f \\\" \\\\ /\"")},
    {S("\"\\u0000\""), S("\"\\u0000\"")},
    {S("{\"z\": 1, \"a\": 2, \"m\": {\"y\": [], \"b\": \"x\"}}"),
     S("{\"z\": 1, \"a\": 2, \"m\": {\"y\": [], \"b\": \"x\"}}")},
    {S("[0.1, 1e16, 1e15, 1e-05, 0.0001, -0.0, 1e22, 100.0, 123.456, 5e-324, "
       "1.7976931348623157e308]"),
     S("[0.1, 1e+16, 1000000000000000.0, 1e-05, 0.0001, -0.0, 1e+22, 100.0, 123.456, 5e-324, "
       "1.7976931348623157e+308]")},
    {S("[-5, 0, 9007199254740993, -9223372036854775808]"),
     S("[-5, 0, 9007199254740993, -9223372036854775808]")},
    {S("[[[[[]]]]]"), S("[[[[[]]]]]")},
    {S("\"\\u00e9\\u00c9\\uABCD\""), S("\"\\u00e9\\u00c9\\uabcd\"")},
    {S("null"), S("null")},
    {S("false"), S("false")},
    {S("{\"<\\/k>\": \"</\"}"), S("{\"<\\/k>\": \"<\\/\"}")},
};

START_TEST(json_encode_table)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    for (size_t i = 0; i < N(json_cases); i++) {
        json_error_t err;
        json_t *v = tp_json_decode(tp_slice_make(json_cases[i].in, json_cases[i].in_n), &err);
        ck_assert_msg(v, "row %zu: %s", i, err.text);
        ck_slice(tp_json_encode(&a, v), json_cases[i].want, json_cases[i].want_n, "json", i);
        json_decref(v);
    }
    tp_arena_destroy(&a);
}
END_TEST

/* Values built with jansson's API: keys stay in insertion order, reals print as repr(). */
START_TEST(json_encode_built)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    json_t *v = json_pack("{s:i, s:[f, s, b], s:{s:n}, s:s}", "zeta", 1, "alpha", 0.1, "\xc3\xa9",
                          1, "nested", "</script>", "last", "\xf0\x9f\x98\x80");
    ck_assert_ptr_nonnull(v);
    ck_slice(tp_json_encode(&a, v),
             S("{\"zeta\": 1, \"alpha\": [0.1, \"\\u00e9\", true], \"nested\": {\"<\\/script>\": "
               "null}, \"last\": \"\\ud83d\\ude00\"}"),
             "pack", 0);
    json_decref(v);
    v = json_real(1e16);
    ck_slice(tp_json_encode(&a, v), S("1e+16"), "real", 0);
    json_decref(v);
    v = json_stringn("a\0b\x7f", 4);
    ck_slice(tp_json_encode(&a, v), S("\"a\\u0000b\\u007f\""), "nul", 0);
    json_decref(v);
    ck_assert_ptr_null(tp_json_encode(&a, NULL).p);
    tp_arena_destroy(&a);
}
END_TEST

START_TEST(json_decode_values)
{
    json_error_t err;
    json_t *v = tp_json_decode(TP_SLICE_LIT("{\"a\": [1, \"x\\u00e9\"], \"b\": 2.5}"), &err);
    ck_assert_ptr_nonnull(v);
    ck_assert(json_is_object(v));
    json_t *arr = json_object_get(v, "a");
    ck_assert_int_eq(json_array_size(arr), 2);
    ck_assert_int_eq(json_integer_value(json_array_get(arr, 0)), 1);
    ck_assert_str_eq(json_string_value(json_array_get(arr, 1)), "x\xc3\xa9");
    ck_assert(json_real_value(json_object_get(v, "b")) == 2.5);
    json_decref(v);

    v = tp_json_decode(TP_SLICE_LIT("  3 "), NULL); /* any value at the top, spaces around */
    ck_assert(json_is_integer(v) && json_integer_value(v) == 3);
    json_decref(v);
    v = tp_json_decode(TP_SLICE_LIT("\"a\\u0000b\""), NULL);
    ck_assert_int_eq(json_string_length(v), 3);
    json_decref(v);
    v = tp_json_decode(TP_SLICE_LIT("\"\xc3\xa9\""), NULL); /* raw UTF-8 */
    ck_assert_str_eq(json_string_value(v), "\xc3\xa9");
    json_decref(v);

    const char *bad[] = {"{", "", "[1,]", "{'a': 1}", "\"\xff\"", "1 2", "tru", "\"\\x\""};
    for (size_t i = 0; i < N(bad); i++) {
        err.text[0] = '\0';
        ck_assert_msg(tp_json_decode(tp_slice_cstr(bad[i]), &err) == NULL, "accepted '%s'", bad[i]);
        ck_assert_msg(err.text[0] != '\0', "no error text for '%s'", bad[i]);
    }
    ck_assert_ptr_null(tp_json_decode(TP_SLICE_NULL, NULL));
}
END_TEST

/* ---- linkify ------------------------------------------------------------------------------ */

static const char *const proto_http_rdar[] = {"http", "rdar", NULL};
static const char *const proto_rdar[] = {"rdar", NULL};
static const char *const proto_http_message[] = {"http", "message", NULL};
static const char *const proto_file[] = {"file", NULL};
static const char *const proto_http_ftp_mailto[] = {"http", "ftp", "mailto", NULL};

/* The two callables of Tornado's escape_test.py. */
static tp_slice extra_by_host(void *data, tp_arena *a, tp_slice href)
{
    (void)data, (void)a;
    static const char internal[] = "http://www.internal-link.com";
    if (href.n >= sizeof(internal) - 1 && memcmp(href.p, internal, sizeof(internal) - 1) == 0)
        return TP_SLICE_LIT("class=\"internal\"");
    return TP_SLICE_LIT("rel=\"nofollow\" class=\"external\"");
}

static tp_slice extra_spaced(void *data, tp_arena *a, tp_slice href)
{
    (void)data, (void)a, (void)href;
    return TP_SLICE_LIT("    rel=\"nofollow\" class=\"external\"  ");
}

typedef struct linkify_case {
    const char *in;
    size_t in_n;
    const char *want;
    size_t want_n;
    tp_linkify_opts o;
} linkify_case;

/* Tornado's linkify_tests (escape_test.py), then hostile and edge inputs. */
static const linkify_case linkify_cases[] = {
    {S("hello http://world.com/!"),
     S("hello <a href=\"http://world.com/\">http://world.com/</a>!"),
     {}},
    {S("hello http://world.com/with?param=true&stuff=yes"),
     S("hello <a "
       "href=\"http://world.com/with?param=true&amp;stuff=yes\">http://world.com/"
       "with?param=true&amp;stuff=yes</a>"),
     {}},
    {S("http://url.com/w(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
     S("<a "
       "href=\"http://url.com/w\">http://url.com/w</"
       "a>(aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
     {}},
    {S("http://url.com/withmany......................................."),
     S("<a "
       "href=\"http://url.com/withmany\">http://url.com/withmany</"
       "a>......................................."),
     {}},
    {S("http://url.com/withmany((((((((((((((((((((((((((((((((((a)"),
     S("<a "
       "href=\"http://url.com/withmany\">http://url.com/withmany</"
       "a>((((((((((((((((((((((((((((((((((a)"),
     {}},
    {S("http://foo.com/blah_blah"),
     S("<a href=\"http://foo.com/blah_blah\">http://foo.com/blah_blah</a>"),
     {}},
    {S("http://foo.com/blah_blah/"),
     S("<a href=\"http://foo.com/blah_blah/\">http://foo.com/blah_blah/</a>"),
     {}},
    {S("(Something like http://foo.com/blah_blah)"),
     S("(Something like <a href=\"http://foo.com/blah_blah\">http://foo.com/blah_blah</a>)"),
     {}},
    {S("http://foo.com/blah_blah_(wikipedia)"),
     S("<a href=\"http://foo.com/blah_blah_(wikipedia)\">http://foo.com/blah_blah_(wikipedia)</a>"),
     {}},
    {S("http://foo.com/blah_(blah)_(wikipedia)_blah"),
     S("<a "
       "href=\"http://foo.com/blah_(blah)_(wikipedia)_blah\">http://foo.com/"
       "blah_(blah)_(wikipedia)_blah</a>"),
     {}},
    {S("(Something like http://foo.com/blah_blah_(wikipedia))"),
     S("(Something like <a "
       "href=\"http://foo.com/blah_blah_(wikipedia)\">http://foo.com/blah_blah_(wikipedia)</a>)"),
     {}},
    {S("http://foo.com/blah_blah."),
     S("<a href=\"http://foo.com/blah_blah\">http://foo.com/blah_blah</a>."),
     {}},
    {S("http://foo.com/blah_blah/."),
     S("<a href=\"http://foo.com/blah_blah/\">http://foo.com/blah_blah/</a>."),
     {}},
    {S("<http://foo.com/blah_blah>"),
     S("&lt;<a href=\"http://foo.com/blah_blah\">http://foo.com/blah_blah</a>&gt;"),
     {}},
    {S("<http://foo.com/blah_blah/>"),
     S("&lt;<a href=\"http://foo.com/blah_blah/\">http://foo.com/blah_blah/</a>&gt;"),
     {}},
    {S("http://foo.com/blah_blah,"),
     S("<a href=\"http://foo.com/blah_blah\">http://foo.com/blah_blah</a>,"),
     {}},
    {S("http://www.example.com/wpstyle/?p=364."),
     S("<a "
       "href=\"http://www.example.com/wpstyle/?p=364\">http://www.example.com/wpstyle/?p=364</a>."),
     {}},
    {S("rdar://1234"),
     S("<a href=\"rdar://1234\">rdar://1234</a>"),
     {.permitted_protocols = proto_http_rdar}},
    {S("rdar:/1234"),
     S("<a href=\"rdar:/1234\">rdar:/1234</a>"),
     {.permitted_protocols = proto_rdar}},
    {S("http://userid:password@example.com:8080"),
     S("<a "
       "href=\"http://userid:password@example.com:8080\">http://userid:password@example.com:8080</"
       "a>"),
     {}},
    {S("http://userid@example.com"),
     S("<a href=\"http://userid@example.com\">http://userid@example.com</a>"),
     {}},
    {S("http://userid@example.com:8080"),
     S("<a href=\"http://userid@example.com:8080\">http://userid@example.com:8080</a>"),
     {}},
    {S("http://userid:password@example.com"),
     S("<a href=\"http://userid:password@example.com\">http://userid:password@example.com</a>"),
     {}},
    {S("message://%3c330e7f8409726r6a4ba78dkf1fd71420c1bf6ff@mail.gmail.com%3e"),
     S("<a "
       "href=\"message://%3c330e7f8409726r6a4ba78dkf1fd71420c1bf6ff@mail.gmail.com%3e\">message://"
       "%3c330e7f8409726r6a4ba78dkf1fd71420c1bf6ff@mail.gmail.com%3e</a>"),
     {.permitted_protocols = proto_http_message}},
    {S("http://\xe2\x9e\xa1.ws/\xe4\xa8\xb9"),
     S("<a href=\"http://\xe2\x9e\xa1.ws/\xe4\xa8\xb9\">http://\xe2\x9e\xa1.ws/\xe4\xa8\xb9</a>"),
     {}},
    {S("<tag>http://example.com</tag>"),
     S("&lt;tag&gt;<a href=\"http://example.com\">http://example.com</a>&lt;/tag&gt;"),
     {}},
    {S("Just a www.example.com link."),
     S("Just a <a href=\"http://www.example.com\">www.example.com</a> link."),
     {}},
    {S("Just a www.example.com link."),
     S("Just a www.example.com link."),
     {.require_protocol = true}},
    {S("A http://reallylong.com/link/that/exceedsthelenglimit.html"),
     S("A <a href=\"http://reallylong.com/link/that/exceedsthelenglimit.html\" "
       "title=\"http://reallylong.com/link/that/exceedsthelenglimit.html\">http://reallylong.com/"
       "link...</a>"),
     {.shorten = true, .require_protocol = true}},
    {S("A http://reallylongdomainnamethatwillbetoolong.com/hi!"),
     S("A <a href=\"http://reallylongdomainnamethatwillbetoolong.com/hi\" "
       "title=\"http://reallylongdomainnamethatwillbetoolong.com/hi\">http://"
       "reallylongdomainnametha...</a>!"),
     {.shorten = true}},
    {S("A file:///passwords.txt and http://web.com link"),
     S("A file:///passwords.txt and <a href=\"http://web.com\">http://web.com</a> link"),
     {}},
    {S("A file:///passwords.txt and http://web.com link"),
     S("A <a href=\"file:///passwords.txt\">file:///passwords.txt</a> and http://web.com link"),
     {.permitted_protocols = proto_file}},
    {S("www.external-link.com"),
     S("<a href=\"http://www.external-link.com\" rel=\"nofollow\" "
       "class=\"external\">www.external-link.com</a>"),
     {.extra_params = "rel=\"nofollow\" class=\"external\""}},
    {S("www.external-link.com and www.internal-link.com/blogs extra"),
     S("<a href=\"http://www.external-link.com\" rel=\"nofollow\" "
       "class=\"external\">www.external-link.com</a> and <a "
       "href=\"http://www.internal-link.com/blogs\" "
       "class=\"internal\">www.internal-link.com/blogs</a> extra"),
     {.extra_params_fn = extra_by_host}},
    {S("www.external-link.com"),
     S("<a href=\"http://www.external-link.com\" rel=\"nofollow\" "
       "class=\"external\">www.external-link.com</a>"),
     {.extra_params_fn = extra_spaced}},
    {S("<script>http://x.com/?a=1&b=2</script>"),
     S("&lt;script&gt;<a "
       "href=\"http://x.com/?a=1&amp;b=2\">http://x.com/?a=1&amp;b=2</a>&lt;/script&gt;"),
     {}},
    {S("a \"quoted\" http://q.com/'x' link"),
     S("a &quot;quoted&quot; <a href=\"http://q.com/\">http://q.com/</a>&#x27;x&#x27; link"),
     {}},
    {S("www.example.com"), S("<a href=\"http://www.example.com\">www.example.com</a>"), {}},
    {S("ftp://x"), S("ftp://x"), {}},
    {S("ftp://x.org/f"),
     S("<a href=\"ftp://x.org/f\">ftp://x.org/f</a>"),
     {.permitted_protocols = proto_http_ftp_mailto}},
    {S("mailto:/a@b.c and mailto:a@b.c"),
     S("<a href=\"mailto:/a@b.c\">mailto:/a@b.c</a> and mailto:a@b.c"),
     {.permitted_protocols = proto_http_ftp_mailto}},
    {S("HTTP://UPPER.COM/"), S("HTTP://UPPER.COM/"), {}},
    {S("http://example.com/path."),
     S("<a href=\"http://example.com/path\">http://example.com/path</a>."),
     {}},
    {S("http://example.com/path?x=1,"),
     S("<a href=\"http://example.com/path?x=1\">http://example.com/path?x=1</a>,"),
     {}},
    {S("(see http://example.com/foo_(bar))"),
     S("(see <a href=\"http://example.com/foo_(bar)\">http://example.com/foo_(bar)</a>)"),
     {}},
    {S("javascript://alert(1)"), S("javascript://alert(1)"), {}},
    {S("http://www.example.com/very/long/path/that/goes/on/and/on/index.html?x=1&y=2"),
     S("<a "
       "href=\"http://www.example.com/very/long/path/that/goes/on/and/on/index.html?x=1&amp;y=2\" "
       "title=\"http://www.example.com/very/long/path/that/goes/on/and/on/"
       "index.html?x=1&amp;y=2\">http://www.example.com/very...</a>"),
     {.shorten = true}},
    {S("www.example.com/abcdefghijklmnopqrstuvwxyz0123456789"),
     S("<a href=\"http://www.example.com/abcdefghijklmnopqrstuvwxyz0123456789\" "
       "title=\"http://www.example.com/abcdefghijklmnopqrstuvwxyz0123456789\">www.example.com/"
       "abcdefgh...</a>"),
     {.shorten = true}},
    {S("http://example.com/a?b=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx&amp=1"),
     S("<a href=\"http://example.com/a?b=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx&amp;amp=1\" "
       "title=\"http://example.com/a?b=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx&amp;amp=1\">http://"
       "example.com/a...</a>"),
     {.shorten = true}},
    {S("https://example.com/"
       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"),
     S("<a "
       "href=\"https://example.com/"
       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\" "
       "title=\"https://example.com/"
       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\">https://example.com/"
       "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9...</a>"),
     {.shorten = true}},
    {S("http://x.com/a&ba&ba&ba&ba&ba&ba&ba&ba&ba&ba&ba&b"),
     S("<a "
       "href=\"http://x.com/"
       "a&amp;ba&amp;ba&amp;ba&amp;ba&amp;ba&amp;ba&amp;ba&amp;ba&amp;ba&amp;ba&amp;ba&amp;b\" "
       "title=\"http://x.com/"
       "a&amp;ba&amp;ba&amp;ba&amp;ba&amp;ba&amp;ba&amp;ba&amp;ba&amp;ba&amp;ba&amp;ba&amp;b\">"
       "http://x.com/a&amp;ba...</a>"),
     {.shorten = true}},
    {S("https://sub.example.org/path/to/something/deep"),
     S("<a href=\"https://sub.example.org/path/to/something/deep\" rel=\"nofollow\" "
       "title=\"https://sub.example.org/path/to/something/deep\">https://sub.example.org/path...</"
       "a>"),
     {.shorten = true, .extra_params = "rel=\"nofollow\""}},
    {S("www.a.com www.b.com"),
     S("<a href=\"http://www.a.com\" >www.a.com</a> <a href=\"http://www.b.com\" >www.b.com</a>"),
     {.extra_params = "   "}},
    {S("a http://x.com b www.y.com"),
     S("a <a href=\"http://x.com\">http://x.com</a> b www.y.com"),
     {.require_protocol = true}},
    {S("http://a.com\x00http://b.com"),
     S("<a href=\"http://a.com\x00http://b.com\">http://a.com\x00http://b.com</a>"),
     {}},
    {S("\xc3\xa9http://a.com http://\xc3\xa9.com/\xc3\xa9"),
     S("\xc3\xa9http://a.com <a "
       "href=\"http://\xc3\xa9.com/\xc3\xa9\">http://\xc3\xa9.com/\xc3\xa9</a>"),
     {}},
    {S("text with no links, www, http:// and www. alone"),
     S("text with no links, www, <a href=\"http://\">http://</a> and www. alone"),
     {}},
    {S(""), S(""), {}},
};

START_TEST(linkify_table)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    for (size_t i = 0; i < N(linkify_cases); i++) {
        const linkify_case *c = &linkify_cases[i];
        ck_slice(tp_linkify(&a, tp_slice_make(c->in, c->in_n), &c->o), c->want, c->want_n,
                 "linkify", i);
    }
    /* NULL options are the defaults. */
    ck_slice(tp_linkify(&a, TP_SLICE_LIT("go to www.x.com!"), NULL),
             S("go to <a href=\"http://www.x.com\">www.x.com</a>!"), "linkify NULL", 0);
    tp_arena_destroy(&a);
}
END_TEST

/* Invalid UTF-8 (which Python refuses) is never part of a link; the text around it is. */
START_TEST(linkify_invalid_utf8)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    ck_slice(tp_linkify(&a, TP_SLICE_LIT("\xffhttp://a.com/x\xfe\xc0 www.b.com"), NULL),
             S("\xff<a href=\"http://a.com/x\">http://a.com/x</a>\xfe\xc0 "
               "<a href=\"http://www.b.com\">www.b.com</a>"),
             "linkify bad utf8", 0);
    tp_arena_destroy(&a);
}
END_TEST

/* Long hostile inputs finish quickly (no exponential backtracking) and stay escaped. */
START_TEST(linkify_long_inputs)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    size_t n = 200000;
    char *s = tp_arena_alloc(&a, n + 16);
    static const char *const shapes[] = {"http://", "www.", "http://(", "http://x"};
    for (size_t k = 0; k < N(shapes); k++) {
        size_t h = strlen(shapes[k]);
        memcpy(s, shapes[k], h);
        memset(s + h, k == 1 ? '.' : k == 2 ? '(' : k == 3 ? '\'' : 'a', n - h);
        s[n] = '!';
        clock_t t0 = clock();
        tp_slice r = tp_linkify(&a, tp_slice_make(s, n + 1), NULL);
        ck_assert_msg(clock() - t0 < 2 * CLOCKS_PER_SEC, "shape %zu too slow", k);
        ck_assert_ptr_nonnull(r.p);
        ck_assert_ptr_null(memchr(r.p, '\'', r.n)); /* quotes stay escaped */
        ck_assert(r.p[r.n - 1] == '!');
    }
    /* The first shape is one link over the whole run. */
    memcpy(s, "http://", 7);
    memset(s + 7, 'a', n - 7);
    tp_slice r = tp_linkify(&a, tp_slice_make(s, n + 1), NULL);
    ck_assert_uint_eq(r.n, 2 * n + strlen("<a href=\"\"></a>!"));
    tp_arena_destroy(&a);
}
END_TEST

/* ---- UTF-8 -------------------------------------------------------------------------------- */

static const struct {
    const char *in;
    size_t in_n;
    bool valid; /* bytes.decode("utf-8") succeeds */
} utf8_cases[] = {
    {S(""), true},
    {S("ascii"), true},
    {S("\xc3\xa9\xf0\x9f\x98\x80\xe2\x80\xa8"), true},
    {S("\xff"), false},
    {S("\xc0\xaf"), false},
    {S("\xe0\x80\xaf"), false},
    {S("\xed\xa0\x80"), false},
    {S("\xf4\x90\x80\x80"), false},
    {S("\xe2\x82"), false},
    {S("a\x00"
       "b"),
     true},
    {S("\xf4\x8f\xbf\xbf"), true},
    {S("\xc2\xa0"), true},
    {S("\x80"), false},
    {S("\xf5\x80\x80\x80"), false},
};

START_TEST(utf8_valid_table)
{
    for (size_t i = 0; i < N(utf8_cases); i++)
        ck_assert_msg(tp_utf8_valid(tp_slice_make(utf8_cases[i].in, utf8_cases[i].in_n)) ==
                          utf8_cases[i].valid,
                      "row %zu", i);
    ck_assert(tp_utf8_valid(TP_SLICE_NULL));
}
END_TEST

/* Every code point but the surrogates encodes to what tp_utf8_decode reads back, in the
 * length the ranges give. */
START_TEST(utf8_encode_round_trip)
{
    for (uint32_t c = 0; c <= 0x10ffff; c++) {
        if (c >= 0xd800 && c <= 0xdfff)
            continue;
        char w[4];
        size_t n = tp_utf8_encode(w, c);
        ck_assert_uint_eq(n, c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4);
        uint32_t back = 0;
        ck_assert_uint_eq(tp_utf8_decode((const unsigned char *)w, n, &back), n);
        ck_assert_uint_eq(back, c);
    }
}
END_TEST

Suite *escape_suite(void)
{
    Suite *s = suite_create("escape");
    TCase *tc = tcase_create("escape");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, xhtml_escape_table);
    tcase_add_test(tc, xhtml_escape_blocks);
    tcase_add_test(tc, xhtml_unescape_table);
    tcase_add_test(tc, xhtml_invalid_utf8);
    tcase_add_test(tc, url_escape_table);
    tcase_add_test(tc, url_unescape_table);
    tcase_add_test(tc, squeeze_table);
    tcase_add_test(tc, json_encode_table);
    tcase_add_test(tc, json_encode_built);
    tcase_add_test(tc, json_decode_values);
    tcase_add_test(tc, linkify_table);
    tcase_add_test(tc, linkify_invalid_utf8);
    tcase_add_test(tc, linkify_long_inputs);
    tcase_add_test(tc, utf8_valid_table);
    tcase_add_test(tc, utf8_encode_round_trip);
    suite_add_tcase(s, tc);
    return s;
}
