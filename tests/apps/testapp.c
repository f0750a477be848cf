/* The app the black-box tests run against (build/tests/testapp): one route per behaviour
 * under test. Same command line as build/examples/hello. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tp.h"

static unsigned long connections_closed;

static int hello_get(tp_handler *h)
{
    return tp_write_str(h, "Hello, world"), TP_OK;
}

/* Echoes the request body. */
static int echo_post(tp_handler *h)
{
    tp_request *req = tp_handler_request(h);
    tp_write(h, req->body.p, req->body.n);
    return TP_OK;
}

/* "a=<value of a>" from query or form arguments. */
static int args_get(tp_handler *h)
{
    const char *a = tp_get_argument(h, "a", "(none)");
    tp_writef(h, "a=%s", a);
    return TP_OK;
}

static int required_get(tp_handler *h)
{
    const char *v = tp_get_argument_required(h, "name");
    if (v)
        tp_writef(h, "name=%s", v);
    return TP_OK;
}

/* Two writes with a flush between: a chunked response. */
static int flush_get(tp_handler *h)
{
    tp_write_str(h, "part1,");
    tp_flush(h);
    tp_write_str(h, "part2");
    return TP_OK;
}

/* /status/N: an empty response with status N (204 and 304 framing). */
static int status_get(tp_handler *h)
{
    tp_slice code = tp_path_arg(h, 0);
    int status = atoi(code.p);
    if (tp_set_status(h, status, tp_get_argument(h, "reason", NULL)) < 0)
        return tp_send_error(h, 400);
    if (status != 204 && status != 304)
        tp_write_str(h, "body");
    return TP_OK;
}

/* Finishes from a timer after ?ms=N milliseconds (default 50). */
static void async_done(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_handler *h = arg;
    tp_write_str(h, "async done");
    tp_finish(h);
}

static int async_get(tp_handler *h)
{
    double ms = atof(tp_get_argument(h, "ms", "50"));
    tp_loop_call_later(tp_loop_current(), ms / 1000.0, async_done, h);
    return TP_AGAIN;
}

/* Streams the body: answers with the sizes of the chunks data_received saw. */
typedef struct stream_state {
    char sizes[4096];
    size_t len;
    size_t total;
} stream_state;

static int stream_data(tp_handler *h, tp_slice chunk)
{
    stream_state *st = tp_handler_state(h);
    st->total += chunk.n;
    if (st->len < sizeof(st->sizes) - 32)
        st->len += (size_t)snprintf(st->sizes + st->len, sizeof(st->sizes) - st->len, "%s%zu",
                                    st->len ? "," : "", chunk.n);
    return TP_OK;
}

static int stream_post(tp_handler *h)
{
    stream_state *st = tp_handler_state(h);
    tp_writef(h, "total=%zu chunks=%.*s", st->total, (int)st->len, st->sizes);
    return TP_OK;
}

/* /big?n=N: N bytes of 'x'. */
static int big_get(tp_handler *h)
{
    size_t n = strtoul(tp_get_argument(h, "n", "1048576"), NULL, 10);
    char block[8192];
    memset(block, 'x', sizeof(block));
    while (n) {
        size_t k = n < sizeof(block) ? n : sizeof(block);
        tp_write(h, block, k);
        n -= k;
    }
    return TP_OK;
}

/* The request as the server saw it. */
static int headers_get(tp_handler *h)
{
    tp_request *req = tp_handler_request(h);
    tp_writef(h,
              "remote_ip=%.*s\nprotocol=%.*s\nhost=%.*s\nhost_name=%.*s\npath=%.*s\nquery=%.*s\n",
              TP_SLICE_FMT(req->remote_ip), TP_SLICE_FMT(req->protocol), TP_SLICE_FMT(req->host),
              TP_SLICE_FMT(req->host_name), TP_SLICE_FMT(req->path), TP_SLICE_FMT(req->query));
    for (size_t i = 0; i < req->headers.n; i++)
        tp_writef(h, "%.*s: %.*s\n", TP_SLICE_FMT(req->headers.v[i].name),
                  TP_SLICE_FMT(req->headers.v[i].value));
    return TP_OK;
}

/* Answers 401 from prepare, before any body is read. */
static int early_prepare(tp_handler *h)
{
    tp_set_status(h, 401, NULL);
    tp_write_str(h, "denied");
    return tp_finish(h), TP_OK;
}

static const tp_handler_class early_handler = {.name = "Early",
                                               .flags = TP_STREAM_REQUEST_BODY,
                                               .prepare = early_prepare,
                                               .data_received = stream_data,
                                               .state_size = sizeof(stream_state)};

static int path_get(tp_handler *h)
{
    tp_slice a = tp_path_arg(h, 0);
    tp_write(h, a.p, a.n);
    return TP_OK;
}

static int error_get(tp_handler *h)
{
    (void)h;
    return TP_ERROR;
}

/* Waits until the client goes away (on_connection_close), then finishes. */
static int wait_get(tp_handler *h)
{
    (void)h;
    return TP_AGAIN;
}

static void wait_closed(tp_handler *h)
{
    connections_closed++;
    tp_finish(h);
}

static int stats_get(tp_handler *h)
{
    tp_writef(h, "connections_closed=%lu", connections_closed);
    return TP_OK;
}

/* Header values with CR/LF must be refused. */
static int inject_get(tp_handler *h)
{
    int r1 = tp_set_header(h, "X-Test", "a\r\nSet-Cookie: evil=1");
    int r2 = tp_set_header(h, "X-Bad Name", "v");
    int r3 = tp_set_header(h, "X-Good", "fine");
    tp_writef(h, "%d %d %d", r1, r2, r3);
    return TP_OK;
}

static int head_get(tp_handler *h)
{
    tp_write_str(h, "body of GET");
    return TP_OK;
}

/* Cookies: /cookie/get?name=, /cookie/set?name=&value=[&domain=&httponly=1&secure=1&
 * max_age=], /cookie/clear?name=, /cookie/signed_set?name=&value=, /cookie/signed_get?name= */
static int cookie_get(tp_handler *h)
{
    tp_slice what = tp_path_arg(h, 0);
    const char *name = tp_get_argument(h, "name", "c");
    const char *value = tp_get_argument(h, "value", "");
    if (tp_slice_eq(what, TP_SLICE_LIT("get")))
        return tp_write_str(h, tp_get_cookie(h, name, "(none)")), TP_OK;
    if (tp_slice_eq(what, TP_SLICE_LIT("signed_get"))) {
        const char *v = tp_get_signed_cookie(h, name, 31);
        return tp_write_str(h, v ? v : "(invalid)"), TP_OK;
    }
    if (tp_slice_eq(what, TP_SLICE_LIT("clear")))
        return tp_writef(h, "%d", tp_clear_cookie(h, name, NULL, NULL)), TP_OK;
    if (tp_slice_eq(what, TP_SLICE_LIT("clear_all")))
        return tp_writef(h, "%d", tp_clear_all_cookies(h, "/p", NULL)), TP_OK;
    if (tp_slice_eq(what, TP_SLICE_LIT("signed_set")))
        return tp_writef(h, "%d", tp_set_signed_cookie(h, name, value, NULL)), TP_OK;
    tp_cookie_attrs a = tp_cookie_attrs_default();
    a.domain = tp_get_argument(h, "domain", NULL);
    a.httponly = tp_get_argument(h, "httponly", NULL) != NULL;
    a.secure = tp_get_argument(h, "secure", NULL) != NULL;
    a.max_age = atol(tp_get_argument(h, "max_age", "-1"));
    return tp_writef(h, "%d", tp_set_cookie(h, name, value, &a)), TP_OK;
}

static const tp_handler_class cookie = {.name = "Cookie", .get = cookie_get};

static const tp_handler_class hello = {.name = "Hello", .get = hello_get, .post = echo_post};
static const tp_handler_class echo = {.name = "Echo", .post = echo_post, .put = echo_post};
static const tp_handler_class args = {.name = "Args", .get = args_get, .post = args_get};
static const tp_handler_class required = {.name = "Required", .get = required_get};
static const tp_handler_class flush = {.name = "Flush", .get = flush_get, .head = flush_get};
static const tp_handler_class status = {.name = "Status", .get = status_get};
static const tp_handler_class async = {.name = "Async", .get = async_get};
static const tp_handler_class stream = {.name = "Stream",
                                        .flags = TP_STREAM_REQUEST_BODY,
                                        .post = stream_post,
                                        .put = stream_post,
                                        .data_received = stream_data,
                                        .state_size = sizeof(stream_state)};
static const tp_handler_class big = {.name = "Big", .get = big_get};
/* /peercert: the TLS client certificate's subject ("" without one). */
static int peercert_get(tp_handler *h)
{
    tp_slice subject = tp_http_peer_cert_subject(tp_handler_request(h));
    return tp_writef(h, "subject=%.*s", TP_SLICE_FMT(subject)), TP_OK;
}
static const tp_handler_class peercert = {.name = "PeerCert", .get = peercert_get};
static const tp_handler_class headers = {
    .name = "Headers", .get = headers_get, .post = headers_get};
static const tp_handler_class path = {.name = "Path", .get = path_get};
static const tp_handler_class error = {.name = "Error", .get = error_get};
/* /file?off=&n=&pre=&flush=1: "pre" then n bytes of the pattern file from off (sendfile);
 * with flush=1 the file is flushed (chunked) and "post" follows. */
static int pattern_fd = -1;

static int make_pattern_file(void)
{
    char name[] = "/tmp/testapp-pattern-XXXXXX";
    int fd = mkstemp(name);
    if (fd < 0)
        return -1;
    unlink(name);
    char block[251 * 8];
    for (size_t i = 0; i < sizeof(block); i++)
        block[i] = (char)(i % 251);
    for (int i = 0; i < 1000; i++)
        if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block))
            return close(fd), -1;
    pattern_fd = fd;
    return 0;
}

static int file_get(tp_handler *h)
{
    tp_write_str(h, tp_get_argument(h, "pre", ""));
    off_t off = atol(tp_get_argument(h, "off", "0"));
    size_t n = (size_t)atol(tp_get_argument(h, "n", "0"));
    if (tp_write_file(h, dup(pattern_fd), off, n) < 0)
        return tp_send_error(h, 500);
    if (tp_get_argument(h, "flush", NULL)) {
        tp_flush(h);
        tp_write_str(h, "post");
    }
    return TP_OK;
}

static const tp_handler_class file = {.name = "File", .get = file_get, .head = file_get};

/* /argv?a=..: every value of a (query, then body) as "[v1|v2|...]" and the files as
 * "name:filename:content_type:body;" */
static int argv_get(tp_handler *h)
{
    const char *vals[16];
    size_t n = tp_get_arguments(h, "a", vals, 16);
    tp_write_str(h, "[");
    for (size_t i = 0; i < n && i < 16; i++)
        tp_writef(h, "%s%s", i ? "|" : "", vals[i]);
    tp_write_str(h, "]");
    const tp_form_file *files[8];
    size_t nf = tp_get_files(h, "f", files, 8);
    for (size_t i = 0; i < nf && i < 8; i++) {
        tp_writef(h, "%.*s:%.*s:%.*s:", TP_SLICE_FMT(files[i]->name),
                  TP_SLICE_FMT(files[i]->filename), TP_SLICE_FMT(files[i]->content_type));
        tp_write(h, files[i]->body.p, files[i]->body.n);
        tp_write_str(h, ";");
    }
    return TP_OK;
}

/* /reverse: reverse_url of the named route "user" with ?a=&b= */
static int reverse_get(tp_handler *h)
{
    const char *rargs[2] = {tp_get_argument(h, "a", "42"), tp_get_argument(h, "b", "x")};
    size_t n = (size_t)atoi(tp_get_argument(h, "n", "2"));
    const char *url = tp_reverse_url(tp_handler_app(h), tp_handler_arena(h),
                                     tp_get_argument(h, "name", "user"), n, rargs);
    tp_write_str(h, url ? url : "(none)");
    return TP_OK;
}

static int text_get(tp_handler *h)
{
    tp_write_str(h, (const char *)tp_handler_route_data(h));
    return TP_OK;
}

/* ---- the second route table, reached through FallbackHandler at /x/ ---------------------
 * Its settings: xsrf_cookies, compress_response, login_url, a default handler (410). */

static int xform_get(tp_handler *h)
{
    tp_writef(h, "%s\n%s", tp_xsrf_token(h), tp_xsrf_form_html(h));
    return TP_OK;
}

static int xform_post(tp_handler *h)
{
    tp_writef(h, "posted %s", tp_get_argument(h, "v", "-"));
    return TP_OK;
}

/* /x/text?n=N&ct=TYPE: N bytes of text (gzip candidates); flush=1 sends it in two chunks */
static int xtext_get(tp_handler *h)
{
    size_t n = (size_t)atol(tp_get_argument(h, "n", "2000"));
    const char *ct = tp_get_argument(h, "ct", NULL);
    if (ct)
        tp_set_header(h, "Content-Type", ct);
    const char *vary = tp_get_argument(h, "vary", NULL);
    if (vary)
        tp_set_header(h, "Vary", vary);
    for (size_t i = 0; i < n; i++) {
        tp_write(h, &"abcdefghijklmnopqrstuvwxyz\n"[i % 27], 1);
        if (i == n / 2 && tp_get_argument(h, "flush", NULL))
            tp_flush(h);
    }
    return TP_OK;
}

static const char *cookie_user(tp_handler *h)
{
    return tp_get_cookie(h, "user", NULL);
}

static int secret_get(tp_handler *h)
{
    tp_writef(h, "hello %s", tp_current_user(h));
    return TP_OK;
}

static int slash_get(tp_handler *h)
{
    tp_writef(h, "at %.*s", TP_SLICE_FMT(tp_handler_request(h)->path));
    return TP_OK;
}

static const char *cookie_user(tp_handler *h);
static const tp_handler_class xform = {
    .name = "XForm", .get = xform_get, .post = xform_post, .get_current_user = cookie_user};
static const tp_handler_class xtext = {.name = "XText", .get = xtext_get};
static const tp_handler_class secret = {.name = "Secret",
                                        .flags = TP_AUTHENTICATED,
                                        .get = secret_get,
                                        .post = secret_get,
                                        .get_current_user = cookie_user};
static const tp_handler_class addslash = {
    .name = "AddSlash", .flags = TP_ADDSLASH, .get = slash_get, .post = slash_get};
static const tp_handler_class removeslash = {
    .name = "RemoveSlash", .flags = TP_REMOVESLASH, .get = slash_get, .post = slash_get};
static const tp_error_opts gone = {.status = 410};

static tp_app *make_xapp(void)
{
    tp_app *x = tp_app_new();
    tp_app_settings *st = tp_app_settings_of(x);
    st->xsrf_cookies = true;
    st->compress_response = true;
    st->login_url = "/x/login";
    st->default_handler_class = &tp_error_handler;
    st->default_handler_args = (void *)&gone;
    if (tp_app_route(x, "/x/form", &xform, NULL) < 0 ||
        tp_app_route(x, "/x/text", &xtext, NULL) < 0 ||
        tp_app_route(x, "/x/secret", &secret, NULL) < 0 ||
        tp_app_route(x, "/x/add(?:/.*)?", &addslash, NULL) < 0 ||
        tp_app_route(x, "/x/remove.*", &removeslash, NULL) < 0)
        return NULL;
    return x;
}

/* /y/: XSRF version 1 under another cookie name with attributes, an absolute login_url.
 * /z/: a login_url that has a query already. */
static const tp_cookie_attrs y_xsrf_attrs = {.path = "/y", .httponly = true, .max_age = -1};

static tp_app *make_login_app(const char *prefix, const char *login_url, bool xsrf_v1)
{
    tp_app *y = tp_app_new();
    tp_app_settings *st = tp_app_settings_of(y);
    st->login_url = login_url;
    if (xsrf_v1) {
        st->xsrf_cookies = true;
        st->xsrf_cookie_version = 1;
        st->xsrf_cookie_name = "csrf";
        st->xsrf_cookie_attrs = &y_xsrf_attrs;
    }
    char pattern[32];
    snprintf(pattern, sizeof(pattern), "%s/form", prefix);
    if (tp_app_route(y, pattern, &xform, NULL) < 0)
        return NULL;
    snprintf(pattern, sizeof(pattern), "%s/secret", prefix);
    return tp_app_route(y, pattern, &secret, NULL) < 0 ? NULL : y;
}

/* ---- /kv/, an app whose cookie_secret is a key table (key_version 1) -------------------- */

static const tp_secret_key kv_keys[] = {{0, TP_SLICE_LIT("kv-old")}, {1, TP_SLICE_LIT("kv-new")}};

/* /kv/create?value=V[&version=N]: create_signed_value("kv", V); /kv/get: the "kv" cookie
 * (min_version 2), its length and bytes. "(none)" when refused. */
static int kv_get(tp_handler *h)
{
    tp_slice what = tp_path_arg(h, 0);
    const char *value = tp_get_argument(h, "value", "");
    const char *version = tp_get_argument(h, "version", "0");
    if (!value || !version)
        return TP_OK;
    const char *v;
    size_t n = 0;
    if (tp_slice_eq(what, TP_SLICE_LIT("create")))
        n = (v = tp_create_signed_value(h, "kv", value, strlen(value), atoi(version))) ? strlen(v)
                                                                                       : 0;
    else
        v = tp_get_signed_cookie_ex(h, "kv", 31, 2, &n);
    if (!v)
        return tp_write_str(h, "(none)"), TP_OK;
    return tp_write(h, v, n), TP_OK;
}

static const tp_handler_class kv_cls = {.name = "KeyVersion", .get = kv_get};

static int add_kv_app(tp_app *app)
{
    static tp_app *kv;
    if (!kv) {
        kv = tp_app_new();
        tp_app_settings_of(kv)->cookie_secret =
            (tp_secret){.keys = kv_keys, .nkeys = 2, .key_version = 1};
        if (tp_app_route(kv, "/kv/(create|get)", &kv_cls, NULL) < 0)
            return -1;
    }
    return tp_app_route(app, "/kv/.*", &tp_fallback_handler, kv);
}

static const tp_redirect_opts redir_opts = {.url = "/target/{0}?x=1"};
static const tp_redirect_opts redir_frag = {.url = "/frag/{0}?a=1#top"};
static const tp_redirect_opts redir_bad_index = {.url = "/t/{2}"};
static const tp_redirect_opts redir_bad_brace = {.url = "/t/{0}}x"};
static const tp_redirect_opts redir_tmp = {.url = "/to/{1}/{0}", .temporary = true};

/* ---- templates and locales: /render/<name> renders tests/blackbox/templates/<name>.html ---- */

static json_t *shout(tp_handler *h, tp_template_call *call)
{
    (void)h;
    const char *s = json_string_value(json_array_get(call->args, 0));
    char up[64];
    size_t n = 0;
    for (; s && s[n] && n < sizeof(up) - 1; n++)
        up[n] = (char)(s[n] >= 'a' && s[n] <= 'z' ? s[n] - 32 : s[n]);
    return json_stringn(up, n);
}

static json_t *entry_render(tp_handler *h, tp_template_call *call)
{
    const char *s = json_string_value(json_array_get(call->args, 0));
    char *html = tp_arena_printf(tp_handler_arena(h), "<b>entry:%s</b>", s ? s : "?");
    return json_string(html);
}

static const char *const entry_css[] = {"/css/entry.css", "http://cdn.example/e.css",
                                        "/css/entry.css", NULL};
static const char *const entry_js[] = {"/js/entry.js", NULL};
static const tp_ui_module entry_module = {.name = "Entry",
                                          .render = entry_render,
                                          .embedded_javascript = "var entry = 1;",
                                          .embedded_css = "b { color: red }",
                                          .html_head = "<meta name=\"entry\">",
                                          .html_body = "<!-- entry body -->",
                                          .javascript_files = entry_js,
                                          .css_files = entry_css};
static const tp_ui_module *const ui_modules[] = {&entry_module};
static const tp_ui_method ui_methods[] = {{"shout", shout}};

static int render_get(tp_handler *h)
{
    tp_slice name = tp_path_arg(h, 0);
    const char *tname = tp_arena_printf(tp_handler_arena(h), "%.*s.html", TP_SLICE_FMT(name));
    json_t *ctx = json_pack("{s:[i,i,i], s:s}", "items", 1, 2, 3, "title", "<T>");
    tp_render(h, tname, ctx);
    json_decref(ctx);
    return TP_OK;
}

static int render_string_get(tp_handler *h)
{
    tp_buf out = {0};
    int r = tp_render_string(h, "page.html", NULL, &out);
    tp_writef(h, "r=%d len=%zu", r, out.len);
    tp_buf_free(&out);
    return TP_OK;
}

static const char *user_locale(tp_handler *h)
{
    return tp_get_argument(h, "lang", NULL);
}

static const tp_handler_class render = {.name = "Render",
                                        .get = render_get,
                                        .get_current_user = cookie_user,
                                        .get_user_locale = user_locale};
static const tp_handler_class render_string = {.name = "RenderString", .get = render_string_get};

/* /detach: takes the stream, writes "detached\n", then echoes one line upper-cased and
 * closes (the line may have come in the same packet as the request). */
static void detached_line(tp_stream *s, int st, tp_slice line, void *arg)
{
    (void)arg;
    if (st == 0) {
        char up[256];
        size_t n = line.n < sizeof(up) ? line.n : sizeof(up);
        for (size_t i = 0; i < n; i++)
            up[i] = (char)(line.p[i] >= 'a' && line.p[i] <= 'z' ? line.p[i] - 32 : line.p[i]);
        tp_stream_write(s, up, n, NULL, NULL);
    }
    tp_stream_close_after_flush(s, 0);
}

static int detach_get(tp_handler *h)
{
    tp_stream *s = tp_detach(h);
    if (!s)
        return TP_ERROR;
    tp_stream_write(s, "detached\n", 9, NULL, NULL);
    tp_stream_read_until(s, TP_SLICE_LIT("\n"), 256, detached_line, NULL);
    return TP_OK;
}

static const tp_handler_class detach = {.name = "Detach", .get = detach_get};

/* /json?list=1: write of a JSON object (or a refused list); also a lower-case header name */
static int json_get(tp_handler *h)
{
    json_t *v = tp_get_argument(h, "list", NULL)
                    ? json_pack("[i]", 1)
                    : json_pack("{s:s, s:i}", "html", "</script>", "n", 1);
    int r = tp_write_json(h, v);
    json_decref(v);
    tp_set_header(h, "x-custom-thing", "1");
    tp_add_header(h, "x-multi", "a");
    tp_add_header(h, "X-MULTI", "b");
    if (r < 0)
        tp_writef(h, "refused %d", r);
    return TP_OK;
}

static const tp_handler_class json = {.name = "Json", .get = json_get};

static const tp_handler_class argv = {.name = "Argv", .get = argv_get, .post = argv_get};
static const tp_handler_class reverse = {.name = "Reverse", .get = reverse_get};
static const tp_handler_class text = {.name = "Text", .get = text_get};

static const tp_handler_class wait = {
    .name = "Wait", .get = wait_get, .on_connection_close = wait_closed};
static const tp_handler_class stats = {.name = "Stats", .get = stats_get};

/* /pause: a streamed body paused (tp_http_pause_body) after its first chunk until
 * /pause/resume; /pause/resume answers the bytes received so far (flow-control tests). */
static tp_request *paused_req;
static size_t paused_total;
static bool paused_once;

static int pause_data(tp_handler *h, tp_slice chunk)
{
    paused_total += chunk.n;
    if (!paused_once) {
        paused_once = true;
        paused_req = tp_handler_request(h);
        tp_http_pause_body(paused_req);
    }
    return TP_OK;
}

static int pause_post(tp_handler *h)
{
    tp_writef(h, "total=%zu", paused_total);
    paused_req = NULL;
    paused_total = 0;
    paused_once = false;
    return TP_OK;
}

static void pause_closed(tp_handler *h)
{
    paused_req = NULL;
    tp_finish(h);
}

static int pause_resume_get(tp_handler *h)
{
    tp_writef(h, "received=%zu", paused_total);
    if (paused_req && tp_get_argument(h, "go", NULL))
        tp_http_resume_body(paused_req);
    return TP_OK;
}

static const tp_handler_class pause_cls = {.name = "Pause",
                                           .flags = TP_STREAM_REQUEST_BODY,
                                           .post = pause_post,
                                           .data_received = pause_data,
                                           .on_connection_close = pause_closed};
static const tp_handler_class pause_resume = {.name = "PauseResume", .get = pause_resume_get};

/* /hop: connection-specific fields beside ordinary ones (HTTP/2 drops the former). */
static int hop_get(tp_handler *h)
{
    tp_set_header(h, "Keep-Alive", "timeout=5");
    tp_set_header(h, "Upgrade", "h2c");
    tp_set_header(h, "Proxy-Connection", "keep-alive");
    tp_set_header(h, "X-Mixed-Case", "kept");
    tp_write_str(h, "hop");
    return TP_OK;
}

static const tp_handler_class hop = {.name = "Hop", .get = hop_get};
static const tp_handler_class inject = {.name = "Inject", .get = inject_get};
static const tp_handler_class head = {.name = "Head", .get = head_get, .head = head_get};

/* ---- HEAD without head, absolute-form targets, long polls ------------------------------- */

/* /h/method: the method the handler saw, as a header and as the body. */
static int hmethod_get(tp_handler *h)
{
    tp_slice m = tp_handler_request(h)->method;
    const char *ms = tp_arena_printf(tp_handler_arena(h), "%.*s", TP_SLICE_FMT(m));
    tp_set_header(h, "X-Method", ms);
    return tp_writef(h, "method=%s", ms), TP_OK;
}

static int hempty_get(tp_handler *h)
{
    (void)h;
    return TP_OK;
}

/* /h/text and /hz/text (gzip on): 5,500 bytes of text. */
static int htext_get(tp_handler *h)
{
    tp_set_header(h, "Content-Type", "text/plain");
    for (int i = 0; i < 100; i++)
        tp_writef(h, "line %04d of the text body, the same for GET and HEAD.\n", i);
    return TP_OK;
}

static const tp_handler_class hmethod = {.name = "HMethod", .get = hmethod_get};
static const tp_handler_class hempty = {.name = "HEmpty", .get = hempty_get};
static const tp_handler_class htext = {.name = "HText", .get = htext_get};
static const tp_handler_class hflush = {.name = "HFlush", .get = flush_get};

/* /target: the request as routed (an absolute-form target is routed by its path). */
static int target_get(tp_handler *h)
{
    tp_request *req = tp_handler_request(h);
    tp_writef(h, "uri=%.*s\npath=%.*s\nquery=%.*s\nhost=%.*s\nhost_name=%.*s\nprotocol=%.*s\n",
              TP_SLICE_FMT(req->uri), TP_SLICE_FMT(req->path), TP_SLICE_FMT(req->query),
              TP_SLICE_FMT(req->host), TP_SLICE_FMT(req->host_name), TP_SLICE_FMT(req->protocol));
    return TP_OK;
}

static const tp_handler_class target = {.name = "Target", .get = target_get};

/* Long polls: /poll?id=ID[&keep=1] waits until /poll/wake?id=ID answers it. The client
 * leaving calls on_connection_close, which records ID in /poll/stats and, without keep,
 * drops the waiter (finishes it); with keep=1 the waiter stays, so a wake still answers a
 * client that only shut down its sending side. */
typedef struct poll_waiter {
    char id[32];
    tp_handler *h;
    bool keep;
} poll_waiter;

static poll_waiter poll_waiters[64];
static char poll_closed[4096];
static size_t poll_closed_len;

static poll_waiter *poll_find(tp_handler *h, const char *id)
{
    for (size_t i = 0; i < sizeof(poll_waiters) / sizeof(poll_waiters[0]); i++)
        if (h ? poll_waiters[i].h == h : poll_waiters[i].h && !strcmp(poll_waiters[i].id, id))
            return &poll_waiters[i];
    return NULL;
}

static int poll_get(tp_handler *h)
{
    poll_waiter *w = NULL;
    for (size_t i = 0; !w && i < sizeof(poll_waiters) / sizeof(poll_waiters[0]); i++)
        if (!poll_waiters[i].h)
            w = &poll_waiters[i];
    if (!w)
        return tp_send_error(h, 503), TP_OK;
    snprintf(w->id, sizeof(w->id), "%s", tp_get_argument(h, "id", "?"));
    w->keep = tp_get_argument(h, "keep", NULL) != NULL;
    w->h = h;
    return TP_AGAIN;
}

static void poll_closed_cb(tp_handler *h)
{
    poll_waiter *w = poll_find(h, NULL);
    if (!w)
        return;
    if (poll_closed_len + sizeof(w->id) + 2 < sizeof(poll_closed))
        poll_closed_len +=
            (size_t)snprintf(poll_closed + poll_closed_len, sizeof(poll_closed) - poll_closed_len,
                             "%s%s", poll_closed_len ? "," : "", w->id);
    if (!w->keep)
        tp_finish(h); /* on_finish frees the slot */
}

static void poll_finished(tp_handler *h)
{
    poll_waiter *w = poll_find(h, NULL);
    if (w)
        *w = (poll_waiter){{0}, NULL, false};
}

static int poll_wake_get(tp_handler *h)
{
    poll_waiter *w = poll_find(NULL, tp_get_argument(h, "id", "?"));
    if (!w)
        return tp_write_str(h, "none"), TP_OK;
    tp_handler *waiter = w->h;
    tp_writef(waiter, "woken %s", w->id);
    tp_finish(waiter);
    return tp_write_str(h, "ok"), TP_OK;
}

/* "waiting=ID,ID closed=ID,ID" */
static int poll_stats_get(tp_handler *h)
{
    tp_write_str(h, "waiting=");
    bool first = true;
    for (size_t i = 0; i < sizeof(poll_waiters) / sizeof(poll_waiters[0]); i++) {
        if (poll_waiters[i].h) {
            tp_writef(h, "%s%s", first ? "" : ",", poll_waiters[i].id);
            first = false;
        }
    }
    return tp_writef(h, " closed=%s", poll_closed), TP_OK;
}

static const tp_handler_class poll = {.name = "Poll",
                                      .get = poll_get,
                                      .on_connection_close = poll_closed_cb,
                                      .on_finish = poll_finished};
static const tp_handler_class poll_wake = {.name = "PollWake", .get = poll_wake_get};
static const tp_handler_class poll_stats = {.name = "PollStats", .get = poll_stats_get};

/* /hz/: gzip on; /h405/: Tornado's 405 for HEAD without head. */
static tp_app *make_head_app(const char *prefix, bool gzip, bool head_405)
{
    tp_app *a = tp_app_new();
    tp_app_settings *st = tp_app_settings_of(a);
    st->compress_response = gzip;
    st->head_requires_head_method = head_405;
    char pattern[32];
    snprintf(pattern, sizeof(pattern), "%s/text", prefix);
    if (tp_app_route(a, pattern, &htext, NULL) < 0)
        return NULL;
    snprintf(pattern, sizeof(pattern), "%s/flush", prefix);
    return tp_app_route(a, pattern, &hflush, NULL) < 0 ? NULL : a;
}

static int http11_routes(tp_app *app)
{
    static tp_app *hz, *h405;
    if ((!hz && !(hz = make_head_app("/hz", true, false))) ||
        (!h405 && !(h405 = make_head_app("/h405", false, true))))
        return -1;
    const tp_route_spec routes[] = {
        {.pattern = "/h/method", .cls = &hmethod},
        {.pattern = "/h/empty", .cls = &hempty},
        {.pattern = "/h/text", .cls = &htext},
        {.pattern = "/h/flush", .cls = &hflush},
        {.pattern = "/hz/.*", .cls = &tp_fallback_handler, .data = hz},
        {.pattern = "/h405/.*", .cls = &tp_fallback_handler, .data = h405},
        {.pattern = "/target", .cls = &target},
        {.pattern = "/poll", .cls = &poll},
        {.pattern = "/poll/wake", .cls = &poll_wake},
        {.pattern = "/poll/stats", .cls = &poll_stats},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (tp_app_add_route(app, &routes[i]) < 0)
            return -1;
    return 0;
}

static int testapp_init(tp_app *app)
{
    static const struct {
        const char *pattern;
        const tp_handler_class *cls;
    } routes[] = {
        {"/", &hello},
        {"/echo", &echo},
        {"/args", &args},
        {"/required", &required},
        {"/flush", &flush},
        {"/status/(\\d+)", &status},
        {"/async", &async},
        {"/stream", &stream},
        {"/big", &big},
        {"/headers", &headers},
        {"/early", &early_handler},
        {"/path/(.*)", &path},
        {"/error", &error},
        {"/wait", &wait},
        {"/stats", &stats},
        {"/inject", &inject},
        {"/cookie/(\\w+)", &cookie},
        {"/head", &head},
        {"/file", &file},
        {"/argv", &argv},
        {"/peercert", &peercert},
        {"/reverse", &reverse},
        {"/pause", &pause_cls},
        {"/pause/resume", &pause_resume},
        {"/hop", &hop},
    };
    tp_app_settings *st = tp_app_settings_of(app);
    const char *tpl = getenv("TP_TEMPLATE_PATH");
    st->template_path = tpl && *tpl ? tpl : "tests/blackbox/templates";
    st->ui_modules = ui_modules;
    st->n_ui_modules = 1;
    st->ui_methods = ui_methods;
    st->n_ui_methods = 1;
    static tp_locales *locales;
    if (!locales) {
        locales = tp_locales_new();
        const char *dir = getenv("TP_LOCALE_PATH");
        if (tp_locales_load_csv(locales, dir && *dir ? dir : "tests/blackbox/locale") < 0)
            return -1;
    }
    st->locales = locales;
    static tp_app *xapp, *yapp, *zapp;
    if (!xapp && !(xapp = make_xapp()))
        return -1;
    if (!yapp && !(yapp = make_login_app("/y", "https://login.example/auth", true)))
        return -1;
    if (!zapp && !(zapp = make_login_app("/z", "/in?from=z", false)))
        return -1;
    if (tp_app_add_static(app, "tests/blackbox/static_root", NULL) < 0)
        return -1;
    const tp_route_spec more[] = {
        {.pattern = "/x/.*", .cls = &tp_fallback_handler, .data = xapp},
        {.pattern = "/y/.*", .cls = &tp_fallback_handler, .data = yapp},
        {.pattern = "/z/.*", .cls = &tp_fallback_handler, .data = zapp},
        {.pattern = "/needlogin", .cls = &secret}, /* this app has no login_url */
        {.pattern = "/fredir/(\\w+)", .cls = &tp_redirect_handler, .data = (void *)&redir_frag},
        {.pattern = "/badredir1/(\\w+)",
         .cls = &tp_redirect_handler,
         .data = (void *)&redir_bad_index},
        {.pattern = "/badredir2/(\\w+)",
         .cls = &tp_redirect_handler,
         .data = (void *)&redir_bad_brace},
        {.pattern = "/user/(\\d+)/([a-z ]+)", .cls = &text, .data = "user page", .name = "user"},
        {.pattern = "/files/(.*)", .cls = &text, .data = "files", .name = "files"},
        {.pattern = "/re/\\d+", .cls = &text, .data = "re", .name = "regex"},
        {.pattern = "/host",
         .cls = &text,
         .data = "example host",
         .host = "(www\\.)?example\\.com"},
        {.pattern = "/host", .cls = &text, .data = "any host"},
        {.pattern = "/redir/(\\w+)", .cls = &tp_redirect_handler, .data = (void *)&redir_opts},
        {.pattern = "/tmp/(\\w+)/(\\w+)", .cls = &tp_redirect_handler, .data = (void *)&redir_tmp},
        {.pattern = "/gone", .cls = &tp_error_handler, .data = (void *)&gone},
        {.pattern = "/render/(\\w+)", .cls = &render},
        {.pattern = "/render_string", .cls = &render_string},
        {.pattern = "/detach", .cls = &detach},
        {.pattern = "/json", .cls = &json},
    };
    for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
        if (tp_app_add_route(app, &more[i]) < 0)
            return -1;
    if (pattern_fd < 0 && make_pattern_file() < 0)
        return -1;
    tp_app_settings_of(app)->cookie_secret = (tp_secret){.secret = TP_SLICE_LIT("test-secret")};
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (tp_app_route(app, routes[i].pattern, routes[i].cls, NULL) < 0)
            return -1;
    if (add_kv_app(app) < 0)
        return -1;
    return http11_routes(app);
}

TP_APP("testapp", testapp_init, NULL);
