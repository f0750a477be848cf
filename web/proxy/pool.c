/* The upstream of a proxy route and its per-worker pool of keep-alive connections. The host
 * is resolved once, when the route is added (getaddrinfo blocks, which is fine at startup and
 * costs nothing for a numeric host); connects are non-blocking: the stream is made at once
 * and its writes wait until the socket is connected. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "platform/socket.h"
#include "web/proxy/proxy_internal.h"

#define DEFAULT_MAX_IDLE 16

/* "http://host[:port][/base]" into its parts (host without IPv6 brackets). */
static int split_url(const char *url, char *host, size_t hn, char *port, size_t pn,
                     const char **base)
{
    if (strncmp(url, "http://", 7) != 0)
        return -EINVAL;
    const char *p = url + 7, *end = p + strcspn(p, "/?#");
    const char *colon = NULL, *h = p, *he;
    if (*p == '[') {
        h = p + 1;
        he = memchr(h, ']', (size_t)(end - h));
        if (!he)
            return -EINVAL;
        colon = he + 1 < end && he[1] == ':' ? he + 1 : NULL;
    } else {
        colon = memchr(p, ':', (size_t)(end - p));
        he = colon ? colon : end;
    }
    size_t n = (size_t)(he - h), k = colon ? (size_t)(end - colon - 1) : 2;
    if (!n || n >= hn || k >= pn || !k || (*end && *end != '/'))
        return -EINVAL;
    memcpy(host, h, n);
    host[n] = 0;
    memcpy(port, colon ? colon + 1 : "80", k);
    port[k] = 0;
    *base = end;
    return 0;
}

static int resolve(tp_upstream *up, const char *host, const char *port)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai;
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return -EHOSTUNREACH;
    memcpy(&up->addr, ai->ai_addr, ai->ai_addrlen);
    up->addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

tp_upstream *tp__upstream_new(const char *url, const char *pattern, const tp_proxy_opts *opts)
{
    char host[256], port[8];
    const char *base;
    if (split_url(url, host, sizeof host, port, sizeof port, &base) < 0) {
        tp_log_error("proxy: bad upstream URL %s (http://host:port[/path] expected)", url);
        return NULL;
    }
    tp_upstream *up = tp_calloc(1, sizeof(*up));
    if (resolve(up, host, port) < 0) {
        tp_log_error("proxy: cannot resolve the upstream host %s", host);
        tp_free(up);
        return NULL;
    }
    up->refs = 1;
    if (opts)
        up->opts = *opts;
    const char *strip = opts && opts->strip_prefix ? opts->strip_prefix : NULL;
    up->opts.strip_prefix = strip ? tp_strndup(strip, strlen(strip)) : NULL;
    up->opts.connect_timeout = up->opts.connect_timeout > 0 ? up->opts.connect_timeout : 10;
    up->opts.read_timeout = up->opts.read_timeout > 0 ? up->opts.read_timeout : 60;
    up->opts.max_idle = up->opts.max_idle ? up->opts.max_idle : DEFAULT_MAX_IDLE;
    bool v6 = strchr(host, ':') != NULL;
    size_t n = strlen(host) + strlen(port) + 4;
    up->host_port = tp_malloc(n);
    snprintf(up->host_port, n, v6 ? "[%s]:%s" : "%s:%s", host, port);
    const char *b = strcmp(base, "/") == 0 ? "" : base;
    up->base = tp_strndup(b, strlen(b));
    up->pattern = tp_strndup(pattern, strlen(pattern));
    return up;
}

void tp__upstream_unref(tp_upstream *up)
{
    if (--up->refs)
        return;
    tp_free((char *)up->opts.strip_prefix);
    tp_free(up->host_port);
    tp_free(up->base);
    tp_free(up->pattern);
    tp_free(up);
}

static void idle_remove(tp_up_conn *c)
{
    tp_upstream *up = c->up;
    if (c->prev)
        c->prev->next = c->next;
    else
        up->idle = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    up->nidle--;
}

/* The one place a connection is freed: after its stream closed. */
static void on_closed(tp_stream *s, int error, void *arg)
{
    (void)s;
    tp_up_conn *c = arg;
    if (c->on_close)
        c->on_close(c->owner, error);
    else if (c->prev || c->up->idle == c)
        idle_remove(c);
    tp__upstream_unref(c->up);
    tp_free(c);
}

/* An idle connection hears nothing but the upstream closing it (or junk: closed too). */
static size_t on_idle_data(tp_stream *s, tp_slice d, bool eof, void *arg)
{
    (void)d, (void)eof, (void)arg;
    tp_stream_close(s);
    return d.n;
}

static tp_up_conn *conn_new(tp_upstream *up, tp_loop *loop, int *err)
{
    int fd = socket(up->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err = -errno;
        return NULL;
    }
    if (connect(fd, (struct sockaddr *)&up->addr, up->addrlen) < 0 && errno != EINPROGRESS) {
        *err = -errno;
        close(fd);
        return NULL;
    }
    tp_socket_set_nodelay(fd, true);
    tp_up_conn *c = tp_calloc(1, sizeof(*c));
    c->s = tp_stream_new(loop, fd, NULL);
    c->up = up;
    up->refs++;
    up->connects++;
    tp_stream_set_close_callback(c->s, on_closed, c);
    return c;
}

tp_up_conn *tp__pool_get(tp_upstream *up, tp_loop *loop, int *err)
{
    while (up->idle) {
        tp_up_conn *c = up->idle;
        idle_remove(c);
        if (tp_stream_closed(c->s) || tp_stream_buffered(c->s)) {
            tp__pool_close(c);
            continue;
        }
        tp_stream_set_data_handler(c->s, NULL, NULL);
        c->reused = true;
        up->reuses++;
        return c;
    }
    return conn_new(up, loop, err);
}

void tp__pool_put(tp_up_conn *c)
{
    tp_upstream *up = c->up;
    c->on_close = NULL;
    c->owner = NULL;
    if (up->opts.no_keep_alive || up->nidle >= up->opts.max_idle || up->refs == 0 ||
        tp_stream_closed(c->s)) {
        tp_stream_close(c->s);
        return;
    }
    c->next = up->idle;
    if (up->idle)
        up->idle->prev = c;
    up->idle = c;
    up->nidle++;
    tp_stream_set_data_handler(c->s, on_idle_data, c);
}

void tp__pool_close(tp_up_conn *c)
{
    c->on_close = NULL;
    tp_stream_set_data_handler(c->s, NULL, NULL);
    tp_stream_close(c->s);
}

tp_stream *tp__pool_detach(tp_up_conn *c)
{
    tp_stream *s = c->s;
    tp_stream_set_close_callback(s, NULL, NULL);
    tp_stream_set_data_handler(s, NULL, NULL);
    tp__upstream_unref(c->up);
    tp_free(c);
    return s;
}

void tp__pool_close_idle(tp_upstream *up)
{
    while (up->idle) {
        tp_up_conn *c = up->idle;
        idle_remove(c);
        tp_stream_close(tp__pool_detach(c));
    }
}
