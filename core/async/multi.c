/* tornado.gen's helpers over futures: multi, with_timeout, sleep, and run_sync. Each keeps a
 * small state struct that the inputs' done callbacks own; the last callback frees it. */
#include <errno.h>

#include "core/alloc.h"
#include "core/async/future.h"
#include "core/log.h"

/* ---- multi ------------------------------------------------------------------------------ */

typedef struct multi {
    tp_future *out;
    tp_future **futs; /* references, for TP_MULTI_CANCEL_REST */
    size_t n, left;
    bool cancel_rest;
} multi;

static void multi_free(multi *m)
{
    for (size_t i = 0; i < m->n; i++)
        tp_future_unref(m->futs[i]);
    tp_free(m->futs);
    tp_future_unref(m->out);
    tp_free(m);
}

static void multi_failed(multi *m, tp_future *f)
{
    if (!tp_future_done(m->out)) {
        tp_future_copy_outcome(f, m->out);
        if (m->cancel_rest) {
            for (size_t i = 0; i < m->n; i++)
                tp_future_cancel(m->futs[i]);
        }
    } else if (!tp_future_cancelled(f)) {
        /* Tornado's multi_future: "Multiple exceptions in yield list" */
        tp_log_error("Multiple exceptions in yield list: %s", tp_future_error_message(f));
    }
}

static void multi_child_done(tp_future *f, void *arg)
{
    multi *m = arg;
    if (tp_future_error(f))
        multi_failed(m, f);
    if (--m->left == 0) {
        tp_future_set_result(m->out, NULL, NULL); /* -EALREADY after an error: fine */
        multi_free(m);
    }
}

tp_future *tp_multi(tp_loop *loop, tp_future *const *futs, size_t n, unsigned flags)
{
    tp_future *out = tp_future_new(loop);
    if (n == 0) {
        tp_future_set_result(out, NULL, NULL);
        return out;
    }
    multi *m = tp_calloc(1, sizeof(*m));
    m->out = tp_future_ref(out);
    m->futs = tp_calloc(n, sizeof(*m->futs));
    m->n = m->left = n;
    m->cancel_rest = flags & TP_MULTI_CANCEL_REST;
    for (size_t i = 0; i < n; i++)
        m->futs[i] = tp_future_ref(futs[i]);
    for (size_t i = 0; i < n; i++)
        tp_future_add_done_callback(futs[i], multi_child_done, m);
    return out;
}

/* ---- with_timeout ----------------------------------------------------------------------- */

typedef struct with_timeout {
    tp_future *inner, *out;
    tp_timeout timer;
    bool cancel_inner;
} with_timeout;

static void timeout_fired(tp_loop *loop, void *arg)
{
    (void)loop;
    with_timeout *w = arg;
    if (tp_future_set_error(w->out, -ETIMEDOUT, "Timeout") == 0 && w->cancel_inner)
        tp_future_cancel(w->inner);
}

/* Runs whenever inner ends, timed out or not: the one place w is freed. */
static void inner_done(tp_future *inner, void *arg)
{
    with_timeout *w = arg;
    tp_loop_remove_timeout(tp_future_loop(inner), w->timer);
    if (!tp_future_done(w->out))
        tp_future_copy_outcome(inner, w->out);
    else if (tp_future_state(inner) == TP_FUTURE_ERROR)
        tp_log_error("Exception in Future after timeout: %s", tp_future_error_message(inner));
    tp_future_unref(w->out);
    tp_free(w);
}

tp_future *tp_with_timeout(tp_future *fut, double timeout, bool cancel_inner)
{
    tp_loop *loop = tp_future_loop(fut);
    tp_future *out = tp_future_new(loop);
    with_timeout *w = tp_calloc(1, sizeof(*w));
    w->inner = fut; /* kept alive by its done callback */
    w->out = tp_future_ref(out);
    w->cancel_inner = cancel_inner;
    w->timer = tp_loop_call_later(loop, timeout, timeout_fired, w);
    tp_future_add_done_callback(fut, inner_done, w);
    return out;
}

/* ---- sleep ------------------------------------------------------------------------------ */

typedef struct sleeper {
    tp_future *f;
    tp_timeout timer;
} sleeper;

static void wake(tp_loop *loop, void *arg)
{
    (void)loop;
    sleeper *s = arg;
    tp_future_set_result(s->f, NULL, NULL); /* -EALREADY if cancelled meanwhile */
}

/* Runs once the future is done (woken or cancelled): the one place s is freed. */
static void sleeper_done(tp_future *f, void *arg)
{
    sleeper *s = arg;
    tp_loop_remove_timeout(tp_future_loop(f), s->timer);
    tp_future_unref(s->f);
    tp_free(s);
}

tp_future *tp_sleep(tp_loop *loop, double seconds)
{
    sleeper *s = tp_calloc(1, sizeof(*s));
    s->f = tp_future_new(loop);
    s->timer = tp_loop_call_later(loop, seconds, wake, s);
    tp_future_add_done_callback(s->f, sleeper_done, s);
    return tp_future_ref(s->f);
}

/* ---- run_sync --------------------------------------------------------------------------- */

/* Stops the loop when the future is done, unless run_sync gave up (timed out) first: the
 * callback still comes later then, and must not stop a later run. */
typedef struct sync_wait {
    bool active;
} sync_wait;

static void sync_done(tp_future *f, void *arg)
{
    sync_wait *w = arg;
    if (!w->active) {
        tp_free(w);
        return;
    }
    w->active = false;
    tp_loop_stop(tp_future_loop(f));
}

static void sync_start(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
}

int tp_future_run_sync(tp_loop *loop, tp_future *fut, double timeout)
{
    sync_wait *w = tp_calloc(1, sizeof(*w));
    w->active = true;
    tp_future_add_done_callback(fut, sync_done, w);
    int r = tp_loop_run_sync(loop, sync_start, NULL, timeout);
    if (w->active) { /* the callback has not run: it frees w when it does */
        w->active = false;
        return r < 0 ? r : -EINTR; /* someone else stopped the loop */
    }
    tp_free(w);
    return tp_future_error(fut);
}
