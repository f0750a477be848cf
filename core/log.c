#include "core/log_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/loop.h"
#include "core/utf8.h"

#define FLUSH_AT 8192

/* The logger's state: lines wait in each output's buffer until flush() writes them (before
 * the loop sleeps, once FLUSH_AT bytes wait, or at tp_log_flush). Outputs: main (fd 2, or the
 * log file), access (its own file, if asked), err (stderr next to files, log_to_stderr). */
typedef struct tp_logger {
    int level[3];
    bool access_off;
    int color_mode;
    bool color_checked; /* main's colour decided (lazily, for the default fd 2) */
    char *tag;
    time_t (*clock)(void);
    time_t stamp_second;
    char stamp[20]; /* "261122 20:00:00" */
    tp_defer flush_hook;
    tp_log_capture_fn capture; /* tp_log_set_capture */
    void *capture_arg;
    tp__log_sink main, access, err;
    bool files;       /* tp_log_open_files in effect: cfg, rot and suffix hold its settings */
    tp_log_files cfg; /* prefix and access_prefix owned */
    tp__log_rotation rot;
    tp_buf line, msg; /* scratch */
} tp_logger;

/* The process's one logger. Log calls carry no context (a line can come from any layer, as
 * with Tornado's logging module), so the public functions reach this instance, and pass it to
 * the helpers below; it is static, so it is in no symbol table. A forked child has its own
 * copy (tp_log_after_fork). */
static tp_logger process_logger = {.level = {TP_LOG_INFO, TP_LOG_INFO, TP_LOG_INFO},
                                   .main = {.fd = 2},
                                   .access = {.fd = -1},
                                   .err = {.fd = -1}};

static time_t now_of(const tp_logger *lg)
{
    return lg->clock ? lg->clock() : time(NULL);
}

void tp_log_set_level(int level)
{
    for (int i = 0; i < 3; i++)
        process_logger.level[i] = level;
}

int tp_log_level(void)
{
    return process_logger.level[TP_LOG_GENERAL];
}

void tp_log_set_channel_level(int channel, int level)
{
    if (channel >= 0 && channel < 3)
        process_logger.level[channel] = level;
}

int tp_log_channel_level(int channel)
{
    return channel >= 0 && channel < 3 ? process_logger.level[channel] : TP_LOG_NONE;
}

bool tp_log_enabled(int channel, int level)
{
    const tp_logger *lg = &process_logger;
    if (channel == TP_LOG_ACCESS && lg->access_off)
        return false;
    return level >= tp_log_channel_level(channel) && level < TP_LOG_NONE;
}

int tp_log_level_parse(const char *name)
{
    static const struct {
        const char *name;
        int level;
    } names[] = {{"debug", TP_LOG_DEBUG},       {"info", TP_LOG_INFO},
                 {"warning", TP_LOG_WARNING},   {"error", TP_LOG_ERROR},
                 {"critical", TP_LOG_CRITICAL}, {"none", TP_LOG_NONE}};
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

void tp_log_set_clock(time_t (*now)(void))
{
    process_logger.clock = now;
    process_logger.stamp_second = 0;
}

static void flush(tp_logger *lg)
{
    time_t now = now_of(lg);
    tp__log_sink_flush(&lg->main, &lg->rot, now);
    tp__log_sink_flush(&lg->access, &lg->rot, now);
    tp__log_sink_flush(&lg->err, &lg->rot, now);
}

void tp_log_flush(void)
{
    flush(&process_logger);
}

static bool wants_color(const tp_logger *lg, int fd)
{
    if (lg->color_mode != TP_LOG_COLOR_AUTO)
        return lg->color_mode == TP_LOG_COLOR_ON;
    const char *term = getenv("TERM");
    return fd >= 0 && isatty(fd) && term && *term && strcmp(term, "dumb");
}

void tp_log_set_color(int mode)
{
    tp_logger *lg = &process_logger;
    lg->color_mode = mode;
    lg->main.color = !lg->main.path && wants_color(lg, lg->main.fd);
    lg->err.color = lg->err.fd >= 0 && wants_color(lg, lg->err.fd);
    lg->color_checked = true;
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
    tp_logger *lg = &process_logger;
    tp_buf_clear(&lg->main.out);
    tp_buf_clear(&lg->access.out);
    tp_buf_clear(&lg->err.out);
    lg->flush_hook = (tp_defer){0};
}

static void flush_hook(tp_loop *loop, void *arg)
{
    (void)loop;
    flush(arg);
}

static const char *stamp(tp_logger *lg)
{
    time_t now = now_of(lg);
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
    return level >= TP_LOG_CRITICAL  ? 'C'
           : level >= TP_LOG_ERROR   ? 'E'
           : level >= TP_LOG_WARNING ? 'W'
           : level >= TP_LOG_INFO    ? 'I'
                                     : 'D';
}

/* Tornado's LogFormatter DEFAULT_COLORS as curses setaf codes: blue, green, yellow, red,
 * magenta. */
static const char *level_color(int level)
{
    return level >= TP_LOG_CRITICAL  ? "\033[35m"
           : level >= TP_LOG_ERROR   ? "\033[31m"
           : level >= TP_LOG_WARNING ? "\033[33m"
           : level >= TP_LOG_INFO    ? "\033[32m"
                                     : "\033[34m";
}

/* Without a running loop (command-line tools, tests) lines go out at once. */
static void schedule_flush(tp_logger *lg)
{
    tp_loop *loop = tp_loop_running();
    if (!loop || lg->main.out.len + lg->access.out.len + lg->err.out.len >= FLUSH_AT) {
        flush(lg);
        return;
    }
    lg->flush_hook.fn = flush_hook;
    lg->flush_hook.arg = lg;
    tp_loop_defer(loop, &lg->flush_hook);
}

/* Appends message text: each newline followed by 4 spaces (Tornado's continuation lines),
 * bytes that are not UTF-8 as \xNN (Tornado shows such a message through repr). */
static void append_text(tp_buf *b, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && (unsigned char)p[run] < 0x80 && p[run] != '\n')
            run++;
        tp_buf_append(b, p + i, run - i);
        if ((i = run) >= n)
            break;
        uint32_t cp;
        size_t len = p[i] == '\n' ? 0 : tp_utf8_decode((const unsigned char *)p + i, n - i, &cp);
        if (p[i] == '\n')
            tp_buf_append(b, "\n    ", 5);
        else if (len)
            tp_buf_append(b, p + i, len);
        else
            tp_buf_appendf(b, "\\x%02x", (unsigned char)p[i]);
        i += len ? len : 1;
    }
}

static size_t rstrip_len(const char *p, size_t n)
{
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\n' || p[n - 1] == '\t' || p[n - 1] == '\r'))
        n--;
    return n;
}

/* Whether message text needs append_text: a newline or a byte >= 0x80. */
static bool plain_text(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] >= 0x80 || p[i] == '\n')
            return false;
    return true;
}

/* format_line's answer for a line a capture hook took (nothing appended). */
#define SWALLOWED SIZE_MAX

/* Appends the line to out; returns the length of its "[L date module:line]" head, or SWALLOWED.
 * The message is formatted in place; only one with newlines, non-ASCII bytes or a trace is
 * rewritten. */
static size_t format_line(tp_logger *lg, tp_buf *out, int level, const char *file, int line,
                          const char *trace, const char *fmt, va_list ap)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t blen = strlen(base), start = out->len;
    if (blen > 2 && base[blen - 2] == '.')
        blen -= 2;
    tp_buf_appendf(out, "[%c %s %.*s:%d] %s", level_letter(level), stamp(lg), (int)blen, base, line,
                   lg->tag ? lg->tag : "");
    size_t head = out->len - start - 1 - (lg->tag ? strlen(lg->tag) : 0); /* up to ']' */
    size_t m0 = out->len;
    tp_buf_vappendf(out, fmt, ap);
    if (lg->capture && lg->capture(level, tp_buf_data(out) + m0, out->len - m0, lg->capture_arg)) {
        out->len = start; /* swallowed (ExpectLog): the line goes */
        return SWALLOWED;
    }
    if (trace || !plain_text(tp_buf_data(out) + m0, out->len - m0)) {
        tp_buf_clear(&lg->msg);
        tp_buf_append(&lg->msg, tp_buf_data(out) + m0, out->len - m0);
        out->len = m0;
        size_t mlen = lg->msg.len;
        if (trace)
            mlen = rstrip_len(tp_buf_data(&lg->msg), mlen);
        append_text(out, mlen ? tp_buf_data(&lg->msg) : "", mlen);
    }
    if (trace) {
        size_t tlen = strlen(trace);
        if (tlen && trace[tlen - 1] == '\n')
            tlen--; /* as logging's formatException */
        append_text(out, "\n", 1);
        append_text(out, trace, tlen);
    }
    tp_buf_append(out, "\n", 1);
    return head;
}

static void emit(tp_logger *lg, tp__log_sink *s, int level, size_t head)
{
    if (s->fd < 0)
        return;
    const char *p = tp_buf_data(&lg->line);
    if (!s->color) {
        tp_buf_append(&s->out, p, lg->line.len);
        return;
    }
    tp_buf_append_str(&s->out, level_color(level));
    tp_buf_append(&s->out, p, head);
    tp_buf_append_str(&s->out, "\033[0m");
    tp_buf_append(&s->out, p + head, lg->line.len - head);
}

static void write_line(int channel, int level, const char *file, int line, const char *trace,
                       const char *fmt, va_list ap)
{
    tp_logger *lg = &process_logger;
    if (!tp_log_enabled(channel, level))
        return;
    if (!lg->color_checked)
        tp_log_set_color(lg->color_mode);
    bool own_access = channel == TP_LOG_ACCESS && lg->access.fd >= 0;
    tp__log_sink *to = own_access ? &lg->access : &lg->main;
    if (lg->err.fd < 0 && !to->color && to->fd >= 0) {
        /* The usual case, one plain output: the line is formatted right into its buffer. */
        format_line(lg, &to->out, level, file, line, trace, fmt, ap);
    } else {
        tp_buf_clear(&lg->line);
        size_t head = format_line(lg, &lg->line, level, file, line, trace, fmt, ap);
        if (head == SWALLOWED)
            return;
        emit(lg, to, level, head);
        emit(lg, &lg->err, level, head);
    }
    schedule_flush(lg);
}

void tp_log_cvwrite(int channel, int level, const char *file, int line, const char *fmt, va_list ap)
{
    write_line(channel, level, file, line, NULL, fmt, ap);
}

void tp_log_vwrite(int level, const char *file, int line, const char *fmt, va_list ap)
{
    write_line(TP_LOG_GENERAL, level, file, line, NULL, fmt, ap);
}

void tp_log_write(int level, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    write_line(TP_LOG_GENERAL, level, file, line, NULL, fmt, ap);
    va_end(ap);
}

void tp_log_cwrite(int channel, int level, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    write_line(channel, level, file, line, NULL, fmt, ap);
    va_end(ap);
}

void tp_log_write_trace(int channel, int level, const char *file, int line, const char *trace,
                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    write_line(channel, level, file, line, trace ? trace : "", fmt, ap);
    va_end(ap);
}

/* ---- where the log goes -------------------------------------------------------------------- */

void tp_log_files_default(tp_log_files *f)
{
    *f = (tp_log_files){.rotate_mode = "size",
                        .max_size = 100000000,
                        .num_backups = 10,
                        .rotate_when = "midnight",
                        .rotate_interval = 1,
                        .to_stderr = -1};
}

int tp_log_check_files(const tp_log_files *f, char *err, size_t errlen)
{
    tp__log_rotation r;
    return tp__log_rotation_parse(f, &r, err, errlen);
}

static void close_sink(tp_logger *lg, tp__log_sink *s)
{
    if (s->path)
        tp__log_sink_close(s, &lg->rot, now_of(lg));
}

/* Closes the files (writing what they hold) and forgets the settings. */
static void drop_files(tp_logger *lg)
{
    flush(lg);
    close_sink(lg, &lg->main);
    close_sink(lg, &lg->access);
    tp_buf_free(&lg->err.out);
    lg->err = (tp__log_sink){.fd = -1};
    tp_free((char *)lg->cfg.prefix);
    tp_free((char *)lg->cfg.access_prefix);
    lg->cfg = (tp_log_files){0};
    lg->files = false;
    lg->rot = (tp__log_rotation){0};
}

void tp_log_set_fd(int fd)
{
    tp_logger *lg = &process_logger;
    drop_files(lg);
    lg->main.fd = fd;
    lg->main.own_fd = false;
    lg->main.color = wants_color(lg, fd);
    lg->color_checked = true;
}

void tp_log_close_files(void)
{
    tp_log_set_fd(2);
}

bool tp_log_has_files(void)
{
    return process_logger.files;
}

static int open_sink(tp_logger *lg, tp__log_sink *s, const char *prefix, const char *suffix)
{
    size_t n = strlen(prefix) + strlen(suffix) + 1;
    char *path = tp_malloc(n);
    snprintf(path, n, "%s%s", prefix, suffix);
    tp_buf keep = s->out; /* lines written before a reopen stay queued */
    *s = (tp__log_sink){.fd = -1};
    int r = tp__log_sink_open(s, path, &lg->rot, now_of(lg));
    s->out = keep;
    tp_free(path);
    return r;
}

/* Opens the files of lg->cfg under suffix; the old fds are forgotten, not closed. */
static int open_files(tp_logger *lg, const char *suffix, char *err, size_t errlen)
{
    const tp_log_files *f = &lg->cfg;
    bool file = f->prefix && *f->prefix;
    int r = 0;
    tp_free(lg->main.path);
    tp_free(lg->access.path);
    lg->main.path = lg->access.path = NULL;
    lg->main.fd = lg->access.fd = lg->err.fd = -1;
    if (file)
        r = open_sink(lg, &lg->main, f->prefix, suffix);
    if (!r && f->access_prefix && *f->access_prefix)
        r = open_sink(lg, &lg->access, f->access_prefix, suffix);
    if (r < 0) {
        snprintf(err, errlen, "cannot open the log file %s%s: %s",
                 lg->main.fd < 0 && file ? f->prefix : f->access_prefix, suffix, strerror(-r));
        return r;
    }
    /* Tornado: log_to_stderr None means stderr only when there is no file. */
    bool to_stderr = f->to_stderr > 0 || (f->to_stderr < 0 && !file);
    tp__log_sink *s = file ? &lg->err : &lg->main;
    s->fd = to_stderr ? 2 : -1;
    s->own_fd = false;
    s->color = wants_color(lg, s->fd);
    lg->color_checked = true;
    return 0;
}

int tp_log_open_files(const tp_log_files *f, const char *suffix, char *err, size_t errlen)
{
    tp_logger *lg = &process_logger;
    tp__log_rotation rot;
    int r = tp__log_rotation_parse(f, &rot, err, errlen);
    if (r < 0)
        return r;
    drop_files(lg);
    lg->cfg = *f;
    lg->cfg.prefix = f->prefix ? tp_strndup(f->prefix, strlen(f->prefix)) : NULL;
    lg->cfg.access_prefix =
        f->access_prefix ? tp_strndup(f->access_prefix, strlen(f->access_prefix)) : NULL;
    lg->cfg.rotate_mode = lg->cfg.rotate_when = NULL; /* parsed into rot */
    lg->rot = rot;
    lg->files = true;
    r = open_files(lg, suffix ? suffix : "", err, errlen);
    if (r < 0) {
        drop_files(lg);
        lg->main.fd = 2;
    }
    return r;
}

int tp_log_reopen_suffix(const char *suffix)
{
    tp_logger *lg = &process_logger;
    if (!lg->files)
        return 0;
    char err[256];
    int r = open_files(lg, suffix ? suffix : "", err, sizeof(err));
    if (r < 0) {
        lg->main.fd = 2; /* the message must go somewhere */
        tp_log_error("%s", err);
    }
    return r;
}

static int reopen_sink(tp__log_sink *s)
{
    if (!s->path)
        return 0;
    int fd = open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0)
        return -errno;
    close(s->fd);
    s->fd = fd;
    struct stat st;
    s->size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    return 0;
}

int tp_log_reopen(void)
{
    tp_logger *lg = &process_logger;
    flush(lg);
    int a = reopen_sink(&lg->main), b = reopen_sink(&lg->access);
    return a < 0 ? a : b;
}
