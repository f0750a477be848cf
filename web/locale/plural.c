/* Plural-Forms expressions as Python's gettext evaluates them. c2py does not interpret the
 * C expression: it rewrites it into Python source ("&&" -> "and", "!" -> "not ", "/" ->
 * "//", "a ? b : c" -> "b if a else c", parentheses around chained comparisons) and runs
 * that. The rewrite changes meaning ("!n == 1" is "not (n == 1)", "n || 5" is 5 for n = 0,
 * "n == !n" does not compile), so this file does the same two steps: the rewrite, copied
 * from gettext._parse, then a small parser and evaluator for the Python it produces. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "web/locale/internal.h"

#define PLURAL_MAX_LEN   1000 /* c2py: "plural form expression is too long" */
#define PLURAL_MAX_PAREN 20   /* c2py: "plural form expression is too complex" */
#define PLURAL_MAX_DEPTH 200  /* our recursion bound (Python's is its stack) */

/* ---- step 1: gettext._tokenize and gettext._parse ------------------------------------- */

typedef struct c_lexer {
    const char *p, *end;
    char tok[24]; /* "" at the end */
    const char *why;
    int depth;
} c_lexer;

static bool word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           (unsigned char)c >= 0x80;
}

/* The next token of _token_pattern; false (why set) for an INVALID one. */
static bool c_next(c_lexer *lx)
{
    while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t'))
        lx->p++;
    const char *s = lx->p, *e = s;
    if (s == lx->end) {
        lx->tok[0] = '\0';
        return true;
    }
    if (*s >= '0' && *s <= '9') {
        while (e < lx->end && *e >= '0' && *e <= '9')
            e++;
        if (e < lx->end && word_char(*e)) /* "[0-9]+\b" fails: "\w+" is INVALID */
            e = NULL;
    } else if (*s == 'n') {
        e = s + 1;
        if (e < lx->end && word_char(*e))
            e = NULL;
    } else if (strchr("()-*/%+?:", *s)) {
        e = s + 1;
    } else if (strchr("<>!=", *s) && s + 1 < lx->end && s[1] == '=') {
        e = s + 2;
    } else if (strchr("<>!", *s)) {
        e = s + 1;
    } else if ((*s == '&' || *s == '|') && s + 1 < lx->end && s[1] == *s) {
        e = s + 2;
    } else {
        e = NULL;
    }
    if (!e || (size_t)(e - s) >= sizeof(lx->tok)) {
        lx->why = "invalid token in plural form";
        return false;
    }
    memcpy(lx->tok, s, (size_t)(e - s));
    lx->tok[e - s] = '\0';
    lx->p = e;
    return true;
}

/* _binary_ops: the priority of a binary operator token, 0 if it is not one. */
static int binary_prio(const char *t)
{
    static const char *const ops[] = {
        "||", "&&", "==", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%"};
    static const int prio[] = {1, 2, 3, 3, 4, 4, 4, 4, 5, 5, 6, 6, 6};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strcmp(t, ops[i]) == 0)
            return prio[i];
    return 0;
}

static const char *py_op(const char *t)
{
    return !strcmp(t, "||") ? "or" : !strcmp(t, "&&") ? "and" : !strcmp(t, "/") ? "//" : t;
}

/* result = '(%s)' % result, for the text this call wrote from start on. */
static void wrap(tp_buf *out, size_t start)
{
    tp_buf_append(out, "(", 1);
    char *d = tp_buf_data(out);
    memmove(d + start + 1, d + start, out->len - start - 1);
    d[start] = '(';
    tp_buf_append(out, ")", 1);
}

/* Appends the primary (after any '!'s) to out; false on error. */
static bool c_primary(c_lexer *lx, tp_buf *out);

/* gettext._parse(tokens, priority): appends the Python text of one expression to out,
 * leaving the token after it in lx->tok. */
static bool c_parse(c_lexer *lx, int priority, tp_buf *out)
{
    if (++lx->depth > PLURAL_MAX_DEPTH) {
        lx->why = "plural form expression is too complex";
        return false;
    }
    size_t start = out->len;
    if (!c_primary(lx, out))
        return false;
    int j = 100, i;
    while ((i = binary_prio(lx->tok)) != 0 && i >= priority) {
        if ((i == 3 || i == 4) && (j == 3 || j == 4)) /* break chained comparisons */
            wrap(out, start);
        tp_buf_appendf(out, " %s ", py_op(lx->tok));
        if (!c_next(lx) || !c_parse(lx, i + 1, out))
            return false;
        j = i;
    }
    if (j == 4 && priority == 4)
        wrap(out, start);
    if (strcmp(lx->tok, "?") == 0 && priority <= 0) {
        /* result = "%s if %s else %s" % (if_true, result, if_false) */
        tp_buf cond = {0}, yes = {0};
        tp_buf_append(&cond, tp_buf_data(out) + start, out->len - start);
        out->len = start;
        bool ok = c_next(lx) && c_parse(lx, 0, &yes) &&
                  (strcmp(lx->tok, ":") == 0 || (lx->why = "unexpected token in plural form", 0));
        if (ok) {
            tp_buf_appendf(out, "%s%.*s if %.*s else ", priority == 0 ? "(" : "", (int)yes.len,
                           tp_buf_data(&yes), (int)cond.len, tp_buf_data(&cond));
            ok = c_next(lx) && c_parse(lx, -1, out);
            if (ok && priority == 0)
                tp_buf_append(out, ")", 1);
        }
        tp_buf_free(&cond);
        tp_buf_free(&yes);
        if (!ok)
            return false;
    }
    lx->depth--;
    return true;
}

static bool c_primary(c_lexer *lx, tp_buf *out)
{
    while (strcmp(lx->tok, "!") == 0) {
        tp_buf_append_str(out, "not ");
        if (!c_next(lx))
            return false;
    }
    if (strcmp(lx->tok, "(") == 0) {
        tp_buf_append(out, "(", 1);
        if (!c_next(lx) || !c_parse(lx, -1, out))
            return false;
        if (strcmp(lx->tok, ")") != 0) {
            lx->why = "unbalanced parenthesis in plural form";
            return false;
        }
        tp_buf_append(out, ")", 1);
    } else if (strcmp(lx->tok, "n") == 0) {
        tp_buf_append(out, "n", 1);
    } else if (lx->tok[0] >= '0' && lx->tok[0] <= '9') {
        const char *d = lx->tok;
        while (d[0] == '0' && d[1]) /* "%d" % int(tok) */
            d++;
        tp_buf_append_str(out, d);
    } else {
        lx->why = lx->tok[0] ? "unexpected token in plural form" : "unexpected end of plural form";
        return false;
    }
    return c_next(lx);
}

/* ---- step 2: the Python expression ------------------------------------------------------ */

enum {
    OP_NUM,
    OP_N,
    OP_OR,
    OP_AND,
    OP_NOT,
    OP_IF,
    OP_EQ,
    OP_NE,
    OP_LT,
    OP_GT,
    OP_LE,
    OP_GE,
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_MOD
};

typedef struct pnode {
    int op;
    int64_t v;
    int a, b, c; /* child indexes */
} pnode;

struct tp_plural {
    pnode *v;
    size_t n;
    int root;
};

typedef struct py_parser {
    const char *p, *end;
    tp_buf nodes; /* of pnode */
    int depth;
    bool bad;
} py_parser;

static int node(py_parser *ps, int op, int64_t v, int a, int b, int c)
{
    pnode nd = {op, v, a, b, c};
    tp_buf_append(&ps->nodes, &nd, sizeof(nd));
    return (int)(ps->nodes.len / sizeof(nd)) - 1;
}

/* Skips spaces; true if the next token is word (keywords end at a non-letter). */
static bool py_peek(py_parser *ps, const char *word)
{
    while (ps->p < ps->end && *ps->p == ' ')
        ps->p++;
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return false;
    bool alpha = word[0] >= 'a' && word[0] <= 'z';
    return !alpha || ps->p + n == ps->end || !word_char(ps->p[n]);
}

static bool py_take(py_parser *ps, const char *word)
{
    if (!py_peek(ps, word))
        return false;
    ps->p += strlen(word);
    return true;
}

static int py_expr(py_parser *ps);

static int py_atom(py_parser *ps)
{
    if (py_take(ps, "(")) {
        int e = py_expr(ps);
        if (!py_take(ps, ")"))
            ps->bad = true;
        return e;
    }
    if (py_take(ps, "n"))
        return node(ps, OP_N, 0, 0, 0, 0);
    int64_t v = 0;
    const char *s = ps->p;
    for (; ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9'; ps->p++)
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, *ps->p - '0', &v))
            ps->bad = true; /* beyond int64: we refuse where Python has big integers */
    if (ps->p == s)
        ps->bad = true; /* e.g. "not" after "==": a SyntaxError in Python */
    return node(ps, OP_NUM, v, 0, 0, 0);
}

/* Left-associative binary levels: term (* // %), arith (+ -). */
static int py_binary(py_parser *ps, int level)
{
    static const char *const ops[2][3] = {{"*", "//", "%"}, {"+", "-", NULL}};
    static const int codes[2][3] = {{OP_MUL, OP_DIV, OP_MOD}, {OP_ADD, OP_SUB, 0}};
    int left = level == 0 ? py_atom(ps) : py_binary(ps, level - 1);
    for (;;) {
        int k = 0;
        while (k < 3 && ops[level][k] && !py_take(ps, ops[level][k]))
            k++;
        if (k == 3 || !ops[level][k])
            return left;
        int right = level == 0 ? py_atom(ps) : py_binary(ps, level - 1);
        left = node(ps, codes[level][k], 0, left, right, 0);
    }
}

static int py_comparison(py_parser *ps)
{
    static const char *const ops[] = {"==", "!=", "<=", ">=", "<", ">"};
    static const int codes[] = {OP_EQ, OP_NE, OP_LE, OP_GE, OP_LT, OP_GT};
    int left = py_binary(ps, 1);
    for (size_t k = 0; k < 6; k++)
        if (py_take(ps, ops[k])) {
            left = node(ps, codes[k], 0, left, py_binary(ps, 1), 0);
            for (size_t m = 0; m < 6; m++) /* c2py never emits a bare chain */
                if (py_peek(ps, ops[m]))
                    ps->bad = true;
            break;
        }
    return left;
}

static int py_not(py_parser *ps)
{
    if (++ps->depth > PLURAL_MAX_DEPTH)
        ps->bad = true;
    if (ps->bad)
        return node(ps, OP_NUM, 0, 0, 0, 0);
    int r = py_take(ps, "not") ? node(ps, OP_NOT, 0, py_not(ps), 0, 0) : py_comparison(ps);
    ps->depth--;
    return r;
}

static int py_bool(py_parser *ps, bool is_or)
{
    int left = is_or ? py_bool(ps, false) : py_not(ps);
    while (py_take(ps, is_or ? "or" : "and"))
        left =
            node(ps, is_or ? OP_OR : OP_AND, 0, left, is_or ? py_bool(ps, false) : py_not(ps), 0);
    return left;
}

static int py_expr(py_parser *ps)
{
    if (++ps->depth > PLURAL_MAX_DEPTH)
        ps->bad = true;
    if (ps->bad)
        return node(ps, OP_NUM, 0, 0, 0, 0);
    int body = py_bool(ps, true);
    if (py_take(ps, "if")) {
        int cond = py_bool(ps, true);
        if (!py_take(ps, "else"))
            ps->bad = true;
        body = node(ps, OP_IF, 0, cond, body, py_expr(ps));
    }
    ps->depth--;
    return body;
}

/* c2py's guard: more than 20 nested parentheses in the Python text. */
static bool too_nested(tp_slice s)
{
    int depth = 0;
    for (size_t i = 0; i < s.n; i++)
        if (s.p[i] == '(' && ++depth > PLURAL_MAX_PAREN)
            return true;
        else if (s.p[i] == ')')
            depth--;
    return false;
}

tp_plural *tp_plural_compile(tp_arena *a, tp_slice expr, const char **why)
{
    if (expr.n > PLURAL_MAX_LEN) {
        *why = "plural form expression is too long";
        return NULL;
    }
    c_lexer lx = {.p = expr.p, .end = expr.p + expr.n};
    tp_buf py = {0};
    bool ok = c_next(&lx) && c_parse(&lx, -1, &py);
    if (ok && lx.tok[0]) {
        ok = false;
        lx.why = "unexpected token in plural form";
    }
    tp_plural *pl = NULL;
    *why = lx.why;
    if (ok && too_nested(tp_buf_slice(&py))) {
        ok = false;
        *why = "plural form expression is too complex";
    }
    if (ok) {
        py_parser ps = {.p = tp_buf_data(&py), .end = tp_buf_data(&py) + py.len};
        int root = py_expr(&ps);
        py_peek(&ps, ""); /* skips trailing spaces */
        if (ps.bad || ps.p != ps.end) {
            *why = "plural form expression does not compile";
        } else {
            pl = tp_arena_alloc(a, sizeof(*pl));
            pl->n = ps.nodes.len / sizeof(pnode);
            pl->v = tp_arena_alloc(a, ps.nodes.len);
            memcpy(pl->v, tp_buf_data(&ps.nodes), ps.nodes.len);
            pl->root = root;
        }
        tp_buf_free(&ps.nodes);
    }
    tp_buf_free(&py);
    return pl;
}

/* Python semantics: and/or return an operand, not/comparisons give 0 or 1, // and % floor. */
static int eval(const tp_plural *pl, int i, int64_t n, int64_t *out)
{
    const pnode *nd = &pl->v[i];
    int64_t x, y;
    int rc;
    switch (nd->op) {
    case OP_NUM: *out = nd->v; return 0;
    case OP_N: *out = n; return 0;
    case OP_NOT:
        if ((rc = eval(pl, nd->a, n, &x)) < 0)
            return rc;
        *out = x == 0;
        return 0;
    case OP_OR:
    case OP_AND:
        if ((rc = eval(pl, nd->a, n, &x)) < 0)
            return rc;
        if ((nd->op == OP_OR) == (x != 0)) {
            *out = x;
            return 0;
        }
        return eval(pl, nd->b, n, out);
    case OP_IF:
        if ((rc = eval(pl, nd->a, n, &x)) < 0)
            return rc;
        return eval(pl, x ? nd->b : nd->c, n, out);
    }
    if ((rc = eval(pl, nd->a, n, &x)) < 0 || (rc = eval(pl, nd->b, n, &y)) < 0)
        return rc;
    switch (nd->op) {
    case OP_EQ: *out = x == y; return 0;
    case OP_NE: *out = x != y; return 0;
    case OP_LT: *out = x < y; return 0;
    case OP_GT: *out = x > y; return 0;
    case OP_LE: *out = x <= y; return 0;
    case OP_GE: *out = x >= y; return 0;
    case OP_ADD: return __builtin_add_overflow(x, y, out) ? -ERANGE : 0;
    case OP_SUB: return __builtin_sub_overflow(x, y, out) ? -ERANGE : 0;
    case OP_MUL: return __builtin_mul_overflow(x, y, out) ? -ERANGE : 0;
    }
    if (y == 0)
        return -EDOM; /* ZeroDivisionError */
    if (x == INT64_MIN && y == -1)
        return -ERANGE;
    int64_t q = x / y, r = x % y;
    if (r != 0 && ((r < 0) != (y < 0)))
        q--, r += y;
    *out = nd->op == OP_DIV ? q : r;
    return 0;
}

int tp_plural_eval(const tp_plural *p, int64_t n, int64_t *out)
{
    return eval(p, p->root, n, out);
}
