/* Request arguments as RequestHandler sees them: query arguments, then the body's
 * (urlencoded or multipart, http/form.c), files; every value decoded as Tornado's
 * decode_argument does (UTF-8 or 400, control characters to spaces, stripped). */
#include <string.h>

#include "core/log.h"
#include "core/utf8.h"
#include "http/form.h"
#include "web/web_internal.h"

/* Parses query and body once. A body that is not a valid form is logged and answered with
 * 400 before prepare (tp__handler_parse_body). */
static void parse_args(tp_handler *h)
{
    if (h->args_parsed)
        return;
    h->args_parsed = true;
    tp_request *req = h->req;
    tp_parse_qs(&req->arena, req->query, &h->query_args);
    if (!req->body.n || req->stream_body)
        return;
    tp_slice ct = tp_headers_get_joined(&req->headers, TP_SLICE_LIT("Content-Type"));
    tp_slice ce = tp_headers_get_joined(&req->headers, TP_SLICE_LIT("Content-Encoding"));
    const char *err = NULL;
    h->files = tp_arena_calloc(&req->arena, sizeof(*h->files));
    if (tp_form_parse_body(&req->arena, ct.p ? ct : TP_SLICE_LIT(""), req->body, ce, NULL,
                           &h->body_args, h->files, &err) < 0)
        h->bad_body = err ? err : "invalid form";
}

bool tp__handler_parse_body(tp_handler *h)
{
    parse_args(h);
    if (!h->bad_body)
        return true;
    tp_log_warning("400 %.*s %.*s (%.*s): Invalid body: %s", TP_SLICE_FMT(h->req->method),
                   TP_SLICE_FMT(h->req->uri), TP_SLICE_FMT(h->req->remote_ip), h->bad_body);
    tp_send_error(h, 400);
    return false;
}

/* decode_argument + the control-character replacement + strip; NULL (and a 400 once the
 * method returns) for a value that is not UTF-8. */
static const char *decode(tp_handler *h, const char *name, tp_slice v)
{
    char *out = tp_arena_alloc(&h->req->arena, v.n + 1);
    for (size_t i = 0; i < v.n;) {
        uint32_t cp;
        size_t len = tp_utf8_decode((const unsigned char *)v.p + i, v.n - i, &cp);
        if (!len) {
            if (!h->bad_argument)
                h->bad_argument = tp_arena_strndup(&h->req->arena, name, strlen(name));
            return NULL;
        }
        bool ctl = cp <= 0x08 || (cp >= 0x0e && cp <= 0x1f); /* [\x00-\x08\x0e-\x1f] */
        memcpy(out + i, ctl ? " " : v.p + i, len);
        i += len;
    }
    tp_slice s = tp_py_strip(tp_slice_make(out, v.n));
    out[s.p - out + s.n] = '\0';
    return s.p;
}

static const char *last(tp_handler *h, const tp_args *args, const char *name, const char *def)
{
    tp_slice v = tp_args_get_last(args, tp_slice_cstr(name));
    return v.p ? decode(h, name, v) : def;
}

const char *tp_get_query_argument(tp_handler *h, const char *name, const char *def)
{
    parse_args(h);
    return last(h, &h->query_args, name, def);
}

const char *tp_get_body_argument(tp_handler *h, const char *name, const char *def)
{
    parse_args(h);
    return last(h, &h->body_args, name, def);
}

/* request.arguments is the query arguments followed by the body's: the body wins. */
const char *tp_get_argument(tp_handler *h, const char *name, const char *def)
{
    parse_args(h);
    tp_slice v = tp_args_get_last(&h->body_args, tp_slice_cstr(name));
    if (!v.p)
        v = tp_args_get_last(&h->query_args, tp_slice_cstr(name));
    return v.p ? decode(h, name, v) : def;
}

const char *tp_get_argument_required(tp_handler *h, const char *name)
{
    const char *v = tp_get_argument(h, name, NULL);
    if (!v && !h->missing_argument && !h->bad_argument)
        h->missing_argument = tp_arena_strndup(&h->req->arena, name, strlen(name));
    return v;
}

static size_t collect(tp_handler *h, const tp_args *args, const char *name, const char **out,
                      size_t max, size_t k)
{
    for (size_t i = 0; i < args->n; i++) {
        if (!tp_slice_eq(args->v[i].name, tp_slice_cstr(name)))
            continue;
        const char *v = decode(h, name, args->v[i].value);
        if (k < max && v)
            out[k] = v;
        k += v != NULL;
    }
    return k;
}

size_t tp_get_arguments(tp_handler *h, const char *name, const char **out, size_t max)
{
    parse_args(h);
    size_t k = collect(h, &h->query_args, name, out, max, 0);
    return collect(h, &h->body_args, name, out, max, k);
}

size_t tp_get_query_arguments(tp_handler *h, const char *name, const char **out, size_t max)
{
    parse_args(h);
    return collect(h, &h->query_args, name, out, max, 0);
}

size_t tp_get_body_arguments(tp_handler *h, const char *name, const char **out, size_t max)
{
    parse_args(h);
    return collect(h, &h->body_args, name, out, max, 0);
}

size_t tp_get_files(tp_handler *h, const char *name, const tp_form_file **out, size_t max)
{
    parse_args(h);
    return h->files ? tp_form_files_get(h->files, tp_slice_cstr(name), out, max) : 0;
}
