/* The ws_client suite's tests that connect (see test_ws_client.c): tp_ws_connect against our
 * own WebSocketHandler server on the test's loop (echo, subprotocols, headers, 403,
 * compression), against a canned server on the same loop (a wrong accept key, a server that
 * accepts and never answers), against a closed port, and against Python's websockets
 * (Debian's python3-websockets: an implementation that shares no code with ours). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/async/executor.h"
#include "core/log.h"
#include "core/loop.h"
#include "http/websocket/websocket.h"
#include "tests/unit/suites.h"
#include "tp_testing.h"
#include "web/app.h"
#include "web/websocket.h"

/* ---- the server: our own WebSocketHandler ------------------------------------------------ */

static int echo_message(tp_handler *h, tp_slice msg, bool binary)
{
    return tp_websocket_write_message(h, msg.p, msg.n, binary) == 0 ? TP_OK : TP_ERROR;
}

static bool compress_on(tp_handler *h, tp_ws_deflate_params *p)
{
    (void)h;
    *p = tp_ws_deflate_defaults();
    return true;
}

static const char *pick_b(tp_handler *h, const tp_slice *offered, size_t n)
{
    (void)h;
    for (size_t i = 0; i < n; i++)
        if (tp_slice_eq(offered[i], TP_SLICE_LIT("b")))
            return "b";
    return NULL;
}

/* open() sends what the request's X-Test and Cookie headers were. */
static int headers_open(tp_handler *h)
{
    const tp_headers *hd = &tp_handler_request(h)->headers;
    tp_slice x = tp_headers_get(hd, TP_SLICE_LIT("X-Test"));
    tp_slice c = tp_headers_get(hd, TP_SLICE_LIT("Cookie"));
    char msg[256];
    int n = snprintf(msg, sizeof msg, "%.*s|%.*s", TP_SLICE_FMT(x), TP_SLICE_FMT(c));
    return tp_websocket_write_message(h, msg, (size_t)n, false) == 0 ? TP_OK : TP_ERROR;
}

static const tp_websocket_class echo_ws = {
    .base = {TP_WEBSOCKET_BASE("Echo")},
    .on_message = echo_message,
    .select_subprotocol = pick_b,
};
static const tp_websocket_class deflate_ws = {
    .base = {TP_WEBSOCKET_BASE("DeflateEcho")},
    .on_message = echo_message,
    .get_compression_options = compress_on,
};
static const tp_websocket_class headers_ws = {
    .base = {TP_WEBSOCKET_BASE("Headers")},
    .open = headers_open,
    .on_message = echo_message,
};

/* ---- what the client saw ------------------------------------------------------------------ */

static struct {
    tp_loop *loop;
    tp_http_test *served; /* the server above, on loop */
    int port;
    tp_arena arena;
    tp_headers headers; /* custom request headers for a test to fill */
    /* the connect result */
    int done, error, status;
    char message[256], subprotocol[32], upgrade[32];
    bool deflate, server_no_takeover;
    /* the connection */
    char got[8][256];
    bool binary[8];
    int msgs, closes, close_code;
    int send_count; /* messages to send once connected; the connection closes after the echoes */
    bool over;      /* the connection is over: connect_run returns */
} T;

static void stop_soon(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    T.over = true;
}

static int on_message(tp_ws *ws, tp_slice msg, bool binary, void *arg)
{
    (void)arg;
    if (T.msgs < 8) {
        snprintf(T.got[T.msgs], sizeof T.got[0], "%.*s", TP_SLICE_FMT(msg));
        T.binary[T.msgs] = binary;
    }
    if (++T.msgs >= T.send_count)
        tp_ws_close(ws, TP_WS_NORMAL, "done");
    return TP_OK;
}

static void on_close(tp_ws *ws, int code, tp_slice reason, void *arg)
{
    (void)ws, (void)reason, (void)arg;
    T.closes++;
    T.close_code = code;
    tp_loop_call_later(T.loop, 0.05, stop_soon, NULL); /* lets the server finish its side */
}

static const tp_ws_callbacks callbacks = {.on_message = on_message, .on_close = on_close};

static void on_done(const tp_ws_connect_result *r, void *arg)
{
    (void)arg;
    T.done++;
    T.error = r->error;
    T.status = r->status;
    snprintf(T.message, sizeof T.message, "%s", r->message ? r->message : "");
    snprintf(T.subprotocol, sizeof T.subprotocol, "%s", r->subprotocol ? r->subprotocol : "");
    if (r->headers) {
        tp_slice up = tp_headers_get(r->headers, TP_SLICE_LIT("Upgrade"));
        snprintf(T.upgrade, sizeof T.upgrade, "%.*s", TP_SLICE_FMT(up));
    }
    if (!r->ws) {
        tp_loop_call_later(T.loop, 0.01, stop_soon, NULL);
        return;
    }
    T.deflate = tp_ws_deflate(r->ws)->enabled;
    T.server_no_takeover = tp_ws_deflate(r->ws)->server_no_context_takeover;
    if (T.send_count == 0)
        tp_ws_close(r->ws, TP_WS_NORMAL, NULL);
    for (int i = 0; i < T.send_count; i++) {
        char m[32];
        int n = snprintf(m, sizeof m, "message %d", i);
        ck_assert_int_eq(tp_ws_write_message(r->ws, m, (size_t)n, i % 2 == 1, NULL, NULL), 0);
    }
}

static void net_setup(void)
{
    memset(&T, 0, sizeof T);
    tp_test_setup();
    tp_log_set_access(false);
    T.loop = tp_test_loop();
    tp_arena_init(&T.arena, 0);
    tp_headers_init(&T.headers, &T.arena);
    tp_app *app = tp_app_new();
    ck_assert_int_eq(tp_app_route(app, "/echo", &echo_ws.base, NULL), 0);
    ck_assert_int_eq(tp_app_route(app, "/deflate", &deflate_ws.base, NULL), 0);
    ck_assert_int_eq(tp_app_route(app, "/headers", &headers_ws.base, NULL), 0);
    T.served = tp_http_test_serve(T.loop, app);
    ck_assert_ptr_nonnull(T.served);
    T.port = tp_http_test_port(T.served);
    ck_assert_int_gt(T.port, 0);
}

static void net_teardown(void)
{
    tp_http_test_free(T.served);
    tp_arena_destroy(&T.arena);
    tp_test_teardown();
}

static bool is_over(void *arg)
{
    (void)arg;
    return T.over;
}

/* Connects to url (a %d in it is the port) and runs the loop until it is over. */
static void connect_run(const char *fmt, int port, const tp_ws_connect_opts *o)
{
    char url[256];
    snprintf(url, sizeof url, fmt, port);
    T.over = false;
    ck_assert_int_eq(tp_ws_connect(T.loop, url, o, &callbacks, NULL, on_done, NULL), 0);
    ck_assert_int_eq(tp_test_run_until(T.loop, is_over, NULL, 10), 0);
    ck_assert_int_eq(T.done, 1);
}

/* ---- the canned server: reads a request head, answers as told ----------------------------- */

enum canned_mode { CANNED_SILENT, CANNED_BAD_ACCEPT, CANNED_UNOFFERED_PROTOCOL };

static struct {
    int lfd, cfd, port;
    enum canned_mode mode;
    char req[4096];
    size_t len;
} C = {.lfd = -1, .cfd = -1};

static void canned_answer(void)
{
    char accept[29] = "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", out[512];
    const char *k = strstr(C.req, "Sec-WebSocket-Key: ");
    ck_assert_ptr_nonnull(k);
    if (C.mode == CANNED_UNOFFERED_PROTOCOL)
        tp_ws_accept_key(tp_slice_make(k + 19, strcspn(k + 19, "\r")), accept);
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s\r\n",
                     accept,
                     C.mode == CANNED_UNOFFERED_PROTOCOL ? "Sec-WebSocket-Protocol: z\r\n" : "");
    ck_assert_int_eq(write(C.cfd, out, (size_t)n), n);
}

static void canned_read(tp_loop *loop, int fd, unsigned events, void *arg)
{
    (void)events, (void)arg;
    bool had_head = strstr(C.req, "\r\n\r\n") != NULL;
    ssize_t r = read(fd, C.req + C.len, sizeof C.req - 1 - C.len);
    if (r <= 0) {
        tp_loop_remove_fd(loop, fd);
        close(fd);
        C.cfd = -1;
        return;
    }
    C.len += (size_t)r;
    C.req[C.len] = 0;
    if (!had_head && strstr(C.req, "\r\n\r\n") && C.mode != CANNED_SILENT)
        canned_answer();
}

static void canned_accept(tp_loop *loop, int fd, unsigned events, void *arg)
{
    (void)events, (void)arg;
    int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0)
        return;
    ck_assert_int_eq(C.cfd, -1);
    C.cfd = c;
    ck_assert_int_eq(tp_loop_add_fd(loop, c, TP_READ, canned_read, NULL), 0);
}

/* A socket bound on 127.0.0.1 that does not listen (port in *port): connecting is refused. */
static int bind_unlistened(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void canned_start(enum canned_mode mode)
{
    C.mode = mode;
    C.len = 0;
    C.cfd = -1;
    C.lfd = tp_test_bind_unused_port(&C.port);
    ck_assert_int_ge(C.lfd, 0);
    ck_assert_int_eq(tp_loop_add_fd(T.loop, C.lfd, TP_READ, canned_accept, NULL), 0);
}

static void canned_stop(void)
{
    int fds[2] = {C.cfd, C.lfd};
    for (int i = 0; i < 2; i++) {
        if (fds[i] >= 0) {
            tp_loop_remove_fd(T.loop, fds[i]);
            close(fds[i]);
        }
    }
    C.cfd = C.lfd = -1;
}

/* ---- the tests ----------------------------------------------------------------------------- */

START_TEST(connect_and_echo)
{
    T.send_count = 4;
    connect_run("ws://127.0.0.1:%d/echo", T.port, NULL);
    ck_assert_int_eq(T.error, 0);
    ck_assert_int_eq(T.status, 101);
    ck_assert_str_eq(T.upgrade, "websocket");
    ck_assert_str_eq(T.subprotocol, "");
    ck_assert(!T.deflate);
    ck_assert_int_eq(T.msgs, 4);
    for (int i = 0; i < 4; i++) {
        char want[32];
        snprintf(want, sizeof want, "message %d", i);
        ck_assert_str_eq(T.got[i], want);
        ck_assert(T.binary[i] == (i % 2 == 1));
    }
    ck_assert_int_eq(T.closes, 1);
    ck_assert_int_eq(T.close_code, TP_WS_NORMAL); /* the server echoed our close code */
}
END_TEST

/* localhost may resolve to ::1 first, where nothing listens: the next address is tried. */
START_TEST(connect_by_name)
{
    T.send_count = 1;
    connect_run("ws://localhost:%d/echo?x=1", T.port, NULL);
    ck_assert_int_eq(T.error, 0);
    ck_assert_int_eq(T.msgs, 1);
}
END_TEST

/* With opts.resolver the name is resolved on the thread pool (core/netutil's tp_resolve). */
START_TEST(connect_by_name_on_resolver)
{
    tp_executor *pool = tp_executor_new(1);
    tp_ws_connect_opts o = {.resolver = pool};
    T.send_count = 1;
    connect_run("ws://localhost:%d/echo", T.port, &o);
    ck_assert_int_eq(T.error, 0);
    ck_assert_int_eq(T.msgs, 1);
    tp_executor_free(pool);
}
END_TEST

/* A name that cannot resolve (RFC 6761's .invalid) fails the connect with -EHOSTUNREACH. */
START_TEST(unresolvable_name_on_resolver)
{
    tp_executor *pool = tp_executor_new(1);
    tp_ws_connect_opts o = {.resolver = pool};
    connect_run("ws://no-such-host.invalid:%d/echo", T.port, &o);
    ck_assert_int_eq(T.error, -EHOSTUNREACH);
    ck_assert_int_eq(T.status, 0);
    tp_executor_free(pool);
}
END_TEST

/* Holds the pool's only worker until a byte comes on the pipe (on a worker thread). */
static int hold_worker(void *arg, void **result)
{
    (void)result;
    char b;
    return read(*(int *)arg, &b, 1) == 1 ? 0 : -EIO;
}

/* connect_timeout covers the resolve: the connect fails while its resolve job still waits
 * for a worker; the resolve is cancelled, and the connect is freed once its callback ran
 * (ASan checks that nothing is used after, or leaked). */
START_TEST(timeout_while_resolving)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    tp_executor *pool = tp_executor_new(1);
    tp_future *held = tp_run_in_executor(pool, T.loop, hold_worker, &p[0]);
    tp_ws_connect_opts o = {.resolver = pool, .connect_timeout = 0.1};
    connect_run("ws://localhost:%d/echo", T.port, &o);
    ck_assert_int_eq(T.error, -ETIMEDOUT);
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    ck_assert_int_eq(tp_future_run_sync(T.loop, held, 10), 0);
    tp_executor_free(pool); /* the cancelled resolve job is skipped */
    tp_future *settle = tp_sleep(T.loop, 0.01);
    ck_assert_int_eq(tp_future_run_sync(T.loop, settle, 10), 0);
    tp_future_unref(settle);
    tp_future_unref(held);
    close(p[0]);
    close(p[1]);
}
END_TEST

START_TEST(subprotocol_selected)
{
    static const char *const offer[] = {"a", "b", NULL};
    tp_ws_connect_opts o = {.subprotocols = offer};
    connect_run("ws://127.0.0.1:%d/echo", T.port, &o);
    ck_assert_int_eq(T.error, 0);
    ck_assert_str_eq(T.subprotocol, "b");
    ck_assert_int_eq(T.closes, 1);
}
END_TEST

START_TEST(custom_headers_seen)
{
    tp_headers_add(&T.headers, TP_SLICE_LIT("X-Test"), TP_SLICE_LIT("value 1"));
    tp_headers_add(&T.headers, TP_SLICE_LIT("Cookie"), TP_SLICE_LIT("session=abc"));
    tp_ws_connect_opts o = {.headers = &T.headers};
    T.send_count = 1; /* open()'s message */
    connect_run("ws://127.0.0.1:%d/headers", T.port, &o);
    ck_assert_int_eq(T.error, 0);
    ck_assert_str_eq(T.got[0], "value 1|session=abc");
}
END_TEST

/* check_origin's default refuses an Origin from another host: 403 before any upgrade. */
START_TEST(forbidden_status)
{
    tp_headers_add(&T.headers, TP_SLICE_LIT("Origin"), TP_SLICE_LIT("http://evil.example"));
    tp_ws_connect_opts o = {.headers = &T.headers};
    connect_run("ws://127.0.0.1:%d/echo", T.port, &o);
    ck_assert_int_eq(T.error, -EPROTO);
    ck_assert_int_eq(T.status, 403);
    ck_assert_str_eq(T.message, "HTTP 403: Forbidden");
    ck_assert_int_eq(T.closes, 0);
}
END_TEST

START_TEST(not_found_status)
{
    connect_run("ws://127.0.0.1:%d/nowhere", T.port, NULL);
    ck_assert_int_eq(T.error, -EPROTO);
    ck_assert_int_eq(T.status, 404);
}
END_TEST

START_TEST(compression_negotiated)
{
    tp_ws_connect_opts o = {.compression = true};
    T.send_count = 2;
    connect_run("ws://127.0.0.1:%d/deflate", T.port, &o);
    ck_assert_int_eq(T.error, 0);
    ck_assert(T.deflate);
    ck_assert_int_eq(T.msgs, 2);
    ck_assert_str_eq(T.got[0], "message 0");
    ck_assert_str_eq(T.got[1], "message 1");
}
END_TEST

/* One parameter set, the others zero: they take the defaults. */
START_TEST(compression_with_parameters)
{
    tp_ws_connect_opts o = {.compression = true, .deflate = {.server_no_context_takeover = true}};
    T.send_count = 3;
    connect_run("ws://127.0.0.1:%d/deflate", T.port, &o);
    ck_assert_int_eq(T.error, 0);
    ck_assert(T.deflate && T.server_no_takeover);
    ck_assert_int_eq(T.msgs, 3);
    ck_assert_str_eq(T.got[2], "message 2");
}
END_TEST

START_TEST(compression_declined)
{
    tp_ws_connect_opts o = {.compression = true};
    T.send_count = 1;
    connect_run("ws://127.0.0.1:%d/echo", T.port, &o); /* this class offers none */
    ck_assert_int_eq(T.error, 0);
    ck_assert(!T.deflate);
    ck_assert_int_eq(T.msgs, 1);
}
END_TEST

START_TEST(connect_timeout)
{
    canned_start(CANNED_SILENT);
    tp_ws_connect_opts o = {.connect_timeout = 0.3};
    double t0 = tp__monotonic();
    connect_run("ws://127.0.0.1:%d/", C.port, &o);
    double took = tp__monotonic() - t0;
    canned_stop();
    ck_assert_int_eq(T.error, -ETIMEDOUT);
    ck_assert_int_eq(T.status, 0);
    ck_assert_msg(took >= 0.29 && took < 3, "took %.3f s", took);
    ck_assert_ptr_nonnull(strstr(C.req, "GET / HTTP/1.1\r\n")); /* the request went out */
}
END_TEST

START_TEST(connection_refused)
{
    int port, fd = bind_unlistened(&port); /* bound, not listening: refused */
    connect_run("ws://127.0.0.1:%d/", port, NULL);
    close(fd);
    ck_assert_int_eq(T.error, -ECONNREFUSED);
    ck_assert_int_eq(T.status, 0);
}
END_TEST

START_TEST(bad_accept_key)
{
    canned_start(CANNED_BAD_ACCEPT);
    connect_run("ws://127.0.0.1:%d/", C.port, NULL);
    canned_stop();
    ck_assert_int_eq(T.error, -EPROTO);
    ck_assert_int_eq(T.status, 0);
    ck_assert_str_eq(T.message, "Sec-WebSocket-Accept does not match the key");
}
END_TEST

START_TEST(unoffered_subprotocol)
{
    static const char *const offer[] = {"a", NULL};
    tp_ws_connect_opts o = {.subprotocols = offer};
    canned_start(CANNED_UNOFFERED_PROTOCOL);
    connect_run("ws://127.0.0.1:%d/", C.port, &o);
    canned_stop();
    ck_assert_int_eq(T.error, -EPROTO);
    ck_assert_ptr_nonnull(strstr(C.req, "\r\nSec-WebSocket-Protocol: a\r\n"));
}
END_TEST

/* ---- Python's websockets ------------------------------------------------------------------ */

static const char py_server[] =
    "import asyncio, websockets\n"
    "async def echo(ws, path=None):\n"
    "    async for m in ws:\n"
    "        await ws.send(m)\n"
    "async def main():\n"
    "    async with websockets.serve(echo, '127.0.0.1', 0, compression='deflate',\n"
    "                                subprotocols=['x', 'y']) as srv:\n"
    "        print(srv.sockets[0].getsockname()[1], flush=True)\n"
    "        await asyncio.Future()\n"
    "asyncio.run(main())\n";

/* Starts the server; returns its port. *pid is the child, *out the pipe of its stdout (kept
 * open until the end: a closed pipe would break the server's print). */
static int py_start(pid_t *pid, int *out)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    *pid = fork();
    ck_assert_int_ge(*pid, 0);
    if (*pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* gone with the test, even when an assert ends it */
        dup2(p[1], 1);
        close(p[0]);
        execl("/usr/bin/python3", "python3", "-c", py_server, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    *out = p[0];
    char line[32] = "";
    size_t len = 0;
    struct pollfd pf = {.fd = p[0], .events = POLLIN};
    while (!memchr(line, '\n', len) && len < sizeof line - 1 && poll(&pf, 1, 10000) == 1) {
        ssize_t n = read(p[0], line + len, sizeof line - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    ck_assert_msg(memchr(line, '\n', len), "python3 websockets server did not start");
    return atoi(line);
}

START_TEST(python_websockets_peer)
{
    pid_t pid;
    int out, port = py_start(&pid, &out);
    static const char *const offer[] = {"y", NULL};
    tp_ws_connect_opts o = {.compression = true, .subprotocols = offer};
    T.send_count = 3;
    connect_run("ws://127.0.0.1:%d/", port, &o);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    close(out);
    ck_assert_int_eq(T.error, 0);
    ck_assert(T.deflate);
    ck_assert_str_eq(T.subprotocol, "y");
    ck_assert_int_eq(T.msgs, 3);
    ck_assert_str_eq(T.got[2], "message 2");
    ck_assert(T.binary[1] && !T.binary[2]);
    ck_assert_int_eq(T.close_code, TP_WS_NORMAL);
}
END_TEST

void ws_client_add_net_tests(Suite *s)
{
    TCase *tc = tcase_create("connect");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_checked_fixture(tc, net_setup, net_teardown);
    tcase_add_test(tc, connect_and_echo);
    tcase_add_test(tc, connect_by_name);
    tcase_add_test(tc, connect_by_name_on_resolver);
    tcase_add_test(tc, unresolvable_name_on_resolver);
    tcase_add_test(tc, timeout_while_resolving);
    tcase_add_test(tc, subprotocol_selected);
    tcase_add_test(tc, custom_headers_seen);
    tcase_add_test(tc, forbidden_status);
    tcase_add_test(tc, not_found_status);
    tcase_add_test(tc, compression_negotiated);
    tcase_add_test(tc, compression_with_parameters);
    tcase_add_test(tc, compression_declined);
    tcase_add_test(tc, connect_timeout);
    tcase_add_test(tc, connection_refused);
    tcase_add_test(tc, bad_accept_key);
    tcase_add_test(tc, unoffered_subprotocol);
    tcase_add_test(tc, python_websockets_peer);
    suite_add_tcase(s, tc);
}
