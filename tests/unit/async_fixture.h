/* Shared by the async suites (test_future.c, test_locks.c, test_queues.c, test_executor.c):
 * a fresh loop per test, an event history, and Tornado's test helpers (loop_briefly,
 * record_done, gen_test's run_sync with a generous deadline). */
#ifndef TP_TESTS_UNIT_ASYNC_FIXTURE_H
#define TP_TESTS_UNIT_ASYNC_FIXTURE_H

#include <errno.h>
#include <string.h>

#include "core/async/future.h"
#include "core/loop.h"
#include "tests/unit/suites.h"

/* What happened, in order: one token per event, space separated ("0 T 2"). */
static char history[512];
static tp_loop *L;

static inline void note(const char *what)
{
    size_t n = strlen(history);
    ck_assert_uint_lt(n + strlen(what) + 2, sizeof(history));
    if (n)
        history[n++] = ' ';
    strcpy(history + n, what);
}

static inline void fixture_setup(void)
{
    history[0] = '\0';
    L = tp_loop_new();
    ck_assert_ptr_nonnull(L);
}

static inline void loop_briefly(void);

/* Runs what is still queued (callbacks of futures cancelled by a _free) before the loop goes,
 * so the sanitizer build sees every future freed. */
static inline void fixture_teardown(void)
{
    loop_briefly();
    tp_loop_free(L);
    L = NULL;
}

static inline void stop_cb(tp_loop *loop, void *arg)
{
    (void)arg;
    tp_loop_stop(loop);
}

static inline void nothing(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
}

/* Tornado's loop_briefly: runs what is queued now (done callbacks included). */
static inline void loop_briefly(void)
{
    tp_loop_add_callback(L, stop_cb, NULL);
    ck_assert_int_eq(tp_loop_run_sync(L, nothing, NULL, 30), 0);
}

/* gen_test's yield: runs the loop until f is done (30 s deadline); returns its error. */
static inline int await(tp_future *f)
{
    int r = tp_future_run_sync(L, f, 30);
    ck_assert_int_ne(r, -EINTR);
    ck_assert_msg(tp_future_done(f), "future not done after 30 s");
    return r;
}

/* Awaits f, checks its error code, and drops the caller's reference. */
static inline void await_eq(tp_future *f, int want)
{
    ck_assert_int_eq(await(f), want);
    tp_future_unref(f);
}

static inline void record_cb(tp_future *f, void *arg)
{
    note(tp_future_error(f) == -ETIMEDOUT ? "T" : tp_future_cancelled(f) ? "C" : arg);
}

/* Tornado's record_done: notes key when f is done ("T" if it timed out); drops the ref. */
static inline void record_done(tp_future *f, const char *key)
{
    tp_future_add_done_callback(f, record_cb, (void *)key);
    tp_future_unref(f);
}

/* A TCase with the fixture and the suites' timeout. */
static inline TCase *fixture_tcase(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, fixture_setup, fixture_teardown);
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    return tc;
}

#endif
