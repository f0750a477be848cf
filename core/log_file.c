/* Log files: opening, writing buffered lines, and rotation as Python's RotatingFileHandler
 * (by size: file, file.1, file.2, ...) and TimedRotatingFileHandler (by time: file.2026-12-05
 * and the like) do it. Rotation is decided when buffered lines are written (once per loop
 * iteration), never per line. Several processes may append to one file (a worker and its
 * replacement share a slot's file for a while): a rotation takes flock on the file and checks
 * that the name still refers to it; a process that finds the file already rotated by another
 * just reopens the name. */
#include "core/log_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"

/* TimedRotatingFileHandler's `when` values: seconds per unit, name suffix, and the suffix's
 * shape ('d' a digit) for finding old backups. */
static const struct {
    const char *when;
    int unit;
    const char *suffix, *shape;
} whens[] = {
    {"S", 1, "%Y-%m-%d_%H-%M-%S", "dddd-dd-dd_dd-dd-dd"},
    {"M", 60, "%Y-%m-%d_%H-%M", "dddd-dd-dd_dd-dd"},
    {"H", 3600, "%Y-%m-%d_%H", "dddd-dd-dd_dd"},
    {"D", 86400, "%Y-%m-%d", "dddd-dd-dd"},
    {"MIDNIGHT", 86400, "%Y-%m-%d", "dddd-dd-dd"},
    {"W", 604800, "%Y-%m-%d", "dddd-dd-dd"},
};

static int when_index(const char *when)
{
    for (size_t i = 0; i < sizeof(whens) / sizeof(whens[0]); i++)
        if (!strcmp(when, whens[i].when) || (when[0] == 'W' && !strcmp(whens[i].when, "W") &&
                                             when[1] >= '0' && when[1] <= '6' && !when[2]))
            return (int)i;
    return -1;
}

int tp__log_rotation_parse(const tp_log_files *f, tp__log_rotation *r, char *err, size_t errlen)
{
    *r = (tp__log_rotation){.max_size = f->max_size, .backups = f->num_backups};
    const char *mode = f->rotate_mode ? f->rotate_mode : "size";
    if (!strcmp(mode, "size")) {
        r->mode = TP__ROTATE_SIZE;
    } else if (!strcmp(mode, "time")) {
        r->mode = TP__ROTATE_TIME;
    } else {
        snprintf(err, errlen, "log_rotate_mode should be \"size\" or \"time\", not \"%s\"", mode);
        return -EINVAL;
    }
    const char *when = f->rotate_when ? f->rotate_when : "midnight";
    size_t i = 0;
    for (; when[i] && i < sizeof(r->when) - 1; i++)
        r->when[i] = (char)toupper((unsigned char)when[i]);
    r->when[i] = '\0';
    if (when[i] || when_index(r->when) < 0) {
        snprintf(err, errlen, "log_rotate_when: '%s' is not S, M, H, D, midnight or W0-W6", when);
        return -EINVAL;
    }
    r->interval = f->rotate_interval;
    if (r->interval < 1 || f->num_backups < 0) {
        snprintf(err, errlen,
                 "log_rotate_interval (%d) must be at least 1 and "
                 "log_file_num_backups (%d) not negative",
                 f->rotate_interval, f->num_backups);
        return -EINVAL;
    }
    return 0;
}

static time_t interval_seconds(const tp__log_rotation *r)
{
    return (time_t)whens[when_index(r->when)].unit * r->interval;
}

/* TimedRotatingFileHandler.computeRollover (local time, no atTime). */
static time_t compute_rollover(const tp__log_rotation *r, time_t t)
{
    if (strcmp(r->when, "MIDNIGHT") && r->when[0] != 'W')
        return t + interval_seconds(r);
    struct tm tm;
    localtime_r(&t, &tm);
    time_t result = t + 86400 - ((tm.tm_hour * 60 + tm.tm_min) * 60 + tm.tm_sec);
    if (r->when[0] == 'W') {
        int day = (tm.tm_wday + 6) % 7, want = r->when[1] - '0'; /* 0 is Monday */
        if (day != want)
            result += 86400 * (day < want ? want - day : 6 - day + want + 1);
    }
    return result;
}

static int open_append(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
}

/* Switches s to a fresh open of its name; keeps the old fd if that fails. */
static void reopen_name(tp__log_sink *s)
{
    int fd = open_append(s->path);
    if (fd < 0)
        return;
    close(s->fd); /* also drops our flock on the old file */
    s->fd = fd;
    struct stat st;
    s->size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
}

int tp__log_sink_open(tp__log_sink *s, const char *path, const tp__log_rotation *r, time_t now)
{
    struct stat st;
    time_t base = stat(path, &st) == 0 ? st.st_mtime : now; /* as Python: the file's age */
    int fd = open_append(path);
    if (fd < 0)
        return -errno;
    s->fd = fd;
    s->own_fd = true;
    s->color = false;
    s->path = tp_strndup(path, strlen(path));
    s->size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    s->rollover_at = compute_rollover(r, base);
    return 0;
}

/* 0: the file is ours to rotate (locked); 1: another process rotated it, we follow the name;
 * -1: another process is rotating it right now. */
static int lock_or_follow(tp__log_sink *s)
{
    if (flock(s->fd, LOCK_EX | LOCK_NB) < 0)
        return -1;
    struct stat mine, named;
    if (fstat(s->fd, &mine) == 0 && stat(s->path, &named) == 0 && mine.st_ino == named.st_ino &&
        mine.st_dev == named.st_dev)
        return 0;
    reopen_name(s);
    return 1;
}

static int rotate_size(tp__log_sink *s, const tp__log_rotation *r)
{
    int l = lock_or_follow(s);
    if (l)
        return l;
    size_t n = strlen(s->path) + 16;
    char *from = tp_malloc(n), *to = tp_malloc(n);
    for (int i = r->backups - 1; i >= 1; i--) {
        snprintf(from, n, "%s.%d", s->path, i);
        snprintf(to, n, "%s.%d", s->path, i + 1);
        rename(from, to);
    }
    snprintf(to, n, "%s.1", s->path);
    rename(s->path, to);
    tp_free(from);
    tp_free(to);
    reopen_name(s);
    return 0;
}

static bool shape_matches(const char *name, const char *shape)
{
    for (; *shape; shape++, name++)
        if (*shape == 'd' ? !isdigit((unsigned char)*name) : *name != *shape)
            return false;
    return !*name;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Removes the oldest time-stamped backups beyond r->backups (getFilesToDelete, but only
 * names exactly PATH.SUFFIX: a worker's PATH.w0... files are not this file's backups). */
static void delete_old(const tp__log_sink *s, const tp__log_rotation *r)
{
    const char *slash = strrchr(s->path, '/');
    char *dir = slash ? tp_strndup(s->path, (size_t)(slash - s->path) + 1) : tp_strndup(".", 1);
    const char *base = slash ? slash + 1 : s->path;
    size_t blen = strlen(base), n = 0, cap = 0;
    char **names = NULL;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (strncmp(e->d_name, base, blen) || e->d_name[blen] != '.' ||
            !shape_matches(e->d_name + blen + 1, whens[when_index(r->when)].shape))
            continue;
        if (n == cap)
            names = tp_realloc(names, (cap = cap ? cap * 2 : 16) * sizeof(*names));
        names[n++] = tp_strndup(e->d_name, strlen(e->d_name));
    }
    if (d)
        closedir(d);
    qsort(names, n, sizeof(*names), by_name);
    for (size_t i = 0; i < n; i++) {
        if (n > (size_t)r->backups && i < n - (size_t)r->backups) {
            char path[PATH_MAX];
            snprintf(path, sizeof(path), "%s%s", slash ? dir : "", names[i]);
            unlink(path);
        }
        tp_free(names[i]);
    }
    tp_free(names);
    tp_free(dir);
}

static void rotate_time(tp__log_sink *s, const tp__log_rotation *r, time_t now)
{
    int l = lock_or_follow(s);
    if (l < 0)
        return; /* another process is rotating it: try at the next flush */
    if (l == 0) {
        time_t t = s->rollover_at - interval_seconds(r);
        struct tm tm;
        char stamp[64];
        localtime_r(&t, &tm);
        strftime(stamp, sizeof(stamp), whens[when_index(r->when)].suffix, &tm);
        size_t n = strlen(s->path) + strlen(stamp) + 2;
        char *to = tp_malloc(n);
        snprintf(to, n, "%s.%s", s->path, stamp);
        unlink(to);
        rename(s->path, to);
        tp_free(to);
        if (r->backups > 0)
            delete_old(s, r);
        reopen_name(s);
    }
    time_t next = compute_rollover(r, now);
    while (next <= now)
        next += interval_seconds(r);
    s->rollover_at = next;
}

/* Bytes of the whole lines at the head of the buffer that keep the file under max_size
 * (Python rotates before a record when tell() + len(record) >= maxBytes). */
static size_t fitting(const tp__log_sink *s, const tp__log_rotation *r)
{
    const char *p = tp_buf_data(&s->out);
    size_t fit = 0;
    for (;;) {
        const char *nl = memchr(p + fit, '\n', s->out.len - fit);
        size_t end = nl ? (size_t)(nl - p) + 1 : s->out.len;
        if (s->size + end >= r->max_size)
            return fit;
        fit = end;
        if (!nl || fit == s->out.len)
            return fit;
    }
}

static void write_out(tp__log_sink *s, size_t n)
{
    while (n) {
        ssize_t w = write(s->fd, tp_buf_data(&s->out), n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            tp_buf_clear(&s->out); /* nowhere to log to: drop rather than block or spin */
            return;
        }
        tp_buf_consume(&s->out, (size_t)w);
        s->size += (uint64_t)w;
        n -= (size_t)w;
    }
}

void tp__log_sink_flush(tp__log_sink *s, const tp__log_rotation *r, time_t now)
{
    if (!s->out.len || s->fd < 0)
        return;
    if (s->path && r->mode == TP__ROTATE_TIME && now >= s->rollover_at)
        rotate_time(s, r, now);
    bool just_rotated = false;
    while (s->out.len) {
        size_t n = s->out.len;
        if (s->path && r->mode == TP__ROTATE_SIZE && r->max_size && r->backups > 0 &&
            s->size + n >= r->max_size && (n = fitting(s, r)) == 0) {
            if (s->size > 0 && !just_rotated && rotate_size(s, r) >= 0) {
                just_rotated = true;
                continue;
            }
            const char *nl = memchr(tp_buf_data(&s->out), '\n', s->out.len);
            n = nl ? (size_t)(nl - tp_buf_data(&s->out)) + 1 : s->out.len;
        }
        write_out(s, n);
        just_rotated = false;
    }
    tp_buf_clear(&s->out);
}

void tp__log_sink_close(tp__log_sink *s, const tp__log_rotation *r, time_t now)
{
    tp__log_sink_flush(s, r, now);
    if (s->own_fd && s->fd >= 0)
        close(s->fd);
    tp_free(s->path);
    tp_buf_free(&s->out);
    *s = (tp__log_sink){.fd = -1};
}
