/* tornado.locks on the loop: Event, Condition, Semaphore, BoundedSemaphore and Lock. Every
 * wait is a future (core/async/future.h) with a reference for the caller; a timeout in
 * seconds (> 0; <= 0 waits without a deadline) fails it with -ETIMEDOUT ("Timeout"). A
 * waiter that timed out or was cancelled leaves the line and never takes a notify or a slot
 * (Tornado's fixed semantics). Use from the loop's thread only. Freeing a lock object
 * cancels its pending waiters. */
#ifndef TP_CORE_ASYNC_LOCKS_H
#define TP_CORE_ASYNC_LOCKS_H

#include "platform/api.h"

#include <stdbool.h>
#include <stddef.h>

#include "core/async/future.h"

typedef struct tp_event tp_event;
typedef struct tp_condition tp_condition;
typedef struct tp_semaphore tp_semaphore;
typedef struct tp_lock tp_lock;

/* An Event, clear. Free with tp_event_free (pending waits are cancelled). */
TP_API tp_event *tp_event_new(tp_loop *loop);
TP_API void tp_event_free(tp_event *e);
TP_API bool tp_event_is_set(const tp_event *e);
/* Sets the flag and completes every pending wait (NULL result). */
TP_API void tp_event_set(tp_event *e);
TP_API void tp_event_clear(tp_event *e);
/* A future done (NULL result) once the flag is set: at once if it is set now. */
TP_API tp_future *tp_event_wait(tp_event *e, double timeout);

/* A Condition. Free with tp_condition_free (pending waits are cancelled). */
TP_API tp_condition *tp_condition_new(tp_loop *loop);
TP_API void tp_condition_free(tp_condition *c);
/* A future done (NULL result) when notified. On timeout it fails with -ETIMEDOUT where
 * Tornado's resolves to False. */
TP_API tp_future *tp_condition_wait(tp_condition *c, double timeout);
/* Wakes up to n pending waiters, oldest first; notify_all wakes all of them. */
TP_API void tp_condition_notify(tp_condition *c, size_t n);
TP_API void tp_condition_notify_all(tp_condition *c);

/* A Semaphore with a counter of value; a BoundedSemaphore refuses to be released above its
 * initial value. Free with tp_semaphore_free (pending acquires are cancelled). */
TP_API tp_semaphore *tp_semaphore_new(tp_loop *loop, unsigned value);
TP_API tp_semaphore *tp_bounded_semaphore_new(tp_loop *loop, unsigned value);
TP_API void tp_semaphore_free(tp_semaphore *s);
/* A future done (NULL result) once a unit is taken: at once if the counter is above 0. */
TP_API tp_future *tp_semaphore_acquire(tp_semaphore *s, double timeout);
/* Gives a unit back, to the oldest pending acquire if any. 0, or -EOVERFLOW for a bounded
 * semaphore released too many times (Tornado's ValueError); the counter is then unchanged. */
TP_API int tp_semaphore_release(tp_semaphore *s);
/* The counter: units free now. */
TP_API unsigned tp_semaphore_value(const tp_semaphore *s);

/* A Lock (a BoundedSemaphore of 1). Free with tp_lock_free (pending acquires cancelled). */
TP_API tp_lock *tp_lock_new(tp_loop *loop);
TP_API void tp_lock_free(tp_lock *l);
/* A future done (NULL result) once the lock is ours. */
TP_API tp_future *tp_lock_acquire(tp_lock *l, double timeout);
/* Unlocks, handing the lock to the oldest pending acquire. 0, or -EPERM if it was not locked
 * (Tornado's RuntimeError "release unlocked lock"). */
TP_API int tp_lock_release(tp_lock *l);
TP_API bool tp_lock_locked(const tp_lock *l);

#endif
