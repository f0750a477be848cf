/* tp-fetch: `python3 -m tornado.httpclient URL...` in C. Fetches each URL with
 * tp_http_fetch_sync and prints the headers (--print_headers) and the body (--print_body) as
 * Tornado's main() does. A failure (an HTTP error status, or 599) prints nothing on stdout
 * and one line on stderr ("tp-fetch: URL: HTTP 404: Not Found") and exits 1, where Tornado
 * prints a traceback and exits 1. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/options.h"
#include "http/client/client.h"

typedef struct fetch_opts {
    bool print_headers, print_body, follow_redirects, validate_cert;
    const char *proxy_host;
    int proxy_port;
    const char *method, *body;
    double request_timeout, connect_timeout;
} fetch_opts;

#define FOPT(n_, t_, h_, lo, hi) TP_OPTION(fetch_opts, n_, t_, h_, .min = lo, .max = hi)

static const tp_option options[] = {
    FOPT(print_headers, TP_OPT_BOOL, "print the response headers", 0, 0),
    FOPT(print_body, TP_OPT_BOOL, "print the response body", 0, 0),
    FOPT(follow_redirects, TP_OPT_BOOL, "follow redirects", 0, 0),
    FOPT(validate_cert, TP_OPT_BOOL, "check the server's TLS certificate", 0, 0),
    FOPT(proxy_host, TP_OPT_STRING, "HTTP proxy host", 0, 0),
    FOPT(proxy_port, TP_OPT_INT, "HTTP proxy port", 0, 65535),
    FOPT(method, TP_OPT_STRING, "request method (default GET, or POST with --body)", 0, 0),
    FOPT(body, TP_OPT_STRING, "request body", 0, 0),
    FOPT(connect_timeout, TP_OPT_DOUBLE, "seconds to connect (0: 20)", 0, 1e6),
    FOPT(request_timeout, TP_OPT_DOUBLE, "seconds for the whole request (0: 20)", 0, 1e6),
};

/* HTTPHeaders.__str__ then print(): "Name: value\n" per field, then an empty line. */
static void print_headers(const tp_headers *h)
{
    for (size_t i = 0; i < h->n; i++)
        printf("%.*s: %.*s\n", TP_SLICE_FMT(h->v[i].name), TP_SLICE_FMT(h->v[i].value));
    printf("\n");
}

static int fetch_one(const fetch_opts *o, const char *url)
{
    tp_http_request req;
    tp_http_request_init(&req, url);
    req.follow_redirects = o->follow_redirects;
    req.validate_cert = o->validate_cert;
    req.proxy_host = o->proxy_host;
    req.proxy_port = o->proxy_port;
    req.method = o->method ? o->method : o->body ? "POST" : NULL;
    req.body = o->body ? tp_slice_cstr(o->body) : TP_SLICE_NULL;
    req.connect_timeout = o->connect_timeout;
    req.request_timeout = o->request_timeout;
    req.allow_nonstandard_methods = o->method != NULL;
    tp_http_response *r = NULL;
    int rc = tp_http_fetch_sync(&req, &r);
    if (rc < 0) {
        fprintf(stderr, "tp-fetch: %s: %s\n", url, strerror(-rc));
        return 1;
    }
    if (r->error) {
        if (r->code == 599)
            fprintf(stderr, "tp-fetch: %s: HTTP 599: %s\n", url, r->error_message);
        else
            fprintf(stderr, "tp-fetch: %s: %s\n", url, r->error_message);
        tp_http_response_free(r);
        return 1;
    }
    if (o->print_headers)
        print_headers(r->headers);
    if (o->print_body) {
        fwrite(r->body.p, 1, r->body.n, stdout);
        printf("\n");
    }
    tp_http_response_free(r);
    return 0;
}

int main(int argc, char **argv)
{
    fetch_opts o = {.print_body = true, .follow_redirects = true, .validate_cert = true};
    tp_option_group group = {"tp-fetch [options] URL...", options,
                             sizeof(options) / sizeof(*options), &o};
    char err[256];
    int rest = argc;
    int rc = tp_options_parse(&group, 1, argc, argv, &rest, err, sizeof(err));
    if (rc == 1) {
        tp_options_print_help(&group, 1, stdout);
        return 0;
    }
    if (rc < 0) {
        fprintf(stderr, "tp-fetch: %s\n", err);
        return 2;
    }
    if (rest >= argc) {
        fprintf(stderr, "usage: tp-fetch [--print_headers] [--print_body=false] ... URL...\n");
        return 2;
    }
    int status = 0;
    for (int i = rest; i < argc; i++)
        status |= fetch_one(&o, argv[i]);
    return status;
}
