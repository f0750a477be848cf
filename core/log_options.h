/* Tornado's logging options (tornado.log.define_logging_options) as an option table, for any
 * program that parses its command line with core/options.h: log_file_prefix,
 * log_file_max_size, log_file_num_backups, log_rotate_mode, log_rotate_when,
 * log_rotate_interval, log_to_stderr, plus log_access_file_prefix. */
#ifndef TP_CORE_LOG_OPTIONS_H
#define TP_CORE_LOG_OPTIONS_H

#include "platform/api.h"

#include "core/log.h"
#include "core/options.h"

typedef struct tp_log_options {
    const char *log_file_prefix, *log_access_file_prefix, *log_rotate_mode, *log_rotate_when;
    size_t log_file_max_size;
    int log_file_num_backups, log_rotate_interval;
    bool log_to_stderr, log_to_stderr_given; /* given: Tornado's None otherwise */
} tp_log_options;

/* The table (a group's opts) over a tp_log_options; mode and when are checked when set. */
TP_API extern const tp_option tp_log_option_table[];
TP_API extern const size_t tp_log_option_count;
/* Tornado's defaults: no file, 100000000 bytes, 10 backups, size mode, midnight, 1. */
TP_API void tp_log_options_default(tp_log_options *o);
/* The tp_log_files that o describes (strings borrowed from o). */
TP_API void tp_log_options_files(const tp_log_options *o, tp_log_files *f);
/* Whether o asks for anything tp_log_open_files does (a file, or log_to_stderr given). */
TP_API bool tp_log_options_in_use(const tp_log_options *o);

#endif
