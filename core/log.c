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

/* The logger's state: lines wait in out until flush() writes them to fd (before the loop sleeps,
 * once FLUSH_AT bytes wait, or at tp_log_flush). */
typedef struct tp_logger {
    int level;
    bool access_off;
    int fd;
    char *tag;
    tp_buf out;
    time_t stamp_second;
    char stamp[20]; /* "261122 20:00:00" */
    tp_defer flush_hook;
    tp_log_capture_fn capture; /* tp_log_set_capture */
    void *capture_arg;
} tp_logger;

/* The process's one logger. Log calls carry no context (a line can come from any layer, as
 * with Tornado's logging module), so the public functions reach this instance, and pass it to
 * the helpers below; it is static, so it is in no symbol table. A forked child has its own
 * copy (tp_log_after_fork). */
static tp_logger process_logger = {.level = TP_LOG_INFO, .fd = 2};

void tp_log_set_level(int level)
{
    process_logger.level = level;
}

int tp_log_level(void)
{
    return process_logger.level;
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
    process_logger.access_off = !on;
}

bool tp_log_access_enabled(void)
{
    return !process_logger.access_off;
}

static void flush(tp_logger *lg)
{
    while (lg->out.len) {
        ssize_t n = write(lg->fd, tp_buf_data(&lg->out), lg->out.len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* nowhere to log to: drop rather than block or spin */
        tp_buf_consume(&lg->out, (size_t)n);
    }
    tp_buf_clear(&lg->out);
}

void tp_log_flush(void)
{
    flush(&process_logger);
}

void tp_log_set_fd(int fd)
{
    flush(&process_logger);
    process_logger.fd = fd;
}

void tp_log_set_tag(const char *tag)
{
    tp_logger *lg = &process_logger;
    tp_free(lg->tag);
    lg->tag = tag ? tp_strndup(tag, strlen(tag)) : NULL;
}

tp_log_capture_fn tp_log_set_capture(tp_log_capture_fn fn, void *arg, void **prev_arg)
{
    tp_logger *lg = &process_logger;
    tp_log_capture_fn prev = lg->capture;
    if (prev_arg)
        *prev_arg = lg->capture_arg;
    lg->capture = fn;
    lg->capture_arg = arg;
    return prev;
}

void tp_log_after_fork(void)
{
    tp_buf_clear(&process_logger.out);
    process_logger.flush_hook = (tp_defer){0};
}

static void flush_hook(tp_loop *loop, void *arg)
{
    (void)loop;
    flush(arg);
}

static const char *stamp(tp_logger *lg)
{
    time_t now = time(NULL);
    if (now != lg->stamp_second) {
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(lg->stamp, sizeof(lg->stamp), "%y%m%d %H:%M:%S", &tm);
        lg->stamp_second = now;
    }
    return lg->stamp;
}

static char level_letter(int level)
{
    return level >= TP_LOG_ERROR     ? 'E'
           : level >= TP_LOG_WARNING ? 'W'
           : level >= TP_LOG_INFO    ? 'I'
                                     : 'D';
}

/* Without a running loop (command-line tools, tests) lines go out at once. */
static void schedule_flush(tp_logger *lg)
{
    tp_loop *loop = tp_loop_running();
    if (!loop || lg->out.len >= FLUSH_AT) {
        flush(lg);
        return;
    }
    lg->flush_hook.fn = flush_hook;
    lg->flush_hook.arg = lg;
    tp_loop_defer(loop, &lg->flush_hook);
}

void tp_log_vwrite(int level, const char *file, int line, const char *fmt, va_list ap)
{
    tp_logger *lg = &process_logger;
    if (level < lg->level)
        return;
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t blen = strlen(base);
    if (blen > 2 && base[blen - 2] == '.')
        blen -= 2;
    size_t start = lg->out.len;
    tp_buf_appendf(&lg->out, "[%c %s %.*s:%d] %s", level_letter(level), stamp(lg), (int)blen, base,
                   line, lg->tag ? lg->tag : "");
    size_t msg_at = lg->out.len;
    tp_buf_vappendf(&lg->out, fmt, ap);
    if (lg->capture &&
        lg->capture(level, tp_buf_data(&lg->out) + msg_at, lg->out.len - msg_at, lg->capture_arg)) {
        lg->out.len = start; /* swallowed: the line goes */
        return;
    }
    tp_buf_append(&lg->out, "\n", 1);
    schedule_flush(lg);
}

void tp_log_write(int level, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tp_log_vwrite(level, file, line, fmt, ap);
    va_end(ap);
}
