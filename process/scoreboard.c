#include "process/scoreboard.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

uint64_t tp_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

tp_scoreboard *tp_scoreboard_create(const char *path, uint32_t n)
{
    size_t size = sizeof(tp_scoreboard) + n * sizeof(tp_score);
    int fd = -1, flags = MAP_SHARED | MAP_ANONYMOUS;
    if (path) {
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
            if (fd >= 0)
                close(fd);
            return NULL;
        }
        flags = MAP_SHARED;
    }
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, fd, 0);
    if (fd >= 0)
        close(fd);
    if (p == MAP_FAILED)
        return NULL;
    tp_scoreboard *sb = p;
    memset(sb, 0, size);
    sb->magic = TP_SCOREBOARD_MAGIC;
    sb->nrecords = n;
    sb->master_pid = getpid();
    sb->master.started = (double)time(NULL);
    return sb;
}

const tp_scoreboard *tp_scoreboard_open(const char *path, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof(tp_scoreboard)) {
        close(fd);
        return NULL;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return NULL;
    const tp_scoreboard *sb = p;
    if (sb->magic != TP_SCOREBOARD_MAGIC ||
        sizeof(*sb) + sb->nrecords * sizeof(tp_score) > (size_t)st.st_size) {
        munmap(p, (size_t)st.st_size);
        return NULL;
    }
    *size = (size_t)st.st_size;
    return sb;
}

tp_score *tp_scoreboard_claim(tp_scoreboard *sb, int pid, int slot, uint32_t gen)
{
    for (uint32_t i = 0; i < sb->nrecords; i++) {
        tp_score *r = &sb->records[i];
        if (r->pid)
            continue;
        memset(r, 0, sizeof(*r));
        r->slot = slot;
        r->gen = gen;
        r->state = 1;
        r->started = (double)time(NULL);
        r->heartbeat_ns = tp_monotonic_ns();
        r->pid = pid;
        return r;
    }
    return NULL;
}

tp_score *tp_scoreboard_find(tp_scoreboard *sb, int pid)
{
    for (uint32_t i = 0; i < sb->nrecords; i++)
        if (sb->records[i].pid == pid)
            return &sb->records[i];
    return NULL;
}

void tp_scoreboard_release(tp_scoreboard *sb, int pid)
{
    tp_score *r = tp_scoreboard_find(sb, pid);
    if (!r)
        return;
    tp_http_stats_add(&sb->master.retired, &r->http);
    memset(r, 0, sizeof(*r));
}

const char *tp_exit_cause_name(int cause)
{
    static const char *const names[TP_EXIT_CAUSES] = {"drained", "crashed", "failed", "hung",
                                                      "boot_failed"};
    return cause >= 0 && cause < TP_EXIT_CAUSES ? names[cause] : "unknown";
}
