/* HTTPServer: options, listening sockets and the accept loop. Connections are in conn.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "http/conn_internal.h"
#include "http/tls/tls.h"
#include "platform/socket.h"

#define ACCEPTS_PER_EVENT 128
#define ACCEPT_PAUSE      0.1 /* seconds without accepting after EMFILE */

void tp_http_server_opts_default(tp_http_server_opts *o)
{
    *o = (tp_http_server_opts){
        .chunk_size = 64 << 10,
        .max_header_size = 64 << 10,
        .max_uri_size = 8 << 10,
        .max_headers = 100,
        .max_body_size = 100 << 20,
        .max_buffer_size = 100 << 20,
        .idle_connection_timeout = 3600,
        .body_timeout = 0,
        .linger = 5,
        .proxy_protocol_timeout = 10,
    };
    tp_h2_opts_default(&o->h2);
}

#define OPT(n_, t_, h_, lo, hi) TP_OPTION(tp_http_server_opts, n_, t_, h_, .min = lo, .max = hi)
const tp_option tp_http_server_option_table[] = {
    OPT(no_keep_alive, TP_OPT_BOOL, "close the connection after every response", 0, 0),
    OPT(xheaders, TP_OPT_BOOL, "take the client IP and scheme from X-Real-Ip/X-Forwarded-*", 0, 0),
    OPT(trusted_downstream, TP_OPT_STRING, "comma-separated proxy IPs skipped in X-Forwarded-For",
        0, 0),
    OPT(protocol, TP_OPT_STRING, "force request.protocol (https behind a TLS proxy)", 0, 0),
    OPT(proxy_protocol, TP_OPT_BOOL,
        "read a PROXY protocol header (v1/v2) first, only from trusted_downstream", 0, 0),
    OPT(proxy_protocol_timeout, TP_OPT_DOUBLE, "seconds to receive the PROXY header", 0.001, 3600),
    OPT(decompress_request, TP_OPT_BOOL, "gunzip request bodies sent with Content-Encoding: gzip",
        0, 0),
    OPT(chunk_size, TP_OPT_SIZE, "read size and largest streamed body chunk", 1, 1 << 30),
    OPT(max_header_size, TP_OPT_SIZE, "largest request head (431 beyond)", 64, 1 << 30),
    OPT(max_uri_size, TP_OPT_SIZE, "longest request-target (414 beyond)", 1, 1 << 30),
    OPT(max_headers, TP_OPT_SIZE, "most header lines (431 beyond)", 1, 100000),
    OPT(max_body_size, TP_OPT_SIZE, "largest request body (413 beyond)", 0, 1e15),
    OPT(max_buffer_size, TP_OPT_SIZE, "largest read buffer", 1024, 1 << 30),
    OPT(idle_connection_timeout, TP_OPT_DOUBLE,
        "seconds to wait for a complete request head, idle keep-alive time included", 0, 1e9),
    OPT(body_timeout, TP_OPT_DOUBLE, "seconds to read a request body (0: no limit)", 0, 1e9),
    OPT(linger, TP_OPT_DOUBLE, "seconds to drain input after an error response", 0, 3600),
    TP_H2_OPTION_ROWS(tp_http_server_opts, h2),
};
const size_t tp_http_server_option_count =
    sizeof(tp_http_server_option_table) / sizeof(tp_http_server_option_table[0]);

/* A worker serving thousands of keep-alive connections needs more than the usual 1024 fds. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* A TLS connection whose ALPN chose "h2". */
static void h2_after_alpn(tp_http_server *srv, tp_stream *s, const struct sockaddr *peer)
{
    char ip[INET6_ADDRSTRLEN];
    tp_sockaddr_ip(peer, ip, sizeof(ip));
    srv->stats->connections++; /* prior knowledge is counted as the HTTP/1 connection it was */
    tp_h2_serve(srv, s, tp_slice_cstr(ip), true);
}

tp_http_server *tp_http_server_new(tp_loop *loop, const tp_http_delegate *delegate, void *ctx,
                                   const tp_http_server_opts *opts)
{
    tp_http_server *srv = tp_calloc(1, sizeof(*srv));
    srv->loop = loop;
    srv->delegate = *delegate;
    srv->ctx = ctx;
    srv->stats = &srv->own_stats;
    if (opts)
        srv->opts = *opts;
    else
        tp_http_server_opts_default(&srv->opts);
    if (srv->opts.trusted_downstream)
        srv->opts.trusted_downstream = srv->trusted_downstream =
            tp_strndup(opts->trusted_downstream, strlen(opts->trusted_downstream));
    if (srv->opts.protocol)
        srv->opts.protocol = srv->protocol = tp_strndup(opts->protocol, strlen(opts->protocol));
    if (srv->opts.tls) {
        tp_tls_ctx_ref(srv->opts.tls);
        if (srv->opts.h2.http2) { /* ALPN offers h2 */
            tp_tls_ctx_set_h2(srv->opts.tls, true);
            srv->h2_start = h2_after_alpn;
        }
        if (!srv->opts.protocol)
            srv->opts.protocol = "https";
    }
    srv->limits =
        (tp_http_limits){srv->opts.max_header_size, srv->opts.max_uri_size, srv->opts.max_headers};
    tp__conns_init(srv);
    if (srv->opts.proxy_protocol && !(srv->trusted_downstream && *srv->trusted_downstream))
        tp_log_warning("proxy_protocol without trusted_downstream: any peer may set the client "
                       "address; keep the port reachable only by the proxy");
    raise_fd_limit();
    signal(SIGPIPE, SIG_IGN); /* a peer that went away is an EPIPE to handle, not a death */
    return srv;
}

static unsigned listen_events(const tp_http_server *srv)
{
    return TP_READ | (srv->exclusive ? TP_POLL_EXCLUSIVE : 0);
}

static void set_accepting(tp_http_server *srv, bool on)
{
    for (size_t i = 0; i < srv->nlisteners; i++)
        tp_loop_update_fd(srv->loop, srv->listeners[i], on ? listen_events(srv) : 0);
}

/* With EPOLLEXCLUSIVE the kernel keeps waking the first waiter; re-adding the listener every
 * few accepts moves this process to the back of the queue (nginx >= 1.21.6). */
static void rearm(tp_http_server *srv, int fd)
{
    if (!srv->exclusive || ++srv->accepts < 16)
        return;
    srv->accepts = 0;
    tp_loop_update_fd(srv->loop, fd, 0);
    tp_loop_update_fd(srv->loop, fd, listen_events(srv));
}

static void resume_accepting(tp_loop *loop, void *arg)
{
    (void)loop;
    set_accepting(arg, true);
}

void tp__server_accepted(tp_http_server *srv, int fd, const struct sockaddr *peer, bool https)
{
    if (srv->opts.tls)
        tp__tls_server_accept(srv, fd, peer);
    else
        tp__conn_start(srv, fd, peer, https);
}

static void on_accept(tp_loop *loop, int fd, unsigned events, void *arg)
{
    (void)loop, (void)events;
    tp_http_server *srv = arg;
    for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int c = tp_accept(fd, &ss, &len);
        if (c == -EAGAIN || c == -ECONNABORTED || c == -EINTR) {
            if (c == -EAGAIN)
                break;
            continue;
        }
        if (c < 0) {
            /* Out of fds: a level-triggered listener would spin, so stop listening briefly. */
            tp_log_error("accept failed: %s", strerror(-c));
            set_accepting(srv, false);
            tp_timer_start_at(srv->loop, &srv->accept_pause,
                              tp_loop_time(srv->loop) + ACCEPT_PAUSE);
            return;
        }
        if (ss.ss_family != AF_UNIX) /* the socket's family, not a PROXY header's */
            tp_socket_set_nodelay(c, true);
        if (srv->opts.proxy_protocol)
            tp__proxy_accept(srv, c, (struct sockaddr *)&ss, len);
        else
            tp__server_accepted(srv, c, (struct sockaddr *)&ss, false);
    }
    rearm(srv, fd);
}

int tp_http_server_add_shared_socket(tp_http_server *srv, int fd)
{
    srv->exclusive = tp_poller_name()[0] == 'e'; /* the poll backend has no EXCLUSIVE */
    return tp_http_server_add_socket(srv, fd);
}

int tp_http_server_add_socket(tp_http_server *srv, int fd)
{
    tp_timer_init(&srv->accept_pause, resume_accepting, srv);
    int r = tp_loop_add_fd(srv->loop, fd, listen_events(srv), on_accept, srv);
    if (r < 0)
        return r;
    srv->listeners = tp_realloc(srv->listeners, (srv->nlisteners + 1) * sizeof(int));
    srv->listeners[srv->nlisteners++] = fd;
    return 0;
}

int tp_http_server_listen(tp_http_server *srv, const char *address, int port)
{
    int fds[8];
    int n = tp_bind_sockets(address, port, TP_DEFAULT_BACKLOG, false, fds, 8);
    if (n < 0)
        return n;
    int bound = tp_socket_port(fds[0]);
    for (int i = 0; i < n; i++) {
        int r = tp_http_server_add_socket(srv, fds[i]);
        if (r < 0) {
            for (int k = i; k < n; k++)
                close(fds[k]);
            return r;
        }
    }
    return bound;
}

void tp_http_server_stop(tp_http_server *srv)
{
    tp_timer_stop(srv->loop, &srv->accept_pause);
    for (size_t i = 0; i < srv->nlisteners; i++) {
        tp_loop_remove_fd(srv->loop, srv->listeners[i]);
        close(srv->listeners[i]);
    }
    tp_free(srv->listeners);
    srv->listeners = NULL;
    srv->nlisteners = 0;
}

void tp_http_server_close_all(tp_http_server *srv)
{
    tp__proxy_close_all(srv);
    if (srv->opts.tls)
        tp__tls_server_cancel(srv);
    tp__conns_close_all(srv);
}

static void drained(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_http_server *srv = arg;
    if (srv->drained && srv->nconns == 0) {
        void (*done)(tp_http_server *, void *) = srv->drained;
        srv->drained = NULL;
        done(srv, srv->drained_arg);
    }
}

void tp__server_conn_gone(tp_http_server *srv)
{
    if (srv->draining && srv->nconns == 0)
        tp_loop_add_callback(srv->loop, drained, srv);
}

void tp_http_server_drain(tp_http_server *srv, double idle_grace,
                          void (*done)(tp_http_server *srv, void *arg), void *arg)
{
    tp_http_server_stop(srv);
    srv->draining = true;
    srv->idle_grace = idle_grace;
    srv->drained = done;
    srv->drained_arg = arg;
    tp__conns_drain(srv);
    tp_loop_add_callback(srv->loop, drained, srv);
}

unsigned long tp_http_server_requests(const tp_http_server *srv)
{
    return srv->requests;
}

size_t tp_http_server_connections(const tp_http_server *srv)
{
    return srv->nconns;
}

const tp_http_server_opts *tp_http_server_options(const tp_http_server *srv)
{
    return &srv->opts;
}

void tp_http_server_set_stats(tp_http_server *srv, tp_http_stats *stats)
{
    srv->stats = stats ? stats : &srv->own_stats;
}

const tp_http_stats *tp_http_server_stats(const tp_http_server *srv)
{
    return srv->stats;
}

void tp_http_server_free(tp_http_server *srv)
{
    if (!srv)
        return;
    tp_http_server_stop(srv);
    tp_http_server_close_all(srv);
    tp_free(srv->trusted_downstream);
    tp_free(srv->protocol);
    tp_tls_ctx_unref(srv->opts.tls);
    tp_free(srv);
}
