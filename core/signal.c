/* Signals delivered through a signalfd, so handlers run as ordinary loop callbacks. */
#include <errno.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/loop_internal.h"

static void on_signal_fd(tp_loop *loop, int fd, unsigned events, void *arg)
{
    (void)events, (void)arg;
    struct signalfd_siginfo si[16];
    ssize_t n = read(fd, si, sizeof(si));
    for (ssize_t i = 0; n > 0 && i < n / (ssize_t)sizeof(si[0]); i++) {
        unsigned s = si[i].ssi_signo;
        if (s < 65 && loop->sig[s].fn)
            loop->sig[s].fn(loop, (int)s, loop->sig[s].arg);
    }
}

int tp_loop_add_signal(tp_loop *loop, int signo, tp_signal_fn fn, void *arg)
{
    if (signo <= 0 || signo >= 65)
        return -EINVAL;
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, signo);
    sigaddset(&loop->signals, signo);
    int fd = signalfd(loop->signal_fd, &loop->signals, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0) {
        sigdelset(&loop->signals, signo);
        return -errno;
    }
    pthread_sigmask(SIG_BLOCK, &one, NULL);
    if (loop->signal_fd < 0) {
        loop->signal_fd = fd;
        tp_loop_add_fd(loop, fd, TP_READ, on_signal_fd, NULL);
        loop->nhandlers--; /* internal, not a user handle */
    }
    loop->sig[signo].fn = fn;
    loop->sig[signo].arg = arg;
    return 0;
}

void tp_loop_remove_signal(tp_loop *loop, int signo)
{
    if (signo <= 0 || signo >= 65 || !loop->sig[signo].fn)
        return;
    loop->sig[signo].fn = NULL;
    sigdelset(&loop->signals, signo);
    signalfd(loop->signal_fd, &loop->signals, SFD_NONBLOCK | SFD_CLOEXEC);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, signo);
    pthread_sigmask(SIG_UNBLOCK, &one, NULL);
}

void tp__signals_free(tp_loop *loop)
{
    for (int s = 1; s < 65; s++)
        tp_loop_remove_signal(loop, s);
    if (loop->signal_fd >= 0) {
        tp_loop_remove_fd(loop, loop->signal_fd);
        loop->nhandlers++;
        close(loop->signal_fd);
    }
}
