/* HTTPServerRequest: one request as the server hands it to its delegate (the web layer or a
 * plain callback), and the calls that write its response. Everything in it lives in the
 * request's arena and is freed in one go once the response is finished. */
#ifndef TP_HTTP_REQUEST_H
#define TP_HTTP_REQUEST_H

#include "platform/api.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/arena.h"
#include "core/slice.h"
#include "http/headers.h"

typedef struct tp_http_conn tp_http_conn;

typedef struct tp_request {
    tp_arena arena;      /* per-request memory: freed when the response is finished */
    tp_slice method;     /* "GET" */
    tp_slice uri;        /* request-target as sent: "/path?query" */
    tp_slice path;       /* uri before the first '?' (still percent-encoded) */
    tp_slice query;      /* uri after the first '?' ("" if none) */
    tp_slice version;    /* "HTTP/1.1" or "HTTP/1.0" */
    int version_minor;   /* 1 or 0 */
    tp_headers headers;  /* request headers */
    tp_slice body;       /* the whole body, unless the delegate streams it */
    tp_slice remote_ip;  /* peer address, or the proxy's client with xheaders */
    tp_slice protocol;   /* "http" or "https" */
    tp_slice host;       /* Host header (or "127.0.0.1" for HTTP/1.0 without one) */
    tp_slice host_name;  /* host, lowercased, without the port */
    double start_time;   /* loop time when the head was complete */
    tp_http_conn *conn;  /* the connection (opaque) */
    void *delegate_data; /* the delegate's own per-request state */
    bool stream_body;    /* set by headers_received: body goes to data_received in chunks */
    int status;          /* response status once the head is written (0 before) */
    uint64_t bytes_out;  /* response body bytes written so far */
    const struct tp_request_ops *ops; /* NULL for HTTP/1.x; else (HTTP/2) the response calls */
} tp_request;

/* Tornado's HTTP1Connection.detach: the connection's stream, handed over (with any bytes the
 * client sent after this request still buffered in it) for the caller to use and close; the
 * HTTP layer forgets it. Finish the request afterwards (its writes are dropped). NULL if the
 * response was started or the client is gone. */
struct tp_stream;
TP_API struct tp_stream *tp_http_detach(tp_request *req);
/* The end of an Upgrade (a WebSocket's 101): writes the head (status, reason NULL-slice for
 * the standard one, headers as given, Date when they lack it; nothing of the body framing)
 * and detaches the stream as tp_http_detach does. NULL, with nothing written, if the
 * response was started or the client is gone. */
TP_API struct tp_stream *tp_http_upgrade(tp_request *req, int status, tp_slice reason,
                                         const tp_headers *headers);

/* Starts the response. Chunked framing is chosen when the request is HTTP/1.1, not HEAD, the
 * status allows a body and headers has no Content-Length. Date is added when headers lack
 * it, and Connection as keep-alive requires. reason NULL-slice: the standard phrase.
 * Returns 0, -EALREADY if the head was already written, -EINVAL for an invalid reason or
 * Content-Length, or -EPIPE once the client is gone. */
TP_API int tp_http_write_head(tp_request *req, int status, tp_slice reason,
                              const tp_headers *headers);
/* Writes body bytes (copied; framed as a chunk when chunked). Bodies of HEAD, 204 and 304
 * responses are dropped. More bytes than a declared Content-Length: -EMSGSIZE and the
 * connection is closed after the response. -EPIPE once the client is gone. */
TP_API int tp_http_write_body(tp_request *req, const void *p, size_t n);
/* Queues n bytes of file fd from off, sent with sendfile (pread-framed when chunked: chunked
 * responses copy). With close_fd the fd is closed afterwards, also on error. */
TP_API int tp_http_sendfile(tp_request *req, int fd, off_t off, size_t n, bool close_fd);
/* Ends the response; the request (and its arena) is freed, so req must not be used after.
 * Safe after the client went away. */
TP_API void tp_http_finish(tp_request *req);
/* True once the client went away: writes are dropped, only tp_http_finish remains to do. */
TP_API bool tp_http_client_gone(const tp_request *req);
/* Bytes written to the client's socket so far are not tracked; this tells whether the
 * response head went out already (true after tp_http_write_head). */
TP_API bool tp_http_head_written(const tp_request *req);
/* For proxies and other streaming delegates. tp_http_pause_body stops reading a streamed
 * body (data_received pauses after the bytes already read, at most a read's worth) until
 * tp_http_resume_body. No-ops once the body is complete or the client is gone. */
TP_API void tp_http_pause_body(tp_request *req);
TP_API void tp_http_resume_body(tp_request *req);
/* Response bytes queued for the client and not yet in the kernel. */
TP_API size_t tp_http_output_pending(const tp_request *req);
/* fn(stream, status, arg) fires from the loop once the response bytes queued so far are in
 * the kernel (status 0), or with -errno when the client went away first; arg must live until
 * then. 0, or -EPIPE (fn will not fire) when the client is gone. */
TP_API int tp_http_when_drained(tp_request *req,
                                void (*fn)(struct tp_stream *s, int status, void *arg), void *arg);
/* The response cannot be completed (a proxy's upstream broke off mid-body): the connection is
 * closed now, without a chunked terminator, so the client sees a truncated response and not
 * a complete one. connection_closed is not called for it; tp_http_finish is still due. */
TP_API void tp_http_abort(tp_request *req);
/* True when req came through a server with xheaders on (its X-Real-Ip, X-Forwarded-* fields
 * are trusted). */
TP_API bool tp_http_xheaders(const tp_request *req);
/* The peer's address as text (the socket's, even when xheaders replaced remote_ip), in the
 * request arena. */
TP_API tp_slice tp_http_peer_ip(tp_request *req);
/* Standard reason phrase of a status code, or "Unknown". */
TP_API const char *tp_http_reason(int status);

#endif
