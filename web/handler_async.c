/* tp_handler_await: Tornado's coroutine handler methods (and its old stack_context) for C.
 * An await record links a handler to a future it waits for:
 *
 *   - the future completes while h waits: cb runs (under a reference, as a method), and its
 *     return is acted on as a method's: an unhandled error is a 500 through write_error
 *     and a log line with the future's message, never a crash or a hang;
 *   - the client leaves first (tp__handler_awaits_cancel): the future is cancelled, cb is
 *     not called, and the last such record finishes h (a WAITING handler owes tp_finish);
 *   - h is released first (finished elsewhere, app teardown): the record forgets h
 *     (tp__handler_awaits_forget) and only frees itself when the future is done.
 *
 * A record is freed in one place, its future's done callback. */
#include <errno.h>

#include "core/alloc.h"
#include "core/async/future.h"
#include "core/log.h"
#include "web/web_internal.h"

struct tp_await {
    struct tp_await *prev, *next; /* in h->awaits */
    tp_handler *h;                /* NULL once h was released */
    tp_future *fut;
    tp_await_fn cb;
    void *arg;
    bool closed; /* the client left: cb is not called */
};

static void unlink_await(struct tp_await *a)
{
    if (a->prev)
        a->prev->next = a->next;
    else if (a->h)
        a->h->awaits = a->next;
    if (a->next)
        a->next->prev = a->prev;
    a->prev = a->next = NULL;
}

/* An error cb did not handle: Tornado's log_exception and send_error(500). */
static void await_failed(tp_handler *h, tp_future *fut)
{
    const char *who = h->cls->name ? h->cls->name : "handler";
    if (tp_future_error(fut))
        tp__web_log(TP_LOG_ERROR, "Uncaught exception %.*s %.*s (%.*s)\n    %s awaited: %s (%d)",
                    TP_SLICE_FMT(h->req->method), TP_SLICE_FMT(h->req->uri),
                    TP_SLICE_FMT(h->req->remote_ip), who, tp_future_error_message(fut),
                    tp_future_error(fut));
    else
        tp__web_log(TP_LOG_ERROR,
                    "Uncaught exception %.*s %.*s (%.*s)\n    %s: await callback "
                    "returned an error",
                    TP_SLICE_FMT(h->req->method), TP_SLICE_FMT(h->req->uri),
                    TP_SLICE_FMT(h->req->remote_ip), who);
    tp_send_error(h, 500);
}

static void run_cb(tp_handler *h, struct tp_await *a)
{
    int r;
    if (a->cb)
        CALL(h, r = a->cb(h, a->fut, a->arg));
    else
        r = tp_future_error(a->fut) ? TP_ERROR : TP_OK;
    if (tp__handler_done(h) || r == TP_AGAIN)
        return;
    if (r == TP_OK || r == TP_DONE)
        tp_finish(h);
    else
        await_failed(h, a->fut);
}

static void await_done(tp_future *fut, void *arg)
{
    struct tp_await *a = arg;
    tp_handler *h = a->h;
    if (h) {
        tp__handler_hold(h);
        unlink_await(a);
        if (!tp__handler_done(h)) {
            if (!a->closed)
                run_cb(h, a);
            else if (!h->awaits) /* the last await of a client that left */
                tp_finish(h);
        }
        tp__handler_put(h);
    }
    tp_future_unref(fut);
    tp_free(a);
}

int tp_handler_await(tp_handler *h, struct tp_future *fut, tp_await_fn cb, void *arg)
{
    if (tp__handler_done(h))
        return -EALREADY;
    struct tp_await *a = tp_calloc(1, sizeof(*a));
    *a = (struct tp_await){.h = h, .fut = tp_future_ref(fut), .cb = cb, .arg = arg};
    a->next = h->awaits;
    if (h->awaits)
        h->awaits->prev = a;
    h->awaits = a;
    tp_future_add_done_callback(fut, await_done, a);
    return 0;
}

void tp__handler_awaits_cancel(tp_handler *h)
{
    for (struct tp_await *a = h->awaits; a; a = a->next) {
        a->closed = true;
        tp_future_cancel(a->fut);
    }
}

void tp__handler_awaits_forget(tp_handler *h)
{
    struct tp_await *a = h->awaits;
    h->awaits = NULL;
    while (a) {
        struct tp_await *next = a->next;
        a->h = NULL;
        a->prev = a->next = NULL;
        tp_future_cancel(a->fut);
        a = next;
    }
}
