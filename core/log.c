#include "core/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/loop.h"

#define FLUSH_AT 8192

static struct {
    int level;
    bool access_off;
    int fd;
    char *tag;
    tp_buf out;
    time_t stamp_second;
    char stamp[20]; /* "261122 20:00:00" */
    tp_loop *deferred_on;
    tp_defer flush_hook;
} L = {.level = TP_LOG_INFO, .fd = 2};

void tp_log_set_level(int level)
{
    L.level = level;
}

int tp_log_level(void)
{
    return L.level;
}

int tp_log_level_parse(const char *name)
{
    static const struct {
        const char *name;
        int level;
    } names[] = {{"debug", TP_LOG_DEBUG},
                 {"info", TP_LOG_INFO},
                 {"warning", TP_LOG_WARNING},
                 {"error", TP_LOG_ERROR},
                 {"none", TP_LOG_NONE}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(name, names[i].name) == 0)
            return names[i].level;
    return -1;
}

void tp_log_set_access(bool on)
{
    L.access_off = !on;
}

bool tp_log_access_enabled(void)
{
    return !L.access_off;
}

void tp_log_set_fd(int fd)
{
    tp_log_flush();
    L.fd = fd;
}

void tp_log_set_tag(const char *tag)
{
    tp_free(L.tag);
    L.tag = tag ? tp_strndup(tag, strlen(tag)) : NULL;
}

void tp_log_after_fork(void)
{
    tp_buf_clear(&L.out);
    L.flush_hook = (tp_defer){0};
}

void tp_log_flush(void)
{
    while (L.out.len) {
        ssize_t n = write(L.fd, tp_buf_data(&L.out), L.out.len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* nowhere to log to: drop rather than block or spin */
        tp_buf_consume(&L.out, (size_t)n);
    }
    tp_buf_clear(&L.out);
}

static void flush_hook(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    tp_log_flush();
}

static const char *stamp(void)
{
    time_t now = time(NULL);
    if (now != L.stamp_second) {
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(L.stamp, sizeof(L.stamp), "%y%m%d %H:%M:%S", &tm);
        L.stamp_second = now;
    }
    return L.stamp;
}

static char level_letter(int level)
{
    return level >= TP_LOG_ERROR     ? 'E'
           : level >= TP_LOG_WARNING ? 'W'
           : level >= TP_LOG_INFO    ? 'I'
                                     : 'D';
}

/* Without a running loop (command-line tools, tests) lines go out at once. */
static void schedule_flush(void)
{
    tp_loop *loop = tp_loop_running();
    if (!loop || L.out.len >= FLUSH_AT) {
        tp_log_flush();
        return;
    }
    L.flush_hook.fn = flush_hook;
    tp_loop_defer(loop, &L.flush_hook);
}

void tp_log_vwrite(int level, const char *file, int line, const char *fmt, va_list ap)
{
    if (level < L.level)
        return;
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t blen = strlen(base);
    if (blen > 2 && base[blen - 2] == '.')
        blen -= 2;
    tp_buf_appendf(&L.out, "[%c %s %.*s:%d] %s", level_letter(level), stamp(), (int)blen, base,
                   line, L.tag ? L.tag : "");
    tp_buf_vappendf(&L.out, fmt, ap);
    tp_buf_append(&L.out, "\n", 1);
    schedule_flush();
}

void tp_log_write(int level, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tp_log_vwrite(level, file, line, fmt, ap);
    va_end(ap);
}
