/* The RequestHandler life cycle and output API. A handler lives in its request's arena; its
 * state and references (web_internal.h) decide when it is released: in tp__handler_release,
 * once the last reference is put, so a method may call tp_finish and return safely. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/status.h"
#include "core/utf8.h"
#include "http/date.h"
#include "core/escape.h"
#include "web/web_internal.h"

static void unlink_live(tp_handler *h)
{
    if (h->prev)
        h->prev->next = h->next;
    else
        h->app->live = h->next;
    if (h->next)
        h->next->prev = h->prev;
    h->prev = h->next = NULL;
}

void tp__handler_release(tp_handler *h)
{
    bool answered = h->state == HANDLER_FINISHED; /* HANDED_OVER: the request goes on */
    tp__handler_to(h, HANDLER_RELEASED);
    if (h->awaits)
        tp__handler_awaits_forget(h);
    unlink_live(h);
    if (answered)
        tp_http_finish(h->req); /* frees the arena, and h with it */
}

/* At teardown the loop will not run the callbacks these handlers wait for: their requests are
 * dropped without calling app code. */
void tp__handlers_drop(tp_app *app)
{
    tp_handler *next;
    for (tp_handler *h = app->live; h; h = next) {
        next = h->next;
        if (tp__handler_done(h))
            continue; /* finished, and a caller still holds it: released when it returns */
        tp__handler_to(h, HANDLER_FINISHED);
        tp__handler_put(h); /* the request's reference */
    }
}

static void default_headers(tp_handler *h)
{
    tp_headers_init(&h->headers, &h->req->arena);
    tp_headers_append_ref(&h->headers, TP_SLICE_LIT("Server"), h->app->server_header);
    tp_headers_append_ref(&h->headers, TP_SLICE_LIT("Content-Type"),
                          TP_SLICE_LIT("text/html; charset=UTF-8"));
    if (h->cls->set_default_headers)
        CALL(h, h->cls->set_default_headers(h));
}

tp_handler *tp__handler_new(tp_app *app, tp_request *req, const tp_handler_class *cls,
                            void *route_data)
{
    tp_handler *h = tp_arena_calloc(&req->arena, sizeof(*h)); /* HANDLER_NEW */
    h->refs = 2;                                              /* the request's and the caller's */
    h->app = app;
    h->cls = cls;
    h->req = req;
    h->route_data = route_data;
    h->status = 200;
    h->file_fd = -1;
    h->next = app->live;
    if (app->live)
        app->live->prev = h;
    app->live = h;
    if (cls->state_size)
        h->state_data = tp_arena_calloc(&req->arena, cls->state_size);
    default_headers(h);
    tp_headers_init(&h->new_cookies, &req->arena);
    if (cls->initialize) {
        int r;
        CALL(h, r = cls->initialize(h, route_data));
        if (r != TP_OK && h->state == HANDLER_NEW)
            tp__handler_to(h, HANDLER_INIT_FAILED);
    }
    return h;
}

/* HEAD on a class without head runs its get (nginx, Go and Flask do the same): the framer
 * drops the body of a HEAD response, so the head carries the Content-Length (or, after a
 * flush, neither length nor chunking) that the GET would have had. */
static tp_method_fn implicit_head(const tp_handler *h)
{
    return h->app->settings.head_requires_head_method ? NULL : h->cls->get;
}

static tp_method_fn method_fn(tp_handler *h, bool *supported)
{
    static const struct {
        tp_slice name;
        size_t off;
    } methods[] = {
        {TP_SLICE_LIT("GET"), offsetof(tp_handler_class, get)},
        {TP_SLICE_LIT("HEAD"), offsetof(tp_handler_class, head)},
        {TP_SLICE_LIT("POST"), offsetof(tp_handler_class, post)},
        {TP_SLICE_LIT("PUT"), offsetof(tp_handler_class, put)},
        {TP_SLICE_LIT("DELETE"), offsetof(tp_handler_class, delete_)},
        {TP_SLICE_LIT("PATCH"), offsetof(tp_handler_class, patch)},
        {TP_SLICE_LIT("OPTIONS"), offsetof(tp_handler_class, options)},
    };
    tp_slice m = h->req->method;
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (tp_slice_eq(m, methods[i].name)) {
            *supported = true;
            tp_method_fn fn;
            memcpy(&fn, (const char *)h->cls + methods[i].off, sizeof(fn));
            if (!fn && methods[i].off == offsetof(tp_handler_class, head))
                fn = implicit_head(h);
            return fn;
        }
    }
    for (const tp_extra_method *e = h->cls->extra_methods; e && e->name; e++) {
        if (tp_slice_eq(m, tp_slice_cstr(e->name))) {
            *supported = true; /* in SUPPORTED_METHODS: a NULL fn is a 405 from the method */
            return e->fn;
        }
    }
    *supported = false;
    return NULL;
}

/* What a method's (or prepare's) return asks for; true when prepare succeeded (PREPARED). */
static bool after_call(tp_handler *h, int r, bool is_method)
{
    if (tp__handler_done(h))
        return false;
    if (h->arg_error) {
        tp_http_error(h, 400, NULL, "%s", h->arg_error);
        return false;
    }
    if (r == TP_AGAIN && is_method) {
        tp__handler_to(h, HANDLER_WAITING);
        return false;
    }
    if (r != TP_OK && r != TP_DONE) {
        const char *who = h->cls->name ? h->cls->name : "handler";
        const char *what = is_method ? "the method" : "prepare";
        if (r == TP_AGAIN)
            tp_log_error("prepare of %s returned TP_AGAIN: prepare must finish synchronously", who);
        else
            tp__web_log(TP_LOG_ERROR,
                        "Uncaught exception %.*s %.*s (%.*s)\n    %s of %s returned %d",
                        TP_SLICE_FMT(h->req->method), TP_SLICE_FMT(h->req->uri),
                        TP_SLICE_FMT(h->req->remote_ip), what, who, r);
        if (h->app->settings.debug)
            tp__handler_capture_traceback(h, what, r);
        tp_send_error(h, 500);
        return false;
    }
    if (is_method) {
        tp_finish(h);
        return false;
    }
    tp__handler_to(h, HANDLER_PREPARED);
    return true;
}

static bool is_get_or_head(tp_handler *h)
{
    tp_slice m = h->req->method;
    return tp_slice_eq(m, TP_SLICE_LIT("GET")) || tp_slice_eq(m, TP_SLICE_LIT("HEAD"));
}

bool tp__handler_prepare(tp_handler *h)
{
    if (h->state != HANDLER_NEW && h->state != HANDLER_INIT_FAILED)
        return false; /* finished in initialize, or the client left during it */
    bool init_failed = h->state == HANDLER_INIT_FAILED;
    tp__handler_to(h, HANDLER_PREPARING);
    bool supported;
    method_fn(h, &supported);
    if (!supported) {
        tp_send_error(h, 405);
        return false;
    }
    if (init_failed) {
        tp_send_error(h, 500);
        return false;
    }
    if (!tp__handler_parse_body(h)) /* after the 405, as 6.5's _execute (none when streamed) */
        return false;
    if (!tp__path_args_check(h))
        return false;
    if (h->app->settings.xsrf_cookies && !(h->cls->flags & TP_NO_XSRF_CHECK) &&
        !is_get_or_head(h) && !tp_slice_eq(h->req->method, TP_SLICE_LIT("OPTIONS")) &&
        tp_check_xsrf_cookie(h) < 0)
        return false;
    if (!h->cls->prepare) {
        tp__handler_to(h, HANDLER_PREPARED);
        return true;
    }
    int r;
    CALL(h, r = h->cls->prepare(h));
    return after_call(h, r, false);
}

/* "?" + query, or "" (the arena's copy). */
static const char *query_suffix(tp_handler *h)
{
    tp_slice q = h->req->query;
    return q.n ? tp_arena_printf(&h->req->arena, "?%.*s", TP_SLICE_FMT(q)) : "";
}

/* @addslash / @removeslash: true when the request was answered (301 or 404). */
static bool slash_redirect(tp_handler *h)
{
    tp_slice path = h->req->path;
    bool slash = path.n && path.p[path.n - 1] == '/';
    bool add = h->cls->flags & TP_ADDSLASH;
    if (add ? slash : !slash)
        return false;
    if (!is_get_or_head(h))
        return tp_send_error(h, 404), true;
    while (!add && path.n && path.p[path.n - 1] == '/')
        path.n--;
    if (!add && !path.n)
        return false; /* "/" is never redirected to "" */
    const char *to = tp_arena_printf(&h->req->arena, "%.*s%s%s", TP_SLICE_FMT(path), add ? "/" : "",
                                     query_suffix(h));
    tp_redirect(h, to, true);
    return true;
}

/* @authenticated: true when the request was answered (redirect to login_url, 403, or 500
 * without a login_url). */
static bool login_required(tp_handler *h)
{
    if (tp_current_user(h))
        return false;
    if (!is_get_or_head(h))
        return tp_send_error(h, 403), true;
    const char *url = h->app->settings.login_url;
    if (!url || !*url) {
        tp_log_error("You must define the 'login_url' setting in your application to use "
                     "@authenticated");
        return tp_send_error(h, 500), true;
    }
    if (!strchr(url, '?')) {
        tp_request *req = h->req;
        bool absolute = strstr(url, "://") != NULL; /* urlsplit(url).scheme */
        const char *next =
            absolute ? tp_arena_printf(&req->arena, "%.*s://%.*s%.*s", TP_SLICE_FMT(req->protocol),
                                       TP_SLICE_FMT(req->host), TP_SLICE_FMT(req->uri))
                     : tp_arena_strndup(&req->arena, req->uri.p, req->uri.n);
        tp_slice e = tp_url_escape(&req->arena, tp_slice_cstr(next), true);
        url = tp_arena_printf(&req->arena, "%s?next=%.*s", url, TP_SLICE_FMT(e));
    }
    tp_redirect(h, url, false);
    return true;
}

const char *tp_current_user(tp_handler *h)
{
    const char *user = h->current_user; /* h is not read after the app's function */
    if (!h->user_known) {
        h->user_known = true;
        if (h->cls->get_current_user)
            CALL(h, user = h->current_user = h->cls->get_current_user(h));
    }
    return user;
}

void tp_set_current_user(tp_handler *h, const char *user)
{
    h->user_known = true;
    h->current_user = user;
}

tp_app *tp__handler_execute(tp_handler *h)
{
    if (h->state == HANDLER_NEW || h->state == HANDLER_INIT_FAILED) {
        if (!tp__handler_prepare(h))
            return NULL;
    }
    if (h->state != HANDLER_PREPARED)
        return NULL; /* finished before: in initialize, prepare or data_received */
    if (h->hand_to) {
        tp__handler_to(h, HANDLER_HANDED_OVER);
        tp__handler_put(h); /* the request's reference: the request is hand_to's now */
        return h->hand_to;
    }
    bool supported;
    tp_method_fn fn = method_fn(h, &supported);
    if (!fn) {
        tp_send_error(h, 405);
        return NULL;
    }
    if ((h->cls->flags & (TP_ADDSLASH | TP_REMOVESLASH)) && slash_redirect(h))
        return NULL;
    if ((h->cls->flags & TP_AUTHENTICATED) && login_required(h))
        return NULL;
    tp__handler_to(h, HANDLER_IN_METHOD);
    int r;
    CALL(h, r = fn(h));
    after_call(h, r, true);
    return NULL;
}

/* True for a handler that only waits for its request: NEW or INIT_FAILED until the body is
 * complete, PREPARED while the body streams in. Nothing else would ever finish it once the
 * client is gone. */
static bool waits_for_request(const tp_handler *h)
{
    return h->state == HANDLER_NEW || h->state == HANDLER_INIT_FAILED ||
           h->state == HANDLER_PREPARED;
}

void tp__handler_connection_closed(tp_handler *h)
{
    tp__handler_hold(h);
    if (h->cls->on_connection_close)
        CALL(h, h->cls->on_connection_close(h));
    if (h->awaits)
        tp__handler_awaits_cancel(h);
    /* A method on the stack finishes h when it returns; a WAITING handler still owes its
     * tp_finish (its writes are dropped after a reset, delivered after a FIN). */
    if (waits_for_request(h))
        tp__handler_finish(h, false); /* nothing was answered: no access log line */
    tp__handler_put(h);
}

/* ---- accessors --------------------------------------------------------------------------- */

tp_request *tp_handler_request(tp_handler *h)
{
    return h->req;
}

tp_app *tp_handler_app(tp_handler *h)
{
    return h->app;
}

void *tp_handler_state(tp_handler *h)
{
    return h->state_data;
}

void *tp_handler_route_data(tp_handler *h)
{
    return h->route_data;
}

tp_arena *tp_handler_arena(tp_handler *h)
{
    return &h->req->arena;
}

tp_slice tp_path_arg(tp_handler *h, size_t i)
{
    return i < h->npath_args ? h->path_args[i] : TP_SLICE_NULL;
}

size_t tp_path_arg_count(tp_handler *h)
{
    return h->npath_args;
}

/* ---- status and headers ------------------------------------------------------------------ */

bool tp__safe_text(const char *s)
{
    return tp_http_valid_header_value(tp_slice_cstr(s));
}

/* Tornado 6.5's set_status keeps a reason that is a reason-phrase of RFC 9112 (HTAB, SP,
 * visible ASCII, obs-text; its characters are those of a str, so U+0080..U+00FF) without
 * '<'; anything else, the empty string included, becomes "Unknown" (CVE-2025-67724). Our
 * reason is UTF-8 text: a byte sequence that is not is refused too. */
static bool valid_reason(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0, k; i < n; i += k) {
        uint32_t c;
        k = tp_utf8_decode((const unsigned char *)s + i, n - i, &c);
        if (!k || c == '<' || c == 0x7f || c > 0xff || (c < 0x20 && c != '\t'))
            return false;
    }
    return n > 0;
}

int tp_set_status(tp_handler *h, int status, const char *reason)
{
    if (status < 100 || status > 999)
        return -EINVAL;
    if (h->ws) /* Tornado's _detach_stream makes set_status raise, as the other HTTP calls */
        return -EPERM;
    h->status = status;
    /* Reason phrases reach the status line and the error page. */
    if (reason && !valid_reason(reason))
        reason = "Unknown";
    h->reason = reason ? tp_arena_slice_dup(&h->req->arena, tp_slice_cstr(reason)) : TP_SLICE_NULL;
    return 0;
}

int tp_get_status(tp_handler *h)
{
    return h->status;
}

static int check_header(tp_handler *h, const char *name, const char *value)
{
    if (h->flushed)
        return -EALREADY;
    if (!tp_http_valid_token(tp_slice_cstr(name)) || (value && !tp__safe_text(value)))
        return -EINVAL;
    return 0;
}

/* HTTPHeaders writes names in Tornado's case: "x-custom-thing" -> "X-Custom-Thing". */
static tp_slice header_name(tp_handler *h, const char *name)
{
    return tp_headers_normalize_name(&h->req->arena, tp_slice_cstr(name));
}

int tp_set_header(tp_handler *h, const char *name, const char *value)
{
    int r = check_header(h, name, value);
    if (r == 0)
        tp_headers_set_ref(&h->headers, header_name(h, name),
                           tp_arena_slice_dup(&h->req->arena, tp_slice_cstr(value)));
    return r;
}

int tp_add_header(tp_handler *h, const char *name, const char *value)
{
    int r = check_header(h, name, value);
    if (r == 0)
        tp_headers_add_ref(&h->headers, header_name(h, name),
                           tp_arena_slice_dup(&h->req->arena, tp_slice_cstr(value)));
    return r;
}

int tp_clear_header(tp_handler *h, const char *name)
{
    int r = check_header(h, name, NULL);
    if (r == 0)
        tp_headers_remove(&h->headers, tp_slice_cstr(name));
    return r;
}

void tp_clear(tp_handler *h)
{
    default_headers(h);
    h->out_len = 0;
    tp__handler_drop_file(h);
    h->status = 200;
    h->reason = TP_SLICE_NULL;
}
