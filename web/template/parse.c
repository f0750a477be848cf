/* The template markup: a port of tornado/template.py's _TemplateReader and _parse, with the
 * same ParseError texts and line numbers, plus filter_whitespace. The result is a tree of
 * tpl_node per file; control blocks are split into clauses here, where Tornado leaves the
 * checks of else/elif/except order to Python's compiler. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/utf8.h"
#include "core/escape.h"
#include "web/template/internal.h"

/* ---- whitespace ------------------------------------------------------------------------- */

/* Length of the character at p if Python's \s (str.isspace) matches it, else 0. */
static size_t py_space_len(const char *p, const char *end)
{
    uint32_t cp;
    size_t k = tp_utf8_decode((const unsigned char *)p, (size_t)(end - p), &cp);
    return k && tp_py_isspace(cp) ? k : 0;
}

bool tpl_whitespace_mode_valid(const char *mode)
{
    return !strcmp(mode, "all") || !strcmp(mode, "single") || !strcmp(mode, "oneline");
}

/* One pass: every maximal run of whitespace (as `space` decides: tabs/spaces only, or \s)
 * becomes `with` if it holds a newline or need_nl is false; other runs are kept. */
static void ws_pass(tp_buf *out, tp_slice s, bool tabs_only, bool need_nl, char with)
{
    const char *p = s.p, *end = s.p + s.n;
    while (p < end) {
        size_t k = tabs_only ? (*p == ' ' || *p == '\t') : py_space_len(p, end);
        if (!k) {
            tp_buf_append(out, p++, 1);
            continue;
        }
        const char *run = p;
        bool nl = false;
        while (p < end && k) {
            nl |= *p == '\n';
            p += k;
            k = p < end ? (tabs_only ? (*p == ' ' || *p == '\t') : py_space_len(p, end)) : 0;
        }
        if (!need_nl || nl)
            tp_buf_append(out, &with, 1);
        else
            tp_buf_append(out, run, (size_t)(p - run));
    }
}

tp_slice tpl_filter_whitespace(tp_arena *a, const char *mode, tp_slice text)
{
    if (!strcmp(mode, "all"))
        return text;
    tp_buf b1 = {0}, b2 = {0};
    if (!strcmp(mode, "single")) {
        ws_pass(&b1, text, true, false, ' ');
        ws_pass(&b2, tpl_buf_slice(&b1), false, true, '\n');
    } else {
        ws_pass(&b2, text, false, false, ' ');
    }
    tp_slice r = tp_arena_slice_dup(a, tpl_buf_slice(&b2));
    tp_buf_free(&b1);
    tp_buf_free(&b2);
    return r;
}

/* ---- the reader ----------------------------------------------------------------------- */

typedef struct reader {
    tpl_file *f;
    const char *text;
    size_t len, pos;
    int line;
    const char *whitespace;
    char *autoescape; /* the last {% autoescape %} (NULL: None) */
    bool autoescape_set;
    int autoescape_line;
    tp_template_error *err;
    /* The first syntax error of an expression. Python's compiler sees the code only after
     * the whole file parsed, so Tornado reports any ParseError first: so do we. */
    bool have_syntax;
    tp_template_error syntax;
} reader;

typedef struct nodevec {
    tpl_node **v;
    size_t n, cap;
} nodevec;

static int perr(reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(reader *r, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tp_template_error *e = r->err;
    if (e) {
        snprintf(e->message, sizeof e->message, "%s at %s:%d", msg, r->f->name, r->line);
        snprintf(e->filename, sizeof e->filename, "%s", r->f->name);
        e->lineno = r->line;
        e->parse = true;
    }
    return -1;
}

/* Index of needle relative to pos (like _TemplateReader.find), or -1. */
static long rfind(const reader *r, const char *needle, size_t start)
{
    size_t nl = strlen(needle);
    for (size_t i = r->pos + start; i + nl <= r->len; i++)
        if (r->text[i] == needle[0] && memcmp(r->text + i, needle, nl) == 0)
            return (long)(i - r->pos);
    return -1;
}

static tp_slice consume(reader *r, size_t n)
{
    tp_slice s = tp_slice_make(r->text + r->pos, n);
    for (size_t i = 0; i < n; i++)
        r->line += s.p[i] == '\n';
    r->pos += n;
    return s;
}

static size_t remaining(const reader *r)
{
    return r->len - r->pos;
}

static void push(reader *r, nodevec *nv, tpl_node *n)
{
    if (nv->n == nv->cap) {
        nv->cap = nv->cap ? nv->cap * 2 : 8;
        tpl_node **v = tp_arena_alloc(&r->f->arena, nv->cap * sizeof *v);
        if (nv->n)
            memcpy(v, nv->v, nv->n * sizeof *v);
        nv->v = v;
    }
    nv->v[nv->n++] = n;
}

static tpl_node *node(reader *r, int kind, int line)
{
    tpl_node *n = tp_arena_calloc(&r->f->arena, sizeof *n);
    n->kind = (uint8_t)kind;
    n->line = line;
    n->file = r->f;
    return n;
}

static void add_text(reader *r, nodevec *nv, tp_slice s)
{
    if (!memmem(s.p, s.n, "<pre>", 5))
        s = tpl_filter_whitespace(&r->f->arena, r->whitespace, s);
    if (!s.n)
        return;
    tpl_node *n = node(r, N_TEXT, r->line);
    n->text = tp_arena_slice_dup(&r->f->arena, s);
    push(r, nv, n);
}

/* Records a syntax error at line (the first one wins); parsing goes on. */
static int syntax_msg(reader *r, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int syntax_msg(reader *r, int line, const char *fmt, ...)
{
    if (r->have_syntax)
        return 0;
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->have_syntax = true;
    tp_template_error *saved = r->err;
    int saved_line = r->line;
    r->err = &r->syntax;
    r->line = line;
    perr(r, "%s", msg);
    r->err = saved;
    r->line = saved_line;
    return 0;
}

static int syntax_at(reader *r, int line, const char *msg, tp_slice src)
{
    return syntax_msg(r, line, "%s in '%.*s'", msg, TP_SLICE_FMT(src));
}

/* Parses an expression for a node at line (a None constant after a syntax error). */
static int expr_at(reader *r, int line, tp_slice src, tpl_expr **out)
{
    char msg[300];
    if (tpl_parse_expr(&r->f->arena, src, out, msg, sizeof msg) == 0)
        return 0;
    *out = tp_arena_calloc(&r->f->arena, sizeof **out);
    (*out)->op = E_CONST;
    (*out)->k.t = TV_NONE;
    return syntax_at(r, line, msg, src);
}

/* ---- blocks --------------------------------------------------------------------------- */

static int parse_body(reader *r, const char *in_block, const char *in_loop, nodevec *out);

static const char *clause_word(int kind)
{
    static const char *const w[] = {"body", "elif", "else", "except", "finally"};
    return w[kind];
}

/* Python's rules for the clauses of if/for/while/try (its compiler checks them in
 * Tornado). */
static int check_order(reader *r, const char *op, const tpl_clause *cl, size_t n)
{
    bool is_if = !strcmp(op, "if"), is_try = !strcmp(op, "try");
    int last = CL_BODY, nexc = 0;
    bool bare = false;
    for (size_t i = 1; i < n; i++) {
        int k = cl[i].kind;
        bool ok = is_if    ? (k == CL_ELIF && last != CL_ELSE) || (k == CL_ELSE && last != CL_ELSE)
                  : is_try ? (k == CL_EXCEPT && (last == CL_BODY || last == CL_EXCEPT) && !bare) ||
                                 (k == CL_ELSE && last == CL_EXCEPT) ||
                                 (k == CL_FINALLY && last != CL_FINALLY)
                           : k == CL_ELSE && last == CL_BODY;
        if (!ok) {
            if (is_try && bare && k == CL_EXCEPT)
                return syntax_msg(r, cl[i].line, "invalid syntax: default 'except:' must be last");
            return syntax_msg(r, cl[i].line, "invalid syntax: '%s' after '%s' in %s block",
                              clause_word(k), clause_word(last), op);
        }
        nexc += k == CL_EXCEPT;
        bare |= k == CL_EXCEPT && !cl[i].e;
        last = k;
    }
    if (is_try && !nexc && last != CL_FINALLY)
        return syntax_msg(r, cl[0].line, "invalid syntax: expected 'except' or 'finally' block");
    return 0;
}

/* Splits a parsed body at its else/elif/except/finally markers into clauses. */
static int make_clauses(reader *r, tpl_node *blk, const char *op, nodevec *body)
{
    size_t n = 1;
    for (size_t i = 0; i < body->n; i++)
        n += body->v[i]->kind == N_INTER;
    tpl_clause *cl = tp_arena_calloc(&r->f->arena, n * sizeof *cl);
    cl[0].kind = CL_BODY;
    cl[0].line = blk->line;
    cl[0].e = blk->e;
    size_t c = 0, start = 0;
    for (size_t i = 0; i <= body->n; i++) {
        if (i < body->n && body->v[i]->kind != N_INTER)
            continue;
        cl[c].body.v = body->v ? body->v + start : NULL;
        cl[c].body.n = i - start;
        if (i == body->n)
            break;
        tpl_node *m = body->v[i];
        c++;
        cl[c].kind = m->flag;
        cl[c].line = m->line;
        cl[c].e = m->e;
        cl[c].as = m->target;
        start = i + 1;
    }
    blk->cl = cl;
    blk->ncl = n;
    return check_order(r, op, cl, n);
}

/* {% else %}, {% elif %}, {% except %}, {% finally %}. */
static int parse_intermediate(reader *r, nodevec *nv, const char *in_block, tp_slice op,
                              tp_slice suffix, int line)
{
    static const char *const names[] = {"else", "elif", "except", "finally"};
    static const int kinds[] = {CL_ELSE, CL_ELIF, CL_EXCEPT, CL_FINALLY};
    static const char *const parents[] = {"{'if', 'for', 'while', 'try'}", "{'if'}", "{'try'}",
                                          "{'try'}"};
    size_t i = 0;
    while (!tp_slice_eq(op, tp_slice_cstr(names[i])))
        i++;
    if (!in_block)
        return perr(r, "%s outside %s block", names[i], parents[i]);
    if (!strstr(parents[i], in_block) ||
        (i == 0 && strcmp(in_block, "if") && strcmp(in_block, "for") && strcmp(in_block, "while") &&
         strcmp(in_block, "try")))
        return perr(r, "%s block cannot be attached to %s block", names[i], in_block);
    tpl_node *m = node(r, N_INTER, line);
    m->flag = (uint8_t)kinds[i];
    char msg[300];
    if (kinds[i] == CL_ELIF) {
        if (expr_at(r, line, suffix, &m->e) < 0)
            return -1;
    } else if (kinds[i] == CL_EXCEPT) {
        if (tpl_parse_except(&r->f->arena, suffix, &m->e, &m->target, msg, sizeof msg) < 0)
            syntax_at(r, line, msg, suffix);
    } else if (suffix.n) {
        syntax_at(r, line, "invalid syntax", suffix);
    }
    push(r, nv, m);
    return 0;
}

/* extends/include file names: suffix.strip('"').strip("'"). */
static tp_slice strip_quotes(tp_slice s)
{
    while (s.n && s.p[0] == '"')
        s.p++, s.n--;
    while (s.n && s.p[s.n - 1] == '"')
        s.n--;
    while (s.n && s.p[0] == '\'')
        s.p++, s.n--;
    while (s.n && s.p[s.n - 1] == '\'')
        s.n--;
    return s;
}

static bool op_is(tp_slice op, const char *w)
{
    return tp_slice_eq(op, tp_slice_cstr(w));
}

static int parse_set(reader *r, nodevec *nv, tp_slice suffix, int line)
{
    char msg[300];
    tpl_node *n = node(r, N_SET, line);
    int aug;
    if (tpl_parse_set(&r->f->arena, suffix, &n->target, &aug, &n->e, msg, sizeof msg) < 0)
        return syntax_at(r, line, msg, suffix);
    n->flag = (uint8_t)(aug + 1);
    push(r, nv, n);
    return 0;
}

/* The directives without {% end %}. 1 if op is not one of them. */
static int parse_statement(reader *r, nodevec *nv, tp_slice op, tp_slice suffix, int line)
{
    tpl_node *n;
    if (op_is(op, "comment"))
        return 0;
    if (op_is(op, "extends") || op_is(op, "include")) {
        tp_slice name = strip_quotes(suffix);
        if (!name.n)
            return perr(r, "%.*s missing file path", TP_SLICE_FMT(op));
        n = node(r, op_is(op, "extends") ? N_EXTENDS : N_INCLUDE, line);
        n->text = tp_arena_slice_dup(&r->f->arena, name);
    } else if (op_is(op, "import") || op_is(op, "from")) {
        if (!suffix.n)
            return perr(r, "import missing statement");
        n = node(r, N_IMPORT, line);
        n->text = tp_arena_slice_dup(&r->f->arena, tp_slice_make(op.p, suffix.p + suffix.n - op.p));
    } else if (op_is(op, "set")) {
        if (!suffix.n)
            return perr(r, "set missing statement");
        return parse_set(r, nv, suffix, line);
    } else if (op_is(op, "autoescape")) {
        tp_free(r->autoescape);
        r->autoescape = op_is(suffix, "None") ? NULL : tp_strndup(suffix.p, suffix.n);
        r->autoescape_set = true;
        r->autoescape_line = line;
        return 0;
    } else if (op_is(op, "whitespace")) {
        char *mode = tp_arena_strndup(&r->f->arena, suffix.p, suffix.n);
        if (!tpl_whitespace_mode_valid(mode))
            return perr(r, "invalid whitespace mode %s", mode);
        r->whitespace = mode;
        return 0;
    } else if (op_is(op, "raw") || op_is(op, "module")) {
        n = node(r, N_EXPR, line);
        n->flag = 1;
        tp_slice src = suffix;
        if (op_is(op, "module"))
            src = tp_slice_cstr(
                tp_arena_printf(&r->f->arena, "_tt_modules.%.*s", TP_SLICE_FMT(suffix)));
        if (expr_at(r, line, src, &n->e) < 0)
            return -1;
    } else {
        return 1;
    }
    push(r, nv, n);
    return 0;
}

/* The head of a control block, parsed before its body (its syntax errors come first in
 * Python too, as the compile sees the statement before the body). */
static int parse_head(reader *r, tpl_node *b, tp_slice op, tp_slice suffix, int line)
{
    char msg[300];
    if (op_is(op, "if") || op_is(op, "while"))
        return expr_at(r, line, suffix, &b->e);
    if (op_is(op, "for")) {
        if (tpl_parse_for(&r->f->arena, suffix, &b->target, &b->e, msg, sizeof msg) < 0)
            return syntax_at(r, line, msg, suffix);
        return 0;
    }
    if (op_is(op, "try") && suffix.n)
        return syntax_at(r, line, "invalid syntax", suffix);
    return 0;
}

/* apply, block, try, if, for, while: the body up to {% end %}. 1 if op is none of them. */
static int parse_control(reader *r, nodevec *nv, tp_slice op, tp_slice suffix, int line,
                         const char *in_loop)
{
    static const char *const ops[] = {"apply", "block", "try", "if", "for", "while"};
    static const int kinds[] = {N_APPLY, N_BLOCK, N_TRY, N_IF, N_FOR, N_WHILE};
    size_t i = 0;
    while (i < 6 && !op_is(op, ops[i]))
        i++;
    if (i == 6)
        return 1;
    tpl_node *b = node(r, kinds[i], line);
    const char *loop = i >= 4 ? ops[i] : i == 0 ? NULL : in_loop;
    nodevec body = {0};
    if (parse_body(r, ops[i], loop, &body) < 0)
        return -1;
    if (i == 0 && !suffix.n)
        return perr(r, "apply missing method name");
    if (i == 1 && !suffix.n)
        return perr(r, "block missing name");
    if (i == 0 && expr_at(r, line, suffix, &b->e) < 0)
        return -1;
    if (i == 1)
        b->text = tp_arena_slice_dup(&r->f->arena, suffix);
    if (i >= 2 && parse_head(r, b, op, suffix, line) < 0)
        return -1;
    if (make_clauses(r, b, ops[i], &body) < 0)
        return -1;
    push(r, nv, b);
    return 0;
}

static int parse_directive(reader *r, nodevec *nv, const char *in_block, const char *in_loop,
                           int line, bool *end)
{
    long e = rfind(r, "%}", 0);
    if (e < 0)
        return perr(r, "Missing end block %%}");
    tp_slice contents = tp_py_strip(consume(r, (size_t)e));
    consume(r, 2);
    if (!contents.n)
        return perr(r, "Empty block tag ({%% %%})");
    const char *sp = memchr(contents.p, ' ', contents.n);
    tp_slice op = sp ? tp_slice_make(contents.p, (size_t)(sp - contents.p)) : contents;
    tp_slice suffix = sp ? tp_py_strip(tp_slice_make(sp + 1, contents.p + contents.n - sp - 1))
                         : tp_slice_make(contents.p + contents.n, 0);
    if (op_is(op, "else") || op_is(op, "elif") || op_is(op, "except") || op_is(op, "finally"))
        return parse_intermediate(r, nv, in_block, op, suffix, line);
    if (op_is(op, "end")) {
        if (!in_block)
            return perr(r, "Extra {%% end %%} block");
        *end = true;
        return 0;
    }
    int rc = parse_statement(r, nv, op, suffix, line);
    if (rc <= 0)
        return rc;
    rc = parse_control(r, nv, op, suffix, line, in_loop);
    if (rc <= 0)
        return rc;
    if (op_is(op, "break") || op_is(op, "continue")) {
        if (!in_loop)
            return perr(r, "%.*s outside {'for', 'while'} block", TP_SLICE_FMT(op));
        if (suffix.n)
            return syntax_at(r, line, "invalid syntax", contents);
        push(r, nv, node(r, op_is(op, "break") ? N_BREAK : N_CONTINUE, line));
        return 0;
    }
    tp_buf b = {0};
    tpl_repr_str(&b, op);
    int ret = perr(r, "unknown operator: %.*s", (int)b.len, tpl_buf_str(&b));
    tp_buf_free(&b);
    return ret;
}

/* The position of the next "{{", "{%" or "{#" (the innermost of a run of braces), or -1
 * at the end of the text. */
static long next_tag(const reader *r)
{
    long curly = 0;
    for (;;) {
        curly = rfind(r, "{", (size_t)curly);
        if (curly < 0 || (size_t)curly + 1 == remaining(r))
            return -1;
        char c = r->text[r->pos + (size_t)curly + 1];
        if (c != '{' && c != '%' && c != '#') {
            curly++;
            continue;
        }
        if ((size_t)curly + 2 < remaining(r) && c == '{' &&
            r->text[r->pos + (size_t)curly + 2] == '{') {
            curly++;
            continue;
        }
        return curly;
    }
}

static int parse_body(reader *r, const char *in_block, const char *in_loop, nodevec *out)
{
    for (;;) {
        long curly = next_tag(r);
        if (curly < 0) {
            if (in_block)
                return perr(r, "Missing {%% end %%} block for %s", in_block);
            add_text(r, out, consume(r, remaining(r)));
            return 0;
        }
        if (curly > 0)
            add_text(r, out, consume(r, (size_t)curly));
        tp_slice brace = consume(r, 2);
        int line = r->line;
        if (remaining(r) && r->text[r->pos] == '!') {
            consume(r, 1);
            add_text(r, out, brace);
            continue;
        }
        if (brace.p[1] == '#') {
            long e = rfind(r, "#}", 0);
            if (e < 0)
                return perr(r, "Missing end comment #}");
            consume(r, (size_t)e + 2);
            continue;
        }
        if (brace.p[1] == '{') {
            long e = rfind(r, "}}", 0);
            if (e < 0)
                return perr(r, "Missing end expression }}");
            tp_slice contents = tp_py_strip(consume(r, (size_t)e));
            consume(r, 2);
            if (!contents.n)
                return perr(r, "Empty expression");
            tpl_node *n = node(r, N_EXPR, line);
            if (expr_at(r, line, contents, &n->e) < 0)
                return -1;
            push(r, out, n);
            continue;
        }
        bool end = false;
        if (parse_directive(r, out, in_block, in_loop, line, &end) < 0)
            return -1;
        if (end)
            return 0;
    }
}

/* ---- files ---------------------------------------------------------------------------- */

void tpl_file_free(tpl_file *f)
{
    if (!f)
        return;
    tp_free(f->name);
    tp_arena_destroy(&f->arena);
    tp_free(f);
}

static int set_autoescape(reader *r, tpl_file *f, const char *autoescape)
{
    const char *fn = r->autoescape_set ? r->autoescape : autoescape;
    if (!fn || !*fn)
        return 0; /* None, or "" (Tornado then writes _tt_utf8((_tt_tmp)): no escaping) */
    f->autoescape_line = r->autoescape_set ? r->autoescape_line : 0;
    return expr_at(r, f->autoescape_line, tp_slice_cstr(fn), &f->autoescape);
}

tpl_file *tpl_file_parse(const char *name, tp_slice text, const char *whitespace,
                         const char *autoescape, tp_template_error *err)
{
    tpl_file *f = tp_calloc(1, sizeof *f);
    f->name = tp_strndup(name, strlen(name));
    tp_arena_init(&f->arena, 16384);
    reader r = {.f = f, .text = text.p, .len = text.n, .line = 1, .err = err};
    size_t nl = strlen(name);
    if (!whitespace)
        whitespace = (nl >= 5 && !strcmp(name + nl - 5, ".html")) ||
                             (nl >= 3 && !strcmp(name + nl - 3, ".js"))
                         ? "single"
                         : "all";
    r.whitespace = whitespace;
    nodevec body = {0};
    int rc = -1;
    if (!tpl_whitespace_mode_valid(whitespace))
        perr(&r, "invalid whitespace mode %s", whitespace);
    else if (!tp_utf8_valid(text))
        perr(&r, "UnicodeDecodeError: template is not valid UTF-8");
    else if (parse_body(&r, NULL, NULL, &body) == 0)
        rc = set_autoescape(&r, f, autoescape);
    if (rc == 0 && r.have_syntax) {
        if (err)
            *err = r.syntax;
        rc = -1;
    }
    tp_free(r.autoescape);
    if (rc < 0) {
        tpl_file_free(f);
        return NULL;
    }
    f->body.v = body.v;
    f->body.n = body.n;
    return f;
}
