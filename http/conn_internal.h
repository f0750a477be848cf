/* The HTTP/1.1 server's private state, shared by server.c (options, listeners, accept) and
 * conn.c (connections and their requests). Only conn.c touches a connection; body.c and
 * response.c are its pure decoder and framer. */
#ifndef TP_HTTP_CONN_INTERNAL_H
#define TP_HTTP_CONN_INTERNAL_H

#include <stdint.h>
#include <sys/socket.h>

#include "core/status.h"
#include "core/stream.h"
#include "http/parser.h"
#include "http/server.h"

typedef struct tp_http_conn tp_http_conn;
typedef struct tp_proxy_wait tp_proxy_wait;

/* A doubly linked list of connections. */
typedef struct tp_conn_list {
    tp_http_conn *head, *tail;
} tp_conn_list;

struct tp_http_server {
    tp_loop *loop;
    tp_http_delegate delegate;
    void *ctx;
    tp_http_server_opts opts;
    char *trusted_downstream; /* owned copy of opts.trusted_downstream */
    char *protocol;           /* owned copy of opts.protocol */
    tp_http_limits limits;
    int *listeners;
    size_t nlisteners;
    tp_timer accept_pause; /* out of fds: accepting resumes after a pause */
    /* Every open connection is in one of two lists. Those waiting for a request head are in
     * `idle`, in the order of their deadlines (all get the same timeout, so a connection
     * that starts waiting goes to the tail), and one timer serves them all. */
    tp_conn_list idle, busy;
    tp_timer idle_timer; /* at or before the deadline of idle.head */
    uint32_t idle_ticks; /* the idle timeout (idle_grace while draining) in conn.c's ticks */
    size_t nconns;
    unsigned long requests;
    bool exclusive;   /* listeners are shared: EPOLLEXCLUSIVE, re-armed */
    unsigned accepts; /* since the last re-arm */
    bool draining;
    double idle_grace;
    void (*drained)(tp_http_server *srv, void *arg);
    void *drained_arg;
    tp_http_stats *stats; /* &own_stats, or the caller's (tp_http_server_set_stats) */
    tp_http_stats own_stats;
    tp_proxy_wait *proxy_waits; /* proxy_accept.c: sockets still sending their PROXY header */
    /* HTTP/2's entry for TLS connections whose ALPN chose "h2" (NULL: none). */
    void (*h2_start)(tp_http_server *srv, tp_stream *s, const struct sockaddr *peer);
    struct tp__tls_wait *tls_waits; /* server_tls.c: sockets in their TLS handshake */
    struct tp_h2_session *h2;       /* HTTP/2 connections (http/h2/session.c), counted in nconns */
};

/* conn.c: sets up the server's connection bookkeeping (the idle timer). */
void tp__conns_init(tp_http_server *srv);
/* conn.c: a connection for the accepted socket fd from peer (https: request.protocol is
 * https, the client's TLS ended at a proxy). */
void tp__conn_start(tp_http_server *srv, int fd, const struct sockaddr *peer, bool https);
/* conn.c: a connection over stream s (made by the caller, a TLS one) from peer. */
void tp__conn_start_stream(tp_http_server *srv, tp_stream *s, const struct sockaddr *peer,
                           bool https);
/* conn.c: the stream of the connection that sent req, or NULL once it is gone. */
tp_stream *tp__request_stream(const tp_request *req);
/* server.c: the accept-time steps (the PROXY header) are done: fd becomes a connection (after
 * its TLS handshake on a TLS server). */
void tp__server_accepted(tp_http_server *srv, int fd, const struct sockaddr *peer, bool https);
/* proxy_accept.c: the accepted socket fd (peer, len) of a proxy_protocol listener: refused
 * unless peer is trusted; its PROXY header is read within proxy_protocol_timeout, then
 * tp__server_accepted goes on from the header's client address. */
void tp__proxy_accept(tp_http_server *srv, int fd, const struct sockaddr *peer, socklen_t len);
/* proxy_accept.c: closes every socket still sending its PROXY header. */
void tp__proxy_close_all(tp_http_server *srv);
/* http/tls/server_tls.c: the TLS handshake of an accepted socket from peer (the socket's or
 * the PROXY header's address), then tp__conn_start_stream (or h2_start after ALPN h2). */
void tp__tls_server_accept(tp_http_server *srv, int fd, const struct sockaddr *peer);
/* http/tls/server_tls.c: ends the server's handshakes in progress. */
void tp__tls_server_cancel(tp_http_server *srv);
/* conn.c: the drain begins: connections waiting for a head get idle_grace seconds more. */
void tp__conns_drain(tp_http_server *srv);
/* conn.c: closes every connection now (requests in flight get connection_closed); they
 * leave the server at once. */
void tp__conns_close_all(tp_http_server *srv);
/* http/h2/session.c: GOAWAY on every HTTP/2 connection (streams in flight finish), and
 * closing them all now. */
void tp__h2_drain_all(tp_http_server *srv);
void tp__h2_close_all(tp_http_server *srv);
/* server.c: a connection left the server (for the drain's end). */
void tp__server_conn_gone(tp_http_server *srv);

/* request.c: fills req from its complete head of len bytes (copied into the arena so the
 * read buffer can move; lines as counted by the parser), or returns the status to refuse it
 * with. req->remote_ip must be set; xheaders may replace it. */
int tp__request_build(tp_request *req, const char *head, size_t len, size_t lines,
                      const tp_http_server_opts *o);

/* request.c: the rest of an HTTP/2 request whose method, uri and headers are set: version
 * "HTTP/2.0", path and query, host from :authority (else Host), protocol from opts.protocol,
 * else the connection's (https when it is TLS), xheaders. 0 or the status to refuse it with. */
int tp__request_h2_fill(tp_request *req, tp_slice authority, bool https,
                        const tp_http_server_opts *o);

#endif
