#include "http/parser.h"

#include <string.h>

#include "core/status.h"

/* tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" /
 * "~" / DIGIT / ALPHA */
#define T1(c) [c] = 1
const uint8_t tp_http_token_chars[256] = {
    T1('!'), T1('#'), T1('$'), T1('%'), T1('&'), T1('\''), T1('*'), T1('+'), T1('-'), T1('.'),
    T1('^'), T1('_'), T1('`'), T1('|'), T1('~'), T1('0'),  T1('1'), T1('2'), T1('3'), T1('4'),
    T1('5'), T1('6'), T1('7'), T1('8'), T1('9'), T1('A'),  T1('B'), T1('C'), T1('D'), T1('E'),
    T1('F'), T1('G'), T1('H'), T1('I'), T1('J'), T1('K'),  T1('L'), T1('M'), T1('N'), T1('O'),
    T1('P'), T1('Q'), T1('R'), T1('S'), T1('T'), T1('U'),  T1('V'), T1('W'), T1('X'), T1('Y'),
    T1('Z'), T1('a'), T1('b'), T1('c'), T1('d'), T1('e'),  T1('f'), T1('g'), T1('h'), T1('i'),
    T1('j'), T1('k'), T1('l'), T1('m'), T1('n'), T1('o'),  T1('p'), T1('q'), T1('r'), T1('s'),
    T1('t'), T1('u'), T1('v'), T1('w'), T1('x'), T1('y'),  T1('z'),
};

static inline int is_token(unsigned char c)
{
    return tp_http_token_chars[c];
}

/* field-vchar / SP / HTAB, with obs-text (0x80-0xFF) allowed as in Tornado. */
static inline int is_value_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* request-target: visible ASCII and obs-text, no spaces or controls. */
static inline int is_target_char(unsigned char c)
{
    return c > 0x20 && c != 0x7f;
}

int tp_http_valid_token(tp_slice s)
{
    if (!s.n)
        return 0;
    for (size_t i = 0; i < s.n; i++)
        if (!is_token((unsigned char)s.p[i]))
            return 0;
    return 1;
}

int tp_http_valid_header_value(tp_slice s)
{
    for (size_t i = 0; i < s.n; i++)
        if (!is_value_char((unsigned char)s.p[i]))
            return 0;
    return 1;
}

static int fail(int *status, int code)
{
    *status = code;
    return TP_ERROR;
}

/* The line [p, end) without its CR, if the line ended in CRLF. */
static size_t line_len(const char *p, const char *nl)
{
    size_t n = (size_t)(nl - p);
    return n && p[n - 1] == '\r' ? n - 1 : n;
}

/* method SP target SP HTTP/1.x: checked as soon as the start line is whole, so garbage is
 * refused without waiting for a blank line that may never come. */
static int parse_start_line(const char *p, size_t n, tp_request_head *out, int *status)
{
    size_t i = 0;
    while (i < n && is_token((unsigned char)p[i]))
        i++;
    if (i == 0 || i >= n || p[i] != ' ')
        return fail(status, 400);
    out->method = (tp_slice){p, i};
    size_t t = ++i;
    while (i < n && is_target_char((unsigned char)p[i]))
        i++;
    if (i == t || i >= n || p[i] != ' ')
        return fail(status, 400);
    out->target = (tp_slice){p + t, i - t};
    const char *v = p + i + 1;
    size_t vn = n - i - 1;
    if (vn != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || v[5] < '0' || v[5] > '9' ||
        v[7] < '0' || v[7] > '9')
        return fail(status, 400);
    if (v[5] != '1')
        return fail(status, 505);
    out->version_minor = v[7] == '0' ? 0 : 1;
    return TP_OK;
}

/* HTTP/1.x SP 3DIGIT [SP reason-phrase]: the reason may be empty, its space too. */
static int parse_status_line(const char *p, size_t n, tp_response_head *out, int *status)
{
    if (n < 12 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' || p[5] < '0' || p[5] > '9' ||
        p[7] < '0' || p[7] > '9' || p[8] != ' ')
        return fail(status, 400);
    if (p[5] != '1')
        return fail(status, 505);
    out->version_minor = p[7] == '0' ? 0 : 1;
    int code = 0;
    for (size_t i = 9; i < 12; i++) {
        if (p[i] < '0' || p[i] > '9')
            return fail(status, 400);
        code = code * 10 + (p[i] - '0');
    }
    if (code < 100 || (n > 12 && p[12] != ' '))
        return fail(status, 400);
    out->status = code;
    out->reason = n > 13 ? (tp_slice){p + 13, n - 13} : TP_SLICE_LIT("");
    if (!tp_http_valid_header_value(out->reason))
        return fail(status, 400);
    return TP_OK;
}

static int check_start_line(const tp_http_parser *pp, const char *p, size_t n,
                            const tp_http_limits *lim, int *status)
{
    if (pp->response) {
        tp_response_head r;
        return parse_status_line(p, n, &r, status);
    }
    tp_request_head h;
    if (parse_start_line(p, n, &h, status) != TP_OK)
        return TP_ERROR;
    if (h.target.n > lim->max_uri_size)
        return fail(status, 414);
    return TP_OK;
}

/* A start line still being received: refuse early what can never become valid. */
static int check_partial_start(const tp_http_parser *pp, const char *p, size_t n,
                               const tp_http_limits *lim, int *status)
{
    if (pp->response && n && memcmp(p, "HTTP/", n < 5 ? n : 5) != 0)
        return fail(status, 400);
    if (n && !is_token((unsigned char)p[0]))
        return fail(status, 400);
    if (n > lim->max_uri_size + 64)
        return fail(status, 414);
    return TP_AGAIN;
}

int tp_http_scan_head(tp_http_parser *p, const char *buf, size_t len, const tp_http_limits *lim,
                      int *status)
{
    while (!p->start_line_done && p->skip < len && (buf[p->skip] == '\r' || buf[p->skip] == '\n'))
        p->skip++;
    if (p->skip > lim->max_header_size)
        return fail(status, 431); /* empty lines forever are no request either */
    if (!p->start_line_done)
        p->line_start = p->line_start > p->skip ? p->line_start : p->skip;
    for (;;) {
        size_t from = p->line_start;
        const char *nl = from < len ? memchr(buf + from, '\n', len - from) : NULL;
        if (!nl) {
            if (len > lim->max_header_size + p->skip)
                return fail(status, 431);
            if (!p->start_line_done)
                return check_partial_start(p, buf + from, len - from, lim, status);
            return TP_AGAIN;
        }
        size_t n = line_len(buf + from, nl);
        p->line_start = (uint32_t)(nl - buf) + 1;
        if (p->line_start - p->skip > lim->max_header_size)
            return fail(status, 431);
        if (!p->start_line_done) {
            if (check_start_line(p, buf + from, n, lim, status) != TP_OK)
                return TP_ERROR;
            p->start_line_done = 1;
            continue;
        }
        if (n == 0)
            return (int)p->line_start;
        if (++p->lines > lim->max_headers)
            return fail(status, 431);
    }
}

/* name ":" OWS value OWS, nothing else: no space before the colon, no obs-fold, no controls. */
static int parse_header(const char *p, size_t n, tp_http_header *h, int *status)
{
    size_t i = 0;
    while (i < n && is_token((unsigned char)p[i]))
        i++;
    if (i == 0 || i >= n || p[i] != ':')
        return fail(status, 400);
    h->name = (tp_slice){p, i};
    const char *v = p + i + 1;
    size_t vn = n - i - 1;
    for (size_t k = 0; k < vn; k++)
        if (!is_value_char((unsigned char)v[k]))
            return fail(status, 400);
    h->value = tp_slice_trim((tp_slice){v, vn});
    return TP_OK;
}

/* The header lines from p to the blank line that ends the head. */
static int parse_fields(const char *p, const char *end, tp_http_header *headers, size_t max,
                        size_t *num, int *status)
{
    *num = 0;
    for (const char *nl; p < end; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return fail(status, 400);
        size_t n = line_len(p, nl);
        if (n == 0)
            return TP_OK;
        if (*num == max)
            return fail(status, 431);
        if (parse_header(p, n, &headers[(*num)++], status) != TP_OK)
            return TP_ERROR;
    }
    return fail(status, 400);
}

/* The first line after the empty lines a head may start with; NULL if there is none. */
static const char *first_line(const char *buf, size_t len, const char **p)
{
    const char *end = buf + len;
    *p = buf;
    while (*p < end && (**p == '\r' || **p == '\n'))
        (*p)++;
    return memchr(*p, '\n', (size_t)(end - *p));
}

int tp_http_parse_head(const char *buf, size_t len, tp_request_head *out, tp_http_header *headers,
                       size_t max, int *status)
{
    const char *p;
    const char *nl = first_line(buf, len, &p);
    if (!nl || parse_start_line(p, line_len(p, nl), out, status) != TP_OK)
        return nl ? TP_ERROR : fail(status, 400);
    out->headers = headers;
    return parse_fields(nl + 1, buf + len, headers, max, &out->num_headers, status);
}

int tp_http_parse_response_head(const char *buf, size_t len, tp_response_head *out,
                                tp_http_header *headers, size_t max, int *status)
{
    const char *p;
    const char *nl = first_line(buf, len, &p);
    if (!nl || parse_status_line(p, line_len(p, nl), out, status) != TP_OK)
        return nl ? TP_ERROR : fail(status, 400);
    out->headers = headers;
    return parse_fields(nl + 1, buf + len, headers, max, &out->num_headers, status);
}
