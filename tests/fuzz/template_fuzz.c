/* libFuzzer target for the template engine: the input is up to three template files
 * separated by NUL bytes ("a.html", "b.html", "c.txt", which may include and extend each
 * other); a.html is loaded (parsed and linked) and, if that works, rendered with a small
 * context. Checks more than "no crash": a load either succeeds or fills in an error with a
 * position, and a failed render leaves the output buffer as it was. Built with
 * -DTPL_MAX_STEPS so that loops in the input cannot run for long. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "core/buf.h"
#include "web/template/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *fn_echo(tp_template_call *c)
{
    json_t *a = json_array_get(c->args, 0);
    if (!a) {
        strcpy(c->error, "echo() needs an argument");
        return NULL;
    }
    return json_incref(a);
}

static json_t *context(void)
{
    static json_t *ctx;
    if (!ctx)
        ctx = json_loads("{\"x\": 1, \"s\": \"<a href='x'>&amp;</a>\", \"l\": [1, 2.5, \"t\", "
                         "null, true], \"d\": {\"k\": \"v\", \"n\": {\"m\": [1]}}, \"e\": []}",
                         0, NULL);
    return ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"a.html", "b.html", "c.txt"};
    tp_template_source src[3];
    size_t n = 0;
    const char *p = (const char *)data, *end = p + size;
    while (n < 3) {
        const char *z = memchr(p, '\0', (size_t)(end - p));
        size_t len = z ? (size_t)(z - p) : (size_t)(end - p);
        src[n] = (tp_template_source){names[n], p, len};
        n++;
        if (!z)
            break;
        p = z + 1;
    }
    tp_template_loader *l = tp_template_loader_new_dict(src, n, true, NULL);
    tp_template_loader_add_fn(l, "echo", fn_echo, NULL);
    tp_template_loader_add_fn(l, "modules.Echo", fn_echo, NULL);
    tp_template_error err;
    memset(&err, 0, sizeof err);
    tp_template *t = tp_template_load(l, "a.html", NULL, &err);
    if (!t) {
        assert(err.message[0] != '\0');
    } else {
        tp_buf out = {0};
        tp_buf_append(&out, "prefix", 6);
        if (tp_template_render(t, context(), NULL, &out, &err) < 0) {
            assert(out.len == 6 && memcmp(tp_buf_data(&out), "prefix", 6) == 0);
            assert(strstr(err.message, " at ") != NULL);
        }
        tp_buf_free(&out);
        tp_template_release(t);
    }
    tp_template_loader_free(l);
    return 0;
}
