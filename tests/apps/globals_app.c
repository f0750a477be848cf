/* An app.so whose globals have the names of the server's own state: M (the master), W (the
 * worker), L (the logger), A (autoreload), and loop. It is built like a user's app, without
 * -fvisibility=hidden: these are default-visibility definitions, which the dynamic linker binds
 * to a symbol of the same name in the server's global scope when there is one (until issue 10
 * tornado-prefork exported the master's state as M, and this app's M was the master's).
 * Built with -DWITH_LOG_GLOBAL (globals_log_app.so) it also defines log, which libm (in the
 * server's global scope, like libc) defines as a function: linked with -Bsymbolic, as the
 * Makefile links every app, the app's references still bind to its own log.
 *
 * GET / answers what init read (the initial values below, unless a name was bound elsewhere)
 * and what the globals hold now (init adds one to each); GET /pid answers the worker's pid. */
#include <stdio.h>
#include <unistd.h>

#include "tp.h"

int M = 1001;
struct {
    int n;
    char tag[8];
} W = {2002, "app-W"};
long L = 3003;
double A = 4004.0;
const char *loop = "app-loop";
#ifdef WITH_LOG_GLOBAL
/* A variable, where the compiler knows log() as a built-in function. */
#pragma GCC diagnostic ignored "-Wbuiltin-declaration-mismatch"
int log = 5005;
#endif

static char seen_at_init[160];

static void describe(char *out, size_t n)
{
    int len = snprintf(out, n, "M=%d W=%d:%.7s L=%ld A=%.0f loop=%s", M, W.n, W.tag, L, A, loop);
#ifdef WITH_LOG_GLOBAL
    snprintf(out + len, n - (size_t)len, " log=%d", log);
#else
    (void)len;
#endif
}

static int globals_get(tp_handler *h)
{
    char now[160];
    describe(now, sizeof(now));
    tp_writef(h, "init %s\nnow %s\n", seen_at_init, now);
    return TP_OK;
}

static int pid_get(tp_handler *h)
{
    return tp_writef(h, "%d", (int)getpid()), TP_OK;
}

static const tp_handler_class globals_h = {.name = "Globals", .get = globals_get};
static const tp_handler_class pid_h = {.name = "Pid", .get = pid_get};

static int globals_init(tp_app *app)
{
    describe(seen_at_init, sizeof(seen_at_init));
    M++, W.n++, L++, A++;
    loop = "app-loop-set";
#ifdef WITH_LOG_GLOBAL
    log++;
#endif
    tp_log_info("globals app: init read %s", seen_at_init);
    tp_app_route(app, "/", &globals_h, NULL);
    tp_app_route(app, "/pid", &pid_h, NULL);
    return 0;
}

TP_APP("globals", globals_init, NULL);
