/* The scoreboard: one shared-memory record per worker, written by that worker only (heartbeat,
 * requests, connections, current request) and read by the master (hung-worker detection, the
 * route of a crashed worker) and by `tornado-prefork status`. */
#ifndef TP_PROCESS_SCOREBOARD_H
#define TP_PROCESS_SCOREBOARD_H

#include <stddef.h>
#include <stdint.h>

#include "http/stats.h"

typedef struct tp_score {
    int32_t pid; /* 0: free record */
    int32_t slot;
    uint32_t gen;
    uint32_t state;        /* 1 booting, 2 ready, 3 draining */
    double started;        /* wall-clock seconds */
    uint64_t heartbeat_ns; /* CLOCK_MONOTONIC */
    uint64_t requests;
    uint64_t connections;
    char request[64];   /* "GET /path" of the request being served or last served */
    tp_http_stats http; /* the worker's server counts its requests here, live */
} tp_score;

/* Why a worker ended (the exits counter's label). */
typedef enum {
    TP_EXIT_DRAINED,     /* told to go (reload, max_requests, TTOU, stop) and went */
    TP_EXIT_CRASHED,     /* killed by a signal it was not sent */
    TP_EXIT_FAILED,      /* exited by itself, with any status */
    TP_EXIT_HUNG,        /* missed its heartbeat: aborted by the master */
    TP_EXIT_BOOT_FAILED, /* ended before it was ready */
    TP_EXIT_CAUSES
} tp_exit_cause;

/* The master's own counters, in the scoreboard's header so `status` reads them too. */
typedef struct tp_master_stats {
    double started;      /* wall-clock seconds */
    uint32_t generation; /* serving */
    uint32_t procs;      /* workers wanted */
    uint64_t worker_starts;
    uint64_t exits[TP_EXIT_CAUSES];
    uint64_t restarts[TP_EXIT_CAUSES]; /* a slot started again after an exit of that cause */
    uint64_t recycles;                 /* ... or because its worker reached max_requests */
    uint64_t reloads;                  /* started */
    uint64_t rollbacks;                /* reloads that failed, the old generation kept */
    tp_http_stats retired;             /* the counters of workers that have exited */
} tp_master_stats;

typedef struct tp_scoreboard {
    uint32_t magic;
    uint32_t nrecords;
    int32_t master_pid;
    uint32_t reserved;
    tp_master_stats master;
    tp_score records[];
} tp_scoreboard;

#define TP_SCOREBOARD_MAGIC 0x74707332u /* "tps2" */

/* Maps a scoreboard of n records, shared with children forked later: file-backed at path
 * (created, so `status` can read it) or anonymous when path is NULL. NULL on failure. */
tp_scoreboard *tp_scoreboard_create(const char *path, uint32_t n);
/* Maps an existing scoreboard file read-only (for `status`); NULL if there is none. */
const tp_scoreboard *tp_scoreboard_open(const char *path, size_t *size);
/* A free record (zeroed and claimed for pid; -1 reserves it until the pid is known), or NULL
 * when all are taken. */
tp_score *tp_scoreboard_claim(tp_scoreboard *sb, int pid, int slot, uint32_t gen);
/* Releases pid's record; its request counters are added to the master's retired ones. */
void tp_scoreboard_release(tp_scoreboard *sb, int pid);
tp_score *tp_scoreboard_find(tp_scoreboard *sb, int pid);
/* The label of an exit cause ("drained", "crashed", "failed", "hung", "boot_failed"). */
const char *tp_exit_cause_name(int cause);
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t tp_monotonic_ns(void);

#endif
