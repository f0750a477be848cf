/* Logging in Tornado's format: "[I 261122 20:00:00 web:2345] message" (Tornado's LogFormatter:
 * colours on a terminal, continuation lines indented by 4). Three channels as in Tornado
 * (general, application, access) with their own levels; the access channel can be switched off
 * on its own or go to its own file. Output: an fd (stderr by default) or files with Tornado's
 * log_file_prefix/rotation options (by size or time, as Python's Rotating and
 * TimedRotatingFileHandler), optionally also stderr. Lines are buffered and written before the
 * loop sleeps (or when the buffer fills, or at tp_log_flush), so a busy worker makes one write
 * per loop iteration; rotation is checked then, not per line. See docs/options-and-log.md. */
#ifndef TP_CORE_LOG_H
#define TP_CORE_LOG_H

#include "platform/api.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum tp_log_level {
    TP_LOG_DEBUG = 10,
    TP_LOG_INFO = 20,
    TP_LOG_WARNING = 30,
    TP_LOG_ERROR = 40,
    TP_LOG_CRITICAL = 50,
    TP_LOG_NONE = 100,
};

/* Tornado's three loggers: tornado.general, tornado.application, tornado.access. */
enum tp_log_channel { TP_LOG_GENERAL = 0, TP_LOG_APP = 1, TP_LOG_ACCESS = 2 };

enum tp_log_color { TP_LOG_COLOR_AUTO, TP_LOG_COLOR_ON, TP_LOG_COLOR_OFF };

/* Tornado's file options (tornado.log.define_logging_options). */
typedef struct tp_log_files {
    const char *prefix;        /* log_file_prefix: write to PREFIX (+ a suffix); NULL/"": none */
    const char *access_prefix; /* access lines to their own file (NULL/"": with the rest) */
    const char *rotate_mode;   /* "size" or "time" */
    size_t max_size;           /* log_file_max_size (size mode; 0: never rotate) */
    int num_backups;         /* log_file_num_backups (0: size mode never rotates, time keeps all) */
    const char *rotate_when; /* S, M, H, D, midnight or W0-W6 (time mode) */
    int rotate_interval;     /* log_rotate_interval, in units of rotate_when */
    int to_stderr;           /* log_to_stderr: 1, 0, or -1 (Tornado's None: if no file) */
} tp_log_files;

/* Lines below `level` are dropped (default TP_LOG_INFO); sets every channel's level. */
TP_API void tp_log_set_level(int level);
/* The general channel's level. */
TP_API int tp_log_level(void);
/* One channel's level (TP_LOG_GENERAL, TP_LOG_APP, TP_LOG_ACCESS). */
TP_API void tp_log_set_channel_level(int channel, int level);
TP_API int tp_log_channel_level(int channel);
/* Whether a line of this level on this channel would be written (cheap: no formatting). */
TP_API bool tp_log_enabled(int channel, int level);
/* Parses "debug", "info", "warning", "error" or "none"; -1 if unknown. */
TP_API int tp_log_level_parse(const char *name);
/* Turns the access log (one line per request) on or off (default on). Access lines still
 * obey the level: 2xx/3xx are INFO, 4xx WARNING, 5xx ERROR. */
TP_API void tp_log_set_access(bool on);
TP_API bool tp_log_access_enabled(void);
/* Writes to fd from now on (default 2); the caller keeps ownership of fd. Closes log files. */
TP_API void tp_log_set_fd(int fd);
/* Colours for the level field: AUTO (default) uses them when the fd is a terminal and TERM is
 * set and not "dumb"; files never get them. */
TP_API void tp_log_set_color(int mode);
/* Fills f with Tornado's defaults (size mode, 100000000 bytes, 10 backups, midnight, 1). */
TP_API void tp_log_files_default(tp_log_files *f);
/* Checks f (mode, when, interval) without opening anything; 0 or -EINVAL with err. */
TP_API int tp_log_check_files(const tp_log_files *f, char *err, size_t errlen);
/* Logs to the files of f (copied), each named PREFIX + suffix (suffix may be NULL): the main
 * file, the access file if set, plus stderr by to_stderr. 0, or -errno with err. */
TP_API int tp_log_open_files(const tp_log_files *f, const char *suffix, char *err, size_t errlen);
/* The same files under another suffix (a worker after fork: ".w3"); 0 if there are none. */
TP_API int tp_log_reopen_suffix(const char *suffix);
/* Reopens the log files by name (after an outside rename, USR1); 0 or -errno. */
TP_API int tp_log_reopen(void);
/* Whether tp_log_open_files is in effect. */
TP_API bool tp_log_has_files(void);
/* Back to fd 2 without files (flushes and closes them). */
TP_API void tp_log_close_files(void);
/* The clock for time stamps and time rotation (tests); NULL: time(). */
TP_API void tp_log_set_clock(time_t (*now)(void));
/* Text put after the level letter's bracket fields, e.g. "worker[1] " (copied; NULL clears). */
TP_API void tp_log_set_tag(const char *tag);

/* A capture hook sees each line that passes the level, as its message without the prefix
 * (msg is not NUL-terminated); returning true swallows the line. It must not log. */
typedef bool (*tp_log_capture_fn)(int level, const char *msg, size_t len, void *arg);
/* Installs fn (NULL removes it) and returns the previous hook (its arg in *prev_arg), so
 * that hooks can chain: the testing helpers' ExpectLog uses it. */
TP_API tp_log_capture_fn tp_log_set_capture(tp_log_capture_fn fn, void *arg, void **prev_arg);

/* Formats one line; `file` is a source path whose base name without ".c" is the module. */
TP_API void tp_log_write(int level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
TP_API void tp_log_vwrite(int level, const char *file, int line, const char *fmt, va_list ap);
/* The same on a channel. */
TP_API void tp_log_cwrite(int channel, int level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
TP_API void tp_log_cvwrite(int channel, int level, const char *file, int line, const char *fmt,
                           va_list ap);
/* A line followed by a trace/exception text block (Tornado's exc_text): the message is
 * right-stripped, each trace line follows on its own indented line. */
TP_API void tp_log_write_trace(int channel, int level, const char *file, int line,
                               const char *trace, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* In a child after fork: forgets the parent's pending flush (queued on the parent's loop). */
TP_API void tp_log_after_fork(void);
/* Writes buffered lines now. */
TP_API void tp_log_flush(void);

#define tp_log_debug(...)      tp_log_write(TP_LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__)
#define tp_log_info(...)       tp_log_write(TP_LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define tp_log_warning(...)    tp_log_write(TP_LOG_WARNING, __FILE__, __LINE__, __VA_ARGS__)
#define tp_log_error(...)      tp_log_write(TP_LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)
#define tp_app_log(level, ...) tp_log_cwrite(TP_LOG_APP, level, __FILE__, __LINE__, __VA_ARGS__)

#endif
