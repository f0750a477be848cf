/* The IOLoop (core/loop.h): callbacks, timeouts, intrusive timers and their heap, the
 * cross-thread wake-up, signals, fd handlers, PeriodicCallback and run/stop. Every test uses
 * its own tp_loop_new() loop. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/loop.h"
#include "tests/unit/suites.h"

/* An event log: each event appends one character. */
static char trace[256];

static void mark(char c)
{
    size_t n = strlen(trace);
    ck_assert_uint_lt(n, sizeof(trace) - 1);
    trace[n] = c;
    trace[n + 1] = '\0';
}

static tp_loop *new_loop(void)
{
    trace[0] = '\0';
    tp_loop *loop = tp_loop_new();
    ck_assert_ptr_nonnull(loop);
    ck_assert_uint_eq(tp_loop_live_handles(loop), 0);
    return loop;
}

/* Callbacks whose argument is the character to log. */
static void mark_cb(tp_loop *loop, void *arg)
{
    (void)loop;
    mark(*(const char *)arg);
}

static void stop_cb(tp_loop *loop, void *arg)
{
    if (arg)
        mark(*(const char *)arg);
    tp_loop_stop(loop);
}

static void noop_cb(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
}

/* Calls setup directly (arming timers before the loop runs), then runs the loop until a
 * callback stops it. Timers armed from inside callbacks have tests of their own below. */
static int setup_and_run(tp_loop *loop, tp_fn setup, void *arg)
{
    setup(loop, arg);
    return tp_loop_run_sync(loop, noop_cb, NULL, 20);
}

/* ---- callbacks --------------------------------------------------------------------------- */

static tp_defer defer_x, defer_y;

static void cb_a(tp_loop *loop, void *arg)
{
    (void)arg;
    mark('A');
    tp_loop_add_callback(loop, stop_cb, "D"); /* waits for the next iteration */
    tp_loop_defer(loop, &defer_x);            /* runs before the loop sleeps, in this one */
    tp_loop_defer(loop, &defer_x);            /* queued once only */
}

static void callbacks_start(tp_loop *loop, void *arg)
{
    (void)arg;
    defer_x = (tp_defer){.fn = mark_cb, .arg = "X"};
    defer_y = (tp_defer){.fn = mark_cb, .arg = "Y"};
    tp_loop_defer(loop, &defer_y);
    tp_loop_add_callback(loop, cb_a, NULL);
    tp_loop_add_callback(loop, mark_cb, "B");
    tp_loop_add_callback(loop, mark_cb, "C");
    ck_assert_uint_eq(tp_loop_live_handles(loop), 3 + 1); /* and run_sync's timer */
    ck_assert_str_eq(trace, "");
}

START_TEST(callbacks_order)
{
    tp_loop *loop = new_loop();
    ck_assert_int_eq(tp_loop_run_sync(loop, callbacks_start, NULL, 20), 0);
    ck_assert_str_eq(trace, "YABCXD");
    ck_assert(!defer_x.queued);
    ck_assert_uint_eq(tp_loop_live_handles(loop), 0);
    tp_loop_free(loop);
}
END_TEST

/* ---- call_at / call_later ---------------------------------------------------------------- */

static void timeouts_start(tp_loop *loop, void *arg)
{
    (void)arg;
    double now = tp_loop_time(loop);
    tp_loop_call_at(loop, now + 0.03, stop_cb, "a");
    tp_loop_call_at(loop, now + 0.01, mark_cb, "b");
    tp_loop_call_at(loop, now + 0.01, mark_cb, "c");
    tp_loop_call_at(loop, now + 0.02, mark_cb, "d");
    tp_loop_call_later(loop, 0, mark_cb, "e");
    tp_loop_call_later(loop, 0.01, mark_cb, "f"); /* same deadline as b and c, added later */
    tp_loop_call_at(loop, now - 1, mark_cb, "g"); /* in the past: first */
}

START_TEST(call_later_order)
{
    tp_loop *loop = new_loop();
    double t0 = tp__monotonic();
    ck_assert_int_eq(setup_and_run(loop, timeouts_start, NULL), 0);
    ck_assert_str_eq(trace, "gebcfda");
    ck_assert_double_ge(tp__monotonic() - t0, 0.03);
    ck_assert_uint_eq(tp_loop_live_handles(loop), 0);
    tp_loop_free(loop);
}
END_TEST

static tp_timeout h_cancelled, h_fired, h_later;

static void fired_cb(tp_loop *loop, void *arg)
{
    (void)arg;
    mark('F');
    /* Removing the timeout that is running right now is harmless. */
    tp_loop_remove_timeout(loop, h_fired);
    /* A new timeout may reuse the slot: the stale handle must not cancel it. */
    h_later = tp_loop_call_later(loop, 0.01, stop_cb, "L");
    ck_assert(h_later != 0);
    ck_assert(h_later != h_fired);
    tp_loop_remove_timeout(loop, h_fired);
    tp_loop_remove_timeout(loop, h_cancelled);
}

static void remove_start(tp_loop *loop, void *arg)
{
    (void)arg;
    h_cancelled = tp_loop_call_later(loop, 0.005, mark_cb, "X");
    h_fired = tp_loop_call_later(loop, 0.01, fired_cb, NULL);
    ck_assert(h_cancelled != 0 && h_fired != 0 && h_cancelled != h_fired);
    tp_loop_remove_timeout(loop, h_cancelled);
    tp_loop_remove_timeout(loop, h_cancelled); /* twice: ignored */
    tp_loop_remove_timeout(loop, 0);
    tp_loop_remove_timeout(loop, 0xdeadbeef12345678ull);
}

START_TEST(remove_timeout)
{
    tp_loop *loop = new_loop();
    ck_assert_int_eq(setup_and_run(loop, remove_start, NULL), 0);
    ck_assert_str_eq(trace, "FL");
    /* After firing, removing is still harmless, from outside the loop too. */
    tp_loop_remove_timeout(loop, h_fired);
    tp_loop_remove_timeout(loop, h_later);
    ck_assert_uint_eq(tp_loop_live_handles(loop), 0);
    /* A stale handle does not cancel a new timeout in the same slot. */
    tp_timeout h = tp_loop_call_later(loop, 0.005, stop_cb, "N");
    tp_loop_remove_timeout(loop, h_later);
    tp_loop_remove_timeout(loop, h_fired);
    ck_assert_uint_eq(tp_loop_live_handles(loop), 1);
    ck_assert_int_eq(tp_loop_run(loop), 0);
    ck_assert_str_eq(trace, "FLN");
    tp_loop_remove_timeout(loop, h);
    ck_assert_uint_eq(tp_loop_live_handles(loop), 0);
    tp_loop_free(loop);
}
END_TEST

/* A loop with nothing else to wait for but run_sync's 20 s timeout: a timeout or timer armed
 * from a callback or a deferred hook must wake the loop at its own deadline (20 ms; 2 s allowed
 * for a loaded machine, far from the 20 s it would take otherwise). */
static double armed_at, fired_at;
static tp_timer armed_timer;
static tp_defer arm_defer;

static void record_fire(tp_loop *loop, void *arg)
{
    (void)arg;
    fired_at = tp__monotonic();
    tp_loop_stop(loop);
}

static void arm_call_later(tp_loop *loop, void *arg)
{
    (void)arg;
    armed_at = tp__monotonic();
    tp_loop_call_later(loop, 0.02, record_fire, NULL);
}

static void arm_timer(tp_loop *loop, void *arg)
{
    (void)arg;
    armed_at = tp__monotonic();
    tp_timer_init(&armed_timer, record_fire, NULL);
    tp_timer_start_at(loop, &armed_timer, tp_loop_time(loop) + 0.02);
}

static void arm_from_defer(tp_loop *loop, void *arg)
{
    (void)arg;
    arm_defer = (tp_defer){.fn = arm_call_later};
    tp_loop_defer(loop, &arm_defer);
}

static void check_armed_in(tp_fn start)
{
    tp_loop *loop = new_loop();
    armed_at = fired_at = 0;
    int r = tp_loop_run_sync(loop, start, NULL, 20);
    ck_assert_msg(r == 0 && fired_at > 0,
                  "a 20 ms timer armed from a callback did not fire before run_sync's 20 s timeout "
                  "(run_sync returned %d)",
                  r);
    ck_assert_double_ge(fired_at - armed_at, 0.015);
    ck_assert_msg(fired_at - armed_at < 2.0, "a 20 ms timer fired after %.3f s",
                  fired_at - armed_at);
    ck_assert_uint_eq(tp_loop_live_handles(loop), 0);
    tp_loop_free(loop);
}

START_TEST(timeout_armed_in_callback_fires_on_time)
{
    check_armed_in(arm_call_later);
}
END_TEST

START_TEST(timer_armed_in_callback_fires_on_time)
{
    check_armed_in(arm_timer);
}
END_TEST

START_TEST(timeout_armed_in_deferred_hook_fires_on_time)
{
    check_armed_in(arm_from_defer);
}
END_TEST

START_TEST(free_with_pending_timeouts)
{
    tp_loop *loop = new_loop();
    for (int i = 0; i < 10; i++)
        tp_loop_call_later(loop, 100, noop_cb, NULL);
    tp_loop_add_callback(loop, noop_cb, NULL);
    ck_assert_uint_eq(tp_loop_live_handles(loop), 11);
    tp_loop_free(loop); /* frees the pending timeouts (ASan/LSan would see a leak) */
}
END_TEST

/* ---- intrusive timers -------------------------------------------------------------------- */

typedef struct timer_ctx {
    tp_timer t;
    int fired;
    int rearm; /* times to re-arm from the callback */
    tp_timer *victim;
} timer_ctx;

static timer_ctx tc1, tc2, tc3, tc4;

/* The test ends once every timer that should fire has (whatever the machine's load: a fixed
 * stop time raced the re-armed timer's chain), and tc2's due time has passed. */
static void stop_when_all_fired(tp_loop *loop)
{
    if (tc1.fired == 1 && tc3.fired == 4 && tc4.fired == 1)
        tp_loop_stop(loop);
}

static void timer_cb(tp_loop *loop, void *arg)
{
    timer_ctx *c = arg;
    c->fired++;
    ck_assert(!tp_timer_armed(&c->t)); /* disarmed before its callback runs */
    tp_timer_stop(loop, &c->t);        /* stopping it from its own callback is harmless */
    if (c->victim)
        tp_timer_stop(loop, c->victim);
    if (c->rearm-- > 0)
        tp_timer_start_at(loop, &c->t, tp_loop_time(loop) + 0.002);
    stop_when_all_fired(loop);
}

static void timers_start(tp_loop *loop, void *arg)
{
    (void)arg;
    double now = tp_loop_time(loop);
    tp_timer_init(&tc1.t, timer_cb, &tc1);
    tp_timer_init(&tc2.t, timer_cb, &tc2);
    tp_timer_init(&tc3.t, timer_cb, &tc3);
    tp_timer_init(&tc4.t, timer_cb, &tc4);
    ck_assert(!tp_timer_armed(&tc1.t));
    tp_timer_stop(loop, &tc1.t); /* never armed: harmless */

    /* Re-arming an armed timer moves it: it fires once, at the new time. */
    tp_timer_start_at(loop, &tc1.t, now + 100);
    ck_assert(tp_timer_armed(&tc1.t));
    tp_timer_start_at(loop, &tc1.t, now + 0.01);
    ck_assert(tp_timer_armed(&tc1.t));

    /* Stopped before firing: never fires. */
    tp_timer_start_at(loop, &tc2.t, now + 0.005);
    tp_timer_stop(loop, &tc2.t);
    ck_assert(!tp_timer_armed(&tc2.t));

    /* Re-armed 3 times from its own callback: fires 4 times. */
    tc3.rearm = 3;
    tp_timer_start_at(loop, &tc3.t, now + 0.001);

    /* tc4 and tc2 are due in the same pass; tc4 (earlier) stops tc2 first. */
    tc4.victim = &tc2.t;
    tp_timer_start_at(loop, &tc4.t, now + 0.02);
    tp_timer_start_at(loop, &tc2.t, now + 0.02);
    ck_assert_uint_eq(tp_loop_live_handles(loop), 4);
}

START_TEST(timers_start_stop_rearm)
{
    tp_loop *loop = new_loop();
    memset(&tc1, 0, sizeof(tc1)), memset(&tc2, 0, sizeof(tc2));
    memset(&tc3, 0, sizeof(tc3)), memset(&tc4, 0, sizeof(tc4));
    ck_assert_int_eq(setup_and_run(loop, timers_start, NULL), 0);
    ck_assert_int_eq(tc1.fired, 1);
    ck_assert_int_eq(tc2.fired, 0);
    ck_assert_int_eq(tc3.fired, 4);
    ck_assert_int_eq(tc4.fired, 1);
    ck_assert(!tp_timer_armed(&tc1.t) && !tp_timer_armed(&tc2.t) && !tp_timer_armed(&tc3.t));
    ck_assert_uint_eq(tp_loop_live_handles(loop), 0);
    tp_loop_free(loop);
}
END_TEST

#define NSTRESS 1000

typedef struct stress_timer {
    tp_timer t;
    int fired;
} stress_timer;

static stress_timer stress[NSTRESS];
static double fired_when[NSTRESS];
static uint64_t fired_seq[NSTRESS];
static int nfired;

static void stress_cb(tp_loop *loop, void *arg)
{
    (void)loop;
    stress_timer *s = arg;
    s->fired++;
    ck_assert_int_lt(nfired, NSTRESS);
    fired_when[nfired] = s->t.when;
    fired_seq[nfired] = s->t.seq;
    nfired++;
}

static void stress_start(tp_loop *loop, void *arg)
{
    (void)arg;
    double now = tp_loop_time(loop);
    srand(4242);
    for (int i = 0; i < NSTRESS; i++) {
        tp_timer_init(&stress[i].t, stress_cb, &stress[i]);
        /* 60 distinct deadlines, a third of them already due: many ties. */
        tp_timer_start_at(loop, &stress[i].t, now + (double)(rand() % 60 - 20) * 0.001);
    }
    /* Re-arm some, then cancel exactly half (the odd ones), in random order. */
    for (int i = 0; i < 200; i++) {
        int k = rand() % NSTRESS;
        tp_timer_start_at(loop, &stress[k].t, now + (double)(rand() % 60 - 20) * 0.001);
    }
    int order[NSTRESS / 2];
    for (int i = 0; i < NSTRESS / 2; i++)
        order[i] = 2 * i + 1;
    for (int i = NSTRESS / 2 - 1; i > 0; i--) {
        int j = rand() % (i + 1), tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
    for (int i = 0; i < NSTRESS / 2; i++)
        tp_timer_stop(loop, &stress[order[i]].t);
    ck_assert_uint_eq(tp_loop_live_handles(loop), NSTRESS / 2);
    tp_loop_call_at(loop, now + 0.1, stop_cb, NULL);
}

START_TEST(timer_heap_stress)
{
    tp_loop *loop = new_loop();
    memset(stress, 0, sizeof(stress));
    nfired = 0;
    ck_assert_int_eq(setup_and_run(loop, stress_start, NULL), 0);
    ck_assert_int_eq(nfired, NSTRESS / 2);
    for (int i = 0; i < NSTRESS; i++)
        ck_assert_int_eq(stress[i].fired, i % 2 ? 0 : 1);
    for (int i = 1; i < nfired; i++)
        ck_assert_msg(fired_when[i - 1] < fired_when[i] ||
                          (fired_when[i - 1] == fired_when[i] && fired_seq[i - 1] < fired_seq[i]),
                      "timer %d fired out of order", i);
    ck_assert_uint_eq(tp_loop_live_handles(loop), 0);
    tp_loop_free(loop);
}
END_TEST

/* ---- cross-thread wake-up ---------------------------------------------------------------- */

static pthread_t loop_thread, waker;
static int remote_ran;

static void remote_cb(tp_loop *loop, void *arg)
{
    ck_assert(pthread_equal(pthread_self(), loop_thread));
    ck_assert_ptr_eq(arg, &remote_ran);
    remote_ran++;
    tp_loop_stop(loop);
}

static void *waker_main(void *arg)
{
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    tp_loop_add_callback_threadsafe(arg, remote_cb, &remote_ran);
    return NULL;
}

static void threadsafe_start(tp_loop *loop, void *arg)
{
    (void)arg;
    ck_assert_int_eq(pthread_create(&waker, NULL, waker_main, loop), 0);
}

START_TEST(threadsafe_wakes_poll)
{
    tp_loop *loop = new_loop();
    loop_thread = pthread_self();
    remote_ran = 0;
    double t0 = tp__monotonic();
    /* Nothing else to do: the loop sleeps in poll until the other thread wakes it (50 ms; 5 s
     * allowed for a loaded machine, far from run_sync's 20 s timeout). */
    ck_assert_int_eq(tp_loop_run_sync(loop, threadsafe_start, NULL, 20), 0);
    double dt = tp__monotonic() - t0;
    ck_assert_int_eq(pthread_join(waker, NULL), 0);
    ck_assert_int_eq(remote_ran, 1);
    ck_assert_double_ge(dt, 0.045);
    ck_assert_double_lt(dt, 5.0);
    ck_assert_uint_eq(tp_loop_live_handles(loop), 0);
    tp_loop_free(loop);
}
END_TEST

/* ---- signals ----------------------------------------------------------------------------- */

static int signals_seen, last_signo;

static void on_signal(tp_loop *loop, int signo, void *arg)
{
    ck_assert_ptr_eq(arg, &signals_seen);
    signals_seen++;
    last_signo = signo;
    tp_loop_stop(loop);
}

static void raise_start(tp_loop *loop, void *arg)
{
    (void)loop;
    int before = signals_seen;
    ck_assert_int_eq(raise(*(int *)arg), 0);
    ck_assert_int_eq(signals_seen, before); /* delivered later, from the loop */
}

START_TEST(signal_delivered_as_callback)
{
    tp_loop *loop = new_loop();
    signals_seen = last_signo = 0;
    ck_assert_int_eq(tp_loop_add_signal(loop, 0, on_signal, NULL), -EINVAL);
    ck_assert_int_eq(tp_loop_add_signal(loop, 65, on_signal, NULL), -EINVAL);
    ck_assert_int_eq(tp_loop_add_signal(loop, SIGUSR1, on_signal, &signals_seen), 0);
    ck_assert_uint_eq(tp_loop_live_handles(loop), 0); /* the signalfd is not a user handle */
    int usr1 = SIGUSR1, usr2 = SIGUSR2;
    ck_assert_int_eq(tp_loop_run_sync(loop, raise_start, &usr1, 20), 0);
    ck_assert_int_eq(signals_seen, 1);
    ck_assert_int_eq(last_signo, SIGUSR1);
    /* A second signal joins the set; both keep working. */
    ck_assert_int_eq(tp_loop_add_signal(loop, SIGUSR2, on_signal, &signals_seen), 0);
    ck_assert_int_eq(tp_loop_run_sync(loop, raise_start, &usr2, 20), 0);
    ck_assert_int_eq(signals_seen, 2);
    ck_assert_int_eq(last_signo, SIGUSR2);
    ck_assert_int_eq(tp_loop_run_sync(loop, raise_start, &usr1, 20), 0);
    ck_assert_int_eq(signals_seen, 3);
    ck_assert_int_eq(last_signo, SIGUSR1);
    tp_loop_remove_signal(loop, SIGUSR1);
    tp_loop_remove_signal(loop, SIGUSR2);
    tp_loop_remove_signal(loop, SIGUSR2); /* twice: harmless */
    ck_assert_uint_eq(tp_loop_live_handles(loop), 0);
    tp_loop_free(loop);
}
END_TEST

/* ---- fd handlers ------------------------------------------------------------------------- */

static int pipe_fds[2];
static int fd_calls;
static unsigned fd_events;

static void check_paused(tp_loop *loop, void *arg);

static void on_pipe(tp_loop *loop, int fd, unsigned events, void *arg)
{
    ck_assert_ptr_eq(arg, &fd_calls);
    ck_assert_int_eq(fd, pipe_fds[0]);
    fd_calls++;
    fd_events = events;
    ck_assert(events & TP_READ);
    char c;
    ck_assert_int_eq(read(fd, &c, 1), 1);
    if (fd_calls == 1) {
        ck_assert_int_eq(c, 'x');
        /* Pause: more data arrives but the handler must not run. */
        ck_assert_int_eq(tp_loop_update_fd(loop, fd, 0), 0);
        ck_assert_int_eq(write(pipe_fds[1], "y", 1), 1);
        tp_loop_call_later(loop, 0.05, check_paused, NULL);
    } else {
        ck_assert_int_eq(fd_calls, 2);
        ck_assert_int_eq(c, 'y');
        tp_loop_remove_fd(loop, fd);
        tp_loop_remove_fd(loop, fd); /* twice: harmless */
        ck_assert_int_eq(tp_loop_update_fd(loop, fd, TP_READ), -ENOENT);
        ck_assert_int_eq(write(pipe_fds[1], "z", 1), 1);
        tp_loop_call_later(loop, 0.05, stop_cb, NULL);
    }
}

static void check_paused(tp_loop *loop, void *arg)
{
    (void)arg;
    ck_assert_int_eq(fd_calls, 1);
    ck_assert_int_eq(tp_loop_update_fd(loop, pipe_fds[0], TP_READ), 0); /* resume */
}

static void pipe_start(tp_loop *loop, void *arg)
{
    (void)arg;
    ck_assert_int_eq(tp_loop_add_fd(loop, pipe_fds[0], TP_READ, on_pipe, &fd_calls), 0);
    ck_assert_int_eq(tp_loop_add_fd(loop, pipe_fds[0], TP_READ, on_pipe, &fd_calls), -EEXIST);
    ck_assert_int_eq(tp_loop_add_fd(loop, -1, TP_READ, on_pipe, NULL), -EBADF);
    ck_assert_int_eq(tp_loop_update_fd(loop, pipe_fds[1], TP_WRITE), -ENOENT);
    ck_assert_int_eq(tp_loop_update_fd(loop, 100000, TP_WRITE), -ENOENT);
    ck_assert_int_eq(write(pipe_fds[1], "x", 1), 1);
}

START_TEST(fd_handlers_pipe)
{
    tp_loop *loop = new_loop();
    ck_assert_int_eq(pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC), 0);
    fd_calls = 0;
    ck_assert_int_eq(tp_loop_run_sync(loop, pipe_start, NULL, 20), 0);
    ck_assert_int_eq(fd_calls, 2);
    char c;
    ck_assert_int_eq(read(pipe_fds[0], &c, 1), 1); /* "z" was never taken by a handler */
    ck_assert_int_eq(c, 'z');
    ck_assert_uint_eq(tp_loop_live_handles(loop), 0);
    tp_loop_free(loop);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}
END_TEST

static int write_calls, hup_calls;

static void on_writable(tp_loop *loop, int fd, unsigned events, void *arg)
{
    (void)arg;
    ck_assert(events & TP_WRITE);
    ck_assert(!(events & TP_READ));
    write_calls++;
    tp_loop_remove_fd(loop, fd);
}

static void on_hup(tp_loop *loop, int fd, unsigned events, void *arg)
{
    (void)arg;
    ck_assert(events & (TP_READ | TP_ERROR_EVENTS));
    char c;
    ck_assert_int_eq(read(fd, &c, 1), 0); /* EOF */
    hup_calls++;
    tp_loop_remove_fd(loop, fd);
    tp_loop_stop(loop);
}

static void close_writer(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    close(pipe_fds[1]);
    pipe_fds[1] = -1;
}

static void write_hup_start(tp_loop *loop, void *arg)
{
    (void)arg;
    ck_assert_int_eq(tp_loop_add_fd(loop, pipe_fds[1], TP_WRITE, on_writable, NULL), 0);
    ck_assert_int_eq(tp_loop_add_fd(loop, pipe_fds[0], TP_READ, on_hup, NULL), 0);
    tp_loop_call_later(loop, 0.01, close_writer, NULL);
}

START_TEST(fd_handlers_write_and_hangup)
{
    tp_loop *loop = new_loop();
    ck_assert_int_eq(pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC), 0);
    write_calls = hup_calls = 0;
    ck_assert_int_eq(tp_loop_run_sync(loop, write_hup_start, NULL, 20), 0);
    ck_assert_int_eq(write_calls, 1);
    ck_assert_int_eq(hup_calls, 1);
    ck_assert_uint_eq(tp_loop_live_handles(loop), 0);
    tp_loop_free(loop);
    close(pipe_fds[0]);
}
END_TEST

/* A paused fd (events 0) that is added, then resumed. */
static void paused_start(tp_loop *loop, void *arg)
{
    (void)arg;
    ck_assert_int_eq(tp_loop_add_fd(loop, pipe_fds[0], 0, on_hup, NULL), 0);
    ck_assert_uint_eq(tp_loop_live_handles(loop), 1 + 1);
    ck_assert_int_eq(tp_loop_add_fd(loop, pipe_fds[0], TP_READ, on_hup, NULL), -EEXIST);
    close(pipe_fds[1]);
    ck_assert_int_eq(tp_loop_update_fd(loop, pipe_fds[0], TP_READ), 0);
}

START_TEST(fd_added_paused)
{
    tp_loop *loop = new_loop();
    ck_assert_int_eq(pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC), 0);
    hup_calls = 0;
    ck_assert_int_eq(tp_loop_run_sync(loop, paused_start, NULL, 20), 0);
    ck_assert_int_eq(hup_calls, 1);
    ck_assert_uint_eq(tp_loop_live_handles(loop), 0);
    tp_loop_free(loop);
    close(pipe_fds[0]);
}
END_TEST

/* ---- PeriodicCallback -------------------------------------------------------------------- */

static tp_periodic *per;
static double per_start, per_calls_at[16];
static int per_calls;
static double per_overrun_end;

static void periodic_cb(tp_loop *loop, void *arg)
{
    (void)arg;
    ck_assert_int_lt(per_calls, 16);
    per_calls_at[per_calls++] = tp_loop_time(loop);
    if (per_calls == 3) {
        tp_periodic_stop(per); /* from its own callback */
        ck_assert(!tp_periodic_is_running(per));
        tp_loop_call_later(loop, 0.15, stop_cb, NULL);
    }
}

static void periodic_start(tp_loop *loop, void *arg)
{
    (void)arg;
    per = tp_periodic_new(loop, 0.03, 0, periodic_cb, NULL);
    ck_assert_ptr_nonnull(per);
    ck_assert(!tp_periodic_is_running(per));
    ck_assert_uint_eq(tp_loop_live_handles(loop), 0);
    per_start = tp_loop_time(loop);
    tp_periodic_start(per);
    ck_assert(tp_periodic_is_running(per));
}

START_TEST(periodic_basic)
{
    tp_loop *loop = new_loop();
    per_calls = 0;
    ck_assert_ptr_null(tp_periodic_new(loop, 0, 0, periodic_cb, NULL));
    ck_assert_ptr_null(tp_periodic_new(loop, -1, 0, periodic_cb, NULL));
    ck_assert_int_eq(setup_and_run(loop, periodic_start, NULL), 0);
    ck_assert_int_eq(per_calls, 3); /* nothing after the stop */
    /* The first call one period after the start (not at once; a loaded machine may run it late,
     * up to 10 periods), then on the grid. */
    ck_assert_double_ge(per_calls_at[0], per_start + 0.03);
    ck_assert_double_lt(per_calls_at[0], per_start + 0.03 + 0.3);
    ck_assert_double_ge(per_calls_at[1], per_start + 0.06);
    ck_assert_double_ge(per_calls_at[2], per_start + 0.09);
    tp_periodic_free(per);
    ck_assert_uint_eq(tp_loop_live_handles(loop), 0);
    tp_loop_free(loop);
}
END_TEST

#define PERIOD 0.05

static void overrun_cb(tp_loop *loop, void *arg)
{
    (void)arg;
    ck_assert_int_lt(per_calls, 16);
    per_calls_at[per_calls++] = tp__monotonic();
    if (per_calls == 1) {
        /* Overrun: busy for 2.6 periods, so two ticks are missed. */
        double until = tp__monotonic() + 2.6 * PERIOD;
        while (tp__monotonic() < until)
            ;
        per_overrun_end = tp__monotonic();
    } else {
        tp_periodic_stop(per);
        tp_loop_stop(loop);
    }
}

static void overrun_start(tp_loop *loop, void *arg)
{
    (void)arg;
    per = tp_periodic_new(loop, PERIOD, 0, overrun_cb, NULL);
    per_start = tp_loop_time(loop);
    tp_periodic_start(per);
}

START_TEST(periodic_skips_missed_ticks)
{
    tp_loop *loop = new_loop();
    per_calls = 0;
    ck_assert_int_eq(setup_and_run(loop, overrun_start, NULL), 0);
    ck_assert_int_eq(per_calls, 2);
    /* The ticks missed while the first call ran are skipped: the second call comes at the
     * next point of the grid start + k * period after the overrun ended, not at once. */
    double k = (double)(long)((per_overrun_end - per_start) / PERIOD) + 1;
    double next = per_start + k * PERIOD;
    ck_assert_msg(per_calls_at[1] >= next - 0.002,
                  "second call %.3f s after the start, %.3f s after the overrun ended; the next "
                  "tick on the grid was at %.3f s",
                  per_calls_at[1] - per_start, per_calls_at[1] - per_overrun_end, next - per_start);
    tp_periodic_free(per);
    ck_assert_uint_eq(tp_loop_live_handles(loop), 0);
    tp_loop_free(loop);
}
END_TEST

START_TEST(periodic_free_while_running)
{
    tp_loop *loop = new_loop();
    tp_periodic *p = tp_periodic_new(loop, 10, 0.5, noop_cb, NULL);
    tp_periodic_start(p);
    ck_assert_uint_eq(tp_loop_live_handles(loop), 1);
    tp_periodic_free(p);
    ck_assert_uint_eq(tp_loop_live_handles(loop), 0);
    tp_periodic_free(NULL);
    tp_loop_free(loop);
}
END_TEST

/* ---- run / stop -------------------------------------------------------------------------- */

START_TEST(run_sync_timeout)
{
    tp_loop *loop = new_loop();
    double t0 = tp__monotonic();
    ck_assert_int_eq(tp_loop_run_sync(loop, noop_cb, NULL, 0.05), -ETIMEDOUT);
    double dt = tp__monotonic() - t0;
    ck_assert_double_ge(dt, 0.05);
    ck_assert_double_lt(dt, 1.0);
    ck_assert_uint_eq(tp_loop_live_handles(loop), 0);
    /* The loop is usable again afterwards. */
    ck_assert_int_eq(tp_loop_run_sync(loop, stop_cb, "s", 20), 0);
    ck_assert_str_eq(trace, "s");
    ck_assert_uint_eq(tp_loop_live_handles(loop), 0);
    tp_loop_free(loop);
}
END_TEST

START_TEST(stop_before_run)
{
    tp_loop *loop = new_loop();
    tp_timeout h = tp_loop_call_later(loop, 5, stop_cb, "T");
    tp_loop_stop(loop);
    double t0 = tp__monotonic();
    ck_assert_int_eq(tp_loop_run(loop), 0);
    ck_assert_double_lt(tp__monotonic() - t0, 1.0);
    ck_assert_str_eq(trace, "");
    /* The stop was used up: the next run runs until stopped again. */
    tp_loop_remove_timeout(loop, h);
    ck_assert_int_eq(tp_loop_run_sync(loop, stop_cb, "r", 20), 0);
    ck_assert_str_eq(trace, "r");
    ck_assert_uint_eq(tp_loop_live_handles(loop), 0);
    tp_loop_free(loop);
}
END_TEST

static tp_loop *running_seen;

static void running_cb(tp_loop *loop, void *arg)
{
    (void)arg;
    running_seen = tp_loop_running();
    ck_assert_double_le(tp_loop_time(loop), tp__monotonic());
    tp_loop_stop(loop);
}

START_TEST(running_and_time)
{
    tp_loop *loop = new_loop();
    ck_assert_ptr_null(tp_loop_running());
    running_seen = NULL;
    ck_assert_int_eq(tp_loop_run_sync(loop, running_cb, NULL, 20), 0);
    ck_assert_ptr_eq(running_seen, loop);
    ck_assert_ptr_null(tp_loop_running());
    tp_loop_free(loop);
}
END_TEST

Suite *loop_suite(void)
{
    Suite *s = suite_create("loop");
    TCase *tc = tcase_create("callbacks");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, callbacks_order);
    tcase_add_test(tc, threadsafe_wakes_poll);
    tcase_add_test(tc, signal_delivered_as_callback);
    suite_add_tcase(s, tc);

    tc = tcase_create("timers");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, call_later_order);
    tcase_add_test(tc, timeout_armed_in_callback_fires_on_time);
    tcase_add_test(tc, timer_armed_in_callback_fires_on_time);
    tcase_add_test(tc, timeout_armed_in_deferred_hook_fires_on_time);
    tcase_add_test(tc, remove_timeout);
    tcase_add_test(tc, free_with_pending_timeouts);
    tcase_add_test(tc, timers_start_stop_rearm);
    tcase_add_test(tc, timer_heap_stress);
    suite_add_tcase(s, tc);

    tc = tcase_create("fds");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, fd_handlers_pipe);
    tcase_add_test(tc, fd_handlers_write_and_hangup);
    tcase_add_test(tc, fd_added_paused);
    suite_add_tcase(s, tc);

    tc = tcase_create("periodic");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, periodic_basic);
    tcase_add_test(tc, periodic_skips_missed_ticks);
    tcase_add_test(tc, periodic_free_while_running);
    suite_add_tcase(s, tc);

    tc = tcase_create("run");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, run_sync_timeout);
    tcase_add_test(tc, stop_before_run);
    tcase_add_test(tc, running_and_time);
    suite_add_tcase(s, tc);
    return s;
}
