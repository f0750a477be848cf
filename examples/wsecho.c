/* The WebSocket echo server that external suites and benchmarks drive: /echo sends every
 * message back as it came (text as text, binary as binary), accepts permessage-deflate when
 * the client offers it, from any origin, and takes messages up to 16 MiB. Built as
 * build/examples/wsecho (a program: --port=8888) and build/examples/wsecho.so.
 *
 * For fan-out (tools/ws-load --fanout, as the ws and Tornado peers in tools/bench/ have it):
 * /sub is a WebSocket that receives every message published, /pub a POST whose body is
 * published, /chat a WebSocket whose messages are published. Publishing goes through
 * web/pubsub, so under tornado-prefork it reaches the subscribers of every worker. */
#include "tp.h"

static int echo_message(tp_handler *h, tp_slice msg, bool binary)
{
    int r = tp_websocket_write_message(h, msg.p, msg.n, binary);
    return r == 0 || r == -EPIPE ? TP_OK : TP_ERROR;
}

static bool any_origin(tp_handler *h, tp_slice origin)
{
    (void)h;
    (void)origin;
    return true;
}

static bool compression(tp_handler *h, tp_ws_deflate_params *p)
{
    (void)h;
    (void)p; /* Tornado's defaults: level 6, memLevel 8, context takeover */
    return true;
}

static const tp_websocket_class echo = {
    .base = {TP_WEBSOCKET_BASE("EchoWebSocket")},
    .check_origin = any_origin,
    .get_compression_options = compression,
    .on_message = echo_message,
};

/* ---- fan-out ------------------------------------------------------------------------------ */

#define CHANNEL TP_SLICE_LIT("wsecho")

typedef struct sub_state {
    tp_pubsub_sub *sub;
} sub_state;

static void deliver(tp_slice channel, tp_slice msg, void *arg)
{
    (void)channel;
    tp_websocket_write_message(arg, msg.p, msg.n, false); /* a full buffer: this one misses it */
}

static int sub_open(tp_handler *h)
{
    sub_state *st = tp_handler_state(h);
    st->sub = tp_pubsub_subscribe(CHANNEL, deliver, h);
    return st->sub ? TP_OK : TP_ERROR;
}

static void sub_close(tp_handler *h)
{
    sub_state *st = tp_handler_state(h);
    if (st->sub)
        tp_pubsub_unsubscribe(st->sub);
    st->sub = NULL;
}

static int chat_message(tp_handler *h, tp_slice msg, bool binary)
{
    (void)h;
    (void)binary;
    int r = tp_pubsub_publish(CHANNEL, msg.p, msg.n);
    return r == 0 || r == -ENOBUFS ? TP_OK : TP_ERROR;
}

static const tp_websocket_class sub = {
    .base = {TP_WEBSOCKET_BASE("SubscriberSocket"), .state_size = sizeof(sub_state)},
    .check_origin = any_origin,
    .open = sub_open,
    .on_close = sub_close,
};

static const tp_websocket_class chat = {
    .base = {TP_WEBSOCKET_BASE("ChatSocket"), .state_size = sizeof(sub_state)},
    .check_origin = any_origin,
    .open = sub_open,
    .on_message = chat_message,
    .on_close = sub_close,
};

static int pub_post(tp_handler *h)
{
    tp_request *req = tp_handler_request(h);
    if (tp_pubsub_publish(CHANNEL, req->body.p, req->body.n) < 0)
        tp_send_error(h, 503);
    else
        tp_set_status(h, 204, NULL);
    return TP_OK;
}

static const tp_handler_class pub = {.name = "PublishHandler", .post = pub_post};

static int wsecho_init(tp_app *app)
{
    tp_app_settings_of(app)->websocket_max_message_size = 16u << 20;
    int r = tp_app_route(app, "/echo", &echo.base, NULL);
    if (r == 0)
        r = tp_app_route(app, "/sub", &sub.base, NULL);
    if (r == 0)
        r = tp_app_route(app, "/chat", &chat.base, NULL);
    if (r == 0)
        r = tp_app_route(app, "/pub", &pub, NULL);
    return r;
}

TP_APP("wsecho", wsecho_init, NULL);
