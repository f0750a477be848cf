/* The master's state, shared by master.c (workers, supervision, signals), reload.c
 * (generations) and listeners.c (sockets, privileges, systemd). */
#ifndef TP_PROCESS_MASTER_INTERNAL_H
#define TP_PROCESS_MASTER_INTERNAL_H

#include <sys/types.h>

#include "core/loop.h"
#include "process/master.h"
#include "process/scoreboard.h"

#define MAX_SLOTS 256
#define MAX_GENS  8

typedef enum { W_BOOTING, W_READY, W_DRAINING } worker_state;

typedef struct worker {
    struct worker *next;
    pid_t pid;
    int slot;
    unsigned gen;
    int ctl;
    worker_state state;
    double started;    /* loop time of the fork */
    double kill_at;    /* SIGKILL at this loop time (0: not scheduled) */
    bool expected;     /* told to go (drain, recycle, stop): its exit is no crash */
    bool recycled;     /* asked for a replacement */
    bool aborted;      /* missed its heartbeat: SIGABRT sent */
    char failure[240]; /* BOOT_FAILED text */
} worker;

typedef struct generation {
    unsigned gen; /* 0: free */
    char *snapshot;
} generation;

typedef enum { R_IDLE, R_CANARY, R_SPAWN } reload_state;

typedef struct master {
    const tp_prefork_opts *o;
    tp_loop *loop;
    int procs;
    int listeners[64]; /* shared mode: all of them; reuseport: per_slot per slot */
    size_t nlisteners;
    size_t per_slot; /* reuseport: sockets per slot (one per address) */
    int first_port;
    worker *workers;
    generation gens[MAX_GENS];
    unsigned current_gen, last_gen;
    bool starting; /* the first generation is booting */
    bool stopping;
    bool fast_stop;
    int exit_status;
    char start_error[300];
    reload_state reload;
    unsigned reload_gen;
    bool reload_pending;
    double reload_started;
    double boot_deadline;
    double respawn_at[MAX_SLOTS]; /* 0: no respawn due */
    double backoff[MAX_SLOTS];    /* next delay for the slot */
    double crash_window_start;    /* crash-loop detection: abnormal exits per minute */
    unsigned crashes_in_window;
    double crash_loop_logged;
    tp_periodic *tick;
    tp_scoreboard *sb;
    char scoreboard_path[4096];
    char rundir[256];
} master;

extern master M;

/* master.c */
worker *tp__spawn(int slot, unsigned gen);
void tp__send(worker *w, int type, double value);
void tp__drain_worker(worker *w);
size_t tp__count(unsigned gen, int state_mask);
const char *tp__snapshot_of(unsigned gen);

/* reload.c */
void tp__reload_start(const char *why);
void tp__reload_worker_ready(worker *w);
void tp__reload_worker_failed(worker *w, const char *stage);
void tp__reload_check_deadline(void);
unsigned tp__gen_add(char *snapshot);
void tp__gen_release_unused(void);

/* listeners.c */
int tp__bind_listeners(char *err, size_t errlen);
int tp__bind_slot(int slot, char *err, size_t errlen);
int tp__drop_privileges(char *err, size_t errlen);
void tp__sd_notify(const char *state);

/* autoreload.c */
int tp__autoreload_start(void);

#endif
