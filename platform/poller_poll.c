/* poll(2) backend: portable, and a second implementation to test the loop against. */
#include "platform/poller.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

struct tp_poller {
    struct pollfd *fds; /* dense array of watched fds */
    int *slot;          /* fd -> index in fds, or -1 */
    int n, cap, slots;
};

/* The OS seam sits below core/alloc.h: plain libc allocation, failures as -ENOMEM. */
tp_poller *tp_poller_new(void)
{
    return calloc(1, sizeof(tp_poller)); /* NULL with errno ENOMEM */
}

void tp_poller_free(tp_poller *p)
{
    if (!p)
        return;
    free(p->fds);
    free(p->slot);
    free(p);
}

static short to_poll(unsigned mask)
{
    return (short)((mask & TP_POLL_READ ? POLLIN : 0) | (mask & TP_POLL_WRITE ? POLLOUT : 0));
}

static int grow_slots(tp_poller *p, int fd)
{
    int n = p->slots ? p->slots : 64;
    while (n <= fd)
        n *= 2;
    int *slot = realloc(p->slot, sizeof(int) * (size_t)n);
    if (!slot)
        return -ENOMEM;
    p->slot = slot;
    for (int i = p->slots; i < n; i++)
        p->slot[i] = -1;
    p->slots = n;
    return 0;
}

static int add(tp_poller *p, int fd, unsigned mask)
{
    if (fd >= p->slots && grow_slots(p, fd) < 0)
        return -ENOMEM;
    if (p->slot[fd] >= 0)
        return -EEXIST;
    if (p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 64;
        struct pollfd *fds = realloc(p->fds, sizeof(*p->fds) * (size_t)cap);
        if (!fds)
            return -ENOMEM;
        p->fds = fds;
        p->cap = cap;
    }
    p->fds[p->n] = (struct pollfd){.fd = fd, .events = to_poll(mask)};
    p->slot[fd] = p->n++;
    return 0;
}

static int del(tp_poller *p, int fd)
{
    if (fd >= p->slots || p->slot[fd] < 0)
        return -ENOENT;
    int i = p->slot[fd];
    p->fds[i] = p->fds[--p->n];
    p->slot[p->fds[i].fd] = i;
    p->slot[fd] = -1;
    return 0;
}

int tp_poller_set(tp_poller *p, int fd, unsigned old, unsigned mask)
{
    if (!old)
        return mask ? add(p, fd, mask) : 0;
    if (!mask)
        return del(p, fd);
    if (fd >= p->slots || p->slot[fd] < 0)
        return -ENOENT;
    p->fds[p->slot[fd]].events = to_poll(mask);
    return 0;
}

int tp_poller_wait(tp_poller *p, tp_poll_event *out, int max, int timeout_ms)
{
    int r = poll(p->fds, (nfds_t)p->n, timeout_ms);
    if (r < 0)
        return errno == EINTR ? 0 : -errno;
    int k = 0;
    for (int i = 0; i < p->n && k < max && r > 0; i++) {
        short e = p->fds[i].revents;
        if (!e)
            continue;
        r--;
        unsigned m = (e & (POLLIN | POLLRDHUP) ? TP_POLL_READ : 0) |
                     (e & POLLOUT ? TP_POLL_WRITE : 0) |
                     (e & (POLLERR | POLLHUP | POLLNVAL) ? TP_POLL_ERROR : 0);
        out[k++] = (tp_poll_event){p->fds[i].fd, m};
    }
    return k;
}

const char *tp_poller_name(void)
{
    return "poll";
}
