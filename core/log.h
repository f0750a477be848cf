/* Logging in Tornado's format: "[I 261122 20:00:00 web:2345] message". Three channels as in
 * Tornado (access, application, general) share one output; the access channel can be switched
 * off on its own. Lines are buffered and written before the loop sleeps (or when the buffer
 * fills, or at tp_log_flush), so a busy worker makes one write per loop iteration. */
#ifndef TP_CORE_LOG_H
#define TP_CORE_LOG_H

#include "platform/api.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum tp_log_level {
    TP_LOG_DEBUG = 10,
    TP_LOG_INFO = 20,
    TP_LOG_WARNING = 30,
    TP_LOG_ERROR = 40,
    TP_LOG_NONE = 100,
};

/* Lines below `level` are dropped (default TP_LOG_INFO). */
TP_API void tp_log_set_level(int level);
TP_API int tp_log_level(void);
/* Parses "debug", "info", "warning", "error" or "none"; -1 if unknown. */
TP_API int tp_log_level_parse(const char *name);
/* Turns the access log (one line per request) on or off (default on). Access lines still
 * obey the level: 2xx/3xx are INFO, 4xx WARNING, 5xx ERROR. */
TP_API void tp_log_set_access(bool on);
TP_API bool tp_log_access_enabled(void);
/* Writes to fd from now on (default 2); the caller keeps ownership of fd. */
TP_API void tp_log_set_fd(int fd);
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
/* In a child after fork: forgets the parent's pending flush (queued on the parent's loop). */
TP_API void tp_log_after_fork(void);
/* Writes buffered lines now. */
TP_API void tp_log_flush(void);

#define tp_log_debug(...)   tp_log_write(TP_LOG_DEBUG, __FILE__, __LINE__, __VA_ARGS__)
#define tp_log_info(...)    tp_log_write(TP_LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define tp_log_warning(...) tp_log_write(TP_LOG_WARNING, __FILE__, __LINE__, __VA_ARGS__)
#define tp_log_error(...)   tp_log_write(TP_LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)

#endif
