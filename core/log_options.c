#include "core/log_options.h"

static int stderr_given(void *base, const tp_option *o, char *err, size_t errlen)
{
    (void)o, (void)err, (void)errlen;
    ((tp_log_options *)base)->log_to_stderr_given = true;
    return 0;
}

/* --log-rotate-mode and --log-rotate-when are checked when given. */
static int check_rotation(void *base, const tp_option *o, char *err, size_t errlen)
{
    (void)o;
    tp_log_files f;
    tp_log_options_files(base, &f);
    return tp_log_check_files(&f, err, errlen);
}

#define LOPT(n_, t_, h_, ...) TP_OPTION(tp_log_options, n_, t_, h_, __VA_ARGS__)
const tp_option tp_log_option_table[] = {
    LOPT(log_file_prefix, TP_OPT_STRING,
         "Path prefix for log files (tornado-prefork: the master logs to PATH, worker slot N to "
         "PATH.wN, each rotated)",
         .metavar = "PATH"),
    LOPT(log_access_file_prefix, TP_OPT_STRING,
         "access lines to their own files (PATH, PATH.wN), rotated alike", .metavar = "PATH"),
    LOPT(log_file_max_size, TP_OPT_SIZE, "max size of log files before rollover"),
    LOPT(log_file_num_backups, TP_OPT_INT, "number of log files to keep", .max = 100000),
    LOPT(log_rotate_mode, TP_OPT_STRING, "The mode of rotating files(time or size)",
         .callback = check_rotation),
    LOPT(log_rotate_when, TP_OPT_STRING,
         "specify the type of TimedRotatingFileHandler interval other options:('S', 'M', 'H', "
         "'D', 'W0'-'W6')",
         .callback = check_rotation),
    LOPT(log_rotate_interval, TP_OPT_INT, "The interval value of timed rotating", .min = 1,
         .max = 1000000),
    LOPT(log_to_stderr, TP_OPT_BOOL,
         "Send log output to stderr (colorized if possible). By default use stderr if "
         "--log_file_prefix is not set",
         .callback = stderr_given),
};
const size_t tp_log_option_count = sizeof(tp_log_option_table) / sizeof(tp_log_option_table[0]);

void tp_log_options_default(tp_log_options *o)
{
    *o = (tp_log_options){.log_file_prefix = "",
                          .log_access_file_prefix = "",
                          .log_rotate_mode = "size",
                          .log_rotate_when = "midnight",
                          .log_file_max_size = 100000000,
                          .log_file_num_backups = 10,
                          .log_rotate_interval = 1};
}

void tp_log_options_files(const tp_log_options *o, tp_log_files *f)
{
    tp_log_files_default(f);
    f->prefix = o->log_file_prefix;
    f->access_prefix = o->log_access_file_prefix;
    f->rotate_mode = o->log_rotate_mode;
    f->rotate_when = o->log_rotate_when;
    f->max_size = o->log_file_max_size;
    f->num_backups = o->log_file_num_backups;
    f->rotate_interval = o->log_rotate_interval;
    f->to_stderr = o->log_to_stderr_given ? o->log_to_stderr : -1;
}

bool tp_log_options_in_use(const tp_log_options *o)
{
    return (o->log_file_prefix && *o->log_file_prefix) ||
           (o->log_access_file_prefix && *o->log_access_file_prefix) || o->log_to_stderr_given;
}
