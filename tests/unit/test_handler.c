/* The handler's life (web/web_internal.h): the transitions tp__handler_to allows, and, in one
 * process, that every handler is released exactly once whatever ends it: a method, its
 * initialize, a write_error called from a callback, a FallbackHandler's hand-over, or the
 * client leaving during the body, a streamed body or an async wait. An app listens on a
 * loopback port (the testing helpers' HTTP test case, on the fixture's fresh loop); a client
 * thread speaks HTTP/1.1 over blocking sockets; the loop runs on the test's thread
 * (tp_test_run_until) until the client is done and no handler is left in any app's live list
 * (or a generous deadline passes, which fails the test). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/async/executor.h"
#include "core/log.h"
#include "core/loop.h"
#include "tests/unit/suites.h"
#include "tp_testing.h"
#include "web/builtin_handlers.h"
#include "web/web_internal.h"

/* ---- the transition table ---------------------------------------------------------------- */

/* Every step listed beside enum tp_handler_state, taken once. */
START_TEST(listed_steps_are_allowed)
{
    static const enum tp_handler_state paths[][7] = {
        {HANDLER_NEW, HANDLER_PREPARING, HANDLER_PREPARED, HANDLER_IN_METHOD, HANDLER_WAITING,
         HANDLER_FINISHED, HANDLER_RELEASED},
        {HANDLER_NEW, HANDLER_INIT_FAILED, HANDLER_PREPARING, HANDLER_FINISHED, HANDLER_RELEASED},
        {HANDLER_NEW, HANDLER_INIT_FAILED, HANDLER_FINISHED, HANDLER_RELEASED},
        {HANDLER_NEW, HANDLER_FINISHED, HANDLER_RELEASED},
        {HANDLER_NEW, HANDLER_PREPARING, HANDLER_PREPARED, HANDLER_HANDED_OVER, HANDLER_RELEASED},
        {HANDLER_NEW, HANDLER_PREPARING, HANDLER_PREPARED, HANDLER_FINISHED, HANDLER_RELEASED},
        {HANDLER_NEW, HANDLER_PREPARING, HANDLER_PREPARED, HANDLER_IN_METHOD, HANDLER_FINISHED,
         HANDLER_RELEASED},
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        tp_handler h = {0};
        ck_assert_int_eq(h.state, HANDLER_NEW);
        for (size_t k = 1; k < 7 && paths[i][k] != HANDLER_NEW; k++) {
            tp__handler_to(&h, paths[i][k]);
            ck_assert_int_eq(h.state, paths[i][k]);
            ck_assert(tp__handler_done(&h) == (paths[i][k] >= HANDLER_FINISHED));
        }
        ck_assert_int_eq(h.state, HANDLER_RELEASED);
    }
}
END_TEST

#ifndef NDEBUG /* the steps below are refused by assert(), which NDEBUG compiles out */
/* The assert's message is expected: keep it out of the test output. */
static void quiet_stderr(void)
{
    FILE *null = fopen("/dev/null", "w");
    if (null)
        dup2(fileno(null), 2);
}

/* A finished handler cannot run a method again: the assert stops the process. */
START_TEST(unlisted_step_aborts)
{
    quiet_stderr();
    tp_handler h = {.state = HANDLER_FINISHED};
    tp__handler_to(&h, HANDLER_IN_METHOD);
}
END_TEST

/* Nor can a released one be released twice. */
START_TEST(second_release_aborts)
{
    quiet_stderr();
    tp_handler h = {.state = HANDLER_RELEASED};
    tp__handler_to(&h, HANDLER_RELEASED);
}
END_TEST
#endif

/* ---- the app under test ------------------------------------------------------------------ */

static struct {
    tp_loop *loop;
    tp_http_test *served; /* app on a port of loop */
    tp_app *app, *inner;
    int on_finish, on_close, methods, data_chunks;
    int want_finish; /* on_finish calls the test waits for */
    bool client_done;
    /* tp_handler_await's cases */
    tp_executor *pool;
    int await_cbs, awaited_cancelled, write_errors;
    tp_future *awaited; /* the future /await-close waits for (a reference) */
} F;

static void count_finish(tp_handler *h)
{
    (void)h;
    F.on_finish++;
}

static int hello_get(tp_handler *h)
{
    F.methods++;
    tp_write_str(h, "hello");
    return TP_OK;
}

/* initialize answers by itself: the method must not run, the request must end. */
static int init_finish(tp_handler *h, void *data)
{
    (void)data;
    tp_write_str(h, "from initialize");
    tp_finish(h);
    return TP_OK;
}

/* write_error finishes the handler itself (as Tornado's often do), so tp_send_error finds it
 * finished when write_error returns. */
static int finishing_write_error(tp_handler *h, int status)
{
    tp_writef(h, "error %d", status);
    tp_finish(h);
    return TP_OK;
}

static void send_error_later(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_send_error(arg, 503);
}

static int async_error_get(tp_handler *h)
{
    F.methods++;
    tp_loop_call_later(tp_loop_current(), 0, send_error_later, h);
    return TP_AGAIN;
}

/* The head and "w" go out (the client knows the wait began), then the handler waits for a
 * tp_finish that only comes after the client left. */
static int wait_get(tp_handler *h)
{
    F.methods++;
    tp_write_str(h, "w");
    tp_flush(h);
    return TP_AGAIN;
}

static void finish_later(tp_loop *loop, void *arg)
{
    (void)loop;
    ck_assert_int_eq(tp_write_str(arg, "dropped"), 0); /* still WAITING: taken, dropped */
    ck_assert_int_eq(tp_finish(arg), 0);
}

static void wait_closed(tp_handler *h)
{
    F.on_close++;
    tp_loop_call_later(tp_loop_current(), 0, finish_later, h);
}

static int stream_data(tp_handler *h, tp_slice chunk)
{
    (void)h, (void)chunk;
    F.data_chunks++;
    return TP_OK;
}

static void count_close(tp_handler *h)
{
    (void)h;
    F.on_close++;
}

/* ---- tp_handler_await ---------------------------------------------------------------- */

static void fail_later(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_future_set_error(arg, -EIO, "disk on fire");
    tp_future_unref(arg);
}

/* Does not handle the error: the 500 comes through write_error. */
static int unhandled(tp_handler *h, tp_future *f, void *arg)
{
    (void)h, (void)arg;
    F.await_cbs++;
    return tp_future_error(f) ? TP_ERROR : TP_OK;
}

static int await_error_get(tp_handler *h)
{
    tp_future *f = tp_future_new(tp_loop_current());
    tp_handler_await(h, f, unhandled, NULL);
    tp_loop_call_later(tp_loop_current(), 0, fail_later, f);
    return TP_AGAIN;
}

static int counting_write_error(tp_handler *h, int status)
{
    F.write_errors++;
    return tp_writef(h, "error %d", status);
}

/* On a worker thread. */
static int compute(void *arg, void **result)
{
    (void)arg;
    *result = tp_strndup("from a worker", 13);
    return 0;
}

static int write_result(tp_handler *h, tp_future *f, void *arg)
{
    (void)arg;
    F.await_cbs++;
    if (tp_future_error(f))
        return TP_ERROR;
    tp_write_str(h, tp_future_result(f));
    tp_free(tp_future_result(f));
    return TP_OK;
}

static int await_executor_get(tp_handler *h)
{
    tp_future *f = tp_run_in_executor(F.pool, tp_loop_current(), compute, NULL);
    tp_handler_await(h, f, write_result, NULL);
    tp_future_unref(f);
    return TP_AGAIN;
}

static void count_cancel(tp_future *f, void *arg)
{
    (void)arg;
    F.awaited_cancelled += tp_future_cancelled(f);
}

/* Waits for a future nobody completes: only the client leaving ends the wait. */
static int await_close_get(tp_handler *h)
{
    F.awaited = tp_future_new(tp_loop_current());
    tp_future_add_done_callback(F.awaited, count_cancel, NULL);
    tp_handler_await(h, F.awaited, unhandled, NULL);
    tp_write_str(h, "w");
    tp_flush(h);
    return TP_AGAIN;
}

static void finish_now(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_write_str(arg, "done without it");
    tp_finish(arg);
}

/* Awaits a future nobody completes, and finishes from a timer instead. */
static int await_abandon_get(tp_handler *h)
{
    F.awaited = tp_future_new(tp_loop_current());
    tp_future_add_done_callback(F.awaited, count_cancel, NULL);
    tp_handler_await(h, F.awaited, unhandled, NULL);
    tp_loop_call_later(tp_loop_current(), 0, finish_now, h);
    return TP_AGAIN;
}

static const tp_handler_class await_abandon = {
    .name = "AwaitAbandon", .get = await_abandon_get, .on_finish = count_finish};
static const tp_handler_class await_error = {.name = "AwaitError",
                                             .get = await_error_get,
                                             .write_error = counting_write_error,
                                             .on_finish = count_finish};
static const tp_handler_class await_executor = {
    .name = "AwaitExecutor", .get = await_executor_get, .on_finish = count_finish};
static const tp_handler_class await_close = {.name = "AwaitClose",
                                             .get = await_close_get,
                                             .on_connection_close = count_close,
                                             .on_finish = count_finish};

static const tp_handler_class hello = {
    .name = "Hello", .get = hello_get, .post = hello_get, .on_finish = count_finish};
static const tp_handler_class init_finishes = {
    .name = "InitFinishes", .initialize = init_finish, .get = hello_get, .on_finish = count_finish};
static const tp_handler_class async_error = {.name = "AsyncError",
                                             .get = async_error_get,
                                             .write_error = finishing_write_error,
                                             .on_finish = count_finish};
static const tp_handler_class waits = {
    .name = "Wait", .get = wait_get, .on_connection_close = wait_closed, .on_finish = count_finish};
static const tp_handler_class streams = {.name = "Stream",
                                         .flags = TP_STREAM_REQUEST_BODY,
                                         .post = hello_get,
                                         .data_received = stream_data,
                                         .on_connection_close = count_close,
                                         .on_finish = count_finish};

static int start_app(int want_finish)
{
    memset(&F, 0, sizeof(F));
    F.want_finish = want_finish;
    tp_log_set_access(false); /* the access log lines would only clutter the test output */
    F.loop = tp_test_loop();
    F.app = tp_app_new();
    F.inner = tp_app_new();
    ck_assert_int_eq(tp_app_route(F.app, "/", &hello, NULL), 0);
    ck_assert_int_eq(tp_app_route(F.app, "/init", &init_finishes, NULL), 0);
    ck_assert_int_eq(tp_app_route(F.app, "/async-error", &async_error, NULL), 0);
    ck_assert_int_eq(tp_app_route(F.app, "/wait", &waits, NULL), 0);
    ck_assert_int_eq(tp_app_route(F.app, "/stream", &streams, NULL), 0);
    ck_assert_int_eq(tp_app_route(F.app, "/fb/.*", &tp_fallback_handler, F.inner), 0);
    ck_assert_int_eq(tp_app_route(F.app, "/await-error", &await_error, NULL), 0);
    ck_assert_int_eq(tp_app_route(F.app, "/await-executor", &await_executor, NULL), 0);
    ck_assert_int_eq(tp_app_route(F.app, "/await-close", &await_close, NULL), 0);
    ck_assert_int_eq(tp_app_route(F.app, "/await-abandon", &await_abandon, NULL), 0);
    ck_assert_int_eq(tp_app_route(F.inner, "/fb/in", &hello, NULL), 0);
    F.served = tp_http_test_serve(F.loop, F.app);
    ck_assert_ptr_nonnull(F.served);
    int port = tp_http_test_port(F.served);
    ck_assert_int_gt(port, 0);
    return port;
}

static void stop_app(void)
{
    tp_http_test_free(F.served); /* frees F.app */
    tp_app_free(F.inner);
}

/* ---- the client (its own thread, blocking sockets) --------------------------------------- */

typedef struct conn {
    int fd;
    char buf[8192];
    size_t len;
} conn;

typedef struct reply {
    int status; /* -1: the connection closed (or 10 s passed) before a whole response */
    char body[256];
} reply;

static reply replies[4];

static void dial(conn *c, int port)
{
    c->len = 0;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {.tv_sec = 10}; /* only a hang takes this long */
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(c->fd);
        c->fd = -1;
    }
}

static void send_str(conn *c, const char *s)
{
    for (size_t n = strlen(s), k; n; n -= k, s += k) {
        ssize_t w = write(c->fd, s, n);
        if (w <= 0)
            return;
        k = (size_t)w;
    }
}

/* Reads until buf holds what (a response head's end, say); false on close or timeout. */
static bool read_until(conn *c, const char *what)
{
    for (;;) {
        c->buf[c->len] = '\0';
        if (strstr(c->buf, what))
            return true;
        ssize_t got = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
        if (got <= 0)
            return false;
        c->len += (size_t)got;
    }
}

/* One response with a Content-Length body (what these handlers send). */
static reply read_reply(conn *c)
{
    reply r = {.status = -1};
    while (read_until(c, "\r\n\r\n")) {
        char *end = strstr(c->buf, "\r\n\r\n");
        const char *cl = strstr(c->buf, "\r\nContent-Length: ");
        size_t n = cl && cl < end ? strtoul(cl + 18, NULL, 10) : 0;
        size_t head = (size_t)(end + 4 - c->buf);
        if (c->len >= head + n) {
            r.status = atoi(c->buf + 9);
            snprintf(r.body, sizeof(r.body), "%.*s", (int)n, end + 4);
            memmove(c->buf, c->buf + head + n, c->len - head - n);
            c->len -= head + n;
            return r;
        }
        ssize_t got = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
        if (got <= 0)
            break;
        c->len += (size_t)got;
    }
    return r;
}

/* GET path on c; the reply goes to replies[i]. */
static void get(conn *c, const char *path, int i)
{
    char req[128];
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    send_str(c, req);
    replies[i] = read_reply(c);
}

static void two_hellos(conn *c)
{
    get(c, "/", 0);
    get(c, "/", 1);
}

static void init_then_hello(conn *c)
{
    get(c, "/init", 0);
    get(c, "/", 1);
}

static void async_error_then_hello(conn *c)
{
    get(c, "/async-error", 0);
    get(c, "/", 1);
}

static void fallback_then_hello(conn *c)
{
    get(c, "/fb/in", 0);
    get(c, "/fb/none", 1);
    get(c, "/", 2);
}

/* GETs path and resets the connection once the head of the waiting handler's response has
 * come (a FIN goes unnoticed while the server does not read: see http/conn.c). */
static void leave_after_head(conn *c, const char *path)
{
    char req[128];
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    send_str(c, req);
    replies[0].status = read_until(c, "\r\n\r\n") ? atoi(c->buf + 9) : -1;
    struct linger rst = {.l_onoff = 1, .l_linger = 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
}

static void leave_during_wait(conn *c)
{
    leave_after_head(c, "/wait");
}

static void leave_during_streamed_body(conn *c)
{
    send_str(c, "POST /stream HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789");
}

static void leave_during_body(conn *c)
{
    send_str(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789");
}

static void await_error_then_hello(conn *c)
{
    get(c, "/await-error", 0);
    get(c, "/", 1);
}

static void await_executor_then_hello(conn *c)
{
    get(c, "/await-executor", 0);
    get(c, "/", 1);
}

static void await_abandon_then_hello(conn *c)
{
    get(c, "/await-abandon", 0);
    get(c, "/", 1);
}

static void leave_during_await(conn *c)
{
    leave_after_head(c, "/await-close");
}

static struct {
    void (*script)(conn *c);
    int port;
} client;

static void client_finished(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    F.client_done = true;
}

static void *client_main(void *arg)
{
    (void)arg;
    conn c;
    dial(&c, client.port);
    if (c.fd >= 0) {
        client.script(&c);
        close(c.fd);
    }
    tp_loop_add_callback_threadsafe(F.loop, client_finished, NULL);
    return NULL;
}

/* The client is done, on_finish ran as often as the test expects and no handler is left in
 * either app. */
static bool all_released(void *arg)
{
    (void)arg;
    return F.client_done && F.on_finish >= F.want_finish && !F.app->live && !F.inner->live;
}

/* Runs script on a client thread while the loop serves, until all_released, or a deadline no
 * working server comes near. */
static void run_client(void (*script)(conn *c), int port)
{
    client.script = script;
    client.port = port;
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, client_main, NULL), 0);
    int r = tp_test_run_until(F.loop, all_released, NULL, 20);
    pthread_join(t, NULL);
    ck_assert_msg(r == 0, "after 20 s: client %s, %d on_finish, handlers %s",
                  F.client_done ? "done" : "not done", F.on_finish,
                  F.app->live || F.inner->live ? "still live" : "released");
}

/* ---- the cases --------------------------------------------------------------------------- */

START_TEST(method_finishes)
{
    run_client(two_hellos, start_app(2));
    ck_assert_int_eq(replies[0].status, 200);
    ck_assert_str_eq(replies[1].body, "hello");
    stop_app();
}
END_TEST

/* The request ends when initialize has finished the handler: the next one on the connection
 * is served. */
START_TEST(initialize_finishes)
{
    run_client(init_then_hello, start_app(2));
    ck_assert_int_eq(replies[0].status, 200);
    ck_assert_str_eq(replies[0].body, "from initialize");
    ck_assert_int_eq(replies[1].status, 200);
    ck_assert_str_eq(replies[1].body, "hello");
    ck_assert_int_eq(F.methods, 1); /* the hello's only */
    stop_app();
}
END_TEST

/* tp_send_error from a callback, with a write_error that finishes: released once, and the
 * next request on the connection is served. */
START_TEST(write_error_finishes_from_a_callback)
{
    run_client(async_error_then_hello, start_app(2));
    ck_assert_int_eq(replies[0].status, 503);
    ck_assert_str_eq(replies[0].body, "error 503");
    ck_assert_int_eq(replies[1].status, 200);
    ck_assert_int_eq(F.on_finish, 2);
    stop_app();
}
END_TEST

/* The FallbackHandler is released without finishing the request; the inner app's handler
 * (or its 404) answers, and the connection goes on. */
START_TEST(fallback_hands_over)
{
    run_client(fallback_then_hello, start_app(2));
    ck_assert_int_eq(replies[0].status, 200);
    ck_assert_str_eq(replies[0].body, "hello");
    ck_assert_int_eq(replies[1].status, 404);
    ck_assert_int_eq(replies[2].status, 200);
    ck_assert_int_eq(F.on_finish, 2); /* the two hellos (the 404 handler has no on_finish) */
    stop_app();
}
END_TEST

/* on_connection_close once; the tp_finish that comes afterwards releases the handler. */
START_TEST(client_leaves_during_wait)
{
    run_client(leave_during_wait, start_app(1));
    ck_assert_int_eq(replies[0].status, 200);
    ck_assert_int_eq(F.methods, 1);
    ck_assert_int_eq(F.on_close, 1);
    ck_assert_int_eq(F.on_finish, 1);
    stop_app();
}
END_TEST

/* A streamed body that never completes: the handler is finished for it (prepare ran, the
 * method never does). */
START_TEST(client_leaves_during_streamed_body)
{
    run_client(leave_during_streamed_body, start_app(1));
    ck_assert_int_gt(F.data_chunks, 0);
    ck_assert_int_eq(F.on_close, 1);
    ck_assert_int_eq(F.methods, 0);
    ck_assert_int_eq(F.on_finish, 1);
    stop_app();
}
END_TEST

START_TEST(client_leaves_during_body)
{
    run_client(leave_during_body, start_app(1));
    ck_assert_int_eq(F.methods, 0);
    ck_assert_int_eq(F.on_finish, 1);
    stop_app();
}
END_TEST

/* An awaited future fails and the callback does not handle it: a 500 through write_error and
 * an error log line with the future's message; the worker goes on serving. */
START_TEST(await_error_reaches_write_error)
{
    char path[] = "/tmp/tp-await-log-XXXXXX";
    int log_fd = mkstemp(path);
    ck_assert_int_ge(log_fd, 0);
    unlink(path);
    tp_log_set_fd(log_fd);
    run_client(await_error_then_hello, start_app(2));
    tp_log_flush();
    tp_log_set_fd(2);
    char text[4096] = "";
    ssize_t n = pread(log_fd, text, sizeof(text) - 1, 0);
    close(log_fd);
    text[n > 0 ? n : 0] = '\0';
    ck_assert_int_eq(replies[0].status, 500);
    ck_assert_str_eq(replies[0].body, "error 500");
    ck_assert_int_eq(replies[1].status, 200);
    ck_assert_int_eq(F.await_cbs, 1);
    ck_assert_int_eq(F.write_errors, 1);
    ck_assert_msg(strstr(text, "Uncaught exception GET /await-error") &&
                      strstr(text, "disk on fire"),
                  "log: %s", text);
    stop_app();
}
END_TEST

/* A handler awaits a job of the thread pool and writes its result. */
START_TEST(await_executor_result)
{
    int port = start_app(2);
    F.pool = tp_executor_new(1);
    run_client(await_executor_then_hello, port);
    ck_assert_int_eq(replies[0].status, 200);
    ck_assert_str_eq(replies[0].body, "from a worker");
    ck_assert_int_eq(replies[1].status, 200);
    ck_assert_int_eq(F.await_cbs, 1);
    stop_app();
    tp_executor_free(F.pool);
}
END_TEST

/* The client leaves while the handler awaits: the future is cancelled (counted), the
 * callback never runs on the dead handler, and the handler is finished and released. */
START_TEST(await_cancelled_when_client_leaves)
{
    run_client(leave_during_await, start_app(1));
    ck_assert_int_eq(replies[0].status, 200);
    ck_assert_int_eq(F.on_close, 1);
    ck_assert_int_eq(F.on_finish, 1);
    ck_assert_int_eq(F.await_cbs, 0);
    ck_assert(tp_future_cancelled(F.awaited));
    tp_future_run_sync(F.loop, F.awaited, 30); /* its done callbacks have run */
    ck_assert_int_eq(F.awaited_cancelled, 1);
    tp_future_unref(F.awaited);
    stop_app();
}
END_TEST

/* The handler finishes without its awaited future: once released, the future is cancelled
 * and the callback never runs. */
START_TEST(await_dropped_when_handler_finishes)
{
    run_client(await_abandon_then_hello, start_app(2));
    ck_assert_int_eq(replies[0].status, 200);
    ck_assert_str_eq(replies[0].body, "done without it");
    ck_assert_int_eq(replies[1].status, 200);
    tp_future_run_sync(F.loop, F.awaited, 30);
    ck_assert(tp_future_cancelled(F.awaited));
    ck_assert_int_eq(F.awaited_cancelled, 1);
    ck_assert_int_eq(F.await_cbs, 0);
    tp_future_unref(F.awaited);
    stop_app();
}
END_TEST

Suite *handler_suite(void)
{
    Suite *s = suite_create("handler");
    TCase *tc = tcase_create("states");
    tcase_add_test(tc, listed_steps_are_allowed);
#ifndef NDEBUG
    tcase_add_test_raise_signal(tc, unlisted_step_aborts, SIGABRT);
    tcase_add_test_raise_signal(tc, second_release_aborts, SIGABRT);
#endif
    suite_add_tcase(s, tc);
    tc = tcase_create("release");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, tp_test_setup, tp_test_teardown);
    tcase_add_test(tc, method_finishes);
    tcase_add_test(tc, initialize_finishes);
    tcase_add_test(tc, write_error_finishes_from_a_callback);
    tcase_add_test(tc, fallback_hands_over);
    tcase_add_test(tc, client_leaves_during_wait);
    tcase_add_test(tc, client_leaves_during_streamed_body);
    tcase_add_test(tc, client_leaves_during_body);
    tcase_add_test(tc, await_error_reaches_write_error);
    tcase_add_test(tc, await_executor_result);
    tcase_add_test(tc, await_cancelled_when_client_leaves);
    tcase_add_test(tc, await_dropped_when_handler_finishes);
    suite_add_tcase(s, tc);
    return s;
}
