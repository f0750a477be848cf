/* Option values: parsing one item of each type as tornado.options does (bool, numbers,
 * timedelta, datetime, comma lists with int ranges) and showing them as Python's str(). */
#include "core/options_internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/* ---- the pool: strings and lists the parsers make live until tp_options_pool_free -------- */

typedef struct pool_block {
    struct pool_block *next;
    max_align_t data[];
} pool_block;

/* Process-wide like the option tables themselves; reachable, so not a leak. */
static pool_block *options_pool;

void *tp__opt_alloc(size_t n)
{
    pool_block *b = tp_calloc(1, sizeof(*b) + n);
    b->next = options_pool;
    options_pool = b;
    return b->data;
}

char *tp__opt_strdup(const char *s, size_t n)
{
    char *p = tp__opt_alloc(n + 1);
    memcpy(p, s, n);
    return p;
}

void tp_options_pool_free(void)
{
    while (options_pool) {
        pool_block *b = options_pool;
        options_pool = b->next;
        tp_free(b);
    }
}

size_t tp__opt_item_size(tp_opt_type t)
{
    switch (t) {
    case TP_OPT_BOOL: return sizeof(bool);
    case TP_OPT_INT: return sizeof(int);
    case TP_OPT_SIZE: return sizeof(size_t);
    case TP_OPT_STRING: return sizeof(const char *);
    case TP_OPT_DATETIME: return sizeof(struct tm);
    default: return sizeof(double);
    }
}

void tp__opt_items_push(tp__opt_items *items, const tp__opt_item *it)
{
    if (items->n == items->cap) {
        items->cap = items->cap ? items->cap * 2 : 8;
        items->v = tp_realloc(items->v, items->cap * sizeof(*items->v));
    }
    items->v[items->n++] = *it;
}

void tp__opt_items_free(tp__opt_items *items)
{
    tp_free(items->v);
    *items = (tp__opt_items){0};
}

static int bad(char *err, size_t errlen, const tp_option *o, const char *what, const char *v,
               size_t n)
{
    snprintf(err, errlen, "option --%s: '%.*s' %s", o->name, (int)n, v, what);
    return -EINVAL;
}

/* ---- scalars ------------------------------------------------------------------------------ */

static int parse_bool(const tp_option *o, const char *v, size_t n, bool *out, char *err,
                      size_t errlen)
{
    static const char *const yes[] = {"true", "1", "yes", "t", "on"};
    static const char *const no[] = {"false", "0", "no", "f", "off"};
    for (size_t i = 0; i < 5; i++) {
        if (strlen(yes[i]) == n && !strncasecmp(v, yes[i], n)) {
            *out = true;
            return 0;
        }
        if (strlen(no[i]) == n && !strncasecmp(v, no[i], n)) {
            *out = false;
            return 0;
        }
    }
    return bad(err, errlen, o, "is not a boolean", v, n);
}

static int parse_number(const tp_option *o, const char *v, size_t n, tp__opt_item *out, char *err,
                        size_t errlen)
{
    char buf[64], *end;
    if (n == 0 || n >= sizeof(buf))
        return bad(err, errlen, o, "is not a number", v, n);
    memcpy(buf, v, n);
    buf[n] = '\0';
    errno = 0;
    double d = strtod(buf, &end);
    if (end == buf || errno || isspace((unsigned char)buf[0]))
        return bad(err, errlen, o, "is not a number", v, n);
    if (o->type == TP_OPT_SIZE && *end) {
        const char *u = strchr("kmg", *end | 0x20);
        if (!u || end[1])
            return bad(err, errlen, o, "is a bad size (use k, m or g)", v, n);
        for (const char *p = "kmg"; p <= u; p++)
            d *= 1024;
    } else if (*end) {
        return bad(err, errlen, o, "is not a number", v, n);
    }
    /* Range before any cast: converting an out-of-range double to an integer is undefined. */
    if (o->type == TP_OPT_DOUBLE) {
        out->d = d;
        return isfinite(d) ? 0 : bad(err, errlen, o, "is out of range", v, n);
    }
    double lo = o->type == TP_OPT_INT ? INT_MIN : 0;
    double top = o->type == TP_OPT_INT ? INT_MAX : 0x1p62;
    if (d < lo || d > top || d != floor(d))
        return bad(err, errlen, o, "is out of range", v, n);
    if (o->type == TP_OPT_INT)
        out->i = (int)d;
    else
        out->z = (size_t)d;
    return 0;
}

/* Tornado's _TIMEDELTA_ABBREV_DICT and timedelta's keyword names, in seconds. */
static double unit_seconds(const char *u, size_t n)
{
    static const struct {
        const char *name;
        double s;
    } units[] = {{"", 1},
                 {"h", 3600},
                 {"m", 60},
                 {"min", 60},
                 {"s", 1},
                 {"sec", 1},
                 {"ms", 1e-3},
                 {"us", 1e-6},
                 {"d", 86400},
                 {"w", 604800},
                 {"hours", 3600},
                 {"minutes", 60},
                 {"seconds", 1},
                 {"milliseconds", 1e-3},
                 {"microseconds", 1e-6},
                 {"days", 86400},
                 {"weeks", 604800}};
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strlen(units[i].name) == n && !memcmp(units[i].name, u, n))
            return units[i].s;
    return -1;
}

/* Length of Tornado's _FLOAT_PATTERN at p: [-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?; 0: none. */
static size_t float_span(const char *p, const char *end)
{
    const char *q = p;
    if (q < end && (*q == '-' || *q == '+'))
        q++;
    const char *digits = q;
    while (q < end && isdigit((unsigned char)*q))
        q++;
    bool whole = q > digits;
    if (q < end && *q == '.') {
        const char *f = ++q;
        while (q < end && isdigit((unsigned char)*q))
            q++;
        if (!whole && q == f)
            return 0;
    } else if (!whole) {
        return 0;
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        const char *e = q + 1;
        if (e < end && (*e == '-' || *e == '+'))
            e++;
        const char *ed = e;
        while (e < end && isdigit((unsigned char)*e))
            e++;
        if (e > ed)
            q = e;
    }
    return (size_t)(q - p);
}

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && isspace((unsigned char)*p))
        p++;
    return p;
}

/* Tornado's _parse_timedelta: a sequence of "<float> <unit>", units case-sensitive. */
static int parse_duration(const tp_option *o, const char *v, size_t n, double *out, char *err,
                          size_t errlen)
{
    const char *p = v, *end = v + n;
    double sum = 0;
    while (p < end) {
        p = skip_space(p, end);
        size_t fl = float_span(p, end);
        if (!fl || fl > 60)
            return bad(err, errlen, o, "is not a duration (e.g. 1h 30m, 45s, 10ms)", v, n);
        char num[64];
        memcpy(num, p, fl);
        num[fl] = '\0';
        p = skip_space(p + fl, end);
        const char *u = p;
        while (p < end && (isalnum((unsigned char)*p) || *p == '_'))
            p++;
        double scale = unit_seconds(u, (size_t)(p - u));
        if (scale < 0)
            return bad(err, errlen, o, "has an unknown duration unit", v, n);
        sum += strtod(num, NULL) * scale;
        p = skip_space(p, end);
    }
    if (!isfinite(sum))
        return bad(err, errlen, o, "is out of range", v, n);
    *out = sum;
    return 0;
}

/* Tornado's _DATETIME_FORMATS, tried in order; the whole text must match. */
static int parse_datetime(const tp_option *o, const char *v, size_t n, struct tm *out, char *err,
                          size_t errlen)
{
    static const char *const formats[] = {"%a %b %d %H:%M:%S %Y",
                                          "%Y-%m-%d %H:%M:%S",
                                          "%Y-%m-%d %H:%M",
                                          "%Y-%m-%dT%H:%M",
                                          "%Y%m%d %H:%M:%S",
                                          "%Y%m%d %H:%M",
                                          "%Y-%m-%d",
                                          "%Y%m%d",
                                          "%H:%M:%S",
                                          "%H:%M"};
    char buf[128];
    if (n < sizeof(buf) && n && !isspace((unsigned char)v[0])) {
        memcpy(buf, v, n);
        buf[n] = '\0';
        for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
            struct tm tm = {.tm_mday = 1, .tm_isdst = -1}; /* Python's 1900-01-01 */
            const char *e = strptime(buf, formats[i], &tm);
            if (e && !*e) {
                *out = tm;
                return 0;
            }
        }
    }
    return bad(err, errlen, o, "is not a date/time Tornado recognises", v, n);
}

int tp__opt_parse_item(const tp_option *o, const char *text, size_t n, bool borrow,
                       tp__opt_item *out, char *err, size_t errlen)
{
    *out = (tp__opt_item){0};
    switch (o->type) {
    case TP_OPT_BOOL: return parse_bool(o, text, n, &out->b, err, errlen);
    case TP_OPT_STRING: out->s = borrow && !text[n] ? text : tp__opt_strdup(text, n); return 0;
    case TP_OPT_DURATION: return parse_duration(o, text, n, &out->d, err, errlen);
    case TP_OPT_DATETIME: return parse_datetime(o, text, n, &out->tm, err, errlen);
    default: return parse_number(o, text, n, out, err, errlen);
    }
}

int tp__opt_check(const tp_option *o, const tp__opt_item *it, char *err, size_t errlen)
{
    double v;
    switch (o->type) {
    case TP_OPT_INT: v = it->i; break;
    case TP_OPT_SIZE: v = (double)it->z; break;
    case TP_OPT_DOUBLE:
    case TP_OPT_DURATION: v = it->d; break;
    default: return 0;
    }
    if ((o->min == 0 && o->max == 0) || (v >= o->min && v <= o->max))
        return 0;
    snprintf(err, errlen, "option --%s: %.17g is out of range (%.17g to %.17g)", o->name, v, o->min,
             o->max);
    return -EINVAL;
}

/* One part of a list: an item, or for ints "lo:hi" (both ends included), as Tornado. */
static int parse_part(const tp_option *o, const char *p, size_t n, tp__opt_items *items, char *err,
                      size_t errlen)
{
    tp__opt_item lo, hi;
    const char *colon = o->type == TP_OPT_INT ? memchr(p, ':', n) : NULL;
    int r = tp__opt_parse_item(o, p, colon ? (size_t)(colon - p) : n, false, &lo, err, errlen);
    if (r < 0)
        return r;
    hi = lo;
    if (colon) {
        r = tp__opt_parse_item(o, colon + 1, n - (size_t)(colon + 1 - p), false, &hi, err, errlen);
        if (r < 0)
            return r;
        if ((long)hi.i - lo.i > 1000000)
            return bad(err, errlen, o, "is too long a range", p, n);
    }
    for (long i = lo.i; o->type != TP_OPT_INT || i <= hi.i; i++) {
        tp__opt_item it = lo;
        if (o->type == TP_OPT_INT)
            it.i = (int)i;
        if ((r = tp__opt_check(o, &it, err, errlen)) < 0)
            return r;
        tp__opt_items_push(items, &it);
        if (o->type != TP_OPT_INT)
            break;
    }
    return 0;
}

int tp__opt_parse_list(const tp_option *o, const char *text, tp__opt_items *items, char *err,
                       size_t errlen)
{
    const char *p = text;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        int r = parse_part(o, p, n, items, err, errlen);
        if (r < 0 || !comma)
            return r;
        p = comma + 1;
    }
}

/* ---- showing values as Python does -------------------------------------------------------- */

/* repr(float): the shortest text that reads back, fixed notation for 1e-4 <= |d| < 1e16. */
static void format_float(double d, tp_buf *out)
{
    char s[48];
    if (isnan(d) || isinf(d)) {
        tp_buf_append_str(out, isnan(d) ? "nan" : d > 0 ? "inf" : "-inf");
        return;
    }
    int p = 1;
    for (; p < 17; p++) {
        snprintf(s, sizeof(s), "%.*g", p, d);
        if (strtod(s, NULL) == d)
            break;
    }
    snprintf(s, sizeof(s), "%.*e", p - 1, d);
    int exp = atoi(strchr(s, 'e') + 1);
    if (d != 0 && (exp < -4 || exp >= 16)) {
        snprintf(s, sizeof(s), "%.*e", p - 1, d); /* Python: 1e+16, 1.5e-05 */
        char *e = strchr(s, 'e');
        char mant[32];
        snprintf(mant, sizeof(mant), "%.*s", (int)(e - s), s);
        tp_buf_appendf(out, "%se%c%02d", mant, exp < 0 ? '-' : '+', abs(exp));
        return;
    }
    snprintf(s, sizeof(s), "%.*f", p - 1 - exp > 0 ? p - 1 - exp : 0, d);
    tp_buf_append_str(out, s);
    if (!strchr(s, '.'))
        tp_buf_append_str(out, ".0");
}

/* str(timedelta): "[-]D day[s], H:MM:SS[.ffffff]". */
static void format_duration(double seconds, tp_buf *out)
{
    long long us = llround(seconds * 1e6);
    long long day = 86400000000LL;
    long long days = us >= 0 ? us / day : -((-us + day - 1) / day);
    us -= days * day;
    if (days)
        tp_buf_appendf(out, "%lld day%s, ", days, days == 1 || days == -1 ? "" : "s");
    long long s = us / 1000000;
    tp_buf_appendf(out, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    if (us % 1000000)
        tp_buf_appendf(out, ".%06lld", us % 1000000);
}

static void format_string(const char *s, bool repr, tp_buf *out)
{
    s = s ? s : "";
    if (!repr) {
        tp_buf_append_str(out, s);
        return;
    }
    char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
    tp_buf_append(out, &q, 1);
    for (; *s; s++) {
        if (*s == q || *s == '\\')
            tp_buf_appendf(out, "\\%c", *s);
        else if (*s == '\n' || *s == '\t' || *s == '\r')
            tp_buf_append_str(out, *s == '\n' ? "\\n" : *s == '\t' ? "\\t" : "\\r");
        else if ((unsigned char)*s < 0x20 || *s == 0x7f)
            tp_buf_appendf(out, "\\x%02x", (unsigned char)*s);
        else
            tp_buf_append(out, s, 1);
    }
    tp_buf_append(out, &q, 1);
}

void tp__opt_format_item(tp_opt_type t, const void *item, bool repr, tp_buf *out)
{
    switch (t) {
    case TP_OPT_BOOL: tp_buf_append_str(out, *(const bool *)item ? "True" : "False"); break;
    case TP_OPT_INT: tp_buf_appendf(out, "%d", *(const int *)item); break;
    case TP_OPT_SIZE: tp_buf_appendf(out, "%zu", *(const size_t *)item); break;
    case TP_OPT_DOUBLE: format_float(*(const double *)item, out); break;
    case TP_OPT_DURATION: format_duration(*(const double *)item, out); break;
    case TP_OPT_STRING: format_string(*(const char *const *)item, repr, out); break;
    case TP_OPT_DATETIME: {
        char s[64];
        strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S", item);
        if (repr)
            tp_buf_appendf(out, "datetime(%s)", s);
        else
            tp_buf_append_str(out, s);
        break;
    }
    }
}

void tp_options_format(const tp_option *o, const void *base, tp_buf *out)
{
    const void *field = (const char *)base + o->offset;
    if (!o->multiple) {
        tp__opt_format_item(o->type, field, false, out);
        return;
    }
    const tp_opt_list *l = field;
    size_t size = tp__opt_item_size(o->type);
    tp_buf_append_str(out, "[");
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            tp_buf_append_str(out, ", ");
        tp__opt_format_item(o->type, (const char *)l->items + i * size, true, out);
    }
    tp_buf_append_str(out, "]");
}
