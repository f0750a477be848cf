/* tp_ws_connect (http/websocket/client.c): the URL, the request and the 101 checks on their
 * own (case "handshake"), then whole connects (case "connect", tests/unit/ws_client_net.c)
 * against a canned server on the test's loop and a Python websockets server. */
#include <errno.h>
#include <string.h>

#include "http/websocket/client_internal.h"
#include "tests/unit/suites.h"

static tp_arena A;

static void setup(void)
{
    tp_arena_init(&A, 0);
}

static void teardown(void)
{
    tp_arena_destroy(&A);
}

static tp_ws_url url_ok(const char *s)
{
    tp_ws_url u;
    int rc = tp__ws_parse_url(s, &A, &u);
    ck_assert_msg(rc == 0, "%s: %d", s, rc);
    return u;
}

START_TEST(url_forms)
{
    tp_ws_url u = url_ok("ws://127.0.0.1:8888/echo?x=1&y=2");
    ck_assert_str_eq(u.host, "127.0.0.1");
    ck_assert_str_eq(u.port, "8888");
    ck_assert_str_eq(u.netloc, "127.0.0.1:8888");
    ck_assert_str_eq(u.resource, "/echo?x=1&y=2");
    u = url_ok("WS://Example.com");
    ck_assert_str_eq(u.host, "Example.com");
    ck_assert_str_eq(u.port, "80");
    ck_assert_str_eq(u.netloc, "Example.com");
    ck_assert_str_eq(u.resource, "/");
    u = url_ok("ws://[::1]:9000/a/b#frag");
    ck_assert_str_eq(u.host, "::1");
    ck_assert_str_eq(u.port, "9000");
    ck_assert_str_eq(u.netloc, "[::1]:9000");
    ck_assert_str_eq(u.resource, "/a/b");
    u = url_ok("ws://[::1]");
    ck_assert_str_eq(u.host, "::1");
    ck_assert_str_eq(u.port, "80");
    u = url_ok("ws://h?q=1");
    ck_assert_str_eq(u.resource, "/?q=1");
    u = url_ok("ws://h:/p");
    ck_assert_str_eq(u.port, "80");
}
END_TEST

START_TEST(url_rejected)
{
    static const char *bad[] = {
        "http://h/",    "ws:/h/",       "ws://",       "ws:///path",  "ws://h:0/",
        "ws://h:65536", "ws://h:12a/",  "ws://u:p@h/", "ws://h/a b",  "ws://h/a\r\nX: y",
        "ws://[::1/",   "ws://[::1]x/", "ws://a:b:c/", "ws://h\x7f/", "echo",
    };
    tp_ws_url u;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(tp__ws_parse_url(bad[i], &A, &u) == -EINVAL, "%s accepted", bad[i]);
    ck_assert_int_eq(tp__ws_parse_url("wss://h/", &A, &u), -EPROTONOSUPPORT);
    ck_assert_int_eq(tp__ws_parse_url("WSS://h:443/x", &A, &u), -EPROTONOSUPPORT);
}
END_TEST

START_TEST(request_fields)
{
    tp_ws_url u = url_ok("ws://127.0.0.1:8888/chat?room=1");
    tp_headers h;
    tp_headers_init(&h, &A);
    tp_headers_add(&h, TP_SLICE_LIT("Origin"), TP_SLICE_LIT("http://127.0.0.1:8888"));
    tp_headers_add(&h, TP_SLICE_LIT("upgrade"), TP_SLICE_LIT("h2c")); /* ours wins */
    tp_headers_add(&h, TP_SLICE_LIT("Cookie"), TP_SLICE_LIT("a=1"));
    const char *sp[] = {"a", "b", NULL};
    tp_ws_connect_opts o = {.subprotocols = sp, .headers = &h};
    tp_buf b = {0};
    ck_assert_int_eq(
        tp__ws_build_request(&b, &u, "dGhlIHNhbXBsZSBub25jZQ==", &o,
                             TP_SLICE_LIT("permessage-deflate; client_max_window_bits")),
        0);
    tp_buf_append(&b, "", 1);
    ck_assert_str_eq(tp_buf_data(&b), "GET /chat?room=1 HTTP/1.1\r\n"
                                      "Host: 127.0.0.1:8888\r\n"
                                      "Origin: http://127.0.0.1:8888\r\n"
                                      "Cookie: a=1\r\n"
                                      "Upgrade: websocket\r\n"
                                      "Connection: Upgrade\r\n"
                                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                      "Sec-WebSocket-Version: 13\r\n"
                                      "Sec-WebSocket-Protocol: a,b\r\n"
                                      "Sec-WebSocket-Extensions: permessage-deflate; "
                                      "client_max_window_bits\r\n"
                                      "\r\n");
    tp_buf_free(&b);
}
END_TEST

START_TEST(request_custom_host_and_bad_fields)
{
    tp_ws_url u = url_ok("ws://[::1]:9/");
    tp_headers h;
    tp_headers_init(&h, &A);
    tp_headers_add(&h, TP_SLICE_LIT("Host"), TP_SLICE_LIT("example.com"));
    tp_ws_connect_opts o = {.headers = &h};
    tp_buf b = {0};
    ck_assert_int_eq(tp__ws_build_request(&b, &u, "k", &o, TP_SLICE_NULL), 0);
    tp_buf_append(&b, "", 1);
    ck_assert_ptr_nonnull(strstr(tp_buf_data(&b), "\r\nHost: example.com\r\n"));
    ck_assert_ptr_null(strstr(tp_buf_data(&b), "[::1]"));
    ck_assert_ptr_null(strstr(tp_buf_data(&b), "Sec-WebSocket-Protocol"));
    ck_assert_ptr_null(strstr(tp_buf_data(&b), "Sec-WebSocket-Extensions"));
    tp_buf_clear(&b);
    tp_headers_add(&h, TP_SLICE_LIT("X-Bad"), TP_SLICE_LIT("a\r\nInjected: 1"));
    ck_assert_int_eq(tp__ws_build_request(&b, &u, "k", &o, TP_SLICE_NULL), -EINVAL);
    tp_buf_clear(&b);
    const char *sp[] = {"ok", "not a token", NULL};
    tp_ws_connect_opts o2 = {.subprotocols = sp};
    ck_assert_int_eq(tp__ws_build_request(&b, &u, "k", &o2, TP_SLICE_NULL), -EINVAL);
    tp_buf_free(&b);
}
END_TEST

/* RFC 6455 §1.3's example key and accept value. */
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define HEAD_101                                                                                   \
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: keep-alive, "           \
    "Upgrade\r\n"                                                                                  \
    "Sec-WebSocket-Accept: " ACCEPT "\r\n"

/* Parses and checks head; returns the check's result (or the parser's), *msg its message. */
static int check(const char *head, const char *const *offered, const char **sub, const char **msg)
{
    tp_ws_response r;
    tp_ws_deflate_params d;
    *msg = NULL;
    int rc = tp__ws_parse_response(tp_slice_cstr(head), &A, &r, msg);
    if (rc == 0)
        rc = tp__ws_check_response(&r, ACCEPT, offered, NULL, &A, sub, &d, msg);
    if (rc == 0)
        ck_assert(!d.enabled);
    return rc;
}

START_TEST(response_ok_and_subprotocol)
{
    const char *sub, *msg;
    const char *offered[] = {"chat", "superchat", NULL};
    ck_assert_int_eq(check(HEAD_101 "\r\n", offered, &sub, &msg), 0);
    ck_assert_ptr_null(sub);
    ck_assert_int_eq(
        check(HEAD_101 "Sec-WebSocket-Protocol: superchat\r\n\r\n", offered, &sub, &msg), 0);
    ck_assert_ptr_eq(sub, offered[1]);
    ck_assert_int_eq(check(HEAD_101 "Sec-WebSocket-Protocol: other\r\n\r\n", offered, &sub, &msg),
                     -EPROTO);
    ck_assert_ptr_nonnull(strstr(msg, "\"other\""));
    ck_assert_int_eq(check(HEAD_101 "Sec-WebSocket-Protocol: chat\r\n\r\n", NULL, &sub, &msg),
                     -EPROTO);
}
END_TEST

START_TEST(response_rejected)
{
    const char *sub, *msg;
    ck_assert_int_eq(check("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", NULL, &sub, &msg),
                     -EPROTO);
    ck_assert_str_eq(msg, "HTTP 403: Forbidden");
    ck_assert_int_eq(
        check("HTTP/1.1 302 Found\r\nLocation: ws://elsewhere/\r\n\r\n", NULL, &sub, &msg),
        -EPROTO);
    ck_assert_str_eq(msg, "HTTP 302: Found");
    ck_assert_int_eq(check("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: "
                           "Upgrade\r\nSec-WebSocket-Accept: xxxxPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
                           NULL, &sub, &msg),
                     -EPROTO);
    ck_assert_str_eq(msg, "Sec-WebSocket-Accept does not match the key");
    ck_assert_int_eq(check("HTTP/1.1 101 OK\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
                           NULL, &sub, &msg),
                     -EPROTO);
    ck_assert_int_eq(check("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: close\r\n"
                           "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
                           NULL, &sub, &msg),
                     -EPROTO);
    /* an extension answer to no offer */
    ck_assert_int_eq(
        check(HEAD_101 "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n", NULL, &sub, &msg),
        -EPROTO);
}
END_TEST

START_TEST(response_malformed)
{
    static const char *bad[] = {
        "HTTP/2 101 x\r\n\r\n",
        "HTTP/1.1 10 x\r\n\r\n",
        "HTTP/1.1 101x\r\n\r\n",
        "ICY 200 OK\r\n\r\n",
        HEAD_101 "No colon here\r\n\r\n",
        HEAD_101 " folded: line\r\n\r\n",
        HEAD_101 "Bad Name: x\r\n\r\n",
        HEAD_101 "X: a\x01b\r\n\r\n",
        HEAD_101, /* no blank line */
    };
    const char *sub, *msg;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(check(bad[i], NULL, &sub, &msg) == -EPROTO, "accepted: %s", bad[i]);
        ck_assert_ptr_nonnull(msg);
    }
    ck_assert_int_eq(check("HTTP/1.0 101\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
                           "Sec-WebSocket-Accept:   " ACCEPT "  \r\n\r\n",
                           NULL, &sub, &msg),
                     0);
}
END_TEST

static void noop_done(const tp_ws_connect_result *r, void *arg)
{
    (void)r, (void)arg;
    ck_abort_msg("done must not run for a refused URL");
}

START_TEST(connect_bad_url)
{
    static const tp_ws_callbacks cb = {0};
    tp_loop *loop = tp_loop_new();
    ck_assert_int_eq(tp_ws_connect(loop, "http://127.0.0.1/", NULL, &cb, NULL, noop_done, NULL),
                     -EINVAL);
    ck_assert_int_eq(tp_ws_connect(loop, "wss://127.0.0.1/", NULL, &cb, NULL, noop_done, NULL),
                     -EPROTONOSUPPORT);
    ck_assert_int_eq(tp_loop_live_handles(loop), 0);
    tp_loop_free(loop);
}
END_TEST

Suite *ws_client_suite(void)
{
    Suite *s = suite_create("ws_client");
    TCase *tc = tcase_create("handshake");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, url_forms);
    tcase_add_test(tc, url_rejected);
    tcase_add_test(tc, request_fields);
    tcase_add_test(tc, request_custom_host_and_bad_fields);
    tcase_add_test(tc, response_ok_and_subprotocol);
    tcase_add_test(tc, response_rejected);
    tcase_add_test(tc, response_malformed);
    tcase_add_test(tc, connect_bad_url);
    suite_add_tcase(s, tc);
    ws_client_add_net_tests(s);
    return s;
}
