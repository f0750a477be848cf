/* Signed values as Tornado 6.5 makes and checks them (tornado/web.py create_signed_value,
 * decode_signed_value, get_signature_key_version): versions 1 and 2, key-versioned secrets,
 * HMAC-SHA256 (v2) or HMAC-SHA1 (v1) through OpenSSL, compared in constant time. */
#include "web/signed_value.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/hex.h"

#define SIGNED_V1_FUTURE_DAYS 31

static tp_slice b64_encode(tp_arena *a, tp_slice s)
{
    char *buf = tp_arena_alloc(a, (s.n + 2) / 3 * 4 + 1);
    int n = EVP_EncodeBlock((unsigned char *)buf, (const unsigned char *)s.p, (int)s.n);
    return tp_slice_make(buf, (size_t)n);
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Python's base64.b64decode (binascii.a2b_base64, not strict), which EVP_DecodeBlock does
 * not match: other bytes are skipped, decoding stops at the first complete padding, a
 * dangling 1-3 characters are an error. */
static int b64_decode(tp_arena *a, tp_slice s, tp_slice *out)
{
    unsigned char *buf = tp_arena_alloc(a, s.n / 4 * 3 + 4), *w = buf;
    int quad = 0, pads = 0;
    unsigned left = 0;
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c == '=') {
            if (quad >= 2 && quad + ++pads >= 4) {
                quad = 0;
                break;
            }
            continue;
        }
        int v = b64_value(c);
        if (v < 0)
            continue;
        pads = 0;
        if (quad == 0)
            left = (unsigned)v;
        else if (quad == 1)
            *w++ = (unsigned char)(left << 2 | (unsigned)v >> 4), left = (unsigned)v & 0x0f;
        else if (quad == 2)
            *w++ = (unsigned char)(left << 4 | (unsigned)v >> 2), left = (unsigned)v & 0x03;
        else
            *w++ = (unsigned char)(left << 6 | (unsigned)v);
        quad = (quad + 1) % 4;
    }
    if (quad != 0)
        return -EINVAL;
    *w = '\0';
    *out = tp_slice_make((const char *)buf, (size_t)(w - buf));
    return 0;
}

/* Lowercase hex HMAC (SHA-1 for v1, SHA-256 for v2) of the concatenated parts into hex
 * (room for 65 bytes); returns the hex length. */
static size_t hmac_hex(const EVP_MD *md, tp_slice key, const tp_slice *parts, size_t nparts,
                       char *hex)
{
    size_t total = 0;
    for (size_t i = 0; i < nparts; i++)
        total += parts[i].n;
    unsigned char stackbuf[512], *msg = total <= sizeof(stackbuf) ? stackbuf : NULL;
    tp_arena tmp;
    tp_arena_init(&tmp, 0);
    if (!msg)
        msg = tp_arena_alloc(&tmp, total);
    size_t off = 0;
    for (size_t i = 0; i < nparts; i++) {
        if (parts[i].n)
            memcpy(msg + off, parts[i].p, parts[i].n);
        off += parts[i].n;
    }
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    HMAC(md, key.n ? key.p : "", (int)key.n, msg, total, mac, &maclen);
    tp_arena_destroy(&tmp);
    tp_hex_encode(mac, maclen, hex);
    return 2 * (size_t)maclen;
}

static bool sig_equal(tp_slice got, const char *want, size_t want_n)
{
    return got.n == want_n && CRYPTO_memcmp(got.p, want, want_n) == 0;
}

static const tp_slice *secret_for(const tp_secret *s, int version)
{
    for (size_t i = 0; i < s->nkeys; i++)
        if (s->keys[i].version == version)
            return &s->keys[i].secret;
    return NULL;
}

static int create_v1(tp_arena *a, tp_slice secret, tp_slice name, tp_slice b64, const char *ts,
                     tp_slice *out)
{
    char sig[EVP_MAX_MD_SIZE * 2 + 1];
    tp_slice parts[] = {name, b64, tp_slice_cstr(ts)};
    hmac_hex(EVP_sha1(), secret, parts, 3, sig);
    char *s = tp_arena_printf(a, "%.*s|%s|%s", TP_SLICE_FMT(b64), ts, sig);
    *out = tp_slice_cstr(s);
    return 0;
}

/* v2: "2|" then length-prefixed key version, timestamp, name and base64 value, each
 * followed by '|', then the HMAC-SHA256 hex of everything before it. */
static int create_v2(tp_arena *a, tp_slice secret, int key_version, tp_slice name, tp_slice b64,
                     const char *ts, tp_slice *out)
{
    char kv[16];
    snprintf(kv, sizeof kv, "%d", key_version);
    char *signed_part =
        tp_arena_printf(a, "2|%zu:%s|%zu:%s|%zu:%.*s|%zu:%.*s|", strlen(kv), kv, strlen(ts), ts,
                        name.n, TP_SLICE_FMT(name), b64.n, TP_SLICE_FMT(b64));
    size_t n = strlen(signed_part);
    char sig[EVP_MAX_MD_SIZE * 2 + 1];
    tp_slice parts[] = {tp_slice_make(signed_part, n)};
    size_t sn = hmac_hex(EVP_sha256(), secret, parts, 1, sig);
    char *s = tp_arena_alloc(a, n + sn + 1);
    memcpy(s, signed_part, n);
    memcpy(s + n, sig, sn + 1);
    *out = tp_slice_make(s, n + sn);
    return 0;
}

int tp_signed_value_create(tp_arena *a, const tp_secret *secrets, tp_slice name, tp_slice value,
                           int version, time_t now, tp_slice *out)
{
    char ts[32];
    snprintf(ts, sizeof ts, "%lld", (long long)now);
    if (version == 0)
        version = 2;
    if (version == 1 && !secrets->keys)
        return create_v1(a, secrets->secret, name, b64_encode(a, value), ts, out);
    if (version != 2)
        return -EINVAL;
    if (!secrets->keys)
        return create_v2(a, secrets->secret, 0, name, b64_encode(a, value), ts, out);
    const tp_secret *s = secrets;
    const tp_slice *key = secret_for(s, s->key_version);
    if (!key)
        return -EINVAL;
    return create_v2(a, *key, s->key_version, name, b64_encode(a, value), ts, out);
}

/* Decimal digits only (Tornado's int() is laxer, but only canonical fields are ever
 * signed); -EINVAL if empty, not digits or above LLONG_MAX. */
static int parse_uint(tp_slice s, long long *out)
{
    if (s.n == 0 || s.n > 18)
        return -EINVAL;
    long long v = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return -EINVAL;
        v = v * 10 + (s.p[i] - '0');
    }
    *out = v;
    return 0;
}

/* _get_version: "^([1-9][0-9]*)\|(.*)$" (no newline before the last byte) with at most
 * three digits gives that version; anything else is version 1. */
static int signed_version(tp_slice v)
{
    size_t d = 0;
    while (d < v.n && v.p[d] >= '0' && v.p[d] <= '9')
        d++;
    if (d == 0 || v.p[0] == '0' || d == v.n || v.p[d] != '|' || d > 3)
        return 1;
    const char *nl = memchr(v.p + d + 1, '\n', v.n - d - 1);
    if (nl && nl != v.p + v.n - 1)
        return 1;
    long long ver = 0;
    parse_uint(tp_slice_make(v.p, d), &ver);
    return (int)ver;
}

static bool expired(long long ts, time_t now, double max_age_days)
{
    return (double)ts < (double)now - max_age_days * 86400;
}

static int decode_v1(tp_arena *a, tp_slice secret, tp_slice name, tp_slice v, double max_age_days,
                     time_t now, tp_slice *out)
{
    const char *b1 = memchr(v.p, '|', v.n);
    const char *b2 = b1 ? memchr(b1 + 1, '|', (size_t)(v.p + v.n - b1 - 1)) : NULL;
    if (!b2 || memchr(b2 + 1, '|', (size_t)(v.p + v.n - b2 - 1)))
        return -EINVAL;
    tp_slice b64 = tp_slice_make(v.p, (size_t)(b1 - v.p));
    tp_slice ts = tp_slice_make(b1 + 1, (size_t)(b2 - b1 - 1));
    tp_slice sig = tp_slice_make(b2 + 1, (size_t)(v.p + v.n - b2 - 1));
    char want[EVP_MAX_MD_SIZE * 2 + 1];
    tp_slice parts[] = {name, b64, ts};
    size_t wn = hmac_hex(EVP_sha1(), secret, parts, 3, want);
    long long t;
    if (!sig_equal(sig, want, wn) || parse_uint(ts, &t) < 0 || expired(t, now, max_age_days))
        return -EINVAL;
    /* No delimiter is hashed between payload and timestamp, so digits could move from one
     * to the other: refuse far-future timestamps and leading zeros. */
    if ((double)t > (double)now + SIGNED_V1_FUTURE_DAYS * 86400.0 || ts.p[0] == '0')
        return -EINVAL;
    return b64_decode(a, b64, out);
}

/* _consume_field: "<len>:<bytes>|" at *rest. */
static int consume_field(tp_slice *rest, tp_slice *field)
{
    const char *colon = memchr(rest->p, ':', rest->n);
    long long len;
    if (!colon || parse_uint(tp_slice_make(rest->p, (size_t)(colon - rest->p)), &len) < 0)
        return -EINVAL;
    size_t avail = (size_t)(rest->p + rest->n - colon - 1);
    if ((unsigned long long)len >= avail || colon[1 + len] != '|')
        return -EINVAL;
    *field = tp_slice_make(colon + 1, (size_t)len);
    size_t used = (size_t)(colon - rest->p) + 1 + (size_t)len + 1;
    *rest = tp_slice_make(rest->p + used, rest->n - used);
    return 0;
}

/* The fields of a v2 value: key version, timestamp, name, value, signature. */
static int fields_v2(tp_slice v, long long *kv, tp_slice f[4])
{
    if (v.n < 2)
        return -EINVAL;
    tp_slice rest = tp_slice_make(v.p + 2, v.n - 2);
    for (int i = 0; i < 4; i++)
        if (consume_field(&rest, &f[i]) < 0)
            return -EINVAL;
    if (parse_uint(f[0], kv) < 0 || *kv > INT_MAX)
        return -EINVAL;
    f[0] = rest; /* the signature */
    return 0;
}

static int decode_v2(tp_arena *a, const tp_secret *secrets, tp_slice name, tp_slice v,
                     double max_age_days, time_t now, tp_slice *out)
{
    long long kv, t;
    tp_slice f[4];
    if (fields_v2(v, &kv, f) < 0)
        return -EINVAL;
    tp_slice sig = f[0], signed_part = tp_slice_make(v.p, v.n - sig.n);
    const tp_slice *secret = &secrets->secret;
    if (secrets->keys && !(secret = secret_for(secrets, (int)kv)))
        return -EINVAL;
    char want[EVP_MAX_MD_SIZE * 2 + 1];
    size_t wn = hmac_hex(EVP_sha256(), *secret, &signed_part, 1, want);
    if (!sig_equal(sig, want, wn) || !tp_slice_eq(f[2], name) || parse_uint(f[1], &t) < 0 ||
        expired(t, now, max_age_days))
        return -EINVAL;
    return b64_decode(a, f[3], out);
}

int tp_signed_value_decode(tp_arena *a, const tp_secret *secrets, tp_slice name,
                           tp_slice signed_value, double max_age_days, time_t now, int min_version,
                           tp_slice *value_out)
{
    if (min_version > 2 || signed_value.n == 0)
        return -EINVAL;
    int version = signed_version(signed_value);
    if (version < min_version)
        return -EINVAL;
    if (version == 1 && !secrets->keys)
        return decode_v1(a, secrets->secret, name, signed_value, max_age_days, now, value_out);
    if (version == 2)
        return decode_v2(a, secrets, name, signed_value, max_age_days, now, value_out);
    return -EINVAL;
}

int tp_signed_value_key_version(tp_slice signed_value)
{
    long long kv;
    tp_slice f[4];
    if (signed_version(signed_value) < 2 || fields_v2(signed_value, &kv, f) < 0)
        return -EINVAL;
    return (int)kv;
}
