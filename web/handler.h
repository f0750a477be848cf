/* RequestHandler: the per-request object an app's handler class works on. A handler class
 * is a const table of functions; the server creates one tp_handler per request in the
 * request's arena and runs Tornado's life cycle: initialize, prepare, the method, finish,
 * on_finish. Everything here is valid until the request is finished. */
#ifndef TP_WEB_HANDLER_H
#define TP_WEB_HANDLER_H

#include "platform/api.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>

#include "core/arena.h"
#include "core/slice.h"
#include "core/status.h"
#include "http/request.h"

typedef struct tp_app tp_app;
typedef struct tp_handler tp_handler;
struct tp_cookie_attrs;
struct tp_form_file;

/* A method (or prepare) returns TP_OK when done (the handler is finished for it if it did not
 * finish itself), TP_AGAIN when it will call tp_finish later from a callback, or TP_ERROR for
 * a 500. */
typedef int (*tp_method_fn)(tp_handler *h);

/* One HTTP method beyond the seven (Tornado's extended SUPPORTED_METHODS): its name, exact
 * and case-sensitive ("PROPFIND"), and its function (NULL: 405). */
typedef struct tp_extra_method {
    const char *name;
    tp_method_fn fn;
} tp_extra_method;

enum tp_handler_flags {
    TP_STREAM_REQUEST_BODY = 1 << 0, /* body goes to data_received; prepare runs first */
    TP_NO_ETAG = 1 << 1,             /* no automatic Etag (Tornado: compute_etag returns None) */
    TP_AUTHENTICATED = 1 << 2,       /* @authenticated on every method: no current user -> login */
    TP_ADDSLASH = 1 << 3,            /* @addslash: GET/HEAD 301 to path + "/", other methods 404 */
    TP_REMOVESLASH = 1 << 4,         /* @removeslash: GET/HEAD 301 without the trailing "/"s */
    TP_NO_XSRF_CHECK = 1 << 5,       /* check_xsrf_cookie overridden to do nothing */
    TP_WEBSOCKET = 1 << 6,           /* a tp_websocket_class (web/websocket.h) */
};

typedef struct tp_handler_class {
    const char *name;  /* for logs (the route's class name) */
    size_t state_size; /* zeroed bytes of per-request state: tp_handler_state() */
    unsigned flags;    /* tp_handler_flags */
    int (*initialize)(tp_handler *h, void *route_data);
    tp_method_fn prepare;
    tp_method_fn get, head, post, put, delete_, patch, options;
    void (*on_finish)(tp_handler *h);
    /* Tornado's set_default_headers: sets headers (tp_set_header...) after the defaults
     * (Server, Content-Type) whenever they are reset: before initialize and in tp_clear, so
     * also on error pages. */
    void (*set_default_headers)(tp_handler *h);
    /* Tornado's compute_etag: the Etag of the response so far, quoted ("\"v7\""; request
     * arena or static), or NULL for none. Default: the SHA-1 of the body written. */
    const char *(*compute_etag)(tp_handler *h);
    void (*on_connection_close)(tp_handler *h);
    /* Writes the error page for status (default: Tornado's "<html><title>404: Not Found...").
     * Called by tp_send_error with the headers and buffer cleared. */
    int (*write_error)(tp_handler *h, int status);
    /* A piece of a streamed request body (TP_STREAM_REQUEST_BODY). TP_OK, or TP_ERROR: 400. */
    int (*data_received)(tp_handler *h, tp_slice chunk);
    /* The user of this request (a name or id in the request arena or static), or NULL for
     * none; asked once, on the first tp_current_user. */
    const char *(*get_current_user)(tp_handler *h);
    /* The user's locale code (Tornado's get_user_locale), or NULL for the browser's
     * (Accept-Language). */
    const char *(*get_user_locale)(tp_handler *h);
    /* More methods (PURGE, PROPFIND, MKCOL...), a table ended by {NULL, NULL}, or NULL. A
     * method neither here nor among the seven gets 405. */
    const tp_extra_method *extra_methods;
} tp_handler_class;

/* The request (method, uri, headers, body, remote_ip...). */
TP_API tp_request *tp_handler_request(tp_handler *h);
TP_API tp_app *tp_handler_app(tp_handler *h);
/* The class's per-request state (state_size bytes, zeroed), or NULL if state_size is 0. */
TP_API void *tp_handler_state(tp_handler *h);
/* The route's data pointer given to tp_app_route. */
TP_API void *tp_handler_route_data(tp_handler *h);
/* The request arena: memory freed with the request. */
TP_API tp_arena *tp_handler_arena(tp_handler *h);
/* Path argument i (a regex group of the route, percent-decoded, a raw byte >= 0x80 read as
 * latin-1, as Tornado's _unquote_or_none; UTF-8, else a 400 came before prepare), or a NULL
 * slice for a group that did not match. */
TP_API tp_slice tp_path_arg(tp_handler *h, size_t i);
TP_API size_t tp_path_arg_count(tp_handler *h);

/* Query and body (urlencoded or multipart) arguments, last value wins; def when absent (may
 * be NULL). Values are decoded as Tornado's get_argument does: control characters become
 * spaces, whitespace is stripped, and a value that is not UTF-8 gives NULL and a 400 once the
 * method returns. The text is NUL-terminated and lives in the request arena. */
TP_API const char *tp_get_argument(tp_handler *h, const char *name, const char *def);
/* Like tp_get_argument with no default, but a missing argument answers 400 ("Missing argument
 * name") once the method returns; NULL then. */
TP_API const char *tp_get_argument_required(tp_handler *h, const char *name);
TP_API const char *tp_get_query_argument(tp_handler *h, const char *name, const char *def);
TP_API const char *tp_get_body_argument(tp_handler *h, const char *name, const char *def);

/* Tornado's get_arguments: every value of name (query ones first), decoded and stripped.
 * Stores up to max in out; returns how many there are. */
TP_API size_t tp_get_arguments(tp_handler *h, const char *name, const char **out, size_t max);
TP_API size_t tp_get_query_arguments(tp_handler *h, const char *name, const char **out, size_t max);
TP_API size_t tp_get_body_arguments(tp_handler *h, const char *name, const char **out, size_t max);
/* request.files[name]: the uploaded files of a multipart body (name, filename, content_type,
 * body). Stores up to max in out; returns how many there are. */
TP_API size_t tp_get_files(tp_handler *h, const char *name, const struct tp_form_file **out,
                           size_t max);

/* The request's cookie name (Tornado's get_cookie), or def. Lives in the request arena. */
TP_API const char *tp_get_cookie(tp_handler *h, const char *name, const char *def);
/* Adds a Set-Cookie header (replacing one of the same name); attrs NULL: path "/". 0, or
 * -EINVAL for a name, value or attribute Tornado refuses (control characters, ';'). */
TP_API int tp_set_cookie(tp_handler *h, const char *name, const char *value,
                         const struct tp_cookie_attrs *attrs);
/* Expires cookie name in the browser (path and domain must match how it was set). */
TP_API int tp_clear_cookie(tp_handler *h, const char *name, const char *path, const char *domain);
/* Tornado's clear_all_cookies: clears every cookie the request sent (with path and domain as
 * tp_clear_cookie). 0, or the first error of tp_clear_cookie. */
TP_API int tp_clear_all_cookies(tp_handler *h, const char *path, const char *domain);
/* Signs value with the app's cookie_secret (version 2) and sets it; attrs NULL means path
 * "/" and expires in 30 days (Tornado's expires_days=30). -EINVAL without secret. */
TP_API int tp_set_signed_cookie(tp_handler *h, const char *name, const char *value,
                                const struct tp_cookie_attrs *attrs);
/* The verified value of a signed cookie, or NULL if absent, forged, for another name or older
 * than max_age_days (Tornado's get_signed_cookie, default 31). */
TP_API const char *tp_get_signed_cookie(tp_handler *h, const char *name, double max_age_days);

/* Tornado's current_user: get_current_user's answer (asked once), or what
 * tp_set_current_user set; NULL when nobody is logged in. */
TP_API const char *tp_current_user(tp_handler *h);
TP_API void tp_set_current_user(tp_handler *h, const char *user);

/* The XSRF token for a form or header (Tornado's xsrf_token): version 2 is masked afresh on
 * every request. Sets the _xsrf cookie when the request had no valid one. Request arena. */
TP_API const char *tp_xsrf_token(tp_handler *h);
/* <input type="hidden" name="_xsrf" value="TOKEN"/>, escaped. */
TP_API const char *tp_xsrf_form_html(tp_handler *h);
/* Compares the _xsrf argument (or X-Xsrftoken / X-Csrftoken header) with the cookie's token
 * in constant time. 0, or -EPERM after a 403 was sent (the reason is logged). Runs by itself
 * before prepare for every method but GET, HEAD and OPTIONS when xsrf_cookies is on. */
TP_API int tp_check_xsrf_cookie(tp_handler *h);

/* Tornado's locale: get_user_locale's code, else the Accept-Language choice among the app's
 * locales (settings.locales), else en_US. */
TP_API const struct tp_locale *tp_handler_locale(tp_handler *h);
TP_API void tp_set_handler_locale(tp_handler *h, const struct tp_locale *l);
/* Renders the template name (from settings.template_path or template_loader) with kwargs
 * (a JSON object, may be NULL) plus Tornado's handler namespace (current_user, request,
 * locale, _, pgettext, static_url, xsrf_form_html, reverse_url, UI methods, modules) and
 * appends it to out. 0, or -EINVAL after logging the template error (nothing appended). */
TP_API int tp_render_string(tp_handler *h, const char *name, json_t *kwargs, struct tp_buf *out);
/* render(): tp_render_string, the used UI modules' JS/CSS added, written and finished. A
 * template error sends a 500 instead. 0 or -errno. */
TP_API int tp_render(tp_handler *h, const char *name, json_t *kwargs);

/* Sets the status; reason NULL means the standard phrase ("Unknown" for unknown codes). A
 * reason Tornado 6.5 refuses (empty, not UTF-8, '<', a control character but HTAB, DEL, a
 * character above U+00FF) becomes "Unknown". 0, or -EINVAL for a code outside 100..999,
 * -EPERM after a WebSocket upgrade. */
TP_API int tp_set_status(tp_handler *h, int status, const char *reason);
TP_API int tp_get_status(tp_handler *h);
/* Sets, adds or removes a response header. Set replaces in place (the name keeps its place),
 * add goes after the values of that name, as Tornado's HTTPHeaders. A value's bytes must be
 * HTAB, SP, visible ASCII or 0x80-0xFF (Tornado 6.5): CR, LF, DEL and other controls give
 * -EINVAL (header injection). 0 or -EINVAL; -EALREADY after flush. */
TP_API int tp_set_header(tp_handler *h, const char *name, const char *value);
TP_API int tp_add_header(tp_handler *h, const char *name, const char *value);
TP_API int tp_clear_header(tp_handler *h, const char *name);
/* Tornado's check_etag_header: true when the request's If-None-Match matches the Etag header
 * set on h ("*" as its first token, or a listed tag equal to it under weak comparison). The
 * automatic Etag and StaticFileHandler answer 304 on it. */
TP_API bool tp_check_etag_header(tp_handler *h);

/* Appends to the response body (copied). -EALREADY after finish. */
TP_API int tp_write(tp_handler *h, const void *p, size_t n);
TP_API int tp_write_str(tp_handler *h, const char *s);
/* Tornado's write(dict): obj JSON-encoded (with "</" escaped) and Content-Type
 * application/json. -EINVAL for anything but an object (Tornado refuses lists). */
TP_API int tp_write_json(tp_handler *h, const json_t *obj);
TP_API int tp_writef(tp_handler *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends n bytes of the open file fd from offset off to the body, after what was written
 * before; they go out with sendfile(2). The handler owns fd from now on and closes it once
 * sent or dropped. 0, -EALREADY after finish, -EBUSY while another file is pending. */
TP_API int tp_write_file(tp_handler *h, int fd, off_t off, size_t n);
/* Tornado's detach(): the connection's stream for another protocol (bytes the client sent
 * after the request are still buffered in it); the caller owns and closes it. The handler is
 * finished without a response, access log line or on_finish. NULL if headers were flushed
 * or the client is gone. */
TP_API struct tp_stream *tp_detach(tp_handler *h);
/* Sends the headers and what was written so far (chunked from then on). 0 or -errno. */
TP_API int tp_flush(tp_handler *h);
/* Ends the response: headers (with Content-Length when nothing was flushed), body, access log
 * line, on_finish; the request is freed afterwards. -EALREADY if already finished. */
TP_API int tp_finish(tp_handler *h);
TP_API bool tp_finished(tp_handler *h);
/* Sends an error response through write_error and finishes. If headers were already flushed
 * the connection is closed instead (the response cannot change any more). */
TP_API int tp_send_error(tp_handler *h, int status);
/* send_error(status, reason=reason): the reason (checked as tp_set_status does; NULL: the
 * standard one) goes on the status line and the default page. 0 or -EALREADY. */
TP_API int tp_send_error_reason(tp_handler *h, int status, const char *reason);
/* raise HTTPError(status, log_message, *args, reason=reason) from a method (reason NULL or
 * "": the standard one, as Tornado takes a falsy reason as none). Unless log_fmt is
 * NULL, logs the warning "STATUS METHOD URI (IP): message" as Tornado and keeps the message
 * for write_error (tp_error_log_message); then tp_send_error_reason. The method then returns
 * TP_OK. 0 or -EALREADY. */
TP_API int tp_http_error(tp_handler *h, int status, const char *reason, const char *log_fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The reason phrase of the response (the one sent: tp_set_status's check applied), for
 * write_error as Tornado's self._reason. Valid until the request is finished. */
TP_API const char *tp_get_reason(tp_handler *h);
/* In write_error: the formatted log message of the tp_http_error being written, or NULL. */
TP_API const char *tp_error_log_message(tp_handler *h);
/* Redirect with Location (301 if permanent else 302) and finish. 0, -EALREADY after flush,
 * -EINVAL for a url with bytes a header value cannot hold (nothing is sent then). */
TP_API int tp_redirect(tp_handler *h, const char *url, bool permanent);
/* Tornado's redirect(url, status=status): any status 300..399 (else -EINVAL, Tornado's
 * assertion), the rest as tp_redirect. */
TP_API int tp_redirect_status(tp_handler *h, const char *url, int status);
/* Resets headers and body to the defaults (Tornado's clear()). */
TP_API void tp_clear(tp_handler *h);

/* ---- arguments by source, request extras, cookies, signed values, header values --------- */

/* Where an argument is looked up: request.arguments (query then body), query_arguments,
 * body_arguments, or request.files (tp_argument_names only). */
enum tp_arg_source { TP_ARGS_ALL, TP_ARGS_QUERY, TP_ARGS_BODY, TP_ARGS_FILES };
enum tp_arg_flags {
    TP_ARG_NO_STRIP = 1 << 0, /* Tornado's strip=False: whitespace around the value kept */
    TP_ARG_REQUIRED = 1 << 1, /* no default: a missing argument answers 400 after the method */
};
/* Tornado's _get_argument(name, default, source, strip): the last value of name in src,
 * decoded as tp_get_argument. def when absent; with TP_ARG_REQUIRED NULL and a 400
 * ("Missing argument name") once the method returns. Request arena. */
TP_API const char *tp_get_argument_ex(tp_handler *h, enum tp_arg_source src, const char *name,
                                      const char *def, unsigned flags);
/* Tornado's _get_arguments(name, source, strip): every value of name in src (query ones
 * first). Stores up to max in out; returns how many there are. */
TP_API size_t tp_get_arguments_ex(tp_handler *h, enum tp_arg_source src, const char *name,
                                  unsigned flags, const char **out, size_t max);
/* get_query_argument(name) / get_body_argument(name) without a default: NULL and a 400
 * (MissingArgumentError) once the method returns when name is absent from that source. */
TP_API const char *tp_get_query_argument_required(tp_handler *h, const char *name);
TP_API const char *tp_get_body_argument_required(tp_handler *h, const char *name);
/* The names of request.arguments, query_arguments, body_arguments or files (src), each once,
 * in Tornado's dict order (first appearance, query before body). Names are decoded text
 * (percent, '+', UTF-8): a name that is not UTF-8 gives 0 here, and NULL or 0 from every
 * argument getter, and a 400 once the method returns. Stores up to max in out (request
 * arena); returns how many there are. */
TP_API size_t tp_argument_names(tp_handler *h, enum tp_arg_source src, const char **out,
                                size_t max);

/* Tornado's set_etag_header: sets Etag to the class's compute_etag (default: the SHA-1 of the
 * body written so far). 0, -ENOENT when compute_etag gives none, or tp_set_header's errors. */
TP_API int tp_set_etag_header(tp_handler *h);
/* request.request_time(): seconds since the request's head arrived, until the response
 * finished (as on_finish and the access log see it), or until now before that. */
TP_API double tp_request_time(tp_handler *h);
/* request.full_url(): protocol + "://" + host + uri, in the request arena. */
TP_API const char *tp_full_url(tp_handler *h);

/* request.cookies as (name, value) pairs in Tornado's order (first appearance; a repeated
 * name has its last value; names Python's cookie jar refuses are left out). Stores up to max
 * in names and values (request arena); returns how many there are. */
TP_API size_t tp_get_cookies(tp_handler *h, const char **names, const char **values, size_t max);
/* Tornado's handler create_signed_value(name, value, version): value (n bytes, any bytes)
 * signed with the app's cookie_secret, version 0 meaning 2, a key table's key_version. The
 * NUL-terminated text in the request arena, or NULL without a secret or for version 1 with a
 * key table or a version other than 1 or 2. */
TP_API const char *tp_create_signed_value(tp_handler *h, const char *name, const void *value,
                                          size_t n, int version);
/* get_signed_cookie(name, max_age_days, min_version): as tp_get_signed_cookie, refusing
 * values of a version below min_version (0 means 1). The value may hold NUL bytes: its
 * length goes to *n (n may be NULL); it is NUL-terminated too. NULL when refused. */
TP_API const char *tp_get_signed_cookie_ex(tp_handler *h, const char *name, double max_age_days,
                                           int min_version, size_t *n);

/* ---- awaiting a future (Tornado's coroutine methods and stack_context) -------------------- */

struct tp_future;
/* Runs on the loop when the awaited future is done, while h is still waiting. Returns as a
 * method does: TP_OK (finished for it unless it finished itself), TP_AGAIN (still waiting:
 * it awaited again or finishes later), or TP_ERROR: a 500 through write_error, with a log
 * line holding the future's error message if it failed (an error it does not handle). */
typedef int (*tp_await_fn)(tp_handler *h, struct tp_future *fut, void *arg);
/* From a method that returns TP_AGAIN (or a callback of one): calls cb(h, fut, arg) once fut
 * is done (cb NULL: finish on success, 500 on error). If the client goes away first, fut is
 * cancelled and cb is not called; the handler is finished once its last await is dropped.
 * cb is never called on a finished handler, so arg lives in the request arena or is freed by
 * a done callback on fut. Takes its own reference on fut. 0, or -EALREADY if h is finished. */
TP_API int tp_handler_await(tp_handler *h, struct tp_future *fut, tp_await_fn cb, void *arg);

/* set_header/add_header with an int (decimal) or a time (HTTP-date, "Sun, 06 Nov 1994
 * 08:49:37 GMT"), as Tornado's _convert_header_value. 0, or tp_set_header's errors. */
TP_API int tp_set_header_int(tp_handler *h, const char *name, long long value);
TP_API int tp_add_header_int(tp_handler *h, const char *name, long long value);
TP_API int tp_set_header_date(tp_handler *h, const char *name, time_t t);
TP_API int tp_add_header_date(tp_handler *h, const char *name, time_t t);

#endif
