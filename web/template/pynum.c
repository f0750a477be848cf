/* Python's number conversions that need exact arithmetic: the digits of large floats (for
 * `'%d' % 1e300`), int(str, base) as CPython 3.11 parses it, and round() with a negative
 * ndigits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "core/utf8.h"
#include "web/template/pynum.h"

#define LIMB 1000000000u /* base of the big integer in tpl_trunc_digits */

size_t tpl_cp_decode(const char *s, size_t n, uint32_t *cp)
{
    size_t len = tp_utf8_decode((const unsigned char *)s, n, cp);
    if (len == 0)
        *cp = (unsigned char)s[0], len = 1;
    return len;
}

/* |d| = mant * 2^e is multiplied out in base-10^9 limbs (at most 35 for 2^1024). */
size_t tpl_trunc_digits(double d, char *out)
{
    uint32_t limb[40];
    size_t n = 0, k = 0;
    int e;
    double m = isfinite(d) ? frexp(trunc(fabs(d)), &e) : (e = 0, 0.0);
    uint64_t mant = (uint64_t)ldexp(m, 53);
    e -= 53;
    if (e < 0) /* an integer: the bits shifted out are zero */
        mant = e <= -64 ? 0 : mant >> -e, e = 0;
    for (; mant; mant /= LIMB)
        limb[n++] = (uint32_t)(mant % LIMB);
    for (; e > 0 && n; e -= 29) {
        uint64_t carry = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t cur = ((uint64_t)limb[i] << (e < 29 ? e : 29)) + carry;
            limb[i] = (uint32_t)(cur % LIMB), carry = cur / LIMB;
        }
        for (; carry; carry /= LIMB)
            limb[n++] = (uint32_t)(carry % LIMB);
    }
    if (n == 0)
        return out[0] = '0', 1;
    char top[12];
    int t = snprintf(top, sizeof top, "%u", limb[n - 1]);
    memcpy(out, top, (size_t)t);
    k = (size_t)t;
    for (size_t i = n - 1; i-- > 0; k += 9)
        for (int j = 8, v = (int)limb[i]; j >= 0; j--, v /= 10)
            out[k + (size_t)j] = (char)('0' + v % 10);
    return k;
}

/* ---- int(str, base) ------------------------------------------------------------------- */

/* The zero of every run of Unicode decimal digits (category Nd, Unicode 14 as Python 3.11)
 * outside ASCII; each run is ten consecutive code points. */
static const uint32_t nd_zero[] = {
    0x660,   0x6f0,   0x7c0,   0x966,   0x9e6,   0xa66,   0xae6,   0xb66,   0xbe6,   0xc66,
    0xce6,   0xd66,   0xde6,   0xe50,   0xed0,   0xf20,   0x1040,  0x1090,  0x17e0,  0x1810,
    0x1946,  0x19d0,  0x1a80,  0x1a90,  0x1b50,  0x1bb0,  0x1c40,  0x1c50,  0xa620,  0xa8d0,
    0xa900,  0xa9d0,  0xa9f0,  0xaa50,  0xabf0,  0xff10,  0x104a0, 0x10d30, 0x11066, 0x110f0,
    0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950,
    0x11c50, 0x11d50, 0x11da0, 0x16a60, 0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec,
    0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
};

/* str.isspace() outside ASCII. */
static bool uni_space(uint32_t c)
{
    return c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 ||
           c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

static int uni_decimal(uint32_t c)
{
    for (size_t i = 0; i < TP_ARRAY_LEN(nd_zero); i++)
        if (c >= nd_zero[i] && c < nd_zero[i] + 10)
            return (int)(c - nd_zero[i]);
    return -1;
}

/* _PyUnicode_TransformDecimalAndSpaceToASCII: other non-ASCII code points become '?', which
 * no base accepts. */
static tp_slice ascii_text(tpl_render *r, tp_slice s)
{
    char *t = tp_arena_alloc(&r->arena, s.n + 1);
    size_t k = 0;
    for (size_t i = 0; i < s.n;) {
        uint32_t c;
        i += tpl_cp_decode(s.p + i, s.n - i, &c);
        int d = c < 0x80 ? -1 : uni_decimal(c);
        t[k++] = c < 0x80 ? (char)c : uni_space(c) ? ' ' : d >= 0 ? (char)('0' + d) : '?';
    }
    return tp_slice_make(t, k);
}

static int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'z' ? c - 'a' + 10 : 99;
}

static bool py_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

typedef struct int_text {
    uint64_t mag;
    bool neg, big; /* big: over 64 bits */
    size_t digits;
} int_text;

/* The base prefix rules of PyLong_FromString: base 0 picks the base from 0x/0o/0b (a
 * leading 0 otherwise only allows zero: *zero_only); a matching prefix and one underscore
 * after it are skipped. */
static const char *int_prefix(const char *p, const char *end, int *base, bool *zero_only)
{
    char x = p + 1 < end ? (char)(p[1] | 0x20) : 0;
    bool zero = p < end && *p == '0';
    if (*base == 0) {
        *base = !zero ? 10 : x == 'x' ? 16 : x == 'o' ? 8 : x == 'b' ? 2 : 10;
        *zero_only = zero && x != 'x' && x != 'o' && x != 'b';
    }
    if (zero && ((*base == 16 && x == 'x') || (*base == 8 && x == 'o') || (*base == 2 && x == 'b')))
        p += 2 + (p + 2 < end && p[2] == '_');
    return p;
}

/* PyLong_FromString on ASCII text: 0, -1 for an invalid literal, -2 over 4300 digits. */
static int int_parse(tp_slice s, int base, int_text *t)
{
    const char *p = s.p, *end = s.p + s.n;
    bool zero_only = false;
    char prev = 0;
    while (p < end && py_space(*p))
        p++;
    if (p < end && (*p == '+' || *p == '-'))
        t->neg = *p++ == '-';
    p = int_prefix(p, end, &base, &zero_only);
    const char *start = p;
    for (; p < end && (digit_value(*p) < base || (*p == '_' && p > start)); prev = *p++) {
        if (*p == '_' && prev == '_')
            return -1;
        if (*p == '_')
            continue;
        unsigned __int128 v =
            (unsigned __int128)t->mag * (unsigned)base + (unsigned)digit_value(*p);
        t->big |= v > UINT64_MAX;
        t->mag = (uint64_t)v;
        t->digits++;
    }
    if (prev == '_' || (p < end && *p == '_' && p == start))
        return -1;
    if ((base & (base - 1)) && t->digits > 4300)
        return -2;
    if (p == start || (zero_only && (t->mag || t->big)))
        return -1;
    while (p < end && py_space(*p))
        p++;
    return p == end ? 0 : -1;
}

int tpl_int_from_str(tpl_render *r, tp_slice s, int base, int64_t *out)
{
    int_text t = {0};
    int rc = int_parse(ascii_text(r, s), base, &t);
    if (rc == -2)
        return tpl_raise(r, EX_VALUE,
                         "Exceeds the limit (4300 digits) for integer string conversion: value "
                         "has %zu digits; use sys.set_int_max_str_digits() to increase the limit",
                         t.digits);
    if (rc < 0) {
        tp_buf_clear(&r->scratch);
        tpl_repr_str(&r->scratch, s);
        tp_slice q = tpl_buf_slice(&r->scratch);
        size_t cut = 0; /* "%.200R": the first 200 code points of the repr */
        for (size_t cps = 0; cut < q.n && cps < 200; cps++)
            cut += tpl_cp_decode(q.p + cut, q.n - cut, &(uint32_t){0});
        return tpl_raise(r, EX_VALUE, "invalid literal for int() with base %d: %.*s", base,
                         (int)cut, q.p);
    }
    if (t.big || t.mag > (uint64_t)INT64_MAX + t.neg)
        return tpl_raise(r, EX_OVERFLOW, "integer overflow (template ints are 64-bit)");
    *out = t.neg ? (t.mag ? -(int64_t)(t.mag - 1) - 1 : 0) : (int64_t)t.mag;
    return 0;
}

/* ---- round ---------------------------------------------------------------------------- */

int tpl_round_int(tpl_render *r, int64_t v, int64_t ndigits, int64_t *out)
{
    if (ndigits >= 0 || v == 0 || ndigits < -19) { /* |v| < 10**19 / 2 rounds to 0 */
        *out = ndigits >= -19 ? v : 0;
        return 0;
    }
    uint64_t p = 1, mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    for (int64_t i = 0; i < -ndigits; i++)
        p *= 10;
    uint64_t q = mag / p, rem = mag % p;
    q += rem > p / 2 || (rem == p / 2 && (q & 1));
    unsigned __int128 res = (unsigned __int128)q * p;
    if (res > (unsigned __int128)INT64_MAX + (v < 0))
        return tpl_raise(r, EX_OVERFLOW, "integer overflow (template ints are 64-bit)");
    *out = v < 0 ? (res ? -(int64_t)(res - 1) - 1 : 0) : (int64_t)res;
    return 0;
}

/* round(d, -k), 1 <= k <= 308: the exact integer part's digits rounded half to even at
 * 10**k (a fraction only breaks ties upward), then correctly rounded back by strtod. */
static double round_neg(double d, int k)
{
    char buf[TPL_DIGITS_MAX + 16];
    double ad = fabs(d), ip = trunc(ad);
    size_t n = tpl_trunc_digits(ip, buf + 1), h = n - (size_t)k;
    if (n < (size_t)k) /* below 10**(k-1) */
        return copysign(0.0, d);
    buf[0] = '0'; /* absorbs a carry out of the head */
    int c = buf[1 + h] - '5';
    for (size_t i = h + 2; c == 0 && i <= n; i++)
        c = buf[i] != '0';
    if (c > 0 || (c == 0 && (ad > ip || (buf[h] - '0') % 2))) {
        size_t i = h;
        while (buf[i] == '9')
            buf[i--] = '0';
        buf[i]++;
    }
    snprintf(buf + h + 1, 16, "e%d", k);
    return copysign(strtod(buf, NULL), d);
}

double tpl_round_float(double d, int64_t ndigits)
{
    if (!isfinite(d) || ndigits > 323) /* CPython's NDIGITS_MAX and NDIGITS_MIN */
        return d;
    if (ndigits < -308)
        return copysign(0.0, d);
    if (ndigits < 0)
        return round_neg(d, (int)-ndigits);
    char tmp[700]; /* 309 integer digits, 323 decimals, sign, point */
    snprintf(tmp, sizeof tmp, "%.*f", (int)ndigits, d);
    return strtod(tmp, NULL);
}
