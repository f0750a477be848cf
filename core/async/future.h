/* Futures on the IOLoop (Tornado's tornado.concurrent.Future and the helpers of tornado.gen).
 * A future belongs to one loop and is used from that loop's thread only (the executor
 * completes its futures through tp_loop_add_callback_threadsafe). It is reference-counted:
 * tp_future_new gives the caller one reference; every helper that keeps a future takes its
 * own. Its state moves once, PENDING -> RESULT | ERROR | CANCELLED, and never back. */
#ifndef TP_CORE_ASYNC_FUTURE_H
#define TP_CORE_ASYNC_FUTURE_H

#include "platform/api.h"

#include <stdbool.h>
#include <stddef.h>

#include "core/loop.h"

typedef struct tp_future tp_future;

enum tp_future_state {
    TP_FUTURE_PENDING,
    TP_FUTURE_RESULT,    /* set_result: a value (may be NULL) */
    TP_FUTURE_ERROR,     /* set_error: a negative code and a message */
    TP_FUTURE_CANCELLED, /* cancel: reads as the error -ECANCELED */
};

/* A done callback: runs on the future's loop, never from inside set_result/set_error/cancel. */
typedef void (*tp_future_fn)(tp_future *f, void *arg);
/* Frees a result value when the future's last reference goes. */
typedef void (*tp_free_fn)(void *value);

/* A pending future on loop with one reference for the caller. */
TP_API tp_future *tp_future_new(tp_loop *loop);
/* Takes a reference (returns f); tp_future_unref drops one, the last frees f and its value. */
TP_API tp_future *tp_future_ref(tp_future *f);
TP_API void tp_future_unref(tp_future *f);
TP_API tp_loop *tp_future_loop(const tp_future *f);

/* Completes f with value; free_fn (may be NULL) frees value when f is freed. 0, or -EALREADY
 * if f was done already (cancelled, typically): value is then freed at once with free_fn. */
TP_API int tp_future_set_result(tp_future *f, void *value, tp_free_fn free_fn);
/* Fails f with code (a negative errno or TP_ERROR; 0 becomes TP_ERROR) and a printf message
 * (copied). 0, or -EALREADY if f was done already. */
TP_API int tp_future_set_error(tp_future *f, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Cancels a pending f: true, and its callbacks are scheduled; false if it was done already
 * (as Tornado's cancel). The producer sees it through tp_future_cancelled. */
TP_API bool tp_future_cancel(tp_future *f);

TP_API enum tp_future_state tp_future_state(const tp_future *f);
TP_API bool tp_future_done(const tp_future *f);
TP_API bool tp_future_cancelled(const tp_future *f);
/* The value of a RESULT future, else NULL. Owned by f (unless its free_fn was NULL). */
TP_API void *tp_future_result(const tp_future *f);
/* 0 for PENDING and RESULT, the code for ERROR, -ECANCELED for CANCELLED. */
TP_API int tp_future_error(const tp_future *f);
/* The error message ("" if there is none, "cancelled" when cancelled); valid while f lives. */
TP_API const char *tp_future_error_message(const tp_future *f);

/* Runs fn(f, arg) once f is done, from the loop on a later iteration (also when f is done
 * already), callbacks in the order added. f is kept alive until the callback has run. */
TP_API void tp_future_add_done_callback(tp_future *f, tp_future_fn fn, void *arg);
/* Tornado's chain_future: when src is done, its outcome is copied to dst unless dst is done
 * by then (a result value is shared: dst keeps src alive). Both are kept alive meanwhile. */
TP_API void tp_future_chain(tp_future *src, tp_future *dst);
/* Copies src's outcome (src done) into dst now: 0, or -EALREADY if dst was done. */
TP_API int tp_future_copy_outcome(tp_future *src, tp_future *dst);

/* ---- gen: multi, with_timeout, sleep, run_sync (core/async/multi.c) ------------------- */

enum tp_multi_flags {
    /* On the first error, cancel the futures still pending (Tornado leaves them running). */
    TP_MULTI_CANCEL_REST = 1 << 0,
};
/* Tornado's multi: a future done when all n futures are. Result: NULL on success (read the
 * inputs' results; multi keeps its own references until then). The first error (or
 * cancellation, -ECANCELED) fails it at once; later errors (not cancellations) are
 * logged and dropped, as Tornado's multi_future logs them. n == 0 gives a future that succeeds. */
TP_API tp_future *tp_multi(tp_loop *loop, tp_future *const *futs, size_t n, unsigned flags);
/* Tornado's with_timeout: a future with fut's outcome, or the error -ETIMEDOUT ("Timeout")
 * if timeout seconds pass first. fut is then cancelled if cancel_inner, else left running
 * (as Tornado) and an error it later ends with is logged. */
TP_API tp_future *tp_with_timeout(tp_future *fut, double timeout, bool cancel_inner);
/* Tornado's gen.sleep: a future that succeeds (NULL) after seconds; cancelling it stops the
 * timer. */
TP_API tp_future *tp_sleep(tp_loop *loop, double seconds);
/* IOLoop.run_sync for a future: runs loop until fut is done. 0 for a result, fut's error
 * code (-ECANCELED if cancelled), -ETIMEDOUT if timeout seconds (> 0) passed first, or -EINTR
 * if something else stopped the loop first (Tornado: "Event loop stopped before Future
 * completed"). */
TP_API int tp_future_run_sync(tp_loop *loop, tp_future *fut, double timeout);

#endif
