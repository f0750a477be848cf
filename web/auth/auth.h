/* tornado.auth in C: OAuth 2.0 sign-in (authorization code flow with state and PKCE) for
 * Google, GitHub, Facebook and any OpenID Connect provider (from its discovery document, ID
 * token verified), signed-cookie sessions for the signed-in user, and OAuth 1.0a (request
 * signing and OAuthMixin's flow). Outbound calls go through the HTTP client (http/client) on
 * the worker's loop and come back as futures a handler awaits (tp_handler_await). See
 * docs/auth.md. */
#ifndef TP_WEB_AUTH_AUTH_H
#define TP_WEB_AUTH_AUTH_H

#include "platform/api.h"

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/async/future.h"
#include "web/handler.h"

/* One name=value parameter (extra authorize parameters, OAuth 1 parameters). */
typedef struct tp_auth_param {
    const char *name;
    const char *value;
} tp_auth_param;

/* A provider's settings. Zero fields take the provider's defaults; every endpoint URL can be
 * overridden (tests point them at 127.0.0.1). Strings are copied by the constructor. */
typedef struct tp_oauth2_opts {
    const char *client_id;     /* required */
    const char *client_secret; /* required by Google, GitHub and Facebook; HS256 ID tokens */
    /* Where the provider sends the browser back. Absolute, or a path ("/auth/github") that
     * is joined to the request's protocol and Host; NULL: the request's own path. */
    const char *redirect_uri;
    const char *scope; /* space-separated; NULL = the provider's default */
    const char *authorize_url, *token_url, *userinfo_url; /* NULL = the provider's */
    /* OpenID Connect: the issuer; discovery is issuer + "/.well-known/openid-configuration"
     * unless discovery_url is set. The ID token's iss must equal issuer. */
    const char *issuer;
    const char *discovery_url;
    bool fetch_userinfo;     /* OIDC: also GET the userinfo endpoint (claims otherwise) */
    bool no_pkce;            /* leave PKCE out (providers that refuse code_challenge) */
    double leeway;           /* OIDC: seconds of clock skew allowed on exp/iat; 0 = 60 */
    const char *ca_certs;    /* PEM file of trusted CAs for the provider; NULL = system */
    double request_timeout;  /* seconds per call to the provider; 0 = 20 */
    const char *cookie_name; /* the signed state cookie; NULL = "tp_oauth_<provider>" */
    const char *user_agent;  /* NULL = "tornado-prefork-auth" (GitHub requires one) */
} tp_oauth2_opts;

/* A configured provider, shared by the requests of one worker (make it in the app's init,
 * which runs in the worker, after the fork). Reference-counted: a flow in progress holds a
 * reference, so tp_auth_provider_free may be called at any time (teardown). */
typedef struct tp_auth_provider tp_auth_provider;

/* Google (GoogleOAuth2Mixin's endpoints; scope "openid email profile"; the user is the
 * userinfo document). NULL with a log line when client_id is missing. */
TP_API tp_auth_provider *tp_auth_google_new(const tp_oauth2_opts *opts);
/* GitHub (login/oauth/authorize, login/oauth/access_token with Accept: application/json,
 * api.github.com/user with a User-Agent; scope "read:user"). NULL without client_id. */
TP_API tp_auth_provider *tp_auth_github_new(const tp_oauth2_opts *opts);
/* Facebook Graph API (FacebookGraphMixin: the token by GET, the user from /me with
 * appsecret_proof; scope "public_profile"). NULL without client_id. */
TP_API tp_auth_provider *tp_auth_facebook_new(const tp_oauth2_opts *opts);
/* A generic OpenID Connect provider: the discovery document is fetched on first use and
 * cached (an hour), its JWKS too (fetched again for an unknown kid). ID tokens must verify
 * (RS256 against the JWKS, or HS256 with the client secret; iss, aud, exp, iat, nonce).
 * NULL without client_id, or without issuer and discovery_url. */
TP_API tp_auth_provider *tp_auth_oidc_new(const tp_oauth2_opts *opts);
/* A plain OAuth 2.0 provider: authorize_url, token_url and (optional) userinfo_url. */
TP_API tp_auth_provider *tp_auth_oauth2_new(const char *name, const tp_oauth2_opts *opts);
/* Drops the caller's reference; the provider goes when no flow uses it any more. NULL ok. */
TP_API void tp_auth_provider_free(tp_auth_provider *p);

/* OAuth2Mixin.authorize_redirect: sets the signed state cookie (state, PKCE verifier, OIDC
 * nonce; 10 minutes, HttpOnly, SameSite=Lax) and redirects to the authorize URL with
 * client_id, redirect_uri, response_type=code, scope, state, code_challenge (S256) and the
 * extra parameters (n of them; may be NULL). Return its value from the method: TP_OK when
 * redirected; TP_AGAIN while an OIDC discovery document is fetched first (then it awaits
 * itself, and a failed discovery is a 500 with a log line); TP_ERROR without cookie_secret. */
TP_API int tp_auth_authorize_redirect(tp_handler *h, tp_auth_provider *p,
                                      const tp_auth_param *extra, size_t n);

/* OAuth2Mixin.get_authenticated_user for the redirect back: checks the state argument
 * against the state cookie before anything else (and clears the cookie), exchanges the code
 * at the token endpoint with the PKCE verifier, verifies the ID token (OIDC) and fetches the
 * user. The future's result is a json_t object (owned by the future: json_incref to keep
 * it): the user's fields plus "access_token" (and "id_token_claims" for OIDC). Its error
 * (tp_future_error_message says why): -EPERM for a forged or missing state or code (a
 * client error), -EACCES when the provider refused (error=access_denied...), -EBADMSG for a
 * bad answer (JSON, token, ID token), or the HTTP client's error. The caller owns the
 * reference; await it with tp_handler_await. Reads h only during this call. */
TP_API tp_future *tp_auth_get_authenticated_user(tp_handler *h, tp_auth_provider *p);

/* For an await callback whose sign-in future failed: a client error (-EPERM) answers 400
 * with a warning line (returns TP_OK); anything else returns TP_ERROR, which the await turns
 * into a 500 with the error logged (Tornado's AuthError). */
TP_API int tp_auth_fail(tp_handler *h, tp_future *f);

/* OAuth2Mixin.oauth2_request: GET url (or POST post_args when n > 0) with the access token
 * as a Bearer header; the future's result is the response's JSON (owned by the future), its
 * error -EBADMSG for a body that is not JSON or the HTTP client's. Caller owns the ref. */
TP_API tp_future *tp_auth_oauth2_request(tp_auth_provider *p, const char *url,
                                         const char *access_token, const tp_auth_param *post_args,
                                         size_t n);

/* ---- signed-cookie sessions ------------------------------------------------------------ */

/* Where the signed-in user is kept. NULL opts: cookie "tp_session", 30 days, HttpOnly,
 * SameSite=Lax, Secure on https requests. */
typedef struct tp_auth_session_opts {
    const char *cookie_name; /* NULL = "tp_session" */
    double max_age_days;     /* 0 = 30 */
} tp_auth_session_opts;

/* Stores user (any JSON value, serialized compactly) in a signed cookie (app cookie_secret).
 * 0, -EINVAL without a cookie_secret, or -EMSGSIZE past 2800 bytes of JSON (its signed cookie would
 * pass a browser's 4096 bytes). */
TP_API int tp_auth_session_set(tp_handler *h, const json_t *user, const tp_auth_session_opts *o);
/* The user stored by tp_auth_session_set, verified and within max age: a new reference the
 * caller json_decrefs, or NULL (no cookie, forged, expired, not JSON). */
TP_API json_t *tp_auth_session_get(tp_handler *h, const tp_auth_session_opts *o);
/* Clears the session cookie (signs the user out). 0 or tp_clear_cookie's error. */
TP_API int tp_auth_session_clear(tp_handler *h, const tp_auth_session_opts *o);

/* ---- OAuth 1.0a request signing ----------------------------------------------------------- */

/* Tornado's _oauth10a_signature (RFC 5849 HMAC-SHA1): base string METHOD&url&params with the
 * URL's scheme and host lowercased and its query left out (pass query parameters in params),
 * parameters sorted by name then value, RFC 3986 percent-encoding; key = encoded consumer
 * secret & encoded token secret (NULL: ""). The base64 signature, tp_malloc'd (tp_free). */
TP_API char *tp_oauth1_signature(const char *consumer_secret, const char *token_secret,
                                 const char *method, const char *url, const tp_auth_param *params,
                                 size_t n);
/* Tornado's _oauth_signature (OAuth 1.0): the same with the secrets not percent-encoded in
 * the key. tp_malloc'd. */
TP_API char *tp_oauth10_signature(const char *consumer_secret, const char *token_secret,
                                  const char *method, const char *url, const tp_auth_param *params,
                                  size_t n);
/* The RFC 5849 signature base string alone, tp_malloc'd (for logs and tests). */
TP_API char *tp_oauth1_base_string(const char *method, const char *url, const tp_auth_param *params,
                                   size_t n);

/* ---- the OAuth 1.0a sign-in flow (OAuthMixin) ------------------------------------------- */

/* An OAuth 1.0a provider's settings (Tornado's _OAUTH_* class attributes). Strings copied. */
typedef struct tp_oauth1_opts {
    const char *consumer_key, *consumer_secret;                       /* required */
    const char *request_token_url, *authorize_url, *access_token_url; /* required */
    /* oauth_callback: absolute, or a path joined to the request's protocol and Host; NULL:
     * the request's own path. */
    const char *callback_uri;
    /* GET, signed with the access token, whose JSON is the user (_oauth_get_user_future);
     * NULL: the user is the access token's extra fields (screen_name, user_id...). */
    const char *user_url;
    bool version_10;         /* OAuth 1.0 (no callback confirmation, no verifier) */
    const char *cookie_name; /* the signed request token cookie; NULL = "tp_oauth1_<name>" */
    const char *ca_certs, *user_agent;
    double request_timeout; /* seconds; 0 = 20 */
} tp_oauth1_opts;

typedef struct tp_oauth1_provider tp_oauth1_provider;

/* A provider for OAuthMixin's flow (name: logs and the cookie). NULL with a log line when a
 * required setting is missing. Reference-counted as tp_auth_provider. */
TP_API tp_oauth1_provider *tp_oauth1_provider_new(const char *name, const tp_oauth1_opts *o);
TP_API void tp_oauth1_provider_free(tp_oauth1_provider *p);
/* OAuthMixin.authorize_redirect: fetches a request token (a signed GET with oauth_callback),
 * keeps it in a signed cookie and redirects to authorize_url?oauth_token=... plus extra.
 * Returns TP_AGAIN (it awaits the fetch itself; a failed fetch is a 500 with a log line). */
TP_API int tp_oauth1_authorize_redirect(tp_handler *h, tp_oauth1_provider *p,
                                        const tp_auth_param *extra, size_t n);
/* OAuthMixin.get_authenticated_user: the oauth_token argument must match the request token
 * cookie (-EPERM otherwise; the cookie is cleared), then the access token is fetched (signed
 * with the request token and oauth_verifier) and the user (user_url). The future's result (a
 * json_t owned by the future): the user plus "access_token": {"key", "secret", and the
 * provider's extra fields}. Errors as tp_auth_get_authenticated_user's. Caller owns it. */
TP_API tp_future *tp_oauth1_get_authenticated_user(tp_handler *h, tp_oauth1_provider *p);
/* A request signed with the access token (Tornado's _oauth_request_parameters): GET with the
 * parameters in the query, or POST ("POST") with them as a form body. The future's result is
 * the JSON answer (owned by the future). Caller owns the reference. */
TP_API tp_future *tp_oauth1_request(tp_oauth1_provider *p, const char *method, const char *url,
                                    const tp_auth_param *args, size_t n, const char *token_key,
                                    const char *token_secret);

#endif
