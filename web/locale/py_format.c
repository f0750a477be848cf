/* Python's "fmt % {...}" as tornado.locale leans on it: every translated message is a
 * %-format applied to a dict (str.strip() of CSV cells is core/utf8.h's tp_py_strip). The
 * spec parsing and layout are core/pyfmt.h's, shared with the template engine. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/pyfmt.h"
#include "web/locale/internal.h"

typedef struct dict_args {
    const tp_pyarg *args;
    size_t n;
    const tp_pyarg *found; /* the argument of the spec being parsed */
} dict_args;

static int find_arg(void *ctx, tp_slice key)
{
    dict_args *d = ctx;
    for (size_t i = 0; i < d->n; i++)
        if (tp_slice_eq(tp_slice_cstr(d->args[i].name), key))
            return d->found = &d->args[i], 0;
    return -EINVAL; /* KeyError */
}

/* '*' would take the keyed value as the width and leave none to format: TypeError. */
static int no_star(void *ctx, int64_t *v)
{
    (void)ctx, (void)v;
    return -EINVAL;
}

static int format_one(tp_buf *b, const tp_pyfmt_spec *sp, const tp_pyarg *arg)
{
    char tmp[24];
    switch (sp->conv) {
    case 's':
    case 'r':
        if (!arg->is_int) {
            if (sp->conv == 'r')
                return -EINVAL; /* repr() of a str: not needed by any Tornado message */
            tp_pyfmt_text(b, sp, arg->s);
        } else {
            int n = snprintf(tmp, sizeof(tmp), "%" PRId64, arg->i);
            tp_pyfmt_text(b, sp, tp_slice_make(tmp, (size_t)n));
        }
        return 0;
    case 'd':
    case 'i':
    case 'u':
    case 'x':
    case 'X':
    case 'o': {
        if (!arg->is_int)
            return -EINVAL; /* TypeError: %d format: a real number is required */
        uint64_t mag = arg->i < 0 ? 0 - (uint64_t)arg->i : (uint64_t)arg->i;
        tp_pyfmt_number(b, sp, arg->i < 0, tp_pyfmt_digits(tmp, mag, sp->conv));
        return 0;
    }
    default: return -EINVAL;
    }
}

int tp_locale_pyformat(tp_arena *a, tp_slice fmt, const tp_pyarg *args, size_t n, tp_slice *out)
{
    tp_buf b = {0};
    dict_args d = {args, n, NULL};
    tp_pyfmt_args cb = {true, find_arg, no_star, &d};
    const char *p = fmt.p;
    int rc = 0;
    while (rc == 0 && tp_pyfmt_literal(&b, &p, fmt)) {
        tp_pyfmt_spec sp;
        d.found = NULL;
        rc = tp_pyfmt_parse(&p, fmt, &cb, &sp);
        if (rc == 0) /* a spec without a key would format the dict itself: not a message */
            rc = d.found ? format_one(&b, &sp, d.found) : -EINVAL;
    }
    if (rc == 0)
        *out = tp_arena_slice_dup(a, tp_buf_slice(&b));
    tp_buf_free(&b);
    return rc < 0 ? -EINVAL : rc;
}
