/* The HTTP server's TLS side: accepted sockets handshake first, then become HTTP/1.1
 * connections (or HTTP/2 ones, when ALPN chose h2 and the server has an HTTP/2 hook). */
#include <string.h>
#include <sys/socket.h>

#include "http/conn_internal.h"
#include "http/tls/tls_internal.h"

/* A handshake counts as a connection of the server, so that a drain waits for it. */
static void accepted(tp_stream *s, int status, void *arg)
{
    (void)status;
    tp_http_server *srv = arg;
    srv->nconns--;
    if (!s) {
        tp__server_conn_gone(srv);
        return;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getpeername(tp_stream_fd(s), (struct sockaddr *)&ss, &len) < 0)
        ss.ss_family = AF_UNSPEC;
    if (srv->h2_start && tp_slice_eq(tp_tls_alpn(s), TP_SLICE_LIT("h2")))
        srv->h2_start(srv, s, (struct sockaddr *)&ss);
    else
        tp__conn_start_stream(srv, s, (struct sockaddr *)&ss);
}

void tp__tls_server_accept(tp_http_server *srv, int fd)
{
    tp_stream_opts so = {.max_buffer_size = srv->opts.max_buffer_size,
                         .read_chunk_size = srv->opts.chunk_size};
    if (tp_tls_accept(srv->opts.tls, srv->loop, fd, &so, accepted, srv) == 0)
        srv->nconns++;
}

void tp__tls_server_cancel(tp_http_server *srv)
{
    srv->nconns -= tp_tls_accept_cancel(srv);
}

tp_slice tp_http_peer_cert_subject(tp_request *req)
{
    char buf[1024];
    tp_stream *s = tp__request_stream(req);
    size_t n = s ? tp_tls_peer_subject(s, buf, sizeof(buf)) : 0;
    return n ? tp_arena_slice_dup(&req->arena, (tp_slice){buf, n}) : (tp_slice){"", 0};
}
