/* The response framer (http/response.h): the status line and headers, Content-Length or
 * chunked bodies, and the end of a response. */
#include "http/response.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "http/date.h"

const char *tp_http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 102: return "Processing";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 207: return "Multi-Status";
    case 208: return "Already Reported";
    case 226: return "IM Used";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 305: return "Use Proxy";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Request Entity Too Large";
    case 414: return "Request-URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Requested Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 418: return "I'm a Teapot";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Entity";
    case 423: return "Locked";
    case 424: return "Failed Dependency";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 506: return "Variant Also Negotiates";
    case 507: return "Insufficient Storage";
    case 508: return "Loop Detected";
    case 510: return "Not Extended";
    case 511: return "Network Authentication Required";
    default: return "Unknown";
    }
}

bool tp__parse_length(tp_slice v, uint64_t *out)
{
    uint64_t n = 0;
    if (!v.n || v.n > 19)
        return false;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return false;
        n = n * 10 + (uint64_t)(v.p[i] - '0');
    }
    *out = n;
    return true;
}

static inline void put(tp_buf *b, const char *p, size_t n)
{
    char *w = b->cap - b->off - b->len >= n ? b->base + b->off + b->len : tp_buf_reserve(b, n);
    memcpy(w, p, n);
    tp_buf_commit(b, n);
}

#define PUT_LIT(b, s) put((b), (s), sizeof(s) - 1)

static void status_line(tp_buf *b, int status, tp_slice reason)
{
    char num[4] = {(char)('0' + status / 100 % 10), (char)('0' + status / 10 % 10),
                   (char)('0' + status % 10), ' '};
    PUT_LIT(b, "HTTP/1.1 ");
    put(b, num, 4);
    if (reason.p)
        put(b, reason.p, reason.n);
    else
        tp_buf_append_str(b, tp_http_reason(status));
    PUT_LIT(b, "\r\n");
}

/* The framing follows from the request and the headers (Tornado's rules), with one
 * difference: a body of unknown length on a kept-alive HTTP/1.0 connection closes it. */
static int decide(tp_framing *f, tp_frame_ctx *ctx, const tp_request *req, int status,
                  const tp_headers *headers)
{
    tp_slice cl = headers ? tp_headers_get(headers, TP_SLICE_LIT("Content-Length")) : TP_SLICE_NULL;
    bool is_head = tp_slice_eq(req->method, TP_SLICE_LIT("HEAD"));
    bool no_body_status = status < 200 || status == 204 || status == 304;
    if (cl.p && !tp__parse_length(cl, &f->length))
        return -EINVAL;
    f->has_length = cl.p != NULL;
    f->no_body = is_head || no_body_status;
    f->chunked = req->version_minor >= 1 && !f->no_body && !cl.p;
    if (!f->chunked && !cl.p && !f->no_body)
        ctx->keep_alive = false; /* HTTP/1.0 without a length: the close ends the body */
    if (ctx->body_unread)
        ctx->keep_alive = false; /* answered before the body was read: cannot resync */
    return 0;
}

/* The fields the connection adds, as HTTP1Connection.write_headers sets them with
 * headers[name] = value: in place of an app's field of that name, else at the end,
 * Connection before Transfer-Encoding. */
enum { ADDED_CONNECTION = 1, ADDED_TE = 2 };

/* Writes the fields with conn (if not NULL) and the chunked Transfer-Encoding (if te) in
 * place of the app's own; returns which of the two were written so (ADDED_*). */
static unsigned write_fields(tp_buf *out, const tp_headers *headers, tp_slice conn, bool te)
{
    unsigned done = 0;
    for (size_t i = 0; i < headers->n; i++) {
        tp_slice name = headers->v[i].name, value = headers->v[i].value;
        unsigned which = conn.p && tp_slice_caseeq(name, TP_SLICE_LIT("Connection"))
                             ? ADDED_CONNECTION
                         : te && tp_slice_caseeq(name, TP_SLICE_LIT("Transfer-Encoding")) ? ADDED_TE
                                                                                          : 0;
        if (which & done)
            continue; /* one field per name, as headers[name] = value leaves */
        if (which)
            value = which == ADDED_CONNECTION ? conn : TP_SLICE_LIT("chunked");
        done |= which;
        tp_headers_write_field(out, name, value);
    }
    return done;
}

/* Every response carries a Date (RFC 9110 §6.6.1) unless the handler set its own. */
static void put_date_unless_set(tp_buf *out, const tp_headers *headers)
{
    if (headers && tp_headers_get(headers, TP_SLICE_LIT("Date")).p)
        return;
    PUT_LIT(out, "Date: ");
    put(out, tp_http_date_now(), TP_HTTP_DATE_LEN);
    PUT_LIT(out, "\r\n");
}

int tp__frame_head(tp_framing *f, tp_frame_ctx *ctx, const tp_request *req, int status,
                   tp_slice reason, const tp_headers *headers, tp_buf *out)
{
    if (status < 100 || status > 999 || (reason.p && !tp_http_valid_header_value(reason)))
        return -EINVAL;
    int r = decide(f, ctx, req, status, headers);
    if (r < 0)
        return r;
    tp_slice conn = TP_SLICE_NULL;
    if (!ctx->keep_alive && (req->version_minor >= 1 || ctx->asked_keep_alive))
        conn = TP_SLICE_LIT("close");
    else if (ctx->keep_alive && req->version_minor == 0)
        conn = TP_SLICE_LIT("Keep-Alive");
    tp_buf_reserve(out, 512); /* usually the whole head: the puts below then only copy */
    status_line(out, status, reason);
    unsigned done = 0;
    if (headers && (conn.p || f->chunked))
        done = write_fields(out, headers, conn, f->chunked);
    else if (headers)
        tp_headers_write(headers, out); /* the usual keep-alive response with a length */
    put_date_unless_set(out, headers);
    if (conn.p && !(done & ADDED_CONNECTION))
        tp_headers_write_field(out, TP_SLICE_LIT("Connection"), conn);
    if (f->chunked && !(done & ADDED_TE))
        PUT_LIT(out, "Transfer-Encoding: chunked\r\n");
    PUT_LIT(out, "\r\n");
    f->head_written = true;
    return 0;
}

int tp__frame_upgrade_head(int status, tp_slice reason, const tp_headers *headers, tp_buf *out)
{
    if (status < 100 || status > 999 || (reason.p && !tp_http_valid_header_value(reason)))
        return -EINVAL;
    status_line(out, status, reason);
    tp_headers_write(headers, out);
    put_date_unless_set(out, headers);
    PUT_LIT(out, "\r\n");
    return 0;
}

/* Output past the declared Content-Length would corrupt the framing of the next response. */
int tp__frame_body(tp_framing *f, const tp_request *req, size_t n, char prefix[24],
                   size_t *prefix_len)
{
    *prefix_len = 0;
    if (f->no_body || n == 0)
        return 1;
    if (f->has_length && req->bytes_out + n > f->length) {
        tp_log_error("Tried to write more data than Content-Length (%llu) for %.*s %.*s",
                     (unsigned long long)f->length, TP_SLICE_FMT(req->method),
                     TP_SLICE_FMT(req->uri));
        f->close_after = true;
        return -EMSGSIZE;
    }
    if (f->chunked)
        *prefix_len = (size_t)snprintf(prefix, 24, "%zx\r\n", n);
    return 0;
}

void tp__frame_end(tp_framing *f, const tp_request *req, tp_slice *tail)
{
    *tail = f->chunked ? TP_SLICE_LIT("0\r\n\r\n") : TP_SLICE_LIT("");
    if (f->has_length && !f->no_body && req->bytes_out < f->length) {
        tp_log_error("Tried to write %llu bytes less than Content-Length for %.*s %.*s",
                     (unsigned long long)(f->length - req->bytes_out), TP_SLICE_FMT(req->method),
                     TP_SLICE_FMT(req->uri));
        f->close_after = true;
    }
}
