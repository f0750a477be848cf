/* The route table (Tornado's Application rules): path patterns matched with PCRE2, anchored at
 * the start with "$" appended, first match wins; host-specific rules (add_handlers) are tried
 * before the host-less ones; named routes reverse into URLs (reverse_url). */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/escape.h"
#include "core/utf8.h"
#include "web/web_internal.h"

/* Compiles pattern as Tornado does: "$" appended if missing, matched from the start. */
static pcre2_code *compile_anchored(const char *pattern, const char *what, char **full_out)
{
    size_t n = strlen(pattern);
    char *full = tp_malloc(n + 2);
    memcpy(full, pattern, n + 1);
    if (!n || pattern[n - 1] != '$')
        memcpy(full + n, "$", 2);
    int err;
    PCRE2_SIZE off;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)full, PCRE2_ZERO_TERMINATED, PCRE2_ANCHORED, &err, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[128];
        pcre2_get_error_message(err, msg, sizeof(msg));
        tp_log_error("bad %s pattern %s at offset %zu: %s", what, pattern, (size_t)off, msg);
        tp_free(full);
        return NULL;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter if no JIT */
    if (full_out)
        *full_out = full;
    else
        tp_free(full);
    return re;
}

static void grow_match_data(tp_app *app, const pcre2_code *re)
{
    uint32_t groups = 0;
    pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &groups);
    if (!app->md || pcre2_get_ovector_count(app->md) < groups + 1) {
        pcre2_match_data_free(app->md);
        app->md = pcre2_match_data_create(groups + 8, NULL);
    }
}

int tp_app_add_route(tp_app *app, const tp_route_spec *spec)
{
    if (!spec->pattern || !spec->cls)
        return -EINVAL;
    char *full;
    pcre2_code *re = compile_anchored(spec->pattern, "route", &full);
    if (!re)
        return -EINVAL;
    pcre2_code *host = NULL;
    if (spec->host && !(host = compile_anchored(spec->host, "host", NULL))) {
        pcre2_code_free(re);
        tp_free(full);
        return -EINVAL;
    }
    app->routes = tp_realloc(app->routes, (app->nroutes + 1) * sizeof(*app->routes));
    app->routes[app->nroutes++] =
        (tp_route){.re = re,
                   .host = host,
                   .cls = spec->cls,
                   .data = spec->data,
                   .pattern = full,
                   .name = spec->name ? tp_strndup(spec->name, strlen(spec->name)) : NULL};
    grow_match_data(app, re);
    return 0;
}

int tp_app_route(tp_app *app, const char *pattern, const tp_handler_class *cls, void *route_data)
{
    return tp_app_add_route(app,
                            &(tp_route_spec){.pattern = pattern, .cls = cls, .data = route_data});
}

void tp__routes_free(tp_app *app)
{
    for (size_t i = 0; i < app->nroutes; i++) {
        pcre2_code_free(app->routes[i].re);
        pcre2_code_free(app->routes[i].host);
        tp_free(app->routes[i].pattern);
        tp_free(app->routes[i].name);
    }
    tp_free(app->routes);
    tp__route_index_free(app->index);
}

static bool matches(tp_app *app, const pcre2_code *re, tp_slice subject)
{
    return pcre2_match(re, (PCRE2_SPTR)subject.p, subject.n, 0, 0, app->md, NULL) >= 0;
}

/* Tornado reads the request target as latin-1 text and _unquote_or_none encodes a group as
 * UTF-8 before percent-decoding it: a raw byte >= 0x80 becomes that code point's UTF-8 (raw
 * "\xc3\xa9" is captured as "\u00c3\u00a9"), so only percent-escapes can give bytes that are
 * not UTF-8. Matching bytes without PCRE2_UTF is matching latin-1 characters.
 * The path groups of the last match, percent-decoded ('+' stays), unmatched ones NULL. */
static void take_args(tp_app *app, const tp_route *r, tp_request *req, tp_slice **args,
                      size_t *nargs)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(app->md);
    uint32_t groups = 0;
    pcre2_pattern_info(r->re, PCRE2_INFO_CAPTURECOUNT, &groups);
    *nargs = groups;
    *args = groups ? tp_arena_alloc(&req->arena, groups * sizeof(tp_slice)) : NULL;
    for (size_t k = 0; k < groups; k++) {
        if (ov[2 * (k + 1)] == PCRE2_UNSET) {
            (*args)[k] = TP_SLICE_NULL;
            continue;
        }
        tp_slice raw = {req->path.p + ov[2 * (k + 1)], ov[2 * (k + 1) + 1] - ov[2 * (k + 1)]};
        (*args)[k] = tp_url_unescape(&req->arena, tp_latin1_to_utf8(&req->arena, raw), false);
    }
}

/* decode_argument of the path arguments: HTTPError(400, "Invalid unicode in url: b'...'"),
 * Python's repr of the first 40 bytes. */
static void bad_path_arg(tp_handler *h, tp_slice v)
{
    tp_buf b = {0};
    tp_py_bytes_repr(&b, tp_slice_make(v.p, v.n < 40 ? v.n : 40));
    tp_http_error(h, 400, NULL, "Invalid unicode in url: %.*s", (int)b.len, tp_buf_data(&b));
    tp_buf_free(&b);
}

bool tp__path_args_check(tp_handler *h)
{
    for (size_t i = 0; i < h->npath_args; i++) {
        tp_slice v = h->path_args[i];
        if (v.p && !tp_utf8_valid(v)) {
            bad_path_arg(h, v);
            return false;
        }
    }
    return true;
}

const tp_route *tp__routes_match(tp_app *app, tp_request *req, tp_slice **args, size_t *nargs)
{
    if (!app->md)
        app->md = pcre2_match_data_create(8, NULL);
    const uint32_t *cand;
    size_t n = tp__route_candidates(app, req->path, &cand);
    for (int pass = 0; pass < 2; pass++) { /* host rules first, then the host-less ones */
        for (size_t i = 0; i < n; i++) {
            const tp_route *r = &app->routes[cand[i]];
            if ((r->host != NULL) != (pass == 0))
                continue;
            if (r->host && !matches(app, r->host, req->host_name))
                continue;
            if (!matches(app, r->re, req->path))
                continue;
            take_args(app, r, req, args, nargs);
            return r;
        }
    }
    return NULL;
}

/* ---- reverse_url ------------------------------------------------------------------------ */

/* re_unescape of one literal fragment into b; false if it holds regex syntax (an escaped
 * letter or digit like \d, or an unescaped special character). */
static bool unescape_fragment(const char *p, size_t n, tp_buf *b)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\') {
            if (i + 1 >= n || isalnum((unsigned char)p[i + 1]))
                return false;
            tp_buf_append(b, &p[++i], 1);
        } else {
            tp_buf_append(b, &p[i], 1);
        }
    }
    return true;
}

/* Tornado's URLSpec._find_groups: the pattern as pieces with a "%s" per group, or -EINVAL
 * when the pattern is too complicated to reverse (nested or non-capturing groups...). */
static int reverse_template(const tp_route *r, tp_buf *out, size_t *ngroups)
{
    const char *p = r->pattern;
    size_t n = strlen(p);
    if (n && p[0] == '^')
        p++, n--;
    if (n && p[n - 1] == '$')
        n--;
    uint32_t groups = 0;
    pcre2_pattern_info(r->re, PCRE2_INFO_CAPTURECOUNT, &groups);
    size_t parens = 0;
    for (size_t i = 0; i < n; i++)
        parens += p[i] == '(';
    if (parens != groups)
        return -EINVAL;
    *ngroups = groups;
    /* pattern.split("("): a fragment holding ")" is a group, then literal text */
    const char *frag = p, *end = p + n;
    for (;;) {
        const char *open = memchr(frag, '(', (size_t)(end - frag));
        const char *stop = open ? open : end;
        const char *close = memchr(frag, ')', (size_t)(stop - frag));
        if (close)
            tp_buf_append_str(out, "%s");
        const char *lit = close ? close + 1 : frag;
        if (!unescape_fragment(lit, (size_t)(stop - lit), out))
            return -EINVAL;
        if (!open)
            break;
        frag = open + 1;
    }
    return 0;
}

static const tp_route *named(tp_app *app, const char *name)
{
    for (size_t i = 0; i < app->nroutes; i++)
        if (app->routes[i].name && strcmp(app->routes[i].name, name) == 0)
            return &app->routes[i];
    return NULL;
}

char *tp_reverse_url(tp_app *app, tp_arena *a, const char *name, size_t nargs, const char **args)
{
    const tp_route *r = named(app, name);
    if (!r) {
        tp_log_error("reverse_url: no route named %s", name);
        return NULL;
    }
    tp_buf tmpl = {0}, out = {0};
    size_t groups = 0;
    char *result = NULL;
    if (reverse_template(r, &tmpl, &groups) < 0)
        tp_log_error("reverse_url: cannot reverse url regex %s", r->pattern);
    else if (groups != nargs)
        tp_log_error("reverse_url %s: %zu arguments for %zu groups", name, nargs, groups);
    else {
        tp_slice t = tp_buf_slice(&tmpl);
        size_t k = 0;
        for (size_t i = 0; i < t.n; i++) {
            if (t.p[i] == '%' && i + 1 < t.n && t.p[i + 1] == 's') {
                tp_slice e = tp_url_escape(a, tp_slice_cstr(args[k++]), false);
                tp_buf_append(&out, e.p, e.n);
                i++;
            } else {
                tp_buf_append(&out, &t.p[i], 1);
            }
        }
        result = tp_arena_strndup(a, tp_buf_data(&out), out.len);
    }
    tp_buf_free(&tmpl);
    tp_buf_free(&out);
    return result;
}
