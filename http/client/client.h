/* tornado.httpclient over libcurl: the multi interface driven by a tp_loop's fds and timers
 * (no thread per request), max_clients with a FIFO queue, libcurl's connection pool kept
 * across fetches. One tp_http_client per loop. See docs/httpclient.md. */
#ifndef TP_HTTP_CLIENT_CLIENT_H
#define TP_HTTP_CLIENT_CLIENT_H

#include "platform/api.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/async/future.h"
#include "core/loop.h"
#include "core/slice.h"
#include "http/headers.h"

typedef struct tp_http_client tp_http_client;

/* Client-wide settings (AsyncHTTPClient's constructor arguments). Zero fields take defaults. */
typedef struct tp_http_client_opts {
    int max_clients;      /* fetches running at once; 0 = 10; the rest wait in a FIFO queue */
    size_t max_body_size; /* largest (decompressed) body kept; 0 = 100 MiB; more -> 599 */
    const char *default_user_agent; /* NULL = "tornado-prefork/0.1" */
} tp_http_client_opts;

/* Called with each body chunk as it arrives (the response body then stays empty). */
typedef void (*tp_http_chunk_fn)(tp_slice chunk, void *arg);
/* Called with each raw header line, the status line and the final "\r\n" included. */
typedef void (*tp_http_header_fn)(tp_slice line, void *arg);
/* Streamed upload: fills up to n bytes of buf; returns the count, 0 at the end, < 0 to abort
 * the request (it completes with 599). Runs inside the client; must not block. */
typedef ssize_t (*tp_http_body_fn)(char *buf, size_t n, void *arg);

/* HTTPRequest. Start from tp_http_request_init (or TP_HTTP_REQUEST_INIT), which sets
 * Tornado's defaults; a zero-filled struct means: no redirects followed, no certificate check,
 * no decompression, HTTP error codes are not errors. Every pointer is read during
 * tp_http_fetch only (strings, headers and body are copied), except the callback args. */
typedef struct tp_http_request {
    const char *url;
    const char *method; /* NULL = GET */
    const tp_headers *headers;
    tp_slice body;                           /* p == NULL: no body (body_producer may give one) */
    double connect_timeout, request_timeout; /* 0 = 20 s */
    bool follow_redirects;
    int max_redirects; /* 0 = 5; < 0 = no redirect allowed */
    /* --- Tornado's other HTTPRequest fields --- */
    tp_http_body_fn body_producer; /* streamed upload (chunked unless body_size >= 0) */
    ssize_t body_size;             /* size the producer will give, or -1 = unknown */
    void *body_producer_arg;
    const char *auth_username, *auth_password;
    const char *auth_mode; /* "basic" (NULL) or "digest" */
    const char *proxy_host;
    int proxy_port;
    const char *proxy_username, *proxy_password;
    const char *proxy_auth_mode; /* "basic" (NULL) or "digest" */
    bool validate_cert;
    const char *ca_certs;                 /* PEM file of trusted CAs; NULL = system store */
    const char *client_cert, *client_key; /* PEM files */
    bool decompress_response; /* ask for gzip and inflate it (max_body_size bounds it) */
    tp_http_chunk_fn streaming_callback;
    void *streaming_arg;
    tp_http_header_fn header_callback;
    void *header_arg;
    double if_modified_since;       /* unix time; > 0 adds If-Modified-Since */
    const char *user_agent;         /* NULL = the client's default */
    bool allow_nonstandard_methods; /* any method, with or without a body */
    const char *network_interface;  /* local interface or address to connect from */
    bool expect_100_continue;       /* send "Expect: 100-continue" before the body */
    bool raise_error;               /* HTTP codes >= 300 (after redirects) set error */
    bool allow_ipv6;                /* false: IPv4 only (Tornado's default is true) */
} tp_http_request;

#define TP_HTTP_REQUEST_INIT                                                                       \
    {                                                                                              \
        .follow_redirects = true, .max_redirects = 5, .validate_cert = true,                       \
        .decompress_response = true, .raise_error = true, .allow_ipv6 = true, .body_size = -1      \
    }

/* Fills *req with Tornado's defaults for url (follow redirects, validate certificates,
 * decompress, raise on HTTP errors). */
TP_API void tp_http_request_init(tp_http_request *req, const char *url);

/* Seconds from the start of the fetch (pycurl's time_info). */
typedef struct tp_http_time_info {
    double queue; /* time spent in the max_clients queue */
    double namelookup, connect, appconnect, pretransfer, starttransfer, total, redirect;
} tp_http_time_info;

/* HTTPResponse. Everything it points to belongs to it (freed with it). */
typedef struct tp_http_response {
    int code;            /* 599 on network failure */
    const char *reason;  /* the status line's reason, or "Unknown" */
    tp_headers *headers; /* of the last response, every field (repeated ones too) */
    tp_slice body;
    const char *effective_url; /* after redirects */
    double request_time;       /* seconds, queue included */
    int error;                 /* 0, or -errno / TP_* (TP_ERROR for an HTTP error code) */
    const char *error_message; /* NULL when error == 0; "HTTP 404: Not Found", "Timeout ..." */
    /* --- more --- */
    tp_http_time_info time_info;
    double start_time; /* wall clock (time(2)-like, fractional) when the fetch was made */
    const char *url;   /* the URL asked for */
    int redirects;     /* how many were followed */
} tp_http_response;

typedef void (*tp_http_done_fn)(tp_http_response *resp,
                                void *arg); /* resp freed after fn returns */

/* A client on loop (libcurl multi driven by the loop), or NULL if libcurl fails. Free it
 * with tp_http_client_free before the loop. */
TP_API tp_http_client *tp_http_client_new(tp_loop *loop, const tp_http_client_opts *opts);
/* Pending and queued fetches complete with 599 first, then the client goes. Safe from any of
 * the client's callbacks (the free then happens when the callback returns). */
TP_API void tp_http_client_free(tp_http_client *c);
/* Starts (or queues) one fetch; fn(resp, arg) runs exactly once, from the loop, never inside
 * this call. Returns 0, or -EINVAL (bad URL, or a body where the method takes none) with fn
 * never called. */
TP_API int tp_http_fetch(tp_http_client *c, const tp_http_request *req, tp_http_done_fn fn,
                         void *arg);
/* AsyncHTTPClient.fetch as a future (core/async): its result is the tp_http_response (freed
 * with the future), its error the response's error code and message (an HTTP error code when
 * raise_error, a 599's -errno; -EINVAL for a bad request). Cancelling the future stops the
 * fetch. The caller owns the returned reference (tp_future_unref). */
TP_API tp_future *tp_http_fetch_future(tp_http_client *c, const tp_http_request *req);
/* Synchronous wrapper for scripts: its own loop; caller frees with tp_http_response_free.
 * Returns 0 with *out set (check (*out)->error), or -EINVAL as tp_http_fetch. */
TP_API int tp_http_fetch_sync(const tp_http_request *req, tp_http_response **out);
/* Runs `loop` until this one fetch completes (what tornado.testing's self.fetch does); caller
 * frees. c NULL uses a client made for the call. timeout (s, 0 = none) bounds the run:
 * -ETIMEDOUT and *out NULL when it passes (the fetch is then cancelled). */
TP_API int tp_http_fetch_on_loop(tp_loop *loop, tp_http_client *c, const tp_http_request *req,
                                 double timeout, tp_http_response **out);
/* Frees a response from tp_http_fetch_sync / tp_http_fetch_on_loop (NULL is fine). */
TP_API void tp_http_response_free(tp_http_response *r);

/* For tests: connections libcurl opened so far on this client (reuse keeps it low). */
TP_API long tp_http_client_connects(const tp_http_client *c);

#endif
