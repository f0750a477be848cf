/* Application: route table, and the tp_http_delegate that turns requests into handlers. */
#include <errno.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "web/app_entry.h"
#include "web/builtin_handlers.h"
#include "web/web_internal.h"

tp_app *tp_app_new(void)
{
    tp_app *app = tp_calloc(1, sizeof(*app));
    app->settings.server_header = "TornadoServer/6.5 (tornado-prefork)";
    return app;
}

void tp_app_free(tp_app *app)
{
    if (!app)
        return;
    tp_http_server_free(app->server);
    tp__handlers_drop(app);
    tp__routes_free(app);
    tp_template_loader_free(app->own_loader);
    tp_locales_free(app->own_locales);
    tp_static_files_free(app->static_files);
    tp__proxies_free(app);
    pcre2_match_data_free(app->md);
    tp_free(app);
}

tp_app_settings *tp_app_settings_of(tp_app *app)
{
    return &app->settings;
}

/* Requests that match no route get Tornado's ErrorHandler: a 404 page. */
static int not_found_prepare(tp_handler *h)
{
    return tp_send_error(h, 404);
}

static const tp_handler_class not_found_class = {
    .name = "ErrorHandler", .flags = TP_NO_XSRF_CHECK, .prepare = not_found_prepare};

static void refresh_server_header(tp_app *app)
{
    if (app->server_header.p != app->settings.server_header)
        app->server_header = tp_slice_cstr(app->settings.server_header);
}

/* A handler for req from app's routes (Tornado's ErrorHandler: 404 when none matches), the
 * request's delegate data from now on; the caller holds a reference it puts. */
static tp_handler *route_request(tp_app *app, tp_request *req)
{
    refresh_server_header(app);
    tp_slice *args = NULL;
    size_t nargs = 0;
    const tp_route *r = tp__routes_match(app, req, &args, &nargs);
    const tp_handler_class *cls = r ? r->cls : app->settings.default_handler_class;
    void *data = r ? r->data : app->settings.default_handler_args;
    tp_handler *h = tp__handler_new(app, req, cls ? cls : &not_found_class, data);
    h->path_args = args;
    h->npath_args = nargs;
    req->delegate_data = h;
    return h;
}

static int headers_received(tp_request *req, void *ctx)
{
    tp_handler *h = route_request(ctx, req);
    if (h->cls->flags & TP_STREAM_REQUEST_BODY) {
        req->stream_body = true;
        tp__handler_prepare(h);
    }
    tp__handler_put(h); /* released here if it finished in initialize or prepare */
    return TP_OK;
}

static int data_received(tp_request *req, tp_slice chunk, void *ctx)
{
    (void)ctx;
    tp_handler *h = req->delegate_data;
    if (tp__handler_done(h) || !h->cls->data_received)
        return TP_OK;
    int r;
    CALL(h, r = h->cls->data_received(h, chunk)); /* h may be released after */
    return r == TP_OK ? TP_OK : TP_ERROR;
}

/* The method runs. A FallbackHandler steps aside once its prepare has run: the request is
 * routed again in the app it names, by a new handler (which may hand it on in turn). */
static void request_complete(tp_request *req, void *ctx)
{
    (void)ctx;
    tp_handler *h = req->delegate_data;
    tp__handler_hold(h);
    tp_app *to = tp__handler_execute(h);
    tp__handler_put(h);
    while (to) {
        h = route_request(to, req);
        to = tp__handler_execute(h);
        tp__handler_put(h);
    }
}

static void connection_closed(tp_request *req, void *ctx)
{
    (void)ctx;
    tp__handler_connection_closed(req->delegate_data);
}

static const tp_http_delegate app_delegate = {
    .headers_received = headers_received,
    .data_received = data_received,
    .request_complete = request_complete,
    .connection_closed = connection_closed,
};

const tp_http_delegate *tp_app_delegate(void)
{
    return &app_delegate;
}

int tp_app_listen(tp_app *app, const char *address, int port, const tp_http_server_opts *opts)
{
    if (!app->server)
        app->server = tp_http_server_new(tp_loop_current(), &app_delegate, app, opts);
    return tp_http_server_listen(app->server, address, port);
}

tp_http_server *tp_app_server(tp_app *app)
{
    return app->server;
}

const char *tp_app_entry_check(const tp_app_entry *e)
{
    if (!e)
        return "no " TP_APP_SYMBOL_NAME " symbol (did the app use TP_APP?)";
    if (e->abi_version != TP_ABI_VERSION)
        return "app built for another ABI version";
    if (e->entry_size != sizeof(tp_app_entry) || e->handler_class_size != sizeof(tp_handler_class))
        return "app built against different headers (struct sizes differ)";
    if (!e->init)
        return "app has no init function";
    return NULL;
}
