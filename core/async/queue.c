/* tornado.queues: the item store (a ring for FIFO, a stack for LIFO, a binary heap for the
 * priority queue) plus two waiter FIFOs (getters, putters carrying their item) and the
 * Event that join waits on. put_nowait/get_nowait are Tornado's, step for step; the waiting
 * forms try them first and queue a waiter only when they would fail. */
#include "core/async/queue.h"

#include <errno.h>
#include <string.h>

#include "core/alloc.h"
#include "core/async/async_internal.h"
#include "core/async/locks.h"

enum queue_kind { QUEUE_FIFO, QUEUE_LIFO, QUEUE_PRIORITY };

struct tp_queue {
    enum queue_kind kind;
    tp_queue_cmp cmp;
    size_t maxsize;
    void **items;
    size_t head, count, cap; /* head: the ring's start (FIFO only) */
    tp__waitq getters, putters;
    size_t unfinished_tasks;
    tp_event *finished; /* set while unfinished_tasks is 0 */
};

static tp_queue *queue_new(tp_loop *loop, size_t maxsize, enum queue_kind kind)
{
    tp_queue *q = tp_calloc(1, sizeof(*q));
    q->kind = kind;
    q->maxsize = maxsize;
    q->getters.loop = q->putters.loop = loop;
    q->finished = tp_event_new(loop);
    tp_event_set(q->finished);
    return q;
}

tp_queue *tp_queue_new(tp_loop *loop, size_t maxsize)
{
    return queue_new(loop, maxsize, QUEUE_FIFO);
}

tp_queue *tp_lifo_queue_new(tp_loop *loop, size_t maxsize)
{
    return queue_new(loop, maxsize, QUEUE_LIFO);
}

tp_queue *tp_priority_queue_new(tp_loop *loop, size_t maxsize, tp_queue_cmp cmp)
{
    tp_queue *q = queue_new(loop, maxsize, QUEUE_PRIORITY);
    q->cmp = cmp;
    return q;
}

void tp_queue_free(tp_queue *q)
{
    if (!q)
        return;
    tp__waitq_clear(&q->getters);
    tp__waitq_clear(&q->putters);
    tp_event_free(q->finished);
    tp_free(q->items);
    tp_free(q);
}

/* ---- the item store --------------------------------------------------------------------- */

static void grow(tp_queue *q)
{
    size_t cap = q->cap ? q->cap * 2 : 8;
    void **items = tp_calloc(cap, sizeof(*items));
    for (size_t i = 0; i < q->count; i++) /* unrolls the ring: head becomes 0 */
        items[i] = q->items[(q->head + i) % q->cap];
    tp_free(q->items);
    q->items = items;
    q->cap = cap;
    q->head = 0;
}

static void swap(void **a, void **b)
{
    void *t = *a;
    *a = *b;
    *b = t;
}

static void heap_up(tp_queue *q, size_t i)
{
    while (i > 0 && q->cmp(q->items[i], q->items[(i - 1) / 2]) < 0) {
        swap(&q->items[i], &q->items[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
}

static void heap_down(tp_queue *q, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < q->count && q->cmp(q->items[l], q->items[m]) < 0)
            m = l;
        if (r < q->count && q->cmp(q->items[r], q->items[m]) < 0)
            m = r;
        if (m == i)
            return;
        swap(&q->items[i], &q->items[m]);
        i = m;
    }
}

static void store_put(tp_queue *q, void *item)
{
    if (q->count == q->cap)
        grow(q);
    q->items[(q->head + q->count) % q->cap] = item;
    q->count++;
    if (q->kind == QUEUE_PRIORITY)
        heap_up(q, q->count - 1);
}

static void *store_get(tp_queue *q)
{
    void *item;
    if (q->kind == QUEUE_FIFO) {
        item = q->items[q->head];
        q->head = (q->head + 1) % q->cap;
    } else if (q->kind == QUEUE_LIFO) {
        item = q->items[q->count - 1];
    } else {
        item = q->items[0];
        q->items[0] = q->items[q->count - 1];
    }
    q->count--;
    if (q->kind == QUEUE_PRIORITY && q->count > 1)
        heap_down(q, 0);
    return item;
}

/* Tornado's __put_internal: one more unfinished task. */
static void put_internal(tp_queue *q, void *item)
{
    q->unfinished_tasks++;
    tp_event_clear(q->finished);
    store_put(q, item);
}

/* ---- Tornado's API ---------------------------------------------------------------------- */

size_t tp_queue_qsize(const tp_queue *q)
{
    return q->count;
}

size_t tp_queue_maxsize(const tp_queue *q)
{
    return q->maxsize;
}

bool tp_queue_empty(const tp_queue *q)
{
    return q->count == 0;
}

bool tp_queue_full(const tp_queue *q)
{
    return q->maxsize > 0 && q->count >= q->maxsize;
}

int tp_queue_put_nowait(tp_queue *q, void *item)
{
    tp__waiter *getter = tp__waitq_pop(&q->getters);
    if (getter) { /* getters wait only on an empty queue: the item goes straight through */
        put_internal(q, item);
        tp_future_set_result(getter->f, store_get(q), NULL);
        return 0;
    }
    if (tp_queue_full(q))
        return -EAGAIN;
    put_internal(q, item);
    return 0;
}

int tp_queue_get_nowait(tp_queue *q, void **item)
{
    tp__waiter *putter = tp__waitq_pop(&q->putters);
    if (putter) { /* putters wait only on a full queue: take one, let one in */
        put_internal(q, putter->item);
        tp_future_set_result(putter->f, NULL, NULL);
        *item = store_get(q);
        return 0;
    }
    if (q->count == 0)
        return -EAGAIN;
    *item = store_get(q);
    return 0;
}

static tp_future *done_future(tp_queue *q, void *value)
{
    tp_future *f = tp_future_new(q->getters.loop);
    tp_future_set_result(f, value, NULL);
    return f;
}

tp_future *tp_queue_put(tp_queue *q, void *item, double timeout)
{
    if (tp_queue_put_nowait(q, item) == 0)
        return done_future(q, NULL);
    return tp__waitq_add(&q->putters, timeout, item);
}

tp_future *tp_queue_get(tp_queue *q, double timeout)
{
    void *item;
    if (tp_queue_get_nowait(q, &item) == 0)
        return done_future(q, item);
    return tp__waitq_add(&q->getters, timeout, NULL);
}

int tp_queue_task_done(tp_queue *q)
{
    if (q->unfinished_tasks == 0)
        return -EINVAL; /* "task_done() called too many times" */
    if (--q->unfinished_tasks == 0)
        tp_event_set(q->finished);
    return 0;
}

tp_future *tp_queue_join(tp_queue *q, double timeout)
{
    return tp_event_wait(q->finished, timeout);
}
