/* epoll backend (Linux): the default. */
#include "platform/poller.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#define BATCH 512

struct tp_poller {
    int epfd;
    struct epoll_event evs[BATCH];
};

tp_poller *tp_poller_new(void)
{
    int fd = epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0)
        return NULL;
    tp_poller *p = malloc(sizeof(*p)); /* the OS seam sits below core/alloc.h */
    if (!p) {
        close(fd);
        errno = ENOMEM;
        return NULL;
    }
    p->epfd = fd;
    return p;
}

void tp_poller_free(tp_poller *p)
{
    if (!p)
        return;
    close(p->epfd);
    free(p);
}

static unsigned to_epoll(unsigned mask)
{
    if (mask & TP_POLL_EXCLUSIVE)
        return EPOLLIN | EPOLLEXCLUSIVE; /* RDHUP is not allowed with EXCLUSIVE */
    return (mask & TP_POLL_READ ? EPOLLIN | EPOLLRDHUP : 0) | (mask & TP_POLL_WRITE ? EPOLLOUT : 0);
}

int tp_poller_set(tp_poller *p, int fd, unsigned old, unsigned mask)
{
    struct epoll_event ev = {.events = to_epoll(mask), .data.fd = fd};
    int op = !old ? EPOLL_CTL_ADD : !mask ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
    if (!old && !mask)
        return 0;
    /* EPOLLEXCLUSIVE cannot be modified in place: delete and add again. */
    if (op == EPOLL_CTL_MOD && ((old | mask) & TP_POLL_EXCLUSIVE)) {
        epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, NULL);
        op = EPOLL_CTL_ADD;
    }
    return epoll_ctl(p->epfd, op, fd, &ev) < 0 ? -errno : 0;
}

int tp_poller_wait(tp_poller *p, tp_poll_event *out, int max, int timeout_ms)
{
    int n = epoll_wait(p->epfd, p->evs, max < BATCH ? max : BATCH, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < n; i++) {
        unsigned e = p->evs[i].events, m = 0;
        if (e & (EPOLLIN | EPOLLRDHUP))
            m |= TP_POLL_READ;
        if (e & EPOLLOUT)
            m |= TP_POLL_WRITE;
        if (e & (EPOLLERR | EPOLLHUP))
            m |= TP_POLL_ERROR;
        out[i] = (tp_poll_event){p->evs[i].data.fd, m};
    }
    return n;
}

const char *tp_poller_name(void)
{
    return "epoll";
}
