/* The master's state, shared by master.c (workers, supervision, signals), reload.c
 * (generations), listeners.c (sockets, privileges, systemd) and autoreload.c. One tp_master
 * lives on tp_master_run's stack for the life of the master; every function here gets it as
 * an argument, and loop callbacks get it (or a worker that points to it) as their arg. */
#ifndef TP_PROCESS_MASTER_INTERNAL_H
#define TP_PROCESS_MASTER_INTERNAL_H

#include <sys/types.h>

#include "core/loop.h"
#include "process/master.h"
#include "process/scoreboard.h"

#define MAX_SLOTS 256
#define MAX_GENS  8

typedef struct tp_master tp_master;
typedef struct tp_autoreload tp_autoreload;
typedef struct tp__relay_peer tp__relay_peer;

typedef enum { W_BOOTING, W_READY, W_DRAINING } worker_state;

/* The master's record of one worker process. */
typedef struct worker {
    struct worker *next;
    tp_master *m; /* for the control socket's callback */
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
    /* Its end of the pubsub relay (NULL with --pubsub=redis://). */
    tp__relay_peer *relay;
} worker;

typedef struct generation {
    unsigned gen; /* 0: free */
    char *snapshot;
} generation;

typedef enum { R_IDLE, R_CANARY, R_SPAWN } reload_state;

struct tp_master {
    const tp_prefork_opts *o;
    tp_loop *loop;
    int procs;
    int listeners[64]; /* shared mode: all of them; reuseport: per_slot per slot */
    size_t nlisteners;
    size_t per_slot; /* reuseport: sockets per slot (one per address) */
    int first_port;
    int bound_ports[TP_PREFORK_MAX_LISTEN]; /* the port each --port entry got (0: its own) */
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
    double respawn_at[MAX_SLOTS];     /* 0: no respawn due */
    uint8_t respawn_cause[MAX_SLOTS]; /* the tp_exit_cause the respawn is for */
    double backoff[MAX_SLOTS];        /* next delay for the slot */
    double crash_window_start;        /* crash-loop detection: abnormal exits per minute */
    unsigned crashes_in_window;
    double crash_loop_logged;
    unsigned fail_forks; /* test hook TP_TEST_FAIL_FORKS: forks left to fail */
    tp_periodic *tick;
    tp_scoreboard *sb;
    tp_master_stats no_sb_stats;    /* counted here when the scoreboard could not be made */
    struct tp_http_server *metrics; /* --metrics-port, or NULL */
    tp_autoreload *autoreload;      /* NULL without --autoreload */

    struct tp__tls_master *tls; /* ticket keys, per-generation files (tls_keys.c; TLS only) */
    char scoreboard_path[4096];
    char rundir[256];
};

/* ---- master.c ---- */

/* Forks a worker of generation gen for slot and adds it to m->workers (BOOTING). NULL when
 * the socketpair or the fork failed (logged as "worker[SLOT] cannot fork: REASON"). */
worker *tp__spawn(tp_master *m, int slot, unsigned gen);
/* Sends a control message (TP_CTL_*) to w without blocking; a full or closed socket drops it. */
void tp__send(worker *w, int type, double value);
/* Tells w to drain (SIGKILL if still booting); its exit is then expected. */
void tp__drain_worker(tp_master *m, worker *w);
/* The seconds a draining worker gets (the DRAIN message's value). */
double tp__drain_budget(const tp_prefork_opts *o);
/* Workers of generation gen (0: any) whose state bit (1 << state) is in state_mask. */
size_t tp__count(const tp_master *m, unsigned gen, int state_mask);
/* The snapshot path of generation gen (owned by m), or NULL. */
const char *tp__snapshot_of(const tp_master *m, unsigned gen);

/* The master's counters (in the scoreboard). */
tp_master_stats *tp__mstats(tp_master *m);

/* ---- metrics_server.c ---- */

/* Serves --metrics-port on the master's loop (nothing without the option). 0 or -1 with err
 * set. */
int tp__metrics_listen(tp_master *m, char *err, size_t errlen);
/* Closes the metrics server. */
void tp__metrics_close(tp_master *m);

/* ---- reload.c ---- */

/* Starts a reload (HUP, autoreload) unless stopping; coalesced while one runs or while two
 * old generations drain. Logs why. */
void tp__reload_start(tp_master *m, const char *why);
/* Starts the coalesced reload, if one is pending and nothing holds it back any more (called
 * when a reload ends and when a drained generation is gone). */
void tp__reload_start_pending(tp_master *m);
/* A worker of the reloading generation is READY: canary done, or one more of the rest. */
void tp__reload_worker_ready(tp_master *m, worker *w);
/* The reload failed at stage (w: the failed worker, or NULL): rollback, old one serving. */
void tp__reload_worker_failed(tp_master *m, worker *w, const char *stage);
/* Called every tick: kills workers past the boot timeout (first generation or reload). */
void tp__reload_check_deadline(tp_master *m);
/* Registers a generation for snapshot (m owns it from now on); its number, 0 if all the
 * generation slots are taken (the caller still owns snapshot then). */
unsigned tp__gen_add(tp_master *m, char *snapshot);
/* Deletes the snapshots of generations no worker runs any more (not current, not reloading). */
void tp__gen_release_unused(tp_master *m);

/* ---- listeners.c ---- */

/* Binds every listener of m->o (or takes systemd's LISTEN_FDS) into m->listeners. 0, or
 * -errno with a one-line reason in err. */
int tp__bind_listeners(tp_master *m, char *err, size_t errlen);
/* --reuseport: binds one more set of sockets for slot. 0, or -errno with a reason in err. */
int tp__bind_slot(tp_master *m, int slot, char *err, size_t errlen);
/* Switches to o->user / o->group if given. 0, or -errno with a reason in err. */
int tp__drop_privileges(const tp_prefork_opts *o, char *err, size_t errlen);
/* sd_notify(state) when $NOTIFY_SOCKET is set; errors are ignored. */
void tp__sd_notify(const char *state);

/* ---- relay.c (pubsub between the workers, docs/pubsub.md) ---- */

/* A socketpair for one worker's pubsub relay; sv[0] (the master's) is non-blocking. 0 or
 * -errno. */
int tp__relay_pair(int sv[2]);
/* Adds w to the fan-out with the master's end fd (owned by the relay from now on). */
void tp__relay_add(tp_master *m, worker *w, int fd);
/* Takes w out of the fan-out, closes its socket, drops its queue. */
void tp__relay_remove(worker *w);
/* Called every tick: logs the messages dropped for slow workers (once a second at most). */
void tp__relay_tick(tp_master *m);

/* ---- autoreload.c ---- */

/* Watches m->o->app_path and the --watch paths; a change starts tp__reload_start(m). NULL if
 * inotify or the watch of app.so's folder fails. Free with tp__autoreload_free. */
tp_autoreload *tp__autoreload_start(tp_master *m);
/* Stops watching and frees a (NULL is fine). */
void tp__autoreload_free(tp_autoreload *a);

#endif
