#include "platform/socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int listen_on(const struct sockaddr *sa, socklen_t len, int backlog, bool reuse_port)
{
    int one = 1;
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (sa->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if ((reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) ||
        bind(fd, sa, len) < 0 || listen(fd, backlog) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

static void set_port(struct sockaddr *sa, int port)
{
    if (sa->sa_family == AF_INET)
        ((struct sockaddr_in *)(void *)sa)->sin_port = htons((uint16_t)port);
    else if (sa->sa_family == AF_INET6)
        ((struct sockaddr_in6 *)(void *)sa)->sin6_port = htons((uint16_t)port);
}

int tp_bind_sockets(const char *address, int port, int backlog, bool reuse_port, int *fds, int max)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res, *ai;
    char service[16];
    snprintf(service, sizeof(service), "%d", port);
    if (address && !*address)
        address = NULL;
    int gai = getaddrinfo(address, service, &hints, &res);
    if (gai)
        return gai == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;
    int n = 0, err = 0;
    for (ai = res; ai && n < max; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        if (port == 0 && n > 0) /* the other families reuse the first ephemeral port */
            set_port(ai->ai_addr, tp_socket_port(fds[0]));
        int fd = listen_on(ai->ai_addr, ai->ai_addrlen, backlog, reuse_port);
        if (fd == -EAFNOSUPPORT || (fd == -EADDRNOTAVAIL && ai->ai_family == AF_INET6 && n))
            continue;
        if (fd < 0) {
            err = fd;
            break;
        }
        fds[n++] = fd;
    }
    freeaddrinfo(res);
    if (err || n == 0) {
        while (n)
            close(fds[--n]);
        return err ? err : -EADDRNOTAVAIL;
    }
    return n;
}

int tp_bind_unix_socket(const char *path, int mode, int backlog)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof(sun.sun_path))
        return -ENAMETOOLONG;
    memcpy(sun.sun_path, path, len);
    bool abstract = path[0] == '@';
    if (abstract) {
        sun.sun_path[0] = '\0';
    } else {
        struct stat st;
        if (stat(path, &st) == 0) {
            if (!S_ISSOCK(st.st_mode))
                return -EEXIST;
            unlink(path);
        }
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    socklen_t slen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + !abstract);
    if (bind(fd, (struct sockaddr *)&sun, slen) < 0 ||
        (!abstract && chmod(path, (mode_t)mode) < 0) || listen(fd, backlog) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

int tp_accept(int listen_fd, struct sockaddr_storage *addr, socklen_t *len)
{
    int fd = accept4(listen_fd, (struct sockaddr *)addr, len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int tp_socket_set_nodelay(int fd, bool on)
{
    int v = on;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)) < 0)
        return errno == EOPNOTSUPP ? 0 : -errno;
    return 0;
}

int tp_socket_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -errno;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -EAFNOSUPPORT;
}

void tp_sockaddr_ip(const struct sockaddr *addr, char *out, size_t n)
{
    const void *src = NULL;
    if (addr->sa_family == AF_INET)
        src = &((const struct sockaddr_in *)(const void *)addr)->sin_addr;
    else if (addr->sa_family == AF_INET6)
        src = &((const struct sockaddr_in6 *)(const void *)addr)->sin6_addr;
    if (!src || !inet_ntop(addr->sa_family, src, out, (socklen_t)n))
        snprintf(out, n, "0.0.0.0");
}

bool tp_is_valid_ip(const char *s, size_t n)
{
    char buf[INET6_ADDRSTRLEN + 1];
    unsigned char bin[sizeof(struct in6_addr)];
    if (n == 0 || n >= sizeof(buf) || memchr(s, '\0', n))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return inet_pton(AF_INET, buf, bin) == 1 || inet_pton(AF_INET6, buf, bin) == 1;
}
