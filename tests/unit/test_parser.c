/* The HTTP/1.x request head parser (http/parser.h): scanning, parsing, limits and every
 * rejection status. */
#include <stdio.h>
#include <string.h>

#include "core/status.h"
#include "http/parser.h"
#include "tests/unit/suites.h"

#define LIT(s) s, sizeof(s) - 1

static const tp_http_limits lim_std = {8192, 1024, 100};

/* The verdict on a whole buffer: 0 if scan and parse accept it, -2 (TP_AGAIN) if the scanner
 * wants more bytes, else the status code of the rejection. */
static int verdict_lim(const char *buf, size_t len, const tp_http_limits *lim)
{
    tp_http_parser p = {0};
    int status = 0;
    int n = tp_http_scan_head(&p, buf, len, lim, &status);
    if (n == TP_AGAIN)
        return TP_AGAIN;
    if (n < 0) {
        ck_assert_int_eq(n, TP_ERROR);
        ck_assert_int_ne(status, 0);
        return status;
    }
    tp_http_header hv[128];
    tp_request_head h;
    ck_assert_uint_le(p.lines, 128);
    status = 0;
    if (tp_http_parse_head(buf, (size_t)n, &h, hv, p.lines, &status) != TP_OK) {
        ck_assert_int_ne(status, 0);
        return status;
    }
    return 0;
}

static int verdict(const char *buf, size_t len)
{
    return verdict_lim(buf, len, &lim_std);
}

/* Scans and parses a head that must be accepted whole; returns its length. */
static int parse_ok(const char *buf, size_t len, tp_request_head *h, tp_http_header *hv, size_t max)
{
    tp_http_parser p = {0};
    int status = 0;
    int n = tp_http_scan_head(&p, buf, len, &lim_std, &status);
    ck_assert_msg(n > 0, "scan returned %d (status %d)", n, status);
    ck_assert_uint_le(p.lines, max);
    ck_assert_int_eq(tp_http_parse_head(buf, (size_t)n, h, hv, max, &status), TP_OK);
    return n;
}

static int slice_is(tp_slice s, const char *want)
{
    return s.n == strlen(want) && memcmp(s.p, want, s.n) == 0;
}

#define ck_assert_slice(s, want)                                                                   \
    ck_assert_msg(slice_is((s), (want)), "got '%.*s', want '%s'", TP_SLICE_FMT(s), (want))

START_TEST(valid_get)
{
    const char req[] = "GET /path?a=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
    tp_request_head h;
    tp_http_header hv[8];
    int n = parse_ok(LIT(req), &h, hv, 8);
    ck_assert_int_eq(n, (int)strlen(req));
    ck_assert_slice(h.method, "GET");
    ck_assert_slice(h.target, "/path?a=1");
    ck_assert_int_eq(h.version_minor, 1);
    ck_assert_uint_eq(h.num_headers, 2);
    ck_assert_ptr_eq(h.headers, hv);
    ck_assert_slice(hv[0].name, "Host");
    ck_assert_slice(hv[0].value, "example.com");
    ck_assert_slice(hv[1].name, "Accept");
    ck_assert_slice(hv[1].value, "*/*");
    /* Zero-copy: the slices point into the buffer. */
    ck_assert_ptr_eq(h.method.p, req);
    ck_assert_ptr_eq(hv[0].name.p, strstr(req, "Host"));
}
END_TEST

START_TEST(http10_and_no_headers)
{
    const char req[] = "POST / HTTP/1.0\r\n\r\n";
    tp_request_head h;
    tp_http_header hv[1];
    ck_assert_int_eq(parse_ok(LIT(req), &h, hv, 1), (int)strlen(req));
    ck_assert_slice(h.method, "POST");
    ck_assert_slice(h.target, "/");
    ck_assert_int_eq(h.version_minor, 0);
    ck_assert_uint_eq(h.num_headers, 0);
}
END_TEST

START_TEST(body_bytes_not_part_of_head)
{
    const char req[] = "POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
    tp_http_parser p = {0};
    int status = 0;
    int n = tp_http_scan_head(&p, LIT(req), &lim_std, &status);
    ck_assert_int_eq(n, (int)strlen(req) - 5);
    ck_assert_uint_eq(p.lines, 1);
}
END_TEST

START_TEST(bare_lf_lines)
{
    const char req[] = "GET / HTTP/1.1\nHost: a\nX-Y: b\r\n\n";
    tp_request_head h;
    tp_http_header hv[4];
    ck_assert_int_eq(parse_ok(LIT(req), &h, hv, 4), (int)strlen(req));
    ck_assert_slice(h.target, "/");
    ck_assert_int_eq(h.version_minor, 1);
    ck_assert_uint_eq(h.num_headers, 2);
    ck_assert_slice(hv[0].value, "a");
    ck_assert_slice(hv[1].name, "X-Y");
    ck_assert_slice(hv[1].value, "b");
}
END_TEST

START_TEST(leading_crlf_tolerated)
{
    const char req[] = "\r\n\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
    tp_request_head h;
    tp_http_header hv[4];
    ck_assert_int_eq(parse_ok(LIT(req), &h, hv, 4), (int)strlen(req));
    ck_assert_slice(h.method, "GET");
    ck_assert_uint_eq(h.num_headers, 1);
    /* Only empty lines so far: wait for more. */
    tp_http_parser p = {0};
    int status = 0;
    ck_assert_int_eq(tp_http_scan_head(&p, LIT("\r\n\r\n"), &lim_std, &status), TP_AGAIN);
    ck_assert_uint_eq(p.skip, 4);
}
END_TEST

/* Feeding one byte at a time gives TP_AGAIN until exactly the last byte of the head, and the
 * parser's line_start only moves forward, to just after each complete line. */
static void feed_bytewise(const char *req, size_t len, size_t want_head, size_t want_lines)
{
    tp_http_parser p = {0};
    int status = 0;
    size_t prev_start = 0;
    for (size_t k = 1; k <= len; k++) {
        int r = tp_http_scan_head(&p, req, k, &lim_std, &status);
        ck_assert_uint_ge(p.line_start, prev_start);
        prev_start = p.line_start;
        ck_assert_uint_le(p.line_start, k);
        if (k < want_head) {
            ck_assert_msg(r == TP_AGAIN, "prefix %zu: got %d (status %d)", k, r, status);
            /* Resumable: everything up to the last newline was looked at once already. */
            if (req[k - 1] == '\n' && k > p.skip)
                ck_assert_uint_eq(p.line_start, k);
        } else {
            ck_assert_int_eq(r, (int)want_head);
            break;
        }
    }
    ck_assert_uint_eq(p.line_start, want_head);
    ck_assert_uint_eq(p.lines, want_lines);

    /* The whole buffer at once gives the same answer. */
    tp_http_parser q = {0};
    ck_assert_int_eq(tp_http_scan_head(&q, req, len, &lim_std, &status), (int)want_head);
    ck_assert_uint_eq(q.lines, want_lines);
    ck_assert_uint_eq(q.skip, p.skip);
}

START_TEST(incremental_bytewise)
{
    const char a[] = "GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n";
    feed_bytewise(LIT(a), strlen(a), 2);
    const char b[] = "\r\n\nPUT /x HTTP/1.0\nA: 1\nB:2\n\nBODY";
    feed_bytewise(LIT(b), strlen(b) - 4, 2);
    const char c[] = "OPTIONS * HTTP/1.1\r\n\r\n";
    feed_bytewise(LIT(c), strlen(c), 0);

    /* The resumed scan parses into the same fields as a whole one. */
    tp_request_head h;
    tp_http_header hv[4];
    ck_assert_int_eq(parse_ok(LIT(b), &h, hv, 4), (int)strlen(b) - 4);
    ck_assert_slice(h.method, "PUT");
    ck_assert_slice(hv[1].name, "B");
    ck_assert_slice(hv[1].value, "2");
}
END_TEST

START_TEST(incremental_chunks_line_start)
{
    const char req[] = "GET / HTTP/1.1\r\nHost: x\r\nAccept: y\r\n\r\n";
    tp_http_parser p = {0};
    int status = 0;
    size_t after_host = strlen("GET / HTTP/1.1\r\nHost: x\r\n");
    ck_assert_int_eq(tp_http_scan_head(&p, req, after_host + 3, &lim_std, &status), TP_AGAIN);
    ck_assert_uint_eq(p.line_start, after_host);
    ck_assert_int_eq(p.start_line_done, 1);
    ck_assert_uint_eq(p.lines, 1);
    ck_assert_int_eq(tp_http_scan_head(&p, req, strlen(req) - 1, &lim_std, &status), TP_AGAIN);
    ck_assert_uint_eq(p.lines, 2);
    ck_assert_int_eq(tp_http_scan_head(&p, LIT(req), &lim_std, &status), (int)strlen(req));
    ck_assert_uint_eq(p.lines, 2);
}
END_TEST

START_TEST(incremental_error_found_when_line_completes)
{
    const char req[] = "GET / HTTP/2.0\r\nHost: x\r\n\r\n";
    size_t line = strlen("GET / HTTP/2.0\r\n");
    tp_http_parser p = {0};
    int status = 0;
    for (size_t k = 1; k < line; k++)
        ck_assert_int_eq(tp_http_scan_head(&p, req, k, &lim_std, &status), TP_AGAIN);
    ck_assert_int_eq(tp_http_scan_head(&p, req, line, &lim_std, &status), TP_ERROR);
    ck_assert_int_eq(status, 505);
}
END_TEST

START_TEST(reject_obs_fold)
{
    ck_assert_int_eq(verdict(LIT("GET / HTTP/1.1\r\nX-A: b\r\n c\r\n\r\n")), 400);
    ck_assert_int_eq(verdict(LIT("GET / HTTP/1.1\r\nX-A: b\r\n\tc\r\n\r\n")), 400);
    /* Whitespace before the first header is obs-fold too. */
    ck_assert_int_eq(verdict(LIT("GET / HTTP/1.1\r\n Host: a\r\n\r\n")), 400);
}
END_TEST

START_TEST(reject_bad_header_names)
{
    ck_assert_int_eq(verdict(LIT("GET / HTTP/1.1\r\nHost : a\r\n\r\n")), 400);
    ck_assert_int_eq(verdict(LIT("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n")), 400);
    ck_assert_int_eq(verdict(LIT("GET / HTTP/1.1\r\n: a\r\n\r\n")), 400);
    ck_assert_int_eq(verdict(LIT("GET / HTTP/1.1\r\nHost a\r\n\r\n")), 400);
    ck_assert_int_eq(verdict(LIT("GET / HTTP/1.1\r\nHost\r\n\r\n")), 400);
    ck_assert_int_eq(verdict(LIT("GET / HTTP/1.1\r\nHo(st: a\r\n\r\n")), 400);
    ck_assert_int_eq(verdict(LIT("GET / HTTP/1.1\r\nH\xc3\xa9: a\r\n\r\n")), 400);
    ck_assert_int_eq(verdict(LIT("GET / HTTP/1.1\r\nH\0st: a\r\n\r\n")), 400);
}
END_TEST

START_TEST(reject_control_bytes_in_values)
{
    ck_assert_int_eq(verdict(LIT("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n")), 400);
    ck_assert_int_eq(verdict(LIT("GET / HTTP/1.1\r\nX: a\x01"
                                 "b\r\n\r\n")),
                     400);
    ck_assert_int_eq(verdict(LIT("GET / HTTP/1.1\r\nX: a\x7f"
                                 "b\r\n\r\n")),
                     400);
    ck_assert_int_eq(verdict(LIT("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n")), 400);
    ck_assert_int_eq(verdict(LIT("GET / HTTP/1.1\r\nX: ab\r\r\n\r\n")), 400);
    ck_assert_int_eq(verdict(LIT("GET / HTTP/1.1\r\nX: a\x1b"
                                 "b\r\n\r\n")),
                     400);
    /* HTAB is fine. */
    ck_assert_int_eq(verdict(LIT("GET / HTTP/1.1\r\nX: a\tb\r\n\r\n")), 0);
}
END_TEST

START_TEST(reject_bad_start_lines)
{
    static const char *bad[] = {
        "GET  / HTTP/1.1\r\n\r\n",
        "GET /\r\n\r\n",
        "GET / \r\n\r\n",
        "GET / HTTP/1.1x\r\n\r\n",
        "GET / HTTX/1.1\r\n\r\n",
        "GET / http/1.1\r\n\r\n",
        "GET / HTTP/1\r\n\r\n",
        "GET / HTTP/1.\r\n\r\n",
        "GET / HTTP/1.1 \r\n\r\n",
        "GET / HTTP/a.1\r\n\r\n",
        "GET / HTTP/1.b\r\n\r\n",
        "GET\t/ HTTP/1.1\r\n\r\n",
        "GE(T / HTTP/1.1\r\n\r\n",
        "/ HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1 x\r\n\r\n",
        "GET /a\rb HTTP/1.1\r\n\r\n",
        "GET\r\n\r\n",
        "GET \r\n\r\n",
        "GET / HTTP/1.1\r\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(verdict(bad[i], strlen(bad[i])) == 400, "%zu: '%s' gave %d", i, bad[i],
                      verdict(bad[i], strlen(bad[i])));
    /* Methods are tokens, in any case. */
    ck_assert_int_eq(verdict(LIT("get / HTTP/1.1\r\n\r\n")), 0);
    ck_assert_int_eq(verdict(LIT("M-SEARCH * HTTP/1.1\r\n\r\n")), 0);
}
END_TEST

START_TEST(reject_start_line_without_blank_line)
{
    /* Garbage is refused as soon as the start line is whole, without waiting for the end. */
    ck_assert_int_eq(verdict(LIT("GET  / HTTP/1.1\r\nHost: a\r\n")), 400);
    ck_assert_int_eq(verdict(LIT("GET / HTTP/1.1\r\nHost: a\r\n")), TP_AGAIN);
}
END_TEST

START_TEST(versions)
{
    ck_assert_int_eq(verdict(LIT("GET / HTTP/2.0\r\n\r\n")), 505);
    ck_assert_int_eq(verdict(LIT("GET / HTTP/0.9\r\n\r\n")), 505);
    ck_assert_int_eq(verdict(LIT("GET / HTTP/3.1\r\n\r\n")), 505);
    tp_request_head h;
    tp_http_header hv[1];
    parse_ok(LIT("GET / HTTP/1.2\r\n\r\n"), &h, hv, 1);
    ck_assert_int_eq(h.version_minor, 1);
    parse_ok(LIT("GET / HTTP/1.9\r\n\r\n"), &h, hv, 1);
    ck_assert_int_eq(h.version_minor, 1);
    parse_ok(LIT("GET / HTTP/1.0\r\n\r\n"), &h, hv, 1);
    ck_assert_int_eq(h.version_minor, 0);
}
END_TEST

START_TEST(uri_too_long)
{
    tp_http_limits lim = {8192, 16, 100};
    char buf[512];
    /* 16 characters: fine; 17: 414. */
    snprintf(buf, sizeof(buf), "GET /%s HTTP/1.1\r\n\r\n", "123456789012345");
    ck_assert_int_eq(verdict_lim(buf, strlen(buf), &lim), 0);
    snprintf(buf, sizeof(buf), "GET /%s HTTP/1.1\r\n\r\n", "1234567890123456");
    ck_assert_int_eq(verdict_lim(buf, strlen(buf), &lim), 414);
    /* A start line still incomplete but already too long for any legal target. */
    memset(buf, 'a', sizeof(buf));
    memcpy(buf, "GET /", 5);
    tp_http_parser p = {0};
    int status = 0;
    ck_assert_int_eq(tp_http_scan_head(&p, buf, 40, &lim, &status), TP_AGAIN);
    ck_assert_int_eq(tp_http_scan_head(&p, buf, 300, &lim, &status), TP_ERROR);
    ck_assert_int_eq(status, 414);
}
END_TEST

START_TEST(head_too_large)
{
    tp_http_limits lim = {64, 1024, 100};
    char buf[256];
    /* 16 (start line) + "X: " + pad + CRLF + CRLF = 23 + pad bytes. */
    snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nX: %0*d\r\n\r\n", 41, 0);
    ck_assert_uint_eq(strlen(buf), 64);
    ck_assert_int_eq(verdict_lim(buf, strlen(buf), &lim), 0);
    snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nX: %0*d\r\n\r\n", 42, 0);
    ck_assert_int_eq(verdict_lim(buf, strlen(buf), &lim), 431);
    /* Leading empty lines are not part of the head. */
    snprintf(buf, sizeof(buf), "\r\n\r\nGET / HTTP/1.1\r\nX: %0*d\r\n\r\n", 41, 0);
    ck_assert_int_eq(verdict_lim(buf, strlen(buf), &lim), 0);
    /* Incomplete, the last line still growing past the limit. */
    snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nX: %0*d", 100, 0);
    ck_assert_int_eq(verdict_lim(buf, strlen(buf), &lim), 431);
    /* Incomplete and still under the limit. */
    ck_assert_int_eq(verdict_lim(buf, 60, &lim), TP_AGAIN);
}
END_TEST

START_TEST(too_many_headers)
{
    tp_http_limits lim = {8192, 1024, 3};
    ck_assert_int_eq(verdict_lim(LIT("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), &lim), 0);
    ck_assert_int_eq(
        verdict_lim(LIT("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"), &lim), 431);
    /* Counted while the head is still arriving. */
    ck_assert_int_eq(verdict_lim(LIT("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n"), &lim),
                     431);
    /* parse_head with fewer header slots than lines. */
    const char req[] = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n";
    tp_request_head h;
    tp_http_header hv[1];
    int status = 0;
    ck_assert_int_eq(tp_http_parse_head(LIT(req), &h, hv, 1, &status), TP_ERROR);
    ck_assert_int_eq(status, 431);
}
END_TEST

START_TEST(non_token_first_byte)
{
    tp_http_parser p = {0};
    int status = 0;
    ck_assert_int_eq(tp_http_scan_head(&p, "\x16", 1, &lim_std, &status), TP_ERROR);
    ck_assert_int_eq(status, 400);
    p = (tp_http_parser){0};
    status = 0;
    ck_assert_int_eq(tp_http_scan_head(&p, LIT("\r\n\x16\x03\x01"), &lim_std, &status), TP_ERROR);
    ck_assert_int_eq(status, 400);
    p = (tp_http_parser){0};
    status = 0;
    ck_assert_int_eq(tp_http_scan_head(&p, " ", 1, &lim_std, &status), TP_ERROR);
    ck_assert_int_eq(status, 400);
    p = (tp_http_parser){0};
    ck_assert_int_eq(tp_http_scan_head(&p, "G", 1, &lim_std, &status), TP_AGAIN);
}
END_TEST

START_TEST(values_trimmed)
{
    const char req[] = "GET / HTTP/1.1\r\nA:  \t x y \t \r\nB:\r\nC:   \r\nD:z\r\n\r\n";
    tp_request_head h;
    tp_http_header hv[4];
    parse_ok(LIT(req), &h, hv, 4);
    ck_assert_uint_eq(h.num_headers, 4);
    ck_assert_slice(hv[0].value, "x y");
    ck_assert_slice(hv[1].value, "");
    ck_assert_slice(hv[2].value, "");
    ck_assert_slice(hv[3].value, "z");
}
END_TEST

START_TEST(obs_text_allowed)
{
    const char req[] =
        "GET /caf\xc3\xa9?q=\x80\xff HTTP/1.1\r\nX-Name: \xe2\x82\xac \x80\xff\r\n\r\n";
    tp_request_head h;
    tp_http_header hv[2];
    parse_ok(LIT(req), &h, hv, 2);
    ck_assert_slice(h.target, "/caf\xc3\xa9?q=\x80\xff");
    ck_assert_slice(hv[0].value, "\xe2\x82\xac \x80\xff");
}
END_TEST

START_TEST(valid_token)
{
    ck_assert(tp_http_valid_token(TP_SLICE_LIT("GET")));
    ck_assert(tp_http_valid_token(TP_SLICE_LIT("!#$%&'*+-.^_`|~09AZaz")));
    ck_assert(!tp_http_valid_token(TP_SLICE_LIT("")));
    ck_assert(!tp_http_valid_token(TP_SLICE_LIT("a b")));
    ck_assert(!tp_http_valid_token(TP_SLICE_LIT("a:b")));
    ck_assert(!tp_http_valid_token(TP_SLICE_LIT("a\"b")));
    ck_assert(!tp_http_valid_token(TP_SLICE_LIT("(x)")));
    ck_assert(!tp_http_valid_token(TP_SLICE_LIT("\x80")));
    ck_assert(!tp_http_valid_token(TP_SLICE_LIT("a\0")));
    ck_assert(!tp_http_valid_token(TP_SLICE_LIT("a\x7f")));
    /* The table agrees with the function, byte by byte. */
    for (int c = 0; c < 256; c++) {
        char b = (char)c;
        ck_assert_int_eq(!!tp_http_valid_token((tp_slice){&b, 1}), !!tp_http_token_chars[c]);
    }
    ck_assert(tp_http_token_chars['a'] && !tp_http_token_chars[' '] && !tp_http_token_chars[0]);
}
END_TEST

START_TEST(valid_header_value)
{
    ck_assert(tp_http_valid_header_value(TP_SLICE_LIT("")));
    ck_assert(tp_http_valid_header_value(TP_SLICE_LIT("text/html; charset=UTF-8")));
    ck_assert(tp_http_valid_header_value(TP_SLICE_LIT("a\tb c~")));
    ck_assert(tp_http_valid_header_value(TP_SLICE_LIT("\x80\xff")));
    ck_assert(!tp_http_valid_header_value(TP_SLICE_LIT("a\rb")));
    ck_assert(!tp_http_valid_header_value(TP_SLICE_LIT("a\nb")));
    ck_assert(!tp_http_valid_header_value(TP_SLICE_LIT("a\0b")));
    ck_assert(!tp_http_valid_header_value(TP_SLICE_LIT("\x7f")));
    ck_assert(!tp_http_valid_header_value(TP_SLICE_LIT("\x1f")));
}
END_TEST

Suite *parser_suite(void)
{
    Suite *s = suite_create("parser");
    TCase *tc = tcase_create("accept");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, valid_get);
    tcase_add_test(tc, http10_and_no_headers);
    tcase_add_test(tc, body_bytes_not_part_of_head);
    tcase_add_test(tc, bare_lf_lines);
    tcase_add_test(tc, leading_crlf_tolerated);
    tcase_add_test(tc, incremental_bytewise);
    tcase_add_test(tc, incremental_chunks_line_start);
    tcase_add_test(tc, incremental_error_found_when_line_completes);
    tcase_add_test(tc, values_trimmed);
    tcase_add_test(tc, obs_text_allowed);
    tcase_add_test(tc, versions);
    suite_add_tcase(s, tc);

    tc = tcase_create("reject");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, reject_obs_fold);
    tcase_add_test(tc, reject_bad_header_names);
    tcase_add_test(tc, reject_control_bytes_in_values);
    tcase_add_test(tc, reject_bad_start_lines);
    tcase_add_test(tc, reject_start_line_without_blank_line);
    tcase_add_test(tc, uri_too_long);
    tcase_add_test(tc, head_too_large);
    tcase_add_test(tc, too_many_headers);
    tcase_add_test(tc, non_token_first_byte);
    suite_add_tcase(s, tc);

    tc = tcase_create("chars");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, valid_token);
    tcase_add_test(tc, valid_header_value);
    suite_add_tcase(s, tc);
    return s;
}
