/* The tokenizer of the template expression language (template_lex.c), shared with the
 * parser (template_expr.c). */
#ifndef TP_WEB_TEMPLATE_LEX_H
#define TP_WEB_TEMPLATE_LEX_H

#include "web/template/internal.h"

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

/* Records a syntax error (the first one wins). Returns -1. */
int tpl_lex_fail(lexer *lx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Advances to the next token; -1 on a lexical error. */
int tpl_lex_next(lexer *lx);
/* The current token is the operator op / the name kw. */
bool tpl_lex_is_op(const lexer *lx, const char *op);
bool tpl_lex_is_kw(const lexer *lx, const char *kw);
/* Consumes operator op or fails. */
int tpl_lex_expect(lexer *lx, const char *op);
/* s is a Python keyword (not a usable name). */
bool tpl_lex_is_keyword(tp_slice s);

#endif
