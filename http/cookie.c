/* Cookies as Tornado 6.5 handles them; see http/cookie.h. The Python sources this follows
 * are tornado/httputil.py (parse_cookie), tornado/web.py (set_cookie, create_signed_value,
 * decode_signed_value) and http/cookies.py (_quote, _unquote, Morsel.OutputString). */
#include "http/cookie.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/hex.h"
#include "core/utf8.h"
#include "http/date.h"

#define SIGNED_V1_FUTURE_DAYS 31

/* http.cookies._LegalChars: characters a name or an unquoted value may hold. */
static bool legal_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~:", c) != NULL);
}

/* Python's str.isspace() for ASCII: the bytes str.strip() removes. */
static bool py_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static char *put_utf8(char *w, unsigned cp)
{
    if (cp < 0x80) {
        *w++ = (char)cp;
    } else {
        *w++ = (char)(0xc0 | (cp >> 6));
        *w++ = (char)(0x80 | (cp & 0x3f));
    }
    return w;
}

/* http.cookies._unquote: only a value wrapped in double quotes is touched; inside it
 * "\ooo" (first digit 0-3) is that code point and "\x" is x, but not for x a newline
 * (the regex's '.'). */
static tp_slice cookie_unquote(tp_arena *a, tp_slice s)
{
    if (s.n < 2 || s.p[0] != '"' || s.p[s.n - 1] != '"')
        return tp_arena_slice_dup(a, s);
    const char *p = s.p + 1, *end = s.p + s.n - 1;
    char *out = tp_arena_alloc(a, s.n), *w = out;
    while (p < end) {
        if (*p != '\\' || p + 1 == end) {
            *w++ = *p++;
        } else if (end - p >= 4 && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
                   p[3] >= '0' && p[3] <= '7') {
            w = put_utf8(w, (unsigned)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0')));
            p += 4;
        } else if (p[1] != '\n') {
            *w++ = p[1];
            p += 2;
        } else {
            *w++ = *p++;
        }
    }
    *w = '\0';
    return tp_slice_make(out, (size_t)(w - out));
}

/* A Python dict keeps the first position of a key and the last value stored under it. */
static void args_set(tp_arena *a, tp_args *args, tp_slice name, tp_slice value)
{
    for (size_t i = 0; i < args->n; i++)
        if (tp_slice_eq(args->v[i].name, name)) {
            args->v[i].value = value;
            return;
        }
    tp_args_add(a, args, name, value);
}

int tp_cookie_parse(tp_arena *a, tp_slice header, tp_args *out)
{
    const char *p = header.p, *end = header.p + header.n;
    while (p && p <= end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *stop = semi ? semi : end;
        tp_slice chunk = tp_slice_make(p, (size_t)(stop - p));
        const char *eq = memchr(chunk.p, '=', chunk.n);
        tp_slice key = TP_SLICE_LIT(""), val = chunk;
        if (eq) {
            key = tp_slice_make(chunk.p, (size_t)(eq - chunk.p));
            val = tp_slice_make(eq + 1, (size_t)(stop - eq - 1));
        }
        key = tp_slice_strip_bytes(key, py_space), val = tp_slice_strip_bytes(val, py_space);
        if (key.n || val.n)
            args_set(a, out, key, cookie_unquote(a, val));
        p = semi ? semi + 1 : NULL;
    }
    return 0;
}

bool tp_cookie_name_legal(tp_slice name)
{
    static const char *const reserved[] = {"expires", "path",     "comment", "domain",  "max-age",
                                           "secure",  "httponly", "version", "samesite"};
    if (name.n == 0)
        return false;
    for (size_t i = 0; i < name.n; i++)
        if (!legal_char((unsigned char)name.p[i]))
            return false;
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (tp_slice_caseeq(name, tp_slice_cstr(reserved[i])))
            return false;
    return true;
}

tp_cookie_attrs tp_cookie_attrs_default(void)
{
    return (tp_cookie_attrs){.path = "/", .max_age = -1};
}

/* One code point of strict UTF-8 (as Python's decoder: no overlongs, surrogates or values
 * above U+10FFFF); returns its length, or 0 if invalid. */

/* http.cookies._quote over the UTF-8 decoded value: unchanged if every character is legal,
 * else in double quotes with " and \ escaped and code points below 256 outside
 * _UnescapedChars as \ooo. Returns the end of what was written to w (room: 4n + 2), or
 * NULL if v is not UTF-8. */
static char *cookie_quote(char *w, tp_slice v)
{
    bool plain = v.n > 0;
    for (size_t i = 0; i < v.n && plain; i++)
        plain = legal_char((unsigned char)v.p[i]);
    if (plain) {
        memcpy(w, v.p, v.n);
        return w + v.n;
    }
    const unsigned char *p = (const unsigned char *)v.p;
    *w++ = '"';
    for (size_t i = 0; i < v.n;) {
        uint32_t cp;
        size_t len = tp_utf8_decode(p + i, v.n - i, &cp);
        if (len == 0)
            return NULL;
        if (cp == '"' || cp == '\\') {
            *w++ = '\\', *w++ = (char)cp;
        } else if (cp >= 256 || legal_char((unsigned char)cp) ||
                   (cp && strchr(" ()/<=>?@[]{}", (int)cp))) {
            memcpy(w, p + i, len), w += len;
        } else {
            w += sprintf(w, "\\%03o", cp);
        }
        i += len;
    }
    *w++ = '"';
    return w;
}

/* Tornado 6.5.5 refuses these in the name and in domain, path and samesite. */
static bool attr_unsafe(tp_slice s)
{
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c <= 0x20 || c == ';' || c == 0x7f)
            return true;
    }
    return false;
}

static bool has_ctl_or_space(tp_slice s)
{
    for (size_t i = 0; i < s.n; i++)
        if ((unsigned char)s.p[i] <= 0x20)
            return true;
    return false;
}

static char *put_attr(char *w, const char *key, const char *val)
{
    w += sprintf(w, "; %s", key);
    if (val) {
        size_t n = strlen(val);
        *w++ = '=';
        memcpy(w, val, n), w += n;
    }
    return w;
}

/* Morsel.OutputString writes the attributes sorted by their lowercase keys: domain,
 * expires, httponly, max-age, path, samesite, secure. */
int tp_cookie_format(tp_arena *a, tp_slice name, tp_slice value, const tp_cookie_attrs *attrs,
                     tp_slice *out)
{
    tp_cookie_attrs def = tp_cookie_attrs_default();
    if (!attrs)
        attrs = &def;
    const char *dom = attrs->domain && *attrs->domain ? attrs->domain : NULL;
    const char *path = attrs->path && *attrs->path ? attrs->path : NULL;
    const char *ss = attrs->samesite && *attrs->samesite ? attrs->samesite : NULL;
    if (has_ctl_or_space(name) || has_ctl_or_space(value) || attr_unsafe(tp_slice_cstr(dom)) ||
        attr_unsafe(tp_slice_cstr(path)) || attr_unsafe(tp_slice_cstr(ss)) ||
        !tp_cookie_name_legal(name))
        return -EINVAL;
    size_t room = name.n + 4 * value.n + 3 + strlen(dom ? dom : "") + strlen(path ? path : "") +
                  strlen(ss ? ss : "") + 160;
    char *buf = tp_arena_alloc(a, room), *w = buf;
    memcpy(w, name.p, name.n), w += name.n;
    *w++ = '=';
    if (!(w = cookie_quote(w, value)))
        return -EINVAL;
    if (dom)
        w = put_attr(w, "Domain", dom);
    if (attrs->expires) {
        char date[TP_HTTP_DATE_LEN + 1];
        tp_http_date_format(attrs->expires, date);
        w = put_attr(w, "expires", date);
    }
    if (attrs->httponly)
        w = put_attr(w, "HttpOnly", NULL);
    if (attrs->max_age != -1 && attrs->max_age != 0)
        w += sprintf(w, "; Max-Age=%ld", attrs->max_age);
    if (path)
        w = put_attr(w, "Path", path);
    if (ss)
        w = put_attr(w, "SameSite", ss);
    if (attrs->secure)
        w = put_attr(w, "Secure", NULL);
    *w = '\0';
    *out = tp_slice_make(buf, (size_t)(w - buf));
    return 0;
}

/* ---- signed values ------------------------------------------------------------------ */

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
