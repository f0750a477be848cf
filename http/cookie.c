/* Cookie headers as Tornado 6.5 handles them; see http/cookie.h. The Python sources this
 * follows are tornado/httputil.py (parse_cookie), tornado/web.py (set_cookie) and
 * http/cookies.py (_quote, _unquote, Morsel.OutputString). */
#include "http/cookie.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/hex.h"
#include "core/utf8.h"
#include "http/date.h"

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
