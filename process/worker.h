/* A worker process of the prefork server: boots its generation's app snapshot, serves the
 * shared listeners, reports to the master, drains on request. */
#ifndef TP_PROCESS_WORKER_H
#define TP_PROCESS_WORKER_H

#include <stdbool.h>
#include <stddef.h>

#include "http/server.h"
#include "process/scoreboard.h"

typedef struct tp_worker_boot {
    int slot; /* task id 0..N-1, stable across respawns and generations */
    unsigned gen;
    int master_pid;
    int ctl_fd;           /* this worker's end of the control socketpair */
    const int *listeners; /* fds bound by the master */
    size_t nlisteners;
    bool shared;          /* listeners shared by all workers (EPOLLEXCLUSIVE) */
    const char *snapshot; /* the generation's copy of app.so */
    const tp_http_server_opts *http;
    tp_score *score;      /* this worker's scoreboard record (NULL: none) */
    const char *log_file; /* reopened on REOPEN_LOGS and USR1 (NULL: stderr) */
    double drain_idle_grace;
    double websocket_drain_timeout; /* WebSocket connections kept in a drain (seconds) */
    double shutdown_timeout;        /* HTTP connections kept in a drain (seconds; 0: no limit
                                       but the drain's own) */
    unsigned long max_requests;     /* 0: no recycling */
    int pubsub_fd;                  /* this worker's end of the pubsub relay (-1: none) */
    const char *pubsub_url;         /* --pubsub=redis://HOST:PORT, or NULL */

    /* TLS (process/tls_keys.c) */
    const struct tp_tls_opts *tls;       /* the generation's (NULL: plain HTTP), loaded at boot */
    const struct tp_tls_opts *tls_given; /* the same as given (paths named in errors) */
    struct tp_tls_tickets *tickets;      /* the master's shared session-ticket ring */
    double tls_ticket_rotation;          /* its rotation period (seconds) */
} tp_worker_boot;

/* Runs the worker in the child after fork; never returns. Exit status 0 after a drain, 3 when
 * the boot failed (the master was sent BOOT_FAILED with the reason first). */
_Noreturn void tp_worker_run(const tp_worker_boot *b);

#endif
