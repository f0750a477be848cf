/* Python's operators on template values: arithmetic with Python's int/float semantics
 * (floor division, modulo sign, true division; ints are 64-bit and overflow raises),
 * sequence concatenation and repetition, len, indexing, slicing and iteration. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/template/internal.h"

#define MAX_SEQ (16u << 20) /* the largest string or list an operator may build */

static const char *const binsym[] = {"+", "-", "*", "/", "//", "%", "** or pow()"};

static bool is_num(const tpl_val *v)
{
    return v->t == TV_BOOL || v->t == TV_INT || v->t == TV_FLOAT;
}

static bool is_int(const tpl_val *v)
{
    return v->t == TV_BOOL || v->t == TV_INT;
}

static int64_t ival(const tpl_val *v)
{
    return v->t == TV_INT ? v->i : (int64_t)v->b;
}

static double dval(const tpl_val *v)
{
    return v->t == TV_FLOAT ? v->d : (double)ival(v);
}

static int overflow(tpl_render *r)
{
    return tpl_raise(r, EX_OVERFLOW, "integer overflow (template ints are 64-bit)");
}

static int int_pow(tpl_render *r, int64_t a, int64_t b, tpl_val *out)
{
    if (b < 0) {
        if (a == 0)
            return tpl_raise(r, EX_ZERODIV, "0.0 cannot be raised to a negative power");
        *out = (tpl_val){.t = TV_FLOAT, .d = pow((double)a, (double)b)};
        return 0;
    }
    int64_t res = 1;
    while (b) {
        if ((b & 1) && __builtin_mul_overflow(res, a, &res))
            return overflow(r);
        b >>= 1;
        if (b && __builtin_mul_overflow(a, a, &a))
            return overflow(r);
    }
    *out = TPL_INT(res);
    return 0;
}

static int int_op(tpl_render *r, int op, int64_t a, int64_t b, tpl_val *out)
{
    int64_t v = 0;
    switch (op) {
    case B_ADD:
        if (__builtin_add_overflow(a, b, &v))
            return overflow(r);
        break;
    case B_SUB:
        if (__builtin_sub_overflow(a, b, &v))
            return overflow(r);
        break;
    case B_MUL:
        if (__builtin_mul_overflow(a, b, &v))
            return overflow(r);
        break;
    case B_DIV:
        if (b == 0)
            return tpl_raise(r, EX_ZERODIV, "division by zero");
        *out = (tpl_val){.t = TV_FLOAT, .d = (double)a / (double)b};
        return 0;
    case B_FDIV:
    case B_MOD:
        if (b == 0)
            return tpl_raise(r, EX_ZERODIV,
                             op == B_MOD ? "integer modulo by zero"
                                         : "integer division or modulo by zero");
        if (a == INT64_MIN && b == -1)
            return op == B_MOD ? (*out = TPL_INT(0), 0) : overflow(r);
        v = op == B_FDIV ? a / b : a % b;
        if ((a % b != 0) && ((a < 0) != (b < 0)))
            v = op == B_FDIV ? v - 1 : v + b;
        break;
    case B_POW: return int_pow(r, a, b, out);
    }
    *out = TPL_INT(v);
    return 0;
}

static int float_op(tpl_render *r, int op, double a, double b, tpl_val *out)
{
    double v = 0;
    switch (op) {
    case B_ADD: v = a + b; break;
    case B_SUB: v = a - b; break;
    case B_MUL: v = a * b; break;
    case B_DIV:
        if (b == 0)
            return tpl_raise(r, EX_ZERODIV, "float division by zero");
        v = a / b;
        break;
    case B_FDIV:
    case B_MOD: {
        if (b == 0)
            return tpl_raise(r, EX_ZERODIV,
                             op == B_MOD ? "float modulo" : "float floor division by zero");
        double mod = fmod(a, b), div = (a - mod) / b;
        if (mod != 0 && ((b < 0) != (mod < 0))) {
            mod += b;
            div -= 1.0;
        }
        if (op == B_MOD) {
            v = mod != 0 ? mod : copysign(0.0, b);
        } else if (div != 0) {
            v = floor(div);
            if (div - v > 0.5)
                v += 1.0;
        } else {
            v = copysign(0.0, a / b);
        }
        break;
    }
    case B_POW:
        if (a == 0 && b < 0)
            return tpl_raise(r, EX_ZERODIV, "0.0 cannot be raised to a negative power");
        if (a < 0 && b != floor(b))
            return tpl_raise(r, EX_VALUE, "complex results are not supported");
        v = pow(a, b);
        break;
    }
    *out = (tpl_val){.t = TV_FLOAT, .d = v};
    return 0;
}

static int repeat(tpl_render *r, const tpl_val *seq, int64_t n, tpl_val *out)
{
    if (n < 0)
        n = 0;
    if (seq->t == TV_STR) {
        if (seq->s.n && (uint64_t)n > MAX_SEQ / seq->s.n)
            return tpl_raise(r, EX_RUNTIME, "string repetition too large");
        size_t len = seq->s.n * (size_t)n;
        char *p = tp_arena_alloc(&r->arena, len + 1);
        for (int64_t i = 0; i < n; i++)
            memcpy(p + (size_t)i * seq->s.n, seq->s.p, seq->s.n);
        p[len] = '\0';
        *out = (tpl_val){.t = TV_STR, .s = tp_slice_make(p, len)};
        return 0;
    }
    size_t len = seq->t == TV_LIST ? json_array_size(seq->j) : seq->tup->n;
    if (len && (uint64_t)n > MAX_SEQ / 16 / len)
        return tpl_raise(r, EX_RUNTIME, "sequence repetition too large");
    if (seq->t == TV_LIST) {
        json_t *a = tpl_keep(r, json_array());
        for (int64_t i = 0; i < n; i++)
            json_array_extend(a, seq->j);
        *out = (tpl_val){.t = TV_LIST, .j = a};
        return 0;
    }
    tpl_tuple *t = tp_arena_alloc(&r->arena, sizeof *t + len * (size_t)n * sizeof(tpl_val));
    t->n = len * (size_t)n;
    for (int64_t i = 0; i < n; i++)
        memcpy(t->v + (size_t)i * len, seq->tup->v, len * sizeof(tpl_val));
    *out = (tpl_val){.t = TV_TUPLE, .tup = t};
    return 0;
}

static int concat(tpl_render *r, const tpl_val *a, const tpl_val *b, tpl_val *out)
{
    if (a->t == TV_STR) {
        size_t n = a->s.n + b->s.n;
        char *p = tp_arena_alloc(&r->arena, n + 1);
        memcpy(p, a->s.p, a->s.n);
        memcpy(p + a->s.n, b->s.p, b->s.n);
        p[n] = '\0';
        *out = (tpl_val){.t = TV_STR, .s = tp_slice_make(p, n)};
    } else if (a->t == TV_LIST) {
        json_t *l = tpl_keep(r, json_copy(a->j));
        json_array_extend(l, b->j);
        *out = (tpl_val){.t = TV_LIST, .j = l};
    } else {
        size_t n = a->tup->n + b->tup->n;
        tpl_tuple *t = tp_arena_alloc(&r->arena, sizeof *t + n * sizeof(tpl_val));
        t->n = n;
        memcpy(t->v, a->tup->v, a->tup->n * sizeof(tpl_val));
        memcpy(t->v + a->tup->n, b->tup->v, b->tup->n * sizeof(tpl_val));
        *out = (tpl_val){.t = TV_TUPLE, .tup = t};
    }
    return 0;
}

static int seq_op(tpl_render *r, int op, const tpl_val *a, const tpl_val *b, tpl_val *out)
{
    bool seqa = a->t == TV_STR || a->t == TV_LIST || a->t == TV_TUPLE;
    bool seqb = b->t == TV_STR || b->t == TV_LIST || b->t == TV_TUPLE;
    if (op == B_ADD && seqa) {
        if (a->t == b->t)
            return concat(r, a, b, out);
        return tpl_raise(r, EX_TYPE, "can only concatenate %s (not \"%s\") to %s", tpl_type_name(a),
                         tpl_type_name(b), tpl_type_name(a));
    }
    if (op == B_MUL && seqa && is_int(b))
        return repeat(r, a, ival(b), out);
    if (op == B_MUL && seqb && is_int(a))
        return repeat(r, b, ival(a), out);
    if (op == B_MUL && (seqa || seqb))
        return tpl_raise(r, EX_TYPE, "can't multiply sequence by non-int of type '%s'",
                         tpl_type_name(seqa ? b : a));
    if (op == B_MOD && a->t == TV_STR)
        return tpl_str_format(r, a->s, b, out);
    return tpl_raise(r, EX_TYPE, "unsupported operand type(s) for %s: '%s' and '%s'", binsym[op],
                     tpl_type_name(a), tpl_type_name(b));
}

int tpl_binop(tpl_render *r, int op, const tpl_val *a, const tpl_val *b, tpl_val *out)
{
    if (is_int(a) && is_int(b))
        return int_op(r, op, ival(a), ival(b), out);
    if (is_num(a) && is_num(b))
        return float_op(r, op, dval(a), dval(b), out);
    return seq_op(r, op, a, b, out);
}

/* ---- len, indexing, slicing ----------------------------------------------------------- */

static int64_t range_len(const tpl_range *g)
{
    if (g->step > 0 && g->start < g->stop)
        return (g->stop - g->start - 1) / g->step + 1;
    if (g->step < 0 && g->start > g->stop)
        return (g->start - g->stop - 1) / -g->step + 1;
    return 0;
}

int tpl_len(tpl_render *r, const tpl_val *v, int64_t *n)
{
    switch (v->t) {
    case TV_STR: *n = (int64_t)tpl_utf8_count(v->s.p, v->s.n); return 0;
    case TV_LIST: *n = (int64_t)json_array_size(v->j); return 0;
    case TV_DICT: *n = (int64_t)json_object_size(v->j); return 0;
    case TV_TUPLE: *n = (int64_t)v->tup->n; return 0;
    case TV_RANGE: *n = range_len(v->rng); return 0;
    case TV_ITER:
        if (v->it->kind >= IT_ITEMS) {
            *n = (int64_t)json_object_size(v->it->a.j);
            return 0;
        }
        break;
    }
    return tpl_raise(r, EX_TYPE, "object of type '%s' has no len()", tpl_type_name(v));
}

/* Byte offset of code point i in s (i <= count). */
static size_t cp_offset(tp_slice s, int64_t i)
{
    size_t off = 0;
    for (; off < s.n; off++) {
        if (((unsigned char)s.p[off] & 0xc0) != 0x80 && i-- == 0)
            return off;
    }
    return s.n;
}

static int index_of(tpl_render *r, const tpl_val *c, const tpl_val *key, int64_t len, int64_t *out)
{
    if (!is_int(key)) {
        if (c->t == TV_STR)
            return tpl_raise(r, EX_TYPE, "string indices must be integers, not '%s'",
                             tpl_type_name(key));
        return tpl_raise(r, EX_TYPE, "%s indices must be integers or slices, not %s",
                         tpl_type_name(c), tpl_type_name(key));
    }
    int64_t i = ival(key);
    if (i < 0)
        i += len;
    if (i < 0 || i >= len)
        return tpl_raise(r, EX_INDEX, "%s index out of range",
                         c->t == TV_STR     ? "string"
                         : c->t == TV_RANGE ? "range object"
                                            : tpl_type_name(c));
    *out = i;
    return 0;
}

int tpl_getitem(tpl_render *r, const tpl_val *c, const tpl_val *key, tpl_val *out)
{
    int64_t len = 0, i = 0;
    if (c->t == TV_DICT) {
        json_t *v = key->t == TV_STR ? json_object_getn(c->j, key->s.p, key->s.n) : NULL;
        if (v) {
            tpl_from_json(v, out);
            return 0;
        }
        if (key->t == TV_LIST || key->t == TV_DICT)
            return tpl_raise(r, EX_TYPE, "unhashable type: '%s'", tpl_type_name(key));
        tp_buf_clear(&r->scratch);
        tpl_repr(r, &r->scratch, key);
        return tpl_raise(r, EX_KEY, "%.*s", (int)r->scratch.len, tpl_buf_str(&r->scratch));
    }
    if (c->t != TV_LIST && c->t != TV_TUPLE && c->t != TV_STR && c->t != TV_RANGE)
        return tpl_raise(r, EX_TYPE, "'%s' object is not subscriptable", tpl_type_name(c));
    if (tpl_len(r, c, &len) < 0 || index_of(r, c, key, len, &i) < 0)
        return -1;
    switch (c->t) {
    case TV_LIST: tpl_from_json(json_array_get(c->j, (size_t)i), out); break;
    case TV_TUPLE: *out = c->tup->v[i]; break;
    case TV_RANGE: *out = TPL_INT(c->rng->start + i * c->rng->step); break;
    default: {
        size_t a = cp_offset(c->s, i), b = cp_offset(c->s, i + 1);
        *out = (tpl_val){.t = TV_STR, .s = tp_slice_make(c->s.p + a, b - a)};
    }
    }
    return 0;
}

/* PySlice_AdjustIndices: start/stop/step into [0, len] with the count of items. */
static int slice_bounds(tpl_render *r, const tpl_val *lo, const tpl_val *hi, const tpl_val *st,
                        int64_t len, int64_t *start, int64_t *step, int64_t *count)
{
    const tpl_val *part[3] = {lo, hi, st};
    for (int k = 0; k < 3; k++)
        if (part[k] && part[k]->t != TV_NONE && !is_int(part[k]))
            return tpl_raise(r, EX_TYPE,
                             "slice indices must be integers or None or have an __index__ method");
    *step = st && st->t != TV_NONE ? ival(st) : 1;
    if (*step == 0)
        return tpl_raise(r, EX_VALUE, "slice step cannot be zero");
    int64_t def_lo = *step < 0 ? len - 1 : 0, def_hi = *step < 0 ? -1 : len;
    int64_t b[2] = {def_lo, def_hi};
    for (int k = 0; k < 2; k++) {
        if (!part[k] || part[k]->t == TV_NONE)
            continue;
        int64_t v = ival(part[k]);
        if (v < 0) {
            v += len;
            if (v < 0)
                v = *step < 0 ? -1 : 0;
        } else if (v >= len) {
            v = *step < 0 ? len - 1 : len;
        }
        b[k] = v;
    }
    *start = b[0];
    if (*step < 0)
        *count = b[1] < b[0] ? (b[0] - b[1] - 1) / -*step + 1 : 0;
    else
        *count = b[0] < b[1] ? (b[1] - b[0] - 1) / *step + 1 : 0;
    return 0;
}

static tpl_val slice_str(tpl_render *r, tp_slice s, int64_t start, int64_t step, int64_t count)
{
    if (step == 1) {
        size_t a = cp_offset(s, start), b = cp_offset(s, start + count);
        return (tpl_val){.t = TV_STR, .s = tp_slice_make(s.p + a, b - a)};
    }
    tp_buf_clear(&r->scratch);
    for (int64_t k = 0; k < count; k++) {
        size_t a = cp_offset(s, start + k * step), b = cp_offset(s, start + k * step + 1);
        tp_buf_append(&r->scratch, s.p + a, b - a);
    }
    return tpl_str_val(r, tpl_buf_str(&r->scratch), r->scratch.len);
}

int tpl_getslice(tpl_render *r, const tpl_val *c, const tpl_val *lo, const tpl_val *hi,
                 const tpl_val *st, tpl_val *out)
{
    int64_t len = 0, start = 0, step = 1, count = 0;
    if (c->t != TV_LIST && c->t != TV_TUPLE && c->t != TV_STR && c->t != TV_RANGE)
        return tpl_raise(r, EX_TYPE, "'%s' object is not subscriptable", tpl_type_name(c));
    if (tpl_len(r, c, &len) < 0 || slice_bounds(r, lo, hi, st, len, &start, &step, &count) < 0)
        return -1;
    if (c->t == TV_STR) {
        *out = slice_str(r, c->s, start, step, count);
        return 0;
    }
    if (c->t == TV_LIST) {
        json_t *a = tpl_keep(r, json_array());
        for (int64_t k = 0; k < count; k++)
            json_array_append(a, json_array_get(c->j, (size_t)(start + k * step)));
        *out = (tpl_val){.t = TV_LIST, .j = a};
        return 0;
    }
    tpl_tuple *t = tp_arena_alloc(&r->arena, sizeof *t + (size_t)count * sizeof(tpl_val));
    t->n = (size_t)count;
    for (int64_t k = 0; k < count; k++) {
        int64_t i = start + k * step;
        t->v[k] = c->t == TV_TUPLE ? c->tup->v[i] : TPL_INT(c->rng->start + i * c->rng->step);
    }
    *out = (tpl_val){.t = TV_TUPLE, .tup = t};
    return 0;
}

/* ---- iteration ------------------------------------------------------------------------ */

int tpl_iter_init(tpl_render *r, const tpl_val *v, tpl_iter *it)
{
    *it = (tpl_iter){.srcv = *v};
    switch (v->t) {
    case TV_LIST: it->n = json_array_size(v->j); return 0;
    case TV_TUPLE: it->n = v->tup->n; return 0;
    case TV_STR: it->n = v->s.n; return 0;
    case TV_DICT: it->oit = json_object_iter(v->j); return 0;
    case TV_RANGE: it->cur = v->rng->start; return 0;
    case TV_ITER: break;
    default: return tpl_raise(r, EX_TYPE, "'%s' object is not iterable", tpl_type_name(v));
    }
    it->io = v->it;
    switch (v->it->kind) {
    case IT_ENUMERATE:
    case IT_ZIP:
        for (int k = 0; k < (v->it->kind == IT_ZIP ? 2 : 1); k++) {
            it->sub[k] = tp_arena_alloc(&r->arena, sizeof *it->sub[k]);
            if (tpl_iter_init(r, k ? &v->it->b : &v->it->a, it->sub[k]) < 0)
                return -1;
        }
        it->cur = v->it->start;
        return 0;
    case IT_REVERSED:
        it->n = v->it->a.t == TV_STR ? v->it->a.s.n : 0;
        if (v->it->a.t != TV_STR && tpl_len(r, &v->it->a, &it->cur) < 0)
            return -1;
        return 0;
    default: it->oit = json_object_iter(v->it->a.j); return 0;
    }
}

static tpl_val pair(tpl_render *r, tpl_val a, tpl_val b)
{
    tpl_tuple *t = tp_arena_alloc(&r->arena, sizeof *t + 2 * sizeof(tpl_val));
    t->n = 2;
    t->v[0] = a;
    t->v[1] = b;
    return (tpl_val){.t = TV_TUPLE, .tup = t};
}

static int next_dict(tpl_iter *it, json_t *obj, int kind, tpl_render *r, tpl_val *out)
{
    if (!it->oit)
        return 0;
    tpl_val k = {.t = TV_STR}, v;
    k.s = tp_slice_make(json_object_iter_key(it->oit), json_object_iter_key_len(it->oit));
    tpl_from_json(json_object_iter_value(it->oit), &v);
    it->oit = json_object_iter_next(obj, it->oit);
    *out = kind == IT_KEYS ? k : kind == IT_VALUES ? v : pair(r, k, v);
    return 1;
}

static int next_wrapped(tpl_render *r, tpl_iter *it, tpl_val *out)
{
    const tpl_iterobj *io = it->io;
    tpl_val a, b;
    int rc;
    switch (io->kind) {
    case IT_ENUMERATE:
        if ((rc = tpl_iter_next(r, it->sub[0], &a)) <= 0)
            return rc;
        *out = pair(r, TPL_INT(it->cur++), a);
        return 1;
    case IT_ZIP:
        if ((rc = tpl_iter_next(r, it->sub[0], &a)) <= 0 ||
            (rc = tpl_iter_next(r, it->sub[1], &b)) <= 0)
            return rc;
        *out = pair(r, a, b);
        return 1;
    case IT_REVERSED:
        if (io->a.t == TV_STR) {
            if (it->n == 0)
                return 0;
            size_t end = it->n;
            do
                it->n--;
            while (it->n > 0 && ((unsigned char)io->a.s.p[it->n] & 0xc0) == 0x80);
            *out = (tpl_val){.t = TV_STR, .s = tp_slice_make(io->a.s.p + it->n, end - it->n)};
            return 1;
        }
        if (it->cur <= 0)
            return 0;
        a = TPL_INT(--it->cur);
        return tpl_getitem(r, &io->a, &a, out) < 0 ? -1 : 1;
    default: return next_dict(it, io->a.j, io->kind, r, out);
    }
}

int tpl_iter_next(tpl_render *r, tpl_iter *it, tpl_val *out)
{
    const tpl_val *v = &it->srcv;
    if (TPL_STEP(r) < 0)
        return -1;
    switch (v->t) {
    case TV_LIST:
        if (it->i >= it->n || it->i >= json_array_size(v->j))
            return 0;
        tpl_from_json(json_array_get(v->j, it->i++), out);
        return 1;
    case TV_TUPLE:
        if (it->i >= it->n)
            return 0;
        *out = v->tup->v[it->i++];
        return 1;
    case TV_STR: {
        if (it->i >= it->n)
            return 0;
        size_t a = it->i++;
        while (it->i < it->n && ((unsigned char)v->s.p[it->i] & 0xc0) == 0x80)
            it->i++;
        *out = (tpl_val){.t = TV_STR, .s = tp_slice_make(v->s.p + a, it->i - a)};
        return 1;
    }
    case TV_DICT: return next_dict(it, v->j, IT_KEYS, r, out);
    case TV_RANGE:
        if (v->rng->step > 0 ? it->cur >= v->rng->stop : it->cur <= v->rng->stop)
            return 0;
        *out = TPL_INT(it->cur);
        it->cur += v->rng->step;
        return 1;
    default: return next_wrapped(r, it, out);
    }
}
