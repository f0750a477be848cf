/* The HTTP client (http/client) without outside servers: request checks, the defaults,
 * tp_http_fetch_on_loop's timeout, tp_http_client_free with fetches running and queued, and
 * status line / header parsing against a canned peer on the same loop. The client against
 * nginx, Python peers and testapp: tests/httpclient (make httpclient-test). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/status.h"
#include "http/client/client.h"
#include "tests/unit/suites.h"

/* A listening socket on 127.0.0.1; with answer == NULL nobody accepts (the kernel completes
 * the connection, nothing ever answers), else each connection gets `answer` once its request
 * head is in, then is closed. */
typedef struct peer {
    tp_loop *loop;
    int fd, port;
    const char *answer;
    char url[64];
} peer;

static void on_conn(tp_loop *loop, int fd, unsigned events, void *arg)
{
    peer *p = arg;
    char buf[4096];
    (void)events;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    if (n > 0) {
        buf[n] = '\0';
        if (!strstr(buf, "\r\n\r\n"))
            return; /* a request head this small comes in one read */
        ck_assert_int_eq(write(fd, p->answer, strlen(p->answer)), (ssize_t)strlen(p->answer));
    }
    tp_loop_remove_fd(loop, fd);
    close(fd);
}

static void on_accept(tp_loop *loop, int fd, unsigned events, void *arg)
{
    (void)events;
    int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c >= 0)
        ck_assert_int_eq(tp_loop_add_fd(loop, c, TP_READ, on_conn, arg), 0);
}

static void peer_start(peer *p, tp_loop *loop, const char *answer)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    *p = (peer){.loop = loop, .answer = answer};
    p->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(p->fd, 0);
    ck_assert_int_eq(bind(p->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(p->fd, 16), 0);
    ck_assert_int_eq(getsockname(p->fd, (struct sockaddr *)&a, &len), 0);
    p->port = ntohs(a.sin_port);
    snprintf(p->url, sizeof(p->url), "http://127.0.0.1:%d/x", p->port);
    if (answer)
        ck_assert_int_eq(tp_loop_add_fd(loop, p->fd, TP_READ, on_accept, p), 0);
}

static void peer_stop(peer *p)
{
    if (p->answer)
        tp_loop_remove_fd(p->loop, p->fd);
    close(p->fd);
}

START_TEST(request_defaults)
{
    tp_http_request r;
    tp_http_request_init(&r, "http://a/");
    ck_assert(r.follow_redirects && r.validate_cert && r.decompress_response && r.raise_error);
    ck_assert_int_eq(r.max_redirects, 5);
    ck_assert_int_eq(r.body_size, -1);
    ck_assert_ptr_null(r.method);
    ck_assert_str_eq(r.url, "http://a/");
}
END_TEST

static void never(tp_http_response *r, void *arg)
{
    (void)r;
    (void)arg;
    ck_abort_msg("callback of a refused fetch");
}

/* test_body_sanity_checks, test_unsupported_auth_mode */
START_TEST(invalid_requests)
{
    tp_loop *loop = tp_loop_new();
    tp_http_client *c = tp_http_client_new(loop, NULL);
    tp_http_request r;
    tp_http_request_init(&r, "http://127.0.0.1:1/");
    r.body = TP_SLICE_LIT("x");
    ck_assert_int_eq(tp_http_fetch(c, &r, never, NULL), -EINVAL); /* GET with a body */
    r.method = "PUT";
    r.body = TP_SLICE_NULL;
    ck_assert_int_eq(tp_http_fetch(c, &r, never, NULL), -EINVAL); /* PUT without */
    r.method = "BREW";
    ck_assert_int_eq(tp_http_fetch(c, &r, never, NULL), -EINVAL);
    r.method = NULL;
    r.auth_username = "u";
    r.auth_mode = "ntlm";
    ck_assert_int_eq(tp_http_fetch(c, &r, never, NULL), -EINVAL);
    r.auth_mode = NULL;
    r.url = NULL;
    ck_assert_int_eq(tp_http_fetch(c, &r, never, NULL), -EINVAL);
    tp_http_response *out = (tp_http_response *)&r;
    ck_assert_int_eq(tp_http_fetch_on_loop(loop, c, &r, 1, &out), -EINVAL);
    ck_assert_ptr_null(out);
    tp_http_client_free(c);
    ck_assert_uint_eq(tp_loop_live_handles(loop), 0);
    tp_loop_free(loop);
}
END_TEST

/* A fetch that never answers: tp_http_fetch_on_loop gives up after its timeout and cancels
 * the fetch (no callback later, nothing left on the loop once the client goes). */
START_TEST(on_loop_timeout)
{
    tp_loop *loop = tp_loop_new();
    tp_http_client *c = tp_http_client_new(loop, NULL);
    peer p;
    peer_start(&p, loop, NULL);
    tp_http_request r;
    tp_http_request_init(&r, p.url);
    tp_http_response *out = NULL;
    ck_assert_int_eq(tp_http_fetch_on_loop(loop, c, &r, 0.2, &out), -ETIMEDOUT);
    ck_assert_ptr_null(out);
    tp_http_client_free(c);
    ck_assert_uint_eq(tp_loop_live_handles(loop), 0);
    peer_stop(&p);
    tp_loop_free(loop);
}
END_TEST

static int cancelled;

static void count_cancelled(tp_http_response *r, void *arg)
{
    (void)arg;
    ck_assert_int_eq(r->code, 599);
    ck_assert_int_eq(r->error, -ECANCELED);
    ck_assert_str_eq(r->error_message, "HTTP client closed");
    cancelled++;
}

/* Freeing the client completes the running and the queued fetches with 599 first. */
START_TEST(free_completes_pending)
{
    tp_loop *loop = tp_loop_new();
    tp_http_client_opts o = {.max_clients = 1};
    tp_http_client *c = tp_http_client_new(loop, &o);
    peer p;
    peer_start(&p, loop, NULL);
    tp_http_request r;
    tp_http_request_init(&r, p.url);
    cancelled = 0;
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(tp_http_fetch(c, &r, count_cancelled, NULL), 0);
    ck_assert_int_eq(cancelled, 0); /* never from inside tp_http_fetch */
    tp_http_client_free(c);
    ck_assert_int_eq(cancelled, 3);
    ck_assert_uint_eq(tp_loop_live_handles(loop), 0);
    peer_stop(&p);
    tp_loop_free(loop);
}
END_TEST

static tp_http_response *fetch_canned(tp_loop *loop, const char *answer, bool raise)
{
    tp_http_client *c = tp_http_client_new(loop, NULL);
    peer p;
    peer_start(&p, loop, answer);
    tp_http_request r;
    tp_http_request_init(&r, p.url);
    r.raise_error = raise;
    tp_http_response *out = NULL;
    ck_assert_int_eq(tp_http_fetch_on_loop(loop, c, &r, 30, &out), 0);
    tp_http_client_free(c);
    peer_stop(&p);
    return out;
}

/* Repeated fields kept in order, names in Tornado's case, the reason from the status line. */
START_TEST(status_and_headers)
{
    tp_loop *loop = tp_loop_new();
    tp_http_response *r = fetch_canned(loop,
                                       "HTTP/1.1 201 Made It\r\nx-a: 1\r\nContent-Length: 2\r\n"
                                       "X-A:  2 \r\nConnection: close\r\n\r\nhi",
                                       true);
    ck_assert_int_eq(r->code, 201);
    ck_assert_int_eq(r->error, 0);
    ck_assert_str_eq(r->reason, "Made It");
    ck_assert_uint_eq(tp_headers_count(r->headers, TP_SLICE_LIT("X-A")), 2);
    ck_assert(
        tp_slice_eq(tp_headers_get_joined(r->headers, TP_SLICE_LIT("x-a")), TP_SLICE_LIT("1,2")));
    ck_assert(tp_slice_eq(r->headers->v[0].name, TP_SLICE_LIT("X-A")));
    ck_assert(tp_slice_eq(r->body, TP_SLICE_LIT("hi")));
    ck_assert_ptr_null(r->error_message);
    tp_http_response_free(r);
    /* No reason phrase: "Unknown"; an error code with raise_error. */
    r = fetch_canned(loop, "HTTP/1.1 503\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", true);
    ck_assert_int_eq(r->code, 503);
    ck_assert_str_eq(r->reason, "Unknown");
    ck_assert_int_eq(r->error, TP_ERROR);
    ck_assert_str_eq(r->error_message, "HTTP 503: Unknown");
    tp_http_response_free(r);
    tp_loop_free(loop);
}
END_TEST

/* A 100 Continue before the answer: the answer's headers only. */
START_TEST(interim_response_skipped)
{
    tp_loop *loop = tp_loop_new();
    tp_http_response *r = fetch_canned(loop,
                                       "HTTP/1.1 100 Continue\r\nX-Early: 1\r\n\r\n"
                                       "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
                                       "Connection: close\r\n\r\nz",
                                       true);
    ck_assert_int_eq(r->code, 200);
    ck_assert_str_eq(r->reason, "OK");
    ck_assert_uint_eq(tp_headers_count(r->headers, TP_SLICE_LIT("X-Early")), 0);
    ck_assert(tp_slice_eq(r->body, TP_SLICE_LIT("z")));
    tp_http_response_free(r);
    tp_loop_free(loop);
}
END_TEST

typedef struct nested {
    tp_http_client *c;
    tp_http_request req;
    int fetched, done, code[2];
} nested;

static void nested_done(tp_http_response *r, void *arg)
{
    nested *n = arg;
    n->code[n->done++ % 2] = r->code;
}

/* tp_http_fetch from a streaming callback: queued until libcurl returns, then run. */
static void fetch_from_chunk(tp_slice chunk, void *arg)
{
    nested *n = arg;
    (void)chunk;
    if (n->fetched++ == 0) {
        n->req.streaming_callback = NULL;
        ck_assert_int_eq(tp_http_fetch(n->c, &n->req, nested_done, n), 0);
    }
}

/* tp_http_client_free from a header callback: the free waits until libcurl returns. */
static void free_from_header(tp_slice line, void *arg)
{
    nested *n = arg;
    (void)line;
    if (n->c) {
        tp_http_client_free(n->c);
        n->c = NULL;
    }
}

static void stop_loop(tp_loop *loop, void *arg)
{
    (void)arg;
    tp_loop_stop(loop);
}

static void run_until_done(tp_loop *loop, nested *n, int want)
{
    double end = tp__monotonic() + 30;
    while (n->done < want && tp__monotonic() < end) {
        tp_loop_call_later(loop, 0.01, stop_loop, NULL);
        tp_loop_run(loop);
    }
}

START_TEST(calls_from_callbacks)
{
    tp_loop *loop = tp_loop_new();
    peer p;
    peer_start(&p, loop, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    nested n = {.c = tp_http_client_new(loop, NULL)};
    tp_http_request_init(&n.req, p.url);
    n.req.streaming_callback = fetch_from_chunk;
    n.req.streaming_arg = &n;
    ck_assert_int_eq(tp_http_fetch(n.c, &n.req, nested_done, &n), 0);
    run_until_done(loop, &n, 2);
    ck_assert_int_eq(n.done, 2);
    ck_assert_int_eq(n.code[0], 200);
    ck_assert_int_eq(n.code[1], 200);
    tp_http_client_free(n.c);

    nested f = {.c = tp_http_client_new(loop, NULL)};
    tp_http_request_init(&f.req, p.url);
    f.req.header_callback = free_from_header;
    f.req.header_arg = &f;
    ck_assert_int_eq(tp_http_fetch(f.c, &f.req, nested_done, &f), 0);
    run_until_done(loop, &f, 1);
    ck_assert_int_eq(f.done, 1);
    /* Completed (the whole answer came in that read) or cancelled by the free: either way
     * exactly once, and the client went when libcurl returned. */
    ck_assert(f.code[0] == 200 || f.code[0] == 599);
    ck_assert_ptr_null(f.c);
    peer_stop(&p);
    ck_assert_uint_eq(tp_loop_live_handles(loop), 0);
    tp_loop_free(loop);
}
END_TEST

Suite *http_client_suite(void)
{
    Suite *s = suite_create("http_client");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, request_defaults);
    tcase_add_test(tc, invalid_requests);
    tcase_add_test(tc, on_loop_timeout);
    tcase_add_test(tc, free_completes_pending);
    tcase_add_test(tc, status_and_headers);
    tcase_add_test(tc, interim_response_skipped);
    tcase_add_test(tc, calls_from_callbacks);
    suite_add_tcase(s, tc);
    return s;
}
