/* The shared session-ticket ring (http/tls/tickets.h). Two server SSL_CTXs stand for two
 * workers: each has its own certificate copy and no shared session cache, only the ring. A
 * client handshakes with one over a BIO pair, keeps the session, and resumes on the other. */
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core/loop.h"
#include "http/tls/tickets.h"
#include "tests/unit/suites.h"

static EVP_PKEY *key;
static X509 *cert;

/* A self-signed P-256 certificate for localhost, made once per test process. */
static void make_cert(void)
{
    key = EVP_EC_gen("P-256");
    ck_assert_ptr_nonnull(key);
    cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME *n = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1,
                               0);
    X509_set_issuer_name(cert, n);
    ck_assert_int_gt(X509_sign(cert, key, EVP_sha256()), 0);
}

/* A "worker's" server context with the ring installed. */
static SSL_CTX *server_ctx(tp_tls_tickets *t)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    ck_assert_int_eq(SSL_CTX_use_certificate(ctx, cert), 1);
    ck_assert_int_eq(SSL_CTX_use_PrivateKey(ctx, key), 1);
    ck_assert_int_eq(tp_tls_tickets_install(ctx, t, 3600), 0);
    return ctx;
}

static SSL_CTX *client_ctx(int version)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, version);
    SSL_CTX_set_max_proto_version(ctx, version);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
    return ctx;
}

/* One connection: the handshake, then a byte from the server so that the client reads the
 * TLS 1.3 NewSessionTicket. Returns whether the session was resumed; *out gets the client's
 * session (the newest ticket) when out is not NULL. */
static bool connect_once(SSL_CTX *cctx, SSL_CTX *sctx, SSL_SESSION *resume, SSL_SESSION **out)
{
    BIO *bc, *bs;
    ck_assert_int_eq(BIO_new_bio_pair(&bc, 0, &bs, 0), 1);
    SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
    SSL_set_bio(c, bc, bc);
    SSL_set_bio(s, bs, bs);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    if (resume)
        ck_assert_int_eq(SSL_set_session(c, resume), 1);
    int rc = 0, rs = 0;
    for (int i = 0; i < 50 && (rc != 1 || rs != 1); i++) {
        if (rc != 1)
            rc = SSL_do_handshake(c);
        if (rs != 1)
            rs = SSL_do_handshake(s);
    }
    ck_assert_msg(rc == 1 && rs == 1, "handshake did not finish");
    char byte = 0;
    ck_assert_int_eq(SSL_write(s, "x", 1), 1);
    ck_assert_int_eq(SSL_read(c, &byte, 1), 1);
    bool reused = SSL_session_reused(s);
    ck_assert_int_eq(reused, SSL_session_reused(c));
    if (out)
        *out = SSL_get1_session(c);
    /* A clean close: OpenSSL marks the session of a connection freed without one as not
     * resumable. */
    SSL_set_shutdown(c, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_set_shutdown(s, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(c);
    SSL_free(s);
    return reused;
}

/* A session made by worker a resumes on worker b, for the TLS version given. */
static void resume_across(int version)
{
    make_cert();
    tp_tls_tickets *t = tp_tls_tickets_new();
    ck_assert_ptr_nonnull(t);
    SSL_CTX *a = server_ctx(t), *b = server_ctx(t), *c = client_ctx(version);
    SSL_SESSION *sess = NULL;
    ck_assert(!connect_once(c, a, NULL, &sess));
    ck_assert(SSL_SESSION_has_ticket(sess));
    ck_assert(connect_once(c, b, sess, NULL));
    /* Without the ring, b's own keys cannot read a's ticket: a full handshake. */
    SSL_CTX *alone = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(alone, cert);
    SSL_CTX_use_PrivateKey(alone, key);
    ck_assert(!connect_once(c, alone, sess, NULL));
    SSL_SESSION_free(sess);
    SSL_CTX_free(alone);
    SSL_CTX_free(a);
    SSL_CTX_free(b);
    SSL_CTX_free(c);
    tp_tls_tickets_free(t);
}

START_TEST(resume_tls12)
{
    resume_across(TLS1_2_VERSION);
}
END_TEST

START_TEST(resume_tls13)
{
    resume_across(TLS1_3_VERSION);
}
END_TEST

/* After one rotation an old ticket still resumes (the previous key); after two it does not. */
static void rotation(int version)
{
    make_cert();
    tp_tls_tickets *t = tp_tls_tickets_new();
    SSL_CTX *a = server_ctx(t), *b = server_ctx(t), *c = client_ctx(version);
    SSL_SESSION *old = NULL, *renewed = NULL;
    connect_once(c, a, NULL, &old);
    ck_assert_int_eq(tp_tls_tickets_rotate(t), 0);
    ck_assert_uint_eq(tp_tls_tickets_rotations(t), 1);
    ck_assert(connect_once(c, b, old, &renewed)); /* previous key: resumed, ticket renewed */
    ck_assert_int_eq(tp_tls_tickets_rotate(t), 0);
    ck_assert(!connect_once(c, a, old, NULL));    /* two periods old: full handshake */
    ck_assert(connect_once(c, a, renewed, NULL)); /* the renewed one is under the previous key */
    SSL_SESSION_free(old);
    SSL_SESSION_free(renewed);
    SSL_CTX_free(a);
    SSL_CTX_free(b);
    SSL_CTX_free(c);
    tp_tls_tickets_free(t);
}

START_TEST(rotation_tls12)
{
    rotation(TLS1_2_VERSION);
}
END_TEST

START_TEST(rotation_tls13)
{
    rotation(TLS1_3_VERSION);
}
END_TEST

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A forked "worker" sees the master's rotations through the shared mapping, and resumes a
 * ticket the parent makes after the rotation (the new key, read across processes). */
START_TEST(shared_across_fork)
{
    make_cert();
    tp_tls_tickets *t = tp_tls_tickets_new();
    int go[2];
    ck_assert_int_eq(pipe(go), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        SSL_CTX *s = server_ctx(t), *c = client_ctx(TLS1_3_VERSION);
        double end = now() + 30;
        while (tp_tls_tickets_rotations(t) < 3 && now() < end)
            usleep(1000);
        SSL_SESSION *sess = NULL;
        connect_once(c, s, NULL, &sess);
        char byte;
        int ok = read(go[0], &byte, 1) == 1; /* the parent rotated once more */
        _exit(ok && tp_tls_tickets_rotations(t) == 4 && connect_once(c, s, sess, NULL) ? 0 : 1);
    }
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(tp_tls_tickets_rotate(t), 0);
    /* What the child makes with the key of rotation 3 is the previous key after the 4th. */
    ck_assert_int_eq(tp_tls_tickets_rotate(t), 0);
    ck_assert_int_eq(write(go[1], "g", 1), 1);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    tp_tls_tickets_free(t);
}
END_TEST

/* Handshakes that make tickets while another process rotates as fast as it can (the seqlock's
 * readers retrying under a busy writer) all complete with a ticket: no error, no hang. */
START_TEST(rotation_storm)
{
    make_cert();
    tp_tls_tickets *t = tp_tls_tickets_new();
    SSL_CTX *s = server_ctx(t), *c = client_ctx(TLS1_2_VERSION);
    uint64_t before = tp_tls_tickets_rotations(t);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) { /* rotates until it is killed: the handshakes all meet a busy writer */
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* also if a failed assertion ends the test */
        if (getppid() == 1)
            _exit(0);
        for (;;)
            tp_tls_tickets_rotate(t);
    }
    for (int made = 0; made < 200; made++) {
        SSL_SESSION *sess = NULL;
        connect_once(c, s, NULL, &sess); /* asserts a clean handshake */
        ck_assert(SSL_SESSION_has_ticket(sess));
        SSL_SESSION_free(sess);
    }
    /* The writer ran meanwhile (the ring is shared memory); wait for it, not for a speed. */
    for (double end = tp__monotonic() + 30;
         tp_tls_tickets_rotations(t) == before && tp__monotonic() < end;)
        usleep(1000);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    ck_assert_uint_gt(tp_tls_tickets_rotations(t), before);
    SSL_CTX_free(s);
    SSL_CTX_free(c);
    tp_tls_tickets_free(t);
}
END_TEST

Suite *tls_tickets_suite(void)
{
    Suite *s = suite_create("tls_tickets");
    TCase *tc = tcase_create("ring");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, resume_tls12);
    tcase_add_test(tc, resume_tls13);
    tcase_add_test(tc, rotation_tls12);
    tcase_add_test(tc, rotation_tls13);
    tcase_add_test(tc, shared_across_fork);
    tcase_add_test(tc, rotation_storm);
    suite_add_tcase(s, tc);
    return s;
}
