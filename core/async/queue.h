/* tornado.queues on the loop: Queue (FIFO), PriorityQueue (smallest first by a comparison
 * callback) and LifoQueue. Items are void pointers the queue does not own. Futures come with
 * a reference for the caller; a timeout in seconds (> 0; <= 0 waits without a deadline) fails
 * a put or get with -ETIMEDOUT ("Timeout"). A timed-out or cancelled get never takes an item
 * and a timed-out put never adds its item. Use from the loop's thread only. */
#ifndef TP_CORE_ASYNC_QUEUE_H
#define TP_CORE_ASYNC_QUEUE_H

#include "platform/api.h"

#include <stdbool.h>
#include <stddef.h>

#include "core/async/future.h"

typedef struct tp_queue tp_queue;
/* PriorityQueue's order: < 0 when a comes out before b. */
typedef int (*tp_queue_cmp)(const void *a, const void *b);

/* A queue holding at most maxsize items (0: unbounded). Free with tp_queue_free: pending
 * gets and puts are cancelled, items still queued are dropped (not freed). */
TP_API tp_queue *tp_queue_new(tp_loop *loop, size_t maxsize);
TP_API tp_queue *tp_lifo_queue_new(tp_loop *loop, size_t maxsize);
TP_API tp_queue *tp_priority_queue_new(tp_loop *loop, size_t maxsize, tp_queue_cmp cmp);
TP_API void tp_queue_free(tp_queue *q);

/* Puts item, waiting for room if the queue is full: the future is done (NULL result) once
 * item is in. */
TP_API tp_future *tp_queue_put(tp_queue *q, void *item, double timeout);
/* Puts item now: 0, or -EAGAIN if the queue is full (Tornado's QueueFull). */
TP_API int tp_queue_put_nowait(tp_queue *q, void *item);
/* Removes and returns an item, waiting for one: the future's result is the item. */
TP_API tp_future *tp_queue_get(tp_queue *q, double timeout);
/* Removes an item now into *item: 0, or -EAGAIN if the queue is empty (QueueEmpty). */
TP_API int tp_queue_get_nowait(tp_queue *q, void **item);

TP_API size_t tp_queue_qsize(const tp_queue *q);
TP_API size_t tp_queue_maxsize(const tp_queue *q);
TP_API bool tp_queue_empty(const tp_queue *q);
TP_API bool tp_queue_full(const tp_queue *q);

/* One item that was got is fully processed. 0, or -EINVAL if called more times than items
 * were put (Tornado's ValueError "task_done() called too many times"). */
TP_API int tp_queue_task_done(tp_queue *q);
/* A future done (NULL result) once every item put has been task_done'd: at once if so now. */
TP_API tp_future *tp_queue_join(tp_queue *q, double timeout);

#endif
