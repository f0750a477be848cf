/* Request counters of an HTTP server, for metrics: requests by method and status class, a
 * latency histogram, body bytes each way, connections accepted. The server keeps them in a
 * struct of its own, or in one the caller gives (the prefork worker's scoreboard record, in
 * shared memory, so the master reads them live). One writer; readers may see a request's
 * counters half-updated, never torn words. */
#ifndef TP_HTTP_STATS_H
#define TP_HTTP_STATS_H

#include "platform/api.h"

#include <stdint.h>

#include "core/slice.h"

enum { TP_HTTP_STAT_METHODS = 8 };     /* GET HEAD POST PUT DELETE PATCH OPTIONS other */
enum { TP_HTTP_STAT_CLASSES = 6 };     /* 1xx 2xx 3xx 4xx 5xx, and none (no response) */
enum { TP_HTTP_LATENCY_BUCKETS = 13 }; /* finite upper bounds; one more bucket for +Inf */

typedef struct tp_http_stats {
    uint64_t requests[TP_HTTP_STAT_METHODS][TP_HTTP_STAT_CLASSES];
    uint64_t latency[TP_HTTP_LATENCY_BUCKETS + 1]; /* requests per bucket (not cumulative) */
    uint64_t latency_us;                           /* sum of the latencies, microseconds */
    uint64_t body_bytes_in;                        /* request body bytes received */
    uint64_t body_bytes_out;                       /* response body bytes written */
    uint64_t connections;                          /* connections accepted */
} tp_http_stats;

/* The names of the method rows ("GET" ... "OPTIONS", "other"). */
TP_API extern const char *const tp_http_stat_methods[TP_HTTP_STAT_METHODS];
/* The names of the status columns ("1xx" ... "5xx", "none"). */
TP_API extern const char *const tp_http_stat_classes[TP_HTTP_STAT_CLASSES];
/* The histogram's finite upper bounds in seconds, ascending (Prometheus' `le`). */
TP_API extern const double tp_http_latency_bounds[TP_HTTP_LATENCY_BUCKETS];

/* Counts one finished request: its method, the status sent (0: none was), the seconds from
 * its complete head to its end, and its body bytes each way. */
TP_API void tp_http_stats_record(tp_http_stats *s, tp_slice method, int status, double seconds,
                                 uint64_t bytes_in, uint64_t bytes_out);
/* Adds every counter of from to to. */
TP_API void tp_http_stats_add(tp_http_stats *to, const tp_http_stats *from);
/* Requests counted in s. */
TP_API uint64_t tp_http_stats_total(const tp_http_stats *s);

#endif
