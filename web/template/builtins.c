/* The functions every template sees: Tornado's defaults (escape, xhtml_escape, url_escape,
 * json_encode, squeeze, linkify) and the Python builtins templates commonly use (range,
 * len, enumerate, zip, reversed, str, repr, int, float, bool, list, tuple, dict, sorted,
 * min, max, sum, abs, any, all, round). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "core/escape.h"
#include "web/template/internal.h"
#include "web/template/pynum.h"

#define MAX_MATERIALIZE (4u << 20) /* items list(), sorted() and friends may build */

/* ---- argument checks ------------------------------------------------------------------ */

static int nargs(tpl_render *r, const tpl_args *a, const char *fn, int min, int max)
{
    if (a->n < min || a->n > max) {
        if (min == max)
            return tpl_raise(r, EX_TYPE, "%s() takes exactly %d argument%s (%d given)", fn, min,
                             min == 1 ? "" : "s", a->n);
        return tpl_raise(r, EX_TYPE, "%s expected at most %d arguments, got %d", fn, max, a->n);
    }
    return 0;
}

/* Keyword argument `name`, or NULL; any other keyword is an error (reported by kw_check). */
static const tpl_val *kwarg(const tpl_args *a, const char *name)
{
    for (int i = 0; i < a->nkw; i++)
        if (tp_slice_eq(a->kwn[i], tp_slice_cstr(name)))
            return &a->kwv[i];
    return NULL;
}

/* Fails on a keyword argument not in the NULL-terminated list. */
static int kw_check(tpl_render *r, const tpl_args *a, const char *fn, const char *const *ok)
{
    for (int i = 0; i < a->nkw; i++) {
        bool found = false;
        for (size_t k = 0; ok && ok[k]; k++)
            found |= tp_slice_eq(a->kwn[i], tp_slice_cstr(ok[k]));
        if (!found)
            return tpl_raise(r, EX_TYPE, "%s() got an unexpected keyword argument '%.*s'", fn,
                             TP_SLICE_FMT(a->kwn[i]));
    }
    return 0;
}

/* Positional i, else keyword name, else NULL. */
static const tpl_val *arg(const tpl_args *a, int i, const char *name)
{
    return i < a->n ? &a->v[i] : name ? kwarg(a, name) : NULL;
}

static int want_str(tpl_render *r, const tpl_val *v)
{
    if (v->t == TV_STR)
        return 0;
    return tpl_raise(r, EX_TYPE, "Expected bytes, unicode, or None; got <class '%s'>",
                     tpl_type_name(v));
}

static int to_int(tpl_render *r, const tpl_val *v, int64_t *out)
{
    if (v->t == TV_INT || v->t == TV_BOOL) {
        *out = v->t == TV_INT ? v->i : v->b;
        return 0;
    }
    return tpl_raise(r, EX_TYPE, "'%s' object cannot be interpreted as an integer",
                     tpl_type_name(v));
}

static tpl_val slice_val(tp_slice s)
{
    return (tpl_val){.t = TV_STR, .s = s};
}

/* ---- tornado.escape ------------------------------------------------------------------- */

/* Copies runs without special characters in one memcpy; a table finds the specials. */
void tpl_xhtml_escape_into(tp_buf *b, const char *p, size_t n)
{
    static const uint8_t special[256] = {['&'] = 1, ['<'] = 2, ['>'] = 3, ['"'] = 4, ['\''] = 5};
    static const char *const rep[] = {"", "&amp;", "&lt;", "&gt;", "&quot;", "&#x27;"};
    static const uint8_t replen[] = {0, 5, 4, 4, 6, 6};
    char *w = tp_buf_reserve(b, n + (n >> 2) + 8);
    size_t room = n + (n >> 2) + 8, k = 0, i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && !special[(unsigned char)p[run]])
            run++;
        size_t need = run - i + (run < n ? 6 : 0);
        if (k + need > room) {
            tp_buf_commit(b, k);
            room = need + (n - i) + 16;
            w = tp_buf_reserve(b, room);
            k = 0;
        }
        memcpy(w + k, p + i, run - i);
        k += run - i;
        if (run < n) {
            uint8_t c = special[(unsigned char)p[run]];
            memcpy(w + k, rep[c], replen[c]);
            k += replen[c];
        }
        i = run + 1;
    }
    tp_buf_commit(b, k);
}

static int f_xhtml_escape(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    if (nargs(r, a, "xhtml_escape", 1, 1) < 0 || kw_check(r, a, "xhtml_escape", NULL) < 0 ||
        want_str(r, &a->v[0]) < 0)
        return -1;
    *out = slice_val(tp_xhtml_escape(&r->arena, a->v[0].s));
    return 0;
}

static int f_url_escape(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    static const char *const kw[] = {"value", "plus", NULL};
    const tpl_val *v = arg(a, 0, "value"), *plus = arg(a, 1, "plus");
    if (nargs(r, a, "url_escape", 0, 2) < 0 || kw_check(r, a, "url_escape", kw) < 0)
        return -1;
    if (!v)
        return tpl_raise(r, EX_TYPE, "url_escape() missing 1 required positional argument");
    if (want_str(r, v) < 0)
        return -1;
    *out = slice_val(tp_url_escape(&r->arena, v->s, !plus || tpl_truthy(plus)));
    return 0;
}

static int f_json_encode(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    if (nargs(r, a, "json_encode", 1, 1) < 0 || kw_check(r, a, "json_encode", NULL) < 0)
        return -1;
    json_t *j = tpl_to_json(r, &a->v[0]);
    if (!j)
        return -1;
    tp_slice s = tp_json_encode(&r->arena, j);
    json_decref(j);
    if (!s.p)
        return tpl_raise(r, EX_VALUE, "json_encode failed");
    *out = slice_val(s);
    return 0;
}

static int f_squeeze(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    if (nargs(r, a, "squeeze", 1, 1) < 0 || kw_check(r, a, "squeeze", NULL) < 0 ||
        want_str(r, &a->v[0]) < 0)
        return -1;
    *out = slice_val(tp_squeeze(&r->arena, a->v[0].s));
    return 0;
}

static int linkify_protocols(tpl_render *r, const tpl_val *v, tp_linkify_opts *o)
{
    int64_t n;
    tpl_iter it;
    tpl_val x;
    if (tpl_len(r, v, &n) < 0 || tpl_iter_init(r, v, &it) < 0)
        return -1;
    const char **list = tp_arena_calloc(&r->arena, ((size_t)n + 1) * sizeof *list);
    for (int64_t i = 0; i < n && tpl_iter_next(r, &it, &x) > 0; i++) {
        if (want_str(r, &x) < 0)
            return -1;
        list[i] = tp_arena_strndup(&r->arena, x.s.p, x.s.n);
    }
    o->permitted_protocols = list;
    return 0;
}

static int f_linkify(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    static const char *const kw[] = {
        "text", "shorten", "extra_params", "require_protocol", "permitted_protocols", NULL};
    const tpl_val *text = arg(a, 0, "text"), *shorten = arg(a, 1, "shorten"),
                  *extra = arg(a, 2, "extra_params"), *req = arg(a, 3, "require_protocol"),
                  *prot = arg(a, 4, "permitted_protocols");
    tp_linkify_opts o = {0};
    if (nargs(r, a, "linkify", 0, 5) < 0 || kw_check(r, a, "linkify", kw) < 0)
        return -1;
    if (!text)
        return tpl_raise(r, EX_TYPE, "linkify() missing 1 required positional argument: 'text'");
    if (want_str(r, text) < 0 || (extra && want_str(r, extra) < 0) ||
        (prot && linkify_protocols(r, prot, &o) < 0))
        return -1;
    o.shorten = shorten && tpl_truthy(shorten);
    o.require_protocol = req && tpl_truthy(req);
    o.extra_params = extra ? tp_arena_strndup(&r->arena, extra->s.p, extra->s.n) : NULL;
    *out = slice_val(tp_linkify(&r->arena, text->s, &o));
    return 0;
}

/* ---- sequences ------------------------------------------------------------------------ */

static int f_range(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    int64_t v[3] = {0, 0, 1};
    if (a->n < 1 || a->n > 3)
        return tpl_raise(r, EX_TYPE, "range expected at most 3 arguments, got %d", a->n);
    if (kw_check(r, a, "range", NULL) < 0)
        return -1;
    for (int i = 0; i < a->n; i++)
        if (to_int(r, &a->v[i], &v[a->n == 1 ? 1 : i]) < 0)
            return -1;
    if (v[2] == 0)
        return tpl_raise(r, EX_VALUE, "range() arg 3 must not be zero");
    tpl_range *g = tp_arena_alloc(&r->arena, sizeof *g);
    *g = (tpl_range){v[0], v[1], v[2]};
    *out = (tpl_val){.t = TV_RANGE, .rng = g};
    return 0;
}

static int f_len(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    if (nargs(r, a, "len", 1, 1) < 0 || kw_check(r, a, "len", NULL) < 0)
        return -1;
    out->t = TV_INT;
    return tpl_len(r, &a->v[0], &out->i);
}

static int make_iter(tpl_render *r, int kind, const tpl_val *x, const tpl_val *y, int64_t start,
                     tpl_val *out)
{
    tpl_iter probe;
    if (tpl_iter_init(r, x, &probe) < 0 || (y && tpl_iter_init(r, y, &probe) < 0))
        return -1;
    tpl_iterobj *io = tp_arena_calloc(&r->arena, sizeof *io);
    io->kind = (uint8_t)kind;
    io->a = *x;
    if (y)
        io->b = *y;
    io->start = start;
    *out = (tpl_val){.t = TV_ITER, .it = io};
    return 0;
}

static int f_enumerate(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    static const char *const kw[] = {"start", NULL};
    const tpl_val *start = arg(a, 1, "start");
    int64_t s = 0;
    if (nargs(r, a, "enumerate", 1, 2) < 0 || kw_check(r, a, "enumerate", kw) < 0 ||
        (start && to_int(r, start, &s) < 0))
        return -1;
    return make_iter(r, IT_ENUMERATE, &a->v[0], NULL, s, out);
}

static int f_zip(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    if (a->n != 2)
        return tpl_raise(r, EX_TYPE, "zip() takes exactly 2 arguments here (%d given)", a->n);
    return make_iter(r, IT_ZIP, &a->v[0], &a->v[1], 0, out);
}

static int f_reversed(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    if (nargs(r, a, "reversed", 1, 1) < 0 || kw_check(r, a, "reversed", NULL) < 0)
        return -1;
    int t = a->v[0].t;
    if (t != TV_LIST && t != TV_TUPLE && t != TV_STR && t != TV_RANGE)
        return tpl_raise(r, EX_TYPE, "'%s' object is not reversible", tpl_type_name(&a->v[0]));
    return make_iter(r, IT_REVERSED, &a->v[0], NULL, 0, out);
}

/* All items of an iterable into an arena array. */
static int materialize(tpl_render *r, const tpl_val *v, tpl_val **items, size_t *n)
{
    tpl_iter it;
    tpl_val x;
    size_t cap = 16;
    int rc;
    *n = 0;
    *items = tp_arena_alloc(&r->arena, cap * sizeof **items);
    if (tpl_iter_init(r, v, &it) < 0)
        return -1;
    while ((rc = tpl_iter_next(r, &it, &x)) > 0) {
        if (*n == cap) {
            if (cap >= MAX_MATERIALIZE)
                return tpl_raise(r, EX_RUNTIME, "sequence too large");
            tpl_val *nv = tp_arena_alloc(&r->arena, cap * 2 * sizeof *nv);
            memcpy(nv, *items, cap * sizeof *nv);
            *items = nv, cap *= 2;
        }
        (*items)[(*n)++] = x;
    }
    return rc;
}

static int list_from(tpl_render *r, const tpl_val *items, size_t n, tpl_val *out)
{
    json_t *l = tpl_keep(r, json_array());
    for (size_t i = 0; i < n; i++) {
        json_t *j = tpl_to_json(r, &items[i]);
        if (!j)
            return -1;
        json_array_append_new(l, j);
    }
    *out = (tpl_val){.t = TV_LIST, .j = l};
    return 0;
}

static int f_list(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    tpl_val *items;
    size_t n = 0;
    if (nargs(r, a, "list", 0, 1) < 0 || kw_check(r, a, "list", NULL) < 0)
        return -1;
    if (a->n && materialize(r, &a->v[0], &items, &n) < 0)
        return -1;
    return list_from(r, a->n ? items : NULL, n, out);
}

static int f_tuple(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    tpl_val *items = NULL;
    size_t n = 0;
    if (nargs(r, a, "tuple", 0, 1) < 0 || kw_check(r, a, "tuple", NULL) < 0)
        return -1;
    if (a->n && materialize(r, &a->v[0], &items, &n) < 0)
        return -1;
    tpl_tuple *t = tp_arena_alloc(&r->arena, sizeof *t + n * sizeof(tpl_val));
    t->n = n;
    if (n)
        memcpy(t->v, items, n * sizeof(tpl_val));
    *out = (tpl_val){.t = TV_TUPLE, .tup = t};
    return 0;
}

static int f_dict(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    if (nargs(r, a, "dict", 0, 1) < 0)
        return -1;
    if (a->n && a->v[0].t != TV_DICT)
        return tpl_raise(r, EX_TYPE, "dict() takes a dict here, not '%s'", tpl_type_name(a->v));
    json_t *d = tpl_keep(r, a->n ? json_copy(a->v[0].j) : json_object());
    for (int i = 0; i < a->nkw; i++) {
        json_t *j = tpl_to_json(r, &a->kwv[i]);
        if (!j)
            return -1;
        json_object_setn_new_nocheck(d, a->kwn[i].p, a->kwn[i].n, j);
    }
    *out = (tpl_val){.t = TV_DICT, .j = d};
    return 0;
}

/* A stable merge sort that stops at the first comparison error. */
static int merge_sort(tpl_render *r, tpl_val *v, tpl_val *tmp, size_t n, bool rev)
{
    if (n < 2)
        return 0;
    size_t h = n / 2;
    if (merge_sort(r, v, tmp, h, rev) < 0 || merge_sort(r, v + h, tmp, n - h, rev) < 0)
        return -1;
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        bool lt;
        if (tpl_compare(r, C_LT, rev ? &v[i] : &v[j], rev ? &v[j] : &v[i], &lt) < 0)
            return -1;
        tmp[k++] = lt ? v[j++] : v[i++];
    }
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
    return 0;
}

static int f_sorted(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    static const char *const kw[] = {"reverse", NULL};
    const tpl_val *rev = kwarg(a, "reverse");
    tpl_val *items;
    size_t n;
    if (nargs(r, a, "sorted", 1, 1) < 0 || kw_check(r, a, "sorted", kw) < 0 ||
        materialize(r, &a->v[0], &items, &n) < 0)
        return -1;
    tpl_val *tmp = tp_arena_alloc(&r->arena, (n + 1) * sizeof *tmp);
    if (merge_sort(r, items, tmp, n, rev && tpl_truthy(rev)) < 0)
        return -1;
    return list_from(r, items, n, out);
}

static int minmax(tpl_render *r, const tpl_args *a, tpl_val *out, int op, const char *fn)
{
    static const char *const kw[] = {"default", NULL};
    tpl_val *items = (tpl_val *)a->v;
    size_t n = (size_t)a->n;
    if (a->n == 0)
        return tpl_raise(r, EX_TYPE, "%s expected at least 1 argument, got 0", fn);
    if (kw_check(r, a, fn, kw) < 0 || (a->n == 1 && materialize(r, &a->v[0], &items, &n) < 0))
        return -1;
    if (n == 0) {
        const tpl_val *def = kwarg(a, "default");
        if (def) {
            *out = *def;
            return 0;
        }
        return tpl_raise(r, EX_VALUE, "%s() arg is an empty sequence", fn);
    }
    *out = items[0];
    for (size_t i = 1; i < n; i++) {
        bool better;
        if (tpl_compare(r, op, &items[i], out, &better) < 0)
            return -1;
        if (better)
            *out = items[i];
    }
    return 0;
}

static int f_min(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    return minmax(r, a, out, C_LT, "min");
}

static int f_max(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    return minmax(r, a, out, C_GT, "max");
}

static int f_sum(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    static const char *const kw[] = {"start", NULL};
    const tpl_val *start = arg(a, 1, "start");
    tpl_val *items;
    size_t n;
    if (nargs(r, a, "sum", 1, 2) < 0 || kw_check(r, a, "sum", kw) < 0 ||
        materialize(r, &a->v[0], &items, &n) < 0)
        return -1;
    *out = start ? *start : TPL_INT(0);
    if (out->t == TV_STR)
        return tpl_raise(r, EX_TYPE, "sum() can't sum strings [use ''.join(seq) instead]");
    for (size_t i = 0; i < n; i++)
        if (tpl_binop(r, B_ADD, out, &items[i], out) < 0)
            return -1;
    return 0;
}

static int f_anyall(tpl_render *r, const tpl_args *a, tpl_val *out, bool any)
{
    tpl_iter it;
    tpl_val x;
    int rc;
    if (nargs(r, a, any ? "any" : "all", 1, 1) < 0 || tpl_iter_init(r, &a->v[0], &it) < 0)
        return -1;
    while ((rc = tpl_iter_next(r, &it, &x)) > 0) {
        if (tpl_truthy(&x) == any) {
            *out = TPL_BOOL(any);
            return 0;
        }
    }
    *out = TPL_BOOL(!any);
    return rc;
}

static int f_any(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    return f_anyall(r, a, out, true);
}

static int f_all(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    return f_anyall(r, a, out, false);
}

/* ---- conversions ---------------------------------------------------------------------- */

static int f_str(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    if (nargs(r, a, "str", 0, 1) < 0 || kw_check(r, a, "str", NULL) < 0)
        return -1;
    if (a->n == 0 || a->v[0].t == TV_STR) {
        *out = a->n ? a->v[0] : slice_val(TP_SLICE_LIT(""));
        return 0;
    }
    tp_buf_clear(&r->scratch);
    tpl_str(r, &r->scratch, &a->v[0]);
    *out = tpl_str_val(r, tpl_buf_str(&r->scratch), r->scratch.len);
    return 0;
}

static int f_repr(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    if (nargs(r, a, "repr", 1, 1) < 0 || kw_check(r, a, "repr", NULL) < 0)
        return -1;
    tp_buf_clear(&r->scratch);
    tpl_repr(r, &r->scratch, &a->v[0]);
    *out = tpl_str_val(r, tpl_buf_str(&r->scratch), r->scratch.len);
    return 0;
}

static bool py_isspace(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* The text of a str argument to int()/float(), stripped and without underscores between
 * digits, NUL-terminated in the arena; NULL if it holds a NUL or misplaced underscores. */
static char *numeric_text(tpl_render *r, tp_slice s)
{
    while (s.n && py_isspace(s.p[0]))
        s.p++, s.n--;
    while (s.n && py_isspace(s.p[s.n - 1]))
        s.n--;
    char *t = tp_arena_alloc(&r->arena, s.n + 1);
    size_t k = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] == '\0')
            return NULL;
        if (s.p[i] == '_') {
            bool ok = i > 0 && i + 1 < s.n && s.p[i - 1] >= '0' && s.p[i - 1] <= '9' &&
                      s.p[i + 1] >= '0' && s.p[i + 1] <= '9';
            if (!ok)
                return NULL;
            continue;
        }
        t[k++] = s.p[i];
    }
    t[k] = '\0';
    return t;
}

static int bad_literal(tpl_render *r, const char *what, const tpl_val *v)
{
    tp_buf_clear(&r->scratch);
    tpl_repr(r, &r->scratch, v);
    return tpl_raise(r, EX_VALUE, "%s%.*s", what, (int)r->scratch.len, tpl_buf_str(&r->scratch));
}

/* int(x=0, /, base=10) with CPython 3.11's argument checks. */
static int int_args(tpl_render *r, const tpl_args *a, const tpl_val **x, const tpl_val **base)
{
    if (a->n + a->nkw > 2)
        return tpl_raise(r, EX_TYPE, "int() takes at most 2 arguments (%d given)", a->n + a->nkw);
    for (int i = 0; i < a->nkw; i++)
        if (!tp_slice_eq(a->kwn[i], TP_SLICE_LIT("base")))
            return tpl_raise(r, EX_TYPE, "'%.*s' is an invalid keyword argument for int()",
                             TP_SLICE_FMT(a->kwn[i]));
    *x = a->n ? &a->v[0] : NULL;
    *base = a->n > 1 ? &a->v[1] : kwarg(a, "base");
    if (*base && !*x)
        return tpl_raise(r, EX_TYPE, "int() missing string argument");
    return 0;
}

static int int_of_float(tpl_render *r, double d, tpl_val *out)
{
    if (isnan(d) || isinf(d))
        return tpl_raise(r, isnan(d) ? EX_VALUE : EX_OVERFLOW, "cannot convert float %s to integer",
                         isnan(d) ? "NaN" : "infinity");
    if (fabs(d) >= 9.2233720368547758e18)
        return tpl_raise(r, EX_OVERFLOW, "integer overflow (template ints are 64-bit)");
    *out = TPL_INT((int64_t)d);
    return 0;
}

static int f_int(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    const tpl_val *v = NULL, *bv = NULL;
    int64_t base = 10;
    if (int_args(r, a, &v, &bv) < 0 || (bv && to_int(r, bv, &base) < 0))
        return -1;
    if (bv && ((base != 0 && base < 2) || base > 36))
        return tpl_raise(r, EX_VALUE, "int() base must be >= 2 and <= 36, or 0");
    if (bv && v->t != TV_STR)
        return tpl_raise(r, EX_TYPE, "int() can't convert non-string with explicit base");
    if (!v || v->t == TV_INT || v->t == TV_BOOL) {
        *out = TPL_INT(!v ? 0 : v->t == TV_INT ? v->i : v->b);
        return 0;
    }
    if (v->t == TV_FLOAT)
        return int_of_float(r, v->d, out);
    if (v->t != TV_STR)
        return tpl_raise(r, EX_TYPE,
                         "int() argument must be a string, a bytes-like object or a real number, "
                         "not '%s'",
                         tpl_type_name(v));
    out->t = TV_INT;
    return tpl_int_from_str(r, v->s, (int)base, &out->i);
}

static int f_float(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    if (nargs(r, a, "float", 0, 1) < 0 || kw_check(r, a, "float", NULL) < 0)
        return -1;
    const tpl_val *v = a->n ? &a->v[0] : NULL;
    out->t = TV_FLOAT;
    if (!v || v->t == TV_INT || v->t == TV_BOOL || v->t == TV_FLOAT) {
        out->d = !v ? 0.0 : v->t == TV_FLOAT ? v->d : v->t == TV_INT ? (double)v->i : v->b;
        return 0;
    }
    if (v->t != TV_STR)
        return tpl_raise(r, EX_TYPE, "float() argument must be a string or a real number, not '%s'",
                         tpl_type_name(v));
    char *t = numeric_text(r, v->s), *end;
    bool hex = t && strpbrk(t, "xXpP");
    out->d = t && *t && !hex ? strtod(t, &end) : 0;
    if (!t || !*t || hex || *end || py_isspace(*t))
        return bad_literal(r, "could not convert string to float: ", v);
    return 0;
}

static int f_bool(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    if (nargs(r, a, "bool", 0, 1) < 0 || kw_check(r, a, "bool", NULL) < 0)
        return -1;
    *out = TPL_BOOL(a->n && tpl_truthy(&a->v[0]));
    return 0;
}

static int f_abs(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    if (nargs(r, a, "abs", 1, 1) < 0 || kw_check(r, a, "abs", NULL) < 0)
        return -1;
    const tpl_val *v = &a->v[0];
    if (v->t == TV_FLOAT)
        *out = (tpl_val){.t = TV_FLOAT, .d = fabs(v->d)};
    else if (v->t == TV_INT && v->i == INT64_MIN)
        return tpl_raise(r, EX_OVERFLOW, "integer overflow (template ints are 64-bit)");
    else if (v->t == TV_INT || v->t == TV_BOOL)
        *out = TPL_INT(v->t == TV_INT ? llabs(v->i) : v->b);
    else
        return tpl_raise(r, EX_TYPE, "bad operand type for abs(): '%s'", tpl_type_name(v));
    return 0;
}

/* round(x) rounds half to even into an int; round(x, n) is pynum.c's, exact as CPython's. */
static int f_round(tpl_render *r, const tpl_args *a, tpl_val *out)
{
    static const char *const kw[] = {"ndigits", NULL};
    const tpl_val *v = arg(a, 0, "number"), *nd = arg(a, 1, "ndigits");
    int64_t digits = 0;
    if (nargs(r, a, "round", 1, 2) < 0 || kw_check(r, a, "round", kw) < 0 ||
        (nd && nd->t != TV_NONE && to_int(r, nd, &digits) < 0))
        return -1;
    bool none = !nd || nd->t == TV_NONE;
    if (v->t == TV_INT || v->t == TV_BOOL) {
        out->t = TV_INT;
        return tpl_round_int(r, v->t == TV_INT ? v->i : v->b, none ? 0 : digits, &out->i);
    }
    if (v->t != TV_FLOAT)
        return tpl_raise(r, EX_TYPE, "type %s doesn't define __round__ method", tpl_type_name(v));
    if (none)
        return int_of_float(r, nearbyint(v->d), out);
    *out = (tpl_val){.t = TV_FLOAT, .d = tpl_round_float(v->d, digits)};
    return 0;
}

/* ---- the table ------------------------------------------------------------------------ */

const tpl_fn tpl_fn_xhtml_escape = {"xhtml_escape", f_xhtml_escape, NULL, NULL};

static const tpl_fn builtins[] = {
    {"url_escape", f_url_escape, NULL, NULL},
    {"json_encode", f_json_encode, NULL, NULL},
    {"squeeze", f_squeeze, NULL, NULL},
    {"linkify", f_linkify, NULL, NULL},
    {"range", f_range, NULL, NULL},
    {"len", f_len, NULL, NULL},
    {"enumerate", f_enumerate, NULL, NULL},
    {"zip", f_zip, NULL, NULL},
    {"reversed", f_reversed, NULL, NULL},
    {"list", f_list, NULL, NULL},
    {"tuple", f_tuple, NULL, NULL},
    {"dict", f_dict, NULL, NULL},
    {"sorted", f_sorted, NULL, NULL},
    {"min", f_min, NULL, NULL},
    {"max", f_max, NULL, NULL},
    {"sum", f_sum, NULL, NULL},
    {"any", f_any, NULL, NULL},
    {"all", f_all, NULL, NULL},
    {"str", f_str, NULL, NULL},
    {"repr", f_repr, NULL, NULL},
    {"int", f_int, NULL, NULL},
    {"float", f_float, NULL, NULL},
    {"bool", f_bool, NULL, NULL},
    {"abs", f_abs, NULL, NULL},
    {"round", f_round, NULL, NULL},
};

const tpl_fn *tpl_builtin_find(const char *name, size_t n)
{
    tp_slice s = tp_slice_make(name, n);
    if (tp_slice_eq(s, TP_SLICE_LIT("xhtml_escape")) || tp_slice_eq(s, TP_SLICE_LIT("escape")))
        return &tpl_fn_xhtml_escape;
    for (size_t i = 0; i < TP_ARRAY_LEN(builtins); i++)
        if (tp_slice_eq(s, tp_slice_cstr(builtins[i].name)))
            return &builtins[i];
    return NULL;
}
