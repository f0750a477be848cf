/* OAuth 1.0a request signing (RFC 5849 §3.4 HMAC-SHA1), as Tornado's _oauth10a_signature and
 * _oauth_signature: the base string is METHOD & encoded URL & encoded sorted parameters. */
#include "web/auth/auth_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/alloc.h"

typedef struct enc_pair {
    char *name, *value;
} enc_pair;

static char *pct(const char *s)
{
    tp_buf b = {0};
    tp__auth_pct_encode(&b, s ? s : "");
    tp_buf_append(&b, "", 1); /* never empty: no NULL data for an empty string */
    char *out = tp_strndup(tp_buf_data(&b), b.len - 1);
    tp_buf_free(&b);
    return out;
}

static int pair_cmp(const void *a, const void *b)
{
    const enc_pair *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

/* scheme://host[:port]/path, scheme and host lowercased, query and fragment left out. */
static void normalized_url(tp_buf *out, const char *url)
{
    const char *sep = strstr(url, "://");
    const char *host = sep ? sep + 3 : url;
    const char *path = host + strcspn(host, "/?#");
    const char *end = path + strcspn(path, "?#");
    for (const char *c = url; c < path; c++) {
        char l = (char)tolower((unsigned char)*c);
        tp_buf_append(out, &l, 1);
    }
    tp_buf_append(out, path, (size_t)(end - path));
}

char *tp_oauth1_base_string(const char *method, const char *url, const tp_auth_param *params,
                            size_t n)
{
    enc_pair *pairs = tp_calloc(n ? n : 1, sizeof *pairs);
    for (size_t i = 0; i < n; i++)
        pairs[i] = (enc_pair){pct(params[i].name), pct(params[i].value)};
    qsort(pairs, n, sizeof *pairs, pair_cmp);
    tp_buf plist = {0}, u = {0}, out = {0};
    for (size_t i = 0; i < n; i++) {
        tp_buf_appendf(&plist, "%s%s=%s", i ? "&" : "", pairs[i].name, pairs[i].value);
        tp_free(pairs[i].name);
        tp_free(pairs[i].value);
    }
    tp_free(pairs);
    for (const char *m = method ? method : "GET"; *m; m++) {
        char c = (char)toupper((unsigned char)*m);
        tp_buf_append(&out, &c, 1);
    }
    tp_buf_append(&out, "&", 1);
    normalized_url(&u, url);
    tp_buf_append(&u, "", 1);
    tp__auth_pct_encode(&out, tp_buf_data(&u));
    tp_buf_append(&out, "&", 1);
    tp_buf_append(&plist, "", 1);
    tp__auth_pct_encode(&out, tp_buf_data(&plist));
    char *s = tp_strndup(tp_buf_data(&out), out.len);
    tp_buf_free(&plist);
    tp_buf_free(&u);
    tp_buf_free(&out);
    return s;
}

static char *sign(const char *key, const char *method, const char *url, const tp_auth_param *params,
                  size_t n)
{
    char *base = tp_oauth1_base_string(method, url, params, n);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha1(), key, (int)strlen(key), (const unsigned char *)base, strlen(base), mac, &len);
    tp_free(base);
    char *out = tp_malloc(4 * ((len + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, mac, (int)len);
    return out;
}

char *tp_oauth1_signature(const char *consumer_secret, const char *token_secret, const char *method,
                          const char *url, const tp_auth_param *params, size_t n)
{
    char *cs = pct(consumer_secret), *ts = pct(token_secret);
    tp_buf key = {0};
    tp_buf_appendf(&key, "%s&%s", cs, ts);
    tp_buf_append(&key, "", 1);
    char *sig = sign(tp_buf_data(&key), method, url, params, n);
    tp_free(cs);
    tp_free(ts);
    tp_buf_free(&key);
    return sig;
}

char *tp_oauth10_signature(const char *consumer_secret, const char *token_secret,
                           const char *method, const char *url, const tp_auth_param *params,
                           size_t n)
{
    tp_buf key = {0};
    tp_buf_appendf(&key, "%s&%s", consumer_secret ? consumer_secret : "",
                   token_secret ? token_secret : "");
    tp_buf_append(&key, "", 1);
    char *sig = sign(tp_buf_data(&key), method, url, params, n);
    tp_buf_free(&key);
    return sig;
}
