#include "process/fork.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/loop.h"

/* How long stopped children get to exit after SIGTERM before they get SIGKILL. */
#define STOP_GRACE_SECONDS 5.0
#define STOP_POLL_NS       (10 * 1000 * 1000)

static int task_id = -1;
static bool started; /* tp_fork_processes is running in this process (the parent) */

int tp_task_id(void)
{
    return task_id;
}

/* Tornado's cpu_count(): the online CPUs, else the configured ones, else 1 (logged). */
static int cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = sysconf(_SC_NPROCESSORS_CONF);
    if (n >= 1)
        return n > 4096 ? 4096 : (int)n;
    tp_log_error("Could not detect number of processors; assuming 1");
    return 1;
}

/* Tornado re-seeds `random` in every child so that they do not all draw the same numbers:
 * the pid keeps siblings (and a restarted child) apart, the clock and getrandom() keep runs
 * apart. */
static void reseed(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned seed = (unsigned)getpid() * 2654435761u;
    seed ^= (unsigned)ts.tv_sec ^ ((unsigned)ts.tv_nsec << 7);
    unsigned extra;
    if (getrandom(&extra, sizeof(extra), GRND_NONBLOCK) == (ssize_t)sizeof(extra))
        seed ^= extra;
    srandom(seed);
}

/* The child's side of a fork. PR_SET_PDEATHSIG (an improvement over Tornado, whose children
 * outlive a killed parent: tornado#1912, #2993) fires when the thread that forked ends, which
 * is the parent itself here since it only waits from then on. The parent may already have
 * died before prctl, hence the getppid() check. */
static void become_child(int id, pid_t parent)
{
    task_id = id;
    started = false;
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) == 0 && getppid() != parent)
        raise(SIGTERM);
    reseed();
}

/* Forks the child for task `id`: returns 0 in the parent (pids[id] set), 1 in the child, or
 * -errno. Buffered output is flushed first so that no child repeats it. */
static int start_child(pid_t *pids, int id)
{
    tp_log_flush();
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        become_child(id, parent);
        return 1;
    }
    pids[id] = pid;
    return 0;
}

static int find_child(const pid_t *pids, int n, pid_t pid)
{
    for (int i = 0; i < n; i++)
        if (pids[i] == pid)
            return i;
    return -1;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reaps whichever of the live children have exited, without blocking; returns how many are
 * still running. */
static int reap_stopped(pid_t *pids, int n)
{
    int live = 0;
    for (int i = 0; i < n; i++) {
        if (pids[i] <= 0)
            continue;
        pid_t r = waitpid(pids[i], NULL, WNOHANG);
        if (r == pids[i] || (r < 0 && errno == ECHILD))
            pids[i] = 0;
        else
            live++;
    }
    return live;
}

/* Unlike Tornado (tornado#2993) the parent does not leave its children orphaned when it gives
 * up: SIGTERM, a grace period, then SIGKILL for the ones still there, and every one reaped. */
static void stop_children(pid_t *pids, int n)
{
    for (int i = 0; i < n; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGTERM);
    double deadline = now_seconds() + STOP_GRACE_SECONDS;
    struct timespec pause_ts = {0, STOP_POLL_NS};
    while (reap_stopped(pids, n) > 0) {
        if (now_seconds() >= deadline)
            break;
        nanosleep(&pause_ts, NULL);
    }
    for (int i = 0; i < n; i++) {
        if (pids[i] <= 0)
            continue;
        tp_log_warning("child %d (pid %d) did not stop on SIGTERM, killing it", i, (int)pids[i]);
        kill(pids[i], SIGKILL);
        while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
            ;
        pids[i] = 0;
    }
}

static _Noreturn void give_up(pid_t *pids, int n)
{
    stop_children(pids, n);
    tp_free(pids);
    tp_log_flush();
    exit(1);
}

/* Tornado's supervision loop: wait for any child; unknown pids are ignored; exit 0 ends that
 * task for good; any other end is restarted with the same task id and counts towards
 * max_restarts, shared by all tasks. Returns the task id in a restarted child only. */
static int supervise(pid_t *pids, int n, int max_restarts)
{
    int live = n, restarts = 0;
    while (live > 0) {
        int status;
        pid_t pid = wait(&status);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            tp_log_error("wait failed with %d children left: %s", live, strerror(errno));
            give_up(pids, n);
        }
        int id = find_child(pids, n, pid);
        if (id < 0)
            continue;
        pids[id] = 0;
        if (WIFSIGNALED(status)) {
            tp_log_warning("child %d (pid %d) killed by signal %d, restarting", id, (int)pid,
                           WTERMSIG(status));
        } else if (WEXITSTATUS(status) != 0) {
            tp_log_warning("child %d (pid %d) exited with status %d, restarting", id, (int)pid,
                           WEXITSTATUS(status));
        } else {
            tp_log_info("child %d (pid %d) exited normally", id, (int)pid);
            live--;
            continue;
        }
        if (++restarts > max_restarts) {
            tp_log_error("Too many child restarts, giving up");
            give_up(pids, n);
        }
        int r = start_child(pids, id);
        if (r == 1)
            return id;
        if (r < 0) {
            tp_log_error("cannot restart child %d: %s", id, strerror(-r));
            give_up(pids, n);
        }
    }
    return -1;
}

/* The parent keeps a pid per task id (0 once that task has ended or is being restarted). A
 * failure in the first round of forks is returned (after stopping the children already
 * started) since no child has run yet; later the parent can only exit. */
int tp_fork_processes(int num_processes, int max_restarts)
{
    if (started || task_id >= 0)
        return -EALREADY;
    if (tp_loop_running())
        return -EBUSY;
    int n = num_processes > 0 ? num_processes : cpu_count();
    if (max_restarts < 0)
        max_restarts = TP_FORK_MAX_RESTARTS;
    started = true;
    tp_log_info("Starting %d processes", n);
    pid_t *pids = tp_calloc((size_t)n, sizeof(*pids));
    for (int i = 0; i < n; i++) {
        int r = start_child(pids, i);
        if (r == 1) {
            tp_free(pids);
            return i;
        }
        if (r < 0) {
            tp_log_error("fork failed for child %d: %s", i, strerror(-r));
            stop_children(pids, n);
            tp_free(pids);
            started = false;
            return r;
        }
    }
    int id = supervise(pids, n, max_restarts);
    tp_free(pids);
    if (id >= 0)
        return id;
    tp_log_flush();
    exit(0);
}
