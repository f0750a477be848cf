/* tornado.testing for C apps: a fresh loop per test, waiting for a condition on the loop
 * (never a sleep), ExpectLog, an unused port, and the HTTP test case that serves an app on
 * port 0 of the test's loop and fetches from it. Made for libcheck (the fixture functions
 * suit tcase_add_checked_fixture) but free of it: the assertions are include/tp_testing.h's
 * macros. See docs/testing.md. */
#ifndef TP_WEB_TESTING_TESTING_H
#define TP_WEB_TESTING_TESTING_H

#include "platform/api.h"

#include <stdbool.h>

#include "core/loop.h"
#include "http/client/client.h"
#include "web/app.h"
#include "web/app_entry.h"

/* ---- the loop (loop.c) --------------------------------------------------------------------- */

/* Seconds a test may wait: $ASYNC_TEST_TIMEOUT if it parses as a number, else 5 (Tornado's
 * get_async_test_timeout). */
TP_API double tp_test_async_timeout(void);
/* Fixture setup (tcase_add_checked_fixture): a fresh tp_loop made this thread's current loop.
 * Aborts if no loop can be made. The log is left as it is (access lines included, as in
 * Tornado's tests). */
TP_API void tp_test_setup(void);
/* Fixture teardown: runs the callbacks queued on the setup's loop once (done callbacks free
 * what they hold), then frees the loop (handlers left on it are dropped) and clears the
 * current loop. */
TP_API void tp_test_teardown(void);
/* The loop of tp_test_setup (NULL outside a test). */
TP_API tp_loop *tp_test_loop(void);
/* A listening TCP socket on 127.0.0.1, port 0 (Tornado's bind_unused_port): returns the fd
 * (non-blocking, close-on-exec; the caller closes it) with the port in *port, or -errno. */
TP_API int tp_test_bind_unused_port(int *port);
/* Runs loop until cond(arg) is true, checked before each time the loop would sleep (and once
 * before it runs). timeout in seconds, <= 0: tp_test_async_timeout(). Returns 0, or
 * -ETIMEDOUT when the time passed first, or a loop error. */
TP_API int tp_test_run_until(tp_loop *loop, bool (*cond)(void *arg), void *arg, double timeout);

/* ---- ExpectLog (expect_log.c) -------------------------------------------------------------- */

typedef struct tp_expect_log tp_expect_log;
/* Starts capturing log lines whose message matches regex (PCRE2, anchored at the start as
 * Python's re.match). level 0 matches any level; else only that level counts (a match at
 * another level passes through) and the log level is lowered to it for the block. Matching
 * lines are swallowed, the others are written as usual. NULL if regex does not compile. */
TP_API tp_expect_log *tp_expect_log_begin(const char *regex, int level, bool required);
/* Lines matched so far. */
TP_API int tp_expect_log_matched(const tp_expect_log *e);
/* Ends the capture (the innermost one first) and frees e. Returns 0, or -ENOENT when e was
 * required and no line matched ("did not get expected log message"). */
TP_API int tp_expect_log_end(tp_expect_log *e);

/* ---- the HTTP test case (http_case.c) ------------------------------------------------------ */

typedef struct tp_http_test tp_http_test;
/* Serves app (owned from now on, even on failure) on 127.0.0.1, port 0, on loop (NULL: the
 * current loop), as AsyncHTTPTestCase does with get_app(). NULL (logged) if it cannot listen. */
TP_API tp_http_test *tp_http_test_serve(tp_loop *loop, tp_app *app);
/* The same for an app.so entry (TP_APP's symbol): checks the ABI, makes the app, runs its
 * init; its teardown runs at tp_http_test_free. NULL (logged) if any step fails. */
TP_API tp_http_test *tp_http_test_start(tp_loop *loop, const tp_app_entry *entry);
TP_API int tp_http_test_port(const tp_http_test *t);
TP_API tp_app *tp_http_test_app(tp_http_test *t);
TP_API tp_loop *tp_http_test_loop(tp_http_test *t);
/* "http://127.0.0.1:PORT" + path (get_url); valid until the next call on t. */
TP_API const char *tp_http_test_url(tp_http_test *t, const char *path);
/* self.fetch(path, **kwargs): fetches path (or a full http:// or https:// URL) from the
 * server by running the test's loop until the response is there, at most
 * tp_test_async_timeout() seconds. opts NULL: GET with Tornado's defaults but raise_error
 * false; else a copy of *opts with the URL set. Returns the response (code 599 on a
 * network error; free it with tp_http_response_free), or NULL (logged) when it did not come
 * in time or opts are invalid. */
TP_API tp_http_response *tp_test_fetch(tp_http_test *t, const char *path,
                                       const tp_http_request *opts);
/* Stops the server, closes its connections, runs the app's teardown and frees the app. */
TP_API void tp_http_test_free(tp_http_test *t);

#endif
