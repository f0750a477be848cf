/* Header parameters as Tornado 6.5 parses them (http/form.h's tp_form_parse_header):
 * httputil._parseparam and _parse_header, and email/utils.py's decode_params,
 * collapse_rfc2231_value and unquote for RFC 2231 values ("filename*=utf-8''..."). Strings
 * are UTF-8 bytes; RFC 2231 values need code points (percent escapes decode to latin-1 code
 * points) and use uint32_t arrays. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "core/utf8.h"
#include "core/hex.h"
#include "http/form.h"
#include "http/form_internal.h"

#define CP_REPLACEMENT 0xfffd

/* s.find(c, start) with Python's index rules. */
static long py_find(tp_slice s, char c, long start)
{
    if (start < 0)
        start = start + (long)s.n < 0 ? 0 : start + (long)s.n;
    if ((size_t)start >= s.n)
        return -1;
    const char *hit = memchr(s.p + start, c, s.n - (size_t)start);
    return hit ? hit - s.p : -1;
}

static long py_index(long i, size_t n)
{
    if (i < 0)
        i = i + (long)n < 0 ? 0 : i + (long)n;
    return i > (long)n ? (long)n : i;
}

/* s.count(sub, start, end) for a non-empty sub that cannot overlap itself. */
static long py_count(tp_slice s, const char *sub, size_t m, long start, long end)
{
    long i = py_index(start, s.n), e = py_index(end, s.n), k = 0;
    while (i + (long)m <= e) {
        if (memcmp(s.p + i, sub, m) == 0)
            k++, i += (long)m;
        else
            i++;
    }
    return k;
}

/* ---- Content-Disposition parameters (_parseparam, _parse_header, decode_params) -------- */

typedef struct param {
    tp_slice name, value; /* value as _parse_header's loop gets it (stripped) */
} param;

/* _parseparam(";" + line), the linear version of CVE-2025-67726's fix, statement for
 * statement (the swap of end and ind is upstream's; it visits each segment once). */
static size_t parse_params(tp_arena *a, tp_slice line, tp_slice **out)
{
    tp_slice s = tp__form_cat(a, TP_SLICE_LIT(";"), line, TP_SLICE_LIT(""));
    size_t cap = 1;
    for (size_t i = 0; i < s.n; i++)
        cap += s.p[i] == ';';
    tp_slice *v = tp_arena_alloc(a, cap * sizeof(*v));
    size_t k = 0;
    long start = 0;
    while (py_find(s, ';', start) == start) {
        start++;
        long end = py_find(s, ';', start), ind = start, diff = 0;
        while (end > 0) {
            diff += py_count(s, "\"", 1, ind, end) - py_count(s, "\\\"", 2, ind, end);
            if (diff % 2 == 0)
                break;
            long old_end = end;
            end = ind;
            ind = py_find(s, ';', old_end + 1);
        }
        if (end < 0)
            end = (long)s.n;
        v[k++] = tp_py_strip(tp_slice_make(s.p + start, (size_t)(end - start)));
        start = end;
    }
    *out = v;
    return k;
}

/* email.utils.unquote. */
static tp_slice em_unquote(tp_arena *a, tp_slice s)
{
    if (s.n > 1 && s.p[0] == '"' && s.p[s.n - 1] == '"') {
        char *out = tp_arena_alloc(a, s.n), *w = out;
        const char *p = s.p + 1, *end = s.p + s.n - 1;
        /* .replace('\\\\', '\\') then .replace('\\"', '"'): two left-to-right passes */
        while (p < end) {
            if (p + 1 < end && p[0] == '\\' && p[1] == '\\')
                *w++ = '\\', p += 2;
            else
                *w++ = *p++;
        }
        size_t n = (size_t)(w - out);
        w = out;
        for (size_t i = 0; i < n; i++) {
            if (i + 1 < n && out[i] == '\\' && out[i + 1] == '"')
                i++;
            *w++ = out[i];
        }
        *w = '\0';
        return tp_slice_make(out, (size_t)(w - out));
    }
    if (s.n > 1 && s.p[0] == '<' && s.p[s.n - 1] == '>')
        return tp_slice_make(s.p + 1, s.n - 2);
    return s;
}

/* '"' + email.utils.quote(s) + '"'. */
static tp_slice em_quote_wrap(tp_arena *a, tp_slice s)
{
    char *out = tp_arena_alloc(a, 2 * s.n + 3), *w = out;
    *w++ = '"';
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] == '\\' || s.p[i] == '"')
            *w++ = '\\';
        *w++ = s.p[i];
    }
    *w++ = '"';
    *w = '\0';
    return tp_slice_make(out, (size_t)(w - out));
}

/* rfc2231_continuation: ^(\w+)\*(([0-9]+)\*?)?$ (ASCII). Sets the base name and the
 * digits of the section number (num.p NULL when there is none). */
static bool rfc2231_name(tp_slice name, tp_slice *base, tp_slice *num)
{
    size_t i = 0;
    while (i < name.n && (name.p[i] == '_' || (name.p[i] >= '0' && name.p[i] <= '9') ||
                          ((name.p[i] | 0x20) >= 'a' && (name.p[i] | 0x20) <= 'z')))
        i++;
    if (i == 0 || i == name.n || name.p[i] != '*')
        return false;
    *base = tp_slice_make(name.p, i);
    size_t d = ++i;
    while (i < name.n && name.p[i] >= '0' && name.p[i] <= '9')
        i++;
    *num = i > d ? tp_slice_make(name.p + d, i - d) : TP_SLICE_NULL;
    if (i < name.n && i > d && name.p[i] == '*')
        i++;
    return i == name.n;
}

typedef struct section {
    tp_slice base, num, value; /* value unquoted */
    bool encoded;
    size_t group; /* index of the first section of this base name */
} section;

/* Compares two section numbers as Python ints (digit strings, leading zeros ignored). */
static int num_cmp(tp_slice x, tp_slice y)
{
    while (x.n > 1 && x.p[0] == '0')
        x.p++, x.n--;
    while (y.n > 1 && y.p[0] == '0')
        y.p++, y.n--;
    if (x.n != y.n)
        return x.n < y.n ? -1 : 1;
    return memcmp(x.p, y.p, x.n);
}

/* The tuple order of (num, value, encoded) that continuations.sort() uses. */
static int section_cmp(const section *x, const section *y)
{
    int c = x->num.p ? num_cmp(x->num, y->num) : 0;
    if (c)
        return c;
    size_t n = x->value.n < y->value.n ? x->value.n : y->value.n;
    c = n ? memcmp(x->value.p, y->value.p, n) : 0;
    if (c || x->value.n != y->value.n)
        return c ? c : (x->value.n < y->value.n ? -1 : 1);
    return (int)x->encoded - (int)y->encoded;
}

/* Appends the code points of a section: UTF-8 text, with %XX as one code point 0-255 in
 * an encoded section (urllib.parse.unquote(s, encoding="latin-1")). */
static size_t append_cps(uint32_t *out, tp_slice s, bool encoded)
{
    size_t k = 0;
    for (size_t i = 0; i < s.n;) {
        int hi, lo;
        if (encoded && s.p[i] == '%' && i + 2 < s.n &&
            (hi = tp_hex_value((unsigned char)s.p[i + 1])) >= 0 &&
            (lo = tp_hex_value((unsigned char)s.p[i + 2])) >= 0) {
            out[k++] = (uint32_t)(hi * 16 + lo);
            i += 3;
            continue;
        }
        uint32_t cp;
        int n = tp__form_utf8_next((const unsigned char *)s.p + i, s.n - i, &cp);
        out[k++] = n > 0 ? cp : CP_REPLACEMENT; /* headers were validated: n > 0 */
        i += n > 0 ? (size_t)n : 1;
    }
    return k;
}

enum charset { CS_UNKNOWN, CS_UTF8, CS_LATIN1, CS_ASCII };

/* Python's codec lookup for the codecs decoded here: case-insensitive, runs of other
 * characters than letters, digits and '.' read as one '_'. */
static enum charset charset_lookup(const uint32_t *cs, size_t n)
{
    static const char *const utf8[] = {"utf_8",     "utf8",      "u8",     "utf",
                                       "utf8_ucs2", "utf8_ucs4", "cp65001"};
    static const char *const latin1[] = {
        "latin_1", "latin1", "latin",  "l1",         "iso_8859_1",  "iso8859_1",
        "8859",    "cp819",  "ibm819", "iso_ir_100", "csisolatin1", "iso_8859_1_1987"};
    static const char *const ascii[] = {
        "ascii",          "us_ascii",      "us",        "646",      "cp367",
        "ibm367",         "csascii",       "iso646_us", "iso_ir_6", "ansi_x3.4_1968",
        "ansi_x3_4_1968", "ansi_x3.4_1986"};
    char norm[32];
    size_t k = 0;
    bool punct = false;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = cs[i];
        if (c >= 0x80)
            return CS_UNKNOWN;
        bool alnum = (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
        if (!alnum && c != '.') {
            punct = true;
            continue;
        }
        if (k + 2 >= sizeof(norm))
            return CS_UNKNOWN;
        if (punct && k)
            norm[k++] = '_';
        norm[k++] = (char)(alnum && c >= 'A' && c <= 'Z' ? c | 0x20 : c);
        punct = false;
    }
    norm[k] = '\0';
    for (size_t i = 0; i < TP_ARRAY_LEN(utf8); i++)
        if (strcmp(norm, utf8[i]) == 0)
            return CS_UTF8;
    for (size_t i = 0; i < TP_ARRAY_LEN(latin1); i++)
        if (strcmp(norm, latin1[i]) == 0)
            return CS_LATIN1;
    for (size_t i = 0; i < TP_ARRAY_LEN(ascii); i++)
        if (strcmp(norm, ascii[i]) == 0)
            return CS_ASCII;
    return CS_UNKNOWN;
}

/* bytes(text, 'raw-unicode-escape') decoded with charset and errors='replace', as UTF-8. */
static tp_slice decode_raw(tp_arena *a, const uint32_t *v, size_t n, enum charset cs)
{
    unsigned char *raw = tp_arena_alloc(a, 10 * n + 1);
    size_t r = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < 0x100)
            raw[r++] = (unsigned char)v[i];
        else
            r += (size_t)sprintf((char *)raw + r, v[i] < 0x10000 ? "\\u%04x" : "\\U%08x",
                                 (unsigned)v[i]);
    }
    char *out = tp_arena_alloc(a, 3 * r + 1), *w = out;
    for (size_t i = 0; i < r;) {
        uint32_t cp = raw[i];
        int k = 1;
        if (cs == CS_UTF8)
            k = tp__form_utf8_next(raw + i, r - i, &cp);
        else if (cs == CS_ASCII && cp >= 0x80)
            k = -1;
        w = tp__form_put_utf8(w, k > 0 ? cp : CP_REPLACEMENT);
        i += (size_t)(k > 0 ? k : -k);
    }
    *w = '\0';
    return tp_slice_make(out, (size_t)(w - out));
}

/* decode_rfc2231 + collapse_rfc2231_value for an extended value (the quoted, joined code
 * points v[0..n)). */
static tp_slice collapse_extended(tp_arena *a, const uint32_t *v, size_t n)
{
    size_t t1 = n, t2 = n;
    for (size_t i = 0; i < n && t2 == n; i++)
        if (v[i] == '\'')
            t1 == n ? (void)(t1 = i) : (void)(t2 = i);
    const uint32_t *text = v, *cs = NULL;
    size_t text_n = n, cs_n = 0;
    if (t2 < n) {
        cs = v, cs_n = t1;
        text = v + t2 + 1, text_n = n - t2 - 1;
    }
    uint32_t *wrapped = tp_arena_alloc(a, (text_n + 2) * sizeof(*wrapped));
    wrapped[0] = '"';
    memcpy(wrapped + 1, text, text_n * sizeof(*text));
    wrapped[text_n + 1] = '"';
    enum charset c = cs ? charset_lookup(cs, cs_n) : CS_ASCII;
    if (c != CS_UNKNOWN)
        return decode_raw(a, wrapped, text_n + 2, c);
    /* LookupError: unquote(text) */
    char *u = tp_arena_alloc(a, 4 * (text_n + 2) + 1), *w = u;
    for (size_t i = 0; i < text_n + 2; i++)
        w = tp__form_put_utf8(w, wrapped[i]);
    return em_unquote(a, tp_slice_make(u, (size_t)(w - u)));
}

/* Python dict assignment: a name keeps its first position and takes the last value. */
static void dict_set(tp_arena *a, tp_args *d, tp_slice name, tp_slice value)
{
    if (value.n >= 2 && value.p[0] == '"' && value.p[value.n - 1] == '"')
        value = tp_slice_make(value.p + 1, value.n - 2);
    for (size_t i = 0; i < d->n; i++)
        if (tp_slice_eq(d->v[i].name, name)) {
            d->v[i].value = value;
            return;
        }
    tp_args_add_ref(a, d, name, value);
}

static int section_qcmp(const void *x, const void *y)
{
    return section_cmp(*(section *const *)x, *(section *const *)y);
}

/* One RFC 2231 parameter from its sections v[0..n) (decode_params' second loop). */
static int decode_group(tp_arena *a, section **v, size_t n, tp_slice *out, const char **err)
{
    for (size_t i = 1; i < n; i++)
        if (!v[i]->num.p != !v[0]->num.p) {
            *err = "'<' not supported between instances of 'int' and 'NoneType'";
            return -EINVAL;
        }
    qsort(v, n, sizeof(*v), section_qcmp);
    size_t total = 0;
    bool extended = false;
    for (size_t i = 0; i < n; i++)
        total += v[i]->value.n, extended |= v[i]->encoded;
    if (!extended) {
        char *j = tp_arena_alloc(a, total + 1), *w = j;
        for (size_t i = 0; i < n; i++)
            memcpy(w, v[i]->value.p, v[i]->value.n), w += v[i]->value.n;
        *out = em_unquote(a, em_quote_wrap(a, tp_slice_make(j, total)));
        return 0;
    }
    uint32_t *cps = tp_arena_alloc(a, (total + 1) * sizeof(*cps));
    uint32_t *q = tp_arena_alloc(a, (2 * total + 1) * sizeof(*q));
    size_t k = 0, m = 0;
    for (size_t i = 0; i < n; i++)
        k += append_cps(cps + k, v[i]->value, v[i]->encoded);
    for (size_t i = 0; i < k; i++) {
        if (cps[i] == '\\' || cps[i] == '"')
            q[m++] = '\\';
        q[m++] = cps[i];
    }
    *out = collapse_extended(a, q, m);
    return 0;
}

static int base_qcmp(const void *x, const void *y)
{
    const section *s = *(section *const *)x, *t = *(section *const *)y;
    size_t n = s->base.n < t->base.n ? s->base.n : t->base.n;
    int c = memcmp(s->base.p, t->base.p, n);
    if (c || s->base.n != t->base.n)
        return c ? c : (s->base.n < t->base.n ? -1 : 1);
    return s < t ? -1 : s > t;
}

/* decode_params' second half: the RFC 2231 groups in order of first appearance. */
static int decode_sections(tp_arena *a, section *secs, size_t n, tp_args *params, const char **err)
{
    section **by = tp_arena_alloc(a, (n + 1) * sizeof(*by));
    size_t *run = tp_arena_alloc(a, (n + 1) * sizeof(*run));
    for (size_t i = 0; i < n; i++)
        by[i] = &secs[i], run[i] = 0;
    qsort(by, n, sizeof(*by), base_qcmp);
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && tp_slice_eq(by[j]->base, by[i]->base); j++)
            ;
        by[i]->group = j - i; /* the run's first member has the lowest index */
        run[by[i] - secs] = i + 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!run[i])
            continue;
        size_t at = run[i] - 1;
        tp_slice value;
        int rc = decode_group(a, by + at, secs[i].group, &value, err);
        if (rc)
            return rc;
        dict_set(a, params, secs[i].base, value);
    }
    return 0;
}

int tp_form_parse_header(tp_arena *a, tp_slice line, tp_slice *key, tp_args *params,
                         const char **err)
{
    tp_slice *parts;
    size_t n = parse_params(a, line, &parts);
    section *secs = tp_arena_alloc(a, (n + 1) * sizeof(*secs));
    size_t nsec = 0;
    *key = n ? parts[0] : TP_SLICE_LIT("");
    for (size_t i = 1; i < n; i++) {
        const char *eq = memchr(parts[i].p, '=', parts[i].n);
        if (!eq)
            continue;
        tp_slice name = tp_py_strip(tp_slice_make(parts[i].p, (size_t)(eq - parts[i].p)));
        tp_slice value =
            tp_py_strip(tp_slice_make(eq + 1, (size_t)(parts[i].p + parts[i].n - eq - 1)));
        char *lower = tp_arena_strndup(a, name.p, name.n);
        for (size_t k = 0; k < name.n; k++)
            if (lower[k] >= 'A' && lower[k] <= 'Z')
                lower[k] |= 0x20;
        name = tp_slice_make(lower, name.n);
        bool encoded = name.n && name.p[name.n - 1] == '*';
        value = em_unquote(a, value);
        section *s = &secs[nsec];
        if (rfc2231_name(name, &s->base, &s->num)) {
            s->value = value, s->encoded = encoded, s->group = 0;
            nsec++;
        } else {
            dict_set(a, params, name, em_unquote(a, em_quote_wrap(a, value)));
        }
    }
    return nsec ? decode_sections(a, secs, nsec, params, err) : 0;
}
