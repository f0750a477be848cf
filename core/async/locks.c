/* tornado.locks over the waiter FIFO (async_internal.h). The objects are owned by their user
 * and freed in their _free function; their waiters' futures outlive them, cancelled. */
#include "core/async/locks.h"

#include <errno.h>

#include "core/alloc.h"
#include "core/async/async_internal.h"

/* ---- Event ------------------------------------------------------------------------------ */

struct tp_event {
    tp__waitq waiters;
    bool value;
};

tp_event *tp_event_new(tp_loop *loop)
{
    tp_event *e = tp_calloc(1, sizeof(*e));
    e->waiters.loop = loop;
    return e;
}

void tp_event_free(tp_event *e)
{
    if (!e)
        return;
    tp__waitq_clear(&e->waiters);
    tp_free(e);
}

bool tp_event_is_set(const tp_event *e)
{
    return e->value;
}

void tp_event_set(tp_event *e)
{
    if (e->value)
        return;
    e->value = true;
    for (tp__waiter *w; (w = tp__waitq_pop(&e->waiters));)
        tp_future_set_result(w->f, NULL, NULL);
}

void tp_event_clear(tp_event *e)
{
    e->value = false;
}

tp_future *tp_event_wait(tp_event *e, double timeout)
{
    if (e->value) {
        tp_future *f = tp_future_new(e->waiters.loop);
        tp_future_set_result(f, NULL, NULL);
        return f;
    }
    return tp__waitq_add(&e->waiters, timeout, NULL);
}

/* ---- Condition -------------------------------------------------------------------------- */

struct tp_condition {
    tp__waitq waiters;
};

tp_condition *tp_condition_new(tp_loop *loop)
{
    tp_condition *c = tp_calloc(1, sizeof(*c));
    c->waiters.loop = loop;
    return c;
}

void tp_condition_free(tp_condition *c)
{
    if (!c)
        return;
    tp__waitq_clear(&c->waiters);
    tp_free(c);
}

tp_future *tp_condition_wait(tp_condition *c, double timeout)
{
    return tp__waitq_add(&c->waiters, timeout, NULL);
}

void tp_condition_notify(tp_condition *c, size_t n)
{
    tp__waiter *w;
    while (n > 0 && (w = tp__waitq_pop(&c->waiters))) {
        tp_future_set_result(w->f, NULL, NULL);
        n--;
    }
}

void tp_condition_notify_all(tp_condition *c)
{
    tp_condition_notify(c, (size_t)-1);
}

/* ---- Semaphore, BoundedSemaphore -------------------------------------------------------- */

struct tp_semaphore {
    tp__waitq waiters;
    unsigned value;
    unsigned bound; /* 0: unbounded */
};

tp_semaphore *tp_semaphore_new(tp_loop *loop, unsigned value)
{
    tp_semaphore *s = tp_calloc(1, sizeof(*s));
    s->waiters.loop = loop;
    s->value = value;
    return s;
}

tp_semaphore *tp_bounded_semaphore_new(tp_loop *loop, unsigned value)
{
    tp_semaphore *s = tp_semaphore_new(loop, value);
    s->bound = value;
    return s;
}

void tp_semaphore_free(tp_semaphore *s)
{
    if (!s)
        return;
    tp__waitq_clear(&s->waiters);
    tp_free(s);
}

tp_future *tp_semaphore_acquire(tp_semaphore *s, double timeout)
{
    if (s->value > 0) {
        s->value--;
        tp_future *f = tp_future_new(s->waiters.loop);
        tp_future_set_result(f, NULL, NULL);
        return f;
    }
    return tp__waitq_add(&s->waiters, timeout, NULL);
}

int tp_semaphore_release(tp_semaphore *s)
{
    if (s->bound && s->value >= s->bound)
        return -EOVERFLOW; /* "Semaphore released too many times" */
    tp__waiter *w = tp__waitq_pop(&s->waiters);
    if (w) /* the unit goes straight to the oldest pending acquire */
        tp_future_set_result(w->f, NULL, NULL);
    else
        s->value++;
    return 0;
}

unsigned tp_semaphore_value(const tp_semaphore *s)
{
    return s->value;
}

/* ---- Lock ------------------------------------------------------------------------------- */

struct tp_lock {
    tp_semaphore *block;
};

tp_lock *tp_lock_new(tp_loop *loop)
{
    tp_lock *l = tp_calloc(1, sizeof(*l));
    l->block = tp_bounded_semaphore_new(loop, 1);
    return l;
}

void tp_lock_free(tp_lock *l)
{
    if (!l)
        return;
    tp_semaphore_free(l->block);
    tp_free(l);
}

tp_future *tp_lock_acquire(tp_lock *l, double timeout)
{
    return tp_semaphore_acquire(l->block, timeout);
}

int tp_lock_release(tp_lock *l)
{
    return tp_semaphore_release(l->block) == -EOVERFLOW ? -EPERM : 0;
}

bool tp_lock_locked(const tp_lock *l)
{
    return l->block->value == 0;
}
