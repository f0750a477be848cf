/* tornado.template in C: the template language of Tornado (docs/templates.md) with a small
 * Python-shaped expression language over JSON values. Templates are parsed once into a
 * program and cached by a loader; rendering writes UTF-8 bytes into a tp_buf.
 *
 * Ownership: a loader owns its cached templates; tp_template_load hands out a counted
 * reference (tp_template_release) that stays valid across tp_template_loader_reset. A
 * loader, and every template it made, is used by one thread at a time. */
#ifndef TP_WEB_TEMPLATE_H
#define TP_WEB_TEMPLATE_H

#include "platform/api.h"

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"

typedef struct tp_template tp_template;
typedef struct tp_template_loader tp_template_loader;

/* Where and why loading or rendering failed. message is Tornado's text: for a ParseError
 * "msg at file:line"; for a runtime error "Type: msg at file:line (via a.html:1, ...)". */
typedef struct tp_template_error {
    char message[1024];
    char filename[256]; /* the template the error is in ("<string>" for a string template) */
    int lineno;         /* 1-based, 0 if unknown */
    bool parse;         /* true for a ParseError (syntax), false for a runtime/load error */
} tp_template_error;

/* Loader options; a zeroed struct gives Tornado's defaults. */
typedef struct tp_template_opts {
    /* Name of the default autoescape function ("xhtml_escape" if NULL); ignored when
     * autoescape_none is set (Loader(autoescape=None)). */
    const char *autoescape;
    bool autoescape_none;
    /* "all", "single" or "oneline"; NULL picks "single" for names ending .html/.js, else
     * "all". */
    const char *whitespace;
} tp_template_opts;

/* One template source: a name and its bytes (an in-memory or build-time compiled table). */
typedef struct tp_template_source {
    const char *name;
    const char *text;
    size_t len;
} tp_template_source;

/* ---- functions callable from templates ------------------------------------------------ */

/* What a registered function gets. args (array) and kwargs (object) are borrowed for the
 * call; convert with jansson. fn_data is the registration pointer, render_data the pointer
 * given to tp_template_render (e.g. the request handler). */
typedef struct tp_template_call {
    json_t *args;
    json_t *kwargs;
    void *fn_data;
    void *render_data;
    char *error; /* on failure, write a message here (error_size bytes) */
    size_t error_size;
} tp_template_call;

/* A template function: returns a new reference to its result (a string result is
 * autoescaped by {{ }} like any value, and not by {% raw %} or {% module %}), or NULL
 * after writing call->error, which fails the render with "Error: <message>". */
typedef json_t *(*tp_template_fn)(tp_template_call *call);

/* ---- loaders ------------------------------------------------------------------------------ */

/* Tornado's Loader: templates are files under root (made absolute). opts may be NULL. The
 * caller frees with tp_template_loader_free. NULL if root cannot be resolved. */
TP_API tp_template_loader *tp_template_loader_new_dir(const char *root,
                                                      const tp_template_opts *opts);
/* Tornado's DictLoader over n sources. With copy, names and texts are copied; without,
 * they must outlive the loader (a table made by tp-template-compile). */
TP_API tp_template_loader *tp_template_loader_new_dict(const tp_template_source *src, size_t n,
                                                       bool copy, const tp_template_opts *opts);
/* Frees the loader's cache; templates still referenced by callers live on. */
TP_API void tp_template_loader_free(tp_template_loader *l);
/* Empties the cache of parsed templates (Loader.reset): the next load re-reads sources. */
TP_API void tp_template_loader_reset(tp_template_loader *l);
/* Registers fn under name in the loader's namespace (Loader(namespace=...)). A dotted name
 * "modules.X" adds X to the object `modules` (also reachable as _tt_modules, which
 * {% module X(...) %} calls). A later registration of the same name replaces the earlier.
 * Returns 0, or -EINVAL for an empty or over-long name. */
TP_API int tp_template_loader_add_fn(tp_template_loader *l, const char *name, tp_template_fn fn,
                                     void *fn_data);
/* Adds a JSON value to the loader's namespace (the loader takes a reference). 0/-EINVAL. */
TP_API int tp_template_loader_set_value(tp_template_loader *l, const char *name, json_t *value);
/* Loads (or finds in the cache) the template `name`, resolved against parent_name (may be
 * NULL) as Tornado's resolve_path does. Parses it and everything it extends or includes.
 * Returns a new reference (tp_template_release), or NULL with *err filled (err may be
 * NULL). */
TP_API tp_template *tp_template_load(tp_template_loader *l, const char *name,
                                     const char *parent_name, tp_template_error *err);
/* Tornado's resolve_path for this loader: the name parent_name's {% include name %} means.
 * Returns a tp_malloc'd string (tp_free). */
TP_API char *tp_template_resolve(const tp_template_loader *l, const char *name,
                                 const char *parent_name);

/* A template from a string with no loader (Template(text, name)): {% extends %} and
 * {% include %} fail. opts may be NULL. NULL with *err on a parse error. */
TP_API tp_template *tp_template_new_string(const char *text, size_t len, const char *name,
                                           const tp_template_opts *opts, tp_template_error *err);
/* Drops a reference from tp_template_load or tp_template_new_string (NULL is fine). */
TP_API void tp_template_release(tp_template *t);
/* The template's name as loaded (e.g. "a/b.html"). */
TP_API const char *tp_template_name(const tp_template *t);

/* ---- rendering ---------------------------------------------------------------------------- */

/* Renders t with ctx (a JSON object of keyword arguments, may be NULL), appending UTF-8 to
 * out only on success (nothing is written on failure). Names resolve as in Tornado:
 * locals, then ctx, then the loader's namespace, then the defaults (escape, xhtml_escape,
 * url_escape, json_encode, squeeze, linkify) and builtins (range, len, ...). render_data is
 * passed to registered functions. Returns 0, or -1 with *err filled (err may be NULL). */
TP_API int tp_template_render(tp_template *t, json_t *ctx, void *render_data, tp_buf *out,
                              tp_template_error *err);

#endif
