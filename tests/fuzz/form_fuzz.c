/* libFuzzer target for http/form.h. Input: the Content-Type value, a newline, then the body.
 * Checks more than "no crash": on success every argument value and file body is a slice of
 * the body, names are non-empty, and a content type is set; on error there is a message and
 * the lists are as they were; and parsing the same input twice gives the same result. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "http/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(tp_slice s, tp_slice body)
{
    return s.n == 0 || (s.p >= body.p && s.p + s.n <= body.p + body.n);
}

static int parse(tp_arena *a, tp_slice ctype, tp_slice body, const tp_form_limits *lim,
                 tp_args *args, tp_form_files *files)
{
    const char *err = NULL;
    *args = (tp_args){0};
    *files = (tp_form_files){0};
    int rc = tp_form_parse_body(a, ctype, body, TP_SLICE_NULL, lim, args, files, &err);
    if (rc) {
        assert(err && *err);
        assert(args->n == 0 && files->n == 0);
        return rc;
    }
    bool multipart = ctype.n >= 19 && memcmp(ctype.p, "multipart/form-data", 19) == 0;
    for (size_t i = 0; i < args->n; i++)
        assert(!multipart || (args->v[i].name.n && inside(args->v[i].value, body)));
    for (size_t i = 0; i < files->n; i++) {
        const tp_form_file *f = &files->v[i];
        assert(f->name.n && f->filename.n && f->content_type.p && inside(f->body, body));
    }
    assert(!multipart || args->n + files->n <= lim->max_parts);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *nl = memchr(p, '\n', size);
    if (!nl)
        return 0;
    tp_slice ctype = tp_slice_make(p, (size_t)(nl - p));
    tp_slice body = tp_slice_make(nl + 1, size - (size_t)(nl - p) - 1);
    tp_form_limits lim = tp_form_limits_default();
    lim.max_parts = 20;
    lim.max_part_header_size = 1024;
    tp_arena a;
    tp_arena_init(&a, 0);
    tp_args args1, args2;
    tp_form_files files1, files2;
    int rc1 = parse(&a, ctype, body, &lim, &args1, &files1);
    int rc2 = parse(&a, ctype, body, &lim, &args2, &files2);
    assert(rc1 == rc2 && args1.n == args2.n && files1.n == files2.n);
    for (size_t i = 0; i < args1.n; i++)
        assert(tp_slice_eq(args1.v[i].name, args2.v[i].name) &&
               tp_slice_eq(args1.v[i].value, args2.v[i].value));
    for (size_t i = 0; i < files1.n; i++)
        assert(tp_slice_eq(files1.v[i].filename, files2.v[i].filename));
    tp_arena_destroy(&a);
    return 0;
}
