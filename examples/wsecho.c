/* The WebSocket echo server that external suites and benchmarks drive: /echo sends every
 * message back as it came (text as text, binary as binary), accepts permessage-deflate when
 * the client offers it, from any origin, and takes messages up to 16 MiB. Built as
 * build/examples/wsecho (a program: --port=8888) and build/examples/wsecho.so. */
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

static int wsecho_init(tp_app *app)
{
    tp_app_settings_of(app)->websocket_max_message_size = 16u << 20;
    return tp_app_route(app, "/echo", &echo.base, NULL);
}

TP_APP("wsecho", wsecho_init, NULL);
