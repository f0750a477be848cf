/* tp_future: one state enum, a reference count, and the done callbacks, run from the loop.
 *
 * Life: PENDING -> RESULT | ERROR | CANCELLED (complete() is the one place that makes the
 * step and asserts it). The last tp_future_unref frees the future, its value (free_fn) or the
 * future it borrowed its value from (chain), and its message: future_free is the one place.
 * Each queued callback holds a reference, so a future with callbacks outlives its users.
 * Done callbacks never run from inside the call that completed the future: completing
 * schedules one loop callback (holding a reference) that runs the list in order, as Tornado's
 * add_done_callback goes through IOLoop.add_callback. */
#include "core/async/future.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/status.h"

typedef struct done_cb {
    tp_future_fn fn;
    void *arg;
} done_cb;

struct tp_future {
    tp_loop *loop;
    enum tp_future_state state;
    unsigned refs;
    void *value;
    tp_free_fn free_fn;
    tp_future *owner; /* chain: the future whose value this one shares (a reference) */
    int code;
    char *message;
    done_cb *cbs; /* pending callbacks, in order */
    size_t ncbs, cap;
    bool scheduled; /* run_callbacks is queued on the loop */
};

tp_future *tp_future_new(tp_loop *loop)
{
    tp_future *f = tp_calloc(1, sizeof(*f));
    f->loop = loop;
    f->refs = 1;
    return f;
}

tp_future *tp_future_ref(tp_future *f)
{
    assert(f->refs > 0);
    f->refs++;
    return f;
}

static void future_free(tp_future *f)
{
    assert(f->ncbs == 0 && !f->scheduled);
    if (f->owner)
        tp_future_unref(f->owner);
    else if (f->free_fn && f->value)
        f->free_fn(f->value);
    tp_free(f->message);
    tp_free(f->cbs);
    tp_free(f);
}

void tp_future_unref(tp_future *f)
{
    if (!f)
        return;
    assert(f->refs > 0);
    if (--f->refs == 0)
        future_free(f);
}

tp_loop *tp_future_loop(const tp_future *f)
{
    return f->loop;
}

/* Runs the callbacks queued when this run was scheduled; ones added meanwhile get a run of
 * their own on the next iteration (the future is done, so adding schedules). */
static void run_callbacks(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_future *f = arg;
    done_cb *cbs = f->cbs;
    size_t n = f->ncbs;
    f->cbs = NULL;
    f->ncbs = f->cap = 0;
    f->scheduled = false;
    for (size_t i = 0; i < n; i++) {
        cbs[i].fn(f, cbs[i].arg);
        tp_future_unref(f); /* the callback's own reference */
    }
    tp_free(cbs);
    tp_future_unref(f);
}

static void schedule(tp_future *f)
{
    if (f->scheduled || f->ncbs == 0)
        return;
    f->scheduled = true;
    tp_future_ref(f);
    tp_loop_add_callback(f->loop, run_callbacks, f);
}

/* The one state step: PENDING to a done state. */
static void complete(tp_future *f, enum tp_future_state to)
{
    assert(f->refs > 0);
    assert(f->state == TP_FUTURE_PENDING && to != TP_FUTURE_PENDING);
    f->state = to;
    schedule(f);
}

int tp_future_set_result(tp_future *f, void *value, tp_free_fn free_fn)
{
    if (f->state != TP_FUTURE_PENDING) {
        if (free_fn && value)
            free_fn(value);
        return -EALREADY;
    }
    f->value = value;
    f->free_fn = free_fn;
    complete(f, TP_FUTURE_RESULT);
    return 0;
}

static int set_error_v(tp_future *f, int code, const char *fmt, va_list ap)
{
    if (f->state != TP_FUTURE_PENDING)
        return -EALREADY;
    char buf[512];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    f->code = code < 0 ? code : TP_ERROR;
    f->message = tp_strndup(buf, strlen(buf));
    complete(f, TP_FUTURE_ERROR);
    return 0;
}

int tp_future_set_error(tp_future *f, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = set_error_v(f, code, fmt, ap);
    va_end(ap);
    return r;
}

bool tp_future_cancel(tp_future *f)
{
    if (f->state != TP_FUTURE_PENDING)
        return false;
    f->code = -ECANCELED;
    complete(f, TP_FUTURE_CANCELLED);
    return true;
}

enum tp_future_state tp_future_state(const tp_future *f)
{
    return f->state;
}

bool tp_future_done(const tp_future *f)
{
    return f->state != TP_FUTURE_PENDING;
}

bool tp_future_cancelled(const tp_future *f)
{
    return f->state == TP_FUTURE_CANCELLED;
}

void *tp_future_result(const tp_future *f)
{
    return f->state == TP_FUTURE_RESULT ? f->value : NULL;
}

int tp_future_error(const tp_future *f)
{
    return f->state == TP_FUTURE_ERROR || f->state == TP_FUTURE_CANCELLED ? f->code : 0;
}

const char *tp_future_error_message(const tp_future *f)
{
    if (f->state == TP_FUTURE_CANCELLED)
        return "cancelled";
    return f->message ? f->message : "";
}

void tp_future_add_done_callback(tp_future *f, tp_future_fn fn, void *arg)
{
    assert(f->refs > 0);
    if (f->ncbs == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 2;
        f->cbs = tp_realloc(f->cbs, f->cap * sizeof(*f->cbs));
    }
    f->cbs[f->ncbs++] = (done_cb){fn, arg};
    tp_future_ref(f); /* each callback keeps f alive until it has run */
    if (f->state != TP_FUTURE_PENDING)
        schedule(f);
}

int tp_future_copy_outcome(tp_future *src, tp_future *dst)
{
    assert(src->state != TP_FUTURE_PENDING);
    if (dst->state != TP_FUTURE_PENDING)
        return -EALREADY;
    switch (src->state) {
    case TP_FUTURE_RESULT:
        dst->value = src->value;
        dst->owner = tp_future_ref(src); /* dst's value lives as long as src */
        complete(dst, TP_FUTURE_RESULT);
        return 0;
    case TP_FUTURE_ERROR:
        return tp_future_set_error(dst, src->code, "%s", tp_future_error_message(src));
    default: tp_future_cancel(dst); return 0;
    }
}

static void chain_done(tp_future *src, void *arg)
{
    tp_future *dst = arg;
    tp_future_copy_outcome(src, dst);
    tp_future_unref(dst);
}

void tp_future_chain(tp_future *src, tp_future *dst)
{
    tp_future_add_done_callback(src, chain_done, tp_future_ref(dst));
}
