/* The HTTP server's TLS side: accepted sockets handshake first, then become HTTP/1.1
 * connections (or HTTP/2 ones, when ALPN chose h2 and the server has an HTTP/2 hook). */
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>

#include "core/alloc.h"

#include "http/conn_internal.h"
#include "http/tls/tls_internal.h"

/* A socket in its handshake: the server's, from peer (the socket's address, or the one its
 * PROXY header gave). Listed in the server so that a close_all can cancel it. */
typedef struct tp__tls_wait {
    struct tp__tls_wait *next, **prev;
    tp_http_server *srv;
    struct sockaddr_storage peer;
} tls_wait;

static void unlink_wait(tls_wait *w)
{
    *w->prev = w->next;
    if (w->next)
        w->next->prev = w->prev;
    tp_free(w);
}

/* A handshake counts as a connection of the server, so that a drain waits for it. */
static void accepted(tp_stream *s, int status, void *arg)
{
    (void)status;
    tls_wait *w = arg;
    tp_http_server *srv = w->srv;
    struct sockaddr_storage peer = w->peer;
    unlink_wait(w);
    srv->nconns--;
    if (!s) {
        tp__server_conn_gone(srv);
        return;
    }
    if (srv->h2_start && tp_slice_eq(tp_tls_alpn(s), TP_SLICE_LIT("h2")))
        srv->h2_start(srv, s, (struct sockaddr *)&peer);
    else
        tp__conn_start_stream(srv, s, (struct sockaddr *)&peer, true);
}

void tp__tls_server_accept(tp_http_server *srv, int fd, const struct sockaddr *peer)
{
    tp_stream_opts so = {.max_buffer_size = srv->opts.max_buffer_size,
                         .read_chunk_size = srv->opts.chunk_size};
    tls_wait *w = tp_calloc(1, sizeof(*w));
    w->srv = srv;
    memcpy(&w->peer, peer,
           peer->sa_family == AF_INET6  ? sizeof(struct sockaddr_in6)
           : peer->sa_family == AF_INET ? sizeof(struct sockaddr_in)
           : peer->sa_family == AF_UNIX ? sizeof(struct sockaddr_un)
                                        : sizeof(peer->sa_family));
    w->next = srv->tls_waits;
    w->prev = &srv->tls_waits;
    if (w->next)
        w->next->prev = &w->next;
    srv->tls_waits = w;
    if (tp_tls_accept(srv->opts.tls, srv->loop, fd, &so, accepted, w) == 0)
        srv->nconns++;
    else
        unlink_wait(w);
}

void tp__tls_server_cancel(tp_http_server *srv)
{
    size_t n = 0;
    while (srv->tls_waits) {
        tls_wait *w = srv->tls_waits;
        n += tp_tls_accept_cancel(w);
        unlink_wait(w);
    }
    srv->nconns -= n;
    if (n)
        tp__server_conn_gone(srv); /* a drain waiting for them is over once they are gone */
}

tp_slice tp_http_peer_cert_subject(tp_request *req)
{
    char buf[1024];
    tp_stream *s = tp__request_stream(req);
    size_t n = s ? tp_tls_peer_subject(s, buf, sizeof(buf)) : 0;
    return n ? tp_arena_slice_dup(&req->arena, (tp_slice){buf, n}) : (tp_slice){"", 0};
}
