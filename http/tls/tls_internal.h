/* The TLS module's private parts, shared by context.c, transport.c and accept.c. */
#ifndef TP_HTTP_TLS_INTERNAL_H
#define TP_HTTP_TLS_INTERNAL_H

#include <openssl/ssl.h>

#include "http/tls/tls.h"

struct tp_tls_ctx {
    SSL_CTX *ssl_ctx;
    int refs; /* the owner's, and one per connection (handshaking or open) */
    bool h2;  /* ALPN offers h2 */
    double handshake_timeout;
};

/* One TLS connection: the stream transport's ctx. */
typedef struct tp__tls_conn {
    SSL *ssl;
    tp_tls_ctx *ctx; /* a reference */
    bool ktls_send;  /* the kernel took the send keys: SSL_sendfile */
    bool shut;       /* close_notify sent */
} tp__tls_conn;

/* transport.c: the stream transport over a tp__tls_conn. */
extern const tp_stream_transport tp__tls_transport;
/* accept.c: frees a connection that never got a stream. */
void tp__tls_conn_free(tp__tls_conn *t);
/* transport.c: the thread's counters. */
extern __thread tp_tls_stats tp__tls_stats;
/* transport.c: logs once per process which path files over TLS take (kTLS or a copy). */
void tp__tls_log_ktls_once(bool ktls_wanted);

#endif
