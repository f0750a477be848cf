/* The reverse proxy's pure parts: response heads through http/parser.c (p.response), the
 * hop-by-hop rule, and the request head the upstream gets (web/proxy/head.c). */
#include <string.h>

#include "core/status.h"
#include "http/parser.h"
#include "tests/unit/suites.h"
#include "web/proxy/proxy_internal.h"

#define LIT(s) s, sizeof(s) - 1

static const tp_http_limits lim = {8192, 8192, 100};

/* 0 if the response head is accepted whole (out filled), TP_AGAIN, or the status. */
static int response(const char *buf, size_t len, tp_response_head *out, tp_http_header *hv)
{
    tp_http_parser p = {.response = 1};
    int status = 0;
    int n = tp_http_scan_head(&p, buf, len, &lim, &status);
    if (n == TP_AGAIN)
        return TP_AGAIN;
    if (n < 0)
        return status;
    if (tp_http_parse_response_head(buf, (size_t)n, out, hv, 100, &status) != TP_OK)
        return status;
    return 0;
}

START_TEST(response_ok)
{
    tp_response_head r;
    tp_http_header hv[100];
    ck_assert_int_eq(response(LIT("HTTP/1.1 200 OK\r\nA: b\r\nC:  d \r\n\r\nbody"), &r, hv), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(r.version_minor, 1);
    ck_assert(tp_slice_eq(r.reason, TP_SLICE_LIT("OK")));
    ck_assert_uint_eq(r.num_headers, 2);
    ck_assert(tp_slice_eq(r.headers[1].value, TP_SLICE_LIT("d")));
    ck_assert_int_eq(response(LIT("HTTP/1.0 404\r\n\r\n"), &r, hv), 0);
    ck_assert_int_eq(r.status, 404);
    ck_assert_int_eq(r.version_minor, 0);
    ck_assert_uint_eq(r.reason.n, 0);
    ck_assert_int_eq(response(LIT("HTTP/1.1 599 Weird Reason Here\n\n"), &r, hv), 0);
    ck_assert(tp_slice_eq(r.reason, TP_SLICE_LIT("Weird Reason Here")));
}
END_TEST

START_TEST(response_bad)
{
    tp_response_head r;
    tp_http_header hv[100];
    ck_assert_int_eq(response(LIT("HTTP/1.1 20 OK\r\n\r\n"), &r, hv), 400);
    ck_assert_int_eq(response(LIT("HTTP/1.1 099 X\r\n\r\n"), &r, hv), 400);
    ck_assert_int_eq(response(LIT("HTTP/1.1 2000\r\n\r\n"), &r, hv), 400);
    ck_assert_int_eq(response(LIT("HTTP/2.0 200 OK\r\n\r\n"), &r, hv), 505);
    ck_assert_int_eq(response(LIT("GET / HTTP/1.1\r\n\r\n"), &r, hv), 400);
    ck_assert_int_eq(response(LIT("HTTP/1.1 200 OK\r\nA : b\r\n\r\n"), &r, hv), 400);
    ck_assert_int_eq(response(LIT("HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n"), &r, hv), 400);
    ck_assert_int_eq(response(LIT("HTTP/1.1 200 O\x01K\r\n\r\n"), &r, hv), 400);
    /* junk is refused before a line ends; a head still coming waits */
    ck_assert_int_eq(response(LIT("XTTP"), &r, hv), 400);
    ck_assert_int_eq(response(LIT("HTTP/1.1 200 OK\r\nA: b\r\n"), &r, hv), TP_AGAIN);
}
END_TEST

START_TEST(hop_by_hop)
{
    static const char *hop[] = {"connection",          "Keep-Alive", "proxy-authenticate",
                                "Proxy-Authorization", "te",         "Trailer",
                                "transfer-encoding",   "Upgrade"};
    for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
        ck_assert(tp__proxy_hop_by_hop(tp_slice_cstr(hop[i]), TP_SLICE_NULL));
    ck_assert(!tp__proxy_hop_by_hop(TP_SLICE_LIT("Content-Length"), TP_SLICE_NULL));
    ck_assert(!tp__proxy_hop_by_hop(TP_SLICE_LIT("X-Secret"), TP_SLICE_LIT("keep-alive")));
    ck_assert(tp__proxy_hop_by_hop(TP_SLICE_LIT("x-secret"), TP_SLICE_LIT("close, X-Secret")));
}
END_TEST

/* A request as the server would hand it over. */
static void make_request(tp_request *req, const char *method, const char *uri, size_t npath)
{
    memset(req, 0, sizeof(*req));
    tp_arena_init(&req->arena, 4096);
    tp_headers_init(&req->headers, &req->arena);
    req->method = tp_slice_cstr(method);
    req->uri = tp_slice_cstr(uri);
    req->path = (tp_slice){uri, npath};
    req->protocol = TP_SLICE_LIT("http");
    req->host = TP_SLICE_LIT("front.example");
    req->remote_ip = TP_SLICE_LIT("10.0.0.9");
}

START_TEST(request_head)
{
    tp_proxy_opts o = {.strip_prefix = "/app"};
    tp_upstream *up = tp__upstream_new("http://127.0.0.1:8081/base", "/app/.*", &o);
    ck_assert_ptr_nonnull(up);
    tp_request req;
    make_request(&req, "POST", "/app/x/y?q=1", 8);
    tp_headers_add(&req.headers, TP_SLICE_LIT("Host"), TP_SLICE_LIT("front.example"));
    tp_headers_add(&req.headers, TP_SLICE_LIT("Connection"), TP_SLICE_LIT("keep-alive, X-Hop"));
    tp_headers_add(&req.headers, TP_SLICE_LIT("X-Hop"), TP_SLICE_LIT("1"));
    tp_headers_add(&req.headers, TP_SLICE_LIT("X-Forwarded-For"), TP_SLICE_LIT("6.6.6.6"));
    tp_headers_add(&req.headers, TP_SLICE_LIT("Content-Length"), TP_SLICE_LIT("3"));
    tp_headers_add(&req.headers, TP_SLICE_LIT("Cookie"), TP_SLICE_LIT("a=b"));
    ck_assert_int_eq(tp__proxy_body_mode(&req), PROXY_BODY_LENGTH);
    ck_assert(!tp__proxy_wants_upgrade(&req));
    tp_buf b = {0};
    tp__proxy_request_head(up, &req, TP_SLICE_LIT("10.0.0.9"), false, PROXY_BODY_LENGTH, false, &b);
    tp_buf_append(&b, "", 1);
    ck_assert_str_eq(tp_buf_data(&b), "POST /base/x/y?q=1 HTTP/1.1\r\n"
                                      "Host: 127.0.0.1:8081\r\n"
                                      "Cookie: a=b\r\n"
                                      "X-Forwarded-For: 10.0.0.9\r\n"
                                      "X-Real-Ip: 10.0.0.9\r\n"
                                      "X-Forwarded-Proto: http\r\n"
                                      "X-Forwarded-Host: front.example\r\n"
                                      "Content-Length: 3\r\n"
                                      "\r\n");
    tp_buf_clear(&b);
    tp__proxy_request_head(up, &req, TP_SLICE_LIT("10.0.0.1"), true, PROXY_BODY_CHUNKED, false, &b);
    tp_buf_append(&b, "", 1);
    ck_assert_ptr_nonnull(strstr(tp_buf_data(&b), "X-Forwarded-For: 6.6.6.6, 10.0.0.1\r\n"));
    ck_assert_ptr_nonnull(strstr(tp_buf_data(&b), "Transfer-Encoding: chunked\r\n"));
    ck_assert_ptr_null(strstr(tp_buf_data(&b), "Content-Length"));
    tp_buf_free(&b);
    tp_arena_destroy(&req.arena);
    tp__upstream_unref(up);
}
END_TEST

START_TEST(upstream_urls)
{
    static const char *bad[] = {"https://a:1", "http://",     "http://:80",
                                "http://a:/x", "http://[::1", "ftp://x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_ptr_null(tp__upstream_new(bad[i], "/", NULL));
    tp_upstream *up = tp__upstream_new("http://[::1]:9/", "/", NULL);
    ck_assert_ptr_nonnull(up);
    ck_assert_str_eq(up->host_port, "[::1]:9");
    ck_assert_str_eq(up->base, "");
    tp__upstream_unref(up);
    up = tp__upstream_new("http://127.0.0.1", "/", NULL);
    ck_assert_ptr_nonnull(up);
    ck_assert_str_eq(up->host_port, "127.0.0.1:80");
    tp__upstream_unref(up);
}
END_TEST

Suite *proxy_suite(void)
{
    Suite *s = suite_create("proxy");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, response_ok);
    tcase_add_test(tc, response_bad);
    tcase_add_test(tc, hop_by_hop);
    tcase_add_test(tc, request_head);
    tcase_add_test(tc, upstream_urls);
    suite_add_tcase(s, tc);
    return s;
}
