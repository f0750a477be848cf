/* tp_ws_connect's handshake without the connection: the URL, the request, the response head
 * and the checks of a 101 (see client_internal.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "http/parser.h"
#include "http/websocket/client_internal.h"

/* Header lines in a response head at most: a server cannot make us index thousands. */
#define MAX_RESPONSE_HEADERS 100

static bool is_host_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || ch == '_';
}

static bool is_v6_char(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F') ||
           ch == ':' || ch == '.';
}

/* "digits" in 1..65535, or empty (the default port). */
static int parse_port(tp_slice p, tp_arena *a, const char **out)
{
    if (p.n == 0) {
        *out = "80";
        return 0;
    }
    long v = 0;
    for (size_t i = 0; i < p.n; i++) {
        if (p.p[i] < '0' || p.p[i] > '9' || (v = v * 10 + (p.p[i] - '0')) > 65535)
            return -EINVAL;
    }
    if (v == 0)
        return -EINVAL;
    *out = tp_arena_printf(a, "%ld", v);
    return 0;
}

/* host[:port] or [v6][:port]. */
static int parse_netloc(tp_slice n, tp_arena *a, tp_ws_url *u)
{
    tp_slice host, port = TP_SLICE_NULL;
    bool v6 = n.n && n.p[0] == '[';
    if (v6) {
        const char *close = memchr(n.p, ']', n.n);
        if (!close)
            return -EINVAL;
        host = tp_slice_make(n.p + 1, (size_t)(close - n.p - 1));
        tp_slice after = tp_slice_make(close + 1, (size_t)(n.p + n.n - close - 1));
        if (after.n && after.p[0] != ':')
            return -EINVAL;
        if (after.n)
            port = tp_slice_make(after.p + 1, after.n - 1);
    } else {
        const char *colon = memchr(n.p, ':', n.n);
        host = tp_slice_make(n.p, colon ? (size_t)(colon - n.p) : n.n);
        if (colon)
            port = tp_slice_make(colon + 1, (size_t)(n.p + n.n - colon - 1));
    }
    if (host.n == 0)
        return -EINVAL;
    for (size_t i = 0; i < host.n; i++)
        if (!(v6 ? is_v6_char(host.p[i]) : is_host_char(host.p[i])))
            return -EINVAL;
    u->host = tp_arena_strndup(a, host.p, host.n);
    u->netloc = tp_arena_strndup(a, n.p, n.n);
    return parse_port(port, a, &u->port);
}

int tp__ws_parse_url(const char *url, tp_arena *a, tp_ws_url *u)
{
    const char *sep = strstr(url, "://");
    if (!sep)
        return -EINVAL;
    tp_slice scheme = tp_slice_make(url, (size_t)(sep - url));
    if (tp_slice_caseeq(scheme, TP_SLICE_LIT("wss")))
        return -EPROTONOSUPPORT;
    if (!tp_slice_caseeq(scheme, TP_SLICE_LIT("ws")))
        return -EINVAL;
    const char *p = sep + 3;
    for (const char *q = p; *q; q++)
        if ((unsigned char)*q <= 0x20 || *q == 0x7f)
            return -EINVAL;
    tp_slice netloc = tp_slice_make(p, strcspn(p, "/?#"));
    if (memchr(netloc.p, '@', netloc.n))
        return -EINVAL; /* user info: no Basic auth from the URL */
    int rc = parse_netloc(netloc, a, u);
    if (rc < 0)
        return rc;
    const char *rest = p + netloc.n;
    size_t n = strcspn(rest, "#");
    if (n == 0)
        u->resource = "/";
    else
        u->resource = tp_arena_printf(a, "%s%.*s", rest[0] == '?' ? "/" : "", (int)n, rest);
    return 0;
}

/* A field we send ourselves, which a custom header of that name does not replace. */
static bool ours(tp_slice name, const tp_ws_connect_opts *o, tp_slice offer)
{
    static const tp_slice always[] = {TP_SLICE_LIT("Upgrade"), TP_SLICE_LIT("Connection"),
                                      TP_SLICE_LIT("Sec-WebSocket-Key"),
                                      TP_SLICE_LIT("Sec-WebSocket-Version")};
    for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
        if (tp_slice_caseeq(name, always[i]))
            return true;
    if (o->subprotocols && tp_slice_caseeq(name, TP_SLICE_LIT("Sec-WebSocket-Protocol")))
        return true;
    return offer.p && tp_slice_caseeq(name, TP_SLICE_LIT("Sec-WebSocket-Extensions"));
}

static int write_custom(tp_buf *out, const tp_ws_connect_opts *o, tp_slice offer)
{
    if (!o->headers)
        return 0;
    for (size_t i = 0; i < o->headers->n; i++) {
        const tp_http_header *h = &o->headers->v[i];
        if (!tp_http_valid_token(h->name) || !tp_http_valid_header_value(h->value))
            return -EINVAL;
        if (!ours(h->name, o, offer))
            tp_headers_write_field(out, h->name, h->value);
    }
    return 0;
}

static int write_subprotocols(tp_buf *out, const char *const *sp)
{
    if (!sp || !sp[0])
        return 0;
    tp_buf_append_str(out, "Sec-WebSocket-Protocol: ");
    for (size_t i = 0; sp[i]; i++) {
        if (!tp_http_valid_token(tp_slice_cstr(sp[i])))
            return -EINVAL;
        tp_buf_appendf(out, "%s%s", i ? "," : "", sp[i]);
    }
    tp_buf_append_str(out, "\r\n");
    return 0;
}

int tp__ws_build_request(tp_buf *out, const tp_ws_url *u, const char *key,
                         const tp_ws_connect_opts *o, tp_slice offer)
{
    tp_buf_appendf(out, "GET %s HTTP/1.1\r\n", u->resource);
    if (!o->headers || !tp_headers_get(o->headers, TP_SLICE_LIT("Host")).p)
        tp_buf_appendf(out, "Host: %s\r\n", u->netloc);
    if (write_custom(out, o, offer) < 0)
        return -EINVAL;
    tp_buf_appendf(out,
                   "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                   "Sec-WebSocket-Version: 13\r\n",
                   key);
    if (write_subprotocols(out, o->subprotocols) < 0)
        return -EINVAL;
    if (offer.p)
        tp_headers_write_field(out, TP_SLICE_LIT("Sec-WebSocket-Extensions"), offer);
    tp_buf_append_str(out, "\r\n");
    return 0;
}

/* "HTTP/1.x NNN[ reason]". */
static int parse_status_line(tp_slice l, tp_ws_response *r)
{
    const char *p = l.p;
    if (l.n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[7] < '0' || p[7] > '9' || p[8] != ' ')
        return -EPROTO;
    r->status = 0;
    for (int i = 9; i < 12; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -EPROTO;
        r->status = r->status * 10 + (p[i] - '0');
    }
    if (l.n > 12 && p[12] != ' ')
        return -EPROTO;
    r->reason = l.n > 13 ? tp_slice_make(p + 13, l.n - 13) : TP_SLICE_LIT("");
    return 0;
}

static int parse_field(tp_slice l, tp_ws_response *r, const char **msg)
{
    const char *colon = memchr(l.p, ':', l.n);
    if (l.p[0] == ' ' || l.p[0] == '\t') {
        *msg = "the response folds a header line (obsolete)";
        return -EPROTO;
    }
    tp_slice name = tp_slice_make(l.p, colon ? (size_t)(colon - l.p) : 0);
    if (!colon || !tp_http_valid_token(name)) {
        *msg = "malformed header line in the response";
        return -EPROTO;
    }
    tp_slice value = tp_slice_trim(tp_slice_make(colon + 1, (size_t)(l.p + l.n - colon - 1)));
    if (!tp_http_valid_header_value(value)) {
        *msg = "invalid header value in the response";
        return -EPROTO;
    }
    tp_headers_add_ref(&r->headers, name, value);
    return 0;
}

int tp__ws_parse_response(tp_slice head, tp_arena *a, tp_ws_response *r, const char **msg)
{
    const char *p = head.p, *end = head.p + head.n;
    const char *eol = memmem(p, head.n, "\r\n", 2);
    tp_headers_init(&r->headers, a);
    if (!eol || parse_status_line(tp_slice_make(p, (size_t)(eol - p)), r) < 0) {
        *msg = "malformed status line in the response";
        return -EPROTO;
    }
    for (p = eol + 2; p < end; p = eol + 2) {
        eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!eol) {
            *msg = "the response head does not end in a blank line";
            return -EPROTO;
        }
        if (eol == p)
            return 0;
        if (r->headers.n == MAX_RESPONSE_HEADERS) {
            *msg = "too many header lines in the response";
            return -EPROTO;
        }
        if (parse_field(tp_slice_make(p, (size_t)(eol - p)), r, msg) < 0)
            return -EPROTO;
    }
    *msg = "the response head does not end in a blank line";
    return -EPROTO;
}

static bool has_token(tp_slice list, tp_slice token)
{
    tp_list_iter it = tp_list_begin(list);
    for (tp_slice item; tp_list_next(&it, &item);)
        if (tp_slice_caseeq(tp_slice_trim(item), token))
            return true;
    return false;
}

/* The selected subprotocol must be one we offered; no answer selects none. */
static int check_subprotocol(const tp_headers *h, const char *const *offered, tp_arena *a,
                             const char **out, const char **msg)
{
    tp_slice v = tp_headers_get(h, TP_SLICE_LIT("Sec-WebSocket-Protocol"));
    *out = NULL;
    if (!v.p)
        return 0;
    for (size_t i = 0; offered && offered[i]; i++) {
        if (tp_slice_eq(v, tp_slice_cstr(offered[i])) &&
            tp_headers_count(h, TP_SLICE_LIT("Sec-WebSocket-Protocol")) == 1) {
            *out = offered[i];
            return 0;
        }
    }
    *msg = tp_arena_printf(a, "the server selected subprotocol \"%.*s\", which was not offered",
                           TP_SLICE_FMT(v));
    return -EPROTO;
}

static int check_extensions(const tp_headers *h, const tp_ws_deflate_params *want,
                            tp_ws_deflate_params *out, tp_arena *a, const char **msg)
{
    tp_slice v = tp_headers_get_joined(h, TP_SLICE_LIT("Sec-WebSocket-Extensions"));
    *out = (tp_ws_deflate_params){0};
    if (!v.p)
        return 0;
    int rc = want ? tp_ws_deflate_read_answer(v, want, out) : -EINVAL;
    if (rc == -ENOENT) {
        *out = (tp_ws_deflate_params){0};
        return 0;
    }
    if (rc < 0) {
        *msg = tp_arena_printf(a, "unacceptable Sec-WebSocket-Extensions answer \"%.*s\"",
                               TP_SLICE_FMT(v));
        return -EPROTO;
    }
    return 0;
}

int tp__ws_check_response(const tp_ws_response *r, const char *accept,
                          const char *const *subprotocols, const tp_ws_deflate_params *want,
                          tp_arena *a, const char **subprotocol, tp_ws_deflate_params *deflate,
                          const char **msg)
{
    const tp_headers *h = &r->headers;
    *subprotocol = NULL;
    if (r->status != 101) {
        *msg = tp_arena_printf(a, "HTTP %d: %.*s", r->status, TP_SLICE_FMT(r->reason));
        return -EPROTO;
    }
    if (!tp_slice_caseeq(tp_headers_get(h, TP_SLICE_LIT("Upgrade")), TP_SLICE_LIT("websocket"))) {
        *msg = "the 101 response's Upgrade is not websocket";
        return -EPROTO;
    }
    tp_slice conn = tp_headers_get_joined(h, TP_SLICE_LIT("Connection"));
    if (!conn.p || !has_token(conn, TP_SLICE_LIT("upgrade"))) {
        *msg = "the 101 response's Connection has no upgrade token";
        return -EPROTO;
    }
    if (!tp_slice_eq(tp_headers_get(h, TP_SLICE_LIT("Sec-WebSocket-Accept")),
                     tp_slice_cstr(accept))) {
        *msg = "Sec-WebSocket-Accept does not match the key";
        return -EPROTO;
    }
    if (check_subprotocol(h, subprotocols, a, subprotocol, msg) < 0)
        return -EPROTO;
    return check_extensions(h, want, deflate, a, msg);
}
