/* The locale registry and the Locale methods that are not about dates (tornado/locale.py:
 * get_closest, get, set_default_locale, translate, pgettext, list, friendly_number) and
 * RequestHandler.get_browser_locale (tornado/web.py). Loading lives in locale_csv.c and
 * locale_gettext.c, dates in locale_date.c. */
#include "web/locale/locale.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/utf8.h"
#include "web/locale/internal.h"

struct tp_locales {
    tp_arena arena; /* every table, locale and string; freed only with the registry */
    const char *default_code;
    bool gettext;     /* mode of the last load (Tornado's _use_gettext) */
    tp_locale_tr *tr; /* translations by code */
    size_t ntr;
    tp_locale **loc;    /* the supported locales, sorted by code */
    const char **codes; /* their codes */
    size_t nloc;
};

tp_locales *tp_locales_new(void)
{
    tp_locales *r = tp_calloc(1, sizeof(*r));
    tp_arena_init(&r->arena, 16384);
    r->default_code = "en_US";
    tp_locales_install(r, NULL, 0, false);
    return r;
}

void tp_locales_free(tp_locales *r)
{
    if (!r)
        return;
    tp_arena_destroy(&r->arena);
    tp_free(r);
}

tp_arena *tp_locales_arena(tp_locales *r)
{
    return &r->arena;
}

static const tp_locale_tr *find_tr(const tp_locales *r, const char *code)
{
    for (size_t i = 0; i < r->ntr; i++)
        if (strcmp(r->tr[i].code, code) == 0)
            return &r->tr[i];
    return NULL;
}

/* Locale.__init__: name, rtl and the translated month and weekday names. */
static tp_locale *make_locale(tp_locales *r, const char *code)
{
    static const char *const months[12] = {"January",   "February", "March",    "April",
                                           "May",       "June",     "July",     "August",
                                           "September", "October",  "November", "December"};
    static const char *const days[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                        "Friday", "Saturday", "Sunday"};
    tp_locale *l = tp_arena_calloc(&r->arena, sizeof(*l));
    const tp_locale_tr *tr = find_tr(r, code);
    const tp_locale_info *nm = tp_locale_info_find(code);
    l->code = code;
    l->name = nm ? nm->name : "Unknown";
    l->rtl = !strncmp(code, "fa", 2) || !strncmp(code, "ar", 2) || !strncmp(code, "he", 2);
    l->gettext = tr && r->gettext;
    l->csv = tr && !r->gettext ? tr->csv : NULL;
    l->mo = tr && r->gettext ? tr->mo : NULL;
    for (size_t i = 0; i < 12; i++)
        l->months[i] = tp_locale_translate(l, tp_slice_cstr(months[i]), TP_SLICE_NULL, 0);
    for (size_t i = 0; i < 7; i++)
        l->weekdays[i] = tp_locale_translate(l, tp_slice_cstr(days[i]), TP_SLICE_NULL, 0);
    return l;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* _supported_locales = translations' codes + the default; the locales are built now, so
 * that lookups never allocate. */
void tp_locales_install(tp_locales *r, tp_locale_tr *tr, size_t n, bool gettext)
{
    const char **codes = tp_arena_alloc(&r->arena, (n + 1) * sizeof(*codes));
    size_t nc = 0;
    for (size_t i = 0; i < n; i++)
        codes[nc++] = tr[i].code;
    bool have_default = false;
    for (size_t i = 0; i < nc; i++)
        have_default |= strcmp(codes[i], r->default_code) == 0;
    if (!have_default)
        codes[nc++] = r->default_code;
    qsort(codes, nc, sizeof(*codes), cmp_cstr);
    r->tr = tr, r->ntr = n, r->gettext = gettext;
    r->loc = tp_arena_alloc(&r->arena, nc * sizeof(*r->loc));
    for (size_t i = 0; i < nc; i++)
        r->loc[i] = make_locale(r, codes[i]);
    r->codes = codes, r->nloc = nc;
}

int tp_locales_set_default(tp_locales *r, const char *code)
{
    if (!code || !*code)
        return -EINVAL;
    r->default_code = tp_arena_strndup(&r->arena, code, strlen(code));
    tp_locales_install(r, r->tr, r->ntr, r->gettext);
    return 0;
}

const char *tp_locales_default(const tp_locales *r)
{
    return r->default_code;
}

size_t tp_locales_supported(const tp_locales *r, const char *const **codes)
{
    *codes = r->codes;
    return r->nloc;
}

const tp_locale *tp_locales_get(const tp_locales *r, tp_slice code)
{
    size_t lo = 0, hi = r->nloc;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *c = r->codes[mid];
        size_t cn = strlen(c);
        int d = memcmp(c, code.p, cn < code.n ? cn : code.n);
        if (d == 0)
            d = cn < code.n ? -1 : cn > code.n ? 1 : 0;
        if (d == 0)
            return r->loc[mid];
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static char upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
}

/* One step of get_closest for code: the matching locale or NULL. */
static const tp_locale *closest_one(const tp_locales *r, tp_slice code)
{
    char stack[256];
    if (code.n == 0)
        return NULL;
    char *buf = code.n <= sizeof(stack) ? stack : tp_malloc(code.n);
    size_t unders = 0, first = code.n;
    for (size_t i = 0; i < code.n; i++) {
        buf[i] = code.p[i] == '-' ? '_' : code.p[i];
        if (buf[i] == '_' && unders++ == 0)
            first = i;
    }
    const tp_locale *l = NULL;
    if (unders <= 1) {
        if (unders == 1)
            for (size_t i = 0; i < code.n; i++)
                buf[i] = i < first ? lower(buf[i]) : upper(buf[i]);
        l = tp_locales_get(r, tp_slice_make(buf, code.n));
        for (size_t i = 0; !l && i < first; i++)
            buf[i] = lower(buf[i]);
        if (!l)
            l = tp_locales_get(r, tp_slice_make(buf, first));
    }
    if (buf != stack)
        tp_free(buf);
    return l;
}

const tp_locale *tp_locales_closest(const tp_locales *r, const tp_slice *codes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const tp_locale *l = closest_one(r, codes[i]);
        if (l)
            return l;
    }
    return tp_locales_get(r, tp_slice_cstr(r->default_code));
}

/* str.strip() of a header value Tornado decoded as Latin-1. */
static tp_slice latin1_strip(tp_slice s)
{
    return tp_slice_strip_bytes(s, tp_py_isspace_latin1);
}

/* Python's float(s) (s already stripped): decimal with optional '_' between digits,
 * exponent, or inf/infinity/nan, each with a sign. False where Python raises. */
static bool py_float(tp_slice s, double *out)
{
    char buf[128];
    size_t n = 0, i = 0;
    if (s.n == 0 || s.n >= sizeof(buf))
        return false;
    if (s.p[i] == '+' || s.p[i] == '-')
        buf[n++] = s.p[i++];
    tp_slice word = tp_slice_make(s.p + i, s.n - i);
    if (tp_slice_caseeq(word, TP_SLICE_LIT("inf")) ||
        tp_slice_caseeq(word, TP_SLICE_LIT("infinity")) ||
        tp_slice_caseeq(word, TP_SLICE_LIT("nan"))) {
        *out = word.n == 3 && lower(word.p[0]) == 'n' ? NAN : INFINITY;
        if (n && buf[0] == '-')
            *out = -*out;
        return true;
    }
    bool digits = false, prev_digit = false, dot = false, exp = false;
    for (; i < s.n; i++) {
        char c = s.p[i];
        if (c >= '0' && c <= '9') {
            buf[n++] = c;
            digits = prev_digit = true;
        } else if (c == '_' && prev_digit && i + 1 < s.n && s.p[i + 1] >= '0' &&
                   s.p[i + 1] <= '9') {
            prev_digit = false;
        } else if (c == '.' && !dot && !exp) {
            buf[n++] = c;
            dot = true, prev_digit = false;
        } else if ((c == 'e' || c == 'E') && digits && !exp) {
            buf[n++] = c;
            exp = true, digits = prev_digit = false;
            if (i + 1 < s.n && (s.p[i + 1] == '+' || s.p[i + 1] == '-'))
                buf[n++] = s.p[++i];
        } else {
            return false;
        }
    }
    if (!digits)
        return false;
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    return true;
}

typedef struct lang_q {
    tp_slice code;
    double q;
} lang_q;

/* One comma-separated entry: parts = entry.strip().split(";"), q from parts[1] if it
 * starts with "q=". Returns the score (0 drops the entry). */
static double entry_score(tp_slice entry, tp_slice *code)
{
    entry = latin1_strip(entry);
    const char *semi = memchr(entry.p, ';', entry.n);
    *code = semi ? tp_slice_make(entry.p, (size_t)(semi - entry.p)) : entry;
    if (!semi)
        return 1.0;
    tp_slice rest = tp_slice_make(semi + 1, entry.n - (size_t)(semi + 1 - entry.p));
    const char *semi2 = memchr(rest.p, ';', rest.n);
    tp_slice p1 = latin1_strip(semi2 ? tp_slice_make(rest.p, (size_t)(semi2 - rest.p)) : rest);
    if (p1.n < 2 || p1.p[0] != 'q' || p1.p[1] != '=')
        return 1.0;
    double q;
    if (!py_float(latin1_strip(tp_slice_make(p1.p + 2, p1.n - 2)), &q) || q < 0)
        return 0.0;
    return q > 0 ? q : 0.0; /* NaN is not > 0: dropped */
}

const tp_locale *tp_locales_browser(const tp_locales *r, tp_slice header, const char *default_code)
{
    const tp_locale *l = NULL;
    if (header.p) {
        size_t max = 1;
        for (size_t i = 0; i < header.n; i++)
            max += header.p[i] == ',';
        lang_q *v = tp_malloc(max * sizeof(*v));
        size_t n = 0;
        tp_list_iter it = tp_list_begin(header);
        for (tp_slice entry; tp_list_next(&it, &entry);) {
            tp_slice code;
            double q = entry_score(entry, &code);
            if (q > 0) { /* insertion keeps equal scores in order: Python's stable sort */
                size_t j = n++;
                for (; j > 0 && v[j - 1].q < q; j--)
                    v[j] = v[j - 1];
                v[j] = (lang_q){code, q};
            }
        }
        tp_slice *codes = tp_malloc((n ? n : 1) * sizeof(*codes));
        for (size_t i = 0; i < n; i++)
            codes[i] = v[i].code;
        if (n)
            l = tp_locales_closest(r, codes, n);
        tp_free(codes);
        tp_free(v);
    }
    if (!l) {
        tp_slice d = tp_slice_cstr(default_code ? default_code : "en_US");
        l = tp_locales_closest(r, &d, 1);
    }
    return l;
}

const char *tp_locale_code(const tp_locale *l)
{
    return l->code;
}

const char *tp_locale_name(const tp_locale *l)
{
    return l->name;
}

bool tp_locale_rtl(const tp_locale *l)
{
    return l->rtl;
}

bool tp_locale_is_gettext(const tp_locale *l)
{
    return l->gettext;
}

/* CSVLocale.translate: the plural table for count != 1, the singular one for 1, the
 * "unknown" one without a plural; the message itself (or the plural) if absent. */
static tp_slice csv_translate(const tp_locale *l, tp_slice message, tp_slice plural, int64_t count)
{
    int tag = TP_CSV_UNKNOWN;
    if (plural.p) {
        tag = count != 1 ? TP_CSV_PLURAL : TP_CSV_SINGULAR;
        if (count != 1)
            message = plural;
    }
    const tp_slice *t = l->csv ? tp_lmap_get(&l->csv->map, TP_SLICE_NULL, message, tag) : NULL;
    return t ? *t : message;
}

tp_slice tp_locale_translate(const tp_locale *l, tp_slice message, tp_slice plural, int64_t count)
{
    bool found;
    if (!l->gettext)
        return csv_translate(l, message, plural, count);
    if (plural.p)
        return tp_mo_ngettext(l->mo, TP_SLICE_NULL, message, plural, count, &found);
    return tp_mo_gettext(l->mo, TP_SLICE_NULL, message, &found);
}

static bool has_sep(tp_slice s)
{
    return memchr(s.p, TP_LOCALE_CTX_SEP, s.n) != NULL;
}

/* GettextLocale.pgettext: "ctx\x04msg" first; a miss (Python then returns the key, which
 * holds the separator) or a translation holding the separator falls back to the message
 * alone (plural: to ngettext without context). */
tp_slice tp_locale_pgettext(const tp_locale *l, tp_slice context, tp_slice message, tp_slice plural,
                            int64_t count)
{
    if (!l->gettext) {
        if (l->csv && l->csv->nonempty)
            tp_log_warning("pgettext is not supported by CSVLocale");
        return csv_translate(l, message, plural, count);
    }
    bool found;
    if (!context.p)
        context = TP_SLICE_LIT("");
    if (plural.p) {
        tp_slice t = tp_mo_ngettext(l->mo, context, message, plural, count, &found);
        if (found && !has_sep(t))
            return t;
        return tp_mo_ngettext(l->mo, TP_SLICE_NULL, message, plural, count, &found);
    }
    tp_slice t = tp_mo_gettext(l->mo, context, message, &found);
    return found && !has_sep(t) ? t : message;
}

int tp_locale_list(const tp_locale *l, tp_arena *a, const tp_slice *parts, size_t n, tp_slice *out)
{
    if (n <= 1) {
        *out = n ? tp_arena_slice_dup(a, parts[0]) : tp_arena_slice_dup(a, TP_SLICE_LIT(""));
        return 0;
    }
    tp_slice comma =
        strncmp(l->code, "fa", 2) == 0 ? TP_SLICE_LIT(" \xd9\x88 ") : TP_SLICE_LIT(", ");
    size_t len = 0;
    for (size_t i = 0; i + 1 < n; i++)
        len += parts[i].n + (i ? comma.n : 0);
    char *commas = tp_arena_alloc(a, len + 1), *w = commas;
    for (size_t i = 0; i + 1 < n; i++) {
        if (i)
            memcpy(w, comma.p, comma.n), w += comma.n;
        if (parts[i].n)
            memcpy(w, parts[i].p, parts[i].n), w += parts[i].n;
    }
    *w = '\0';
    tp_pyarg args[] = {{.name = "commas", .s = tp_slice_make(commas, len)},
                       {.name = "last", .s = parts[n - 1]}};
    tp_slice fmt =
        tp_locale_translate(l, TP_SLICE_LIT("%(commas)s and %(last)s"), TP_SLICE_NULL, 0);
    return tp_locale_pyformat(a, fmt, args, 2, out);
}

tp_slice tp_locale_friendly_number(const tp_locale *l, tp_arena *a, int64_t value)
{
    char s[24];
    int n = snprintf(s, sizeof(s), "%" PRId64, value);
    if (strcmp(l->code, "en") != 0 && strcmp(l->code, "en_US") != 0)
        return tp_arena_slice_dup(a, tp_slice_make(s, (size_t)n));
    /* Tornado splits str(value) into threes from the right, the sign counting as a digit */
    char *out = tp_arena_alloc(a, (size_t)n * 2 + 1), *w = out;
    int head = n % 3 ? n % 3 : 3;
    memcpy(w, s, (size_t)head), w += head;
    for (int i = head; i < n; i += 3) {
        *w++ = ',';
        memcpy(w, s + i, 3), w += 3;
    }
    *w = '\0';
    return tp_slice_make(out, (size_t)(w - out));
}
