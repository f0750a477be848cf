/* The scoreboard's figures as text: the Prometheus exposition served on --metrics-port, and
 * the table of `tornado-prefork status`. Both read the same shared memory: the workers' live
 * records (their request counters, open connections) and the master's counters. */
#ifndef TP_PROCESS_METRICS_H
#define TP_PROCESS_METRICS_H

#include "core/buf.h"
#include "process/scoreboard.h"

/* Appends sb's figures to out in Prometheus' text format (version 0.0.4): totals since the
 * master started (exited workers included) and the same per live worker. now: wall clock. */
void tp_metrics_render(const tp_scoreboard *sb, double now, tp_buf *out);
/* Appends sb's figures to out as `tornado-prefork status` prints them: the master's counters,
 * then one row per live worker and a row of totals. */
void tp_status_render(const tp_scoreboard *sb, double now, tp_buf *out);

#endif
