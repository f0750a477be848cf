/* OAuth2Mixin.authorize_redirect: the state cookie (state, PKCE verifier, OIDC nonce) and the
 * redirect to the provider, after the OIDC discovery document when it is not cached yet. */
#include "web/auth/auth_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "http/cookie.h"

/* 10 minutes to sign in at the provider. */
#define STATE_MAX_AGE 600

typedef struct redirect_args {
    tp_auth_provider *p;
    tp_auth_param *extra;
    size_t n;
} redirect_args;

const char *tp__auth_redirect_uri(tp_handler *h, tp_auth_provider *p)
{
    tp_request *req = tp_handler_request(h);
    const char *r = p->redirect_uri;
    if (!r) /* back to this very path */
        return tp_arena_printf(tp_handler_arena(h), "%.*s://%.*s%.*s", TP_SLICE_FMT(req->protocol),
                               TP_SLICE_FMT(req->host), TP_SLICE_FMT(req->path));
    if (r[0] != '/')
        return r;
    return tp_arena_printf(tp_handler_arena(h), "%.*s://%.*s%s", TP_SLICE_FMT(req->protocol),
                           TP_SLICE_FMT(req->host), r);
}

static int set_state_cookie(tp_handler *h, tp_auth_provider *p, const char *state,
                            const char *verifier, const char *nonce)
{
    json_t *j = json_pack("{s:s, s:s?, s:s?}", "s", state, "v", verifier, "n", nonce);
    char *val = json_dumps(j, JSON_COMPACT);
    tp_cookie_attrs a = tp_cookie_attrs_default();
    a.max_age = STATE_MAX_AGE;
    a.httponly = true;
    a.samesite = "Lax"; /* sent on the provider's top-level redirect back, not on POSTs */
    a.secure = tp_slice_eq(tp_handler_request(h)->protocol, TP_SLICE_LIT("https"));
    a.expires = time(NULL) + STATE_MAX_AGE;
    int rc = tp_set_signed_cookie(h, p->cookie_name, val, &a);
    free(val);
    json_decref(j);
    return rc;
}

static void add_param(tp_buf *u, const char *name, const char *value)
{
    if (!value)
        return;
    tp_buf_append(u, "&", 1);
    tp__auth_pct_encode(u, name);
    tp_buf_append(u, "=", 1);
    tp__auth_pct_encode(u, value);
}

static int do_redirect(tp_handler *h, tp_auth_provider *p, const tp_auth_param *extra, size_t n)
{
    if (!p->authorize_url) {
        tp_log_error("auth: provider %s has no authorize URL", p->name);
        return TP_ERROR;
    }
    char *state = tp__auth_random_token(24);
    char *verifier = p->pkce ? tp__auth_random_token(32) : NULL;
    char *challenge = verifier ? tp__auth_pkce_s256(verifier) : NULL;
    char *nonce = p->kind == TP_AUTH_OIDC ? tp__auth_random_token(16) : NULL;
    int rc = set_state_cookie(h, p, state, verifier, nonce);
    if (rc < 0) {
        tp_log_error("auth: cannot set the state cookie (no cookie_secret?): %d", rc);
    } else {
        tp_buf u = {0};
        tp_buf_append_str(&u, p->authorize_url);
        tp_buf_append_str(&u, strchr(p->authorize_url, '?') ? "&" : "?");
        tp_buf_append_str(&u, "response_type=code");
        add_param(&u, "client_id", p->client_id);
        add_param(&u, "redirect_uri", tp__auth_redirect_uri(h, p));
        add_param(&u, "scope", p->scope);
        add_param(&u, "state", state);
        add_param(&u, "code_challenge", challenge);
        add_param(&u, "code_challenge_method", challenge ? "S256" : NULL);
        add_param(&u, "nonce", nonce);
        for (size_t i = 0; i < n; i++)
            add_param(&u, extra[i].name, extra[i].value);
        tp_buf_append(&u, "", 1);
        rc = tp_redirect(h, tp_buf_data(&u), false);
        tp_buf_free(&u);
    }
    tp_free(state);
    tp_free(verifier);
    tp_free(challenge);
    tp_free(nonce);
    return rc < 0 ? TP_ERROR : TP_OK;
}

static int discovered_then_redirect(tp_handler *h, tp_future *f, void *arg)
{
    redirect_args *ra = arg;
    if (tp_future_error(f))
        return TP_ERROR; /* 500, the discovery error in the log line */
    return do_redirect(h, ra->p, ra->extra, ra->n);
}

int tp_auth_authorize_redirect(tp_handler *h, tp_auth_provider *p, const tp_auth_param *extra,
                               size_t n)
{
    if (p->kind != TP_AUTH_OIDC || p->authorize_url)
        return do_redirect(h, p, extra, n);
    tp_arena *a = tp_handler_arena(h);
    redirect_args *ra = tp_arena_calloc(a, sizeof *ra);
    ra->p = p; /* the app's provider outlives its requests */
    ra->n = n;
    ra->extra = tp__auth_params_dup(a, extra, n);
    tp_future *f = tp__auth_discover(p);
    tp_handler_await(h, f, discovered_then_redirect, ra);
    tp_future_unref(f);
    return TP_AGAIN;
}

int tp_auth_fail(tp_handler *h, tp_future *f)
{
    if (tp_future_error(f) != -EPERM)
        return TP_ERROR;
    tp_http_error(h, 400, NULL, "sign-in refused: %s", tp_future_error_message(f));
    return TP_OK;
}
