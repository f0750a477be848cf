/* The request counters (http/stats.h) and their renderings (process/metrics.h): the
 * Prometheus text of --metrics-port and the table of `tornado-prefork status`, on a
 * scoreboard the test fills by hand. The end-to-end check is tests/prefork/test_metrics.py. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "http/stats.h"
#include "process/metrics.h"
#include "process/scoreboard.h"
#include "tests/unit/suites.h"

#define S(lit) tp_slice_cstr(lit)

START_TEST(record_counts_methods_classes_and_buckets)
{
    tp_http_stats s = {0};
    tp_http_stats_record(&s, S("GET"), 200, 0.0001, 0, 12);
    tp_http_stats_record(&s, S("GET"), 404, 0.003, 0, 5);
    tp_http_stats_record(&s, S("POST"), 201, 0.2, 100, 0);
    tp_http_stats_record(&s, S("BREW"), 503, 99, 0, 0);    /* other method, past every bound */
    tp_http_stats_record(&s, TP_SLICE_NULL, 400, 0, 0, 0); /* a refused head: no method */
    tp_http_stats_record(&s, S("DELETE"), 0, -1, 0, 0);    /* no response; a clock step back */
    tp_http_stats_record(&s, S("get"), 200, 0, 0, 0);      /* methods are case-sensitive */
    ck_assert_uint_eq(s.requests[0][1], 1);
    ck_assert_uint_eq(s.requests[0][3], 1);
    ck_assert_uint_eq(s.requests[2][1], 1);
    ck_assert_uint_eq(s.requests[7][4], 1);
    ck_assert_uint_eq(s.requests[7][3], 1);
    ck_assert_uint_eq(s.requests[4][5], 1);
    ck_assert_uint_eq(s.requests[7][1], 1);
    ck_assert_uint_eq(tp_http_stats_total(&s), 7);
    ck_assert_uint_eq(s.latency[0], 4); /* 0.0001, 0, 0 and the negative one */
    ck_assert_uint_eq(s.latency[3], 1); /* 0.003 <= 0.005 */
    ck_assert_uint_eq(s.latency[8], 1); /* 0.2 <= 0.25 */
    ck_assert_uint_eq(s.latency[TP_HTTP_LATENCY_BUCKETS], 1);
    ck_assert_uint_eq(s.latency_us, 100 + 3000 + 200000 + 99000000);
    ck_assert_uint_eq(s.body_bytes_in, 100);
    ck_assert_uint_eq(s.body_bytes_out, 17);
    tp_http_stats t = s;
    tp_http_stats_add(&t, &s);
    ck_assert_uint_eq(tp_http_stats_total(&t), 14);
    ck_assert_uint_eq(t.requests[0][1], 2);
    ck_assert_uint_eq(t.latency_us, 2 * s.latency_us);
}
END_TEST

START_TEST(bucket_bounds_are_inclusive)
{
    for (int i = 0; i < TP_HTTP_LATENCY_BUCKETS; i++) {
        tp_http_stats s = {0};
        tp_http_stats_record(&s, S("GET"), 200, tp_http_latency_bounds[i], 0, 0);
        ck_assert_msg(s.latency[i] == 1, "le=%g", tp_http_latency_bounds[i]);
        if (i)
            ck_assert(tp_http_latency_bounds[i] > tp_http_latency_bounds[i - 1]);
    }
}
END_TEST

/* A scoreboard with two live workers, one reserved record and an exited worker's counts. */
static tp_scoreboard *board(void)
{
    tp_scoreboard *sb = tp_scoreboard_create(NULL, 4);
    ck_assert_ptr_nonnull(sb);
    tp_score *a = tp_scoreboard_claim(sb, 101, 0, 2), *b = tp_scoreboard_claim(sb, 102, 1, 2);
    tp_score *gone = tp_scoreboard_claim(sb, 99, 1, 1);
    tp_scoreboard_claim(sb, -1, 0, 3); /* being forked: not a worker yet */
    a->state = b->state = 2;
    a->connections = 3;
    b->connections = 4;
    for (int i = 0; i < 5; i++)
        tp_http_stats_record(&a->http, S("GET"), 200, 0.002, 0, 10);
    tp_http_stats_record(&b->http, S("POST"), 500, 0.3, 7, 1);
    for (int i = 0; i < 10; i++)
        tp_http_stats_record(&gone->http, S("GET"), 200, 0.0001, 0, 1);
    tp_scoreboard_release(sb, 99);
    sb->master.generation = 2;
    sb->master.procs = 2;
    sb->master.worker_starts = 5;
    sb->master.exits[TP_EXIT_CRASHED] = 1;
    sb->master.restarts[TP_EXIT_CRASHED] = 1;
    sb->master.reloads = 2;
    sb->master.rollbacks = 1;
    return sb;
}

/* The value of the exposition line that starts with `series ` (-1 if none). */
static double value_of(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, series, n) && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    return -1;
}

START_TEST(prometheus_text_sums_live_and_exited_workers)
{
    tp_scoreboard *sb = board();
    tp_buf b = {0};
    tp_metrics_render(sb, sb->master.started + 10, &b);
    tp_buf_put(&b, "", 1);
    const char *t = tp_buf_data(&b);
#define V(series, want)                                                                            \
    ck_assert_msg(value_of(t, series) == (want), "%s: %g\n%s", series, value_of(t, series), t)
    V("tornado_prefork_http_requests_total{method=\"GET\",code=\"2xx\"}", 15);
    V("tornado_prefork_http_requests_total{method=\"POST\",code=\"5xx\"}", 1);
    V("tornado_prefork_http_requests_total{worker=\"0\",pid=\"101\",method=\"GET\",code=\"2xx\"}",
      5);
    V("tornado_prefork_http_requests_total{worker=\"1\",pid=\"102\",method=\"POST\",code=\"5xx\"}",
      1);
    V("tornado_prefork_http_request_duration_seconds_bucket{le=\"0.0005\"}", 10);
    V("tornado_prefork_http_request_duration_seconds_bucket{le=\"0.0025\"}", 15);
    V("tornado_prefork_http_request_duration_seconds_bucket{le=\"+Inf\"}", 16);
    V("tornado_prefork_http_request_duration_seconds_count", 16);
    V("tornado_prefork_http_request_duration_seconds_count{worker=\"0\",pid=\"101\"}", 5);
    V("tornado_prefork_http_response_body_bytes_total", 61);
    V("tornado_prefork_http_request_body_bytes_total{worker=\"1\",pid=\"102\"}", 7);
    V("tornado_prefork_open_connections", 7);
    V("tornado_prefork_open_connections{worker=\"1\",pid=\"102\"}", 4);
    V("tornado_prefork_workers{state=\"ready\"}", 2);
    V("tornado_prefork_workers{state=\"booting\"}", 0);
    V("tornado_prefork_generation", 2);
    V("tornado_prefork_worker_starts_total", 5);
    V("tornado_prefork_worker_exits_total{cause=\"crashed\"}", 1);
    V("tornado_prefork_worker_restarts_total{cause=\"crashed\"}", 1);
    V("tornado_prefork_worker_restarts_total{cause=\"max_requests\"}", 0);
    V("tornado_prefork_reloads_total", 2);
    V("tornado_prefork_rollbacks_total", 1);
#undef V
    ck_assert_ptr_null(strstr(t, "pid=\"-1\""));
    ck_assert_ptr_null(strstr(t, "{}"));
    /* Every family has HELP and TYPE lines; every other line is `name{labels} number`. */
    for (const char *p = t; *p; p = strchr(p, '\n') + 1) {
        const char *end = strchr(p, '\n');
        ck_assert_ptr_nonnull(end);
        if (*p == '#') {
            ck_assert(!strncmp(p, "# HELP tornado_prefork_", 23) ||
                      !strncmp(p, "# TYPE tornado_prefork_", 23));
            continue;
        }
        ck_assert_msg(!strncmp(p, "tornado_prefork_", 16), "%.*s", (int)(end - p), p);
        const char *sp = memrchr(p, ' ', (size_t)(end - p));
        char *num_end;
        strtod(sp + 1, &num_end);
        ck_assert_msg(num_end == end, "%.*s", (int)(end - p), p);
    }
    tp_buf_free(&b);
}
END_TEST

START_TEST(status_table_has_a_row_per_worker_and_totals)
{
    tp_scoreboard *sb = board();
    tp_buf b = {0};
    tp_status_render(sb, sb->master.started + 300, &b);
    tp_buf_put(&b, "", 1);
    const char *t = tp_buf_data(&b);
    ck_assert_msg(strstr(t, "generation 2, 2 workers wanted, 2 reloads, 1 rollbacks"), "%s", t);
    ck_assert_msg(strstr(t, "exits: drained 0 crashed 1"), "%s", t);
    const char *head = strstr(t, "\nslot ");
    ck_assert_ptr_nonnull(head);
    int rows = 0;
    char all[400] = "";
    for (const char *p = strchr(head + 1, '\n') + 1; *p; p = strchr(p, '\n') + 1) {
        rows++;
        if (!strncmp(p, "all ", 4))
            snprintf(all, sizeof(all), "%.*s", (int)(strchr(p, '\n') - p), p);
    }
    ck_assert_int_eq(rows, 3);
    /* all - - - - requests conns 1xx 2xx 3xx 4xx 5xx none in out avg p99 */
    char f[17][32];
    ck_assert_int_eq(sscanf(all,
                            "%31s %31s %31s %31s %31s %31s %31s %31s %31s %31s %31s %31s "
                            "%31s %31s %31s %31s %31s",
                            f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10],
                            f[11], f[12], f[13], f[14], f[15], f[16]),
                     17);
    ck_assert_str_eq(f[5], "16");
    ck_assert_str_eq(f[6], "7");
    ck_assert_str_eq(f[8], "15");
    ck_assert_str_eq(f[11], "1");
    ck_assert_str_eq(f[14], "61");
    ck_assert_str_eq(f[15], "19.44"); /* (10*0.1 + 5*2 + 300) / 16 ms */
    ck_assert_str_eq(f[16], "500");   /* 16th of 16 requests: the <= 0.5 s bucket */
    tp_buf_free(&b);
}
END_TEST

Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");
    tcase_add_test(tc, record_counts_methods_classes_and_buckets);
    tcase_add_test(tc, bucket_bounds_are_inclusive);
    tcase_add_test(tc, prometheus_text_sums_live_and_exited_workers);
    tcase_add_test(tc, status_table_has_a_row_per_worker_and_totals);
    suite_add_tcase(s, tc);
    return s;
}
