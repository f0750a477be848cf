#define _GNU_SOURCE /* memmem */
/* @NAME@'s tests (tornado.testing's AsyncHTTPTestCase in C): each test gets a fresh loop and
 * the app of app.c served on a free port of it; tp_test_fetch runs that loop until the
 * response is there. `make test` builds and runs them. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <tp_testing.h>

static tp_http_test *T;

static void setup(void)
{
    tp_test_setup();                                 /* a fresh loop, current for the test */
    T = tp_http_test_start(NULL, TP_TEST_APP_ENTRY); /* app.c's TP_APP, on 127.0.0.1:0 */
    ck_assert_ptr_nonnull(T);
}

static void teardown(void)
{
    tp_http_test_free(T); /* runs the app's teardown */
    tp_test_teardown();
}

static bool body_has(const tp_http_response *r, const char *text)
{
    return memmem(r->body.p, r->body.n, text, strlen(text)) != NULL;
}

START_TEST(home_page)
{
    tp_http_response *r = tp_test_fetch(T, "/", NULL);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->code, 200);
    ck_assert(body_has(r, "<h1>Hello from @NAME@</h1>"));
    ck_assert(body_has(r, "<li>one process per CPU</li>"));
    ck_assert(body_has(r, "<li>Tornado&#x27;s API in C</li>")); /* autoescaped */
    tp_http_response_free(r);
}
END_TEST

START_TEST(not_found)
{
    tp_http_response *r = NULL;
    /* The access log's warning for the 404 is expected: swallowed, and required. */
    TP_EXPECT_LOG("404 GET /nowhere", TP_LOG_WARNING)
    {
        r = tp_test_fetch(T, "/nowhere", NULL);
    }
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->code, 404);
    tp_http_response_free(r);
}
END_TEST

static Suite *app_suite(void)
{
    Suite *s = suite_create("app");
    TCase *tc = tcase_create("http");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, home_page);
    tcase_add_test(tc, not_found);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(app_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
