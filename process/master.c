/* The master: workers (spawn, control messages, reaping), supervision (respawn with backoff,
 * heartbeats, recycling), signals, and the start and stop of the whole server. */
#include "process/master.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "platform/proc.h"
#include "process/control.h"
#include "process/master_internal.h"
#include "process/snapshot.h"
#include "process/worker.h"

#define TICK            0.25 /* seconds between supervision passes */
#define MIN_UPTIME      10.0 /* a worker that lived this long resets its slot's backoff */
#define MAX_BACKOFF     10.0
#define ABORT_GRACE     5.0 /* SIGABRT of a hung worker, then SIGKILL after this */
#define FAST_STOP_GRACE 2.0

master M;

static void on_ctl(tp_loop *loop, int fd, unsigned events, void *arg);

size_t tp__count(unsigned gen, int state_mask)
{
    size_t n = 0;
    for (worker *w = M.workers; w; w = w->next)
        n += (!gen || w->gen == gen) && (state_mask & (1 << w->state));
    return n;
}

const char *tp__snapshot_of(unsigned gen)
{
    for (int i = 0; i < MAX_GENS; i++)
        if (M.gens[i].gen == gen)
            return M.gens[i].snapshot;
    return NULL;
}

static size_t listeners_of(int slot, const int **fds)
{
    if (M.o->reuseport && M.per_slot) {
        *fds = &M.listeners[(size_t)slot * M.per_slot];
        return M.per_slot;
    }
    *fds = M.listeners;
    return M.nlisteners;
}

/* Jitter spreads recycling so that workers started together do not all restart together. */
static unsigned long max_requests(void)
{
    const tp_prefork_opts *o = M.o;
    if (!o->max_requests)
        return 0;
    return o->max_requests +
           (o->max_requests_jitter ? (unsigned long)random() % (o->max_requests_jitter + 1) : 0);
}

_Noreturn static void child(int slot, unsigned gen, int ctl, tp_score *score)
{
    const int *fds;
    size_t n = listeners_of(slot, &fds);
    tp_worker_boot b = {
        .slot = slot,
        .gen = gen,
        .master_pid = getppid(),
        .ctl_fd = ctl,
        .listeners = fds,
        .nlisteners = n,
        .shared = !M.o->reuseport,
        .snapshot = tp__snapshot_of(gen),
        .http = &M.o->http,
        .score = score,
        .log_file = M.o->log_file,
        .drain_idle_grace = M.o->drain_idle_grace,
        .max_requests = max_requests(),
    };
    srandom((unsigned)getpid() ^ (unsigned)time(NULL));
    tp_worker_run(&b);
}

worker *tp__spawn(int slot, unsigned gen)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        tp_log_error("socketpair: %s", strerror(errno));
        return NULL;
    }
    tp_log_flush(); /* the child must not write the master's buffered lines again */
    /* The record is taken before the fork so the child finds it at once. */
    tp_score *score = M.sb ? tp_scoreboard_claim(M.sb, -1, slot, gen) : NULL;
    pid_t pid = fork();
    if (pid < 0) {
        tp_log_error("fork: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        if (score)
            score->pid = 0;
        return NULL;
    }
    if (pid == 0) {
        close(sv[0]);
        child(slot, gen, sv[1], score);
    }
    if (score)
        score->pid = pid;
    close(sv[1]);
    worker *w = tp_calloc(1, sizeof(*w));
    *w = (worker){.pid = pid,
                  .slot = slot,
                  .gen = gen,
                  .ctl = sv[0],
                  .state = W_BOOTING,
                  .started = tp_loop_time(M.loop),
                  .next = M.workers};
    M.workers = w;
    fcntl(w->ctl, F_SETFL, fcntl(w->ctl, F_GETFL) | O_NONBLOCK);
    tp_loop_add_fd(M.loop, w->ctl, TP_READ, on_ctl, w);
    return w;
}

void tp__send(worker *w, int type, double value)
{
    tp_ctl_msg m = {.type = (uint32_t)type, .gen = w->gen, .pid = w->pid, .value = value};
    if (w->ctl >= 0)
        send(w->ctl, &m, sizeof(m), MSG_NOSIGNAL | MSG_DONTWAIT);
}

void tp__drain_worker(worker *w)
{
    if (w->state == W_DRAINING)
        return;
    w->expected = true;
    if (w->state == W_BOOTING) {
        kill(w->pid, SIGKILL);
        return;
    }
    w->state = W_DRAINING;
    w->kill_at = tp_loop_time(M.loop) + M.o->shutdown_timeout + M.o->kill_grace;
    tp__send(w, TP_CTL_DRAIN, M.o->shutdown_timeout);
}

/* ---- start -------------------------------------------------------------------------------- */

static bool dropping_privileges(void)
{
    return (M.o->user && *M.o->user) || (M.o->group && *M.o->group);
}

static void write_port_file(void)
{
    if (!M.o->port_file || !*M.o->port_file)
        return;
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", M.o->port_file);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", M.first_port) < 0 || fclose(f) != 0 ||
        rename(tmp, M.o->port_file) < 0)
        tp_log_error("cannot write %s: %s", M.o->port_file, strerror(errno));
}

static void first_generation_ready(void)
{
    M.starting = false;
    tp_log_info("generation %u serving (%d workers, boot %.0f ms)", M.current_gen, M.procs,
                (tp_loop_time(M.loop) - M.reload_started) * 1000);
    if (!dropping_privileges())
        write_port_file();
    tp__sd_notify("READY=1");
}

static void start_failed(const char *why)
{
    if (!M.start_error[0])
        snprintf(M.start_error, sizeof(M.start_error), "%s", why);
    M.exit_status = 1;
    M.stopping = M.fast_stop = true;
    for (worker *w = M.workers; w; w = w->next) {
        w->expected = true;
        kill(w->pid, SIGKILL);
    }
}

/* ---- control messages --------------------------------------------------------------------- */

static worker *replacement_for(worker *old)
{
    for (worker *w = M.workers; w; w = w->next)
        if (w != old && w->slot == old->slot && w->gen == M.current_gen && !w->recycled &&
            w->state != W_DRAINING)
            return w;
    return NULL;
}

static void worker_ready(worker *w)
{
    w->state = W_READY;
    if (M.starting) {
        if (tp__count(M.current_gen, 1 << W_READY) == (size_t)M.procs)
            first_generation_ready();
        return;
    }
    if (M.reload != R_IDLE && w->gen == M.reload_gen) {
        tp__reload_worker_ready(w);
        return;
    }
    /* A replacement for a recycled worker is serving: the old one may drain now. */
    for (worker *o = M.workers; o; o = o->next)
        if (o != w && o->slot == w->slot && o->recycled && o->state == W_READY)
            tp__drain_worker(o);
}

static void on_ctl(tp_loop *loop, int fd, unsigned events, void *arg)
{
    (void)events;
    worker *w = arg;
    tp_ctl_msg m;
    ssize_t n = recv(fd, &m, sizeof(m), 0);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        tp_loop_remove_fd(loop, fd); /* the exit itself arrives through SIGCHLD */
        return;
    }
    if (m.type == TP_CTL_READY && w->state == W_BOOTING)
        worker_ready(w);
    else if (m.type == TP_CTL_BOOT_FAILED)
        snprintf(w->failure, sizeof(w->failure), "%s", m.text);
    else if (m.type == TP_CTL_RECYCLE && !w->recycled && !M.stopping && w->gen == M.current_gen) {
        w->recycled = true;
        tp_log_info("worker[%d] pid %d reached max_requests: starting its replacement", w->slot,
                    (int)w->pid);
        tp__spawn(w->slot, M.current_gen);
    }
}

/* ---- exits and respawns ------------------------------------------------------------------- */

static void describe_exit(worker *w, int status, char *out, size_t n)
{
    if (WIFSIGNALED(status))
        snprintf(out, n, "exited on signal %s%s", sigabbrev_np(WTERMSIG(status)) ? "SIG" : "",
                 sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?");
    else
        snprintf(out, n, "exited with status %d", WEXITSTATUS(status));
    (void)w;
}

/* More than 10 abnormal exits per worker in a minute: said loudly once a minute, but the
 * master keeps retrying (at the capped backoff) rather than giving up. */
static void count_crash(void)
{
    double now = tp_loop_time(M.loop);
    if (now - M.crash_window_start > 60) {
        M.crash_window_start = now;
        M.crashes_in_window = 0;
    }
    if (++M.crashes_in_window > 10u * (unsigned)M.procs && now - M.crash_loop_logged > 60) {
        M.crash_loop_logged = now;
        tp_log_error("crash loop: %u abnormal worker exits in the last minute; still retrying",
                     M.crashes_in_window);
    }
}

static void schedule_respawn(int slot, double lived)
{
    count_crash();
    if (lived >= MIN_UPTIME || M.backoff[slot] == 0) {
        M.backoff[slot] = lived >= MIN_UPTIME ? 0 : 0.1;
        M.respawn_at[slot] = tp_loop_time(M.loop); /* first failure: at once */
        return;
    }
    double jitter = 1 + 0.4 * ((double)random() / RAND_MAX - 0.5);
    M.respawn_at[slot] = tp_loop_time(M.loop) + M.backoff[slot] * jitter;
    tp_log_warning("respawning worker[%d] in %.1f s", slot, M.backoff[slot] * jitter);
    M.backoff[slot] = M.backoff[slot] * 2 > MAX_BACKOFF ? MAX_BACKOFF : M.backoff[slot] * 2;
}

static void unexpected_exit(worker *w, int status)
{
    char how[64];
    describe_exit(w, status, how, sizeof(how));
    tp_score *s = M.sb ? tp_scoreboard_find(M.sb, w->pid) : NULL;
    if (w->state == W_BOOTING)
        tp_log_error("worker[%d] pid %d gen %u %s while booting%s%s", w->slot, (int)w->pid, w->gen,
                     how, w->failure[0] ? ": " : "", w->failure);
    else if (s && s->request[0])
        tp_log_error("worker[%d] pid %d gen %u %s (last request: %s)", w->slot, (int)w->pid, w->gen,
                     how, s->request);
    else
        tp_log_error("worker[%d] pid %d gen %u %s", w->slot, (int)w->pid, w->gen, how);
    if (M.starting) {
        char why[100];
        snprintf(why, sizeof(why), "worker[%d] %s while booting", w->slot, how);
        start_failed(w->failure[0] ? w->failure : why);
        return;
    }
    if (M.reload != R_IDLE && w->gen == M.reload_gen) {
        tp__reload_worker_failed(w, w->state == W_BOOTING ? "boot" : "serve");
        return;
    }
    if (w->gen == M.current_gen && w->slot < M.procs && !M.stopping && !replacement_for(w))
        schedule_respawn(w->slot, tp_loop_time(M.loop) - w->started);
}

static void forget(worker *w)
{
    for (worker **p = &M.workers; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            break;
        }
    tp_loop_remove_fd(M.loop, w->ctl);
    close(w->ctl);
    if (M.sb)
        tp_scoreboard_release(M.sb, w->pid);
    tp_free(w);
}

static void reap(void)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        worker *w = M.workers;
        while (w && w->pid != pid)
            w = w->next;
        if (!w)
            continue;
        if (!w->expected || (WIFSIGNALED(status) && w->aborted))
            unexpected_exit(w, status);
        forget(w);
    }
    tp__gen_release_unused();
    if (M.stopping && !M.workers)
        tp_loop_stop(M.loop);
}

/* ---- supervision tick --------------------------------------------------------------------- */

static void check_heartbeat(worker *w, double now)
{
    tp_score *s = M.sb ? tp_scoreboard_find(M.sb, w->pid) : NULL;
    if (!s || w->state != W_READY || M.o->worker_timeout <= 0)
        return;
    /* The beat is read before the clock: read after, a beat the worker wrote in between is
     * newer than "now", and the unsigned difference wrapped to 584 years (a healthy worker
     * was aborted under load that way). */
    uint64_t beat = __atomic_load_n(&s->heartbeat_ns, __ATOMIC_ACQUIRE);
    uint64_t clock = tp_monotonic_ns();
    double silent = clock > beat ? (double)(clock - beat) / 1e9 : 0.0;
    if (!w->aborted && silent > M.o->worker_timeout) {
        tp_log_error("worker[%d] pid %d missed its heartbeat for %.1f s%s%s: SIGABRT", w->slot,
                     (int)w->pid, silent, s->request[0] ? ", last request: " : "", s->request);
        w->aborted = true;
        w->kill_at = now + ABORT_GRACE;
        kill(w->pid, SIGABRT);
    }
}

static void tick(tp_loop *loop, void *arg)
{
    (void)arg;
    double now = tp_loop_time(loop);
    for (worker *w = M.workers; w; w = w->next) {
        check_heartbeat(w, now);
        if (w->kill_at && now >= w->kill_at) {
            tp_log_warning("worker[%d] pid %d still alive: SIGKILL", w->slot, (int)w->pid);
            kill(w->pid, SIGKILL);
            w->kill_at = 0;
        }
    }
    for (int slot = 0; slot < M.procs && !M.stopping; slot++)
        if (M.respawn_at[slot] && now >= M.respawn_at[slot]) {
            M.respawn_at[slot] = 0;
            tp__spawn(slot, M.current_gen);
        }
    tp__reload_check_deadline();
}

/* ---- signals ------------------------------------------------------------------------------ */

static void stop(bool fast)
{
    if (M.stopping && (!fast || M.fast_stop))
        return;
    tp_log_info("%s stop: %zu workers", fast ? "fast" : "graceful", tp__count(0, 7));
    tp__sd_notify("STOPPING=1");
    M.stopping = true;
    M.fast_stop = fast;
    for (size_t i = 0; i < M.nlisteners; i++)
        close(M.listeners[i]);
    M.nlisteners = 0;
    double now = tp_loop_time(M.loop);
    for (worker *w = M.workers; w; w = w->next) {
        w->expected = true;
        if (fast || w->state == W_BOOTING) {
            tp__send(w, TP_CTL_STOP_NOW, 0);
            kill(w->pid, SIGTERM);
            w->kill_at = now + FAST_STOP_GRACE;
        } else {
            tp__drain_worker(w);
        }
    }
    if (!M.workers)
        tp_loop_stop(M.loop);
}

static void reopen_logs(void)
{
    if (M.o->log_file) {
        int fd = open(M.o->log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) {
            tp_log_flush();
            dup2(fd, 2);
            close(fd);
        }
    }
    for (worker *w = M.workers; w; w = w->next)
        tp__send(w, TP_CTL_REOPEN_LOGS, 0);
    tp_log_info("log files reopened");
}

static void change_procs(int delta)
{
    if (M.stopping || (delta < 0 && M.procs <= 1) || (delta > 0 && M.procs >= MAX_SLOTS))
        return;
    if (delta > 0) {
        char err[256];
        if (M.o->reuseport && (size_t)(M.procs + 1) * M.per_slot > M.nlisteners &&
            tp__bind_slot(M.procs, err, sizeof(err)) < 0) {
            tp_log_error("TTIN: %s", err);
            return;
        }
        M.procs++;
        tp__spawn(M.procs - 1, M.current_gen);
    } else {
        M.procs--;
        M.respawn_at[M.procs] = 0;
        for (worker *w = M.workers; w; w = w->next)
            if (w->slot == M.procs)
                tp__drain_worker(w);
    }
    tp_log_info("workers: %d", M.procs);
}

static void on_signal(tp_loop *loop, int signo, void *arg)
{
    (void)loop, (void)arg;
    switch (signo) {
    case SIGCHLD: reap(); break;
    case SIGHUP: tp__reload_start("SIGHUP"); break;
    case SIGTERM:
    case SIGQUIT: stop(M.stopping); break; /* a second one escalates to fast */
    case SIGINT: stop(true); break;
    case SIGUSR1: reopen_logs(); break;
    case SIGTTIN: change_procs(1); break;
    case SIGTTOU: change_procs(-1); break;
    default: break;
    }
}

/* ---- main --------------------------------------------------------------------------------- */

static int prepare(char *err, size_t errlen)
{
    M.procs = M.o->procs > 0 ? M.o->procs : tp_cpu_count();
    if (tp__bind_listeners(err, errlen) < 0)
        return -1;
    if (M.o->pid_file && *M.o->pid_file) {
        FILE *f = fopen(M.o->pid_file, "w");
        if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0) {
            snprintf(err, errlen, "cannot write %s: %s", M.o->pid_file, strerror(errno));
            return -1;
        }
        snprintf(M.scoreboard_path, sizeof(M.scoreboard_path), "%s.scoreboard", M.o->pid_file);
    }
    M.sb = tp_scoreboard_create(M.scoreboard_path[0] ? M.scoreboard_path : NULL,
                                (uint32_t)(MAX_SLOTS + 3 * M.procs));
    /* Bound and written as the starting user; everything after runs as --user (which may not
     * write where the starting user does: the port file is written now, not once serving). */
    if (dropping_privileges())
        write_port_file();
    if (tp__drop_privileges(err, errlen) < 0)
        return -1;
    snprintf(M.rundir, sizeof(M.rundir), "%s/tornado-prefork.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(M.rundir)) {
        snprintf(err, errlen, "cannot create a run directory: %s", strerror(errno));
        return -1;
    }
    char *snap = tp_snapshot_take(M.o->app_path, M.rundir, 1, err, errlen);
    if (!snap)
        return -1;
    M.current_gen = M.last_gen = tp__gen_add(snap);
    return 0;
}

static void cleanup(void)
{
    for (int i = 0; i < MAX_GENS; i++)
        if (M.gens[i].gen) {
            unlink(M.gens[i].snapshot);
            tp_free(M.gens[i].snapshot);
            M.gens[i].gen = 0;
        }
    rmdir(M.rundir);
    if (M.o->pid_file && *M.o->pid_file)
        unlink(M.o->pid_file);
    if (M.scoreboard_path[0])
        unlink(M.scoreboard_path);
    for (size_t i = 0; i < M.nlisteners; i++)
        close(M.listeners[i]);
    tp_periodic_free(M.tick);
}

static void install_signals(void)
{
    static const int sigs[] = {SIGCHLD, SIGHUP,  SIGTERM, SIGQUIT,
                               SIGINT,  SIGUSR1, SIGTTIN, SIGTTOU};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        tp_loop_add_signal(M.loop, sigs[i], on_signal, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int tp_master_run(const tp_prefork_opts *o)
{
    char err[300] = "";
    memset(&M, 0, sizeof(M));
    M.o = o;
    M.loop = tp_loop_current();
    install_signals();
    if (prepare(err, sizeof(err)) < 0) {
        dprintf(o->error_fd, "error: %s\n", err);
        cleanup();
        return 1;
    }
    tp_proctitle_set("tornado-prefork: master");
    if (o->settings)
        tp_log_info("settings: %s", o->settings);
    tp_log_info("tornado-prefork master pid %d: %d workers, listening on port %d, app %s",
                (int)getpid(), M.procs, M.first_port, o->app_path);
    M.tick = tp_periodic_new(M.loop, TICK, 0, tick, NULL);
    tp_periodic_start(M.tick);
    M.starting = true;
    M.reload_started = tp_loop_time(M.loop);
    M.boot_deadline = M.reload_started + o->boot_timeout;
    for (int slot = 0; slot < M.procs; slot++)
        if (!tp__spawn(slot, M.current_gen))
            start_failed("cannot fork");
    if (o->autoreload && tp__autoreload_start() < 0)
        tp_log_error("autoreload: cannot watch %s", o->app_path);
    tp_loop_run(M.loop);
    if (M.exit_status)
        dprintf(o->error_fd, "error: %s\n", M.start_error);
    else
        tp_log_info("stopped");
    tp_log_flush();
    cleanup();
    return M.exit_status;
}
