/* The non-blocking server handshake: driven by the loop, bounded by a timeout, with plain
 * HTTP on the TLS port answered 400 at once (as nginx does) instead of a hang. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/alloc.h"
#include "core/log.h"
#include "http/tls/tls_internal.h"

/* How long a rejected plain-HTTP client has to read the 400 before the socket closes. */
#define PLAIN_LINGER 2.0

static const char plain_answer[] = "HTTP/1.1 400 Bad Request\r\n"
                                   "Content-Type: text/plain; charset=UTF-8\r\n"
                                   "Content-Length: 45\r\n"
                                   "Connection: close\r\n\r\n"
                                   "The plain HTTP request was sent to HTTPS port";

/* One handshake in progress, in the thread's list until it ends (done, failed, cancelled). */
typedef struct handshake {
    struct handshake *prev, *next;
    tp__tls_conn *t;
    tp_loop *loop;
    int fd;
    bool checked; /* the first byte was looked at */
    bool plain;   /* plain HTTP was answered: draining its input until EOF or the linger */
    tp_timer timer;
    tp_stream_opts sopts;
    tp_tls_accepted_fn done;
    void *arg;
} handshake;

static __thread struct {
    handshake *head;
    size_t n;
} pending;

static void unlink_hs(handshake *h)
{
    if (h->prev)
        h->prev->next = h->next;
    else
        pending.head = h->next;
    if (h->next)
        h->next->prev = h->prev;
    pending.n--;
}

void tp__tls_conn_free(tp__tls_conn *t)
{
    SSL_free(t->ssl);
    tp_tls_ctx_unref(t->ctx);
    tp_free(t);
}

/* Plain HTTP: the 400 (a fresh socket takes it whole), then the request is drained until the
 * client's FIN or PLAIN_LINGER, so that closing does not reset the answer away. The
 * handshake stays listed meanwhile (a cancel or a drain sees it). */
static void answer_plain(handshake *h)
{
    tp__tls_stats.plaintext_rejected++;
    tp__tls_conn_free(h->t);
    h->t = NULL;
    h->plain = true;
    if (send(h->fd, plain_answer, sizeof(plain_answer) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ||
        shutdown(h->fd, SHUT_WR) < 0) {
        tp_log_debug("plain HTTP on the TLS port: %s", strerror(errno));
    }
    tp_loop_update_fd(h->loop, h->fd, TP_READ);
    tp_timer_start_at(h->loop, &h->timer, tp_loop_time(h->loop) + PLAIN_LINGER);
}

/* The end without a stream: the socket closes, then the owner hears. */
static void hs_fail(handshake *h, int status)
{
    if (status == -EPROTONOSUPPORT && !h->plain) {
        answer_plain(h);
        return;
    }
    unlink_hs(h);
    tp_loop_remove_fd(h->loop, h->fd);
    tp_timer_stop(h->loop, &h->timer);
    if (h->t)
        tp__tls_conn_free(h->t);
    if (!h->plain)
        tp__tls_stats.handshake_failures++;
    close(h->fd);
    tp_tls_accepted_fn done = h->done;
    void *arg = h->arg;
    tp_free(h);
    if (done)
        done(NULL, status, arg);
}

static void hs_succeed(handshake *h)
{
    unlink_hs(h);
    tp_loop_remove_fd(h->loop, h->fd);
    tp_timer_stop(h->loop, &h->timer);
    tp__tls_conn *t = h->t;
    t->ktls_send = BIO_get_ktls_send(SSL_get_wbio(t->ssl)) == 1;
    tp__tls_stats.handshakes++;
    if (SSL_session_reused(t->ssl))
        tp__tls_stats.resumed++;
    tp_stream *s = tp_stream_new(h->loop, h->fd, &h->sopts);
    tp_stream_set_transport(s, &tp__tls_transport, t);
    tp_tls_accepted_fn done = h->done;
    void *arg = h->arg;
    tp_free(h);
    done(s, 0, arg);
}

/* 0 for a TLS record (or anything else that is not plain HTTP: OpenSSL judges it), -EAGAIN,
 * -EPROTONOSUPPORT for a request line, -ECONNRESET when the peer left. */
static int check_first_byte(int fd)
{
    unsigned char b;
    ssize_t n = recv(fd, &b, 1, MSG_PEEK);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? -EAGAIN : -ECONNRESET;
    if (n == 0)
        return -ECONNRESET;
    return b >= 'A' && b <= 'Z' ? -EPROTONOSUPPORT : 0;
}

static void drive(handshake *h)
{
    ERR_clear_error();
    int r = SSL_do_handshake(h->t->ssl);
    if (r == 1) {
        hs_succeed(h);
        return;
    }
    int e = SSL_get_error(h->t->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        tp_loop_update_fd(h->loop, h->fd, e == SSL_ERROR_WANT_READ ? TP_READ : TP_WRITE);
        return;
    }
    unsigned long err = ERR_get_error();
    tp_log_debug("TLS handshake failed: %s",
                 err ? ERR_reason_error_string(err) : "the peer closed the connection");
    ERR_clear_error();
    hs_fail(h, e == SSL_ERROR_SSL ? -EPROTO : -ECONNRESET);
}

static void drain_plain(handshake *h)
{
    char buf[4096];
    ssize_t n = read(h->fd, buf, sizeof(buf));
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        hs_fail(h, -EPROTONOSUPPORT);
}

static void hs_event(tp_loop *loop, int fd, unsigned events, void *arg)
{
    (void)loop, (void)events;
    handshake *h = arg;
    if (h->plain) {
        drain_plain(h);
        return;
    }
    if (!h->checked) {
        int r = check_first_byte(fd);
        if (r == -EAGAIN)
            return;
        if (r < 0) {
            hs_fail(h, r);
            return;
        }
        h->checked = true;
    }
    drive(h);
}

static void hs_timeout(tp_loop *loop, void *arg)
{
    (void)loop;
    handshake *h = arg;
    if (!h->plain)
        tp_log_debug("TLS handshake timed out");
    hs_fail(h, h->plain ? -EPROTONOSUPPORT : -ETIMEDOUT);
}

int tp_tls_accept(tp_tls_ctx *ctx, tp_loop *loop, int fd, const tp_stream_opts *sopts,
                  tp_tls_accepted_fn done, void *arg)
{
    int fl = fcntl(fd, F_GETFL);
    SSL *ssl = SSL_new(ctx->ssl_ctx);
    if (!ssl || fl < 0 || SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        close(fd);
        ERR_clear_error();
        return fl < 0 ? -EBADF : -ENOMEM;
    }
    if (!(fl & O_NONBLOCK))
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    SSL_set_accept_state(ssl);
    tp__tls_conn *t = tp_calloc(1, sizeof(*t));
    t->ssl = ssl;
    t->ctx = tp_tls_ctx_ref(ctx);
    handshake *h = tp_calloc(1, sizeof(*h));
    *h =
        (handshake){.next = pending.head, .t = t, .loop = loop, .fd = fd, .done = done, .arg = arg};
    if (sopts)
        h->sopts = *sopts;
    if (pending.head)
        pending.head->prev = h;
    pending.head = h;
    pending.n++;
    tp_timer_init(&h->timer, hs_timeout, h);
    tp_timer_start_at(loop, &h->timer, tp_loop_time(loop) + ctx->handshake_timeout);
    tp_loop_add_fd(loop, fd, TP_READ, hs_event, h);
    return 0;
}

size_t tp_tls_accept_cancel(void *arg)
{
    size_t n = 0;
    for (handshake *h = pending.head, *next; h; h = next) {
        next = h->next;
        if (h->arg == arg) {
            h->done = NULL;
            hs_fail(h, -ECANCELED);
            n++;
        }
    }
    return n;
}

size_t tp_tls_handshakes_in_progress(void)
{
    return pending.n;
}
