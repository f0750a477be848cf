/* HTTP/2 (RFC 9113) with libnghttp2: cleartext with prior knowledge, or any stream handed over
 * after ALPN "h2". Each HTTP/2 stream is a tp_request for the server's usual delegate; the
 * response calls of http/request.h work on it. See docs/http2.md. */
#ifndef TP_HTTP_H2_H
#define TP_HTTP_H2_H

#include "platform/api.h"

#include <stdbool.h>
#include <stddef.h>

#include "core/slice.h"

/* The HTTP/2 settings and limits, part of tp_http_server_opts (its `h2` member). */
typedef struct tp_h2_opts {
    bool http2;                    /* serve HTTP/2 (prior knowledge, and ALPN when wired) */
    size_t max_concurrent_streams; /* SETTINGS_MAX_CONCURRENT_STREAMS (100) */
    size_t max_header_list_size;   /* decoded header list bound (64 KiB; 431 beyond) */
    size_t header_table_size;      /* HPACK dynamic table, both directions (4096) */
    size_t initial_window_size;    /* per-stream receive window (65535) */
    size_t connection_window_size; /* connection receive window (1 MiB) */
    size_t max_frame_size;         /* SETTINGS_MAX_FRAME_SIZE (16384) */
    size_t reset_burst;            /* RST_STREAMs a client may send at once (1000) */
    size_t reset_rate;             /* ... and per second after the burst (33) */
    double stall_timeout;          /* seconds without response progress while output waits */
} tp_h2_opts;

/* The defaults above. */
TP_API void tp_h2_opts_default(tp_h2_opts *o);

/* The option-table rows of tp_h2_opts inside a struct S at member m (spelt --http2,
 * --http2-max-concurrent-streams, ...): put TP_H2_OPTION_ROWS(S, m) in S's table. */
#define TP_H2_ROW(S, m, f, name_, t_, h_, lo, hi)                                                  \
    {                                                                                              \
        .name = name_, .type = t_, .offset = offsetof(S, m.f), .help = h_, .min = lo, .max = hi    \
    }
#define TP_H2_OPTION_ROWS(S, m)                                                                    \
    TP_H2_ROW(S, m, http2, "http2", TP_OPT_BOOL, "serve HTTP/2 (cleartext prior knowledge)", 0,    \
              0),                                                                                  \
        TP_H2_ROW(S, m, max_concurrent_streams, "http2_max_concurrent_streams", TP_OPT_SIZE,       \
                  "HTTP/2 streams open at once per connection", 1, 1 << 20),                       \
        TP_H2_ROW(S, m, max_header_list_size, "http2_max_header_list_size", TP_OPT_SIZE,           \
                  "HTTP/2 decoded request header bytes (431 beyond)", 256, 1 << 24),               \
        TP_H2_ROW(S, m, header_table_size, "http2_header_table_size", TP_OPT_SIZE,                 \
                  "HPACK dynamic table size", 0, 1 << 16),                                         \
        TP_H2_ROW(S, m, initial_window_size, "http2_initial_window_size", TP_OPT_SIZE,             \
                  "HTTP/2 per-stream receive window", 1, 2147483647),                              \
        TP_H2_ROW(S, m, connection_window_size, "http2_connection_window_size", TP_OPT_SIZE,       \
                  "HTTP/2 connection receive window", 65535, 2147483647),                          \
        TP_H2_ROW(S, m, max_frame_size, "http2_max_frame_size", TP_OPT_SIZE,                       \
                  "largest HTTP/2 frame payload accepted", 16384, 16777215),                       \
        TP_H2_ROW(S, m, reset_burst, "http2_reset_burst", TP_OPT_SIZE,                             \
                  "RST_STREAM frames a client may send in a burst (Rapid Reset)", 1, 1 << 20),     \
        TP_H2_ROW(S, m, reset_rate, "http2_reset_rate", TP_OPT_SIZE,                               \
                  "RST_STREAM frames per second after the burst", 1, 1 << 20),                     \
        TP_H2_ROW(S, m, stall_timeout, "http2_stall_timeout", TP_OPT_DOUBLE,                       \
                  "seconds an HTTP/2 response may wait on a closed window", 0.01, 1e6)
#define TP_H2_OPTION_COUNT 10

/* The client connection preface "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n": 1 if d starts with it,
 * TP_AGAIN if d is a shorter prefix of it, 0 otherwise. */
TP_API int tp_h2_preface(tp_slice d);

struct tp_http_server;
struct tp_stream;
/* Serves HTTP/2 on an accepted connection's stream (cleartext after the preface check, or
 * TLS after ALPN "h2"): the session owns s from now on (its data and close handlers) and
 * closes it at the end. peer_ip is the client's address as text (copied); https makes
 * request.protocol "https" (a TLS connection) unless the protocol option forces one. */
TP_API void tp_h2_serve(struct tp_http_server *srv, struct tp_stream *s, tp_slice peer_ip,
                        bool https);

#endif
