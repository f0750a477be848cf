/* Templates and locales in handlers (Tornado's render, render_string, locale, UI methods and
 * UI modules): the app's template loader gets the handler namespace (_, pgettext, static_url,
 * xsrf_form_html, reverse_url, the UI methods and modules.X) once; each render passes the
 * handler as render_data, and render() injects the used modules' JS and CSS. */
#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "core/escape.h"
#include "web/static/static.h"
#include "web/web_internal.h"

/* ---- locale --------------------------------------------------------------------------- */

tp_locales *tp__app_locales(tp_app *app)
{
    if (!app->settings.locales && !app->own_locales)
        app->own_locales = tp_locales_new(); /* no translations: en_US, as Tornado starts */
    return app->settings.locales ? app->settings.locales : app->own_locales;
}

/* get_user_locale is app code that may finish h: h is held while we look at it after. */
const tp_locale *tp_handler_locale(tp_handler *h)
{
    if (h->locale)
        return h->locale;
    tp_locales *r = tp__app_locales(h->app);
    const char *code = NULL;
    tp__handler_hold(h);
    if (h->cls->get_user_locale)
        CALL(h, code = h->cls->get_user_locale(h));
    if (code) {
        tp_slice c = tp_slice_cstr(code);
        h->locale = tp_locales_closest(r, &c, 1);
    } else {
        tp_slice al = tp_headers_get_joined(&h->req->headers, TP_SLICE_LIT("Accept-Language"));
        h->locale = tp_locales_browser(r, al, "en_US");
    }
    const tp_locale *l = h->locale; /* the app's registry: outlives h */
    tp__handler_put(h);
    return l;
}

void tp_set_handler_locale(tp_handler *h, const tp_locale *l)
{
    h->locale = l;
}

/* ---- the handler namespace of templates -------------------------------------------------- */

static tp_slice str_arg(json_t *args, size_t i)
{
    json_t *v = json_array_get(args, i);
    return json_is_string(v) ? (tp_slice){json_string_value(v), json_string_length(v)}
                             : TP_SLICE_NULL;
}

static json_t *fail(tp_template_call *call, const char *msg)
{
    snprintf(call->error, call->error_size, "%s", msg);
    return NULL;
}

static json_t *slice_json(tp_slice s)
{
    return json_stringn(s.p ? s.p : "", s.n);
}

/* _(message, plural_message=None, count=None) */
static json_t *ns_translate(tp_template_call *call)
{
    tp_handler *h = call->render_data;
    size_t n = json_array_size(call->args);
    tp_slice msg = str_arg(call->args, 0), plural = n > 1 ? str_arg(call->args, 1) : TP_SLICE_NULL;
    json_t *count = n > 2 ? json_array_get(call->args, 2) : json_object_get(call->kwargs, "count");
    if (!msg.p || (n > 1 && !plural.p) || (plural.p && !json_is_integer(count)))
        return fail(call, "_() takes a message, and a plural message with an integer count");
    int64_t c = json_is_integer(count) ? json_integer_value(count) : 1;
    return slice_json(tp_locale_translate(tp_handler_locale(h), msg, plural, c));
}

/* pgettext(context, message, plural_message=None, count=None) */
static json_t *ns_pgettext(tp_template_call *call)
{
    tp_handler *h = call->render_data;
    size_t n = json_array_size(call->args);
    tp_slice ctx = str_arg(call->args, 0), msg = str_arg(call->args, 1);
    tp_slice plural = n > 2 ? str_arg(call->args, 2) : TP_SLICE_NULL;
    json_t *count = n > 3 ? json_array_get(call->args, 3) : json_object_get(call->kwargs, "count");
    if (!ctx.p || !msg.p || (n > 2 && !plural.p) || (plural.p && !json_is_integer(count)))
        return fail(call, "pgettext() takes a context, a message, and a plural with a count");
    int64_t c = json_is_integer(count) ? json_integer_value(count) : 1;
    return slice_json(tp_locale_pgettext(tp_handler_locale(h), ctx, msg, plural, c));
}

static json_t *ns_static_url(tp_template_call *call)
{
    tp_handler *h = call->render_data;
    tp_slice path = str_arg(call->args, 0);
    if (!path.p)
        return fail(call, "static_url() takes a path");
    json_t *v = json_object_get(call->kwargs, "include_version");
    char *url = tp_static_url(h->app, &h->req->arena, path.p, !json_is_false(v));
    return url ? json_string(url) : fail(call, "static_url() needs the static_path setting");
}

static json_t *ns_xsrf_form_html(tp_template_call *call)
{
    return json_string(tp_xsrf_form_html(call->render_data));
}

/* reverse_url(name, *args): arguments are str()-converted as Tornado does. */
static json_t *ns_reverse_url(tp_template_call *call)
{
    tp_handler *h = call->render_data;
    tp_slice name = str_arg(call->args, 0);
    size_t n = json_array_size(call->args);
    if (!name.p || n > 17)
        return fail(call, "reverse_url() takes a route name and up to 16 arguments");
    const char *args[16];
    for (size_t i = 1; i < n; i++) {
        json_t *a = json_array_get(call->args, i);
        args[i - 1] = json_is_string(a)    ? json_string_value(a)
                      : json_is_integer(a) ? tp_arena_printf(&h->req->arena, "%lld",
                                                             (long long)json_integer_value(a))
                                           : NULL;
        if (!args[i - 1])
            return fail(call, "reverse_url() arguments must be strings or integers");
    }
    char *url = tp_reverse_url(h->app, &h->req->arena, name.p, n - 1, args);
    return url ? json_string(url) : fail(call, "reverse_url(): no such route or arguments");
}

/* A UI method: fn(handler, *args) (Tornado binds it to the handler). */
static json_t *ns_ui_method(tp_template_call *call)
{
    const tp_ui_method *m = call->fn_data;
    return m->fn(call->render_data, call);
}

/* modules.X(...): the module's render; its resources are collected once per request. */
static json_t *ns_ui_module(tp_template_call *call)
{
    const tp_ui_module *m = call->fn_data;
    tp_handler *h = call->render_data;
    if (!h->active) /* room for every module of the app, each listed once */
        h->active =
            tp_arena_alloc(&h->req->arena, h->app->settings.n_ui_modules * sizeof(*h->active));
    size_t i = 0;
    while (i < h->nactive && h->active[i] != m)
        i++;
    if (i == h->nactive)
        h->active[h->nactive++] = m;
    return m->render(h, call);
}

/* The built-in UI modules: linkify(text), xsrf_form_html(), Template(name, **kwargs). */
static json_t *module_linkify(tp_template_call *call)
{
    tp_handler *h = call->render_data;
    tp_slice text = str_arg(call->args, 0);
    if (!text.p)
        return fail(call, "linkify() takes a string");
    return slice_json(tp_linkify(&h->req->arena, text, NULL));
}

static json_t *module_template(tp_template_call *call)
{
    tp_handler *h = call->render_data;
    tp_slice name = str_arg(call->args, 0);
    if (!name.p)
        return fail(call, "Template() takes a template name");
    tp_buf out = {0};
    if (tp_render_string(h, name.p, call->kwargs, &out) < 0) {
        tp_buf_free(&out);
        return fail(call, "the Template module's template failed (logged)");
    }
    json_t *v = json_stringn(tp_buf_data(&out), out.len);
    tp_buf_free(&out);
    return v;
}

static int add_namespace(tp_app *app, tp_template_loader *l)
{
    static const struct {
        const char *name;
        tp_template_fn fn;
    } fns[] = {{"_", ns_translate},
               {"pgettext", ns_pgettext},
               {"static_url", ns_static_url},
               {"xsrf_form_html", ns_xsrf_form_html},
               {"reverse_url", ns_reverse_url}};
    static const struct {
        const char *name;
        tp_template_fn fn;
    } builtin_modules[] = {{"modules.linkify", module_linkify},
                           {"modules.xsrf_form_html", ns_xsrf_form_html},
                           {"modules.Template", module_template}};
    int r = 0;
    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]) && r == 0; i++)
        r = tp_template_loader_add_fn(l, fns[i].name, fns[i].fn, NULL);
    for (size_t i = 0; i < sizeof(builtin_modules) / sizeof(builtin_modules[0]) && r == 0; i++)
        r = tp_template_loader_add_fn(l, builtin_modules[i].name, builtin_modules[i].fn, NULL);
    const tp_app_settings *st = &app->settings;
    for (size_t i = 0; i < st->n_ui_methods && r == 0; i++)
        r = tp_template_loader_add_fn(l, st->ui_methods[i].name, ns_ui_method,
                                      (void *)&st->ui_methods[i]);
    char name[128];
    for (size_t i = 0; i < st->n_ui_modules && r == 0; i++) {
        snprintf(name, sizeof(name), "modules.%s", st->ui_modules[i]->name);
        r = tp_template_loader_add_fn(l, name, ns_ui_module, (void *)st->ui_modules[i]);
    }
    return r;
}

/* The app's loader: settings.template_loader, or a Loader over template_path, with the
 * handler namespace added once. */
static tp_template_loader *loader(tp_app *app)
{
    if (app->loader)
        return app->loader;
    tp_template_loader *l = app->settings.template_loader;
    if (!l) {
        const char *root = app->settings.template_path ? app->settings.template_path : ".";
        l = app->own_loader = tp_template_loader_new_dir(root, &app->settings.template_opts);
        if (!l) {
            tp_log_error("template_path %s cannot be resolved", root);
            return NULL;
        }
    }
    if (add_namespace(app, l) < 0) {
        tp_log_error("cannot register the handler namespace of templates");
        return NULL;
    }
    return app->loader = l;
}

/* Tornado's get_template_namespace values: current_user, request, locale (the functions are
 * in the loader); kwargs given by the caller win. */
static json_t *namespace_values(tp_handler *h, json_t *kwargs)
{
    tp_request *req = h->req;
    const tp_locale *l = tp_handler_locale(h);
    const char *user = tp_current_user(h);
    json_t *ns =
        json_pack("{s:o, s:{s:s%, s:s%, s:s%, s:s%, s:s%, s:s%, s:s%, s:s%}, s:{s:s, s:s, s:b}}",
                  "current_user", user ? json_string(user) : json_null(), "request", "method",
                  req->method.p, req->method.n, "uri", req->uri.p, req->uri.n, "path", req->path.p,
                  req->path.n, "query", req->query.p, req->query.n, "version", req->version.p,
                  req->version.n, "remote_ip", req->remote_ip.p, req->remote_ip.n, "protocol",
                  req->protocol.p, req->protocol.n, "host", req->host.p, req->host.n, "locale",
                  "code", tp_locale_code(l), "name", tp_locale_name(l), "rtl", tp_locale_rtl(l));
    if (ns && kwargs)
        json_object_update(ns, kwargs);
    return ns;
}

static int render_string(tp_handler *h, const char *name, json_t *kwargs, tp_buf *out)
{
    tp_app *app = h->app;
    tp_template_loader *l = loader(app);
    if (!l)
        return -EINVAL;
    if (app->settings.debug) /* compiled_template_cache off: every render re-reads */
        tp_template_loader_reset(l);
    tp_template_error err;
    tp_template *t = tp_template_load(l, name, NULL, &err);
    json_t *ns = t ? namespace_values(h, kwargs) : NULL;
    int r = t && ns ? tp_template_render(t, ns, h, out, &err) : -1;
    json_decref(ns);
    tp_template_release(t);
    if (r < 0) {
        const char *kind = err.parse ? "ParseError" : "Error";
        tp_log_error("%s %.*s %.*s: template %s: %s", kind, TP_SLICE_FMT(h->req->method),
                     TP_SLICE_FMT(h->req->uri), name, err.message);
        if (app->settings.debug) /* the 500 page shows it (serve_traceback) */
            h->traceback = tp_arena_printf(&h->req->arena, "Traceback (template):\n  %s\n%s: %s\n",
                                           name, kind, err.message);
        return -EINVAL;
    }
    return 0;
}

/* The template calls UI methods and modules (app code, which may finish h): h is held. */
int tp_render_string(tp_handler *h, const char *name, json_t *kwargs, tp_buf *out)
{
    tp__handler_hold(h);
    int r = render_string(h, name, kwargs, out);
    tp__handler_put(h);
    return r;
}

/* ---- render(): the page plus the used modules' resources -------------------------------- */

typedef struct resources {
    tp_buf js_files, js_embed, css_files, css_embed, heads, bodies;
    size_t njs_embed, ncss_embed;
} resources;

static bool is_absolute(const char *p)
{
    return p[0] == '/' || strncmp(p, "http:", 5) == 0 || strncmp(p, "https:", 6) == 0;
}

/* Appends each path as a tag (relative paths through static_url), skipping repeats. */
static void linked(tp_handler *h, const char *const *paths, tp_buf *out, const char *pre,
                   const char *post)
{
    for (; paths && *paths; paths++) {
        const char *url =
            is_absolute(*paths) ? *paths : tp_static_url(h->app, &h->req->arena, *paths, true);
        if (!url)
            continue;
        tp_slice e = tp_xhtml_escape(&h->req->arena, tp_slice_cstr(url));
        char *tag = tp_arena_printf(&h->req->arena, "%s%.*s%s", pre, TP_SLICE_FMT(e), post);
        if (!out->len || !memmem(tp_buf_data(out), out->len, tag, strlen(tag)))
            tp_buf_append_str(out, tag);
    }
}

static void embedded(tp_buf *out, size_t *n, const char *part)
{
    if (!part || !*part)
        return;
    if ((*n)++)
        tp_buf_append_str(out, "\n");
    tp_buf_append_str(out, part);
}

static void collect(tp_handler *h, resources *rs)
{
    for (size_t i = 0; i < h->nactive; i++) {
        const tp_ui_module *m = h->active[i];
        embedded(&rs->js_embed, &rs->njs_embed, m->embedded_javascript);
        linked(h, m->javascript_files, &rs->js_files, "<script src=\"",
               "\" type=\"text/javascript\"></script>");
        embedded(&rs->css_embed, &rs->ncss_embed, m->embedded_css);
        linked(h, m->css_files, &rs->css_files, "<link href=\"",
               "\" type=\"text/css\" rel=\"stylesheet\"/>");
        if (m->html_head)
            tp_buf_append_str(&rs->heads, m->html_head);
        if (m->html_body)
            tp_buf_append_str(&rs->bodies, m->html_body);
    }
}

/* Inserts what + "\n" before the first (or last) tag in page; false if the tag is absent. */
static bool insert(tp_buf *page, const char *tag, bool last, const char *what, size_t n)
{
    tp_slice s = tp_buf_slice(page);
    size_t tl = strlen(tag);
    const char *at = NULL;
    if (!s.n)
        return false;
    for (const char *p = s.p; (p = memmem(p, (size_t)(s.p + s.n - p), tag, tl)); p++) {
        at = p;
        if (!last)
            break;
    }
    if (!at)
        return false;
    size_t off = (size_t)(at - s.p), tail = page->len - off;
    tp_buf_reserve(page, n + 1);
    char *d = tp_buf_data(page);
    memmove(d + off + n + 1, d + off, tail);
    memcpy(d + off, what, n);
    d[off + n] = '\n';
    tp_buf_commit(page, n + 1);
    return true;
}

/* Tornado's render() order: linked JS, embedded JS (before the last </body>), linked CSS,
 * embedded CSS, html_head (before the first </head>), html_body (before the first </body>). */
static bool inject(tp_buf *page, resources *rs)
{
    bool ok = true;
    tp_buf tmp = {0};
    if (rs->js_files.len)
        ok = ok && insert(page, "</body>", true, tp_buf_data(&rs->js_files), rs->js_files.len);
    if (rs->njs_embed) {
        tp_buf_appendf(&tmp,
                       "<script type=\"text/javascript\">\n//<![CDATA[\n%.*s\n//]]>\n</script>",
                       (int)rs->js_embed.len, tp_buf_data(&rs->js_embed));
        ok = ok && insert(page, "</body>", true, tp_buf_data(&tmp), tmp.len);
        tp_buf_clear(&tmp);
    }
    if (rs->css_files.len)
        ok = ok && insert(page, "</head>", false, tp_buf_data(&rs->css_files), rs->css_files.len);
    if (rs->ncss_embed) {
        tp_buf_appendf(&tmp, "<style type=\"text/css\">\n%.*s\n</style>", (int)rs->css_embed.len,
                       tp_buf_data(&rs->css_embed));
        ok = ok && insert(page, "</head>", false, tp_buf_data(&tmp), tmp.len);
    }
    if (rs->heads.len)
        ok = ok && insert(page, "</head>", false, tp_buf_data(&rs->heads), rs->heads.len);
    if (rs->bodies.len)
        ok = ok && insert(page, "</body>", false, tp_buf_data(&rs->bodies), rs->bodies.len);
    tp_buf_free(&tmp);
    return ok;
}

static void resources_free(resources *rs)
{
    tp_buf *all[] = {&rs->js_files,  &rs->js_embed, &rs->css_files,
                     &rs->css_embed, &rs->heads,    &rs->bodies};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        tp_buf_free(all[i]);
}

int tp_render(tp_handler *h, const char *name, json_t *kwargs)
{
    if (tp__handler_done(h))
        return -EALREADY;
    tp__handler_hold(h); /* as tp_render_string, and for collect() after it */
    tp_buf page = {0};
    int r = render_string(h, name, kwargs, &page);
    resources rs = {0};
    if (r == 0) {
        collect(h, &rs);
        if (!inject(&page, &rs)) {
            tp_log_error("render %s: a UI module's resources need </head> and </body>", name);
            r = -EINVAL;
        }
    }
    if (r == 0)
        r = tp_write(h, tp_buf_data(&page), page.len);
    resources_free(&rs);
    tp_buf_free(&page);
    if (r < 0)
        tp_send_error(h, 500);
    else
        r = tp_finish(h);
    tp__handler_put(h);
    return r;
}
