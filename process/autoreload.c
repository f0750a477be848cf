/* --autoreload: inotify on the parent directories of app.so and the --watch paths (build tools
 * replace files by rename, which a watch on the file itself would lose), debounced, then the
 * same reload as SIGHUP. A broken build fails that reload and the next good one is taken. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "process/master_internal.h"

#define DEBOUNCE 0.25

static struct {
    int fd;
    tp_timer debounce;
    const char *names[TP_PREFORK_MAX_LISTEN + 1]; /* base names that trigger */
    size_t nnames;
} A = {.fd = -1};

static void fire(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    tp__reload_start("autoreload");
}

static bool interesting(const char *name)
{
    for (size_t i = 0; i < A.nnames; i++)
        if (!strcmp(A.names[i], name))
            return true;
    return false;
}

static void on_inotify(tp_loop *loop, int fd, unsigned events, void *arg)
{
    (void)events, (void)arg;
    _Alignas(struct inotify_event) char buf[4096];
    ssize_t n;
    bool hit = false;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *e = (struct inotify_event *)(void *)p;
            if (e->len && interesting(e->name))
                hit = true;
            p += sizeof(*e) + e->len;
        }
    if (hit) /* the last change of a burst counts: a linker writes in several steps */
        tp_timer_start_at(loop, &A.debounce, tp_loop_time(loop) + DEBOUNCE);
}

static int watch(const char *path)
{
    char copy[PATH_MAX], copy2[PATH_MAX];
    snprintf(copy, sizeof(copy), "%s", path);
    snprintf(copy2, sizeof(copy2), "%s", path);
    A.names[A.nnames++] = tp_strndup(basename(copy), strlen(basename(copy)));
    int wd = inotify_add_watch(A.fd, dirname(copy2), IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE);
    return wd < 0 ? -errno : 0;
}

int tp__autoreload_start(void)
{
    A.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (A.fd < 0)
        return -errno;
    tp_timer_init(&A.debounce, fire, NULL);
    if (watch(M.o->app_path) < 0)
        return -1;
    for (size_t i = 0; i < M.o->nwatch; i++)
        if (watch(M.o->watch[i]) < 0)
            tp_log_warning("autoreload: cannot watch %s", M.o->watch[i]);
    tp_log_info("autoreload: watching %s", M.o->app_path);
    return tp_loop_add_fd(M.loop, A.fd, TP_READ, on_inotify, NULL);
}
