#include "http/stats.h"

#include <string.h>

const char *const tp_http_stat_methods[TP_HTTP_STAT_METHODS] = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other"};
const char *const tp_http_stat_classes[TP_HTTP_STAT_CLASSES] = {"1xx", "2xx", "3xx",
                                                                "4xx", "5xx", "none"};
const double tp_http_latency_bounds[TP_HTTP_LATENCY_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10};

static int method_row(tp_slice m)
{
    for (int i = 0; i < TP_HTTP_STAT_METHODS - 1; i++)
        if (tp_slice_eq(m, tp_slice_cstr(tp_http_stat_methods[i])))
            return i;
    return TP_HTTP_STAT_METHODS - 1;
}

static int status_column(int status)
{
    return status >= 100 && status < 600 ? status / 100 - 1 : TP_HTTP_STAT_CLASSES - 1;
}

static int latency_bucket(double seconds)
{
    int i = 0;
    while (i < TP_HTTP_LATENCY_BUCKETS && seconds > tp_http_latency_bounds[i])
        i++;
    return i;
}

void tp_http_stats_record(tp_http_stats *s, tp_slice method, int status, double seconds,
                          uint64_t bytes_in, uint64_t bytes_out)
{
    if (seconds < 0)
        seconds = 0;
    s->requests[method_row(method)][status_column(status)]++;
    s->latency[latency_bucket(seconds)]++;
    s->latency_us += (uint64_t)(seconds * 1e6 + 0.5);
    s->body_bytes_in += bytes_in;
    s->body_bytes_out += bytes_out;
}

void tp_http_stats_add(tp_http_stats *to, const tp_http_stats *from)
{
    uint64_t *t = (uint64_t *)to;
    const uint64_t *f = (const uint64_t *)from;
    for (size_t i = 0; i < sizeof(*to) / sizeof(uint64_t); i++)
        t[i] += f[i];
}

uint64_t tp_http_stats_total(const tp_http_stats *s)
{
    uint64_t n = 0;
    for (int i = 0; i <= TP_HTTP_LATENCY_BUCKETS; i++)
        n += s->latency[i];
    return n;
}
