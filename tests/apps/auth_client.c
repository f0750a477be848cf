/* The app the auth black-box tests sign in to (build/tests/auth_client), through web/auth
 * against the fake provider at AUTH_IDP ("http://127.0.0.1:PORT", tests/apps/fake_idp.c):
 *
 *   /login/P      tp_auth_authorize_redirect for provider P
 *   /callback/P   tp_auth_get_authenticated_user; on success the session cookie is set and
 *                 the user JSON is the answer; a refused sign-in is 400 or 500 (tp_auth_fail)
 *   /me           the session's user as JSON, or 403
 *   /logout       clears the session
 *
 * P: oidc (discovery, userinfo fetched), oidc-claims (the ID token's claims only), github,
 * google, facebook, each with every endpoint on the fake provider; dead (a token endpoint
 * nobody answers on); and oauth1 (OAuth 1.0a, tp_oauth1_*). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp.h"

enum { OIDC, OIDC_CLAIMS, GITHUB, GOOGLE, FACEBOOK, DEAD, NPROV };
static const char *const names[NPROV] = {"oidc",   "oidc-claims", "github",
                                         "google", "facebook",    "dead"};
static tp_auth_provider *provs[NPROV];

static tp_auth_provider *provider_of(tp_handler *h)
{
    return provs[(intptr_t)tp_handler_route_data(h)];
}

static int login_get(tp_handler *h)
{
    return tp_auth_authorize_redirect(h, provider_of(h), NULL, 0);
}

static int signed_in(tp_handler *h, tp_future *f, void *arg)
{
    (void)arg;
    if (tp_future_error(f))
        return tp_auth_fail(h, f);
    json_t *user = tp_future_result(f);
    json_t *who = json_pack("{s:s,s:O?}", "provider", names[(intptr_t)tp_handler_route_data(h)],
                            "name", json_object_get(user, "name"));
    int rc = tp_auth_session_set(h, who, NULL);
    json_decref(who);
    if (rc < 0)
        return TP_ERROR;
    return tp_write_json(h, user) < 0 ? TP_ERROR : TP_OK;
}

static int callback_get(tp_handler *h)
{
    tp_future *f = tp_auth_get_authenticated_user(h, provider_of(h));
    tp_handler_await(h, f, signed_in, NULL);
    tp_future_unref(f);
    return TP_AGAIN;
}

static int me_get(tp_handler *h)
{
    json_t *who = tp_auth_session_get(h, NULL);
    if (!who)
        return tp_send_error(h, 403), TP_OK;
    tp_write_json(h, who);
    json_decref(who);
    return TP_OK;
}

/* /session?bytes=N: a session holding a string of N bytes; 413 when it is too large. */
static int session_get(tp_handler *h)
{
    size_t n = (size_t)atol(tp_get_argument(h, "bytes", "10"));
    char *big = tp_calloc(1, n + 1);
    memset(big, 'x', n);
    json_t *who = json_pack("{s:s}", "name", big);
    tp_free(big);
    int rc = tp_auth_session_set(h, who, NULL);
    json_decref(who);
    if (rc == -EMSGSIZE)
        return tp_send_error(h, 413), TP_OK;
    return rc < 0 ? TP_ERROR : TP_OK;
}

static int logout_get(tp_handler *h)
{
    tp_auth_session_clear(h, NULL);
    return tp_write_str(h, "bye");
}

/* ---- OAuth 1.0a ---- */

static tp_oauth1_provider *oauth1;

static int login1_get(tp_handler *h)
{
    return tp_oauth1_authorize_redirect(h, oauth1, NULL, 0);
}

static int signed_in1(tp_handler *h, tp_future *f, void *arg)
{
    (void)arg;
    if (tp_future_error(f))
        return tp_auth_fail(h, f);
    json_t *user = tp_future_result(f);
    json_t *who =
        json_pack("{s:s,s:O?}", "provider", "oauth1", "name", json_object_get(user, "name"));
    int rc = tp_auth_session_set(h, who, NULL);
    json_decref(who);
    return rc < 0 || tp_write_json(h, user) < 0 ? TP_ERROR : TP_OK;
}

static int callback1_get(tp_handler *h)
{
    tp_future *f = tp_oauth1_get_authenticated_user(h, oauth1);
    tp_handler_await(h, f, signed_in1, NULL);
    tp_future_unref(f);
    return TP_AGAIN;
}

static const tp_handler_class login1_cls = {.name = "Login1", .get = login1_get};
static const tp_handler_class callback1_cls = {.name = "Callback1", .get = callback1_get};

static int oauth1_init(tp_app *app, const char *idp)
{
    char rt[256], authz[256], at[256], user[256];
    snprintf(rt, sizeof rt, "%s/oauth1/request_token", idp);
    snprintf(authz, sizeof authz, "%s/oauth1/authorize", idp);
    snprintf(at, sizeof at, "%s/oauth1/access_token", idp);
    snprintf(user, sizeof user, "%s/oauth1/user", idp);
    tp_oauth1_opts o = {.consumer_key = "client1",
                        .consumer_secret = "secret1",
                        .request_token_url = rt,
                        .authorize_url = authz,
                        .access_token_url = at,
                        .callback_uri = "/callback/oauth1",
                        .user_url = user};
    if (!(oauth1 = tp_oauth1_provider_new("fake1", &o)))
        return -1;
    if (tp_app_route(app, "/login/oauth1", &login1_cls, NULL) < 0 ||
        tp_app_route(app, "/callback/oauth1", &callback1_cls, NULL) < 0)
        return -1;
    return 0;
}

static const tp_handler_class login_cls = {.name = "Login", .get = login_get};
static const tp_handler_class callback_cls = {.name = "Callback", .get = callback_get};
static const tp_handler_class me_cls = {.name = "Me", .get = me_get};
static const tp_handler_class logout_cls = {.name = "Logout", .get = logout_get};
static const tp_handler_class session_cls = {.name = "Session", .get = session_get};

static tp_auth_provider *make(int i, const char *idp)
{
    char redirect[64], authz[256], token[256], user[256];
    snprintf(redirect, sizeof redirect, "/callback/%s", names[i]);
    snprintf(authz, sizeof authz, "%s/authorize", idp);
    snprintf(token, sizeof token, "%s/token", idp);
    tp_oauth2_opts o = {
        .client_id = "client1", .client_secret = "secret1", .redirect_uri = redirect};
    switch (i) {
    case OIDC:
    case OIDC_CLAIMS:
        o.issuer = idp;
        o.fetch_userinfo = i == OIDC;
        o.cookie_name = i == OIDC ? "oidc_state" : "oidc_claims_state";
        return tp_auth_oidc_new(&o);
    case GITHUB:
        snprintf(user, sizeof user, "%s/github/user", idp);
        o.authorize_url = authz, o.token_url = token, o.userinfo_url = user;
        return tp_auth_github_new(&o);
    case GOOGLE:
        snprintf(user, sizeof user, "%s/google/userinfo", idp);
        o.authorize_url = authz, o.token_url = token, o.userinfo_url = user;
        return tp_auth_google_new(&o);
    case DEAD: /* GitHub's shape, its token endpoint on a port nobody listens on */
        o.authorize_url = authz, o.token_url = "http://127.0.0.1:1/token";
        return tp_auth_github_new(&o);
    default:
        snprintf(user, sizeof user, "%s/fb/me", idp);
        o.authorize_url = authz, o.token_url = token, o.userinfo_url = user;
        return tp_auth_facebook_new(&o);
    }
}

static int client_init(tp_app *app)
{
    const char *idp = getenv("AUTH_IDP");
    if (!idp) {
        tp_log_error("auth_client: AUTH_IDP must name the provider (http://127.0.0.1:PORT)");
        return -1;
    }
    tp_app_settings_of(app)->cookie_secret =
        (tp_secret){.secret = TP_SLICE_LIT("auth-client-test-secret")};
    for (intptr_t i = 0; i < NPROV; i++) {
        char login[64], cb[64];
        snprintf(login, sizeof login, "/login/%s", names[i]);
        snprintf(cb, sizeof cb, "/callback/%s", names[i]);
        if (!(provs[i] = make((int)i, idp)) ||
            tp_app_route(app, login, &login_cls, (void *)i) < 0 ||
            tp_app_route(app, cb, &callback_cls, (void *)i) < 0)
            return -1;
    }
    if (oauth1_init(app, idp) < 0 || tp_app_route(app, "/me", &me_cls, NULL) < 0 ||
        tp_app_route(app, "/logout", &logout_cls, NULL) < 0 ||
        tp_app_route(app, "/session", &session_cls, NULL) < 0)
        return -1;
    return 0;
}

static void client_teardown(tp_app *app)
{
    (void)app;
    for (int i = 0; i < NPROV; i++)
        tp_auth_provider_free(provs[i]);
    tp_oauth1_provider_free(oauth1);
}

TP_APP("auth_client", client_init, client_teardown);
