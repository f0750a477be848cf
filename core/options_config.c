/* Config files as Tornado's parse_config_file reads them ("name = value" with Python literal
 * values), but parsed by a small lexer here: nothing in the file is ever executed. */
#include "core/options_internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/utf8.h"

typedef enum { V_STR, V_INT, V_FLOAT, V_BOOL, V_NONE, V_LIST } vkind;

typedef struct cvalue {
    vkind kind;
    const char *text; /* V_STR: the decoded string (pool); numbers: the literal */
    size_t len;
    bool b;
} cvalue;

typedef struct lexer {
    const char *p, *end, *file;
    int line;
    int depth; /* inside [ ] or ( ): newlines do not end the statement */
    char *err;
    size_t errlen;
} lexer;

static int fail(lexer *lx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(lexer *lx, const char *fmt, ...)
{
    int n = snprintf(lx->err, lx->errlen, "%s:%d: ", lx->file, lx->line);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < lx->errlen)
        vsnprintf(lx->err + n, lx->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* Skips blanks and comments; newlines too inside brackets. */
static void skip(lexer *lx)
{
    while (lx->p < lx->end) {
        char c = *lx->p;
        if (c == '#') {
            while (lx->p < lx->end && *lx->p != '\n')
                lx->p++;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
            lx->p++;
        } else if (c == '\\' && lx->p + 1 < lx->end && lx->p[1] == '\n') {
            lx->p += 2; /* explicit line joining */
            lx->line++;
        } else if (c == '\n' && lx->depth) {
            lx->p++;
            lx->line++;
        } else {
            return;
        }
    }
}

static int hex_escape(lexer *lx, size_t digits, tp_buf *out)
{
    if (lx->end - lx->p < (long)digits)
        return fail(lx, "truncated \\x/\\u escape");
    char h[9] = {0};
    memcpy(h, lx->p, digits);
    char *e;
    unsigned long cp = strtoul(h, &e, 16);
    if (*e || cp > 0x10ffff)
        return fail(lx, "bad \\x/\\u escape");
    char w[4];
    tp_buf_append(out, w, tp_utf8_encode(w, (uint32_t)cp));
    lx->p += digits;
    return 0;
}

static int escape(lexer *lx, tp_buf *out)
{
    char c = *lx->p++;
    const char *from = "nrt0\\'\"", *to = "\n\r\t\0\\'\"";
    const char *k = strchr(from, c);
    if (c && k) {
        tp_buf_append(out, &to[k - from], 1);
        return 0;
    }
    if (c == 'x' || c == 'u' || c == 'U')
        return hex_escape(lx, c == 'x' ? 2 : c == 'u' ? 4 : 8, out);
    if (c == '\n') {
        lx->line++;
        return 0;
    }
    tp_buf_append(out, "\\", 1); /* Python keeps unknown escapes as they are */
    tp_buf_append(out, &c, 1);
    return 0;
}

static int string_literal(lexer *lx, cvalue *v)
{
    bool raw = false;
    if (*lx->p == 'r' || *lx->p == 'R') {
        raw = true;
        lx->p++;
    } else if (*lx->p == 'u' || *lx->p == 'U') {
        lx->p++;
    }
    char q = *lx->p++;
    tp_buf s = {0};
    int r = 0;
    while (!r) {
        if (lx->p >= lx->end || *lx->p == '\n') {
            r = fail(lx, "unterminated string");
            break;
        }
        char c = *lx->p++;
        if (c == q)
            break;
        if (c == '\\' && !raw && lx->p < lx->end)
            r = escape(lx, &s);
        else
            tp_buf_append(&s, &c, 1);
    }
    if (!r) {
        v->kind = V_STR;
        v->len = s.len;
        v->text = tp__opt_strdup(s.len ? tp_buf_data(&s) : "", s.len);
        if (memchr(v->text, '\0', v->len))
            r = fail(lx, "a string with a NUL character");
    }
    tp_buf_free(&s);
    return r;
}

/* Outside brackets, a value that is no Python literal is the rest of the line up to a '#',
 * trimmed (tornado-prefork's config files were written that way before). */
static int bare_text(lexer *lx, cvalue *v)
{
    const char *p = lx->p, *q = p;
    while (q < lx->end && *q != '\n' && *q != '#')
        q++;
    lx->p = q;
    while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r'))
        q--;
    v->kind = V_STR;
    v->len = (size_t)(q - p);
    v->text = tp__opt_strdup(p, v->len);
    return 0;
}

static bool ends_token(const lexer *lx, const char *q)
{
    return q >= lx->end || strchr(" \t\r\n#,])", *q);
}

static int scalar(lexer *lx, cvalue *v)
{
    const char *p = lx->p;
    char c = *p;
    if (c == '\'' || c == '"' ||
        ((c == 'r' || c == 'R' || c == 'u' || c == 'U') && p + 1 < lx->end &&
         (p[1] == '\'' || p[1] == '"')))
        return string_literal(lx, v);
    const char *q = p;
    while (q < lx->end && (isalnum((unsigned char)*q) || strchr("+-._", *q)))
        q++;
    size_t n = (size_t)(q - p);
    *v = (cvalue){.text = p, .len = n};
    bool ok = ends_token(lx, q);
    if (ok && ((n == 4 && !memcmp(p, "True", 4)) || (n == 5 && !memcmp(p, "False", 5)))) {
        v->kind = V_BOOL;
        v->b = n == 4;
    } else if (ok && n == 4 && !memcmp(p, "None", 4)) {
        v->kind = V_NONE;
    } else if (ok && n == 8 && !memcmp(p, "__file__", 8)) {
        v->kind = V_STR; /* as Tornado defines it for the file: its path */
        v->text = tp__opt_strdup(lx->file, strlen(lx->file));
        v->len = strlen(lx->file);
    } else if (ok && n && n < 60 && (isdigit((unsigned char)c) || strchr("+-.", c))) {
        char num[64], *e;
        snprintf(num, sizeof(num), "%.*s", (int)n, p);
        strtod(num, &e);
        ok = !*e && e != num;
        v->kind = strpbrk(num, ".eE") ? V_FLOAT : V_INT;
    } else {
        ok = false;
    }
    if (!ok && !lx->depth)
        return bare_text(lx, v);
    if (!ok)
        return fail(lx, "'%.*s' is not a Python literal", (int)(n ? n : 1), p);
    lx->p = q;
    return 0;
}

/* A literal, or a list/tuple of literals into items (converted for option o). */
static int value(lexer *lx, const tp_option *o, cvalue *v, tp__opt_items *items);

static int convert(lexer *lx, const tp_option *o, const cvalue *v, bool in_list,
                   tp__opt_items *items);

static int list(lexer *lx, const tp_option *o, tp__opt_items *items)
{
    char close = *lx->p == '[' ? ']' : ')';
    lx->p++;
    lx->depth++;
    for (;;) {
        skip(lx);
        if (lx->p >= lx->end)
            return fail(lx, "unterminated list");
        if (*lx->p == close)
            break;
        cvalue item;
        int r = scalar(lx, &item);
        if (r < 0 || (r = convert(lx, o, &item, true, items)) < 0)
            return r;
        skip(lx);
        if (lx->p < lx->end && *lx->p == ',')
            lx->p++;
        else if (lx->p >= lx->end || *lx->p != close)
            return fail(lx, "expected ',' or '%c' in a list", close);
    }
    lx->p++;
    lx->depth--;
    return 0;
}

static int value(lexer *lx, const tp_option *o, cvalue *v, tp__opt_items *items)
{
    if (lx->p < lx->end && (*lx->p == '[' || *lx->p == '(')) {
        if (!o->multiple)
            return fail(lx, "option %s takes one value, not a list", o->name);
        v->kind = V_LIST;
        return list(lx, o, items);
    }
    return scalar(lx, v);
}

static const char *kind_name(vkind k)
{
    static const char *const names[] = {"str", "int", "float", "bool", "None", "list"};
    return names[k];
}

static bool literal_fits(tp_opt_type t, vkind k)
{
    if (t == TP_OPT_STRING)
        return true;
    switch (k) {
    case V_INT:
        return t == TP_OPT_INT || t == TP_OPT_SIZE || t == TP_OPT_DOUBLE || t == TP_OPT_DURATION;
    case V_FLOAT: return t == TP_OPT_DOUBLE || t == TP_OPT_DURATION;
    case V_BOOL: return t == TP_OPT_BOOL;
    case V_NONE: return false;
    default: return true; /* strings are parsed as on the command line */
    }
}

/* One literal for option o, as Tornado's parse_config_file: strings are parsed like the
 * command line (outside a list, a comma list for multiple options), other literals must fit
 * the type. */
static int convert(lexer *lx, const tp_option *o, const cvalue *v, bool in_list,
                   tp__opt_items *items)
{
    static const char *const types[] = {"bool", "int",       "size",    "float",
                                        "str",  "timedelta", "datetime"};
    char msg[200];
    int r = 0;
    tp__opt_item it = {0};
    if (!literal_fits(o->type, v->kind))
        return fail(lx, "option %s is required to be a %s (%s %.*s given)", o->name, types[o->type],
                    kind_name(v->kind), (int)v->len, v->text);
    if (v->kind == V_STR && o->multiple && !in_list) {
        r = tp__opt_parse_list(o, v->text, items, msg, sizeof(msg));
    } else if (v->kind == V_BOOL && o->type == TP_OPT_BOOL) {
        it.b = v->b;
        tp__opt_items_push(items, &it);
    } else if (o->type == TP_OPT_STRING) {
        it.s = v->kind == V_NONE  ? ""
               : v->kind == V_STR ? v->text
                                  : tp__opt_strdup(v->text, v->len);
        tp__opt_items_push(items, &it);
    } else if ((r = tp__opt_parse_item(o, v->text, v->len, false, &it, msg, sizeof(msg))) == 0 &&
               (r = tp__opt_check(o, &it, msg, sizeof(msg))) == 0) {
        tp__opt_items_push(items, &it);
    }
    return r < 0 ? fail(lx, "%s", msg) : 0;
}

static int statement(lexer *lx, const tp_option_group *groups, size_t ngroups)
{
    const char *name = lx->p;
    while (lx->p < lx->end && (isalnum((unsigned char)*lx->p) || *lx->p == '_' || *lx->p == '-'))
        lx->p++;
    size_t n = (size_t)(lx->p - name);
    if (!n)
        return fail(lx, "expected 'name = value'");
    char key[128];
    snprintf(key, sizeof(key), "%.*s", (int)(n < 127 ? n : 127), name);
    skip(lx);
    if (lx->p >= lx->end || *lx->p != '=')
        return fail(lx, "expected '=' after %s", key);
    lx->p++;
    skip(lx);
    void *field;
    const tp_option *o = tp_options_find(groups, ngroups, key, &field);
    if (!o)
        return fail(lx, "unknown option %s", key);
    void *base = (char *)field - o->offset;
    cvalue v = {0};
    tp__opt_items items = {0};
    char msg[200];
    int r = value(lx, o, &v, &items);
    if (!r && v.kind != V_LIST)
        r = convert(lx, o, &v, false, &items);
    skip(lx);
    if (!r && lx->p < lx->end && *lx->p != '\n')
        r = fail(lx, "unexpected '%c' after the value of %s", *lx->p, key);
    if (!r && tp__opt_store(o, base, &items, msg, sizeof(msg)) < 0)
        r = fail(lx, "%s", msg);
    tp__opt_items_free(&items);
    return r;
}

int tp_options_parse_config_text(const tp_option_group *groups, size_t ngroups, const char *name,
                                 const char *text, size_t len, char *err, size_t errlen)
{
    lexer lx = {text, text + len, name, 1, 0, err, errlen};
    while (lx.p < lx.end) {
        skip(&lx);
        if (lx.p < lx.end && *lx.p == '\n') {
            lx.p++;
            lx.line++;
            continue;
        }
        if (lx.p >= lx.end)
            break;
        int r = statement(&lx, groups, ngroups);
        if (r < 0)
            return r;
    }
    return 0;
}

int tp_options_parse_config_file(const tp_option_group *groups, size_t ngroups, const char *path,
                                 char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    int e = fd < 0 || fstat(fd, &st) < 0 ? errno
            : !S_ISREG(st.st_mode)       ? EINVAL
            : st.st_size > (16 << 20)    ? EFBIG
                                         : 0;
    if (e) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(e));
        if (fd >= 0)
            close(fd);
        return -e;
    }
    char *text = tp_malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, text + got, (size_t)st.st_size - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    int r = tp_options_parse_config_text(groups, ngroups, path, text, got, err, errlen);
    tp_free(text);
    return r;
}
