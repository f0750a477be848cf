/* A fake OAuth 2.0 / OpenID Connect provider for the auth black-box tests
 * (build/tests/fake_idp), written with our own server. Its RSA key is the PEM file named by
 * FAKE_IDP_KEY (made by the test with the openssl CLI); its one client is "client1" with the
 * secret "secret1". The issuer is "http://" + the request's Host.
 *
 *   GET  /.well-known/openid-configuration   the discovery document
 *   GET  /jwks                                the public key as a JWK set (kid "k1")
 *   GET  /authorize?...&mode=M                302 back to redirect_uri with code and state
 *   POST /token (GET for Facebook's shape)    code for tokens: the client secret checked, the
 *                                             code single-use, the PKCE verifier checked; JSON
 *                                             only with Accept: application/json (GitHub's way)
 *   GET  /userinfo, /google/userinfo          the user (Bearer token)
 *   GET  /github/user                         GitHub's shape (needs a User-Agent)
 *   GET  /fb/me?access_token&appsecret_proof  Facebook's shape
 *   GET  /oauth1/request_token, /oauth1/authorize, /oauth1/access_token, /oauth1/user
 *                                             OAuth 1.0a, every call's HMAC-SHA1 signature
 *                                             checked; request tokens and verifiers single-use
 *
 * mode (added to the authorize URL by the test) shapes the ID token: "tamper" (payload
 * changed after signing), "none" (alg none), "aud" (another audience), "expired", "hs256"
 * (signed with the client secret), "nonce" (another nonce); "deny" redirects with
 * error=access_denied; "rotate" signs with a second key (kid "k2") that the JWKS publishes
 * from then on; "slow" makes the token endpoint answer after 2 s; "badjson" makes it
 * answer a cut JSON document. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "tp.h"

#define CLIENT_ID     "client1"
#define CLIENT_SECRET "secret1"
#define MAX_CODES     256

typedef struct grant {
    char code[33], token[40];
    char *redirect_uri, *challenge, *nonce, *mode;
    bool used;
} grant;

static EVP_PKEY *key, *key2; /* key2: made and published at the rotation */
static bool rotated;
static grant grants[MAX_CODES];
static size_t ngrants;

static char *b64url(const void *p, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    int len = EVP_EncodeBlock((unsigned char *)out, p, (int)n);
    while (len > 0 && out[len - 1] == '=')
        len--;
    out[len] = '\0';
    for (char *c = out; *c; c++)
        *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
    return out;
}

static char *dupz(const char *s)
{
    return s ? strdup(s) : NULL;
}

static const char *issuer(tp_handler *h)
{
    tp_request *r = tp_handler_request(h);
    return tp_arena_printf(tp_handler_arena(h), "http://%.*s", TP_SLICE_FMT(r->host));
}

static int send_json(tp_handler *h, int status, json_t *j)
{
    tp_set_status(h, status, NULL);
    tp_set_header(h, "Content-Type", "application/json");
    tp_write_json(h, j);
    json_decref(j);
    return TP_OK;
}

static int discovery_get(tp_handler *h)
{
    const char *iss = issuer(h);
    tp_arena *a = tp_handler_arena(h);
    return send_json(h, 200,
                     json_pack("{s:s,s:s,s:s,s:s,s:s,s:[s],s:[s,s],s:[s]}", "issuer", iss,
                               "authorization_endpoint", tp_arena_printf(a, "%s/authorize", iss),
                               "token_endpoint", tp_arena_printf(a, "%s/token", iss),
                               "userinfo_endpoint", tp_arena_printf(a, "%s/userinfo", iss),
                               "jwks_uri", tp_arena_printf(a, "%s/jwks", iss),
                               "response_types_supported", "code",
                               "id_token_signing_alg_values_supported", "RS256", "HS256",
                               "code_challenge_methods_supported", "S256"));
}

static char *key_param(EVP_PKEY *k, const char *name)
{
    BIGNUM *bn = NULL;
    unsigned char buf[1024];
    EVP_PKEY_get_bn_param(k, name, &bn);
    int n = BN_bn2bin(bn, buf);
    BN_free(bn);
    return b64url(buf, (size_t)n);
}

static json_t *jwk(EVP_PKEY *k, const char *kid)
{
    char *n = key_param(k, OSSL_PKEY_PARAM_RSA_N), *e = key_param(k, OSSL_PKEY_PARAM_RSA_E);
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "kty", "RSA", "kid", kid, "use", "sig",
                          "alg", "RS256", "n", n, "e", e);
    free(n);
    free(e);
    return j;
}

/* k1; and k2 once a token was signed with it (mode "rotate": a key rotation). */
static int jwks_get(tp_handler *h)
{
    json_t *keys = json_array();
    json_array_append_new(keys, jwk(key, "k1"));
    if (rotated)
        json_array_append_new(keys, jwk(key2, "k2"));
    return send_json(h, 200, json_pack("{s:o}", "keys", keys));
}

static int authorize_get(tp_handler *h)
{
    const char *client = tp_get_argument(h, "client_id", ""),
               *redirect = tp_get_argument(h, "redirect_uri", NULL),
               *state = tp_get_argument(h, "state", ""), *mode = tp_get_argument(h, "mode", "");
    if (strcmp(client, CLIENT_ID) || !redirect || ngrants == MAX_CODES)
        return tp_http_error(h, 400, NULL, "bad authorize request"), TP_OK;
    const char *sep = strchr(redirect, '?') ? "&" : "?";
    tp_arena *a = tp_handler_arena(h);
    tp_slice st = tp_url_escape(a, tp_slice_cstr(state), false);
    if (!strcmp(mode, "deny"))
        return tp_redirect(h,
                           tp_arena_printf(a, "%s%serror=access_denied&state=%.*s", redirect, sep,
                                           TP_SLICE_FMT(st)),
                           false),
               TP_OK;
    grant *g = &grants[ngrants++];
    unsigned char rnd[16];
    RAND_bytes(rnd, sizeof rnd);
    for (int i = 0; i < 16; i++)
        sprintf(g->code + 2 * i, "%02x", rnd[i]);
    memcpy(g->token, "at-", 3);
    memcpy(g->token + 3, g->code, sizeof g->code);
    g->redirect_uri = dupz(redirect);
    g->challenge = dupz(tp_get_argument(h, "code_challenge", NULL));
    g->nonce = dupz(tp_get_argument(h, "nonce", NULL));
    g->mode = dupz(mode);
    return tp_redirect(h,
                       tp_arena_printf(a, "%s%scode=%s&state=%.*s", redirect, sep, g->code,
                                       TP_SLICE_FMT(st)),
                       false),
           TP_OK;
}

static char *sign_jwt(const char *alg, json_t *claims, const char *mode)
{
    bool k2 = !strcmp(mode, "rotate");
    if (k2 && !key2)
        key2 = EVP_RSA_gen(2048); /* made on first use: keygen is slow on a loaded machine */
    rotated = rotated || k2;
    json_t *hd = json_pack("{s:s,s:s}", "alg", alg, "kid", k2 ? "k2" : "k1");
    char *hs = json_dumps(hd, JSON_COMPACT), *ps = json_dumps(claims, JSON_COMPACT);
    char *h64 = b64url(hs, strlen(hs)), *p64 = b64url(ps, strlen(ps));
    size_t n = strlen(h64) + strlen(p64) + 2;
    char *input = malloc(n);
    snprintf(input, n, "%s.%s", h64, p64);
    unsigned char sig[1024];
    size_t siglen = 0;
    if (!strcmp(alg, "RS256")) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        siglen = sizeof sig;
        EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k2 ? key2 : key);
        EVP_DigestSign(md, sig, &siglen, (unsigned char *)input, strlen(input));
        EVP_MD_CTX_free(md);
    } else if (!strcmp(alg, "HS256")) {
        unsigned int l = 0;
        HMAC(EVP_sha256(), CLIENT_SECRET, (int)strlen(CLIENT_SECRET), (unsigned char *)input,
             strlen(input), sig, &l);
        siglen = l;
    }
    if (!strcmp(mode, "tamper")) { /* another payload, the signature kept */
        json_object_set_new(claims, "sub", json_string("admin"));
        free(p64);
        free(ps);
        ps = json_dumps(claims, JSON_COMPACT);
        p64 = b64url(ps, strlen(ps));
    }
    char *s64 = b64url(sig, siglen);
    size_t tn = strlen(h64) + strlen(p64) + strlen(s64) + 3;
    char *tok = malloc(tn);
    snprintf(tok, tn, "%s.%s.%s", h64, p64, s64);
    free(hs), free(ps), free(h64), free(p64), free(s64), free(input);
    json_decref(hd);
    return tok;
}

static char *id_token(tp_handler *h, const grant *g)
{
    long now = (long)time(NULL);
    const char *m = g->mode;
    json_t *c = json_pack("{s:s,s:s,s:s,s:I,s:I,s:s,s:s}", "iss", issuer(h), "sub", "user-42",
                          "aud", !strcmp(m, "aud") ? "someone-else" : CLIENT_ID, "exp",
                          (json_int_t)(!strcmp(m, "expired") ? now - 3600 : now + 600), "iat",
                          (json_int_t)(!strcmp(m, "expired") ? now - 7200 : now), "email",
                          "ada@example.com", "name", "Ada Lovelace");
    if (g->nonce)
        json_object_set_new(c, "nonce", json_string(!strcmp(m, "nonce") ? "other" : g->nonce));
    const char *alg = !strcmp(m, "none") ? "none" : !strcmp(m, "hs256") ? "HS256" : "RS256";
    char *t = sign_jwt(alg, c, m);
    json_decref(c);
    return t;
}

static int token_error(tp_handler *h, const char *err)
{
    tp_log_warning("fake_idp: token refused: %s", err);
    return send_json(h, 400, json_pack("{s:s}", "error", err));
}

static bool pkce_ok(const grant *g, const char *verifier)
{
    if (!g->challenge)
        return true;
    if (!verifier)
        return false;
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)verifier, strlen(verifier), md);
    char *c = b64url(md, sizeof md);
    bool ok = !strcmp(c, g->challenge);
    free(c);
    return ok;
}

static int token_answer(tp_handler *h)
{
    const char *code = tp_get_argument(h, "code", ""),
               *secret = tp_get_argument(h, "client_secret", ""),
               *redirect = tp_get_argument(h, "redirect_uri", "");
    grant *g = NULL;
    for (size_t i = 0; i < ngrants; i++)
        if (!strcmp(grants[i].code, code))
            g = &grants[i];
    if (!g)
        return token_error(h, "invalid_grant");
    if (g->used)
        return token_error(h, "invalid_grant: code already used");
    g->used = true; /* single use, whatever happens next */
    if (strcmp(tp_get_argument(h, "client_id", ""), CLIENT_ID) || strcmp(secret, CLIENT_SECRET))
        return token_error(h, "invalid_client");
    if (strcmp(redirect, g->redirect_uri))
        return token_error(h, "invalid_grant: redirect_uri differs");
    if (!pkce_ok(g, tp_get_argument(h, "code_verifier", NULL)))
        return token_error(h, "invalid_grant: PKCE verifier mismatch");
    if (!strcmp(g->mode, "badjson")) {
        tp_set_header(h, "Content-Type", "application/json");
        return tp_write_str(h, "{\"access_token\": \"at-"), TP_OK; /* cut short */
    }
    tp_slice accept = tp_headers_get(&tp_handler_request(h)->headers, TP_SLICE_LIT("Accept"));
    if (!accept.p || !memmem(accept.p, accept.n, "application/json", 16)) {
        tp_writef(h, "access_token=%s&token_type=bearer", g->token); /* GitHub's default */
        return TP_OK;
    }
    char *idt = id_token(h, g);
    json_t *j = json_pack("{s:s,s:s,s:i,s:s}", "access_token", g->token, "token_type", "Bearer",
                          "expires_in", 3600, "id_token", idt);
    free(idt);
    return send_json(h, 200, j);
}

static bool bearer_ok(tp_handler *h)
{
    tp_slice auth = tp_headers_get(&tp_handler_request(h)->headers, TP_SLICE_LIT("Authorization"));
    const char *tok = tp_get_argument(h, "access_token", NULL);
    if (auth.p && auth.n > 7 && !strncmp(auth.p, "Bearer ", 7))
        tok = tp_arena_strndup(tp_handler_arena(h), auth.p + 7, auth.n - 7);
    for (size_t i = 0; tok && i < ngrants; i++)
        if (grants[i].used && !strcmp(grants[i].token, tok))
            return true;
    return false;
}

static int token_after_sleep(tp_handler *h, tp_future *f, void *arg)
{
    (void)f, (void)arg;
    tp_log_warning("fake_idp: slow token answered");
    return token_answer(h);
}

/* mode "slow": the token endpoint answers after 2 s (the client may leave meanwhile). */
static int token_post(tp_handler *h)
{
    const char *code = tp_get_argument(h, "code", "");
    for (size_t i = 0; i < ngrants; i++) {
        if (!strcmp(grants[i].code, code) && !strcmp(grants[i].mode, "slow") && !grants[i].used) {
            tp_log_warning("fake_idp: slow token answer");
            tp_future *f = tp_sleep(tp_loop_current(), 2.0);
            tp_handler_await(h, f, token_after_sleep, NULL);
            tp_future_unref(f);
            return TP_AGAIN;
        }
    }
    return token_answer(h);
}

static int userinfo_get(tp_handler *h)
{
    if (!bearer_ok(h))
        return send_json(h, 401, json_pack("{s:s}", "error", "invalid_token"));
    return send_json(h, 200,
                     json_pack("{s:s,s:s,s:s,s:b}", "sub", "user-42", "email", "ada@example.com",
                               "name", "Ada Lovelace", "email_verified", 1));
}

static int google_userinfo_get(tp_handler *h)
{
    if (!bearer_ok(h))
        return send_json(h, 401, json_pack("{s:s}", "error", "invalid_token"));
    return send_json(h, 200,
                     json_pack("{s:s,s:s,s:s}", "id", "1234567890", "email", "grace@example.com",
                               "name", "Grace Hopper"));
}

static int github_user_get(tp_handler *h)
{
    tp_slice ua = tp_headers_get(&tp_handler_request(h)->headers, TP_SLICE_LIT("User-Agent"));
    if (!ua.p || !ua.n) /* GitHub's API refuses requests without one */
        return send_json(h, 403, json_pack("{s:s}", "message", "User-Agent required"));
    if (!bearer_ok(h))
        return send_json(h, 401, json_pack("{s:s}", "message", "Bad credentials"));
    return send_json(
        h, 200,
        json_pack("{s:s,s:i,s:s}", "login", "octocat", "id", 583231, "name", "The Octocat"));
}

static int fb_me_get(tp_handler *h)
{
    const char *tok = tp_get_argument(h, "access_token", ""),
               *proof = tp_get_argument(h, "appsecret_proof", "");
    unsigned char mac[32];
    unsigned int l = 0;
    char hex[65] = "";
    HMAC(EVP_sha256(), CLIENT_SECRET, (int)strlen(CLIENT_SECRET), (const unsigned char *)tok,
         strlen(tok), mac, &l);
    for (unsigned i = 0; i < l; i++)
        sprintf(hex + 2 * i, "%02x", mac[i]);
    if (!bearer_ok(h) || strcmp(proof, hex))
        return send_json(h, 400, json_pack("{s:{s:s}}", "error", "message", "bad proof"));
    return send_json(h, 200,
                     json_pack("{s:s,s:s,s:s}", "id", "10001", "name", "Margaret Hamilton",
                               "first_name", "Margaret"));
}

/* ---- OAuth 1.0a ----------------------------------------------------------------------- */

typedef struct token1 {
    char rt[40], rts[40], verifier[40], at[40], ats[40];
    char *callback;
    bool used;
} token1;

static token1 tokens1[MAX_CODES];
static size_t ntokens1;

static void random_hex(char *out, const char *prefix)
{
    unsigned char rnd[12];
    RAND_bytes(rnd, sizeof rnd);
    size_t n = strlen(prefix);
    memcpy(out, prefix, n);
    for (int i = 0; i < 12; i++)
        sprintf(out + n + 2 * i, "%02x", rnd[i]);
}

/* The request's HMAC-SHA1 signature (its query parameters, this URL) checked with the
 * consumer secret and token_secret. */
static bool oauth1_signed(tp_handler *h, const char *token_secret)
{
    const char *names[64];
    tp_auth_param params[64];
    size_t n = tp_argument_names(h, TP_ARGS_QUERY, names, 64), k = 0;
    const char *sig = NULL;
    for (size_t i = 0; i < n && i < 64; i++) {
        const char *v = tp_get_argument_ex(h, TP_ARGS_QUERY, names[i], "", TP_ARG_NO_STRIP);
        if (!strcmp(names[i], "oauth_signature"))
            sig = v;
        else
            params[k++] = (tp_auth_param){names[i], v};
    }
    tp_request *r = tp_handler_request(h);
    const char *url =
        tp_arena_printf(tp_handler_arena(h), "%s%.*s", issuer(h), TP_SLICE_FMT(r->path));
    char *want = tp_oauth1_signature(CLIENT_SECRET, token_secret, "GET", url, params, k);
    bool ok = sig && !strcmp(want, sig) &&
              !strcmp(tp_get_argument(h, "oauth_consumer_key", ""), CLIENT_ID);
    tp_free(want);
    if (!ok)
        tp_log_warning("fake_idp: bad OAuth 1 signature");
    return ok;
}

static token1 *token1_find(const char *arg_token, bool access)
{
    for (size_t i = 0; arg_token && i < ntokens1; i++)
        if (!strcmp(access ? tokens1[i].at : tokens1[i].rt, arg_token))
            return &tokens1[i];
    return NULL;
}

static int request_token_get(tp_handler *h)
{
    const char *cb = tp_get_argument(h, "oauth_callback", NULL);
    if (!oauth1_signed(h, "") || !cb || ntokens1 == MAX_CODES)
        return tp_http_error(h, 401, NULL, "bad request token request"), TP_OK;
    token1 *t = &tokens1[ntokens1++];
    random_hex(t->rt, "rt-"), random_hex(t->rts, "rts-"), random_hex(t->verifier, "v-");
    t->callback = strdup(cb);
    tp_writef(h, "oauth_token=%s&oauth_token_secret=%s&oauth_callback_confirmed=true", t->rt,
              t->rts);
    return TP_OK;
}

static int authorize1_get(tp_handler *h)
{
    token1 *t = token1_find(tp_get_argument(h, "oauth_token", NULL), false);
    if (!t)
        return tp_http_error(h, 400, NULL, "unknown request token"), TP_OK;
    return tp_redirect(h,
                       tp_arena_printf(tp_handler_arena(h), "%s%soauth_token=%s&oauth_verifier=%s",
                                       t->callback, strchr(t->callback, '?') ? "&" : "?", t->rt,
                                       t->verifier),
                       false),
           TP_OK;
}

static int access_token_get(tp_handler *h)
{
    token1 *t = token1_find(tp_get_argument(h, "oauth_token", NULL), false);
    if (!t || t->used || !oauth1_signed(h, t->rts) ||
        strcmp(tp_get_argument(h, "oauth_verifier", ""), t->verifier)) {
        tp_log_warning("fake_idp: access token refused%s", t && t->used ? ": token used" : "");
        return tp_http_error(h, 401, NULL, "access token refused"), TP_OK;
    }
    t->used = true;
    random_hex(t->at, "at1-"), random_hex(t->ats, "ats1-");
    tp_writef(h, "oauth_token=%s&oauth_token_secret=%s&screen_name=ada&user_id=7", t->at, t->ats);
    return TP_OK;
}

static int user1_get(tp_handler *h)
{
    token1 *t = token1_find(tp_get_argument(h, "oauth_token", NULL), true);
    if (!t || !oauth1_signed(h, t->ats))
        return send_json(h, 401, json_pack("{s:s}", "error", "bad signature"));
    return send_json(
        h, 200, json_pack("{s:s,s:i,s:s}", "screen_name", "ada", "id", 7, "name", "Ada Lovelace"));
}

static const tp_handler_class discovery_cls = {.name = "Discovery", .get = discovery_get};
static const tp_handler_class jwks_cls = {.name = "Jwks", .get = jwks_get};
static const tp_handler_class authorize_cls = {.name = "Authorize", .get = authorize_get};
static const tp_handler_class token_cls = {.name = "Token", .get = token_post, .post = token_post};
static const tp_handler_class userinfo_cls = {.name = "Userinfo", .get = userinfo_get};
static const tp_handler_class guser_cls = {.name = "GoogleUser", .get = google_userinfo_get};
static const tp_handler_class ghuser_cls = {.name = "GithubUser", .get = github_user_get};
static const tp_handler_class fbme_cls = {.name = "FacebookMe", .get = fb_me_get};
static const tp_handler_class rt_cls = {.name = "RequestToken", .get = request_token_get};
static const tp_handler_class authz1_cls = {.name = "Authorize1", .get = authorize1_get};
static const tp_handler_class at_cls = {.name = "AccessToken", .get = access_token_get};
static const tp_handler_class user1_cls = {.name = "User1", .get = user1_get};

static int idp_init(tp_app *app)
{
    const char *path = getenv("FAKE_IDP_KEY");
    FILE *f = path ? fopen(path, "r") : NULL;
    key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    if (!key) {
        tp_log_error("fake_idp: FAKE_IDP_KEY must name an RSA private key (PEM)");
        return -1;
    }
    if (tp_app_route(app, "/.well-known/openid-configuration", &discovery_cls, NULL) < 0 ||
        tp_app_route(app, "/jwks", &jwks_cls, NULL) < 0 ||
        tp_app_route(app, "/authorize", &authorize_cls, NULL) < 0 ||
        tp_app_route(app, "/token", &token_cls, NULL) < 0 ||
        tp_app_route(app, "/userinfo", &userinfo_cls, NULL) < 0 ||
        tp_app_route(app, "/google/userinfo", &guser_cls, NULL) < 0 ||
        tp_app_route(app, "/github/user", &ghuser_cls, NULL) < 0 ||
        tp_app_route(app, "/fb/me", &fbme_cls, NULL) < 0 ||
        tp_app_route(app, "/oauth1/request_token", &rt_cls, NULL) < 0 ||
        tp_app_route(app, "/oauth1/authorize", &authz1_cls, NULL) < 0 ||
        tp_app_route(app, "/oauth1/access_token", &at_cls, NULL) < 0 ||
        tp_app_route(app, "/oauth1/user", &user1_cls, NULL) < 0)
        return -1;
    return 0;
}

static void idp_teardown(tp_app *app)
{
    (void)app;
    for (size_t i = 0; i < ngrants; i++) {
        free(grants[i].redirect_uri);
        free(grants[i].challenge);
        free(grants[i].nonce);
        free(grants[i].mode);
    }
    for (size_t i = 0; i < ntokens1; i++)
        free(tokens1[i].callback);
    EVP_PKEY_free(key);
    EVP_PKEY_free(key2);
}

TP_APP("fake_idp", idp_init, idp_teardown);
