/* OAuthMixin's OAuth 1.0a flow: request token -> authorize redirect -> access token -> user,
 * every call signed with tp_oauth1_signature. The HTTP side (client, settings, fetches) is a
 * generic tp_auth_provider the OAuth 1 provider holds. */
#include "web/auth/auth_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/loop.h"
#include "http/cookie.h"

#define TOKEN_COOKIE_MAX_AGE 600

struct tp_oauth1_provider {
    int refs;
    tp_auth_provider *http; /* client, CA file, User-Agent, timeout, name, cookie name */
    char *consumer_key, *consumer_secret;
    char *request_token_url, *authorize_url, *access_token_url, *callback_uri, *user_url;
    bool version_10;
};

static bool dup_opt_given(const char *s)
{
    return s && *s;
}

static char *dup_opt(const char *s)
{
    return s && *s ? tp_strndup(s, strlen(s)) : NULL;
}

tp_oauth1_provider *tp_oauth1_provider_new(const char *name, const tp_oauth1_opts *o)
{
    if (!o || !dup_opt_given(o->consumer_key) || !dup_opt_given(o->consumer_secret) ||
        !dup_opt_given(o->request_token_url) || !dup_opt_given(o->authorize_url) ||
        !dup_opt_given(o->access_token_url)) {
        tp_log_error("auth: OAuth 1 provider %s needs consumer_key, consumer_secret and the "
                     "request token, authorize and access token URLs",
                     name ? name : "");
        return NULL;
    }
    char cookie[128];
    snprintf(cookie, sizeof cookie, "tp_oauth1_%s", name ? name : "oauth1");
    static const char *const none[4] = {NULL, NULL, NULL, NULL};
    tp_oauth2_opts h = {.client_id = o->consumer_key,
                        .cookie_name = o->cookie_name ? o->cookie_name : cookie,
                        .ca_certs = o->ca_certs,
                        .user_agent = o->user_agent,
                        .request_timeout = o->request_timeout,
                        .redirect_uri = o->callback_uri};
    tp_oauth1_provider *p = tp_calloc(1, sizeof *p);
    p->refs = 1;
    p->http = tp__auth_provider_new(TP_AUTH_GENERIC, name ? name : "oauth1", &h, none);
    p->consumer_key = dup_opt(o->consumer_key);
    p->consumer_secret = dup_opt(o->consumer_secret);
    p->request_token_url = dup_opt(o->request_token_url);
    p->authorize_url = dup_opt(o->authorize_url);
    p->access_token_url = dup_opt(o->access_token_url);
    p->user_url = dup_opt(o->user_url);
    p->version_10 = o->version_10;
    return p;
}

static tp_oauth1_provider *oauth1_ref(tp_oauth1_provider *p)
{
    p->refs++;
    return p;
}

void tp_oauth1_provider_free(tp_oauth1_provider *p)
{
    if (!p || --p->refs > 0)
        return;
    tp_auth_provider_free(p->http);
    tp_free(p->consumer_key);
    tp_free(p->consumer_secret);
    tp_free(p->request_token_url);
    tp_free(p->authorize_url);
    tp_free(p->access_token_url);
    tp_free(p->user_url);
    tp_free(p);
}

/* The oauth_* parameters, then args, then oauth_signature: the signed query or form body
 * (tp_malloc'd). Tornado's _oauth_request_token_url / _oauth_access_token_url /
 * _oauth_request_parameters. */
static char *signed_params(tp_oauth1_provider *p, const char *method, const char *url,
                           const tp_auth_param *args, size_t n, const char *token_key,
                           const char *token_secret)
{
    char *nonce = tp__auth_random_token(16), ts[24]; /* aborts without randomness */
    snprintf(ts, sizeof ts, "%ld", (long)time(NULL));
    tp_auth_param *all = tp_calloc(n + 7, sizeof *all);
    size_t k = 0;
    all[k++] = (tp_auth_param){"oauth_consumer_key", p->consumer_key};
    if (token_key)
        all[k++] = (tp_auth_param){"oauth_token", token_key};
    all[k++] = (tp_auth_param){"oauth_signature_method", "HMAC-SHA1"};
    all[k++] = (tp_auth_param){"oauth_timestamp", ts};
    all[k++] = (tp_auth_param){"oauth_nonce", nonce};
    all[k++] = (tp_auth_param){"oauth_version", "1.0"};
    for (size_t i = 0; i < n; i++)
        if (args[i].value)
            all[k++] = args[i];
    char *sig = p->version_10
                    ? tp_oauth10_signature(p->consumer_secret, token_secret, method, url, all, k)
                    : tp_oauth1_signature(p->consumer_secret, token_secret, method, url, all, k);
    all[k++] = (tp_auth_param){"oauth_signature", sig};
    char *body = tp__auth_form_encode(all, k);
    tp_free(sig);
    tp_free(all);
    tp_free(nonce);
    return body;
}

static tp_future *signed_fetch(tp_oauth1_provider *p, const char *method, const char *url,
                               const tp_auth_param *args, size_t n, const char *key,
                               const char *secret, bool form)
{
    bool post = method && !strcmp(method, "POST");
    char *params = signed_params(p, post ? "POST" : "GET", url, args, n, key, secret);
    tp_buf u = {0};
    tp_buf_append_str(&u, url);
    if (!post)
        tp_buf_appendf(&u, "%c%s", strchr(url, '?') ? '&' : '?', params);
    tp_buf_append(&u, "", 1);
    tp_http_request req;
    tp__auth_request_init(p->http, &req, tp_buf_data(&u));
    if (post) {
        req.method = "POST";
        req.body = tp_slice_cstr(params);
    }
    tp_future *f = tp__auth_fetch(p->http, &req, form);
    tp_buf_free(&u);
    tp_free(params);
    return f;
}

tp_future *tp_oauth1_request(tp_oauth1_provider *p, const char *method, const char *url,
                             const tp_auth_param *args, size_t n, const char *token_key,
                             const char *token_secret)
{
    return signed_fetch(p, method, url, args, n, token_key, token_secret, false);
}

/* ---- authorize_redirect ------------------------------------------------------------------- */

typedef struct redirect_args {
    tp_oauth1_provider *p;
    tp_auth_param *extra;
    size_t n;
} redirect_args;

static int set_token_cookie(tp_handler *h, tp_oauth1_provider *p, const char *key,
                            const char *secret)
{
    json_t *j = json_pack("{s:s, s:s}", "k", key, "s", secret);
    char *val = json_dumps(j, JSON_COMPACT);
    tp_cookie_attrs a = tp_cookie_attrs_default();
    a.max_age = TOKEN_COOKIE_MAX_AGE;
    a.expires = time(NULL) + TOKEN_COOKIE_MAX_AGE;
    a.httponly = true;
    a.samesite = "Lax";
    a.secure = tp_slice_eq(tp_handler_request(h)->protocol, TP_SLICE_LIT("https"));
    int rc = tp_set_signed_cookie(h, p->http->cookie_name, val, &a);
    free(val);
    json_decref(j);
    return rc;
}

static int got_request_token(tp_handler *h, tp_future *f, void *arg)
{
    redirect_args *ra = arg;
    if (tp_future_error(f))
        return TP_ERROR; /* 500, the fetch's error in the log line */
    json_t *t = tp_future_result(f);
    const char *key = json_string_value(json_object_get(t, "oauth_token"));
    const char *secret = json_string_value(json_object_get(t, "oauth_token_secret"));
    if (!key || !secret) {
        tp_log_error("auth: %s sent no request token", ra->p->request_token_url);
        return TP_ERROR;
    }
    if (set_token_cookie(h, ra->p, key, secret) < 0) {
        tp_log_error("auth: cannot set the request token cookie (no cookie_secret?)");
        return TP_ERROR;
    }
    tp_buf u = {0};
    tp_buf_append_str(&u, ra->p->authorize_url);
    tp_buf_append_str(&u, strchr(ra->p->authorize_url, '?') ? "&oauth_token=" : "?oauth_token=");
    tp__auth_pct_encode(&u, key);
    for (size_t i = 0; i < ra->n; i++) {
        tp_buf_append(&u, "&", 1);
        tp__auth_pct_encode(&u, ra->extra[i].name);
        tp_buf_append(&u, "=", 1);
        tp__auth_pct_encode(&u, ra->extra[i].value ? ra->extra[i].value : "");
    }
    tp_buf_append(&u, "", 1);
    int rc = tp_redirect(h, tp_buf_data(&u), false);
    tp_buf_free(&u);
    return rc < 0 ? TP_ERROR : TP_OK;
}

int tp_oauth1_authorize_redirect(tp_handler *h, tp_oauth1_provider *p, const tp_auth_param *extra,
                                 size_t n)
{
    tp_arena *a = tp_handler_arena(h);
    redirect_args *ra = tp_arena_calloc(a, sizeof *ra);
    ra->p = p;
    ra->n = n;
    ra->extra = tp__auth_params_dup(a, extra, n);
    tp_auth_param cb = {"oauth_callback", p->version_10 ? NULL : tp__auth_redirect_uri(h, p->http)};
    tp_future *f = signed_fetch(p, "GET", p->request_token_url, &cb, 1, NULL, NULL, true);
    tp_handler_await(h, f, got_request_token, ra);
    tp_future_unref(f);
    return TP_AGAIN;
}

/* ---- get_authenticated_user ------------------------------------------------------------- */

typedef struct flow1 {
    tp_oauth1_provider *p;
    tp_future *out;
    json_t *access; /* {"key", "secret", extra fields} */
} flow1;

static void flow1_end(flow1 *fl, int code, const char *what, const char *msg, json_t *result)
{
    if (result)
        tp_future_set_result(fl->out, result, tp__auth_json_free);
    else if (!tp_future_done(fl->out))
        tp_future_set_error(fl->out, code, "%s%s", what, msg);
    tp_future_unref(fl->out);
    tp_oauth1_provider_free(fl->p);
    json_decref(fl->access);
    tp_free(fl);
}

static void user_fetched(tp_future *f, void *arg)
{
    flow1 *fl = arg;
    if (tp_future_done(fl->out) || tp_future_error(f))
        return flow1_end(fl, tp_future_error(f), "user: ", tp_future_error_message(f), NULL);
    json_t *user = tp_future_result(f);
    json_t *res = json_is_object(user) ? json_deep_copy(user) : json_object();
    json_object_set(res, "access_token", fl->access);
    flow1_end(fl, 0, "", "", res);
}

static void access_fetched(tp_future *f, void *arg)
{
    flow1 *fl = arg;
    if (tp_future_done(fl->out) || tp_future_error(f))
        return flow1_end(fl, tp_future_error(f), "access token: ", tp_future_error_message(f),
                         NULL);
    json_t *t = tp_future_result(f);
    json_t *key = json_object_get(t, "oauth_token"),
           *sec = json_object_get(t, "oauth_token_secret");
    if (!json_is_string(key) || !json_is_string(sec))
        return flow1_end(fl, -EBADMSG, "access token: ", "no oauth_token in the answer", NULL);
    fl->access = json_pack("{s:O,s:O}", "key", key, "secret", sec);
    json_t *extra = json_deep_copy(t);
    json_object_del(extra, "oauth_token");
    json_object_del(extra, "oauth_token_secret");
    json_object_update(fl->access, extra);
    if (!fl->p->user_url) {
        json_object_set(extra, "access_token", fl->access);
        return flow1_end(fl, 0, "", "", extra);
    }
    json_decref(extra);
    tp_future *uf = signed_fetch(fl->p, "GET", fl->p->user_url, NULL, 0, json_string_value(key),
                                 json_string_value(sec), false);
    tp_future_add_done_callback(uf, user_fetched, fl);
    tp_future_unref(uf);
}

tp_future *tp_oauth1_get_authenticated_user(tp_handler *h, tp_oauth1_provider *p)
{
    const char *cookie_name = p->http->cookie_name;
    const char *cookie = tp_get_signed_cookie(h, cookie_name, TOKEN_COOKIE_MAX_AGE / 86400.0);
    json_t *rt = cookie ? json_loads(cookie, 0, NULL) : NULL;
    const char *token = tp_get_query_argument(h, "oauth_token", NULL);
    tp_clear_cookie(h, cookie_name, "/", NULL); /* one use */
    if (!rt)
        return tp__auth_failed(-EPERM, "OAuth request token cookie missing, expired or forged");
    if (!tp__auth_streq_ct(token, json_string_value(json_object_get(rt, "k")))) {
        json_decref(rt);
        return tp__auth_failed(-EPERM, "OAuth request token does not match the cookie");
    }
    flow1 *fl = tp_calloc(1, sizeof *fl);
    fl->p = oauth1_ref(p);
    fl->out = tp_future_new(tp_loop_current());
    tp_auth_param v = {"oauth_verifier", tp_get_query_argument(h, "oauth_verifier", NULL)};
    tp_future *f = signed_fetch(p, "GET", p->access_token_url, &v, 1, token,
                                json_string_value(json_object_get(rt, "s")), true);
    json_decref(rt);
    tp_future_add_done_callback(f, access_fetched, fl);
    tp_future_unref(f);
    return tp_future_ref(fl->out);
}
