#include "process/metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define PFX "tornado_prefork_"

static const char *const state_names[] = {"free", "booting", "ready", "draining"};

static const char *state_name(uint32_t s)
{
    return s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "unknown";
}

static bool live(const tp_score *r)
{
    return r->pid > 0;
}

/* Everything counted since the start: exited workers' counters and the live ones'. */
static tp_http_stats sum_all(const tp_scoreboard *sb)
{
    tp_http_stats t = sb->master.retired;
    for (uint32_t i = 0; i < sb->nrecords; i++)
        if (live(&sb->records[i]))
            tp_http_stats_add(&t, &sb->records[i].http);
    return t;
}

static uint64_t open_connections(const tp_scoreboard *sb)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < sb->nrecords; i++)
        if (live(&sb->records[i]))
            n += sb->records[i].connections;
    return n;
}

static void family(tp_buf *b, const char *name, const char *type, const char *help)
{
    tp_buf_appendf(b, "# HELP " PFX "%s %s\n# TYPE " PFX "%s %s\n", name, help, name, type);
}

/* The label set of a worker's series: `worker="SLOT",pid="PID"`, or "" for the totals. */
static void worker_labels(const tp_score *r, char *out, size_t n)
{
    if (r)
        snprintf(out, n, "worker=\"%d\",pid=\"%d\"", r->slot, r->pid);
    else
        out[0] = 0;
}

static void requests(tp_buf *b, const char *name, const tp_http_stats *s, const char *lb)
{
    for (int m = 0; m < TP_HTTP_STAT_METHODS; m++)
        for (int c = 0; c < TP_HTTP_STAT_CLASSES; c++)
            if (s->requests[m][c] || (m == 0 && c == 1))
                tp_buf_appendf(b, PFX "%s{%s%smethod=\"%s\",code=\"%s\"} %" PRIu64 "\n", name, lb,
                               *lb ? "," : "", tp_http_stat_methods[m], tp_http_stat_classes[c],
                               s->requests[m][c]);
}

static void histogram(tp_buf *b, const char *name, const tp_http_stats *s, const char *lb)
{
    uint64_t cum = 0;
    const char *sep = *lb ? "," : "";
    for (int i = 0; i < TP_HTTP_LATENCY_BUCKETS; i++) {
        cum += s->latency[i];
        tp_buf_appendf(b, PFX "%s_bucket{%s%sle=\"%g\"} %" PRIu64 "\n", name, lb, sep,
                       tp_http_latency_bounds[i], cum);
    }
    cum += s->latency[TP_HTTP_LATENCY_BUCKETS];
    tp_buf_appendf(b, PFX "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n", name, lb, sep, cum);
    const char *open = *lb ? "{" : "", *close = *lb ? "}" : "";
    tp_buf_appendf(b, PFX "%s_sum%s%s%s %.6f\n", name, open, lb, close,
                   (double)s->latency_us / 1e6);
    tp_buf_appendf(b, PFX "%s_count%s%s%s %" PRIu64 "\n", name, open, lb, close, cum);
}

/* One counter of tp_http_stats (at byte offset off): the total, then per worker. */
static void stat_counter(tp_buf *b, const tp_scoreboard *sb, const tp_http_stats *total,
                         const char *name, const char *help, size_t off)
{
    family(b, name, "counter", help);
    tp_buf_appendf(b, PFX "%s %" PRIu64 "\n", name, *(const uint64_t *)((const char *)total + off));
    char lb[64];
    for (uint32_t i = 0; i < sb->nrecords; i++)
        if (live(&sb->records[i])) {
            worker_labels(&sb->records[i], lb, sizeof(lb));
            tp_buf_appendf(b, PFX "%s{%s} %" PRIu64 "\n", name, lb,
                           *(const uint64_t *)((const char *)&sb->records[i].http + off));
        }
}

static void http_families(tp_buf *b, const tp_scoreboard *sb, const tp_http_stats *total)
{
    char lb[64];
    family(b, "http_requests_total", "counter",
           "Requests finished, by method and status class (code=\"none\": no response was sent)");
    requests(b, "http_requests_total", total, "");
    for (uint32_t i = 0; i < sb->nrecords; i++)
        if (live(&sb->records[i])) {
            worker_labels(&sb->records[i], lb, sizeof(lb));
            requests(b, "http_requests_total", &sb->records[i].http, lb);
        }
    family(b, "http_request_duration_seconds", "histogram",
           "Seconds from a request's complete head to its response's end");
    histogram(b, "http_request_duration_seconds", total, "");
    for (uint32_t i = 0; i < sb->nrecords; i++)
        if (live(&sb->records[i])) {
            worker_labels(&sb->records[i], lb, sizeof(lb));
            histogram(b, "http_request_duration_seconds", &sb->records[i].http, lb);
        }
    stat_counter(b, sb, total, "http_request_body_bytes_total", "Request body bytes received",
                 offsetof(tp_http_stats, body_bytes_in));
    stat_counter(b, sb, total, "http_response_body_bytes_total", "Response body bytes written",
                 offsetof(tp_http_stats, body_bytes_out));
    stat_counter(b, sb, total, "http_connections_total", "Connections accepted",
                 offsetof(tp_http_stats, connections));
}

static void worker_families(tp_buf *b, const tp_scoreboard *sb)
{
    char lb[64];
    family(b, "open_connections", "gauge", "Open client connections (heartbeat, 0.5 s)");
    tp_buf_appendf(b, PFX "open_connections %" PRIu64 "\n", open_connections(sb));
    for (uint32_t i = 0; i < sb->nrecords; i++)
        if (live(&sb->records[i])) {
            worker_labels(&sb->records[i], lb, sizeof(lb));
            tp_buf_appendf(b, PFX "open_connections{%s} %" PRIu64 "\n", lb,
                           sb->records[i].connections);
        }
    family(b, "worker_info", "gauge", "One per live worker: its generation and state");
    for (uint32_t i = 0; i < sb->nrecords; i++)
        if (live(&sb->records[i])) {
            const tp_score *r = &sb->records[i];
            worker_labels(r, lb, sizeof(lb));
            tp_buf_appendf(b, PFX "worker_info{%s,generation=\"%u\",state=\"%s\"} 1\n", lb, r->gen,
                           state_name(r->state));
        }
    family(b, "workers", "gauge", "Live workers by state");
    for (uint32_t s = 1; s <= 3; s++) {
        unsigned n = 0;
        for (uint32_t i = 0; i < sb->nrecords; i++)
            n += live(&sb->records[i]) && sb->records[i].state == s;
        tp_buf_appendf(b, PFX "workers{state=\"%s\"} %u\n", state_name(s), n);
    }
}

static void master_families(tp_buf *b, const tp_master_stats *ms)
{
    family(b, "start_time_seconds", "gauge", "When the master started (Unix time)");
    tp_buf_appendf(b, PFX "start_time_seconds %.0f\n", ms->started);
    family(b, "generation", "gauge", "The generation serving (1, then one more per reload)");
    tp_buf_appendf(b, PFX "generation %u\n", ms->generation);
    family(b, "workers_wanted", "gauge", "Worker slots (--procs, TTIN/TTOU)");
    tp_buf_appendf(b, PFX "workers_wanted %u\n", ms->procs);
    family(b, "worker_starts_total", "counter", "Worker processes forked");
    tp_buf_appendf(b, PFX "worker_starts_total %" PRIu64 "\n", ms->worker_starts);
    family(b, "worker_exits_total", "counter", "Worker exits by cause");
    for (int c = 0; c < TP_EXIT_CAUSES; c++)
        tp_buf_appendf(b, PFX "worker_exits_total{cause=\"%s\"} %" PRIu64 "\n",
                       tp_exit_cause_name(c), ms->exits[c]);
    family(b, "worker_restarts_total", "counter",
           "Workers started again in their slot, by the cause of the exit (or max_requests)");
    for (int c = TP_EXIT_DRAINED + 1; c < TP_EXIT_CAUSES; c++)
        tp_buf_appendf(b, PFX "worker_restarts_total{cause=\"%s\"} %" PRIu64 "\n",
                       tp_exit_cause_name(c), ms->restarts[c]);
    tp_buf_appendf(b, PFX "worker_restarts_total{cause=\"max_requests\"} %" PRIu64 "\n",
                   ms->recycles);
    family(b, "reloads_total", "counter", "Reloads started (HUP, autoreload)");
    tp_buf_appendf(b, PFX "reloads_total %" PRIu64 "\n", ms->reloads);
    family(b, "rollbacks_total", "counter", "Reloads that failed: the old generation kept serving");
    tp_buf_appendf(b, PFX "rollbacks_total %" PRIu64 "\n", ms->rollbacks);
}

void tp_metrics_render(const tp_scoreboard *sb, double now, tp_buf *out)
{
    (void)now;
    tp_http_stats total = sum_all(sb);
    http_families(out, sb, &total);
    worker_families(out, sb);
    master_families(out, &sb->master);
}

/* ---- the status table --------------------------------------------------------------------- */

static void duration(double s, char *out, size_t n)
{
    if (s < 120)
        snprintf(out, n, "%.0fs", s < 0 ? 0 : s);
    else if (s < 7200)
        snprintf(out, n, "%.0fm", s / 60);
    else if (s < 172800)
        snprintf(out, n, "%.0fh", s / 3600);
    else
        snprintf(out, n, "%.0fd", s / 86400);
}

/* The upper bound of the bucket the q-quantile falls in, in ms ("-" without requests). */
static void quantile(const tp_http_stats *s, double q, char *out, size_t n)
{
    uint64_t total = tp_http_stats_total(s), cum = 0;
    if (!total) {
        snprintf(out, n, "-");
        return;
    }
    for (int i = 0; i < TP_HTTP_LATENCY_BUCKETS; i++) {
        cum += s->latency[i];
        if ((double)cum >= q * (double)total) {
            snprintf(out, n, "%g", tp_http_latency_bounds[i] * 1000);
            return;
        }
    }
    snprintf(out, n, ">%g", tp_http_latency_bounds[TP_HTTP_LATENCY_BUCKETS - 1] * 1000);
}

static void row(tp_buf *b, const char *head, const tp_http_stats *s, uint64_t conns)
{
    uint64_t cls[TP_HTTP_STAT_CLASSES] = {0};
    for (int m = 0; m < TP_HTTP_STAT_METHODS; m++)
        for (int c = 0; c < TP_HTTP_STAT_CLASSES; c++)
            cls[c] += s->requests[m][c];
    uint64_t total = tp_http_stats_total(s);
    char avg[32], p99[32];
    snprintf(avg, sizeof(avg), total ? "%.2f" : "-", total ? s->latency_us / 1e3 / total : 0.0);
    quantile(s, 0.99, p99, sizeof(p99));
    tp_buf_appendf(b, "%s %9" PRIu64 " %5" PRIu64, head, total, conns);
    for (int c = 0; c < TP_HTTP_STAT_CLASSES; c++)
        tp_buf_appendf(b, " %7" PRIu64, cls[c]);
    tp_buf_appendf(b, " %11" PRIu64 " %11" PRIu64 " %7s %7s\n", s->body_bytes_in, s->body_bytes_out,
                   avg, p99);
}

static void master_lines(tp_buf *b, const tp_scoreboard *sb, double now)
{
    const tp_master_stats *ms = &sb->master;
    char up[32];
    duration(now - ms->started, up, sizeof(up));
    tp_buf_appendf(b,
                   "master pid %d, up %s, generation %u, %u workers wanted, %" PRIu64
                   " reloads, %" PRIu64 " rollbacks\n",
                   sb->master_pid, up, ms->generation, ms->procs, ms->reloads, ms->rollbacks);
    tp_buf_appendf(b, "worker starts %" PRIu64 "; exits:", ms->worker_starts);
    for (int c = 0; c < TP_EXIT_CAUSES; c++)
        tp_buf_appendf(b, " %s %" PRIu64, tp_exit_cause_name(c), ms->exits[c]);
    tp_buf_appendf(b, "; restarts:");
    for (int c = TP_EXIT_DRAINED + 1; c < TP_EXIT_CAUSES; c++)
        tp_buf_appendf(b, " %s %" PRIu64, tp_exit_cause_name(c), ms->restarts[c]);
    tp_buf_appendf(b, " max_requests %" PRIu64 "\n\n", ms->recycles);
}

void tp_status_render(const tp_scoreboard *sb, double now, tp_buf *out)
{
    master_lines(out, sb, now);
    tp_buf_appendf(out, "%-4s %7s %3s %-8s %6s %9s %5s", "slot", "pid", "gen", "state", "uptime",
                   "requests", "conns");
    for (int c = 0; c < TP_HTTP_STAT_CLASSES; c++)
        tp_buf_appendf(out, " %7s", tp_http_stat_classes[c]);
    tp_buf_appendf(out, " %11s %11s %7s %7s\n", "bytes_in", "bytes_out", "avg_ms", "p99_ms");
    for (uint32_t i = 0; i < sb->nrecords; i++) {
        const tp_score *r = &sb->records[i];
        if (!live(r))
            continue;
        char head[80], up[32];
        duration(now - r->started, up, sizeof(up));
        snprintf(head, sizeof(head), "%-4d %7d %3u %-8s %6s", r->slot, r->pid, r->gen,
                 state_name(r->state), up);
        row(out, head, &r->http, r->connections);
    }
    tp_http_stats total = sum_all(sb);
    char head[80];
    snprintf(head, sizeof(head), "%-4s %7s %3s %-8s %6s", "all", "-", "-", "-", "-");
    row(out, head, &total, open_connections(sb));
}
