/* The blog's text helpers: Markdown through libcmark (safe mode), the demo's slugs (NFKD and
 * Unicode case mapping through ICU), and MariaDB DATETIME strings. */
#include <cmark.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include "examples/blog/blog.h"

char *blog_markdown(const char *text, size_t len)
{
    /* CMARK_OPT_SAFE is cmark's default since 0.29; it is named here so that nobody adds
     * CMARK_OPT_UNSAFE without seeing what it turns off. */
    return cmark_markdown_to_html(text, len, CMARK_OPT_DEFAULT | CMARK_OPT_SAFE);
}

/* UTF-8 to a tp_malloc'd UTF-16 string (its length in *n), or NULL. */
static UChar *to_utf16(const char *s, int32_t *n)
{
    UErrorCode e = U_ZERO_ERROR;
    u_strFromUTF8WithSub(NULL, 0, n, s, -1, 0xFFFD, NULL, &e);
    if (e != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(e))
        return NULL;
    UChar *out = tp_malloc(((size_t)*n + 1) * sizeof(UChar));
    e = U_ZERO_ERROR;
    u_strFromUTF8WithSub(out, *n + 1, n, s, -1, 0xFFFD, NULL, &e);
    return U_FAILURE(e) ? (tp_free(out), NULL) : out;
}

/* unicodedata.normalize("NFKD", s). tp_malloc'd, or NULL. */
static UChar *nfkd(const UChar *s, int32_t n, int32_t *out_n)
{
    UErrorCode e = U_ZERO_ERROR;
    const UNormalizer2 *norm = unorm2_getNFKDInstance(&e);
    if (U_FAILURE(e))
        return NULL;
    *out_n = unorm2_normalize(norm, s, n, NULL, 0, &e);
    if (e != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(e))
        return NULL;
    UChar *out = tp_malloc(((size_t)*out_n + 1) * sizeof(UChar));
    e = U_ZERO_ERROR;
    unorm2_normalize(norm, s, n, out, *out_n + 1, &e);
    return U_FAILURE(e) ? (tp_free(out), NULL) : out;
}

/* Python's \w for str: letters, numbers and "_". */
static bool is_word(UChar32 c)
{
    if (c == '_')
        return true;
    switch (u_charType(c)) {
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
    case U_DECIMAL_DIGIT_NUMBER:
    case U_LETTER_NUMBER:
    case U_OTHER_NUMBER: return true;
    default: return false;
    }
}

/* re.sub(r"[^\w]+", " ", s) then "-".join(s.lower().strip().split()): runs of non-word
 * characters become one "-" between words. Returns the new length (s rewritten in place). */
static int32_t dash_words(UChar *s, int32_t n)
{
    int32_t w = 0, i = 0;
    bool gap = false;
    while (i < n) {
        UChar32 c;
        int32_t start = i;
        U16_NEXT(s, i, n, c);
        if (!is_word(c)) {
            gap = true;
            continue;
        }
        if (gap && w > 0)
            s[w++] = '-';
        gap = false;
        while (start < i)
            s[w++] = s[start++];
    }
    return w;
}

/* str.lower() (full case mapping, root locale). tp_malloc'd, or NULL. */
static UChar *lower(const UChar *s, int32_t n, int32_t *out_n)
{
    UErrorCode e = U_ZERO_ERROR;
    *out_n = u_strToLower(NULL, 0, s, n, "", &e);
    if (e != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(e))
        return NULL;
    UChar *out = tp_malloc(((size_t)*out_n + 1) * sizeof(UChar));
    e = U_ZERO_ERROR;
    u_strToLower(out, *out_n + 1, s, n, "", &e);
    return U_FAILURE(e) ? (tp_free(out), NULL) : out;
}

/* .encode("ascii", "ignore"), at most max bytes, cut after the last "-" that fits when the
 * slug is longer. */
static char *ascii_only(tp_arena *a, const UChar *s, int32_t n, size_t max)
{
    char *out = tp_arena_alloc(a, max + 1);
    size_t w = 0;
    bool cut = false;
    for (int32_t i = 0; i < n; i++) {
        if (s[i] >= 0x80)
            continue;
        if (w == max) {
            cut = true;
            break;
        }
        out[w++] = (char)s[i];
    }
    if (cut) {
        size_t dash = w;
        while (dash > 0 && out[dash - 1] != '-')
            dash--;
        w = dash > 1 ? dash - 1 : w;
    }
    out[w] = 0;
    return out;
}

char *blog_slugify(tp_arena *a, const char *title, size_t max)
{
    int32_t n = 0, nn = 0, ln = 0;
    UChar *u = to_utf16(title, &n);
    UChar *d = u ? nfkd(u, n, &nn) : NULL;
    if (d)
        nn = dash_words(d, nn);
    UChar *l = d ? lower(d, nn, &ln) : NULL;
    char *slug = l ? ascii_only(a, l, ln, max) : NULL;
    tp_free(u), tp_free(d), tp_free(l);
    return slug && *slug ? slug : tp_arena_strndup(a, "entry", 5);
}

double blog_parse_datetime(const char *s)
{
    struct tm tm = {0};
    const char *end = s ? strptime(s, "%Y-%m-%d %H:%M:%S", &tm) : NULL;
    if (!end || (*end && *end != '.'))
        return -1;
    return (double)timegm(&tm);
}
