/* tp-template: renders one template with a JSON context, the way tornado.template's Loader
 * would; the differential tests (tests/template/run.py) and the benchmark drive it.
 *
 *   tp-template [--dir D] [--no-autoescape | --autoescape FN] [--whitespace MODE]
 *               [--test-fns] [--bench N] NAME CONTEXT.json
 *
 * The output goes to stdout; a ParseError or runtime error to stderr with exit status 1.
 * --test-fns registers the functions the differential suite's Python side defines too:
 * upper(s), inc(x), bracket(s), modules.Template(name, **kwargs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/buf.h"
#include "web/template/template.h"

typedef struct cli {
    tp_template_loader *loader;
} cli;

static json_t *fn_upper(tp_template_call *c)
{
    json_t *s = json_array_get(c->args, 0);
    if (!json_is_string(s)) {
        snprintf(c->error, c->error_size, "upper() wants a string");
        return NULL;
    }
    char *u = strndup(json_string_value(s), json_string_length(s));
    for (char *p = u; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    json_t *r = json_stringn(u, json_string_length(s));
    free(u);
    return r;
}

static json_t *fn_inc(tp_template_call *c)
{
    json_t *x = json_array_get(c->args, 0);
    if (!json_is_integer(x)) {
        snprintf(c->error, c->error_size, "inc() wants an int");
        return NULL;
    }
    return json_integer(json_integer_value(x) + 1);
}

static json_t *fn_bracket(tp_template_call *c)
{
    json_t *s = json_array_get(c->args, 0);
    if (!json_is_string(s)) {
        snprintf(c->error, c->error_size, "bracket() wants a string");
        return NULL;
    }
    tp_buf b = {0};
    tp_buf_appendf(&b, "[%s]", json_string_value(s));
    json_t *r = json_stringn(b.base ? tp_buf_data(&b) : "", b.len);
    tp_buf_free(&b);
    return r;
}

/* modules.Template(name, **kwargs): Tornado's TemplateModule, minus its resources. */
static json_t *fn_module_template(tp_template_call *c)
{
    cli *k = c->fn_data;
    json_t *name = json_array_get(c->args, 0);
    tp_template_error err;
    if (!json_is_string(name)) {
        snprintf(c->error, c->error_size, "Template() wants a name");
        return NULL;
    }
    tp_template *t = tp_template_load(k->loader, json_string_value(name), NULL, &err);
    tp_buf out = {0};
    json_t *r = NULL;
    if (t && tp_template_render(t, c->kwargs, c->render_data, &out, &err) == 0)
        r = json_stringn(out.len ? tp_buf_data(&out) : "", out.len);
    else
        snprintf(c->error, c->error_size, "%s", err.message);
    tp_buf_free(&out);
    tp_template_release(t);
    return r;
}

static int usage(void)
{
    fprintf(stderr, "usage: tp-template [--dir D] [--no-autoescape | --autoescape FN] "
                    "[--whitespace MODE] [--test-fns] [--bench N] NAME CONTEXT.json\n");
    return 2;
}

/* Renders n times, each into a new buffer freed afterwards, as a request does (tp_render). */
static int bench(tp_template *t, json_t *ctx, long n)
{
    tp_template_error err;
    size_t len = 0;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++) {
        tp_buf out = {0};
        int rc = tp_template_render(t, ctx, NULL, &out, &err);
        len = out.len;
        tp_buf_free(&out);
        if (rc < 0) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double us = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3;
    printf("%s: %ld renders, %.3f us/render, %zu bytes\n", tp_template_name(t), n, us / (double)n,
           len);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = ".";
    tp_template_opts o = {0};
    bool test_fns = false;
    long bench_n = 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--no-autoescape"))
            o.autoescape_none = true;
        else if (!strcmp(a, "--test-fns"))
            test_fns = true;
        else if (!v)
            return usage();
        else if (!strcmp(a, "--dir"))
            dir = v, i++;
        else if (!strcmp(a, "--autoescape"))
            o.autoescape = v, i++;
        else if (!strcmp(a, "--whitespace"))
            o.whitespace = v, i++;
        else if (!strcmp(a, "--bench"))
            bench_n = atol(v), i++;
        else
            return usage();
    }
    if (argc - i != 2)
        return usage();
    json_error_t jerr;
    json_t *ctx = json_load_file(argv[i + 1], JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!ctx) {
        fprintf(stderr, "%s: %s\n", argv[i + 1], jerr.text);
        return 2;
    }
    cli k = {tp_template_loader_new_dir(dir, &o)};
    if (test_fns) {
        tp_template_loader_add_fn(k.loader, "upper", fn_upper, NULL);
        tp_template_loader_add_fn(k.loader, "inc", fn_inc, NULL);
        tp_template_loader_add_fn(k.loader, "bracket", fn_bracket, NULL);
        tp_template_loader_add_fn(k.loader, "modules.Template", fn_module_template, &k);
    }
    tp_template_error err;
    tp_template *t = tp_template_load(k.loader, argv[i], NULL, &err);
    int rc = 1;
    tp_buf out = {0};
    if (!t)
        fprintf(stderr, "%s\n", err.message);
    else if (bench_n > 0)
        rc = bench(t, ctx, bench_n);
    else if (tp_template_render(t, ctx, NULL, &out, &err) < 0)
        fprintf(stderr, "%s\n", err.message);
    else
        rc = fwrite(out.base ? tp_buf_data(&out) : "", 1, out.len, stdout) == out.len ? 0 : 1;
    tp_buf_free(&out);
    tp_template_release(t);
    tp_template_loader_free(k.loader);
    json_decref(ctx);
    return rc;
}
