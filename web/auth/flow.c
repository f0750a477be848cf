/* OAuth2Mixin.get_authenticated_user: the state checked against its cookie, then a chain of
 * futures: (OIDC discovery) -> code for token -> (ID token verified, JWKS fetched if needed)
 * -> the user fetched -> the result. The flow owns a provider reference and is freed in one
 * place (flow_end) when it completes or finds its future cancelled. */
#include "web/auth/auth_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/alloc.h"
#include "core/hex.h"
#include "core/log.h"
#include "core/loop.h"

typedef struct flow {
    tp_auth_provider *p;
    tp_future *out;
    char *code, *verifier, *nonce, *redirect_uri;
    json_t *token;  /* the token endpoint's answer */
    json_t *claims; /* OIDC: the verified ID token's claims */
    bool jwks_refetched;
} flow;

static void flow_end(flow *fl)
{
    tp_future_unref(fl->out);
    tp_auth_provider_free(fl->p);
    tp_free(fl->code);
    tp_free(fl->verifier);
    tp_free(fl->nonce);
    tp_free(fl->redirect_uri);
    json_decref(fl->token);
    json_decref(fl->claims);
    tp_free(fl);
}

static void flow_fail(flow *fl, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void flow_fail(flow *fl, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tp_future_set_error(fl->out, code, "%s", msg);
    flow_end(fl);
}

/* Runs the next step when f is done, unless the caller gave up (cancelled the result). */
static void then(flow *fl, tp_future *f, tp_future_fn fn)
{
    tp_future_add_done_callback(f, fn, fl);
    tp_future_unref(f);
}

/* The start of every step: false (and the flow ended) when the caller gave up on the result
 * (cancelled it) or when f failed (the result fails with f's error, prefixed by what). */
static bool step_ok(flow *fl, tp_future *f, const char *what)
{
    if (tp_future_done(fl->out)) {
        flow_end(fl);
        return false;
    }
    if (tp_future_error(f)) {
        flow_fail(fl, tp_future_error(f), "%s%s", what, tp_future_error_message(f));
        return false;
    }
    return true;
}

static char *dupstr(const char *s)
{
    return s ? tp_strndup(s, strlen(s)) : NULL;
}

/* ---- the last step: the result --------------------------------------------------------- */

static void finish(flow *fl, json_t *user)
{
    json_t *res = json_is_object(user) ? json_deep_copy(user) : json_object();
    if (fl->claims) {
        json_t *c = json_deep_copy(fl->claims);
        json_object_update_missing(res, c); /* userinfo's fields first, then the claims */
        json_decref(c);
        json_object_set(res, "id_token_claims", fl->claims);
    }
    static const char *const keep[] = {"access_token", "refresh_token", "expires_in"};
    for (size_t i = 0; i < 3; i++) {
        json_t *v = json_object_get(fl->token, keep[i]);
        if (v)
            json_object_set(res, keep[i], v);
    }
    tp_future_set_result(fl->out, res, tp__auth_json_free);
    flow_end(fl);
}

static void user_fetched(tp_future *f, void *arg)
{
    flow *fl = arg;
    if (!step_ok(fl, f, "user: "))
        return;
    json_t *user = tp_future_result(f);
    const char *sub = json_string_value(json_object_get(fl->claims, "sub"));
    const char *usub = json_string_value(json_object_get(user, "sub"));
    if (sub && usub && strcmp(sub, usub))
        return flow_fail(fl, -EBADMSG, "userinfo is for another subject than the ID token");
    finish(fl, user);
}

/* Facebook's appsecret_proof: hex HMAC-SHA256 of the token with the app secret. */
static void appsecret_proof(const char *secret, const char *token, char hex[65])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)token, strlen(token),
         mac, &len);
    tp_hex_encode(mac, len < 32 ? len : 32, hex);
}

static tp_future *fetch_facebook_user(flow *fl, const char *token)
{
    char proof[65] = "";
    if (fl->p->client_secret)
        appsecret_proof(fl->p->client_secret, token, proof);
    tp_auth_param q[] = {{"fields", "id,name,first_name,last_name,locale,picture,link"},
                         {"access_token", token},
                         {"appsecret_proof", fl->p->client_secret ? proof : NULL}};
    char *qs = tp__auth_form_encode(q, 3);
    tp_buf u = {0};
    tp_buf_appendf(&u, "%s%c%s", fl->p->userinfo_url, strchr(fl->p->userinfo_url, '?') ? '&' : '?',
                   qs);
    tp_buf_append(&u, "", 1);
    tp_http_request req;
    tp__auth_request_init(fl->p, &req, tp_buf_data(&u));
    tp_future *f = tp__auth_fetch_json(fl->p, &req);
    tp_buf_free(&u);
    tp_free(qs);
    return f;
}

static void fetch_user(flow *fl)
{
    tp_auth_provider *p = fl->p;
    const char *token = json_string_value(json_object_get(fl->token, "access_token"));
    bool want = p->userinfo_url && (p->kind != TP_AUTH_OIDC || p->fetch_userinfo);
    if (!want)
        return finish(fl, NULL);
    if (p->kind == TP_AUTH_FACEBOOK)
        return then(fl, fetch_facebook_user(fl, token), user_fetched);
    then(fl, tp_auth_oauth2_request(p, p->userinfo_url, token, NULL, 0), user_fetched);
}

/* ---- OIDC: the ID token ------------------------------------------------------------------- */

static void verify_id_token(flow *fl);

static void jwks_ready(tp_future *f, void *arg)
{
    flow *fl = arg;
    if (!step_ok(fl, f, "JWKS: "))
        return;
    verify_id_token(fl);
}

static void verify_id_token(flow *fl)
{
    tp_auth_provider *p = fl->p;
    const char *id_token = json_string_value(json_object_get(fl->token, "id_token"));
    if (!id_token)
        return flow_fail(fl, -EBADMSG, "the token endpoint sent no id_token");
    if (!p->jwks && !fl->jwks_refetched && p->jwks_url) {
        fl->jwks_refetched = true;
        return then(fl, tp__auth_fetch_jwks(p), jwks_ready);
    }
    tp__jwt_check c = {.jwks = p->jwks,
                       .hs_secret = p->client_secret,
                       .issuer = p->issuer,
                       .audience = p->client_id,
                       .nonce = fl->nonce,
                       .leeway = p->leeway,
                       .now = (double)time(NULL)};
    char *why = NULL;
    json_t *claims = NULL;
    int rc = tp__jwt_verify(id_token, &c, &claims, &why);
    if (rc == -ENOKEY && !fl->jwks_refetched) { /* a key rotated in since we fetched */
        fl->jwks_refetched = true;
        return then(fl, tp__auth_fetch_jwks(p), jwks_ready);
    }
    if (rc < 0) {
        flow_fail(fl, -EBADMSG, "%s", why ? why : "ID token: no key for its kid");
        tp_free(why);
        return;
    }
    fl->claims = claims;
    fetch_user(fl);
}

/* ---- the code for a token ----------------------------------------------------------------- */

static void token_fetched(tp_future *f, void *arg)
{
    flow *fl = arg;
    if (!step_ok(fl, f, "token: "))
        return;
    json_t *t = tp_future_result(f);
    if (json_object_get(t, "error"))
        return flow_fail(fl, -EACCES, "token: %s",
                         json_string_value(json_object_get(t, "error")) ?: "refused");
    if (!json_is_string(json_object_get(t, "access_token")))
        return flow_fail(fl, -EBADMSG, "token: no access_token in the answer");
    fl->token = json_incref(t);
    if (fl->p->kind == TP_AUTH_OIDC || json_object_get(t, "id_token"))
        return fl->p->kind == TP_AUTH_OIDC ? verify_id_token(fl) : fetch_user(fl);
    fetch_user(fl);
}

static void exchange_code(flow *fl)
{
    tp_auth_provider *p = fl->p;
    if (!p->token_url)
        return flow_fail(fl, TP_ERROR, "provider %s has no token URL", p->name);
    tp_auth_param form[] = {{"grant_type", "authorization_code"}, {"code", fl->code},
                            {"redirect_uri", fl->redirect_uri},   {"client_id", p->client_id},
                            {"client_secret", p->client_secret},  {"code_verifier", fl->verifier}};
    char *body = tp__auth_form_encode(form, 6);
    tp_arena a;
    tp_arena_init(&a, 512);
    tp_headers hdrs;
    tp_headers_init(&hdrs, &a);
    tp_headers_add(&hdrs, TP_SLICE_LIT("Accept"), TP_SLICE_LIT("application/json"));
    tp_buf u = {0};
    tp_buf_append_str(&u, p->token_url);
    if (p->kind == TP_AUTH_FACEBOOK) /* FacebookGraphMixin asks with GET */
        tp_buf_appendf(&u, "%c%s", strchr(p->token_url, '?') ? '&' : '?', body);
    tp_buf_append(&u, "", 1);
    tp_http_request req;
    tp__auth_request_init(p, &req, tp_buf_data(&u));
    req.headers = &hdrs;
    if (p->kind != TP_AUTH_FACEBOOK) {
        req.method = "POST";
        req.body = tp_slice_cstr(body);
    }
    tp_future *f = tp__auth_fetch_json(p, &req);
    tp_buf_free(&u);
    tp_arena_destroy(&a);
    tp_free(body);
    then(fl, f, token_fetched);
}

static void discovery_done(tp_future *f, void *arg)
{
    flow *fl = arg;
    if (!step_ok(fl, f, ""))
        return;
    exchange_code(fl);
}

/* ---- the state check and the start ------------------------------------------------------- */

tp_future *tp_auth_get_authenticated_user(tp_handler *h, tp_auth_provider *p)
{
    const char *err = tp_get_query_argument(h, "error", NULL);
    const char *cookie = tp_get_signed_cookie(h, p->cookie_name, 600.0 / 86400);
    json_t *st = cookie ? json_loads(cookie, 0, NULL) : NULL;
    const char *state = tp_get_query_argument(h, "state", NULL);
    const char *code = tp_get_query_argument(h, "code", NULL);
    tp_future *bad = NULL;
    if (!st)
        bad = tp__auth_failed(-EPERM, "OAuth state cookie missing, expired or forged");
    else if (!tp__auth_streq_ct(state, json_string_value(json_object_get(st, "s"))))
        bad = tp__auth_failed(-EPERM, "OAuth state mismatch (a forged or stale sign-in)");
    else if (err) { /* a refusal counts only from the browser that asked (its state) */
        char msg[256];
        snprintf(msg, sizeof msg, "the provider refused: %.200s", err);
        bad = tp__auth_failed(-EACCES, msg);
    } else if (!code || !*code)
        bad = tp__auth_failed(-EPERM, "OAuth redirect without a code");
    tp_clear_cookie(h, p->cookie_name, "/", NULL); /* one use */
    if (bad) {
        json_decref(st);
        return bad;
    }
    flow *fl = tp_calloc(1, sizeof *fl);
    fl->p = tp__auth_provider_ref(p);
    fl->out = tp_future_new(tp_loop_current());
    fl->code = dupstr(code);
    fl->verifier = dupstr(json_string_value(json_object_get(st, "v")));
    fl->nonce = dupstr(json_string_value(json_object_get(st, "n")));
    fl->redirect_uri = dupstr(tp__auth_redirect_uri(h, p));
    json_decref(st);
    tp_future *out = tp_future_ref(fl->out);
    then(fl, tp__auth_discover(p), discovery_done);
    return out;
}

tp_future *tp_auth_oauth2_request(tp_auth_provider *p, const char *url, const char *access_token,
                                  const tp_auth_param *post_args, size_t n)
{
    tp_arena a;
    tp_arena_init(&a, 512);
    tp_headers hdrs;
    tp_headers_init(&hdrs, &a);
    tp_headers_add(&hdrs, TP_SLICE_LIT("Accept"), TP_SLICE_LIT("application/json"));
    if (access_token)
        tp_headers_add(&hdrs, TP_SLICE_LIT("Authorization"),
                       tp_slice_cstr(tp_arena_printf(&a, "Bearer %s", access_token)));
    char *body = n ? tp__auth_form_encode(post_args, n) : NULL;
    tp_http_request req;
    tp__auth_request_init(p, &req, url);
    req.headers = &hdrs;
    if (body) {
        req.method = "POST";
        req.body = tp_slice_cstr(body);
    }
    tp_future *f = tp__auth_fetch_json(p, &req);
    tp_free(body);
    tp_arena_destroy(&a);
    return f;
}
