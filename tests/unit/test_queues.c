/* core/async/queue.h: Tornado's tornado/test/queues_test.py cases, named in each comment.
 * Items are small integers cast to pointers. */
#include <stdint.h>

#include "core/async/queue.h"
#include "tests/unit/async_fixture.h"

#define I(n)      ((void *)(intptr_t)(n))
#define N(p)      ((int)(intptr_t)(p))
#define RESULT(f) N(tp_future_result(f))

/* Awaits a get and returns its item (the future is dropped). */
static int got(tp_future *f)
{
    ck_assert_int_eq(await(f), 0);
    int v = RESULT(f);
    tp_future_unref(f);
    return v;
}

/* QueueBasicTest.test_order (FIFO), LifoQueueTest.test_order, PriorityQueueTest.test_order */
static int cmp_int(const void *a, const void *b)
{
    return N(a) - N(b);
}

START_TEST(test_order)
{
    static const int in[] = {1, 3, 2};
    tp_queue *qs[3] = {tp_queue_new(L, 0), tp_lifo_queue_new(L, 0),
                       tp_priority_queue_new(L, 0, cmp_int)};
    static const int want[3][3] = {{1, 3, 2}, {2, 3, 1}, {1, 2, 3}};
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < 3; i++)
            ck_assert_int_eq(tp_queue_put_nowait(qs[k], I(in[i])), 0);
        for (int i = 0; i < 3; i++)
            ck_assert_int_eq(got(tp_queue_get(qs[k], 0)), want[k][i]);
        tp_queue_free(qs[k]);
    }
}
END_TEST

/* PriorityQueueTest with more items than the first allocation. */
START_TEST(priority_many)
{
    tp_queue *q = tp_priority_queue_new(L, 0, cmp_int);
    for (int i = 0; i < 100; i++)
        tp_queue_put_nowait(q, I((i * 37) % 100));
    void *item;
    for (int i = 0; i < 100; i++) {
        ck_assert_int_eq(tp_queue_get_nowait(q, &item), 0);
        ck_assert_int_eq(N(item), i);
    }
    ck_assert_int_eq(tp_queue_get_nowait(q, &item), -EAGAIN);
    tp_queue_free(q);
}
END_TEST

/* QueueBasicTest.test_maxsize */
START_TEST(test_maxsize)
{
    tp_queue *q = tp_queue_new(L, 2);
    ck_assert(tp_queue_empty(q));
    ck_assert(!tp_queue_full(q));
    ck_assert_uint_eq(tp_queue_maxsize(q), 2);
    tp_future *p0 = tp_queue_put(q, I(0), 0), *p1 = tp_queue_put(q, I(1), 0);
    ck_assert(tp_future_done(p0) && tp_future_done(p1));
    ck_assert(tp_queue_full(q));
    tp_future *p2 = tp_queue_put(q, I(2), 0);
    ck_assert(!tp_future_done(p2));
    ck_assert_int_eq(got(tp_queue_get(q, 0)), 0);
    await_eq(p2, 0);
    ck_assert(tp_queue_full(q));
    ck_assert_uint_eq(tp_queue_qsize(q), 2);
    tp_future_unref(p0);
    tp_future_unref(p1);
    tp_queue_free(q);
}
END_TEST

/* QueueGetTest.test_blocking_get, test_nonblocking_get, test_nonblocking_get_exception */
START_TEST(test_nonblocking_get)
{
    tp_queue *q = tp_queue_new(L, 0);
    void *item = NULL;
    ck_assert_int_eq(tp_queue_get_nowait(q, &item), -EAGAIN);
    tp_queue_put_nowait(q, I(0));
    ck_assert_int_eq(tp_queue_get_nowait(q, &item), 0);
    ck_assert_int_eq(N(item), 0);
    tp_queue_put_nowait(q, I(5));
    ck_assert_int_eq(got(tp_queue_get(q, 0)), 5);
    tp_queue_free(q);
}
END_TEST

/* QueueGetTest.test_get_with_putters */
START_TEST(test_get_with_putters)
{
    tp_queue *q = tp_queue_new(L, 1);
    tp_queue_put_nowait(q, I(0));
    tp_future *put = tp_queue_put(q, I(1), 0);
    ck_assert_int_eq(got(tp_queue_get(q, 0)), 0);
    await_eq(put, 0);
    ck_assert_int_eq(got(tp_queue_get(q, 0)), 1);
    tp_queue_free(q);
}
END_TEST

static tp_queue *delayed_q;

static void put_later(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_queue_put_nowait(delayed_q, arg);
}

/* QueueGetTest.test_blocking_get_wait */
START_TEST(test_blocking_get_wait)
{
    tp_queue *q = delayed_q = tp_queue_new(L, 0);
    tp_future_unref(tp_queue_put(q, I(0), 0));
    tp_loop_call_later(L, 0.01, put_later, I(1));
    tp_loop_call_later(L, 0.02, put_later, I(2));
    ck_assert_int_eq(got(tp_queue_get(q, 0)), 0);
    ck_assert_int_eq(got(tp_queue_get(q, 0)), 1);
    ck_assert_int_eq(got(tp_queue_get(q, 0)), 2);
    tp_queue_free(q);
}
END_TEST

/* QueueGetTest.test_get_timeout, test_get_timeout_preempted */
START_TEST(test_get_timeout)
{
    tp_queue *q = delayed_q = tp_queue_new(L, 0);
    tp_future *get_timeout = tp_queue_get(q, 0.01);
    tp_future *get = tp_queue_get(q, 0);
    await_eq(get_timeout, -ETIMEDOUT);
    tp_queue_put_nowait(q, I(0));
    ck_assert_int_eq(got(get), 0); /* the timed-out get took nothing */
    tp_loop_call_later(L, 0.01, put_later, I(1));
    ck_assert_int_eq(got(tp_queue_get(q, 0.05)), 1);
    await_eq(tp_sleep(L, 0.06), 0);
    tp_queue_free(q);
}
END_TEST

/* QueueGetTest.test_get_clears_timed_out_putters */
START_TEST(test_get_clears_timed_out_putters)
{
    tp_queue *q = tp_queue_new(L, 1);
    tp_future *putters[10];
    for (int i = 0; i < 10; i++)
        putters[i] = tp_queue_put(q, I(i), 0.01);
    tp_future *put = tp_queue_put(q, I(10), 0);
    for (int i = 1; i < 10; i++)
        ck_assert_int_eq(await(putters[i]), -ETIMEDOUT);
    ck_assert(!tp_future_done(put)); /* the last putter is still active */
    ck_assert_int_eq(got(tp_queue_get(q, 0)), 0);
    await_eq(put, 0);
    ck_assert_int_eq(got(tp_queue_get(q, 0)), 10); /* the timed-out items were never added */
    ck_assert(tp_queue_empty(q));
    for (int i = 0; i < 10; i++)
        tp_future_unref(putters[i]);
    tp_queue_free(q);
}
END_TEST

/* QueueGetTest.test_get_clears_timed_out_getters */
START_TEST(test_get_clears_timed_out_getters)
{
    tp_queue *q = tp_queue_new(L, 0);
    tp_future *getters[10];
    for (int i = 0; i < 10; i++)
        getters[i] = tp_queue_get(q, 0.01);
    tp_future *get = tp_queue_get(q, 0);
    for (int i = 0; i < 10; i++)
        await_eq(getters[i], -ETIMEDOUT);
    ck_assert(!tp_future_done(get));
    tp_queue_put_nowait(q, I(7));
    ck_assert_int_eq(got(get), 7);
    tp_queue_free(q);
}
END_TEST

/* QueuePutTest.test_blocking_put, test_nonblocking_put_exception, test_put_with_getters,
 * test_nonblocking_put_with_getters */
START_TEST(test_put_with_getters)
{
    tp_queue *q = tp_queue_new(L, 1);
    tp_future *get0 = tp_queue_get(q, 0), *get1 = tp_queue_get(q, 0);
    await_eq(tp_queue_put(q, I(0), 0), 0);
    ck_assert_int_eq(got(get0), 0);
    ck_assert_int_eq(tp_queue_put_nowait(q, I(1)), 0);
    ck_assert_int_eq(got(get1), 1);
    ck_assert_int_eq(tp_queue_put_nowait(q, I(2)), 0);
    ck_assert_int_eq(tp_queue_put_nowait(q, I(3)), -EAGAIN); /* QueueFull */
    tp_queue_free(q);
}
END_TEST

/* QueuePutTest.test_put_timeout, test_put_timeout_preempted, test_put_clears_timed_out_* */
START_TEST(test_put_timeout)
{
    tp_queue *q = tp_queue_new(L, 1);
    tp_queue_put_nowait(q, I(0));
    tp_future *put_timeout = tp_queue_put(q, I(1), 0.01);
    tp_future *put = tp_queue_put(q, I(2), 0);
    await_eq(put_timeout, -ETIMEDOUT);
    ck_assert_int_eq(got(tp_queue_get(q, 0)), 0);
    await_eq(put, 0);
    ck_assert_int_eq(got(tp_queue_get(q, 0)), 2); /* 1 was never added */
    tp_queue_free(q);
}
END_TEST

/* QueueJoinTest.test_task_done_underflow */
START_TEST(test_task_done_underflow)
{
    tp_queue *q = tp_queue_new(L, 0);
    ck_assert_int_eq(tp_queue_task_done(q), -EINVAL);
    tp_queue_free(q);
}
END_TEST

static void consume_one(tp_future *f, void *arg)
{
    if (tp_future_error(f))
        return;
    note("done");
    tp_queue_task_done(arg);
}

/* QueueJoinTest.test_task_done, test_join_empty_queue, test_join_timeout */
START_TEST(test_task_done)
{
    tp_queue *q = tp_queue_new(L, 0);
    await_eq(tp_queue_join(q, 0), 0); /* test_join_empty_queue */
    for (int i = 0; i < 3; i++)
        tp_queue_put_nowait(q, I(i));
    await_eq(tp_queue_join(q, 0.01), -ETIMEDOUT); /* test_join_timeout */
    for (int i = 0; i < 3; i++) {
        tp_future *g = tp_queue_get(q, 0);
        tp_future_add_done_callback(g, consume_one, q);
        tp_future_unref(g);
    }
    await_eq(tp_queue_join(q, 0), 0);
    ck_assert_str_eq(history, "done done done");
    ck_assert_int_eq(tp_queue_task_done(q), -EINVAL);
    tp_queue_free(q);
}
END_TEST

/* ProducerConsumerTest.test_producer_consumer */
static void consumer(tp_future *f, void *arg);

static void consume_next(tp_queue *q)
{
    tp_future *g = tp_queue_get(q, 0);
    tp_future_add_done_callback(g, consumer, q);
    tp_future_unref(g);
}

static void consumer(tp_future *f, void *arg)
{
    if (tp_future_error(f))
        return;
    static const char *keys[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
    note(keys[RESULT(f)]);
    tp_queue_task_done(arg);
    consume_next(arg);
}

static void producer(tp_loop *loop, void *arg);

static int produced;

static void produce_next(tp_future *f, void *arg)
{
    (void)f;
    producer(NULL, arg);
}

static void producer(tp_loop *loop, void *arg)
{
    (void)loop;
    if (produced == 10)
        return;
    tp_future *p = tp_queue_put(arg, I(produced++), 0);
    tp_future_add_done_callback(p, produce_next, arg);
    tp_future_unref(p);
}

START_TEST(test_producer_consumer)
{
    tp_queue *q = tp_queue_new(L, 3);
    produced = 0;
    consume_next(q);
    producer(L, q);
    /* join may be done between two puts: run until the consumer saw all ten */
    const char *want = "0 1 2 3 4 5 6 7 8 9";
    for (double end = tp__monotonic() + 30; strcmp(history, want) && tp__monotonic() < end;)
        loop_briefly();
    ck_assert_str_eq(history, want);
    await_eq(tp_queue_join(q, 0), 0);
    tp_queue_free(q);
}
END_TEST

Suite *queues_suite(void)
{
    Suite *s = suite_create("queues");
    TCase *tc = fixture_tcase("queue");
    tcase_add_test(tc, test_order);
    tcase_add_test(tc, priority_many);
    tcase_add_test(tc, test_maxsize);
    tcase_add_test(tc, test_nonblocking_get);
    tcase_add_test(tc, test_get_with_putters);
    tcase_add_test(tc, test_blocking_get_wait);
    tcase_add_test(tc, test_get_timeout);
    tcase_add_test(tc, test_get_clears_timed_out_putters);
    tcase_add_test(tc, test_get_clears_timed_out_getters);
    tcase_add_test(tc, test_put_with_getters);
    tcase_add_test(tc, test_put_timeout);
    tcase_add_test(tc, test_task_done_underflow);
    tcase_add_test(tc, test_task_done);
    tcase_add_test(tc, test_producer_consumer);
    suite_add_tcase(s, tc);
    return s;
}
