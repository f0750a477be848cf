/* tp_fork_processes and tp_task_id (process/fork.h). Every test forks a "supervisor" process
 * that calls tp_fork_processes; its children report one record each run through a pipe and
 * then act out a behaviour (exit 0, crash once, always crash, hang). The test reads the
 * records, the supervisor's exit status and its log (redirected to a file in a temp dir). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "process/fork.h"
#include "tests/unit/suites.h"

#define MAX_RECS 1024

/* What a child reports each time it starts. */
struct rec {
    int id;      /* the value tp_fork_processes returned */
    int task_id; /* tp_task_id() afterwards */
    int pid;
    long extra; /* behaviour-specific */
};

struct result {
    int status; /* the supervisor's wait status */
    pid_t supervisor;
    int n;
    struct rec recs[MAX_RECS];
    char log[16384];
};

typedef void (*behaviour_fn)(int id, int wfd);

static char dir[64];

static void make_dir(void)
{
    strcpy(dir, "/tmp/tp_fork_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static void dir_path(char *out, size_t size, const char *name, int id)
{
    snprintf(out, size, "%s/%s-%d", dir, name, id);
}

/* Creates the marker file name-id; returns true if it did not exist yet. */
static bool mark_once(const char *name, int id)
{
    char path[256];
    dir_path(path, sizeof(path), name, id);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

static bool marker_exists(const char *name, int id)
{
    char path[256];
    dir_path(path, sizeof(path), name, id);
    return access(path, F_OK) == 0;
}

static void report(int id, int wfd, long extra)
{
    struct rec r = {.id = id, .task_id = tp_task_id(), .pid = (int)getpid(), .extra = extra};
    if (write(wfd, &r, sizeof(r)) != (ssize_t)sizeof(r))
        _exit(90);
}

/* Reads records until EOF or until `want` (> 0) of them arrived. */
static void read_records(int rfd, struct result *res, int want)
{
    size_t got = 0;
    char *buf = (char *)res->recs;
    while (got < sizeof(res->recs) && (want <= 0 || got < (size_t)want * sizeof(struct rec))) {
        ssize_t k = read(rfd, buf + got, sizeof(res->recs) - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    ck_assert_uint_eq(got % sizeof(struct rec), 0);
    res->n = (int)(got / sizeof(struct rec));
}

static void read_log(struct result *res)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/log", dir);
    res->log[0] = '\0';
    int fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ssize_t k = read(fd, res->log, sizeof(res->log) - 1);
    close(fd);
    ck_assert_int_ge(k, 0);
    res->log[k] = '\0';
}

/* Forks the supervisor, which logs to dir/log and runs tp_fork_processes(n, max_restarts);
 * each child calls behave(id, wfd), which must not return. */
static int start_supervisor(int n, int max_restarts, behaviour_fn behave, struct result *res)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    char path[256];
    snprintf(path, sizeof(path), "%s/log", dir);
    int logfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    ck_assert_int_ge(logfd, 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* libcheck's handlers (which signal the whole test's process group) would be
         * inherited: the children must die of SIGTERM as a normal program's would. */
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        sigaction(SIGTERM, &dfl, NULL);
        sigaction(SIGINT, &dfl, NULL);
        sigaction(SIGALRM, &dfl, NULL);
        close(p[0]);
        tp_log_set_fd(logfd);
        int id = tp_fork_processes(n, max_restarts);
        if (id < 0)
            _exit(100);
        behave(id, p[1]);
        _exit(91);
    }
    close(logfd);
    close(p[1]);
    res->supervisor = pid;
    return p[0];
}

/* Runs a supervisor to its end: every record, its exit status and its log. */
static void run(int n, int max_restarts, behaviour_fn behave, struct result *res)
{
    int rfd = start_supervisor(n, max_restarts, behave, res);
    read_records(rfd, res, 0);
    close(rfd);
    ck_assert_int_eq(waitpid(res->supervisor, &res->status, 0), res->supervisor);
    read_log(res);
}

static int count_id(const struct result *res, int id)
{
    int c = 0;
    for (int i = 0; i < res->n; i++)
        c += res->recs[i].id == id;
    return c;
}

static void assert_exit(const struct result *res, int code)
{
    ck_assert_msg(WIFEXITED(res->status), "supervisor status %#x", res->status);
    ck_assert_int_eq(WEXITSTATUS(res->status), code);
}

static void assert_no_process(pid_t pid)
{
    int r = kill(pid, 0);
    int err = errno;
    if (r == 0)
        kill(pid, SIGKILL); /* don't leave it behind */
    ck_assert_msg(r < 0 && err == ESRCH, "pid %d is still there", (int)pid);
}

/* Behaviours. */

static void b_exit0(int id, int wfd)
{
    report(id, wfd, random());
    _exit(0);
}

static void b_crash_once_segv(int id, int wfd)
{
    if (id == 1 && mark_once("crashed", id)) {
        report(id, wfd, 0);
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        struct sigaction sa = {.sa_handler = SIG_DFL};
        sigaction(SIGSEGV, &sa, NULL);
        raise(SIGSEGV);
        _exit(92);
    }
    report(id, wfd, 1);
    _exit(0);
}

static void b_crash_once_exit3(int id, int wfd)
{
    if (id == 0 && mark_once("crashed", id)) {
        report(id, wfd, 0);
        _exit(3);
    }
    report(id, wfd, 1);
    _exit(0);
}

static void b_always_exit3(int id, int wfd)
{
    report(id, wfd, 0);
    _exit(3);
}

static void b_hang(int id, int wfd)
{
    report(id, wfd, 0);
    for (;;)
        pause();
}

/* Child 0 hangs without the parent-death signal, so only the supervisor's own stop can end
 * it; child 1 waits until child 0 reported, then always exits 3. */
static void b_hang_or_crash(int id, int wfd)
{
    if (id == 0) {
        prctl(PR_SET_PDEATHSIG, 0);
        report(id, wfd, 0);
        mark_once("ready", 0);
        for (;;)
            pause();
    }
    /* However long child 0 takes to start on a loaded machine (30 s at most, then carry on:
     * the test fails on its own checks rather than hang). */
    struct timespec ts = {0, 5 * 1000 * 1000};
    double deadline = tp__monotonic() + 30;
    while (!marker_exists("ready", 0) && tp__monotonic() < deadline)
        nanosleep(&ts, NULL);
    report(id, wfd, 0);
    _exit(3);
}

static void b_call_again(int id, int wfd)
{
    report(id, wfd, tp_fork_processes(2, 0));
    _exit(0);
}

/* Tests. */

START_TEST(test_task_id_outside)
{
    ck_assert_int_eq(tp_task_id(), -1);
}
END_TEST

START_TEST(test_distinct_ids)
{
    static struct result res;
    make_dir();
    run(4, 0, b_exit0, &res);
    assert_exit(&res, 0);
    ck_assert_int_eq(res.n, 4);
    for (int id = 0; id < 4; id++)
        ck_assert_int_eq(count_id(&res, id), 1);
    for (int i = 0; i < res.n; i++) {
        ck_assert_int_eq(res.recs[i].task_id, res.recs[i].id);
        ck_assert_int_ne(res.recs[i].pid, (int)res.supervisor);
        for (int j = 0; j < i; j++) {
            ck_assert_int_ne(res.recs[i].pid, res.recs[j].pid);
            /* re-seeded: the children do not share the parent's random() sequence */
            ck_assert_int_ne(res.recs[i].extra, res.recs[j].extra);
        }
    }
    ck_assert_ptr_nonnull(strstr(res.log, "Starting 4 processes"));
    ck_assert_ptr_nonnull(strstr(res.log, "exited normally"));
    ck_assert_ptr_null(strstr(res.log, "restarting"));
    ck_assert_int_eq(tp_task_id(), -1);
    remove_dir();
}
END_TEST

/* max_restarts 0: a single restart would make the supervisor give up with status 1. */
START_TEST(test_exit0_not_restarted)
{
    static struct result res;
    make_dir();
    run(3, 0, b_exit0, &res);
    assert_exit(&res, 0);
    ck_assert_int_eq(res.n, 3);
    char line[64];
    for (int i = 0; i < res.n; i++) {
        snprintf(line, sizeof(line), "child %d (pid %d) exited normally", res.recs[i].id,
                 res.recs[i].pid);
        ck_assert_msg(strstr(res.log, line), "no \"%s\" in:\n%s", line, res.log);
    }
    remove_dir();
}
END_TEST

START_TEST(test_cpu_count_default)
{
    static struct result res;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1 || cpus > 256)
        return;
    make_dir();
    run(0, 0, b_exit0, &res);
    assert_exit(&res, 0);
    ck_assert_int_eq(res.n, (int)cpus);
    for (int id = 0; id < (int)cpus; id++)
        ck_assert_int_eq(count_id(&res, id), 1);
    remove_dir();
}
END_TEST

/* Checks that task `id` ran twice, with the same task id and two pids, and the others once. */
static void assert_restarted_once(const struct result *res, int n, int id)
{
    ck_assert_int_eq(res->n, n + 1);
    const struct rec *first = NULL, *second = NULL;
    for (int i = 0; i < res->n; i++) {
        const struct rec *r = &res->recs[i];
        ck_assert_int_eq(r->task_id, r->id);
        if (r->id != id)
            ck_assert_int_eq(count_id(res, r->id), 1);
        else if (!first)
            first = r;
        else
            second = r;
    }
    ck_assert_ptr_nonnull(second);
    ck_assert_int_eq(first->extra, 0);
    ck_assert_int_eq(second->extra, 1);
    ck_assert_int_eq(second->task_id, first->task_id);
    ck_assert_int_ne(second->pid, first->pid);
}

START_TEST(test_restart_after_signal)
{
    static struct result res;
    make_dir();
    run(3, 5, b_crash_once_segv, &res);
    assert_exit(&res, 0);
    assert_restarted_once(&res, 3, 1);
    char line[96];
    const struct rec *first = NULL;
    for (int i = 0; i < res.n && !first; i++)
        if (res.recs[i].id == 1)
            first = &res.recs[i];
    snprintf(line, sizeof(line), "child 1 (pid %d) killed by signal %d, restarting", first->pid,
             SIGSEGV);
    ck_assert_msg(strstr(res.log, line), "no \"%s\" in:\n%s", line, res.log);
    remove_dir();
}
END_TEST

START_TEST(test_restart_after_exit_status)
{
    static struct result res;
    make_dir();
    run(2, 1, b_crash_once_exit3, &res);
    assert_exit(&res, 0);
    assert_restarted_once(&res, 2, 0);
    const struct rec *first = NULL;
    for (int i = 0; i < res.n && !first; i++)
        if (res.recs[i].id == 0)
            first = &res.recs[i];
    char line[96];
    snprintf(line, sizeof(line), "child 0 (pid %d) exited with status 3, restarting", first->pid);
    ck_assert_msg(strstr(res.log, line), "no \"%s\" in:\n%s", line, res.log);
    remove_dir();
}
END_TEST

/* Three abnormal exits exceed max_restarts=2: the supervisor stops the hanging child 0 and
 * exits 1; nothing it started is left. */
START_TEST(test_give_up_stops_children)
{
    static struct result res;
    make_dir();
    run(2, 2, b_hang_or_crash, &res);
    assert_exit(&res, 1);
    ck_assert_int_eq(count_id(&res, 0), 1);
    ck_assert_int_eq(count_id(&res, 1), 3);
    for (int i = 0; i < res.n; i++)
        assert_no_process(res.recs[i].pid);
    ck_assert_ptr_nonnull(strstr(res.log, "Too many child restarts, giving up"));
    ck_assert_ptr_null(strstr(res.log, "did not stop on SIGTERM"));
    remove_dir();
}
END_TEST

/* A negative max_restarts is Tornado's 100: the 101st abnormal exit gives up. */
START_TEST(test_default_max_restarts)
{
    static struct result res;
    make_dir();
    run(1, -1, b_always_exit3, &res);
    assert_exit(&res, 1);
    ck_assert_int_eq(res.n, TP_FORK_MAX_RESTARTS + 1);
    for (int i = 0; i < res.n; i++)
        ck_assert_int_eq(res.recs[i].id, 0);
    ck_assert_ptr_nonnull(strstr(res.log, "Too many child restarts, giving up"));
    remove_dir();
}
END_TEST

/* The children get SIGTERM when the supervisor dies (PR_SET_PDEATHSIG). The test process
 * becomes a subreaper so that the orphans are its own to wait for. */
START_TEST(test_children_die_with_parent)
{
    static struct result res;
    make_dir();
    ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    int rfd = start_supervisor(2, 0, b_hang, &res);
    read_records(rfd, &res, 2);
    ck_assert_int_eq(res.n, 2);
    ck_assert_int_eq(kill(res.supervisor, SIGKILL), 0);
    ck_assert_int_eq(waitpid(res.supervisor, &res.status, 0), res.supervisor);
    for (int i = 0; i < res.n; i++) {
        int st;
        ck_assert_int_eq(waitpid(res.recs[i].pid, &st, 0), res.recs[i].pid);
        ck_assert(WIFSIGNALED(st));
        ck_assert_int_eq(WTERMSIG(st), SIGTERM);
    }
    close(rfd);
    remove_dir();
}
END_TEST

START_TEST(test_call_again_in_child)
{
    static struct result res;
    make_dir();
    run(2, 0, b_call_again, &res);
    assert_exit(&res, 0);
    ck_assert_int_eq(res.n, 2);
    for (int i = 0; i < res.n; i++)
        ck_assert_int_eq(res.recs[i].extra, -EALREADY);
    remove_dir();
}
END_TEST

static void fork_in_loop(tp_loop *loop, void *arg)
{
    *(int *)arg = tp_fork_processes(2, 0);
    tp_loop_stop(loop);
}

START_TEST(test_busy_inside_loop)
{
    tp_loop *loop = tp_loop_new();
    ck_assert_ptr_nonnull(loop);
    int r = 1;
    ck_assert_int_eq(tp_loop_run_sync(loop, fork_in_loop, &r, 20), 0);
    tp_loop_free(loop);
    ck_assert_int_eq(r, -EBUSY);
    ck_assert_int_eq(tp_task_id(), -1);
    int st;
    ck_assert_int_eq(waitpid(-1, &st, WNOHANG), -1); /* nothing was forked */
    ck_assert_int_eq(errno, ECHILD);
}
END_TEST

Suite *fork_suite(void)
{
    Suite *s = suite_create("fork");
    TCase *tc = tcase_create("task_id");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, test_task_id_outside);
    tcase_add_test(tc, test_distinct_ids);
    tcase_add_test(tc, test_exit0_not_restarted);
    tcase_add_test(tc, test_cpu_count_default);
    tcase_add_test(tc, test_call_again_in_child);
    tcase_add_test(tc, test_busy_inside_loop);
    suite_add_tcase(s, tc);

    tc = tcase_create("restarts");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, test_restart_after_signal);
    tcase_add_test(tc, test_restart_after_exit_status);
    tcase_add_test(tc, test_give_up_stops_children);
    tcase_add_test(tc, test_default_max_restarts);
    tcase_add_test(tc, test_children_die_with_parent);
    suite_add_tcase(s, tc);
    return s;
}
