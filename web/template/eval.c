/* Evaluation of linked expressions: names (locals by slot, globals resolved once per render
 * through the context, the loader's namespace and the builtins), attributes, calls,
 * operators, literals, comprehensions, and assignment to targets. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "web/template/internal.h"

#define MAX_ARGS 64

const char *tpl_exc_name(int exc)
{
    static const char *const names[] = {
        "Exception",    "NameError", "UnboundLocalError", "AttributeError",    "KeyError",
        "IndexError",   "TypeError", "ValueError",        "ZeroDivisionError", "OverflowError",
        "RuntimeError", "Error",     "ImportError",
    };
    return names[exc];
}

int tpl_raise(tpl_render *r, int exc, const char *fmt, ...)
{
    if (r->exc == EX_NONE) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->msg, sizeof r->msg, fmt, ap);
        va_end(ap);
        r->exc = exc;
    }
    return -1;
}

/* ---- names and attributes ------------------------------------------------------------- */

static int ns_value(tpl_render *r, const tpl_ns_entry *e, tpl_val *out)
{
    if (e->is_fn) {
        out->t = TV_FUNC;
        out->fn = &e->fn;
    } else {
        tpl_from_json(e->value, out);
    }
    (void)r;
    return 0;
}

static int resolve_global(tpl_render *r, tp_slice name, tpl_val *out)
{
    json_t *j = r->ctx ? json_object_getn(r->ctx, name.p, name.n) : NULL;
    if (j) {
        tpl_from_json(j, out);
        return 0;
    }
    if (tp_slice_eq(name, TP_SLICE_LIT("_tt_modules")))
        name = TP_SLICE_LIT("modules");
    const tpl_ns_entry *e = r->ns ? tpl_ns_find(r->ns, name.p, name.n) : NULL;
    if (e)
        return ns_value(r, e, out);
    if (r->ns && tpl_ns_has_prefix(r->ns, name.p, name.n)) {
        out->t = TV_NS;
        out->s = name;
        return 0;
    }
    const tpl_fn *fn = tpl_builtin_find(name.p, name.n);
    if (fn) {
        out->t = TV_FUNC;
        out->fn = fn;
        return 0;
    }
    return tpl_raise(r, EX_NAME, "name '%.*s' is not defined", TP_SLICE_FMT(name));
}

static int getattr(tpl_render *r, const tpl_val *obj, tp_slice name, tpl_val *out)
{
    if (obj->t == TV_DICT) {
        json_t *j = json_object_getn(obj->j, name.p, name.n);
        if (j) {
            tpl_from_json(j, out);
            return 0;
        }
    } else if (obj->t == TV_NS) {
        char *full =
            tp_arena_printf(&r->arena, "%.*s.%.*s", TP_SLICE_FMT(obj->s), TP_SLICE_FMT(name));
        size_t n = strlen(full);
        const tpl_ns_entry *e = tpl_ns_find(r->ns, full, n);
        if (e)
            return ns_value(r, e, out);
        if (tpl_ns_has_prefix(r->ns, full, n)) {
            out->t = TV_NS;
            out->s = tp_slice_make(full, n);
            return 0;
        }
        return tpl_raise(r, EX_ATTRIBUTE, "'%.*s'", TP_SLICE_FMT(name));
    }
    return tpl_raise(r, EX_ATTRIBUTE, "'%s' object has no attribute '%.*s'", tpl_type_name(obj),
                     TP_SLICE_FMT(name));
}

/* ---- constant keys -------------------------------------------------------------------- */

void tpl_keymemo_clear(tpl_render *r)
{
    if (r->keymemo_used) {
        memset(r->keymemo, 0, sizeof r->keymemo);
        r->keymemo_used = false;
    }
}

/* kid[0][key] (E_KEY) and kid[0].name (E_ATTR): a dict's key straight from jansson; everything
 * else, and every error, the general way (tpl_getitem, getattr). */
int tpl_eval_key(tpl_render *r, const tpl_expr *e, tpl_val *out)
{
    tpl_val val;
    const tpl_val *obj = &val; /* a local's slot is read in place, not copied */
    json_t *j;
    if (e->sub && r->slots[e->idx].t != TV_UNBOUND)
        obj = &r->slots[e->idx];
    else if (tpl_eval(r, e->kid[0], &val) < 0)
        return -1;
    if (obj->t == TV_DICT && (j = e->sub == 2 ? tpl_keymemo_get(r, obj->j, e->k.s)
                                              : json_object_getn(obj->j, e->k.s.p, e->k.s.n))) {
        tpl_from_json(j, out);
        return 0;
    }
    return e->op == E_KEY ? tpl_getitem(r, obj, &e->k, out) : getattr(r, obj, e->k.s, out);
}

/* ---- calls ---------------------------------------------------------------------------- */

static int call_registered(tpl_render *r, const tpl_fn *fn, const tpl_args *a, tpl_val *out)
{
    json_t *args = json_array(), *kwargs = json_object();
    int rc = -1;
    for (int i = 0; i < a->n; i++) {
        json_t *j = tpl_to_json(r, &a->v[i]);
        if (!j)
            goto done;
        json_array_append_new(args, j);
    }
    for (int i = 0; i < a->nkw; i++) {
        json_t *j = tpl_to_json(r, &a->kwv[i]);
        if (!j)
            goto done;
        json_object_setn_new_nocheck(kwargs, a->kwn[i].p, a->kwn[i].n, j);
    }
    char err[512] = "";
    tp_template_call call = {args, kwargs, fn->data, r->render_data, err, sizeof err};
    json_t *res = fn->ufn(&call);
    if (!res) {
        tpl_raise(r, EX_ERROR, "%s", err[0] ? err : fn->name);
        goto done;
    }
    tpl_from_json(tpl_keep(r, res), out);
    rc = 0;
done:
    json_decref(args);
    json_decref(kwargs);
    return rc;
}

int tpl_call(tpl_render *r, const tpl_val *fn, const tpl_args *a, tpl_val *out)
{
    tpl_keymemo_clear(r);
    if (fn->t != TV_FUNC)
        return tpl_raise(r, EX_TYPE, "'%s' object is not callable", tpl_type_name(fn));
    if (++r->depth > TPL_MAX_DEPTH) {
        r->depth--;
        return tpl_raise(r, EX_RUNTIME, "maximum recursion depth exceeded");
    }
    int rc = fn->fn->impl ? fn->fn->impl(r, a, out) : call_registered(r, fn->fn, a, out);
    r->depth--;
    tpl_keymemo_clear(r); /* and after it: what it changed may have been read inside it */
    return rc;
}

static TPL_NOINLINE int eval_call(tpl_render *r, const tpl_expr *e, tpl_val *out)
{
    const tpl_expr *callee = e->kid[0];
    int npos = e->idx, nkw = e->n - 1 - npos;
    tpl_val obj, fn, argv[MAX_ARGS], kwv[MAX_ARGS];
    if (npos > MAX_ARGS || nkw > MAX_ARGS)
        return tpl_raise(r, EX_RUNTIME, "more than %d arguments", MAX_ARGS);
    bool method = callee->op == E_ATTR;
    if (tpl_eval(r, method ? callee->kid[0] : callee, method ? &obj : &fn) < 0)
        return -1;
    for (int i = 0; i < npos; i++)
        if (tpl_eval(r, e->kid[1 + i], &argv[i]) < 0)
            return -1;
    for (int i = 0; i < nkw; i++)
        if (tpl_eval(r, e->kid[1 + npos + i], &kwv[i]) < 0)
            return -1;
    tpl_args a = {npos, argv, nkw, e->kw, kwv};
    if (method) {
        tpl_keymemo_clear(r);
        int rc = tpl_call_method(r, &obj, callee->k.s, &a, out);
        tpl_keymemo_clear(r);
        if (rc <= 0)
            return rc;
        if (getattr(r, &obj, callee->k.s, &fn) < 0)
            return -1;
    }
    return tpl_call(r, &fn, &a, out);
}

/* ---- literals and comprehensions ------------------------------------------------------ */

static TPL_NOINLINE int eval_list(tpl_render *r, const tpl_expr *e, tpl_val *out)
{
    json_t *a = tpl_keep(r, json_array());
    for (int i = 0; i < e->n; i++) {
        tpl_val v;
        json_t *j;
        if (tpl_eval(r, e->kid[i], &v) < 0 || !(j = tpl_to_json(r, &v)))
            return -1;
        json_array_append_new(a, j);
    }
    *out = (tpl_val){.t = TV_LIST, .j = a};
    return 0;
}

static TPL_NOINLINE int eval_tuple(tpl_render *r, const tpl_expr *e, tpl_val *out)
{
    tpl_tuple *t = tp_arena_alloc(&r->arena, sizeof *t + e->n * sizeof(tpl_val));
    t->n = e->n;
    for (int i = 0; i < e->n; i++)
        if (tpl_eval(r, e->kid[i], &t->v[i]) < 0)
            return -1;
    *out = (tpl_val){.t = TV_TUPLE, .tup = t};
    return 0;
}

static TPL_NOINLINE int eval_dict(tpl_render *r, const tpl_expr *e, tpl_val *out)
{
    json_t *d = tpl_keep(r, json_object());
    for (int i = 0; i + 1 < e->n; i += 2) {
        tpl_val k, v;
        json_t *j;
        if (tpl_eval(r, e->kid[i], &k) < 0)
            return -1;
        if (k.t != TV_STR)
            return tpl_raise(r, EX_TYPE, "dict keys must be str here (JSON objects), not %s",
                             tpl_type_name(&k));
        if (tpl_eval(r, e->kid[i + 1], &v) < 0 || !(j = tpl_to_json(r, &v)))
            return -1;
        json_object_setn_new_nocheck(d, k.s.p, k.s.n, j);
    }
    *out = (tpl_val){.t = TV_DICT, .j = d};
    return 0;
}

static TPL_NOINLINE int eval_comp(tpl_render *r, const tpl_expr *e, tpl_val *out)
{
    tpl_val src, x, v;
    tpl_iter it;
    int rc;
    if (tpl_eval(r, e->kid[2], &src) < 0 || tpl_iter_init(r, &src, &it) < 0)
        return -1;
    json_t *a = tpl_keep(r, json_array());
    while ((rc = tpl_iter_next(r, &it, &x)) > 0) {
        if (tpl_assign(r, e->kid[1], &x) < 0)
            return -1;
        bool keep = true;
        for (int i = 3; keep && i < e->n; i++) {
            if (tpl_eval(r, e->kid[i], &v) < 0)
                return -1;
            keep = tpl_truthy(&v);
        }
        if (!keep)
            continue;
        json_t *j;
        if (tpl_eval(r, e->kid[0], &v) < 0 || !(j = tpl_to_json(r, &v)))
            return -1;
        json_array_append_new(a, j);
    }
    *out = (tpl_val){.t = TV_LIST, .j = a};
    return rc;
}

/* ---- operators ------------------------------------------------------------------------ */

static TPL_NOINLINE int eval_unary(tpl_render *r, const tpl_expr *e, tpl_val *out)
{
    tpl_val v;
    if (tpl_eval(r, e->kid[0], &v) < 0)
        return -1;
    if (e->op == E_NOT) {
        *out = TPL_BOOL(!tpl_truthy(&v));
        return 0;
    }
    bool neg = e->op == E_NEG;
    if (v.t == TV_BOOL)
        v = TPL_INT(v.b);
    if (v.t == TV_INT) {
        if (neg && v.i == INT64_MIN)
            return tpl_raise(r, EX_OVERFLOW, "integer overflow (template ints are 64-bit)");
        *out = TPL_INT(neg ? -v.i : v.i);
    } else if (v.t == TV_FLOAT) {
        *out = (tpl_val){.t = TV_FLOAT, .d = neg ? -v.d : v.d};
    } else {
        return tpl_raise(r, EX_TYPE, "bad operand type for unary %c: '%s'", neg ? '-' : '+',
                         tpl_type_name(&v));
    }
    return 0;
}

static int cmp_one(tpl_render *r, int op, const tpl_val *a, const tpl_val *b, bool *res)
{
    switch (op) {
    case C_EQ: *res = tpl_equal(a, b); return 0;
    case C_NE: *res = !tpl_equal(a, b); return 0;
    case C_IN:
    case C_NOTIN:
        if (tpl_contains(r, b, a, res) < 0)
            return -1;
        *res ^= op == C_NOTIN;
        return 0;
    case C_IS:
    case C_ISNOT:
        *res = a->t == b->t && (a->t == TV_NONE || tpl_equal(a, b));
        *res ^= op == C_ISNOT;
        return 0;
    default: return tpl_compare(r, op, a, b, res);
    }
}

static TPL_NOINLINE int eval_cmp(tpl_render *r, const tpl_expr *e, tpl_val *out)
{
    tpl_val a, b;
    bool res = true;
    if (tpl_eval(r, e->kid[0], &a) < 0)
        return -1;
    for (int i = 1; i < e->n && res; i++) {
        if (tpl_eval(r, e->kid[i], &b) < 0 || cmp_one(r, e->ops[i - 1], &a, &b, &res) < 0)
            return -1;
        a = b;
    }
    *out = TPL_BOOL(res);
    return 0;
}

static TPL_NOINLINE int eval_slice(tpl_render *r, const tpl_expr *e, tpl_val *out)
{
    tpl_val v[4];
    for (int i = 0; i < 4; i++) {
        v[i] = TPL_NONE;
        if (e->kid[i] && tpl_eval(r, e->kid[i], &v[i]) < 0)
            return -1;
    }
    return tpl_getslice(r, &v[0], &v[1], &v[2], &v[3], out);
}

static TPL_NOINLINE int raise_unbound(tpl_render *r, const tpl_expr *e)
{
    return tpl_raise(r, EX_UNBOUND,
                     "cannot access local variable '%.*s' where it is not associated with a value",
                     TP_SLICE_FMT(e->k.s));
}

/* A global's first use in a render resolves it (resolve_global) for the rest of the render. */
static TPL_NOINLINE int eval_global(tpl_render *r, const tpl_expr *e, tpl_val *out)
{
    if (resolve_global(r, e->k.s, &r->globals[e->idx]) < 0)
        return -1;
    *out = r->globals[e->idx];
    return 0;
}

static TPL_NOINLINE int eval_index(tpl_render *r, const tpl_expr *e, tpl_val *out)
{
    tpl_val a, b;
    if (tpl_eval(r, e->kid[0], &a) < 0 || tpl_eval(r, e->kid[1], &b) < 0)
        return -1;
    return tpl_getitem(r, &a, &b, out);
}

/* int + - % int when no error can come of it (no overflow, a positive divisor), as
 * tpl_binop computes them; false for tpl_binop to do the rest. */
static bool int_fast(int op, int64_t a, int64_t b, tpl_val *out)
{
    int64_t v;
    if (op == B_ADD) {
        if (__builtin_add_overflow(a, b, &v))
            return false;
    } else if (op == B_SUB) {
        if (__builtin_sub_overflow(a, b, &v))
            return false;
    } else if (op == B_MOD && b > 0 && !(b & (b - 1))) {
        v = a & (b - 1); /* i % 2: a power of two needs no division, and is never negative */
    } else if (op == B_MOD && b > 0) {
        v = a % b;
        v += v < 0 ? b : 0; /* Python's sign: the divisor's */
    } else {
        return false;
    }
    *out = TPL_INT(v);
    return true;
}

/* '%.Nf' % x for a number x (the link marks the format): what str % formatting gives, the
 * exact tpl_format_fixed, without parsing the format; false for it to do everything else. */
static bool fixed_fast(tpl_render *r, int prec, const tpl_val *x, tpl_val *out)
{
    if (x->t != TV_FLOAT && x->t != TV_INT && x->t != TV_BOOL)
        return false;
    double d = x->t == TV_FLOAT ? x->d : x->t == TV_INT ? (double)x->i : x->b;
    tp_buf_clear(&r->scratch);
    if (!tpl_format_fixed(&r->scratch, d, prec))
        return false;
    *out = tpl_str_val(r, tpl_buf_str(&r->scratch), r->scratch.len);
    return true;
}

static TPL_NOINLINE int eval_bin(tpl_render *r, const tpl_expr *e, tpl_val *out)
{
    tpl_val a, b;
    json_t *j = tpl_local_key(r, e->kid[0]); /* row['id'] % 2: the int straight from jansson */
    if (json_is_integer(j))
        a = TPL_INT(json_integer_value(j));
    else if (tpl_eval(r, e->kid[0], &a) < 0)
        return -1;
    if (tpl_eval(r, e->kid[1], &b) < 0)
        return -1;
    if (a.t == TV_INT && b.t == TV_INT && int_fast(e->sub, a.i, b.i, out))
        return 0;
    if (e->idx && fixed_fast(r, e->idx - 1, &b, out))
        return 0;
    return tpl_binop(r, e->sub, &a, &b, out);
}

static TPL_NOINLINE int eval_and_or(tpl_render *r, const tpl_expr *e, tpl_val *out)
{
    if (tpl_eval(r, e->kid[0], out) < 0)
        return -1;
    if (tpl_truthy_fast(out) == (e->op == E_OR))
        return 0;
    return tpl_eval(r, e->kid[1], out);
}

const tpl_expr *tpl_cond_branch(tpl_render *r, const tpl_expr *e)
{
    tpl_val a;
    const tpl_expr *c = e->kid[0];
    if ((c->op == E_BIN ? eval_bin(r, c, &a) : tpl_eval(r, c, &a)) < 0) /* 'x' if i % 2 ... */
        return NULL;
    return e->kid[tpl_truthy_fast(&a) ? 1 : 2];
}

static TPL_NOINLINE int eval_cond(tpl_render *r, const tpl_expr *e, tpl_val *out)
{
    const tpl_expr *k = tpl_cond_branch(r, e);
    return k ? tpl_eval(r, k, out) : -1;
}

/* The dispatcher holds only the cases that need no frame (constants, names) and tail-calls a
 * function for every other, which keeps each step of a walk over the tree short. */
int tpl_eval_node(tpl_render *r, const tpl_expr *e, tpl_val *out)
{
    switch (e->op) {
    case E_CONST: *out = e->k; return 0;
    case E_LOCAL: *out = r->slots[e->idx]; return out->t == TV_UNBOUND ? raise_unbound(r, e) : 0;
    case E_GLOBAL:
        if (r->globals[e->idx].t == TV_UNBOUND)
            return eval_global(r, e, out);
        *out = r->globals[e->idx];
        return 0;
    case E_KEY:
    case E_ATTR: return tpl_eval_key(r, e, out);
    case E_INDEX: return eval_index(r, e, out);
    case E_SLICE: return eval_slice(r, e, out);
    case E_CALL: return eval_call(r, e, out);
    case E_NEG:
    case E_POS:
    case E_NOT: return eval_unary(r, e, out);
    case E_BIN: return eval_bin(r, e, out);
    case E_CMP: return eval_cmp(r, e, out);
    case E_AND:
    case E_OR: return eval_and_or(r, e, out);
    case E_COND: return eval_cond(r, e, out);
    case E_LIST: return eval_list(r, e, out);
    case E_TUPLE: return eval_tuple(r, e, out);
    case E_DICT: return eval_dict(r, e, out);
    case E_COMP: return eval_comp(r, e, out);
    }
    return tpl_raise(r, EX_RUNTIME, "unresolved name '%.*s'", TP_SLICE_FMT(e->k.s));
}

/* ---- assignment ----------------------------------------------------------------------- */

int tpl_assign(tpl_render *r, const tpl_expr *t, const tpl_val *v)
{
    if (t->op == E_LOCAL) {
        r->slots[t->idx] = *v;
        return 0;
    }
    if (v->t == TV_TUPLE && v->tup->n == t->n) {
        for (int i = 0; i < t->n; i++)
            if (tpl_assign(r, t->kid[i], &v->tup->v[i]) < 0)
                return -1;
        return 0;
    }
    if (v->t != TV_LIST && v->t != TV_TUPLE && v->t != TV_STR && v->t != TV_DICT &&
        v->t != TV_RANGE && v->t != TV_ITER)
        return tpl_raise(r, EX_TYPE, "cannot unpack non-iterable %s object", tpl_type_name(v));
    tpl_iter it;
    tpl_val x;
    int i = 0, rc;
    if (tpl_iter_init(r, v, &it) < 0)
        return -1;
    while ((rc = tpl_iter_next(r, &it, &x)) > 0) {
        if (i >= t->n)
            return tpl_raise(r, EX_VALUE, "too many values to unpack (expected %d)", t->n);
        if (tpl_assign(r, t->kid[i++], &x) < 0)
            return -1;
    }
    if (rc < 0)
        return -1;
    if (i < t->n)
        return tpl_raise(r, EX_VALUE, "not enough values to unpack (expected %d, got %d)", t->n, i);
    return 0;
}
