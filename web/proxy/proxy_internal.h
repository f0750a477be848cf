/* The proxy's parts: the upstream and its connection pool (pool.c), the heads it forwards
 * (head.c), the handler glue (handler.c) and the Upgrade tunnel (tunnel.c). */
#ifndef TP_WEB_PROXY_INTERNAL_H
#define TP_WEB_PROXY_INTERNAL_H

#include <stdbool.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "core/stream.h"
#include "http/parser.h"
#include "http/request.h"
#include "web/proxy/proxy.h"

typedef struct tp_up_conn tp_up_conn;

/* One upstream (one proxy route), shared by its requests and connections: freed when the app
 * and the last connection let go (refs). */
typedef struct tp_upstream {
    unsigned refs;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char *pattern;   /* the route's pattern, for tp_proxy_stats */
    char *host_port; /* "host:port": the Host sent upstream */
    char *base;      /* path prefix from the URL ("" for none) */
    tp_proxy_opts opts;
    tp_up_conn *idle; /* idle keep-alive connections, most recent first */
    size_t nidle;
    unsigned long connects, reuses;
    struct tp_upstream *next; /* in the app's list */
} tp_upstream;

/* An upstream connection. Its stream's close callback is the pool's: it tells the owner
 * (on_close), then frees the connection; an idle one is owned by the pool. */
struct tp_up_conn {
    tp_stream *s;
    tp_upstream *up;
    tp_up_conn *prev, *next; /* in up->idle while idle */
    bool reused;             /* it served a request before */
    void (*on_close)(void *owner, int error);
    void *owner;
};

/* pool.c: an upstream from "http://host:port[/base]" (resolved now), or NULL (logged). */
tp_upstream *tp__upstream_new(const char *url, const char *pattern, const tp_proxy_opts *opts);
void tp__upstream_unref(tp_upstream *up);
/* pool.c: an idle connection, or a new one connecting (non-blocking; writes wait for the
 * connect). Its owner sets on_close/owner and the data handler. NULL with *err = -errno. */
tp_up_conn *tp__pool_get(tp_upstream *up, tp_loop *loop, int *err);
/* pool.c: the owner is done with c and it can serve another request (kept idle, or closed
 * past max_idle). */
void tp__pool_put(tp_up_conn *c);
/* pool.c: the owner is done with c and it is not reusable: closed (on_close not called). */
void tp__pool_close(tp_up_conn *c);
/* pool.c: closes every idle connection of up now (the app is going away). */
void tp__pool_close_idle(tp_upstream *up);
/* pool.c: the stream of c for the caller to own (callbacks cleared); c is freed. */
tp_stream *tp__pool_detach(tp_up_conn *c);

/* head.c: how the request body goes upstream. */
enum tp_proxy_body { PROXY_BODY_NONE, PROXY_BODY_LENGTH, PROXY_BODY_CHUNKED };
/* head.c: whether the name is a hop-by-hop field: the fixed list or one named in the
 * Connection value conn. */
bool tp__proxy_hop_by_hop(tp_slice name, tp_slice conn);
/* head.c: the body framing to forward req with. */
enum tp_proxy_body tp__proxy_body_mode(const tp_request *req);
/* head.c: true when req asks for an Upgrade (Connection: upgrade and an Upgrade field). */
bool tp__proxy_wants_upgrade(const tp_request *req);
/* head.c: appends the upstream request head for req to out. peer: the socket's address;
 * trusted: incoming X-Forwarded-* kept and appended to (the server has xheaders on). */
void tp__proxy_request_head(const tp_upstream *up, const tp_request *req, tp_slice peer,
                            bool trusted, enum tp_proxy_body body, bool upgrade, tp_buf *out);
/* head.c: the response's fields for the client into out: hop-by-hop ones dropped, and
 * Content-Length unless the body is chunked (a response with both is refused earlier). */
void tp__proxy_response_fields(const tp_response_head *rh, tp_headers *out);

/* tunnel.c: pipes bytes both ways between the client and the upstream until either ends; a
 * reference on the handler is put at the end (ref_put(ref)). Takes both streams. */
void tp__proxy_tunnel(tp_stream *client, tp_stream *upstream, void (*ref_put)(void *), void *ref);

/* Flow control: past this much output queued on one side, the other side stops reading. */
#define TP_PROXY_HIGH_WATER (256u << 10)

#endif
