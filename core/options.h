/* tornado.options in C: option tables (name, type, field offset, bounds, help) that drive the
 * command line, --help and the effective-settings dump. Parsed once into typed structs. */
#ifndef TP_CORE_OPTIONS_H
#define TP_CORE_OPTIONS_H

#include "platform/api.h"

#include <stddef.h>
#include <stdio.h>

#include "core/buf.h"

typedef enum { TP_OPT_BOOL, TP_OPT_INT, TP_OPT_SIZE, TP_OPT_DOUBLE, TP_OPT_STRING } tp_opt_type;

typedef struct tp_option {
    const char *name; /* "max_body_size": "--max-body-size" and "--max_body_size" both work */
    tp_opt_type type; /* bool, int, size_t (k/m/g suffixes), double, const char * */
    size_t offset;    /* of the field in the group's struct */
    const char *help;
    double min, max; /* bounds for numbers; both 0: none */
} tp_option;

typedef struct tp_option_group {
    const char *title; /* heading in --help */
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
/* Sets one option by name from text (the config-file path); 0 or -EINVAL with err. */
TP_API int tp_options_set(const tp_option_group *groups, size_t ngroups, const char *name,
                          const char *value, char *err, size_t errlen);
/* Prints every option with its help and current value. */
TP_API void tp_options_print_help(const tp_option_group *groups, size_t ngroups, FILE *out);
/* Appends "name=value " for every option (the startup log line). */
TP_API void tp_options_describe(const tp_option_group *groups, size_t ngroups, tp_buf *out);

#endif
