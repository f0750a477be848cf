/* Tornado's ready-made handlers: RedirectHandler, ErrorHandler, and FallbackHandler (whose
 * routing happens in app.c: a request it matches is routed again in its handler table). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "web/builtin_handlers.h"
#include "core/escape.h"
#include "core/utf8.h"
#include "web/web_internal.h"

/* ---- RedirectHandler -------------------------------------------------------------------- */

/* str.format(*path_args) for "{}", "{N}", "{{" and "}}"; NULL for a bad field (500). */
static char *format_url(tp_handler *h, const char *fmt)
{
    tp_buf b = {0};
    size_t auto_index = 0;
    bool ok = true;
    for (const char *p = fmt; *p && ok; p++) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            tp_buf_append(&b, p++, 1);
        } else if (*p == '{') {
            const char *close = strchr(p, '}');
            size_t k = auto_index++;
            if (close && close > p + 1) {
                char *stop;
                k = strtoul(p + 1, &stop, 10);
                ok = stop == close;
            }
            ok = ok && close && k < tp_path_arg_count(h);
            if (ok) {
                tp_slice a = tp_path_arg(h, k);
                tp_buf_append(&b, a.p ? a.p : "None", a.p ? a.n : 4);
                p = close;
            }
        } else if (*p == '}') {
            ok = false; /* "Single '}' encountered in format string" */
        } else {
            tp_buf_append(&b, p, 1);
        }
    }
    char *out = ok ? tp_arena_strndup(tp_handler_arena(h), tp_buf_data(&b), b.len) : NULL;
    tp_buf_free(&b);
    return out;
}

static void append_pair(tp_buf *b, tp_arena *a, tp_slice k, tp_slice v)
{
    if (b->len)
        tp_buf_append(b, "&", 1);
    tp_slice ek = tp_url_escape(a, k, true), ev = tp_url_escape(a, v, true);
    tp_buf_append(b, ek.p, ek.n);
    tp_buf_append(b, "=", 1);
    tp_buf_append(b, ev.p, ev.n);
}

/* One argument and where it stands: its position, and that of its name's first use. */
typedef struct placed_arg {
    const tp_arg *arg;
    size_t pos, first;
} placed_arg;

static int by_name(const void *x, const void *y)
{
    const placed_arg *a = x, *b = y;
    size_t n = a->arg->name.n < b->arg->name.n ? a->arg->name.n : b->arg->name.n;
    int c = n ? memcmp(a->arg->name.p, b->arg->name.p, n) : 0;
    if (!c)
        c = (a->arg->name.n > b->arg->name.n) - (a->arg->name.n < b->arg->name.n);
    return c ? c : (a->pos > b->pos) - (a->pos < b->pos);
}

static int by_first_use(const void *x, const void *y)
{
    const placed_arg *a = x, *b = y;
    if (a->first != b->first)
        return (a->first > b->first) - (a->first < b->first);
    return (a->pos > b->pos) - (a->pos < b->pos);
}

/* The arguments grouped by name, groups in the order of their name's first use (Python's
 * dict of lists, request.query_arguments), in O(n log n) whatever the query holds. */
static placed_arg *group_by_name(tp_arena *a, const tp_args *args)
{
    placed_arg *v = tp_arena_alloc(a, args->n * sizeof(*v));
    for (size_t i = 0; i < args->n; i++)
        v[i] = (placed_arg){&args->v[i], i, i};
    qsort(v, args->n, sizeof(*v), by_name);
    for (size_t i = 1; i < args->n; i++)
        if (tp_slice_eq(v[i].arg->name, v[i - 1].arg->name))
            v[i].first = v[i - 1].first;
    qsort(v, args->n, sizeof(*v), by_first_use);
    return v;
}

/* url_concat(url, qs_to_qsl(request.query_arguments)): the target's own query re-encoded,
 * then the request's arguments grouped by name in order of first appearance. */
static char *with_query(tp_handler *h, const char *url)
{
    tp_request *req = h->req;
    tp_args got = {0}, own = {0};
    tp_parse_qs(&req->arena, req->query, &got);
    if (!got.n)
        return (char *)url;
    const char *hash = strchr(url, '#'), *end = hash ? hash : url + strlen(url);
    const char *q = memchr(url, '?', (size_t)(end - url));
    if (q)
        tp_parse_qs(&req->arena, (tp_slice){q + 1, (size_t)(end - q - 1)}, &own);
    tp_buf b = {0};
    for (size_t i = 0; i < own.n; i++)
        append_pair(&b, &req->arena, own.v[i].name, own.v[i].value);
    placed_arg *grouped = group_by_name(&req->arena, &got);
    /* request.query_arguments' names are str decoded as latin-1, which urlencode encodes as
     * UTF-8: each byte >= 0x80 becomes two (b"\xc3\xa9" -> "%C3%83%C2%A9"). */
    for (size_t i = 0; i < got.n; i++)
        append_pair(&b, &req->arena, tp_latin1_to_utf8(&req->arena, grouped[i].arg->name),
                    grouped[i].arg->value);
    const char *base_end = q ? q : end;
    char *out = tp_arena_printf(&req->arena, "%.*s?%.*s%s", (int)(base_end - url), url, (int)b.len,
                                tp_buf_data(&b), hash ? hash : "");
    tp_buf_free(&b);
    return out;
}

static int redirect_get(tp_handler *h)
{
    const tp_redirect_opts *o = tp_handler_route_data(h);
    char *url = o && o->url ? format_url(h, o->url) : NULL;
    if (!url)
        return TP_ERROR;
    return tp_redirect(h, with_query(h, url), !o->temporary) < 0 ? TP_ERROR : TP_OK;
}

const tp_handler_class tp_redirect_handler = {.name = "RedirectHandler", .get = redirect_get};

/* ---- ErrorHandler ----------------------------------------------------------------------- */

static int error_prepare(tp_handler *h)
{
    const tp_error_opts *o = tp_handler_route_data(h);
    tp_send_error(h, o && o->status ? o->status : 404);
    return TP_OK;
}

const tp_handler_class tp_error_handler = {
    .name = "ErrorHandler", .flags = TP_NO_XSRF_CHECK, .prepare = error_prepare};

/* ---- FallbackHandler -------------------------------------------------------------------- */

/* FallbackHandler.prepare: the request (after this app's XSRF check, as in Tornado) is
 * routed again in the route data's app and served there; this handler steps aside. */
static int fallback_prepare(tp_handler *h)
{
    tp_app *inner = tp_handler_route_data(h);
    if (!inner)
        return TP_ERROR;
    h->hand_to = inner; /* tp__handler_execute hands over once prepare has returned */
    return TP_OK;
}

const tp_handler_class tp_fallback_handler = {.name = "FallbackHandler",
                                              .prepare = fallback_prepare};
