/* Application: routes (PCRE2 patterns matched against the request path, anchored at both
 * ends as Tornado does) to handler classes, and the HTTP server that serves them. */
#ifndef TP_WEB_APP_H
#define TP_WEB_APP_H

#include "platform/api.h"

#include <stdbool.h>

#include "core/loop.h"
#include "http/server.h"
#include "http/cookie.h"
#include "web/signed_value.h"
#include "web/handler.h"
#include "web/locale/locale.h"
#include "web/template/template.h"

/* A UI method (Tornado's ui_methods): called from templates as name(...) with the handler. */
typedef struct tp_ui_method {
    const char *name;
    json_t *(*fn)(tp_handler *h, tp_template_call *call);
} tp_ui_method;

/* A UI module (Tornado's UIModule), used as {% module name(...) %}: render's result goes in
 * unescaped; the resources of every module a page used are added to it by tp_render. */
typedef struct tp_ui_module {
    const char *name;
    json_t *(*render)(tp_handler *h, tp_template_call *call);
    const char *embedded_javascript, *embedded_css, *html_head, *html_body;
    const char *const *javascript_files; /* NULL-terminated; relative ones via static_url */
    const char *const *css_files;
} tp_ui_module;

/* Tornado's Application settings that have a C meaning (tornado-features.md §2.11); zero
 * values are Tornado's defaults. Set them in the app's init, before requests arrive. */
typedef struct tp_app_settings {
    bool debug;                   /* serve_traceback-style detail on errors */
    tp_secret cookie_secret;      /* signs cookies (tp_set_signed_cookie); empty: refused */
    const char *server_header;    /* Server header value (default "TornadoServer/6.5 (C)") */
    bool xsrf_cookies;            /* check the _xsrf token on POST, PUT, DELETE, PATCH... */
    int xsrf_cookie_version;      /* 1 or 2 (0: 2) */
    const char *xsrf_cookie_name; /* NULL: "_xsrf" */
    const tp_cookie_attrs *xsrf_cookie_attrs;      /* xsrf_cookie_kwargs; NULL: path "/" */
    const char *login_url;                         /* where TP_AUTHENTICATED sends GETs */
    bool compress_response;                        /* gzip responses for clients that accept it */
    const tp_handler_class *default_handler_class; /* no route matched (NULL: 404 page) */
    void *default_handler_args;                    /* its route data */
    const char *template_path;                     /* tp_render's Loader root (NULL: the cwd) */
    tp_template_loader *template_loader;           /* instead of template_path (the app's own) */
    tp_template_opts template_opts;                /* autoescape, template_whitespace */
    const tp_ui_method *ui_methods;                /* ui_methods */
    size_t n_ui_methods;
    const tp_ui_module *const *ui_modules; /* ui_modules */
    size_t n_ui_modules;
    tp_locales *locales; /* translations for tp_handler_locale (NULL: en_US, none) */
    /* HEAD on a class with get and no head runs get and sends its head without the body
     * (RFC 9110 §9.3.2); true restores Tornado's 405 for such a HEAD. */
    bool head_requires_head_method;
    /* WebSocket: seconds between pings (0: none), seconds to wait for the pong (0: the
     * interval, as Tornado's None; negative: no deadline, as Tornado's 0), the largest
     * message accepted (0: 10 MiB), all as Tornado's websocket_* settings. */
    double websocket_ping_interval;
    double websocket_ping_timeout;
    size_t websocket_max_message_size;
} tp_app_settings;

/* A new application with no routes. Free with tp_app_free. */
TP_API tp_app *tp_app_new(void);
/* Closes the app's server and its connections and frees the app. Requests whose async
 * handler has not called tp_finish yet are dropped: call it once the loop will no longer run
 * the callbacks those handlers wait for (at the end of the program). */
TP_API void tp_app_free(tp_app *app);
TP_API tp_app_settings *tp_app_settings_of(tp_app *app);
/* Adds a route: pattern -> cls, with route_data handed to cls->initialize. Routes are tried
 * in order. 0, or -EINVAL if the pattern does not compile (logged with the offset). */
TP_API int tp_app_route(tp_app *app, const char *pattern, const tp_handler_class *cls,
                        void *route_data);
/* A route as Tornado's URLSpec / add_handlers rule: pattern (PCRE2, anchored at the start,
 * "$" appended) -> cls with data for initialize; name for tp_reverse_url (or NULL); host a
 * pattern matched against the lowercased Host without port (NULL: any host). */
typedef struct tp_route_spec {
    const char *pattern;
    const tp_handler_class *cls;
    void *data;
    const char *name;
    const char *host;
} tp_route_spec;

/* Adds a route. Host routes are tried before host-less ones, each kind in the order added.
 * 0, or -EINVAL if a pattern does not compile (logged with the offset). */
TP_API int tp_app_add_route(tp_app *app, const tp_route_spec *spec);
/* Tornado's reverse_url(name, *args): the named route's pattern with each group replaced by
 * an argument, percent-encoded with '/' kept. NULL (logged) for an unknown name, a wrong
 * number of arguments or a pattern with regex syntax outside its groups. In arena a. */
TP_API char *tp_reverse_url(tp_app *app, tp_arena *a, const char *name, size_t nargs,
                            const char **args);
/* The delegate that serves this app on a tp_http_server (ctx = app). */
TP_API const tp_http_delegate *tp_app_delegate(void);
/* Serves the app on port (address NULL: all interfaces) on the current loop with opts (NULL:
 * defaults). Returns the bound port or -errno. */
TP_API int tp_app_listen(tp_app *app, const char *address, int port,
                         const tp_http_server_opts *opts);
/* The server created by tp_app_listen, or NULL. */
TP_API tp_http_server *tp_app_server(tp_app *app);

#endif
