/* web/auth's small crypto pieces over OpenSSL: base64url, random tokens, PKCE S256, and
 * percent-encoding / form bodies for the providers' requests. */
#include "web/auth/auth_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "core/alloc.h"

char *tp__auth_b64url(const void *p, size_t n)
{
    char *out = tp_malloc(4 * ((n + 2) / 3) + 1);
    int len = EVP_EncodeBlock((unsigned char *)out, p, (int)n);
    while (len > 0 && out[len - 1] == '=')
        len--;
    out[len] = '\0';
    for (char *c = out; *c; c++) {
        if (*c == '+')
            *c = '-';
        else if (*c == '/')
            *c = '_';
    }
    return out;
}

/* EVP_DecodeBlock wants standard base64 with padding: translate, pad, decode, and drop the
 * zero bytes the padding gave. */
int tp__auth_b64url_decode(tp_slice s, tp_buf *out)
{
    while (s.n && s.p[s.n - 1] == '=')
        s.n--;
    if (s.n % 4 == 1)
        return -EINVAL;
    size_t padded = (s.n + 3) / 4 * 4;
    char *tmp = tp_malloc(padded + 1);
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (c == '+' || c == '/')
            c = '!'; /* only the url alphabet is accepted */
        tmp[i] = c;
    }
    memset(tmp + s.n, '=', padded - s.n);
    char *dst = tp_buf_reserve(out, padded / 4 * 3 + 1);
    int len = padded ? EVP_DecodeBlock((unsigned char *)dst, (unsigned char *)tmp, (int)padded) : 0;
    tp_free(tmp);
    if (len < 0)
        return -EINVAL;
    tp_buf_commit(out, (size_t)len - (padded - s.n));
    return 0;
}

char *tp__auth_random_token(size_t bytes)
{
    unsigned char buf[64];
    if (bytes > sizeof buf)
        bytes = sizeof buf;
    if (RAND_bytes(buf, (int)bytes) != 1)
        abort(); /* no randomness: nothing secure can be made */
    return tp__auth_b64url(buf, bytes);
}

char *tp__auth_pkce_s256(const char *verifier)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)verifier, strlen(verifier), md);
    return tp__auth_b64url(md, sizeof md);
}

bool tp__auth_streq_ct(const char *a, const char *b)
{
    if (!a || !b)
        return false;
    size_t n = strlen(a);
    return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

void tp__auth_pct_encode(tp_buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
            *c == '-' || *c == '.' || *c == '_' || *c == '~') {
            tp_buf_append(out, c, 1);
        } else {
            char e[3] = {'%', hex[*c >> 4], hex[*c & 15]};
            tp_buf_append(out, e, 3);
        }
    }
}

char *tp__auth_form_encode(const tp_auth_param *params, size_t n)
{
    tp_buf b = {0};
    for (size_t i = 0; i < n; i++) {
        if (!params[i].value)
            continue;
        if (b.len)
            tp_buf_append(&b, "&", 1);
        tp__auth_pct_encode(&b, params[i].name);
        tp_buf_append(&b, "=", 1);
        tp__auth_pct_encode(&b, params[i].value);
    }
    tp_buf_append(&b, "", 1);
    char *s = tp_strndup(tp_buf_data(&b), b.len - 1);
    tp_buf_free(&b);
    return s;
}
