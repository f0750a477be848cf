/* The pieces of tp_ws_connect that need no connection (http/websocket/client_handshake.c):
 * the ws:// URL, the upgrade request, the response head and its checks. Internal to the
 * library (the unit tests link them from libtp.a). */
#ifndef TP_HTTP_WEBSOCKET_CLIENT_INTERNAL_H
#define TP_HTTP_WEBSOCKET_CLIENT_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/slice.h"
#include "http/headers.h"
#include "http/websocket/websocket.h"

/* ws://host[:port]/path?query split up; strings are NUL-terminated copies in the arena. */
typedef struct tp_ws_url {
    const char *host;     /* without the brackets of an IPv6 literal */
    const char *port;     /* digits, "80" when the URL has none */
    const char *netloc;   /* host[:port] as written: the Host header */
    const char *resource; /* path and query ("/" when empty); the fragment is dropped */
} tp_ws_url;

/* Parses url into *u. 0; -EPROTONOSUPPORT for wss:// (no TLS yet); -EINVAL for another
 * scheme, an empty or malformed host, a port outside 1..65535, user info, or a byte in the
 * URL that could not go into a request line (controls, spaces). */
int tp__ws_parse_url(const char *url, tp_arena *a, tp_ws_url *u);

/* Appends the upgrade request for u with the given Sec-WebSocket-Key (24 characters) to out:
 * our Upgrade/Connection/Sec-WebSocket-* fields win over same-named ones in o->headers, a
 * Host in o->headers replaces ours. `offer` is the Sec-WebSocket-Extensions value, or a NULL
 * slice. 0, or -EINVAL when a subprotocol is not a token or a custom header is not a valid
 * field (nothing useful is in out then). */
int tp__ws_build_request(tp_buf *out, const tp_ws_url *u, const char *key,
                         const tp_ws_connect_opts *o, tp_slice offer);

/* The parsed response head; slices point into the head given to tp__ws_parse_response. */
typedef struct tp_ws_response {
    int status;
    tp_slice reason;
    tp_headers headers; /* entries in the arena */
} tp_ws_response;

/* Parses "HTTP/1.x NNN reason\r\n" and the header lines of a whole head (through the blank
 * line). 0, or -EPROTO with *msg set to what is wrong. */
int tp__ws_parse_response(tp_slice head, tp_arena *a, tp_ws_response *r, const char **msg);

/* The checks of a 101 answer, in Tornado's order: status 101 (else -EPROTO, msg
 * "HTTP <status>: <reason>"), Upgrade is websocket, Connection has the upgrade token,
 * Sec-WebSocket-Accept equals `accept`, the subprotocol is one offered in `subprotocols`
 * (*subprotocol gets it, or NULL), and the extension answer is permessage-deflate to an
 * offer made (`want` NULL: none made): *deflate gets the parameters (enabled false when
 * declined). 0, or -EPROTO with *msg (in the arena) saying which check failed. */
int tp__ws_check_response(const tp_ws_response *r, const char *accept,
                          const char *const *subprotocols, const tp_ws_deflate_params *want,
                          tp_arena *a, const char **subprotocol, tp_ws_deflate_params *deflate,
                          const char **msg);

#endif
