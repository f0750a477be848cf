/* The prefork master: binds the listeners, forks and supervises the workers, reloads the app
 * as a new generation (HUP), drains and stops (TERM/QUIT graceful, INT fast). It never loads
 * app code itself. Design: ../shared/reference/process-model.md §9. */
#ifndef TP_PROCESS_MASTER_H
#define TP_PROCESS_MASTER_H

#include <stdbool.h>
#include <stddef.h>

#include "http/server.h"
#include "http/tls/tls.h"

#define TP_PREFORK_MAX_LISTEN 16

typedef struct tp_prefork_opts {
    const char *app_path;
    int ports[TP_PREFORK_MAX_LISTEN];
    size_t nports;
    const char *addresses[TP_PREFORK_MAX_LISTEN];
    size_t naddresses;
    const char *unix_sockets[TP_PREFORK_MAX_LISTEN];
    size_t nunix;
    const char *watch[TP_PREFORK_MAX_LISTEN];
    size_t nwatch;
    int procs; /* 0: auto */
    bool reuseport;
    int backlog;
    const char *pid_file, *port_file, *log_file;
    double worker_timeout, boot_timeout, shutdown_timeout, kill_grace, drain_idle_grace;
    /* A draining worker keeps its WebSocket connections this long, then closes them (1001). */
    double websocket_drain_timeout;
    unsigned long max_requests, max_requests_jitter;
    bool autoreload;
    const char *user, *group;
    const char *settings;        /* the effective settings, logged once the master is up */
    const char *pubsub;          /* --pubsub=redis://HOST:PORT, or NULL: relayed by the master */
    int error_fd;                /* where a failed start is reported (the user's stderr) */
    int metrics_port;            /* serve GET /metrics (Prometheus) here; 0: no metrics endpoint */
    const char *metrics_address; /* its address (NULL: 127.0.0.1) */
    tp_http_server_opts http;
    tp_tls_opts tls;            /* TLS with tls.certfile set (docs/tls.md) */
    double tls_ticket_rotation; /* seconds between session-ticket key rotations */
} tp_prefork_opts;

/* Seconds a draining worker gives its WebSocket connections to answer the 1001 Close. */
#define TP_WS_CLOSE_WAIT 5.0

/* Runs the master until it stops; returns the process exit status (0 after a stop, 1 when the
 * first generation could not start: the reason is printed on stderr as "error: ..."). */
int tp_master_run(const tp_prefork_opts *o);

#endif
