/* The HTTP test case (AsyncHTTPTestCase): an app served on 127.0.0.1, port 0, on the test's
 * loop, and the fetches made from it on the same loop. */
#include "web/testing/testing.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "http/server.h"

struct tp_http_test {
    tp_loop *loop;
    tp_app *app;
    const tp_app_entry *entry; /* its teardown runs at free; NULL for tp_http_test_serve */
    tp_http_server *server;
    tp_http_client *client; /* made at the first fetch */
    int port;
    char url[2048];
};

static tp_http_test *serve(tp_loop *loop, tp_app *app, const tp_app_entry *entry)
{
    tp_http_test *t = tp_calloc(1, sizeof(*t));
    t->loop = loop ? loop : tp_loop_current();
    t->app = app;
    t->entry = entry;
    t->server = tp_http_server_new(t->loop, tp_app_delegate(), app, NULL);
    t->port = tp_http_server_listen(t->server, "127.0.0.1", 0);
    if (t->port < 0) {
        tp_log_error("tp_http_test: cannot listen on 127.0.0.1: %s", strerror(-t->port));
        tp_http_test_free(t);
        return NULL;
    }
    return t;
}

tp_http_test *tp_http_test_serve(tp_loop *loop, tp_app *app)
{
    return serve(loop, app, NULL);
}

tp_http_test *tp_http_test_start(tp_loop *loop, const tp_app_entry *entry)
{
    const char *why = tp_app_entry_check(entry);
    if (why) {
        tp_log_error("tp_http_test: %s", why);
        return NULL;
    }
    tp_app *app = tp_app_new();
    int r = entry->init(app);
    if (r != 0) {
        tp_log_error("tp_http_test: app %s init failed (%d)", entry->name, r);
        tp_app_free(app);
        return NULL;
    }
    return serve(loop, app, entry);
}

int tp_http_test_port(const tp_http_test *t)
{
    return t->port;
}

tp_app *tp_http_test_app(tp_http_test *t)
{
    return t->app;
}

tp_loop *tp_http_test_loop(tp_http_test *t)
{
    return t->loop;
}

const char *tp_http_test_url(tp_http_test *t, const char *path)
{
    snprintf(t->url, sizeof(t->url), "http://127.0.0.1:%d%s", t->port, path);
    return t->url;
}

/* The request of a fetch: *opts (or the defaults with raise_error false) for url. */
static tp_http_request fetch_request(const char *url, const tp_http_request *opts)
{
    tp_http_request req;
    if (opts) {
        req = *opts;
        req.url = url;
    } else {
        tp_http_request_init(&req, url);
        req.raise_error = false;
    }
    return req;
}

tp_http_response *tp_test_fetch(tp_http_test *t, const char *path, const tp_http_request *opts)
{
    bool full = !strncmp(path, "http://", 7) || !strncmp(path, "https://", 8);
    tp_http_request req = fetch_request(full ? path : tp_http_test_url(t, path), opts);
    if (!t->client)
        t->client = tp_http_client_new(t->loop, NULL);
    tp_http_response *resp = NULL;
    double timeout = tp_test_async_timeout();
    int r = t->client ? tp_http_fetch_on_loop(t->loop, t->client, &req, timeout, &resp) : -ENOMEM;
    if (r < 0) {
        tp_log_error("tp_test_fetch %s: %s", req.url,
                     r == -ETIMEDOUT ? "no response within the test timeout" : strerror(-r));
        return NULL;
    }
    return resp;
}

void tp_http_test_free(tp_http_test *t)
{
    if (!t)
        return;
    tp_http_client_free(t->client);
    tp_http_server_free(t->server);
    if (t->entry && t->entry->teardown)
        t->entry->teardown(t->app);
    tp_app_free(t->app);
    tp_free(t);
}
