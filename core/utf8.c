/* UTF-8 decoding and Python whitespace (core/utf8.h). */
#include <string.h>

#include "core/utf8.h"

size_t tp_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    size_t len = p[0] < 0x80   ? 1
                 : p[0] < 0xc2 ? 0
                 : p[0] < 0xe0 ? 2
                 : p[0] < 0xf0 ? 3
                 : p[0] < 0xf5 ? 4
                               : 0;
    if (len == 0 || len > n)
        return 0;
    uint32_t c = len == 1 ? p[0] : p[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (p[i] & 0x3f);
    }
    if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

bool tp_py_isspace(uint32_t c)
{
    return (c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
           c == 0x202f || c == 0x205f || c == 0x3000;
}

bool tp_py_isspace_latin1(unsigned char c)
{
    return tp_py_isspace(c);
}

tp_slice tp_py_strip(tp_slice s)
{
    uint32_t cp;
    size_t k;
    while (s.n && (k = tp_utf8_decode((const unsigned char *)s.p, s.n, &cp)) && tp_py_isspace(cp))
        s.p += k, s.n -= k;
    while (s.n) {
        size_t i = s.n - 1;
        while (i > 0 && ((unsigned char)s.p[i] & 0xc0) == 0x80)
            i--;
        if (!tp_utf8_decode((const unsigned char *)s.p + i, s.n - i, &cp) || !tp_py_isspace(cp))
            break;
        s.n = i;
    }
    return s;
}

tp_slice tp_slice_strip_bytes(tp_slice s, bool (*space)(unsigned char c))
{
    while (s.n && space((unsigned char)s.p[0]))
        s.p++, s.n--;
    while (s.n && space((unsigned char)s.p[s.n - 1]))
        s.n--;
    return s;
}

size_t tp_utf8_encode(char *w, uint32_t c)
{
    if (c < 0x80)
        return w[0] = (char)c, 1;
    size_t n = c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    for (size_t i = n - 1; i > 0; i--, c >>= 6)
        w[i] = (char)(0x80 | (c & 0x3f));
    w[0] = (char)((0xf00 >> n) | c); /* 110xxxxx, 1110xxxx, 11110xxx */
    return n;
}

void tp_py_bytes_repr(tp_buf *b, tp_slice s)
{
    char q = s.n && memchr(s.p, '\'', s.n) && !memchr(s.p, '"', s.n) ? '"' : '\'';
    tp_buf_appendf(b, "b%c", q);
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        const char *esc = c == '\t' ? "\\t" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : NULL;
        if (esc)
            tp_buf_append(b, esc, 2);
        else if (c == '\\' || c == (unsigned char)q)
            tp_buf_appendf(b, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            tp_buf_appendf(b, "\\x%02x", c);
        else
            tp_buf_append(b, &s.p[i], 1);
    }
    tp_buf_append(b, &q, 1);
}

tp_slice tp_latin1_to_utf8(tp_arena *a, tp_slice s)
{
    size_t high = 0;
    for (size_t i = 0; i < s.n; i++)
        high += (unsigned char)s.p[i] >= 0x80;
    if (!high)
        return s;
    char *out = tp_arena_alloc(a, s.n + high), *w = out;
    for (size_t i = 0; i < s.n; i++)
        w += tp_utf8_encode(w, (unsigned char)s.p[i]);
    return tp_slice_make(out, s.n + high);
}

size_t tp_utf8_len(const char *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += ((unsigned char)p[i] & 0xc0) != 0x80;
    return k;
}

size_t tp_utf8_prefix(const char *p, size_t n, size_t k)
{
    size_t i = 0;
    for (; i < n && k; k--)
        for (i++; i < n && ((unsigned char)p[i] & 0xc0) == 0x80;)
            i++;
    return i;
}
