/* Application: route table, and the tp_http_delegate that turns requests into handlers. */
#include <errno.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "web/app_entry.h"
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
    for (size_t i = 0; i < app->nroutes; i++) {
        pcre2_code_free(app->routes[i].re);
        tp_free(app->routes[i].pattern);
    }
    tp_free(app->routes);
    tp_static_files_free(app->static_files);
    pcre2_match_data_free(app->md);
    tp_free(app);
}

tp_app_settings *tp_app_settings_of(tp_app *app)
{
    return &app->settings;
}

/* Tornado appends "$" when a pattern lacks it and matches from the start (re.match). */
int tp_app_route(tp_app *app, const char *pattern, const tp_handler_class *cls, void *route_data)
{
    size_t n = strlen(pattern);
    char *full = tp_malloc(n + 2);
    memcpy(full, pattern, n + 1);
    if (!n || pattern[n - 1] != '$')
        memcpy(full + n, "$", 2);
    int err;
    PCRE2_SIZE off;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)full, PCRE2_ZERO_TERMINATED, PCRE2_ANCHORED, &err, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[128];
        pcre2_get_error_message(err, msg, sizeof(msg));
        tp_log_error("bad route pattern %s at offset %zu: %s", pattern, (size_t)off, msg);
        tp_free(full);
        return -EINVAL;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter if no JIT */
    app->routes = tp_realloc(app->routes, (app->nroutes + 1) * sizeof(*app->routes));
    app->routes[app->nroutes++] = (tp_route){re, cls, route_data, full};
    uint32_t groups = 0;
    pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &groups);
    if (!app->md || pcre2_get_ovector_count(app->md) < groups + 1) {
        pcre2_match_data_free(app->md);
        app->md = pcre2_match_data_create(groups + 8, NULL);
    }
    return 0;
}

/* Finds the route for req's path; fills the handler's path arguments. */
static const tp_route *match(tp_app *app, tp_request *req, tp_slice **args, size_t *nargs)
{
    if (!app->md)
        app->md = pcre2_match_data_create(8, NULL);
    for (size_t i = 0; i < app->nroutes; i++) {
        int rc = pcre2_match(app->routes[i].re, (PCRE2_SPTR)req->path.p, req->path.n, 0, 0, app->md,
                             NULL);
        if (rc < 0)
            continue;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(app->md);
        *nargs = rc > 1 ? (size_t)rc - 1 : 0;
        *args = *nargs ? tp_arena_alloc(&req->arena, *nargs * sizeof(tp_slice)) : NULL;
        for (size_t k = 0; k < *nargs; k++) {
            if (ov[2 * (k + 1)] == PCRE2_UNSET) {
                (*args)[k] = TP_SLICE_NULL;
                continue;
            }
            tp_slice raw = {req->path.p + ov[2 * (k + 1)], ov[2 * (k + 1) + 1] - ov[2 * (k + 1)]};
            (*args)[k] = tp_url_unescape(&req->arena, raw, false);
        }
        return &app->routes[i];
    }
    return NULL;
}

/* Requests that match no route get Tornado's ErrorHandler: a 404 page. */
static int not_found_prepare(tp_handler *h)
{
    return tp_send_error(h, 404);
}

static const tp_handler_class not_found_class = {.name = "ErrorHandler",
                                                 .prepare = not_found_prepare};

static int headers_received(tp_request *req, void *ctx)
{
    tp_app *app = ctx;
    if (app->server_header.p != app->settings.server_header)
        app->server_header = tp_slice_cstr(app->settings.server_header);
    tp_slice *args = NULL;
    size_t nargs = 0;
    const tp_route *r = match(app, req, &args, &nargs);
    tp_handler *h = tp__handler_new(app, req, r ? r->cls : &not_found_class, r ? r->data : NULL);
    h->path_args = args;
    h->npath_args = nargs;
    req->delegate_data = h;
    if (h->cls->flags & TP_STREAM_REQUEST_BODY) {
        req->stream_body = true;
        tp__handler_prepare(h);
    }
    return TP_OK;
}

static int data_received(tp_request *req, tp_slice chunk, void *ctx)
{
    (void)ctx;
    tp_handler *h = req->delegate_data;
    if (h->finished || !h->cls->data_received)
        return TP_OK;
    return h->cls->data_received(h, chunk) == TP_OK ? TP_OK : TP_ERROR;
}

static void request_complete(tp_request *req, void *ctx)
{
    (void)ctx;
    tp_handler *h = req->delegate_data;
    tp__handler_execute(h, req->stream_body);
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
