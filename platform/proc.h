/* Process helpers for the prefork master and its workers: process titles, fd hygiene,
 * parent-death signals, CPU counts. */
#ifndef TP_PLATFORM_PROC_H
#define TP_PLATFORM_PROC_H

#include <stddef.h>

/* Makes argv's memory (and the environment after it, which is copied away) available for
 * tp_proctitle_set. Call once, early in main, with main's own argc/argv. */
void tp_proctitle_init(int argc, char **argv);
/* Sets the title `ps` and /proc/PID/cmdline show (truncated to the room argv had). */
void tp_proctitle_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Closes every fd >= 3 except the n listed in keep. */
void tp_close_fds_except(const int *keep, size_t n);
/* Asks for signo when the parent dies; returns -1 if the parent (expected_ppid) is already
 * gone, else 0. */
int tp_parent_death_signal(int signo, int expected_ppid);
/* CPUs this process may run on (sched_getaffinity; what nproc prints), at least 1. */
int tp_cpu_count(void);
/* Raises the soft limit on open files to the hard limit (as Go's runtime does: every socket is
 * a file, and the default soft 1024 caps a server at about a thousand connections). Returns the
 * soft limit now in force (LONG_MAX for none), or -errno. */
long tp_raise_nofile_limit(void);

#endif
