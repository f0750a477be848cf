/* --autoreload: inotify on the parent directories of app.so and the --watch paths (build tools
 * replace files by rename, which a watch on the file itself would lose), debounced, then the
 * same reload as SIGHUP. A broken build fails that reload and the next good one is taken. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "process/master_internal.h"

#define DEBOUNCE 0.25

struct tp_autoreload {
    tp_master *m;
    int fd;
    tp_timer debounce;
    const char *names[TP_PREFORK_MAX_LISTEN + 1]; /* base names that trigger */
    size_t nnames;
};

static void fire(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_autoreload *a = arg;
    tp__reload_start(a->m, "autoreload");
}

static bool interesting(const tp_autoreload *a, const char *name)
{
    for (size_t i = 0; i < a->nnames; i++)
        if (!strcmp(a->names[i], name))
            return true;
    return false;
}

static void on_inotify(tp_loop *loop, int fd, unsigned events, void *arg)
{
    (void)events;
    tp_autoreload *a = arg;
    _Alignas(struct inotify_event) char buf[4096];
    ssize_t n;
    bool hit = false;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *e = (struct inotify_event *)(void *)p;
            if (e->len && interesting(a, e->name))
                hit = true;
            p += sizeof(*e) + e->len;
        }
    if (hit) /* the last change of a burst counts: a linker writes in several steps */
        tp_timer_start_at(loop, &a->debounce, tp_loop_time(loop) + DEBOUNCE);
}

static int watch(tp_autoreload *a, const char *path)
{
    char copy[PATH_MAX], copy2[PATH_MAX];
    snprintf(copy, sizeof(copy), "%s", path);
    snprintf(copy2, sizeof(copy2), "%s", path);
    a->names[a->nnames++] = tp_strndup(basename(copy), strlen(basename(copy)));
    int wd = inotify_add_watch(a->fd, dirname(copy2), IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE);
    return wd < 0 ? -errno : 0;
}

tp_autoreload *tp__autoreload_start(tp_master *m)
{
    tp_autoreload *a = tp_calloc(1, sizeof(*a));
    a->m = m;
    a->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    tp_timer_init(&a->debounce, fire, a);
    if (a->fd < 0 || watch(a, m->o->app_path) < 0)
        goto fail;
    for (size_t i = 0; i < m->o->nwatch; i++)
        if (watch(a, m->o->watch[i]) < 0)
            tp_log_warning("autoreload: cannot watch %s", m->o->watch[i]);
    if (tp_loop_add_fd(m->loop, a->fd, TP_READ, on_inotify, a) < 0)
        goto fail;
    tp_log_info("autoreload: watching %s", m->o->app_path);
    return a;
fail:
    tp__autoreload_free(a);
    return NULL;
}

void tp__autoreload_free(tp_autoreload *a)
{
    if (!a)
        return;
    tp_timer_stop(a->m->loop, &a->debounce);
    if (a->fd >= 0) {
        tp_loop_remove_fd(a->m->loop, a->fd);
        close(a->fd);
    }
    for (size_t i = 0; i < a->nnames; i++)
        tp_free((char *)a->names[i]);
    tp_free(a);
}
