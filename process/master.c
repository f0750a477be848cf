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
#include "process/tls_keys.h"
#include "process/worker.h"

#define TICK            0.25 /* seconds between supervision passes */
#define MIN_UPTIME      10.0 /* a worker that lived this long resets its slot's backoff */
#define MIN_BACKOFF     0.1  /* the first delay of a slot that keeps failing */
#define MAX_BACKOFF     10.0
#define ABORT_GRACE     5.0 /* SIGABRT of a hung worker, then SIGKILL after this */
#define FAST_STOP_GRACE 2.0

static void on_ctl(tp_loop *loop, int fd, unsigned events, void *arg);

size_t tp__count(const tp_master *m, unsigned gen, int state_mask)
{
    size_t n = 0;
    for (const worker *w = m->workers; w; w = w->next)
        n += (!gen || w->gen == gen) && (state_mask & (1 << w->state));
    return n;
}

const char *tp__snapshot_of(const tp_master *m, unsigned gen)
{
    for (int i = 0; i < MAX_GENS; i++)
        if (m->gens[i].gen == gen)
            return m->gens[i].snapshot;
    return NULL;
}

static size_t listeners_of(const tp_master *m, int slot, const int **fds)
{
    if (m->o->reuseport && m->per_slot) {
        *fds = &m->listeners[(size_t)slot * m->per_slot];
        return m->per_slot;
    }
    *fds = m->listeners;
    return m->nlisteners;
}

/* Jitter spreads recycling so that workers started together do not all restart together. */
static unsigned long max_requests(const tp_master *m)
{
    const tp_prefork_opts *o = m->o;
    if (!o->max_requests)
        return 0;
    return o->max_requests +
           (o->max_requests_jitter ? (unsigned long)random() % (o->max_requests_jitter + 1) : 0);
}

_Noreturn static void child(const tp_master *m, int slot, unsigned gen, int ctl, int pubsub,
                            tp_score *score)
{
    const int *fds;
    size_t n = listeners_of(m, slot, &fds);
    tp_worker_boot b = {
        .slot = slot,
        .gen = gen,
        .master_pid = getppid(),
        .ctl_fd = ctl,
        .listeners = fds,
        .nlisteners = n,
        .shared = !m->o->reuseport,
        .snapshot = tp__snapshot_of(m, gen),
        .http = &m->o->http,
        .score = score,
        .log_file = m->o->log_file,
        .drain_idle_grace = m->o->drain_idle_grace,
        .websocket_drain_timeout = m->o->websocket_drain_timeout,
        .shutdown_timeout = m->o->shutdown_timeout,
        .max_requests = max_requests(m),
        .pubsub_fd = pubsub,
        .pubsub_url = m->o->pubsub,
        .tls = tp__tls_opts_of(m, gen),
        .tls_given = &m->o->tls,
        .tickets = tp__tls_tickets(m),
        .tls_ticket_rotation = m->o->tls_ticket_rotation,
    };
    srandom((unsigned)getpid() ^ (unsigned)time(NULL));
    tp_worker_run(&b);
}

/* The test hook of docs/prefork.md: TP_TEST_FAIL_FORKS=N in the master's environment makes the
 * first N forks after the first generation is serving fail with EAGAIN, as fork(2) does at
 * RLIMIT_NPROC (which a test run as root cannot use). Unset, it costs one compare per fork. */
static unsigned test_fail_forks(void)
{
    const char *v = getenv("TP_TEST_FAIL_FORKS");
    return v && *v ? (unsigned)strtoul(v, NULL, 10) : 0;
}

static pid_t fork_worker(tp_master *m)
{
    if (m->fail_forks && !m->starting) {
        m->fail_forks--;
        errno = EAGAIN;
        return -1;
    }
    return fork();
}

static void close_pair(int sv[2])
{
    if (sv[0] >= 0)
        close(sv[0]);
    if (sv[1] >= 0)
        close(sv[1]);
}

/* The control socketpair, and the pubsub relay's unless Redis carries pubsub. */
static int socketpairs(const tp_master *m, int slot, int sv[2], int ps[2])
{
    int r = socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ? -errno : 0;
    if (r == 0 && !m->o->pubsub && (r = tp__relay_pair(ps)) < 0)
        close_pair(sv);
    if (r < 0)
        tp_log_error("worker[%d] cannot fork: socketpair: %s", slot, strerror(-r));
    return r;
}

worker *tp__spawn(tp_master *m, int slot, unsigned gen)
{
    int sv[2], ps[2] = {-1, -1};
    if (socketpairs(m, slot, sv, ps) < 0)
        return NULL;
    tp_log_flush(); /* the child must not write the master's buffered lines again */
    /* The record is taken before the fork so the child finds it at once. */
    tp_score *score = m->sb ? tp_scoreboard_claim(m->sb, -1, slot, gen) : NULL;
    pid_t pid = fork_worker(m);
    if (pid < 0) {
        tp_log_error("worker[%d] cannot fork: %s", slot, strerror(errno));
        close_pair(sv);
        close_pair(ps);
        if (score)
            score->pid = 0;
        return NULL;
    }
    if (pid == 0) {
        close(sv[0]);
        if (ps[0] >= 0)
            close(ps[0]);
        child(m, slot, gen, sv[1], ps[1], score);
    }
    if (score)
        score->pid = pid;
    tp__mstats(m)->worker_starts++;
    close(sv[1]);
    if (ps[1] >= 0)
        close(ps[1]);
    worker *w = tp_calloc(1, sizeof(*w));
    *w = (worker){.m = m,
                  .pid = pid,
                  .slot = slot,
                  .gen = gen,
                  .ctl = sv[0],
                  .state = W_BOOTING,
                  .started = tp_loop_time(m->loop),
                  .next = m->workers};
    m->workers = w;
    fcntl(w->ctl, F_SETFL, fcntl(w->ctl, F_GETFL) | O_NONBLOCK);
    tp_loop_add_fd(m->loop, w->ctl, TP_READ, on_ctl, w);
    if (ps[0] >= 0)
        tp__relay_add(m, w, ps[0]);
    return w;
}

void tp__send(worker *w, int type, double value)
{
    tp_ctl_msg msg = {.type = (uint32_t)type, .gen = w->gen, .pid = w->pid, .value = value};
    if (w->ctl >= 0)
        send(w->ctl, &msg, sizeof(msg), MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* A draining worker's time: shutdown_timeout, or longer when its WebSocket connections are
 * kept for websocket_drain_timeout and then get WS_CLOSE_WAIT seconds to close cleanly. */
double tp__drain_budget(const tp_prefork_opts *o)
{
    double ws = o->websocket_drain_timeout + TP_WS_CLOSE_WAIT;
    return ws > o->shutdown_timeout ? ws : o->shutdown_timeout;
}

void tp__drain_worker(tp_master *m, worker *w)
{
    if (w->state == W_DRAINING)
        return;
    w->expected = true;
    if (w->state == W_BOOTING) {
        kill(w->pid, SIGKILL);
        return;
    }
    w->state = W_DRAINING;
    double budget = tp__drain_budget(m->o);
    w->kill_at = tp_loop_time(m->loop) + budget + m->o->kill_grace;
    tp__send(w, TP_CTL_DRAIN, budget);
}

/* ---- start -------------------------------------------------------------------------------- */

static bool dropping_privileges(const tp_master *m)
{
    return (m->o->user && *m->o->user) || (m->o->group && *m->o->group);
}

static void write_port_file(const tp_master *m)
{
    if (!m->o->port_file || !*m->o->port_file)
        return;
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", m->o->port_file);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", m->first_port) < 0 || fclose(f) != 0 ||
        rename(tmp, m->o->port_file) < 0)
        tp_log_error("cannot write %s: %s", m->o->port_file, strerror(errno));
}

static void first_generation_ready(tp_master *m)
{
    m->starting = false;
    tp_log_info("generation %u serving (%d workers, boot %.0f ms)", m->current_gen, m->procs,
                (tp_loop_time(m->loop) - m->reload_started) * 1000);
    if (!dropping_privileges(m))
        write_port_file(m);
    tp__sd_notify("READY=1");
    tp__reload_start_pending(m); /* a HUP during the first boot */
}

static void start_failed(tp_master *m, const char *why)
{
    if (!m->start_error[0])
        snprintf(m->start_error, sizeof(m->start_error), "%s", why);
    m->exit_status = 1;
    m->stopping = m->fast_stop = true;
    for (worker *w = m->workers; w; w = w->next) {
        w->expected = true;
        kill(w->pid, SIGKILL);
    }
}

/* ---- control messages --------------------------------------------------------------------- */

static void respawn_after_backoff(tp_master *m, int slot);

static worker *replacement_for(const tp_master *m, const worker *old)
{
    for (worker *w = m->workers; w; w = w->next)
        if (w != old && w->slot == old->slot && w->gen == m->current_gen && !w->recycled &&
            w->state != W_DRAINING)
            return w;
    return NULL;
}

static void worker_ready(tp_master *m, worker *w)
{
    w->state = W_READY;
    if (m->starting) {
        if (tp__count(m, m->current_gen, 1 << W_READY) == (size_t)m->procs)
            first_generation_ready(m);
        return;
    }
    if (m->reload != R_IDLE && w->gen == m->reload_gen) {
        tp__reload_worker_ready(m, w);
        return;
    }
    /* A replacement for a recycled worker is serving: the old one may drain now. */
    for (worker *o = m->workers; o; o = o->next)
        if (o != w && o->slot == w->slot && o->recycled && o->state == W_READY)
            tp__drain_worker(m, o);
}

static void on_ctl(tp_loop *loop, int fd, unsigned events, void *arg)
{
    (void)events;
    worker *w = arg;
    tp_master *m = w->m;
    tp_ctl_msg msg;
    ssize_t n = recv(fd, &msg, sizeof(msg), 0);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        tp_loop_remove_fd(loop, fd); /* the exit itself arrives through SIGCHLD */
        return;
    }
    if (msg.type == TP_CTL_READY && w->state == W_BOOTING)
        worker_ready(m, w);
    else if (msg.type == TP_CTL_BOOT_FAILED)
        snprintf(w->failure, sizeof(w->failure), "%s", msg.text);
    else if (msg.type == TP_CTL_RECYCLE && !w->recycled && !m->stopping &&
             w->gen == m->current_gen) {
        w->recycled = true;
        tp__mstats(m)->recycles++;
        tp_log_info("worker[%d] pid %d reached max_requests: starting its replacement", w->slot,
                    (int)w->pid);
        /* A failed fork is retried as a respawn; the old worker serves until one is ready. */
        if (!tp__spawn(m, w->slot, m->current_gen))
            respawn_after_backoff(m, w->slot);
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
static void count_crash(tp_master *m)
{
    double now = tp_loop_time(m->loop);
    if (now - m->crash_window_start > 60) {
        m->crash_window_start = now;
        m->crashes_in_window = 0;
    }
    if (++m->crashes_in_window > 10u * (unsigned)m->procs && now - m->crash_loop_logged > 60) {
        m->crash_loop_logged = now;
        tp_log_error("crash loop: %u abnormal worker exits in the last minute; still retrying",
                     m->crashes_in_window);
    }
}

/* The slot's next respawn comes after its backoff (+-20 % jitter, so that slots that failed
 * together do not retry together); the backoff doubles, up to MAX_BACKOFF, for the next time. */
static void respawn_after_backoff(tp_master *m, int slot)
{
    if (m->backoff[slot] < MIN_BACKOFF)
        m->backoff[slot] = MIN_BACKOFF;
    double delay = m->backoff[slot] * (1 + 0.4 * ((double)random() / RAND_MAX - 0.5));
    m->respawn_at[slot] = tp_loop_time(m->loop) + delay;
    tp_log_warning("respawning worker[%d] in %.1f s", slot, delay);
    m->backoff[slot] = m->backoff[slot] * 2 > MAX_BACKOFF ? MAX_BACKOFF : m->backoff[slot] * 2;
}

static void schedule_respawn(tp_master *m, int slot, double lived)
{
    count_crash(m);
    if (lived >= MIN_UPTIME || m->backoff[slot] == 0) {
        m->backoff[slot] = lived >= MIN_UPTIME ? 0 : MIN_BACKOFF;
        m->respawn_at[slot] = tp_loop_time(m->loop); /* first failure: at once */
        return;
    }
    respawn_after_backoff(m, slot);
}

static tp_exit_cause exit_cause(const worker *w, int status)
{
    if (w->aborted)
        return TP_EXIT_HUNG;
    if (w->expected)
        return TP_EXIT_DRAINED;
    if (w->state == W_BOOTING)
        return TP_EXIT_BOOT_FAILED;
    return WIFSIGNALED(status) ? TP_EXIT_CRASHED : TP_EXIT_FAILED;
}

tp_master_stats *tp__mstats(tp_master *m)
{
    return m->sb ? &m->sb->master : &m->no_sb_stats;
}

static void unexpected_exit(tp_master *m, worker *w, int status)
{
    char how[64];
    describe_exit(w, status, how, sizeof(how));
    tp_score *s = m->sb ? tp_scoreboard_find(m->sb, w->pid) : NULL;
    if (w->state == W_BOOTING)
        tp_log_error("worker[%d] pid %d gen %u %s while booting%s%s", w->slot, (int)w->pid, w->gen,
                     how, w->failure[0] ? ": " : "", w->failure);
    else if (s && s->request[0])
        tp_log_error("worker[%d] pid %d gen %u %s (last request: %s)", w->slot, (int)w->pid, w->gen,
                     how, s->request);
    else
        tp_log_error("worker[%d] pid %d gen %u %s", w->slot, (int)w->pid, w->gen, how);
    if (m->starting) {
        char why[100];
        snprintf(why, sizeof(why), "worker[%d] %s while booting", w->slot, how);
        start_failed(m, w->failure[0] ? w->failure : why);
        return;
    }
    if (m->reload != R_IDLE && w->gen == m->reload_gen) {
        tp__reload_worker_failed(m, w, w->state == W_BOOTING ? "boot" : "serve");
        return;
    }
    if (w->gen == m->current_gen && w->slot < m->procs && !m->stopping && !replacement_for(m, w)) {
        m->respawn_cause[w->slot] = (uint8_t)exit_cause(w, status);
        schedule_respawn(m, w->slot, tp_loop_time(m->loop) - w->started);
    }
}

static void forget(tp_master *m, worker *w)
{
    for (worker **p = &m->workers; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            break;
        }
    tp_loop_remove_fd(m->loop, w->ctl);
    close(w->ctl);
    tp__relay_remove(w);
    if (m->sb)
        tp_scoreboard_release(m->sb, w->pid);
    tp_free(w);
}

static void reap(tp_master *m)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        worker *w = m->workers;
        while (w && w->pid != pid)
            w = w->next;
        if (!w)
            continue;
        tp__mstats(m)->exits[exit_cause(w, status)]++;
        if (!w->expected || (WIFSIGNALED(status) && w->aborted))
            unexpected_exit(m, w, status);
        forget(m, w);
    }
    tp__gen_release_unused(m);
    tp__reload_start_pending(m); /* one deferred while two old generations drained */
    if (m->stopping && !m->workers)
        tp_loop_stop(m->loop);
}

/* ---- supervision tick --------------------------------------------------------------------- */

static void check_heartbeat(const tp_master *m, worker *w, double now)
{
    tp_score *s = m->sb ? tp_scoreboard_find(m->sb, w->pid) : NULL;
    if (!s || w->state != W_READY || m->o->worker_timeout <= 0)
        return;
    /* The beat is read before the clock: read after, a beat the worker wrote in between is
     * newer than "now", and the unsigned difference wrapped to 584 years (a healthy worker
     * was aborted under load that way). */
    uint64_t beat = __atomic_load_n(&s->heartbeat_ns, __ATOMIC_ACQUIRE);
    uint64_t clock = tp_monotonic_ns();
    double silent = clock > beat ? (double)(clock - beat) / 1e9 : 0.0;
    if (!w->aborted && silent > m->o->worker_timeout) {
        tp_log_error("worker[%d] pid %d missed its heartbeat for %.1f s%s%s: SIGABRT", w->slot,
                     (int)w->pid, silent, s->request[0] ? ", last request: " : "", s->request);
        w->aborted = true;
        w->kill_at = now + ABORT_GRACE;
        kill(w->pid, SIGABRT);
    }
}

static void tick(tp_loop *loop, void *arg)
{
    tp_master *m = arg;
    double now = tp_loop_time(loop);
    for (worker *w = m->workers; w; w = w->next) {
        check_heartbeat(m, w, now);
        if (w->kill_at && now >= w->kill_at) {
            tp_log_warning("worker[%d] pid %d still alive: SIGKILL", w->slot, (int)w->pid);
            kill(w->pid, SIGKILL);
            w->kill_at = 0;
        }
    }
    for (int slot = 0; slot < m->procs && !m->stopping; slot++)
        if (m->respawn_at[slot] && now >= m->respawn_at[slot]) {
            m->respawn_at[slot] = 0;
            tp__mstats(m)->restarts[m->respawn_cause[slot]]++;
            /* A failed fork (EAGAIN at the process limit, ENOMEM) is retried like a crash:
             * left alone, the slot would stay empty for good. */
            if (!tp__spawn(m, slot, m->current_gen))
                respawn_after_backoff(m, slot);
        }
    tp__reload_check_deadline(m);
    tp__relay_tick(m);
}

/* ---- signals ------------------------------------------------------------------------------ */

static void stop(tp_master *m, bool fast)
{
    if (m->stopping && (!fast || m->fast_stop))
        return;
    tp_log_info("%s stop: %zu workers", fast ? "fast" : "graceful", tp__count(m, 0, 7));
    tp__sd_notify("STOPPING=1");
    m->stopping = true;
    m->fast_stop = fast;
    for (size_t i = 0; i < m->nlisteners; i++)
        close(m->listeners[i]);
    m->nlisteners = 0;
    double now = tp_loop_time(m->loop);
    for (worker *w = m->workers; w; w = w->next) {
        w->expected = true;
        if (fast || w->state == W_BOOTING) {
            tp__send(w, TP_CTL_STOP_NOW, 0);
            kill(w->pid, SIGTERM);
            w->kill_at = now + FAST_STOP_GRACE;
        } else {
            tp__drain_worker(m, w);
        }
    }
    if (!m->workers)
        tp_loop_stop(m->loop);
}

static void reopen_logs(const tp_master *m)
{
    if (tp_log_has_files()) {
        tp_log_reopen();
    } else if (m->o->log_file) {
        int fd = open(m->o->log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) {
            tp_log_flush();
            dup2(fd, 2);
            close(fd);
        }
    }
    for (worker *w = m->workers; w; w = w->next)
        tp__send(w, TP_CTL_REOPEN_LOGS, 0);
    tp_log_info("log files reopened");
}

static void change_procs(tp_master *m, int delta)
{
    if (m->stopping || (delta < 0 && m->procs <= 1) || (delta > 0 && m->procs >= MAX_SLOTS))
        return;
    if (delta > 0) {
        char err[256];
        if (m->o->reuseport && (size_t)(m->procs + 1) * m->per_slot > m->nlisteners &&
            tp__bind_slot(m, m->procs, err, sizeof(err)) < 0) {
            tp_log_error("TTIN: %s", err);
            return;
        }
        m->procs++;
        m->respawn_cause[m->procs - 1] = TP_EXIT_DRAINED;
        if (!tp__spawn(m, m->procs - 1, m->current_gen))
            respawn_after_backoff(m, m->procs - 1);
    } else {
        m->procs--;
        m->respawn_at[m->procs] = 0;
        for (worker *w = m->workers; w; w = w->next)
            if (w->slot == m->procs)
                tp__drain_worker(m, w);
    }
    tp__mstats(m)->procs = (uint32_t)m->procs;
    tp_log_info("workers: %d", m->procs);
}

static void on_signal(tp_loop *loop, int signo, void *arg)
{
    (void)loop;
    tp_master *m = arg;
    switch (signo) {
    case SIGCHLD: reap(m); break;
    case SIGHUP: tp__reload_start(m, "SIGHUP"); break;
    case SIGTERM:
    case SIGQUIT: stop(m, m->stopping); break; /* a second one escalates to fast */
    case SIGINT: stop(m, true); break;
    case SIGUSR1: reopen_logs(m); break;
    case SIGTTIN: change_procs(m, 1); break;
    case SIGTTOU: change_procs(m, -1); break;
    default: break;
    }
}

/* ---- main --------------------------------------------------------------------------------- */

static int prepare(tp_master *m, char *err, size_t errlen)
{
    m->procs = m->o->procs > 0 ? m->o->procs : tp_cpu_count();
    if (tp__bind_listeners(m, err, errlen) < 0)
        return -1;
    if (m->o->pid_file && *m->o->pid_file) {
        FILE *f = fopen(m->o->pid_file, "w");
        if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0) {
            snprintf(err, errlen, "cannot write %s: %s", m->o->pid_file, strerror(errno));
            return -1;
        }
        snprintf(m->scoreboard_path, sizeof(m->scoreboard_path), "%s.scoreboard", m->o->pid_file);
    }
    m->sb = tp_scoreboard_create(m->scoreboard_path[0] ? m->scoreboard_path : NULL,
                                 (uint32_t)(MAX_SLOTS + 3 * m->procs));
    if (tp__metrics_listen(m, err, errlen) < 0) /* bound as the starting user, too */
        return -1;
    /* Bound and written as the starting user; everything after runs as --user (which may not
     * write where the starting user does: the port file is written now, not once serving). */
    if (dropping_privileges(m))
        write_port_file(m);
    if (tp__drop_privileges(m->o, err, errlen) < 0)
        return -1;
    snprintf(m->rundir, sizeof(m->rundir), "%s/tornado-prefork.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(m->rundir)) {
        snprintf(err, errlen, "cannot create a run directory: %s", strerror(errno));
        return -1;
    }
    char *snap = tp_snapshot_take(m->o->app_path, m->rundir, 1, err, errlen);
    if (!snap)
        return -1;
    m->current_gen = m->last_gen = tp__gen_add(m, snap);
    tp__mstats(m)->generation = m->current_gen;
    tp__mstats(m)->procs = (uint32_t)m->procs;
    if (tp__tls_keys_start(m, err, errlen) < 0)
        return -1;
    return tp__tls_gen_take(m, m->current_gen, err, errlen);
}

/* The handlers stay installed (and the signals blocked) after tp_master_run returns, so that
 * a late TERM cannot kill the exiting master; the loop never runs again to call them. */
static void install_signals(tp_master *m)
{
    static const int sigs[] = {SIGCHLD, SIGHUP,  SIGTERM, SIGQUIT,
                               SIGINT,  SIGUSR1, SIGTTIN, SIGTTOU};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        tp_loop_add_signal(m->loop, sigs[i], on_signal, m);
    signal(SIGPIPE, SIG_IGN);
}

static void cleanup(tp_master *m)
{
    for (int i = 0; i < MAX_GENS; i++)
        if (m->gens[i].gen) {
            unlink(m->gens[i].snapshot);
            tp_free(m->gens[i].snapshot);
            m->gens[i].gen = 0;
        }
    rmdir(m->rundir);
    if (m->o->pid_file && *m->o->pid_file)
        unlink(m->o->pid_file);
    if (m->scoreboard_path[0])
        unlink(m->scoreboard_path);
    for (size_t i = 0; i < m->nlisteners; i++)
        close(m->listeners[i]);
    tp_periodic_free(m->tick);
    tp__autoreload_free(m->autoreload);
    tp__metrics_close(m);
    tp__tls_keys_stop(m);
}

/* The first generation: every slot forked now, READY awaited by the loop. */
static void start(tp_master *m)
{
    tp_log_info("tornado-prefork master pid %d: %d workers, listening on port %d, app %s",
                (int)getpid(), m->procs, m->first_port, m->o->app_path);
    m->tick = tp_periodic_new(m->loop, TICK, 0, tick, m);
    tp_periodic_start(m->tick);
    m->starting = true;
    m->reload_started = tp_loop_time(m->loop);
    m->boot_deadline = m->reload_started + m->o->boot_timeout;
    for (int slot = 0; slot < m->procs; slot++)
        if (!tp__spawn(m, slot, m->current_gen))
            start_failed(m, "cannot fork");
    if (m->o->autoreload && !(m->autoreload = tp__autoreload_start(m)))
        tp_log_error("autoreload: cannot watch %s", m->o->app_path);
}

/* The master's state lives in this frame for the life of the server; the workers, forked from
 * deep inside tp_loop_run, never return to it. */
int tp_master_run(const tp_prefork_opts *o)
{
    char err[300] = "";
    tp_master master = {.o = o, .loop = tp_loop_current(), .fail_forks = test_fail_forks()};
    tp_master *m = &master;
    install_signals(m);
    long nofile = tp_raise_nofile_limit();
    if (prepare(m, err, sizeof(err)) < 0) {
        dprintf(o->error_fd, "error: %s\n", err);
        cleanup(m);
        return 1;
    }
    tp_proctitle_set("tornado-prefork: master");
    tp_log_info("open files limit: %ld", nofile);
    if (o->settings)
        tp_log_info("settings: %s", o->settings);
    start(m);
    tp_loop_run(m->loop);
    if (m->exit_status)
        dprintf(o->error_fd, "error: %s\n", m->start_error);
    else
        tp_log_info("stopped");
    tp_log_flush();
    cleanup(m);
    return m->exit_status;
}
