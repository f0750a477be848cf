/* Providers: their defaults, settings and reference count, the HTTP client they share, JSON
 * fetches, and the OpenID Connect discovery document and JWKS cache. */
#include "web/auth/auth_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/loop.h"
#include "http/query.h"

#define DISCOVERY_TTL 3600.0

static char *dup_or(const char *s, const char *def)
{
    const char *v = s && *s ? s : def;
    return v ? tp_strndup(v, strlen(v)) : NULL;
}

tp_auth_provider *tp__auth_provider_new(enum tp__auth_kind kind, const char *name,
                                        const tp_oauth2_opts *o, const char *const def[4])
{
    if (!o || !o->client_id || !*o->client_id) {
        tp_log_error("auth: provider %s needs a client_id", name);
        return NULL;
    }
    tp_auth_provider *p = tp_calloc(1, sizeof *p);
    p->refs = 1;
    p->kind = kind;
    p->name = dup_or(name, "oauth2");
    p->client_id = dup_or(o->client_id, NULL);
    p->client_secret = dup_or(o->client_secret, NULL);
    p->redirect_uri = dup_or(o->redirect_uri, NULL);
    p->scope = dup_or(o->scope, def[0]);
    p->authorize_url = dup_or(o->authorize_url, def[1]);
    p->token_url = dup_or(o->token_url, def[2]);
    p->userinfo_url = dup_or(o->userinfo_url, def[3]);
    p->issuer = dup_or(o->issuer, NULL);
    p->discovery_url = dup_or(o->discovery_url, NULL);
    p->ca_certs = dup_or(o->ca_certs, NULL);
    p->user_agent = dup_or(o->user_agent, "tornado-prefork-auth");
    size_t n = strlen(p->name) + sizeof "tp_oauth_";
    p->cookie_name = o->cookie_name ? dup_or(o->cookie_name, NULL) : tp_malloc(n);
    if (!o->cookie_name)
        snprintf(p->cookie_name, n, "tp_oauth_%s", p->name);
    p->fetch_userinfo = o->fetch_userinfo;
    p->pkce = !o->no_pkce;
    p->leeway = o->leeway > 0 ? o->leeway : 60;
    p->request_timeout = o->request_timeout;
    return p;
}

tp_auth_provider *tp_auth_google_new(const tp_oauth2_opts *o)
{
    static const char *const def[4] = {"openid email profile",
                                       "https://accounts.google.com/o/oauth2/v2/auth",
                                       "https://www.googleapis.com/oauth2/v4/token",
                                       "https://www.googleapis.com/oauth2/v1/userinfo"};
    return tp__auth_provider_new(TP_AUTH_GOOGLE, "google", o, def);
}

tp_auth_provider *tp_auth_github_new(const tp_oauth2_opts *o)
{
    static const char *const def[4] = {"read:user", "https://github.com/login/oauth/authorize",
                                       "https://github.com/login/oauth/access_token",
                                       "https://api.github.com/user"};
    return tp__auth_provider_new(TP_AUTH_GITHUB, "github", o, def);
}

tp_auth_provider *tp_auth_facebook_new(const tp_oauth2_opts *o)
{
    static const char *const def[4] = {"public_profile", "https://www.facebook.com/dialog/oauth",
                                       "https://graph.facebook.com/oauth/access_token",
                                       "https://graph.facebook.com/me"};
    return tp__auth_provider_new(TP_AUTH_FACEBOOK, "facebook", o, def);
}

tp_auth_provider *tp_auth_oidc_new(const tp_oauth2_opts *o)
{
    static const char *const def[4] = {"openid email profile", NULL, NULL, NULL};
    if (o && !(o->issuer && *o->issuer) && !(o->discovery_url && *o->discovery_url)) {
        tp_log_error("auth: an OpenID Connect provider needs an issuer or a discovery_url");
        return NULL;
    }
    tp_auth_provider *p = tp__auth_provider_new(TP_AUTH_OIDC, "oidc", o, def);
    if (p && !p->discovery_url) {
        size_t n = strlen(p->issuer) + sizeof "/.well-known/openid-configuration";
        p->discovery_url = tp_malloc(n);
        size_t il = strlen(p->issuer);
        snprintf(p->discovery_url, n, "%.*s/.well-known/openid-configuration",
                 (int)(il && p->issuer[il - 1] == '/' ? il - 1 : il), p->issuer);
    }
    return p;
}

tp_auth_provider *tp_auth_oauth2_new(const char *name, const tp_oauth2_opts *o)
{
    static const char *const def[4] = {NULL, NULL, NULL, NULL};
    if (o && (!o->authorize_url || !o->token_url)) {
        tp_log_error("auth: provider %s needs authorize_url and token_url", name ? name : "");
        return NULL;
    }
    return tp__auth_provider_new(TP_AUTH_GENERIC, name, o, def);
}

tp_auth_provider *tp__auth_provider_ref(tp_auth_provider *p)
{
    p->refs++;
    return p;
}

void tp_auth_provider_free(tp_auth_provider *p)
{
    if (!p || --p->refs > 0)
        return;
    char **strs[] = {&p->name,       &p->client_id,     &p->client_secret, &p->redirect_uri,
                     &p->scope,      &p->authorize_url, &p->token_url,     &p->userinfo_url,
                     &p->issuer,     &p->discovery_url, &p->ca_certs,      &p->cookie_name,
                     &p->user_agent, &p->jwks_url};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        tp_free(*strs[i]);
    json_decref(p->discovery);
    json_decref(p->jwks);
    if (p->client)
        tp_http_client_free(p->client);
    tp_free(p);
}

tp_http_client *tp__auth_client(tp_auth_provider *p)
{
    if (!p->client)
        p->client = tp_http_client_new(tp_loop_current(), NULL);
    return p->client;
}

void tp__auth_request_init(tp_auth_provider *p, tp_http_request *req, const char *url)
{
    tp_http_request_init(req, url);
    req->raise_error = false; /* the provider's JSON error body says more than the code */
    req->follow_redirects = false;
    req->ca_certs = p->ca_certs;
    req->user_agent = p->user_agent;
    req->request_timeout = p->request_timeout;
}

void tp__auth_json_free(void *v)
{
    json_decref(v);
}

tp_future *tp__auth_failed(int code, const char *msg)
{
    tp_future *f = tp_future_new(tp_loop_current());
    tp_future_set_error(f, code, "%s", msg);
    return f;
}

tp_auth_param *tp__auth_params_dup(tp_arena *a, const tp_auth_param *p, size_t n)
{
    tp_auth_param *out = tp_arena_calloc(a, (n ? n : 1) * sizeof *out);
    for (size_t i = 0; i < n; i++) {
        out[i].name = tp_arena_strndup(a, p[i].name, strlen(p[i].name));
        out[i].value = p[i].value ? tp_arena_strndup(a, p[i].value, strlen(p[i].value)) : NULL;
    }
    return out;
}

/* "HTTP 400 from URL: invalid_grant (The code was already used)" for a JSON error body. */
static void set_http_error(tp_future *out, const tp_http_response *r, const json_t *j)
{
    const char *err = json_string_value(json_object_get(j, "error"));
    const char *desc = json_string_value(json_object_get(j, "error_description"));
    if (!err && json_is_object(json_object_get(j, "error"))) /* Graph API's shape */
        err = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
    tp_future_set_error(out, r->code >= 400 && r->code < 500 ? -EACCES : TP_ERROR,
                        "HTTP %d from %s: %s%s%s%s", r->code, r->url, err ? err : "no detail",
                        desc ? " (" : "", desc ? desc : "", desc ? ")" : "");
}

/* An application/x-www-form-urlencoded body (OAuth 1 token answers) as a JSON object of
 * strings. */
static json_t *form_to_json(tp_slice body)
{
    tp_arena a;
    tp_arena_init(&a, 512);
    tp_args args = {0};
    tp_parse_qs(&a, body, &args);
    json_t *j = json_object();
    for (size_t i = 0; i < args.n; i++)
        json_object_set_new(j, tp_arena_strndup(&a, args.v[i].name.p, args.v[i].name.n),
                            json_stringn(args.v[i].value.p, args.v[i].value.n));
    tp_arena_destroy(&a);
    return j;
}

typedef struct fetch_job {
    tp_future *out;
    bool form;
} fetch_job;

static void body_fetched(tp_future *f, void *arg)
{
    fetch_job *job = arg;
    tp_future *out = job->out;
    if (tp_future_error(f)) {
        tp_future_set_error(out, tp_future_error(f), "%s", tp_future_error_message(f));
    } else {
        tp_http_response *r = tp_future_result(f);
        json_error_t jerr;
        json_t *j = job->form ? form_to_json(r->body) : json_loadb(r->body.p, r->body.n, 0, &jerr);
        if (r->code < 200 || r->code >= 300)
            set_http_error(out, r, j);
        else if (!j)
            tp_future_set_error(out, -EBADMSG, "%s answered no JSON: %s", r->url, jerr.text);
        else
            tp_future_set_result(out, json_incref(j), tp__auth_json_free);
        json_decref(j);
    }
    tp_future_unref(out);
    tp_free(job);
}

tp_future *tp__auth_fetch(tp_auth_provider *p, const tp_http_request *req, bool form)
{
    fetch_job *job = tp_malloc(sizeof *job);
    job->out = tp_future_new(tp_loop_current());
    job->form = form;
    tp_future *out = tp_future_ref(job->out);
    tp_future *f = tp_http_fetch_future(tp__auth_client(p), req);
    tp_future_add_done_callback(f, body_fetched, job);
    tp_future_unref(f);
    return out;
}

tp_future *tp__auth_fetch_json(tp_auth_provider *p, const tp_http_request *req)
{
    return tp__auth_fetch(p, req, false);
}

/* The endpoints of the discovery document, unless the settings override them. */
static void take_endpoint(char **field, const json_t *doc, const char *key)
{
    const char *v = json_string_value(json_object_get(doc, key));
    if (!*field && v)
        *field = tp_strndup(v, strlen(v));
}

static void discovered(tp_future *f, void *arg)
{
    tp_auth_provider *p = arg;
    tp_future *pending = p->discovery_pending;
    p->discovery_pending = NULL;
    json_t *doc = tp_future_error(f) ? NULL : tp_future_result(f);
    const char *iss = json_string_value(json_object_get(doc, "issuer"));
    if (!doc) {
        tp_future_set_error(pending, tp_future_error(f), "OpenID discovery: %s",
                            tp_future_error_message(f));
    } else if (!iss || (p->issuer && strcmp(iss, p->issuer))) {
        tp_future_set_error(pending, -EBADMSG, "OpenID discovery: issuer %s is not %s",
                            iss ? iss : "(none)", p->issuer ? p->issuer : "(none)");
    } else {
        json_decref(p->discovery);
        p->discovery = json_incref(doc);
        p->discovery_time = tp_loop_time(tp_loop_current());
        if (!p->issuer)
            p->issuer = tp_strndup(iss, strlen(iss));
        take_endpoint(&p->authorize_url, doc, "authorization_endpoint");
        take_endpoint(&p->token_url, doc, "token_endpoint");
        take_endpoint(&p->userinfo_url, doc, "userinfo_endpoint");
        take_endpoint(&p->jwks_url, doc, "jwks_uri");
        tp_future_set_result(pending, NULL, NULL);
    }
    tp_future_unref(pending);
    tp_auth_provider_free(p);
}

tp_future *tp__auth_discover(tp_auth_provider *p)
{
    tp_loop *loop = tp_loop_current();
    if (p->kind != TP_AUTH_OIDC ||
        (p->discovery && tp_loop_time(loop) - p->discovery_time < DISCOVERY_TTL)) {
        tp_future *done = tp_future_new(loop);
        tp_future_set_result(done, NULL, NULL);
        return done;
    }
    if (!p->discovery_pending) {
        tp_http_request req;
        tp__auth_request_init(p, &req, p->discovery_url);
        p->discovery_pending = tp_future_new(loop);
        tp_future *f = tp__auth_fetch_json(p, &req);
        tp_future_add_done_callback(f, discovered, tp__auth_provider_ref(p));
        tp_future_unref(f);
    }
    return tp_future_ref(p->discovery_pending);
}

static void jwks_fetched(tp_future *f, void *arg)
{
    tp_auth_provider *p = arg;
    json_t *set = tp_future_error(f) ? NULL : tp_future_result(f);
    if (set && json_is_array(json_object_get(set, "keys"))) {
        json_decref(p->jwks);
        p->jwks = json_incref(set);
    }
    tp_auth_provider_free(p);
}

tp_future *tp__auth_fetch_jwks(tp_auth_provider *p)
{
    if (!p->jwks_url) {
        tp_future *f = tp_future_new(tp_loop_current());
        tp_future_set_error(f, -EBADMSG, "OpenID provider %s has no jwks_uri", p->issuer);
        return f;
    }
    tp_http_request req;
    tp__auth_request_init(p, &req, p->jwks_url);
    tp_future *f = tp__auth_fetch_json(p, &req);
    tp_future_add_done_callback(f, jwks_fetched, tp__auth_provider_ref(p));
    return f;
}
