/* The C side of the differential suite (tests/diff/run.py): the same app as
 * tests/diff/twin.py on Debian's tornado.web, handler for handler, with the same routes,
 * settings and output. run.py sends both the same raw requests and compares the answers.
 * Keep the two in step. The static fixture directory is $TP_DIFF_STATIC (default
 * tests/diff/static). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tp.h"

#define COOKIE_SECRET "diff-secret-shared-by-both"

static const char *const arg_names[] = {"a", "b", "c", "s", "u"};

static void write_list(tp_handler *h,
                       size_t (*fn)(tp_handler *, const char *, const char **, size_t),
                       const char *name)
{
    const char *v[64];
    size_t n = fn(h, name, v, 64);
    for (size_t i = 0; i < n && i < 64; i++)
        tp_writef(h, "%s%s", i ? "|" : "", v[i] ? v[i] : "");
}

static const char *or_none(const char *s)
{
    return s ? s : "(none)";
}

/* ---- methods ---------------------------------------------------------------------------- */

static int methods_say(tp_handler *h)
{
    tp_writef(h, "%.*s /methods", TP_SLICE_FMT(tp_handler_request(h)->method));
    return TP_OK;
}

static const tp_handler_class methods_cls = {.name = "Methods",
                                             .flags = TP_NO_XSRF_CHECK,
                                             .get = methods_say,
                                             .post = methods_say,
                                             .put = methods_say,
                                             .delete_ = methods_say,
                                             .patch = methods_say};

static int methods2_get(tp_handler *h)
{
    return tp_write_str(h, "GET /methods2"), TP_OK;
}

static int methods2_head(tp_handler *h)
{
    return tp_set_header(h, "X-Head", "1"), TP_OK;
}

static int methods2_options(tp_handler *h)
{
    tp_set_header(h, "Allow", "GET, HEAD, OPTIONS");
    tp_set_status(h, 204, NULL);
    return TP_OK;
}

static const tp_handler_class methods2_cls = {.name = "Methods2",
                                              .flags = TP_NO_XSRF_CHECK,
                                              .get = methods2_get,
                                              .head = methods2_head,
                                              .options = methods2_options};

/* ---- arguments and files ---------------------------------------------------------------- */

static int args_show(tp_handler *h)
{
    for (size_t i = 0; i < sizeof(arg_names) / sizeof(arg_names[0]); i++) {
        const char *n = arg_names[i];
        const char *v = tp_get_argument(h, n, "(none)");
        if (!v)
            return TP_OK; /* not UTF-8: 400 once we return */
        tp_writef(h, "%s: arg=%s all=[", n, v);
        write_list(h, tp_get_arguments, n);
        tp_write_str(h, "] q=[");
        write_list(h, tp_get_query_arguments, n);
        tp_write_str(h, "] body=[");
        write_list(h, tp_get_body_arguments, n);
        tp_write_str(h, "]\n");
    }
    tp_writef(h, "qa=%s ba=%s\n", or_none(tp_get_query_argument(h, "a", "(none)")),
              or_none(tp_get_body_argument(h, "a", "(none)")));
    return TP_OK;
}

static const tp_handler_class args_cls = {.name = "Args",
                                          .flags = TP_NO_XSRF_CHECK,
                                          .get = args_show,
                                          .post = args_show,
                                          .put = args_show};

static int required_get(tp_handler *h)
{
    const char *v = tp_get_argument_required(h, "name");
    if (v)
        tp_writef(h, "name=%s", v);
    return TP_OK;
}

static const tp_handler_class required_cls = {
    .name = "Required", .flags = TP_NO_XSRF_CHECK, .get = required_get, .post = required_get};

static int files_post(tp_handler *h)
{
    static const char *const fields[] = {"f", "g"};
    for (size_t i = 0; i < 2; i++) {
        const tp_form_file *f[32];
        size_t n = tp_get_files(h, fields[i], f, 32);
        for (size_t j = 0; j < n && j < 32; j++) {
            tp_writef(h, "%s: filename=%.*s type=%.*s len=%zu\n", fields[i],
                      TP_SLICE_FMT(f[j]->filename), TP_SLICE_FMT(f[j]->content_type), f[j]->body.n);
            tp_write(h, f[j]->body.p, f[j]->body.n);
            tp_write_str(h, "\n");
        }
    }
    tp_writef(h, "t=%s\n", or_none(tp_get_body_argument(h, "t", "(none)")));
    return TP_OK;
}

static const tp_handler_class files_cls = {
    .name = "Files", .flags = TP_NO_XSRF_CHECK, .post = files_post};

/* ---- status, headers, bodies ------------------------------------------------------------ */

static int status_get(tp_handler *h)
{
    const char *code = tp_get_argument_required(h, "code");
    if (!code)
        return TP_OK;
    if (tp_set_status(h, atoi(code), tp_get_argument(h, "reason", NULL)) < 0)
        tp_write_str(h, "refused ");
    tp_write_str(h, "status body");
    return TP_OK;
}

static const tp_handler_class status_cls = {.name = "Status", .get = status_get};

static int headers_get(tp_handler *h)
{
    const char *op = tp_get_argument(h, "op", "");
    tp_set_header(h, "X-Set", "1");
    tp_set_header(h, "X-Set", "2");
    tp_add_header(h, "X-Add", "a");
    tp_add_header(h, "X-Add", "b");
    tp_set_header(h, "X-Gone", "x");
    tp_clear_header(h, "X-Gone");
    tp_set_header(h, "Content-Type", "text/plain; charset=utf-8");
    if (!strcmp(op, "inject") && tp_set_header(h, "X-Bad", "a\r\nSet-Cookie: evil=1") < 0)
        return TP_ERROR; /* Tornado raises ValueError("Unsafe header value") */
    if (!strcmp(op, "clear")) {
        tp_write_str(h, "before clear");
        tp_clear(h);
    }
    tp_write_str(h, "headers");
    return TP_OK;
}

static const tp_handler_class headers_cls = {.name = "Headers", .get = headers_get};

/* write(dict): Tornado sets application/json and writes json_encode(dict). */
static int json_get(tp_handler *h)
{
    json_t *v =
        json_pack("{s:i, s:s, s:s, s:[i, i, n, b, b], s:f, s:{s:s}}", "a", 1, "s", "</script>", "u",
                  "\xc3\xa9\xe4\xb8\xad", "l", 1, 2, 1, 0, "f", 1.5, "n", "k", "v\"q\\");
    if (!v)
        return TP_ERROR;
    tp_slice s = tp_json_encode(tp_handler_arena(h), v);
    json_decref(v);
    if (!s.p)
        return TP_ERROR;
    tp_set_header(h, "Content-Type", "application/json; charset=UTF-8");
    tp_write(h, s.p, s.n);
    return TP_OK;
}

static const tp_handler_class json_cls = {.name = "Json", .get = json_get};

static int flush_get(tp_handler *h)
{
    tp_write_str(h, "part1,");
    tp_flush(h);
    tp_write_str(h, "part2");
    return TP_OK;
}

static const tp_handler_class flush_cls = {.name = "Flush", .get = flush_get};

static int redirect_get(tp_handler *h)
{
    const char *to = tp_get_argument_required(h, "to");
    if (!to)
        return TP_OK;
    const char *status = tp_get_argument(h, "status", NULL);
    if (status && *status)
        return tp_redirect_status(h, to, atoi(status)) < 0 ? TP_ERROR : TP_OK;
    if (tp_redirect(h, to, !strcmp(tp_get_argument(h, "perm", "0"), "1")) < 0)
        return TP_ERROR;
    return TP_OK;
}

static const tp_handler_class redirect_cls = {.name = "Redirect", .get = redirect_get};

static int senderror_get(tp_handler *h)
{
    tp_write_str(h, "discarded");
    const char *code = tp_get_argument_required(h, "code");
    if (code)
        tp_send_error(h, atoi(code));
    return TP_OK;
}

static const tp_handler_class senderror_cls = {.name = "SendError", .get = senderror_get};

static int raise_get(tp_handler *h)
{
    tp_write_str(h, "discarded");
    return TP_ERROR;
}

static const tp_handler_class raise_cls = {.name = "Raise", .get = raise_get};

static int custom_write_error(tp_handler *h, int status)
{
    char code[16];
    snprintf(code, sizeof(code), "%d", status);
    tp_set_header(h, "X-Error", code);
    tp_writef(h, "custom error %d %s\n", status, tp_http_reason(status));
    return TP_OK;
}

static const tp_handler_class customerror_cls = {
    .name = "CustomError", .get = senderror_get, .write_error = custom_write_error};

/* ---- cookies ---------------------------------------------------------------------------- */

static int cookies_get(tp_handler *h)
{
    tp_slice what = tp_path_arg(h, 0);
    if (tp_slice_eq(what, TP_SLICE_LIT("get"))) {
        const char *names[32];
        size_t n = tp_get_arguments(h, "name", names, 32);
        for (size_t i = 0; i < n && i < 32; i++)
            tp_writef(h, "%s=%s\n", names[i], tp_get_cookie(h, names[i], "(none)"));
        return TP_OK;
    }
    const char *name = tp_get_argument(h, "name", "c");
    if (tp_slice_eq(what, TP_SLICE_LIT("clear"))) {
        if (tp_clear_cookie(h, name, tp_get_argument(h, "path", "/"),
                            tp_get_argument(h, "domain", NULL)) < 0)
            return TP_ERROR;
        return tp_write_str(h, "cleared"), TP_OK;
    }
    if (tp_slice_eq(what, TP_SLICE_LIT("signed_set"))) {
        if (tp_set_signed_cookie(h, name, tp_get_argument(h, "value", ""), NULL) < 0)
            return TP_ERROR;
        return tp_write_str(h, "signed"), TP_OK;
    }
    if (tp_slice_eq(what, TP_SLICE_LIT("signed_get"))) {
        const char *v = tp_get_signed_cookie(h, name, 31);
        return tp_write_str(h, v ? v : "(invalid)"), TP_OK;
    }
    tp_cookie_attrs a = tp_cookie_attrs_default();
    a.domain = tp_get_argument(h, "domain", NULL);
    a.path = tp_get_argument(h, "path", "/");
    a.samesite = tp_get_argument(h, "samesite", NULL);
    a.expires = (time_t)atol(tp_get_argument(h, "expires", "0"));
    a.max_age = atol(tp_get_argument(h, "max_age", "-1"));
    a.secure = *tp_get_argument(h, "secure", "") != 0;
    a.httponly = *tp_get_argument(h, "httponly", "") != 0;
    if (tp_set_cookie(h, name, tp_get_argument(h, "value", ""), &a) < 0)
        return TP_ERROR; /* Tornado raises ValueError */
    return tp_write_str(h, "set"), TP_OK;
}

static const tp_handler_class cookies_cls = {.name = "Cookies", .get = cookies_get};

/* ---- XSRF and Etags --------------------------------------------------------------------- */

static int xsrf_get(tp_handler *h)
{
    return tp_write_str(h, tp_xsrf_token(h)), TP_OK;
}

static int xsrf_post(tp_handler *h)
{
    return tp_write_str(h, "xsrf ok"), TP_OK;
}

static const tp_handler_class xsrf_cls = {.name = "Xsrf",
                                          .get = xsrf_get,
                                          .post = xsrf_post,
                                          .put = xsrf_post,
                                          .delete_ = xsrf_post,
                                          .patch = xsrf_post};

static int xsrf_form_get(tp_handler *h)
{
    return tp_write_str(h, tp_xsrf_form_html(h)), TP_OK;
}

static const tp_handler_class xsrf_form_cls = {.name = "XsrfForm", .get = xsrf_form_get};

static int etag_get(tp_handler *h)
{
    return tp_write_str(h, tp_get_argument(h, "body", "etag body")), TP_OK;
}

static const tp_handler_class etag_cls = {.name = "Etag", .get = etag_get};
static const tp_handler_class noetag_cls = {.name = "NoEtag", .flags = TP_NO_ETAG, .get = etag_get};

static int setetag_get(tp_handler *h)
{
    tp_set_header(h, "Etag", "\"custom\"");
    return tp_write_str(h, "custom etag body"), TP_OK;
}

static const tp_handler_class setetag_cls = {.name = "SetEtag", .get = setetag_get};

static int static_url_get(tp_handler *h)
{
    const char *path = tp_get_argument_required(h, "path");
    if (!path)
        return TP_OK;
    bool version = !strcmp(tp_get_argument(h, "v", "1"), "1");
    char *url = tp_static_url(tp_handler_app(h), tp_handler_arena(h), path, version);
    return url ? (tp_write_str(h, url), TP_OK) : TP_ERROR;
}

static const tp_handler_class static_url_cls = {.name = "StaticUrl", .get = static_url_get};

/* ---- slashes, authentication, reverse_url, hosts ---------------------------------------- */

static int addslash_get(tp_handler *h)
{
    tp_writef(h, "addslash %.*s", TP_SLICE_FMT(tp_handler_request(h)->path));
    return TP_OK;
}

static const tp_handler_class addslash_cls = {.name = "AddSlash",
                                              .flags = TP_NO_XSRF_CHECK | TP_ADDSLASH,
                                              .get = addslash_get,
                                              .post = addslash_get};

static int removeslash_get(tp_handler *h)
{
    tp_writef(h, "removeslash %.*s", TP_SLICE_FMT(tp_handler_request(h)->path));
    return TP_OK;
}

static const tp_handler_class removeslash_cls = {.name = "RemoveSlash",
                                                 .flags = TP_NO_XSRF_CHECK | TP_REMOVESLASH,
                                                 .get = removeslash_get,
                                                 .post = removeslash_get};

static const char *private_user(tp_handler *h)
{
    return tp_get_cookie(h, "user", NULL);
}

static int private_get(tp_handler *h)
{
    tp_writef(h, "hello %s", tp_current_user(h));
    return TP_OK;
}

static const tp_handler_class private_cls = {.name = "Private",
                                             .flags = TP_NO_XSRF_CHECK | TP_AUTHENTICATED,
                                             .get = private_get,
                                             .post = private_get,
                                             .get_current_user = private_user};

static int login_get(tp_handler *h)
{
    tp_writef(h, "login page next=%s", or_none(tp_get_argument(h, "next", "(none)")));
    return TP_OK;
}

static const tp_handler_class login_cls = {.name = "Login", .get = login_get};

static int reverse_get(tp_handler *h)
{
    tp_app *app = tp_handler_app(h);
    tp_arena *a = tp_handler_arena(h);
    const char *a1[] = {"42", "abc"}, *a2[] = {"7", "x y/z"};
    char *u1 = tp_reverse_url(app, a, "item", 2, a1);
    char *u2 = tp_reverse_url(app, a, "item", 2, a2);
    char *u3 = tp_reverse_url(app, a, "plain", 0, NULL);
    if (!u1 || !u2 || !u3)
        return TP_ERROR;
    tp_writef(h, "%s\n%s\n%s\n", u1, u2, u3);
    return TP_OK;
}

static const tp_handler_class reverse_cls = {.name = "Reverse", .get = reverse_get};

static int item_get(tp_handler *h)
{
    tp_slice a = tp_path_arg(h, 0), b = tp_path_arg(h, 1);
    tp_writef(h, "item %.*s %.*s", TP_SLICE_FMT(a), TP_SLICE_FMT(b));
    return TP_OK;
}

static const tp_handler_class item_cls = {.name = "Item", .get = item_get};

static int hosta_get(tp_handler *h)
{
    return tp_write_str(h, "host example.com"), TP_OK;
}

static int hostb_get(tp_handler *h)
{
    return tp_write_str(h, "host any"), TP_OK;
}

static const tp_handler_class hosta_cls = {.name = "HostA", .get = hosta_get};
static const tp_handler_class hostb_cls = {.name = "HostB", .get = hostb_get};

/* ---- gzip, fallback, default handler ---------------------------------------------------- */

static int gz_get(tp_handler *h)
{
    long n = atol(tp_get_argument(h, "n", "2000"));
    tp_set_header(h, "Content-Type", tp_get_argument(h, "ctype", "text/plain"));
    const char *vary = tp_get_argument(h, "vary", NULL);
    if (vary && *vary)
        tp_set_header(h, "Vary", vary);
    char line[64];
    long done = 0;
    for (int i = 0; done < n; i++) {
        int k = snprintf(line, sizeof(line), "gzip me please, line of text %d\n", i);
        if (k > n - done)
            k = (int)(n - done);
        tp_write(h, line, (size_t)k);
        done += k;
    }
    return TP_OK;
}

static const tp_handler_class gz_cls = {.name = "Gz", .get = gz_get};

static int gzflush_get(tp_handler *h)
{
    char buf[3000];
    memset(buf, 'x', sizeof(buf));
    tp_write(h, buf, sizeof(buf));
    tp_flush(h);
    memset(buf, 'y', sizeof(buf));
    tp_write(h, buf, sizeof(buf));
    return TP_OK;
}

static const tp_handler_class gzflush_cls = {.name = "GzFlush", .get = gzflush_get};

static int inner_get(tp_handler *h)
{
    tp_slice rest = tp_path_arg(h, 0);
    tp_writef(h, "inner app: %.*s", TP_SLICE_FMT(rest));
    return TP_OK;
}

static const tp_handler_class inner_cls = {.name = "Inner", .get = inner_get};

static int default_prepare(tp_handler *h)
{
    tp_set_status(h, 404, NULL);
    tp_writef(h, "no route for %.*s", TP_SLICE_FMT(tp_handler_request(h)->path));
    tp_finish(h);
    return TP_OK;
}

static const tp_handler_class default_cls = {.name = "Default", .prepare = default_prepare};

/* ---- arguments as text, request extras, cookies, signed values, header values ----------- */

static void write_bracketed(tp_handler *h, const char **v, size_t n)
{
    for (size_t i = 0; i < n && i < 64; i++)
        tp_writef(h, "%s[%s]", i ? "|" : "", v[i]);
}

static void argnames_source(tp_handler *h, const char *label, enum tp_arg_source src)
{
    const char *names[64], *v[64];
    size_t n = tp_argument_names(h, src, names, 64);
    tp_writef(h, "%s:", label);
    for (size_t i = 0; i < n && i < 64; i++) {
        tp_writef(h, " %s=", names[i]);
        write_bracketed(h, v, tp_get_arguments_ex(h, src, names[i], TP_ARG_NO_STRIP, v, 64));
    }
    tp_write_str(h, "\n");
}

static void argnames_files(tp_handler *h)
{
    const char *names[64];
    size_t n = tp_argument_names(h, TP_ARGS_FILES, names, 64);
    tp_write_str(h, "files:");
    for (size_t i = 0; i < n && i < 64; i++) {
        const tp_form_file *f[32];
        size_t nf = tp_get_files(h, names[i], f, 32);
        tp_writef(h, " %s=", names[i]);
        for (size_t j = 0; j < nf && j < 32; j++)
            tp_writef(h, "%s[%.*s]", j ? "|" : "", TP_SLICE_FMT(f[j]->filename));
    }
    tp_write_str(h, "\n");
}

static int argnames_show(tp_handler *h)
{
    argnames_source(h, "arguments", TP_ARGS_ALL);
    argnames_source(h, "query", TP_ARGS_QUERY);
    argnames_source(h, "body", TP_ARGS_BODY);
    argnames_files(h);
    static const char *const names[] = {"a", "b"};
    for (size_t i = 0; i < 2; i++) {
        const char *n = names[i];
        const char *arg = tp_get_argument_ex(h, TP_ARGS_ALL, n, "(none)", TP_ARG_NO_STRIP);
        const char *q = tp_get_argument_ex(h, TP_ARGS_QUERY, n, "(none)", TP_ARG_NO_STRIP);
        const char *b = tp_get_argument_ex(h, TP_ARGS_BODY, n, "(none)", TP_ARG_NO_STRIP);
        const char *st = tp_get_argument(h, n, "(none)");
        if (!arg || !q || !b || !st)
            return TP_OK; /* not UTF-8: 400 once we return */
        tp_writef(h, "%s: arg=[%s] q=[%s] body=[%s] stripped=[%s]\n", n, arg, q, b, st);
    }
    return TP_OK;
}

static const tp_handler_class argnames_cls = {.name = "ArgNames",
                                              .flags = TP_NO_XSRF_CHECK,
                                              .get = argnames_show,
                                              .post = argnames_show,
                                              .put = argnames_show};

static int required_src_show(tp_handler *h)
{
    const char *src = tp_get_argument_required(h, "src");
    if (!src)
        return TP_OK;
    bool query = strcmp(src, "query") == 0;
    const char *v = query ? tp_get_query_argument_required(h, "name")
                          : tp_get_body_argument_required(h, "name");
    if (v)
        tp_writef(h, "%s name=[%s]", query ? "query" : "body", v);
    return TP_OK;
}

static const tp_handler_class required_src_cls = {.name = "RequiredSource",
                                                  .flags = TP_NO_XSRF_CHECK,
                                                  .get = required_src_show,
                                                  .post = required_src_show};

static int fullurl_get(tp_handler *h)
{
    return tp_write_str(h, tp_full_url(h)), TP_OK;
}

static const tp_handler_class fullurl_cls = {.name = "FullUrl", .get = fullurl_get};

static const char *custom_etag_compute(tp_handler *h)
{
    const char *v = tp_get_argument(h, "v", "");
    if (!v || strcmp(v, "none") == 0)
        return NULL;
    return tp_arena_printf(tp_handler_arena(h), "\"custom-%s\"", v);
}

static int custom_etag_get(tp_handler *h)
{
    if (tp_get_argument(h, "manual", NULL)) {
        tp_set_etag_header(h);
        if (tp_check_etag_header(h)) {
            tp_set_status(h, 304, NULL);
            return TP_OK;
        }
        tp_write_str(h, "manual ");
    }
    tp_write_str(h, "body");
    return TP_OK;
}

static const tp_handler_class custom_etag_cls = {
    .name = "CustomEtag", .compute_etag = custom_etag_compute, .get = custom_etag_get};

static void default_headers_set(tp_handler *h)
{
    tp_set_header(h, "X-Default", "d");
    tp_set_header(h, "Content-Type", "text/plain");
    tp_set_header(h, "Access-Control-Allow-Origin", "*");
}

static int default_headers_get(tp_handler *h)
{
    const char *op = tp_get_argument(h, "op", "");
    if (!op)
        return TP_OK;
    if (strcmp(op, "override") == 0) {
        tp_set_header(h, "X-Default", "changed");
    } else if (strcmp(op, "clear") == 0) {
        tp_clear_header(h, "X-Default");
        tp_set_header(h, "X-Default", "again");
    } else if (strcmp(op, "error") == 0) {
        tp_set_header(h, "X-Lost", "1");
        return tp_send_error(h, 404), TP_OK;
    } else if (strcmp(op, "raise") == 0) {
        return TP_ERROR;
    } else if (strcmp(op, "clear_all") == 0) {
        tp_set_header(h, "X-Lost", "1");
        tp_clear(h);
    }
    double t = tp_request_time(h);
    if (t >= 0 && t < 60)
        tp_write_str(h, "time ok\n");
    else
        tp_writef(h, "time %g\n", t);
    return TP_OK;
}

static const tp_handler_class default_headers_cls = {.name = "DefaultHeaders",
                                                     .set_default_headers = default_headers_set,
                                                     .get = default_headers_get};

static int extra_get(tp_handler *h)
{
    return tp_write_str(h, "GET /extra"), TP_OK;
}

static int extra_purge(tp_handler *h)
{
    const char *a = tp_get_argument(h, "a", "(none)");
    if (a)
        tp_writef(h, "PURGE /extra a=%s", a);
    return TP_OK;
}

static int extra_propfind(tp_handler *h)
{
    tp_set_status(h, 207, NULL);
    return tp_write_str(h, "PROPFIND /extra"), TP_OK;
}

static const tp_extra_method extra_methods[] = {
    {"PURGE", extra_purge}, {"PROPFIND", extra_propfind}, {"LOCK", NULL}, {NULL, NULL}};
static const tp_handler_class extra_cls = {
    .name = "Extra", .flags = TP_NO_XSRF_CHECK, .get = extra_get, .extra_methods = extra_methods};
static const tp_handler_class extra_xsrf_cls = {
    .name = "ExtraXsrf", .get = extra_get, .extra_methods = extra_methods};

static int cookie_list_get(tp_handler *h)
{
    const char *names[64], *values[64];
    size_t n = tp_get_cookies(h, names, values, 64);
    for (size_t i = 0; i < n && i < 64; i++)
        tp_writef(h, "%s=[%s]\n", names[i], values[i]);
    return TP_OK;
}

static const tp_handler_class cookie_list_cls = {.name = "CookieList", .get = cookie_list_get};

/* With check=1: the value's shape and what decoding it gives back, instead of the value
 * itself (a version 1 value holds the time, which the comparison cannot normalise). */
static int signed_create_get(tp_handler *h)
{
    const char *name = tp_get_argument(h, "name", "c");
    const char *value = tp_get_argument(h, "value", "");
    const char *ver = tp_get_argument(h, "version", "0");
    if (!name || !value || !ver)
        return TP_OK; /* not UTF-8: 400 once we return */
    int version = atoi(ver);
    const char *v = tp_create_signed_value(h, name, value, strlen(value), version);
    if (!v)
        return TP_ERROR;
    if (!tp_get_argument(h, "check", NULL)) {
        tp_set_cookie(h, name, v, NULL);
        return tp_write_str(h, "created"), TP_OK;
    }
    tp_slice back;
    tp_secret secret = {.secret = TP_SLICE_LIT(COOKIE_SECRET)};
    if (tp_signed_value_decode(tp_handler_arena(h), &secret, tp_slice_cstr(name), tp_slice_cstr(v),
                               31, time(NULL), 1, &back) < 0)
        return TP_ERROR;
    size_t fields = 1;
    for (const char *p = v; *p; p++)
        fields += *p == '|';
    const char *bar = strchr(v, '|');
    tp_writef(h, "fields=%zu v1payload=%.*s back=%.*s", fields, version == 1 ? (int)(bar - v) : 1,
              version == 1 ? v : "-", TP_SLICE_FMT(back));
    return TP_OK;
}

static const tp_handler_class signed_create_cls = {.name = "SignedCreate",
                                                   .get = signed_create_get};

static int signed_min_get(tp_handler *h)
{
    const char *name = tp_get_argument(h, "name", "c");
    const char *min = tp_get_argument(h, "min", "1");
    if (!name || !min)
        return TP_OK;
    size_t n;
    const char *v = tp_get_signed_cookie_ex(h, name, 31, atoi(min), &n);
    if (!v)
        return tp_write_str(h, "(invalid)"), TP_OK;
    tp_writef(h, "len=%zu hex=", n);
    for (size_t i = 0; i < n; i++)
        tp_writef(h, "%02x", (unsigned char)v[i]);
    return TP_OK;
}

static const tp_handler_class signed_min_cls = {.name = "SignedMin", .get = signed_min_get};

static int header_values_get(tp_handler *h)
{
    tp_set_header_int(h, "X-Int", 42);
    tp_add_header_int(h, "X-Int", 1);
    tp_set_header_int(h, "X-Neg", -7);
    tp_set_header_date(h, "X-Date", 784111777);
    tp_add_header_date(h, "X-Date", 0);
    tp_set_header_int(h, "X-Big", 9223372036854775807LL);
    return tp_write_str(h, "header values"), TP_OK;
}

static const tp_handler_class header_values_cls = {.name = "HeaderValues",
                                                   .get = header_values_get};

/* len is Python's len(str): code points, not bytes. */
static int pathcap_get(tp_handler *h)
{
    tp_slice a = tp_path_arg(h, 0);
    size_t chars = 0;
    for (size_t i = 0; i < a.n; i++)
        chars += ((unsigned char)a.p[i] & 0xc0) != 0x80;
    tp_write_str(h, "a=[");
    tp_write(h, a.p, a.n);
    tp_writef(h, "] len=%zu", chars);
    return TP_OK;
}

static const tp_handler_class pathcap_cls = {.name = "PathCap", .get = pathcap_get};

static const tp_route_spec issue11_routes[] = {
    {"/argnames", &argnames_cls, NULL, NULL, NULL},
    {"/required_src", &required_src_cls, NULL, NULL, NULL},
    {"/fullurl", &fullurl_cls, NULL, NULL, NULL},
    {"/default_headers", &default_headers_cls, NULL, NULL, NULL},
    {"/custom_etag", &custom_etag_cls, NULL, NULL, NULL},
    {"/extra", &extra_cls, NULL, NULL, NULL},
    {"/extra_xsrf", &extra_xsrf_cls, NULL, NULL, NULL},
    {"/cookie_list", &cookie_list_cls, NULL, NULL, NULL},
    {"/signed_create", &signed_create_cls, NULL, NULL, NULL},
    {"/signed_min", &signed_min_cls, NULL, NULL, NULL},
    {"/header_values", &header_values_cls, NULL, NULL, NULL},
    {"/pathcap/([^/]*)", &pathcap_cls, NULL, NULL, NULL},
};
/* ---- header order, Etag for 200 only, reasons, redirects, errors ------------------------ */

static int order_get(tp_handler *h)
{
    const char *op = tp_get_argument(h, "op", "");
    if (!strcmp(op, "manual")) /* an app's own Set-Cookie: the cookies join its group */
        tp_add_header(h, "Set-Cookie", "m=1");
    tp_set_header(h, "X-First", "1");
    tp_set_cookie(h, "c1", "v1", NULL);
    tp_add_header(h, "X-Multi", "a");
    tp_set_header(h, "X-Second", "2");
    tp_add_header(h, "X-Multi", "b");
    tp_set_header(h, "Content-Type", "text/plain");
    tp_set_header(h, "X-First", "one");
    tp_clear_header(h, "X-Second");
    tp_set_header(h, "X-Second", "again");
    tp_set_cookie(h, "c2", "v2", NULL);
    tp_set_cookie(h, "c1", "v1b", NULL);
    if (!strcmp(op, "error"))
        return tp_send_error(h, 404), TP_OK;
    if (!strcmp(op, "raise"))
        return TP_ERROR;
    if (!strcmp(op, "httperror"))
        return tp_http_error(h, 403, "Not You", NULL), TP_OK;
    if (!strcmp(op, "conn"))
        tp_set_header(h, "Connection", "x-app");
    if (!strcmp(op, "flush")) {
        tp_write_str(h, "x");
        tp_flush(h);
    }
    for (int i = atoi(tp_get_argument(h, "n", "1")); i > 0; i--)
        tp_write_str(h, "order ");
    return TP_OK;
}

static const tp_handler_class order_cls = {.name = "Order", .get = order_get};

static int status_only_get(tp_handler *h)
{
    tp_set_status(h, atoi(tp_get_argument(h, "code", "200")), NULL);
    const char *body = tp_get_argument(h, "body", NULL);
    if (body && *body)
        tp_write_str(h, body);
    return TP_OK;
}

static const tp_handler_class status_only_cls = {.name = "StatusOnly", .get = status_only_get};

static int senderror_write_error(tp_handler *h, int status)
{
    char code[16];
    snprintf(code, sizeof(code), "%d", status);
    tp_set_header(h, "X-Write-Error", code);
    return tp_write_str(h, "page"), TP_OK;
}

/* The bytes of a hex string, NUL-terminated, in the request arena (NULL for odd input). */
static const char *from_hex(tp_handler *h, const char *hex)
{
    size_t n = strlen(hex) / 2;
    char *out = tp_arena_alloc(tp_handler_arena(h), n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1)
            return NULL;
        out[i] = (char)v;
    }
    out[n] = '\0';
    return out;
}

static int hval_get(tp_handler *h)
{
    const char *reason = tp_get_argument(h, "reason", NULL);
    if (reason)
        tp_set_status(h, atoi(tp_get_argument(h, "code", "200")), from_hex(h, reason));
    const char *v = tp_get_argument(h, "v", NULL);
    if (v && tp_set_header(h, "X-V", from_hex(h, v)) < 0)
        return TP_ERROR; /* Tornado raises ValueError("Unsafe header value") */
    return tp_write_str(h, "value ok"), TP_OK;
}

static const tp_handler_class hval_cls = {.name = "HeaderValue", .get = hval_get};

static int httperror_get(tp_handler *h)
{
    tp_write_str(h, "discarded");
    int code = atoi(tp_get_argument(h, "code", "500"));
    const char *reason = tp_get_argument(h, "reason", NULL);
    const char *msg = tp_get_argument(h, "msg", "0");
    if (*tp_get_argument(h, "send", ""))
        tp_send_error_reason(h, code, reason);
    else if (!strcmp(msg, "1"))
        tp_http_error(h, code, reason, "custom log %s and %s", tp_get_argument(h, "a", ""),
                      tp_get_argument(h, "b", ""));
    else if (!strcmp(msg, "2"))
        tp_http_error(h, code, reason, "plain log message");
    else
        tp_http_error(h, code, reason, NULL);
    return TP_OK;
}

static int httperror_write_error(tp_handler *h, int status)
{
    if (*tp_get_argument(h, "default", "")) {
        /* the default page, as Tornado's write_error writes it */
        tp_slice r = tp_xhtml_escape(tp_handler_arena(h), tp_slice_cstr(tp_get_reason(h)));
        tp_writef(h, "<html><title>%d: %.*s</title><body>%d: %.*s</body></html>", status,
                  TP_SLICE_FMT(r), status, TP_SLICE_FMT(r));
        return TP_OK;
    }
    const char *log = tp_error_log_message(h);
    tp_writef(h, "status=%d get_status=%d reason=%s log=%s\n", status, tp_get_status(h),
              tp_get_reason(h), log ? log : "None");
    return TP_OK;
}

static const tp_handler_class httperror_cls = {
    .name = "RaiseHTTPError", .get = httperror_get, .write_error = httperror_write_error};

static const tp_handler_class senderror_write_cls = {
    .name = "SendErrorWrite", .get = senderror_get, .write_error = senderror_write_error};

/* ---- the app ---------------------------------------------------------------------------- */

static tp_redirect_opts redirect_target = {.url = "/target/{1}/{0}"};
static tp_redirect_opts redirect_temp = {.url = "/t?x={0}", .temporary = true};
static tp_error_opts gone = {.status = 410};
/* ---- WebSocket: twin.py's WsEcho, WsPlain, WsBadProto, WsHeaders ---- */

static int ws_echo_message(tp_handler *h, tp_slice msg, bool binary)
{
    int r = tp_websocket_write_message(h, msg.p, msg.n, binary);
    return r == 0 || r == -EPIPE ? TP_OK : TP_ERROR;
}

static const char *ws_pick(tp_handler *h, const tp_slice *offered, size_t n)
{
    (void)h;
    static const char *const ours[] = {"chat", "superchat"};
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; i < n; i++)
            if (tp_slice_eq(offered[i], tp_slice_cstr(ours[k])))
                return ours[k];
    return NULL;
}

static bool ws_compression(tp_handler *h, tp_ws_deflate_params *p)
{
    (void)h, (void)p; /* get_compression_options() returning {}: Tornado's defaults */
    return true;
}

static const char *ws_pick_unoffered(tp_handler *h, const tp_slice *offered, size_t n)
{
    (void)h, (void)offered, (void)n;
    return "notoffered";
}

static void ws_default_headers(tp_handler *h)
{
    tp_set_header(h, "X-Default", "d");
}

static int ws_headers_prepare(tp_handler *h)
{
    tp_set_header(h, "X-Prepared", "p");
    tp_set_header(h, "Content-Type", "text/plain");
    return TP_OK;
}

static const tp_websocket_class ws_echo_cls = {
    .base = {TP_WEBSOCKET_BASE("WsEcho")},
    .select_subprotocol = ws_pick,
    .get_compression_options = ws_compression,
    .on_message = ws_echo_message,
};
static const tp_websocket_class ws_plain_cls = {
    .base = {TP_WEBSOCKET_BASE("WsPlain")},
    .on_message = ws_echo_message,
};
static const tp_websocket_class ws_badproto_cls = {
    .base = {TP_WEBSOCKET_BASE("WsBadProto")},
    .select_subprotocol = ws_pick_unoffered,
};
static const tp_websocket_class ws_headers_cls = {
    .base = {TP_WEBSOCKET_BASE("WsHeaders"), .prepare = ws_headers_prepare,
             .set_default_headers = ws_default_headers},
};

static tp_redirect_opts redirect_fragment = {.url = "/t?x={0}&y=#frag", .temporary = true};
static tp_redirect_opts redirect_absolute = {.url = "http://other.test/t/{0}", .temporary = true};
static tp_app *inner_app;

static int diffapp_init(tp_app *app)
{
    const tp_route_spec routes[] = {
        {"/methods", &methods_cls, NULL, NULL, NULL},
        {"/methods2", &methods2_cls, NULL, NULL, NULL},
        {"/args", &args_cls, NULL, NULL, NULL},
        {"/required", &required_cls, NULL, NULL, NULL},
        {"/files", &files_cls, NULL, NULL, NULL},
        {"/status", &status_cls, NULL, NULL, NULL},
        {"/headers", &headers_cls, NULL, NULL, NULL},
        {"/json", &json_cls, NULL, NULL, NULL},
        {"/flush", &flush_cls, NULL, NULL, NULL},
        {"/redirect", &redirect_cls, NULL, NULL, NULL},
        {"/senderror", &senderror_cls, NULL, NULL, NULL},
        {"/raise", &raise_cls, NULL, NULL, NULL},
        {"/customerror", &customerror_cls, NULL, NULL, NULL},
        {"/cookie/(\\w+)", &cookies_cls, NULL, NULL, NULL},
        {"/xsrf", &xsrf_cls, NULL, NULL, NULL},
        {"/xsrf/form", &xsrf_form_cls, NULL, NULL, NULL},
        {"/etag", &etag_cls, NULL, NULL, NULL},
        {"/noetag", &noetag_cls, NULL, NULL, NULL},
        {"/setetag", &setetag_cls, NULL, NULL, NULL},
        {"/static_url", &static_url_cls, NULL, NULL, NULL},
        {"/r/(\\d+)/(.*)", &tp_redirect_handler, &redirect_target, NULL, NULL},
        {"/rt/(.*)", &tp_redirect_handler, &redirect_temp, NULL, NULL},
        {"/gone", &tp_error_handler, &gone, NULL, NULL},
        {"/as/?", &addslash_cls, NULL, NULL, NULL},
        {"/rs/*", &removeslash_cls, NULL, NULL, NULL},
        {"/private", &private_cls, NULL, NULL, NULL},
        {"/login", &login_cls, NULL, NULL, NULL},
        {"/reverse", &reverse_cls, NULL, NULL, NULL},
        {"/item/(\\d+)/([^/]+)", &item_cls, NULL, "item", NULL},
        {"/plain", &item_cls, NULL, "plain", NULL},
        {"/host", &hostb_cls, NULL, NULL, NULL},
        {"/gz", &gz_cls, NULL, NULL, NULL},
        {"/gzflush", &gzflush_cls, NULL, NULL, NULL},
        {"/fb/.*", &tp_fallback_handler, NULL, NULL, NULL},
        {"/host", &hosta_cls, NULL, NULL, "example\\.com"},
        {"/order", &order_cls, NULL, NULL, NULL},
        {"/status_only", &status_only_cls, NULL, NULL, NULL},
        {"/senderror_write", &senderror_write_cls, NULL, NULL, NULL},
        {"/hval", &hval_cls, NULL, NULL, NULL},
        {"/httperror", &httperror_cls, NULL, NULL, NULL},
        {"/rf/(.*)", &tp_redirect_handler, &redirect_fragment, NULL, NULL},
        {"/ra/(.*)", &tp_redirect_handler, &redirect_absolute, NULL, NULL},
        {"/ws", &ws_echo_cls.base, NULL, NULL, NULL},
        {"/ws_plain", &ws_plain_cls.base, NULL, NULL, NULL},
        {"/ws_badproto", &ws_badproto_cls.base, NULL, NULL, NULL},
        {"/ws_headers", &ws_headers_cls.base, NULL, NULL, NULL},
    };
    const char *root = getenv("TP_DIFF_STATIC");
    if (!root || !*root)
        root = "tests/diff/static";
    if (!inner_app) {
        inner_app = tp_app_new();
        if (!inner_app || tp_app_route(inner_app, "/fb/inner/(.*)", &inner_cls, NULL) < 0)
            return -1;
    }
    tp_app_settings *s = tp_app_settings_of(app);
    s->cookie_secret = (tp_secret){.secret = TP_SLICE_LIT(COOKIE_SECRET)};
    s->xsrf_cookies = true;
    s->login_url = "/login";
    s->compress_response = true;
    s->default_handler_class = &default_cls;
    /* Tornado's 405 for HEAD without head here (the cases *-head-405); the
     * inner app of /fb/ keeps the default, HEAD runs get (case fallback-head-runs-get). */
    s->head_requires_head_method = true;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        tp_route_spec r = routes[i];
        if (r.cls == &tp_fallback_handler)
            r.data = inner_app;
        if (tp_app_add_route(app, &r) < 0)
            return -1;
    }
    for (size_t i = 0; i < sizeof(issue11_routes) / sizeof(issue11_routes[0]); i++)
        if (tp_app_add_route(app, &issue11_routes[i]) < 0)
            return -1;
    return tp_app_add_static(app, root, NULL);
}

TP_APP("diffapp", diffapp_init, NULL);
