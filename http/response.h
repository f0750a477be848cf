/* The response framer: the status line and headers, Content-Length or chunked bodies, and the
 * end of a response (Tornado's HTTP1Connection rules). It knows nothing of connections: it
 * turns a response into bytes and tells the connection whether it can be kept. */
#ifndef TP_HTTP_RESPONSE_H
#define TP_HTTP_RESPONSE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "http/request.h"

/* One response's framing, decided when its head is written. */
typedef struct tp_framing {
    bool head_written;
    bool chunked;     /* Transfer-Encoding: chunked */
    bool no_body;     /* HEAD, 1xx, 204, 304: body bytes are dropped */
    bool has_length;  /* Content-Length was given: length */
    bool close_after; /* the body broke its length: close after the response */
    uint64_t length;
} tp_framing;

/* Where a response stands with respect to the request and the connection. */
typedef struct tp_frame_ctx {
    bool asked_keep_alive; /* HTTP/1.0 request with Connection: keep-alive */
    bool body_unread;      /* the request body is still being read (we cannot resync) */
    bool keep_alive;       /* in: the connection may serve another request; out: still so */
} tp_frame_ctx;

/* Decides f from req, status and headers, updates ctx->keep_alive and appends the head to
 * out (Date when headers lack one, Transfer-Encoding, Connection). 0, or -EINVAL for a bad
 * Content-Length, status or reason. */
int tp__frame_head(tp_framing *f, tp_frame_ctx *ctx, const tp_request *req, int status,
                   tp_slice reason, const tp_headers *headers, tp_buf *out);
/* Checks n more body bytes against f (req->bytes_out already sent): 0 to write them (with
 * the chunk-size line *prefix of *prefix_len bytes when chunked, and "\r\n" after), 1 to
 * drop them (no body, or n == 0), -EMSGSIZE past Content-Length (logged; f->close_after). */
int tp__frame_body(tp_framing *f, const tp_request *req, size_t n, char prefix[24],
                   size_t *prefix_len);
/* The bytes that end the body ("0\r\n\r\n" when chunked, else none) in *tail; logs and sets
 * f->close_after when a declared Content-Length was not reached. */
/* Appends the head of an Upgrade response to out: status line, headers, Date when absent;
 * no framing fields. -EINVAL for a bad status or reason. */
int tp__frame_upgrade_head(int status, tp_slice reason, const tp_headers *headers, tp_buf *out);
void tp__frame_end(tp_framing *f, const tp_request *req, tp_slice *tail);
/* A response's Content-Length value (digits only, at most 19) into *out; false if it is not
 * one. Both HTTP/1.1 and HTTP/2 responses use it. */
bool tp__parse_length(tp_slice v, uint64_t *out);

#endif
