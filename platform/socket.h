/* Socket helpers: listening sockets the way Tornado's netutil binds them, non-blocking
 * accept, TCP options, and address text. All return -errno on failure. */
#ifndef TP_PLATFORM_SOCKET_H
#define TP_PLATFORM_SOCKET_H

#include "platform/api.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define TP_DEFAULT_BACKLOG 1024

/* Binds and listens on every address getaddrinfo gives for address:port (NULL or "" = all
 * interfaces), non-blocking and close-on-exec, SO_REUSEADDR, IPV6_V6ONLY on v6, SO_REUSEPORT
 * when reuse_port. Port 0 picks one free port shared by all families. Stores at most max fds
 * in fds and returns how many, or -errno (nothing stays open then). */
TP_API int tp_bind_sockets(const char *address, int port, int backlog, bool reuse_port, int *fds,
                           int max);
/* Binds a Unix stream socket at path (a stale socket file is replaced, other file types are
 * refused with -EEXIST; a leading '@' means the abstract namespace), chmods it to mode.
 * Returns the listening fd or -errno. */
TP_API int tp_bind_unix_socket(const char *path, int mode, int backlog);
/* accept4 with SOCK_NONBLOCK|SOCK_CLOEXEC; addr/len may be NULL. Returns the fd or -errno
 * (-EAGAIN when nothing is waiting). */
TP_API int tp_accept(int listen_fd, struct sockaddr_storage *addr, socklen_t *len);
/* TCP_NODELAY on or off (no-op on Unix sockets). */
TP_API int tp_socket_set_nodelay(int fd, bool on);
/* The local port of a bound socket, or -errno. */
TP_API int tp_socket_port(int fd);
/* The numeric IP of addr into out (Unix sockets give "0.0.0.0", as in Tornado). */
TP_API void tp_sockaddr_ip(const struct sockaddr *addr, char *out, size_t n);
/* True for a valid numeric IPv4 or IPv6 address. */
TP_API bool tp_is_valid_ip(const char *s, size_t n);

#endif
