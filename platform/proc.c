#include "platform/proc.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

extern char **environ;

static char *title_area;
static size_t title_room;

/* argv strings (and environ's, which follow them) are one block of memory: the title is
 * written over it after the environment moved to the heap (the nginx/PostgreSQL way). */
void tp_proctitle_init(int argc, char **argv)
{
    if (argc < 1 || !argv[0])
        return;
    char *end = argv[argc - 1] + strlen(argv[argc - 1]) + 1;
    size_t n = 0;
    while (environ && environ[n])
        n++;
    for (size_t i = 0; i < n; i++)
        if (environ[i] == end)
            end += strlen(environ[i]) + 1;
    char **copy = calloc(n + 1, sizeof(char *));
    for (size_t i = 0; copy && i < n; i++)
        copy[i] = strdup(environ[i]);
    if (copy)
        environ = copy;
    for (int i = 1; i < argc; i++)
        argv[i] = NULL;
    title_area = argv[0];
    title_room = (size_t)(end - argv[0]);
}

void tp_proctitle_set(const char *fmt, ...)
{
    char title[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(title, sizeof(title), fmt, ap);
    va_end(ap);
    prctl(PR_SET_NAME, title, 0, 0, 0);
    if (!title_area || title_room < 2)
        return;
    memset(title_area, 0, title_room);
    strncpy(title_area, title, title_room - 1);
}

static bool kept(int fd, const int *keep, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (keep[i] == fd)
            return true;
    return false;
}

void tp_close_fds_except(const int *keep, size_t n)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        for (int fd = 3; fd < 65536; fd++)
            if (!kept(fd, keep, n))
                close(fd);
        return;
    }
    int dfd = dirfd(d), fds[1024];
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(d)) && count < sizeof(fds) / sizeof(fds[0])) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] != '.' && fd >= 3 && fd != dfd && !kept(fd, keep, n))
            fds[count++] = fd;
    }
    closedir(d);
    for (size_t i = 0; i < count; i++)
        close(fds[i]);
}

int tp_parent_death_signal(int signo, int expected_ppid)
{
    prctl(PR_SET_PDEATHSIG, signo, 0, 0, 0);
    return getppid() == expected_ppid ? 0 : -1;
}

int tp_cpu_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        int n = CPU_COUNT(&set);
        return n > 0 ? n : 1;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

long tp_raise_nofile_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -errno;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max;
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > LONG_MAX ? LONG_MAX : (long)rl.rlim_cur;
}
