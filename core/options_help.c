/* --help in Tornado's layout (print_help with textwrap.wrap at 44 columns), the settings dump
 * and group_dict. */
#include "core/options_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/utf8.h"

#define HELP_WIDTH 44 /* Tornado: textwrap.wrap(description, 79 - 35) */

typedef struct chunk {
    const char *p;
    size_t len;  /* bytes */
    size_t cols; /* code points, as Python's len() */
    bool space;
} chunk;

static bool letter(const char *s, const char *end)
{
    return s < end && (isalpha((unsigned char)*s) || *s == '_' || (unsigned char)*s >= 0x80);
}

/* textwrap's wordsep_re breaks "non-blocking" after the hyphen: two letters (or letter-hyphen-
 * letter) before it, a letter, an optional hyphen and a letter after. */
static bool hyphen_break(const char *w, const char *h, const char *end)
{
    bool before = (h - w >= 2 && letter(h - 1, end) && letter(h - 2, end)) ||
                  (h - w >= 3 && letter(h - 1, end) && h[-2] == '-' && letter(h - 3, end));
    const char *a = h + 1;
    return before && letter(a, end) &&
           (letter(a + 1, end) || (a + 1 < end && a[1] == '-' && letter(a + 2, end)));
}

static size_t split_chunks(const char *s, chunk **out)
{
    size_t n = 0, cap = 16, len = strlen(s);
    const char *end = s + len;
    chunk *c = tp_malloc(cap * sizeof(*c));
    for (const char *p = s; p < end;) {
        const char *q = p;
        bool space = isspace((unsigned char)*p);
        if (space) {
            while (q < end && isspace((unsigned char)*q))
                q++;
        } else {
            while (q < end && !isspace((unsigned char)*q) &&
                   !(*q == '-' && hyphen_break(p, q, end)))
                q++;
            if (q < end && *q == '-')
                q++;
        }
        if (n == cap)
            c = tp_realloc(c, (cap *= 2) * sizeof(*c));
        c[n++] = (chunk){p, (size_t)(q - p), tp_utf8_len(p, (size_t)(q - p)), space};
        p = q;
    }
    *out = c;
    return n;
}

/* A chunk longer than a line fills the rest of the current one (at a hyphen if one fits). */
static void long_word(chunk *c, size_t left, chunk *taken)
{
    size_t end = left ? left : 1;
    if (c->cols > end) {
        size_t b = tp_utf8_prefix(c->p, c->len, end);
        for (size_t h = b; h-- > 1;)
            if (c->p[h] == '-') {
                bool other = false;
                for (size_t k = 0; k < h; k++)
                    other |= c->p[k] != '-';
                if (other)
                    end = tp_utf8_len(c->p, h + 1);
                break;
            }
    }
    size_t b = tp_utf8_prefix(c->p, c->len, end);
    *taken = (chunk){c->p, b, tp_utf8_len(c->p, b), false};
    c->p += b;
    c->len -= b;
    c->cols = tp_utf8_len(c->p, c->len);
}

/* textwrap.wrap(text, 44): one line per call of emit (the first may be all there is). */
static size_t wrap(const char *text, void (*emit)(void *, const char *, size_t), void *arg)
{
    chunk *c;
    size_t n = split_chunks(text, &c), i = 0, lines = 0;
    tp_buf line = {0};
    while (i < n) {
        size_t cur = 0;
        bool trailing_space = false;
        tp_buf_clear(&line);
        if (c[i].space && lines)
            i++;
        while (i < n && cur + c[i].cols <= HELP_WIDTH) {
            for (size_t k = 0; k < c[i].len; k++)
                tp_buf_append(&line, c[i].space ? " " : &c[i].p[k], 1);
            cur += c[i].cols;
            trailing_space = c[i++].space;
        }
        if (i < n && c[i].cols > HELP_WIDTH) {
            chunk part;
            long_word(&c[i], HELP_WIDTH - cur, &part);
            tp_buf_append(&line, part.p, part.len);
            trailing_space = false;
            if (!c[i].len)
                i++;
        }
        size_t len = line.len;
        if (trailing_space)
            while (len && tp_buf_data(&line)[len - 1] == ' ')
                len--;
        if (len) {
            emit(arg, tp_buf_data(&line), len);
            lines++;
        }
    }
    tp_buf_free(&line);
    tp_free(c);
    return lines;
}

typedef struct help_line {
    FILE *out;
    const char *prefix;
    size_t count;
} help_line;

static void print_line(void *arg, const char *s, size_t n)
{
    help_line *h = arg;
    if (h->count++ == 0)
        fprintf(h->out, "  --%-30s %.*s\n", h->prefix, (int)n, s);
    else
        fprintf(h->out, "%-34s %.*s\n", " ", (int)n, s);
}

static void print_option(const tp_option *o, const void *base, FILE *out)
{
    tp_buf prefix = {0}, desc = {0};
    for (const char *p = o->name; *p; p++)
        tp_buf_append(&prefix, *p == '_' ? "-" : p, 1);
    if (o->metavar)
        tp_buf_appendf(&prefix, "=%s", o->metavar);
    tp_buf_append(&prefix, "", 1);
    tp_buf_append_str(&desc, o->help ? o->help : "");
    const char *const *s = (const char *const *)((const char *)base + o->offset);
    if (o->multiple || o->type != TP_OPT_STRING || (*s && **s)) {
        tp_buf_append_str(&desc, " (default ");
        tp_options_format(o, base, &desc);
        tp_buf_append_str(&desc, ")");
    }
    tp_buf_append(&desc, "", 1);
    help_line h = {out, tp_buf_data(&prefix), 0};
    if (strlen(h.prefix) > 30)
        print_line(&h, "", 0);
    if (!wrap(tp_buf_data(&desc), print_line, &h) && h.count == 0)
        print_line(&h, "", 0);
    tp_buf_free(&prefix);
    tp_buf_free(&desc);
}

static int by_title(const void *a, const void *b)
{
    return strcmp((*(const tp_option_group *const *)a)->title,
                  (*(const tp_option_group *const *)b)->title);
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const tp_option *const *)a)->name, (*(const tp_option *const *)b)->name);
}

static void print_group(const tp_option_group *g, FILE *out)
{
    if (g->title && *g->title)
        fprintf(out, "\n%s options:\n\n", g->title);
    const tp_option **sorted = tp_malloc((g->n + 1) * sizeof(*sorted));
    for (size_t k = 0; k < g->n; k++)
        sorted[k] = &g->opts[k];
    qsort(sorted, g->n, sizeof(*sorted), by_name);
    for (size_t k = 0; k < g->n; k++)
        print_option(sorted[k], g->base, out);
    tp_free(sorted);
}

void tp_options_print_help(const tp_option_group *groups, size_t ngroups, FILE *out)
{
    fprintf(out, "\nOptions:\n\n");
    const tp_option_group **sorted = tp_malloc((ngroups + 1) * sizeof(*sorted));
    for (size_t i = 0; i < ngroups; i++)
        sorted[i] = &groups[i];
    qsort(sorted, ngroups, sizeof(*sorted), by_title);
    for (size_t i = 0; i < ngroups; i++)
        print_group(sorted[i], out);
    tp_free(sorted);
}

void tp_options_print_usage(const tp_option_group *groups, size_t ngroups, const char *prog,
                            FILE *out)
{
    fprintf(out, "Usage: %s [OPTIONS]\n", prog);
    tp_options_print_help(groups, ngroups, out);
    fprintf(out, "\n");
}

/* The settings line keeps its established forms for booleans (true/false) and floats (%g). */
static void describe_value(const tp_option *o, const void *base, tp_buf *out)
{
    const void *f = (const char *)base + o->offset;
    if (!o->multiple && o->type == TP_OPT_BOOL)
        tp_buf_append_str(out, *(const bool *)f ? "true" : "false");
    else if (!o->multiple && o->type == TP_OPT_DOUBLE)
        tp_buf_appendf(out, "%g", *(const double *)f);
    else
        tp_options_format(o, base, out);
}

void tp_options_describe(const tp_option_group *groups, size_t ngroups, tp_buf *out)
{
    for (size_t i = 0; i < ngroups; i++)
        for (size_t k = 0; k < groups[i].n; k++) {
            tp_buf_appendf(out, "%s%s=", out->len ? " " : "", groups[i].opts[k].name);
            describe_value(&groups[i].opts[k], groups[i].base, out);
        }
}

int tp_options_group_dict(const tp_option_group *groups, size_t ngroups, const char *title,
                          tp_buf *out)
{
    int count = 0;
    bool found = false;
    for (size_t i = 0; i < ngroups; i++) {
        if (title && strcmp(groups[i].title, title))
            continue;
        found = true;
        for (size_t k = 0; k < groups[i].n; k++, count++) {
            tp_buf_appendf(out, "%s=", groups[i].opts[k].name);
            tp_options_format(&groups[i].opts[k], groups[i].base, out);
            tp_buf_append_str(out, "\n");
        }
    }
    return found ? count : -ENOENT;
}
