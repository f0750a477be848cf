#include "core/loop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/loop_internal.h"

#define MAX_EVENTS   512
#define MAX_SLEEP_MS (3600 * 1000)

static __thread tp_loop *current_loop;

double tp__monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void tp__callback_push(tp_callback_vec *v, tp_fn fn, void *arg)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->v = tp_realloc(v->v, v->cap * sizeof(*v->v));
    }
    v->v[v->n++] = (tp_callback){fn, arg};
}

static void on_wake(tp_loop *loop, int fd, unsigned events, void *arg);
static void run_deferred(tp_loop *loop);

tp_loop *tp_loop_new(void)
{
    tp_loop *loop = tp_calloc(1, sizeof(*loop));
    loop->poller = tp_poller_new();
    loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    loop->signal_fd = -1;
    if (!loop->poller || loop->wake_fd < 0) {
        int e = errno;
        tp_poller_free(loop->poller);
        if (loop->wake_fd >= 0)
            close(loop->wake_fd);
        tp_free(loop);
        errno = e;
        return NULL;
    }
    pthread_mutex_init(&loop->remote_lock, NULL);
    sigemptyset(&loop->signals);
    loop->now = tp__monotonic();
    tp_loop_add_fd(loop, loop->wake_fd, TP_READ, on_wake, NULL);
    loop->nhandlers--; /* the waker is not a user handle */
    return loop;
}

void tp_loop_free(tp_loop *loop)
{
    if (!loop)
        return;
    if (current_loop == loop)
        current_loop = NULL;
    run_deferred(loop); /* closes queued before the end (streams free themselves there) */
    tp__signals_free(loop);
    tp__timers_free(loop);
    close(loop->wake_fd);
    pthread_mutex_destroy(&loop->remote_lock);
    tp_poller_free(loop->poller);
    if (loop->nfds_cap) {
        munmap(loop->fds, (size_t)loop->nfds_cap * sizeof(*loop->fds));
        munmap(loop->fd_masks, (size_t)loop->nfds_cap * sizeof(*loop->fd_masks));
    }
    tp_free(loop->deferred.v);
    tp_free(loop->callbacks.v);
    tp_free(loop->running_callbacks.v);
    tp_free(loop->remote.v);
    tp_free(loop);
}

tp_loop *tp_loop_current(void)
{
    if (!current_loop) {
        current_loop = tp_loop_new();
        if (!current_loop) {
            perror("tornado-prefork: cannot create the IOLoop");
            abort();
        }
    }
    return current_loop;
}

tp_loop *tp_loop_running(void)
{
    return current_loop && current_loop->running ? current_loop : NULL;
}

void tp_loop_set_current(tp_loop *loop)
{
    current_loop = loop;
}

/* Grows an anonymous mapping from old_n to new_n bytes (old NULL: a new one); the new pages
 * read as zeros. Aborts when the system has no memory left, as tp_malloc does. */
static void *grow_table(void *old, size_t old_n, size_t new_n)
{
    void *p = old ? mremap(old, old_n, new_n, MREMAP_MAYMOVE)
                  : mmap(NULL, new_n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("tornado-prefork: cannot grow the fd table");
        abort();
    }
    return p;
}

static void grow_fds(tp_loop *loop, int fd)
{
    size_t old = (size_t)loop->nfds_cap, n = old ? old : 1024;
    while (n <= (size_t)fd)
        n *= 2;
    loop->fds =
        grow_table(old ? loop->fds : NULL, old * sizeof(*loop->fds), n * sizeof(*loop->fds));
    loop->fd_masks = grow_table(old ? loop->fd_masks : NULL, old * sizeof(*loop->fd_masks),
                                n * sizeof(*loop->fd_masks));
    loop->nfds_cap = (int)n;
}

int tp_loop_add_fd(tp_loop *loop, int fd, unsigned events, tp_fd_fn fn, void *arg)
{
    if (fd < 0)
        return -EBADF;
    if (fd >= loop->nfds_cap)
        grow_fds(loop, fd);
    tp_fd_entry *e = &loop->fds[fd];
    if (e->fn)
        return -EEXIST;
    /* A paused fd (mask 0) stays out of the poller until tp_loop_update_fd asks for events. */
    unsigned mask = events & (TP_READ | TP_WRITE | TP_POLL_EXCLUSIVE);
    int r = mask ? tp_poller_set(loop->poller, fd, 0, mask) : 0;
    if (r < 0)
        return r;
    *e = (tp_fd_entry){fn, arg};
    loop->fd_masks[fd] = (uint16_t)mask;
    loop->nhandlers++;
    return 0;
}

int tp_loop_update_fd(tp_loop *loop, int fd, unsigned events)
{
    if (fd < 0 || fd >= loop->nfds_cap || !loop->fds[fd].fn)
        return -ENOENT;
    unsigned old = loop->fd_masks[fd];
    unsigned mask = events & (TP_READ | TP_WRITE | TP_POLL_EXCLUSIVE);
    if (mask == old)
        return 0;
    int r = tp_poller_set(loop->poller, fd, old, mask);
    if (r == 0)
        loop->fd_masks[fd] = (uint16_t)mask;
    return r;
}

void tp_loop_remove_fd(tp_loop *loop, int fd)
{
    if (fd < 0 || fd >= loop->nfds_cap || !loop->fds[fd].fn)
        return;
    if (loop->fd_masks[fd])
        tp_poller_set(loop->poller, fd, loop->fd_masks[fd], 0);
    loop->fds[fd] = (tp_fd_entry){0};
    loop->fd_masks[fd] = 0;
    loop->nhandlers--;
}

void tp_loop_add_callback(tp_loop *loop, tp_fn fn, void *arg)
{
    tp__callback_push(&loop->callbacks, fn, arg);
}

void tp_loop_add_callback_threadsafe(tp_loop *loop, tp_fn fn, void *arg)
{
    pthread_mutex_lock(&loop->remote_lock);
    tp__callback_push(&loop->remote, fn, arg);
    pthread_mutex_unlock(&loop->remote_lock);
    uint64_t one = 1;
    while (write(loop->wake_fd, &one, sizeof(one)) < 0 && errno == EINTR)
        ;
}

static void on_wake(tp_loop *loop, int fd, unsigned events, void *arg)
{
    (void)events, (void)arg;
    uint64_t v;
    while (read(fd, &v, sizeof(v)) < 0 && errno == EINTR)
        ;
    pthread_mutex_lock(&loop->remote_lock);
    for (size_t i = 0; i < loop->remote.n; i++)
        tp__callback_push(&loop->callbacks, loop->remote.v[i].fn, loop->remote.v[i].arg);
    loop->remote.n = 0;
    pthread_mutex_unlock(&loop->remote_lock);
}

double tp_loop_time(const tp_loop *loop)
{
    return loop->now;
}

void tp_loop_defer_call(tp_loop *loop, tp_fn fn, void *arg)
{
    tp__callback_push(&loop->deferred, fn, arg);
}

static void run_defer_hook(tp_loop *loop, void *arg)
{
    tp_defer *d = arg;
    d->queued = false;
    d->fn(loop, d->arg);
}

void tp_loop_defer(tp_loop *loop, tp_defer *d)
{
    if (d->queued)
        return;
    d->queued = true;
    tp_loop_defer_call(loop, run_defer_hook, d);
}

tp_fn tp_loop_set_prepare(tp_loop *loop, tp_fn fn, void *arg, void **prev_arg)
{
    tp_fn prev = loop->prepare;
    if (prev_arg)
        *prev_arg = loop->prepare_arg;
    loop->prepare = fn;
    loop->prepare_arg = arg;
    return prev;
}

/* Deferred work may queue more (a flush completes a write whose callback writes again); the
 * new entries run in the same pass so nothing waits for a poll that may never come. The
 * position lives in the loop, so a nested run (a deferred call that runs the loop) goes on
 * where the outer one stopped and never runs an entry twice. */
static void run_deferred(tp_loop *loop)
{
    while (loop->defer_pos < loop->deferred.n) {
        tp_callback cb = loop->deferred.v[loop->defer_pos++];
        cb.fn(loop, cb.arg);
    }
    loop->deferred.n = loop->defer_pos = 0;
}

/* Callbacks added while these run wait for the next iteration, as in Tornado. */
static void run_callbacks(tp_loop *loop)
{
    tp_callback_vec tmp = loop->running_callbacks;
    loop->running_callbacks = loop->callbacks;
    loop->callbacks = tmp;
    loop->callbacks.n = 0;
    for (size_t i = 0; i < loop->running_callbacks.n; i++)
        loop->running_callbacks.v[i].fn(loop, loop->running_callbacks.v[i].arg);
    loop->running_callbacks.n = 0;
}

static void dispatch(tp_loop *loop, tp_poll_event *ev, int n)
{
    for (int i = 0; i < n; i++) {
        int fd = ev[i].fd;
        if (fd >= loop->nfds_cap)
            continue;
        tp_fd_entry *e = &loop->fds[fd];
        /* An earlier handler in this batch may have removed or paused this fd. */
        unsigned fired =
            ev[i].events & ((loop->fd_masks[fd] & (TP_READ | TP_WRITE)) | TP_ERROR_EVENTS);
        if (e->fn && fired)
            e->fn(loop, fd, fired, e->arg);
    }
}

static int iterate(tp_loop *loop)
{
    tp_poll_event ev[MAX_EVENTS];
    loop->now = tp__monotonic();
    tp__timers_run(loop);
    run_callbacks(loop);
    run_deferred(loop);
    if (loop->prepare)
        loop->prepare(loop, loop->prepare_arg);
    /* Computed last: callbacks and deferred work may have armed timers. */
    int timeout = loop->callbacks.n || loop->stopping ? 0 : tp__timers_next_ms(loop);
    if (timeout < 0 || timeout > MAX_SLEEP_MS)
        timeout = MAX_SLEEP_MS;
    int n = tp_poller_wait(loop->poller, ev, MAX_EVENTS, timeout);
    if (n < 0)
        return n;
    loop->now = tp__monotonic();
    dispatch(loop, ev, n);
    run_deferred(loop);
    return 0;
}

int tp_loop_run(tp_loop *loop)
{
    tp_loop *prev = current_loop;
    current_loop = loop;
    loop->running++;
    int r = 0;
    while (!loop->stopping) {
        r = iterate(loop);
        if (r < 0) {
            tp_log_error("poller failed: %s", strerror(-r));
            break;
        }
    }
    loop->stopping = false;
    loop->running--;
    current_loop = prev;
    return r;
}

void tp_loop_stop(tp_loop *loop)
{
    loop->stopping = true;
}

struct run_sync {
    bool timed_out;
};

static void sync_timeout(tp_loop *loop, void *arg)
{
    ((struct run_sync *)arg)->timed_out = true;
    tp_loop_stop(loop);
}

int tp_loop_run_sync(tp_loop *loop, tp_fn start, void *arg, double timeout)
{
    struct run_sync rs = {false};
    tp_timer t;
    tp_timer_init(&t, sync_timeout, &rs);
    loop->now = tp__monotonic();
    if (timeout > 0)
        tp_timer_start_at(loop, &t, loop->now + timeout);
    tp_loop_add_callback(loop, start, arg);
    int r = tp_loop_run(loop);
    tp_timer_stop(loop, &t);
    return rs.timed_out ? -ETIMEDOUT : r;
}

size_t tp_loop_live_handles(const tp_loop *loop)
{
    return loop->nhandlers + loop->heap_n + loop->callbacks.n;
}
