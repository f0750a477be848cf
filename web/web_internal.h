/* State shared by app.c (routing, the server delegate) and handler.c (the handler API). */
#ifndef TP_WEB_INTERNAL_H
#define TP_WEB_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

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
        *static_files;             /* web/static/handler.c: static_path settings, hash cache */
    struct tp_ws_glue *websockets; /* websocket.c: open WebSocket connections */
    struct tp_upstream *proxies;   /* proxy/handler.c: the upstreams of proxy routes */
    size_t nwebsockets;
    void (*websockets_gone)(tp_app *app, void *arg); /* tp_app_close_websockets's done */
    void *websockets_gone_arg;
};

/* routes.c: the route for req (host rules first), its path arguments in *args; NULL if
 * none matches. */
const tp_route *tp__routes_match(tp_app *app, tp_request *req, tp_slice **args, size_t *nargs);
void tp__routes_free(tp_app *app);
/* routes.c: decode_argument of h's path arguments: false after a 400 ("Invalid unicode in
 * url") when one is not UTF-8. */
bool tp__path_args_check(tp_handler *h);
/* route_index.c: the routes that can match path (those whose literal prefix it starts
 * with), as indexes in table order in *out (valid until the next call). Rebuilds the index
 * when routes were added. */
typedef struct tp_route_index tp_route_index;
size_t tp__route_candidates(tp_app *app, tp_slice path, const uint32_t **out);
void tp__route_index_free(tp_route_index *ix);

/* Lets go of app->proxies (their idle connections close); proxy/handler.c. */
void tp__proxies_free(tp_app *app);
/* Frees app->static_files (NULL is fine); web/static/handler.c. */
void tp_static_files_free(struct tp_static_files *sf);

/* ---- the handler's life -----------------------------------------------------------------
 * Where a handler is in Tornado's life cycle. Only tp__handler_to changes it, and it asserts
 * that the step is one of these (its table):
 *
 *   NEW -> INIT_FAILED          initialize returned an error without finishing
 *   NEW, INIT_FAILED -> PREPARING
 *                               the request is complete (streamed body: its head is): the 405
 *                               check, INIT_FAILED's 500, the XSRF check, then prepare
 *   PREPARING -> PREPARED       prepare returned TP_OK (or there is none)
 *   PREPARED -> IN_METHOD       the method is called
 *   PREPARED -> HANDED_OVER     FallbackHandler: a handler of another app takes the request
 *   IN_METHOD -> WAITING        the method returned TP_AGAIN: a callback owes tp_finish
 *   NEW..WAITING -> FINISHED    tp_finish (itself or through tp_send_error, tp_redirect,
 *                               tp_render...), tp_detach, the client leaving before the method,
 *                               or the app's teardown (tp__handlers_drop)
 *   FINISHED, HANDED_OVER -> RELEASED
 *                               the last reference was put
 *
 * The client going away is an event, not a state: on_connection_close runs; a handler that
 * only waits for its request (NEW, INIT_FAILED, or PREPARED while its body streams in) is then
 * finished without a log line, as nothing was answered; a method on the stack finishes when it
 * returns, and a WAITING handler still owes its tp_finish (its writes are dropped).
 *
 * References (nginx's r->count): one for the request, from tp__handler_new until the handler
 * reaches FINISHED or HANDED_OVER (whoever makes that step puts it); one for each app function
 * on the stack (CALL), so a method may call tp_finish and return safely; and one for each
 * caller that still looks at h after running code that may finish it (the HTTP delegate's
 * callbacks, tp_send_error, tp_render...). The put of the last one calls tp__handler_release,
 * the only place where a handler leaves its app's live list and its request is finished
 * (tp_http_finish frees the request arena, and h with it). */
enum tp_handler_state {
    HANDLER_NEW,         /* created; initialize ran; the request body may still be coming */
    HANDLER_INIT_FAILED, /* initialize failed: 500 (after a 405 or 400) once prepare is due */
    HANDLER_PREPARING,   /* the checks before the method and prepare are running */
    HANDLER_PREPARED,    /* prepare returned: a streamed body goes to data_received */
    HANDLER_IN_METHOD,   /* the method runs, then its return value is acted on */
    HANDLER_WAITING,     /* the method returned TP_AGAIN; tp_finish comes from a callback */
    HANDLER_FINISHED,    /* answered (or given up): no more output */
    HANDLER_HANDED_OVER, /* FallbackHandler's request belongs to another handler now */
    HANDLER_RELEASED,    /* out of the live list; request finished unless HANDED_OVER */
};

struct tp_handler {
    tp_handler *prev, *next; /* in app->live */
    tp_app *app;
    const tp_handler_class *cls;
    tp_request *req;
    enum tp_handler_state state; /* changed by tp__handler_to only */
    unsigned refs;               /* tp__handler_hold / tp__handler_put */
    void *state_data;            /* the class's per-request state (tp_handler_state) */
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
    /* The head went out (tp_flush): headers are fixed and the body is chunked from then on.
     * Output state, not a life-cycle step: a handler may flush while PREPARING, IN_METHOD or
     * WAITING alike (as nginx keeps r->header_sent beside r->count). */
    bool flushed;
    /* The log message of the 400 an argument getter asked for once the method returns (a
     * value that is not UTF-8, a missing required argument): the first one wins, as the
     * first exception does in Tornado. */
    const char *arg_error;
    double finish_time;   /* tp__monotonic() when it finished, 0 before */
    const char *bad_body; /* why the body is not a valid form: 400 before prepare */
    struct tp_form_files *files;
    struct tp_gzip *gz;                 /* compress_response's transform, from the first chunk on */
    const struct tp_locale *locale;     /* tp_handler_locale, once known */
    const struct tp_ui_module **active; /* UI modules used in this request (n_ui_modules room) */
    size_t nactive;
    const char *traceback; /* debug mode: the 500 page's text (serve_traceback) */
    tp_app *hand_to;       /* FallbackHandler: the app that takes the request after prepare */
    bool args_parsed, cookies_parsed, user_known;
    bool bad_arg_name;          /* handler_args.c: a query or body argument name is not UTF-8 */
    const char *current_user;   /* get_current_user's answer, once known */
    struct raw_token *xsrf_raw; /* handler_xsrf.c: the cookie's token (or a new one) */
    const char *xsrf_token;     /* what pages get (masked per request in version 2) */
    tp_args query_args, body_args, cookies;
    /* set_cookie's Set-Cookie values, one per name (Tornado's
     * _new_cookie): tp_clear keeps them; added after the other headers when the head goes. */
    tp_headers new_cookies;
    const char *error_log_message; /* tp_http_error's message, for write_error */
    struct tp_ws_glue *ws;         /* websocket.c: the upgraded connection, if any */
    struct tp_await *awaits;       /* handler_async.c: futures awaited (tp_handler_await) */
};

/* Moves h to state to, asserting that the step is one listed above (a table lookup and a
 * branch; compiled out under NDEBUG). */
static inline void tp__handler_to(tp_handler *h, enum tp_handler_state to)
{
#define S(x) (1u << HANDLER_##x)
    static const uint16_t allowed[] = {
        [HANDLER_NEW] = S(INIT_FAILED) | S(PREPARING) | S(FINISHED),
        [HANDLER_INIT_FAILED] = S(PREPARING) | S(FINISHED),
        [HANDLER_PREPARING] = S(PREPARED) | S(FINISHED),
        [HANDLER_PREPARED] = S(IN_METHOD) | S(HANDED_OVER) | S(FINISHED),
        [HANDLER_IN_METHOD] = S(WAITING) | S(FINISHED),
        [HANDLER_WAITING] = S(FINISHED),
        [HANDLER_FINISHED] = S(RELEASED),
        [HANDLER_HANDED_OVER] = S(RELEASED),
        [HANDLER_RELEASED] = 0,
    };
#undef S
    assert(allowed[h->state] & (1u << to));
    (void)allowed;
    h->state = to;
}

/* True once h gives no more output: FINISHED, HANDED_OVER or RELEASED. */
static inline bool tp__handler_done(const tp_handler *h)
{
    return h->state >= HANDLER_FINISHED;
}

/* The last reference is gone: takes h out of its app's live list and, unless it was handed
 * over, finishes its request (which frees h). Called by tp__handler_put only. */
void tp__handler_release(tp_handler *h);

/* Takes a reference on h: it stays valid until the matching tp__handler_put. */
static inline void tp__handler_hold(tp_handler *h)
{
    h->refs++;
}

/* Drops a reference; the last one releases h, which must not be used after. */
static inline void tp__handler_put(tp_handler *h)
{
    assert(h->refs > 0);
    if (--h->refs == 0)
        tp__handler_release(h);
}

/* handler_output.c: the 101 of an Upgrade, sent as finish() sends a response (headers set,
 * cookies; no representation headers), with its access log line and on_finish; then the
 * stream, detached. The request's reference passes to the caller, who puts it when the
 * upgraded connection ends. NULL when the head went out already or the client left (h is
 * finished then, and the reference put). */
struct tp_stream *tp__handler_upgrade(tp_handler *h);

/* Calls into app code hold a reference, so a tp_finish inside defers the release. */
#define CALL(h, expr)                                                                              \
    do {                                                                                           \
        tp__handler_hold(h);                                                                       \
        expr;                                                                                      \
        tp__handler_put(h);                                                                        \
    } while (0)

/* A log line from the web layer under Tornado's module name ("[W 261204 21:57:48 web:388]"),
 * as tornado/web.py's gen_log and app_log lines have it. */
#define tp__web_log(level, ...) tp_log_write((level), "web.c", __LINE__, __VA_ARGS__)
/* A header value Tornado 6.5 accepts (_VALID_HEADER_CHARS over the bytes): HTAB, SP,
 * visible ASCII and bytes 0x80-0xFF; no CR, LF, DEL or other control character. */
bool tp__safe_text(const char *s);
/* etag.c: the automatic Etag, and 304 when If-None-Match matches it (before the head). */
void tp__handler_conditional(tp_handler *h);
/* etag.c: Tornado's check_etag_header, for handlers and static files alike: true when the
 * If-None-Match value (its headers joined) starts with "*" or holds a tag equal to etag in
 * the weak comparison (W/ ignored on both sides); false when either is empty. Tokens are
 * found as re.findall(r'\*|(?:W/)?"[^"]*"') finds them, so junk between them is skipped. */
bool tp__etag_matches(tp_slice if_none_match, tp_slice etag);
/* handler_render.c: the app's locale registry (settings.locales or a default one). */
struct tp_locales *tp__app_locales(tp_app *app);
/* handler_args.c: parses the arguments; false after a 400 for a body that is not a valid
 * form. */
bool tp__handler_parse_body(tp_handler *h);
/* Debug mode's serve_traceback: the C stack where the error was seen, for the 500 page. */
void tp__handler_capture_traceback(tp_handler *h, const char *what, int r);
/* Closes a file given to tp_write_file and not sent yet. */
void tp__handler_drop_file(tp_handler *h);
/* tp_finish; log false leaves out the access log line (nothing was answered). -EALREADY if
 * h is done. Puts the request's reference: h may be released on return. */
int tp__handler_finish(tp_handler *h, bool log);
/* The request is complete: body arguments, prepare (unless it ran), the method. The caller
 * holds a reference. Returns the app a FallbackHandler hands the request to (h is then
 * HANDED_OVER, released with the caller's reference), else NULL. */
tp_app *tp__handler_execute(tp_handler *h);
/* A NEW handler for the request, in its arena, linked in app's live list; initialize has
 * run. It holds the request's reference and one for the caller, who puts it. */
tp_handler *tp__handler_new(tp_app *app, tp_request *req, const tp_handler_class *cls,
                            void *route_data);
/* Finishes every handler that has not finished (the app is going away): no app code runs,
 * nothing is logged, their requests are finished. */
void tp__handlers_drop(tp_app *app);
/* The client went away: on_connection_close, then a handler that only waited for its
 * request is finished. */
void tp__handler_connection_closed(tp_handler *h);
/* handler_async.c: the client went away: the awaited futures are cancelled, their callbacks
 * not called; the last one finishes h. */
void tp__handler_awaits_cancel(tp_handler *h);
/* handler_async.c: h is being released: its awaits forget it (their futures are cancelled). */
void tp__handler_awaits_forget(tp_handler *h);
/* The steps up to and including prepare (run alone for a streamed body); false unless h is
 * PREPARED after them. The caller holds a reference. */
bool tp__handler_prepare(tp_handler *h);

#endif
