/* Application: routes (PCRE2 patterns matched against the request path, anchored at both
 * ends as Tornado does) to handler classes, and the HTTP server that serves them. */
#ifndef TP_WEB_APP_H
#define TP_WEB_APP_H

#include <stdbool.h>

#include "core/loop.h"
#include "http/server.h"
#include "web/cookie.h"
#include "web/handler.h"

typedef struct tp_app_settings {
    bool debug;                /* serve_traceback-style detail on errors */
    tp_secret cookie_secret;   /* signs cookies (tp_set_signed_cookie); empty: refused */
    const char *server_header; /* Server header value (default "TornadoServer/6.5 (C)") */
} tp_app_settings;

/* A new application with no routes. Free with tp_app_free. */
tp_app *tp_app_new(void);
/* Closes the app's server and its connections and frees the app. Requests whose async
 * handler has not called tp_finish yet are dropped: call it once the loop will no longer run
 * the callbacks those handlers wait for (at the end of the program). */
void tp_app_free(tp_app *app);
tp_app_settings *tp_app_settings_of(tp_app *app);
/* Adds a route: pattern -> cls, with route_data handed to cls->initialize. Routes are tried
 * in order. 0, or -EINVAL if the pattern does not compile (logged with the offset). */
int tp_app_route(tp_app *app, const char *pattern, const tp_handler_class *cls, void *route_data);
/* The delegate that serves this app on a tp_http_server (ctx = app). */
const tp_http_delegate *tp_app_delegate(void);
/* Serves the app on port (address NULL: all interfaces) on the current loop with opts (NULL:
 * defaults). Returns the bound port or -errno. */
int tp_app_listen(tp_app *app, const char *address, int port, const tp_http_server_opts *opts);
/* The server created by tp_app_listen, or NULL. */
tp_http_server *tp_app_server(tp_app *app);

#endif
