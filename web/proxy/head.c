/* The heads the proxy forwards: the request as the upstream gets it, and the response's
 * fields as the client gets them. Hop-by-hop fields (RFC 9110 §7.6.1: Connection and the
 * fields it names, and the ones nginx's proxy module drops: Keep-Alive, Proxy-Authenticate,
 * Proxy-Authorization, TE, Trailer, Transfer-Encoding, Upgrade) never cross. Every value
 * written comes from a parsed field (no CR or LF can be in it) or from the server itself. */
#include <string.h>

#include "http/headers.h"
#include "web/proxy/proxy_internal.h"

static const tp_slice hop_fields[] = {
    TP_SLICE_LIT("Connection"),
    TP_SLICE_LIT("Keep-Alive"),
    TP_SLICE_LIT("Proxy-Authenticate"),
    TP_SLICE_LIT("Proxy-Authorization"),
    TP_SLICE_LIT("TE"),
    TP_SLICE_LIT("Trailer"),
    TP_SLICE_LIT("Transfer-Encoding"),
    TP_SLICE_LIT("Upgrade"),
    TP_SLICE_LIT("Proxy-Connection"),
};

/* Fields the proxy sets itself (the client's are dropped or, when trusted, extended). */
static const tp_slice own_fields[] = {
    TP_SLICE_LIT("Host"),
    TP_SLICE_LIT("Content-Length"),
    TP_SLICE_LIT("Expect"),
    TP_SLICE_LIT("X-Forwarded-For"),
    TP_SLICE_LIT("X-Forwarded-Proto"),
    TP_SLICE_LIT("X-Forwarded-Host"),
    TP_SLICE_LIT("X-Real-Ip"),
    TP_SLICE_LIT("X-Scheme"),
};

static bool in_list(tp_slice name, const tp_slice *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (tp_slice_caseeq(name, list[i]))
            return true;
    return false;
}

bool tp__proxy_hop_by_hop(tp_slice name, tp_slice conn)
{
    if (in_list(name, hop_fields, sizeof(hop_fields) / sizeof(hop_fields[0])))
        return true;
    return conn.p && tp_list_has(conn, name);
}

enum tp_proxy_body tp__proxy_body_mode(const tp_request *req)
{
    const tp_headers *h = &req->headers;
    if (tp_headers_get(h, TP_SLICE_LIT("Transfer-Encoding")).p)
        return PROXY_BODY_CHUNKED;
    if (!tp_headers_get(h, TP_SLICE_LIT("Content-Length")).p)
        return PROXY_BODY_NONE;
    /* decompress_request changed the body: its length is no longer the one sent */
    if (tp_headers_get(h, TP_SLICE_LIT("X-Consumed-Content-Encoding")).p)
        return PROXY_BODY_CHUNKED;
    return PROXY_BODY_LENGTH;
}

bool tp__proxy_wants_upgrade(const tp_request *req)
{
    tp_slice conn = tp_headers_get_joined(&req->headers, TP_SLICE_LIT("Connection"));
    return conn.p && tp_list_has(conn, TP_SLICE_LIT("upgrade")) &&
           tp_headers_get(&req->headers, TP_SLICE_LIT("Upgrade")).p;
}

/* The path the upstream gets: strip_prefix off, the URL's base in front, the query kept. */
static void write_target(const tp_upstream *up, const tp_request *req, tp_buf *out)
{
    tp_slice path = req->path;
    const char *strip = up->opts.strip_prefix;
    size_t sn = strip ? strlen(strip) : 0;
    if (sn && path.n >= sn && memcmp(path.p, strip, sn) == 0) {
        path.p += sn;
        path.n -= sn;
    }
    tp_buf_append_str(out, up->base);
    if (!path.n || path.p[0] != '/')
        tp_buf_append(out, "/", 1);
    tp_buf_append(out, path.p, path.n);
    tp_buf_append(out, req->uri.p + req->path.n, req->uri.n - req->path.n);
}

static void field(tp_buf *out, const char *name, tp_slice value)
{
    tp_headers_write_field(out, tp_slice_cstr(name), value);
}

/* X-Forwarded-For, -Proto, -Host and X-Real-Ip (which Tornado's xheaders reads first). */
static void write_forwarded(const tp_request *req, tp_slice peer, bool trusted, tp_buf *out)
{
    const tp_headers *h = &req->headers;
    tp_slice xff =
        trusted ? tp_headers_get_joined(h, TP_SLICE_LIT("X-Forwarded-For")) : TP_SLICE_NULL;
    tp_slice proto = trusted ? tp_headers_get(h, TP_SLICE_LIT("X-Forwarded-Proto")) : TP_SLICE_NULL;
    tp_slice host = trusted ? tp_headers_get(h, TP_SLICE_LIT("X-Forwarded-Host")) : TP_SLICE_NULL;
    tp_buf_append_str(out, "X-Forwarded-For: ");
    if (xff.n) {
        tp_buf_append(out, xff.p, xff.n);
        tp_buf_append(out, ", ", 2);
    }
    tp_buf_append(out, peer.p, peer.n);
    tp_buf_append(out, "\r\n", 2);
    field(out, "X-Real-Ip", req->remote_ip);
    field(out, "X-Forwarded-Proto", proto.n ? proto : req->protocol);
    if (host.n || req->host.n)
        field(out, "X-Forwarded-Host", host.n ? host : req->host);
}

void tp__proxy_request_head(const tp_upstream *up, const tp_request *req, tp_slice peer,
                            bool trusted, enum tp_proxy_body body, bool upgrade, tp_buf *out)
{
    const tp_headers *h = &req->headers;
    tp_slice conn = tp_headers_get_joined(h, TP_SLICE_LIT("Connection"));
    tp_buf_append(out, req->method.p, req->method.n);
    tp_buf_append(out, " ", 1);
    write_target(up, req, out);
    tp_buf_append_str(out, " HTTP/1.1\r\n");
    field(out, "Host",
          up->opts.pass_host && req->host.n ? req->host : tp_slice_cstr(up->host_port));
    for (size_t i = 0; i < h->n; i++) {
        tp_slice name = h->v[i].name;
        if (tp__proxy_hop_by_hop(name, conn) ||
            in_list(name, own_fields, sizeof(own_fields) / sizeof(own_fields[0])))
            continue;
        tp_headers_write_field(out, name, h->v[i].value);
    }
    write_forwarded(req, peer, trusted, out);
    if (body == PROXY_BODY_LENGTH)
        field(out, "Content-Length", tp_headers_get(h, TP_SLICE_LIT("Content-Length")));
    else if (body == PROXY_BODY_CHUNKED)
        tp_buf_append_str(out, "Transfer-Encoding: chunked\r\n");
    if (upgrade) {
        field(out, "Upgrade", tp_headers_get_joined(h, TP_SLICE_LIT("Upgrade")));
        tp_buf_append_str(out, "Connection: Upgrade\r\n");
    } else if (up->opts.no_keep_alive) {
        tp_buf_append_str(out, "Connection: close\r\n");
    }
    tp_buf_append(out, "\r\n", 2);
}

void tp__proxy_response_fields(const tp_response_head *rh, tp_headers *out)
{
    for (size_t i = 0; i < rh->num_headers; i++) {
        const tp_http_header *f = &rh->headers[i];
        if (tp__proxy_hop_by_hop(f->name, TP_SLICE_NULL))
            continue;
        bool seen_conn = false;
        for (size_t k = 0; k < rh->num_headers && !seen_conn; k++)
            seen_conn = tp_slice_caseeq(rh->headers[k].name, TP_SLICE_LIT("Connection")) &&
                        tp_list_has(rh->headers[k].value, f->name);
        if (!seen_conn)
            tp_headers_add(out, f->name, f->value);
    }
}
