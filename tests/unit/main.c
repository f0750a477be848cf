/* The unit-test runner: every suite in one SRunner, each test in its own forked process
 * (CK_FORK, libcheck's default), libcheck's normal summary, non-zero exit on any failure. */
#include <stdlib.h>

#include "tests/unit/suites.h"

int main(void)
{
    SRunner *sr = srunner_create(parser_suite());
    srunner_add_suite(sr, memory_suite());
    srunner_add_suite(sr, loop_suite());
    srunner_add_suite(sr, stream_suite());
    srunner_add_suite(sr, stream_writes_suite());
    srunner_add_suite(sr, http_util_suite());
    srunner_add_suite(sr, fork_suite());
    srunner_add_suite(sr, escape_suite());
    srunner_add_suite(sr, cookie_suite());
    srunner_add_suite(sr, routes_suite());
    srunner_add_suite(sr, locale_suite());
    srunner_add_suite(sr, static_suite());
    srunner_add_suite(sr, form_suite());
    srunner_add_suite(sr, gzip_suite());
    srunner_add_suite(sr, template_suite());
    srunner_add_suite(sr, handler_suite());
    srunner_add_suite(sr, etag_suite());
    srunner_add_suite(sr, pubsub_suite());
    srunner_add_suite(sr, ws_deflate_suite());
    srunner_add_suite(sr, websocket_suite());
    srunner_add_suite(sr, ws_client_suite());
    srunner_add_suite(sr, future_suite());
    srunner_add_suite(sr, locks_suite());
    srunner_add_suite(sr, queues_suite());
    srunner_add_suite(sr, executor_suite());
    srunner_add_suite(sr, testing_suite());
    srunner_add_suite(sr, proxy_suite());
    srunner_add_suite(sr, options_suite());
    srunner_add_suite(sr, log_suite());
    srunner_add_suite(sr, http_client_suite());
    srunner_add_suite(sr, fetch_future_suite());
    srunner_add_suite(sr, auth_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
