/* The app the prefork tests reload: built as app_v1.so and app_v2.so (APP_VERSION), and as
 * broken variants (BROKEN=...) that must fail to boot. PREFORK_APP_INIT_MS=N in the
 * environment makes a good app's init take N ms: a reload then lasts at least that long, so a
 * test can send signals during one however slow the machine. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tp.h"

#ifndef APP_VERSION
#define APP_VERSION "v1"
#endif

static int version_get(tp_handler *h)
{
    return tp_write_str(h, APP_VERSION), TP_OK;
}

static int pid_get(tp_handler *h)
{
    return tp_writef(h, "%d", (int)getpid()), TP_OK;
}

static int crash_get(tp_handler *h)
{
    (void)h;
    raise(SIGSEGV);
    return TP_OK;
}

static int spin_get(tp_handler *h)
{
    (void)h;
    for (volatile unsigned long i = 0;; i++)
        ;
    return TP_OK;
}

static void sleep_done(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_write_str(arg, "slept");
    tp_finish(arg);
}

/* /ip: the client's address and protocol as the app sees them, and the worker's pid (the
 * PROXY protocol tests behind haproxy). */
static int ip_get(tp_handler *h)
{
    tp_request *r = tp_handler_request(h);
    return tp_writef(h, "%.*s %.*s %d", TP_SLICE_FMT(r->remote_ip), TP_SLICE_FMT(r->protocol),
                     (int)getpid()),
           TP_OK;
}

/* /sleep?s=N: answers after N seconds without blocking the worker. */
static int sleep_get(tp_handler *h)
{
    tp_loop_call_later(tp_loop_current(), atof(tp_get_argument(h, "s", "1")), sleep_done, h);
    return TP_AGAIN;
}

__attribute__((unused)) static const tp_handler_class version_h = {.name = "Version",
                                                                   .get = version_get};
__attribute__((unused)) static const tp_handler_class pid_h = {.name = "Pid", .get = pid_get};
__attribute__((unused)) static const tp_handler_class crash_h = {.name = "Crash", .get = crash_get};
__attribute__((unused)) static const tp_handler_class spin_h = {.name = "Spin", .get = spin_get};
__attribute__((unused)) static const tp_handler_class ip_h = {.name = "Ip", .get = ip_get};
__attribute__((unused)) static const tp_handler_class sleep_h = {.name = "Sleep", .get = sleep_get};

static int app_init(tp_app *app)
{
#if defined(BROKEN_INIT_FAILS)
    (void)app;
    return -1;
#elif defined(BROKEN_INIT_CRASHES)
    (void)app;
    raise(SIGSEGV);
    return 0;
#elif defined(BROKEN_INIT_HANGS)
    (void)app;
    for (;;)
        pause();
    return 0;
#else
    const char *ms = getenv("PREFORK_APP_INIT_MS");
    long n = ms ? atol(ms) : 0;
    if (n > 0) {
        struct timespec ts = {n / 1000, (n % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
    tp_app_route(app, "/", &version_h, NULL);
    tp_app_route(app, "/pid", &pid_h, NULL);
    tp_app_route(app, "/crash", &crash_h, NULL);
    tp_app_route(app, "/spin", &spin_h, NULL);
    tp_app_route(app, "/sleep", &sleep_h, NULL);
    tp_app_route(app, "/ip", &ip_h, NULL);
    return 0;
#endif
}

#if defined(BROKEN_NO_SYMBOL)
/* No TP_APP: the entry symbol is missing. */
int prefork_app_unused(tp_app *app);
int prefork_app_unused(tp_app *app)
{
    return app_init(app);
}
#elif defined(BROKEN_ABI)
__attribute__((visibility("default"))) const tp_app_entry TP_APP_SYMBOL = {TP_ABI_VERSION + 100,
                                                                           sizeof(tp_app_entry),
                                                                           sizeof(tp_handler_class),
                                                                           0,
                                                                           "broken-abi",
                                                                           app_init,
                                                                           NULL};
#else
TP_APP("prefork-test-" APP_VERSION, app_init, NULL);
#endif
