/* WebSocketHandler (web/websocket.h): Tornado's handshake checks and 101, then the glue between
 * the connection (http/websocket/) and the class's callbacks.
 *
 * The handler outlives its request's normal end: tp__handler_upgrade hands the request's
 * reference to the glue, which puts it after on_close, so h, its request and its arena stay
 * valid for every callback. The glue lives in that arena and sits in its app's list of open
 * connections (a draining worker waits for the list to empty, then closes what is left). */
#include "web/websocket.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "core/alloc.h"
#include "core/escape.h"
#include "core/log.h"
#include "core/utf8.h"
#include "web/web_internal.h"

typedef struct tp_ws_glue {
    tp_handler *h;
    const tp_websocket_class *cls;
    tp_ws *ws; /* NULL after on_close */
    struct tp_ws_glue *prev, *next;
    const char *subprotocol;
    int close_code; /* Tornado's close_code: 0 for None */
    const char *close_reason;
    bool opening; /* an async open has not called tp_websocket_open_done yet */
} tp_ws_glue;

static const tp_websocket_class *ws_class(tp_handler *h)
{
    return (const tp_websocket_class *)(const void *)h->cls;
}

/* ---- the app's list of open connections ------------------------------------------------------ */

static void link_glue(tp_app *app, tp_ws_glue *g)
{
    g->next = app->websockets;
    if (g->next)
        g->next->prev = g;
    app->websockets = g;
    app->nwebsockets++;
}

static void all_gone(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_app *app = arg;
    void (*done)(tp_app *, void *) = app->websockets_gone;
    if (done && app->nwebsockets == 0) {
        app->websockets_gone = NULL;
        done(app, app->websockets_gone_arg);
    }
}

static void unlink_glue(tp_app *app, tp_ws_glue *g)
{
    if (g->prev)
        g->prev->next = g->next;
    else
        app->websockets = g->next;
    if (g->next)
        g->next->prev = g->prev;
    g->prev = g->next = NULL;
    if (--app->nwebsockets == 0 && app->websockets_gone)
        tp_loop_add_callback(tp_loop_current(), all_gone, app);
}

size_t tp_app_websocket_count(tp_app *app)
{
    return app->nwebsockets;
}

void tp_app_close_websockets(tp_app *app, int code, const char *reason,
                             void (*done)(tp_app *app, void *arg), void *arg)
{
    app->websockets_gone = done;
    app->websockets_gone_arg = arg;
    for (tp_ws_glue *g = app->websockets; g && code; g = g->next)
        tp_ws_close(g->ws, code, reason); /* -EPIPE: closing already */
    if (app->nwebsockets == 0 && done)
        tp_loop_add_callback(tp_loop_current(), all_gone, app);
}

/* ---- the connection's callbacks -------------------------------------------------------------- */

static int glue_message(tp_ws *ws, tp_slice msg, bool binary, void *arg)
{
    (void)ws;
    tp_ws_glue *g = arg;
    int r = TP_OK;
    if (g->cls->on_message)
        CALL(g->h, r = g->cls->on_message(g->h, msg, binary));
    return r;
}

static void glue_ping(tp_ws *ws, tp_slice data, void *arg)
{
    (void)ws;
    tp_ws_glue *g = arg;
    if (g->cls->on_ping)
        CALL(g->h, g->cls->on_ping(g->h, data));
}

static void glue_pong(tp_ws *ws, tp_slice data, void *arg)
{
    (void)ws;
    tp_ws_glue *g = arg;
    if (g->cls->on_pong)
        CALL(g->h, g->cls->on_pong(g->h, data));
}

static void glue_close(tp_ws *ws, int code, tp_slice reason, void *arg)
{
    (void)ws;
    tp_ws_glue *g = arg;
    tp_handler *h = g->h;
    if (code != TP_WS_NO_STATUS && code != TP_WS_ABNORMAL) {
        g->close_code = code;
        /* Tornado's close_reason stays None for a Close with a code and no reason */
        if (reason.n)
            g->close_reason = tp_arena_strndup(&h->req->arena, reason.p, reason.n);
    }
    g->ws = NULL;
    unlink_glue(h->app, g);
    if (g->cls->on_close)
        CALL(h, g->cls->on_close(h));
    tp__handler_put(h); /* the request's reference, taken over at the upgrade */
}

static const tp_ws_callbacks glue_callbacks = {
    .on_message = glue_message,
    .on_ping = glue_ping,
    .on_pong = glue_pong,
    .on_close = glue_close,
};

/* ---- the handshake --------------------------------------------------------------------------- */

/* A refused handshake: the status and the message as the body, logged at debug level. */
static int refuse(tp_handler *h, int status, const char *msg)
{
    tp_set_status(h, status, NULL);
    tp_write_str(h, msg);
    tp_log_debug("%s", msg);
    return TP_OK;
}

/* urlparse(origin).netloc: what follows "scheme://" (or a leading "//") up to '/', '?' or '#';
 * empty when there is none. A scheme is a letter and then letters, digits, '+', '-', '.'. */
static tp_slice origin_netloc(tp_slice o)
{
    size_t i = 0;
    if (o.n && ((o.p[0] >= 'a' && o.p[0] <= 'z') || (o.p[0] >= 'A' && o.p[0] <= 'Z')))
        while (i < o.n && (isalnum((unsigned char)o.p[i]) || strchr("+-.", o.p[i])))
            i++;
    if (i > 0 && i < o.n && o.p[i] == ':')
        i++;
    else
        i = 0;
    if (o.n - i < 2 || o.p[i] != '/' || o.p[i + 1] != '/')
        return tp_slice_make(o.p, 0);
    tp_slice net = {o.p + i + 2, o.n - i - 2};
    for (size_t k = 0; k < net.n; k++)
        if (net.p[k] == '/' || net.p[k] == '?' || net.p[k] == '#')
            return tp_slice_make(net.p, k);
    return net;
}

/* Tornado's check_origin: the Origin's netloc, lowercased, equals the Host header exactly. */
static bool same_origin(tp_handler *h, tp_slice origin)
{
    tp_slice host = tp_headers_get(&h->req->headers, TP_SLICE_LIT("Host"));
    tp_slice net = origin_netloc(origin);
    if (!host.p || net.n != host.n)
        return false;
    for (size_t i = 0; i < net.n; i++)
        if (tolower((unsigned char)net.p[i]) != host.p[i])
            return false;
    return true;
}

/* A comma-separated header list holds token (case-insensitive, spaces around items). */
static bool has_token(tp_slice list, const char *token)
{
    tp_slice want = tp_slice_cstr(token);
    while (list.p) {
        const char *comma = memchr(list.p, ',', list.n);
        size_t k = comma ? (size_t)(comma - list.p) : list.n;
        if (tp_slice_caseeq(tp_py_strip(tp_slice_make(list.p, k)), want))
            return true;
        if (!comma)
            break;
        list = tp_slice_make(comma + 1, list.n - k - 1);
    }
    return false;
}

static bool nonempty(tp_handler *h, const char *name)
{
    return tp_headers_get_joined(&h->req->headers, tp_slice_cstr(name)).n > 0;
}

/* Tornado's handshake checks in its order: Upgrade, Connection, Origin, version, the
 * required fields. TP_DECLINED when they pass, else the refusal was written. */
static int check_request(tp_handler *h, const tp_websocket_class *cls)
{
    const tp_headers *hd = &h->req->headers;
    if (!tp_slice_caseeq(tp_headers_get_joined(hd, TP_SLICE_LIT("Upgrade")),
                         TP_SLICE_LIT("websocket")))
        return refuse(h, 400, "Can \"Upgrade\" only to \"WebSocket\".");
    if (!has_token(tp_headers_get_joined(hd, TP_SLICE_LIT("Connection")), "upgrade"))
        return refuse(h, 400, "\"Connection\" must be \"Upgrade\".");
    tp_slice origin = tp_headers_get_joined(hd, TP_SLICE_LIT("Origin"));
    if (!origin.p)
        origin = tp_headers_get_joined(hd, TP_SLICE_LIT("Sec-Websocket-Origin"));
    if (origin.p && !(cls->check_origin ? cls->check_origin(h, origin) : same_origin(h, origin)))
        return refuse(h, 403, "Cross origin websockets not allowed");
    tp_slice v = tp_headers_get_joined(hd, TP_SLICE_LIT("Sec-Websocket-Version"));
    if (!tp_slice_eq(v, TP_SLICE_LIT("13")) && !tp_slice_eq(v, TP_SLICE_LIT("8")) &&
        !tp_slice_eq(v, TP_SLICE_LIT("7"))) {
        tp_set_status(h, 426, "Upgrade Required");
        tp_set_header(h, "Sec-WebSocket-Version", "7, 8, 13");
        return TP_OK;
    }
    if (!nonempty(h, "Host") || !nonempty(h, "Sec-Websocket-Key"))
        return refuse(h, 400, "Missing/Invalid WebSocket headers");
    return TP_DECLINED;
}

/* select_subprotocol over the offered list (split on commas, stripped, as Tornado). TP_OK,
 * or TP_ERROR when the class picked something that was not offered (Tornado's assertion). */
static int choose_subprotocol(tp_handler *h, tp_ws_glue *g)
{
    tp_slice hdr = tp_headers_get_joined(&h->req->headers, TP_SLICE_LIT("Sec-Websocket-Protocol"));
    tp_slice offered[32];
    size_t n = 0;
    while (hdr.n && n < TP_ARRAY_LEN(offered)) {
        const char *comma = memchr(hdr.p, ',', hdr.n);
        size_t k = comma ? (size_t)(comma - hdr.p) : hdr.n;
        offered[n++] = tp_py_strip(tp_slice_make(hdr.p, k));
        hdr = comma ? tp_slice_make(comma + 1, hdr.n - k - 1) : TP_SLICE_NULL;
    }
    if (!g->cls->select_subprotocol)
        return TP_OK;
    const char *pick = g->cls->select_subprotocol(h, offered, n);
    if (!pick)
        return TP_OK;
    for (size_t i = 0; i < n; i++)
        if (tp_slice_eq(offered[i], tp_slice_cstr(pick))) {
            g->subprotocol = tp_arena_strndup(&h->req->arena, pick, strlen(pick));
            tp_set_header(h, "Sec-WebSocket-Protocol", g->subprotocol);
            return TP_OK;
        }
    tp_log_error("select_subprotocol of %s chose \"%s\", which the client did not offer",
                 h->cls->name ? h->cls->name : "WebSocketHandler", pick);
    return TP_ERROR;
}

/* permessage-deflate when the class allows it and the client offers it: 0 (params filled
 * or left disabled), or -EINVAL for an offer Tornado cannot accept. */
static int negotiate_deflate(tp_handler *h, tp_ws_deflate_params *p)
{
    tp_ws_deflate_params ours = tp_ws_deflate_defaults();
    const tp_websocket_class *cls = ws_class(h);
    if (!cls->get_compression_options || !cls->get_compression_options(h, &ours))
        return 0;
    tp_slice offer =
        tp_headers_get_joined(&h->req->headers, TP_SLICE_LIT("Sec-Websocket-Extensions"));
    if (!offer.p)
        return 0;
    tp_buf resp = {0};
    int r = tp_ws_deflate_accept_offer(offer, &ours, p, &resp);
    if (r == 0)
        tp_set_header(h, "Sec-WebSocket-Extensions",
                      tp_arena_strndup(&h->req->arena, tp_buf_data(&resp), resp.len));
    tp_buf_free(&resp);
    return r == -ENOENT ? 0 : r;
}

static tp_ws_opts ws_opts(const tp_app *app, const tp_ws_deflate_params *deflate)
{
    const tp_app_settings *st = &app->settings;
    return (tp_ws_opts){.max_message_size = st->websocket_max_message_size,
                        .ping_interval = st->websocket_ping_interval,
                        .ping_timeout = st->websocket_ping_timeout,
                        .deflate = *deflate};
}

/* open(): TP_OK starts reading, TP_AGAIN waits for tp_websocket_open_done. */
static void run_open(tp_ws_glue *g)
{
    int r = TP_OK;
    g->opening = true;
    if (g->cls->open)
        CALL(g->h, r = g->cls->open(g->h));
    if (r != TP_AGAIN)
        tp_websocket_open_done(g->h, r);
}

int tp_websocket_get(tp_handler *h)
{
    if (!(h->cls->flags & TP_WEBSOCKET)) {
        tp_log_error("tp_websocket_get on %s, which is not a tp_websocket_class (TP_WEBSOCKET)",
                     h->cls->name ? h->cls->name : "a handler");
        return TP_ERROR;
    }
    const tp_websocket_class *cls = ws_class(h);
    int r = check_request(h, cls);
    if (r != TP_DECLINED)
        return r;
    tp_ws_glue *g = tp_arena_calloc(&h->req->arena, sizeof(*g));
    g->h = h;
    g->cls = cls;
    if (choose_subprotocol(h, g) < 0)
        return TP_ERROR;
    tp_ws_deflate_params deflate = {0};
    /* An offer Tornado cannot accept (an unknown parameter with a value, window bits outside
     * 8..15): its ValueError in _accept_connection meets an _abort() that fails before the
     * stream is detached, and the client gets a 500 (6.2 and 6.5 alike; tests/diff). */
    if (negotiate_deflate(h, &deflate) < 0) {
        tp_log_error("Malformed WebSocket request received: bad Sec-WebSocket-Extensions");
        return TP_ERROR;
    }
    char accept[29];
    tp_ws_accept_key(tp_headers_get(&h->req->headers, TP_SLICE_LIT("Sec-Websocket-Key")), accept);
    tp_clear_header(h, "Content-Type");
    tp_set_status(h, 101, NULL);
    tp_set_header(h, "Upgrade", "websocket");
    tp_set_header(h, "Connection", "Upgrade");
    tp_set_header(h, "Sec-WebSocket-Accept", accept);
    tp_stream *s = tp__handler_upgrade(h);
    if (!s)
        return TP_OK;
    tp_ws_opts o = ws_opts(h->app, &deflate);
    h->ws = g;
    link_glue(h->app, g);
    g->ws = tp_ws_new(s, &o, &glue_callbacks, g);
    run_open(g);
    return TP_OK;
}

/* ---- the handler's WebSocket calls ----------------------------------------------------------- */

/* The open connection of h, or NULL. */
static tp_ws *conn_of(tp_handler *h)
{
    return h->ws ? h->ws->ws : NULL;
}

void tp_websocket_open_done(tp_handler *h, int status)
{
    tp_ws_glue *g = h->ws;
    if (!g || !g->opening || !g->ws)
        return;
    g->opening = false;
    if (status == TP_OK) {
        tp_ws_start(g->ws);
        return;
    }
    tp_log_error("open of %s failed (%d): closing the connection",
                 h->cls->name ? h->cls->name : "WebSocketHandler", status);
    /* A Close (1011, as websocket.h says) rather than an abort: the 101 may still be in the
     * stream's buffer, and an abort would drop it unsent. Reading starts for the peer's
     * answering Close. */
    tp_ws_close(g->ws, TP_WS_INTERNAL, NULL);
    tp_ws_start(g->ws);
}

int tp_websocket_write_message(tp_handler *h, const void *p, size_t n, bool binary)
{
    tp_ws *ws = conn_of(h);
    return ws ? tp_ws_write_message(ws, p, n, binary, NULL, NULL) : -EPIPE;
}

typedef struct sent_glue {
    tp_handler *h;
    tp_websocket_sent_fn fn;
    void *arg;
} sent_glue;

static void glue_sent(tp_ws *ws, int status, void *arg)
{
    (void)ws;
    sent_glue *sg = arg;
    tp_handler *h = sg->h;
    CALL(h, sg->fn(h, status, sg->arg));
    tp__handler_put(h); /* the write's */
    tp_free(sg);
}

int tp_websocket_write_message_cb(tp_handler *h, const void *p, size_t n, bool binary,
                                  tp_websocket_sent_fn fn, void *arg)
{
    tp_ws *ws = conn_of(h);
    if (!ws)
        return -EPIPE;
    if (!fn)
        return tp_ws_write_message(ws, p, n, binary, NULL, NULL);
    sent_glue *sg = tp_malloc(sizeof(*sg));
    *sg = (sent_glue){h, fn, arg};
    tp__handler_hold(h);
    int r = tp_ws_write_message(ws, p, n, binary, glue_sent, sg);
    if (r < 0) {
        tp_free(sg);
        tp__handler_put(h);
    }
    return r;
}

int tp_websocket_write_json(tp_handler *h, const json_t *obj)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    tp_slice s = tp_json_encode(&a, obj);
    int r = s.p ? tp_websocket_write_message(h, s.p, s.n, false) : -EINVAL;
    tp_arena_destroy(&a);
    return r;
}

int tp_websocket_ping(tp_handler *h, const void *p, size_t n)
{
    tp_ws *ws = conn_of(h);
    return ws ? tp_ws_ping(ws, p, n) : -EPIPE;
}

int tp_websocket_close(tp_handler *h, int code, const char *reason)
{
    tp_ws *ws = conn_of(h);
    return ws ? tp_ws_close(ws, code, reason) : -EPIPE;
}

void tp_websocket_resume(tp_handler *h)
{
    tp_ws *ws = conn_of(h);
    if (ws)
        tp_ws_resume(ws);
}

void tp_websocket_hold(tp_handler *h)
{
    tp__handler_hold(h);
}

void tp_websocket_release(tp_handler *h)
{
    tp__handler_put(h);
}

int tp_websocket_close_code(tp_handler *h)
{
    return h->ws ? h->ws->close_code : 0;
}

const char *tp_websocket_close_reason(tp_handler *h)
{
    return h->ws ? h->ws->close_reason : NULL;
}

const char *tp_websocket_selected_subprotocol(tp_handler *h)
{
    return h->ws ? h->ws->subprotocol : NULL;
}

tp_ws *tp_websocket_conn(tp_handler *h)
{
    return conn_of(h);
}

int tp_websocket_set_nodelay(tp_handler *h, bool on)
{
    tp_ws *ws = conn_of(h);
    return ws && tp_ws_stream(ws) ? tp_stream_set_nodelay(tp_ws_stream(ws), on) : -EPIPE;
}
