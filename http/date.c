#include "http/date.h"

#include <stdio.h>
#include <string.h>

static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static char *two(char *w, int v)
{
    *w++ = (char)('0' + v / 10 % 10);
    *w++ = (char)('0' + v % 10);
    return w;
}

void tp_http_date_format(time_t t, char out[TP_HTTP_DATE_LEN + 1])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    int year = tm.tm_year + 1900;
    char *w = out;
    memcpy(w, days[tm.tm_wday], 3), w += 3;
    *w++ = ',', *w++ = ' ';
    w = two(w, tm.tm_mday), *w++ = ' ';
    memcpy(w, months[tm.tm_mon], 3), w += 3;
    *w++ = ' ';
    w = two(two(w, year / 100), year % 100), *w++ = ' ';
    w = two(w, tm.tm_hour), *w++ = ':';
    w = two(w, tm.tm_min), *w++ = ':';
    w = two(w, tm.tm_sec);
    memcpy(w, " GMT", 5);
}

const char *tp_http_date_now(void)
{
    static __thread time_t last = -1;
    static __thread char text[TP_HTTP_DATE_LEN + 1];
    time_t now = time(NULL);
    if (now != last) {
        tp_http_date_format(now, text);
        last = now;
    }
    return text;
}

static int month_index(const char *m)
{
    for (int i = 0; i < 12; i++)
        if (strncmp(m, months[i], 3) == 0)
            return i;
    return -1;
}

bool tp_http_date_parse(const char *s, size_t n, time_t *out)
{
    char buf[64], mon[4] = {0}, wday[16] = {0};
    struct tm tm = {0};
    int year, used = 0;
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (sscanf(buf, "%3s, %2d %3s %4d %2d:%2d:%2d GMT%n", wday, &tm.tm_mday, mon, &year,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) == 7 &&
        used == (int)n) {
        /* IMF-fixdate */
    } else if (sscanf(buf, "%15[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d GMT%n", wday, &tm.tm_mday, mon,
                      &year, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) == 7 &&
               used == (int)n) {
        year += year < 70 ? 2000 : 1900; /* RFC 850 two-digit year */
    } else if (sscanf(buf, "%3s %3s %2d %2d:%2d:%2d %4d%n", wday, mon, &tm.tm_mday, &tm.tm_hour,
                      &tm.tm_min, &tm.tm_sec, &year, &used) == 7 &&
               used == (int)n) {
        /* asctime */
    } else {
        return false;
    }
    tm.tm_mon = month_index(mon);
    if (tm.tm_mon < 0 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 60)
        return false;
    tm.tm_year = year - 1900;
    *out = timegm(&tm);
    return true;
}
