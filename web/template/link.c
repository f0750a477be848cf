/* The linker: what Tornado's _generate_python does. It walks the extends chain, lets the
 * most-derived {% block %} win, inlines blocks and includes (each inlined part keeps its
 * own file's autoescape and its "via" position), and resolves every name the way Python's
 * compiler would for the generated function: a name bound anywhere in the function
 * (set, for, except-as) is a local slot; apply bodies and comprehensions are nested scopes;
 * everything else is a global looked up at render time. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "web/template/internal.h"

#define MAX_INLINE_DEPTH 64

typedef struct scope scope;
struct scope {
    scope *parent;
    tp_slice *names; /* bound here */
    int *slots;
    size_t n, cap;
    tpl_expr **refs; /* E_NAME nodes to resolve */
    size_t nrefs, caprefs;
    tpl_node *apply; /* the N_APPLY node of an apply scope */
};

typedef struct named_block {
    tp_slice name;
    const tpl_node *node;
} named_block;

typedef struct linker {
    tp_template_loader *l;
    tpl_program *p;
    tp_template_error *err;
    named_block *blocks;
    size_t nblocks, capblocks;
    scope **scopes;
    size_t nscopes, capscopes;
    size_t capglobals, capdeps;
    int depth;
    tpl_expr **keys; /* E_KEY and E_ATTR nodes, for key_on_locals */
    size_t nkeys, capkeys;
} linker;

static void *grow(void *v, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return v;
    *cap = *cap ? *cap * 2 : 8;
    return tp_realloc(v, *cap * size);
}

static int link_error(linker *k, const tpl_file *f, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int link_error(linker *k, const tpl_file *f, int line, const char *fmt, ...)
{
    tp_template_error *e = k->err;
    if (!e)
        return -1;
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *name = f ? f->name : "None";
    snprintf(e->message, sizeof e->message, "%s at %s:%d", msg, name, line);
    snprintf(e->filename, sizeof e->filename, "%s", name);
    e->lineno = line;
    e->parse = f == NULL;
    return -1;
}

static void add_dep(linker *k, tp_template *t)
{
    k->p->deps = grow(k->p->deps, &k->capdeps, k->p->ndeps, sizeof *k->p->deps);
    k->p->deps[k->p->ndeps++] = t;
}

static tp_template *load(linker *k, const tpl_node *n)
{
    tp_template *t = tpl_loader_load(k->l, tp_arena_strndup(&k->p->arena, n->text.p, n->text.n),
                                     n->file->name, k->err);
    if (t)
        add_dep(k, t);
    return t;
}

/* ---- scopes --------------------------------------------------------------------------- */

static scope *new_scope(linker *k, scope *parent)
{
    scope *s = tp_arena_calloc(&k->p->arena, sizeof *s);
    s->parent = parent;
    k->scopes = grow(k->scopes, &k->capscopes, k->nscopes, sizeof *k->scopes);
    k->scopes[k->nscopes++] = s;
    return s;
}

static void scope_bind(scope *s, tp_slice name)
{
    for (size_t i = 0; i < s->n; i++)
        if (tp_slice_eq(s->names[i], name))
            return;
    s->names = grow(s->names, &s->cap, s->n, sizeof *s->names);
    s->names[s->n++] = name;
}

static void scope_ref(scope *s, tpl_expr *e)
{
    s->refs = grow(s->refs, &s->caprefs, s->nrefs, sizeof *s->refs);
    s->refs[s->nrefs++] = e;
}

static int global_index(linker *k, tp_slice name)
{
    tpl_program *p = k->p;
    for (int i = 0; i < p->nglobals; i++)
        if (tp_slice_eq(p->globals[i], name))
            return i;
    p->globals = grow(p->globals, &k->capglobals, (size_t)p->nglobals, sizeof *p->globals);
    p->globals[p->nglobals] = name;
    return p->nglobals++;
}

/* Slots for every scope's names, then each reference to its scope, an enclosing one, or a
 * global. Scopes come in creation order, so parents get their slots first. */
static void resolve_scopes(linker *k)
{
    for (size_t i = 0; i < k->nscopes; i++) {
        scope *s = k->scopes[i];
        s->slots = tp_arena_alloc(&k->p->arena, (s->n + 1) * sizeof *s->slots);
        for (size_t j = 0; j < s->n; j++)
            s->slots[j] = k->p->nslots++;
        if (s->apply) {
            s->apply->slot0 = s->n ? s->slots[0] : 0;
            s->apply->nslots = (int)s->n;
        }
    }
    for (size_t i = 0; i < k->nscopes; i++) {
        scope *s = k->scopes[i];
        for (size_t r = 0; r < s->nrefs; r++) {
            tpl_expr *e = s->refs[r];
            e->op = E_GLOBAL;
            for (scope *o = s; o && e->op == E_GLOBAL; o = o->parent) {
                for (size_t j = 0; j < o->n; j++) {
                    if (tp_slice_eq(o->names[j], e->k.s)) {
                        e->op = E_LOCAL;
                        e->idx = o->slots[j];
                        break;
                    }
                }
            }
            if (e->op == E_GLOBAL)
                e->idx = global_index(k, e->k.s);
        }
    }
}

static void free_scopes(linker *k)
{
    for (size_t i = 0; i < k->nscopes; i++) {
        tp_free(k->scopes[i]->names);
        tp_free(k->scopes[i]->refs);
    }
    tp_free(k->scopes);
    tp_free(k->blocks);
    tp_free(k->keys);
}

/* True when xhtml_escape leaves s as it is (none of & < > " '). */
static bool xhtml_plain(tp_slice s)
{
    for (size_t i = 0; i < s.n; i++)
        if (strchr("&<>\"'", s.p[i]) && s.p[i])
            return false;
    return true;
}

/* row['id'] becomes E_KEY, with its key in the node: no constant to evaluate per lookup;
 * '%.Nf' % x (N <= 6) is marked for eval_bin's shortcut, and a constant text that escaping
 * leaves alone for exec_expr's. */
static void const_key(linker *k, tpl_expr *c, bool store)
{
    if (c->op == E_BIN && c->sub == B_MOD && c->kid[0]->op == E_CONST &&
        c->kid[0]->k.t == TV_STR) { /* '%.2f' % x: idx = precision + 1 (eval_bin) */
        tp_slice f = c->kid[0]->k.s;
        if (f.n == 4 && f.p[0] == '%' && f.p[1] == '.' && f.p[2] >= '0' && f.p[2] <= '6' &&
            f.p[3] == 'f')
            c->idx = f.p[2] - '0' + 1;
    }
    if (!store && c->op == E_INDEX && c->kid[1]->op == E_CONST && c->kid[1]->k.t == TV_STR) {
        c->op = E_KEY;
        c->k = c->kid[1]->k;
    }
    if (c->op == E_CONST && c->k.t == TV_STR && xhtml_plain(c->k.s))
        c->sub = 1; /* xhtml_escape gives the text back: exec_expr writes it as it is */
    if (c->op == E_KEY || c->op == E_ATTR) {
        k->keys = grow(k->keys, &k->capkeys, k->nkeys, sizeof *k->keys);
        k->keys[k->nkeys++] = c;
    }
}

/* Once names are resolved: a key or attribute of a local (row['id'] in a loop over rows)
 * carries the local's slot itself (sub = 1, idx = slot), one pointer fewer to follow; one that
 * another node reads too goes through the render's key memo (sub = 2). */
static void key_on_locals(linker *k)
{
    for (size_t i = 0; i < k->nkeys; i++) {
        tpl_expr *e = k->keys[i];
        if (e->kid[0]->op == E_LOCAL) {
            e->sub = 1;
            e->idx = e->kid[0]->idx;
        }
    }
    for (size_t i = 0; i < k->nkeys; i++) /* the same key of the same local twice: memoized */
        for (size_t j = i + 1; j < k->nkeys; j++) {
            tpl_expr *a = k->keys[i], *b = k->keys[j];
            if (a->sub && b->sub && a->idx == b->idx && tp_slice_eq(a->k.s, b->k.s)) {
                a->sub = b->sub = 2;
                b->k.s.p = a->k.s.p; /* one pointer per key: the memo compares pointers */
            }
        }
}

/* A copy of e in the program with its names registered in s (bound, for a store). */
static tpl_expr *clone(linker *k, scope *s, const tpl_expr *e, bool store)
{
    if (!e)
        return NULL;
    tpl_expr *c = tp_arena_alloc(&k->p->arena, sizeof *c);
    *c = *e;
    if (e->n)
        c->kid = tp_arena_alloc(&k->p->arena, e->n * sizeof *c->kid);
    if (e->op == E_NAME) {
        if (store)
            scope_bind(s, e->k.s);
        scope_ref(s, c);
        return c;
    }
    if (e->op == E_COMP) {
        c->kid[2] = clone(k, s, e->kid[2], false);
        scope *cs = new_scope(k, s);
        c->kid[1] = clone(k, cs, e->kid[1], true);
        c->kid[0] = clone(k, cs, e->kid[0], false);
        for (int i = 3; i < e->n; i++)
            c->kid[i] = clone(k, cs, e->kid[i], false);
        return c;
    }
    for (int i = 0; i < e->n; i++)
        c->kid[i] = clone(k, s, e->kid[i], store);
    const_key(k, c, store);
    return c;
}

/* ---- ancestors and named blocks ------------------------------------------------------- */

static int find_blocks(linker *k, const tpl_body *b);

static int find_blocks_node(linker *k, const tpl_node *n)
{
    if (n->kind == N_BLOCK) {
        size_t i = 0;
        while (i < k->nblocks && !tp_slice_eq(k->blocks[i].name, n->text))
            i++;
        if (i == k->nblocks) {
            k->blocks = grow(k->blocks, &k->capblocks, k->nblocks, sizeof *k->blocks);
            k->blocks[k->nblocks++].name = n->text;
        }
        k->blocks[i].node = n;
    } else if (n->kind == N_INCLUDE) {
        tp_template *t = load(k, n);
        if (!t)
            return -1;
        if (++k->depth > MAX_INLINE_DEPTH)
            return link_error(k, n->file, n->line, "RecursionError: includes nested too deeply");
        int rc = find_blocks(k, &t->file->body);
        k->depth--;
        return rc;
    }
    for (size_t c = 0; c < n->ncl; c++)
        if (find_blocks(k, &n->cl[c].body) < 0)
            return -1;
    return 0;
}

static int find_blocks(linker *k, const tpl_body *b)
{
    for (size_t i = 0; i < b->n; i++)
        if (find_blocks_node(k, b->v[i]) < 0)
            return -1;
    return 0;
}

/* Tornado's _get_ancestors: t, then the ancestors of every top-level {% extends %}. */
static int ancestors(linker *k, tp_template *t, const tpl_file ***v, size_t *n, size_t *cap)
{
    *v = grow(*v, cap, *n, sizeof **v);
    (*v)[(*n)++] = t->file;
    if (*n > MAX_INLINE_DEPTH)
        return link_error(k, t->file, 0, "RecursionError: extends nested too deeply");
    for (size_t i = 0; i < t->file->body.n; i++) {
        const tpl_node *c = t->file->body.v[i];
        if (c->kind != N_EXTENDS)
            continue;
        if (!k->l)
            return link_error(k, NULL, 0, "{%% extends %%} block found, but no template loader");
        tp_template *parent = load(k, c);
        if (!parent || ancestors(k, parent, v, n, cap) < 0)
            return -1;
    }
    return 0;
}

/* ---- generation ----------------------------------------------------------------------- */

typedef struct vec {
    tpl_node **v;
    size_t n, cap;
} vec;

static int gen_body(linker *k, scope *s, const tpl_site *site, const tpl_body *b, vec *out);

static void vec_push(vec *v, tpl_node *n)
{
    v->v = grow(v->v, &v->cap, v->n, sizeof *v->v);
    v->v[v->n++] = n;
}

/* The vector as a body in the program arena, adjacent texts merged into one, and a text
 * followed by a statement made that statement's pre (written before it runs): one node for
 * the renderer to dispatch instead of two. */
static tpl_body finish_body(linker *k, vec *v)
{
    tpl_body b = {tp_arena_alloc(&k->p->arena, (v->n + 1) * sizeof *b.v), 0};
    for (size_t i = 0; i < v->n; i++) {
        tpl_node *n = v->v[i];
        if (n->kind == N_TEXT && b.n && b.v[b.n - 1]->kind == N_TEXT) {
            tpl_node *prev = b.v[b.n - 1];
            char *t = tp_arena_alloc(&k->p->arena, prev->text.n + n->text.n + 1);
            memcpy(t, prev->text.p, prev->text.n);
            memcpy(t + prev->text.n, n->text.p, n->text.n);
            t[prev->text.n + n->text.n] = '\0';
            prev->text = tp_slice_make(t, prev->text.n + n->text.n);
            continue;
        }
        if (n->kind != N_TEXT && b.n && b.v[b.n - 1]->kind == N_TEXT) {
            n->pre = b.v[b.n - 1]->text;
            b.v[b.n - 1] = n;
            continue;
        }
        b.v[b.n++] = n;
    }
    tp_free(v->v);
    *v = (vec){0};
    return b;
}

static const tpl_site *mk_site(linker *k, const tpl_file *f, const tpl_site *via, int line)
{
    tpl_site *s = tp_arena_alloc(&k->p->arena, sizeof *s);
    *s = (tpl_site){f, via, line};
    return s;
}

static tpl_node *copy_node(linker *k, const tpl_node *n, const tpl_site *site)
{
    tpl_node *c = tp_arena_calloc(&k->p->arena, sizeof *c);
    c->kind = n->kind;
    c->flag = n->flag;
    c->line = n->line;
    c->text = n->text;
    c->file = n->file;
    c->site = site;
    return c;
}

static int gen_clauses(linker *k, scope *s, const tpl_site *site, const tpl_node *n, tpl_node *c)
{
    c->cl = tp_arena_calloc(&k->p->arena, n->ncl * sizeof *c->cl);
    c->ncl = n->ncl;
    for (size_t i = 0; i < n->ncl; i++) {
        const tpl_clause *from = &n->cl[i];
        tpl_clause *to = &c->cl[i];
        to->kind = from->kind;
        to->line = from->line;
        if (n->kind == N_IF || from->kind != CL_BODY)
            to->e = clone(k, s, from->e, false);
        to->as = clone(k, s, from->as, true);
        vec v = {0};
        if (gen_body(k, s, site, &from->body, &v) < 0) {
            tp_free(v.v);
            return -1;
        }
        to->body = finish_body(k, &v);
    }
    return 0;
}

/* Inlines the body of a block or an included file, seen from site at line. */
static int gen_inline(linker *k, scope *s, const tpl_site *site, const tpl_file *f,
                      const tpl_body *b, int line, vec *out)
{
    if (++k->depth > MAX_INLINE_DEPTH)
        return link_error(k, site->file, line, "RecursionError: blocks nested too deeply");
    int rc = gen_body(k, s, mk_site(k, f, site, line), b, out);
    k->depth--;
    return rc;
}

static int gen_node(linker *k, scope *s, const tpl_site *site, const tpl_node *n, vec *out)
{
    tpl_node *c;
    switch (n->kind) {
    case N_BLOCK: {
        size_t i = 0;
        while (i < k->nblocks && !tp_slice_eq(k->blocks[i].name, n->text))
            i++;
        if (i == k->nblocks)
            return link_error(k, n->file, n->line, "KeyError: block %.*s not found",
                              TP_SLICE_FMT(n->text));
        const tpl_node *w = k->blocks[i].node;
        return gen_inline(k, s, site, w->file, &w->cl[0].body, n->line, out);
    }
    case N_INCLUDE: {
        tp_template *t = load(k, n);
        return t ? gen_inline(k, s, site, t->file, &t->file->body, n->line, out) : -1;
    }
    case N_EXTENDS:
        return link_error(k, n->file, n->line,
                          "NotImplementedError: {%% extends %%} inside an included file or "
                          "a block of the rendered chain");
    }
    c = copy_node(k, n, site);
    switch (n->kind) {
    case N_EXPR:
        c->e = clone(k, s, n->e, false);
        if (!n->flag)
            c->target = clone(k, s, site->file->autoescape, false);
        break;
    case N_SET:
        c->e = clone(k, s, n->e, false);
        c->target = clone(k, s, n->target, true);
        break;
    case N_APPLY: {
        c->e = clone(k, s, n->e, false);
        scope *as = new_scope(k, s);
        as->apply = c;
        if (gen_clauses(k, as, site, n, c) < 0)
            return -1;
        break;
    }
    case N_IF:
    case N_FOR:
    case N_WHILE:
    case N_TRY:
        c->e = n->kind == N_IF ? NULL : clone(k, s, n->e, false);
        c->target = clone(k, s, n->target, true);
        if (gen_clauses(k, s, site, n, c) < 0)
            return -1;
        break;
    }
    vec_push(out, c);
    return 0;
}

static int gen_body(linker *k, scope *s, const tpl_site *site, const tpl_body *b, vec *out)
{
    for (size_t i = 0; i < b->n; i++)
        if (gen_node(k, s, site, b->v[i], out) < 0)
            return -1;
    return 0;
}

void tpl_program_free(tpl_program *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->ndeps; i++)
        tp_template_release(p->deps[i]);
    tp_free(p->deps);
    tp_free(p->globals);
    tp_arena_destroy(&p->arena);
    tp_free(p);
}

int tpl_link(tp_template *t, tp_template_loader *l, tp_template_error *err)
{
    tpl_program *p = tp_calloc(1, sizeof *p);
    tp_arena_init(&p->arena, 16384);
    linker k = {.l = l, .p = p, .err = err};
    const tpl_file **anc = NULL;
    size_t nanc = 0, capanc = 0;
    vec out = {0};
    int rc = ancestors(&k, t, &anc, &nanc, &capanc);
    for (size_t i = nanc; rc == 0 && i-- > 0;)
        rc = find_blocks(&k, &anc[i]->body);
    if (rc == 0) {
        const tpl_file *root = anc[nanc - 1];
        scope *top = new_scope(&k, NULL);
        rc = gen_body(&k, top, mk_site(&k, root, NULL, 0), &root->body, &out);
    }
    if (rc == 0) {
        resolve_scopes(&k);
        key_on_locals(&k);
        p->body = finish_body(&k, &out);
    }
    free_scopes(&k); /* before the program: the scopes live in its arena */
    if (rc == 0) {
        t->prog = p;
    } else {
        tp_free(out.v);
        tpl_program_free(p);
    }
    tp_free(anc);
    return rc;
}
