/* Values as Python sees them: JSON conversion, truthiness, str() and repr() (including
 * Python's shortest float repr), equality and ordering. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "web/template/internal.h"

/* Strings, integers and the rest in that order, tested one by one: values of a row follow
 * each other, and a switch's one indirect jump would mispredict on every change of type. */
void tpl_from_json(json_t *j, tpl_val *out)
{
    json_type t = json_typeof(j);
    if (t == JSON_STRING) {
        out->t = TV_STR;
        out->s = tp_slice_make(json_string_value(j), json_string_length(j));
    } else if (t == JSON_INTEGER) {
        *out = TPL_INT(json_integer_value(j));
    } else if (t == JSON_TRUE || t == JSON_FALSE) {
        *out = TPL_BOOL(t == JSON_TRUE);
    } else if (t == JSON_NULL) {
        *out = TPL_NONE;
    } else if (t == JSON_REAL) {
        *out = (tpl_val){.t = TV_FLOAT, .d = json_real_value(j)};
    } else {
        out->t = t == JSON_ARRAY ? TV_LIST : TV_DICT;
        out->j = j;
    }
}

json_t *tpl_keep(tpl_render *r, json_t *j)
{
    if (r->nkeep == r->capkeep) {
        r->capkeep = r->capkeep ? r->capkeep * 2 : 16;
        r->keep = tp_realloc(r->keep, r->capkeep * sizeof *r->keep);
    }
    r->keep[r->nkeep++] = j;
    return j;
}

static json_t *seq_to_json(tpl_render *r, const tpl_val *v)
{
    json_t *a = json_array();
    tpl_iter it;
    tpl_val x;
    int rc;
    if (tpl_iter_init(r, v, &it) < 0) {
        json_decref(a);
        return NULL;
    }
    while ((rc = tpl_iter_next(r, &it, &x)) > 0) {
        json_t *e = tpl_to_json(r, &x);
        if (!e) {
            json_decref(a);
            return NULL;
        }
        json_array_append_new(a, e);
    }
    if (rc < 0) {
        json_decref(a);
        return NULL;
    }
    return a;
}

json_t *tpl_to_json(tpl_render *r, const tpl_val *v)
{
    switch (v->t) {
    case TV_NONE: return json_null();
    case TV_BOOL: return json_boolean(v->b);
    case TV_INT: return json_integer(v->i);
    case TV_FLOAT: return json_real(v->d);
    case TV_STR: return json_stringn_nocheck(v->s.p, v->s.n);
    case TV_LIST:
    case TV_DICT: return json_incref(v->j);
    case TV_TUPLE:
    case TV_RANGE: return seq_to_json(r, v);
    case TV_ITER:
        if (v->it->kind == IT_ITEMS || v->it->kind == IT_KEYS || v->it->kind == IT_VALUES ||
            v->it->kind == IT_ENUMERATE || v->it->kind == IT_ZIP || v->it->kind == IT_REVERSED)
            return seq_to_json(r, v);
        break;
    }
    tpl_raise(r, EX_TYPE, "Object of type %s is not JSON serializable", tpl_type_name(v));
    return NULL;
}

bool tpl_truthy(const tpl_val *v)
{
    switch (v->t) {
    case TV_NONE: return false;
    case TV_BOOL: return v->b;
    case TV_INT: return v->i != 0;
    case TV_FLOAT: return v->d != 0.0;
    case TV_STR: return v->s.n != 0;
    case TV_LIST: return json_array_size(v->j) != 0;
    case TV_DICT: return json_object_size(v->j) != 0;
    case TV_TUPLE: return v->tup->n != 0;
    case TV_RANGE:
        return v->rng->step > 0 ? v->rng->start < v->rng->stop : v->rng->start > v->rng->stop;
    default: return true;
    }
}

const char *tpl_type_name(const tpl_val *v)
{
    static const char *const names[] = {
        "unbound",
        "NoneType",
        "bool",
        "int",
        "float",
        "str",
        "list",
        "dict",
        "tuple",
        "range",
        "builtin_function_or_method",
        "object",
    };
    if (v->t == TV_ITER) {
        static const char *const it[] = {"enumerate",  "zip",       "list_reverseiterator",
                                         "dict_items", "dict_keys", "dict_values"};
        return it[v->it->kind];
    }
    return names[v->t];
}

/* ---- str and repr --------------------------------------------------------------------- */

/* Python's repr(float): the shortest digits that read back the same, in fixed notation
 * for exponents -4..15, else scientific with at least two exponent digits. */
void tpl_format_float(tp_buf *b, double d)
{
    if (isnan(d)) {
        tp_buf_append_str(b, "nan");
        return;
    }
    if (isinf(d)) {
        tp_buf_append_str(b, d < 0 ? "-inf" : "inf");
        return;
    }
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    char digits[24];
    size_t nd = 0;
    const char *p = tmp;
    bool neg = *p == '-';
    p += neg;
    for (; *p && *p != 'e'; p++)
        if (*p != '.')
            digits[nd++] = *p;
    int exp = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    if (neg)
        tp_buf_append(b, "-", 1);
    if (exp < -4 || exp >= 16) {
        tp_buf_append(b, digits, 1);
        if (nd > 1) {
            tp_buf_append(b, ".", 1);
            tp_buf_append(b, digits + 1, nd - 1);
        }
        tp_buf_appendf(b, "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
    } else if (exp < 0) {
        tp_buf_append(b, "0.", 2);
        for (int i = -1; i > exp; i--)
            tp_buf_append(b, "0", 1);
        tp_buf_append(b, digits, nd);
    } else {
        size_t intn = (size_t)exp + 1;
        for (size_t i = 0; i < intn; i++)
            tp_buf_append(b, i < nd ? &digits[i] : "0", 1);
        tp_buf_append(b, ".", 1);
        if (nd > intn)
            tp_buf_append(b, digits + intn, nd - intn);
        else
            tp_buf_append(b, "0", 1);
    }
}

void tpl_format_int(tp_buf *b, int64_t v)
{
    static const char pairs[201] = "00010203040506070809101112131415161718192021222324252627282930"
                                   "31323334353637383940414243444546474849505152535455565758596061"
                                   "62636465666768697071727374757677787980818283848586878889909192"
                                   "93949596979899";
    char tmp[24], *p = tmp + sizeof tmp;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    for (; u >= 100; u /= 100) /* two digits a step */
        memcpy(p -= 2, pairs + 2 * (u % 100), 2);
    if (u >= 10)
        memcpy(p -= 2, pairs + 2 * u, 2);
    else
        *--p = (char)('0' + u);
    if (v < 0)
        *--p = '-';
    tp_buf_put(b, p, (size_t)(tmp + sizeof tmp - p));
}

/* "%.<prec>f" of d, exactly as printf rounds (the exact binary value, ties to even), for
 * prec <= 6 and |d| < 2^53: d = m * 2^e, so d * 10^prec = m * 10^prec * 2^e is an exact
 * 128-bit integer shifted by e. Returns false when d is outside that range. */
bool tpl_format_fixed(tp_buf *b, double d, int prec)
{
    if (prec < 0 || prec > 6 || !(fabs(d) < 9007199254740992.0))
        return false;
    static const uint32_t pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits); /* |d| = mant * 2^e from its fields, without libm */
    int biased = (int)(bits >> 52 & 0x7ff), e = (biased ? biased : 1) - 1075;
    uint64_t mant = (bits & ((UINT64_C(1) << 52) - 1)) | (uint64_t)(biased != 0) << 52;
    unsigned __int128 x = (unsigned __int128)mant * pow10[prec], q;
    if (e >= 0) {
        q = x << e;
    } else if (e < -120) {
        q = 0;
    } else {
        unsigned __int128 one = (unsigned __int128)1 << -e, rem = x & (one - 1), half = one >> 1;
        q = x >> -e;
        if (rem > half || (rem == half && (q & 1)))
            q++;
    }
    uint64_t ip, fp;
    if (q >> 64) {
        ip = (uint64_t)(q / pow10[prec]), fp = (uint64_t)(q % pow10[prec]);
    } else {
        uint64_t q64 = (uint64_t)q; /* the common case: no 128-bit division */
        ip = q64 / pow10[prec], fp = q64 % pow10[prec];
    }
    if (signbit(d))
        tp_buf_append(b, "-", 1);
    tpl_format_int(b, (int64_t)ip);
    if (prec) {
        char frac[8];
        for (int i = prec - 1; i >= 0; i--, fp /= 10)
            frac[i] = (char)('0' + fp % 10);
        tp_buf_append(b, ".", 1);
        tp_buf_append(b, frac, (size_t)prec);
    }
    return true;
}

/* Code points Python's str.isprintable() rejects, as far as this table knows them (the
 * C0/C1 controls, format characters and separators that commonly occur). */
static bool cp_unprintable(uint32_t c)
{
    return c < 0x20 || (c >= 0x7f && c <= 0xa0) || c == 0xad || c == 0x061c || c == 0x1680 ||
           c == 0x180e || (c >= 0x2000 && c <= 0x200f) || (c >= 0x2028 && c <= 0x202f) ||
           (c >= 0x205f && c <= 0x206f) || c == 0x3000 || (c >= 0xd800 && c <= 0xf8ff) ||
           c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb) || c >= 0xf0000;
}

static size_t utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
    if (p[0] < 0x80 || n < 2) {
        *cp = p[0];
        return 1;
    }
    size_t len = p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;
    if (len > n)
        len = n;
    uint32_t c = p[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++)
        c = c << 6 | (p[i] & 0x3f);
    *cp = c;
    return len;
}

size_t tpl_utf8_count(const char *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += ((unsigned char)p[i] & 0xc0) != 0x80;
    return k;
}

void tpl_repr_str(tp_buf *b, tp_slice s)
{
    char q = memchr(s.p, '\'', s.n) && !memchr(s.p, '"', s.n) ? '"' : '\'';
    tp_buf_append(b, &q, 1);
    const unsigned char *p = (const unsigned char *)s.p;
    for (size_t i = 0; i < s.n;) {
        uint32_t c;
        size_t k = utf8_next(p + i, s.n - i, &c);
        if (c == (uint32_t)q || c == '\\')
            tp_buf_appendf(b, "\\%c", (char)c);
        else if (c == '\n')
            tp_buf_append_str(b, "\\n");
        else if (c == '\r')
            tp_buf_append_str(b, "\\r");
        else if (c == '\t')
            tp_buf_append_str(b, "\\t");
        else if (!cp_unprintable(c))
            tp_buf_append(b, p + i, k);
        else if (c < 0x100)
            tp_buf_appendf(b, "\\x%02x", c);
        else if (c < 0x10000)
            tp_buf_appendf(b, "\\u%04x", c);
        else
            tp_buf_appendf(b, "\\U%08x", c);
        i += k;
    }
    tp_buf_append(b, &q, 1);
}

static void repr_items(tpl_render *r, tp_buf *b, const tpl_val *v, const char *open,
                       const char *close)
{
    tpl_iter it;
    tpl_val x;
    size_t n = 0;
    tp_buf_append_str(b, open);
    if (tpl_iter_init(r, v, &it) == 0) {
        while (tpl_iter_next(r, &it, &x) > 0) {
            if (n++)
                tp_buf_append(b, ", ", 2);
            tpl_repr(r, b, &x);
        }
    }
    if (n == 1 && v->t == TV_TUPLE)
        tp_buf_append(b, ",", 1);
    tp_buf_append_str(b, close);
}

static void repr_dict(tpl_render *r, tp_buf *b, json_t *obj)
{
    const char *key;
    size_t klen, n = 0;
    json_t *val;
    tp_buf_append(b, "{", 1);
    json_object_keylen_foreach(obj, key, klen, val)
    {
        if (n++)
            tp_buf_append(b, ", ", 2);
        tpl_repr_str(b, tp_slice_make(key, klen));
        tp_buf_append(b, ": ", 2);
        tpl_val x;
        tpl_from_json(val, &x);
        tpl_repr(r, b, &x);
    }
    tp_buf_append(b, "}", 1);
}

static void repr_iter(tpl_render *r, tp_buf *b, const tpl_val *v)
{
    const tpl_iterobj *io = v->it;
    if (io->kind == IT_ITEMS || io->kind == IT_KEYS || io->kind == IT_VALUES) {
        tp_buf_appendf(b, "%s(", tpl_type_name(v));
        repr_items(r, b, v, "[", "])");
    } else {
        tp_buf_appendf(b, "<%s object>", tpl_type_name(v));
    }
}

void tpl_repr(tpl_render *r, tp_buf *b, const tpl_val *v)
{
    switch (v->t) {
    case TV_STR: tpl_repr_str(b, v->s); break;
    case TV_LIST: repr_items(r, b, v, "[", "]"); break;
    case TV_TUPLE: repr_items(r, b, v, "(", ")"); break;
    case TV_DICT: repr_dict(r, b, v->j); break;
    case TV_ITER: repr_iter(r, b, v); break;
    default: tpl_str(r, b, v); break;
    }
}

void tpl_str(tpl_render *r, tp_buf *b, const tpl_val *v)
{
    switch (v->t) {
    case TV_UNBOUND:
    case TV_NONE: tp_buf_append(b, "None", 4); break;
    case TV_BOOL: tp_buf_append_str(b, v->b ? "True" : "False"); break;
    case TV_INT: tpl_format_int(b, v->i); break;
    case TV_FLOAT: tpl_format_float(b, v->d); break;
    case TV_STR: tp_buf_append(b, v->s.p, v->s.n); break;
    case TV_RANGE:
        tp_buf_appendf(b, "range(%" PRId64 ", %" PRId64, v->rng->start, v->rng->stop);
        if (v->rng->step != 1)
            tp_buf_appendf(b, ", %" PRId64, v->rng->step);
        tp_buf_append(b, ")", 1);
        break;
    case TV_FUNC: tp_buf_appendf(b, "<built-in function %s>", v->fn->name); break;
    case TV_NS: tp_buf_appendf(b, "<namespace %.*s>", TP_SLICE_FMT(v->s)); break;
    default: tpl_repr(r, b, v); break;
    }
}

tpl_val tpl_str_val(tpl_render *r, const char *p, size_t n)
{
    char *c = tp_arena_alloc(&r->arena, n + 1);
    if (n)
        memcpy(c, p, n);
    c[n] = '\0';
    return (tpl_val){.t = TV_STR, .s = tp_slice_make(c, n)};
}

/* ---- comparison ----------------------------------------------------------------------- */

static bool is_num(const tpl_val *v)
{
    return v->t == TV_BOOL || v->t == TV_INT || v->t == TV_FLOAT;
}

static double num_d(const tpl_val *v)
{
    return v->t == TV_FLOAT ? v->d : v->t == TV_INT ? (double)v->i : (double)v->b;
}

static int64_t num_i(const tpl_val *v)
{
    return v->t == TV_INT ? v->i : (int64_t)v->b;
}

/* -1, 0, 1 for numbers (NaN compares unordered: 2). */
static int num_cmp(const tpl_val *a, const tpl_val *b)
{
    if (a->t != TV_FLOAT && b->t != TV_FLOAT) {
        int64_t x = num_i(a), y = num_i(b);
        return x < y ? -1 : x > y;
    }
    double x = num_d(a), y = num_d(b);
    return x < y ? -1 : x > y ? 1 : x == y ? 0 : 2;
}

static bool is_seq(const tpl_val *v)
{
    return v->t == TV_LIST || v->t == TV_TUPLE;
}

static size_t seq_len(const tpl_val *v)
{
    return v->t == TV_LIST ? json_array_size(v->j) : v->tup->n;
}

static void seq_get(const tpl_val *v, size_t i, tpl_val *out)
{
    if (v->t == TV_LIST)
        tpl_from_json(json_array_get(v->j, i), out);
    else
        *out = v->tup->v[i];
}

static bool dict_equal(json_t *a, json_t *b)
{
    if (json_object_size(a) != json_object_size(b))
        return false;
    const char *key;
    size_t klen;
    json_t *va;
    json_object_keylen_foreach(a, key, klen, va)
    {
        json_t *vb = json_object_getn(b, key, klen);
        tpl_val x, y;
        if (!vb)
            return false;
        tpl_from_json(va, &x);
        tpl_from_json(vb, &y);
        if (!tpl_equal(&x, &y))
            return false;
    }
    return true;
}

bool tpl_equal(const tpl_val *a, const tpl_val *b)
{
    if (is_num(a) && is_num(b))
        return num_cmp(a, b) == 0;
    if (a->t != b->t)
        return false;
    switch (a->t) {
    case TV_NONE: return true;
    case TV_STR: return tp_slice_eq(a->s, b->s);
    case TV_DICT: return a->j == b->j || dict_equal(a->j, b->j);
    case TV_LIST:
    case TV_TUPLE: {
        size_t n = seq_len(a);
        if (n != seq_len(b))
            return false;
        for (size_t i = 0; i < n; i++) {
            tpl_val x, y;
            seq_get(a, i, &x);
            seq_get(b, i, &y);
            if (!tpl_equal(&x, &y))
                return false;
        }
        return true;
    }
    case TV_RANGE: return !memcmp(a->rng, b->rng, sizeof *a->rng);
    case TV_FUNC: return a->fn == b->fn;
    case TV_NS: return tp_slice_eq(a->s, b->s);
    default: return a->it == b->it;
    }
}

static bool cmp_result(int op, int c)
{
    if (c == 2)
        return false;
    switch (op) {
    case C_LT: return c < 0;
    case C_LE: return c <= 0;
    case C_GT: return c > 0;
    default: return c >= 0;
    }
}

int tpl_compare(tpl_render *r, int op, const tpl_val *a, const tpl_val *b, bool *res)
{
    static const char *const sym[] = {"<", "<=", ">", ">="};
    if (is_num(a) && is_num(b)) {
        *res = cmp_result(op, num_cmp(a, b));
        return 0;
    }
    if (a->t == TV_STR && b->t == TV_STR) {
        size_t n = a->s.n < b->s.n ? a->s.n : b->s.n;
        int c = n ? memcmp(a->s.p, b->s.p, n) : 0;
        if (!c)
            c = a->s.n < b->s.n ? -1 : a->s.n > b->s.n;
        *res = cmp_result(op, c < 0 ? -1 : c > 0);
        return 0;
    }
    if (is_seq(a) && a->t == b->t) {
        size_t na = seq_len(a), nb = seq_len(b);
        for (size_t i = 0; i < na && i < nb; i++) {
            tpl_val x, y;
            seq_get(a, i, &x);
            seq_get(b, i, &y);
            if (!tpl_equal(&x, &y))
                return tpl_compare(r, op, &x, &y, res);
        }
        *res = cmp_result(op, na < nb ? -1 : na > nb);
        return 0;
    }
    return tpl_raise(r, EX_TYPE, "'%s' not supported between instances of '%s' and '%s'", sym[op],
                     tpl_type_name(a), tpl_type_name(b));
}

int tpl_contains(tpl_render *r, const tpl_val *c, const tpl_val *x, bool *res)
{
    *res = false;
    if (c->t == TV_STR) {
        if (x->t != TV_STR)
            return tpl_raise(r, EX_TYPE, "'in <string>' requires string as left operand, not %s",
                             tpl_type_name(x));
        *res = x->s.n == 0 || memmem(c->s.p, c->s.n, x->s.p, x->s.n) != NULL;
        return 0;
    }
    if (c->t == TV_DICT) {
        if (x->t == TV_LIST || x->t == TV_DICT)
            return tpl_raise(r, EX_TYPE, "unhashable type: '%s'", tpl_type_name(x));
        *res = x->t == TV_STR && json_object_getn(c->j, x->s.p, x->s.n) != NULL;
        return 0;
    }
    if (c->t == TV_RANGE) {
        const tpl_range *g = c->rng;
        bool integral = x->t == TV_INT || x->t == TV_BOOL ||
                        (x->t == TV_FLOAT && x->d == floor(x->d) && fabs(x->d) < 9.2e18);
        if (!integral)
            return 0; /* only numbers equal to an int can be in a range */
        int64_t v = x->t == TV_FLOAT ? (int64_t)x->d : num_i(x);
        bool inside = g->step > 0 ? v >= g->start && v < g->stop : v <= g->start && v > g->stop;
        *res = inside && (v - g->start) % g->step == 0;
        return 0;
    }
    if (c->t != TV_LIST && c->t != TV_TUPLE && c->t != TV_RANGE && c->t != TV_ITER)
        return tpl_raise(r, EX_TYPE, "argument of type '%s' is not iterable", tpl_type_name(c));
    tpl_iter it;
    tpl_val y;
    int rc;
    if (tpl_iter_init(r, c, &it) < 0)
        return -1;
    while ((rc = tpl_iter_next(r, &it, &y)) > 0) {
        if (tpl_equal(x, &y)) {
            *res = true;
            return 0;
        }
    }
    return rc;
}
