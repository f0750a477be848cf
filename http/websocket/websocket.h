/* WebSocket (RFC 6455) connections, server and client: one implementation of frames, message
 * assembly, control frames, the close handshake, pings and permessage-deflate over an
 * IOStream. The web layer's WebSocketHandler (web/websocket.h) and tp_ws_connect below are
 * its two users; a library user can run it on any stream that finished a handshake.
 *
 * Lifetime: a tp_ws owns its stream. on_close runs exactly once (after a close handshake,
 * an abort, or the peer going away); every call after it returns -EPIPE. The tp_ws is freed
 * once on_close has returned and every tp_ws_ref is dropped, so a holder that keeps the
 * pointer past on_close takes a reference. */
#ifndef TP_HTTP_WEBSOCKET_H
#define TP_HTTP_WEBSOCKET_H
#include "platform/api.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/loop.h"
#include "core/slice.h"
#include "core/stream.h"
#include "http/headers.h"
#include "http/websocket/deflate.h"

typedef struct tp_ws tp_ws;

/* Close codes used by the library (RFC 6455 §7.4.1). */
enum tp_ws_close_code {
    TP_WS_NORMAL = 1000,
    TP_WS_GOING_AWAY = 1001,
    TP_WS_PROTOCOL_ERROR = 1002,
    TP_WS_UNSUPPORTED = 1003,
    TP_WS_NO_STATUS = 1005, /* on_close's code when the peer's Close had no payload */
    TP_WS_ABNORMAL = 1006,  /* on_close's code when the connection ended without a Close */
    TP_WS_INVALID_DATA = 1007,
    TP_WS_POLICY = 1008,
    TP_WS_TOO_BIG = 1009,
    TP_WS_INTERNAL = 1011,
};

typedef struct tp_ws_callbacks {
    /* A whole message (text is valid UTF-8; the bytes are valid during the call). Returns
     * TP_OK to go on reading, TP_AGAIN to read nothing more until tp_ws_resume (an async
     * on_message: backpressure), TP_ERROR to abort the connection. */
    int (*on_message)(tp_ws *ws, tp_slice msg, bool binary, void *arg);
    /* After the automatic pong went out. May be NULL. */
    void (*on_ping)(tp_ws *ws, tp_slice data, void *arg);
    void (*on_pong)(tp_ws *ws, tp_slice data, void *arg);
    /* Exactly once. code: the peer's close code, TP_WS_NO_STATUS, or TP_WS_ABNORMAL (as
     * Tornado's close_code None); reason: the peer's reason (valid during the call). */
    void (*on_close)(tp_ws *ws, int code, tp_slice reason, void *arg);
} tp_ws_callbacks;

typedef struct tp_ws_opts {
    bool is_client;               /* mask what we send; refuse masked frames from the server */
    bool allow_unmasked;          /* server: accept unmasked client frames (Tornado's quirk);
                                     default false: 1002 */
    size_t max_message_size;      /* 0: 10 MiB (Tornado's default); beyond it 1009 */
    size_t max_write_buffer;      /* 0: 64 MiB; writes past it fail with -ENOBUFS */
    double ping_interval;         /* seconds, 0: off */
    double ping_timeout;          /* no pong within it closes ("ping timed out"); 0: the
                                     interval; capped to the interval; < 0: no deadline */
    double close_timeout;         /* wait for the peer's Close (0: 5 s, as Tornado) */
    tp_ws_deflate_params deflate; /* negotiated parameters (enabled false: none) */
} tp_ws_opts;

/* Takes over s (after a finished handshake; bytes already buffered in s are read as frames).
 * Nothing is read until tp_ws_start, so an async open() can finish first. */
TP_API tp_ws *tp_ws_new(tp_stream *s, const tp_ws_opts *o, const tp_ws_callbacks *cb, void *arg);
/* Starts reading frames and the ping timer. */
TP_API void tp_ws_start(tp_ws *ws);
/* Reads again after on_message returned TP_AGAIN. */
TP_API void tp_ws_resume(tp_ws *ws);

/* Called once the message's bytes are in the kernel (status 0), or with -EPIPE when the
 * connection closed first. */
typedef void (*tp_ws_sent_fn)(tp_ws *ws, int status, void *arg);
/* Queues a message (copied; compressed if negotiated). 0; -EPIPE once closing or closed
 * (Tornado's WebSocketClosedError); -ENOBUFS over max_write_buffer (nothing queued);
 * -EINVAL for text that is not UTF-8. */
TP_API int tp_ws_write_message(tp_ws *ws, const void *p, size_t n, bool binary, tp_ws_sent_fn fn,
                               void *arg);
/* A ping with up to 125 bytes of data. 0, -EPIPE, -EINVAL over 125 bytes. */
TP_API int tp_ws_ping(tp_ws *ws, const void *p, size_t n);
/* Starts the close handshake: code 0 and reason NULL send an empty Close; a reason without
 * code sends 1000. The connection is aborted if the peer has not closed within the close
 * timeout. 0, or -EPIPE if already closing; -EINVAL for a code that may not be sent or a
 * reason over 123 bytes. */
TP_API int tp_ws_close(tp_ws *ws, int code, const char *reason);
/* Closes the TCP connection without a Close frame; on_close runs (TP_WS_ABNORMAL). */
TP_API void tp_ws_abort(tp_ws *ws);

TP_API void tp_ws_ref(tp_ws *ws);
TP_API void tp_ws_unref(tp_ws *ws);
TP_API bool tp_ws_closed(const tp_ws *ws); /* closing or closed */
TP_API tp_stream *tp_ws_stream(const tp_ws *ws);
TP_API tp_loop *tp_ws_loop(const tp_ws *ws);
/* The user pointer given to tp_ws_new / tp_ws_connect; settable (the handler glue moves it). */
TP_API void *tp_ws_arg(const tp_ws *ws);
TP_API void tp_ws_set_arg(tp_ws *ws, void *arg);
/* Bytes queued and not yet in the kernel. */
TP_API size_t tp_ws_buffered_amount(const tp_ws *ws);
/* The negotiated compression parameters (enabled false when none). */
TP_API const tp_ws_deflate_params *tp_ws_deflate(const tp_ws *ws);

/* Sec-WebSocket-Accept for key: base64(SHA-1(key + GUID)), 28 characters and a NUL. */
TP_API void tp_ws_accept_key(tp_slice key, char out[29]);

/* ---- client: tornado.websocket.websocket_connect --------------------------------------- */

typedef struct tp_ws_connect_opts {
    double connect_timeout;          /* seconds for TCP connect + handshake (0: 20 s) */
    const char *const *subprotocols; /* NULL-terminated, or NULL */
    const tp_headers *headers;       /* extra request headers (Origin, Cookie...), or NULL */
    bool compression;                /* offer permessage-deflate (Tornado's defaults) */
    tp_ws_deflate_params deflate;    /* used when compression (zeroed: the defaults) */
    tp_ws_opts ws;                   /* ping, max_message_size...; is_client is set for you */
    /* Resolve a host name on this thread pool (core/async/executor.h; connect_timeout covers
     * it); NULL: getaddrinfo on the loop's thread, which blocks it while it runs. */
    struct tp_executor *resolver;
} tp_ws_connect_opts;

/* The outcome of a connect. On success ws is the connection (callbacks as given), status
 * 101, headers the 101 response's headers and subprotocol the selected one (or NULL), all
 * valid during the call. On failure ws is NULL, error a -errno (-ETIMEDOUT, -ECONNREFUSED,
 * -EPROTO for a bad handshake) and status the HTTP status of a non-101 answer (0 if none). */
typedef struct tp_ws_connect_result {
    tp_ws *ws;
    int error;
    int status;
    const tp_headers *headers;
    const char *subprotocol;
    const char *message; /* a sentence saying what failed, or NULL */
} tp_ws_connect_result;
typedef void (*tp_ws_connect_fn)(const tp_ws_connect_result *r, void *arg);

/* Connects to ws://host:port/path (wss is -EPROTONOSUPPORT until TLS lands) and calls done
 * once from the loop. cb and arg become the connection's callbacks. 0, or -EINVAL for a bad
 * url (done is not called then). */
TP_API int tp_ws_connect(tp_loop *loop, const char *url, const tp_ws_connect_opts *o,
                         const tp_ws_callbacks *cb, void *arg, tp_ws_connect_fn done,
                         void *done_arg);

#endif
