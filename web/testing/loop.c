/* The testing helpers' loop side: the per-test loop, the timeout, an unused port and
 * run_until. */
#include "web/testing/testing.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/log.h"
#include "platform/socket.h"

/* The loop of the running test (tp_test_setup .. tp_test_teardown). A libcheck fixture has
 * no argument to carry it, so it lives here, one per thread as the current loop does. */
static __thread tp_loop *test_loop;

double tp_test_async_timeout(void)
{
    const char *env = getenv("ASYNC_TEST_TIMEOUT");
    if (env && *env) {
        char *end;
        double v = strtod(env, &end);
        if (*end == '\0')
            return v;
    }
    return 5;
}

void tp_test_setup(void)
{
    test_loop = tp_loop_new();
    if (!test_loop) {
        perror("tp_test_setup: tp_loop_new");
        abort();
    }
    tp_loop_set_current(test_loop);
}

static void stop_loop(tp_loop *loop, void *arg)
{
    (void)arg;
    tp_loop_stop(loop);
}

static void nothing(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
}

void tp_test_teardown(void)
{
    if (!test_loop)
        return;
    /* What is queued now runs first (done callbacks of finished or cancelled futures free
     * what they hold), so a sanitizer build sees every object of the test freed. */
    tp_loop_add_callback(test_loop, stop_loop, NULL);
    tp_loop_run_sync(test_loop, nothing, NULL, tp_test_async_timeout());
    tp_log_flush();
    tp_loop_set_current(NULL);
    tp_loop_free(test_loop);
    test_loop = NULL;
}

tp_loop *tp_test_loop(void)
{
    return test_loop;
}

int tp_test_bind_unused_port(int *port)
{
    int fds[1];
    int n = tp_bind_sockets("127.0.0.1", 0, 128, false, fds, 1);
    if (n < 0)
        return n;
    int p = tp_socket_port(fds[0]);
    if (p < 0) {
        close(fds[0]);
        return p;
    }
    *port = p;
    return fds[0];
}

/* run_until's state, on its stack. */
typedef struct run_until {
    bool (*cond)(void *arg);
    void *arg;
    bool timed_out;
    tp_fn prev; /* the prepare hook of an outer run_until, called too */
    void *prev_arg;
} run_until;

static void check_cond(tp_loop *loop, void *arg)
{
    run_until *ru = arg;
    if (ru->prev)
        ru->prev(loop, ru->prev_arg);
    if (ru->cond(ru->arg))
        tp_loop_stop(loop);
}

static void on_timeout(tp_loop *loop, void *arg)
{
    ((run_until *)arg)->timed_out = true;
    tp_loop_stop(loop);
}

int tp_test_run_until(tp_loop *loop, bool (*cond)(void *arg), void *arg, double timeout)
{
    if (cond(arg))
        return 0;
    run_until ru = {.cond = cond, .arg = arg};
    ru.prev = tp_loop_set_prepare(loop, check_cond, &ru, &ru.prev_arg);
    tp_timer t;
    tp_timer_init(&t, on_timeout, &ru);
    tp_timer_start_at(loop, &t,
                      tp__monotonic() + (timeout > 0 ? timeout : tp_test_async_timeout()));
    int r = tp_loop_run(loop);
    tp_timer_stop(loop, &t);
    tp_loop_set_prepare(loop, ru.prev, ru.prev_arg, NULL);
    if (r < 0)
        return r;
    return ru.timed_out && !cond(arg) ? -ETIMEDOUT : 0;
}
