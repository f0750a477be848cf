/* The app the WebSocket black-box tests run against (build/tests/wsapp): the handlers of
 * Tornado's tornado/test/websocket_test.py that make sense in C, one route each, plus
 * /closed/<id>, which reports how the /echo?id=<id> connection ended (Tornado's tests wait
 * for close_future; ours poll this route). /pinging/ and /small/ are sub-apps with their
 * own websocket_* settings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp.h"

/* ---- how connections ended: /echo?id=X records "code reason" for /closed/X ---------------- */

#define MAX_CLOSED 64
static struct {
    char id[32];
    char text[160];
} closed[MAX_CLOSED];
static size_t nclosed;

static void record_close(tp_handler *h, const char *prefix)
{
    const char *id = tp_get_argument(h, "id", NULL);
    if (!id || strlen(id) >= sizeof(closed[0].id))
        return;
    size_t i = nclosed < MAX_CLOSED ? nclosed++ : (nclosed++ % MAX_CLOSED);
    const char *reason = tp_websocket_close_reason(h);
    snprintf(closed[i].id, sizeof(closed[i].id), "%s", id);
    snprintf(closed[i].text, sizeof(closed[i].text), "%s%d %s", prefix, tp_websocket_close_code(h),
             reason ? reason : "None");
}

static int closed_get(tp_handler *h)
{
    tp_slice id = tp_path_arg(h, 0);
    for (size_t i = 0; i < MAX_CLOSED && i < nclosed; i++)
        if (tp_slice_eq(id, tp_slice_cstr(closed[i].id)))
            return tp_write_str(h, closed[i].text), TP_OK;
    return tp_send_error(h, 404), TP_OK;
}

static const tp_handler_class closed_cls = {.name = "Closed", .get = closed_get};

/* ---- EchoHandler ---------------------------------------------------------------------------- */

static int echo_message(tp_handler *h, tp_slice msg, bool binary)
{
    int r = tp_websocket_write_message(h, msg.p, msg.n, binary);
    return r == 0 || r == -EPIPE ? TP_OK : TP_ERROR;
}

static void echo_close(tp_handler *h)
{
    record_close(h, "");
}

/* on_ping / on_pong reach the app: a binary message "got ping <data>" says so. */
static void say_got(tp_handler *h, const char *what, tp_slice data)
{
    char b[160]; /* control frames carry at most 125 bytes */
    size_t k = strlen(what);
    memcpy(b, what, k);
    memcpy(b + k, data.p, data.n);
    tp_websocket_write_message(h, b, k + data.n, true);
}

static void echo_ping(tp_handler *h, tp_slice data)
{
    say_got(h, "got ping ", data);
}

static void echo_pong(tp_handler *h, tp_slice data)
{
    say_got(h, "got pong ", data);
}

static const tp_websocket_class echo = {
    .base = {TP_WEBSOCKET_BASE("EchoHandler")},
    .on_message = echo_message,
    .on_close = echo_close,
};

/* /ping: echo, and binary "got ping X"/"got pong X" for pings and pongs; a text message
 * "ping:X" makes the server ping with X. */
static int pinger_message(tp_handler *h, tp_slice msg, bool binary)
{
    if (!binary && msg.n >= 5 && memcmp(msg.p, "ping:", 5) == 0)
        return tp_websocket_ping(h, msg.p + 5, msg.n - 5) == 0 ? TP_OK : TP_ERROR;
    return echo_message(h, msg, binary);
}

static const tp_websocket_class pinger = {
    .base = {TP_WEBSOCKET_BASE("PingHandler")},
    .on_message = pinger_message,
    .on_ping = echo_ping,
    .on_pong = echo_pong,
    .on_close = echo_close,
};

/* ---- ErrorInOnMessageHandler ---------------------------------------------------------------- */

static int error_message(tp_handler *h, tp_slice msg, bool binary)
{
    (void)h, (void)msg, (void)binary;
    return TP_ERROR;
}

static const tp_websocket_class error_in_on_message = {
    .base = {TP_WEBSOCKET_BASE("ErrorInOnMessageHandler")},
    .on_message = error_message,
    .on_close = echo_close,
};

/* ---- HeaderHandler: HTTP output fails after the upgrade; X-Test read in open ---------------- */

static int header_open(tp_handler *h)
{
    const char *bad = NULL;
    if (tp_write_str(h, "This should not work") >= 0)
        bad = "write";
    else if (tp_redirect(h, "http://localhost/elsewhere", false) >= 0)
        bad = "redirect";
    else if (tp_set_header(h, "X-Test", "") >= 0)
        bad = "set_header";
    else if (tp_set_cookie(h, "cookie", "value", NULL) >= 0)
        bad = "set_cookie";
    else if (tp_set_status(h, 503, NULL) >= 0)
        bad = "set_status";
    else if (tp_flush(h) >= 0)
        bad = "flush";
    else if (tp_finish(h) >= 0)
        bad = "finish";
    char b[200];
    tp_slice v = tp_headers_get(&tp_handler_request(h)->headers, TP_SLICE_LIT("X-Test"));
    int n = bad ? snprintf(b, sizeof(b), "%s did not fail after the upgrade", bad)
                : snprintf(b, sizeof(b), "%.*s", TP_SLICE_FMT(v));
    tp_websocket_write_message(h, b, (size_t)n, false);
    return TP_OK;
}

static const tp_websocket_class header = {
    .base = {TP_WEBSOCKET_BASE("HeaderHandler")},
    .open = header_open,
};

/* HeaderEchoHandler: X-Test* request headers echoed in prepare, one from set_default_headers. */
static void header_echo_defaults(tp_handler *h)
{
    tp_set_header(h, "X-Extra-Response-Header", "Extra-Response-Value");
}

static int header_echo_prepare(tp_handler *h)
{
    const tp_headers *hd = &tp_handler_request(h)->headers;
    char name[128], value[256];
    for (size_t i = 0; i < hd->n; i++) {
        tp_slice k = hd->v[i].name, v = hd->v[i].value;
        if (k.n < 6 || k.n >= sizeof(name) || v.n >= sizeof(value) ||
            strncasecmp(k.p, "x-test", 6) != 0)
            continue;
        snprintf(name, sizeof(name), "%.*s", TP_SLICE_FMT(k));
        snprintf(value, sizeof(value), "%.*s", TP_SLICE_FMT(v));
        tp_set_header(h, name, value);
    }
    return TP_OK;
}

static const tp_websocket_class header_echo = {
    .base = {TP_WEBSOCKET_BASE("HeaderEchoHandler"), .prepare = header_echo_prepare,
             .set_default_headers = header_echo_defaults},
};

/* ---- NonWebSocketHandler, RedirectHandler -----------------------------------------------------
 */

static int non_ws_get(tp_handler *h)
{
    return tp_write_str(h, "ok"), TP_OK;
}

static const tp_handler_class non_ws = {.name = "NonWebSocketHandler", .get = non_ws_get};

static int redirect_prepare(tp_handler *h)
{
    tp_redirect(h, "/doesnotexist", false);
    return TP_OK;
}

static const tp_websocket_class redirect = {
    .base = {TP_WEBSOCKET_BASE("RedirectHandler"), .prepare = redirect_prepare},
};

/* AsyncPrepareHandler: Tornado's awaits in prepare, then upgrades. Our prepare must finish
 * synchronously (web/handler.h): TP_AGAIN answers 500, which the tests pin down. */
static int async_prepare(tp_handler *h)
{
    (void)h;
    return TP_AGAIN;
}

static const tp_websocket_class async_prepare_cls = {
    .base = {TP_WEBSOCKET_BASE("AsyncPrepareHandler"), .prepare = async_prepare},
    .on_message = echo_message,
};

/* ---- CloseReasonHandler, PathArgsHandler ------------------------------------------------------
 */

static int close_reason_open(tp_handler *h)
{
    return tp_websocket_close(h, 1001, "goodbye") == 0 ? TP_OK : TP_ERROR;
}

static const tp_websocket_class close_reason = {
    .base = {TP_WEBSOCKET_BASE("CloseReasonHandler")},
    .open = close_reason_open,
    .on_close = echo_close,
};

/* /close_after/N: closes (1000, "bye") after N ms, however the client behaves. */
static void close_later(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_handler *h = arg;
    tp_websocket_close(h, 1000, "bye");
    tp_websocket_release(h);
}

static int close_after_open(tp_handler *h)
{
    double ms = atof(tp_path_arg(h, 0).p);
    tp_websocket_hold(h);
    tp_loop_call_later(tp_loop_current(), ms / 1000.0, close_later, h);
    return TP_OK;
}

static const tp_websocket_class close_after = {
    .base = {TP_WEBSOCKET_BASE("CloseAfterHandler")},
    .open = close_after_open,
    .on_close = echo_close,
};

static int path_args_open(tp_handler *h)
{
    char b[200];
    int n = snprintf(b, sizeof(b), "%.*s", TP_SLICE_FMT(tp_path_arg(h, 0)));
    tp_websocket_write_message(h, b, (size_t)n, false);
    return TP_OK;
}

static const tp_websocket_class path_args = {
    .base = {TP_WEBSOCKET_BASE("PathArgsHandler")},
    .open = path_args_open,
};

/* ---- CoroutineOnMessageHandler: an async on_message (10 ms), nothing read meanwhile -------- */

typedef struct coro_state {
    int sleeping;
    char *msg;
    size_t n;
    bool binary;
} coro_state;

static void coro_wake(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_handler *h = arg;
    coro_state *st = tp_handler_state(h);
    st->sleeping--;
    tp_websocket_write_message(h, st->msg, st->n, st->binary);
    free(st->msg);
    st->msg = NULL;
    tp_websocket_resume(h);
    tp_websocket_release(h);
}

static int coro_message(tp_handler *h, tp_slice msg, bool binary)
{
    coro_state *st = tp_handler_state(h);
    if (st->sleeping > 0) {
        static const char busy[] = "another coroutine is already sleeping";
        tp_websocket_write_message(h, busy, sizeof(busy) - 1, false);
    }
    st->sleeping++;
    st->msg = malloc(msg.n + 1);
    if (!st->msg)
        return TP_ERROR;
    memcpy(st->msg, msg.p, msg.n);
    st->n = msg.n;
    st->binary = binary;
    tp_websocket_hold(h);
    tp_loop_call_later(tp_loop_current(), 0.01, coro_wake, h);
    return TP_AGAIN;
}

static const tp_websocket_class coro = {
    .base = {TP_WEBSOCKET_BASE("CoroutineOnMessageHandler"), .state_size = sizeof(coro_state)},
    .on_message = coro_message,
};

/* ---- RenderMessageHandler: message.html rendered into a message ------------------------------ */

static int render_message(tp_handler *h, tp_slice msg, bool binary)
{
    (void)binary;
    json_t *kw = json_object();
    json_object_set_new(kw, "message", json_stringn(msg.p, msg.n));
    tp_buf out = {0};
    int r = tp_render_string(h, "ws_message.html", kw, &out);
    json_decref(kw);
    if (r == 0)
        r = tp_websocket_write_message(h, tp_buf_data(&out), out.len, false);
    tp_buf_free(&out);
    return r == 0 ? TP_OK : TP_ERROR;
}

static const tp_websocket_class render = {
    .base = {TP_WEBSOCKET_BASE("RenderMessageHandler")},
    .on_message = render_message,
};

/* ---- SubprotocolHandler: select_subprotocol called exactly once ------------------------------ */

typedef struct sub_state {
    int calls;
} sub_state;

static const char *pick_goodproto(tp_handler *h, const tp_slice *offered, size_t n)
{
    sub_state *st = tp_handler_state(h);
    st->calls++;
    for (size_t i = 0; i < n; i++)
        if (tp_slice_eq(offered[i], TP_SLICE_LIT("goodproto")))
            return "goodproto";
    return NULL;
}

static int sub_open(tp_handler *h)
{
    sub_state *st = tp_handler_state(h);
    const char *p = tp_websocket_selected_subprotocol(h);
    char b[100];
    int n = snprintf(b, sizeof(b), "subprotocol=%s calls=%d", p ? p : "None", st->calls);
    tp_websocket_write_message(h, b, (size_t)n, false);
    return TP_OK;
}

static const tp_websocket_class subprotocol = {
    .base = {TP_WEBSOCKET_BASE("SubprotocolHandler"), .state_size = sizeof(sub_state)},
    .select_subprotocol = pick_goodproto,
    .open = sub_open,
};

static const char *pick_unoffered(tp_handler *h, const tp_slice *offered, size_t n)
{
    (void)h, (void)offered, (void)n;
    return "notoffered";
}

static const tp_websocket_class bad_subprotocol = {
    .base = {TP_WEBSOCKET_BASE("BadSubprotocolHandler")},
    .select_subprotocol = pick_unoffered,
};

/* ---- OpenCoroutineHandler: open finishes 200 ms later; messages wait for it ----------------- */

typedef struct open_state {
    bool opened;
} open_state;

static void open_later(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_handler *h = arg;
    open_state *st = tp_handler_state(h);
    st->opened = true;
    tp_websocket_write_message(h, "open done", 9, false);
    tp_websocket_open_done(h, TP_OK);
    tp_websocket_release(h);
}

static int open_coro_open(tp_handler *h)
{
    tp_websocket_hold(h);
    tp_loop_call_later(tp_loop_current(), 0.2, open_later, h);
    return TP_AGAIN;
}

static int open_coro_message(tp_handler *h, tp_slice msg, bool binary)
{
    (void)msg, (void)binary;
    open_state *st = tp_handler_state(h);
    const char *r = st->opened ? "ok" : "message before open finished";
    tp_websocket_write_message(h, r, strlen(r), false);
    return TP_OK;
}

static const tp_websocket_class open_coro = {
    .base = {TP_WEBSOCKET_BASE("OpenCoroutineHandler"), .state_size = sizeof(open_state)},
    .open = open_coro_open,
    .on_message = open_coro_message,
};

/* open fails: the connection closes. */
static int open_fail_open(tp_handler *h)
{
    (void)h;
    return TP_ERROR;
}

static const tp_websocket_class open_fail = {
    .base = {TP_WEBSOCKET_BASE("OpenFailHandler")},
    .open = open_fail_open,
    .on_close = echo_close,
};

/* ---- compression: get_compression_options --------------------------------------------------- */

static bool compress_defaults(tp_handler *h, tp_ws_deflate_params *p)
{
    (void)h, (void)p;
    return true;
}

/* The server keeps no context between its messages even when the client allowed it. */
static bool compress_no_takeover(tp_handler *h, tp_ws_deflate_params *p)
{
    (void)h;
    p->server_no_context_takeover = true;
    return true;
}

static const tp_websocket_class compress = {
    .base = {TP_WEBSOCKET_BASE("CompressHandler")},
    .get_compression_options = compress_defaults,
    .on_message = echo_message,
    .on_close = echo_close,
};

static const tp_websocket_class compress_nt = {
    .base = {TP_WEBSOCKET_BASE("CompressNoTakeoverHandler")},
    .get_compression_options = compress_no_takeover,
    .on_message = echo_message,
};

/* ---- check_origin: a custom one accepting only http://allowed.example ------------------------ */

static bool allowed_origin(tp_handler *h, tp_slice origin)
{
    (void)h;
    return tp_slice_eq(origin, TP_SLICE_LIT("http://allowed.example"));
}

static const tp_websocket_class limited_origin = {
    .base = {TP_WEBSOCKET_BASE("LimitedOriginHandler")},
    .check_origin = allowed_origin,
    .on_message = echo_message,
};

/* ---- sub-apps with their own settings ------------------------------------------------------- */

/* /pinging/: pings every 0.5 s, a pong due within 0.5 s. */
static tp_app *make_pinging(void)
{
    tp_app *a = tp_app_new();
    tp_app_settings *st = tp_app_settings_of(a);
    st->websocket_ping_interval = 0.5;
    st->websocket_ping_timeout = 0.5;
    return tp_app_route(a, "/pinging/echo", &pinger.base, NULL) < 0 ? NULL : a;
}

/* /pingcap/: a ping timeout of 60 s with an interval of 0.5 s: the timeout is capped to the
 * interval (Tornado's ping_timeout property). */
static tp_app *make_pingcap(void)
{
    tp_app *a = tp_app_new();
    tp_app_settings *st = tp_app_settings_of(a);
    st->websocket_ping_interval = 0.5;
    st->websocket_ping_timeout = 60;
    return tp_app_route(a, "/pingcap/echo", &echo.base, NULL) < 0 ? NULL : a;
}

/* /small/: messages of at most 1024 bytes (Tornado's MaxMessageSizeTest). */
static tp_app *make_small(void)
{
    tp_app *a = tp_app_new();
    tp_app_settings_of(a)->websocket_max_message_size = 1024;
    if (tp_app_route(a, "/small/echo", &echo.base, NULL) < 0 ||
        tp_app_route(a, "/small/compress", &compress.base, NULL) < 0)
        return NULL;
    return a;
}

static int wsapp_init(tp_app *app)
{
    static tp_app *pinging, *pingcap, *small;
    if (!pinging && !(pinging = make_pinging()))
        return -1;
    if (!pingcap && !(pingcap = make_pingcap()))
        return -1;
    if (!small && !(small = make_small()))
        return -1;
    const char *tpl = getenv("TP_TEMPLATE_PATH");
    tp_app_settings *st = tp_app_settings_of(app);
    st->template_path = tpl && *tpl ? tpl : "tests/blackbox/templates";
    st->websocket_max_message_size = 16u << 20;
    const tp_route_spec routes[] = {
        {.pattern = "/", .cls = &non_ws},
        {.pattern = "/echo", .cls = &echo.base},
        {.pattern = "/ping", .cls = &pinger.base},
        {.pattern = "/closed/(\\w+)", .cls = &closed_cls},
        {.pattern = "/error_in_on_message", .cls = &error_in_on_message.base},
        {.pattern = "/header", .cls = &header.base},
        {.pattern = "/header_echo", .cls = &header_echo.base},
        {.pattern = "/non_ws", .cls = &non_ws},
        {.pattern = "/redirect", .cls = &redirect.base},
        {.pattern = "/async_prepare", .cls = &async_prepare_cls.base},
        {.pattern = "/close_reason", .cls = &close_reason.base},
        {.pattern = "/close_after/(\\d+)", .cls = &close_after.base},
        {.pattern = "/path_args/(.*)", .cls = &path_args.base},
        {.pattern = "/coroutine", .cls = &coro.base},
        {.pattern = "/render", .cls = &render.base},
        {.pattern = "/subprotocol", .cls = &subprotocol.base},
        {.pattern = "/bad_subprotocol", .cls = &bad_subprotocol.base},
        {.pattern = "/open_coroutine", .cls = &open_coro.base},
        {.pattern = "/open_fail", .cls = &open_fail.base},
        {.pattern = "/compress", .cls = &compress.base},
        {.pattern = "/compress_no_takeover", .cls = &compress_nt.base},
        {.pattern = "/limited_origin", .cls = &limited_origin.base},
        {.pattern = "/pinging/.*", .cls = &tp_fallback_handler, .data = pinging},
        {.pattern = "/pingcap/.*", .cls = &tp_fallback_handler, .data = pingcap},
        {.pattern = "/small/.*", .cls = &tp_fallback_handler, .data = small},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (tp_app_add_route(app, &routes[i]) < 0)
            return -1;
    return 0;
}

TP_APP("wsapp", wsapp_init, NULL);
