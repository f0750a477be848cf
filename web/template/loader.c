/* Loaders (Tornado's Loader and DictLoader): path resolution exactly as resolve_path does
 * it, the cache of parsed and linked templates, the namespace of registered functions and
 * values, and template reference counting. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "web/template/internal.h"

#define MAX_TEMPLATE_SIZE (64u << 20)
#define MAX_NAME          1024

typedef struct cache_entry {
    char *name;
    tp_template *t;
} cache_entry;

struct tp_template_loader {
    char *root; /* Loader: absolute root; NULL for a DictLoader */
    tp_template_source *src;
    size_t nsrc;
    bool copied;
    char *autoescape; /* NULL: None */
    char *whitespace; /* NULL: by file name */
    tpl_ns *ns;
    cache_entry *cache;
    size_t ncache, capcache;
    char **loading; /* names being parsed and linked, to catch include/extends cycles */
    size_t nloading, caploading;
};

/* ---- posixpath ------------------------------------------------------------------------ */

/* posixpath.normpath into a new string (tp_free). */
static char *normpath(const char *path)
{
    size_t n = strlen(path);
    if (n == 0)
        return tp_strndup(".", 1);
    int initial = path[0] == '/' ? (path[1] == '/' && path[2] != '/' ? 2 : 1) : 0;
    const char **comp = tp_malloc((n + 1) * sizeof *comp);
    size_t *len = tp_malloc((n + 1) * sizeof *len), nc = 0;
    for (const char *p = path; *p;) {
        const char *q = strchr(p, '/');
        size_t l = q ? (size_t)(q - p) : strlen(p);
        bool dotdot = l == 2 && p[0] == '.' && p[1] == '.';
        if (l == 0 || (l == 1 && p[0] == '.')) {
            /* skip */
        } else if (!dotdot || (!initial && nc == 0) ||
                   (nc && len[nc - 1] == 2 && !memcmp(comp[nc - 1], "..", 2))) {
            comp[nc] = p, len[nc++] = l;
        } else if (nc) {
            nc--;
        }
        p += l + (q != NULL);
    }
    tp_buf b = {0};
    tp_buf_append(&b, "//", (size_t)initial);
    for (size_t i = 0; i < nc; i++) {
        if (i)
            tp_buf_append(&b, "/", 1);
        tp_buf_append(&b, comp[i], len[i]);
    }
    if (b.len == 0)
        tp_buf_append(&b, ".", 1);
    char *r = tp_strndup(tpl_buf_str(&b), b.len);
    tp_buf_free(&b);
    tp_free(comp);
    tp_free(len);
    return r;
}

/* posixpath.join(a, b) (b absolute replaces a). */
static char *pjoin(const char *a, const char *b)
{
    if (b[0] == '/' || !a[0])
        return tp_strndup(b, strlen(b));
    size_t na = strlen(a), nb = strlen(b);
    bool slash = a[na - 1] != '/';
    char *r = tp_malloc(na + nb + 2);
    memcpy(r, a, na);
    if (slash)
        r[na] = '/';
    memcpy(r + na + slash, b, nb + 1);
    return r;
}

/* posixpath.dirname. */
static char *pdirname(const char *p)
{
    const char *s = strrchr(p, '/');
    size_t n = s ? (size_t)(s - p) + 1 : 0;
    size_t k = n;
    while (k > 0 && p[k - 1] == '/')
        k--;
    return tp_strndup(p, k ? k : n);
}

/* os.path.abspath. */
static char *abspath(const char *p)
{
    char cwd[PATH_MAX];
    if (p[0] == '/' || !getcwd(cwd, sizeof cwd))
        return normpath(p);
    char *j = pjoin(cwd, p), *r = normpath(j);
    tp_free(j);
    return r;
}

char *tp_template_resolve(const tp_template_loader *l, const char *name, const char *parent)
{
    if (!parent || parent[0] == '<' || parent[0] == '/' || name[0] == '/')
        return tp_strndup(name, strlen(name));
    if (!l->root) {
        char *dir = pdirname(parent), *j = pjoin(dir, name), *r = normpath(j);
        tp_free(dir);
        tp_free(j);
        return r;
    }
    char *cur = pjoin(l->root, parent), *acur = abspath(cur), *dir = pdirname(acur);
    char *j = pjoin(dir, name), *rel = abspath(j);
    size_t nroot = strlen(l->root);
    char *r = strncmp(rel, l->root, nroot) == 0 && strlen(rel) > nroot
                  ? tp_strndup(rel + nroot + 1, strlen(rel + nroot + 1))
                  : tp_strndup(name, strlen(name));
    tp_free(cur);
    tp_free(acur);
    tp_free(dir);
    tp_free(j);
    tp_free(rel);
    return r;
}

/* ---- namespace ------------------------------------------------------------------------ */

const tpl_ns_entry *tpl_ns_find(const tpl_ns *ns, const char *name, size_t n)
{
    for (size_t i = 0; i < ns->n; i++)
        if (strlen(ns->v[i].name) == n && !memcmp(ns->v[i].name, name, n))
            return &ns->v[i];
    return NULL;
}

bool tpl_ns_has_prefix(const tpl_ns *ns, const char *prefix, size_t n)
{
    for (size_t i = 0; i < ns->n; i++)
        if (!strncmp(ns->v[i].name, prefix, n) && ns->v[i].name[n] == '.')
            return true;
    return false;
}

void tpl_ns_release(tpl_ns *ns)
{
    if (!ns || --ns->refs > 0)
        return;
    for (size_t i = 0; i < ns->n; i++) {
        tp_free(ns->v[i].name);
        json_decref(ns->v[i].value);
    }
    tp_free(ns->v);
    tp_free(ns);
}

static tpl_ns_entry *ns_slot(tpl_ns *ns, const char *name)
{
    tpl_ns_entry *e = (tpl_ns_entry *)tpl_ns_find(ns, name, strlen(name));
    if (e) {
        json_decref(e->value);
        e->value = NULL;
        return e;
    }
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? ns->cap * 2 : 16;
        ns->v = tp_realloc(ns->v, ns->cap * sizeof *ns->v);
    }
    e = &ns->v[ns->n++];
    *e = (tpl_ns_entry){.name = tp_strndup(name, strlen(name))};
    return e;
}

static bool valid_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return n > 0 && n < 256 && name[0] != '.' && name[n - 1] != '.';
}

int tp_template_loader_add_fn(tp_template_loader *l, const char *name, tp_template_fn fn,
                              void *fn_data)
{
    if (!valid_name(name) || !fn)
        return -EINVAL;
    tpl_ns_entry *e = ns_slot(l->ns, name);
    e->is_fn = true;
    e->fn = (tpl_fn){e->name, NULL, fn, fn_data};
    /* entries may have moved: refresh every function's name pointer */
    for (size_t i = 0; i < l->ns->n; i++)
        l->ns->v[i].fn.name = l->ns->v[i].name;
    return 0;
}

int tp_template_loader_set_value(tp_template_loader *l, const char *name, json_t *value)
{
    if (!valid_name(name) || !value)
        return -EINVAL;
    tpl_ns_entry *e = ns_slot(l->ns, name);
    e->is_fn = false;
    e->value = json_incref(value);
    return 0;
}

/* ---- loaders -------------------------------------------------------------------------- */

static tp_template_loader *loader_new(const tp_template_opts *o)
{
    tp_template_loader *l = tp_calloc(1, sizeof *l);
    const char *ae = o && o->autoescape ? o->autoescape : "xhtml_escape";
    if (!(o && o->autoescape_none))
        l->autoescape = tp_strndup(ae, strlen(ae));
    if (o && o->whitespace)
        l->whitespace = tp_strndup(o->whitespace, strlen(o->whitespace));
    l->ns = tp_calloc(1, sizeof *l->ns);
    l->ns->refs = 1;
    return l;
}

tp_template_loader *tp_template_loader_new_dir(const char *root, const tp_template_opts *opts)
{
    if (!root || !*root)
        return NULL;
    tp_template_loader *l = loader_new(opts);
    l->root = abspath(root);
    return l;
}

tp_template_loader *tp_template_loader_new_dict(const tp_template_source *src, size_t n, bool copy,
                                                const tp_template_opts *opts)
{
    tp_template_loader *l = loader_new(opts);
    l->nsrc = n;
    l->copied = copy;
    l->src = tp_calloc(n + 1, sizeof *l->src);
    for (size_t i = 0; i < n; i++) {
        l->src[i] = src[i];
        if (copy) {
            l->src[i].name = tp_strndup(src[i].name, strlen(src[i].name));
            l->src[i].text = tp_strndup(src[i].text, src[i].len);
        }
    }
    return l;
}

void tp_template_loader_reset(tp_template_loader *l)
{
    for (size_t i = 0; i < l->ncache; i++) {
        tp_free(l->cache[i].name);
        tp_template_release(l->cache[i].t);
    }
    l->ncache = 0;
}

void tp_template_loader_free(tp_template_loader *l)
{
    if (!l)
        return;
    tp_template_loader_reset(l);
    tp_free(l->cache);
    tp_free(l->loading);
    if (l->copied) {
        for (size_t i = 0; i < l->nsrc; i++) {
            tp_free((char *)l->src[i].name);
            tp_free((char *)l->src[i].text);
        }
    }
    tp_free(l->src);
    tp_free(l->root);
    tp_free(l->autoescape);
    tp_free(l->whitespace);
    tpl_ns_release(l->ns);
    tp_free(l);
}

/* ---- loading -------------------------------------------------------------------------- */

static void load_error(tp_template_error *err, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void load_error(tp_template_error *err, const char *name, const char *fmt, ...)
{
    if (!err)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    snprintf(err->filename, sizeof err->filename, "%s", name);
    err->lineno = 0;
    err->parse = false;
}

static int read_file(const char *path, tp_buf *b, tp_template_error *err, const char *name)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || S_ISDIR(st.st_mode) || st.st_size > MAX_TEMPLATE_SIZE) {
        int e = fd < 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : EFBIG;
        const char *type = e == ENOENT   ? "FileNotFoundError"
                           : e == EISDIR ? "IsADirectoryError"
                                         : "OSError";
        load_error(err, name, "%s: [Errno %d] %s: '%s'", type, e, strerror(e), path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    for (;;) {
        char *w = tp_buf_reserve(b, 65536);
        ssize_t n = read(fd, w, 65536);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || b->len + (size_t)n > MAX_TEMPLATE_SIZE) {
            close(fd);
            if (n < 0 || n > 0)
                load_error(err, name, "OSError: cannot read '%s'", path);
            return n == 0 ? 0 : -1;
        }
        tp_buf_commit(b, (size_t)n);
    }
}

/* The source of a resolved name into b. */
static int source(tp_template_loader *l, const char *name, tp_buf *b, tp_template_error *err)
{
    if (l->root) {
        char *path = pjoin(l->root, name);
        int rc = read_file(path, b, err, name);
        tp_free(path);
        return rc;
    }
    for (size_t i = 0; i < l->nsrc; i++) {
        if (!strcmp(l->src[i].name, name)) {
            tp_buf_append(b, l->src[i].text, l->src[i].len);
            return 0;
        }
    }
    tp_buf b2 = {0};
    tpl_repr_str(&b2, tp_slice_cstr(name));
    load_error(err, name, "KeyError: %.*s", (int)b2.len, tpl_buf_str(&b2));
    tp_buf_free(&b2);
    return -1;
}

static tp_template *template_new(const char *name, tp_slice text, tpl_ns *ns,
                                 const char *whitespace, const char *autoescape,
                                 tp_template_error *err)
{
    tpl_file *f = tpl_file_parse(name, text, whitespace, autoescape, err);
    if (!f)
        return NULL;
    tp_template *t = tp_calloc(1, sizeof *t);
    t->refs = 1;
    t->name = tp_strndup(name, strlen(name));
    t->file = f;
    t->ns = ns;
    if (ns)
        ns->refs++;
    return t;
}

static tp_template *create(tp_template_loader *l, const char *name, tp_template_error *err)
{
    tp_buf b = {0};
    if (source(l, name, &b, err) < 0) {
        tp_buf_free(&b);
        return NULL;
    }
    tp_template *t =
        template_new(name, tpl_buf_slice(&b), l->ns, l->whitespace, l->autoescape, err);
    tp_buf_free(&b);
    if (!t)
        return NULL;
    if (l->nloading == l->caploading) {
        l->caploading = l->caploading ? l->caploading * 2 : 8;
        l->loading = tp_realloc(l->loading, l->caploading * sizeof *l->loading);
    }
    l->loading[l->nloading++] = t->name;
    int rc = tpl_link(t, l, err);
    l->nloading--;
    if (rc < 0) {
        tp_template_release(t);
        return NULL;
    }
    return t;
}

tp_template *tpl_loader_load(tp_template_loader *l, const char *name, const char *parent,
                             tp_template_error *err)
{
    if (strlen(name) > MAX_NAME) {
        load_error(err, name, "OSError: template name too long");
        return NULL;
    }
    char *resolved = tp_template_resolve(l, name, parent);
    tp_template *t = NULL;
    for (size_t i = 0; i < l->ncache && !t; i++)
        if (!strcmp(l->cache[i].name, resolved))
            t = l->cache[i].t;
    for (size_t i = 0; i < l->nloading && !t; i++) {
        if (!strcmp(l->loading[i], resolved)) {
            load_error(err, resolved, "RecursionError: %s includes or extends itself (through %s)",
                       resolved, parent ? parent : resolved);
            tp_free(resolved);
            return NULL;
        }
    }
    if (!t && (t = create(l, resolved, err))) {
        if (l->ncache == l->capcache) {
            l->capcache = l->capcache ? l->capcache * 2 : 16;
            l->cache = tp_realloc(l->cache, l->capcache * sizeof *l->cache);
        }
        l->cache[l->ncache++] = (cache_entry){tp_strndup(resolved, strlen(resolved)), t};
    }
    tp_free(resolved);
    if (t)
        t->refs++;
    return t;
}

tp_template *tp_template_load(tp_template_loader *l, const char *name, const char *parent_name,
                              tp_template_error *err)
{
    return tpl_loader_load(l, name, parent_name, err);
}

tp_template *tp_template_new_string(const char *text, size_t len, const char *name,
                                    const tp_template_opts *o, tp_template_error *err)
{
    const char *ae = o && o->autoescape_none ? NULL
                     : o && o->autoescape    ? o->autoescape
                                             : "xhtml_escape";
    tp_template *t = template_new(name ? name : "<string>", tp_slice_make(text, len), NULL,
                                  o ? o->whitespace : NULL, ae, err);
    if (t && tpl_link(t, NULL, err) < 0) {
        tp_template_release(t);
        return NULL;
    }
    return t;
}

void tp_template_release(tp_template *t)
{
    if (!t || --t->refs > 0)
        return;
    tpl_program_free(t->prog);
    tpl_file_free(t->file);
    tpl_ns_release(t->ns);
    tp_free(t->name);
    tp_free(t);
}

const char *tp_template_name(const tp_template *t)
{
    return t->name;
}
