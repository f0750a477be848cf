/* Building a request from its head: the start line and headers, the target split into path
 * and query, Host checked, and Tornado's xheaders (X-Real-Ip, X-Forwarded-For/-Proto,
 * X-Scheme). Pure: it sees the request and the server options, not the connection. */
#include <ctype.h>
#include <string.h>

#include "http/conn_internal.h"
#include "platform/socket.h"

/* Host = uri-host [ ":" port ], uri-host from RFC 3986 characters (no spaces, no commas:
 * two Host headers joined by Tornado's "," are refused too). A constant table: no
 * initialisation on the request path. */
static const bool host_chars[256] = {
    ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1, ['-'] = 1, ['.'] = 1,  ['_'] = 1,
    ['~'] = 1,         ['!'] = 1,         ['$'] = 1,         ['&'] = 1, ['\''] = 1, ['('] = 1,
    [')'] = 1,         ['*'] = 1,         ['+'] = 1,         [';'] = 1, ['='] = 1,  ['%'] = 1,
    [':'] = 1,         ['['] = 1,         [']'] = 1,
};

static bool valid_host(tp_slice h)
{
    for (size_t i = 0; i < h.n; i++)
        if (!host_chars[(unsigned char)h.p[i]])
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

/* An authority: a host (a name, an address, or [IPv6] in brackets) and an optional port of
 * digits; no userinfo (RFC 9110 §4.2.4: "@" is refused with the other characters valid_host
 * refuses). */
static bool valid_authority(tp_slice a)
{
    if (!a.n || !valid_host(a))
        return false;
    const char *end = a.p + a.n, *port;
    if (a.p[0] == '[') {
        port = memchr(a.p, ']', a.n);
        if (!port || port == a.p + 1 || (++port < end && *port != ':'))
            return false;
    } else {
        port = memchr(a.p, ':', a.n);
        if (port == a.p)
            return false; /* no host before the port */
        port = port ? port : end;
    }
    for (const char *q = port + (port < end); q < end; q++)
        if (!isdigit((unsigned char)*q))
            return false;
    return true;
}

/* The scheme of an absolute-form target ("http" of "http://..."), or a null slice when the
 * target has none (origin-form "/...", asterisk-form "*", or something Tornado routes as it
 * is). */
static tp_slice target_scheme(tp_slice t)
{
    size_t i = 0;
    if (!t.n || !isalpha((unsigned char)t.p[0]))
        return TP_SLICE_NULL;
    while (i < t.n &&
           (isalnum((unsigned char)t.p[i]) || t.p[i] == '+' || t.p[i] == '-' || t.p[i] == '.'))
        i++;
    return i < t.n && t.p[i] == ':' ? (tp_slice){t.p, i} : TP_SLICE_NULL;
}

/* RFC 9112 §3.2.2: an absolute-form target ("http://host:port/path?query", the scheme in any
 * case) is served as its origin form: req->uri becomes "/path?query" ("/" for no path) and
 * *authority its host:port, which replaces Host. The scheme does not change req->protocol
 * (the connection's, or the proxy's with xheaders). 0, or 400 for a scheme other than
 * http/https or a bad authority. Kept out of line: inlined, this rare path cost every
 * request about ten instructions (register spills in tp__request_build). */
__attribute__((noinline)) static int absolute_target(tp_request *req, tp_slice *authority)
{
    tp_slice t = req->uri, scheme = target_scheme(t);
    if (!scheme.p || tp_slice_eq(req->method, TP_SLICE_LIT("CONNECT")))
        return 0; /* CONNECT's authority-form "host:port" is no scheme */
    if (!tp_slice_caseeq(scheme, TP_SLICE_LIT("http")) &&
        !tp_slice_caseeq(scheme, TP_SLICE_LIT("https")))
        return 400;
    size_t from = scheme.n + 3;
    if (t.n < from || memcmp(t.p + scheme.n, "://", 3) != 0)
        return 400;
    size_t end = from;
    while (end < t.n && t.p[end] != '/' && t.p[end] != '?')
        end++;
    *authority = (tp_slice){t.p + from, end - from};
    if (!valid_authority(*authority))
        return 400;
    tp_slice rest = {t.p + end, t.n - end};
    if (!rest.n)
        req->uri = TP_SLICE_LIT("/");
    else if (rest.p[0] == '?')
        req->uri = tp_slice_cstr(tp_arena_printf(&req->arena, "/%.*s", TP_SLICE_FMT(rest)));
    else
        req->uri = rest;
    return 0;
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
    tp_slice authority = TP_SLICE_NULL;
    if (req->uri.n && req->uri.p[0] != '/' && (status = absolute_target(req, &authority)))
        return status;
    split_target(req);
    if (!req->protocol.p) /* the connection's own (a PROXY header's TLS) comes first */
        req->protocol = o->protocol ? tp_slice_cstr(o->protocol) : TP_SLICE_LIT("http");
    size_t nhost = tp_headers_count(&req->headers, TP_SLICE_LIT("Host"));
    req->host = tp_headers_get(&req->headers, TP_SLICE_LIT("Host"));
    if (nhost > 1 || (nhost == 0 && req->version_minor >= 1))
        return 400;
    if (!req->host.p)
        req->host = TP_SLICE_LIT("127.0.0.1");
    if (!valid_host(req->host))
        return 400;
    if (authority.p)
        req->host = authority; /* the Host header is still required and checked (RFC 9112 §3.2) */
    req->host_name = host_name_of(&req->arena, req->host);
    if (o->xheaders)
        apply_xheaders(o, req);
    return 0;
}

int tp__request_h2_fill(tp_request *req, tp_slice authority, bool https,
                        const tp_http_server_opts *o)
{
    req->version = TP_SLICE_LIT("HTTP/2.0");
    req->version_minor = 1;
    if (!req->uri.n || req->uri.p[0] != '/')
        return 400; /* CONNECT and the asterisk form are not served */
    split_target(req);
    if (o->protocol)
        req->protocol = tp_slice_cstr(o->protocol);
    else
        req->protocol = https ? TP_SLICE_LIT("https") : TP_SLICE_LIT("http");
    req->host = authority.p ? authority : tp_headers_get(&req->headers, TP_SLICE_LIT("Host"));
    if (!req->host.p || !valid_host(req->host))
        return 400;
    req->host_name = host_name_of(&req->arena, req->host);
    if (o->xheaders)
        apply_xheaders(o, req);
    return 0;
}
