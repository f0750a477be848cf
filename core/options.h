/* tornado.options in C: option tables (name, type, field offset, bounds, help) that drive the
 * command line, config files, --help and the effective-settings dump. Parsed into typed
 * structs. See docs/options-and-log.md. */
#ifndef TP_CORE_OPTIONS_H
#define TP_CORE_OPTIONS_H

#include "platform/api.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "core/buf.h"

typedef enum {
    TP_OPT_BOOL,     /* bool */
    TP_OPT_INT,      /* int */
    TP_OPT_SIZE,     /* size_t, with k/m/g suffixes */
    TP_OPT_DOUBLE,   /* double (Tornado's float) */
    TP_OPT_STRING,   /* const char * (borrowed from argv or the config-file pool) */
    TP_OPT_DURATION, /* double seconds, Tornado's timedelta syntax: "1h 30m", "10ms", "1.5w" */
    TP_OPT_DATETIME, /* struct tm, one of Tornado's _DATETIME_FORMATS */
} tp_opt_type;

/* The field of a `multiple` option: n items of the option's type (int, size_t, double,
 * const char *, bool or struct tm) in items (owned by the options pool). */
typedef struct tp_opt_list {
    size_t n;
    void *items;
} tp_opt_list;

typedef struct tp_option tp_option;
/* Runs after the option got a value (command line, config file or tp_options_set); base is
 * the group's struct. A negative return rejects the value, with a message in err. */
typedef int (*tp_option_cb)(void *base, const tp_option *o, char *err, size_t errlen);

struct tp_option {
    const char *name; /* "max_body_size": "--max-body-size" and "--max_body_size" both work */
    tp_opt_type type;
    size_t offset; /* of the field in the group's struct */
    const char *help;
    double min, max;       /* bounds for numbers (each item of a list); both 0: none */
    const char *metavar;   /* --help shows --name=METAVAR */
    bool multiple;         /* a tp_opt_list: "a,b,c", ranges "1:3" for ints, [..] in config */
    bool append;           /* multiple: each --name adds to the list instead of replacing it */
    tp_option_cb callback; /* NULL: none */
};

/* One table row for field n_ of struct S, spelt "--n_" on the command line; more designated
 * fields (.min, .max, .metavar, .multiple, .callback...) may follow. */
#define TP_OPTION(S, n_, t_, h_, ...)                                                              \
    {                                                                                              \
        .name = #n_, .type = t_, .offset = offsetof(S, n_), .help = h_, __VA_ARGS__                \
    }

typedef struct tp_option_group {
    const char *title; /* group name: "TITLE options:" heading in --help, sorted by it */
    const tp_option *opts;
    size_t n;
    void *base; /* the struct the offsets refer to */
} tp_option_group;

/* Parses argv[1..] ("--name=value", "--flag", "--no-flag", "--" ends options) into the
 * groups until the first non-option, whose index goes to *rest. Strings point into argv.
 * 0, 1 if --help was given, or -EINVAL with a one-line message in err. */
TP_API int tp_options_parse(const tp_option_group *groups, size_t ngroups, int argc, char **argv,
                            int *rest, char *err, size_t errlen);
/* Parses one "name=value" / "flag" / "no-flag" (without the leading dashes); 0 or -EINVAL. */
TP_API int tp_options_parse_one(const tp_option_group *groups, size_t ngroups, const char *arg,
                                char *err, size_t errlen);
/* Sets one option by name from text (as on the command line); 0 or -EINVAL with err. */
TP_API int tp_options_set(const tp_option_group *groups, size_t ngroups, const char *name,
                          const char *value, char *err, size_t errlen);
/* Reads a config file of "name = value" lines with Python literal values ('str', "str", 12,
 * 1.5, True, False, None, [a, b]); parsed, never executed. Unknown names and bad values give
 * -EINVAL with "path:line: message" in err; an unreadable file -errno. Strings it sets live in
 * the options pool (until tp_options_pool_free). */
TP_API int tp_options_parse_config_file(const tp_option_group *groups, size_t ngroups,
                                        const char *path, char *err, size_t errlen);
/* The same for text already in memory; `name` is used in messages. */
TP_API int tp_options_parse_config_text(const tp_option_group *groups, size_t ngroups,
                                        const char *name, const char *text, size_t len, char *err,
                                        size_t errlen);
/* Finds an option by name (dashes or underscores); its field goes to *field. NULL if none. */
TP_API const tp_option *tp_options_find(const tp_option_group *groups, size_t ngroups,
                                        const char *name, void **field);

/* Prints Tornado's --help body: "\nOptions:\n\n", then per group sorted by title
 * "\nTITLE options:\n\n" and its options sorted by name, "  --%-30s help (default X)",
 * wrapped at 44 columns as textwrap does. Defaults shown are the current values. */
TP_API void tp_options_print_help(const tp_option_group *groups, size_t ngroups, FILE *out);
/* "Usage: PROG [OPTIONS]\n" then tp_options_print_help then a blank line (Tornado's layout). */
TP_API void tp_options_print_usage(const tp_option_group *groups, size_t ngroups, const char *prog,
                                   FILE *out);
/* Appends "name=value " for every option (the startup log line). */
TP_API void tp_options_describe(const tp_option_group *groups, size_t ngroups, tp_buf *out);
/* Tornado's group_dict: appends "name=value\n" for each option of the group titled `title`
 * (every group if NULL); the number of options, or -ENOENT if there is no such group. */
TP_API int tp_options_group_dict(const tp_option_group *groups, size_t ngroups, const char *title,
                                 tp_buf *out);
/* Appends the value of option o of a group whose struct is base, as Python's str() shows it
 * (True, 1.5, 0:01:30, 2013-01-01 00:00:00, [1, 2]). */
TP_API void tp_options_format(const tp_option *o, const void *base, tp_buf *out);

/* Frees the strings and lists the parsers allocated; fields pointing into them dangle. */
TP_API void tp_options_pool_free(void);

#endif
