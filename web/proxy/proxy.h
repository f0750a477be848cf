/* The reverse proxy handler: a route whose requests go to an upstream HTTP/1.1 server over a
 * per-worker keep-alive pool, both bodies streamed with backpressure, hop-by-hop headers
 * removed and X-Forwarded-* added; 502 when the upstream fails, 504 when it is too slow;
 * WebSocket (any 101 Upgrade) tunnelled. See docs/proxy.md. */
#ifndef TP_WEB_PROXY_H
#define TP_WEB_PROXY_H

#include "platform/api.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct tp_app tp_app;

typedef struct tp_proxy_opts {
    /* Seconds to connect and hand the head over (0: 10); 504 beyond. */
    double connect_timeout;
    /* Seconds without upstream progress (0: 60): 504 before the response head, else the
     * client connection is closed (the response cannot end well). */
    double read_timeout;
    /* Idle keep-alive upstream connections kept per worker (0: 16). */
    size_t max_idle;
    /* A new upstream connection per request (Connection: close upstream). */
    bool no_keep_alive;
    /* Forward the client's Host (default: the upstream's host:port). */
    bool pass_host;
    /* Taken off the start of the path before forwarding, or NULL. */
    const char *strip_prefix;
} tp_proxy_opts;

/* Routes pattern (as tp_app_route) to the upstream "http://host:port[/base]": the request's
 * path, strip_prefix taken off and base put in front, goes there. The host is resolved now
 * (getaddrinfo, first address; a numeric host needs no DNS). opts NULL: the defaults. 0,
 * -EINVAL for a bad URL or pattern (logged), -EHOSTUNREACH when the host does not resolve. */
TP_API int tp_proxy_route(tp_app *app, const char *pattern, const char *upstream_url,
                          const tp_proxy_opts *opts);

/* Counters of the upstream of a proxy route (for tests and stats): connections made and
 * requests sent on a reused one. -ENOENT when pattern is no proxy route of app. */
TP_API int tp_proxy_stats(tp_app *app, const char *pattern, unsigned long *connects,
                          unsigned long *reuses);

#endif
