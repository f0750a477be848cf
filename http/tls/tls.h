/* TLS (OpenSSL 3) for the HTTP server: a context made from Tornado's ssl_options, the
 * non-blocking server handshake driven by the loop, and a stream transport over SSL, so that
 * HTTP/1.1 (and HTTP/2 after ALPN "h2") runs unchanged over it. See docs/tls.md. */
#ifndef TP_HTTP_TLS_H
#define TP_HTTP_TLS_H

#include "platform/api.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/loop.h"
#include "core/options.h"
#include "core/slice.h"
#include "core/stream.h"
#include "http/request.h"

struct ssl_ctx_st; /* OpenSSL's SSL_CTX */
struct ssl_st;     /* OpenSSL's SSL */

/* Tornado's ssl_options (netutil.ssl_options_to_context) as option-table fields. Strings are
 * borrowed for the call to tp_tls_ctx_new only. */
typedef struct tp_tls_opts {
    const char *certfile;        /* PEM certificate chain (required) */
    const char *keyfile;         /* PEM private key ("" or NULL: in certfile) */
    const char *ca_certs;        /* PEM CA file to verify client certificates */
    const char *cert_reqs;       /* client certificates: "none" (default), "optional", "required" */
    const char *ciphers;         /* TLS 1.2 cipher list, OpenSSL syntax ("": OpenSSL's default) */
    const char *ciphersuites;    /* TLS 1.3 suites, OpenSSL syntax ("": OpenSSL's default) */
    const char *tls_min_version; /* "1.2" (default), "1.3", "1.0", "1.1" */
    const char *tls_max_version; /* "" (newest), or as tls_min_version */
    double handshake_timeout;    /* seconds for the whole handshake (10) */
    bool ktls;                   /* offer kernel TLS to OpenSSL (true; used when the kernel can) */
} tp_tls_opts;

/* Defaults: no certificate, cert_reqs none, TLS 1.2 minimum, 10 s handshakes, kTLS on. */
TP_API void tp_tls_opts_default(tp_tls_opts *o);
/* The option table of tp_tls_opts (certfile, keyfile, ca_certs, cert_reqs, ciphers,
 * ciphersuites, tls_min_version, tls_max_version, handshake_timeout, ktls). */
TP_API extern const tp_option tp_tls_option_table[];
TP_API extern const size_t tp_tls_option_count;

/* A server TLS context: the SSL_CTX with certificate, verification, versions and ALPN.
 * Reference-counted: every connection holds one, so it may be replaced (certificates re-read)
 * while old connections finish. */
typedef struct tp_tls_ctx tp_tls_ctx;

/* A context from o, or NULL with a readable reason in err ("certfile /x.pem: no start
 * line"). The caller holds the one reference. */
TP_API tp_tls_ctx *tp_tls_ctx_new(const tp_tls_opts *o, char *err, size_t errlen);
/* Another reference. */
TP_API tp_tls_ctx *tp_tls_ctx_ref(tp_tls_ctx *ctx);
/* Drops a reference; the last one frees the context. NULL is ignored. */
TP_API void tp_tls_ctx_unref(tp_tls_ctx *ctx);
/* The OpenSSL context, for settings this API lacks (session ticket keys shared by the
 * prefork master: SSL_CTX_set_tlsext_ticket_key_evp_cb). Borrowed. */
TP_API struct ssl_ctx_st *tp_tls_ctx_ssl_ctx(tp_tls_ctx *ctx);
/* Offers "h2" in ALPN, before "http/1.1" (only for servers with an HTTP/2 hook). */
TP_API void tp_tls_ctx_set_h2(tp_tls_ctx *ctx, bool on);
/* The handshake timeout in seconds. */
TP_API double tp_tls_ctx_handshake_timeout(const tp_tls_ctx *ctx);

/* Ends a handshake: s is the stream over TLS (yours to close; NULL on failure) and status 0,
 * or -ETIMEDOUT, -EPROTO (TLS failed), -ECONNRESET (peer left), -EPROTONOSUPPORT (plain
 * HTTP: answered 400 and closed here). Runs from the loop. */
typedef void (*tp_tls_accepted_fn)(tp_stream *s, int status, void *arg);
/* Runs the server handshake on accepted socket fd (owned from now on; closed on failure)
 * from the loop, then hands over a stream made with sopts (may be NULL) and the TLS
 * transport. A plaintext HTTP request is answered "400 The plain HTTP request was sent to
 * HTTPS port" and closed. Returns 0, or -errno (fd closed, done not called). */
TP_API int tp_tls_accept(tp_tls_ctx *ctx, tp_loop *loop, int fd, const tp_stream_opts *sopts,
                         tp_tls_accepted_fn done, void *arg);
/* Ends the handshakes started with arg now (sockets closed, done not called); returns how
 * many. For an owner that goes away (a server being freed). */
TP_API size_t tp_tls_accept_cancel(void *arg);
/* Handshakes running now (in this thread). */
TP_API size_t tp_tls_handshakes_in_progress(void);

/* The stream's TLS connection (OpenSSL's SSL, borrowed), or NULL when it is not TLS. */
TP_API struct ssl_st *tp_tls_ssl(const tp_stream *s);
/* The protocol ALPN selected ("h2", "http/1.1"), or an empty slice (no ALPN, or not TLS). */
TP_API tp_slice tp_tls_alpn(const tp_stream *s);
/* "TLSv1.3", "TLSv1.2"..., or NULL when s is not TLS. */
TP_API const char *tp_tls_version(const tp_stream *s);
/* The verified client certificate's subject as one line ("/CN=alice/O=x") into buf;
 * returns its length, 0 without a certificate (or not TLS). Truncated to fit buf. */
TP_API size_t tp_tls_peer_subject(const tp_stream *s, char *buf, size_t size);
/* True when the kernel took this connection's send keys (kTLS): files go with SSL_sendfile. */
TP_API bool tp_tls_ktls_send(const tp_stream *s);

/* Counters of this thread (a worker), for tests, logs and metrics. */
typedef struct tp_tls_stats {
    uint64_t handshakes;         /* completed */
    uint64_t handshake_failures; /* TLS errors, timeouts, peers that left */
    uint64_t plaintext_rejected; /* plain HTTP answered 400 */
    uint64_t resumed;            /* completed handshakes that resumed a session */
    uint64_t ktls_file_bytes;    /* file bytes sent with SSL_sendfile (kTLS) */
    uint64_t copied_file_bytes;  /* file bytes sent with pread + SSL_write */
} tp_tls_stats;
TP_API void tp_tls_get_stats(tp_tls_stats *out);

/* Whether this kernel offers the "tls" TCP ULP (/proc/sys/net/ipv4/tcp_available_ulp); when
 * it does not, kTLS is never used and files over TLS are copied through user space. */
TP_API bool tp_tls_kernel_has_ktls(void);

/* The client certificate's subject of the connection that sent req, in req's arena, or an
 * empty slice (no certificate, or not TLS). */
TP_API tp_slice tp_http_peer_cert_subject(tp_request *req);

#endif
