/* AsyncHTTPClient.fetch's future: tp_http_fetch_future wraps one fetch in a tp_future, so a
 * handler can tp_handler_await it and compose it with tp_multi and tp_with_timeout. */
#include "http/client/client_internal.h"

#include "core/alloc.h"
#include "core/async/future.h"

/* The link between one fetch and its future. Freed in exactly one place: the future's done
 * callback, which runs once whichever finished first (the fetch or a cancel). */
typedef struct fetch_link {
    tp_future *fut;    /* a reference of ours */
    tp__http_fetch *f; /* NULL once the fetch called back */
} fetch_link;

static void free_response(void *resp)
{
    tp_http_response_free(resp);
}

/* The fetch ended: its response becomes the future's result, or its error the future's. */
static void on_response(tp_http_response *resp, void *arg)
{
    fetch_link *l = arg;
    l->f = NULL;
    if (tp_future_done(l->fut))
        return; /* cancelled meanwhile: the response goes with the fetch */
    if (resp->error) {
        tp_future_set_error(l->fut, resp->error, "%s", resp->error_message);
        return;
    }
    ((tp__http_resp_box *)resp)->kept = true;
    tp_future_set_result(l->fut, resp, free_response);
}

/* The future is done: a cancel stops a fetch still running (its callback never comes). */
static void on_future_done(tp_future *fut, void *arg)
{
    fetch_link *l = arg;
    if (l->f)
        tp__http_fetch_cancel(l->f);
    tp_future_unref(fut);
    tp_free(l);
}

tp_future *tp_http_fetch_future(tp_http_client *c, const tp_http_request *req)
{
    tp_future *fut = tp_future_new(c->loop);
    fetch_link *l = tp_calloc(1, sizeof(*l));
    int err = 0;
    l->f = tp__http_fetch_start(c, req, on_response, l, &err);
    if (!l->f) {
        tp_free(l); /* nothing to link: the future fails now */
        tp_future_set_error(fut, err, "bad request for %s", req->url ? req->url : "(no URL)");
        return fut;
    }
    l->fut = tp_future_ref(fut);
    tp_future_add_done_callback(fut, on_future_done, l);
    return fut;
}
