/* web/auth's own helpers, shared by its files and the unit tests (not exported). */
#ifndef TP_WEB_AUTH_AUTH_INTERNAL_H
#define TP_WEB_AUTH_AUTH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/slice.h"
#include "http/client/client.h"
#include "web/auth/auth.h"

/* base64url without padding of n bytes; tp_malloc'd. */
char *tp__auth_b64url(const void *p, size_t n);
/* Decodes base64url (padding optional) and appends to out. 0 or -EINVAL. */
int tp__auth_b64url_decode(tp_slice s, tp_buf *out);
/* bytes random bytes (RAND_bytes) as base64url; tp_malloc'd. */
char *tp__auth_random_token(size_t bytes);
/* RFC 7636 S256: base64url(SHA-256(verifier)); tp_malloc'd. */
char *tp__auth_pkce_s256(const char *verifier);
/* Constant-time equality of two C strings (NULL equals nothing). */
bool tp__auth_streq_ct(const char *a, const char *b);

/* What an ID token must satisfy. jwks: a JWK set (RS256 keys), or NULL; hs_secret: the
 * client secret for HS256, or NULL. nonce NULL: not checked. */
typedef struct tp__jwt_check {
    const json_t *jwks;
    const char *hs_secret;
    const char *issuer;
    const char *audience;
    const char *nonce;
    double leeway;
    double now;
} tp__jwt_check;

/* Verifies a compact JWS (signature first, then the claims). 0 with *claims (a new
 * reference), -ENOKEY when its kid is not in jwks (fetch the set again), or -EBADMSG with
 * *why (tp_malloc'd) saying what failed. */
int tp__jwt_verify(const char *token, const tp__jwt_check *c, json_t **claims, char **why);

/* The provider's shape. */
enum tp__auth_kind {
    TP_AUTH_GENERIC,
    TP_AUTH_GOOGLE,
    TP_AUTH_GITHUB,
    TP_AUTH_FACEBOOK,
    TP_AUTH_OIDC
};

struct tp_auth_provider {
    int refs;
    enum tp__auth_kind kind;
    char *name;
    char *client_id, *client_secret, *redirect_uri, *scope;
    char *authorize_url, *token_url, *userinfo_url;
    char *issuer, *discovery_url, *ca_certs, *cookie_name, *user_agent;
    bool fetch_userinfo, pkce;
    double leeway, request_timeout;
    tp_http_client *client; /* made on first use, on the current loop */
    /* OIDC: the cached discovery document and JWKS, and the fetches in flight */
    json_t *discovery, *jwks;
    char *jwks_url;
    double discovery_time;
    tp_future *discovery_pending;
};

tp_auth_provider *tp__auth_provider_ref(tp_auth_provider *p);
/* The provider's HTTP client (made on first use). */
tp_http_client *tp__auth_client(tp_auth_provider *p);
/* A request with the provider's timeout, CA file and User-Agent. */
void tp__auth_request_init(tp_auth_provider *p, tp_http_request *req, const char *url);
/* A future done when the OIDC discovery document is loaded (at once when cached and fresh);
 * its error when the fetch failed. Caller owns the reference. */
tp_future *tp__auth_discover(tp_auth_provider *p);
/* A future of the JWK set fetched afresh (result owned by the provider). */
tp_future *tp__auth_fetch_jwks(tp_auth_provider *p);
/* Fetches url with req's settings and parses the body as JSON; the future's result is the
 * json_t (owned by the future). */
tp_future *tp__auth_fetch_json(tp_auth_provider *p, const tp_http_request *req);
/* The same, the body parsed as JSON or (form) as an urlencoded form of strings. */
tp_future *tp__auth_fetch(tp_auth_provider *p, const tp_http_request *req, bool form);
/* A new provider of kind with the defaults def (scope, authorize, token, userinfo URLs). */
tp_auth_provider *tp__auth_provider_new(enum tp__auth_kind kind, const char *name,
                                        const tp_oauth2_opts *o, const char *const def[4]);
/* The body of an application/x-www-form-urlencoded form of params; tp_malloc'd. */
char *tp__auth_form_encode(const tp_auth_param *params, size_t n);
/* The redirect_uri for this request: as set, or a path joined to its protocol and Host (the
 * request's own path when unset). Request arena or the provider's. */
const char *tp__auth_redirect_uri(tp_handler *h, tp_auth_provider *p);
/* Frees a json_t result of a future (a tp_free_fn). */
void tp__auth_json_free(void *v);
/* A future failed at once with code and msg; the caller owns it. */
tp_future *tp__auth_failed(int code, const char *msg);
/* A copy of n parameters in arena a (for a callback that runs after the method returned). */
tp_auth_param *tp__auth_params_dup(tp_arena *a, const tp_auth_param *p, size_t n);
/* RFC 3986 percent-encoding (unreserved kept) appended to out. */
void tp__auth_pct_encode(tp_buf *out, const char *s);

#endif
