/* Building a request from its head: the start line and headers, the target split into path
 * and query, Host checked, and Tornado's xheaders (X-Real-Ip, X-Forwarded-For/-Proto,
 * X-Scheme). Pure: it sees the request and the server options, not the connection. */
#include <ctype.h>
#include <string.h>

#include "http/conn_internal.h"
#include "platform/socket.h"

/* Host = uri-host [ ":" port ], uri-host from RFC 3986 characters (no spaces, no commas:
 * two Host headers joined by Tornado's "," are refused too). */
static bool valid_host(tp_slice h)
{
    static bool ok[256];
    if (!ok['a']) {
        for (int ch = 0; ch < 256; ch++)
            ok[ch] = isalnum(ch) || (ch && strchr("-._~!$&'()*+;=%:[]", ch));
    }
    for (size_t i = 0; i < h.n; i++)
        if (!ok[(unsigned char)h.p[i]])
            return false;
    return true;
}

static tp_slice host_name_of(tp_arena *a, tp_slice host)
{
    size_t n = host.n;
    if (n && host.p[0] == '[') {
        const char *close = memchr(host.p, ']', n);
        n = close ? (size_t)(close - host.p) + 1 : n;
    } else {
        const char *colon = memchr(host.p, ':', n);
        n = colon ? (size_t)(colon - host.p) : n;
    }
    char *out = tp_arena_alloc(a, n + 1);
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)host.p[i]);
    out[n] = '\0';
    return (tp_slice){out, n};
}

/* Tornado's xheaders: X-Forwarded-For walked from the right past trusted proxies, X-Real-Ip
 * over it, kept only if it is an IP; X-Scheme or X-Forwarded-Proto (last entry) for the
 * protocol. */
static void apply_xheaders(const tp_http_server_opts *o, tp_request *req)
{
    tp_slice ip = req->remote_ip;
    tp_slice xff = tp_headers_get_joined(&req->headers, TP_SLICE_LIT("X-Forwarded-For"));
    const char *list = o->trusted_downstream;
    if (xff.p) {
        const char *end = xff.p + xff.n;
        while (end > xff.p) {
            const char *start = end;
            while (start > xff.p && start[-1] != ',')
                start--;
            ip = tp_slice_trim((tp_slice){start, (size_t)(end - start)});
            if (!list || !tp_list_has(tp_slice_cstr(list), ip))
                break;
            end = start > xff.p ? start - 1 : xff.p;
        }
    }
    tp_slice real = tp_headers_get(&req->headers, TP_SLICE_LIT("X-Real-Ip"));
    if (real.p)
        ip = tp_slice_trim(real);
    if (tp_is_valid_ip(ip.p, ip.n))
        req->remote_ip = tp_arena_slice_dup(&req->arena, ip);
    tp_slice proto = tp_headers_get(&req->headers, TP_SLICE_LIT("X-Scheme"));
    if (!proto.p)
        proto = tp_headers_get_joined(&req->headers, TP_SLICE_LIT("X-Forwarded-Proto"));
    if (proto.p) {
        const char *comma = proto.n ? memrchr(proto.p, ',', proto.n) : NULL;
        if (comma)
            proto = (tp_slice){comma + 1, (size_t)(proto.p + proto.n - comma - 1)};
        proto = tp_slice_trim(proto);
        if (tp_slice_eq(proto, TP_SLICE_LIT("http")) || tp_slice_eq(proto, TP_SLICE_LIT("https")))
            req->protocol = tp_arena_slice_dup(&req->arena, proto);
    }
}

static void split_target(tp_request *req)
{
    const char *q = memchr(req->uri.p, '?', req->uri.n);
    if (q) {
        req->path = (tp_slice){req->uri.p, (size_t)(q - req->uri.p)};
        req->query = (tp_slice){q + 1, (size_t)(req->uri.p + req->uri.n - q - 1)};
    } else {
        req->path = req->uri;
        req->query = (tp_slice){req->uri.p + req->uri.n, 0};
    }
}

int tp__request_build(tp_request *req, const char *head, size_t len, size_t lines,
                      const tp_http_server_opts *o)
{
    char *copy = tp_arena_alloc(&req->arena, len);
    memcpy(copy, head, len);
    size_t max = lines ? lines : 1;
    tp_http_header *hv = tp_arena_alloc(&req->arena, max * sizeof(*hv));
    tp_request_head h;
    int status = 400;
    if (tp_http_parse_head(copy, len, &h, hv, max, &status) != TP_OK)
        return status;
    tp_headers_init(&req->headers, &req->arena);
    tp_headers_adopt(&req->headers, h.headers, h.num_headers);
    req->method = h.method;
    req->uri = h.target;
    req->version_minor = h.version_minor;
    req->version = h.version_minor ? TP_SLICE_LIT("HTTP/1.1") : TP_SLICE_LIT("HTTP/1.0");
    split_target(req);
    req->protocol = o->protocol ? tp_slice_cstr(o->protocol) : TP_SLICE_LIT("http");
    size_t nhost = tp_headers_count(&req->headers, TP_SLICE_LIT("Host"));
    req->host = tp_headers_get(&req->headers, TP_SLICE_LIT("Host"));
    if (nhost > 1 || (nhost == 0 && req->version_minor >= 1))
        return 400;
    if (!req->host.p)
        req->host = TP_SLICE_LIT("127.0.0.1");
    if (!valid_host(req->host))
        return 400;
    req->host_name = host_name_of(&req->arena, req->host);
    if (o->xheaders)
        apply_xheaders(o, req);
    return 0;
}
