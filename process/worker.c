/* Worker boot order (process-model.md §9.2): parent-death signal, signals, title, fd hygiene,
 * dlopen of the snapshot, ABI check, app init, listeners, READY. */
#include "process/worker.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "process/control.h"
#include "platform/proc.h"
#include "web/app_entry.h"

#define HEARTBEAT 0.5 /* seconds between scoreboard updates */
/* Without a master (its death, or a TERM sent to the worker itself) nothing waits for this
 * worker: in-flight requests get this long, then it exits. */
#define ORPHAN_DRAIN 3.0

static struct {
    const tp_worker_boot *b;
    tp_loop *loop;
    tp_app *app;
    const tp_app_entry *entry;
    tp_http_server *srv;
    tp_score *score;
    bool draining, recycled;
    tp_timer deadline;
} W;

static void send_msg(int type, const char *text)
{
    tp_ctl_msg m = {.type = (uint32_t)type, .gen = W.b->gen, .pid = getpid(), .slot = W.b->slot};
    if (text)
        snprintf(m.text, sizeof(m.text), "%s", text);
    while (send(W.b->ctl_fd, &m, sizeof(m), MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
}

_Noreturn static void boot_failed(const char *fmt, const char *detail)
{
    char text[240];
    snprintf(text, sizeof(text), fmt, detail);
    tp_log_error("boot failed: %s", text);
    tp_log_flush();
    send_msg(TP_CTL_BOOT_FAILED, text);
    _exit(3);
}

static void reopen_log(void)
{
    if (!W.b->log_file)
        return;
    int fd = open(W.b->log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
        tp_log_flush();
        dup2(fd, 2);
        close(fd);
    }
}

_Noreturn static void leave(int status)
{
    tp_http_server_free(W.srv);
    if (W.entry && W.entry->teardown)
        W.entry->teardown(W.app);
    tp_app_free(W.app);
    tp_loop_free(W.loop);
    tp_log_flush();
    _exit(status);
}

static void drained(tp_http_server *srv, void *arg)
{
    (void)srv, (void)arg;
    tp_loop_stop(W.loop);
}

static void deadline_passed(tp_loop *loop, void *arg)
{
    (void)arg;
    tp_log_warning("drain deadline passed with %zu connections open: closing them",
                   tp_http_server_connections(W.srv));
    tp_loop_stop(loop);
}

static void start_drain(double seconds)
{
    if (W.draining)
        return;
    W.draining = true;
    if (W.score)
        W.score->state = 3;
    tp_http_server_drain(W.srv, W.b->drain_idle_grace, drained, NULL);
    if (seconds > 0)
        tp_timer_start_at(W.loop, &W.deadline, tp_loop_time(W.loop) + seconds);
}

static void on_ctl(tp_loop *loop, int fd, unsigned events, void *arg)
{
    (void)events, (void)arg;
    tp_ctl_msg m;
    ssize_t n = recv(fd, &m, sizeof(m), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) { /* the master is gone: nobody will respawn or reload, so finish and leave */
        tp_loop_remove_fd(loop, fd);
        start_drain(ORPHAN_DRAIN);
        return;
    }
    if (m.type == TP_CTL_DRAIN)
        start_drain(m.value);
    else if (m.type == TP_CTL_STOP_NOW)
        tp_loop_stop(loop);
    else if (m.type == TP_CTL_REOPEN_LOGS)
        reopen_log();
}

static void on_signal(tp_loop *loop, int signo, void *arg)
{
    (void)loop, (void)arg;
    if (signo == SIGUSR1)
        reopen_log();
    else
        start_drain(ORPHAN_DRAIN);
}

static void heartbeat(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    if (!W.score)
        return;
    __atomic_store_n(&W.score->heartbeat_ns, tp_monotonic_ns(), __ATOMIC_RELEASE);
    W.score->requests = tp_http_server_requests(W.srv);
    W.score->connections = tp_http_server_connections(W.srv);
}

/* Records the request in the scoreboard (the master names it if this worker crashes), and
 * asks for a replacement once max_requests is reached. */
static int headers_received(tp_request *req, void *ctx)
{
    if (W.score) {
        snprintf(W.score->request, sizeof(W.score->request), "%.*s %.*s", TP_SLICE_FMT(req->method),
                 TP_SLICE_FMT(req->path));
        __atomic_store_n(&W.score->heartbeat_ns, tp_monotonic_ns(), __ATOMIC_RELEASE);
    }
    if (W.b->max_requests && !W.recycled && tp_http_server_requests(W.srv) >= W.b->max_requests) {
        W.recycled = true;
        send_msg(TP_CTL_RECYCLE, "max_requests reached");
    }
    return tp_app_delegate()->headers_received(req, ctx);
}

static void load_app(void)
{
    void *dl = dlopen(W.b->snapshot, RTLD_NOW | RTLD_LOCAL);
    if (!dl)
        boot_failed("dlopen: %s", dlerror());
    W.entry = dlsym(dl, TP_APP_SYMBOL_NAME);
    const char *why = tp_app_entry_check(W.entry);
    if (why)
        boot_failed("%s", why);
    W.app = tp_app_new();
    int r = W.entry->init(W.app);
    if (r != 0) {
        char num[32];
        snprintf(num, sizeof(num), "%d", r);
        boot_failed("app init returned %s", num);
    }
}

static void serve(void)
{
    static tp_http_delegate d;
    d = *tp_app_delegate();
    d.headers_received = headers_received;
    W.srv = tp_http_server_new(W.loop, &d, W.app, W.b->http);
    for (size_t i = 0; i < W.b->nlisteners; i++) {
        int fd = W.b->listeners[i]; /* the server owns it: a drain closes this copy */
        int r = W.b->shared ? tp_http_server_add_shared_socket(W.srv, fd)
                            : tp_http_server_add_socket(W.srv, fd);
        if (r < 0)
            boot_failed("cannot watch a listener: %s", strerror(-r));
    }
}

/* Nothing of the master's loop may be touched: its epoll set is shared with the master. */
static void fresh_process(const tp_worker_boot *b)
{
    if (tp_parent_death_signal(SIGTERM, b->master_pid) < 0)
        _exit(0);
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    signal(SIGINT, SIG_IGN); /* the terminal's Ctrl-C is for the master to coordinate */
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGCHLD, SIG_DFL);
    int keep[64];
    size_t n = 0;
    keep[n++] = b->ctl_fd;
    for (size_t i = 0; i < b->nlisteners && n < 64; i++)
        keep[n++] = b->listeners[i];
    tp_close_fds_except(keep, n);
    tp_log_after_fork();
    tp_loop_set_current(NULL);
    W.loop = tp_loop_current();
}

_Noreturn void tp_worker_run(const tp_worker_boot *b)
{
    W.b = b;
    fresh_process(b);
    tp_proctitle_set("tornado-prefork: worker[%d] gen=%u", b->slot, b->gen);
    char tag[32];
    snprintf(tag, sizeof(tag), "worker[%d] ", b->slot);
    tp_log_set_tag(tag);
    W.score = b->score;
    load_app();
    serve();
    tp_timer_init(&W.deadline, deadline_passed, NULL);
    tp_loop_add_fd(W.loop, b->ctl_fd, TP_READ, on_ctl, NULL);
    tp_loop_add_signal(W.loop, SIGTERM, on_signal, NULL);
    tp_loop_add_signal(W.loop, SIGQUIT, on_signal, NULL);
    tp_loop_add_signal(W.loop, SIGUSR1, on_signal, NULL);
    tp_periodic *hb = tp_periodic_new(W.loop, HEARTBEAT, 0, heartbeat, NULL);
    tp_periodic_start(hb);
    if (W.score)
        W.score->state = 2;
    send_msg(TP_CTL_READY, NULL);
    tp_loop_run(W.loop);
    tp_periodic_free(hb);
    leave(0);
}
