/* CPython 3.11's unicode_format_arg_parse and unicode_format_arg_output, value-free. */
#include "core/pyfmt.h"

#include <string.h>

#include "core/utf8.h"

bool tp_pyfmt_literal(tp_buf *b, const char **p, tp_slice fmt)
{
    const char *end = fmt.p + fmt.n;
    while (*p < end) {
        const char *q = memchr(*p, '%', (size_t)(end - *p));
        if (!q) {
            tp_buf_append(b, *p, (size_t)(end - *p));
            break;
        }
        tp_buf_append(b, *p, (size_t)(q - *p));
        *p = q + 1;
        if (*p == end || **p != '%')
            return true;
        tp_buf_append(b, "%", 1);
        (*p)++;
    }
    *p = end;
    return false;
}

/* "%(key)": balanced parentheses, as Python counts them. */
static int parse_key(const char **pp, const char *end, const tp_pyfmt_args *args)
{
    const char *p = *pp + 1;
    int depth = 1;
    if (!args->mapping)
        return TP_PYFMT_NO_MAPPING;
    for (; p < end && depth; p++)
        depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
    if (depth)
        return TP_PYFMT_INCOMPLETE_KEY;
    tp_slice key = tp_slice_make(*pp + 1, (size_t)(p - *pp - 2));
    *pp = p;
    return args->key(args->ctx, key);
}

/* Digits of a width (up to INT64_MAX, a Py_ssize_t) or a precision (up to INT32_MAX). */
static int read_num(const char **pp, const char *end, int64_t max, int err, int64_t *out)
{
    int64_t v = 0;
    for (; *pp < end && **pp >= '0' && **pp <= '9'; (*pp)++) {
        if (v > (max - (**pp - '0')) / 10)
            return err;
        v = v * 10 + (**pp - '0');
    }
    *out = v;
    return 0;
}

/* A `*` width: negative means left-justified. */
static int star_width(const tp_pyfmt_args *args, tp_pyfmt_spec *sp)
{
    int rc = args->star(args->ctx, &sp->width);
    if (rc < 0)
        return rc;
    if (sp->width < 0) { /* CPython negates INT64_MIN into itself: no width */
        sp->left = true;
        sp->width = sp->width < -INT64_MAX ? -1 : -sp->width;
    }
    return 0;
}

/* A `*` precision: a C int, negative means 0. */
static int star_prec(const tp_pyfmt_args *args, tp_pyfmt_spec *sp)
{
    int rc = args->star(args->ctx, &sp->prec);
    if (rc < 0)
        return rc;
    if (sp->prec > INT32_MAX || sp->prec < INT32_MIN)
        return TP_PYFMT_PREC_INT;
    if (sp->prec < 0)
        sp->prec = 0;
    return 0;
}

static int parse_width_prec(const char **pp, const char *end, const tp_pyfmt_args *args,
                            tp_pyfmt_spec *sp)
{
    const char *p = *pp;
    int rc = 0;
    if (p < end && *p == '*')
        rc = star_width(args, sp), p++;
    else if (p < end && *p >= '0' && *p <= '9')
        rc = read_num(&p, end, INT64_MAX, TP_PYFMT_WIDTH_BIG, &sp->width);
    if (rc == 0 && p < end && *p == '.') {
        sp->prec = 0;
        if (++p < end && *p == '*')
            rc = star_prec(args, sp), p++;
        else
            rc = read_num(&p, end, INT32_MAX, TP_PYFMT_PREC_BIG, &sp->prec);
    }
    *pp = p;
    return rc;
}

int tp_pyfmt_parse(const char **pp, tp_slice fmt, const tp_pyfmt_args *args, tp_pyfmt_spec *sp)
{
    const char *p = *pp, *end = fmt.p + fmt.n;
    int rc;
    *sp = (tp_pyfmt_spec){.width = -1, .prec = -1};
    if (p < end && *p == '(' && (rc = parse_key(&p, end, args)) < 0)
        return rc;
    for (; p < end && *p && strchr("-+ #0", *p); p++)
        *(*p == '-'   ? &sp->left
          : *p == '+' ? &sp->plus
          : *p == ' ' ? &sp->space
          : *p == '#' ? &sp->alt
                      : &sp->zero) = true;
    if ((rc = parse_width_prec(&p, end, args, sp)) < 0)
        return rc;
    if (p < end && (*p == 'h' || *p == 'l' || *p == 'L'))
        p++;
    if (p >= end)
        return TP_PYFMT_INCOMPLETE;
    sp->conv_at = (size_t)(p - fmt.p);
    size_t n = tp_utf8_decode((const unsigned char *)p, (size_t)(end - p), &sp->conv);
    if (n == 0)
        sp->conv = (unsigned char)*p, n = 1;
    *pp = p + n;
    return 0;
}

const char *tp_pyfmt_strerror(int err)
{
    switch (err) {
    case TP_PYFMT_INCOMPLETE: return "incomplete format";
    case TP_PYFMT_INCOMPLETE_KEY: return "incomplete format key";
    case TP_PYFMT_WIDTH_BIG: return "width too big";
    case TP_PYFMT_PREC_BIG: return "precision too big";
    case TP_PYFMT_PREC_INT: return "Python int too large to convert to C int";
    case TP_PYFMT_NO_MAPPING: return "format requires a mapping";
    default: return "bad format";
    }
}

/* ---- layout --------------------------------------------------------------------------- */

static void fill(tp_buf *b, char c, int64_t n)
{
    if (n <= 0)
        return;
    memset(tp_buf_reserve(b, (size_t)n), c, (size_t)n);
    tp_buf_commit(b, (size_t)n);
}

void tp_pyfmt_text(tp_buf *b, const tp_pyfmt_spec *sp, tp_slice s)
{
    int64_t cps = 0;
    size_t cut = 0;
    for (; cut < s.n; cut++) {
        bool start = ((unsigned char)s.p[cut] & 0xc0) != 0x80;
        if (start && sp->prec >= 0 && cps == sp->prec)
            break;
        cps += start;
    }
    if (!sp->left)
        fill(b, ' ', sp->width - cps);
    tp_buf_append(b, s.p, cut);
    if (sp->left)
        fill(b, ' ', sp->width - cps);
}

static bool is_int_conv(uint32_t c)
{
    return c == 'd' || c == 'i' || c == 'u' || c == 'x' || c == 'X' || c == 'o';
}

void tp_pyfmt_number(tp_buf *b, const tp_pyfmt_spec *sp, bool neg, tp_slice body)
{
    bool isint = is_int_conv(sp->conv);
    const char *prefix = !sp->alt || !isint ? NULL
                         : sp->conv == 'x'  ? "0x"
                         : sp->conv == 'X'  ? "0X"
                         : sp->conv == 'o'  ? "0o"
                                            : NULL;
    char sign = neg ? '-' : sp->plus ? '+' : sp->space ? ' ' : 0;
    int64_t zeros = isint && sp->prec > (int64_t)body.n ? sp->prec - (int64_t)body.n : 0;
    int64_t pad = sp->width - (int64_t)((sign != 0) + (prefix ? 2 : 0) + body.n) - zeros;
    bool zfill = sp->zero && !sp->left;
    if (!sp->left && !zfill)
        fill(b, ' ', pad);
    if (sign)
        tp_buf_append(b, &sign, 1);
    if (prefix)
        tp_buf_append(b, prefix, 2);
    fill(b, '0', (zfill && pad > 0 ? pad : 0) + zeros);
    tp_buf_append(b, body.p, body.n);
    if (sp->left)
        fill(b, ' ', pad);
}

tp_slice tp_pyfmt_digits(char *buf, uint64_t mag, uint32_t conv)
{
    const char *dig = conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
    unsigned base = conv == 'x' || conv == 'X' ? 16 : conv == 'o' ? 8 : 10;
    char *p = buf + 24;
    do
        *--p = dig[mag % base];
    while (mag /= base);
    return tp_slice_make(p, (size_t)(buf + 24 - p));
}
