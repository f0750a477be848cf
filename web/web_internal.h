/* State shared by app.c (routing, the server delegate) and handler.c (the handler API). */
#ifndef TP_WEB_INTERNAL_H
#define TP_WEB_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "http/query.h"
#include "web/app.h"

typedef struct tp_route {
    pcre2_code *re;
    pcre2_code *host; /* NULL: any host */
    const tp_handler_class *cls;
    void *data;
    char *pattern; /* as compiled, with the "$" */
    char *name;    /* for tp_reverse_url, or NULL */
} tp_route;

struct tp_app {
    tp_app_settings settings;
    tp_route *routes;
    size_t nroutes;
    pcre2_match_data *md; /* one per app: a worker runs one request at a time */
    tp_http_server *server;
    tp_slice server_header; /* settings.server_header, measured once */
    tp_handler *live;       /* handlers not released yet (async ones waiting for tp_finish) */
    struct tp_template_loader *loader;     /* handler_render.c: the loader renders use */
    struct tp_template_loader *own_loader; /* made from template_path (freed with the app) */
    struct tp_locales *own_locales;        /* when settings.locales is NULL */
    struct tp_route_index *index;          /* route_index.c: literal-prefix trie */
    struct tp_static_files
        *static_files; /* web/static/handler.c: static_path settings, hash cache */
};

/* routes.c: the route for req (host rules first), its path arguments in *args; NULL if
 * none matches. */
const tp_route *tp__routes_match(tp_app *app, tp_request *req, tp_slice **args, size_t *nargs);
void tp__routes_free(tp_app *app);
/* route_index.c: the routes that can match path (those whose literal prefix it starts
 * with), as indexes in table order in *out (valid until the next call). Rebuilds the index
 * when routes were added. */
typedef struct tp_route_index tp_route_index;
size_t tp__route_candidates(tp_app *app, tp_slice path, const uint32_t **out);
void tp__route_index_free(tp_route_index *ix);

/* Frees app->static_files (NULL is fine); web/static/handler.c. */
void tp_static_files_free(struct tp_static_files *sf);

struct tp_handler {
    tp_handler *prev, *next; /* in app->live */
    tp_app *app;
    const tp_handler_class *cls;
    tp_request *req;
    void *state;
    void *route_data;
    tp_slice *path_args;
    size_t npath_args;
    int status;
    tp_slice reason;
    tp_headers headers;
    char *out; /* body written and not yet flushed (in the arena) */
    size_t out_len, out_cap;
    int file_fd; /* tp_write_file's file, sent after out; -1 when none (owned) */
    off_t file_off;
    size_t file_len;
    bool finished, flushed, async, closed, released, init_failed, unanswered;
    int depth; /* app functions of this handler on the stack */
    const char *missing_argument;
    const char *bad_argument; /* an argument that is not UTF-8: 400 after the method */
    const char *bad_body;     /* why the body is not a valid form: 400 before prepare */
    struct tp_form_files *files;
    struct tp_gzip *gz;                 /* compress_response's transform, from the first chunk on */
    const struct tp_locale *locale;     /* tp_handler_locale, once known */
    const struct tp_ui_module **active; /* UI modules used in this request (n_ui_modules room) */
    size_t nactive;
    const char *traceback; /* debug mode: the 500 page's text (serve_traceback) */
    tp_app *hand_to;       /* FallbackHandler: the app that takes the request after prepare */
    bool args_parsed, cookies_parsed, user_known;
    const char *current_user;   /* get_current_user's answer, once known */
    struct raw_token *xsrf_raw; /* handler_xsrf.c: the cookie's token (or a new one) */
    const char *xsrf_token;     /* what pages get (masked per request in version 2) */
    tp_args query_args, body_args, cookies;
};

/* Calls into app code are bracketed so that a tp_finish inside defers the release. */
#define CALL(h, expr)                                                                              \
    do {                                                                                           \
        (h)->depth++;                                                                              \
        expr;                                                                                      \
        (h)->depth--;                                                                              \
    } while (0)

/* Releases the handler if it is finished and no app function of it is on the stack; true
 * when it is finished. */
bool tp__handler_settle(tp_handler *h);
/* No control characters (CR, LF, DEL...): safe in a header or status line. */
bool tp__safe_text(const char *s);
/* etag.c: the automatic Etag, and 304 when If-None-Match matches it (before the head). */
void tp__handler_conditional(tp_handler *h);
/* handler_render.c: the app's locale registry (settings.locales or a default one). */
struct tp_locales *tp__app_locales(tp_app *app);
/* Takes h out of its app's list of live handlers. */
void tp__handler_unlink(tp_handler *h);
/* app.c: FallbackHandler's step: a new handler for h's request from app's routes runs it;
 * h is finished without answering (its request now belongs to the new handler). */
void tp__handler_hand_over(tp_handler *h, tp_app *app);
/* handler_args.c: parses the arguments; false after a 400 for a body that is not a valid
 * form. */
bool tp__handler_parse_body(tp_handler *h);
/* Debug mode's serve_traceback: the C stack where the error was seen, for the 500 page. */
void tp__handler_capture_traceback(tp_handler *h, const char *what, int r);
/* Closes a file given to tp_write_file and not sent yet. */
void tp__handler_drop_file(tp_handler *h);
/* Runs the method for the request (prepare first unless it already ran). */
void tp__handler_execute(tp_handler *h, bool prepare_done);
/* A handler for the request, in its arena. */
tp_handler *tp__handler_new(tp_app *app, tp_request *req, const tp_handler_class *cls,
                            void *route_data);
/* Drops every handler still waiting for its tp_finish (the app is going away). */
void tp__handlers_drop(tp_app *app);
/* The client went away: on_connection_close. */
void tp__handler_connection_closed(tp_handler *h);
/* Runs prepare alone (streaming bodies); false if the handler finished in it. */
bool tp__handler_prepare(tp_handler *h);

#endif
