/* tp_locale: web/locale/locale.h driven by JSON lines, for tests/locale/run.py. Each stdin line is
 * one call, e.g. {"op":"format_date","locale":"en_US","date":1367174100,"now":...}; each
 * stdout line is {"r": result} or {"error": true} (where Tornado raises). A "locale" field
 * names the locale as tornado.locale.get(code) finds it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/arena.h"
#include "core/log.h"
#include "web/locale/locale.h"
#include "web/locale/internal.h"

static tp_slice str_arg(json_t *req, const char *key)
{
    json_t *v = json_object_get(req, key);
    if (!json_is_string(v))
        return TP_SLICE_NULL; /* null or absent: Python's None */
    return tp_slice_make(json_string_value(v), json_string_length(v));
}

/* A header as Tornado sees it: the JSON text's code points (all below 256) as Latin-1
 * bytes, the bytes a client sent. */
static tp_slice latin1_arg(tp_arena *a, json_t *req, const char *key)
{
    tp_slice s = str_arg(req, key);
    if (!s.p)
        return s;
    char *out = tp_arena_alloc(a, s.n + 1), *w = out;
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c >= 0xc2 && c <= 0xc3 && i + 1 < s.n)
            *w++ = (char)(((c & 0x1f) << 6) | (s.p[++i] & 0x3f));
        else
            *w++ = (char)c;
    }
    return tp_slice_make(out, (size_t)(w - out));
}

static const tp_locale *locale_arg(const tp_locales *r, json_t *req)
{
    tp_slice code = str_arg(req, "locale");
    return tp_locales_closest(r, &code, 1);
}

static json_t *slice_json(tp_slice s)
{
    return json_stringn(s.p ? s.p : "", s.n);
}

static json_t *codes_json(const char *const *codes, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_string(codes[i]));
    return arr;
}

/* The registry operations; *handled false if op is not one of them. */
static json_t *registry_op(tp_locales *r, tp_arena *a, const char *op, json_t *req, int *rc,
                           bool *handled)
{
    *handled = true;
    if (!strcmp(op, "load_csv"))
        *rc = tp_locales_load_csv(r, json_string_value(json_object_get(req, "dir")));
    else if (!strcmp(op, "load_gettext"))
        *rc = tp_locales_load_gettext(r, json_string_value(json_object_get(req, "dir")),
                                      json_string_value(json_object_get(req, "domain")));
    else if (!strcmp(op, "set_default"))
        *rc = tp_locales_set_default(r, json_string_value(json_object_get(req, "code")));
    else if (!strcmp(op, "supported")) {
        const char *const *codes;
        size_t n = tp_locales_supported(r, &codes);
        return codes_json(codes, n);
    } else if (!strcmp(op, "get")) {
        const tp_locale *l = tp_locales_get(r, str_arg(req, "code"));
        *rc = l ? 0 : -ENOENT;
        return l ? json_string(tp_locale_code(l)) : NULL;
    } else if (!strcmp(op, "closest")) {
        json_t *arr = json_object_get(req, "codes");
        size_t n = json_array_size(arr);
        tp_slice *codes = calloc(n ? n : 1, sizeof(*codes));
        for (size_t i = 0; i < n; i++)
            codes[i] = tp_slice_make(json_string_value(json_array_get(arr, i)),
                                     json_string_length(json_array_get(arr, i)));
        const tp_locale *l = tp_locales_closest(r, codes, n);
        free(codes);
        return json_string(tp_locale_code(l));
    } else if (!strcmp(op, "browser")) {
        const char *def = json_string_value(json_object_get(req, "default"));
        return json_string(
            tp_locale_code(tp_locales_browser(r, latin1_arg(a, req, "header"), def)));
    } else {
        *handled = false;
    }
    return json_null();
}

static json_t *info(const tp_locale *l)
{
    return json_pack("{s:s, s:s, s:b, s:b}", "code", tp_locale_code(l), "name", tp_locale_name(l),
                     "rtl", tp_locale_rtl(l), "gettext", tp_locale_is_gettext(l));
}

static json_t *names(void)
{
    size_t n;
    const tp_locale_info *v = tp_locale_names(&n);
    json_t *obj = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(obj, v[i].code,
                            json_pack("{s:s, s:s}", "name_en", v[i].name_en, "name", v[i].name));
    return obj;
}

static json_t *list_op(const tp_locale *l, tp_arena *a, json_t *req, int *rc)
{
    json_t *arr = json_object_get(req, "parts");
    size_t n = json_array_size(arr);
    tp_slice *parts = tp_arena_alloc(a, (n ? n : 1) * sizeof(*parts));
    for (size_t i = 0; i < n; i++)
        parts[i] = tp_slice_make(json_string_value(json_array_get(arr, i)),
                                 json_string_length(json_array_get(arr, i)));
    tp_slice out;
    *rc = tp_locale_list(l, a, parts, n, &out);
    return *rc ? NULL : slice_json(out);
}

/* Test hooks into the internals: a Plural-Forms expression evaluated for each "n" (null
 * where evaluation fails), and the sizes of a CSV locale's three tables. */
static json_t *internal_op(const tp_locales *r, tp_arena *a, const char *op, json_t *req, int *rc)
{
    if (!strcmp(op, "plural")) {
        const char *why;
        tp_plural *p = tp_plural_compile(a, str_arg(req, "expr"), &why);
        if (!p) {
            *rc = -EINVAL;
            return NULL;
        }
        json_t *ns = json_object_get(req, "n"), *out = json_array();
        for (size_t i = 0; i < json_array_size(ns); i++) {
            int64_t v;
            int e = tp_plural_eval(p, json_integer_value(json_array_get(ns, i)), &v);
            json_array_append_new(out, e ? json_null() : json_integer(v));
        }
        return out;
    }
    const tp_locale *l = tp_locales_get(r, str_arg(req, "code"));
    if (!l || !l->csv) {
        *rc = -ENOENT;
        return NULL;
    }
    size_t count[3] = {0};
    for (size_t i = 0; i < l->csv->map.cap; i++)
        if (l->csv->map.v[i].key.p)
            count[l->csv->map.v[i].tag]++;
    return json_pack("[iii]", (json_int_t)count[0], (json_int_t)count[1], (json_int_t)count[2]);
}

/* The Locale methods. */
static json_t *locale_op(const tp_locales *r, tp_arena *a, const char *op, json_t *req, int *rc)
{
    const tp_locale *l = locale_arg(r, req);
    json_int_t count = json_integer_value(json_object_get(req, "count"));
    double date = json_number_value(json_object_get(req, "date"));
    int off = (int)json_integer_value(json_object_get(req, "gmt_offset"));
    tp_slice out;
    if (!strcmp(op, "info"))
        return info(l);
    if (!strcmp(op, "translate"))
        return slice_json(
            tp_locale_translate(l, str_arg(req, "msg"), str_arg(req, "plural"), count));
    if (!strcmp(op, "pgettext"))
        return slice_json(tp_locale_pgettext(l, str_arg(req, "ctx"), str_arg(req, "msg"),
                                             str_arg(req, "plural"), count));
    if (!strcmp(op, "format_date")) {
        *rc = tp_locale_format_date(l, a, date, json_number_value(json_object_get(req, "now")), off,
                                    json_is_true(json_object_get(req, "relative")),
                                    json_is_true(json_object_get(req, "shorter")),
                                    json_is_true(json_object_get(req, "full_format")), &out);
        return *rc ? NULL : slice_json(out);
    }
    if (!strcmp(op, "format_day")) {
        *rc =
            tp_locale_format_day(l, a, date, off, json_is_true(json_object_get(req, "dow")), &out);
        return *rc ? NULL : slice_json(out);
    }
    if (!strcmp(op, "list"))
        return list_op(l, a, req, rc);
    if (!strcmp(op, "friendly_number"))
        return slice_json(
            tp_locale_friendly_number(l, a, json_integer_value(json_object_get(req, "n"))));
    *rc = -ENOSYS;
    return NULL;
}

static void run_line(tp_locales *r, tp_arena *a, const char *line)
{
    json_error_t jerr;
    json_t *req = json_loads(line, JSON_ALLOW_NUL, &jerr), *res = NULL;
    int rc = 0;
    const char *op = json_string_value(json_object_get(req, "op"));
    bool handled = false;
    if (!op) {
        rc = -EINVAL;
    } else if (!strcmp(op, "names")) {
        res = names();
    } else {
        res = registry_op(r, a, op, req, &rc, &handled);
        if (!handled) {
            json_decref(res);
            if (!strcmp(op, "plural") || !strcmp(op, "csv_stats"))
                res = internal_op(r, a, op, req, &rc);
            else
                res = locale_op(r, a, op, req, &rc);
        }
    }
    json_t *reply = rc == 0 && res ? json_pack("{s:o}", "r", res) : json_pack("{s:b}", "error", 1);
    if (rc != 0 || !res)
        json_decref(res);
    char *text = json_dumps(reply, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    printf("%s\n", text ? text : "{\"error\":true}");
    free(text);
    json_decref(reply);
    json_decref(req);
}

int main(void)
{
    tp_locales *r = tp_locales_new();
    tp_arena a;
    tp_arena_init(&a, 0);
    tp_log_set_level(TP_LOG_NONE);
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, stdin) > 0) {
        run_line(r, &a, line);
        tp_arena_reset(&a);
    }
    fflush(stdout);
    free(line);
    tp_arena_destroy(&a);
    tp_locales_free(r);
    return 0;
}
