/* Request arguments as RequestHandler sees them: query arguments, then the body's
 * (urlencoded or multipart, http/form.c), files; every value decoded as Tornado's
 * decode_argument does (UTF-8 or 400, control characters to spaces, stripped unless asked
 * not to). Names are text too: percent-decoded with '+' as space and UTF-8 checked, so one
 * name reached through the query, a urlencoded body and a multipart body is one argument. */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/utf8.h"
#include "http/form.h"
#include "web/web_internal.h"

/* The first name of args that is not UTF-8 (Tornado keeps names as latin-1 text; we
 * decode them as values are decoded, see docs/differences-from-tornado.md), or NULL. */
static const tp_arg *bad_name(const tp_args *args)
{
    for (size_t i = 0; i < args->n; i++)
        if (!tp_utf8_valid(args->v[i].name))
            return &args->v[i];
    return NULL;
}

/* Parses query and body once. A body that is not a valid form is logged and answered with
 * 400 before prepare (tp__handler_parse_body). */
static void parse_args(tp_handler *h)
{
    if (h->args_parsed)
        return;
    h->args_parsed = true;
    tp_request *req = h->req;
    tp_parse_qs(&req->arena, req->query, &h->query_args);
    if (req->body.n && !req->stream_body) {
        tp_slice ct = tp_headers_get_joined(&req->headers, TP_SLICE_LIT("Content-Type"));
        tp_slice ce = tp_headers_get_joined(&req->headers, TP_SLICE_LIT("Content-Encoding"));
        const char *err = NULL;
        h->files = tp_arena_calloc(&req->arena, sizeof(*h->files));
        if (tp_form_parse_body(&req->arena, ct.p ? ct : TP_SLICE_LIT(""), req->body, ce, NULL,
                               &h->body_args, h->files, &err) < 0)
            h->bad_body = err ? err : "invalid form";
    }
    h->bad_arg_name = bad_name(&h->query_args) != NULL || bad_name(&h->body_args) != NULL;
}

/* parse_args for the argument API: false (and a 400 once the method returns) when a name
 * is not UTF-8, as any lookup has to read every name. */
static bool args_ok(tp_handler *h)
{
    parse_args(h);
    if (!h->bad_arg_name)
        return true;
    if (!h->arg_error)
        h->arg_error = "Invalid unicode in an argument name";
    return false;
}

bool tp__handler_parse_body(tp_handler *h)
{
    parse_args(h);
    if (!h->bad_body)
        return true;
    tp_http_error(h, 400, NULL, "Invalid body: %s", h->bad_body);
    return false;
}

/* decode_argument's message: "Invalid unicode in NAME: b'...'" (the first 40 bytes). */
static const char *invalid_unicode(tp_handler *h, const char *name, tp_slice v)
{
    tp_buf b = {0};
    tp_buf_appendf(&b, "Invalid unicode in %s: ", name);
    tp_py_bytes_repr(&b, tp_slice_make(v.p, v.n < 40 ? v.n : 40));
    const char *msg = tp_arena_strndup(&h->req->arena, tp_buf_data(&b), b.len);
    tp_buf_free(&b);
    return msg;
}

/* decode_argument + the control-character replacement + strip (unless TP_ARG_NO_STRIP);
 * NULL (and a 400 once the method returns) for a value that is not UTF-8. */
static const char *decode(tp_handler *h, const char *name, tp_slice v, unsigned flags)
{
    char *out = tp_arena_alloc(&h->req->arena, v.n + 1);
    for (size_t i = 0; i < v.n;) {
        uint32_t cp;
        size_t len = tp_utf8_decode((const unsigned char *)v.p + i, v.n - i, &cp);
        if (!len) {
            if (!h->arg_error)
                h->arg_error = invalid_unicode(h, name, v);
            return NULL;
        }
        bool ctl = cp <= 0x08 || (cp >= 0x0e && cp <= 0x1f); /* [\x00-\x08\x0e-\x1f] */
        memcpy(out + i, ctl ? " " : v.p + i, len);
        i += len;
    }
    tp_slice s = tp_slice_make(out, v.n);
    if (!(flags & TP_ARG_NO_STRIP))
        s = tp_py_strip(s);
    out[s.p - out + s.n] = '\0';
    return s.p;
}

/* The last value of name in src: the body's wins over the query's for TP_ARGS_ALL
 * (request.arguments lists the query values first). */
static tp_slice last_raw(tp_handler *h, enum tp_arg_source src, const char *name)
{
    tp_slice v = TP_SLICE_NULL, n = tp_slice_cstr(name);
    if (src != TP_ARGS_QUERY)
        v = tp_args_get_last(&h->body_args, n);
    if (!v.p && src != TP_ARGS_BODY)
        v = tp_args_get_last(&h->query_args, n);
    return v;
}

const char *tp_get_argument_ex(tp_handler *h, enum tp_arg_source src, const char *name,
                               const char *def, unsigned flags)
{
    if (!args_ok(h) || src == TP_ARGS_FILES)
        return NULL;
    tp_slice v = last_raw(h, src, name);
    if (v.p)
        return decode(h, name, v, flags);
    if (!(flags & TP_ARG_REQUIRED))
        return def;
    if (!h->arg_error)
        h->arg_error = tp_arena_printf(&h->req->arena, "Missing argument %s", name);
    return NULL;
}

const char *tp_get_query_argument(tp_handler *h, const char *name, const char *def)
{
    return tp_get_argument_ex(h, TP_ARGS_QUERY, name, def, 0);
}

const char *tp_get_body_argument(tp_handler *h, const char *name, const char *def)
{
    return tp_get_argument_ex(h, TP_ARGS_BODY, name, def, 0);
}

const char *tp_get_argument(tp_handler *h, const char *name, const char *def)
{
    return tp_get_argument_ex(h, TP_ARGS_ALL, name, def, 0);
}

const char *tp_get_argument_required(tp_handler *h, const char *name)
{
    return tp_get_argument_ex(h, TP_ARGS_ALL, name, NULL, TP_ARG_REQUIRED);
}

const char *tp_get_query_argument_required(tp_handler *h, const char *name)
{
    return tp_get_argument_ex(h, TP_ARGS_QUERY, name, NULL, TP_ARG_REQUIRED);
}

const char *tp_get_body_argument_required(tp_handler *h, const char *name)
{
    return tp_get_argument_ex(h, TP_ARGS_BODY, name, NULL, TP_ARG_REQUIRED);
}

static size_t collect(tp_handler *h, const tp_args *args, const char *name, unsigned flags,
                      const char **out, size_t max, size_t k)
{
    for (size_t i = 0; i < args->n; i++) {
        if (!tp_slice_eq(args->v[i].name, tp_slice_cstr(name)))
            continue;
        const char *v = decode(h, name, args->v[i].value, flags);
        if (k < max && v)
            out[k] = v;
        k += v != NULL;
    }
    return k;
}

size_t tp_get_arguments_ex(tp_handler *h, enum tp_arg_source src, const char *name, unsigned flags,
                           const char **out, size_t max)
{
    if (!args_ok(h) || src == TP_ARGS_FILES)
        return 0;
    size_t k = src == TP_ARGS_BODY ? 0 : collect(h, &h->query_args, name, flags, out, max, 0);
    return src == TP_ARGS_QUERY ? k : collect(h, &h->body_args, name, flags, out, max, k);
}

size_t tp_get_arguments(tp_handler *h, const char *name, const char **out, size_t max)
{
    return tp_get_arguments_ex(h, TP_ARGS_ALL, name, 0, out, max);
}

size_t tp_get_query_arguments(tp_handler *h, const char *name, const char **out, size_t max)
{
    return tp_get_arguments_ex(h, TP_ARGS_QUERY, name, 0, out, max);
}

size_t tp_get_body_arguments(tp_handler *h, const char *name, const char **out, size_t max)
{
    return tp_get_arguments_ex(h, TP_ARGS_BODY, name, 0, out, max);
}

size_t tp_get_files(tp_handler *h, const char *name, const tp_form_file **out, size_t max)
{
    parse_args(h);
    return h->files ? tp_form_files_get(h->files, tp_slice_cstr(name), out, max) : 0;
}

/* ---- names in Tornado's dict order ------------------------------------------------------- */

typedef struct name_at {
    tp_slice name;
    size_t pos; /* where it appears among all the names */
} name_at;

/* By name, then by position: the first of a run of equal names is its first appearance. */
static int by_name(const void *a, const void *b)
{
    const name_at *x = a, *y = b;
    size_t n = x->name.n < y->name.n ? x->name.n : y->name.n;
    int c = n ? memcmp(x->name.p, y->name.p, n) : 0;
    if (c == 0 && x->name.n != y->name.n)
        c = x->name.n < y->name.n ? -1 : 1;
    return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

/* The names in v[0..n) (in order of appearance) each once, in the place of their first
 * appearance, as a dict's keys are: a sort (n log n, whatever the number of names a body
 * brings), not a scan per name. */
static size_t first_appearances(tp_handler *h, name_at *v, size_t n, const char **out, size_t max)
{
    bool *first = tp_arena_calloc(&h->req->arena, n + 1);
    tp_slice *names = tp_arena_alloc(&h->req->arena, (n + 1) * sizeof(*names));
    for (size_t i = 0; i < n; i++)
        names[i] = v[i].name;
    qsort(v, n, sizeof(*v), by_name);
    for (size_t i = 0; i < n; i++)
        first[v[i].pos] = i == 0 || !tp_slice_eq(v[i].name, v[i - 1].name);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!first[i])
            continue;
        if (k < max)
            out[k] = tp_arena_strndup(&h->req->arena, names[i].p, names[i].n);
        k++;
    }
    return k;
}

size_t tp_argument_names(tp_handler *h, enum tp_arg_source src, const char **out, size_t max)
{
    parse_args(h);
    if (src != TP_ARGS_FILES && !args_ok(h))
        return 0;
    const tp_args *lists[2] = {src == TP_ARGS_QUERY || src == TP_ARGS_ALL ? &h->query_args : NULL,
                               src == TP_ARGS_BODY || src == TP_ARGS_ALL ? &h->body_args : NULL};
    const tp_form_files *files = src == TP_ARGS_FILES ? h->files : NULL;
    size_t n = 0, total = (lists[0] ? lists[0]->n : 0) + (lists[1] ? lists[1]->n : 0) +
                          (files ? files->n : 0);
    name_at *v = tp_arena_alloc(&h->req->arena, (total + 1) * sizeof(*v));
    for (size_t l = 0; l < 2; l++)
        for (size_t i = 0; lists[l] && i < lists[l]->n; i++, n++)
            v[n] = (name_at){lists[l]->v[i].name, n};
    for (size_t i = 0; files && i < files->n; i++, n++)
        v[n] = (name_at){files->v[i].name, n};
    return first_appearances(h, v, n, out, max);
}
