/* The tokenizer of the template expression language: names, Python number literals
 * (ints are 64-bit), string literals with Python's escapes and prefixes, and operators. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/hex.h"
#include "core/utf8.h"
#include "web/template/lex.h"

int tpl_lex_fail(lexer *lx, const char *fmt, ...)
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

bool tpl_lex_is_keyword(tp_slice s)
{
    for (size_t i = 0; keywords[i]; i++)
        if (tp_slice_eq(s, tp_slice_cstr(keywords[i])))
            return true;
    return false;
}

static void put_utf8(tp_buf *b, uint32_t c)
{
    char w[4];
    tp_buf_append(b, w, tp_utf8_encode(w, c));
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
            int h = p < lx->end ? tp_hex_value(*p) : -1;
            if (h < 0)
                return tpl_lex_fail(lx, "truncated \\%cXX escape", c);
            v = v * 16 + (uint32_t)h, p++;
        }
        if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
            return tpl_lex_fail(lx, "illegal Unicode character in string literal");
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
            return tpl_lex_fail(lx, "unterminated string literal");
        }
        if (*p == q && (!triple || (lx->end - p >= 3 && p[1] == q && p[2] == q))) {
            p += triple ? 3 : 1;
            break;
        }
        if (*p == '\n' && !triple) {
            tp_buf_free(&b);
            return tpl_lex_fail(lx, "unterminated string literal");
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
        if (base == 16 ? tp_hex_value(c) >= 0 : (c >= '0' && c <= '9')) {
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
        return tpl_lex_fail(lx, "invalid decimal literal");
    errno = 0;
    char *e;
    if (is_float) {
        lx->d = strtod(tmp, &e);
        lx->t = T_FLOAT;
    } else {
        unsigned long long v = strtoull(tmp, &e, base);
        if (errno || v > INT64_MAX)
            return tpl_lex_fail(lx, "integer literal too large (ints are 64-bit)");
        lx->i = (int64_t)v;
        lx->t = T_INT;
    }
    if (*e || k == 0)
        return tpl_lex_fail(lx, "invalid number literal");
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
int tpl_lex_next(lexer *lx)
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
            return tpl_lex_fail(lx, "f-strings are not supported");
        lx->t = T_NAME, lx->p = q;
    } else if (lex_op(lx, p, ops3, 3) || lex_op(lx, p, ops2, 2)) {
        return 0;
    } else if (strchr("+-*/%<>()[]{},:.=", c)) {
        lx->t = T_OP, lx->p = p + 1;
    } else {
        return tpl_lex_fail(lx, "invalid character '%c' in expression", c);
    }
    if (rc < 0)
        return lx->t = T_BAD, -1;
    lx->text = tp_slice_make(start, (size_t)(lx->p - start));
    return 0;
}

bool tpl_lex_is_op(const lexer *lx, const char *op)
{
    return lx->t == T_OP && tp_slice_eq(lx->text, tp_slice_cstr(op));
}

bool tpl_lex_is_kw(const lexer *lx, const char *kw)
{
    return lx->t == T_NAME && tp_slice_eq(lx->text, tp_slice_cstr(kw));
}

int tpl_lex_expect(lexer *lx, const char *op)
{
    if (!tpl_lex_is_op(lx, op))
        return tpl_lex_fail(lx, "expected '%s' at '%.*s'", op, TP_SLICE_FMT(lx->text));
    return tpl_lex_next(lx);
}
