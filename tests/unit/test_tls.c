/* TLS (http/tls/tls.h): the handshake and the stream transport over a Unix socketpair, with an
 * OpenSSL client in a thread of the same process; and core/stream.c's transport seam with a
 * fake transport that waits for the other direction. Certificates come from the openssl CLI
 * in a temp dir made once per run. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/loop.h"
#include "core/stream.h"
#include "http/tls/tls.h"
#include "tests/unit/suites.h"

#define DEADLINE   30.0
#define ECHO_BYTES (3u << 20)

static char dir[64];
static char path_buf[8][128];

static const char *in_dir(int slot, const char *name)
{
    snprintf(path_buf[slot], sizeof(path_buf[slot]), "%s/%s", dir, name);
    return path_buf[slot];
}

/* A CA, a self-signed server certificate and a client certificate signed by the CA. */
static void make_certs(void)
{
    strcpy(dir, "/tmp/tp-tls-unit-XXXXXX");
    if (!mkdtemp(dir))
        abort();
    char cmd[2048];
    const char *ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2";
    snprintf(cmd, sizeof(cmd),
             "(cd %s && openssl req -x509 %s -keyout ca.key -out ca.pem -subj /CN=testca && "
             "openssl req -x509 %s -keyout key.pem -out cert.pem -subj /CN=localhost && "
             "openssl req %.55s -keyout client.key -out client.csr -subj /CN=alice && "
             "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
             "-out client.pem -days 2) >/dev/null 2>&1",
             dir, ec, ec, ec);
    if (system(cmd) != 0)
        abort();
}

static void remove_certs(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static size_t open_fds(void)
{
    size_t n = 0;
    DIR *d = opendir("/proc/self/fd");
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static unsigned char pattern[ECHO_BYTES];

static void fill_pattern(void)
{
    for (size_t i = 0; i < sizeof(pattern); i++)
        pattern[i] = (unsigned char)(i * 7 + i / 251);
}

/* ---- the server side, in the test's loop ------------------------------------------------ */

static struct {
    tp_loop *loop;
    tp_tls_ctx *ctx;
    tp_stream *s;
    int status;
    bool accepted, closed;
    size_t received;
    char alpn[16];
    char subject[128];
    void (*on_stream)(tp_stream *s); /* what the server does with its stream */
    double deadline;
    bool (*until)(void);
} S;

static void server_closed(tp_stream *s, int error, void *arg)
{
    (void)s, (void)error, (void)arg;
    S.closed = true;
    S.s = NULL;
}

static void accepted(tp_stream *s, int status, void *arg)
{
    (void)arg;
    S.accepted = true;
    S.status = status;
    S.s = s;
    if (!s)
        return;
    tp_slice a = tp_tls_alpn(s);
    snprintf(S.alpn, sizeof(S.alpn), "%.*s", TP_SLICE_FMT(a));
    tp_tls_peer_subject(s, S.subject, sizeof(S.subject));
    tp_stream_set_close_callback(s, server_closed, NULL);
    S.on_stream(s);
}

static size_t echo_data(tp_stream *s, tp_slice d, bool eof, void *arg)
{
    (void)arg;
    if (d.n)
        tp_stream_write(s, d.p, d.n, NULL, NULL);
    S.received += d.n;
    if (eof)
        tp_stream_close_after_flush(s, 0);
    return d.n;
}

static void echo(tp_stream *s)
{
    tp_stream_set_data_handler(s, echo_data, NULL);
}

static void check_until(tp_loop *loop, void *arg)
{
    (void)arg;
    if (S.until() || tp_loop_time(loop) > S.deadline)
        tp_loop_stop(loop);
    else
        tp_loop_call_later(loop, 0.001, check_until, NULL);
}

/* Runs the loop until cond() holds (fails after DEADLINE seconds). */
static void run_until(bool (*cond)(void))
{
    S.until = cond;
    S.deadline = tp_loop_time(S.loop) + DEADLINE;
    tp_loop_call_later(S.loop, 0.001, check_until, NULL);
    tp_loop_run(S.loop);
    ck_assert_msg(cond(), "condition not met within %.0f s", DEADLINE);
}

static tp_tls_ctx *new_ctx(const char *cert_reqs, double timeout)
{
    tp_tls_opts o;
    char err[256];
    tp_tls_opts_default(&o);
    o.certfile = in_dir(0, "cert.pem");
    o.keyfile = in_dir(1, "key.pem");
    o.ca_certs = in_dir(2, "ca.pem");
    o.cert_reqs = cert_reqs;
    if (timeout > 0)
        o.handshake_timeout = timeout;
    tp_tls_ctx *ctx = tp_tls_ctx_new(&o, err, sizeof(err));
    ck_assert_msg(ctx, "tp_tls_ctx_new: %s", err);
    return ctx;
}

/* ---- the client, a thread with a blocking socket ---------------------------------------- */

typedef struct client {
    int fd;
    pthread_t th;
    bool with_cert;
    bool key_update; /* asks for a key update mid-stream (the server must write to read) */
    const char *raw; /* send raw_n of these bytes instead of a TLS handshake */
    size_t raw_n;
    size_t echo_bytes;  /* write this much of pattern, then read it back */
    bool read_to_eof;   /* read everything until the server closes */
    unsigned char *got; /* what was read */
    size_t got_n;
    char alpn[16];
    atomic_int done; /* 1: finished; the result in `failed` */
    const char *failed;
} client;

static SSL *client_connect(client *c, SSL_CTX **out)
{
    SSL_CTX *cc = SSL_CTX_new(TLS_client_method());
    static const unsigned char alpn[] = "\x08http/1.1";
    SSL_CTX_set_alpn_protos(cc, alpn, sizeof(alpn) - 1);
    if (c->with_cert) {
        SSL_CTX_use_certificate_file(cc, in_dir(3, "client.pem"), SSL_FILETYPE_PEM);
        SSL_CTX_use_PrivateKey_file(cc, in_dir(4, "client.key"), SSL_FILETYPE_PEM);
    }
    SSL *ssl = SSL_new(cc);
    SSL_set_fd(ssl, c->fd);
    *out = cc;
    if (SSL_connect(ssl) != 1) {
        c->failed = "connect";
        return ssl;
    }
    const unsigned char *p;
    unsigned int n;
    SSL_get0_alpn_selected(ssl, &p, &n);
    snprintf(c->alpn, sizeof(c->alpn), "%.*s", (int)n, p ? (const char *)p : "");
    return ssl;
}

static void client_echo(client *c, SSL *ssl)
{
    for (size_t off = 0; off < c->echo_bytes && !c->failed;) {
        size_t k = c->echo_bytes - off < 100000 ? c->echo_bytes - off : 100000;
        int r = SSL_write(ssl, pattern + off, (int)k);
        if (r <= 0)
            c->failed = "write";
        off += r > 0 ? (size_t)r : 0;
        if (c->key_update && off >= c->echo_bytes / 2 && off - (size_t)r < c->echo_bytes / 2)
            SSL_key_update(ssl, SSL_KEY_UPDATE_REQUESTED);
    }
    c->got = malloc(c->echo_bytes);
    while (!c->failed && c->got_n < c->echo_bytes) {
        int r = SSL_read(ssl, c->got + c->got_n, (int)(c->echo_bytes - c->got_n));
        if (r <= 0)
            c->failed = "read";
        c->got_n += r > 0 ? (size_t)r : 0;
    }
}

static void client_read_all(client *c, SSL *ssl)
{
    size_t cap = 8u << 20;
    c->got = malloc(cap);
    for (;;) {
        int r = SSL_read(ssl, c->got + c->got_n, (int)(cap - c->got_n));
        if (r <= 0)
            break;
        c->got_n += (size_t)r;
    }
}

static void *client_main(void *arg)
{
    client *c = arg;
    if (c->raw) {
        if (write(c->fd, c->raw, c->raw_n ? c->raw_n : strlen(c->raw)) < 0)
            c->failed = "raw write";
        c->got = calloc(1, 4096);
        for (ssize_t r;
             c->got_n < 4095 && (r = read(c->fd, c->got + c->got_n, 4095 - c->got_n)) > 0;)
            c->got_n += (size_t)r;
        shutdown(c->fd, SHUT_WR);
        atomic_store(&c->done, 1);
        return NULL;
    }
    SSL_CTX *cc;
    SSL *ssl = client_connect(c, &cc);
    if (!c->failed && c->echo_bytes)
        client_echo(c, ssl);
    if (!c->failed && c->read_to_eof)
        client_read_all(c, ssl);
    if (!c->failed)
        SSL_shutdown(ssl);
    SSL_free(ssl);
    SSL_CTX_free(cc);
    shutdown(c->fd, SHUT_WR);
    atomic_store(&c->done, 1);
    return NULL;
}

/* A socketpair with small buffers (so that both sides often wait), the server's end in the
 * handshake, the client's in its thread. */
static void start(client *c, void (*on_stream)(tp_stream *))
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    int small = 8192;
    for (int i = 0; i < 2; i++) {
        setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
        setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    }
    S.on_stream = on_stream;
    c->fd = sv[1];
    ck_assert_int_eq(tp_tls_accept(S.ctx, S.loop, sv[0], NULL, accepted, NULL), 0);
    ck_assert_uint_eq(tp_tls_handshakes_in_progress(), 1);
    ck_assert_int_eq(pthread_create(&c->th, NULL, client_main, c), 0);
}

static void finish(client *c)
{
    pthread_join(c->th, NULL);
    close(c->fd);
    free(c->got);
}

static client *the_client;
static bool client_done(void)
{
    return atomic_load(&the_client->done) == 1;
}
static bool server_gone(void)
{
    return S.closed || (S.accepted && !S.s);
}
static bool both_done(void)
{
    return client_done() && server_gone();
}

static size_t fds_target;
static bool fds_back(void)
{
    return open_fds() == fds_target;
}

/* The server's end may still be closing (a plain-HTTP answer lingers until the client's FIN). */
static void assert_fds_back(size_t fds)
{
    fds_target = fds;
    run_until(fds_back);
}

static void setup(void)
{
    signal(SIGPIPE, SIG_IGN); /* the client thread writes to a server that gave up */
    memset(&S, 0, sizeof(S));
    S.loop = tp_loop_new();
}

static void teardown(void)
{
    tp_tls_ctx_unref(S.ctx);
    tp_loop_free(S.loop);
}

/* ---- the tests ------------------------------------------------------------------------- */

START_TEST(echo_both_ways)
{
    size_t fds = open_fds();
    S.ctx = new_ctx("none", 0);
    client c = {.echo_bytes = ECHO_BYTES, .key_update = true};
    the_client = &c;
    start(&c, echo);
    run_until(both_done);
    ck_assert_msg(!c.failed, "client failed at %s", c.failed);
    ck_assert_int_eq(S.status, 0);
    ck_assert_str_eq(S.alpn, "http/1.1");
    ck_assert_str_eq(c.alpn, "http/1.1");
    ck_assert_str_eq(S.subject, "");
    ck_assert_uint_eq(S.received, ECHO_BYTES);
    ck_assert_uint_eq(c.got_n, ECHO_BYTES);
    ck_assert_int_eq(memcmp(c.got, pattern, ECHO_BYTES), 0);
    finish(&c);
    assert_fds_back(fds);
}
END_TEST

/* A file through the transport: pread + SSL_write here (no kTLS in this kernel), or
 * SSL_sendfile where the kernel took the keys; either way the bytes arrive and are counted. */
static int file_fd;
static void send_file(tp_stream *s)
{
    tp_stream_write(s, "head:", 5, NULL, NULL);
    tp_stream_sendfile(s, dup(file_fd), 0, 0, true, NULL, NULL); /* an empty part */
    tp_stream_sendfile(s, file_fd, 100, ECHO_BYTES - 100, true, NULL, NULL);
    tp_stream_write(s, ":tail", 5, NULL, NULL);
    tp_stream_close_after_flush(s, 1);
}

START_TEST(sendfile_fallback)
{
    char name[] = "/tmp/tp-tls-file-XXXXXX";
    file_fd = mkstemp(name);
    ck_assert_int_ge(file_fd, 0);
    unlink(name);
    ck_assert_int_eq(write(file_fd, pattern, ECHO_BYTES), (ssize_t)ECHO_BYTES);
    tp_tls_stats before, after;
    tp_tls_get_stats(&before);
    S.ctx = new_ctx("none", 0);
    client c = {.read_to_eof = true};
    the_client = &c;
    start(&c, send_file);
    run_until(both_done);
    ck_assert_msg(!c.failed, "client failed at %s", c.failed);
    ck_assert_uint_eq(c.got_n, ECHO_BYTES - 100 + 10);
    ck_assert_int_eq(memcmp(c.got, "head:", 5), 0);
    ck_assert_int_eq(memcmp(c.got + 5, pattern + 100, ECHO_BYTES - 100), 0);
    ck_assert_int_eq(memcmp(c.got + 5 + ECHO_BYTES - 100, ":tail", 5), 0);
    tp_tls_get_stats(&after);
    uint64_t copied = after.copied_file_bytes - before.copied_file_bytes;
    uint64_t ktls = after.ktls_file_bytes - before.ktls_file_bytes;
    ck_assert_uint_eq(copied + ktls, ECHO_BYTES - 100);
    if (!tp_tls_kernel_has_ktls())
        ck_assert_uint_eq(copied, ECHO_BYTES - 100);
    finish(&c);
}
END_TEST

static void never(tp_stream *s)
{
    (void)s;
    ck_abort_msg("no stream expected");
}

static bool accepted_and_client_done(void)
{
    return S.accepted && client_done();
}

START_TEST(plaintext_answered)
{
    size_t fds = open_fds();
    S.ctx = new_ctx("none", 0);
    client c = {.raw = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"};
    the_client = &c;
    start(&c, never);
    run_until(accepted_and_client_done);
    ck_assert_int_eq(S.status, -EPROTONOSUPPORT);
    ck_assert_ptr_null(S.s);
    ck_assert_msg(strstr((char *)c.got, "HTTP/1.1 400 Bad Request\r\n") == (char *)c.got, "got %s",
                  c.got);
    ck_assert_ptr_nonnull(strstr((char *)c.got, "The plain HTTP request was sent to HTTPS port"));
    ck_assert_uint_eq(tp_tls_handshakes_in_progress(), 0);
    finish(&c);
    assert_fds_back(fds);
}
END_TEST

START_TEST(bad_handshake_leaks_nothing)
{
    size_t fds = open_fds();
    tp_tls_stats before, after;
    tp_tls_get_stats(&before);
    S.ctx = new_ctx("none", 0);
    /* A handshake record holding a ClientHello of one byte: a decode error. */
    client c = {.raw = "\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00", .raw_n = 10};
    the_client = &c;
    start(&c, never);
    run_until(accepted_and_client_done);
    ck_assert_int_eq(S.status, -EPROTO);
    ck_assert_uint_eq(tp_tls_handshakes_in_progress(), 0);
    tp_tls_get_stats(&after);
    ck_assert_uint_eq(after.handshake_failures, before.handshake_failures + 1);
    finish(&c);
    assert_fds_back(fds);
}
END_TEST

/* A handshake on sv[0] (no stream expected), the test playing the client on sv[1]. */
static void accept_raw(int sv[2], void *arg)
{
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    S.on_stream = never;
    ck_assert_int_eq(tp_tls_accept(S.ctx, S.loop, sv[0], NULL, accepted, arg), 0);
}

/* A client that sends half a ClientHello and stops: the timeout ends it. */
START_TEST(handshake_timeout)
{
    size_t fds = open_fds();
    S.ctx = new_ctx("none", 0.2);
    int sv[2];
    accept_raw(sv, NULL);
    ck_assert_int_eq(write(sv[1], "\x16\x03\x01\x02", 4), 4);
    run_until(server_gone);
    ck_assert_int_eq(S.status, -ETIMEDOUT);
    char b;
    ssize_t r = read(sv[1], &b, 1); /* the server's end is closed: EOF, or a reset when */
    ck_assert(r == 0 || (r < 0 && errno == ECONNRESET)); /* it left bytes unread */
    close(sv[1]);
    assert_fds_back(fds);
}
END_TEST

START_TEST(cancel_closes)
{
    size_t fds = open_fds();
    S.ctx = new_ctx("none", 0);
    int sv[2];
    accept_raw(sv, &S);
    ck_assert_uint_eq(tp_tls_accept_cancel(NULL), 0);
    ck_assert_uint_eq(tp_tls_accept_cancel(&S), 1);
    ck_assert(!S.accepted);
    ck_assert_uint_eq(tp_tls_handshakes_in_progress(), 0);
    close(sv[1]);
    assert_fds_back(fds);
}
END_TEST

/* A client that echoes 1000 bytes with the server, and must succeed. */
static void echo_client(client *c)
{
    the_client = c;
    S.accepted = S.closed = false;
    S.subject[0] = '\0';
    start(c, echo);
    run_until(both_done);
    ck_assert_msg(!c->failed, "client failed at %s", c->failed);
    ck_assert_int_eq(S.status, 0);
}

START_TEST(client_cert_required)
{
    S.ctx = new_ctx("required", 0);
    client c = {.echo_bytes = 1000, .with_cert = true};
    echo_client(&c);
    ck_assert_str_eq(S.subject, "/CN=alice");
    finish(&c);

    memset(&c, 0, sizeof(c));
    c.echo_bytes = 1000;
    S.accepted = S.closed = false;
    start(&c, never);
    run_until(both_done);
    ck_assert_int_eq(S.status, -EPROTO);
    ck_assert_ptr_nonnull(c.failed); /* TLS 1.3: the alert comes at the first read */
    finish(&c);
}
END_TEST

START_TEST(client_cert_optional)
{
    S.ctx = new_ctx("optional", 0);
    client c = {.echo_bytes = 1000};
    echo_client(&c);
    ck_assert_str_eq(S.subject, "");
    finish(&c);
    client with = {.echo_bytes = 1000, .with_cert = true};
    echo_client(&with);
    ck_assert_str_eq(S.subject, "/CN=alice");
    finish(&with);
}
END_TEST

static void ctx_error(const char *field, const char *value, const char *want)
{
    tp_tls_opts o;
    char err[256] = "";
    tp_tls_opts_default(&o);
    o.certfile = in_dir(0, "cert.pem");
    o.keyfile = in_dir(1, "key.pem");
    if (!strcmp(field, "certfile"))
        o.certfile = value;
    else if (!strcmp(field, "keyfile"))
        o.keyfile = value;
    else if (!strcmp(field, "cert_reqs"))
        o.cert_reqs = value;
    else if (!strcmp(field, "tls_min_version"))
        o.tls_min_version = value;
    else if (!strcmp(field, "ciphers"))
        o.ciphers = value;
    ck_assert_ptr_null(tp_tls_ctx_new(&o, err, sizeof(err)));
    ck_assert_msg(strstr(err, want), "%s=%s: got '%s', want '%s'", field, value, err, want);
}

START_TEST(ctx_errors_readable)
{
    ctx_error("certfile", "/nonexistent.pem", "certfile /nonexistent.pem: ");
    ctx_error("certfile", "", "certfile: required");
    ctx_error("keyfile", in_dir(5, "ca.key"), "mismatch");
    ctx_error("keyfile", in_dir(5, "ca.pem"), "keyfile ");
    ctx_error("cert_reqs", "sometimes", "cert_reqs sometimes: use none, optional or required");
    ctx_error("cert_reqs", "required", "needs ca_certs");
    ctx_error("tls_min_version", "1.9", "tls_min_version 1.9");
    ctx_error("ciphers", "NO-SUCH-CIPHER", "ciphers: ");
    S.ctx = new_ctx("CERT_OPTIONAL", 0);
    ck_assert_ptr_nonnull(tp_tls_ctx_ssl_ctx(S.ctx));
    ck_assert_int_eq(SSL_CTX_get_min_proto_version(tp_tls_ctx_ssl_ctx(S.ctx)), TLS1_2_VERSION);
}
END_TEST

/* ---- the seam, with a fake transport over a plain socket -------------------------------- */

static struct {
    int fd;
    int read_waits, write_waits; /* answers of "wait for the other direction" still to give */
    bool freed;
    size_t got;
    char buf[64];
} fake;

static ssize_t fake_read(void *ctx, void *buf, size_t n)
{
    (void)ctx;
    if (fake.read_waits && fake.read_waits--)
        return TP_STREAM_WANT_WRITE;
    ssize_t r = read(fake.fd, buf, n);
    return r < 0 ? -errno : r;
}

static ssize_t fake_writev(void *ctx, const struct iovec *iov, int iovcnt)
{
    (void)ctx;
    if (fake.write_waits && fake.write_waits--)
        return TP_STREAM_WANT_READ;
    ssize_t r = writev(fake.fd, iov, iovcnt);
    return r < 0 ? -errno : r;
}

static void fake_free(void *ctx)
{
    (void)ctx;
    fake.freed = true;
}

static const tp_stream_transport fake_ops = {
    .read = fake_read, .writev = fake_writev, .free = fake_free};

static size_t fake_data(tp_stream *s, tp_slice d, bool eof, void *arg)
{
    (void)s, (void)eof, (void)arg;
    memcpy(fake.buf + fake.got, d.p, d.n < 63 - fake.got ? d.n : 63 - fake.got);
    fake.got += d.n;
    return d.n;
}

static bool fake_got_5(void)
{
    return fake.got >= 5;
}

static int spins;
static bool spun(void)
{
    return ++spins >= 20;
}

static int peer_fd;
static bool peer_has_bytes(void)
{
    char b[16];
    return recv(peer_fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT) == 5;
}

START_TEST(seam_waits_for_other_direction)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    memset(&fake, 0, sizeof(fake));
    fake.fd = sv[0];
    fake.read_waits = 2;
    fake.write_waits = 1;
    peer_fd = sv[1];
    tp_stream *s = tp_stream_new(S.loop, sv[0], NULL);
    tp_stream_set_transport(s, &fake_ops, &fake);
    ck_assert_ptr_eq(tp_stream_transport_ctx(s, &fake_ops), &fake);
    ck_assert_ptr_null(tp_tls_ssl(s));
    tp_stream_set_data_handler(s, fake_data, NULL);
    /* A read that waits for WRITE readiness: the writable socket runs it again. */
    ck_assert_int_eq(write(sv[1], "hello", 5), 5);
    run_until(fake_got_5);
    ck_assert_int_eq(memcmp(fake.buf, "hello", 5), 0);
    ck_assert_int_eq(fake.read_waits, 0);
    /* A write that waits for READ readiness goes out once the peer sends something. */
    tp_stream_write(s, "world", 5, NULL, NULL);
    spins = 0;
    run_until(spun);
    ck_assert_int_eq(fake.write_waits, 0);
    ck_assert(!peer_has_bytes());
    ck_assert_int_eq(write(sv[1], "x", 1), 1);
    run_until(peer_has_bytes);
    tp_stream_close(s);
    ck_assert(fake.freed);
    spins = 0;
    run_until(spun); /* the stream's last hook frees it */
    close(sv[1]);
}
END_TEST

Suite *tls_suite(void)
{
    Suite *s = suite_create("tls");
    TCase *tc = tcase_create("tls");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, make_certs, remove_certs);
    tcase_add_checked_fixture(tc, setup, teardown);
    fill_pattern();
    tcase_add_test(tc, echo_both_ways);
    tcase_add_test(tc, sendfile_fallback);
    tcase_add_test(tc, plaintext_answered);
    tcase_add_test(tc, bad_handshake_leaks_nothing);
    tcase_add_test(tc, handshake_timeout);
    tcase_add_test(tc, cancel_closes);
    tcase_add_test(tc, client_cert_required);
    tcase_add_test(tc, client_cert_optional);
    tcase_add_test(tc, ctx_errors_readable);
    tcase_add_test(tc, seam_waits_for_other_direction);
    suite_add_tcase(s, tc);
    return s;
}
