/* The master's sockets: listeners bound before the first fork (or inherited from systemd),
 * privileges dropped after binding, and systemd readiness notifications. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "platform/socket.h"
#include "process/master_internal.h"

static int add_listener(tp_master *m, int fd, char *err, size_t errlen)
{
    if (m->nlisteners == sizeof(m->listeners) / sizeof(m->listeners[0])) {
        close(fd);
        snprintf(err, errlen, "too many listening sockets");
        return -EMFILE;
    }
    m->listeners[m->nlisteners++] = fd;
    return 0;
}

/* Every --port on every --address (all interfaces when none). Each --port=0 takes a free
 * port of its own, which the other addresses (and reuseport slots) then share. */
static int bind_tcp(tp_master *m, bool reuse_port, char *err, size_t errlen)
{
    const tp_prefork_opts *o = m->o;
    size_t naddr = o->naddresses ? o->naddresses : 1;
    for (size_t p = 0; p < o->nports; p++) {
        int port = o->ports[p] ? o->ports[p] : m->bound_ports[p];
        for (size_t a = 0; a < naddr; a++) {
            int fds[8];
            const char *addr = o->naddresses ? o->addresses[a] : NULL;
            int n = tp_bind_sockets(addr, port, o->backlog, reuse_port, fds, 8);
            if (n < 0) {
                snprintf(err, errlen, "cannot listen on %s:%d: %s", addr ? addr : "*", port,
                         strerror(-n));
                return n;
            }
            if (!port)
                port = m->bound_ports[p] = tp_socket_port(fds[0]);
            if (!m->first_port)
                m->first_port = port;
            for (int i = 0; i < n; i++)
                if (add_listener(m, fds[i], err, errlen) < 0)
                    return -EMFILE;
        }
    }
    return 0;
}

static int inherited_listeners(tp_master *m, char *err, size_t errlen)
{
    const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
    if (!pid || !fds || atoi(pid) != getpid())
        return 0;
    int n = atoi(fds);
    for (int fd = 3; fd < 3 + n; fd++) {
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        if (add_listener(m, fd, err, errlen) < 0)
            return -EMFILE;
        if (!m->first_port && tp_socket_port(fd) > 0)
            m->first_port = tp_socket_port(fd);
    }
    /* The environment strings may be heap copies (the process title moved them): keep them
     * reachable once unset, children must not see the variables. */
    static const char *volatile unset[2];
    unset[0] = pid;
    unset[1] = fds;
    (void)unset[0];
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    return n;
}

int tp__bind_slot(tp_master *m, int slot, char *err, size_t errlen)
{
    size_t before = m->nlisteners;
    int r = bind_tcp(m, true, err, errlen);
    if (r == 0 && slot == 0)
        m->per_slot = m->nlisteners - before;
    return r;
}

int tp__bind_listeners(tp_master *m, char *err, size_t errlen)
{
    const tp_prefork_opts *o = m->o;
    int n = inherited_listeners(m, err, errlen);
    if (n != 0)
        return n < 0 ? n : 0;
    if (o->reuseport && o->nunix) {
        snprintf(err, errlen, "--reuseport works with TCP ports only, not --unix-socket");
        return -EINVAL;
    }
    if (o->reuseport) {
        for (int slot = 0; slot < m->procs; slot++)
            if (tp__bind_slot(m, slot, err, errlen) < 0)
                return -1;
        return 0;
    }
    if (bind_tcp(m, false, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < o->nunix; i++) {
        int fd = tp_bind_unix_socket(o->unix_sockets[i], 0600, o->backlog);
        if (fd < 0) {
            snprintf(err, errlen, "cannot listen on %s: %s", o->unix_sockets[i], strerror(-fd));
            return fd;
        }
        if (add_listener(m, fd, err, errlen) < 0)
            return -EMFILE;
    }
    return 0;
}

int tp__drop_privileges(const tp_prefork_opts *o, char *err, size_t errlen)
{
    gid_t gid = (gid_t)-1;
    if (o->group && *o->group) {
        struct group *g = getgrnam(o->group);
        if (!g) {
            snprintf(err, errlen, "unknown group %s", o->group);
            return -EINVAL;
        }
        gid = g->gr_gid;
    }
    if (o->user && *o->user) {
        struct passwd *pw = getpwnam(o->user);
        if (!pw) {
            snprintf(err, errlen, "unknown user %s", o->user);
            return -EINVAL;
        }
        if (gid == (gid_t)-1)
            gid = pw->pw_gid;
        if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(pw->pw_uid) < 0) {
            snprintf(err, errlen, "cannot become %s: %s", o->user, strerror(errno));
            return -errno;
        }
    } else if (gid != (gid_t)-1 && setgid(gid) < 0) {
        snprintf(err, errlen, "cannot switch to group %s: %s", o->group, strerror(errno));
        return -errno;
    }
    return 0;
}

/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. */
void tp__sd_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    size_t n = strlen(path);
    memcpy(sun.sun_path, path, n);
    if (sun.sun_path[0] == '@')
        sun.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun,
           (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
    close(fd);
}
