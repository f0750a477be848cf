/* The blocking ways to fetch: tp_http_fetch_on_loop runs a loop until one fetch completes
 * (tornado.testing's self.fetch); tp_http_fetch_sync does it on a loop of its own
 * (tornado.httpclient.HTTPClient). Both hand the response to the caller. */
#include "http/client/client_internal.h"

#include <errno.h>

typedef struct sync_wait {
    tp_loop *loop;
    tp_http_response *resp;
    bool done;
} sync_wait;

static void on_done(tp_http_response *resp, void *arg)
{
    sync_wait *w = arg;
    ((tp__http_resp_box *)resp)->kept = true;
    w->resp = resp;
    w->done = true;
    tp_loop_stop(w->loop);
}

static void nothing(tp_loop *loop, void *arg)
{
    (void)loop;
    (void)arg;
}

int tp_http_fetch_on_loop(tp_loop *loop, tp_http_client *c, const tp_http_request *req,
                          double timeout, tp_http_response **out)
{
    tp_http_client *own = NULL;
    sync_wait w = {.loop = loop};
    int err = 0;
    *out = NULL;
    if (!c && !(c = own = tp_http_client_new(loop, NULL)))
        return -ENOMEM;
    tp__http_fetch *f = tp__http_fetch_start(c, req, on_done, &w, &err);
    if (f) {
        /* Other callbacks may stop the loop too: run again until ours came. */
        while (!w.done && err == 0)
            err = tp_loop_run_sync(loop, nothing, NULL, timeout);
        if (!w.done)
            tp__http_fetch_cancel(f);
        else
            err = 0;
        *out = w.resp;
    }
    tp_http_client_free(own);
    return err;
}

int tp_http_fetch_sync(const tp_http_request *req, tp_http_response **out)
{
    tp_loop *loop = tp_loop_new();
    if (!loop)
        return -errno;
    int err = tp_http_fetch_on_loop(loop, NULL, req, 0, out);
    tp_loop_free(loop);
    return err;
}
