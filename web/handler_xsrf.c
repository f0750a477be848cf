/* XSRF protection as Tornado's RequestHandler does it: a raw 16-byte token kept in the
 * "_xsrf" cookie, handed to pages masked with a fresh 4-byte mask each request (version 2,
 * against BREACH) or as hex (version 1), and checked on every non-GET/HEAD/OPTIONS request
 * against the "_xsrf" argument or the X-Xsrftoken / X-Csrftoken header. */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/hex.h"
#include "core/escape.h"
#include "web/web_internal.h"

#define TOKEN_LEN 16

struct raw_token {
    int version; /* 0: newly generated (no valid cookie) */
    unsigned char token[64];
    size_t len;
    long long timestamp;
};
typedef struct raw_token raw_token;

/* binascii.a2b_hex: even length, hex digits only. */
static bool from_hex(tp_slice s, unsigned char *out, size_t cap, size_t *n)
{
    if (s.n % 2 || s.n / 2 > cap)
        return false;
    for (size_t i = 0; i < s.n; i += 2) {
        int hi = tp_hex_value(s.p[i]), lo = tp_hex_value(s.p[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    *n = s.n / 2;
    return true;
}

/* "2|mask|masked|timestamp": false for anything else (Tornado's catch-all returns None). */
static bool decode_v2(tp_slice s, raw_token *t)
{
    tp_slice f[4];
    size_t k = 0;
    const char *p = s.p, *end = s.p + s.n;
    while (k < 4) {
        const char *bar = memchr(p, '|', (size_t)(end - p));
        f[k++] = (tp_slice){p, (size_t)((bar ? bar : end) - p)};
        if (!bar)
            break;
        p = bar + 1;
    }
    if (k != 4 || memchr(f[3].p, '|', f[3].n))
        return false;
    unsigned char mask[64];
    size_t mask_len, len;
    if (!from_hex(f[1], mask, sizeof(mask), &mask_len) ||
        !from_hex(f[2], t->token, sizeof(t->token), &len) || (len && !mask_len))
        return false;
    for (size_t i = 0; i < len; i++) /* _websocket_mask: the mask repeats */
        t->token[i] ^= mask[i % mask_len];
    char num[24];
    if (f[3].n == 0 || f[3].n >= sizeof(num))
        return false;
    memcpy(num, f[3].p, f[3].n);
    num[f[3].n] = '\0';
    char *stop;
    t->timestamp = strtoll(num, &stop, 10);
    if (*stop)
        return false;
    t->len = len;
    t->version = 2;
    return true;
}

/* Tornado's _decode_xsrf_token: "N|..." is versioned (only 2 is known); anything else is v1,
 * hex-decoded when it is hex and taken verbatim otherwise. */
static bool decode_token(tp_slice s, raw_token *t)
{
    size_t digits = 0;
    while (digits < s.n && s.p[digits] >= '0' && s.p[digits] <= '9')
        digits++;
    if (digits && s.p[0] != '0' && digits < s.n && s.p[digits] == '|')
        return digits == 1 && s.p[0] == '2' && decode_v2(s, t);
    if (!from_hex(s, t->token, sizeof(t->token), &t->len)) {
        if (s.n > sizeof(t->token))
            return false;
        memcpy(t->token, s.p, s.n);
        t->len = s.n;
    }
    t->version = 1;
    t->timestamp = (long long)time(NULL);
    return true;
}

static const char *cookie_name(tp_handler *h)
{
    const char *n = h->app->settings.xsrf_cookie_name;
    return n && *n ? n : "_xsrf";
}

/* The token from the cookie, or a new random one (cached per request). */
static raw_token *raw(tp_handler *h)
{
    if (h->xsrf_raw)
        return h->xsrf_raw;
    raw_token *t = tp_arena_calloc(&h->req->arena, sizeof(*t));
    const char *cookie = tp_get_cookie(h, cookie_name(h), NULL);
    if (!cookie || !*cookie || !decode_token(tp_slice_cstr(cookie), t)) {
        *t = (raw_token){.len = TOKEN_LEN, .timestamp = (long long)time(NULL)};
        RAND_bytes(t->token, TOKEN_LEN);
    }
    h->xsrf_raw = t;
    return t;
}

const char *tp_xsrf_token(tp_handler *h)
{
    if (h->xsrf_token)
        return h->xsrf_token;
    raw_token *t = raw(h);
    char hex[2 * sizeof(t->token) + 1];
    if (h->app->settings.xsrf_cookie_version == 1) {
        tp_hex_encode(t->token, t->len, hex);
        h->xsrf_token = tp_arena_strndup(&h->req->arena, hex, strlen(hex));
    } else {
        unsigned char mask[4], masked[sizeof(t->token)];
        char mask_hex[9];
        RAND_bytes(mask, sizeof(mask));
        for (size_t i = 0; i < t->len; i++)
            masked[i] = t->token[i] ^ mask[i % 4];
        tp_hex_encode(mask, 4, mask_hex);
        tp_hex_encode(masked, t->len, hex);
        h->xsrf_token =
            tp_arena_printf(&h->req->arena, "2|%s|%s|%lld", mask_hex, hex, t->timestamp);
    }
    if (t->version == 0) { /* new: the browser gets the cookie */
        tp_cookie_attrs attrs = h->app->settings.xsrf_cookie_attrs
                                    ? *h->app->settings.xsrf_cookie_attrs
                                    : tp_cookie_attrs_default();
        if (!attrs.expires && tp_current_user(h))
            attrs.expires = time(NULL) + 30 * 86400;
        tp_set_cookie(h, cookie_name(h), h->xsrf_token, &attrs);
    }
    return h->xsrf_token;
}

const char *tp_xsrf_form_html(tp_handler *h)
{
    tp_slice v = tp_xhtml_escape(&h->req->arena, tp_slice_cstr(tp_xsrf_token(h)));
    return tp_arena_printf(&h->req->arena, "<input type=\"hidden\" name=\"_xsrf\" value=\"%.*s\"/>",
                           TP_SLICE_FMT(v));
}

int tp_check_xsrf_cookie(tp_handler *h)
{
    const char *given = tp_get_argument(h, "_xsrf", NULL);
    tp_slice hdr = TP_SLICE_NULL;
    if (!given || !*given)
        hdr = tp_headers_get(&h->req->headers, TP_SLICE_LIT("X-Xsrftoken"));
    if ((!given || !*given) && (!hdr.p || !hdr.n))
        hdr = tp_headers_get(&h->req->headers, TP_SLICE_LIT("X-Csrftoken"));
    tp_slice token = given && *given ? tp_slice_cstr(given) : hdr;
    const char *why = NULL;
    raw_token got = {0};
    if (!token.p || !token.n)
        why = "'_xsrf' argument missing from POST";
    else if (!decode_token(token, &got) || !got.len)
        why = "'_xsrf' argument has invalid format";
    else {
        raw_token *want = raw(h);
        if (got.len != want->len || CRYPTO_memcmp(got.token, want->token, got.len) != 0)
            why = "XSRF cookie does not match POST argument";
    }
    if (!why)
        return 0;
    tp_http_error(h, 403, NULL, "%s", why);
    return -EPERM;
}
