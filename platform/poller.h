/* The OS readiness seam: one small interface, one file per backend (epoll, poll), chosen at
 * build time (POLLER=poll selects poll). Level-triggered in every backend. */
#ifndef TP_PLATFORM_POLLER_H
#define TP_PLATFORM_POLLER_H

enum {
    TP_POLL_READ = 0x001,
    TP_POLL_WRITE = 0x004,
    TP_POLL_ERROR = 0x018, /* reported, never requested: hang-up or error on the fd */
    /* With READ on a listening socket shared by several processes: wake only one of them
     * (EPOLLEXCLUSIVE; ignored by the poll backend). */
    TP_POLL_EXCLUSIVE = 0x100,
};

typedef struct tp_poller tp_poller;

typedef struct tp_poll_event {
    int fd;
    unsigned events; /* TP_POLL_* bits that fired */
} tp_poll_event;

/* A new poller, or NULL with errno set. Free with tp_poller_free. */
tp_poller *tp_poller_new(void);
void tp_poller_free(tp_poller *p);
/* Sets the interest of fd from `old` to `mask` (TP_POLL_READ|TP_POLL_WRITE bits): old 0 adds
 * the fd, mask 0 removes it. Returns 0 or -errno. Adding an fd twice is -EEXIST. */
int tp_poller_set(tp_poller *p, int fd, unsigned old, unsigned mask);
/* Waits up to timeout_ms (-1: forever) and fills at most max events. Returns the number of
 * events, 0 on timeout or EINTR, or -errno. */
int tp_poller_wait(tp_poller *p, tp_poll_event *out, int max, int timeout_ms);
/* "epoll" or "poll". */
const char *tp_poller_name(void);

#endif
