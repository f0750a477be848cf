/* Shared by the files of web/template/: values, expression trees, template nodes, the parser, the
 * linker and the renderer. Nothing here is public API. */
#ifndef TP_WEB_TEMPLATE_INTERNAL_H
#define TP_WEB_TEMPLATE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/slice.h"
#include "web/template/template.h"

/* tp_buf_data/tp_buf_slice that also work on a never-used buffer (no NULL arithmetic). */
static inline const char *tpl_buf_str(const tp_buf *b)
{
    return b->base ? b->base + b->off : "";
}

static inline tp_slice tpl_buf_slice(const tp_buf *b)
{
    return (tp_slice){tpl_buf_str(b), b->len};
}

/* ---- values --------------------------------------------------------------------------- */

enum tpl_type {
    TV_UNBOUND, /* a local slot never assigned */
    TV_NONE,
    TV_BOOL,
    TV_INT,
    TV_FLOAT,
    TV_STR,   /* UTF-8 bytes, borrowed (JSON, program constants or the render arena) */
    TV_LIST,  /* a JSON array, kept alive by the render */
    TV_DICT,  /* a JSON object, kept alive by the render */
    TV_TUPLE, /* tpl_tuple in the render arena (or the program) */
    TV_RANGE, /* tpl_range */
    TV_FUNC,  /* a builtin or registered function */
    TV_NS,    /* a namespace object such as `modules`: s is its prefix */
    TV_ITER,  /* enumerate/zip/reversed/dict views: tpl_iterobj */
};

typedef struct tpl_val {
    uint8_t t;
    union {
        bool b;
        int64_t i;
        double d;
        tp_slice s;
        json_t *j;
        const struct tpl_tuple *tup;
        const struct tpl_range *rng;
        const struct tpl_fn *fn;
        const struct tpl_iterobj *it;
    };
} tpl_val;

typedef struct tpl_tuple {
    size_t n;
    tpl_val v[];
} tpl_tuple;

typedef struct tpl_range {
    int64_t start, stop, step;
} tpl_range;

enum tpl_iterkind { IT_ENUMERATE, IT_ZIP, IT_REVERSED, IT_ITEMS, IT_KEYS, IT_VALUES };

typedef struct tpl_iterobj {
    uint8_t kind;
    int64_t start; /* enumerate's start */
    tpl_val a, b;  /* the source(s) */
} tpl_iterobj;

#define TPL_NONE    ((tpl_val){.t = TV_NONE})
#define TPL_BOOL(x) ((tpl_val){.t = TV_BOOL, .b = (x)})
#define TPL_INT(x)  ((tpl_val){.t = TV_INT, .i = (x)})

/* Python's exception classes, as far as templates can raise them. */
enum tpl_exc {
    EX_NONE,
    EX_NAME,
    EX_UNBOUND,
    EX_ATTRIBUTE,
    EX_KEY,
    EX_INDEX,
    EX_TYPE,
    EX_VALUE,
    EX_ZERODIV,
    EX_OVERFLOW,
    EX_RUNTIME, /* our own limits (recursion, sizes) and import */
    EX_ERROR,   /* raised by a registered function */
    EX_IMPORT,
};

/* ---- expressions ---------------------------------------------------------------------- */

enum tpl_op {
    E_CONST,
    E_NAME,   /* unresolved name (parse) */
    E_LOCAL,  /* idx = slot */
    E_GLOBAL, /* idx = global index */
    E_ATTR,   /* kid[0].name */
    E_INDEX,  /* kid[0][kid[1]] */
    E_SLICE,  /* kid[0][kid[1]:kid[2]:kid[3]], absent parts are NULL */
    E_CALL,   /* kid[0](kid[1..idx], kw...) */
    E_NEG,
    E_POS,
    E_NOT,
    E_BIN, /* sub = enum tpl_binop */
    E_CMP, /* kid[0] ops[0] kid[1] ops[1] kid[2] ... */
    E_AND,
    E_OR,
    E_COND, /* kid[1] if kid[0] else kid[2] */
    E_LIST,
    E_TUPLE,
    E_DICT, /* key, value, key, value... */
    E_COMP, /* [kid[0] for kid[1] in kid[2] if kid[3..]] */
    E_KEY,  /* linked E_INDEX with a constant str key: kid[0][k.s] */
};

enum tpl_binop { B_ADD, B_SUB, B_MUL, B_DIV, B_FDIV, B_MOD, B_POW };
enum tpl_cmpop { C_LT, C_LE, C_GT, C_GE, C_EQ, C_NE, C_IN, C_NOTIN, C_IS, C_ISNOT };

typedef struct tpl_expr tpl_expr;
struct tpl_expr {
    uint8_t op;
    uint8_t sub;        /* E_BIN: enum tpl_binop; E_KEY, E_ATTR: 1 if kid[0] is local idx,
                           2 if also another node reads that key of that local (memoized);
                           E_CONST: 1 for a str without & < > " ' (escaping keeps it) */
    uint16_t n;         /* number of kids */
    int32_t idx;        /* E_LOCAL slot, E_GLOBAL index, E_CALL positional count, E_KEY and
                           E_ATTR with sub: kid[0]'s slot; E_BIN '%.Nf' % x: N + 1 */
    tpl_val k;          /* E_CONST value; names (E_NAME/E_LOCAL/E_GLOBAL/E_ATTR) in k.s */
    const uint8_t *ops; /* E_CMP operators (n - 1) */
    const tp_slice *kw; /* E_CALL keyword names (n - 1 - idx) */
    tpl_expr **kid;
};

/* Parsers of the expression language; nodes and strings go in a. On a syntax error they
 * return -1 with a message in err. */
int tpl_parse_expr(tp_arena *a, tp_slice src, tpl_expr **out, char *err, size_t errn);
/* "targets in expr" of a for statement. */
int tpl_parse_for(tp_arena *a, tp_slice src, tpl_expr **target, tpl_expr **iter, char *err,
                  size_t errn);
/* "targets = expr" or "name op= expr" of a set statement; *aug is -1 or a tpl_binop. */
int tpl_parse_set(tp_arena *a, tp_slice src, tpl_expr **target, int *aug, tpl_expr **value,
                  char *err, size_t errn);
/* "[types [as name]]" of an except clause; *types NULL when bare, *as NULL when absent. */
int tpl_parse_except(tp_arena *a, tp_slice src, tpl_expr **types, tpl_expr **as, char *err,
                     size_t errn);

/* ---- template nodes ------------------------------------------------------------------- */

enum tpl_kind {
    N_TEXT,
    N_EXPR, /* flag: raw */
    N_SET,  /* target = e; flag: augmented op + 1 */
    N_IMPORT,
    N_EXTENDS,
    N_INCLUDE,
    N_BLOCK,
    N_APPLY,
    N_IF,
    N_FOR,
    N_WHILE,
    N_TRY,
    N_BREAK,
    N_CONTINUE,
    N_INTER, /* parse only: else/elif/except/finally marker, flag = clause kind */
};

enum tpl_clause_kind { CL_BODY, CL_ELIF, CL_ELSE, CL_EXCEPT, CL_FINALLY };

typedef struct tpl_node tpl_node;
typedef struct tpl_file tpl_file;

typedef struct tpl_body {
    tpl_node **v;
    size_t n;
} tpl_body;

typedef struct tpl_clause {
    uint8_t kind;
    int line;
    tpl_expr *e;  /* CL_BODY of if / CL_ELIF: condition; CL_EXCEPT: types (NULL = bare) */
    tpl_expr *as; /* CL_EXCEPT "as name" target, or NULL */
    tpl_body body;
} tpl_clause;

/* Where a linked node came from, for errors and autoescape: the file, and the include or
 * block placement it was inlined through (Tornado's "(via file:line)"). */
typedef struct tpl_site {
    const tpl_file *file;
    const struct tpl_site *via;
    int via_line;
} tpl_site;

struct tpl_node {
    uint8_t kind;
    uint8_t flag;
    int line;
    tp_slice text;    /* N_TEXT bytes; include/extends/block name; import statement */
    tpl_expr *e;      /* value, iterable, apply function */
    tpl_expr *target; /* N_SET/N_FOR target; linked N_EXPR: the escape function */
    tpl_clause *cl;   /* control blocks, N_BLOCK and N_APPLY bodies are cl[0] */
    size_t ncl;
    const tpl_file *file; /* parse: the file holding the node */
    const tpl_site *site; /* linked: error position */
    int slot0, nslots;    /* linked N_APPLY: the slots of its scope */
    tp_slice pre;         /* linked: text to write before the statement runs */
};

struct tpl_file {
    char *name;
    tp_arena arena;
    tpl_body body;
    tpl_expr *autoescape; /* NULL: no autoescape */
    int autoescape_line;
};

/* Parses text into a new file (tpl_file_free); NULL with *err on a ParseError. */
tpl_file *tpl_file_parse(const char *name, tp_slice text, const char *whitespace,
                         const char *autoescape, tp_template_error *err);
void tpl_file_free(tpl_file *f);
/* filter_whitespace(mode, text) into the arena (mode already validated). */
tp_slice tpl_filter_whitespace(tp_arena *a, const char *mode, tp_slice text);
bool tpl_whitespace_mode_valid(const char *mode);

/* ---- namespace, programs and templates -------------------------------------------------- */

typedef struct tpl_render tpl_render;
typedef struct tpl_args {
    int n;
    const tpl_val *v;
    int nkw;
    const tp_slice *kwn;
    const tpl_val *kwv;
} tpl_args;
typedef int (*tpl_builtin)(tpl_render *r, const tpl_args *a, tpl_val *out);

typedef struct tpl_fn {
    const char *name;
    tpl_builtin impl;   /* builtins */
    tp_template_fn ufn; /* registered functions */
    void *data;
} tpl_fn;

typedef struct tpl_ns_entry {
    char *name; /* possibly dotted: "modules.X" */
    json_t *value;
    tpl_fn fn;
    bool is_fn;
} tpl_ns_entry;

/* The loader's namespace, shared (counted) by the loader and its templates. */
typedef struct tpl_ns {
    int refs;
    tpl_ns_entry *v;
    size_t n, cap;
} tpl_ns;

typedef struct tpl_program {
    tp_arena arena;
    tpl_body body;
    int nslots;
    tp_slice *globals;
    int nglobals;
    tp_template **deps; /* templates whose files the program uses */
    size_t ndeps;
    size_t last_size; /* the last render's output bytes: a size hint written by renders */
} tpl_program;

struct tp_template {
    int refs;
    char *name;
    tpl_file *file;
    tpl_program *prog;
    tpl_ns *ns;
};

/* Links t (its extends chain, blocks and includes) into t->prog, loading through l (NULL
 * for a string template). -1 with *err on failure. */
int tpl_link(tp_template *t, tp_template_loader *l, tp_template_error *err);
void tpl_program_free(tpl_program *p);
/* Loads name relative to parent for the linker (a new reference). */
tp_template *tpl_loader_load(tp_template_loader *l, const char *name, const char *parent,
                             tp_template_error *err);
void tpl_ns_release(tpl_ns *ns);
/* The entry named by n bytes at name, or NULL. */
const tpl_ns_entry *tpl_ns_find(const tpl_ns *ns, const char *name, size_t n);
/* True if some entry's name starts with "prefix." */
bool tpl_ns_has_prefix(const tpl_ns *ns, const char *prefix, size_t n);

/* ---- rendering ------------------------------------------------------------------------ */

#define TPL_MAX_DEPTH 200
/* Keeps a cold path out of its hot caller, so the caller's frame stays small. */
#define TPL_NOINLINE __attribute__((noinline))
/* Iterations (of loops and of every builtin walking a sequence) one render may run; 0 means no
 * limit, as in Tornado. The fuzz build sets a small one. */
#ifndef TPL_MAX_STEPS
#define TPL_MAX_STEPS 0
#endif
/* Counts one loop iteration; -1 after raising RuntimeError when over TPL_MAX_STEPS. */
#define TPL_STEP(r)                                                                                \
    (TPL_MAX_STEPS && ++(r)->steps > (unsigned long)TPL_MAX_STEPS                                  \
         ? tpl_raise((r), EX_RUNTIME, "more than %lu loop iterations",                             \
                     (unsigned long)TPL_MAX_STEPS)                                                 \
         : 0)

/* One remembered constant-key lookup: obj[key] was val. Memoized keys are interned per
 * program, so the key's pointer names it. */
typedef struct tpl_keymemo {
    json_t *obj;
    const char *key;
    json_t *val;
} tpl_keymemo;

#define TPL_KEYMEMO 8

struct tpl_render {
    const tpl_program *prog;
    const tpl_ns *ns;
    json_t *ctx;
    void *render_data;
    tpl_val *slots;
    tpl_val *globals;
    tp_buf *out;
    tp_arena arena;
    json_t **keep;
    size_t nkeep, capkeep;
    tp_buf scratch;
    tp_buf fmtbuf; /* str % args output */
    /* row['id'] twice in a row is looked up once. An object cannot change between two
     * lookups unless something is called (a registered function gets the very objects, a
     * method may change its object), and every call empties the memo (tpl_keymemo_clear);
     * objects made by the render live until its end, so no address is reused meanwhile. */
    tpl_keymemo keymemo[TPL_KEYMEMO];
    bool keymemo_used;
    int32_t esc_global; /* 1 + the index of the global found to be the builtin xhtml_escape */
    int depth;
    unsigned long steps;
    /* the pending error */
    int exc;
    char msg[768];
    const tpl_site *esite;
    int eline;
};

/* Forgets the remembered key lookups: before anything is called. */
void tpl_keymemo_clear(tpl_render *r);
/* json_object_getn(obj, key) through the render's key memo (key interned). */
static inline json_t *tpl_keymemo_get(tpl_render *r, json_t *obj, tp_slice key)
{
    tpl_keymemo *m = &r->keymemo[((uintptr_t)key.p >> 3) % TPL_KEYMEMO];
    if (m->obj == obj && m->key == key.p)
        return m->val;
    json_t *v = json_object_getn(obj, key.p, key.n);
    if (v) {
        *m = (tpl_keymemo){obj, key.p, v};
        r->keymemo_used = true;
    }
    return v;
}
/* Raises exc with a printf message (the first error wins until cleared). Returns -1. */
int tpl_raise(tpl_render *r, int exc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *tpl_exc_name(int exc);
/* Evaluates e into *out. -1 on a raised error. */
int tpl_eval_node(tpl_render *r, const tpl_expr *e, tpl_val *out);
/* tpl_eval_node of an E_KEY or E_ATTR expression. */
int tpl_eval_key(tpl_render *r, const tpl_expr *e, tpl_val *out);
/* The branch a conditional expression (E_COND) takes: kid[1] if kid[0] is true, else kid[2];
 * NULL after raising. */
const tpl_expr *tpl_cond_branch(tpl_render *r, const tpl_expr *e);

/* The JSON value of a constant key of a local that holds a dict (row['id'], row.id), for the
 * paths that take it straight from jansson; NULL for any other expression, or no such key
 * (then evaluate e the general way, which raises the error). */
static inline json_t *tpl_local_key(tpl_render *r, const tpl_expr *e)
{
    if ((e->op != E_KEY && e->op != E_ATTR) || !e->sub)
        return NULL;
    const tpl_val *obj = &r->slots[e->idx];
    if (obj->t != TV_DICT)
        return NULL;
    return e->sub == 2 ? tpl_keymemo_get(r, obj->j, e->k.s)
                       : json_object_getn(obj->j, e->k.s.p, e->k.s.n);
}

/* tpl_eval_node with the commonest expressions inline, tested one by one: each call site then
 * predicts its own branches, where the shared dispatcher's one indirect jump mispredicts. */
static inline int tpl_eval(tpl_render *r, const tpl_expr *e, tpl_val *out)
{
    if (e->op == E_LOCAL && r->slots[e->idx].t != TV_UNBOUND) {
        *out = r->slots[e->idx];
        return 0;
    }
    if (e->op == E_GLOBAL && r->globals[e->idx].t != TV_UNBOUND) {
        *out = r->globals[e->idx];
        return 0;
    }
    if (e->op == E_CONST) {
        *out = e->k;
        return 0;
    }
    if (e->op == E_KEY)
        return tpl_eval_key(r, e, out);
    return tpl_eval_node(r, e, out);
}
/* Assigns v to a target expression (E_LOCAL or a tuple/list of targets). */
int tpl_assign(tpl_render *r, const tpl_expr *target, const tpl_val *v);
/* Keeps a new JSON reference alive until the render ends. */
json_t *tpl_keep(tpl_render *r, json_t *j);

/* values (template_value.c) */
void tpl_from_json(json_t *j, tpl_val *out);
/* A new JSON reference for v, or NULL after raising TypeError. */
json_t *tpl_to_json(tpl_render *r, const tpl_val *v);
bool tpl_truthy(const tpl_val *v);
/* tpl_truthy with bools, ints and strings inline (conditions in loops). */
static inline bool tpl_truthy_fast(const tpl_val *v)
{
    if (v->t == TV_BOOL)
        return v->b;
    if (v->t == TV_INT)
        return v->i != 0;
    if (v->t == TV_STR)
        return v->s.n != 0;
    return tpl_truthy(v);
}
const char *tpl_type_name(const tpl_val *v);
void tpl_str(tpl_render *r, tp_buf *b, const tpl_val *v);
void tpl_repr(tpl_render *r, tp_buf *b, const tpl_val *v);
void tpl_repr_str(tp_buf *b, tp_slice s);
void tpl_format_float(tp_buf *b, double d);
void tpl_format_int(tp_buf *b, int64_t v);
bool tpl_format_fixed(tp_buf *b, double d, int prec);
/* A string value copied into the render arena. */
tpl_val tpl_str_val(tpl_render *r, const char *p, size_t n);
/* Python ==, and <, <=, >, >= (raising TypeError) and `in`. */
bool tpl_equal(const tpl_val *a, const tpl_val *b);
int tpl_compare(tpl_render *r, int op, const tpl_val *a, const tpl_val *b, bool *res);
int tpl_contains(tpl_render *r, const tpl_val *container, const tpl_val *x, bool *res);
int tpl_binop(tpl_render *r, int op, const tpl_val *a, const tpl_val *b, tpl_val *out);
int tpl_len(tpl_render *r, const tpl_val *v, int64_t *n);
int tpl_getitem(tpl_render *r, const tpl_val *c, const tpl_val *key, tpl_val *out);
int tpl_getslice(tpl_render *r, const tpl_val *c, const tpl_val *lo, const tpl_val *hi,
                 const tpl_val *step, tpl_val *out);
size_t tpl_utf8_count(const char *p, size_t n);
/* str % args (printf-style formatting). */
int tpl_str_format(tpl_render *r, tp_slice fmt, const tpl_val *args, tpl_val *out);

/* iteration (template_value.c) */
typedef struct tpl_iter {
    const tpl_val *src;
    tpl_val srcv;
    size_t i, n;
    int64_t cur;
    void *oit;
    struct tpl_iter *sub[2];
    const tpl_iterobj *io;
} tpl_iter;
int tpl_iter_init(tpl_render *r, const tpl_val *v, tpl_iter *it);
/* 1 with the next item in *out, 0 at the end, -1 on error. */
int tpl_iter_next(tpl_render *r, tpl_iter *it, tpl_val *out);

/* builtins (template_builtins.c) */
/* The builtin function named n bytes at name (defaults and Python builtins), or NULL. */
const tpl_fn *tpl_builtin_find(const char *name, size_t n);
extern const tpl_fn tpl_fn_xhtml_escape;
/* Calls obj.name(args) for the built-in methods of str, dict and list; 1 if name is not one
 * (nothing raised), 0 on success, -1 on error. */
int tpl_call_method(tpl_render *r, const tpl_val *obj, tp_slice name, const tpl_args *a,
                    tpl_val *out);
int tpl_call(tpl_render *r, const tpl_val *fn, const tpl_args *a, tpl_val *out);
/* Appends s xhtml-escaped (Tornado 6.5's & < > " '). */
void tpl_xhtml_escape_into(tp_buf *b, const char *p, size_t n);

#endif
