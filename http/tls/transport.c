/* The stream transport over an SSL connection, and what a stream's TLS side tells. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/alloc.h"
#include "core/log.h"
#include "http/tls/tls_internal.h"

/* Small writes are gathered into one record of at most this many bytes. */
#define RECORD_BYTES (16 * 1024)

__thread tp_tls_stats tp__tls_stats;

/* Before an SSL call whose failure ssl_status reads: OpenSSL's queue and errno (an EOF leaves
 * errno alone, so a stale value would pass for the call's). */
static void clear_errors(void)
{
    ERR_clear_error();
    errno = 0;
}

/* What an SSL call that returned r <= 0 means for the stream. */
static ssize_t ssl_status(SSL *ssl, int r, bool reading)
{
    int e = SSL_get_error(ssl, r);
    switch (e) {
    case SSL_ERROR_WANT_READ: return reading ? -EAGAIN : TP_STREAM_WANT_READ;
    case SSL_ERROR_WANT_WRITE: return reading ? TP_STREAM_WANT_WRITE : -EAGAIN;
    case SSL_ERROR_ZERO_RETURN: return 0;
    case SSL_ERROR_SYSCALL:
        if (errno && errno != EAGAIN)
            return -errno;
        return reading ? 0 : -EPIPE; /* EOF without close_notify */
    default: break;
    }
    unsigned long err = ERR_get_error();
    tp_log_debug("TLS %s error: %s", reading ? "read" : "write",
                 err ? ERR_reason_error_string(err) : "unknown");
    ERR_clear_error();
    return -EPROTO;
}

/* Fills buf as far as the records already here go: SSL_read returns one record at a time. */
static ssize_t tls_read(void *arg, void *buf, size_t n)
{
    tp__tls_conn *t = arg;
    size_t got = 0;
    while (got < n) {
        clear_errors();
        int r =
            SSL_read(t->ssl, (char *)buf + got, (int)(n - got > INT32_MAX ? INT32_MAX : n - got));
        if (r <= 0) {
            ssize_t st = ssl_status(t->ssl, r, true);
            return got ? (ssize_t)got : st;
        }
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static ssize_t tls_write(tp__tls_conn *t, const void *p, size_t n)
{
    clear_errors();
    int r = SSL_write(t->ssl, p, (int)(n > INT32_MAX ? INT32_MAX : n));
    return r > 0 ? r : ssl_status(t->ssl, r, false);
}

/* SSL has no writev: a large first piece goes as it is, small ones are gathered into one
 * record (the same bytes again when a write is retried, as OpenSSL requires). */
static ssize_t tls_writev(void *arg, const struct iovec *iov, int iovcnt)
{
    static __thread char *gather;
    if (iovcnt == 1 || iov[0].iov_len >= RECORD_BYTES)
        return tls_write(arg, iov[0].iov_base, iov[0].iov_len);
    if (!gather)
        gather = tp_malloc(RECORD_BYTES);
    size_t n = 0;
    for (int i = 0; i < iovcnt && n < RECORD_BYTES; i++) {
        size_t take = iov[i].iov_len < RECORD_BYTES - n ? iov[i].iov_len : RECORD_BYTES - n;
        memcpy(gather + n, iov[i].iov_base, take);
        n += take;
    }
    return tls_write(arg, gather, n);
}

/* kTLS: the kernel encrypts the file's pages (no user-space copy). Otherwise a pread of one
 * record and SSL_write. */
static ssize_t tls_sendfile(void *arg, int fd, off_t off, size_t n)
{
    static __thread char *fbuf;
    tp__tls_conn *t = arg;
    if (t->ktls_send) {
        clear_errors();
        ossl_ssize_t r = SSL_sendfile(t->ssl, fd, off, n, 0);
        if (r > 0)
            tp__tls_stats.ktls_file_bytes += (uint64_t)r;
        return r > 0 ? (ssize_t)r : ssl_status(t->ssl, (int)r, false);
    }
    if (!fbuf)
        fbuf = tp_malloc(RECORD_BYTES);
    ssize_t got = pread(fd, fbuf, n < RECORD_BYTES ? n : RECORD_BYTES, off);
    if (got <= 0)
        return got < 0 ? -errno : -EIO; /* the file shrank under us */
    ssize_t r = tls_write(t, fbuf, (size_t)got);
    if (r > 0)
        tp__tls_stats.copied_file_bytes += (uint64_t)r;
    return r;
}

/* Read ahead (fewer read calls): whole records may wait in OpenSSL with the socket empty. */
static size_t tls_pending(void *arg)
{
    tp__tls_conn *t = arg;
    return (size_t)SSL_has_pending(t->ssl);
}

/* close_notify, once, best effort (a full socket drops it: the FIN still ends the stream). */
static void tls_shutdown(void *arg)
{
    tp__tls_conn *t = arg;
    if (t->shut)
        return;
    t->shut = true;
    ERR_clear_error();
    SSL_shutdown(t->ssl);
    ERR_clear_error();
}

static void tls_free(void *arg)
{
    tp__tls_conn_free(arg);
}

const tp_stream_transport tp__tls_transport = {
    .read = tls_read,
    .writev = tls_writev,
    .sendfile = tls_sendfile,
    .pending = tls_pending,
    .shutdown = tls_shutdown,
    .free = tls_free,
};

static tp__tls_conn *conn_of(const tp_stream *s)
{
    return tp_stream_transport_ctx(s, &tp__tls_transport);
}

struct ssl_st *tp_tls_ssl(const tp_stream *s)
{
    tp__tls_conn *t = conn_of(s);
    return t ? t->ssl : NULL;
}

tp_slice tp_tls_alpn(const tp_stream *s)
{
    tp__tls_conn *t = conn_of(s);
    const unsigned char *p = NULL;
    unsigned int n = 0;
    if (t)
        SSL_get0_alpn_selected(t->ssl, &p, &n);
    return p ? (tp_slice){(const char *)p, n} : (tp_slice){"", 0};
}

const char *tp_tls_version(const tp_stream *s)
{
    tp__tls_conn *t = conn_of(s);
    return t ? SSL_get_version(t->ssl) : NULL;
}

size_t tp_tls_peer_subject(const tp_stream *s, char *buf, size_t size)
{
    tp__tls_conn *t = conn_of(s);
    X509 *cert = t ? SSL_get0_peer_certificate(t->ssl) : NULL;
    if (!cert || !size)
        return 0;
    X509_NAME_oneline(X509_get_subject_name(cert), buf, (int)(size > INT32_MAX ? INT32_MAX : size));
    return strlen(buf);
}

bool tp_tls_ktls_send(const tp_stream *s)
{
    tp__tls_conn *t = conn_of(s);
    return t && t->ktls_send;
}

void tp_tls_get_stats(tp_tls_stats *out)
{
    *out = tp__tls_stats;
}

bool tp_tls_kernel_has_ktls(void)
{
    char buf[256] = {0};
    int fd = open("/proc/sys/net/ipv4/tcp_available_ulp", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    for (char *p = n > 0 ? strtok(buf, " \n") : NULL; p; p = strtok(NULL, " \n"))
        if (!strcmp(p, "tls"))
            return true;
    return false;
}

void tp__tls_log_ktls_once(bool ktls_wanted)
{
    static bool said;
    if (said)
        return;
    said = true;
    if (!ktls_wanted)
        tp_log_info("TLS: kTLS off (--ktls=false): files over TLS are copied (pread + SSL_write)");
    else if (!tp_tls_kernel_has_ktls())
        tp_log_info("TLS: the kernel has no kTLS (no \"tls\" in tcp_available_ulp): files over "
                    "TLS are copied (pread + SSL_write)");
    else
        tp_log_info("TLS: kTLS available: files over TLS go with SSL_sendfile where the kernel "
                    "takes the connection's cipher");
}
