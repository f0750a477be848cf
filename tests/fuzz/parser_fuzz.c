/* libFuzzer target for the head parser, request and response modes (and the query/date
 * helpers it feeds).
 * Checks more than "no crash": the head must parse the same whether it arrives whole or in
 * two pieces, and a head the scanner accepts must parse into slices inside the input. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "core/status.h"
#include "http/date.h"
#include "http/parser.h"
#include "http/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const tp_http_limits limits = {4096, 1024, 64};

static int scan(const char *buf, size_t len, size_t split, tp_http_parser *p, int *status)
{
    unsigned response = p->response;
    *p = (tp_http_parser){.response = response};
    if (split && split < len) {
        int r = tp_http_scan_head(p, buf, split, &limits, status);
        if (r != TP_AGAIN)
            return r;
    }
    return tp_http_scan_head(p, buf, len, &limits, status);
}

static void check_inside(tp_slice s, const char *buf, size_t len)
{
    assert(s.n == 0 || (s.p >= buf && s.p + s.n <= buf + len));
}

/* Scans buf whole and in two pieces (split) in the mode of *whole (which ends as the whole
 * scan left it). Resuming changes nothing: same verdict, same length (errors may be found
 * earlier on a shorter prefix only if the prefix already was an error, which whole scanning
 * sees too). Returns the verdict. */
static int scan_twice(const char *buf, size_t len, size_t split, tp_http_parser *whole)
{
    tp_http_parser parts = {.response = whole->response};
    int s1 = 0, s2 = 0;
    int r1 = scan(buf, len, 0, whole, &s1);
    int r2 = scan(buf, len, split, &parts, &s2);
    assert(r1 == r2);
    assert(r1 >= 0 || r1 == TP_AGAIN || s1 == s2);
    return r1;
}

/* The same input as a response head (what the reverse proxy reads from an upstream). */
static void response_mode(const char *buf, size_t len, size_t split)
{
    tp_http_parser whole = {.response = 1};
    int r1 = scan_twice(buf, len, split, &whole);
    if (r1 <= 0)
        return;
    tp_http_header headers[64];
    tp_response_head head;
    int st = 0;
    if (tp_http_parse_response_head(buf, (size_t)r1, &head, headers, 64, &st) != TP_OK)
        return;
    assert(head.status >= 100 && head.status <= 999);
    assert(head.num_headers == whole.lines);
    check_inside(head.reason, buf, (size_t)r1);
    for (size_t i = 0; i < head.num_headers; i++) {
        check_inside(headers[i].name, buf, (size_t)r1);
        check_inside(headers[i].value, buf, (size_t)r1);
        assert(tp_http_valid_token(headers[i].name));
        assert(tp_http_valid_header_value(headers[i].value));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t split = data[0] % (size + 1);
    const char *buf = (const char *)data + 1;
    size_t len = size - 1;
    response_mode(buf, len, split);
    tp_http_parser whole = {0};
    int r1 = scan_twice(buf, len, split, &whole);
    if (r1 <= 0)
        return 0;
    tp_http_header headers[64];
    tp_request_head head;
    int st = 0;
    if (tp_http_parse_head(buf, (size_t)r1, &head, headers, whole.lines ? whole.lines : 1, &st) !=
        TP_OK)
        return 0;
    check_inside(head.method, buf, (size_t)r1);
    check_inside(head.target, buf, (size_t)r1);
    assert(head.num_headers == whole.lines);
    tp_arena a;
    tp_arena_init(&a, 1024);
    for (size_t i = 0; i < head.num_headers; i++) {
        check_inside(headers[i].name, buf, (size_t)r1);
        check_inside(headers[i].value, buf, (size_t)r1);
        assert(tp_http_valid_token(headers[i].name));
        time_t t;
        tp_http_date_parse(headers[i].value.p, headers[i].value.n, &t);
    }
    tp_args args = {0};
    tp_parse_qs(&a, head.target, &args);
    tp_slice u = tp_url_unescape(&a, head.target, false);
    assert(u.n <= head.target.n);
    tp_arena_destroy(&a);
    return 0;
}
