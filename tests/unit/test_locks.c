/* core/async/locks.h: Tornado's tornado/test/locks_test.py cases, named in each comment.
 * Condition's timed-out wait fails with -ETIMEDOUT where Tornado's resolves to False: the
 * history notes "T" for it. */
#include "core/async/locks.h"
#include "tests/unit/async_fixture.h"

static tp_condition *cond_for_notify;

static void notify_cb(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    tp_condition_notify(cond_for_notify, 1);
}

/* ConditionTest.test_notify */
START_TEST(test_notify)
{
    tp_condition *c = cond_for_notify = tp_condition_new(L);
    tp_loop_call_later(L, 0.01, notify_cb, NULL);
    await_eq(tp_condition_wait(c, 0), 0);
    tp_condition_free(c);
}
END_TEST

/* ConditionTest.test_notify_1 */
START_TEST(test_notify_1)
{
    tp_condition *c = tp_condition_new(L);
    record_done(tp_condition_wait(c, 0), "wait1");
    record_done(tp_condition_wait(c, 0), "wait2");
    tp_condition_notify(c, 1);
    loop_briefly();
    note("notify1");
    tp_condition_notify(c, 1);
    loop_briefly();
    note("notify2");
    ck_assert_str_eq(history, "wait1 notify1 wait2 notify2");
    tp_condition_free(c);
}
END_TEST

/* ConditionTest.test_notify_n */
START_TEST(test_notify_n)
{
    static const char *keys[] = {"0", "1", "2", "3", "4", "5"};
    tp_condition *c = tp_condition_new(L);
    for (int i = 0; i < 6; i++)
        record_done(tp_condition_wait(c, 0), keys[i]);
    tp_condition_notify(c, 3);
    loop_briefly();
    ck_assert_str_eq(history, "0 1 2");
    tp_condition_notify(c, 1);
    loop_briefly();
    ck_assert_str_eq(history, "0 1 2 3");
    tp_condition_notify(c, 2);
    loop_briefly();
    ck_assert_str_eq(history, "0 1 2 3 4 5");
    tp_condition_free(c);
}
END_TEST

/* ConditionTest.test_notify_all */
START_TEST(test_notify_all)
{
    static const char *keys[] = {"0", "1", "2", "3"};
    tp_condition *c = tp_condition_new(L);
    for (int i = 0; i < 4; i++)
        record_done(tp_condition_wait(c, 0), keys[i]);
    tp_condition_notify_all(c);
    loop_briefly();
    note("notify_all");
    ck_assert_str_eq(history, "0 1 2 3 notify_all");
    tp_condition_free(c);
}
END_TEST

/* ConditionTest.test_wait_timeout and test_wait_timeout_preempted */
START_TEST(test_wait_timeout)
{
    tp_condition *c = cond_for_notify = tp_condition_new(L);
    tp_future *w = tp_condition_wait(c, 0.01);
    tp_loop_call_later(L, 0.02, notify_cb, NULL); /* too late */
    await_eq(tp_sleep(L, 0.03), 0);
    await_eq(w, -ETIMEDOUT);
    tp_loop_call_later(L, 0.01, notify_cb, NULL); /* before the timeout */
    w = tp_condition_wait(c, 0.02);
    await_eq(tp_sleep(L, 0.03), 0);
    await_eq(w, 0);
    tp_condition_free(c);
}
END_TEST

/* ConditionTest.test_notify_n_with_timeout: a timed-out waiter does not count against n. */
START_TEST(test_notify_n_with_timeout)
{
    tp_condition *c = tp_condition_new(L);
    record_done(tp_condition_wait(c, 0), "0");
    tp_future *one = tp_condition_wait(c, 0.01);
    record_done(tp_future_ref(one), "1");
    record_done(tp_condition_wait(c, 0), "2");
    record_done(tp_condition_wait(c, 0), "3");
    await_eq(one, -ETIMEDOUT);
    loop_briefly();
    ck_assert_str_eq(history, "T");
    tp_condition_notify(c, 2);
    loop_briefly();
    ck_assert_str_eq(history, "T 0 2");
    tp_condition_notify(c, 1);
    loop_briefly();
    ck_assert_str_eq(history, "T 0 2 3");
    tp_condition_free(c);
}
END_TEST

/* ConditionTest.test_notify_all_with_timeout */
START_TEST(test_notify_all_with_timeout)
{
    tp_condition *c = tp_condition_new(L);
    record_done(tp_condition_wait(c, 0), "0");
    tp_future *one = tp_condition_wait(c, 0.01);
    record_done(tp_future_ref(one), "1");
    record_done(tp_condition_wait(c, 0), "2");
    await_eq(one, -ETIMEDOUT);
    loop_briefly();
    tp_condition_notify_all(c);
    loop_briefly();
    ck_assert_str_eq(history, "T 0 2");
    tp_condition_free(c);
}
END_TEST

static void renotify(tp_future *f, void *arg)
{
    (void)f;
    tp_condition_notify(arg, 1);
}

/* ConditionTest.test_nested_notify: a waiter's callback re-entering notify loses nothing. */
START_TEST(test_nested_notify)
{
    tp_condition *c = tp_condition_new(L);
    tp_future *fs[3];
    for (int i = 0; i < 3; i++)
        fs[i] = tp_condition_wait(c, 0);
    tp_future_add_done_callback(fs[1], renotify, c);
    tp_condition_notify(c, 2);
    for (int i = 0; i < 3; i++)
        await_eq(fs[i], 0);
    tp_condition_free(c);
}
END_TEST

/* ConditionTest.test_garbage_collection: timed-out waiters leave the line. */
START_TEST(condition_garbage_collection)
{
    tp_condition *c = tp_condition_new(L);
    for (int i = 0; i < 101; i++)
        record_done(tp_condition_wait(c, 0.01), "x");
    tp_future *last = tp_condition_wait(c, 0);
    await_eq(tp_sleep(L, 0.02), 0);
    loop_briefly();
    tp_condition_notify(c, 1); /* all 101 timed out: the one left gets it */
    await_eq(last, 0);
    tp_condition_free(c);
}
END_TEST

/* EventTest.test_event, test_event_set_multiple, test_event_wait_clear */
START_TEST(test_event)
{
    tp_event *e = tp_event_new(L);
    tp_future *f = tp_event_wait(e, 0);
    ck_assert(!tp_event_is_set(e));
    loop_briefly();
    ck_assert(!tp_future_done(f));
    tp_event_set(e);
    tp_event_set(e); /* test_event_set_multiple */
    ck_assert(tp_event_is_set(e));
    await_eq(f, 0);
    f = tp_event_wait(e, 0);
    tp_event_clear(e); /* test_event_wait_clear: the wait already done stays done */
    ck_assert(tp_future_done(f));
    tp_future_unref(f);
    f = tp_event_wait(e, 0);
    loop_briefly();
    ck_assert(!tp_future_done(f));
    tp_event_free(e); /* cancels the pending wait */
    await_eq(f, -ECANCELED);
}
END_TEST

/* EventTest.test_event_timeout */
START_TEST(test_event_timeout)
{
    tp_event *e = tp_event_new(L);
    await_eq(tp_event_wait(e, 0.01), -ETIMEDOUT);
    tp_event_set(e); /* Event was not set through the timeout: a new wait is done */
    await_eq(tp_event_wait(e, 0.01), 0);
    tp_event_free(e);
}
END_TEST

/* SemaphoreTest.test_acquire */
START_TEST(test_acquire)
{
    tp_semaphore *s = tp_semaphore_new(L, 1);
    tp_future *f0 = tp_semaphore_acquire(s, 0);
    ck_assert(tp_future_done(f0));
    ck_assert_uint_eq(tp_semaphore_value(s), 0);
    tp_future *f1 = tp_semaphore_acquire(s, 0);
    ck_assert(!tp_future_done(f1));
    tp_future *f2 = tp_semaphore_acquire(s, 0);
    ck_assert_int_eq(tp_semaphore_release(s), 0);
    await_eq(f1, 0);
    ck_assert(!tp_future_done(f2));
    ck_assert_int_eq(tp_semaphore_release(s), 0);
    await_eq(f2, 0);
    ck_assert_int_eq(tp_semaphore_release(s), 0);
    ck_assert_uint_eq(tp_semaphore_value(s), 1);
    tp_future_unref(f0);
    tp_semaphore_free(s);
}
END_TEST

/* SemaphoreTest.test_acquire_timeout: a timed-out acquire does not take the next release. */
START_TEST(test_acquire_timeout)
{
    tp_semaphore *s = tp_semaphore_new(L, 2);
    tp_future_unref(tp_semaphore_acquire(s, 0));
    tp_future_unref(tp_semaphore_acquire(s, 0));
    await_eq(tp_semaphore_acquire(s, 0.01), -ETIMEDOUT);
    tp_future *f = tp_semaphore_acquire(s, 0);
    tp_semaphore_release(s);
    await_eq(f, 0);
    tp_semaphore_release(s);
    tp_semaphore_release(s);
    ck_assert_uint_eq(tp_semaphore_value(s), 2);
    tp_semaphore_free(s);
}
END_TEST

/* SemaphoreTest.test_acquire_timeout_preempted */
START_TEST(test_acquire_timeout_preempted)
{
    tp_semaphore *s = tp_semaphore_new(L, 1);
    tp_future_unref(tp_semaphore_acquire(s, 0));
    tp_future *f = tp_semaphore_acquire(s, 0.05);
    tp_semaphore_release(s); /* before the timeout */
    await_eq(f, 0);
    await_eq(tp_sleep(L, 0.06), 0);
    ck_assert_uint_eq(tp_semaphore_value(s), 0);
    tp_semaphore_free(s);
}
END_TEST

/* SemaphoreTest.test_garbage_collection and a cancelled acquire: neither takes a unit. */
START_TEST(semaphore_cancelled_waiter)
{
    tp_semaphore *s = tp_semaphore_new(L, 0);
    tp_future *a = tp_semaphore_acquire(s, 0), *b = tp_semaphore_acquire(s, 0);
    ck_assert(tp_future_cancel(a));
    tp_semaphore_release(s);
    await_eq(b, 0);
    await_eq(a, -ECANCELED);
    ck_assert_uint_eq(tp_semaphore_value(s), 0);
    tp_semaphore_free(s);
}
END_TEST

/* SemaphoreTest.test_release_unacquired (an unbounded one may), BoundedSemaphoreTest's. */
START_TEST(test_release_unacquired)
{
    tp_semaphore *s = tp_semaphore_new(L, 1);
    ck_assert_int_eq(tp_semaphore_release(s), 0);
    ck_assert_uint_eq(tp_semaphore_value(s), 2);
    tp_semaphore_free(s);
    s = tp_bounded_semaphore_new(L, 1);
    ck_assert_int_eq(tp_semaphore_release(s), -EOVERFLOW);
    tp_future_unref(tp_semaphore_acquire(s, 0));
    ck_assert_int_eq(tp_semaphore_release(s), 0);
    ck_assert_int_eq(tp_semaphore_release(s), -EOVERFLOW);
    ck_assert_uint_eq(tp_semaphore_value(s), 1);
    tp_semaphore_free(s);
}
END_TEST

/* LockTest.test_acquire_release, test_release_unacquired, test_multi_release */
START_TEST(test_acquire_release)
{
    tp_lock *l = tp_lock_new(L);
    ck_assert(!tp_lock_locked(l));
    ck_assert_int_eq(tp_lock_release(l), -EPERM);
    await_eq(tp_lock_acquire(l, 0), 0);
    ck_assert(tp_lock_locked(l));
    ck_assert_int_eq(tp_lock_release(l), 0);
    ck_assert(!tp_lock_locked(l));
    ck_assert_int_eq(tp_lock_release(l), -EPERM);
    tp_lock_free(l);
}
END_TEST

static tp_lock *fifo_lock;

static void note_and_release(tp_future *f, void *arg)
{
    ck_assert_int_eq(tp_future_error(f), 0);
    note(arg);
    ck_assert_int_eq(tp_lock_release(fifo_lock), 0);
}

/* LockTest.test_acquire_fifo: waiters get the lock in the order they asked. */
START_TEST(test_acquire_fifo)
{
    static const char *keys[] = {"0", "1", "2", "3", "4"};
    fifo_lock = tp_lock_new(L);
    tp_future_unref(tp_lock_acquire(fifo_lock, 0));
    tp_future *fs[5];
    for (int i = 0; i < 5; i++) {
        fs[i] = tp_lock_acquire(fifo_lock, 0);
        tp_future_add_done_callback(fs[i], note_and_release, (void *)keys[i]);
    }
    ck_assert_int_eq(tp_lock_release(fifo_lock), 0);
    for (int i = 0; i < 5; i++)
        await_eq(fs[i], 0);
    loop_briefly();
    ck_assert_str_eq(history, "0 1 2 3 4");
    ck_assert(!tp_lock_locked(fifo_lock));
    tp_lock_free(fifo_lock);
}
END_TEST

/* LockTest.test_acquire_timeout */
START_TEST(test_lock_acquire_timeout)
{
    tp_lock *l = tp_lock_new(L);
    tp_future_unref(tp_lock_acquire(l, 0));
    await_eq(tp_lock_acquire(l, 0.01), -ETIMEDOUT);
    tp_future *f = tp_lock_acquire(l, 0); /* the timed-out waiter got nothing */
    ck_assert_int_eq(tp_lock_release(l), 0);
    await_eq(f, 0);
    ck_assert(tp_lock_locked(l));
    tp_lock_free(l);
}
END_TEST

Suite *locks_suite(void)
{
    Suite *s = suite_create("locks");
    TCase *tc = fixture_tcase("condition");
    tcase_add_test(tc, test_notify);
    tcase_add_test(tc, test_notify_1);
    tcase_add_test(tc, test_notify_n);
    tcase_add_test(tc, test_notify_all);
    tcase_add_test(tc, test_wait_timeout);
    tcase_add_test(tc, test_notify_n_with_timeout);
    tcase_add_test(tc, test_notify_all_with_timeout);
    tcase_add_test(tc, test_nested_notify);
    tcase_add_test(tc, condition_garbage_collection);
    suite_add_tcase(s, tc);
    tc = fixture_tcase("event");
    tcase_add_test(tc, test_event);
    tcase_add_test(tc, test_event_timeout);
    suite_add_tcase(s, tc);
    tc = fixture_tcase("semaphore");
    tcase_add_test(tc, test_acquire);
    tcase_add_test(tc, test_acquire_timeout);
    tcase_add_test(tc, test_acquire_timeout_preempted);
    tcase_add_test(tc, semaphore_cancelled_waiter);
    tcase_add_test(tc, test_release_unacquired);
    suite_add_tcase(s, tc);
    tc = fixture_tcase("lock");
    tcase_add_test(tc, test_acquire_release);
    tcase_add_test(tc, test_acquire_fifo);
    tcase_add_test(tc, test_lock_acquire_timeout);
    suite_add_tcase(s, tc);
    return s;
}
