/* http/h2's pure parts: the prior-knowledge predicate (tp_h2_preface) and the HTTP/2 rows of
 * the HTTP server's option table (names, defaults, bounds). The protocol itself is tested
 * black-box (tests/blackbox/test_h2.py) and fuzzed (tests/fuzz/h2_fuzz.c). */
#include <errno.h>
#include <string.h>

#include "core/options.h"
#include "core/status.h"
#include "http/server.h"
#include "tests/unit/suites.h"

static const char PRI[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

START_TEST(preface_whole_prefix_and_others)
{
    ck_assert_int_eq(tp_h2_preface(tp_slice_cstr(PRI)), 1);
    char more[64];
    memcpy(more, PRI, sizeof(PRI) - 1);
    memcpy(more + sizeof(PRI) - 1, "\0\0\x12\x04", 4);
    ck_assert_int_eq(tp_h2_preface((tp_slice){more, sizeof(PRI) + 3}), 1);
    for (size_t n = 1; n < sizeof(PRI) - 1; n++)
        ck_assert_int_eq(tp_h2_preface((tp_slice){PRI, n}), TP_AGAIN);
    ck_assert_int_eq(tp_h2_preface(TP_SLICE_LIT("POST / HTTP/1.1\r\n")), 0);
    ck_assert_int_eq(tp_h2_preface(TP_SLICE_LIT("PRI * HTTP/2.0\r\n\r\nXX")), 0);
    ck_assert_int_eq(tp_h2_preface(TP_SLICE_LIT("PRI * HTTP/1.1\r\n\r\n")), 0);
}
END_TEST

static tp_option_group http_group(tp_http_server_opts *o)
{
    return (tp_option_group){"HTTP", tp_http_server_option_table, tp_http_server_option_count, o};
}

START_TEST(options_defaults_and_parsing)
{
    tp_http_server_opts o;
    tp_http_server_opts_default(&o);
    ck_assert(o.h2.http2);
    ck_assert_uint_eq(o.h2.max_concurrent_streams, 100);
    ck_assert_uint_eq(o.h2.initial_window_size, 65535);
    ck_assert_uint_eq(o.h2.max_frame_size, 16384);
    tp_option_group g = http_group(&o);
    char err[256] = "";
    ck_assert_int_eq(tp_options_parse_one(&g, 1, "http2_max_concurrent_streams=7", err, 256), 0);
    ck_assert_int_eq(tp_options_parse_one(&g, 1, "http2-initial-window-size=1k", err, 256), 0);
    ck_assert_int_eq(tp_options_parse_one(&g, 1, "http2_stall_timeout=2.5", err, 256), 0);
    ck_assert_int_eq(tp_options_parse_one(&g, 1, "http2=false", err, 256), 0);
    ck_assert_uint_eq(o.h2.max_concurrent_streams, 7);
    ck_assert_uint_eq(o.h2.initial_window_size, 1024);
    ck_assert(o.h2.stall_timeout == 2.5);
    ck_assert(!o.h2.http2);
    ck_assert_uint_eq(o.max_body_size, 100 << 20); /* the neighbours are untouched */
}
END_TEST

START_TEST(options_bounds)
{
    tp_http_server_opts o;
    tp_http_server_opts_default(&o);
    tp_option_group g = http_group(&o);
    char err[256];
    /* RFC 9113 §6.5.2: frames of 16384 to 16777215 bytes */
    ck_assert_int_eq(tp_options_parse_one(&g, 1, "http2_max_frame_size=1000", err, 256), -EINVAL);
    ck_assert_int_eq(tp_options_parse_one(&g, 1, "http2_max_frame_size=16777216", err, 256),
                     -EINVAL);
    ck_assert_int_eq(tp_options_parse_one(&g, 1, "http2_initial_window_size=2147483648", err, 256),
                     -EINVAL);
    ck_assert_int_eq(tp_options_parse_one(&g, 1, "http2_max_concurrent_streams=0", err, 256),
                     -EINVAL);
    ck_assert_uint_eq(o.h2.max_frame_size, 16384);
}
END_TEST

Suite *h2_suite(void)
{
    Suite *s = suite_create("h2");
    TCase *tc = tcase_create("h2");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, preface_whole_prefix_and_others);
    tcase_add_test(tc, options_defaults_and_parsing);
    tcase_add_test(tc, options_bounds);
    suite_add_tcase(s, tc);
    return s;
}
