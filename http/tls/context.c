/* The server TLS context: Tornado's ssl_options turned into an SSL_CTX, and ALPN. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/alloc.h"
#include "core/log.h"
#include "http/tls/tls_internal.h"

void tp_tls_opts_default(tp_tls_opts *o)
{
    *o = (tp_tls_opts){
        .certfile = "",
        .keyfile = "",
        .ca_certs = "",
        .cert_reqs = "none",
        .ciphers = "",
        .ciphersuites = "",
        .tls_min_version = "1.2",
        .tls_max_version = "",
        .handshake_timeout = 10,
        .ktls = true,
    };
}

#define OPT(n_, t_, h_, lo, hi) TP_OPTION(tp_tls_opts, n_, t_, h_, .min = lo, .max = hi)
const tp_option tp_tls_option_table[] = {
    OPT(certfile, TP_OPT_STRING, "PEM certificate (chain): serve HTTPS", 0, 0),
    OPT(keyfile, TP_OPT_STRING, "PEM private key (empty: in certfile)", 0, 0),
    OPT(ca_certs, TP_OPT_STRING, "PEM CA certificates that verify client certificates", 0, 0),
    OPT(cert_reqs, TP_OPT_STRING, "client certificates: none, optional or required", 0, 0),
    OPT(ciphers, TP_OPT_STRING, "TLS 1.2 cipher list (OpenSSL syntax)", 0, 0),
    OPT(ciphersuites, TP_OPT_STRING, "TLS 1.3 cipher suites (OpenSSL syntax)", 0, 0),
    OPT(tls_min_version, TP_OPT_STRING, "oldest TLS version: 1.0, 1.1, 1.2 or 1.3", 0, 0),
    OPT(tls_max_version, TP_OPT_STRING, "newest TLS version (empty: newest there is)", 0, 0),
    OPT(handshake_timeout, TP_OPT_DOUBLE, "seconds for a TLS handshake", 0.001, 3600),
    OPT(ktls, TP_OPT_BOOL, "let OpenSSL hand the keys to the kernel (kTLS) when it can", 0, 0),
};
const size_t tp_tls_option_count = sizeof(tp_tls_option_table) / sizeof(tp_tls_option_table[0]);

static bool empty(const char *s)
{
    return !s || !*s;
}

/* "what: reason" with OpenSSL's last error as the reason (or `fallback`). Returns -1. */
static int fail(char *err, size_t errlen, const char *what, const char *fallback)
{
    unsigned long e = ERR_peek_last_error();
    const char *reason = e ? ERR_reason_error_string(e) : NULL;
    snprintf(err, errlen, "%s: %s", what, reason ? reason : fallback);
    ERR_clear_error();
    return -1;
}

/* "1.2" or "TLSv1.2" to TLS1_2_VERSION; "" to 0 (no bound); -1 if unknown. */
static int parse_version(const char *v)
{
    static const struct {
        const char *name;
        int version;
    } names[] = {{"1.0", TLS1_VERSION},
                 {"1.1", TLS1_1_VERSION},
                 {"1.2", TLS1_2_VERSION},
                 {"1.3", TLS1_3_VERSION}};
    if (empty(v))
        return 0;
    if (!strncasecmp(v, "TLSv", 4))
        v += 4;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcmp(v, names[i].name) || (!strcmp(v, "1") && names[i].version == TLS1_VERSION))
            return names[i].version;
    return -1;
}

/* "none", "optional", "required" (or Python's CERT_NONE...) to SSL_VERIFY_* flags; -1. */
static int parse_cert_reqs(const char *v)
{
    if (empty(v))
        return SSL_VERIFY_NONE;
    if (!strncasecmp(v, "CERT_", 5))
        v += 5;
    if (!strcasecmp(v, "none"))
        return SSL_VERIFY_NONE;
    if (!strcasecmp(v, "optional"))
        return SSL_VERIFY_PEER;
    if (!strcasecmp(v, "required"))
        return SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    return -1;
}

static int load_identity(SSL_CTX *c, const tp_tls_opts *o, char *err, size_t errlen)
{
    const char *key = empty(o->keyfile) ? o->certfile : o->keyfile;
    char what[512];
    if (empty(o->certfile)) {
        snprintf(err, errlen, "certfile: required for TLS");
        return -1;
    }
    snprintf(what, sizeof(what), "certfile %s", o->certfile);
    if (SSL_CTX_use_certificate_chain_file(c, o->certfile) != 1)
        return fail(err, errlen, what, strerror(errno));
    snprintf(what, sizeof(what), "keyfile %s", key);
    if (SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) != 1)
        return fail(err, errlen, what, strerror(errno));
    if (SSL_CTX_check_private_key(c) != 1)
        return fail(err, errlen, what, "does not match the certificate");
    return 0;
}

static int set_verify(SSL_CTX *c, const tp_tls_opts *o, char *err, size_t errlen)
{
    int mode = parse_cert_reqs(o->cert_reqs);
    char what[512];
    if (mode < 0) {
        snprintf(err, errlen, "cert_reqs %s: use none, optional or required", o->cert_reqs);
        return -1;
    }
    if (mode != SSL_VERIFY_NONE && empty(o->ca_certs)) {
        snprintf(err, errlen, "cert_reqs %s: needs ca_certs", o->cert_reqs);
        return -1;
    }
    if (!empty(o->ca_certs)) {
        snprintf(what, sizeof(what), "ca_certs %s", o->ca_certs);
        if (SSL_CTX_load_verify_locations(c, o->ca_certs, NULL) != 1)
            return fail(err, errlen, what, strerror(errno));
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->ca_certs);
        if (names)
            SSL_CTX_set_client_CA_list(c, names);
    }
    SSL_CTX_set_verify(c, mode, NULL);
    return 0;
}

static int set_protocols(SSL_CTX *c, const tp_tls_opts *o, char *err, size_t errlen)
{
    int lo = parse_version(o->tls_min_version), hi = parse_version(o->tls_max_version);
    if (lo < 0 || hi < 0) {
        snprintf(err, errlen, "tls_%s_version %s: use 1.0, 1.1, 1.2 or 1.3", lo < 0 ? "min" : "max",
                 lo < 0 ? o->tls_min_version : o->tls_max_version);
        return -1;
    }
    if (SSL_CTX_set_min_proto_version(c, lo) != 1 || SSL_CTX_set_max_proto_version(c, hi) != 1)
        return fail(err, errlen, "tls version", "not supported");
    if (!empty(o->ciphers) && SSL_CTX_set_cipher_list(c, o->ciphers) != 1)
        return fail(err, errlen, "ciphers", "no cipher matches");
    if (!empty(o->ciphersuites) && SSL_CTX_set_ciphersuites(c, o->ciphersuites) != 1)
        return fail(err, errlen, "ciphersuites", "no cipher suite matches");
    return 0;
}

/* The server's preference: h2 (when on), then http/1.1. A client offering neither gets no
 * ALPN answer and HTTP/1.1, as Python's ssl and curl expect. */
static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    const tp_tls_ctx *ctx = arg;
    static const unsigned char both[] = "\x02h2\x08http/1.1", h1[] = "\x08http/1.1";
    const unsigned char *ours = ctx->h2 ? both : h1;
    unsigned int n = ctx->h2 ? sizeof(both) - 1 : sizeof(h1) - 1;
    unsigned char *sel;
    if (SSL_select_next_proto(&sel, outlen, ours, n, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

static void configure(SSL_CTX *c, tp_tls_ctx *ctx, const tp_tls_opts *o)
{
    static const unsigned char sid[] = "tornado-prefork";
    uint64_t opts = SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                    SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION;
    if (o->ktls)
        opts |= SSL_OP_ENABLE_KTLS;
    SSL_CTX_set_options(c, opts);
    SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_id_context(c, sid, sizeof(sid) - 1);
    SSL_CTX_set_read_ahead(c, 1);
    SSL_CTX_set_alpn_select_cb(c, select_alpn, ctx);
}

tp_tls_ctx *tp_tls_ctx_new(const tp_tls_opts *o, char *err, size_t errlen)
{
    ERR_clear_error();
    SSL_CTX *c = SSL_CTX_new(TLS_server_method());
    if (!c) {
        fail(err, errlen, "SSL_CTX_new", "failed");
        return NULL;
    }
    tp_tls_ctx *ctx = tp_calloc(1, sizeof(*ctx));
    ctx->ssl_ctx = c;
    ctx->refs = 1;
    ctx->handshake_timeout = o->handshake_timeout > 0 ? o->handshake_timeout : 10;
    configure(c, ctx, o);
    if (set_protocols(c, o, err, errlen) < 0 || load_identity(c, o, err, errlen) < 0 ||
        set_verify(c, o, err, errlen) < 0) {
        tp_tls_ctx_unref(ctx);
        return NULL;
    }
    tp__tls_log_ktls_once(o->ktls);
    return ctx;
}

tp_tls_ctx *tp_tls_ctx_ref(tp_tls_ctx *ctx)
{
    ctx->refs++;
    return ctx;
}

void tp_tls_ctx_unref(tp_tls_ctx *ctx)
{
    if (!ctx || --ctx->refs > 0)
        return;
    SSL_CTX_free(ctx->ssl_ctx);
    tp_free(ctx);
}

struct ssl_ctx_st *tp_tls_ctx_ssl_ctx(tp_tls_ctx *ctx)
{
    return ctx->ssl_ctx;
}

void tp_tls_ctx_set_h2(tp_tls_ctx *ctx, bool on)
{
    ctx->h2 = on;
}

double tp_tls_ctx_handshake_timeout(const tp_tls_ctx *ctx)
{
    return ctx->handshake_timeout;
}
