/* Shared by locks.c and queue.c: a FIFO of waiters, each a future with an optional deadline
 * and an item (a queue's putter carries the item it puts). */
#ifndef TP_CORE_ASYNC_INTERNAL_H
#define TP_CORE_ASYNC_INTERNAL_H

#include <stdbool.h>

#include "core/async/future.h"

typedef struct tp__waitq tp__waitq;

/* One waiter. It stays linked in its queue until popped or until its future is done (timed
 * out, cancelled); its done callback unlinks and frees it: the one place. */
typedef struct tp__waiter {
    struct tp__waiter *prev, *next;
    tp__waitq *q; /* NULL once popped or once the queue is gone */
    tp_future *f;
    tp_timeout timer; /* 0: no deadline */
    void *item;
} tp__waiter;

struct tp__waitq {
    tp_loop *loop;
    tp__waiter *head, *tail;
};

/* A new waiter at the tail; after timeout seconds (> 0; <= 0: never) its future fails with
 * -ETIMEDOUT ("Timeout"). Returns the future with a reference for the caller. */
tp_future *tp__waitq_add(tp__waitq *q, double timeout, void *item);
/* Unlinks and returns the first waiter whose future is still pending (done ones met on the
 * way are unlinked too: a timed-out or cancelled waiter never takes a slot), or NULL. The
 * caller completes w->f; w stays valid until then. */
tp__waiter *tp__waitq_pop(tp__waitq *q);
/* True if a waiter with a pending future is queued. */
bool tp__waitq_pending(const tp__waitq *q);
/* The queue is going away: every pending waiter is cancelled and all are unlinked. */
void tp__waitq_clear(tp__waitq *q);

#endif
