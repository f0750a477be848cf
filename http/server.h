/* HTTPServer: listening sockets, accepted connections, and Tornado's server options. The
 * delegate (the web Application, or any code) sees requests through four callbacks. */
#ifndef TP_HTTP_SERVER_H
#define TP_HTTP_SERVER_H

#include "platform/api.h"

#include <stdbool.h>
#include <stddef.h>

#include "core/loop.h"
#include "core/slice.h"
#include "http/h2/h2.h"
#include "http/request.h"
#include "http/stats.h"

typedef struct tp_http_server_opts {
    bool no_keep_alive;             /* close after every response */
    bool xheaders;                  /* trust X-Real-Ip / X-Forwarded-For / X-Scheme */
    const char *trusted_downstream; /* comma-separated proxy IPs skipped in X-Forwarded-For */
    const char *protocol;           /* force request.protocol ("https" behind a TLS proxy) */
    bool proxy_protocol;            /* a PROXY header (v1/v2) starts every connection */
    double proxy_protocol_timeout;  /* seconds to receive it (10 s) */
    bool decompress_request;        /* gunzip bodies sent with Content-Encoding: gzip */
    size_t chunk_size;              /* read size and largest data_received chunk (64 KiB) */
    size_t max_header_size;         /* start line + headers (64 KiB; 431 beyond) */
    size_t max_uri_size;            /* request-target (8 KiB; 414 beyond) */
    size_t max_headers;             /* header lines (100; 431 beyond) */
    size_t max_body_size;           /* request body (100 MiB; 413 beyond) */
    size_t max_buffer_size;         /* stream read buffer (100 MiB) */
    double idle_connection_timeout; /* wait for a complete head, idle time included (3600 s) */
    double body_timeout;            /* time to read a body; 0 = none */
    double linger;                  /* after a closing response, drain input this long (5 s) */
    struct tp_tls_ctx *tls;         /* serve TLS with this context (http/tls/tls.h); the
                                       server holds a reference. NULL: plain HTTP */
    tp_h2_opts h2;                  /* HTTP/2 (http/h2/h2.h) */
} tp_http_server_opts;

typedef struct tp_http_delegate {
    /* The head is complete and valid. Set req->stream_body to get the body in chunks. May
     * respond at once (then the body is not read and the connection closes afterwards).
     * Return TP_OK, or TP_ERROR to have the server answer 500. */
    int (*headers_received)(tp_request *req, void *ctx);
    /* A piece of a streamed body (at most chunk_size bytes). TP_OK, or TP_ERROR: 400. */
    int (*data_received)(tp_request *req, tp_slice chunk, void *ctx);
    /* The body is complete: produce the response now or later, ending in tp_http_finish. */
    void (*request_complete)(tp_request *req, void *ctx);
    /* The client went away before the response was finished: a reset or failed write (the
     * response's writes are dropped from then on), or a FIN (a half-closed client still gets
     * what is written). Once per request; tp_http_finish is still due. */
    void (*connection_closed)(tp_request *req, void *ctx);
} tp_http_delegate;

typedef struct tp_http_server tp_http_server;

/* Tornado's defaults. */
TP_API void tp_http_server_opts_default(tp_http_server_opts *o);
/* A server on loop that hands requests to delegate (copied) with ctx; opts NULL = defaults.
 * Free with tp_http_server_free. */
TP_API tp_http_server *tp_http_server_new(tp_loop *loop, const tp_http_delegate *delegate,
                                          void *ctx, const tp_http_server_opts *opts);
/* Binds address:port (NULL = all interfaces; port 0 = any free port) and serves it. Returns
 * the bound port or -errno. */
TP_API int tp_http_server_listen(tp_http_server *srv, const char *address, int port);
/* Serves an already listening socket (from the prefork master or LISTEN_FDS); the server
 * owns it. 0 or -errno. */
TP_API int tp_http_server_add_socket(tp_http_server *srv, int fd);
/* Like tp_http_server_add_socket for a listening socket shared with other processes: each
 * accept wakes one of them only (EPOLLEXCLUSIVE), re-armed every 16 accepts so the load
 * spreads. 0 or -errno. */
TP_API int tp_http_server_add_shared_socket(tp_http_server *srv, int fd);
/* Graceful drain: stops accepting, answers each connection's next request with Connection:
 * close, closes connections still idle after idle_grace seconds, and calls done(srv, arg)
 * (from the loop) once no connection is left. */
TP_API void tp_http_server_drain(tp_http_server *srv, double idle_grace,
                                 void (*done)(tp_http_server *srv, void *arg), void *arg);
/* Requests received so far. */
TP_API unsigned long tp_http_server_requests(const tp_http_server *srv);
/* Stops accepting (listening sockets are closed); open connections are untouched. */
TP_API void tp_http_server_stop(tp_http_server *srv);
/* Closes every connection now (in-flight requests get connection_closed). */
TP_API void tp_http_server_close_all(tp_http_server *srv);
/* Open connections. */
TP_API size_t tp_http_server_connections(const tp_http_server *srv);
/* Frees the server: stops it and closes every connection. */
TP_API void tp_http_server_free(tp_http_server *srv);
TP_API const tp_http_server_opts *tp_http_server_options(const tp_http_server *srv);
/* Counts finished requests into stats (which must outlive the server) from now on, instead of
 * the server's own counters; NULL goes back to those. */
TP_API void tp_http_server_set_stats(tp_http_server *srv, tp_http_stats *stats);
/* The counters requests are counted into. */
TP_API const tp_http_stats *tp_http_server_stats(const tp_http_server *srv);

#include "core/options.h"
/* The option table of tp_http_server_opts (for command lines and config files). */
TP_API extern const tp_option tp_http_server_option_table[];
TP_API extern const size_t tp_http_server_option_count;

#endif
