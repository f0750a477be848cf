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
#include "web/template_internal.h"

enum tok { T_END, T_NAME, T_INT, T_FLOAT, T_STR, T_OP, T_BAD };

typedef struct lexer {
    tp_arena *a;
    const char *p, *end;
    char *err;
    size_t errn;
    bool failed;
    int t;         /* current token */
    tp_slice text; /* its source text */
    int64_t i;
    double d;
    tp_slice str; /* decoded string literal */
    int depth;    /* nesting, bounded so hostile input cannot exhaust the stack */
} lexer;

#define MAX_NESTING 100

static int fail(lexer *lx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(lexer *lx, const char *fmt, ...)
{
    if (!lx->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(lx->err, lx->errn, fmt, ap);
        va_end(ap);
        lx->failed = true;
    }
    return -1;
}

static bool is_name_start(unsigned char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

static bool is_name_char(unsigned char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

static const char *const keywords[] = {
    "and",    "or",     "not",  "in",     "is",      "if",     "else",     "for",
    "lambda", "import", "from", "def",    "class",   "return", "yield",    "while",
    "del",    "pass",   "try",  "with",   "as",      "await",  "global",   "nonlocal",
    "raise",  "break",  "elif", "except", "finally", "assert", "continue", NULL,
};

static bool is_keyword(tp_slice s)
{
    for (size_t i = 0; keywords[i]; i++)
        if (tp_slice_eq(s, tp_slice_cstr(keywords[i])))
            return true;
    return false;
}

static void put_utf8(tp_buf *b, uint32_t c)
{
    char w[4];
    size_t n;
    if (c < 0x80)
        w[0] = (char)c, n = 1;
    else if (c < 0x800)
        w[0] = (char)(0xc0 | c >> 6), w[1] = (char)(0x80 | (c & 0x3f)), n = 2;
    else if (c < 0x10000)
        w[0] = (char)(0xe0 | c >> 12), w[1] = (char)(0x80 | (c >> 6 & 0x3f)),
        w[2] = (char)(0x80 | (c & 0x3f)), n = 3;
    else
        w[0] = (char)(0xf0 | c >> 18), w[1] = (char)(0x80 | (c >> 12 & 0x3f)),
        w[2] = (char)(0x80 | (c >> 6 & 0x3f)), w[3] = (char)(0x80 | (c & 0x3f)), n = 4;
    tp_buf_append(b, w, n);
}

static int hexval(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* One backslash escape of a non-raw string at *pp (after the backslash). */
static int lex_escape(lexer *lx, const char **pp, tp_buf *b)
{
    const char *p = *pp;
    char c = *p++;
    static const char simple_in[] = "\\'\"abfnrtv\n", simple_out[] = "\\'\"\a\b\f\n\r\t\v";
    const char *k = strchr(simple_in, c);
    if (c && k) {
        if (c != '\n')
            tp_buf_append(b, &simple_out[k - simple_in], 1);
    } else if (c >= '0' && c <= '7') {
        uint32_t v = (uint32_t)(c - '0');
        for (int i = 0; i < 2 && p < lx->end && *p >= '0' && *p <= '7'; i++)
            v = v * 8 + (uint32_t)(*p++ - '0');
        put_utf8(b, v);
    } else if (c == 'x' || c == 'u' || c == 'U') {
        int digits = c == 'x' ? 2 : c == 'u' ? 4 : 8;
        uint32_t v = 0;
        for (int i = 0; i < digits; i++) {
            int h = p < lx->end ? hexval(*p) : -1;
            if (h < 0)
                return fail(lx, "truncated \\%cXX escape", c);
            v = v * 16 + (uint32_t)h, p++;
        }
        if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
            return fail(lx, "illegal Unicode character in string literal");
        put_utf8(b, v);
    } else {
        tp_buf_append(b, p - 2, 2); /* unknown escapes keep the backslash */
    }
    *pp = p;
    return 0;
}

static int lex_string(lexer *lx, const char *p, bool raw)
{
    char q = *p;
    bool triple = lx->end - p >= 3 && p[1] == q && p[2] == q;
    p += triple ? 3 : 1;
    tp_buf b = {0};
    for (;;) {
        if (p >= lx->end) {
            tp_buf_free(&b);
            return fail(lx, "unterminated string literal");
        }
        if (*p == q && (!triple || (lx->end - p >= 3 && p[1] == q && p[2] == q))) {
            p += triple ? 3 : 1;
            break;
        }
        if (*p == '\n' && !triple) {
            tp_buf_free(&b);
            return fail(lx, "unterminated string literal");
        }
        if (*p == '\\' && p + 1 < lx->end) {
            if (raw) {
                tp_buf_append(&b, p, 2), p += 2;
            } else {
                p++;
                if (lex_escape(lx, &p, &b) < 0) {
                    tp_buf_free(&b);
                    return -1;
                }
            }
            continue;
        }
        tp_buf_append(&b, p++, 1);
    }
    lx->str = tp_arena_slice_dup(lx->a, tpl_buf_slice(&b));
    tp_buf_free(&b);
    lx->t = T_STR;
    lx->p = p;
    return 0;
}

static int lex_number(lexer *lx, const char *p)
{
    char tmp[128];
    size_t k = 0;
    bool is_float = false;
    int base = 10;
    if (p[0] == '0' && p + 1 < lx->end && strchr("xXoObB", p[1])) {
        base = p[1] == 'x' || p[1] == 'X' ? 16 : p[1] == 'o' || p[1] == 'O' ? 8 : 2;
        p += 2;
    }
    for (; p < lx->end && k < sizeof tmp - 1; p++) {
        char c = *p;
        if (c == '_')
            continue;
        if (base == 16 ? hexval(c) >= 0 : (c >= '0' && c <= '9')) {
            tmp[k++] = c;
        } else if (base == 10 && (c == '.' || c == 'e' || c == 'E')) {
            is_float = true;
            tmp[k++] = c;
            if ((c == 'e' || c == 'E') && p + 1 < lx->end && (p[1] == '+' || p[1] == '-'))
                tmp[k++] = *++p;
        } else {
            break;
        }
    }
    tmp[k] = '\0';
    if (p < lx->end && is_name_char((unsigned char)*p))
        return fail(lx, "invalid decimal literal");
    errno = 0;
    char *e;
    if (is_float) {
        lx->d = strtod(tmp, &e);
        lx->t = T_FLOAT;
    } else {
        unsigned long long v = strtoull(tmp, &e, base);
        if (errno || v > INT64_MAX)
            return fail(lx, "integer literal too large (ints are 64-bit)");
        lx->i = (int64_t)v;
        lx->t = T_INT;
    }
    if (*e || k == 0)
        return fail(lx, "invalid number literal");
    lx->p = p;
    return 0;
}

static const char *const ops3[] = {"**=", "//=", NULL};
static const char *const ops2[] = {
    "**", "//", "==", "!=", "<=", ">=", "+=", "-=", "*=", "/=", "%=", NULL};

static bool lex_op(lexer *lx, const char *p, const char *const *ops, size_t n)
{
    for (size_t i = 0; ops[i]; i++) {
        if ((size_t)(lx->end - p) >= n && memcmp(p, ops[i], n) == 0) {
            lx->t = T_OP;
            lx->text = tp_slice_make(p, n);
            lx->p = p + n;
            return true;
        }
    }
    return false;
}

/* Advances to the next token. */
static int next(lexer *lx)
{
    const char *p = lx->p;
    while (p < lx->end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' ||
                           (*p == '\\' && p + 1 < lx->end && p[1] == '\n')))
        p += *p == '\\' ? 2 : 1;
    lx->text = tp_slice_make(p, 0);
    if (lx->failed)
        return lx->t = T_BAD, -1;
    if (p >= lx->end) {
        lx->t = T_END, lx->p = p;
        return 0;
    }
    unsigned char c = (unsigned char)*p;
    const char *start = p;
    int rc = 0;
    if (c >= '0' && c <= '9') {
        rc = lex_number(lx, p);
    } else if (c == '.' && p + 1 < lx->end && p[1] >= '0' && p[1] <= '9') {
        rc = lex_number(lx, p);
    } else if (c == '"' || c == '\'') {
        rc = lex_string(lx, p, false);
    } else if (is_name_start(c)) {
        const char *q = p;
        while (q < lx->end && is_name_char((unsigned char)*q))
            q++;
        size_t n = (size_t)(q - p);
        bool prefix =
            n <= 2 && q < lx->end && (*q == '"' || *q == '\'') && strspn(p, "rRbBuU") >= n;
        if (prefix)
            return lex_string(lx, q, memchr(p, 'r', n) || memchr(p, 'R', n));
        if (n <= 2 && q < lx->end && (*q == '"' || *q == '\'') && memchr("fF", *p, 2))
            return fail(lx, "f-strings are not supported");
        lx->t = T_NAME, lx->p = q;
    } else if (lex_op(lx, p, ops3, 3) || lex_op(lx, p, ops2, 2)) {
        return 0;
    } else if (strchr("+-*/%<>()[]{},:.=", c)) {
        lx->t = T_OP, lx->p = p + 1;
    } else {
        return fail(lx, "invalid character '%c' in expression", c);
    }
    if (rc < 0)
        return lx->t = T_BAD, -1;
    lx->text = tp_slice_make(start, (size_t)(lx->p - start));
    return 0;
}

static bool is_op(const lexer *lx, const char *op)
{
    return lx->t == T_OP && tp_slice_eq(lx->text, tp_slice_cstr(op));
}

static bool is_kw(const lexer *lx, const char *kw)
{
    return lx->t == T_NAME && tp_slice_eq(lx->text, tp_slice_cstr(kw));
}

static int expect(lexer *lx, const char *op)
{
    if (!is_op(lx, op))
        return fail(lx, "expected '%s' at '%.*s'", op, TP_SLICE_FMT(lx->text));
    return next(lx);
}

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
        return fail(lx, "too many items in expression");
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
    if (next(lx) < 0)
        return NULL;
    tpl_expr *target = parse_target_list(lx);
    if (!target)
        return NULL;
    if (!is_kw(lx, "in"))
        return fail(lx, "expected 'in' in comprehension"), NULL;
    if (next(lx) < 0)
        return NULL;
    kids k = {.n = 0};
    kids_push(lx, &k, elt);
    kids_push(lx, &k, target);
    tpl_expr *it = parse_or(lx);
    if (!it || kids_push(lx, &k, it) < 0)
        return NULL;
    while (is_kw(lx, "if")) {
        if (next(lx) < 0)
            return NULL;
        tpl_expr *c = parse_or(lx);
        if (!c || kids_push(lx, &k, c) < 0)
            return NULL;
    }
    if (is_kw(lx, "for"))
        return fail(lx, "nested comprehensions are not supported"), NULL;
    if (expect(lx, close) < 0)
        return NULL;
    return mk_from(lx, E_COMP, &k);
}

/* Items up to close: a list, a tuple (parens) or a comprehension. */
static tpl_expr *parse_seq(lexer *lx, const char *close, int op)
{
    kids k = {.n = 0};
    bool comma = false;
    while (!is_op(lx, close)) {
        tpl_expr *e = parse_test(lx);
        if (!e)
            return NULL;
        if (k.n == 0 && is_kw(lx, "for"))
            return parse_comp(lx, e, close);
        if (kids_push(lx, &k, e) < 0)
            return NULL;
        if (!is_op(lx, ","))
            break;
        comma = true;
        if (next(lx) < 0)
            return NULL;
    }
    if (expect(lx, close) < 0)
        return NULL;
    if (op == E_TUPLE && k.n == 1 && !comma)
        return kids_get(&k, 0); /* (x) is x */
    return mk_from(lx, op, &k);
}

static tpl_expr *parse_dict(lexer *lx)
{
    kids k = {.n = 0};
    while (!is_op(lx, "}")) {
        tpl_expr *key = parse_test(lx);
        if (!key || expect(lx, ":") < 0)
            return fail(lx, "dict literal expected ':' (set literals are not supported)"), NULL;
        tpl_expr *v = parse_test(lx);
        if (!v || kids_push(lx, &k, key) < 0 || kids_push(lx, &k, v) < 0)
            return NULL;
        if (!is_op(lx, ","))
            break;
        if (next(lx) < 0)
            return NULL;
    }
    if (expect(lx, "}") < 0)
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
        if (next(lx) < 0) {
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
    else if (is_keyword(s))
        return fail(lx, "invalid syntax at '%.*s'", TP_SLICE_FMT(s)), NULL;
    else {
        tpl_expr *e = mk(lx, E_NAME, 0);
        e->k.t = TV_STR;
        e->k.s = tp_arena_slice_dup(lx->a, s);
        return next(lx) < 0 ? NULL : e;
    }
    return next(lx) < 0 ? NULL : mk_const(lx, v);
}

static tpl_expr *parse_atom(lexer *lx)
{
    tpl_val v;
    switch (lx->t) {
    case T_NAME: return parse_name_atom(lx);
    case T_STR: return parse_string_atom(lx);
    case T_INT: v = TPL_INT(lx->i); return next(lx) < 0 ? NULL : mk_const(lx, v);
    case T_FLOAT:
        v = (tpl_val){.t = TV_FLOAT, .d = lx->d};
        return next(lx) < 0 ? NULL : mk_const(lx, v);
    case T_OP:
        if (is_op(lx, "("))
            return next(lx) < 0 ? NULL : parse_seq(lx, ")", E_TUPLE);
        if (is_op(lx, "["))
            return next(lx) < 0 ? NULL : parse_seq(lx, "]", E_LIST);
        if (is_op(lx, "{"))
            return next(lx) < 0 ? NULL : parse_dict(lx);
        break;
    case T_END: return fail(lx, "unexpected end of expression"), NULL;
    }
    return fail(lx, "invalid syntax at '%.*s'", TP_SLICE_FMT(lx->text)), NULL;
}

/* Call arguments after '(': positional, then name=value. */
static tpl_expr *parse_call(lexer *lx, tpl_expr *fn)
{
    kids pos = {.n = 0}, kw = {.n = 0};
    tp_slice names[64];
    if (kids_push(lx, &pos, fn) < 0)
        return NULL;
    while (!is_op(lx, ")")) {
        lexer save = *lx;
        if (lx->t == T_NAME && next(lx) == 0 && is_op(lx, "=")) {
            if (kw.n >= 64)
                return fail(lx, "too many keyword arguments"), NULL;
            names[kw.n] = tp_arena_slice_dup(lx->a, save.text);
            if (next(lx) < 0)
                return NULL;
            tpl_expr *v = parse_test(lx);
            if (!v || kids_push(lx, &kw, v) < 0)
                return NULL;
        } else {
            *lx = save;
            if (is_op(lx, "*") || is_op(lx, "**"))
                return fail(lx, "*args and **kwargs are not supported"), NULL;
            if (kw.n)
                return fail(lx, "positional argument follows keyword argument"), NULL;
            tpl_expr *v = parse_test(lx);
            if (v && pos.n == 1 && is_kw(lx, "for"))
                v = parse_comp(lx, v, ")");
            if (!v || kids_push(lx, &pos, v) < 0)
                return NULL;
            if (v->op == E_COMP)
                goto done;
        }
        if (!is_op(lx, ","))
            break;
        if (next(lx) < 0)
            return NULL;
    }
    if (expect(lx, ")") < 0)
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
    if (!is_op(lx, ":") && !(part[0] = parse_test(lx)))
        return NULL;
    if (!is_op(lx, ":")) {
        if (expect(lx, "]") < 0)
            return NULL;
        tpl_expr *e = mk(lx, E_INDEX, 2);
        e->kid[0] = obj, e->kid[1] = part[0];
        return e;
    }
    for (int i = 1; i < 3 && is_op(lx, ":"); i++) {
        if (next(lx) < 0)
            return NULL;
        if (!is_op(lx, ":") && !is_op(lx, "]") && !(part[i] = parse_test(lx)))
            return NULL;
    }
    if (expect(lx, "]") < 0)
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
        if (is_op(lx, "(")) {
            e = next(lx) < 0 ? NULL : parse_call(lx, e);
        } else if (is_op(lx, "[")) {
            e = next(lx) < 0 ? NULL : parse_subscript(lx, e);
        } else if (is_op(lx, ".")) {
            if (next(lx) < 0 || lx->t != T_NAME || is_keyword(lx->text))
                return fail(lx, "expected a name after '.'"), NULL;
            tpl_expr *a = mk(lx, E_ATTR, 1);
            a->kid[0] = e;
            a->k.t = TV_STR;
            a->k.s = tp_arena_slice_dup(lx->a, lx->text);
            e = next(lx) < 0 ? NULL : a;
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
    if (e && is_op(lx, "**"))
        return next(lx) < 0 ? NULL : mk_bin(lx, E_BIN, B_POW, e, parse_factor(lx));
    return e;
}

static tpl_expr *parse_factor1(lexer *lx);

static tpl_expr *parse_factor(lexer *lx)
{
    if (++lx->depth > MAX_NESTING)
        return fail(lx, "expression nested too deeply"), NULL;
    tpl_expr *e = parse_factor1(lx);
    lx->depth--;
    return e;
}

static tpl_expr *parse_factor1(lexer *lx)
{
    if (is_op(lx, "-") || is_op(lx, "+")) {
        int op = is_op(lx, "-") ? E_NEG : E_POS;
        if (next(lx) < 0)
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
        if (is_op(lx, ops[i])) {
            e = next(lx) < 0 ? NULL : mk_bin(lx, E_BIN, subs[i], e, parse_factor(lx));
            i = (size_t)-1;
        }
    }
    return e;
}

static tpl_expr *parse_arith(lexer *lx)
{
    tpl_expr *e = parse_term(lx);
    while (e && (is_op(lx, "+") || is_op(lx, "-"))) {
        int sub = is_op(lx, "+") ? B_ADD : B_SUB;
        e = next(lx) < 0 ? NULL : mk_bin(lx, E_BIN, sub, e, parse_term(lx));
    }
    return e;
}

/* The comparison operator at the current token (consumed), or -1. */
static int cmp_op(lexer *lx)
{
    static const char *const ops[] = {"<", "<=", ">", ">=", "==", "!="};
    for (int i = 0; i < 6; i++)
        if (is_op(lx, ops[i]))
            return next(lx) < 0 ? -2 : i;
    if (is_kw(lx, "in"))
        return next(lx) < 0 ? -2 : C_IN;
    if (is_kw(lx, "not")) {
        lexer save = *lx;
        if (next(lx) < 0 || !is_kw(lx, "in")) {
            *lx = save;
            return -1;
        }
        return next(lx) < 0 ? -2 : C_NOTIN;
    }
    if (is_kw(lx, "is")) {
        if (next(lx) < 0)
            return -2;
        if (is_kw(lx, "not"))
            return next(lx) < 0 ? -2 : C_ISNOT;
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
            return fail(lx, "comparison chain too long"), NULL;
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
    if (is_kw(lx, "not")) {
        if (lx->depth + 1 > MAX_NESTING)
            return fail(lx, "expression nested too deeply"), NULL;
        if (next(lx) < 0)
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
    while (e && is_kw(lx, "and"))
        e = next(lx) < 0 ? NULL : mk_bin(lx, E_AND, 0, e, parse_not(lx));
    return e;
}

static tpl_expr *parse_or(lexer *lx)
{
    tpl_expr *e = parse_and(lx);
    while (e && is_kw(lx, "or"))
        e = next(lx) < 0 ? NULL : mk_bin(lx, E_OR, 0, e, parse_and(lx));
    return e;
}

static tpl_expr *parse_test(lexer *lx)
{
    if (is_kw(lx, "lambda"))
        return fail(lx, "lambda is not supported"), NULL;
    tpl_expr *body = parse_or(lx);
    if (!body || !is_kw(lx, "if"))
        return body;
    if (next(lx) < 0)
        return NULL;
    tpl_expr *cond = parse_or(lx);
    if (!cond)
        return NULL;
    if (!is_kw(lx, "else"))
        return fail(lx, "expected 'else' in conditional expression"), NULL;
    if (next(lx) < 0)
        return NULL;
    if (++lx->depth > MAX_NESTING)
        return fail(lx, "expression nested too deeply"), NULL;
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
    if (!e || !is_op(lx, ","))
        return e;
    kids k = {.n = 0};
    kids_push(lx, &k, e);
    while (is_op(lx, ",")) {
        if (next(lx) < 0)
            return NULL;
        if (lx->t == T_END || is_op(lx, "=") || is_kw(lx, "in"))
            break;
        if (!(e = parse_test(lx)) || kids_push(lx, &k, e) < 0)
            return NULL;
    }
    return mk_from(lx, E_TUPLE, &k);
}

static tpl_expr *parse_target(lexer *lx)
{
    if (is_op(lx, "(") || is_op(lx, "[")) {
        const char *close = is_op(lx, "(") ? ")" : "]";
        if (next(lx) < 0 || ++lx->depth > MAX_NESTING)
            return fail(lx, "target nested too deeply"), NULL;
        tpl_expr *e = parse_target_list(lx);
        lx->depth--;
        if (!e || expect(lx, close) < 0)
            return NULL;
        return e;
    }
    if (lx->t != T_NAME || is_keyword(lx->text) || tp_slice_eq(lx->text, TP_SLICE_LIT("None")) ||
        tp_slice_eq(lx->text, TP_SLICE_LIT("True")) || tp_slice_eq(lx->text, TP_SLICE_LIT("False")))
        return fail(lx, "cannot assign to '%.*s' (only names and tuples of names)",
                    TP_SLICE_FMT(lx->text)),
               NULL;
    return parse_name_atom(lx);
}

static tpl_expr *parse_target_list(lexer *lx)
{
    tpl_expr *e = parse_target(lx);
    if (!e || !is_op(lx, ","))
        return e;
    kids k = {.n = 0};
    kids_push(lx, &k, e);
    while (is_op(lx, ",")) {
        if (next(lx) < 0)
            return NULL;
        if (is_kw(lx, "in") || is_op(lx, "=") || is_op(lx, ")") || is_op(lx, "]"))
            break;
        if (!(e = parse_target(lx)) || kids_push(lx, &k, e) < 0)
            return NULL;
    }
    return mk_from(lx, E_TUPLE, &k);
}

static void lex_init(lexer *lx, tp_arena *a, tp_slice src, char *err, size_t errn)
{
    *lx = (lexer){.a = a, .p = src.p, .end = src.p + src.n, .err = err, .errn = errn};
    next(lx);
}

static int finish(lexer *lx, const void *result)
{
    if (!result || lx->failed)
        return fail(lx, "invalid syntax");
    if (lx->t != T_END)
        return fail(lx, "invalid syntax at '%.*s'", TP_SLICE_FMT(lx->text));
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
    if (*target && !is_kw(&lx, "in"))
        return fail(&lx, "expected 'in' in for statement");
    if (*target && next(&lx) == 0)
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
        if (is_op(&lx, augs[i]))
            *aug = augop[i];
    if (*aug < 0 && !is_op(&lx, "="))
        return fail(&lx, "expected '=' in set statement (only name targets are supported)");
    if (*aug >= 0 && (*target)->op != E_NAME)
        return fail(&lx, "illegal expression for augmented assignment");
    if (next(&lx) == 0)
        *value = parse_exprlist(&lx);
    if (*value && is_op(&lx, "="))
        return fail(&lx, "chained assignment is not supported");
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
    if (*types && is_kw(&lx, "as")) {
        if (next(&lx) < 0 || lx.t != T_NAME || is_keyword(lx.text))
            return fail(&lx, "expected a name after 'as'");
        *as = parse_name_atom(&lx);
        return finish(&lx, *as);
    }
    return finish(&lx, *types);
}
