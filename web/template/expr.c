/* The expression language of templates: a recursive-descent parser for the part of Python's
 * expression grammar templates use (docs/templates.md lists it), building tpl_expr trees in
 * the file's arena. Names stay unresolved (E_NAME) until the linker sees the whole program. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "web/template/lex.h"

static tpl_expr *mk(lexer *lx, int op, size_t nkids)
{
    tpl_expr *e = tp_arena_calloc(lx->a, sizeof *e);
    e->op = (uint8_t)op;
    e->n = (uint16_t)nkids;
    if (nkids)
        e->kid = tp_arena_calloc(lx->a, nkids * sizeof *e->kid);
    return e;
}

/* A growable list of kids while parsing. */
typedef struct kids {
    tpl_expr *v[64];
    tpl_expr **heap;
    size_t n, cap;
} kids;

static int kids_push(lexer *lx, kids *k, tpl_expr *e)
{
    if (k->n >= 1024)
        return tpl_lex_fail(lx, "too many items in expression");
    if (k->n < 64) {
        k->v[k->n++] = e;
        return 0;
    }
    if (k->n - 64 >= k->cap) {
        k->cap = k->cap ? k->cap * 2 : 64;
        tpl_expr **nv = tp_arena_alloc(lx->a, k->cap * sizeof *nv);
        if (k->heap)
            memcpy(nv, k->heap, (k->n - 64) * sizeof *nv);
        k->heap = nv;
    }
    k->heap[k->n++ - 64] = e;
    return 0;
}

static tpl_expr *kids_get(const kids *k, size_t i)
{
    return i < 64 ? k->v[i] : k->heap[i - 64];
}

static tpl_expr *mk_from(lexer *lx, int op, const kids *k)
{
    tpl_expr *e = mk(lx, op, k->n);
    for (size_t i = 0; i < k->n; i++)
        e->kid[i] = kids_get(k, i);
    return e;
}

static tpl_expr *parse_test(lexer *lx);
static tpl_expr *parse_or(lexer *lx);
static tpl_expr *parse_target_list(lexer *lx);

/* [elt for target in iter (if cond)*] after elt; ends at close. */
static tpl_expr *parse_comp(lexer *lx, tpl_expr *elt, const char *close)
{
    if (tpl_lex_next(lx) < 0)
        return NULL;
    tpl_expr *target = parse_target_list(lx);
    if (!target)
        return NULL;
    if (!tpl_lex_is_kw(lx, "in"))
        return tpl_lex_fail(lx, "expected 'in' in comprehension"), NULL;
    if (tpl_lex_next(lx) < 0)
        return NULL;
    kids k = {.n = 0};
    kids_push(lx, &k, elt);
    kids_push(lx, &k, target);
    tpl_expr *it = parse_or(lx);
    if (!it || kids_push(lx, &k, it) < 0)
        return NULL;
    while (tpl_lex_is_kw(lx, "if")) {
        if (tpl_lex_next(lx) < 0)
            return NULL;
        tpl_expr *c = parse_or(lx);
        if (!c || kids_push(lx, &k, c) < 0)
            return NULL;
    }
    if (tpl_lex_is_kw(lx, "for"))
        return tpl_lex_fail(lx, "nested comprehensions are not supported"), NULL;
    if (tpl_lex_expect(lx, close) < 0)
        return NULL;
    return mk_from(lx, E_COMP, &k);
}

/* Items up to close: a list, a tuple (parens) or a comprehension. */
static tpl_expr *parse_seq(lexer *lx, const char *close, int op)
{
    kids k = {.n = 0};
    bool comma = false;
    while (!tpl_lex_is_op(lx, close)) {
        tpl_expr *e = parse_test(lx);
        if (!e)
            return NULL;
        if (k.n == 0 && tpl_lex_is_kw(lx, "for"))
            return parse_comp(lx, e, close);
        if (kids_push(lx, &k, e) < 0)
            return NULL;
        if (!tpl_lex_is_op(lx, ","))
            break;
        comma = true;
        if (tpl_lex_next(lx) < 0)
            return NULL;
    }
    if (tpl_lex_expect(lx, close) < 0)
        return NULL;
    if (op == E_TUPLE && k.n == 1 && !comma)
        return kids_get(&k, 0); /* (x) is x */
    return mk_from(lx, op, &k);
}

static tpl_expr *parse_dict(lexer *lx)
{
    kids k = {.n = 0};
    while (!tpl_lex_is_op(lx, "}")) {
        tpl_expr *key = parse_test(lx);
        if (!key || tpl_lex_expect(lx, ":") < 0)
            return tpl_lex_fail(lx, "dict literal expected ':' (set literals are not supported)"),
                   NULL;
        tpl_expr *v = parse_test(lx);
        if (!v || kids_push(lx, &k, key) < 0 || kids_push(lx, &k, v) < 0)
            return NULL;
        if (!tpl_lex_is_op(lx, ","))
            break;
        if (tpl_lex_next(lx) < 0)
            return NULL;
    }
    if (tpl_lex_expect(lx, "}") < 0)
        return NULL;
    return mk_from(lx, E_DICT, &k);
}

static tpl_expr *mk_const(lexer *lx, tpl_val v)
{
    tpl_expr *e = mk(lx, E_CONST, 0);
    e->k = v;
    return e;
}

static tpl_expr *parse_string_atom(lexer *lx)
{
    tp_buf b = {0};
    while (lx->t == T_STR) {
        tp_buf_append(&b, lx->str.p, lx->str.n);
        if (tpl_lex_next(lx) < 0) {
            tp_buf_free(&b);
            return NULL;
        }
    }
    tpl_val v = {.t = TV_STR, .s = tp_arena_slice_dup(lx->a, tpl_buf_slice(&b))};
    tp_buf_free(&b);
    return mk_const(lx, v);
}

static tpl_expr *parse_name_atom(lexer *lx)
{
    tp_slice s = lx->text;
    tpl_val v;
    if (tp_slice_eq(s, TP_SLICE_LIT("None")))
        v = TPL_NONE;
    else if (tp_slice_eq(s, TP_SLICE_LIT("True")))
        v = TPL_BOOL(true);
    else if (tp_slice_eq(s, TP_SLICE_LIT("False")))
        v = TPL_BOOL(false);
    else if (tpl_lex_is_keyword(s))
        return tpl_lex_fail(lx, "invalid syntax at '%.*s'", TP_SLICE_FMT(s)), NULL;
    else {
        tpl_expr *e = mk(lx, E_NAME, 0);
        e->k.t = TV_STR;
        e->k.s = tp_arena_slice_dup(lx->a, s);
        return tpl_lex_next(lx) < 0 ? NULL : e;
    }
    return tpl_lex_next(lx) < 0 ? NULL : mk_const(lx, v);
}

static tpl_expr *parse_atom(lexer *lx)
{
    tpl_val v;
    switch (lx->t) {
    case T_NAME: return parse_name_atom(lx);
    case T_STR: return parse_string_atom(lx);
    case T_INT: v = TPL_INT(lx->i); return tpl_lex_next(lx) < 0 ? NULL : mk_const(lx, v);
    case T_FLOAT:
        v = (tpl_val){.t = TV_FLOAT, .d = lx->d};
        return tpl_lex_next(lx) < 0 ? NULL : mk_const(lx, v);
    case T_OP:
        if (tpl_lex_is_op(lx, "("))
            return tpl_lex_next(lx) < 0 ? NULL : parse_seq(lx, ")", E_TUPLE);
        if (tpl_lex_is_op(lx, "["))
            return tpl_lex_next(lx) < 0 ? NULL : parse_seq(lx, "]", E_LIST);
        if (tpl_lex_is_op(lx, "{"))
            return tpl_lex_next(lx) < 0 ? NULL : parse_dict(lx);
        break;
    case T_END: return tpl_lex_fail(lx, "unexpected end of expression"), NULL;
    }
    return tpl_lex_fail(lx, "invalid syntax at '%.*s'", TP_SLICE_FMT(lx->text)), NULL;
}

/* Call arguments after '(': positional, then name=value. */
static tpl_expr *parse_call(lexer *lx, tpl_expr *fn)
{
    kids pos = {.n = 0}, kw = {.n = 0};
    tp_slice names[64];
    if (kids_push(lx, &pos, fn) < 0)
        return NULL;
    while (!tpl_lex_is_op(lx, ")")) {
        lexer save = *lx;
        if (lx->t == T_NAME && tpl_lex_next(lx) == 0 && tpl_lex_is_op(lx, "=")) {
            if (kw.n >= 64)
                return tpl_lex_fail(lx, "too many keyword arguments"), NULL;
            names[kw.n] = tp_arena_slice_dup(lx->a, save.text);
            if (tpl_lex_next(lx) < 0)
                return NULL;
            tpl_expr *v = parse_test(lx);
            if (!v || kids_push(lx, &kw, v) < 0)
                return NULL;
        } else {
            *lx = save;
            if (tpl_lex_is_op(lx, "*") || tpl_lex_is_op(lx, "**"))
                return tpl_lex_fail(lx, "*args and **kwargs are not supported"), NULL;
            if (kw.n)
                return tpl_lex_fail(lx, "positional argument follows keyword argument"), NULL;
            tpl_expr *v = parse_test(lx);
            if (v && pos.n == 1 && tpl_lex_is_kw(lx, "for"))
                v = parse_comp(lx, v, ")");
            if (!v || kids_push(lx, &pos, v) < 0)
                return NULL;
            if (v->op == E_COMP)
                goto done;
        }
        if (!tpl_lex_is_op(lx, ","))
            break;
        if (tpl_lex_next(lx) < 0)
            return NULL;
    }
    if (tpl_lex_expect(lx, ")") < 0)
        return NULL;
done:;
    tpl_expr *e = mk(lx, E_CALL, pos.n + kw.n);
    e->idx = (int32_t)pos.n - 1;
    for (size_t i = 0; i < pos.n; i++)
        e->kid[i] = kids_get(&pos, i);
    for (size_t i = 0; i < kw.n; i++)
        e->kid[pos.n + i] = kids_get(&kw, i);
    tp_slice *kn = tp_arena_alloc(lx->a, (kw.n + 1) * sizeof *kn);
    memcpy(kn, names, kw.n * sizeof *kn);
    e->kw = kn;
    return e;
}

static tpl_expr *parse_subscript(lexer *lx, tpl_expr *obj)
{
    tpl_expr *part[3] = {NULL, NULL, NULL};
    if (!tpl_lex_is_op(lx, ":") && !(part[0] = parse_test(lx)))
        return NULL;
    if (!tpl_lex_is_op(lx, ":")) {
        if (tpl_lex_expect(lx, "]") < 0)
            return NULL;
        tpl_expr *e = mk(lx, E_INDEX, 2);
        e->kid[0] = obj, e->kid[1] = part[0];
        return e;
    }
    for (int i = 1; i < 3 && tpl_lex_is_op(lx, ":"); i++) {
        if (tpl_lex_next(lx) < 0)
            return NULL;
        if (!tpl_lex_is_op(lx, ":") && !tpl_lex_is_op(lx, "]") && !(part[i] = parse_test(lx)))
            return NULL;
    }
    if (tpl_lex_expect(lx, "]") < 0)
        return NULL;
    tpl_expr *e = mk(lx, E_SLICE, 4);
    e->kid[0] = obj;
    for (int i = 0; i < 3; i++)
        e->kid[i + 1] = part[i];
    return e;
}

static tpl_expr *parse_primary(lexer *lx)
{
    tpl_expr *e = parse_atom(lx);
    while (e && lx->t == T_OP) {
        if (tpl_lex_is_op(lx, "(")) {
            e = tpl_lex_next(lx) < 0 ? NULL : parse_call(lx, e);
        } else if (tpl_lex_is_op(lx, "[")) {
            e = tpl_lex_next(lx) < 0 ? NULL : parse_subscript(lx, e);
        } else if (tpl_lex_is_op(lx, ".")) {
            if (tpl_lex_next(lx) < 0 || lx->t != T_NAME || tpl_lex_is_keyword(lx->text))
                return tpl_lex_fail(lx, "expected a name after '.'"), NULL;
            tpl_expr *a = mk(lx, E_ATTR, 1);
            a->kid[0] = e;
            a->k.t = TV_STR;
            a->k.s = tp_arena_slice_dup(lx->a, lx->text);
            e = tpl_lex_next(lx) < 0 ? NULL : a;
        } else {
            break;
        }
    }
    return e;
}

static tpl_expr *mk_bin(lexer *lx, int op, int sub, tpl_expr *l, tpl_expr *r)
{
    if (!l || !r)
        return NULL;
    tpl_expr *e = mk(lx, op, 2);
    e->sub = (uint8_t)sub;
    e->kid[0] = l, e->kid[1] = r;
    return e;
}

static tpl_expr *parse_factor(lexer *lx);

static tpl_expr *parse_power(lexer *lx)
{
    tpl_expr *e = parse_primary(lx);
    if (e && tpl_lex_is_op(lx, "**"))
        return tpl_lex_next(lx) < 0 ? NULL : mk_bin(lx, E_BIN, B_POW, e, parse_factor(lx));
    return e;
}

static tpl_expr *parse_factor1(lexer *lx);

static tpl_expr *parse_factor(lexer *lx)
{
    if (++lx->depth > MAX_NESTING)
        return tpl_lex_fail(lx, "expression nested too deeply"), NULL;
    tpl_expr *e = parse_factor1(lx);
    lx->depth--;
    return e;
}

static tpl_expr *parse_factor1(lexer *lx)
{
    if (tpl_lex_is_op(lx, "-") || tpl_lex_is_op(lx, "+")) {
        int op = tpl_lex_is_op(lx, "-") ? E_NEG : E_POS;
        if (tpl_lex_next(lx) < 0)
            return NULL;
        tpl_expr *k = parse_factor(lx);
        if (!k)
            return NULL;
        if (op == E_NEG && k->op == E_CONST && k->k.t == TV_INT) {
            k->k.i = -k->k.i;
            return k;
        }
        tpl_expr *e = mk(lx, op, 1);
        e->kid[0] = k;
        return e;
    }
    return parse_power(lx);
}

static tpl_expr *parse_term(lexer *lx)
{
    static const char *const ops[] = {"*", "/", "//", "%"};
    static const int subs[] = {B_MUL, B_DIV, B_FDIV, B_MOD};
    tpl_expr *e = parse_factor(lx);
    for (size_t i = 0; e && i < 4; i++) {
        if (tpl_lex_is_op(lx, ops[i])) {
            e = tpl_lex_next(lx) < 0 ? NULL : mk_bin(lx, E_BIN, subs[i], e, parse_factor(lx));
            i = (size_t)-1;
        }
    }
    return e;
}

static tpl_expr *parse_arith(lexer *lx)
{
    tpl_expr *e = parse_term(lx);
    while (e && (tpl_lex_is_op(lx, "+") || tpl_lex_is_op(lx, "-"))) {
        int sub = tpl_lex_is_op(lx, "+") ? B_ADD : B_SUB;
        e = tpl_lex_next(lx) < 0 ? NULL : mk_bin(lx, E_BIN, sub, e, parse_term(lx));
    }
    return e;
}

/* The comparison operator at the current token (consumed), or -1. */
static int cmp_op(lexer *lx)
{
    static const char *const ops[] = {"<", "<=", ">", ">=", "==", "!="};
    for (int i = 0; i < 6; i++)
        if (tpl_lex_is_op(lx, ops[i]))
            return tpl_lex_next(lx) < 0 ? -2 : i;
    if (tpl_lex_is_kw(lx, "in"))
        return tpl_lex_next(lx) < 0 ? -2 : C_IN;
    if (tpl_lex_is_kw(lx, "not")) {
        lexer save = *lx;
        if (tpl_lex_next(lx) < 0 || !tpl_lex_is_kw(lx, "in")) {
            *lx = save;
            return -1;
        }
        return tpl_lex_next(lx) < 0 ? -2 : C_NOTIN;
    }
    if (tpl_lex_is_kw(lx, "is")) {
        if (tpl_lex_next(lx) < 0)
            return -2;
        if (tpl_lex_is_kw(lx, "not"))
            return tpl_lex_next(lx) < 0 ? -2 : C_ISNOT;
        return C_IS;
    }
    return -1;
}

static tpl_expr *parse_comparison(lexer *lx)
{
    tpl_expr *e = parse_arith(lx);
    if (!e)
        return NULL;
    kids k = {.n = 0};
    uint8_t ops[64];
    kids_push(lx, &k, e);
    int op;
    while ((op = cmp_op(lx)) >= 0) {
        if (k.n > 63)
            return tpl_lex_fail(lx, "comparison chain too long"), NULL;
        ops[k.n - 1] = (uint8_t)op;
        tpl_expr *r = parse_arith(lx);
        if (!r)
            return NULL;
        kids_push(lx, &k, r);
    }
    if (op == -2)
        return NULL;
    if (k.n == 1)
        return e;
    tpl_expr *c = mk_from(lx, E_CMP, &k);
    uint8_t *o = tp_arena_alloc(lx->a, k.n);
    memcpy(o, ops, k.n - 1);
    c->ops = o;
    return c;
}

static tpl_expr *parse_not(lexer *lx)
{
    if (tpl_lex_is_kw(lx, "not")) {
        if (lx->depth + 1 > MAX_NESTING)
            return tpl_lex_fail(lx, "expression nested too deeply"), NULL;
        if (tpl_lex_next(lx) < 0)
            return NULL;
        lx->depth++;
        tpl_expr *k = parse_not(lx);
        lx->depth--;
        if (!k)
            return NULL;
        tpl_expr *e = mk(lx, E_NOT, 1);
        e->kid[0] = k;
        return e;
    }
    return parse_comparison(lx);
}

static tpl_expr *parse_and(lexer *lx)
{
    tpl_expr *e = parse_not(lx);
    while (e && tpl_lex_is_kw(lx, "and"))
        e = tpl_lex_next(lx) < 0 ? NULL : mk_bin(lx, E_AND, 0, e, parse_not(lx));
    return e;
}

static tpl_expr *parse_or(lexer *lx)
{
    tpl_expr *e = parse_and(lx);
    while (e && tpl_lex_is_kw(lx, "or"))
        e = tpl_lex_next(lx) < 0 ? NULL : mk_bin(lx, E_OR, 0, e, parse_and(lx));
    return e;
}

static tpl_expr *parse_test(lexer *lx)
{
    if (tpl_lex_is_kw(lx, "lambda"))
        return tpl_lex_fail(lx, "lambda is not supported"), NULL;
    tpl_expr *body = parse_or(lx);
    if (!body || !tpl_lex_is_kw(lx, "if"))
        return body;
    if (tpl_lex_next(lx) < 0)
        return NULL;
    tpl_expr *cond = parse_or(lx);
    if (!cond)
        return NULL;
    if (!tpl_lex_is_kw(lx, "else"))
        return tpl_lex_fail(lx, "expected 'else' in conditional expression"), NULL;
    if (tpl_lex_next(lx) < 0)
        return NULL;
    if (++lx->depth > MAX_NESTING)
        return tpl_lex_fail(lx, "expression nested too deeply"), NULL;
    tpl_expr *orelse = parse_test(lx);
    lx->depth--;
    if (!orelse)
        return NULL;
    tpl_expr *e = mk(lx, E_COND, 3);
    e->kid[0] = cond, e->kid[1] = body, e->kid[2] = orelse;
    return e;
}

/* test (',' test)* [','] : a tuple when there is a comma. */
static tpl_expr *parse_exprlist(lexer *lx)
{
    tpl_expr *e = parse_test(lx);
    if (!e || !tpl_lex_is_op(lx, ","))
        return e;
    kids k = {.n = 0};
    kids_push(lx, &k, e);
    while (tpl_lex_is_op(lx, ",")) {
        if (tpl_lex_next(lx) < 0)
            return NULL;
        if (lx->t == T_END || tpl_lex_is_op(lx, "=") || tpl_lex_is_kw(lx, "in"))
            break;
        if (!(e = parse_test(lx)) || kids_push(lx, &k, e) < 0)
            return NULL;
    }
    return mk_from(lx, E_TUPLE, &k);
}

static tpl_expr *parse_target(lexer *lx)
{
    if (tpl_lex_is_op(lx, "(") || tpl_lex_is_op(lx, "[")) {
        const char *close = tpl_lex_is_op(lx, "(") ? ")" : "]";
        if (tpl_lex_next(lx) < 0 || ++lx->depth > MAX_NESTING)
            return tpl_lex_fail(lx, "target nested too deeply"), NULL;
        tpl_expr *e = parse_target_list(lx);
        lx->depth--;
        if (!e || tpl_lex_expect(lx, close) < 0)
            return NULL;
        return e;
    }
    if (lx->t != T_NAME || tpl_lex_is_keyword(lx->text) ||
        tp_slice_eq(lx->text, TP_SLICE_LIT("None")) ||
        tp_slice_eq(lx->text, TP_SLICE_LIT("True")) || tp_slice_eq(lx->text, TP_SLICE_LIT("False")))
        return tpl_lex_fail(lx, "cannot assign to '%.*s' (only names and tuples of names)",
                            TP_SLICE_FMT(lx->text)),
               NULL;
    return parse_name_atom(lx);
}

static tpl_expr *parse_target_list(lexer *lx)
{
    tpl_expr *e = parse_target(lx);
    if (!e || !tpl_lex_is_op(lx, ","))
        return e;
    kids k = {.n = 0};
    kids_push(lx, &k, e);
    while (tpl_lex_is_op(lx, ",")) {
        if (tpl_lex_next(lx) < 0)
            return NULL;
        if (tpl_lex_is_kw(lx, "in") || tpl_lex_is_op(lx, "=") || tpl_lex_is_op(lx, ")") ||
            tpl_lex_is_op(lx, "]"))
            break;
        if (!(e = parse_target(lx)) || kids_push(lx, &k, e) < 0)
            return NULL;
    }
    return mk_from(lx, E_TUPLE, &k);
}

static void lex_init(lexer *lx, tp_arena *a, tp_slice src, char *err, size_t errn)
{
    *lx = (lexer){.a = a, .p = src.p, .end = src.p + src.n, .err = err, .errn = errn};
    tpl_lex_next(lx);
}

static int finish(lexer *lx, const void *result)
{
    if (!result || lx->failed)
        return tpl_lex_fail(lx, "invalid syntax");
    if (lx->t != T_END)
        return tpl_lex_fail(lx, "invalid syntax at '%.*s'", TP_SLICE_FMT(lx->text));
    return 0;
}

int tpl_parse_expr(tp_arena *a, tp_slice src, tpl_expr **out, char *err, size_t errn)
{
    lexer lx;
    lex_init(&lx, a, src, err, errn);
    *out = lx.failed ? NULL : parse_exprlist(&lx);
    return finish(&lx, *out);
}

int tpl_parse_for(tp_arena *a, tp_slice src, tpl_expr **target, tpl_expr **iter, char *err,
                  size_t errn)
{
    lexer lx;
    lex_init(&lx, a, src, err, errn);
    *iter = NULL;
    *target = lx.failed ? NULL : parse_target_list(&lx);
    if (*target && !tpl_lex_is_kw(&lx, "in"))
        return tpl_lex_fail(&lx, "expected 'in' in for statement");
    if (*target && tpl_lex_next(&lx) == 0)
        *iter = parse_exprlist(&lx);
    return finish(&lx, *iter);
}

int tpl_parse_set(tp_arena *a, tp_slice src, tpl_expr **target, int *aug, tpl_expr **value,
                  char *err, size_t errn)
{
    static const char *const augs[] = {"+=", "-=", "*=", "/=", "//=", "%=", "**="};
    static const int augop[] = {B_ADD, B_SUB, B_MUL, B_DIV, B_FDIV, B_MOD, B_POW};
    lexer lx;
    lex_init(&lx, a, src, err, errn);
    *value = NULL;
    *aug = -1;
    *target = lx.failed ? NULL : parse_target_list(&lx);
    if (!*target)
        return finish(&lx, NULL);
    for (int i = 0; i < 7; i++)
        if (tpl_lex_is_op(&lx, augs[i]))
            *aug = augop[i];
    if (*aug < 0 && !tpl_lex_is_op(&lx, "="))
        return tpl_lex_fail(&lx, "expected '=' in set statement (only name targets are supported)");
    if (*aug >= 0 && (*target)->op != E_NAME)
        return tpl_lex_fail(&lx, "illegal expression for augmented assignment");
    if (tpl_lex_next(&lx) == 0)
        *value = parse_exprlist(&lx);
    if (*value && tpl_lex_is_op(&lx, "="))
        return tpl_lex_fail(&lx, "chained assignment is not supported");
    return finish(&lx, *value);
}

int tpl_parse_except(tp_arena *a, tp_slice src, tpl_expr **types, tpl_expr **as, char *err,
                     size_t errn)
{
    lexer lx;
    lex_init(&lx, a, src, err, errn);
    *types = *as = NULL;
    if (lx.t == T_END)
        return finish(&lx, &lx);
    *types = parse_test(&lx);
    if (*types && tpl_lex_is_kw(&lx, "as")) {
        if (tpl_lex_next(&lx) < 0 || lx.t != T_NAME || tpl_lex_is_keyword(lx.text))
            return tpl_lex_fail(&lx, "expected a name after 'as'");
        *as = parse_name_atom(&lx);
        return finish(&lx, *as);
    }
    return finish(&lx, *types);
}
