/* Python's "fmt % {...}" as tornado.locale leans on it: every translated message is a
 * %-format applied to a dict (str.strip() of CSV cells is core/utf8.h's tp_py_strip). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "web/locale/internal.h"

/* Number of code points in s (continuation bytes not counted). */
static size_t utf8_len(tp_slice s)
{
    size_t n = 0;
    for (size_t i = 0; i < s.n; i++)
        n += ((unsigned char)s.p[i] & 0xc0) != 0x80;
    return n;
}

/* The first `chars` code points of s. */
static tp_slice utf8_head(tp_slice s, size_t chars)
{
    size_t i = 0;
    for (; i < s.n; i++)
        if (((unsigned char)s.p[i] & 0xc0) != 0x80 && chars-- == 0)
            break;
    return tp_slice_make(s.p, i);
}

typedef struct spec {
    bool left, zero, space, plus, alt;
    long width, prec; /* -1: none */
    char conv;
} spec;

static void pad(tp_buf *b, char c, long n)
{
    for (; n > 0; n--)
        tp_buf_append(b, &c, 1);
}

static void put_str(tp_buf *b, const spec *sp, tp_slice s)
{
    if (sp->prec >= 0)
        s = utf8_head(s, (size_t)sp->prec);
    long fill = sp->width - (long)utf8_len(s);
    if (!sp->left)
        pad(b, ' ', fill);
    tp_buf_append(b, s.p, s.n);
    if (sp->left)
        pad(b, ' ', fill);
}

/* Python's %d/%x/%o of an int: precision zero-pads the digits, '0' fills after the sign. */
static void put_int(tp_buf *b, const spec *sp, int64_t v)
{
    char digits[80], prefix[4] = "";
    uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
    const char *fmt = sp->conv == 'x'   ? "%" PRIx64
                      : sp->conv == 'X' ? "%" PRIX64
                      : sp->conv == 'o' ? "%" PRIo64
                                        : "%" PRIu64;
    int nd = snprintf(digits, sizeof(digits), fmt, mag);
    size_t np = 0;
    if (v < 0 || sp->plus || sp->space)
        prefix[np++] = v < 0 ? '-' : sp->plus ? '+' : ' ';
    if (sp->alt && (sp->conv == 'x' || sp->conv == 'X' || sp->conv == 'o')) {
        prefix[np++] = '0';
        prefix[np++] = sp->conv == 'o' ? 'o' : sp->conv;
    }
    long zeros = sp->prec > nd ? sp->prec - nd : 0;
    long len = (long)np + zeros + nd;
    if (sp->zero && !sp->left && sp->width > len) {
        zeros += sp->width - len;
        len = sp->width;
    }
    if (!sp->left)
        pad(b, ' ', sp->width - len);
    tp_buf_append(b, prefix, np);
    pad(b, '0', zeros);
    tp_buf_append(b, digits, (size_t)nd);
    if (sp->left)
        pad(b, ' ', sp->width - len);
}

static long parse_num(const char **p, const char *end)
{
    long v = 0;
    while (*p < end && **p >= '0' && **p <= '9' && v < 100000)
        v = v * 10 + (*(*p)++ - '0');
    return v;
}

/* Parses "(key)flags width .prec [lhL] conv" after a '%'; -EINVAL where Python raises. */
static int parse_spec(const char **pp, const char *end, tp_slice *key, spec *sp)
{
    const char *p = *pp;
    *sp = (spec){.width = -1, .prec = -1};
    if (p >= end || *p != '(')
        return -EINVAL; /* Tornado always formats with a dict: keyless specs do not apply */
    const char *close = p + 1;
    for (int depth = 1; close < end; close++) /* Python counts nested parentheses */
        if ((*close == '(' && ++depth) || (*close == ')' && --depth == 0))
            break;
    if (close >= end)
        return -EINVAL;
    *key = tp_slice_make(p + 1, (size_t)(close - p - 1));
    for (p = close + 1; p < end && strchr("-0 +#", *p) && *p; p++)
        *(*p == '-'   ? &sp->left
          : *p == '0' ? &sp->zero
          : *p == ' ' ? &sp->space
          : *p == '+' ? &sp->plus
                      : &sp->alt) = true;
    if (p < end && *p >= '0' && *p <= '9')
        sp->width = parse_num(&p, end);
    if (p < end && *p == '.') {
        p++;
        sp->prec = parse_num(&p, end);
    }
    while (p < end && (*p == 'l' || *p == 'h' || *p == 'L'))
        p++;
    if (p >= end)
        return -EINVAL;
    sp->conv = *p++;
    *pp = p;
    return 0;
}

static const tp_pyarg *find_arg(const tp_pyarg *args, size_t n, tp_slice key)
{
    for (size_t i = 0; i < n; i++)
        if (tp_slice_eq(tp_slice_cstr(args[i].name), key))
            return &args[i];
    return NULL;
}

static int format_one(tp_buf *b, const spec *sp, const tp_pyarg *arg)
{
    char tmp[24];
    switch (sp->conv) {
    case 's':
    case 'r':
        if (!arg->is_int) {
            if (sp->conv == 'r')
                return -EINVAL; /* repr() of a str: not needed by any Tornado message */
            put_str(b, sp, arg->s);
        } else {
            int n = snprintf(tmp, sizeof(tmp), "%" PRId64, arg->i);
            put_str(b, sp, tp_slice_make(tmp, (size_t)n));
        }
        return 0;
    case 'd':
    case 'i':
    case 'u':
    case 'x':
    case 'X':
    case 'o':
        if (!arg->is_int)
            return -EINVAL; /* TypeError: %d format: a real number is required */
        put_int(b, sp, arg->i);
        return 0;
    default: return -EINVAL;
    }
}

int tp_locale_pyformat(tp_arena *a, tp_slice fmt, const tp_pyarg *args, size_t n, tp_slice *out)
{
    tp_buf b = {0};
    const char *p = fmt.p, *end = fmt.p + fmt.n;
    int rc = 0;
    while (p < end && rc == 0) {
        const char *pct = memchr(p, '%', (size_t)(end - p));
        if (!pct) {
            tp_buf_append(&b, p, (size_t)(end - p));
            break;
        }
        tp_buf_append(&b, p, (size_t)(pct - p));
        p = pct + 1;
        if (p < end && *p == '%') {
            tp_buf_append(&b, "%", 1);
            p++;
            continue;
        }
        tp_slice key;
        spec sp;
        rc = parse_spec(&p, end, &key, &sp);
        const tp_pyarg *arg = rc == 0 ? find_arg(args, n, key) : NULL;
        if (rc == 0)
            rc = arg ? format_one(&b, &sp, arg) : -EINVAL;
    }
    if (rc == 0)
        *out = tp_arena_slice_dup(a, tp_buf_slice(&b));
    tp_buf_free(&b);
    return rc;
}
