/* Request body forms as Tornado 6.5 parses them; see http/form.h. The Python this follows:
 * tornado/httputil.py (parse_body_arguments, parse_multipart_form_data, _parseparam,
 * _parse_header, HTTPHeaders.parse with _chars_are_bytes=False) and email/utils.py
 * (decode_params, collapse_rfc2231_value, unquote, quote). Python works on str (code
 * points); here strings are UTF-8 bytes, which gives the same results because every
 * character those functions look for is ASCII. Only RFC 2231 values need code points
 * (percent escapes decode to latin-1 code points), and use uint32_t arrays. */
#include "http/form.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "core/utf8.h"
#include "http/form_internal.h"
#include "http/parser.h"

tp_form_limits tp_form_limits_default(void)
{
    return (tp_form_limits){true, TP_FORM_MAX_PARTS, TP_FORM_MAX_PART_HEADER_SIZE};
}

/* ---- strings ------------------------------------------------------------------------- */

tp_slice tp__form_cat(tp_arena *a, tp_slice x, tp_slice y, tp_slice z)
{
    char *p = tp_arena_alloc(a, x.n + y.n + z.n + 1);
    memcpy(p, x.p, x.n);
    memcpy(p + x.n, y.p, y.n);
    memcpy(p + x.n + y.n, z.p, z.n);
    p[x.n + y.n + z.n] = '\0';
    return tp_slice_make(p, x.n + y.n + z.n);
}

static bool starts_with(tp_slice s, const char *prefix)
{
    size_t n = strlen(prefix);
    return s.n >= n && memcmp(s.p, prefix, n) == 0;
}

/* One UTF-8 sequence at s as Python's strict decoder sees it: its length (> 0) and code
 * point, or minus the length of the maximal invalid subpart Python's "replace" turns
 * into one U+FFFD. */
int tp__form_utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned c = s[0], lo = 0x80, hi = 0xbf;
    size_t len;
    uint32_t v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, v = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, v = c & 0x0f, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, v = c & 0x07, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    else
        return -1;
    for (size_t k = 1; k < len; k++) {
        if (k >= n || s[k] < lo || s[k] > hi)
            return -(int)k;
        lo = 0x80, hi = 0xbf;
        v = (v << 6) | (s[k] & 0x3f);
    }
    *cp = v;
    return (int)len;
}

static bool utf8_valid(tp_slice s, size_t *bad)
{
    uint32_t cp;
    for (size_t i = 0; i < s.n;) {
        int k = tp__form_utf8_next((const unsigned char *)s.p + i, s.n - i, &cp);
        if (k < 0) {
            *bad = i;
            return false;
        }
        i += (size_t)k;
    }
    return true;
}

char *tp__form_put_utf8(char *w, uint32_t cp)
{
    if (cp < 0x80) {
        *w++ = (char)cp;
    } else if (cp < 0x800) {
        *w++ = (char)(0xc0 | (cp >> 6));
        *w++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *w++ = (char)(0xe0 | (cp >> 12));
        *w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *w++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *w++ = (char)(0xf0 | (cp >> 18));
        *w++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *w++ = (char)(0x80 | (cp & 0x3f));
    }
    return w;
}

/* ---- part headers (HTTPHeaders.parse(text, _chars_are_bytes=False)) ------------------ */

typedef struct part_headers {
    tp_http_header *v;
    size_t n;
} part_headers;

/* _FORBIDDEN_HEADER_CHARS_RE: [\x00-\x08\x0A-\x1F\x7F] */
static bool forbidden_chars(tp_slice s)
{
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return true;
    }
    return false;
}

static tp_slice http_ws_strip(tp_slice s)
{
    return tp_slice_trim(s); /* " \t", HTTP_WHITESPACE */
}

/* The next line of block from *pos, without its "\r?\n". */
static tp_slice next_line(tp_slice block, size_t *pos)
{
    const char *p = block.p + *pos, *nl = memchr(p, '\n', block.n - *pos);
    size_t n = nl ? (size_t)(nl - p) : block.n - *pos;
    *pos += n + (nl != NULL);
    if (nl && n && p[n - 1] == '\r')
        n--;
    return tp_slice_make(p, n);
}

/* Appends " " + line.strip(" \t") to the value of the last header (values that get
 * continuations are rebuilt once: the first continuation sizes the copy for all of them). */
static void add_continuation(tp_arena *a, tp_http_header *h, tp_slice part, tp_slice block,
                             size_t pos)
{
    char *w = tp_arena_alloc(a, h->value.n + part.n + 2 + (block.n - pos));
    memcpy(w, h->value.p, h->value.n);
    w[h->value.n] = ' ';
    memcpy(w + h->value.n + 1, part.p, part.n);
    w[h->value.n + 1 + part.n] = '\0';
    h->value = tp_slice_make(w, h->value.n + 1 + part.n);
}

static int parse_part_headers(tp_arena *a, tp_slice block, part_headers *out, const char **err)
{
    size_t cap = 1, pos = 0;
    for (size_t i = 0; i < block.n; i++)
        cap += block.p[i] == '\n';
    out->v = tp_arena_alloc(a, cap * sizeof(*out->v));
    out->n = 0;
    size_t owned = (size_t)-1; /* index of the header whose value is a growable copy */
    while (pos < block.n) {
        tp_slice line = next_line(block, &pos);
        if (!line.n)
            continue;
        if (line.p[0] == ' ' || line.p[0] == '\t') {
            tp_slice part = http_ws_strip(line);
            if (!out->n) {
                *err = "first header line cannot start with whitespace";
                return -EINVAL;
            }
            if (forbidden_chars(part)) {
                *err = "Invalid header continuation (control character)";
                return -EINVAL;
            }
            tp_http_header *h = &out->v[out->n - 1];
            if (owned != out->n - 1) {
                add_continuation(a, h, part, block, pos);
                owned = out->n - 1;
            } else {
                char *w = (char *)h->value.p;
                w[h->value.n] = ' ';
                memcpy(w + h->value.n + 1, part.p, part.n);
                h->value.n += 1 + part.n;
                w[h->value.n] = '\0';
            }
            continue;
        }
        const char *colon = memchr(line.p, ':', line.n);
        if (!colon) {
            *err = "no colon in header line";
            return -EINVAL;
        }
        tp_slice name = tp_slice_make(line.p, (size_t)(colon - line.p));
        tp_slice value = http_ws_strip(tp_slice_make(colon + 1, line.n - name.n - 1));
        if (!tp_http_valid_token(name)) {
            *err = tp_arena_printf(a, "Invalid header name '%.*s'", TP_SLICE_FMT(name));
            return -EINVAL;
        }
        if (forbidden_chars(value)) {
            *err = "Invalid header value (control character)";
            return -EINVAL;
        }
        out->v[out->n++] = (tp_http_header){name, value};
    }
    return 0;
}

/* headers.get(name, dflt): all values joined with ",". */
static tp_slice part_header_get(tp_arena *a, const part_headers *h, const char *name, tp_slice dflt)
{
    tp_slice key = tp_slice_cstr(name), out = TP_SLICE_NULL;
    for (size_t i = 0; i < h->n; i++) {
        if (!tp_slice_caseeq(h->v[i].name, key))
            continue;
        out = out.p ? tp__form_cat(a, out, TP_SLICE_LIT(","), h->v[i].value)
                    : tp_arena_slice_dup(a, h->v[i].value);
    }
    return out.p ? out : dflt;
}

/* ---- multipart ----------------------------------------------------------------------- */

/* data.rfind(pat): KMP over the reversed text with the reversed pattern, so the cost is
 * linear whatever the boundary (a naive search is quadratic on "-----..." bodies). */
static long rfind(tp_arena *a, tp_slice s, tp_slice pat)
{
    size_t m = pat.n;
    if (m > s.n)
        return -1;
    if (m == 0)
        return (long)s.n;
    size_t *fail = tp_arena_alloc(a, m * sizeof(*fail));
#define RPAT(i) pat.p[m - 1 - (i)]
    fail[0] = 0;
    for (size_t i = 1, k = 0; i < m; i++) {
        while (k && RPAT(i) != RPAT(k))
            k = fail[k - 1];
        if (RPAT(i) == RPAT(k))
            k++;
        fail[i] = k;
    }
    for (size_t i = 0, k = 0; i < s.n; i++) {
        char c = s.p[s.n - 1 - i];
        while (k && c != RPAT(k))
            k = fail[k - 1];
        if (c == RPAT(k) && ++k == m)
            return (long)(s.n - 1 - i);
    }
#undef RPAT
    return -1;
}

typedef struct mp_ctx {
    tp_arena *a;
    const tp_form_limits *lim;
    tp_args *args;
    tp_form_files *files;
    const char **err;
    size_t nparts; /* non-empty pieces seen by count_part */
} mp_ctx;

static void files_push(tp_arena *a, tp_form_files *f, tp_form_file file)
{
    f->v = tp_arena_grow(a, f->v, f->n, &f->cap, f->n + 1, sizeof(*f->v), 4);
    f->v[f->n++] = file;
}

static int mp_fail(mp_ctx *c, int rc, const char *msg)
{
    *c->err = msg;
    return rc;
}

/* One part of the body (between "--BOUNDARY\r\n" separators), as the loop body of
 * parse_multipart_form_data. */
static int parse_part(mp_ctx *c, tp_slice part)
{
    tp_arena *a = c->a;
    if (!part.n)
        return 0;
    const char *eoh = memmem(part.p, part.n, "\r\n\r\n", 4);
    if (!eoh)
        return mp_fail(c, -EINVAL, "multipart/form-data missing headers");
    tp_slice block = tp_slice_make(part.p, (size_t)(eoh - part.p));
    if (block.n > c->lim->max_part_header_size)
        return mp_fail(c, -E2BIG, "multipart/form-data part header too large");
    size_t bad;
    if (!utf8_valid(block, &bad))
        return mp_fail(c, -EINVAL,
                       tp_arena_printf(a, "'utf-8' codec can't decode byte 0x%02x in position %zu",
                                       (unsigned char)block.p[bad], bad));
    part_headers h;
    int rc = parse_part_headers(a, block, &h, c->err);
    if (rc)
        return rc;
    tp_slice disposition, name, filename;
    tp_args params = {0};
    rc = tp_form_parse_header(a, part_header_get(a, &h, "Content-Disposition", TP_SLICE_LIT("")),
                              &disposition, &params, c->err);
    if (rc)
        return rc;
    if (!tp_slice_eq(disposition, TP_SLICE_LIT("form-data")) || part.n < 2 ||
        memcmp(part.p + part.n - 2, "\r\n", 2) != 0)
        return mp_fail(c, -EINVAL, "Invalid multipart/form-data");
    size_t start = block.n + 4, end = part.n - 2;
    tp_slice value = tp_slice_make(part.p + start, start < end ? end - start : 0);
    name = tp_args_get_last(&params, TP_SLICE_LIT("name"));
    if (!name.n)
        return mp_fail(c, -EINVAL, "multipart/form-data missing name");
    name = tp_arena_slice_dup(a, name);
    filename = tp_args_get_last(&params, TP_SLICE_LIT("filename"));
    if (filename.n) {
        tp_slice ctype =
            part_header_get(a, &h, "Content-Type", TP_SLICE_LIT("application/unknown"));
        files_push(a, c->files,
                   (tp_form_file){name, tp_arena_slice_dup(a, filename), ctype, value});
    } else {
        tp_args_add_ref(a, c->args, name, value);
    }
    return 0;
}

/* Splits data[0..end) on sep as bytes.split(sep, maxsplit) would, calling fn (when not
 * NULL) for each piece; returns the number of pieces. */
static size_t split(tp_slice data, tp_slice sep, size_t maxsplit, mp_ctx *c,
                    int (*fn)(mp_ctx *, tp_slice), int *rc)
{
    size_t pieces = 0, pos = 0;
    *rc = 0;
    for (;;) {
        const char *hit =
            pieces < maxsplit ? memmem(data.p + pos, data.n - pos, sep.p, sep.n) : NULL;
        size_t stop = hit ? (size_t)(hit - data.p) : data.n;
        pieces++;
        if (fn && (*rc = fn(c, tp_slice_make(data.p + pos, stop - pos))) != 0)
            return pieces;
        if (!hit)
            return pieces;
        pos = stop + sep.n;
    }
}

/* The first pass counts the non-empty pieces (a preamble too: Tornado parses it like a
 * part), so that a body never yields more than max_parts results. */
static int count_part(mp_ctx *c, tp_slice part)
{
    c->nparts += part.n != 0;
    return c->nparts > c->lim->max_parts ? -E2BIG : 0;
}

int tp_form_parse_multipart(tp_arena *a, tp_slice boundary, tp_slice body,
                            const tp_form_limits *lim, tp_args *args, tp_form_files *files,
                            const char **err)
{
    tp_form_limits dflt = tp_form_limits_default();
    mp_ctx c = {a, lim ? lim : &dflt, args, files, err, 0};
    size_t nargs = args->n, nfiles = files->n;
    if (!c.lim->multipart_enabled)
        return mp_fail(&c, -EINVAL, "multipart/form-data parsing is disabled");
    if (boundary.n && boundary.p[0] == '"' && boundary.p[boundary.n - 1] == '"')
        boundary = boundary.n >= 2 ? tp_slice_make(boundary.p + 1, boundary.n - 2)
                                   : tp_slice_make(boundary.p, 0);
    tp_slice final = tp__form_cat(a, TP_SLICE_LIT("--"), boundary, TP_SLICE_LIT("--"));
    long idx = rfind(a, body, final);
    if (idx < 0)
        return mp_fail(&c, -EINVAL, "Invalid multipart/form-data: no final boundary found");
    tp_slice data = tp_slice_make(body.p, (size_t)idx);
    tp_slice sep = tp__form_cat(a, TP_SLICE_LIT("--"), boundary, TP_SLICE_LIT("\r\n"));
    /* max_parts pieces after the preamble (empty ones count, as in Tornado's own test), and
     * never more than max_parts non-empty ones (a preamble that looks like a part counts) */
    size_t max = c.lim->max_parts, maxsplit = max < (size_t)-2 ? max + 1 : max;
    int rc;
    if (split(data, sep, maxsplit, &c, count_part, &rc) > maxsplit || rc)
        return mp_fail(&c, -E2BIG, "multipart/form-data has too many parts");
    split(data, sep, (size_t)-1, &c, parse_part, &rc);
    if (rc) {
        args->n = nargs;
        files->n = nfiles;
    }
    return rc;
}

/* ---- parse_body_arguments ------------------------------------------------------------ */

/* The boundary as utf8(v) gives it: Tornado decoded the header as latin-1. */
static tp_slice latin1_to_utf8(tp_arena *a, tp_slice s)
{
    char *out = tp_arena_alloc(a, 2 * s.n + 1), *w = out;
    for (size_t i = 0; i < s.n; i++)
        w = tp__form_put_utf8(w, (unsigned char)s.p[i]);
    *w = '\0';
    return tp_slice_make(out, (size_t)(w - out));
}

static int parse_multipart_body(tp_arena *a, tp_slice ctype, tp_slice body,
                                const tp_form_limits *lim, tp_args *args, tp_form_files *files,
                                const char **err)
{
    const char *inner = "multipart boundary not found";
    int rc = -EINVAL;
    size_t pos = 0;
    for (size_t i = 0; pos <= ctype.n; i++) {
        const char *semi = memchr(ctype.p + pos, ';', ctype.n - pos);
        size_t stop = semi ? (size_t)(semi - ctype.p) : ctype.n;
        tp_slice field =
            tp_slice_strip_bytes(tp_slice_make(ctype.p + pos, stop - pos), tp_py_isspace_latin1);
        pos = stop + 1;
        if (i == 0) {
            if (!tp_slice_eq(field, TP_SLICE_LIT("multipart/form-data"))) {
                inner = "Invalid content type";
                break;
            }
            continue;
        }
        const char *eq = memchr(field.p, '=', field.n);
        if (eq && eq - field.p == 8 && memcmp(field.p, "boundary", 8) == 0 &&
            eq + 1 < field.p + field.n) {
            tp_slice v = tp_slice_make(eq + 1, (size_t)(field.p + field.n - eq - 1));
            rc = tp_form_parse_multipart(a, latin1_to_utf8(a, v), body, lim, args, files, &inner);
            break;
        }
    }
    if (rc)
        *err = tp_arena_printf(a, "Invalid multipart/form-data: %s", inner);
    return rc;
}

int tp_form_parse_body(tp_arena *a, tp_slice content_type, tp_slice body, tp_slice content_encoding,
                       const tp_form_limits *lim, tp_args *args, tp_form_files *files,
                       const char **err)
{
    bool urlencoded = starts_with(content_type, "application/x-www-form-urlencoded");
    if (!urlencoded && !starts_with(content_type, "multipart/form-data"))
        return 0;
    if (content_encoding.p) {
        *err = tp_arena_printf(a, "Unsupported Content-Encoding: %.*s",
                               TP_SLICE_FMT(content_encoding));
        return -EINVAL;
    }
    if (urlencoded) {
        tp_parse_qs(a, body, args);
        return 0;
    }
    return parse_multipart_body(a, content_type, body, lim, args, files, err);
}

size_t tp_form_files_get(const tp_form_files *files, tp_slice name, const tp_form_file **out,
                         size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < files->n; i++)
        if (tp_slice_eq(files->v[i].name, name)) {
            if (k < max)
                out[k] = &files->v[i];
            k++;
        }
    return k;
}
