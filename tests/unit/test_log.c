/* tornado.log in C (core/log.h): the cases of Tornado's log_test.py that C has (the formatter:
 * colours on a terminal, continuation lines, unicode, bytes that are not UTF-8; channels and
 * levels) and the file handling of define_logging_options: rotation by size (Python's
 * RotatingFileHandler) and by time (TimedRotatingFileHandler) with the clock injected,
 * reopening, and two processes sharing one file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/loop.h"
#include "tests/unit/suites.h"

static time_t fake_now;
static time_t fake_clock(void)
{
    return fake_now;
}

static const char *stamp_of(time_t t)
{
    static char s[32];
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(s, sizeof(s), "%y%m%d %H:%M:%S", &tm);
    return s;
}

/* A local time as time_t (the rotation names use local time, as Python's). */
static time_t local(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s,
                    .tm_isdst = -1};
    return mktime(&tm);
}

static void reset_logger(void)
{
    tp_log_close_files();
    tp_log_set_level(TP_LOG_INFO);
    tp_log_set_access(true);
    tp_log_set_color(TP_LOG_COLOR_AUTO);
    tp_log_set_tag(NULL);
    fake_now = local(2026, 1, 10, 10, 0, 0);
    tp_log_set_clock(fake_clock);
}

/* Reads what is waiting on fd (non-blocking) into a static buffer. */
static const char *drain(int fd)
{
    static char buf[8192];
    size_t n = 0;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    for (ssize_t r; n < sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0;)
        n += (size_t)r;
    buf[n] = '\0';
    return buf;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *text = tp_calloc(1, 1 << 20);
    size_t n = fread(text, 1, (1 << 20) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* The formatter tests log to a pipe. */
static int logpipe[2];

static void pipe_setup(void)
{
    reset_logger();
    ck_assert_int_eq(pipe(logpipe), 0);
    tp_log_set_fd(logpipe[1]);
}

static void pipe_teardown(void)
{
    reset_logger();
    close(logpipe[0]);
    close(logpipe[1]);
}

/* The pipe must hold want_fmt with the fake clock's time stamp for its %1$s / %s. */
static void expect_pipe(const char *want_fmt)
{
    char want[1024];
    snprintf(want, sizeof(want), want_fmt, stamp_of(fake_now));
    ck_assert_str_eq(drain(logpipe[0]), want);
}

/* Reads from fd until want has arrived (a pty may deliver in pieces; generous deadline). */
static void expect_from(int fd, const char *want)
{
    char got[512] = "";
    for (int tries = 0; tries < 3000 && strlen(got) < strlen(want); tries++) {
        strncat(got, drain(fd), sizeof(got) - strlen(got) - 1);
        if (strlen(got) < strlen(want))
            usleep(10000);
    }
    ck_assert_str_eq(got, want);
}

START_TEST(format_plain)
{
    tp_log_write(TP_LOG_INFO, "web/handler.c", 42, "200 GET / (%s) %.2fms", "127.0.0.1", 0.52);
    expect_pipe("[I %s handler:42] 200 GET / (127.0.0.1) 0.52ms\n");
    /* The level letters; a tag follows the bracket. */
    tp_log_set_level(TP_LOG_DEBUG);
    tp_log_set_tag("worker[3] ");
    tp_log_write(TP_LOG_DEBUG, "a.c", 1, "d");
    tp_log_write(TP_LOG_WARNING, "a.c", 1, "w");
    tp_log_write(TP_LOG_ERROR, "a.c", 1, "e");
    tp_log_write(TP_LOG_CRITICAL, "a.c", 1, "c");
    expect_pipe("[D %1$s a:1] worker[3] d\n[W %1$s a:1] worker[3] w\n[E %1$s a:1] worker[3] e\n"
                "[C %1$s a:1] worker[3] c\n");
}
END_TEST

START_TEST(continuation_lines_and_trace)
{
    tp_log_write(TP_LOG_INFO, "m.c", 5, "first\nsecond\n  third");
    expect_pipe("[I %s m:5] first\n    second\n      third\n");
    /* An exception text block: the message right-stripped, each trace line indented. */
    tp_log_write_trace(
        TP_LOG_APP, TP_LOG_ERROR, "m.c", 6,
        "Traceback (most recent call last):\n  File \"x\", line 1\nZeroDivisionError\n",
        "Uncaught exception %s  \n", "GET /");
    expect_pipe("[E %s m:6] Uncaught exception GET /\n    Traceback (most recent call last):\n"
                "      File \"x\", line 1\n    ZeroDivisionError\n");
}
END_TEST

START_TEST(unicode_and_bad_bytes)
{
    /* UTF-8 goes out as it is (log_test.py's test_utf8_logging). */
    tp_log_write(TP_LOG_INFO, "m.c", 1, "%s", "\xe9 \xe6\x9d\x8e \xf0\x9f\x98\x80");
    tp_log_write(TP_LOG_INFO, "m.c", 2, "%s", "\xc3\xa9");
    /* Bytes that are not UTF-8 as \xNN (test_bytes_exception_logging: no crash, shown as
     * escapes), also a truncated sequence and a surrogate. */
    tp_log_write(TP_LOG_INFO, "m.c", 3, "%s", "a\xff\xfe b \xe6\x9d c \xed\xa0\x80");
    expect_pipe("[I %1$s m:1] \\xe9 \xe6\x9d\x8e \xf0\x9f\x98\x80\n[I %1$s m:2] \xc3\xa9\n"
                "[I %1$s m:3] a\\xff\\xfe b \\xe6\\x9d c \\xed\\xa0\\x80\n");
}
END_TEST

/* Colours with a real terminal (openpty), as LogFormatter shows them: the bracket field
 * wrapped in the level's colour. */
START_TEST(colors_on_a_tty)
{
    reset_logger();
    int master, slave;
    ck_assert_int_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
    struct termios t;
    tcgetattr(slave, &t);
    cfmakeraw(&t);
    tcsetattr(slave, TCSANOW, &t);
    setenv("TERM", "xterm", 1);
    tp_log_set_fd(slave);
    tp_log_set_level(TP_LOG_DEBUG);
    static const struct {
        int level;
        const char *code;
        char letter;
    } levels[] = {{TP_LOG_DEBUG, "\033[34m", 'D'},
                  {TP_LOG_INFO, "\033[32m", 'I'},
                  {TP_LOG_WARNING, "\033[33m", 'W'},
                  {TP_LOG_ERROR, "\033[31m", 'E'},
                  {TP_LOG_CRITICAL, "\033[35m", 'C'}};
    char want[256];
    for (size_t i = 0; i < 5; i++) {
        tp_log_write(levels[i].level, "m.c", 9, "hello\nworld");
        snprintf(want, sizeof(want), "%s[%c %s m:9]\033[0m hello\n    world\n", levels[i].code,
                 levels[i].letter, stamp_of(fake_now));
        expect_from(master, want);
    }
    /* Asked off: no colour on the terminal either; TERM=dumb: none. */
    tp_log_set_color(TP_LOG_COLOR_OFF);
    tp_log_write(TP_LOG_INFO, "m.c", 9, "x");
    snprintf(want, sizeof(want), "[I %s m:9] x\n", stamp_of(fake_now));
    expect_from(master, want);
    setenv("TERM", "dumb", 1);
    tp_log_set_color(TP_LOG_COLOR_AUTO);
    tp_log_write(TP_LOG_INFO, "m.c", 9, "x");
    expect_from(master, want);
    reset_logger();
    close(master);
    close(slave);
}
END_TEST

START_TEST(no_colors_on_a_pipe)
{
    setenv("TERM", "xterm", 1);
    tp_log_set_color(TP_LOG_COLOR_AUTO);
    tp_log_write(TP_LOG_ERROR, "m.c", 1, "x");
    ck_assert_ptr_null(strchr(drain(logpipe[0]), '\033'));
    /* Forced on (LogFormatter(color=True) on a non-terminal). */
    tp_log_set_color(TP_LOG_COLOR_ON);
    tp_log_write(TP_LOG_ERROR, "m.c", 1, "x");
    ck_assert_ptr_nonnull(strstr(drain(logpipe[0]), "\033[31m[E "));
}
END_TEST

START_TEST(channels_and_levels)
{
    tp_log_set_channel_level(TP_LOG_ACCESS, TP_LOG_WARNING);
    ck_assert(!tp_log_enabled(TP_LOG_ACCESS, TP_LOG_INFO));
    ck_assert(tp_log_enabled(TP_LOG_GENERAL, TP_LOG_INFO));
    tp_log_cwrite(TP_LOG_ACCESS, TP_LOG_INFO, "web.c", 1, "200 hidden");
    tp_log_cwrite(TP_LOG_ACCESS, TP_LOG_WARNING, "web.c", 1, "404 shown");
    tp_log_cwrite(TP_LOG_APP, TP_LOG_INFO, "app.c", 1, "app shown");
    tp_log_set_channel_level(TP_LOG_APP, TP_LOG_ERROR);
    tp_log_cwrite(TP_LOG_APP, TP_LOG_WARNING, "app.c", 1, "app hidden");
    tp_log_set_access(false);
    tp_log_cwrite(TP_LOG_ACCESS, TP_LOG_ERROR, "web.c", 1, "500 hidden");
    const char *out = drain(logpipe[0]);
    ck_assert_ptr_nonnull(strstr(out, "404 shown"));
    ck_assert_ptr_nonnull(strstr(out, "app shown"));
    ck_assert_ptr_null(strstr(out, "hidden"));
    ck_assert_int_eq(tp_log_level_parse("critical"), TP_LOG_CRITICAL);
    ck_assert_int_eq(tp_log_level_parse("bogus"), -1);
}
END_TEST

/* ---- files ------------------------------------------------------------------------------ */

static char dir[64];

static void make_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/tp-log-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.')
            unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static int count_lines(const char *path)
{
    char *t = slurp(path);
    if (!t)
        return -1;
    int n = 0;
    for (char *p = t; (p = strchr(p, '\n')); p++)
        n++;
    tp_free(t);
    return n;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void open_files(const char *mode, size_t max, int backups, const char *when, int interval)
{
    char prefix[128], err[256];
    snprintf(prefix, sizeof(prefix), "%s/app.log", dir);
    tp_log_files f;
    tp_log_files_default(&f);
    f.prefix = prefix;
    f.rotate_mode = mode;
    f.max_size = max;
    f.num_backups = backups;
    f.rotate_when = when;
    f.rotate_interval = interval;
    f.to_stderr = 0;
    ck_assert_msg(tp_log_open_files(&f, NULL, err, sizeof(err)) == 0, "%s", err);
    ck_assert(tp_log_has_files());
}

/* Every line is the same length: "[I 260110 10:00:00 m:1] line NNN\n" is 33 bytes. */
#define LINE_LEN 33
static void log_line(int i)
{
    tp_log_write(TP_LOG_INFO, "m.c", 1, "line %03d", i);
}

/* What RotatingFileHandler makes of n lines: lines per file (file, file.1, ...). */
static void python_rotation(int n, int max, int backups, int *per_file)
{
    int files[64] = {0}, size = 0;
    for (int i = 0; i < n; i++) {
        if (size + LINE_LEN >= max) {
            for (int k = backups; k > 0; k--)
                files[k] = files[k - 1];
            files[0] = 0;
            size = 0;
        }
        files[0]++;
        size += LINE_LEN;
    }
    memcpy(per_file, files, sizeof(int) * (size_t)(backups + 1));
}

static void check_size_rotation(int n, int max, int backups)
{
    int want[64];
    python_rotation(n, max, backups, want);
    for (int k = 0; k <= backups + 1; k++) {
        char p[256];
        if (k)
            snprintf(p, sizeof(p), "%s/app.log.%d", dir, k);
        else
            snprintf(p, sizeof(p), "%s/app.log", dir);
        int got = count_lines(p);
        if (k == backups + 1) {
            ck_assert_msg(got == -1, "%s exists", p);
            continue;
        }
        ck_assert_msg(got == want[k], "%s: %d lines, Python would have %d", p, got, want[k]);
        ck_assert_int_lt(file_size(p), max);
    }
    /* The newest line is last in app.log, the one before it last in app.log.1 or above. */
    char p[256], last[32];
    snprintf(p, sizeof(p), "%s/app.log", dir);
    char *t = slurp(p);
    snprintf(last, sizeof(last), "line %03d\n", n - 1);
    ck_assert_ptr_nonnull(strstr(t, last));
    tp_free(t);
}

START_TEST(rotate_by_size)
{
    reset_logger();
    make_dir();
    open_files("size", 200, 3, "midnight", 1);
    for (int i = 0; i < 40; i++)
        log_line(i);
    check_size_rotation(40, 200, 3);
    reset_logger();
    remove_dir();
}
END_TEST

static void log_batch(tp_loop *loop, void *arg)
{
    int *n = arg;
    for (int i = 0; i < *n; i++)
        log_line(i);
    tp_loop_stop(loop);
}

/* Inside a running loop the lines go out in one write per iteration; the rotation still
 * splits them where Python's per-record check would. */
START_TEST(rotate_by_size_batched)
{
    reset_logger();
    make_dir();
    open_files("size", 150, 4, "midnight", 1);
    tp_loop *loop = tp_loop_new();
    int n = 23;
    ck_assert_int_eq(tp_loop_run_sync(loop, log_batch, &n, 30), 0);
    tp_log_flush();
    tp_loop_free(loop);
    check_size_rotation(23, 150, 4);
    reset_logger();
    remove_dir();
}
END_TEST

START_TEST(rotate_by_size_zero_backups_never_rotates)
{
    reset_logger();
    make_dir();
    open_files("size", 100, 0, "midnight", 1);
    for (int i = 0; i < 10; i++)
        log_line(i);
    char p[256];
    snprintf(p, sizeof(p), "%s/app.log", dir);
    ck_assert_int_eq(count_lines(p), 10);
    snprintf(p, sizeof(p), "%s/app.log.1", dir);
    ck_assert_int_eq(access(p, F_OK), -1);
    reset_logger();
    remove_dir();
}
END_TEST

static bool exists(const char *name)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

START_TEST(rotate_by_time)
{
    reset_logger();
    make_dir();
    fake_now = local(2026, 1, 10, 10, 0, 0);
    open_files("time", 0, 2, "M", 1); /* rollover at 10:01:00 */
    log_line(0);
    fake_now += 59;
    log_line(1);
    ck_assert(!exists("app.log.2026-01-10_10-00"));
    fake_now += 2; /* 10:01:01 */
    log_line(2);
    ck_assert(exists("app.log.2026-01-10_10-00"));
    char p[256];
    snprintf(p, sizeof(p), "%s/app.log.2026-01-10_10-00", dir);
    ck_assert_int_eq(count_lines(p), 2);
    snprintf(p, sizeof(p), "%s/app.log", dir);
    ck_assert_int_eq(count_lines(p), 1);
    /* The next rollover is a minute after the rotation (10:02:01), named for its start. */
    fake_now += 59;
    log_line(3);
    ck_assert(!exists("app.log.2026-01-10_10-01"));
    fake_now += 1;
    log_line(4);
    ck_assert(exists("app.log.2026-01-10_10-01"));
    /* Two backups kept: the third rotation deletes the oldest; idle periods are skipped. */
    fake_now += 3600;
    log_line(5);
    ck_assert(exists("app.log.2026-01-10_10-02"));
    ck_assert(exists("app.log.2026-01-10_10-01"));
    ck_assert(!exists("app.log.2026-01-10_10-00"));
    /* Files that only look alike are left alone. */
    snprintf(p, sizeof(p), "%s/app.log.w0.2026-01-01_00-00", dir);
    close(open(p, O_CREAT | O_WRONLY, 0644));
    fake_now += 3600;
    log_line(6);
    ck_assert(exists("app.log.w0.2026-01-01_00-00"));
    reset_logger();
    remove_dir();
}
END_TEST

START_TEST(rotate_at_midnight)
{
    reset_logger();
    make_dir();
    fake_now = local(2026, 3, 4, 23, 59, 50);
    open_files("time", 0, 5, "midnight", 1);
    log_line(0);
    fake_now = local(2026, 3, 5, 0, 0, 5);
    log_line(1);
    ck_assert(exists("app.log.2026-03-04"));
    /* Hours: S/M/H/D take the interval. */
    reset_logger();
    remove_dir();
    make_dir();
    fake_now = local(2026, 3, 4, 12, 30, 0);
    open_files("time", 0, 5, "h", 2);
    log_line(0);
    fake_now += 2 * 3600 - 1;
    log_line(1);
    ck_assert(!exists("app.log.2026-03-04_12"));
    fake_now += 1;
    log_line(2);
    ck_assert(exists("app.log.2026-03-04_12"));
    reset_logger();
    remove_dir();
}
END_TEST

START_TEST(bad_file_settings)
{
    reset_logger();
    char err[256];
    tp_log_files f;
    tp_log_files_default(&f);
    f.rotate_mode = "weekly";
    ck_assert_int_eq(tp_log_check_files(&f, err, sizeof(err)), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "weekly"));
    tp_log_files_default(&f);
    f.rotate_when = "Q";
    ck_assert_int_eq(tp_log_check_files(&f, err, sizeof(err)), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "'Q'"));
    f.rotate_when = "w7";
    ck_assert_int_eq(tp_log_check_files(&f, err, sizeof(err)), -EINVAL);
    f.rotate_when = "w6";
    ck_assert_int_eq(tp_log_check_files(&f, err, sizeof(err)), 0);
    f.prefix = "/nonexistent-dir/x.log";
    ck_assert_int_lt(tp_log_open_files(&f, NULL, err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent-dir/x.log"));
    ck_assert(!tp_log_has_files());
    reset_logger();
}
END_TEST

/* log_to_stderr next to a file, an access file, a suffix, and a reopen after a rename. */
START_TEST(stderr_access_suffix_reopen)
{
    reset_logger();
    make_dir();
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    int saved = dup(2);
    dup2(p[1], 2);
    char prefix[128], access_prefix[128], err[256], path[256];
    snprintf(prefix, sizeof(prefix), "%s/app.log", dir);
    snprintf(access_prefix, sizeof(access_prefix), "%s/access.log", dir);
    tp_log_files f;
    tp_log_files_default(&f);
    f.prefix = prefix;
    f.access_prefix = access_prefix;
    f.to_stderr = 1;
    ck_assert_int_eq(tp_log_open_files(&f, ".w2", err, sizeof(err)), 0);
    tp_log_write(TP_LOG_INFO, "m.c", 1, "general");
    tp_log_cwrite(TP_LOG_ACCESS, TP_LOG_INFO, "web.c", 1, "200 GET /");
    const char *out = drain(p[0]);
    ck_assert_ptr_nonnull(strstr(out, "general"));
    ck_assert_ptr_nonnull(strstr(out, "200 GET /"));
    snprintf(path, sizeof(path), "%s.w2", prefix);
    char *t = slurp(path);
    ck_assert_ptr_nonnull(strstr(t, "general"));
    ck_assert_ptr_null(strstr(t, "200 GET"));
    tp_free(t);
    snprintf(path, sizeof(path), "%s.w2", access_prefix);
    t = slurp(path);
    ck_assert_ptr_nonnull(strstr(t, "200 GET /"));
    tp_free(t);
    /* logrotate-style: rename, then reopen (USR1) makes a fresh file. */
    char moved[300];
    snprintf(path, sizeof(path), "%s.w2", prefix);
    snprintf(moved, sizeof(moved), "%s.old", path);
    ck_assert_int_eq(rename(path, moved), 0);
    tp_log_write(TP_LOG_INFO, "m.c", 1, "before reopen");
    ck_assert_int_eq(tp_log_reopen(), 0);
    tp_log_write(TP_LOG_INFO, "m.c", 1, "after reopen");
    t = slurp(path);
    ck_assert_ptr_nonnull(strstr(t, "after reopen"));
    ck_assert_ptr_null(strstr(t, "before reopen"));
    tp_free(t);
    /* Another suffix (a worker after fork). */
    ck_assert_int_eq(tp_log_reopen_suffix(".w5"), 0);
    tp_log_write(TP_LOG_INFO, "m.c", 1, "worker five");
    snprintf(path, sizeof(path), "%s.w5", prefix);
    t = slurp(path);
    ck_assert_ptr_nonnull(strstr(t, "worker five"));
    tp_free(t);
    reset_logger();
    dup2(saved, 2);
    close(saved);
    close(p[0]);
    close(p[1]);
    remove_dir();
}
END_TEST

/* A worker and its replacement append to one slot file for a while: both rotate it, and no
 * line is lost or torn. */
START_TEST(two_processes_share_a_file)
{
    reset_logger();
    make_dir();
    tp_log_set_clock(NULL);
    open_files("size", 2000, 60, "midnight", 1);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        tp_log_after_fork();
        open_files("size", 2000, 60, "midnight", 1);
        for (int i = 0; i < 300; i++)
            tp_log_write(TP_LOG_INFO, "m.c", 1, "child %03d", i);
        tp_log_flush();
        _exit(0);
    }
    for (int i = 0; i < 300; i++)
        tp_log_write(TP_LOG_INFO, "m.c", 1, "parent %03d", i);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    int seen[2][300] = {{0}}, files = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, "app.log", 7))
            continue;
        files++;
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        char *t = slurp(p);
        for (char *l = t; *l;) {
            char *nl = strchr(l, '\n');
            ck_assert_ptr_nonnull(nl);
            char who[16];
            int i;
            ck_assert_msg(sscanf(strstr(l, "] ") + 2, "%15s %d", who, &i) == 2, "torn: %.60s", l);
            seen[who[0] == 'c'][i]++;
            l = nl + 1;
        }
        tp_free(t);
    }
    closedir(d);
    for (int w = 0; w < 2; w++)
        for (int i = 0; i < 300; i++)
            ck_assert_msg(seen[w][i] == 1, "%s line %d seen %d times", w ? "child" : "parent", i,
                          seen[w][i]);
    ck_assert_int_gt(files, 5);
    reset_logger();
    remove_dir();
}
END_TEST

Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("formatter");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_checked_fixture(tc, pipe_setup, pipe_teardown);
    tcase_add_test(tc, format_plain);
    tcase_add_test(tc, continuation_lines_and_trace);
    tcase_add_test(tc, unicode_and_bad_bytes);
    tcase_add_test(tc, colors_on_a_tty);
    tcase_add_test(tc, no_colors_on_a_pipe);
    tcase_add_test(tc, channels_and_levels);
    suite_add_tcase(s, tc);
    tc = tcase_create("files");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, rotate_by_size);
    tcase_add_test(tc, rotate_by_size_batched);
    tcase_add_test(tc, rotate_by_size_zero_backups_never_rotates);
    tcase_add_test(tc, rotate_by_time);
    tcase_add_test(tc, rotate_at_midnight);
    tcase_add_test(tc, bad_file_settings);
    tcase_add_test(tc, stderr_access_suffix_reopen);
    tcase_add_test(tc, two_processes_share_a_file);
    suite_add_tcase(s, tc);
    return s;
}
