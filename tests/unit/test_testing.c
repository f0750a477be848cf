/* The testing helpers of web/testing (include/tp_testing.h) themselves: the fixture's loop,
 * ASYNC_TEST_TIMEOUT, bind_unused_port, run_until, ExpectLog (a failing block fails its test:
 * checked in a nested libcheck runner in fork mode), and the HTTP test case against a small
 * app. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/unit/suites.h"
#include "tp_testing.h"

/* ---- the log, written to a memfd the tests read back -------------------------------------- */

static int log_fd = -1;

static void capture_log(void)
{
    tp_log_flush();
    log_fd = memfd_create("log", MFD_CLOEXEC);
    ck_assert_int_ge(log_fd, 0);
    tp_log_set_fd(log_fd);
}

/* What was logged since capture_log (NUL-terminated, static). */
static const char *logged(void)
{
    static char text[8192];
    tp_log_flush();
    ssize_t n = pread(log_fd, text, sizeof(text) - 1, 0);
    ck_assert_int_ge(n, 0);
    text[n] = '\0';
    return text;
}

/* Each of gone (NULL-terminated) is absent from the log, each of kept is there. */
static void check_logged(const char *const *gone, const char *const *kept)
{
    const char *out = logged();
    for (; *gone; gone++)
        ck_assert_msg(!strstr(out, *gone), "logged: %s", *gone);
    for (; *kept; kept++)
        ck_assert_msg(strstr(out, *kept), "not logged: %s", *kept);
}

static void setup(void)
{
    tp_test_setup();
    capture_log();
}

static void teardown(void)
{
    tp_log_set_fd(2);
    close(log_fd);
    tp_test_teardown();
}

/* ---- the loop helpers ---------------------------------------------------------------------- */

START_TEST(fixture_loop_is_fresh_and_current)
{
    ck_assert_ptr_nonnull(tp_test_loop());
    ck_assert_ptr_eq(tp_test_loop(), tp_loop_current());
    ck_assert_uint_eq(tp_loop_live_handles(tp_test_loop()), 0);
}
END_TEST

START_TEST(async_timeout_from_env)
{
    unsetenv("ASYNC_TEST_TIMEOUT");
    ck_assert_double_eq(tp_test_async_timeout(), 5);
    setenv("ASYNC_TEST_TIMEOUT", "2.5", 1);
    ck_assert_double_eq(tp_test_async_timeout(), 2.5);
    setenv("ASYNC_TEST_TIMEOUT", "soon", 1); /* not a number: the default, as Tornado */
    ck_assert_double_eq(tp_test_async_timeout(), 5);
    unsetenv("ASYNC_TEST_TIMEOUT");
}
END_TEST

START_TEST(bind_unused_port_listens)
{
    int port1 = 0, port2 = 0;
    int fd1 = tp_test_bind_unused_port(&port1);
    int fd2 = tp_test_bind_unused_port(&port2);
    ck_assert_int_ge(fd1, 0);
    ck_assert_int_ge(fd2, 0);
    ck_assert_int_gt(port1, 0);
    ck_assert_int_ne(port1, port2);
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    ck_assert_int_eq(getsockname(fd1, (struct sockaddr *)&a, &len), 0);
    ck_assert_int_eq(ntohs(a.sin_port), port1);
    ck_assert_uint_eq(a.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
    /* It listens: a client connects and the socket accepts it. */
    int c = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
    int s = -1;
    for (double end = tp__monotonic() + 30; s < 0 && tp__monotonic() < end;)
        s = tp_accept(fd1, NULL, NULL);
    ck_assert_int_ge(s, 0);
    close(s);
    close(c);
    close(fd1);
    close(fd2);
}
END_TEST

static bool flag_set(void *arg)
{
    return *(bool *)arg;
}

static void set_flag(tp_loop *loop, void *arg)
{
    (void)loop;
    *(bool *)arg = true;
}

static int calls;

static bool count_calls(void *arg)
{
    (void)arg;
    calls++;
    return false;
}

START_TEST(run_until_condition)
{
    bool flag = false;
    tp_loop_call_later(tp_test_loop(), 0.01, set_flag, &flag);
    double t0 = tp__monotonic();
    ck_assert_int_eq(tp_test_run_until(tp_test_loop(), flag_set, &flag, 30), 0);
    ck_assert(flag);
    ck_assert_double_lt(tp__monotonic() - t0, 25);
    /* Already true: returns at once, the loop does not run (the timeout stays queued). */
    static bool later; /* the teardown runs this callback, after this frame is gone */
    tp_loop_call_later(tp_test_loop(), 0, set_flag, &later);
    ck_assert_int_eq(tp_test_run_until(tp_test_loop(), flag_set, &flag, 30), 0);
    ck_assert_uint_eq(tp_loop_live_handles(tp_test_loop()), 1);
}
END_TEST

START_TEST(run_until_timeout)
{
    calls = 0;
    double t0 = tp__monotonic();
    ck_assert_int_eq(tp_test_run_until(tp_test_loop(), count_calls, NULL, 0.1), -ETIMEDOUT);
    ck_assert_double_ge(tp__monotonic() - t0, 0.1);
    /* The loop slept: the condition was checked a few times, not spun on. */
    ck_assert_int_ge(calls, 2);
    ck_assert_int_lt(calls, 50);
    ck_assert_uint_eq(tp_loop_live_handles(tp_test_loop()), 0); /* its timer went */
    /* timeout <= 0: ASYNC_TEST_TIMEOUT's. */
    setenv("ASYNC_TEST_TIMEOUT", "0.05", 1);
    t0 = tp__monotonic();
    ck_assert_int_eq(tp_test_run_until(tp_test_loop(), count_calls, NULL, 0), -ETIMEDOUT);
    ck_assert_double_ge(tp__monotonic() - t0, 0.05);
    unsetenv("ASYNC_TEST_TIMEOUT");
}
END_TEST

/* ---- ExpectLog ------------------------------------------------------------------------------ */

START_TEST(expect_log_swallows_matches_only)
{
    tp_expect_log *e = tp_expect_log_begin("expected [0-9]+", 0, true);
    ck_assert_ptr_nonnull(e);
    tp_log_warning("expected 1");
    tp_log_info("unrelated line");
    tp_log_error("expected 22 again");
    tp_log_error("not expected 3"); /* anchored at the start, as re.match */
    ck_assert_int_eq(tp_expect_log_matched(e), 2);
    ck_assert_int_eq(tp_expect_log_end(e), 0);
    tp_log_warning("expected 4"); /* after the block: written */
    check_logged((const char *[]){"expected 1", "expected 22", NULL},
                 (const char *[]){"unrelated line", "] not expected 3", "] expected 4", NULL});
}
END_TEST

START_TEST(expect_log_required)
{
    tp_expect_log *e = tp_expect_log_begin("never", 0, true);
    tp_log_error("something else");
    ck_assert_int_eq(tp_expect_log_end(e), -ENOENT);
    e = tp_expect_log_begin("never", 0, false); /* required=False */
    ck_assert_int_eq(tp_expect_log_end(e), 0);
    ck_assert_ptr_nonnull(strstr(logged(), "something else"));
    ck_assert_ptr_null(tp_expect_log_begin("(", 0, true)); /* bad regex: NULL, logged */
    ck_assert_ptr_nonnull(strstr(logged(), "ExpectLog: bad regex"));
}
END_TEST

START_TEST(expect_log_level)
{
    tp_log_set_level(TP_LOG_INFO);
    tp_expect_log *e = tp_expect_log_begin("quiet", TP_LOG_DEBUG, true);
    ck_assert_int_eq(tp_log_level(), TP_LOG_DEBUG); /* lowered for the block */
    tp_log_debug("quiet detail");
    tp_log_warning("quiet but a warning"); /* another level: passes through */
    ck_assert_int_eq(tp_expect_log_matched(e), 1);
    ck_assert_int_eq(tp_expect_log_end(e), 0);
    ck_assert_int_eq(tp_log_level(), TP_LOG_INFO); /* restored */
    check_logged((const char *[]){"quiet detail", NULL},
                 (const char *[]){"[W ", "quiet but a warning", NULL});
    /* A level above the log level is not lowered, and lines below the log level are not seen
     * (as a logger's level filters before its filters). */
    e = tp_expect_log_begin("x", TP_LOG_ERROR, false);
    ck_assert_int_eq(tp_log_level(), TP_LOG_INFO);
    tp_log_debug("x hidden");
    ck_assert_int_eq(tp_expect_log_matched(e), 0);
    ck_assert_int_eq(tp_expect_log_end(e), 0);
}
END_TEST

START_TEST(expect_log_nested)
{
    tp_expect_log *outer = tp_expect_log_begin("outer", 0, true);
    tp_expect_log *inner = tp_expect_log_begin("inner", 0, true);
    tp_log_error("outer line");
    tp_log_error("inner line");
    tp_log_error("neither");
    ck_assert_int_eq(tp_expect_log_matched(inner), 1);
    ck_assert_int_eq(tp_expect_log_end(inner), 0);
    tp_log_error("inner after");
    ck_assert_int_eq(tp_expect_log_matched(outer), 1);
    ck_assert_int_eq(tp_expect_log_end(outer), 0);
    check_logged((const char *[]){"outer line", "inner line", NULL},
                 (const char *[]){"neither", "inner after", NULL});
}
END_TEST

START_TEST(expect_log_block_passes)
{
    int ran = 0;
    TP_EXPECT_LOG("Uncaught", TP_LOG_ERROR)
    {
        tp_log_error("Uncaught exception GET /");
        ran++;
    }
    TP_EXPECT_LOG_IF("absent", 0, false)
    {
        ran++;
    }
    ck_assert_int_eq(ran, 2);
    ck_assert_ptr_null(strstr(logged(), "Uncaught"));
}
END_TEST

/* Run by the nested runner below, not by the unit binary's. */
START_TEST(block_without_the_line)
{
    TP_EXPECT_LOG("Uncaught", TP_LOG_ERROR)
    {
        tp_log_error("something else");
    }
}
END_TEST

START_TEST(block_at_another_level)
{
    TP_EXPECT_LOG("Uncaught", TP_LOG_ERROR)
    {
        tp_log_warning("Uncaught, but a warning");
    }
}
END_TEST

START_TEST(expect_log_block_fails_the_test)
{
    Suite *s = suite_create("inner");
    TCase *tc = tcase_create("inner");
    tcase_add_test(tc, block_without_the_line);
    tcase_add_test(tc, block_at_another_level);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_FORK);
    /* The outer run's CK_RUN_SUITE / CK_RUN_CASE would select nothing in this runner. */
    unsetenv("CK_RUN_SUITE");
    unsetenv("CK_RUN_CASE");
    srunner_run_all(sr, CK_SILENT);
    ck_assert_int_eq(srunner_ntests_run(sr), 2);
    ck_assert_int_eq(srunner_ntests_failed(sr), 2);
    TestResult **failures = srunner_failures(sr);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(tr_rtype(failures[i]), CK_FAILURE);
        ck_assert_ptr_nonnull(strstr(tr_msg(failures[i]), "did not get expected log message"));
    }
    free(failures);
    srunner_free(sr);
}
END_TEST

/* ---- the HTTP test case ---------------------------------------------------------------------- */

static int teardowns;

static int hello_get(tp_handler *h)
{
    tp_write_str(h, "Hello from the test app");
    return TP_OK;
}

/* POST /echo: the method, the X-Test header and the body back. */
static int echo_post(tp_handler *h)
{
    tp_request *req = tp_handler_request(h);
    tp_slice x = tp_headers_get(&req->headers, TP_SLICE_LIT("X-Test"));
    tp_write(h, req->method.p, req->method.n);
    tp_write_str(h, "|");
    tp_write(h, x.p, x.n);
    tp_write_str(h, "|");
    tp_write(h, req->body.p, req->body.n);
    return TP_OK;
}

/* GET /never: never finishes. */
static int never_get(tp_handler *h)
{
    (void)h;
    return TP_AGAIN;
}

static const tp_handler_class hello = {.name = "Hello", .get = hello_get};
static const tp_handler_class echo = {.name = "Echo", .post = echo_post};
static const tp_handler_class never = {.name = "Never", .get = never_get};

static int small_init(tp_app *app)
{
    int r = tp_app_route(app, "/", &hello, NULL);
    if (r == 0)
        r = tp_app_route(app, "/echo", &echo, NULL);
    return r ? r : tp_app_route(app, "/never", &never, NULL);
}

static int failing_init(tp_app *app)
{
    (void)app;
    return -EINVAL;
}

static void small_teardown(tp_app *app)
{
    ck_assert_ptr_nonnull(app);
    teardowns++;
}

static const tp_app_entry small_entry = {
    TP_ABI_VERSION, sizeof(tp_app_entry), sizeof(tp_handler_class), 0, "small",
    small_init,     small_teardown};

START_TEST(http_test_serves_on_port_zero)
{
    teardowns = 0;
    tp_http_test *t = tp_http_test_start(NULL, &small_entry);
    ck_assert_ptr_nonnull(t);
    ck_assert_ptr_eq(tp_http_test_loop(t), tp_test_loop());
    ck_assert_ptr_nonnull(tp_http_test_app(t));
    int port = tp_http_test_port(t);
    ck_assert_int_gt(port, 0);
    char want[64];
    snprintf(want, sizeof(want), "http://127.0.0.1:%d/a?b=1", port);
    ck_assert_str_eq(tp_http_test_url(t, "/a?b=1"), want);
    tp_http_test_free(t);
    ck_assert_int_eq(teardowns, 1);
}
END_TEST

START_TEST(http_test_bad_entries)
{
    tp_app_entry bad_abi = small_entry;
    bad_abi.abi_version = TP_ABI_VERSION + 1;
    ck_assert_ptr_null(tp_http_test_start(NULL, &bad_abi));
    tp_app_entry fails = small_entry;
    fails.init = failing_init;
    ck_assert_ptr_null(tp_http_test_start(NULL, &fails));
    const char *out = logged();
    ck_assert_ptr_nonnull(strstr(out, "another ABI version"));
    ck_assert_ptr_nonnull(strstr(out, "app small init failed"));
}
END_TEST

static bool body_is(const tp_http_response *r, const char *text)
{
    return r->body.n == strlen(text) && !memcmp(r->body.p, text, r->body.n);
}

START_TEST(fetch_200_and_404)
{
    tp_http_test *t = tp_http_test_start(NULL, &small_entry);
    ck_assert_ptr_nonnull(t);
    tp_http_response *r = tp_test_fetch(t, "/", NULL);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->code, 200);
    ck_assert(body_is(r, "Hello from the test app"));
    ck_assert_str_eq(r->effective_url, tp_http_test_url(t, "/"));
    tp_http_response_free(r);
    /* A 404 is a response, not an error to the caller (raise_error false, as self.fetch);
     * its access line is a warning, which ExpectLog swallows. */
    tp_log_set_access(true);
    TP_EXPECT_LOG("404 GET /missing \\(127\\.0\\.0\\.1\\)", TP_LOG_WARNING)
    {
        r = tp_test_fetch(t, "/missing", NULL);
    }
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->code, 404);
    tp_http_response_free(r);
    ck_assert_ptr_null(strstr(logged(), "404 GET"));
    tp_http_test_free(t);
}
END_TEST

START_TEST(fetch_with_options)
{
    tp_http_test *t = tp_http_test_start(NULL, &small_entry);
    ck_assert_ptr_nonnull(t);
    tp_arena a;
    tp_arena_init(&a, 0);
    tp_headers hs;
    tp_headers_init(&hs, &a);
    tp_headers_add(&hs, TP_SLICE_LIT("X-Test"), TP_SLICE_LIT("yes"));
    tp_http_request opts = TP_HTTP_REQUEST_INIT;
    opts.method = "POST";
    opts.headers = &hs;
    opts.body = TP_SLICE_LIT("a=1");
    tp_http_response *r = tp_test_fetch(t, "/echo", &opts);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->code, 200);
    ck_assert(body_is(r, "POST|yes|a=1"));
    tp_http_response_free(r);
    /* raise_error as given: a 405 then carries an error. */
    tp_log_set_access(false);
    r = tp_test_fetch(t, tp_http_test_url(t, "/echo"), &(tp_http_request)TP_HTTP_REQUEST_INIT);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->code, 405);
    ck_assert_int_ne(r->error, 0);
    tp_http_response_free(r);
    tp_arena_destroy(&a);
    tp_http_test_free(t);
}
END_TEST

START_TEST(fetch_times_out)
{
    setenv("ASYNC_TEST_TIMEOUT", "0.2", 1);
    tp_http_test *t = tp_http_test_start(NULL, &small_entry);
    ck_assert_ptr_nonnull(t);
    double t0 = tp__monotonic();
    tp_http_response *r;
    TP_EXPECT_LOG("tp_test_fetch .*/never: no response within the test timeout", TP_LOG_ERROR)
    {
        r = tp_test_fetch(t, "/never", NULL);
    }
    ck_assert_ptr_null(r);
    ck_assert_double_ge(tp__monotonic() - t0, 0.2);
    unsetenv("ASYNC_TEST_TIMEOUT");
    /* The loop and the server still work. */
    r = tp_test_fetch(t, "/", NULL);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->code, 200);
    tp_http_response_free(r);
    tp_http_test_free(t);
}
END_TEST

/* A case of the suite: the fixture's loop (and the log captured) around each test. */
static TCase *add_case(Suite *s, const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_checked_fixture(tc, setup, teardown);
    suite_add_tcase(s, tc);
    return tc;
}

Suite *testing_suite(void)
{
    Suite *s = suite_create("testing");
    TCase *tc = add_case(s, "loop");
    tcase_add_test(tc, fixture_loop_is_fresh_and_current);
    tcase_add_test(tc, async_timeout_from_env);
    tcase_add_test(tc, bind_unused_port_listens);
    tcase_add_test(tc, run_until_condition);
    tcase_add_test(tc, run_until_timeout);
    tc = add_case(s, "expect_log");
    tcase_add_test(tc, expect_log_swallows_matches_only);
    tcase_add_test(tc, expect_log_required);
    tcase_add_test(tc, expect_log_level);
    tcase_add_test(tc, expect_log_nested);
    tcase_add_test(tc, expect_log_block_passes);
    tcase_add_test(tc, expect_log_block_fails_the_test);
    tc = add_case(s, "http_case");
    tcase_add_test(tc, http_test_serves_on_port_zero);
    tcase_add_test(tc, http_test_bad_entries);
    tcase_add_test(tc, fetch_200_and_404);
    tcase_add_test(tc, fetch_with_options);
    tcase_add_test(tc, fetch_times_out);
    return s;
}
