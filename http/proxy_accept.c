/* The accept-time step of a proxy_protocol listener: the PROXY header is read from the new
 * socket before anything else, then the connection starts as before (tp__server_accepted),
 * from the client address the header gives. Only the header's bytes are taken from the
 * socket (MSG_PEEK first, then exactly its length), so what follows it, HTTP or a TLS
 * handshake, is still in the kernel for the next step.
 *
 * A waiting socket is a tp_proxy_wait: the loop calls it back from its fd and its timer,
 * both removed in wait_end, the one place it is freed; nothing else holds it. It counts in the
 * server's connections, so a drain waits for it (bounded by proxy_protocol_timeout). */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "http/conn_internal.h"
#include "http/proxy_protocol.h"
#include "platform/socket.h"

struct tp_proxy_wait {
    tp_http_server *srv;
    tp_proxy_wait *prev, *next; /* in srv->proxy_waits */
    int fd;
    tp_timer timer;                /* proxy_protocol_timeout */
    size_t have;                   /* header bytes taken from the socket so far */
    struct sockaddr_storage peer;  /* the socket's peer */
    char ip[INET6_ADDRSTRLEN + 8]; /* the peer as text, for the log */
    uint8_t buf[TP_PROXY_MAX];     /* the header's bytes */
};

/* The peer's address text is in trusted_downstream (an IPv4-mapped IPv6 peer also as its
 * IPv4 form). Unix-socket peers are trusted: the socket file's mode is their access rule. An
 * empty list trusts every peer (tp_http_server_new warns about it). */
static bool trusted(const tp_http_server *srv, const struct sockaddr *peer, const char *ip)
{
    const char *list = srv->opts.trusted_downstream;
    if (peer->sa_family == AF_UNIX || !list || !*list)
        return true;
    tp_slice l = tp_slice_cstr(list), t = tp_slice_cstr(ip);
    if (tp_list_has(l, t))
        return true;
    static const char mapped[] = "::ffff:";
    return strncmp(ip, mapped, 7) == 0 && strchr(ip + 7, '.') &&
           tp_list_has(l, (tp_slice){t.p + 7, t.n - 7});
}

/* The socket leaves the waiting list; closed unless handed on (fd < 0 then). */
static void wait_end(tp_proxy_wait *w)
{
    tp_http_server *srv = w->srv;
    tp_timer_stop(srv->loop, &w->timer);
    if (w->fd >= 0) {
        tp_loop_remove_fd(srv->loop, w->fd);
        close(w->fd);
    }
    if (w->prev)
        w->prev->next = w->next;
    else
        srv->proxy_waits = w->next;
    if (w->next)
        w->next->prev = w->prev;
    tp_free(w);
}

/* Closes a waiting socket, logging why at level; the server loses a connection (a drain may
 * end). */
static void refuse_at(tp_proxy_wait *w, int level, const char *why)
{
    tp_http_server *srv = w->srv;
    tp_log_write(level, __FILE__, __LINE__, "PROXY protocol: connection from %s closed: %s", w->ip,
                 why);
    wait_end(w);
    srv->nconns--;
    tp__server_conn_gone(srv);
}

static void refuse(tp_proxy_wait *w, const char *why)
{
    refuse_at(w, TP_LOG_WARNING, why);
}

/* The header is complete: the connection goes on from the client's address. */
static void handed_on(tp_proxy_wait *w, const tp_proxy_header *h)
{
    tp_http_server *srv = w->srv;
    int fd = w->fd;
    struct sockaddr_storage peer = h->has_addr ? h->src : w->peer;
    bool https = h->ssl;
    tp_loop_remove_fd(srv->loop, fd);
    w->fd = -1;
    wait_end(w);
    srv->nconns--; /* counted again by the connection */
    tp__server_accepted(srv, fd, (struct sockaddr *)&peer, https);
}

/* Peeks at what arrived, parses the header so far and takes from the socket the bytes that
 * belong to it: all of them while it is incomplete, exactly its rest once it is complete. */
static void read_header(tp_proxy_wait *w)
{
    ssize_t got = recv(w->fd, w->buf + w->have, sizeof(w->buf) - w->have, MSG_PEEK);
    if (got < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (got < 0) {
        refuse(w, strerror(errno));
        return;
    }
    if (got == 0 && w->have) {
        refuse(w, "end of input inside the header");
        return;
    }
    if (got == 0) { /* a plain TCP probe (port check): nothing to warn about */
        refuse_at(w, TP_LOG_DEBUG, "closed before sending anything");
        return;
    }
    tp_proxy_header h;
    int r = tp_proxy_parse(w->buf, w->have + (size_t)got, &h);
    if (r == TP_ERROR) {
        refuse(w, h.error);
        return;
    }
    size_t take = r == TP_AGAIN ? (size_t)got : (size_t)r - w->have;
    ssize_t taken = recv(w->fd, w->buf + w->have, take, 0);
    if (taken != (ssize_t)take) {
        refuse(w, "header bytes vanished from the socket");
        return;
    }
    w->have += take;
    if (r != TP_AGAIN)
        handed_on(w, &h);
}

static void on_readable(tp_loop *loop, int fd, unsigned events, void *arg)
{
    (void)loop, (void)fd, (void)events;
    read_header(arg);
}

static void on_timeout(tp_loop *loop, void *arg)
{
    (void)loop;
    refuse(arg, "header not complete in time");
}

void tp__proxy_accept(tp_http_server *srv, int fd, const struct sockaddr *peer, socklen_t len)
{
    char ip[sizeof(((tp_proxy_wait *)0)->ip)];
    tp_sockaddr_ip(peer, ip, sizeof(ip));
    if (!trusted(srv, peer, ip)) {
        tp_log_warning("PROXY protocol: connection from %s closed: not in trusted_downstream", ip);
        close(fd);
        return;
    }
    tp_proxy_wait *w = tp_calloc(1, sizeof(*w));
    w->srv = srv;
    w->fd = fd;
    memcpy(&w->peer, peer, len < sizeof(w->peer) ? len : sizeof(w->peer));
    memcpy(w->ip, ip, sizeof(ip));
    w->next = srv->proxy_waits;
    if (w->next)
        w->next->prev = w;
    srv->proxy_waits = w;
    srv->nconns++;
    tp_timer_init(&w->timer, on_timeout, w);
    if (tp_loop_add_fd(srv->loop, fd, TP_READ, on_readable, w) < 0) {
        w->fd = -1; /* not in the loop: closed here */
        close(fd);
        refuse(w, "no room in the loop");
        return;
    }
    tp_timer_start_at(srv->loop, &w->timer,
                      tp_loop_time(srv->loop) + srv->opts.proxy_protocol_timeout);
    read_header(w); /* the header often came with the connection */
}

void tp__proxy_close_all(tp_http_server *srv)
{
    if (!srv->proxy_waits)
        return;
    while (srv->proxy_waits) {
        wait_end(srv->proxy_waits);
        srv->nconns--;
    }
    tp__server_conn_gone(srv);
}
