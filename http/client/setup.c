/* One tp_http_request into a libcurl easy handle: method and body (a copy, or a producer
 * streamed through CURLOPT_READFUNCTION), headers, timeouts, redirects, decompression, auth,
 * proxy, TLS. libcurl copies every string option, so the request may go once this returns. */
#include "http/client/client_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "http/date.h"

static const char *const standard_methods[] = {"GET",    "HEAD",  "POST",   "PUT",
                                               "DELETE", "PATCH", "OPTIONS"};

static bool is_standard(const char *m)
{
    for (size_t i = 0; i < sizeof(standard_methods) / sizeof(*standard_methods); i++)
        if (strcmp(m, standard_methods[i]) == 0)
            return true;
    return false;
}

/* Tornado's checks (simple_httpclient): known methods only, and a body exactly for POST,
 * PATCH and PUT, unless allow_nonstandard_methods. */
static int check_method(const tp_http_request *req, const char *m, const char **msg)
{
    if (req->allow_nonstandard_methods)
        return 0;
    if (!is_standard(m)) {
        *msg = "unknown method (unless allow_nonstandard_methods is true)";
        return -EINVAL;
    }
    bool expected = !strcmp(m, "POST") || !strcmp(m, "PATCH") || !strcmp(m, "PUT");
    bool present = req->body.p != NULL || req->body_producer != NULL;
    if (expected && !present) {
        *msg = "Body must not be None for this method (unless allow_nonstandard_methods is true)";
        return -EINVAL;
    }
    if (present && !expected) {
        *msg = "Body must be None for this method (unless allow_nonstandard_methods is true)";
        return -EINVAL;
    }
    return 0;
}

static size_t on_read(char *buf, size_t size, size_t n, void *userdata)
{
    tp__http_fetch *f = userdata;
    ssize_t got = f->body_producer(buf, size * n, f->body_producer_arg);
    if (got < 0) {
        f->abort_error = -ECANCELED;
        f->abort_message = "body_producer failed";
        return CURL_READFUNC_ABORT;
    }
    return (size_t)got;
}

static void set_method_body(tp__http_fetch *f, const tp_http_request *req, const char *m)
{
    CURL *e = f->easy;
    if (req->body_producer) {
        f->body_producer = req->body_producer;
        f->body_producer_arg = req->body_producer_arg;
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(e, CURLOPT_READDATA, f);
        if (req->body_size >= 0)
            curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_size);
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    } else if (req->body.p) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body.n);
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body.p);
        if (strcmp(m, "POST") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    } else if (!strcmp(m, "HEAD")) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (strcmp(m, "GET") != 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    }
}

static void add_header(tp__http_fetch *f, tp_slice name, tp_slice value)
{
    char line[8192];
    /* "Name;" is libcurl's way to send a header with an empty value. */
    int n = value.n ? snprintf(line, sizeof(line), "%.*s: %.*s", TP_SLICE_FMT(name),
                               TP_SLICE_FMT(value))
                    : snprintf(line, sizeof(line), "%.*s;", TP_SLICE_FMT(name));
    if (n > 0 && (size_t)n < sizeof(line)) {
        f->slist = curl_slist_append(f->slist, line);
    } else {
        char *big = tp_malloc(name.n + value.n + 4);
        sprintf(big, "%.*s: %.*s", TP_SLICE_FMT(name), TP_SLICE_FMT(value));
        f->slist = curl_slist_append(f->slist, big);
        tp_free(big);
    }
}

static void set_headers(tp__http_fetch *f, const tp_http_request *req)
{
    if (req->headers)
        for (size_t i = 0; i < req->headers->n; i++)
            add_header(f, req->headers->v[i].name, req->headers->v[i].value);
    /* libcurl adds "Expect: 100-continue" to big uploads on its own; Tornado only on request. */
    if (req->expect_100_continue)
        f->slist = curl_slist_append(f->slist, "Expect: 100-continue");
    else
        f->slist = curl_slist_append(f->slist, "Expect:");
    if (req->if_modified_since > 0) {
        char date[TP_HTTP_DATE_LEN + 1];
        tp_http_date_format((time_t)req->if_modified_since, date);
        add_header(f, TP_SLICE_LIT("If-Modified-Since"), tp_slice_cstr(date));
    }
    curl_easy_setopt(f->easy, CURLOPT_HTTPHEADER, f->slist);
}

static long auth_bits(const char *mode)
{
    return mode && !strcasecmp(mode, "digest") ? CURLAUTH_DIGEST : CURLAUTH_BASIC;
}

static int check_auth_mode(const char *mode, const char **msg)
{
    if (!mode || !strcasecmp(mode, "basic") || !strcasecmp(mode, "digest"))
        return 0;
    *msg = "unsupported auth_mode (basic or digest)";
    return -EINVAL;
}

static void set_auth_proxy(tp__http_fetch *f, const tp_http_request *req)
{
    CURL *e = f->easy;
    if (req->auth_username) {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, auth_bits(req->auth_mode));
        curl_easy_setopt(e, CURLOPT_USERNAME, req->auth_username);
        curl_easy_setopt(e, CURLOPT_PASSWORD, req->auth_password ? req->auth_password : "");
    }
    /* No proxy unless asked: the environment's http_proxy is ignored, as in Tornado. */
    curl_easy_setopt(e, CURLOPT_PROXY, req->proxy_host ? req->proxy_host : "");
    if (req->proxy_host && req->proxy_port > 0)
        curl_easy_setopt(e, CURLOPT_PROXYPORT, (long)req->proxy_port);
    if (req->proxy_host && req->proxy_username) {
        curl_easy_setopt(e, CURLOPT_PROXYAUTH, auth_bits(req->proxy_auth_mode));
        curl_easy_setopt(e, CURLOPT_PROXYUSERNAME, req->proxy_username);
        curl_easy_setopt(e, CURLOPT_PROXYPASSWORD, req->proxy_password ? req->proxy_password : "");
    }
}

static void set_tls(CURL *e, const tp_http_request *req)
{
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, req->validate_cert ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, req->validate_cert ? 2L : 0L);
    if (req->ca_certs)
        curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_certs);
    if (req->client_cert)
        curl_easy_setopt(e, CURLOPT_SSLCERT, req->client_cert);
    if (req->client_key)
        curl_easy_setopt(e, CURLOPT_SSLKEY, req->client_key);
}

static long ms(double s)
{
    return (long)((s > 0 ? s : 20.0) * 1000);
}

static void set_transfer(tp__http_fetch *f, const tp_http_request *req)
{
    CURL *e = f->easy;
    tp_http_client *c = f->c;
    curl_easy_setopt(e, CURLOPT_PRIVATE, f);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, f->errbuf);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, tp__http_on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, tp__http_on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, f);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ms(req->connect_timeout));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ms(req->request_timeout));
    curl_easy_setopt(e, CURLOPT_USERAGENT, req->user_agent ? req->user_agent : c->user_agent);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, req->decompress_response ? "gzip" : NULL);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->max_body_size);
    bool follow = req->follow_redirects && req->max_redirects >= 0;
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, follow ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, req->max_redirects > 0 ? (long)req->max_redirects : 5L);
    /* Credentials go to the first host only; libcurl also drops custom Authorization and
     * Cookie headers when a redirect changes host, port or scheme (7.83+). */
    curl_easy_setopt(e, CURLOPT_UNRESTRICTED_AUTH, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    if (!req->allow_ipv6)
        curl_easy_setopt(e, CURLOPT_IPRESOLVE, (long)CURL_IPRESOLVE_V4);
    if (req->network_interface)
        curl_easy_setopt(e, CURLOPT_INTERFACE, req->network_interface);
}

int tp__http_setup(tp__http_fetch *f, const tp_http_request *req, const char **msg)
{
    const char *m = req->method ? req->method : "GET";
    int rc = check_method(req, m, msg);
    if (!rc)
        rc = check_auth_mode(req->auth_mode, msg);
    if (!rc && (!req->url || curl_easy_setopt(f->easy, CURLOPT_URL, req->url) != CURLE_OK)) {
        *msg = "bad URL";
        rc = -EINVAL;
    }
    if (rc)
        return rc;
    f->streaming_callback = req->streaming_callback;
    f->streaming_arg = req->streaming_arg;
    f->header_callback = req->header_callback;
    f->header_arg = req->header_arg;
    f->raise_error = req->raise_error;
    f->follow_redirects = req->follow_redirects;
    f->decompress = req->decompress_response;
    f->request_timeout = req->request_timeout > 0 ? req->request_timeout : 20.0;
    set_transfer(f, req);
    set_method_body(f, req, m);
    set_headers(f, req);
    set_auth_proxy(f, req);
    set_tls(f->easy, req);
    return 0;
}

void tp_http_request_init(tp_http_request *req, const char *url)
{
    *req = (tp_http_request)TP_HTTP_REQUEST_INIT;
    req->url = url;
}
