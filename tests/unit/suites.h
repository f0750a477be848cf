/* The unit-test suites (one constructor per tests/unit/test_*.c), run together by main.c. */
#ifndef TP_TESTS_UNIT_SUITES_H
#define TP_TESTS_UNIT_SUITES_H

#include <check.h>

/* Every TCase gets this timeout (seconds): it ends a test that hangs, and must not end one on a
 * loaded machine (an ASan build beside other jobs), so it is generous; the whole binary
 * normally runs well under 30 s. Deadlines inside a test (run_sync's) stay below it. */
#define TP_TEST_TIMEOUT 60

Suite *parser_suite(void);
Suite *memory_suite(void);
Suite *loop_suite(void);
Suite *stream_suite(void);
Suite *stream_writes_suite(void);
Suite *http_util_suite(void);
Suite *fork_suite(void);
Suite *escape_suite(void);
Suite *cookie_suite(void);
Suite *routes_suite(void);
Suite *locale_suite(void);
Suite *static_suite(void);
Suite *form_suite(void);
Suite *gzip_suite(void);
Suite *template_suite(void);
Suite *handler_suite(void);
Suite *etag_suite(void);
Suite *pubsub_suite(void);
Suite *ws_deflate_suite(void);
Suite *websocket_suite(void);
Suite *ws_client_suite(void);
Suite *future_suite(void);
Suite *locks_suite(void);
Suite *queues_suite(void);
Suite *executor_suite(void);
Suite *testing_suite(void);
Suite *options_suite(void);
Suite *log_suite(void);
Suite *fetch_future_suite(void);
/* tests/unit/ws_client_net.c: the ws_client suite's connecting tests. */
void ws_client_add_net_tests(Suite *s);

/* tests/unit/test_proxy.c: the reverse proxy's response parsing and heads. */
Suite *proxy_suite(void);
/* tests/unit/test_http_client.c */
Suite *http_client_suite(void);

/* tests/unit/test_auth.c: OAuth 1.0a signing, PKCE, base64url, ID tokens. */
Suite *auth_suite(void);

#endif
