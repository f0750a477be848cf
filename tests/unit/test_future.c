/* core/async/future.h: futures, done callbacks, chain, and tornado.gen's multi, with_timeout,
 * sleep and run_sync. Tornado's tests re-created here are named in each comment
 * (tornado/test/gen_test.py, concurrent_test.py). */
#include <stdio.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "tests/unit/async_fixture.h"

static int freed;

static void count_free(void *p)
{
    freed++;
    tp_free(p);
}

/* Done callbacks run from the loop, never from set_result, in the order added, also when
 * added after the future completed. */
START_TEST(done_callbacks_run_from_loop_in_order)
{
    tp_future *f = tp_future_new(L);
    tp_future_add_done_callback(f, record_cb, "a");
    tp_future_add_done_callback(f, record_cb, "b");
    ck_assert_int_eq(tp_future_set_result(f, NULL, NULL), 0);
    ck_assert_str_eq(history, ""); /* not from inside set_result */
    tp_future_add_done_callback(f, record_cb, "c");
    loop_briefly();
    ck_assert_str_eq(history, "a b c");
    tp_future_add_done_callback(f, record_cb, "d");
    loop_briefly();
    ck_assert_str_eq(history, "a b c d");
    tp_future_unref(f);
}
END_TEST

/* A result value is freed once, with the last reference; a second completion is refused and
 * frees the value it brought. */
START_TEST(result_ownership)
{
    freed = 0;
    tp_future *f = tp_future_new(L);
    ck_assert_int_eq(tp_future_set_result(f, tp_strndup("x", 1), count_free), 0);
    ck_assert_int_eq(tp_future_set_result(f, tp_strndup("y", 1), count_free), -EALREADY);
    ck_assert_int_eq(freed, 1);
    ck_assert_int_eq(tp_future_set_error(f, -EIO, "late"), -EALREADY);
    ck_assert_str_eq(tp_future_result(f), "x");
    ck_assert_int_eq(tp_future_error(f), 0);
    tp_future_ref(f);
    tp_future_unref(f);
    ck_assert_int_eq(freed, 1);
    tp_future_unref(f);
    ck_assert_int_eq(freed, 2);
}
END_TEST

/* Errors and cancel: the code, the message; cancel only while pending (Tornado's
 * Future.cancel returns False once done). */
START_TEST(error_and_cancel)
{
    tp_future *f = tp_future_new(L);
    ck_assert_int_eq(tp_future_set_error(f, -EIO, "disk %d", 7), 0);
    ck_assert_int_eq(tp_future_error(f), -EIO);
    ck_assert_str_eq(tp_future_error_message(f), "disk 7");
    ck_assert(!tp_future_cancel(f));
    ck_assert_ptr_null(tp_future_result(f));
    tp_future_unref(f);
    f = tp_future_new(L);
    ck_assert(tp_future_cancel(f));
    ck_assert(tp_future_cancelled(f));
    ck_assert_int_eq(tp_future_error(f), -ECANCELED);
    ck_assert_int_eq(tp_future_set_result(f, NULL, NULL), -EALREADY);
    tp_future_unref(f);
}
END_TEST

/* concurrent_test.py ChainFutureTest: the outcome (result, error, cancel) goes across. */
START_TEST(chain_future)
{
    tp_future *a = tp_future_new(L), *b = tp_future_new(L);
    tp_future_chain(a, b);
    tp_future_set_result(a, tp_strndup("v", 1), tp_free);
    tp_future_unref(a); /* b keeps a (and so the value) alive */
    ck_assert_int_eq(await(b), 0);
    ck_assert_str_eq(tp_future_result(b), "v");
    tp_future_unref(b);
    a = tp_future_new(L), b = tp_future_new(L);
    tp_future_chain(a, b);
    tp_future_set_error(a, -EPIPE, "boom");
    ck_assert_int_eq(await(b), -EPIPE);
    ck_assert_str_eq(tp_future_error_message(b), "boom");
    tp_future_unref(a);
    tp_future_unref(b);
}
END_TEST

/* gen_test.py test_sleep; cancelling a sleep completes it at once. */
START_TEST(test_sleep)
{
    double t0 = tp_loop_time(L);
    await_eq(tp_sleep(L, 0.05), 0);
    ck_assert(tp_loop_time(L) - t0 >= 0.04);
    tp_future *f = tp_sleep(L, 60);
    ck_assert(tp_future_cancel(f));
    await_eq(f, -ECANCELED);
}
END_TEST

/* gen_test.py test_multi_future, test_multi_delayed: done when all are, results in the
 * inputs. */
START_TEST(test_multi_future)
{
    tp_future *fs[3] = {tp_sleep(L, 0.02), tp_future_new(L), tp_sleep(L, 0.01)};
    tp_future_set_result(fs[1], (void *)"one", NULL);
    tp_future *m = tp_multi(L, fs, 3, 0);
    ck_assert_int_eq(await(m), 0);
    for (int i = 0; i < 3; i++) {
        ck_assert(tp_future_done(fs[i]));
        tp_future_unref(fs[i]);
    }
    tp_future_unref(m);
}
END_TEST

/* gen_test.py test_multi_empty. */
START_TEST(test_multi_empty)
{
    await_eq(tp_multi(L, NULL, 0, 0), 0);
}
END_TEST

/* gen_test.py test_multi_future_exceptions / test_multi_exceptions: the first error wins
 * at once; the other inputs go on (later errors are logged); with TP_MULTI_CANCEL_REST the
 * pending ones are cancelled. */
START_TEST(test_multi_future_exceptions)
{
    tp_future *fs[3] = {tp_future_new(L), tp_future_new(L), tp_sleep(L, 60)};
    tp_future *m = tp_multi(L, fs, 3, 0);
    tp_future_set_error(fs[1], -EIO, "first");
    tp_future_set_error(fs[0], -EPIPE, "second");
    ck_assert_int_eq(await(m), -EIO);
    ck_assert_str_eq(tp_future_error_message(m), "first");
    ck_assert(!tp_future_done(fs[2])); /* left running */
    tp_future_unref(m);
    tp_future_cancel(fs[2]);
    loop_briefly();
    for (int i = 0; i < 3; i++)
        tp_future_unref(fs[i]);

    tp_future *gs[2] = {tp_future_new(L), tp_sleep(L, 60)};
    m = tp_multi(L, gs, 2, TP_MULTI_CANCEL_REST);
    tp_future_set_error(gs[0], -EIO, "only");
    ck_assert_int_eq(await(m), -EIO);
    ck_assert_int_eq(await(gs[1]), -ECANCELED);
    tp_future_unref(m);
    tp_future_unref(gs[0]);
    tp_future_unref(gs[1]);
}
END_TEST

/* gen_test.py WithTimeoutTest.test_timeout: the outer future fails with -ETIMEDOUT; the inner
 * one is left running (or cancelled on request). */
START_TEST(test_timeout)
{
    tp_future *inner = tp_future_new(L);
    await_eq(tp_with_timeout(inner, 0.01, false), -ETIMEDOUT);
    ck_assert(!tp_future_done(inner));
    tp_future_set_error(inner, -EIO, "after the timeout: logged");
    loop_briefly();
    tp_future_unref(inner);
    inner = tp_future_new(L);
    await_eq(tp_with_timeout(inner, 0.01, true), -ETIMEDOUT);
    ck_assert_int_eq(await(inner), -ECANCELED);
    tp_future_unref(inner);
}
END_TEST

/* gen_test.py test_completes_before_timeout, test_fails_before_timeout. */
START_TEST(test_completes_before_timeout)
{
    tp_future *inner = tp_future_new(L);
    tp_future *out = tp_with_timeout(inner, 30, false);
    tp_future_set_result(inner, (void *)"r", NULL);
    ck_assert_int_eq(await(out), 0);
    ck_assert_str_eq(tp_future_result(out), "r");
    tp_future_unref(out);
    tp_future_unref(inner);
    inner = tp_future_new(L);
    out = tp_with_timeout(inner, 30, false);
    tp_future_set_error(inner, -EBADMSG, "bad");
    ck_assert_int_eq(await(out), -EBADMSG);
    tp_future_unref(out);
    tp_future_unref(inner);
    ck_assert_uint_eq(tp_loop_live_handles(L), 0); /* the 30 s timer is gone */
}
END_TEST

/* run_sync gives up after its timeout; the future's callback coming later stops nothing. */
START_TEST(run_sync_timeout)
{
    tp_future *f = tp_future_new(L);
    ck_assert_int_eq(tp_future_run_sync(L, f, 0.01), -ETIMEDOUT);
    tp_future_set_result(f, NULL, NULL);
    loop_briefly();
    await_eq(tp_sleep(L, 0.01), 0); /* a later run is not stopped early */
    tp_future_unref(f);
}
END_TEST

Suite *future_suite(void)
{
    Suite *s = suite_create("future");
    TCase *tc = fixture_tcase("future");
    tcase_add_test(tc, done_callbacks_run_from_loop_in_order);
    tcase_add_test(tc, result_ownership);
    tcase_add_test(tc, error_and_cancel);
    tcase_add_test(tc, chain_future);
    tcase_add_test(tc, run_sync_timeout);
    suite_add_tcase(s, tc);
    tc = fixture_tcase("gen");
    tcase_add_test(tc, test_sleep);
    tcase_add_test(tc, test_multi_future);
    tcase_add_test(tc, test_multi_empty);
    tcase_add_test(tc, test_multi_future_exceptions);
    tcase_add_test(tc, test_timeout);
    tcase_add_test(tc, test_completes_before_timeout);
    suite_add_tcase(s, tc);
    return s;
}
