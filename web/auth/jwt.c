/* ID token (compact JWS) verification: RS256 against a JWK set through OpenSSL's EVP, HS256
 * with the client secret, then the OpenID Connect claims (iss, aud, exp, iat, nonce). "none"
 * and every other algorithm are refused. */
#include "web/auth/auth_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>

#include "core/alloc.h"

static int fail(char **why, const char *msg)
{
    *why = tp_strndup(msg, strlen(msg));
    return -EBADMSG;
}

static json_t *decode_part(tp_slice s)
{
    tp_buf b = {0};
    json_t *j = NULL;
    if (tp__auth_b64url_decode(s, &b) == 0)
        j = json_loadb(tp_buf_data(&b), b.len, JSON_REJECT_DUPLICATES, NULL);
    tp_buf_free(&b);
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

static BIGNUM *jwk_bn(const json_t *jwk, const char *field)
{
    const char *v = json_string_value(json_object_get(jwk, field));
    tp_buf b = {0};
    BIGNUM *bn = NULL;
    if (v && tp__auth_b64url_decode(tp_slice_cstr(v), &b) == 0 && b.len)
        bn = BN_bin2bn((const unsigned char *)tp_buf_data(&b), (int)b.len, NULL);
    tp_buf_free(&b);
    return bn;
}

/* An RSA public key from a JWK's n and e (OpenSSL 3's fromdata). */
static EVP_PKEY *jwk_rsa_key(const json_t *jwk)
{
    EVP_PKEY *pkey = NULL;
    BIGNUM *n = jwk_bn(jwk, "n"), *e = jwk_bn(jwk, "e");
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (!n || !e || !bld || !ctx || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
        goto out;
    params = OSSL_PARAM_BLD_to_param(bld);
    if (!params || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
out:
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    BN_free(n);
    BN_free(e);
    return pkey;
}

/* The RSA key of the set for kid (any RSA key if the token names none and there is one). */
static const json_t *find_jwk(const json_t *jwks, const char *kid)
{
    const json_t *keys = json_object_get(jwks, "keys"), *found = NULL;
    size_t i, count = 0;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        const char *use = json_string_value(json_object_get(k, "use"));
        if (!json_is_string(json_object_get(k, "kty")) ||
            strcmp(json_string_value(json_object_get(k, "kty")), "RSA") ||
            (use && strcmp(use, "sig")))
            continue;
        const char *kkid = json_string_value(json_object_get(k, "kid"));
        if (kid && kkid && !strcmp(kid, kkid))
            return k;
        found = k;
        count++;
    }
    return !kid && count == 1 ? found : NULL;
}

static bool verify_rs256(const json_t *jwk, tp_slice data, const tp_buf *sig)
{
    EVP_PKEY *pkey = jwk_rsa_key(jwk);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    bool ok = pkey && md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1 &&
              EVP_DigestVerify(md, (const unsigned char *)tp_buf_data(sig), sig->len,
                               (const unsigned char *)data.p, data.n) == 1;
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);
    return ok;
}

static bool verify_hs256(const char *secret, tp_slice data, const tp_buf *sig)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)data.p, data.n, mac,
              &len))
        return false;
    return sig->len == len && CRYPTO_memcmp(mac, tp_buf_data(sig), len) == 0;
}

static int check_signature(const json_t *header, tp_slice data, const tp_buf *sig,
                           const tp__jwt_check *c, char **why)
{
    const char *alg = json_string_value(json_object_get(header, "alg"));
    if (!alg)
        return fail(why, "ID token: no alg");
    if (!strcmp(alg, "HS256") && c->hs_secret && *c->hs_secret) {
        if (!verify_hs256(c->hs_secret, data, sig))
            return fail(why, "ID token: bad HS256 signature");
        return 0;
    }
    if (strcmp(alg, "RS256") || !c->jwks) {
        char msg[96];
        snprintf(msg, sizeof msg, "ID token: algorithm %.32s refused", alg);
        return fail(why, msg);
    }
    const json_t *jwk = find_jwk(c->jwks, json_string_value(json_object_get(header, "kid")));
    if (!jwk)
        return -ENOKEY;
    if (!verify_rs256(jwk, data, sig))
        return fail(why, "ID token: bad RS256 signature");
    return 0;
}

static bool aud_has(const json_t *aud, const char *want)
{
    if (json_is_string(aud))
        return !strcmp(json_string_value(aud), want);
    size_t i;
    json_t *v;
    json_array_foreach(aud, i, v)
    {
        if (json_is_string(v) && !strcmp(json_string_value(v), want))
            return true;
    }
    return false;
}

static int check_claims(const json_t *cl, const tp__jwt_check *c, char **why)
{
    const char *iss = json_string_value(json_object_get(cl, "iss"));
    if (c->issuer && (!iss || strcmp(iss, c->issuer)))
        return fail(why, "ID token: wrong issuer");
    if (!c->audience || !aud_has(json_object_get(cl, "aud"), c->audience))
        return fail(why, "ID token: wrong audience");
    const char *azp = json_string_value(json_object_get(cl, "azp"));
    if (json_is_array(json_object_get(cl, "aud")) && azp && strcmp(azp, c->audience))
        return fail(why, "ID token: wrong authorized party");
    json_t *exp = json_object_get(cl, "exp"), *iat = json_object_get(cl, "iat");
    if (!json_is_number(exp) || json_number_value(exp) + c->leeway < c->now)
        return fail(why, "ID token: expired");
    if (!json_is_number(iat) || json_number_value(iat) - c->leeway > c->now)
        return fail(why, "ID token: issued in the future");
    if (c->nonce && !tp__auth_streq_ct(json_string_value(json_object_get(cl, "nonce")), c->nonce))
        return fail(why, "ID token: wrong nonce");
    return 0;
}

int tp__jwt_verify(const char *token, const tp__jwt_check *c, json_t **claims, char **why)
{
    *claims = NULL;
    *why = NULL;
    const char *d1 = token ? strchr(token, '.') : NULL;
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d2 || strchr(d2 + 1, '.'))
        return fail(why, "ID token: not a compact JWS");
    json_t *header = decode_part(tp_slice_make(token, (size_t)(d1 - token)));
    json_t *payload = decode_part(tp_slice_make(d1 + 1, (size_t)(d2 - d1 - 1)));
    tp_buf sig = {0};
    int rc;
    if (!header || !payload || tp__auth_b64url_decode(tp_slice_cstr(d2 + 1), &sig) < 0)
        rc = fail(why, "ID token: bad encoding");
    else if ((rc = check_signature(header, tp_slice_make(token, (size_t)(d2 - token)), &sig, c,
                                   why)) == 0 &&
             (rc = check_claims(payload, c, why)) == 0)
        *claims = json_incref(payload);
    json_decref(header);
    json_decref(payload);
    tp_buf_free(&sig);
    return rc;
}
