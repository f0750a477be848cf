/* The HTTP client (http/client) against real servers: tests/httpclient/run.py starts Debian's
 * nginx, small Python peers and testapp, passes their addresses in the environment and runs
 * this program, which runs every case (or those named on the command line) and prints
 * "ok NAME" or "FAIL NAME: why" per case, then exits 1 if any failed. Cases re-create
 * Tornado's httpclient_test.py / simple_httpclient_test.py / curl_httpclient_test.py ones
 * (named in the comment above each) that mean something in C. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tp.h"

static tp_loop *loop;
static tp_http_client *client;
static int failed_checks;
static char url_buf[16][512];
static int url_next;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("  check failed (%s:%d): %s: ", __FILE__, __LINE__, #cond);                     \
            printf(__VA_ARGS__);                                                                   \
            printf("\n");                                                                          \
            failed_checks++;                                                                       \
        }                                                                                          \
    } while (0)

static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (!v) {
        fprintf(stderr, "httpclient_check: %s is not set\n", name);
        exit(2);
    }
    return v;
}

/* base env var + path, in one of 16 rotating buffers. */
static const char *url(const char *base, const char *path)
{
    char *b = url_buf[url_next++ % 16];
    snprintf(b, sizeof(url_buf[0]), "%s%s", env(base), path);
    return b;
}

static tp_http_response *fetch_with(tp_http_client *c, const tp_http_request *req)
{
    tp_http_response *r = NULL;
    int rc = tp_http_fetch_on_loop(loop, c, req, 60, &r);
    if (rc != 0 || !r) {
        printf("  fetch of %s returned %d\n", req->url, rc);
        exit(1);
    }
    return r;
}

static tp_http_response *fetch(const tp_http_request *req)
{
    return fetch_with(client, req);
}

static tp_http_response *get(const char *u)
{
    tp_http_request req;
    tp_http_request_init(&req, u);
    return fetch(&req);
}

static bool body_is(const tp_http_response *r, const char *want)
{
    return tp_slice_eq(r->body, tp_slice_cstr(want));
}

static bool ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && strcmp(s + a - b, tail) == 0;
}

static tp_slice header(const tp_http_response *r, const char *name)
{
    return tp_headers_get(r->headers, tp_slice_cstr(name));
}

/* test_hello_world */
static void case_hello_world(void)
{
    const char *u = url("NGINX", "/hello");
    tp_http_response *r = get(u);
    CHECK(r->code == 200 && r->error == 0, "code %d", r->code);
    CHECK(body_is(r, "Hello world!"), "%.*s", TP_SLICE_FMT(r->body));
    CHECK(strcmp(r->reason, "OK") == 0, "%s", r->reason);
    CHECK(strcmp(r->effective_url, u) == 0, "%s", r->effective_url);
    CHECK(r->request_time > 0 && r->request_time < 30, "%g", r->request_time);
    CHECK(r->time_info.total > 0 && r->time_info.starttransfer <= r->time_info.total, "%g",
          r->time_info.total);
    CHECK(header(r, "Content-Type").p && header(r, "Server").p, "headers");
    tp_http_response_free(r);
}

/* test_fetch_sync (HTTPClient, the synchronous client) */
static void case_fetch_sync(void)
{
    tp_http_request req;
    tp_http_request_init(&req, url("NGINX", "/hello"));
    tp_http_response *r = NULL;
    CHECK(tp_http_fetch_sync(&req, &r) == 0 && r, "sync");
    if (r)
        CHECK(r->code == 200 && body_is(r, "Hello world!"), "code %d", r->code);
    tp_http_response_free(r);
}

typedef struct collect {
    tp_buf data;
    int calls;
    bool saw_status, saw_ct;
    tp_slice last;
} collect;

static void on_chunk(tp_slice chunk, void *arg)
{
    collect *c = arg;
    tp_buf_append(&c->data, chunk.p, chunk.n);
    c->calls++;
}

/* test_streaming_callback */
static void case_streaming_callback(void)
{
    collect c = {0};
    tp_http_request req;
    tp_http_request_init(&req, url("NGINX", "/big.txt"));
    req.streaming_callback = on_chunk;
    req.streaming_arg = &c;
    tp_http_response *r = fetch(&req);
    CHECK(r->code == 200, "code %d", r->code);
    CHECK(r->body.n == 0, "body kept: %zu", r->body.n);
    CHECK(c.data.len > 700000 && c.calls > 1, "%zu bytes in %d calls", c.data.len, c.calls);
    CHECK(c.data.len >= 11 && memcmp(tp_buf_data(&c.data), "line 0 of a", 11) == 0, "start");
    tp_buf_free(&c.data);
    tp_http_response_free(r);
}

static void on_header_line(tp_slice line, void *arg)
{
    collect *c = arg;
    if (c->calls++ == 0)
        c->saw_status = line.n > 9 && memcmp(line.p, "HTTP/1.1 ", 9) == 0;
    if (tp_slice_eq(line, TP_SLICE_LIT("Content-Type: text/plain\r\n")))
        c->saw_ct = true;
    c->last = tp_slice_eq(line, TP_SLICE_LIT("\r\n")) ? TP_SLICE_LIT("\r\n") : TP_SLICE_NULL;
}

/* test_header_callback */
static void case_header_callback(void)
{
    collect c = {0};
    tp_http_request req;
    tp_http_request_init(&req, url("NGINX", "/hello"));
    req.header_callback = on_header_line;
    req.header_arg = &c;
    tp_http_response *r = fetch(&req);
    CHECK(r->code == 200, "code %d", r->code);
    CHECK(c.saw_status && c.saw_ct && c.last.p, "status %d ct %d end %d", c.saw_status, c.saw_ct,
          c.last.p != NULL);
    tp_http_response_free(r);
}

/* test_post (against our own server's /echo) */
static void case_post(void)
{
    tp_http_request req;
    tp_http_request_init(&req, url("APP", "/echo"));
    req.method = "POST";
    req.body = TP_SLICE_LIT("Hello world!");
    tp_http_response *r = fetch(&req);
    CHECK(r->code == 200 && body_is(r, "Hello world!"), "code %d body %.*s", r->code,
          TP_SLICE_FMT(r->body));
    tp_http_response_free(r);
}

typedef struct producer {
    int step;
} producer;

static ssize_t produce(char *buf, size_t n, void *arg)
{
    producer *p = arg;
    static const char *parts[] = {"asdf", "qwer"};
    if (p->step >= 2 || n < 4)
        return 0;
    memcpy(buf, parts[p->step++], 4);
    return 4;
}

/* test_body_producer (Tornado's streaming body / body_producer tests: chunked and sized) */
static void case_body_producer(void)
{
    for (int sized = 0; sized < 2; sized++) {
        producer p = {0};
        tp_http_request req;
        tp_http_request_init(&req, url("APP", "/echo"));
        req.method = "POST";
        req.body_producer = produce;
        req.body_producer_arg = &p;
        req.body_size = sized ? 8 : -1;
        tp_http_response *r = fetch(&req);
        CHECK(r->code == 200 && body_is(r, "asdfqwer"), "sized %d: code %d body %.*s", sized,
              r->code, TP_SLICE_FMT(r->body));
        tp_http_response_free(r);
    }
}

/* test_expect_100_continue (simple_httpclient_test): the body goes after the 100 */
static void case_expect_100_continue(void)
{
    tp_http_request req;
    tp_http_request_init(&req, url("APP", "/echo"));
    req.method = "POST";
    req.body = TP_SLICE_LIT("hello");
    req.expect_100_continue = true;
    tp_http_response *r = fetch(&req);
    CHECK(r->code == 200 && body_is(r, "hello"), "code %d", r->code);
    tp_http_response_free(r);
}

/* test_chunked (our server's chunked response) */
static void case_chunked(void)
{
    tp_http_response *r = get(url("APP", "/flush"));
    CHECK(r->code == 200 && body_is(r, "part1,part2"), "code %d %.*s", r->code,
          TP_SLICE_FMT(r->body));
    CHECK(tp_slice_caseeq(header(r, "Transfer-Encoding"), TP_SLICE_LIT("chunked")), "te");
    tp_http_response_free(r);
}

/* test_follow_redirect */
static void case_follow_redirect(void)
{
    tp_http_response *r = get(url("NGINX", "/r3"));
    CHECK(r->code == 200 && body_is(r, "r0"), "code %d", r->code);
    CHECK(ends_with(r->effective_url, "/r0") && r->redirects == 3, "%s %d", r->effective_url,
          r->redirects);
    tp_http_response_free(r);
    tp_http_request req;
    tp_http_request_init(&req, url("NGINX", "/r3"));
    req.follow_redirects = false;
    r = fetch(&req);
    CHECK(r->code == 302 && r->error == TP_ERROR, "code %d error %d", r->code, r->error);
    CHECK(ends_with(tp_headers_get(r->headers, TP_SLICE_LIT("Location")).p, "/r2"), "location");
    CHECK(r->error_message && strncmp(r->error_message, "HTTP 302: ", 10) == 0, "%s",
          r->error_message);
    tp_http_response_free(r);
}

/* test_max_redirects (simple_httpclient_test): the last redirect is the answer */
static void case_max_redirects(void)
{
    tp_http_request req;
    tp_http_request_init(&req, url("NGINX", "/r6"));
    req.max_redirects = 3;
    req.raise_error = false;
    tp_http_response *r = fetch(&req);
    CHECK(r->code == 302 && r->error == 0, "code %d error %d", r->code, r->error);
    CHECK(ends_with(r->effective_url, "/r3"), "%s", r->effective_url);
    tp_http_response_free(r);
}

static tp_http_response *with_credentials(const char *u)
{
    tp_arena a;
    tp_arena_init(&a, 0);
    tp_headers h;
    tp_headers_init(&h, &a);
    tp_headers_add(&h, TP_SLICE_LIT("Authorization"), TP_SLICE_LIT("Bearer tok"));
    tp_headers_add(&h, TP_SLICE_LIT("Cookie"), TP_SLICE_LIT("c=1"));
    tp_http_request req;
    tp_http_request_init(&req, u);
    req.headers = &h;
    tp_http_response *r = fetch(&req);
    tp_arena_destroy(&a);
    return r;
}

/* test_redirect_put... / the cross-origin rule: Authorization and Cookie go to the same
 * origin only (simple_httpclient strips them on a cross-origin redirect too). */
static void case_cross_origin_redirect(void)
{
    tp_http_response *r = with_credentials(url("NGINX", "/same"));
    CHECK(body_is(r, "auth=[Bearer tok] cookie=[c=1]"), "same: %.*s", TP_SLICE_FMT(r->body));
    tp_http_response_free(r);
    r = with_credentials(url("NGINX", "/cross"));
    CHECK(r->code == 200 && body_is(r, "auth=[] cookie=[]"), "cross: %d %.*s", r->code,
          TP_SLICE_FMT(r->body));
    CHECK(strstr(r->effective_url, env("NGINX2_PORT")) != NULL, "%s", r->effective_url);
    tp_http_response_free(r);
    tp_http_request req;
    tp_http_request_init(&req, url("NGINX", "/cross"));
    req.auth_username = "user";
    req.auth_password = "secret";
    r = fetch(&req);
    CHECK(body_is(r, "auth=[] cookie=[]"), "auth_username: %.*s", TP_SLICE_FMT(r->body));
    tp_http_response_free(r);
}

/* test_gzip */
static void case_gzip(void)
{
    tp_http_response *r = get(url("NGINX", "/big.txt"));
    CHECK(r->code == 200 && r->body.n > 700000, "code %d size %zu", r->code, r->body.n);
    CHECK(tp_slice_eq(header(r, "X-Consumed-Content-Encoding"), TP_SLICE_LIT("gzip")), "xcce");
    CHECK(!header(r, "Content-Encoding").p, "content-encoding kept");
    tp_http_response_free(r);
    tp_http_request req;
    tp_http_request_init(&req, url("NGINX", "/big.txt"));
    req.decompress_response = false;
    r = fetch(&req);
    CHECK(r->code == 200 && r->body.n > 700000, "not asked: no gzip, size %zu", r->body.n);
    tp_http_response_free(r);
    /* Asked for gzip without decompressing (curl_httpclient_test's raw gzip). */
    tp_arena a;
    tp_arena_init(&a, 0);
    tp_headers h;
    tp_headers_init(&h, &a);
    tp_headers_add(&h, TP_SLICE_LIT("Accept-Encoding"), TP_SLICE_LIT("gzip"));
    req.headers = &h;
    r = fetch(&req);
    CHECK(r->code == 200 && r->body.n < 100000 && r->body.n > 2 &&
              (unsigned char)r->body.p[0] == 0x1f && (unsigned char)r->body.p[1] == 0x8b,
          "raw gzip size %zu", r->body.n);
    tp_http_response_free(r);
    tp_arena_destroy(&a);
}

/* test_max_body_size (simple_httpclient_test), for the decompressed size: a few KB of gzip
 * that inflate past the limit fail instead of growing memory. */
static void case_gzip_limit(void)
{
    tp_http_client_opts o = {.max_body_size = 100000};
    tp_http_client *c = tp_http_client_new(loop, &o);
    tp_http_request req;
    tp_http_request_init(&req, url("NGINX", "/big.txt"));
    tp_http_response *r = fetch_with(c, &req);
    CHECK(r->code == 599 && r->error == -EMSGSIZE, "code %d error %d", r->code, r->error);
    tp_http_response_free(r);
    tp_http_client_free(c);
}

/* Keep-alive: connection reuse counted by nginx ($connection, $connection_requests). */
static void case_keepalive(void)
{
    long before = tp_http_client_connects(client);
    long conn0 = -1, req0 = -1;
    for (int i = 0; i < 20; i++) {
        tp_http_response *r = get(url("NGINX", "/conn"));
        long conn = -1, reqs = -1;
        char tmp[64];
        snprintf(tmp, sizeof(tmp), "%.*s", TP_SLICE_FMT(r->body));
        CHECK(sscanf(tmp, "%ld %ld", &conn, &reqs) == 2, "%s", tmp);
        if (i == 0)
            conn0 = conn, req0 = reqs;
        CHECK(conn == conn0 && reqs == req0 + i, "fetch %d: connection %ld request %ld", i, conn,
              reqs);
        tp_http_response_free(r);
    }
    long opened = tp_http_client_connects(client) - before;
    CHECK(opened <= 1, "%ld connections", opened);
}

/* test_connect_timeout (simple_httpclient_test) */
static void case_connect_timeout(void)
{
    tp_http_request req;
    tp_http_request_init(&req, url("HOLE", "/"));
    req.connect_timeout = 0.3;
    double t0 = tp__monotonic();
    tp_http_response *r = fetch(&req);
    CHECK(r->code == 599 && r->error == -ETIMEDOUT, "code %d error %d %s", r->code, r->error,
          r->error_message);
    CHECK(tp__monotonic() - t0 < 10, "took %g s", tp__monotonic() - t0);
    tp_http_response_free(r);
}

/* test_request_timeout */
static void case_request_timeout(void)
{
    tp_http_request req;
    tp_http_request_init(&req, url("HELPER", "/slow"));
    req.request_timeout = 0.3;
    tp_http_response *r = fetch(&req);
    CHECK(r->code == 599 && r->error == -ETIMEDOUT, "code %d error %d", r->code, r->error);
    CHECK(r->error_message && strstr(r->error_message, "timed out"), "%s", r->error_message);
    tp_http_response_free(r);
}

/* A server that resets the connection (test_error_after_head / reset peers). */
static void case_reset(void)
{
    tp_http_response *r = get(url("HELPER", "/reset"));
    CHECK(r->code == 599 && r->error == -ECONNRESET, "code %d error %d %s", r->code, r->error,
          r->error_message);
    tp_http_response_free(r);
}

/* test_connection_refused */
static void case_connection_refused(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    socklen_t len = sizeof(a);
    bind(s, (struct sockaddr *)&a, sizeof(a));
    getsockname(s, (struct sockaddr *)&a, &len);
    char u[64];
    snprintf(u, sizeof(u), "http://127.0.0.1:%d/", ntohs(a.sin_port));
    tp_http_response *r = get(u); /* bound, not listening: refused */
    close(s);
    CHECK(r->code == 599 && r->error == -ECONNREFUSED, "code %d error %d", r->code, r->error);
    CHECK(r->error_message && r->error_message[0], "message");
    tp_http_response_free(r);
}

static tp_http_response *tls_get(const char *base, bool validate, const char *ca, bool client_cert)
{
    char cert[512], key[512];
    snprintf(cert, sizeof(cert), "%s/client.pem", env("CERTDIR"));
    snprintf(key, sizeof(key), "%s/client-key.pem", env("CERTDIR"));
    tp_http_request req;
    tp_http_request_init(&req, url(base, "/"));
    req.validate_cert = validate;
    req.ca_certs = ca;
    if (client_cert)
        req.client_cert = cert, req.client_key = key;
    return fetch(&req);
}

/* test_ssl_options / self-signed certificates (simple_httpclient_test's TLS tests) */
static void case_tls(void)
{
    char ca[512];
    snprintf(ca, sizeof(ca), "%s/cert.pem", env("CERTDIR"));
    tp_http_response *r = tls_get("TLS", true, NULL, false);
    CHECK(r->code == 599 && r->error == -EPROTO, "validate: code %d error %d", r->code, r->error);
    tp_http_response_free(r);
    r = tls_get("TLS", false, NULL, false);
    CHECK(r->code == 200 && body_is(r, "tls ok"), "no validation: code %d", r->code);
    tp_http_response_free(r);
    r = tls_get("TLS", true, ca, false);
    CHECK(r->code == 200 && body_is(r, "tls ok"), "ca_certs: code %d %s", r->code,
          r->error_message ? r->error_message : "");
    tp_http_response_free(r);
}

/* A client certificate (client_cert / client_key) */
static void case_client_cert(void)
{
    char ca[512];
    snprintf(ca, sizeof(ca), "%s/cert.pem", env("CERTDIR"));
    tp_http_response *r = tls_get("MTLS", true, ca, true);
    CHECK(r->code == 200 && body_is(r, "client CN=tp-client"), "code %d %.*s", r->code,
          TP_SLICE_FMT(r->body));
    tp_http_response_free(r);
    r = tls_get("MTLS", true, ca, false);
    CHECK(r->code == 400, "without a certificate: code %d", r->code);
    tp_http_response_free(r);
}

/* proxy_host / proxy_port / proxy_username (curl_httpclient's proxy options) */
static void case_proxy(void)
{
    tp_http_request req;
    tp_http_request_init(&req, url("NGINX", "/hello"));
    req.proxy_host = "127.0.0.1";
    req.proxy_port = atoi(env("PROXY_PORT"));
    tp_http_response *r = fetch(&req);
    CHECK(r->code == 200 && body_is(r, "Hello world!"), "code %d", r->code);
    CHECK(tp_slice_eq(header(r, "X-Proxied"), TP_SLICE_LIT("yes")), "not proxied");
    tp_http_response_free(r);
    req.proxy_username = "user";
    req.proxy_password = "pass";
    r = fetch(&req);
    CHECK(tp_slice_eq(header(r, "X-Proxy-Auth"), TP_SLICE_LIT("Basic dXNlcjpwYXNz")), "%.*s",
          TP_SLICE_FMT(header(r, "X-Proxy-Auth")));
    tp_http_response_free(r);
}

/* test_basic_auth, test_basic_auth_explicit_mode, test_unsupported_auth_mode */
static void case_basic_auth(void)
{
    tp_http_request req;
    tp_http_request_init(&req, url("NGINX", "/basic/index.txt"));
    req.auth_username = "user";
    req.auth_password = "secret";
    tp_http_response *r = fetch(&req);
    CHECK(r->code == 200 && body_is(r, "basic ok"), "code %d", r->code);
    tp_http_response_free(r);
    req.auth_mode = "basic";
    req.auth_password = "wrong";
    r = fetch(&req);
    CHECK(r->code == 401 && r->error == TP_ERROR, "wrong password: code %d", r->code);
    tp_http_response_free(r);
    req.auth_mode = "asdf";
    CHECK(tp_http_fetch(client, &req, NULL, NULL) == -EINVAL, "unsupported mode accepted");
}

/* test_digest_auth (curl_httpclient_test) */
static void case_digest_auth(void)
{
    tp_http_request req;
    tp_http_request_init(&req, url("HELPER", "/digest"));
    req.auth_username = "user";
    req.auth_password = "secret";
    req.auth_mode = "digest";
    tp_http_response *r = fetch(&req);
    CHECK(r->code == 200 && body_is(r, "digest ok"), "code %d", r->code);
    tp_http_response_free(r);
}

typedef struct many {
    int done, ok;
    double max_queue;
    tp_http_response *last;
} many;

static void many_done(tp_http_response *r, void *arg)
{
    many *m = arg;
    m->done++;
    m->ok += r->code == 200;
    if (r->time_info.queue > m->max_queue)
        m->max_queue = r->time_info.queue;
}

static void stop_soon(tp_loop *l, void *arg)
{
    (void)arg;
    tp_loop_stop(l);
}

static void run_until(int *counter, int n)
{
    double end = tp__monotonic() + 60;
    while (*counter < n && tp__monotonic() < end) {
        tp_loop_call_later(loop, 0.02, stop_soon, NULL);
        tp_loop_run(loop);
    }
}

/* test_max_clients (simple_httpclient_test): a FIFO queue past max_clients */
static void case_max_clients(void)
{
    tp_http_client_opts o = {.max_clients = 2};
    tp_http_client *c = tp_http_client_new(loop, &o);
    many m = {0};
    tp_http_request req;
    tp_http_request_init(&req, url("NGINX", "/hello"));
    for (int i = 0; i < 8; i++)
        CHECK(tp_http_fetch(c, &req, many_done, &m) == 0, "fetch %d", i);
    run_until(&m.done, 8);
    CHECK(m.done == 8 && m.ok == 8, "%d done, %d ok", m.done, m.ok);
    CHECK(m.max_queue > 0, "nobody queued");
    tp_http_client_free(c);
}

typedef struct one {
    int done;
    int code, error;
    char msg[128];
} one;

static void one_done(tp_http_response *r, void *arg)
{
    one *o = arg;
    o->done++;
    o->code = r->code;
    o->error = r->error;
    snprintf(o->msg, sizeof(o->msg), "%s", r->error_message ? r->error_message : "");
}

/* test_queue_timeout (simple_httpclient_test): "Timeout in request queue" */
static void case_queue_timeout(void)
{
    tp_http_client_opts o = {.max_clients = 1};
    tp_http_client *c = tp_http_client_new(loop, &o);
    one slow = {0}, queued = {0};
    tp_http_request req;
    tp_http_request_init(&req, url("HELPER", "/slow"));
    req.request_timeout = 30;
    CHECK(tp_http_fetch(c, &req, one_done, &slow) == 0, "slow");
    tp_http_request_init(&req, url("NGINX", "/hello"));
    req.connect_timeout = 0.1;
    req.request_timeout = 0.1;
    CHECK(tp_http_fetch(c, &req, one_done, &queued) == 0, "queued");
    run_until(&queued.done, 1);
    CHECK(queued.done == 1 && queued.code == 599 && queued.error == -ETIMEDOUT &&
              strcmp(queued.msg, "Timeout in request queue") == 0,
          "%d %d %s", queued.code, queued.error, queued.msg);
    CHECK(slow.done == 0, "the slow one finished first");
    /* Freeing the client completes what is pending with 599 first. */
    tp_http_client_free(c);
    CHECK(slow.done == 1 && slow.code == 599 && slow.error == -ECANCELED, "%d %d", slow.done,
          slow.code);
}

typedef struct freeing {
    one o;
    tp_http_client *c;
} freeing;

static void free_in_callback(tp_http_response *r, void *arg)
{
    freeing *f = arg;
    one_done(r, &f->o);
    tp_http_client_free(f->c);
}

/* The client freed from its own done callback (a script's last fetch). */
static void case_free_from_callback(void)
{
    freeing f = {.c = tp_http_client_new(loop, NULL)};
    tp_http_request req;
    tp_http_request_init(&req, url("NGINX", "/hello"));
    CHECK(tp_http_fetch(f.c, &req, free_in_callback, &f) == 0, "fetch");
    run_until(&f.o.done, 1);
    CHECK(f.o.done == 1 && f.o.code == 200, "%d %d", f.o.done, f.o.code);
}

/* test_if_modified_since (httpclient_test's header and a 304), test_user_agent */
static void case_if_modified_since(void)
{
    tp_http_request req;
    tp_http_request_init(&req, url("NGINX", "/small.txt"));
    req.if_modified_since = (double)time(NULL) + 3600;
    req.raise_error = false;
    tp_http_response *r = fetch(&req);
    CHECK(r->code == 304 && r->body.n == 0, "code %d", r->code);
    tp_http_response_free(r);
    tp_http_request_init(&req, url("NGINX", "/ua"));
    req.if_modified_since = 784111777; /* RFC 7231's example date */
    req.user_agent = "TestAgent/1.0";
    r = fetch(&req);
    CHECK(body_is(r, "TestAgent/1.0|Sun, 06 Nov 1994 08:49:37 GMT|gzip"), "%.*s",
          TP_SLICE_FMT(r->body));
    tp_http_response_free(r);
    r = get(url("NGINX", "/ua"));
    CHECK(body_is(r, "tornado-prefork/0.1||gzip"), "%.*s", TP_SLICE_FMT(r->body));
    tp_http_response_free(r);
}

/* test_body_sanity_checks, test_all_methods (allow_nonstandard_methods) */
static void case_methods(void)
{
    tp_http_request req;
    tp_http_request_init(&req, url("APP", "/h/method"));
    req.body = TP_SLICE_LIT("x");
    CHECK(tp_http_fetch(client, &req, NULL, NULL) == -EINVAL, "GET with a body");
    req.body = TP_SLICE_NULL;
    req.method = "POST";
    CHECK(tp_http_fetch(client, &req, NULL, NULL) == -EINVAL, "POST without a body");
    req.method = "OTHER";
    CHECK(tp_http_fetch(client, &req, NULL, NULL) == -EINVAL, "unknown method");
    req.method = "HEAD";
    tp_http_response *r = fetch(&req);
    CHECK(r->code == 200 && r->body.n == 0 &&
              tp_slice_eq(header(r, "X-Method"), TP_SLICE_LIT("HEAD")),
          "HEAD: %d", r->code);
    tp_http_response_free(r);
    req.method = "GET";
    req.body = TP_SLICE_LIT("x");
    req.allow_nonstandard_methods = true;
    r = fetch(&req);
    CHECK(r->code == 200 && body_is(r, "method=GET"), "GET with a body allowed: %d", r->code);
    tp_http_response_free(r);
    req.method = "DELETE";
    req.body = TP_SLICE_NULL;
    req.raise_error = false;
    r = fetch(&req);
    CHECK(r->code == 405, "DELETE: %d", r->code);
    tp_http_response_free(r);
}

/* test_future_http_error, test_future_http_error_no_raise */
static void case_http_error(void)
{
    tp_http_response *r = get(url("NGINX", "/missing"));
    CHECK(r->code == 404 && r->error == TP_ERROR && body_is(r, "nope"), "code %d", r->code);
    CHECK(r->error_message && strcmp(r->error_message, "HTTP 404: Not Found") == 0, "%s",
          r->error_message);
    tp_http_response_free(r);
    tp_http_request req;
    tp_http_request_init(&req, url("NGINX", "/missing"));
    req.raise_error = false;
    r = fetch(&req);
    CHECK(r->code == 404 && r->error == 0 && !r->error_message, "no raise: %d", r->error);
    tp_http_response_free(r);
}

/* test_multi_line_headers / repeated headers: every field is kept */
static void case_repeated_headers(void)
{
    tp_http_response *r = get(url("HELPER", "/multi"));
    CHECK(tp_headers_count(r->headers, TP_SLICE_LIT("Set-Cookie")) == 2, "%zu",
          tp_headers_count(r->headers, TP_SLICE_LIT("Set-Cookie")));
    CHECK(tp_slice_eq(tp_headers_get_joined(r->headers, TP_SLICE_LIT("Set-Cookie")),
                      TP_SLICE_LIT("a=1,b=2")),
          "joined");
    tp_http_response_free(r);
}

/* network_interface (curl_httpclient's INTERFACE) */
static void case_network_interface(void)
{
    tp_http_request req;
    tp_http_request_init(&req, url("NGINX", "/hello"));
    req.network_interface = "127.0.0.1";
    tp_http_response *r = fetch(&req);
    CHECK(r->code == 200, "code %d %s", r->code, r->error_message ? r->error_message : "");
    tp_http_response_free(r);
}

/* Our own server (testapp): a redirect, gzip, the request headers it saw, keep-alive. */
static void case_our_server(void)
{
    tp_http_request rr;
    tp_http_request_init(&rr, url("APP", "/redir/abc"));
    rr.raise_error = false; /* the target is not routed in testapp: a 404 there */
    tp_http_response *r = fetch(&rr);
    CHECK(r->code == 404 && ends_with(r->effective_url, "/target/abc?x=1") && r->redirects == 1,
          "redirect: %d %s", r->code, r->effective_url);
    tp_http_response_free(r);
    r = get(url("APP", "/hz/text"));
    CHECK(r->code == 200 && r->body.n == 5500, "gzip: %d %zu", r->code, r->body.n);
    CHECK(tp_slice_eq(header(r, "X-Consumed-Content-Encoding"), TP_SLICE_LIT("gzip")), "xcce");
    tp_http_response_free(r);
    tp_arena a;
    tp_arena_init(&a, 0);
    tp_headers h;
    tp_headers_init(&h, &a);
    tp_headers_add(&h, TP_SLICE_LIT("X-Test"), TP_SLICE_LIT("one"));
    tp_headers_add(&h, TP_SLICE_LIT("X-Test"), TP_SLICE_LIT("two"));
    tp_http_request req;
    tp_http_request_init(&req, url("APP", "/headers"));
    req.headers = &h;
    long before = tp_http_client_connects(client);
    for (int i = 0; i < 10; i++) {
        r = fetch(&req);
        tp_buf text = {0};
        tp_buf_append(&text, r->body.p, r->body.n);
        tp_buf_append(&text, "", 1);
        CHECK(strstr(tp_buf_data(&text), "X-Test: one\nX-Test: two\n") &&
                  strstr(tp_buf_data(&text), "User-Agent: tornado-prefork/0.1\n"),
              "%s", tp_buf_data(&text));
        tp_buf_free(&text);
        tp_http_response_free(r);
    }
    CHECK(tp_http_client_connects(client) - before <= 1, "%ld connections",
          tp_http_client_connects(client) - before);
    tp_arena_destroy(&a);
}

static const struct {
    const char *name;
    void (*fn)(void);
} cases[] = {
    {"hello_world", case_hello_world},
    {"fetch_sync", case_fetch_sync},
    {"streaming_callback", case_streaming_callback},
    {"header_callback", case_header_callback},
    {"post", case_post},
    {"body_producer", case_body_producer},
    {"expect_100_continue", case_expect_100_continue},
    {"chunked", case_chunked},
    {"follow_redirect", case_follow_redirect},
    {"max_redirects", case_max_redirects},
    {"cross_origin_redirect", case_cross_origin_redirect},
    {"gzip", case_gzip},
    {"gzip_limit", case_gzip_limit},
    {"keepalive", case_keepalive},
    {"connect_timeout", case_connect_timeout},
    {"request_timeout", case_request_timeout},
    {"reset", case_reset},
    {"connection_refused", case_connection_refused},
    {"tls", case_tls},
    {"client_cert", case_client_cert},
    {"proxy", case_proxy},
    {"basic_auth", case_basic_auth},
    {"digest_auth", case_digest_auth},
    {"max_clients", case_max_clients},
    {"queue_timeout", case_queue_timeout},
    {"free_from_callback", case_free_from_callback},
    {"if_modified_since", case_if_modified_since},
    {"methods", case_methods},
    {"http_error", case_http_error},
    {"repeated_headers", case_repeated_headers},
    {"network_interface", case_network_interface},
    {"our_server", case_our_server},
};

static bool wanted(int argc, char **argv, const char *name)
{
    if (argc < 2)
        return true;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], name))
            return true;
    return false;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    loop = tp_loop_new();
    client = tp_http_client_new(loop, NULL);
    int failures = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        if (!wanted(argc, argv, cases[i].name))
            continue;
        failed_checks = 0;
        double t0 = tp__monotonic();
        cases[i].fn();
        printf("%s %s (%.2f s)\n", failed_checks ? "FAIL" : "ok", cases[i].name,
               tp__monotonic() - t0);
        failures += failed_checks != 0;
    }
    tp_http_client_free(client);
    tp_loop_free(loop);
    return failures ? 1 : 0;
}
