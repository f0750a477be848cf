/* tornado.escape (Tornado 6.5): xhtml_escape/unescape (html.escape/unescape), url_escape,
 * json_encode/decode over jansson, squeeze, linkify (Tornado's _URL_RE, run by PCRE2). */
#include "core/escape.h"
#include "core/escape_internal.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <locale.h>
#include <pcre2.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/hex.h"
#include "core/utf8.h"

/* ---- UTF-8 -------------------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (1-4) with its code point in *cp, or 0 when the
 * bytes are not one (truncated, overlong, surrogate, above U+10FFFF). */
static void buf_put_cp(tp_buf *b, uint32_t c)
{
    tp_buf_commit(b, tp_utf8_encode(tp_buf_reserve(b, 4), c));
}

/* ASCII runs eight bytes at a time (WebSocket text messages are checked whole). */
bool tp_utf8_valid(tp_slice s)
{
    const unsigned char *p = (const unsigned char *)s.p;
    uint32_t c;
    for (size_t i = 0, len; i < s.n; i += len) {
        uint64_t w;
        if (s.n - i >= 8 && (memcpy(&w, p + i, 8), (w & 0x8080808080808080ull) == 0)) {
            len = 8;
            continue;
        }
        if ((len = tp_utf8_decode(p + i, s.n - i, &c)) == 0)
            return false;
    }
    return true;
}

/* The buffer's bytes as a NUL-terminated arena copy; the buffer is freed. */
static tp_slice buf_to_arena(tp_arena *a, tp_buf *b)
{
    tp_slice s = tp_arena_slice_dup(a, b->len ? tp_buf_slice(b) : TP_SLICE_LIT(""));
    tp_buf_free(b);
    return s;
}

static void buf_put_slice(tp_buf *b, tp_slice s)
{
    if (s.n)
        tp_buf_append(b, s.p, s.n);
}

/* ---- xhtml_escape ------------------------------------------------------------------------- */

/* The five specials by byte (1-5), their entities (padded to 8 bytes, copied whole), and the
 * bytes a byte becomes by its number (0 for the others). */
static const uint8_t xhtml_special[256] = {['&'] = 1, ['<'] = 2, ['>'] = 3, ['"'] = 4, ['\''] = 5};
static const char xhtml_entity[6][8] = {"", "&amp;", "&lt;", "&gt;", "&quot;", "&#x27;"};
static const uint8_t xhtml_out_len[6] = {1, 5, 4, 4, 6, 6};

/* The escaped text runs 6 times longer at most; the writer below stores 8 bytes for each byte,
 * so it needs XHTML_SLACK bytes of room past the escaped end. */
#define XHTML_MAX_GROWTH 6
#define XHTML_SLACK      16

/* Escapes n bytes at p to w, one byte a step without a branch: each byte or its entity is
 * stored as 8 bytes, and the write position moves by the length of what it is. */
static char *escape_bytes(char *w, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)p[i];
        uint8_t e = xhtml_special[b];
        uint64_t v;
        memcpy(&v, xhtml_entity[e], 8);
        v = e ? v : b;
        memcpy(w, &v, 8);
        w += xhtml_out_len[e];
    }
    return w;
}

#ifdef __SSE2__
/* Bit i set when byte i of x is one of & < > " '. */
static inline unsigned specials16(__m128i x)
{
    __m128i m =
        _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('&')), _mm_cmpeq_epi8(x, _mm_set1_epi8('<')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8('>')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8('"')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8('\'')));
    return (unsigned)_mm_movemask_epi8(m);
}

static inline bool special16(__m128i x)
{
    return specials16(x) != 0;
}

/* Copies n < 16 bytes from p to w, none outside [p, p + n) and [w, w + n); returns w + n.
 * tp_buf_put (core/buf.h) moves its small texts the same way; sharing one routine measured
 * 3-5 % slower on the template bench (tp_buf_put's branches laid out otherwise). */
static inline char *copy_small(char *w, const char *p, size_t n)
{
    if (n >= 8) {
        memcpy(w, p, 8);
        memcpy(w + n - 8, p + n - 8, 8);
    } else if (n >= 4) {
        memcpy(w, p, 4);
        memcpy(w + n - 4, p + n - 4, 4);
    } else if (n) {
        w[0] = p[0];
        w[n / 2] = p[n / 2];
        w[n - 1] = p[n - 1];
    }
    return w + n;
}

/* Text of 4 to 15 bytes, read with two overlapping loads (never past the end): copied whole
 * when it has no special (most values in a page); else each run between specials is copied
 * and each special written as its entity, one step per special. */
static char *escape_short(char *w, const char *p, size_t n)
{
    unsigned m;
    if (n >= 8) {
        uint64_t lo, hi;
        memcpy(&lo, p, 8);
        memcpy(&hi, p + n - 8, 8);
        m = specials16(_mm_set_epi64x((long long)hi, (long long)lo));
        if (!m) {
            memcpy(w, &lo, 8);
            memcpy(w + n - 8, &hi, 8);
            return w + n;
        }
        m = (m & 0xff) | (m >> 8) << (n - 8); /* hi's bits moved to their bytes' places */
    } else {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + n - 4, 4);
        m = specials16(_mm_set_epi32(0, 0, (int)hi, (int)lo));
        if (!m) {
            memcpy(w, &lo, 4);
            memcpy(w + n - 4, &hi, 4);
            return w + n;
        }
        m = (m & 0xf) | (m >> 4 & 0xf) << (n - 4);
    }
    size_t pos = 0;
    for (; m; m &= m - 1) {
        size_t k = (size_t)__builtin_ctz(m);
        w = copy_small(w, p + pos, k - pos);
        uint8_t e = xhtml_special[(unsigned char)p[k]];
        memcpy(w, xhtml_entity[e], 8);
        w += xhtml_out_len[e];
        pos = k + 1;
    }
    return copy_small(w, p + pos, n - pos);
}

/* Text of 16 bytes or more: blocks of 16 without a special are copied whole, the others byte
 * by byte; the last block overlaps the one before when the length is not a multiple of 16. */
static char *escape_long(char *w, const char *p, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(p + i));
        if (special16(x)) {
            w = escape_bytes(w, p + i, 16);
        } else {
            _mm_storeu_si128((__m128i *)w, x);
            w += 16;
        }
    }
    if (i == n)
        return w;
    __m128i x = _mm_loadu_si128((const __m128i *)(p + n - 16));
    if (special16(x)) /* the bytes before p + i in it were plain: stored again, unchanged */
        return escape_bytes(w, p + i, n - i);
    _mm_storeu_si128((__m128i *)(w - (i - (n - 16))), x);
    return w + (n - i);
}
#endif

/* Writes s escaped at w (room for the escaped length + XHTML_SLACK); returns the end. Runs
 * without a special are found 16 bytes at a time (SSE2) and copied whole; the rest goes byte
 * by byte. Short texts without a special, most values in a page, take no loop at all. */
static inline __attribute__((always_inline)) char *escape_to(char *w, tp_slice s)
{
#ifdef __SSE2__
    if (s.n >= 16)
        return escape_long(w, s.p, s.n);
    if (s.n >= 4)
        return escape_short(w, s.p, s.n);
#endif
    return escape_bytes(w, s.p, s.n);
}

static size_t escaped_len(tp_slice s)
{
    static const uint8_t extra[6] = {0, 4, 3, 3, 5, 5}; /* entity length - 1 */
    size_t n = s.n;
    for (size_t i = 0; i < s.n; i++)
        n += extra[xhtml_special[(unsigned char)s.p[i]]];
    return n;
}

tp_slice tp_xhtml_escape(tp_arena *a, tp_slice s)
{
    size_t n = escaped_len(s);
    char *out = tp_arena_alloc(a, n + XHTML_SLACK);
    char *end = escape_to(out, s);
    *end = '\0';
    return (tp_slice){out, n};
}

void tp_xhtml_escape_buf(tp_buf *b, tp_slice s)
{
    if (!s.n)
        return;
    size_t room = b->cap - b->off - b->len, need = s.n * XHTML_MAX_GROWTH + XHTML_SLACK;
    if (room < need) /* reserve what the text needs, not the worst case */
        need = escaped_len(s) + XHTML_SLACK;
    char *w = room >= need ? b->base + b->off + b->len : tp_buf_reserve(b, need);
    tp_buf_commit(b, (size_t)(escape_to(w, s) - w));
}

/* ---- xhtml_unescape ----------------------------------------------------------------------- */

/* Numeric references 0x80-0x9F name windows-1252 characters (HTML5's table; Python's
 * _invalid_charrefs). The five holes stay the C1 control itself. */
static const uint16_t cp1252[32] = {
    0x20ac, 0x81,   0x201a, 0x192,  0x201e, 0x2026, 0x2020, 0x2021, 0x2c6,  0x2030, 0x160,
    0x2039, 0x152,  0x8d,   0x17d,  0x8f,   0x90,   0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x2dc,  0x2122, 0x161,  0x203a, 0x153,  0x9d,   0x17e,  0x178,
};

/* Python's _replace_charref for a number: the replacements of the HTML5 spec, then the
 * code points that are dropped (controls, noncharacters). */
static void put_numeric_ref(tp_buf *b, uint32_t num)
{
    if (num == 0 || (num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff)
        buf_put_cp(b, 0xfffd);
    else if (num >= 0x80 && num <= 0x9f)
        buf_put_cp(b, cp1252[num - 0x80]);
    else if ((num >= 1 && num <= 8) || num == 0xb || (num >= 0xe && num <= 0x1f) || num == 0x7f ||
             (num >= 0xfdd0 && num <= 0xfdef) || (num & 0xfffe) == 0xfffe)
        return;
    else
        buf_put_cp(b, num);
}

/* "&#123;", "&#x7b", ... at p (p[0] == '&', p[1] == '#'): appends the character and returns
 * the bytes used, or 0 when no digits follow. Big numbers saturate (they become U+FFFD). */
static size_t numeric_ref(tp_buf *b, const char *p, size_t n)
{
    bool hex = n > 2 && (p[2] == 'x' || p[2] == 'X');
    size_t i = hex ? 3 : 2, start = i;
    uint32_t num = 0;
    for (; i < n; i++) {
        int d = hex                          ? tp_hex_value((unsigned char)p[i])
                : p[i] >= '0' && p[i] <= '9' ? p[i] - '0'
                                             : -1;
        if (d < 0)
            break;
        if (num <= 0x10ffff) /* saturates above: any bigger number is U+FFFD */
            num = num * (hex ? 16 : 10) + (uint32_t)d;
    }
    if (i == start)
        return 0;
    put_numeric_ref(b, num);
    return i < n && p[i] == ';' ? i + 1 : i;
}

/* A named reference at p (p[0] == '&'), as html.unescape reads one: up to 32 characters
 * that are not "\t\n\f <&#;", then an optional ';'. With the ';' the whole name must match;
 * else the longest legacy name that starts it does, and the rest stays text. Returns the
 * bytes replaced, or 0 (then the '&' is plain text). */
static size_t named_ref(tp_buf *b, const char *p, size_t n)
{
    size_t end = 1, chars = 0;
    for (; end < n && !memchr("\t\n\f <&#;", p[end], 8); end++)
        if (((unsigned char)p[end] & 0xc0) != 0x80 && ++chars > 32)
            break;
    const tp_html_entity *e;
    if (end < n && p[end] == ';' && (e = tp__html_entity_find(p + 1, end - 1))) {
        buf_put_cp(b, e->cp1);
        if (e->cp2)
            buf_put_cp(b, e->cp2);
        return end + 1;
    }
    for (size_t x = end - 1; x >= 2; x--)
        if ((e = tp__html_entity_find(p + 1, x)) && e->bare) {
            buf_put_cp(b, e->cp1);
            return 1 + x;
        }
    return 0;
}

tp_slice tp_xhtml_unescape(tp_arena *a, tp_slice s)
{
    tp_buf b = {0};
    size_t i = 0;
    while (i < s.n) {
        const char *amp = memchr(s.p + i, '&', s.n - i);
        size_t at = amp ? (size_t)(amp - s.p) : s.n, used = 0;
        buf_put_slice(&b, (tp_slice){s.p + i, at - i});
        if (at == s.n)
            break;
        if (at + 1 < s.n && s.p[at + 1] == '#')
            used = numeric_ref(&b, s.p + at, s.n - at);
        else
            used = named_ref(&b, s.p + at, s.n - at);
        if (used == 0) {
            tp_buf_append(&b, "&", 1);
            used = 1;
        }
        i = at + used;
    }
    return buf_to_arena(a, &b);
}

/* ---- URLs --------------------------------------------------------------------------------- */

static bool url_safe(unsigned char c, bool plus)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-' || c == '~' || (!plus && c == '/');
}

tp_slice tp_url_escape(tp_arena *a, tp_slice s, bool plus)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        n += url_safe(c, plus) || (plus && c == ' ') ? 1 : 3;
    }
    char *out = tp_arena_alloc(a, n + 1), *w = out;
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (url_safe(c, plus)) {
            *w++ = (char)c;
        } else if (plus && c == ' ') {
            *w++ = '+';
        } else {
            *w++ = '%';
            *w++ = hex[c >> 4];
            *w++ = hex[c & 15];
        }
    }
    *w = '\0';
    return (tp_slice){out, n};
}

tp_slice tp_url_unescape(tp_arena *a, tp_slice s, bool plus)
{
    char *out = tp_arena_alloc(a, s.n + 1), *w = out;
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        int hi, lo;
        if (c == '%' && i + 2 < s.n && (hi = tp_hex_value((unsigned char)s.p[i + 1])) >= 0 &&
            (lo = tp_hex_value((unsigned char)s.p[i + 2])) >= 0) {
            *w++ = (char)(hi * 16 + lo);
            i += 2;
        } else {
            *w++ = plus && c == '+' ? ' ' : (char)c;
        }
    }
    *w = '\0';
    return (tp_slice){out, (size_t)(w - out)};
}

bool tp_url_escapes_valid(tp_slice s)
{
    for (size_t i = 0; i < s.n; i++)
        if (s.p[i] == '%' && (i + 2 >= s.n || tp_hex_value((unsigned char)s.p[i + 1]) < 0 ||
                              tp_hex_value((unsigned char)s.p[i + 2]) < 0))
            return false;
    return true;
}

tp_slice tp_url_unescape_slice(tp_arena *a, tp_slice s, bool plus)
{
    return tp_url_unescape(a, s, plus);
}

/* ---- JSON --------------------------------------------------------------------------------- */

static void put_zeros(tp_buf *b, int k)
{
    for (; k > 0; k--)
        tp_buf_append(b, "0", 1);
}

/* Python's repr(float): the shortest digits that read back as d (found by trying 1 to 17
 * significant digits), in positional notation when the decimal exponent is in -4..15 and
 * "1e+16" style otherwise. Runs in the "C" locale (see tp_json_encode). */
static void put_py_float(tp_buf *b, double d)
{
    char tmp[40], digits[20];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    const char *p = tmp;
    size_t nd = 0;
    if (*p == '-')
        tp_buf_append(b, p++, 1);
    for (; *p != 'e'; p++)
        if (*p != '.')
            digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    int exp = atoi(p + 1), decpt = digits[0] == '0' ? 1 : exp + 1;
    if (decpt <= -4 || decpt > 16) {
        tp_buf_append(b, digits, 1);
        if (nd > 1) {
            tp_buf_append(b, ".", 1);
            tp_buf_append(b, digits + 1, nd - 1);
        }
        tp_buf_appendf(b, "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
    } else if (decpt <= 0) {
        tp_buf_append(b, "0.", 2);
        put_zeros(b, -decpt);
        tp_buf_append(b, digits, nd);
    } else if ((size_t)decpt >= nd) {
        tp_buf_append(b, digits, nd);
        put_zeros(b, decpt - (int)nd);
        tp_buf_append(b, ".0", 2);
    } else {
        tp_buf_append(b, digits, (size_t)decpt);
        tp_buf_append(b, ".", 1);
        tp_buf_append(b, digits + decpt, nd - (size_t)decpt);
    }
}

/* A number token of jansson's output at p: a real (it has '.' or an exponent) is rewritten
 * as Python prints it, an integer copied. Returns the token's length. */
static size_t put_number(tp_buf *b, const char *p)
{
    size_t n = strspn(p, "0123456789+-.eE");
    if (memchr(p, '.', n) || memchr(p, 'e', n) || memchr(p, 'E', n))
        put_py_float(b, strtod(p, NULL));
    else
        tp_buf_append(b, p, n);
    return n;
}

/* Turns jansson's output (ENSURE_ASCII, default separators) into json.dumps's plus
 * Tornado's "</" -> "<\/": jansson writes "\u00E9" where Python writes "\u00e9", leaves
 * DEL (0x7F) raw where Python writes "\u007f", and prints reals with 17 digits ("0.1" is
 * "0.10000000000000001", 1e16 "1e16"). Everything else, separators included, is already
 * Python's text. */
static void pythonize_json(tp_buf *b, const char *p)
{
    bool in_str = false;
    while (*p) {
        if (p[0] == '<' && p[1] == '/') {
            tp_buf_append(b, "<\\/", 3);
            p += 2;
        } else if (in_str && *p == '\\') {
            size_t k = p[1] == 'u' ? 6 : 2;
            char *w = tp_buf_reserve(b, k);
            for (size_t i = 0; i < k; i++)
                w[i] = i >= 2 && p[i] >= 'A' && p[i] <= 'F' ? (char)(p[i] | 0x20) : p[i];
            tp_buf_commit(b, k);
            p += k;
        } else if (in_str && *p == 0x7f) {
            tp_buf_append(b, "\\u007f", 6);
            p++;
        } else if (!in_str && (*p == '-' || (*p >= '0' && *p <= '9'))) {
            p += put_number(b, p);
        } else {
            if (*p == '"')
                in_str = !in_str;
            tp_buf_append(b, p++, 1);
        }
    }
}

/* strtod and printf follow LC_NUMERIC, which an app may have set to a locale with a decimal
 * comma; the reals are read and written in the "C" locale whatever it is. */
static locale_t c_numeric;
static pthread_once_t c_numeric_once = PTHREAD_ONCE_INIT;

static void c_numeric_init(void)
{
    c_numeric = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

/* jansson keeps keys in insertion order (JSON_PRESERVE_ORDER only matters before 2.8), and
 * without JSON_COMPACT or JSON_INDENT it separates with ", " and ": " as json.dumps does. */
tp_slice tp_json_encode(tp_arena *a, const json_t *v)
{
    if (!v)
        return TP_SLICE_NULL;
    char *raw = json_dumps(v, JSON_ENCODE_ANY | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER |
                                  JSON_REAL_PRECISION(17));
    if (!raw)
        return TP_SLICE_NULL;
    pthread_once(&c_numeric_once, c_numeric_init);
    locale_t old = c_numeric ? uselocale(c_numeric) : (locale_t)0;
    tp_buf b = {0};
    pythonize_json(&b, raw);
    if (old)
        uselocale(old);
    free(raw); /* jansson's default allocator is malloc */
    return buf_to_arena(a, &b);
}

json_t *tp_json_decode(tp_slice s, json_error_t *err)
{
    return json_loadb(s.n ? s.p : "", s.n, JSON_DECODE_ANY | JSON_ALLOW_NUL, err);
}

/* ---- squeeze ------------------------------------------------------------------------------ */

tp_slice tp_squeeze(tp_arena *a, tp_slice s)
{
    char *out = tp_arena_alloc(a, s.n + 1), *w = out;
    for (size_t i = 0; i < s.n;) {
        if ((unsigned char)s.p[i] <= 0x20) {
            *w++ = ' ';
            while (i < s.n && (unsigned char)s.p[i] <= 0x20)
                i++;
        } else {
            *w++ = s.p[i++];
        }
    }
    tp_slice r = tp_py_strip((tp_slice){out, (size_t)(w - out)});
    ((char *)r.p)[r.n] = '\0';
    return r;
}

/* ---- linkify ------------------------------------------------------------------------------ */

/* Tornado's _URL_RE. Python's \s is spelt out (PCRE2's differs: it lacks 0x1C-0x1F), \w and
 * \b are Unicode ones as in Python (UCP). Invalid UTF-8 is never part of a link. */
#define PY_SPACE                                                                                   \
    "\\t\\n\\x0b\\f\\r\\x1c-\\x20\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}"     \
    "\\x{202f}\\x{205f}\\x{3000}"
static const char url_pattern[] =
    "\\b((?:([\\w-]+):(/{1,3})|www[.])(?:(?:(?:[^" PY_SPACE "&()]|&amp;|&quot;)*"
    "(?:[^!\"#$%&'()*+,.:;<=>?@\\[\\]^`{|}~" PY_SPACE "]))|(?:\\((?:[^" PY_SPACE
    "&()]|&amp;|&quot;)*\\)))+)";

static pcre2_code *url_re;
static pthread_once_t url_re_once = PTHREAD_ONCE_INIT;

static void url_re_compile(void)
{
    int err;
    PCRE2_SIZE off;
    url_re = pcre2_compile((PCRE2_SPTR)url_pattern, PCRE2_ZERO_TERMINATED,
                           PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err, &off, NULL);
    if (!url_re) { /* a constant pattern: only a PCRE2 built without Unicode gets here */
        fprintf(stderr, "escape: cannot compile the linkify pattern (PCRE2 error %d)\n", err);
        abort();
    }
}

static bool protocol_permitted(const tp_linkify_opts *o, tp_slice proto)
{
    static const char *const defaults[] = {"http", "https", NULL};
    const char *const *list = o->permitted_protocols ? o->permitted_protocols : defaults;
    for (; *list; list++)
        if (tp_slice_eq(proto, tp_slice_cstr(*list)))
            return true;
    return false;
}

/* Tornado's clipping of a long link's text (max_len 30): host plus the first bit of the
 * path, or the first 30 characters; never inside an entity; "..." added. The result is
 * always a prefix of url, so it is returned as its length in bytes; url.n means no clip.
 * Lengths and positions count characters, as Python's do. */
static size_t shorten_len(tp_slice url, size_t proto_len)
{
    size_t keep = url.n;
    const char *slash = memchr(url.p + proto_len, '/', url.n - proto_len);
    if (slash) {
        const char *p1 = slash + 1, *end = url.p + url.n;
        size_t take = tp_utf8_prefix(p1, (size_t)(end - p1), 8);
        for (size_t i = 0; i < take; i++)
            if (p1[i] == '?' || p1[i] == '.' || p1[i] == '/') {
                take = i;
                break;
            }
        keep = (size_t)(p1 - url.p) + take;
    }
    if (tp_utf8_len(url.p, keep) > 45)
        keep = tp_utf8_prefix(url.p, keep, 30);
    if (keep == url.n)
        return url.n;
    const char *amp = memrchr(url.p, '&', keep);
    if (amp && tp_utf8_len(url.p, (size_t)(amp - url.p)) > 25)
        keep = (size_t)(amp - url.p);
    return tp_utf8_len(url.p, keep) + 3 >= tp_utf8_len(url.p, url.n) ? url.n : keep;
}

/* " " + the stripped text, as Tornado puts extra_params into the tag. */
static tp_slice tag_params(tp_arena *a, tp_slice extra)
{
    tp_slice t = tp_py_strip(extra);
    char *p = tp_arena_alloc(a, t.n + 2);
    p[0] = ' ';
    if (t.n)
        memcpy(p + 1, t.p, t.n);
    p[t.n + 1] = '\0';
    return (tp_slice){p, t.n + 1};
}

/* Tornado's make_link for one match (ov: PCRE2's offsets into t, the escaped text); params
 * is the tag text from extra_params (empty, or " " and the stripped text). */
static void put_link(tp_buf *b, tp_arena *a, tp_slice t, const PCRE2_SIZE *ov,
                     const tp_linkify_opts *o, tp_slice params)
{
    tp_slice url = {t.p + ov[2], ov[3] - ov[2]};
    bool has_proto = ov[4] != PCRE2_UNSET;
    if ((o->require_protocol && !has_proto) ||
        (has_proto && !protocol_permitted(o, (tp_slice){t.p + ov[4], ov[5] - ov[4]}))) {
        buf_put_slice(b, url);
        return;
    }
    tp_slice href = url;
    if (!has_proto) {
        char *h = tp_arena_alloc(a, url.n + 8); /* the text may hold NULs: no printf */
        memcpy(h, "http://", 7);
        memcpy(h + 7, url.p, url.n);
        h[url.n + 7] = '\0';
        href = (tp_slice){h, url.n + 7};
    }
    if (o->extra_params_fn)
        params = tag_params(a, o->extra_params_fn(o->extra_params_data, a, href));
    size_t shown = url.n;
    if (o->shorten && tp_utf8_len(url.p, url.n) > 30)
        shown = shorten_len(url, has_proto ? ov[7] - ov[2] : 0);
    tp_buf_append_str(b, "<a href=\"");
    buf_put_slice(b, href);
    tp_buf_append(b, "\"", 1);
    buf_put_slice(b, params);
    if (shown < url.n) { /* the full URL shows on mouse-over */
        tp_buf_append_str(b, " title=\"");
        buf_put_slice(b, href);
        tp_buf_append(b, "\"", 1);
    }
    tp_buf_append(b, ">", 1);
    buf_put_slice(b, (tp_slice){url.p, shown});
    tp_buf_append_str(b, shown < url.n ? "...</a>" : "</a>");
}

tp_slice tp_linkify(tp_arena *a, tp_slice s, const tp_linkify_opts *o)
{
    static const tp_linkify_opts defaults;
    if (!o)
        o = &defaults;
    pthread_once(&url_re_once, url_re_compile);
    tp_slice t = tp_xhtml_escape(a, s), params = TP_SLICE_LIT("");
    if (o->extra_params && *o->extra_params && !o->extra_params_fn)
        params = tag_params(a, tp_slice_cstr(o->extra_params));
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(url_re, NULL);
    if (!md)
        abort(); /* out of memory, as tp_malloc would */
    tp_buf b = {0};
    size_t pos = 0;
    /* A failed match (no link left, or PCRE2's match limit) leaves the rest as text. */
    while (pos < t.n && pcre2_match(url_re, (PCRE2_SPTR)t.p, t.n, pos, 0, md, NULL) > 0) {
        const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        buf_put_slice(&b, (tp_slice){t.p + pos, ov[0] - pos});
        put_link(&b, a, t, ov, o, params);
        pos = ov[1];
    }
    pcre2_match_data_free(md);
    buf_put_slice(&b, (tp_slice){t.p + pos, t.n - pos});
    return buf_to_arena(a, &b);
}
