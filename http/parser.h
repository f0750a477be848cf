/* The HTTP/1.x head parser (requests; responses with p.response set): zero-copy (every field is a
 * slice into the caller's buffer) and resumable (tp_http_scan_head remembers how far it checked, so
 * a head that arrives one byte at a time is scanned once in total, not once per byte).
 *
 *   tp_http_parser p = {0};
 *   n = tp_http_scan_head(&p, buf, len, &limits, &status);   // per read: AGAIN until complete
 *   tp_http_parse_head(buf, n, &head, headers, p.lines, &status);
 */
#ifndef TP_HTTP_PARSER_H
#define TP_HTTP_PARSER_H

#include "platform/api.h"

#include <stddef.h>
#include <stdint.h>

#include "core/slice.h"

typedef struct tp_http_header {
    tp_slice name;
    tp_slice value;
} tp_http_header;

typedef struct tp_http_limits {
    size_t max_header_size; /* start line + headers + blank line (431 beyond) */
    size_t max_uri_size;    /* request-target (414 beyond) */
    size_t max_headers;     /* header lines (431 beyond) */
} tp_http_limits;

/* 12 bytes, kept in every connection: offsets fit in 32 bits as the limits (at most 1 GiB)
 * keep a head far smaller. */
typedef struct tp_http_parser {
    uint32_t skip;       /* empty lines before the start line (tolerated, as in Tornado) */
    uint32_t line_start; /* offset of the first line not yet seen whole */
    uint32_t lines : 30; /* header lines seen (the start line not counted) */
    uint32_t start_line_done : 1;
    uint32_t response : 1; /* set by the caller: a response head (status line) is scanned */
} tp_http_parser;

typedef struct tp_request_head {
    tp_slice method;
    tp_slice target;
    int version_minor; /* HTTP/1.x: 0 or 1 (a higher minor version counts as 1) */
    tp_http_header *headers;
    size_t num_headers;
} tp_request_head;

/* A response head (for clients and proxies): HTTP/1.x, status, reason, headers. */
typedef struct tp_response_head {
    int version_minor; /* HTTP/1.x: 0 or 1 */
    int status;        /* 100..999 */
    tp_slice reason;   /* may be empty */
    tp_http_header *headers;
    size_t num_headers;
} tp_response_head;

/* Looks for the end of the head in buf[0..len). Returns its length (including the blank
 * line) when complete, TP_AGAIN when more bytes are needed, or TP_ERROR with *status set to
 * 400 (malformed), 414 (target too long), 431 (head or header count over the limit) or 505
 * (not HTTP/1.x). buf may grow between calls but the bytes already passed must not change. */
TP_API int tp_http_scan_head(tp_http_parser *p, const char *buf, size_t len,
                             const tp_http_limits *lim, int *status);
/* Parses a complete head of `len` bytes (as returned by tp_http_scan_head) into out, using
 * headers[0..max) for the header slices. TP_OK, or TP_ERROR with *status as above. */
TP_API int tp_http_parse_head(const char *buf, size_t len, tp_request_head *out,
                              tp_http_header *headers, size_t max, int *status);
/* Parses a complete response head (scanned with p.response set) into out, as
 * tp_http_parse_head does: "HTTP/1.x SP 3DIGIT [SP reason]", the same header rules. TP_OK,
 * or TP_ERROR with *status 400 (malformed), 431 (more than max headers) or 505. */
TP_API int tp_http_parse_response_head(const char *buf, size_t len, tp_response_head *out,
                                       tp_http_header *headers, size_t max, int *status);

/* RFC 9110 token character (header names, methods). */
TP_API extern const uint8_t tp_http_token_chars[256];
/* True if every byte of s may appear in a header value (HTAB, SP, VCHAR, obs-text). */
TP_API int tp_http_valid_header_value(tp_slice s);
/* True if s is a non-empty token. */
TP_API int tp_http_valid_token(tp_slice s);

#endif
