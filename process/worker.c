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
#include "process/tls_keys.h"
#include "platform/proc.h"
#include "web/app_entry.h"
#include "web/pubsub/internal.h"
#include "web/websocket.h"

#define HEARTBEAT 0.5 /* seconds between scoreboard updates */
/* Without a master (its death, or a TERM sent to the worker itself) nothing waits for this
 * worker: in-flight requests get this long, then it exits. */
#define ORPHAN_DRAIN 3.0

/* The worker process's state: one per process, on tp_worker_run's stack (which never returns),
 * handed to every callback as its arg. */
typedef struct tp_worker {
    const tp_worker_boot *b;
    tp_loop *loop;
    tp_app *app;
    const tp_app_entry *entry;
    tp_http_server *srv;
    tp_score *score;
    bool draining, recycled;
    tp_timer deadline;
    tp_timer http_deadline; /* shutdown_timeout: the HTTP requests still running are cut */
    tp_timer ws_deadline;   /* the WebSocket drain: then the open ones are closed (1001) */
    double drain_started;
    bool http_drained; /* the HTTP server's drain finished */
} tp_worker;

static void send_msg(const tp_worker *w, int type, const char *text)
{
    tp_ctl_msg m = {.type = (uint32_t)type, .gen = w->b->gen, .pid = getpid(), .slot = w->b->slot};
    if (text)
        snprintf(m.text, sizeof(m.text), "%s", text);
    while (send(w->b->ctl_fd, &m, sizeof(m), MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
}

_Noreturn static void boot_failed(const tp_worker *w, const char *fmt, const char *detail)
{
    char text[240];
    snprintf(text, sizeof(text), fmt, detail);
    tp_log_error("boot failed: %s", text);
    tp_log_flush();
    send_msg(w, TP_CTL_BOOT_FAILED, text);
    _exit(3);
}

static void reopen_log(const tp_worker *w)
{
    if (tp_log_has_files()) {
        tp_log_reopen();
        return;
    }
    if (!w->b->log_file)
        return;
    int fd = open(w->b->log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
        tp_log_flush();
        dup2(fd, 2);
        close(fd);
    }
}

_Noreturn static void leave(tp_worker *w, int status)
{
    tp_http_server_free(w->srv);
    if (w->entry && w->entry->teardown)
        w->entry->teardown(w->app);
    tp_app_free(w->app);
    tp_loop_free(w->loop);
    tp_log_flush();
    _exit(status);
}

/* The drain is over once HTTP has drained and no WebSocket connection is left. */
static void websockets_gone(tp_app *app, void *arg)
{
    (void)app;
    tp_worker *w = arg;
    if (w->http_drained)
        tp_loop_stop(w->loop);
}

/* websocket_drain_timeout after the drain began (whether or not HTTP has drained by then):
 * the WebSocket connections still open are closed with 1001. */
static void websocket_drain_over(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_worker *w = arg;
    size_t n = tp_app_websocket_count(w->app);
    if (n)
        tp_log_info("closing %zu WebSocket connections (1001 going away)", n);
    tp_app_close_websockets(w->app, TP_WS_GOING_AWAY, "going away", websockets_gone, w);
}

/* HTTP is drained; WebSocket connections stay until they close or the WebSocket drain's
 * timer (armed when the drain began) closes them. */
static void drained(tp_http_server *srv, void *arg)
{
    (void)srv;
    tp_worker *w = arg;
    w->http_drained = true;
    size_t n = tp_app_websocket_count(w->app);
    if (n == 0) {
        tp_loop_stop(w->loop);
        return;
    }
    double left = w->ws_deadline.when - tp_loop_time(w->loop);
    if (tp_timer_armed(&w->ws_deadline))
        tp_log_info("waiting for %zu WebSocket connections to close (at most %.1fs)", n,
                    left > 0 ? left : 0);
    tp_app_close_websockets(w->app, 0, NULL, websockets_gone, w); /* wait, close nothing */
}

/* shutdown_timeout after the drain began: HTTP requests still running are cut (their
 * connections closed; the handlers see connection_closed), so HTTP gets shutdown_timeout
 * even when WebSocket connections may stay longer (websocket_drain_timeout). */
static void http_deadline_passed(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_worker *w = arg;
    if (w->http_drained)
        return;
    tp_log_warning("shutdown timeout (%.1fs) passed with %zu HTTP connections open: closing them",
                   w->b->shutdown_timeout, tp_http_server_connections(w->srv));
    tp_http_server_close_all(w->srv); /* the drain's done callback follows */
}

static void deadline_passed(tp_loop *loop, void *arg)
{
    tp_worker *w = arg;
    tp_log_warning("drain deadline passed with %zu connections and %zu WebSocket connections "
                   "open: closing them",
                   tp_http_server_connections(w->srv), tp_app_websocket_count(w->app));
    tp_loop_stop(loop);
}

static void start_drain(tp_worker *w, double seconds)
{
    if (w->draining)
        return;
    w->draining = true;
    w->drain_started = tp_loop_time(w->loop);
    if (w->score)
        w->score->state = 3;
    tp_timer_start_at(w->loop, &w->ws_deadline, w->drain_started + w->b->websocket_drain_timeout);
    if (w->b->shutdown_timeout > 0 && (seconds <= 0 || w->b->shutdown_timeout < seconds))
        tp_timer_start_at(w->loop, &w->http_deadline, w->drain_started + w->b->shutdown_timeout);
    tp_http_server_drain(w->srv, w->b->drain_idle_grace, drained, w);
    if (seconds > 0)
        tp_timer_start_at(w->loop, &w->deadline, tp_loop_time(w->loop) + seconds);
}

static void on_ctl(tp_loop *loop, int fd, unsigned events, void *arg)
{
    (void)events;
    tp_worker *w = arg;
    tp_ctl_msg m;
    ssize_t n = recv(fd, &m, sizeof(m), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) { /* the master is gone: nobody will respawn or reload, so finish and leave */
        tp_loop_remove_fd(loop, fd);
        start_drain(w, ORPHAN_DRAIN);
        return;
    }
    if (m.type == TP_CTL_DRAIN)
        start_drain(w, m.value);
    else if (m.type == TP_CTL_STOP_NOW)
        tp_loop_stop(loop);
    else if (m.type == TP_CTL_REOPEN_LOGS)
        reopen_log(w);
}

static void on_signal(tp_loop *loop, int signo, void *arg)
{
    (void)loop;
    tp_worker *w = arg;
    if (signo == SIGUSR1)
        reopen_log(w);
    else
        start_drain(w, ORPHAN_DRAIN);
}

static void heartbeat(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_worker *w = arg;
    if (!w->score)
        return;
    __atomic_store_n(&w->score->heartbeat_ns, tp_monotonic_ns(), __ATOMIC_RELEASE);
    w->score->requests = tp_http_server_requests(w->srv);
    w->score->connections = tp_http_server_connections(w->srv);
}

/* ---- the HTTP delegate: the app's, with this worker as its ctx ---------------------------- */

/* Records the request in the scoreboard (the master names it if this worker crashes), and
 * asks for a replacement once max_requests is reached. */
static int headers_received(tp_request *req, void *ctx)
{
    tp_worker *w = ctx;
    if (w->score) {
        snprintf(w->score->request, sizeof(w->score->request), "%.*s %.*s",
                 TP_SLICE_FMT(req->method), TP_SLICE_FMT(req->path));
        __atomic_store_n(&w->score->heartbeat_ns, tp_monotonic_ns(), __ATOMIC_RELEASE);
    }
    if (w->b->max_requests && !w->recycled &&
        tp_http_server_requests(w->srv) >= w->b->max_requests) {
        w->recycled = true;
        send_msg(w, TP_CTL_RECYCLE, "max_requests reached");
    }
    return tp_app_delegate()->headers_received(req, w->app);
}

static int data_received(tp_request *req, tp_slice chunk, void *ctx)
{
    return tp_app_delegate()->data_received(req, chunk, ((tp_worker *)ctx)->app);
}

static void request_complete(tp_request *req, void *ctx)
{
    tp_app_delegate()->request_complete(req, ((tp_worker *)ctx)->app);
}

static void connection_closed(tp_request *req, void *ctx)
{
    tp_app_delegate()->connection_closed(req, ((tp_worker *)ctx)->app);
}

static const tp_http_delegate worker_delegate = {
    .headers_received = headers_received,
    .data_received = data_received,
    .request_complete = request_complete,
    .connection_closed = connection_closed,
};

/* ---- boot --------------------------------------------------------------------------------- */

static void load_app(tp_worker *w)
{
    void *dl = dlopen(w->b->snapshot, RTLD_NOW | RTLD_LOCAL);
    if (!dl)
        boot_failed(w, "dlopen: %s", dlerror());
    w->entry = dlsym(dl, TP_APP_SYMBOL_NAME);
    const char *why = tp_app_entry_check(w->entry);
    if (why)
        boot_failed(w, "%s", why);
    w->app = tp_app_new();
    int r = w->entry->init(w->app);
    if (r != 0) {
        char num[32];
        snprintf(num, sizeof(num), "%d", r);
        boot_failed(w, "app init returned %s", num);
    }
}

static void serve(tp_worker *w)
{
    char err[200] = "";
    tp_http_server_opts http = *w->b->http;
    http.tls = tp__worker_tls_ctx(w->b, err, sizeof(err)); /* the generation's copies */
    if (!http.tls && err[0])
        boot_failed(w, "TLS: %s", err);
    w->srv = tp_http_server_new(w->loop, &worker_delegate, w, &http);
    tp_tls_ctx_unref(http.tls); /* the server holds its own reference */
    if (w->score)
        tp_http_server_set_stats(w->srv, &w->score->http);
    for (size_t i = 0; i < w->b->nlisteners; i++) {
        int fd = w->b->listeners[i]; /* the server owns it: a drain closes this copy */
        int r = w->b->shared ? tp_http_server_add_shared_socket(w->srv, fd)
                             : tp_http_server_add_socket(w->srv, fd);
        if (r < 0)
            boot_failed(w, "cannot watch a listener: %s", strerror(-r));
    }
}

/* Nothing of the master's loop may be touched: its epoll set is shared with the master. */
static void fresh_process(tp_worker *w)
{
    const tp_worker_boot *b = w->b;
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
    if (b->pubsub_fd >= 0)
        keep[n++] = b->pubsub_fd;
    for (size_t i = 0; i < b->nlisteners && n < 62; i++)
        keep[n++] = b->listeners[i];
    tp_close_fds_except(keep, n);
    tp_log_after_fork();
    tp_loop_set_current(NULL);
    w->loop = tp_loop_current();
}

/* Before the app's init, so that what init publishes already goes to every worker. */
static void start_pubsub(tp_worker *w)
{
    int r = 0;
    if (w->b->pubsub_url)
        r = tp__pubsub_redis_start(w->loop, w->b->pubsub_url);
    else if (w->b->pubsub_fd >= 0)
        r = tp__pubsub_relay_start(w->loop, w->b->pubsub_fd);
    if (r < 0)
        boot_failed(w, "pubsub: %s", strerror(-r));
}

static void watch_master(tp_worker *w)
{
    tp_timer_init(&w->deadline, deadline_passed, w);
    tp_timer_init(&w->http_deadline, http_deadline_passed, w);
    tp_timer_init(&w->ws_deadline, websocket_drain_over, w);
    tp_loop_add_fd(w->loop, w->b->ctl_fd, TP_READ, on_ctl, w);
    tp_loop_add_signal(w->loop, SIGTERM, on_signal, w);
    tp_loop_add_signal(w->loop, SIGQUIT, on_signal, w);
    tp_loop_add_signal(w->loop, SIGUSR1, on_signal, w);
}

_Noreturn void tp_worker_run(const tp_worker_boot *b)
{
    tp_worker worker = {.b = b, .score = b->score};
    tp_worker *w = &worker;
    fresh_process(w);
    if (tp_log_has_files()) {
        /* Each slot logs to its own files: PREFIX.wN (docs/options-and-log.md). */
        char suffix[24];
        snprintf(suffix, sizeof(suffix), ".w%d", b->slot);
        tp_log_reopen_suffix(suffix);
    }
    tp_proctitle_set("tornado-prefork: worker[%d] gen=%u", b->slot, b->gen);
    char tag[32];
    snprintf(tag, sizeof(tag), "worker[%d] ", b->slot);
    tp_log_set_tag(tag);
    start_pubsub(w);
    load_app(w);
    serve(w);
    watch_master(w);
    tp_periodic *hb = tp_periodic_new(w->loop, HEARTBEAT, 0, heartbeat, w);
    tp_periodic_start(hb);
    if (w->score)
        w->score->state = 2;
    send_msg(w, TP_CTL_READY, NULL);
    tp_loop_run(w->loop);
    tp_periodic_free(hb);
    leave(w, 0);
}
