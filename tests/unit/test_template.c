/* tornado.template in C (web/template/template.h): Tornado's own tornado/test/template_test.py
 * re-created case by case (TemplateTest, StackTraceTest, ParseErrorDetailTest,
 * AutoEscapeTest, TemplateLoaderTest), plus the C API's contracts: nothing written on a
 * failed render, reset, cycles, registered functions and their errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "web/template/template.h"
#include "tests/unit/suites.h"

#define MAXOUT 4096

/* Renders `name` from a DictLoader of NULL-terminated name/text pairs with ctx (JSON text
 * or NULL). The result is the output, or "ERR:" and the error message. */
static const char *render_opts(const char *const *files, const char *name, const char *ctx,
                               const tp_template_opts *o, tp_template_fn fn, const char *fn_name)
{
    static char result[MAXOUT];
    tp_template_source src[32];
    size_t n = 0;
    for (; files[2 * n]; n++)
        src[n] = (tp_template_source){files[2 * n], files[2 * n + 1], strlen(files[2 * n + 1])};
    tp_template_loader *l = tp_template_loader_new_dict(src, n, true, o);
    if (fn)
        tp_template_loader_add_fn(l, fn_name, fn, l);
    json_t *c = ctx ? json_loads(ctx, 0, NULL) : NULL;
    ck_assert_msg(!ctx || c, "bad test context %s", ctx);
    tp_template_error err;
    tp_template *t = tp_template_load(l, name, NULL, &err);
    tp_buf out = {0};
    if (!t || tp_template_render(t, c, NULL, &out, &err) < 0)
        snprintf(result, sizeof result, "ERR:%s", err.message);
    else
        snprintf(result, sizeof result, "%.*s", (int)out.len, tp_buf_data(&out));
    tp_buf_free(&out);
    tp_template_release(t);
    tp_template_loader_free(l);
    json_decref(c);
    return result;
}

static const char *render(const char *const *files, const char *name, const char *ctx)
{
    return render_opts(files, name, ctx, NULL, NULL, NULL);
}

/* A one-file template named "<string>"'s way: Template(text). */
static const char *render_string(const char *text, const char *ctx)
{
    static char result[MAXOUT];
    tp_template_error err;
    tp_template *t = tp_template_new_string(text, strlen(text), NULL, NULL, &err);
    json_t *c = ctx ? json_loads(ctx, 0, NULL) : NULL;
    tp_buf out = {0};
    if (!t || tp_template_render(t, c, NULL, &out, &err) < 0)
        snprintf(result, sizeof result, "ERR:%s", err.message);
    else
        snprintf(result, sizeof result, "%.*s", (int)out.len, tp_buf_data(&out));
    tp_buf_free(&out);
    tp_template_release(t);
    json_decref(c);
    return result;
}

#define EQ(got, want) ck_assert_str_eq(got, want)

static json_t *fn_upper(tp_template_call *c)
{
    const char *s = json_string_value(json_array_get(c->args, 0));
    char buf[256];
    size_t i = 0;
    for (; s && s[i] && i < sizeof buf - 1; i++)
        buf[i] = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 32) : s[i];
    buf[i] = '\0';
    return json_string(buf);
}

static json_t *fn_inc(tp_template_call *c)
{
    return json_integer(json_integer_value(json_array_get(c->args, 0)) + 1);
}

/* ---- TemplateTest --------------------------------------------------------------------- */

START_TEST(test_simple)
{
    EQ(render_string("Hello {{ name }}!", "{\"name\": \"Ben\"}"), "Hello Ben!");
    EQ(render_string("2 + 2 = {{ 2 + 2 }}", NULL), "2 + 2 = 4");
    EQ(render_string("Hello{# TODO i18n #} {{ name }}!", "{\"name\": \"Ben\"}"), "Hello Ben!");
    EQ(render_string("{% comment blah blah %}foo", NULL), "foo");
    EQ(render_string("\xc3\xa9", NULL), "\xc3\xa9");
    EQ(render_string("{{ \"\xc3\xa9\" }}", NULL), "\xc3\xa9");
}
END_TEST

START_TEST(test_include_extends)
{
    const char *inc[] = {"index.html", "{% include \"header.html\" %}\nbody text", "header.html",
                         "header text", NULL};
    EQ(render(inc, "index.html", NULL), "header text\nbody text");
    const char *ext[] = {"base.html",
                         "<title>{% block title %}default title{% end %}</title>\n"
                         "<body>{% block body %}default body{% end %}</body>\n",
                         "page.html",
                         "{% extends \"base.html\" %}\n{% block title %}page title{% end %}\n"
                         "{% block body %}page body{% end %}\n",
                         NULL};
    EQ(render(ext, "page.html", NULL), "<title>page title</title>\n<body>page body</body>\n");
    const char *rel[] = {"a/1.html", "{% include '2.html' %}",
                         "a/2.html", "{% include '../b/3.html' %}",
                         "b/3.html", "ok",
                         NULL};
    EQ(render(rel, "a/1.html", NULL), "ok");
}
END_TEST

START_TEST(test_escaping)
{
    ck_assert(!strncmp(render_string("{{", NULL), "ERR:Missing end expression }}", 29));
    ck_assert(!strncmp(render_string("{%", NULL), "ERR:Missing end block %}", 24));
    EQ(render_string("{{!", NULL), "{{");
    EQ(render_string("{%!", NULL), "{%");
    EQ(render_string("{#!", NULL), "{#");
    EQ(render_string("{{ 'expr' }} {{!jquery expr}}", NULL), "expr {{jquery expr}}");
}
END_TEST

START_TEST(test_namespace_apply)
{
    const char *f[] = {"test.html", "{{ inc(5) }}", NULL};
    EQ(render_opts(f, "test.html", NULL, NULL, fn_inc, "inc"), "6");
    const char *a[] = {"a.html", "{% apply upper %}foo{% end %}", NULL};
    EQ(render_opts(a, "a.html", NULL, NULL, fn_upper, "upper"), "FOO");
    const char *u[] = {"u.html", "{% apply upper %}foo \xc3\xa9{% end %}", NULL};
    EQ(render_opts(u, "u.html", NULL, NULL, fn_upper, "upper"), "FOO \xc3\xa9");
}
END_TEST

START_TEST(test_if_try)
{
    EQ(render_string("{% if x > 4 %}yes{% else %}no{% end %}", "{\"x\": 5}"), "yes");
    EQ(render_string("{% if x > 4 %}yes{% else %}no{% end %}", "{\"x\": 3}"), "no");
    EQ(render_string("{% if True %}{% else %}{% end %}", NULL), "");
    const char *try = "{% try %}\ntry{% set y = 1/x %}\n{% except %}-except\n"
                      "{% else %}-else\n{% finally %}-finally\n{% end %}";
    EQ(render_string(try, "{\"x\": 1}"), "\ntry\n-else\n-finally\n");
    EQ(render_string(try, "{\"x\": 0}"), "\ntry-except\n-finally\n");
}
END_TEST

START_TEST(test_break_continue)
{
    const char *t = "{% for i in range(10) %}\n    {% if i == 2 %}\n        {% continue %}\n"
                    "    {% end %}\n    {{ i }}\n    {% if i == 6 %}\n        {% break %}\n"
                    "    {% end %}\n{% end %}";
    const char *got = render_string(t, NULL);
    char squeezed[64];
    size_t k = 0;
    for (size_t i = 0; got[i] && k < sizeof squeezed - 1; i++)
        if (got[i] != ' ' && got[i] != '\n')
            squeezed[k++] = got[i];
    squeezed[k] = '\0';
    EQ(squeezed, "013456");
    EQ(render_string("{% break %}", NULL),
       "ERR:break outside {'for', 'while'} block at <string>:1");
    EQ(render_string("{% for i in [] %}{% apply foo %}{% break %}{% end %}{% end %}", NULL),
       "ERR:break outside {'for', 'while'} block at <string>:1");
}
END_TEST

START_TEST(test_non_ascii_name)
{
    const char *f[] = {"t\xc3\xa9st.html", "hello", NULL};
    EQ(render(f, "t\xc3\xa9st.html", NULL), "hello");
}
END_TEST

/* ---- StackTraceTest ------------------------------------------------------------------- */

START_TEST(test_error_line_numbers)
{
    const char *e[] = {"test.html", "one\ntwo{{1/0}}\nthree\n        ", NULL};
    EQ(render(e, "test.html", NULL), "ERR:ZeroDivisionError: division by zero at test.html:2");
    const char *d[] = {"test.html", "one\ntwo{%if 1/0%}\nthree{%end%}\n        ", NULL};
    EQ(render(d, "test.html", NULL), "ERR:ZeroDivisionError: division by zero at test.html:2");
    const char *i[] = {"base.html", "{% include 'sub.html' %}", "sub.html", "{{1/0}}", NULL};
    EQ(render(i, "base.html", NULL),
       "ERR:ZeroDivisionError: division by zero at sub.html:1 (via base.html:1)");
    const char *b[] = {"base.html", "{{1/0}}", "sub.html", "{% extends 'base.html' %}", NULL};
    EQ(render(b, "sub.html", NULL), "ERR:ZeroDivisionError: division by zero at base.html:1");
    const char *s[] = {"base.html", "{% block 'block' %}{% end %}", "sub.html",
                       "\n{% extends 'base.html' %}\n{% block 'block' %}\n{{1/0}}\n{% end %}\n",
                       NULL};
    EQ(render(s, "sub.html", NULL),
       "ERR:ZeroDivisionError: division by zero at sub.html:4 (via base.html:1)");
    const char *m[] = {
        "a.html", "{% include 'b.html' %}", "b.html", "{% include 'c.html' %}", "c.html", "{{1/0}}",
        NULL};
    EQ(render(m, "a.html", NULL),
       "ERR:ZeroDivisionError: division by zero at c.html:1 (via b.html:1, a.html:1)");
}
END_TEST

/* modules.Template: a registered function rendering another template of the loader. */
static json_t *fn_module(tp_template_call *c)
{
    tp_template_error err;
    tp_template *t =
        tp_template_load(c->fn_data, json_string_value(json_array_get(c->args, 0)), NULL, &err);
    tp_buf out = {0};
    json_t *r = NULL;
    if (t && tp_template_render(t, c->kwargs, NULL, &out, &err) == 0)
        r = json_stringn(tp_buf_data(&out), out.len);
    else
        snprintf(c->error, c->error_size, "%s", err.message);
    tp_buf_free(&out);
    tp_template_release(t);
    return r;
}

START_TEST(test_error_line_number_module)
{
    const char *f[] = {"base.html", "{% module Template('sub.html') %}", "sub.html", "{{1/0}}",
                       NULL};
    EQ(render_opts(f, "base.html", NULL, NULL, fn_module, "modules.Template"),
       "ERR:Error: ZeroDivisionError: division by zero at sub.html:1 at base.html:1");
    const char *ok[] = {"base.html", "[{% module Template('sub.html', x='<b>') %}]", "sub.html",
                        "{{ x }}", NULL};
    EQ(render_opts(ok, "base.html", NULL, NULL, fn_module, "modules.Template"), "[&lt;b&gt;]");
}
END_TEST

/* ---- ParseErrorDetailTest ------------------------------------------------------------- */

START_TEST(test_parse_error_details)
{
    const char *f[] = {"foo.html", "\n\n{{", NULL};
    tp_template_source src = {f[0], f[1], strlen(f[1])};
    tp_template_loader *l = tp_template_loader_new_dict(&src, 1, false, NULL);
    tp_template_error err;
    ck_assert_ptr_null(tp_template_load(l, "foo.html", NULL, &err));
    EQ(err.message, "Missing end expression }} at foo.html:3");
    EQ(err.filename, "foo.html");
    ck_assert_int_eq(err.lineno, 3);
    ck_assert(err.parse);
    tp_template_loader_free(l);
    const char *inc[] = {"x.html", "a\n{% include 'y.html' %}", "y.html", "\n\n{% if 1 %}", NULL};
    EQ(render(inc, "x.html", NULL), "ERR:Missing {% end %} block for if at y.html:3");
    EQ(render_string("{% extends 'a' %}", NULL),
       "ERR:{% extends %} block found, but no template loader at None:0");
    EQ(render_string("\n{% frob x %}", NULL), "ERR:unknown operator: 'frob' at <string>:2");
    EQ(render_string("{% end %}", NULL), "ERR:Extra {% end %} block at <string>:1");
    EQ(render_string("{% else %}", NULL),
       "ERR:else outside {'if', 'for', 'while', 'try'} block at <string>:1");
    EQ(render_string("{% if 1 %}{% except %}{% end %}", NULL),
       "ERR:except block cannot be attached to if block at <string>:1");
}
END_TEST

/* ---- AutoEscapeTest ------------------------------------------------------------------- */

static const char *const autoescape_files[] = {
    "escaped.html",
    "{% autoescape xhtml_escape %}{{ name }}",
    "unescaped.html",
    "{% autoescape None %}{{ name }}",
    "default.html",
    "{{ name }}",
    "include.html",
    "escaped: {% include 'escaped.html' %}\nunescaped: {% include 'unescaped.html' %}\n"
    "default: {% include 'default.html' %}\n",
    "escaped_block.html",
    "{% autoescape xhtml_escape %}{% block name %}base: {{ name }}{% end %}",
    "unescaped_block.html",
    "{% autoescape None %}{% block name %}base: {{ name }}{% end %}",
    "escaped_extends_unescaped.html",
    "{% autoescape xhtml_escape %}{% extends \"unescaped_block.html\" %}",
    "escaped_overrides_unescaped.html",
    "{% autoescape xhtml_escape %}{% extends \"unescaped_block.html\" %}"
    "{% block name %}extended: {{ name }}{% end %}",
    "unescaped_extends_escaped.html",
    "{% autoescape None %}{% extends \"escaped_block.html\" %}",
    "unescaped_overrides_escaped.html",
    "{% autoescape None %}{% extends \"escaped_block.html\" %}"
    "{% block name %}extended: {{ name }}{% end %}",
    "raw_expression.html",
    "{% autoescape xhtml_escape %}expr: {{ name }}\nraw: {% raw name %}",
    NULL};

START_TEST(test_autoescape_default)
{
    const char *bobby = "{\"name\": \"Bobby <table>s\"}";
    tp_template_opts off = {.autoescape_none = true};
    EQ(render_opts(autoescape_files, "escaped.html", bobby, &off, NULL, NULL),
       "Bobby &lt;table&gt;s");
    EQ(render_opts(autoescape_files, "unescaped.html", bobby, &off, NULL, NULL), "Bobby <table>s");
    EQ(render_opts(autoescape_files, "default.html", bobby, &off, NULL, NULL), "Bobby <table>s");
    EQ(render_opts(autoescape_files, "include.html", bobby, &off, NULL, NULL),
       "escaped: Bobby &lt;table&gt;s\nunescaped: Bobby <table>s\ndefault: Bobby <table>s\n");
    EQ(render(autoescape_files, "default.html", bobby), "Bobby &lt;table&gt;s");
    EQ(render(autoescape_files, "include.html", bobby),
       "escaped: Bobby &lt;table&gt;s\nunescaped: Bobby <table>s\ndefault: Bobby &lt;table&gt;s\n");
}
END_TEST

START_TEST(test_autoescape_blocks)
{
    const char *s = "{\"name\": \"<script>\"}";
    EQ(render(autoescape_files, "escaped_block.html", s), "base: &lt;script&gt;");
    EQ(render(autoescape_files, "unescaped_block.html", s), "base: <script>");
    EQ(render(autoescape_files, "escaped_extends_unescaped.html", s), "base: <script>");
    EQ(render(autoescape_files, "escaped_overrides_unescaped.html", s), "extended: &lt;script&gt;");
    EQ(render(autoescape_files, "unescaped_extends_escaped.html", s), "base: &lt;script&gt;");
    EQ(render(autoescape_files, "unescaped_overrides_escaped.html", s), "extended: <script>");
    EQ(render(autoescape_files, "raw_expression.html", "{\"name\": \"<>&\\\"\"}"),
       "expr: &lt;&gt;&amp;&quot;\nraw: <>&\"");
}
END_TEST

START_TEST(test_custom_escape)
{
    const char *f[] = {"foo.py", "{% autoescape upper %}s = {{ name }} {{ n }}\n", NULL};
    EQ(render_opts(f, "foo.py", "{\"name\": \"<html>\", \"n\": [\"x\"]}", NULL, fn_upper, "upper"),
       "s = <HTML> ['X']\n");
}
END_TEST

START_TEST(test_whitespace)
{
    const char *m[] = {
        "foo.txt", "{% for i in items\n  %}{% if i > 0 %}, {% end %}{#\n  #}{{i\n  }}{% end\n%}",
        NULL};
    EQ(render(m, "foo.txt", "{\"items\": [0, 1, 2, 3, 4]}"), "0, 1, 2, 3, 4");
    const char *f[] = {"foo.html",
                       "   \n\t\n asdf\t   ",
                       "bar.js",
                       " \n\n\n\t qwer     ",
                       "baz.txt",
                       "\t    zxcv\n\n",
                       "include.html",
                       "  {% include baz.txt %} \n ",
                       "include.txt",
                       "\t\t{% include foo.html %}    ",
                       NULL};
    EQ(render(f, "foo.html", NULL), "\nasdf ");
    EQ(render(f, "bar.js", NULL), "\nqwer ");
    EQ(render(f, "baz.txt", NULL), "\t    zxcv\n\n");
    EQ(render(f, "include.html", NULL), " \t    zxcv\n\n\n");
    EQ(render(f, "include.txt", NULL), "\t\t\nasdf     ");
    const char *l[] = {"foo.html", "\t\tfoo\n\n", "bar.txt", "\t\tbar\n\n", NULL};
    const char *want[3][2] = {
        {"\t\tfoo\n\n", "\t\tbar\n\n"}, {" foo\n", " bar\n"}, {" foo ", " bar "}};
    const char *modes[] = {"all", "single", "oneline"};
    for (int i = 0; i < 3; i++) {
        tp_template_opts o = {.whitespace = modes[i]};
        EQ(render_opts(l, "foo.html", NULL, &o, NULL, NULL), want[i][0]);
        EQ(render_opts(l, "bar.txt", NULL, &o, NULL, NULL), want[i][1]);
    }
    const char *d[] = {"foo.html",
                       "{% whitespace oneline %}\n    {% for i in range(3) %}\n        {{ i }}\n"
                       "    {% end %}\n{% whitespace all %}\n    pre\tformatted\n",
                       NULL};
    EQ(render(d, "foo.html", NULL), "  0  1  2  \n    pre\tformatted\n");
}
END_TEST

/* ---- TemplateLoaderTest and the C API ------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(test_dir_loader_reset)
{
    char dir[] = "/tmp/tp-template-XXXXXX", path[256];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/utf8.html", dir);
    write_file(path, "H\xc3\xa9llo\n");
    tp_template_loader *l = tp_template_loader_new_dir(dir, NULL);
    tp_template_error err;
    tp_template *t = tp_template_load(l, "utf8.html", NULL, &err);
    ck_assert_ptr_nonnull(t);
    tp_buf out = {0};
    tp_buf_append_str(&out, "keep:");
    ck_assert_int_eq(tp_template_render(t, NULL, NULL, &out, &err), 0);
    ck_assert_int_eq((int)out.len, 12);
    ck_assert(!memcmp(tp_buf_data(&out), "keep:H\xc3\xa9llo\n", 12));
    tp_template_release(t);
    write_file(path, "{{ x }} changed");
    t = tp_template_load(l, "utf8.html", NULL, &err); /* cached: still the old text */
    out.len = 0;
    tp_template_render(t, NULL, NULL, &out, &err);
    ck_assert_int_eq((int)out.len, 7);
    tp_template_loader_reset(l);
    tp_template *t2 = tp_template_load(l, "utf8.html", NULL, &err);
    out.len = 0;
    tp_buf_append_str(&out, "keep");
    /* a failed render leaves the caller's buffer as it was */
    ck_assert_int_eq(tp_template_render(t2, NULL, NULL, &out, &err), -1);
    ck_assert_int_eq((int)out.len, 4);
    EQ(err.message, "NameError: name 'x' is not defined at utf8.html:1");
    ck_assert_ptr_null(tp_template_load(l, "missing.html", NULL, &err));
    ck_assert(strstr(err.message, "FileNotFoundError") != NULL);
    tp_template_release(t);
    tp_template_release(t2);
    tp_template_loader_free(l);
    tp_buf_free(&out);
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(test_resolve)
{
    tp_template_loader *d = tp_template_loader_new_dict(NULL, 0, false, NULL);
    char *r = tp_template_resolve(d, "../b/3.html", "a/2.html");
    EQ(r, "b/3.html");
    tp_free(r);
    r = tp_template_resolve(d, "x.html", "<string>");
    EQ(r, "x.html");
    tp_free(r);
    tp_template_loader_free(d);
    tp_template_loader *l = tp_template_loader_new_dir("/srv/tpl", NULL);
    r = tp_template_resolve(l, "../other.html", "sub/page.html");
    EQ(r, "other.html");
    tp_free(r);
    r = tp_template_resolve(l, "../../etc/x", "sub/page.html"); /* leaves the root: unchanged */
    EQ(r, "../../etc/x");
    tp_free(r);
    tp_template_loader_free(l);
}
END_TEST

START_TEST(test_cycles_and_runtime_errors)
{
    const char *c[] = {"a.html", "{% include 'b.html' %}", "b.html", "{% include 'a.html' %}",
                       NULL};
    ck_assert(strstr(render(c, "a.html", NULL), "RecursionError") != NULL);
    const char *e[] = {"a.html", "{% extends 'a.html' %}", NULL};
    ck_assert(strstr(render(e, "a.html", NULL), "RecursionError") != NULL);
    EQ(render_string("{{ x }}{% set x = 1 %}", NULL),
       "ERR:UnboundLocalError: cannot access local variable 'x' where it is not associated with "
       "a value at <string>:1");
    EQ(render_string("{{ d['k'] }}", "{\"d\": {}}"), "ERR:KeyError: 'k' at <string>:1");
    EQ(render_string("\n{{ 'a' + 1 }}", NULL),
       "ERR:TypeError: can only concatenate str (not \"int\") to str at <string>:2");
    EQ(render_string("{% try %}{{ l[5] }}{% except IndexError as e %}{{ e }}{% end %}",
                     "{\"l\": []}"),
       "list index out of range");
}
END_TEST

START_TEST(test_expressions)
{
    EQ(render_string(
           "{{ 7 / 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 0.1 + 0.2 }} {{ 1e16 }} {{ 2**-1 }}", NULL),
       "3.5 -4 2 0.30000000000000004 1e+16 0.5");
    EQ(render_string("{{ [1, 'a', None, True] }} {{ (1,) }} {{ {'k': 1.0} }}", NULL),
       "[1, &#x27;a&#x27;, None, True] (1,) {&#x27;k&#x27;: 1.0}");
    EQ(render_string("{% for k, v in d.items() %}{{ k }}={{ v }} {% end %}{{ len(d) }}",
                     "{\"d\": {\"b\": 1, \"a\": [2]}}"),
       "b=1 a=[2] 2");
    EQ(render_string("{{ a.b.c if a.b else 'no' }} {{ 'x' in s }} {{ s[1:] }} {{ '%05.1f' % f }}",
                     "{\"a\": {\"b\": {\"c\": 3}}, \"s\": \"xyz\", \"f\": 2.25}"),
       "3 True yz 002.2");
}
END_TEST

/* The %.Nf fast path must round exactly as printf does: random doubles and ties. */
/* d['a'] += 1 in place: registered functions get the render's very objects. */
static json_t *fn_bump(tp_template_call *c)
{
    json_t *d = json_array_get(c->args, 0);
    json_object_set_new(d, "a", json_integer(json_integer_value(json_object_get(d, "a")) + 1));
    return json_string("");
}

/* x['a'] read by several nodes is looked up once per object (the render's key memo); a call
 * between two reads empties it, so the second sees what the call changed. */
START_TEST(test_key_memo_after_call)
{
    static const char *const files[] = {
        "t.html",
        "{% for x in ds %}{{ x['a'] }}{{ bump(x) }}{{ x['a'] }}{% if x['a'] > 2 %}!{% end %};"
        "{% end %}",
        NULL};
    EQ(render_opts(files, "t.html", "{\"ds\": [{\"a\": 1}, {\"a\": 5}]}", NULL, fn_bump, "bump"),
       "12;56!;");
}
END_TEST

START_TEST(test_fixed_format_matches_printf)
{
    static const double ties[] = {
        0.125, 0.375, 2.675, 1.005,      -0.5,           0.5,
        1.5,   2.5,   -0.0,  1e15 + 0.5, 123456.7890125, 9007199254740991.0};
    char want[64], got[64];
    srand(7);
    for (int i = 0; i < 20000; i++) {
        double d = i < 12 ? ties[i] : ((double)rand() / RAND_MAX - 0.5) * pow(10, rand() % 16);
        for (int prec = 0; prec <= 6; prec++) {
            char spec[16];
            snprintf(spec, sizeof spec, "%%.%df", prec);
            snprintf(want, sizeof want, spec, d);
            char tpl[64];
            snprintf(tpl, sizeof tpl, "{{ '%%.%df' %% x }}", prec);
            char ctx[64];
            snprintf(ctx, sizeof ctx, "{\"x\": %.17e}", d);
            snprintf(got, sizeof got, "%s", render_string(tpl, ctx));
            ck_assert_msg(!strcmp(got, want), "%.17g %%.%df: got %s want %s", d, prec, got, want);
        }
        if (i > 2000)
            i += 9; /* fewer renders, still broad */
    }
}
END_TEST

/* Where templates stop short of Python on purpose (docs/templates.md): 64-bit ints, the size
 * limit of a format width, and %c of a surrogate (Python fails later, writing it as UTF-8). */
START_TEST(test_py_number_limits)
{
    static const char *const cases[][2] = {
        {"int('9223372036854775808')",
         "OverflowError: integer overflow (template ints are 64-bit)"},
        {"int('-8000000000000001', 16)",
         "OverflowError: integer overflow (template ints are 64-bit)"},
        {"int(1e300)", "OverflowError: integer overflow (template ints are 64-bit)"},
        {"round(9.3e18)", "OverflowError: integer overflow (template ints are 64-bit)"},
        {"round(9223372036854775807, -1)",
         "OverflowError: integer overflow (template ints are 64-bit)"},
        {"round(-9223372036854775807 - 1, -19)",
         "OverflowError: integer overflow (template ints are 64-bit)"},
        {"round(-9223372036854775807 - 1, -18)", "-9000000000000000000"},
        {"round(-9223372036854775807 - 1, -9223372036854775807 - 1)", "0"},
        {"'%*s' % (-16777217, 'x')",
         "RuntimeError: format width over the template limit of 16777216"},
        {"'%16777217c' % -1", "OverflowError: %c arg not in range(0x110000)"},
        {"'%16777217d' % 'a'", "TypeError: %d format: a real number is required, not str"},
        {"'%16777217d' % 1", "RuntimeError: format width over the template limit of 16777216"},
        {"'%.16777217f' % 1.0",
         "RuntimeError: format precision over the template limit of 16777216"},
        {"len('%.16777217s' % 'ab')", "2"},
        {"len('%16777216d' % 1)", "16777216"},
        {"'%c' % 0xd800",
         "ValueError: 'utf-8' codec can't encode character '\\ud800': surrogates not allowed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char tpl[256];
        snprintf(tpl, sizeof tpl,
                 "{%% autoescape None %%}{%% try %%}{{ %s }}{%% except Exception as e %%}{{ e "
                 "}}{%% end %%}",
                 cases[i][0]);
        const char *got = render_string(tpl, NULL), *want = strchr(cases[i][1], ':');
        want = want ? want + 2 : cases[i][1];
        ck_assert_msg(!strcmp(got, want), "%s: got %s want %s", cases[i][0], got, want);
        snprintf(tpl, sizeof tpl, "{%% autoescape None %%}{{ %s }}", cases[i][0]);
        if (want != cases[i][1]) /* the exception's class too, uncaught */
            ck_assert_msg(!strncmp(render_string(tpl, NULL) + 4, cases[i][1], strlen(cases[i][1])),
                          "%s: %s", cases[i][0], render_string(tpl, NULL));
    }
}
END_TEST

/* '%d' % x of a float past 64 bits prints its exact integer value: glibc's %.0f is exact. */
START_TEST(test_int_format_exact_digits)
{
    char want[400], ctx[64];
    srand(11);
    for (int i = 0; i < 3000; i++) {
        int e = 63 + rand() % (1024 - 63);
        double d = ldexp(1.0 + (double)rand() / RAND_MAX, e - 1) * (i % 2 ? -1 : 1);
        if (i == 0)
            d = 1.7976931348623157e308;
        snprintf(want, sizeof want, "%.0f", d);
        snprintf(ctx, sizeof ctx, "{\"x\": %.17e}", d);
        ck_assert_str_eq(render_string("{{ '%d' % x }}", ctx), want);
    }
}
END_TEST

Suite *template_suite(void)
{
    Suite *s = suite_create("template");
    TCase *tc = tcase_create("template");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, test_simple);
    tcase_add_test(tc, test_include_extends);
    tcase_add_test(tc, test_escaping);
    tcase_add_test(tc, test_namespace_apply);
    tcase_add_test(tc, test_if_try);
    tcase_add_test(tc, test_break_continue);
    tcase_add_test(tc, test_non_ascii_name);
    tcase_add_test(tc, test_error_line_numbers);
    tcase_add_test(tc, test_error_line_number_module);
    tcase_add_test(tc, test_parse_error_details);
    tcase_add_test(tc, test_autoescape_default);
    tcase_add_test(tc, test_autoescape_blocks);
    tcase_add_test(tc, test_custom_escape);
    tcase_add_test(tc, test_whitespace);
    tcase_add_test(tc, test_dir_loader_reset);
    tcase_add_test(tc, test_resolve);
    tcase_add_test(tc, test_cycles_and_runtime_errors);
    tcase_add_test(tc, test_key_memo_after_call);
    tcase_add_test(tc, test_expressions);
    tcase_add_test(tc, test_fixed_format_matches_printf);
    tcase_add_test(tc, test_py_number_limits);
    tcase_add_test(tc, test_int_format_exact_digits);
    suite_add_tcase(s, tc);
    return s;
}
