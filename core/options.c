/* tornado.options in C: finding options, the command line, and storing values (bounds,
 * lists, callbacks). Values: options_value.c; config files: options_config.c; --help and the
 * settings dump: options_help.c. */
#include "core/options_internal.h"

#include <errno.h>
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

const tp_option *tp_options_find(const tp_option_group *groups, size_t ngroups, const char *name,
                                 void **field)
{
    void *base;
    const tp_option *o = find(groups, ngroups, name, strlen(name), &base);
    if (o && field)
        *field = (char *)base + o->offset;
    return o;
}

static size_t field_size(const tp_option *o)
{
    return o->multiple ? sizeof(tp_opt_list) : tp__opt_item_size(o->type);
}

static void store_list(const tp_option *o, tp_opt_list *l, const tp__opt_items *items)
{
    size_t size = tp__opt_item_size(o->type);
    size_t keep = o->append ? l->n : 0;
    char *v = tp__opt_alloc((keep + items->n) * size + 1);
    if (keep)
        memcpy(v, l->items, keep * size);
    for (size_t i = 0; i < items->n; i++)
        memcpy(v + (keep + i) * size, &items->v[i], size);
    l->items = v;
    l->n = keep + items->n;
}

int tp__opt_store(const tp_option *o, void *base, const tp__opt_items *items, char *err,
                  size_t errlen)
{
    char *field = (char *)base + o->offset;
    union {
        tp__opt_item item;
        tp_opt_list list;
    } old;
    memcpy(&old, field, field_size(o));
    if (o->multiple)
        store_list(o, (tp_opt_list *)field, items);
    else
        memcpy(field, &items->v[0], field_size(o));
    if (!o->callback)
        return 0;
    int r = o->callback(base, o, err, errlen);
    if (r < 0)
        memcpy(field, &old, field_size(o)); /* a rejected value leaves the old one */
    return r < 0 ? -EINVAL : 0;
}

int tp__opt_set_text(const tp_option *o, void *base, const char *v, char *err, size_t errlen)
{
    if (!v && o->type == TP_OPT_BOOL && !o->multiple)
        v = "true";
    if (!v) {
        snprintf(err, errlen, "option --%s needs a value", o->name);
        return -EINVAL;
    }
    tp__opt_items items = {0};
    tp__opt_item it;
    int r;
    if (o->multiple) {
        r = tp__opt_parse_list(o, v, &items, err, errlen);
    } else if ((r = tp__opt_parse_item(o, v, strlen(v), true, &it, err, errlen)) == 0 &&
               (r = tp__opt_check(o, &it, err, errlen)) == 0) {
        tp__opt_items_push(&items, &it);
    }
    if (r == 0)
        r = tp__opt_store(o, base, &items, err, errlen);
    tp__opt_items_free(&items);
    return r;
}

int tp_options_set(const tp_option_group *groups, size_t ngroups, const char *name,
                   const char *value, char *err, size_t errlen)
{
    void *base;
    const tp_option *o = find(groups, ngroups, name, strlen(name), &base);
    if (!o) {
        snprintf(err, errlen, "unknown option --%s", name);
        return -EINVAL;
    }
    return tp__opt_set_text(o, base, value, err, errlen);
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
        if (o && o->type == TP_OPT_BOOL && !o->multiple)
            return tp__opt_set_text(o, base, "false", err, errlen);
        o = NULL;
    }
    if (!o) {
        snprintf(err, errlen, "unknown option --%.*s", (int)n, arg);
        return -EINVAL;
    }
    return tp__opt_set_text(o, base, eq ? eq + 1 : NULL, err, errlen);
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
