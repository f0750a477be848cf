#include "core/options.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Dashes and underscores are the same in option names, as in tornado.options. */
static bool name_eq(const char *a, const char *b, size_t bn)
{
    size_t i = 0;
    for (; i < bn && a[i]; i++) {
        char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];
        if (x != y)
            return false;
    }
    return i == bn && !a[i];
}

static const tp_option *find(const tp_option_group *g, size_t ng, const char *name, size_t n,
                             void **base)
{
    for (size_t i = 0; i < ng; i++)
        for (size_t k = 0; k < g[i].n; k++)
            if (name_eq(g[i].opts[k].name, name, n)) {
                *base = g[i].base;
                return &g[i].opts[k];
            }
    return NULL;
}

static int bad(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
    snprintf(err, errlen, fmt, a, b);
    return -EINVAL;
}

static bool in_bounds(const tp_option *o, double v)
{
    return (o->min == 0 && o->max == 0) || (v >= o->min && v <= o->max);
}

static int set_number(const tp_option *o, void *field, const char *v, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || errno)
        return bad(err, errlen, "option --%s: '%s' is not a number", o->name, v);
    if (o->type == TP_OPT_SIZE && *end) {
        const char *units = "kmg";
        const char *u = strchr(units, *end | 0x20);
        if (!u || end[1])
            return bad(err, errlen, "option --%s: bad size '%s' (use k, m or g)", o->name, v);
        for (const char *p = units; p <= u; p++)
            d *= 1024;
    } else if (*end) {
        return bad(err, errlen, "option --%s: '%s' is not a number", o->name, v);
    }
    /* Range before any cast: converting an out-of-range double to an integer is undefined. */
    double top = o->type == TP_OPT_INT ? INT_MAX : o->type == TP_OPT_SIZE ? 0x1p62 : HUGE_VAL;
    if ((o->type != TP_OPT_DOUBLE && (d < 0 || d > top || d != floor(d))) || !in_bounds(o, d))
        return bad(err, errlen, "option --%s: %s is out of range", o->name, v);
    if (o->type == TP_OPT_INT)
        *(int *)field = (int)d;
    else if (o->type == TP_OPT_SIZE)
        *(size_t *)field = (size_t)d;
    else
        *(double *)field = d;
    return 0;
}

static int set_value(const tp_option *o, void *base, const char *v, char *err, size_t errlen)
{
    void *field = (char *)base + o->offset;
    switch (o->type) {
    case TP_OPT_BOOL:
        if (!v || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes"))
            *(bool *)field = true;
        else if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no"))
            *(bool *)field = false;
        else
            return bad(err, errlen, "option --%s: '%s' is not a boolean", o->name, v);
        return 0;
    case TP_OPT_STRING: *(const char **)field = v ? v : ""; return 0;
    default:
        if (!v)
            return bad(err, errlen, "option --%s needs a value%s", o->name, "");
        return set_number(o, field, v, err, errlen);
    }
}

int tp_options_set(const tp_option_group *groups, size_t ngroups, const char *name,
                   const char *value, char *err, size_t errlen)
{
    void *base;
    const tp_option *o = find(groups, ngroups, name, strlen(name), &base);
    if (!o)
        return bad(err, errlen, "unknown option --%s%s", name, "");
    return set_value(o, base, value, err, errlen);
}

int tp_options_parse_one(const tp_option_group *groups, size_t ngroups, const char *arg, char *err,
                         size_t errlen)
{
    const char *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
    void *base;
    const tp_option *o = find(groups, ngroups, arg, n, &base);
    if (!o && !eq && !strncmp(arg, "no-", 3)) {
        o = find(groups, ngroups, arg + 3, n - 3, &base);
        if (o && o->type == TP_OPT_BOOL)
            return set_value(o, base, "false", err, errlen);
        o = NULL;
    }
    if (!o) {
        snprintf(err, errlen, "unknown option --%.*s", (int)n, arg);
        return -EINVAL;
    }
    return set_value(o, base, eq ? eq + 1 : NULL, err, errlen);
}

int tp_options_parse(const tp_option_group *groups, size_t ngroups, int argc, char **argv,
                     int *rest, char *err, size_t errlen)
{
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            *rest = i;
            return 1;
        }
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (strncmp(a, "--", 2) != 0 || !a[2])
            break;
        int r = tp_options_parse_one(groups, ngroups, a + 2, err, errlen);
        if (r < 0)
            return r;
    }
    *rest = i;
    return 0;
}

static void format_value(const tp_option *o, const void *base, char *out, size_t n)
{
    const void *f = (const char *)base + o->offset;
    switch (o->type) {
    case TP_OPT_BOOL: snprintf(out, n, "%s", *(const bool *)f ? "true" : "false"); break;
    case TP_OPT_INT: snprintf(out, n, "%d", *(const int *)f); break;
    case TP_OPT_SIZE: snprintf(out, n, "%zu", *(const size_t *)f); break;
    case TP_OPT_DOUBLE: snprintf(out, n, "%g", *(const double *)f); break;
    case TP_OPT_STRING: {
        const char *s = *(const char *const *)f;
        snprintf(out, n, "%s", s ? s : "");
        break;
    }
    }
}

void tp_options_print_help(const tp_option_group *groups, size_t ngroups, FILE *out)
{
    char v[128];
    for (size_t i = 0; i < ngroups; i++) {
        fprintf(out, "\n%s:\n", groups[i].title);
        for (size_t k = 0; k < groups[i].n; k++) {
            const tp_option *o = &groups[i].opts[k];
            format_value(o, groups[i].base, v, sizeof(v));
            fprintf(out, "  --%-28s %s (default %s)\n", o->name, o->help, v[0] ? v : "\"\"");
        }
    }
}

void tp_options_describe(const tp_option_group *groups, size_t ngroups, tp_buf *out)
{
    char v[128];
    for (size_t i = 0; i < ngroups; i++)
        for (size_t k = 0; k < groups[i].n; k++) {
            format_value(&groups[i].opts[k], groups[i].base, v, sizeof(v));
            tp_buf_appendf(out, "%s%s=%s", out->len ? " " : "", groups[i].opts[k].name, v);
        }
}
