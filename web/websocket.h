/* WebSocketHandler: a handler class whose GET upgrades the request to a WebSocket
 * (tornado.websocket.WebSocketHandler). The handshake checks run in Tornado's order (400,
 * 403 from check_origin, 426), the 101 carries the headers set in prepare or
 * set_default_headers, and then the same tp_handler lives on for the connection: path
 * arguments, request headers, cookies, current_user and the class's state stay readable in
 * every callback until on_close has returned. HTTP output calls fail after the upgrade.
 *
 *     static int echo_message(tp_handler *h, tp_slice msg, bool binary)
 *     {
 *         return tp_websocket_write_message(h, msg.p, msg.n, binary) ? TP_ERROR : TP_OK;
 *     }
 *     static const tp_websocket_class echo = {
 *         .base = {TP_WEBSOCKET_BASE("EchoWebSocket")},
 *         .on_message = echo_message,
 *     };
 *     tp_app_route(app, "/echo", &echo.base, NULL);
 */
#ifndef TP_WEB_WEBSOCKET_H
#define TP_WEB_WEBSOCKET_H
#include "platform/api.h"
#include <stdbool.h>
#include <stddef.h>
#include "core/slice.h"
#include "http/websocket/websocket.h"
#include "web/handler.h"

/* The GET of every WebSocket class: the handshake and the upgrade. */
TP_API int tp_websocket_get(tp_handler *h);

/* The http part of a WebSocket class: a name, TP_WEBSOCKET and tp_websocket_get. Other
 * tp_handler_class fields (state_size, initialize, prepare, set_default_headers,
 * get_current_user, TP_AUTHENTICATED...) may be added after it as designated initializers. */
#define TP_WEBSOCKET_BASE(name_) .name = (name_), .flags = TP_WEBSOCKET, .get = tp_websocket_get

typedef struct tp_websocket_class {
    tp_handler_class base; /* TP_WEBSOCKET_BASE(...) and any handler fields */
    /* Tornado's check_origin(origin): true to accept. NULL: the Origin's host[:port],
     * lowercased, must equal the Host header. Requests without Origin are always allowed. */
    bool (*check_origin)(tp_handler *h, tp_slice origin);
    /* select_subprotocol(subprotocols), called once per handshake (n is 0 when the client
     * offered none, as Tornado since 5.1): one of offered (returned as is), or NULL for none;
     * anything else answers 500. */
    const char *(*select_subprotocol)(tp_handler *h, const tp_slice *offered, size_t n);
    /* get_compression_options(): true and *out filled (start from tp_ws_deflate_defaults)
     * to accept permessage-deflate when offered. NULL or false: no compression. */
    bool (*get_compression_options)(tp_handler *h, tp_ws_deflate_params *out);
    /* open(): TP_OK; TP_AGAIN when it finishes later with tp_websocket_open_done (no message
     * is read before); TP_ERROR closes the connection (1011). */
    int (*open)(tp_handler *h);
    /* A message: text (UTF-8) or binary. TP_OK reads on; TP_AGAIN holds further reads until
     * tp_websocket_resume (backpressure); TP_ERROR aborts the connection (logged). */
    int (*on_message)(tp_handler *h, tp_slice msg, bool binary);
    void (*on_ping)(tp_handler *h, tp_slice data);
    void (*on_pong)(tp_handler *h, tp_slice data);
    /* Exactly once, however the connection ended; tp_websocket_close_code/_reason tell how. */
    void (*on_close)(tp_handler *h);
} tp_websocket_class;

/* write_message: a copy of the message is queued (compressed when negotiated). 0; -EPIPE
 * once closed (WebSocketClosedError); -ENOBUFS when the connection's write buffer is full;
 * -EINVAL for text that is not UTF-8. */
TP_API int tp_websocket_write_message(tp_handler *h, const void *p, size_t n, bool binary);
/* write_message with a completion callback: fn(h, 0) once the bytes are in the kernel,
 * fn(h, -EPIPE) if the connection closed first. h stays valid for the call. */
typedef void (*tp_websocket_sent_fn)(tp_handler *h, int status, void *arg);
TP_API int tp_websocket_write_message_cb(tp_handler *h, const void *p, size_t n, bool binary,
                                         tp_websocket_sent_fn fn, void *arg);
/* write_message(dict): obj as compact JSON text. */
TP_API int tp_websocket_write_json(tp_handler *h, const json_t *obj);
/* ping(data): at most 125 bytes. 0, -EPIPE, -EINVAL. */
TP_API int tp_websocket_ping(tp_handler *h, const void *p, size_t n);
/* close(code, reason): as tp_ws_close. */
TP_API int tp_websocket_close(tp_handler *h, int code, const char *reason);
/* Ends an async open (TP_AGAIN): status TP_OK starts reading, else the connection closes. */
TP_API void tp_websocket_open_done(tp_handler *h, int status);
/* Reads again after on_message returned TP_AGAIN. */
TP_API void tp_websocket_resume(tp_handler *h);
/* Keeps h (and its request) alive past on_close until tp_websocket_release. */
TP_API void tp_websocket_hold(tp_handler *h);
TP_API void tp_websocket_release(tp_handler *h);
/* close_code / close_reason: the peer's Close (0 and NULL before a close, or when the
 * connection ended without one). */
TP_API int tp_websocket_close_code(tp_handler *h);
TP_API const char *tp_websocket_close_reason(tp_handler *h);
/* selected_subprotocol, or NULL. */
TP_API const char *tp_websocket_selected_subprotocol(tp_handler *h);
/* The connection (for tp_ws_* calls), or NULL before the upgrade / after on_close. */
TP_API tp_ws *tp_websocket_conn(tp_handler *h);
/* set_nodelay. */
TP_API int tp_websocket_set_nodelay(tp_handler *h, bool on);
/* The app's open WebSocket connections (a draining worker waits for them). */
TP_API size_t tp_app_websocket_count(tp_app *app);
/* Starts the close handshake on every open connection of app with code and reason (code 0:
 * closes nothing, only waits); done(app, arg) runs from the loop once none is left. */
TP_API void tp_app_close_websockets(tp_app *app, int code, const char *reason,
                                    void (*done)(tp_app *app, void *arg), void *arg);

#endif
