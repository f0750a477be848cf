#include "http/query.h"

#include <string.h>

void tp_args_add_ref(tp_arena *a, tp_args *args, tp_slice name, tp_slice value)
{
    if (args->n == args->cap)
        args->v = tp_arena_grow(a, args->v, args->n, &args->cap, args->n + 1, sizeof(*args->v), 8);
    args->v[args->n++] = (tp_arg){name, value};
}

void tp_args_add(tp_arena *a, tp_args *args, tp_slice name, tp_slice value)
{
    tp_args_add_ref(a, args, tp_arena_slice_dup(a, name), tp_arena_slice_dup(a, value));
}

void tp_parse_qs(tp_arena *a, tp_slice qs, tp_args *out)
{
    const char *p = qs.p, *end = qs.p + qs.n;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if (stop > p) {
            const char *eq = memchr(p, '=', (size_t)(stop - p));
            tp_slice name = {p, (size_t)((eq ? eq : stop) - p)};
            tp_slice value = eq ? (tp_slice){eq + 1, (size_t)(stop - eq - 1)} : TP_SLICE_LIT("");
            tp_args_add(a, out, tp_url_unescape(a, name, true), tp_url_unescape(a, value, true));
        }
        p = stop + 1;
    }
}

tp_slice tp_args_get_last(const tp_args *args, tp_slice name)
{
    for (size_t i = args->n; i-- > 0;)
        if (tp_slice_eq(args->v[i].name, name))
            return args->v[i].value;
    return TP_SLICE_NULL;
}

size_t tp_args_get_all(const tp_args *args, tp_slice name, tp_slice *out, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < args->n; i++)
        if (tp_slice_eq(args->v[i].name, name)) {
            if (k < max)
                out[k] = args->v[i].value;
            k++;
        }
    return k;
}
