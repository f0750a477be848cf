/* The IOLoop: fd handlers, a min-heap of timers, callbacks, signals (signalfd), a cross-thread
 * wake-up (eventfd) and deferred work run before the loop sleeps. One loop per thread; a
 * worker process has exactly one. Every function but tp_loop_add_callback_threadsafe must be
 * called from the loop's own thread. */
#ifndef TP_CORE_LOOP_H
#define TP_CORE_LOOP_H

#include "platform/api.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform/poller.h"

enum {
    TP_READ = TP_POLL_READ,
    TP_WRITE = TP_POLL_WRITE,
    TP_ERROR_EVENTS = TP_POLL_ERROR,
};

typedef struct tp_loop tp_loop;
typedef void (*tp_fn)(tp_loop *loop, void *arg);
typedef void (*tp_fd_fn)(tp_loop *loop, int fd, unsigned events, void *arg);
typedef void (*tp_signal_fn)(tp_loop *loop, int signo, void *arg);

/* A timer the caller owns (embedded in its own struct): no allocation, safe to stop at any
 * time, including from its own callback or after it fired. */
typedef struct tp_timer {
    double when;
    uint64_t seq;
    size_t slot; /* heap index + 1; 0 when not armed */
    tp_fn fn;
    void *arg;
} tp_timer;

/* Work queued to run once before the loop next sleeps (flushes, deferred frees). Embedded in
 * the owner; queuing an already queued hook does nothing. The owner must outlive the run. */
typedef struct tp_defer {
    tp_fn fn;
    void *arg;
    bool queued;
} tp_defer;

/* Handle of a tp_loop_call_at/call_later timeout; 0 is never a valid handle. */
typedef uint64_t tp_timeout;

/* A new loop, or NULL with errno set (no fds left). Free with tp_loop_free. */
TP_API tp_loop *tp_loop_new(void);
/* Frees the loop. Handlers still registered are dropped, their fds are not closed. */
TP_API void tp_loop_free(tp_loop *loop);
/* This thread's loop, created on first use; tp_loop_set_current replaces it (NULL clears). */
TP_API tp_loop *tp_loop_current(void);
TP_API void tp_loop_set_current(tp_loop *loop);
/* This thread's loop if it is inside tp_loop_run, else NULL (creates nothing). */
TP_API tp_loop *tp_loop_running(void);

/* Calls fn(loop, fd, events, arg) while fd is ready for `events` (TP_READ|TP_WRITE); errors
 * and hang-ups are always reported. Level-triggered. Returns 0, -EEXIST if fd already has a
 * handler, or -errno from the poller. */
TP_API int tp_loop_add_fd(tp_loop *loop, int fd, unsigned events, tp_fd_fn fn, void *arg);
/* Changes the events watched on fd; 0 pauses it without forgetting the handler. */
TP_API int tp_loop_update_fd(tp_loop *loop, int fd, unsigned events);
/* Forgets fd's handler (no error if it has none). Does not close fd. */
TP_API void tp_loop_remove_fd(tp_loop *loop, int fd);

/* Runs fn(loop, arg) on the next iteration; callbacks added while callbacks run wait for the
 * iteration after. */
TP_API void tp_loop_add_callback(tp_loop *loop, tp_fn fn, void *arg);
/* The only thread-safe call: queues fn and wakes the loop through its eventfd. */
TP_API void tp_loop_add_callback_threadsafe(tp_loop *loop, tp_fn fn, void *arg);

/* Monotonic seconds now (not cached): for measuring durations. */
double tp__monotonic(void);
/* The loop's clock: monotonic seconds, cached once per iteration (as Tornado's IOLoop.time()). */
TP_API double tp_loop_time(const tp_loop *loop);
/* Arms t to fire at `when` (loop time); re-arms if it was armed. */
TP_API void tp_timer_start_at(tp_loop *loop, tp_timer *t, double when);
/* Disarms t; harmless if it is not armed. */
TP_API void tp_timer_stop(tp_loop *loop, tp_timer *t);
static inline void tp_timer_init(tp_timer *t, tp_fn fn, void *arg)
{
    *t = (tp_timer){.fn = fn, .arg = arg};
}
static inline bool tp_timer_armed(const tp_timer *t)
{
    return t->slot != 0;
}

/* Runs fn(loop, arg) once at loop time `when` / after `delay` seconds. The handle stays safe
 * to pass to tp_loop_remove_timeout after the timeout fired. */
TP_API tp_timeout tp_loop_call_at(tp_loop *loop, double when, tp_fn fn, void *arg);
TP_API tp_timeout tp_loop_call_later(tp_loop *loop, double delay, tp_fn fn, void *arg);
/* Cancels a pending timeout; unknown or already fired handles are ignored. */
TP_API void tp_loop_remove_timeout(tp_loop *loop, tp_timeout h);

/* Queues d to run before the loop next sleeps (once, however often it is queued). */
TP_API void tp_loop_defer(tp_loop *loop, tp_defer *d);
/* Runs fn(loop, arg) before the loop next sleeps, after this iteration's events, in the order
 * queued (work queued meanwhile runs in the same pass). Every call queues one run: an
 * owner that must run once keeps a flag of its own, and stays alive until the run. */
TP_API void tp_loop_defer_call(tp_loop *loop, tp_fn fn, void *arg);
/* Calls fn(loop, arg) on every iteration just before the loop polls (after timers, callbacks
 * and deferred work), as libuv's prepare handle: for watchers of a condition (the testing
 * helpers). One per loop; fn NULL clears it. Returns the previous fn (arg in *prev_arg). */
TP_API tp_fn tp_loop_set_prepare(tp_loop *loop, tp_fn fn, void *arg, void **prev_arg);

/* Calls fn(loop, signo, arg) from the loop whenever signo arrives. The signal is blocked in
 * the calling thread and read from a signalfd. One handler per signal; 0 or -errno. */
TP_API int tp_loop_add_signal(tp_loop *loop, int signo, tp_signal_fn fn, void *arg);
/* Stops handling signo and unblocks it. */
TP_API void tp_loop_remove_signal(tp_loop *loop, int signo);

/* Runs until tp_loop_stop. Returns 0, or -errno if the poller fails. */
TP_API int tp_loop_run(tp_loop *loop);
/* Makes tp_loop_run return after the current iteration; a stop before run makes the next run
 * return at once, as in Tornado. */
TP_API void tp_loop_stop(tp_loop *loop);
/* For tests and scripts: queues start(loop, arg), runs the loop until something calls
 * tp_loop_stop, and returns 0, or -ETIMEDOUT if `timeout` seconds (> 0) passed first. */
TP_API int tp_loop_run_sync(tp_loop *loop, tp_fn start, void *arg, double timeout);

/* Number of fd handlers, armed timers and queued callbacks: 0 when the loop is idle. */
TP_API size_t tp_loop_live_handles(const tp_loop *loop);

/* PeriodicCallback: fn runs every `period` seconds, start to start; overrun ticks are skipped
 * to stay on the grid; jitter j scales each period by 1 + j*(rand-0.5). */
typedef struct tp_periodic tp_periodic;
/* A stopped periodic callback, or NULL if period <= 0. Free with tp_periodic_free. */
TP_API tp_periodic *tp_periodic_new(tp_loop *loop, double period, double jitter, tp_fn fn,
                                    void *arg);
/* The first call comes one period after start. */
TP_API void tp_periodic_start(tp_periodic *p);
TP_API void tp_periodic_stop(tp_periodic *p);
TP_API bool tp_periodic_is_running(const tp_periodic *p);
TP_API void tp_periodic_free(tp_periodic *p);

#endif
