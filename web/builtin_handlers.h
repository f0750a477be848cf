/* Tornado's ready-made handler classes, used as route targets with their options as route
 * data: tp_app_route(app, "/old/(.*)", &tp_redirect_handler, &(tp_redirect_opts){"/new/{0}"}).
 * The options must outlive the app (static or app-owned). */
#ifndef TP_WEB_BUILTIN_HANDLERS_H
#define TP_WEB_BUILTIN_HANDLERS_H

#include "platform/api.h"

#include <stdbool.h>

#include "web/handler.h"

/* RedirectHandler(url, permanent=True): url is a str.format template of the path groups
 * ("{0}", "{}"); the request's query arguments are appended (url_concat). */
typedef struct tp_redirect_opts {
    const char *url;
    bool temporary; /* 302 instead of Tornado's default 301 */
} tp_redirect_opts;
TP_API extern const tp_handler_class tp_redirect_handler;

/* ErrorHandler(status_code): every request gets send_error(status) (0: 404); no XSRF check. */
typedef struct tp_error_opts {
    int status;
} tp_error_opts;
TP_API extern const tp_handler_class tp_error_handler;

/* FallbackHandler: the route data is another tp_app whose routes (and settings) take the
 * request, as Tornado hands it to the fallback callable (after this app's XSRF check). */
TP_API extern const tp_handler_class tp_fallback_handler;

#endif
