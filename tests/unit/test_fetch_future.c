/* tp_http_fetch_future: AsyncHTTPClient.fetch as a future. Its result is the response, an
 * HTTP error or a bad request its error, a cancel stops the transfer (the peer sees the
 * connection close); and a handler awaiting a fetch (tp_handler_await) answers from the
 * response, answers 500 on an error, and cancels the fetch when its own client leaves. The
 * app serves on the testing helpers' HTTP test case; a "black hole" port accepts and never
 * answers. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/unit/suites.h"
#include "tp_testing.h"

static struct {
    tp_http_client *client;
    tp_http_test *t;
    int hole_fd, hole_port; /* a listening socket nobody answers on */
    int hole_conn;          /* the connection the fetch made to it, once accepted */
    int cancelled;          /* awaited fetches whose future was cancelled */
} F;

static int hello_get(tp_handler *h)
{
    return tp_write_str(h, "hello");
}

static char *url_of(const char *path)
{
    static char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", tp_http_test_port(F.t), path);
    return url;
}

static int write_fetched(tp_handler *h, tp_future *f, void *arg)
{
    (void)arg;
    if (tp_future_error(f))
        return TP_ERROR; /* unhandled: the 500 comes through write_error */
    tp_http_response *r = tp_future_result(f);
    tp_writef(h, "outer:%.*s", (int)r->body.n, r->body.p);
    return TP_OK;
}

/* Fetches the path in its query from this same server and answers with what came back. */
static int outer_get(tp_handler *h)
{
    tp_http_request req;
    tp_http_request_init(&req, url_of(tp_get_argument(h, "path", "/hello")));
    tp_future *f = tp_http_fetch_future(F.client, &req);
    tp_handler_await(h, f, write_fetched, NULL);
    tp_future_unref(f);
    return TP_AGAIN;
}

static void count_cancel(tp_future *f, void *arg)
{
    (void)arg;
    F.cancelled += tp_future_cancelled(f);
}

/* Fetches from the black hole: only its own client leaving ends the wait. */
static int hang_get(tp_handler *h)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", F.hole_port);
    tp_http_request req;
    tp_http_request_init(&req, url);
    req.request_timeout = 120;
    tp_future *f = tp_http_fetch_future(F.client, &req);
    tp_future_add_done_callback(f, count_cancel, NULL);
    tp_handler_await(h, f, write_fetched, NULL);
    tp_future_unref(f);
    tp_write_str(h, "w");
    tp_flush(h);
    return TP_AGAIN;
}

static const tp_handler_class hello = {.name = "Hello", .get = hello_get};
static const tp_handler_class outer = {.name = "Outer", .get = outer_get};
static const tp_handler_class hang = {.name = "Hang", .get = hang_get};

static void setup(void)
{
    tp_test_setup();
    memset(&F, 0, sizeof(F));
    F.hole_conn = -1;
    F.hole_fd = tp_test_bind_unused_port(&F.hole_port);
    ck_assert_int_ge(F.hole_fd, 0);
    tp_app *app = tp_app_new();
    ck_assert_int_eq(tp_app_route(app, "/hello", &hello, NULL), 0);
    ck_assert_int_eq(tp_app_route(app, "/outer", &outer, NULL), 0);
    ck_assert_int_eq(tp_app_route(app, "/hang", &hang, NULL), 0);
    tp_log_set_access(false);
    F.t = tp_http_test_serve(tp_test_loop(), app);
    ck_assert_ptr_nonnull(F.t);
    F.client = tp_http_client_new(tp_test_loop(), NULL);
    ck_assert_ptr_nonnull(F.client);
}

static void teardown(void)
{
    tp_http_client_free(F.client);
    tp_http_test_free(F.t);
    if (F.hole_conn >= 0)
        close(F.hole_conn);
    close(F.hole_fd);
    tp_test_teardown();
}

/* run_until conditions */
static bool hole_accepted(void *arg)
{
    (void)arg;
    if (F.hole_conn < 0)
        F.hole_conn = accept4(F.hole_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    return F.hole_conn >= 0;
}

static bool hole_closed(void *arg)
{
    (void)arg;
    char buf[4096];
    ssize_t n;
    while ((n = recv(F.hole_conn, buf, sizeof(buf), 0)) > 0)
        ; /* the request head */
    return n == 0;
}

static bool future_done(void *arg)
{
    return tp_future_done(arg);
}

START_TEST(result_is_the_response)
{
    tp_http_request req;
    tp_http_request_init(&req, url_of("/hello"));
    tp_future *f = tp_http_fetch_future(F.client, &req);
    ck_assert_int_eq(tp_test_run_until(tp_test_loop(), future_done, f, tp_test_async_timeout()), 0);
    ck_assert_int_eq(tp_future_error(f), 0);
    tp_http_response *r = tp_future_result(f);
    ck_assert_int_eq(r->code, 200);
    ck_assert_int_eq((int)r->body.n, 5);
    ck_assert(!memcmp(r->body.p, "hello", 5));
    tp_future_unref(f); /* the response goes with it */
}
END_TEST

START_TEST(http_error_is_the_future_error)
{
    tp_http_request req;
    tp_http_request_init(&req, url_of("/missing"));
    tp_future *f = tp_http_fetch_future(F.client, &req);
    ck_assert_int_eq(tp_test_run_until(tp_test_loop(), future_done, f, tp_test_async_timeout()), 0);
    ck_assert_int_ne(tp_future_error(f), 0);
    ck_assert_str_eq(tp_future_error_message(f), "HTTP 404: Not Found");
    ck_assert_ptr_null(tp_future_result(f));
    tp_future_unref(f);
    /* raise_error false: the 404 is a result, as in Tornado. */
    req.raise_error = false;
    f = tp_http_fetch_future(F.client, &req);
    ck_assert_int_eq(tp_test_run_until(tp_test_loop(), future_done, f, tp_test_async_timeout()), 0);
    ck_assert_int_eq(tp_future_error(f), 0);
    ck_assert_int_eq(((tp_http_response *)tp_future_result(f))->code, 404);
    tp_future_unref(f);
}
END_TEST

START_TEST(bad_request_fails_the_future)
{
    tp_http_request req;
    tp_http_request_init(&req, url_of("/hello"));
    req.body = TP_SLICE_LIT("a body on a GET");
    tp_future *f;
    TP_EXPECT_LOG("http client: Body must be None for this method", TP_LOG_WARNING)
    {
        f = tp_http_fetch_future(F.client, &req);
    }
    ck_assert(tp_future_done(f));
    ck_assert_int_eq(tp_future_error(f), -EINVAL);
    tp_future_unref(f);
}
END_TEST

START_TEST(cancel_stops_the_transfer)
{
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", F.hole_port);
    tp_http_request req;
    tp_http_request_init(&req, url);
    req.request_timeout = 120;
    tp_future *f = tp_http_fetch_future(F.client, &req);
    double wait = tp_test_async_timeout();
    ck_assert_int_eq(tp_test_run_until(tp_test_loop(), hole_accepted, NULL, wait), 0);
    ck_assert(tp_future_cancel(f));
    ck_assert_int_eq(tp_test_run_until(tp_test_loop(), hole_closed, NULL, wait), 0);
    ck_assert(tp_future_cancelled(f));
    tp_future_unref(f);
}
END_TEST

START_TEST(handler_awaits_a_fetch)
{
    tp_http_response *r = tp_test_fetch(F.t, "/outer?path=/hello", NULL);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->code, 200);
    ck_assert_int_eq((int)r->body.n, 11);
    ck_assert(!memcmp(r->body.p, "outer:hello", 11));
    tp_http_response_free(r);
}
END_TEST

START_TEST(handler_fetch_error_is_500)
{
    tp_http_response *r;
    TP_EXPECT_LOG("Uncaught exception GET /outer\\?path=/missing \\(127\\.0\\.0\\.1\\)\n.*HTTP "
                  "404: Not Found",
                  TP_LOG_ERROR)
    {
        r = tp_test_fetch(F.t, "/outer?path=/missing", NULL);
    }
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->code, 500);
    tp_http_response_free(r);
}
END_TEST

static bool got_w(void *arg)
{
    char c;
    return recv(*(int *)arg, &c, 1, MSG_DONTWAIT) == 1;
}

START_TEST(client_leaving_cancels_the_fetch)
{
    int c = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons(tp_http_test_port(F.t)),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
    const char req[] = "GET /hang HTTP/1.1\r\nHost: x\r\n\r\n";
    ck_assert_int_eq(send(c, req, sizeof(req) - 1, 0), (ssize_t)sizeof(req) - 1);
    double wait = tp_test_async_timeout();
    ck_assert_int_eq(tp_test_run_until(tp_test_loop(), hole_accepted, NULL, wait), 0);
    ck_assert_int_eq(tp_test_run_until(tp_test_loop(), got_w, &c, wait), 0);
    close(c); /* the client leaves: the handler's fetch is cancelled, its connection closed */
    ck_assert_int_eq(tp_test_run_until(tp_test_loop(), hole_closed, NULL, wait), 0);
    ck_assert_int_eq(F.cancelled, 1);
}
END_TEST

Suite *fetch_future_suite(void)
{
    Suite *s = suite_create("fetch_future");
    TCase *tc = tcase_create("fetch_future");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, result_is_the_response);
    tcase_add_test(tc, http_error_is_the_future_error);
    tcase_add_test(tc, bad_request_fails_the_future);
    tcase_add_test(tc, cancel_stops_the_transfer);
    tcase_add_test(tc, handler_awaits_a_fetch);
    tcase_add_test(tc, handler_fetch_error_is_500);
    tcase_add_test(tc, client_leaving_cancels_the_fetch);
    suite_add_tcase(s, tc);
    return s;
}
