/* printf-style `str % args` as CPython 3.11's PyUnicode_Format: the argument rules (a tuple,
 * one value, or a mapping for %(key)s), flags "-+ #0", width and precision (digits or `*`),
 * an ignored h/l/L, and the conversions s r a c d i u o x X e E f F g G; widths and
 * precisions count code points; errors raise Python's exception with Python's message. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "web/template/internal.h"
#include "web/template/pynum.h"

#define MAX_WIDTH (16 << 20) /* widths and numeric precisions past this raise RuntimeError */

typedef struct fmt_spec {
    bool left, plus, space, alt, zero;
    int64_t width, prec; /* -1: none */
    uint32_t conv;
    size_t conv_at; /* byte offset of the conversion character */
} fmt_spec;

/* PyUnicode_Format's argument cursor: args is a tuple (arglen items) or one value (arglen
 * -1, argidx -2: taken once); a %(key) lookup replaces it by the value found. */
typedef struct fmt_state {
    tpl_val args;
    const tpl_val *dict; /* the mapping of %(key)s, or NULL */
    int64_t arglen, argidx;
    tp_slice fmt;
} fmt_state;

static int next_arg(tpl_render *r, fmt_state *st, tpl_val *v)
{
    if (st->argidx >= st->arglen)
        return tpl_raise(r, EX_TYPE, "not enough arguments for format string");
    *v = st->arglen < 0 ? st->args : st->args.tup->v[st->argidx];
    st->argidx++;
    return 0;
}

/* Python's %(key): balanced parentheses, looked up at once (KeyError, TypeError). */
static int fmt_key(tpl_render *r, fmt_state *st, const char **pp, const char *end)
{
    const char *p = *pp + 1;
    int depth = 1;
    if (!st->dict)
        return tpl_raise(r, EX_TYPE, "format requires a mapping");
    for (; p < end && depth; p++)
        depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
    if (depth)
        return tpl_raise(r, EX_VALUE, "incomplete format key");
    tpl_val key = {.t = TV_STR, .s = tp_slice_make(*pp + 1, (size_t)(p - *pp - 2))};
    *pp = p;
    st->arglen = -1, st->argidx = -2;
    return tpl_getitem(r, st->dict, &key, &st->args);
}

/* A width or precision from the arguments ("*"): an int, else "* wants int". */
static int star_arg(tpl_render *r, fmt_state *st, int64_t *out)
{
    tpl_val v = TPL_NONE;
    if (next_arg(r, st, &v) < 0)
        return -1;
    if (v.t != TV_INT && v.t != TV_BOOL)
        return tpl_raise(r, EX_TYPE, "* wants int");
    *out = v.t == TV_INT ? v.i : v.b;
    return 0;
}

/* Digits of a width (limit INT64_MAX, Py_ssize_t) or precision (INT_MAX). */
static int read_num(tpl_render *r, const char **pp, const char *end, int64_t max, const char *what,
                    int64_t *out)
{
    int64_t v = 0;
    for (; *pp < end && **pp >= '0' && **pp <= '9'; (*pp)++) {
        if (v > (max - (**pp - '0')) / 10)
            return tpl_raise(r, EX_VALUE, "%s too big", what);
        v = v * 10 + (**pp - '0');
    }
    *out = v;
    return 0;
}

static int fmt_width_prec(tpl_render *r, fmt_state *st, const char **pp, const char *end,
                          fmt_spec *sp)
{
    const char *p = *pp;
    if (p < end && *p == '*') {
        if (star_arg(r, st, &sp->width) < 0)
            return -1;
        sp->left |= sp->width < 0;
        sp->width = sp->width >= 0 ? sp->width : sp->width < -INT64_MAX ? INT64_MAX : -sp->width;
        p++;
    } else if (p < end && *p >= '0' && *p <= '9' &&
               read_num(r, &p, end, INT64_MAX, "width", &sp->width) < 0) {
        return -1;
    }
    if (p < end && *p == '.') {
        sp->prec = 0;
        if (++p < end && *p == '*') {
            if (star_arg(r, st, &sp->prec) < 0)
                return -1;
            if (sp->prec > INT32_MAX || sp->prec < INT32_MIN)
                return tpl_raise(r, EX_OVERFLOW, "Python int too large to convert to C int");
            sp->prec = sp->prec < 0 ? 0 : sp->prec;
            p++;
        } else if (read_num(r, &p, end, INT32_MAX, "precision", &sp->prec) < 0) {
            return -1;
        }
    }
    *pp = p;
    return 0;
}

/* Parses what follows a '%' (not "%%") up to and including the conversion character. */
static int fmt_parse(tpl_render *r, fmt_state *st, const char **pp, const char *end, fmt_spec *sp)
{
    const char *p = *pp;
    *sp = (fmt_spec){.width = -1, .prec = -1};
    if (p < end && *p == '(' && fmt_key(r, st, &p, end) < 0)
        return -1;
    for (; p < end && strchr("-+ #0", *p) && *p; p++)
        *(*p == '-'   ? &sp->left
          : *p == '+' ? &sp->plus
          : *p == ' ' ? &sp->space
          : *p == '#' ? &sp->alt
                      : &sp->zero) = true;
    if (fmt_width_prec(r, st, &p, end, sp) < 0)
        return -1;
    if (p < end && (*p == 'h' || *p == 'l' || *p == 'L'))
        p++;
    if (p >= end)
        return tpl_raise(r, EX_VALUE, "incomplete format");
    sp->conv_at = (size_t)(p - st->fmt.p);
    p += tpl_cp_decode(p, (size_t)(end - p), &sp->conv);
    *pp = p;
    return 0;
}

/* ---- output --------------------------------------------------------------------------- */

static void fill(tp_buf *b, char c, int64_t n)
{
    if (n <= 0)
        return;
    char *w = tp_buf_reserve(b, (size_t)n);
    memset(w, c, (size_t)n);
    tp_buf_commit(b, (size_t)n);
}

static int check_size(tpl_render *r, const fmt_spec *sp, bool numeric)
{
    if (sp->width > MAX_WIDTH || (numeric && sp->prec > MAX_WIDTH))
        return tpl_raise(r, EX_RUNTIME, "format %s over the template limit of %d",
                         sp->width > MAX_WIDTH ? "width" : "precision", MAX_WIDTH);
    return 0;
}

/* Text padded to the width in code points (s, r, a, c). */
static void put_text(tp_buf *b, const fmt_spec *sp, tp_slice s)
{
    size_t cps = 0, cut = 0;
    for (; cut < s.n && (sp->prec < 0 || cps < (uint64_t)sp->prec); cps++)
        cut += tpl_cp_decode(s.p + cut, s.n - cut, &(uint32_t){0});
    int64_t pad = sp->width - (int64_t)cps;
    if (!sp->left)
        fill(b, ' ', pad);
    tp_buf_append(b, s.p, cut);
    if (sp->left)
        fill(b, ' ', pad);
}

/* A number: [spaces] sign prefix [zeros] zeros-to-precision digits [spaces], as Python lays
 * out %d/%x/%f (the 0 flag fills after the sign and the 0x prefix; '-' wins over '0'). */
static void put_num(tp_buf *b, const fmt_spec *sp, char sign, const char *prefix, int64_t zeros,
                    tp_slice body)
{
    size_t np = prefix ? 2 : 0;
    int64_t pad = sp->width - (int64_t)((sign != 0) + np + body.n) - zeros;
    bool zfill = sp->zero && !sp->left;
    if (!sp->left && !zfill)
        fill(b, ' ', pad);
    if (sign)
        tp_buf_append(b, &sign, 1);
    tp_buf_append(b, prefix, np);
    fill(b, '0', (zfill ? pad : 0) + zeros);
    tp_buf_append(b, body.p, body.n);
    if (sp->left)
        fill(b, ' ', pad);
}

static char sign_of(const fmt_spec *sp, bool neg)
{
    return neg ? '-' : sp->plus ? '+' : sp->space ? ' ' : 0;
}

/* ---- conversions ---------------------------------------------------------------------- */

static int conv_text(tpl_render *r, tp_buf *b, const fmt_spec *sp, const tpl_val *v)
{
    if (v->t == TV_STR && sp->conv == 's') {
        put_text(b, sp, v->s);
        return 0;
    }
    tp_buf_clear(&r->scratch);
    if (sp->conv == 's')
        tpl_str(r, &r->scratch, v);
    else
        tpl_repr(r, &r->scratch, v);
    tp_slice s = tpl_buf_slice(&r->scratch);
    if (sp->conv == 'a') { /* ascii(): the repr with non-ASCII code points escaped */
        char *w = tp_arena_alloc(&r->arena, s.n * 4 + 1); /* a byte becomes 4 at most */
        size_t k = 0;
        for (size_t i = 0; i < s.n;) {
            uint32_t c;
            size_t n = tpl_cp_decode(s.p + i, s.n - i, &c);
            if (c < 0x80)
                w[k++] = s.p[i];
            else
                k += (size_t)sprintf(w + k,
                                     c < 0x100     ? "\\x%02x"
                                     : c < 0x10000 ? "\\u%04x"
                                                   : "\\U%08x",
                                     c);
            i += n;
        }
        s = tp_slice_make(w, k);
    }
    put_text(b, sp, s);
    return 0;
}

static size_t utf8_encode(char *w, uint32_t c)
{
    if (c < 0x80)
        return w[0] = (char)c, 1;
    size_t n = c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    for (size_t i = n - 1; i > 0; i--, c >>= 6)
        w[i] = (char)(0x80 | (c & 0x3f));
    w[0] = (char)((0xf00 >> n) | c); /* 110xxxxx, 1110xxxx, 11110xxx */
    return n;
}

static int conv_char(tpl_render *r, tp_buf *b, const fmt_spec *sp, const tpl_val *v)
{
    char w[4];
    tp_slice s = tp_slice_make(w, 0);
    if (v->t == TV_STR && tpl_utf8_count(v->s.p, v->s.n) == 1) {
        s = v->s;
    } else if (v->t == TV_INT || v->t == TV_BOOL) {
        int64_t c = v->t == TV_INT ? v->i : v->b;
        if (c < 0 || c > 0x10ffff)
            return tpl_raise(r, EX_OVERFLOW, "%%c arg not in range(0x110000)");
        if (c >= 0xd800 && c <= 0xdfff) /* Python: UnicodeEncodeError writing it out */
            return tpl_raise(r, EX_VALUE,
                             "'utf-8' codec can't encode character '\\u%04x': surrogates not "
                             "allowed",
                             (unsigned)c);
        s.n = utf8_encode(w, (uint32_t)c);
    } else {
        return tpl_raise(r, EX_TYPE, "%%c requires int or char");
    }
    fmt_spec one = *sp;
    one.prec = -1; /* %c ignores the precision */
    put_text(b, &one, s);
    return 0;
}

/* The digits of |v| in base 10, 16 or 8 (into the end of a 24-byte buffer). */
static tp_slice int_digits(char *buf, uint64_t mag, uint32_t conv)
{
    const char *dig = conv == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
    unsigned base = conv == 'x' || conv == 'X' ? 16 : conv == 'o' ? 8 : 10;
    char *p = buf + 24;
    do
        *--p = dig[mag % base];
    while (mag /= base);
    return tp_slice_make(p, (size_t)(buf + 24 - p));
}

/* %d of a float: PyNumber_Long truncates; past 64 bits the exact digits are printed. */
static int float_digits(tpl_render *r, double d, char *buf, tp_slice *digits, bool *neg)
{
    if (isnan(d))
        return tpl_raise(r, EX_VALUE, "cannot convert float NaN to integer");
    if (isinf(d))
        return tpl_raise(r, EX_OVERFLOW, "cannot convert float infinity to integer");
    double t = trunc(d);
    *neg = t < 0;
    if (fabs(t) < 9223372036854775808.0) {
        *digits = int_digits(buf, (uint64_t)fabs(t), 'd');
        return 0;
    }
    *digits = tp_slice_make(buf, tpl_trunc_digits(t, buf));
    return 0;
}

static int conv_int(tpl_render *r, tp_buf *b, const fmt_spec *sp, const tpl_val *v)
{
    bool hexoct = sp->conv == 'x' || sp->conv == 'X' || sp->conv == 'o';
    if (v->t != TV_INT && v->t != TV_BOOL && (v->t != TV_FLOAT || hexoct))
        return tpl_raise(r, EX_TYPE, "%%%c format: %s is required, not %s", (char)sp->conv,
                         hexoct ? "an integer" : "a real number", tpl_type_name(v));
    if (v->t == TV_INT && sp->width < 0 && sp->prec < 0 && !sp->plus && !sp->space && !hexoct) {
        tpl_format_int(b, v->i); /* the common plain %d */
        return 0;
    }
    char buf[TPL_DIGITS_MAX];
    tp_slice digits;
    bool neg = false;
    if (v->t == TV_FLOAT) {
        if (float_digits(r, v->d, buf, &digits, &neg) < 0)
            return -1;
    } else {
        int64_t x = v->t == TV_INT ? v->i : v->b;
        neg = x < 0;
        digits = int_digits(buf, neg ? 0 - (uint64_t)x : (uint64_t)x, sp->conv);
    }
    static const char *const prefixes[] = {"0x", "0X", "0o"};
    const char *prefix = sp->alt && hexoct ? prefixes[sp->conv == 'x'   ? 0
                                                      : sp->conv == 'X' ? 1
                                                                        : 2]
                                           : NULL;
    int64_t zeros = sp->prec > (int64_t)digits.n ? sp->prec - (int64_t)digits.n : 0;
    put_num(b, sp, sign_of(sp, neg), prefix, zeros, digits);
    return 0;
}

static int conv_float(tpl_render *r, tp_buf *b, const fmt_spec *sp, const tpl_val *v)
{
    if (v->t != TV_FLOAT && v->t != TV_INT && v->t != TV_BOOL)
        return tpl_raise(r, EX_TYPE, "must be real number, not %s", tpl_type_name(v));
    double d = v->t == TV_FLOAT ? v->d : v->t == TV_INT ? (double)v->i : v->b;
    int prec = sp->prec < 0 ? 6 : (int)sp->prec;
    bool plain = sp->width < 0 && !sp->plus && !sp->space && !sp->alt;
    if (plain && (sp->conv == 'f' || sp->conv == 'F') && tpl_format_fixed(b, d, prec))
        return 0;
    bool upper = sp->conv == 'E' || sp->conv == 'F' || sp->conv == 'G';
    char spec[8];
    snprintf(spec, sizeof spec, "%%%s.*%c", sp->alt ? "#" : "", (char)sp->conv);
    tp_buf_clear(&r->scratch);
    if (isnan(d) || isinf(d)) /* Python drops the sign of a nan */
        tp_buf_append_str(&r->scratch,
                          isnan(d) ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf"));
    else
        tp_buf_appendf(&r->scratch, spec, prec, fabs(d));
    put_num(b, sp, sign_of(sp, signbit(d) && !isnan(d)), NULL, 0, tpl_buf_slice(&r->scratch));
    return 0;
}

static int fmt_convert(tpl_render *r, tp_buf *b, fmt_state *st, const fmt_spec *sp)
{
    tpl_val v = TPL_NONE;
    if (next_arg(r, st, &v) < 0)
        return -1;
    switch (sp->conv) {
    case 's':
    case 'r':
    case 'a': return check_size(r, sp, false) < 0 ? -1 : conv_text(r, b, sp, &v);
    case 'c': return check_size(r, sp, false) < 0 ? -1 : conv_char(r, b, sp, &v);
    case 'd':
    case 'i':
    case 'u':
    case 'x':
    case 'X':
    case 'o': return check_size(r, sp, true) < 0 ? -1 : conv_int(r, b, sp, &v);
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G': return check_size(r, sp, true) < 0 ? -1 : conv_float(r, b, sp, &v);
    }
    uint32_t c = sp->conv;
    return tpl_raise(r, EX_VALUE, "unsupported format character '%c' (0x%x) at index %zu",
                     c >= 32 && c <= 126 ? (char)c : '?', c,
                     tpl_utf8_count(st->fmt.p, sp->conv_at));
}

/* Python counts str, tuple and every object with __getitem__ but tuple and str as a mapping:
 * here dict, list and range. */
int tpl_str_format(tpl_render *r, tp_slice fmt, const tpl_val *args, tpl_val *out)
{
    bool map = args->t == TV_DICT || args->t == TV_LIST || args->t == TV_RANGE;
    fmt_state st = {
        .args = *args, .dict = map ? args : NULL, .arglen = -1, .argidx = -2, .fmt = fmt};
    if (args->t == TV_TUPLE)
        st.arglen = (int64_t)args->tup->n, st.argidx = 0;
    tp_buf *b = &r->fmtbuf;
    tp_buf_clear(b);
    const char *p = fmt.p, *end = fmt.p + fmt.n;
    while (p < end) {
        const char *q = memchr(p, '%', (size_t)(end - p));
        if (!q) {
            tp_buf_append(b, p, (size_t)(end - p));
            break;
        }
        tp_buf_append(b, p, (size_t)(q - p));
        p = q + 1;
        fmt_spec sp;
        if (p < end && *p == '%') {
            tp_buf_append(b, "%", 1);
            p++;
        } else if (fmt_parse(r, &st, &p, end, &sp) < 0 || fmt_convert(r, b, &st, &sp) < 0) {
            return -1;
        }
    }
    if (st.argidx < st.arglen && !map)
        return tpl_raise(r, EX_TYPE, "not all arguments converted during string formatting");
    *out = tpl_str_val(r, tpl_buf_str(b), b->len);
    return 0;
}
