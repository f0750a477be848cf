/* The waiter FIFO of locks.c and queue.c (async_internal.h). A waiter is freed in one place,
 * its future's done callback, whatever completed the future: a notify, its deadline, a
 * cancel by the user or by tp__waitq_clear. */
#include <errno.h>

#include "core/alloc.h"
#include "core/async/async_internal.h"

static void unlink_waiter(tp__waiter *w)
{
    tp__waitq *q = w->q;
    if (!q)
        return;
    if (w->prev)
        w->prev->next = w->next;
    else
        q->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        q->tail = w->prev;
    w->prev = w->next = NULL;
    w->q = NULL;
}

static void waiter_expired(tp_loop *loop, void *arg)
{
    (void)loop;
    tp__waiter *w = arg;
    tp_future_set_error(w->f, -ETIMEDOUT, "Timeout");
}

static void waiter_done(tp_future *f, void *arg)
{
    tp__waiter *w = arg;
    if (w->timer)
        tp_loop_remove_timeout(tp_future_loop(f), w->timer);
    unlink_waiter(w);
    tp_future_unref(w->f);
    tp_free(w);
}

tp_future *tp__waitq_add(tp__waitq *q, double timeout, void *item)
{
    tp__waiter *w = tp_calloc(1, sizeof(*w));
    w->q = q;
    w->f = tp_future_new(q->loop);
    w->item = item;
    w->prev = q->tail;
    if (q->tail)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
    if (timeout > 0)
        w->timer = tp_loop_call_later(q->loop, timeout, waiter_expired, w);
    tp_future_add_done_callback(w->f, waiter_done, w);
    return tp_future_ref(w->f);
}

tp__waiter *tp__waitq_pop(tp__waitq *q)
{
    while (q->head) {
        tp__waiter *w = q->head;
        unlink_waiter(w);
        if (!tp_future_done(w->f))
            return w;
    }
    return NULL;
}

bool tp__waitq_pending(const tp__waitq *q)
{
    for (const tp__waiter *w = q->head; w; w = w->next)
        if (!tp_future_done(w->f))
            return true;
    return false;
}

void tp__waitq_clear(tp__waitq *q)
{
    while (q->head) {
        tp__waiter *w = q->head;
        unlink_waiter(w);
        tp_future_cancel(w->f);
    }
}
