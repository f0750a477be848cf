/* printf-style `str % args` as CPython 3.11's PyUnicode_Format: the argument rules (a tuple,
 * one value, or a mapping for %(key)s), flags "-+ #0", width and precision (digits or `*`),
 * an ignored h/l/L, and the conversions s r a c d i u o x X e E f F g G; widths and
 * precisions count code points; errors raise Python's exception with Python's message. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/pyfmt.h"
#include "web/template/internal.h"
#include "web/template/pynum.h"

#define MAX_WIDTH (16 << 20) /* widths and numeric precisions past this raise RuntimeError */

/* PyUnicode_Format's argument cursor: args is a tuple (arglen items) or one value (arglen
 * -1, argidx -2: taken once); a %(key) lookup replaces it by the value found. */
typedef struct fmt_state {
    tpl_render *r;
    tpl_val args;
    const tpl_val *dict; /* the mapping of %(key)s, or NULL */
    int64_t arglen, argidx;
} fmt_state;

static int next_arg(fmt_state *st, tpl_val *v)
{
    if (st->argidx >= st->arglen)
        return tpl_raise(st->r, EX_TYPE, "not enough arguments for format string");
    *v = st->arglen < 0 ? st->args : st->args.tup->v[st->argidx];
    st->argidx++;
    return 0;
}

/* %(key) is looked up when parsed (KeyError, or the TypeError of indexing a list). */
static int key_arg(void *ctx, tp_slice key)
{
    fmt_state *st = ctx;
    tpl_val k = {.t = TV_STR, .s = key};
    st->arglen = -1, st->argidx = -2;
    return tpl_getitem(st->r, st->dict, &k, &st->args);
}

/* A width or precision from the arguments ("*"): an int, else "* wants int". */
static int star_arg(void *ctx, int64_t *out)
{
    fmt_state *st = ctx;
    tpl_val v = TPL_NONE;
    if (next_arg(st, &v) < 0)
        return -1;
    if (v.t != TV_INT && v.t != TV_BOOL)
        return tpl_raise(st->r, EX_TYPE, "* wants int");
    *out = v.t == TV_INT ? v.i : v.b;
    return 0;
}

static int check_size(tpl_render *r, const tp_pyfmt_spec *sp, bool numeric)
{
    if (sp->width > MAX_WIDTH || (numeric && sp->prec > MAX_WIDTH))
        return tpl_raise(r, EX_RUNTIME, "format %s over the template limit of %d",
                         sp->width > MAX_WIDTH ? "width" : "precision", MAX_WIDTH);
    return 0;
}

/* ---- conversions ---------------------------------------------------------------------- */

/* ascii(): a repr with its non-ASCII code points escaped, in the render arena. */
static tp_slice ascii_escape(tpl_render *r, tp_slice s)
{
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
    return tp_slice_make(w, k);
}

/* Each conversion checks the size limit where Python would start building the padded
 * string: after the value's own errors. */
static int conv_text(tpl_render *r, tp_buf *b, const tp_pyfmt_spec *sp, const tpl_val *v)
{
    if (check_size(r, sp, false) < 0)
        return -1;
    if (v->t == TV_STR && sp->conv == 's') {
        tp_pyfmt_text(b, sp, v->s);
        return 0;
    }
    tp_buf_clear(&r->scratch);
    if (sp->conv == 's')
        tpl_str(r, &r->scratch, v);
    else
        tpl_repr(r, &r->scratch, v);
    tp_slice s = tpl_buf_slice(&r->scratch);
    if (sp->conv == 'a')
        s = ascii_escape(r, s);
    tp_pyfmt_text(b, sp, s);
    return 0;
}

static int conv_char(tpl_render *r, tp_buf *b, const tp_pyfmt_spec *sp, const tpl_val *v)
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
        s.n = tp_utf8_encode(w, (uint32_t)c);
    } else {
        return tpl_raise(r, EX_TYPE, "%%c requires int or char");
    }
    tp_pyfmt_spec one = *sp;
    one.prec = -1; /* %c ignores the precision */
    if (check_size(r, &one, false) < 0)
        return -1;
    tp_pyfmt_text(b, &one, s);
    return 0;
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
        *digits = tp_pyfmt_digits(buf, (uint64_t)fabs(t), 'd');
        return 0;
    }
    *digits = tp_slice_make(buf, tpl_trunc_digits(t, buf));
    return 0;
}

static int conv_int(tpl_render *r, tp_buf *b, const tp_pyfmt_spec *sp, const tpl_val *v)
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
        digits = tp_pyfmt_digits(buf, neg ? 0 - (uint64_t)x : (uint64_t)x, sp->conv);
    }
    if (check_size(r, sp, true) < 0)
        return -1;
    tp_pyfmt_number(b, sp, neg, digits);
    return 0;
}

static int conv_float(tpl_render *r, tp_buf *b, const tp_pyfmt_spec *sp, const tpl_val *v)
{
    if (v->t != TV_FLOAT && v->t != TV_INT && v->t != TV_BOOL)
        return tpl_raise(r, EX_TYPE, "must be real number, not %s", tpl_type_name(v));
    if (check_size(r, sp, true) < 0)
        return -1;
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
    tp_pyfmt_number(b, sp, signbit(d) && !isnan(d), tpl_buf_slice(&r->scratch));
    return 0;
}

static int fmt_convert(tpl_render *r, tp_buf *b, fmt_state *st, tp_slice fmt,
                       const tp_pyfmt_spec *sp)
{
    tpl_val v = TPL_NONE;
    if (next_arg(st, &v) < 0)
        return -1;
    switch (sp->conv) {
    case 's':
    case 'r':
    case 'a': return conv_text(r, b, sp, &v);
    case 'c': return conv_char(r, b, sp, &v);
    case 'd':
    case 'i':
    case 'u':
    case 'x':
    case 'X':
    case 'o': return conv_int(r, b, sp, &v);
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G': return conv_float(r, b, sp, &v);
    }
    uint32_t c = sp->conv;
    return tpl_raise(r, EX_VALUE, "unsupported format character '%c' (0x%x) at index %zu",
                     c >= 32 && c <= 126 ? (char)c : '?', c, tpl_utf8_count(fmt.p, sp->conv_at));
}

/* Python counts str, tuple and every object with __getitem__ but tuple and str as a mapping:
 * here dict, list and range. */
int tpl_str_format(tpl_render *r, tp_slice fmt, const tpl_val *args, tpl_val *out)
{
    bool map = args->t == TV_DICT || args->t == TV_LIST || args->t == TV_RANGE;
    fmt_state st = {.r = r, .args = *args, .dict = map ? args : NULL, .arglen = -1, .argidx = -2};
    if (args->t == TV_TUPLE)
        st.arglen = (int64_t)args->tup->n, st.argidx = 0;
    tp_pyfmt_args cb = {map, key_arg, star_arg, &st};
    tp_buf *b = &r->fmtbuf;
    tp_buf_clear(b);
    const char *p = fmt.p;
    while (tp_pyfmt_literal(b, &p, fmt)) {
        tp_pyfmt_spec sp;
        int rc = tp_pyfmt_parse(&p, fmt, &cb, &sp);
        if (rc < -1)
            return tpl_raise(r,
                             rc == TP_PYFMT_PREC_INT     ? EX_OVERFLOW
                             : rc == TP_PYFMT_NO_MAPPING ? EX_TYPE
                                                         : EX_VALUE,
                             "%s", tp_pyfmt_strerror(rc));
        if (rc < 0 || fmt_convert(r, b, &st, fmt, &sp) < 0)
            return -1;
    }
    if (st.argidx < st.arglen && !map)
        return tpl_raise(r, EX_TYPE, "not all arguments converted during string formatting");
    *out = tpl_str_val(r, tpl_buf_str(b), b->len);
    return 0;
}
