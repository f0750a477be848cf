/* Locale.format_date and Locale.format_day. Times are kept as Python's datetime keeps them:
 * whole microseconds (a float timestamp rounded half-even, as utcfromtimestamp does), and
 * differences split like a timedelta into days (floored) and seconds (0-86399). The
 * quirks follow Tornado: a future date's "seconds" ignore its days, and "yesterday" only
 * compares the day of the month. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "web/locale/internal.h"

#define US_PER_SEC 1000000LL
#define US_PER_DAY (86400LL * US_PER_SEC)
/* datetime.min and datetime.max (years 1 and 9999) in microseconds since the epoch */
#define US_MIN (-62135596800LL * US_PER_SEC)
#define US_MAX (253402300800LL * US_PER_SEC - 1)

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* datetime.utcfromtimestamp's rounding: modf, microseconds rounded half to even. */
static int to_us(double t, int64_t *out)
{
    if (!isfinite(t) || t < -62135596800.0 || t >= 253402300800.0)
        return -ERANGE;
    double ip, frac = modf(t, &ip);
    double us = nearbyint(frac * 1e6);
    if (us >= 1e6)
        us -= 1e6, ip += 1;
    else if (us < 0)
        us += 1e6, ip -= 1;
    *out = (int64_t)ip * US_PER_SEC + (int64_t)us;
    return *out < US_MIN || *out > US_MAX ? -ERANGE : 0;
}

typedef struct civil {
    int64_t year;
    int month, day, hour, minute, weekday; /* weekday: Monday is 0 */
} civil;

/* Howard Hinnant's civil_from_days over microseconds since 1970-01-01T00:00 UTC. */
static civil to_civil(int64_t us)
{
    civil c;
    int64_t days = floor_div(us, US_PER_DAY);
    int64_t secs = (us - days * US_PER_DAY) / US_PER_SEC;
    c.hour = (int)(secs / 3600);
    c.minute = (int)(secs / 60 % 60);
    c.weekday = (int)((days % 7 + 7 + 3) % 7); /* 1970-01-01 was a Thursday */
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    c.day = (int)(doy - (153 * mp + 2) / 5 + 1);
    c.month = (int)(mp < 10 ? mp + 3 : mp - 9);
    c.year = yoe + era * 400 + (c.month <= 2);
    return c;
}

static tp_slice tr(const tp_locale *l, const char *msg)
{
    return tp_locale_translate(l, tp_slice_cstr(msg), TP_SLICE_NULL, 0);
}

/* "6:35 pm" (en, en_US), "下午6:35" (zh_CN), "18:35" (everyone else). */
static tp_slice str_time(const tp_locale *l, tp_arena *a, const civil *c)
{
    int h12 = c->hour % 12 ? c->hour % 12 : 12;
    if (strcmp(l->code, "zh_CN") == 0)
        return tp_slice_cstr(tp_arena_printf(
            a, "%s%d:%02d", c->hour >= 12 ? "\xe4\xb8\x8b\xe5\x8d\x88" : "\xe4\xb8\x8a\xe5\x8d\x88",
            h12, c->minute));
    if (strcmp(l->code, "en") == 0 || strcmp(l->code, "en_US") == 0)
        return tp_slice_cstr(
            tp_arena_printf(a, "%d:%02d %s", h12, c->minute, c->hour >= 12 ? "pm" : "am"));
    return tp_slice_cstr(tp_arena_printf(a, "%d:%02d", c->hour, c->minute));
}

/* The names a format may use: format_date's five, format_day's three or two. */
enum { KEYS_DATE = 5, KEYS_DAY_DOW = 3, KEYS_DAY = 2 };

/* format % {"month_name", "day", "weekday", "year", "time"} (the first nkeys of them). */
static int fill(const tp_locale *l, tp_arena *a, tp_slice fmt, const civil *c, size_t nkeys,
                tp_slice *out)
{
    tp_pyarg args[] = {
        {.name = "month_name", .s = l->months[c->month - 1]},
        {.name = "day", .s = tp_slice_cstr(tp_arena_printf(a, "%d", c->day))},
        {.name = "weekday", .s = l->weekdays[c->weekday]},
        {.name = "year", .s = tp_slice_cstr(tp_arena_printf(a, "%lld", (long long)c->year))},
        {.name = "time", .s = nkeys == KEYS_DATE ? str_time(l, a, c) : TP_SLICE_NULL},
    };
    return tp_locale_pyformat(a, fmt, args, nkeys, out);
}

/* "N seconds ago" / "N minutes ago" / "N hours ago" for an age under a day. */
static int relative_text(const tp_locale *l, tp_arena *a, int64_t seconds, tp_slice *out)
{
    const char *one, *many, *key;
    int64_t count;
    if (seconds < 50) {
        one = "1 second ago", many = "%(seconds)d seconds ago", key = "seconds";
        count = seconds;
    } else if (seconds < 50 * 60) {
        one = "1 minute ago", many = "%(minutes)d minutes ago", key = "minutes";
        count = (int64_t)nearbyint((double)seconds / 60.0); /* round(): half to even */
    } else {
        one = "1 hour ago", many = "%(hours)d hours ago", key = "hours";
        count = (int64_t)nearbyint((double)seconds / 3600.0);
    }
    tp_pyarg arg = {.name = key, .is_int = true, .i = count};
    tp_slice fmt = tp_locale_translate(l, tp_slice_cstr(one), tp_slice_cstr(many), count);
    return tp_locale_pyformat(a, fmt, &arg, 1, out);
}

int tp_locale_format_date(const tp_locale *l, tp_arena *a, double date, double now, int gmt_offset,
                          bool relative, bool shorter, bool full_format, tp_slice *out)
{
    int64_t d, nw, off = (int64_t)gmt_offset * 60 * US_PER_SEC;
    if (to_us(date, &d) < 0 || to_us(now, &nw) < 0)
        return -ERANGE;
    if (d > nw) {
        int64_t ahead = d - nw;
        int64_t ahead_secs = (ahead - floor_div(ahead, US_PER_DAY) * US_PER_DAY) / US_PER_SEC;
        if (relative && ahead_secs < 60)
            d = nw; /* clock skew: the near future is "now" */
        else
            full_format = true;
    }
    int64_t local = d - off, local_now = nw - off, local_yesterday = local_now - US_PER_DAY;
    if (local < US_MIN || local > US_MAX || local_now < US_MIN || local_now > US_MAX ||
        local_yesterday < US_MIN)
        return -ERANGE; /* OverflowError: date value out of range */
    int64_t diff = nw - d, days = floor_div(diff, US_PER_DAY);
    int64_t seconds = (diff - days * US_PER_DAY) / US_PER_SEC;
    civil c = to_civil(local);
    const char *fmt = NULL;
    if (!full_format) {
        if (relative && days == 0)
            return relative_text(l, a, seconds, out);
        if (days == 0)
            fmt = "%(time)s";
        else if (days == 1 && c.day == to_civil(local_yesterday).day && relative)
            fmt = shorter ? "yesterday" : "yesterday at %(time)s";
        else if (days < 5)
            fmt = shorter ? "%(weekday)s" : "%(weekday)s at %(time)s";
        else if (days < 334) /* 11 months: the same month last year would confuse */
            fmt = shorter ? "%(month_name)s %(day)s" : "%(month_name)s %(day)s at %(time)s";
    }
    if (!fmt)
        fmt = shorter ? "%(month_name)s %(day)s, %(year)s"
                      : "%(month_name)s %(day)s, %(year)s at %(time)s";
    return fill(l, a, tr(l, fmt), &c, KEYS_DATE, out);
}

int tp_locale_format_day(const tp_locale *l, tp_arena *a, double date, int gmt_offset, bool dow,
                         tp_slice *out)
{
    int64_t d;
    if (to_us(date, &d) < 0)
        return -ERANGE;
    int64_t local = d - (int64_t)gmt_offset * 60 * US_PER_SEC;
    if (local < US_MIN || local > US_MAX)
        return -ERANGE;
    civil c = to_civil(local);
    if (dow)
        return fill(l, a, tr(l, "%(weekday)s, %(month_name)s %(day)s"), &c, KEYS_DAY_DOW, out);
    return fill(l, a, tr(l, "%(month_name)s %(day)s"), &c, KEYS_DAY, out);
}
