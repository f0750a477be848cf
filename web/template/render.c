/* Running a linked program: the statements of Tornado's generated _tt_execute (output of
 * {{ }} through the file's autoescape function, set, if/for/while with else, try with
 * except/else/finally, break/continue, apply as a nested function), and the public
 * tp_template_render, which hands its output over only on success. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/escape.h"
#include "web/template/internal.h"

enum { X_OK = 0, X_BREAK = 1, X_CONTINUE = 2, X_ERR = -1 };

#define MAX_WHILE_ITERATIONS 10000000 /* a `while` that runs longer is a runaway template */

static int exec_body(tpl_render *r, const tpl_body *b);

/* Records where the pending error happened (the innermost node wins). */
static int fail_at(tpl_render *r, const tpl_node *n, int line)
{
    if (!r->esite) {
        r->esite = n->site;
        r->eline = line;
    }
    return X_ERR;
}

static int want_utf8(tpl_render *r, const tpl_val *v)
{
    if (v->t == TV_STR)
        return 0;
    return tpl_raise(r, EX_TYPE, "Expected bytes, unicode, or None; got <class '%s'>",
                     tpl_type_name(v));
}

/* _tt_utf8(str(v)) escaped by the builtin xhtml_escape, without copies. */
static void write_escaped(tpl_render *r, const tpl_val *v)
{
    if (v->t == TV_STR) { /* strings and ints first, without the switch's jump */
        tp_xhtml_escape_buf(r->out, v->s);
    } else if (v->t == TV_INT) {
        tpl_format_int(r->out, v->i);
    } else if (v->t <= TV_FLOAT) {
        tpl_str(r, r->out, v); /* None, bools, floats: nothing to escape */
    } else {
        tp_buf_clear(&r->scratch);
        tpl_str(r, &r->scratch, v);
        tp_xhtml_escape_buf(r->out, tpl_buf_slice(&r->scratch));
    }
}

/* {{ v }} through an autoescape function other than the builtin xhtml_escape. */
static TPL_NOINLINE int exec_expr_call(tpl_render *r, const tpl_node *n, tpl_val *v,
                                       const tpl_val *fn)
{
    tpl_val res;
    if (v->t != TV_STR) {
        tp_buf_clear(&r->scratch);
        tpl_str(r, &r->scratch, v);
        *v = tpl_str_val(r, tpl_buf_str(&r->scratch), r->scratch.len);
    }
    tpl_args a = {1, v, 0, NULL, NULL};
    if (tpl_call(r, fn, &a, &res) < 0 || want_utf8(r, &res) < 0)
        return fail_at(r, n, n->line);
    tp_buf_append(r->out, res.s.p, res.s.n);
    return X_OK;
}

/* True when {{ }}'s autoescape is the builtin xhtml_escape, resolved this render. A global
 * keeps its value for the whole render once resolved, so the answer is kept per render. */
static inline bool builtin_escape(tpl_render *r, const tpl_node *n)
{
    const tpl_expr *t = n->target;
    if (!t || t->op != E_GLOBAL)
        return false;
    if (t->idx + 1 == r->esc_global)
        return true;
    if (r->globals[t->idx].t != TV_FUNC || r->globals[t->idx].fn != &tpl_fn_xhtml_escape)
        return false;
    r->esc_global = t->idx + 1;
    return true;
}

/* {{ row['name'] }} escaped by the builtin xhtml_escape, already resolved this render: a
 * string or int key of a local dict goes from jansson to the output without a tpl_val.
 * Returns false (nothing done) for everything else. */
static inline bool exec_key_escaped(tpl_render *r, const tpl_node *n)
{
    if (!builtin_escape(r, n))
        return false;
    json_t *j = tpl_local_key(r, n->e);
    if (json_is_string(j))
        tp_xhtml_escape_buf(r->out, tp_slice_make(json_string_value(j), json_string_length(j)));
    else if (json_is_integer(j))
        tpl_format_int(r->out, json_integer_value(j));
    else
        return false;
    return true;
}

static TPL_NOINLINE int exec_expr(tpl_render *r, const tpl_node *n)
{
    tpl_val v, fnv;
    const tpl_expr *t = n->target, *e = n->e;
    if (e->op == E_COND && builtin_escape(r, n)) { /* {{ 'odd' if i % 2 else 'even' }} */
        if (!(e = tpl_cond_branch(r, e)))
            return fail_at(r, n, n->line);
        if (e->op == E_CONST && e->sub) { /* a text escaping keeps: written as it is */
            tp_buf_put(r->out, e->k.s.p, e->k.s.n);
            return X_OK;
        }
    }
    if (tpl_eval(r, e, &v) < 0)
        return fail_at(r, n, n->line);
    if (!t) {
        tpl_str(r, r->out, &v);
        return X_OK;
    }
    const tpl_val *fn = &fnv; /* the autoescape function; a resolved global read in place */
    if (t->op == E_GLOBAL && r->globals[t->idx].t != TV_UNBOUND)
        fn = &r->globals[t->idx];
    else if (tpl_eval(r, t, &fnv) < 0)
        return fail_at(r, n, n->line);
    if (fn->t == TV_FUNC && fn->fn == &tpl_fn_xhtml_escape) {
        write_escaped(r, &v);
        return X_OK;
    }
    return exec_expr_call(r, n, &v, fn);
}

static TPL_NOINLINE int exec_set(tpl_render *r, const tpl_node *n)
{
    tpl_val v, old;
    if (tpl_eval(r, n->e, &v) < 0)
        return fail_at(r, n, n->line);
    if (n->flag) {
        if (tpl_eval(r, n->target, &old) < 0 || tpl_binop(r, n->flag - 1, &old, &v, &v) < 0)
            return fail_at(r, n, n->line);
    }
    if (tpl_assign(r, n->target, &v) < 0)
        return fail_at(r, n, n->line);
    return X_OK;
}

/* Python's truth of a JSON bool, null, int or str (as tpl_truthy of tpl_from_json), or -1. */
static int json_truth(json_t *j)
{
    if (!j)
        return -1;
    switch (json_typeof(j)) {
    case JSON_TRUE: return 1;
    case JSON_FALSE:
    case JSON_NULL: return 0;
    case JSON_INTEGER: return json_integer_value(j) != 0;
    case JSON_STRING: return json_string_length(j) != 0;
    default: return -1;
    }
}

static TPL_NOINLINE int exec_if(tpl_render *r, const tpl_node *n)
{
    for (size_t i = 0; i < n->ncl; i++) {
        const tpl_clause *c = &n->cl[i];
        if (c->kind != CL_ELSE) {
            int truth = json_truth(tpl_local_key(r, c->e));
            tpl_val v;
            if (truth < 0 && tpl_eval(r, c->e, &v) < 0)
                return fail_at(r, n, c->line);
            if (truth < 0 ? !tpl_truthy_fast(&v) : !truth)
                continue;
        }
        if (c->body.n == 1 && c->body.v[0]->kind == N_TEXT) { /* <td>admin</td> */
            tp_buf_put(r->out, c->body.v[0]->text.p, c->body.v[0]->text.n);
            return X_OK;
        }
        return exec_body(r, &c->body);
    }
    return X_OK;
}

static int exec_else(tpl_render *r, const tpl_node *n)
{
    return n->ncl > 1 ? exec_body(r, &n->cl[1].body) : X_OK;
}

/* The list a for loop walks itself, with the slots its items and indexes go to: "for x in
 * a_list" (ix -1) and "for i, x in enumerate(a_list)". NULL for every other loop. */
static json_t *loop_list(const tpl_node *n, const tpl_val *src, int *ix, int *sx)
{
    const tpl_expr *t = n->target;
    if (src->t == TV_LIST && t->op == E_LOCAL) {
        *ix = -1;
        *sx = t->idx;
        return src->j;
    }
    if (src->t != TV_ITER || src->it->kind != IT_ENUMERATE || src->it->a.t != TV_LIST ||
        (t->op != E_TUPLE && t->op != E_LIST) || t->n != 2 || t->kid[0]->op != E_LOCAL ||
        t->kid[1]->op != E_LOCAL)
        return NULL;
    *ix = t->kid[0]->idx;
    *sx = t->kid[1]->idx;
    return src->it->a.j;
}

/* tpl_iter_next's loop over a list (or enumerate's over one) and tpl_assign's of its items,
 * with each item converted straight into its slot: no pairs for enumerate, no copies (a copy
 * of a value just written field by field stalls on its load). The same steps are counted. */
static int exec_for_list(tpl_render *r, const tpl_node *n, json_t *list, int ix, int sx,
                         int64_t start)
{
    size_t len = json_array_size(list);
    for (size_t i = 0;; i++) {
        if (TPL_STEP(r) < 0 || (ix >= 0 && TPL_STEP(r) < 0)) /* enumerate's and its list's */
            return fail_at(r, n, n->line);
        if (i >= len || i >= json_array_size(list)) /* as tpl_iter_next checks */
            break;
        if (ix >= 0)
            r->slots[ix] = TPL_INT(start + (int64_t)i);
        tpl_from_json(json_array_get(list, i), &r->slots[sx]);
        int rc = exec_body(r, &n->cl[0].body);
        if (rc == X_ERR)
            return X_ERR;
        if (rc == X_BREAK)
            return X_OK;
    }
    return exec_else(r, n);
}

static TPL_NOINLINE int exec_for(tpl_render *r, const tpl_node *n)
{
    tpl_val src, x;
    tpl_iter it;
    int rc;
    if (tpl_eval(r, n->e, &src) < 0)
        return fail_at(r, n, n->line);
    int ix, sx;
    json_t *list = loop_list(n, &src, &ix, &sx);
    if (list)
        return exec_for_list(r, n, list, ix, sx, ix >= 0 ? src.it->start : 0);
    if (tpl_iter_init(r, &src, &it) < 0)
        return fail_at(r, n, n->line);
    while ((rc = tpl_iter_next(r, &it, &x)) > 0) {
        if (tpl_assign(r, n->target, &x) < 0)
            return fail_at(r, n, n->line);
        rc = exec_body(r, &n->cl[0].body);
        if (rc == X_ERR)
            return X_ERR;
        if (rc == X_BREAK)
            return X_OK;
    }
    if (rc < 0)
        return fail_at(r, n, n->line);
    return exec_else(r, n);
}

static TPL_NOINLINE int exec_while(tpl_render *r, const tpl_node *n)
{
    for (long i = 0;; i++) {
        tpl_val v;
        if (i >= MAX_WHILE_ITERATIONS) {
            tpl_raise(r, EX_RUNTIME, "while loop ran %d times", MAX_WHILE_ITERATIONS);
            return fail_at(r, n, n->line);
        }
        if (TPL_STEP(r) < 0 || tpl_eval(r, n->e, &v) < 0)
            return fail_at(r, n, n->line);
        if (!tpl_truthy_fast(&v))
            return exec_else(r, n);
        int rc = exec_body(r, &n->cl[0].body);
        if (rc == X_ERR)
            return X_ERR;
        if (rc == X_BREAK)
            return X_OK;
    }
}

/* Python's exception hierarchy for the classes templates can raise. */
static bool exc_matches(int exc, tp_slice name)
{
#define IS(s) tp_slice_eq(name, TP_SLICE_LIT(s))
    if (IS("Exception") || IS("BaseException") ||
        tp_slice_eq(name, tp_slice_cstr(tpl_exc_name(exc))))
        return true;
    if (IS("LookupError"))
        return exc == EX_KEY || exc == EX_INDEX;
    if (IS("ArithmeticError"))
        return exc == EX_ZERODIV || exc == EX_OVERFLOW;
    if (IS("NameError"))
        return exc == EX_UNBOUND;
    return false;
#undef IS
}

static bool clause_matches(tpl_render *r, const tpl_expr *types)
{
    if (!types)
        return true;
    if (types->op == E_TUPLE) {
        for (int i = 0; i < types->n; i++)
            if (clause_matches(r, types->kid[i]))
                return true;
        return false;
    }
    return (types->op == E_GLOBAL || types->op == E_LOCAL) && exc_matches(r->exc, types->k.s);
}

typedef struct pending {
    int exc;
    char msg[sizeof(((tpl_render *)0)->msg)];
    const tpl_site *esite;
    int eline;
} pending;

static void take_error(tpl_render *r, pending *p)
{
    p->exc = r->exc;
    memcpy(p->msg, r->msg, sizeof p->msg);
    p->esite = r->esite;
    p->eline = r->eline;
    r->exc = EX_NONE;
    r->esite = NULL;
}

static void put_error(tpl_render *r, const pending *p)
{
    r->exc = p->exc;
    memcpy(r->msg, p->msg, sizeof p->msg);
    r->esite = p->esite;
    r->eline = p->eline;
}

static int exec_except(tpl_render *r, const tpl_node *n)
{
    for (size_t i = 1; i < n->ncl; i++) {
        const tpl_clause *c = &n->cl[i];
        if (c->kind != CL_EXCEPT || !clause_matches(r, c->e))
            continue;
        pending p;
        take_error(r, &p);
        if (c->as) {
            tpl_val v = tpl_str_val(r, p.msg, strlen(p.msg));
            tpl_assign(r, c->as, &v);
        }
        return exec_body(r, &c->body);
    }
    return X_ERR;
}

static TPL_NOINLINE int exec_try(tpl_render *r, const tpl_node *n)
{
    int rc = exec_body(r, &n->cl[0].body);
    if (rc == X_ERR) {
        rc = exec_except(r, n);
    } else if (rc == X_OK) {
        for (size_t i = 1; i < n->ncl; i++)
            if (n->cl[i].kind == CL_ELSE)
                rc = exec_body(r, &n->cl[i].body);
    }
    const tpl_clause *fin = &n->cl[n->ncl - 1];
    if (n->ncl < 2 || fin->kind != CL_FINALLY)
        return rc;
    pending p = {.exc = EX_NONE};
    if (rc == X_ERR)
        take_error(r, &p);
    int frc = exec_body(r, &fin->body);
    if (frc != X_OK)
        return frc;
    if (rc == X_ERR)
        put_error(r, &p);
    return rc;
}

static TPL_NOINLINE int exec_apply(tpl_render *r, const tpl_node *n)
{
    tpl_val fn, res;
    if (tpl_eval(r, n->e, &fn) < 0)
        return fail_at(r, n, n->line);
    for (int i = 0; i < n->nslots; i++)
        r->slots[n->slot0 + i].t = TV_UNBOUND;
    tp_buf body = {0}, *saved = r->out;
    r->out = &body;
    int rc = exec_body(r, &n->cl[0].body);
    r->out = saved;
    if (rc == X_OK) {
        tpl_val arg = {.t = TV_STR, .s = tpl_buf_slice(&body)};
        if (!arg.s.p)
            arg.s.p = "";
        tpl_args a = {1, &arg, 0, NULL, NULL};
        if (tpl_call(r, &fn, &a, &res) < 0 || want_utf8(r, &res) < 0)
            rc = fail_at(r, n, n->line);
        else
            tp_buf_append(r->out, res.s.p, res.s.n);
    }
    tp_buf_free(&body);
    return rc;
}

static TPL_NOINLINE int exec_other(tpl_render *r, const tpl_node *n)
{
    tpl_raise(r, EX_IMPORT, "import is not supported in templates: '%.*s'", TP_SLICE_FMT(n->text));
    return fail_at(r, n, n->line);
}

/* Every statement but text, each in a function of its own that the switch tail-calls. */
static int exec_node(tpl_render *r, const tpl_node *n)
{
    switch (n->kind) {
    case N_EXPR: return exec_expr(r, n);
    case N_SET: return exec_set(r, n);
    case N_IF: return exec_if(r, n);
    case N_FOR: return exec_for(r, n);
    case N_WHILE: return exec_while(r, n);
    case N_TRY: return exec_try(r, n);
    case N_APPLY: return exec_apply(r, n);
    case N_BREAK: return X_BREAK;
    case N_CONTINUE: return X_CONTINUE;
    default: return exec_other(r, n);
    }
}

static int exec_body(tpl_render *r, const tpl_body *b)
{
    for (size_t i = 0; i < b->n; i++) {
        const tpl_node *n = b->v[i];
        int rc;
        if (n->kind == N_TEXT) { /* the commonest statements without the switch's jump */
            tp_buf_put(r->out, n->text.p, n->text.n);
            continue;
        }
        if (n->pre.n)
            tp_buf_put(r->out, n->pre.p, n->pre.n);
        if (n->kind == N_EXPR)
            rc = exec_key_escaped(r, n) ? X_OK : exec_expr(r, n);
        else if (n->kind == N_IF)
            rc = exec_if(r, n);
        else
            rc = exec_node(r, n);
        if (rc != X_OK)
            return rc;
    }
    return X_OK;
}

/* "Type: message at file:line (via a.html:1, b.html:2)". */
static void format_error(const tpl_render *r, tp_template_error *err)
{
    const tpl_site *s = r->esite;
    const char *file = s ? s->file->name : "<unknown>";
    int n = snprintf(err->message, sizeof err->message, "%s: %s at %s:%d", tpl_exc_name(r->exc),
                     r->msg, file, r->eline);
    for (const tpl_site *v = s; v && v->via && n > 0 && (size_t)n < sizeof err->message; v = v->via)
        n += snprintf(err->message + n, sizeof err->message - (size_t)n, "%s%s:%d",
                      v == s ? " (via " : ", ", v->via->file->name, v->via_line);
    if (s && s->via && n > 0 && (size_t)n < sizeof err->message)
        snprintf(err->message + n, sizeof err->message - (size_t)n, ")");
    snprintf(err->filename, sizeof err->filename, "%s", file);
    err->lineno = r->eline;
    err->parse = false;
}

int tp_template_render(tp_template *t, json_t *ctx, void *render_data, tp_buf *out,
                       tp_template_error *err)
{
    const tpl_program *p = t->prog;
    tpl_val stack_slots[64], stack_globals[64];
    tpl_render r = {.prog = p, .ns = t->ns, .ctx = ctx, .render_data = render_data, .out = out};
    if (ctx && !json_is_object(ctx)) {
        if (err)
            snprintf(err->message, sizeof err->message, "TypeError: context must be an object");
        return -1;
    }
    tp_arena_init(&r.arena, 0);
    size_t ns = (size_t)p->nslots, ng = (size_t)p->nglobals;
    r.slots = ns <= 64 ? stack_slots : tp_malloc(ns * sizeof *r.slots);
    r.globals = ng <= 64 ? stack_globals : tp_malloc(ng * sizeof *r.globals);
    memset(r.slots, 0, ns * sizeof *r.slots);
    memset(r.globals, 0, ng * sizeof *r.globals);
    size_t start = out->len;
    if (p->last_size) /* the output grows once, to about the size it had last time */
        tp_buf_reserve(out, p->last_size + p->last_size / 16 + 64);
    int rc = exec_body(&r, &p->body) == X_ERR ? -1 : 0;
    if (rc == 0)
        t->prog->last_size = out->len - start;
    if (rc < 0) {
        out->len = start; /* nothing of a failed render reaches the caller */
        if (err)
            format_error(&r, err);
    }
    for (size_t i = 0; i < r.nkeep; i++)
        json_decref(r.keep[i]);
    tp_free(r.keep);
    tp_buf_free(&r.scratch);
    tp_buf_free(&r.fmtbuf);
    tp_arena_destroy(&r.arena);
    if (r.slots != stack_slots)
        tp_free(r.slots);
    if (r.globals != stack_globals)
        tp_free(r.globals);
    return rc;
}
