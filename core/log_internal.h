/* Shared by core/log.c and core/log_file.c: an output of the logger (fd or rotating file) with
 * its line buffer, and the rotation policy. */
#ifndef TP_CORE_LOG_INTERNAL_H
#define TP_CORE_LOG_INTERNAL_H

#include "core/log.h"

#include <stdint.h>

#include "core/buf.h"

typedef enum { TP__ROTATE_NONE, TP__ROTATE_SIZE, TP__ROTATE_TIME } tp__rotate_mode;

typedef struct tp__log_rotation {
    tp__rotate_mode mode;
    uint64_t max_size;
    int backups;
    char when[16]; /* upper case: S M H D MIDNIGHT W0..W6 */
    int interval;
} tp__log_rotation;

typedef struct tp__log_sink {
    int fd; /* -1: not in use */
    bool own_fd;
    bool color;
    char *path; /* a file's name (NULL for a plain fd) */
    tp_buf out;
    uint64_t size;      /* bytes in the current file, as far as this process knows */
    time_t rollover_at; /* time mode */
} tp__log_sink;

/* Parses f's rotation settings into r; 0 or -EINVAL with err. */
int tp__log_rotation_parse(const tp_log_files *f, tp__log_rotation *r, char *err, size_t errlen);
/* Opens path (append, create) as sink s, sizing it and timing its first rollover. */
int tp__log_sink_open(tp__log_sink *s, const char *path, const tp__log_rotation *r, time_t now);
/* Writes s's buffered lines, rotating first when the policy says so. */
void tp__log_sink_flush(tp__log_sink *s, const tp__log_rotation *r, time_t now);
/* Closes a file sink (a plain fd is left open) after writing what it holds. */
void tp__log_sink_close(tp__log_sink *s, const tp__log_rotation *r, time_t now);

#endif
