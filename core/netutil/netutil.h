/* tornado.netutil for library users: a non-blocking resolver (getaddrinfo on a thread pool,
 * Tornado's DefaultExecutorResolver), and add_accept_handler. is_valid_ip is
 * tp_is_valid_ip in platform/socket.h; bind_sockets is tp_bind_sockets there. */
#ifndef TP_CORE_NETUTIL_H
#define TP_CORE_NETUTIL_H

#include "platform/api.h"

#include <stddef.h>
#include <sys/socket.h>

#include "core/async/executor.h"
#include "core/async/future.h"

/* One address of a resolved name: what connect() takes. */
typedef struct tp_address {
    int family; /* AF_INET or AF_INET6 */
    socklen_t addrlen;
    struct sockaddr_storage addr; /* the port is set */
} tp_address;

/* The result of tp_resolve: n addresses in getaddrinfo's order (owned by the future). */
typedef struct tp_address_list {
    size_t n;
    tp_address addrs[];
} tp_address_list;

struct addrinfo;
/* The addresses of a getaddrinfo result as a list (copied; free with tp_free). */
TP_API tp_address_list *tp_address_list_new(const struct addrinfo *res);

/* Resolves host (a name or a numeric address) and port for a stream socket, family AF_UNSPEC,
 * AF_INET or AF_INET6, with getaddrinfo on a worker of pool. The future (a reference for the
 * caller) completes on loop with a tp_address_list, or fails with -EHOSTUNREACH and
 * getaddrinfo's message naming host ("Name or service not known"). host is copied. Cancelling
 * the future cancels the job (skipped unless a worker has started it). */
TP_API tp_future *tp_resolve(tp_executor *pool, tp_loop *loop, const char *host, int port,
                             int family);

/* Called for each accepted connection: fd (non-blocking, close-on-exec; the callback owns
 * it) and the peer's address. */
typedef void (*tp_accept_fn)(tp_loop *loop, int fd, const struct sockaddr *addr, socklen_t addrlen,
                             void *arg);
typedef struct tp_accept_handler tp_accept_handler;
/* Tornado's add_accept_handler: on each readiness of listen_fd, accepts up to 128
 * connections (until EAGAIN), skipping ECONNABORTED. Returns the handle to remove it with,
 * or NULL with errno set if the loop refused the fd. */
TP_API tp_accept_handler *tp_add_accept_handler(tp_loop *loop, int listen_fd, tp_accept_fn cb,
                                                void *arg);
/* Stops accepting and frees the handle; safe from inside cb (no more cb calls after it).
 * Does not close listen_fd. */
TP_API void tp_accept_handler_remove(tp_accept_handler *ah);

#endif
