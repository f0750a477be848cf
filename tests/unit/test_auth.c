/* web/auth's pure parts: OAuth 1.0a signatures (RFC 5849's examples and values Tornado's
 * _oauth10a_signature / _oauth_signature give), PKCE S256 (RFC 7636 appendix B), base64url,
 * and ID token verification (RS256 with a key made here, HS256, and the claims). */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include "tests/unit/suites.h"
#include "tp.h"
#include "web/auth/auth_internal.h"

START_TEST(test_oauth1_rfc5849_example)
{
    tp_auth_param p[] = {{"oauth_consumer_key", "dpf43f3p2l4k3l03"},
                         {"oauth_token", "nnch734d00sl2jdk"},
                         {"oauth_signature_method", "HMAC-SHA1"},
                         {"oauth_timestamp", "137131202"},
                         {"oauth_nonce", "chapoH"},
                         {"file", "vacation.jpg"},
                         {"size", "original"}};
    char *sig = tp_oauth1_signature("kd94hf93k423kf44", "pfkkdhi9sl3r4s00", "GET",
                                    "http://photos.example.net/photos", p, 7);
    ck_assert_str_eq(sig, "MdpQcU8iPSUjWoN/UDMsK2sui9I=");
    tp_free(sig);
}
END_TEST

/* RFC 5849 §3.4.1.1: repeated names, encoded names and values, sorted by name then value. */
START_TEST(test_oauth1_rfc5849_base_string)
{
    tp_auth_param p[] = {{"b5", "=%3D"},
                         {"a3", "a"},
                         {"c@", ""},
                         {"a2", "r b"},
                         {"oauth_consumer_key", "9djdj82h48djs9d2"},
                         {"oauth_token", "kkk9d7dh3k39sjv7"},
                         {"oauth_signature_method", "HMAC-SHA1"},
                         {"oauth_timestamp", "137131201"},
                         {"oauth_nonce", "7d8f3e4a"},
                         {"c2", ""},
                         {"a3", "2 q"}};
    char *b = tp_oauth1_base_string("post", "HTTP://Example.com/request?b5=x#frag", p, 11);
    ck_assert_str_eq(
        b, "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%"
           "3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_"
           "nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%"
           "3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7");
    tp_free(b);
}
END_TEST

/* Values from Debian's Tornado 6 (_oauth10a_signature and _oauth_signature): UTF-8 values,
 * reserved characters, secrets that need encoding, an upper-case URL with a port. */
START_TEST(test_oauth1_tornado_values)
{
    tp_auth_param p[] = {{"oauth_consumer_key", "k"},
                         {"status", "h\xc3\xa9llo w\xc3\xb6rld! *'()~"},
                         {"a", "1&2=3"}};
    const char *url = "HTTP://Example.COM:8080/Path/x?q=1";
    char *s1 = tp_oauth1_signature("s&e cr/t", "t+s", "post", url, p, 3);
    char *s0 = tp_oauth10_signature("s&e cr/t", "t+s", "post", url, p, 3);
    char *s2 = tp_oauth1_signature("cs", NULL, "GET", "http://x.org/", NULL, 0);
    ck_assert_str_eq(s1, "7a5rxUV60987dN0fud3206Fyh5g=");
    ck_assert_str_eq(s0, "/TQprLRTBhPwxrFgvAYWsQ6YHkI=");
    ck_assert_str_eq(s2, "dt+O+B4l97uUim2NnsdRNZQ53c8=");
    tp_free(s1);
    tp_free(s0);
    tp_free(s2);
}
END_TEST

START_TEST(test_pkce_rfc7636)
{
    char *c = tp__auth_pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    ck_assert_str_eq(c, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    tp_free(c);
    char *v1 = tp__auth_random_token(32), *v2 = tp__auth_random_token(32);
    ck_assert_uint_eq(strlen(v1), 43); /* RFC 7636: 43..128 characters */
    ck_assert_str_ne(v1, v2);
    tp_free(v1);
    tp_free(v2);
}
END_TEST

START_TEST(test_b64url)
{
    for (size_t n = 0; n < 40; n++) {
        unsigned char in[40];
        for (size_t i = 0; i < n; i++)
            in[i] = (unsigned char)(i * 37 + 250);
        char *e = tp__auth_b64url(in, n);
        ck_assert_ptr_null(strpbrk(e, "+/="));
        tp_buf b = {0};
        ck_assert_int_eq(tp__auth_b64url_decode(tp_slice_cstr(e), &b), 0);
        ck_assert_uint_eq(b.len, n);
        ck_assert(n == 0 || memcmp(tp_buf_data(&b), in, n) == 0);
        tp_buf_free(&b);
        tp_free(e);
    }
    tp_buf b = {0};
    ck_assert_int_eq(tp__auth_b64url_decode(TP_SLICE_LIT("ab+/"), &b), -EINVAL);
    ck_assert_int_eq(tp__auth_b64url_decode(TP_SLICE_LIT("abcde"), &b), -EINVAL);
    tp_buf_free(&b);
}
END_TEST

/* ---- JWT ---------------------------------------------------------------------------------- */

static EVP_PKEY *rsa_key;
static json_t *jwks;

static char *bn_b64(const char *param)
{
    BIGNUM *bn = NULL;
    ck_assert(EVP_PKEY_get_bn_param(rsa_key, param, &bn));
    unsigned char buf[512];
    int n = BN_bn2bin(bn, buf);
    BN_free(bn);
    return tp__auth_b64url(buf, (size_t)n);
}

static void jwt_setup(void)
{
    rsa_key = EVP_RSA_gen(2048);
    ck_assert_ptr_nonnull(rsa_key);
    char *n = bn_b64(OSSL_PKEY_PARAM_RSA_N), *e = bn_b64(OSSL_PKEY_PARAM_RSA_E);
    jwks = json_pack("{s:[{s:s,s:s,s:s,s:s,s:s}]}", "keys", "kty", "RSA", "kid", "k1", "use", "sig",
                     "n", n, "e", e);
    tp_free(n);
    tp_free(e);
}

static void jwt_teardown(void)
{
    EVP_PKEY_free(rsa_key);
    json_decref(jwks);
}

static char *part(const char *json)
{
    return tp__auth_b64url(json, strlen(json));
}

/* header.payload.signature; alg "RS256" signs with rsa_key, "HS256" with secret, else none. */
static char *make_jwt(const char *header, const char *payload, const char *secret)
{
    char *h = part(header), *p = part(payload);
    tp_buf t = {0};
    tp_buf_appendf(&t, "%s.%s", h, p);
    unsigned char sig[512];
    size_t siglen = 0;
    if (strstr(header, "RS256")) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        siglen = sizeof sig;
        ck_assert(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, rsa_key) == 1);
        ck_assert(EVP_DigestSign(md, sig, &siglen, (unsigned char *)tp_buf_data(&t), t.len) == 1);
        EVP_MD_CTX_free(md);
    } else if (strstr(header, "HS256")) {
        unsigned int l = 0;
        HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)tp_buf_data(&t), t.len,
             sig, &l);
        siglen = l;
    }
    char *s = tp__auth_b64url(sig, siglen);
    tp_buf_appendf(&t, ".%s", s);
    char *out = tp_strndup(tp_buf_data(&t), t.len);
    tp_free(h);
    tp_free(p);
    tp_free(s);
    tp_buf_free(&t);
    return out;
}

static char payload_buf[512];

static const char *claims(const char *aud, long exp_delta, const char *nonce)
{
    long now = (long)time(NULL);
    snprintf(payload_buf, sizeof payload_buf,
             "{\"iss\":\"http://idp\",\"sub\":\"u1\",\"aud\":%s,\"exp\":%ld,\"iat\":%ld,"
             "\"nonce\":\"%s\"}",
             aud, now + exp_delta, now - 10, nonce);
    return payload_buf;
}

static int verify(const char *tok, const char **why_out)
{
    static char why_copy[128];
    tp__jwt_check c = {.jwks = jwks,
                       .hs_secret = "client-secret",
                       .issuer = "http://idp",
                       .audience = "client1",
                       .nonce = "n1",
                       .leeway = 60,
                       .now = (double)time(NULL)};
    json_t *cl = NULL;
    char *why = NULL;
    int rc = tp__jwt_verify(tok, &c, &cl, &why);
    snprintf(why_copy, sizeof why_copy, "%s", why ? why : "");
    if (why_out)
        *why_out = why_copy;
    if (rc == 0)
        ck_assert_str_eq(json_string_value(json_object_get(cl, "sub")), "u1");
    else
        ck_assert_ptr_null(cl);
    json_decref(cl);
    tp_free(why);
    return rc;
}

static const char *RS = "{\"alg\":\"RS256\",\"kid\":\"k1\"}";

START_TEST(test_jwt_rs256_ok)
{
    char *t = make_jwt(RS, claims("\"client1\"", 300, "n1"), NULL);
    ck_assert_int_eq(verify(t, NULL), 0);
    tp_free(t);
    t = make_jwt(RS, claims("[\"client1\",\"other\"]", 300, "n1"), NULL);
    ck_assert_int_eq(verify(t, NULL), 0);
    tp_free(t);
    /* expired 30 s ago: within the 60 s leeway */
    t = make_jwt(RS, claims("\"client1\"", -30, "n1"), NULL);
    ck_assert_int_eq(verify(t, NULL), 0);
    tp_free(t);
}
END_TEST

START_TEST(test_jwt_tampered_payload)
{
    char *t = make_jwt(RS, claims("\"client1\"", 300, "n1"), NULL);
    char *t2 = make_jwt(RS, claims("\"client1\"", 300, "n1"), NULL);
    /* the payload of a token for another subject, with the first token's signature */
    char *evil = part("{\"iss\":\"http://idp\",\"sub\":\"admin\",\"aud\":\"client1\"}");
    char *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');
    tp_buf b = {0};
    tp_buf_appendf(&b, "%.*s.%s%s", (int)(d1 - t), t, evil, d2);
    tp_buf_append(&b, "", 1);
    const char *why;
    ck_assert_int_eq(verify(tp_buf_data(&b), &why), -EBADMSG);
    ck_assert_str_eq(why, "ID token: bad RS256 signature");
    /* a flipped signature byte */
    t2[strlen(t2) - 5] = t2[strlen(t2) - 5] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(verify(t2, NULL), -EBADMSG);
    tp_buf_free(&b);
    tp_free(evil);
    tp_free(t);
    tp_free(t2);
}
END_TEST

START_TEST(test_jwt_alg_none_and_others)
{
    const char *why;
    char *t = make_jwt("{\"alg\":\"none\"}", claims("\"client1\"", 300, "n1"), NULL);
    ck_assert_int_eq(verify(t, &why), -EBADMSG);
    ck_assert_str_eq(why, "ID token: algorithm none refused");
    tp_free(t);
    t = make_jwt("{\"alg\":\"RS512\",\"kid\":\"k1\"}", claims("\"client1\"", 300, "n1"), NULL);
    ck_assert_int_eq(verify(t, NULL), -EBADMSG);
    tp_free(t);
    ck_assert_int_eq(verify("a.b", NULL), -EBADMSG);
    ck_assert_int_eq(verify("a.b.c.d", NULL), -EBADMSG);
    ck_assert_int_eq(verify("!!.??.xx", NULL), -EBADMSG);
}
END_TEST

START_TEST(test_jwt_claims_refused)
{
    static const char far_iss[] = "{\"iss\":\"http://evil\",\"sub\":\"u1\",\"aud\":\"client1\","
                                  "\"exp\":9999999999,\"iat\":1,\"nonce\":\"n1\"}";
    static const char future_iat[] = "{\"iss\":\"http://idp\",\"sub\":\"u1\",\"aud\":\"client1\","
                                     "\"exp\":9999999999,\"iat\":9999999000,\"nonce\":\"n1\"}";
    struct {
        const char *payload, *why;
    } cases[] = {
        {NULL, "ID token: wrong audience"},
        {NULL, "ID token: expired"},
        {NULL, "ID token: wrong nonce"},
        {far_iss, "ID token: wrong issuer"},
        {future_iat, "ID token: issued in the future"},
    };
    char payloads[3][512];
    snprintf(payloads[0], 512, "%s", claims("\"client2\"", 300, "n1"));
    snprintf(payloads[1], 512, "%s", claims("\"client1\"", -120, "n1"));
    snprintf(payloads[2], 512, "%s", claims("\"client1\"", 300, "n2"));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *t = make_jwt(RS, cases[i].payload ? cases[i].payload : payloads[i], NULL);
        const char *why;
        ck_assert_int_eq(verify(t, &why), -EBADMSG);
        ck_assert_str_eq(why, cases[i].why);
        tp_free(t);
    }
}
END_TEST

START_TEST(test_jwt_hs256_and_kid)
{
    char *t = make_jwt("{\"alg\":\"HS256\"}", claims("\"client1\"", 300, "n1"), "client-secret");
    ck_assert_int_eq(verify(t, NULL), 0);
    tp_free(t);
    t = make_jwt("{\"alg\":\"HS256\"}", claims("\"client1\"", 300, "n1"), "guessed");
    ck_assert_int_eq(verify(t, NULL), -EBADMSG);
    tp_free(t);
    /* a kid the set does not hold: the caller fetches the JWKS again */
    t = make_jwt("{\"alg\":\"RS256\",\"kid\":\"k9\"}", claims("\"client1\"", 300, "n1"), NULL);
    ck_assert_int_eq(verify(t, NULL), -ENOKEY);
    tp_free(t);
}
END_TEST

Suite *auth_suite(void)
{
    Suite *s = suite_create("auth");
    TCase *tc = tcase_create("signing");
    tcase_add_test(tc, test_oauth1_rfc5849_example);
    tcase_add_test(tc, test_oauth1_rfc5849_base_string);
    tcase_add_test(tc, test_oauth1_tornado_values);
    tcase_add_test(tc, test_pkce_rfc7636);
    tcase_add_test(tc, test_b64url);
    suite_add_tcase(s, tc);
    tc = tcase_create("jwt");
    tcase_add_unchecked_fixture(tc, jwt_setup, jwt_teardown); /* one key for the case */
    tcase_add_test(tc, test_jwt_rs256_ok);
    tcase_add_test(tc, test_jwt_tampered_payload);
    tcase_add_test(tc, test_jwt_alg_none_and_others);
    tcase_add_test(tc, test_jwt_claims_refused);
    tcase_add_test(tc, test_jwt_hs256_and_kid);
    suite_add_tcase(s, tc);
    return s;
}
