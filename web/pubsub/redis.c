/* The Redis transport (--pubsub=redis://HOST:PORT): every publish is a PUBLISH on one
 * connection, every delivery comes from a SUBSCRIBE on a second one (a subscribed connection
 * takes no other command), both hiredis async contexts driven by this process's loop through
 * the adapter below. Redis sends one connection's PUBLISHes to every subscriber in the order
 * it read them, which keeps the order per publisher; the publisher's own subscribers get its
 * messages back from Redis like everyone else's, so nothing is delivered twice.
 *
 * A lost connection is re-made with backoff (0.1 s doubling to 5 s), logged on each side.
 * Messages published while the publishing connection is down are dropped (-ENOBUFS, logged
 * once a second with a count); messages in flight when it drops are lost (logged likewise). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "core/alloc.h"
#include "core/log.h"
#include "web/pubsub/internal.h"

#define MIN_BACKOFF 0.1
#define MAX_BACKOFF 5.0

typedef struct rclient rclient;

/* One hiredis connection and its place in the loop. The struct outlives its contexts: ac is
 * NULL between a disconnect and the next attempt. */
typedef struct rconn {
    rclient *cl;
    const char *role; /* "publish" or "subscribe", for the log */
    redisAsyncContext *ac;
    int fd;
    unsigned events; /* watched now */
    bool added;      /* fd is in the loop */
    bool connected;
    bool was_lost; /* the next connect is a reconnect: say so */
    double backoff;
    tp_timer retry;
} rconn;

/* The Redis transport of this process. */
struct rclient {
    tp_loop *loop;
    char host[256];
    int port;
    rconn pub, sub;
    size_t pending; /* bytes of PUBLISH commands not answered yet */
    uint64_t lost;  /* messages dropped since the last log line */
    double lost_logged;
};

static rclient C;

/* ---- the hiredis adapter over core/loop.h ------------------------------------------------- */

static void on_fd(tp_loop *loop, int fd, unsigned events, void *arg)
{
    (void)loop, (void)fd;
    rconn *c = arg;
    if (c->ac && (events & (TP_READ | TP_ERROR_EVENTS)))
        redisAsyncHandleRead(c->ac);
    if (c->ac && (events & TP_WRITE))
        redisAsyncHandleWrite(c->ac);
}

static void watch(rconn *c, unsigned events)
{
    if (events == c->events && c->added)
        return;
    c->events = events;
    if (c->added)
        tp_loop_update_fd(c->cl->loop, c->fd, events);
    else if (tp_loop_add_fd(c->cl->loop, c->fd, events, on_fd, c) == 0)
        c->added = true;
}

static void add_read(void *p)
{
    rconn *c = p;
    watch(c, c->events | TP_READ);
}

static void del_read(void *p)
{
    rconn *c = p;
    watch(c, c->events & ~(unsigned)TP_READ);
}

static void add_write(void *p)
{
    rconn *c = p;
    watch(c, c->events | TP_WRITE);
}

static void del_write(void *p)
{
    rconn *c = p;
    watch(c, c->events & ~(unsigned)TP_WRITE);
}

/* hiredis frees the context (and closes fd) right after this. */
static void cleanup(void *p)
{
    rconn *c = p;
    if (c->added)
        tp_loop_remove_fd(c->cl->loop, c->fd);
    c->added = false;
    c->events = 0;
    c->ac = NULL;
    c->connected = false;
}

static void attach(rconn *c, redisAsyncContext *ac)
{
    c->ac = ac;
    c->fd = ac->c.fd;
    c->events = 0;
    c->added = false;
    ac->data = c;
    ac->ev.data = c;
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->ev.cleanup = cleanup;
}

/* ---- connections -------------------------------------------------------------------------- */

static void subscribe(void *arg, tp_slice ch);

static void lost(rconn *c, const char *why)
{
    double delay = c->backoff < MIN_BACKOFF ? MIN_BACKOFF : c->backoff;
    c->backoff = delay * 2 > MAX_BACKOFF ? MAX_BACKOFF : delay * 2;
    tp_log_warning("pubsub: redis %s:%d (%s): %s; reconnecting in %.1f s", c->cl->host, c->cl->port,
                   c->role, why, delay);
    c->was_lost = true;
    tp_timer_start_at(c->cl->loop, &c->retry, tp_loop_time(c->cl->loop) + delay);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    rconn *c = ac->data;
    if (status != REDIS_OK) {
        lost(c, ac->errstr[0] ? ac->errstr : "cannot connect");
        return; /* hiredis frees the context */
    }
    c->connected = true;
    c->backoff = 0;
    tp_log_info("pubsub: %s redis %s:%d (%s)", c->was_lost ? "reconnected to" : "connected to",
                c->cl->host, c->cl->port, c->role);
    if (c == &c->cl->sub)
        tp__pubsub_foreach_channel(subscribe, c);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    rconn *c = ac->data;
    (void)status;
    lost(c, ac->errstr[0] ? ac->errstr : "connection closed");
}

static void connect_now(tp_loop *loop, void *arg)
{
    (void)loop;
    rconn *c = arg;
    redisAsyncContext *ac = redisAsyncConnect(c->cl->host, c->cl->port);
    if (!ac || ac->err) {
        char why[128];
        snprintf(why, sizeof(why), "%s", ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        lost(c, why);
        return;
    }
    attach(c, ac);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
}

/* ---- publish ------------------------------------------------------------------------------ */

static void count_lost(rclient *cl, uint64_t n)
{
    double now = tp__monotonic();
    cl->lost += n;
    if (now - cl->lost_logged < 1.0)
        return;
    tp_log_warning("pubsub: redis %s:%d: %llu message(s) lost with the connection", cl->host,
                   cl->port, (unsigned long long)cl->lost);
    cl->lost = 0;
    cl->lost_logged = now;
}

/* The PUBLISH was answered (reply) or its connection went away first (NULL). */
static void published(redisAsyncContext *ac, void *reply, void *arg)
{
    (void)ac;
    C.pending -= (size_t)(uintptr_t)arg;
    if (!reply)
        count_lost(&C, 1);
}

static int redis_publish(void *ctx, tp_slice ch, const void *msg, size_t n)
{
    rclient *cl = ctx;
    size_t size = ch.n + n;
    if (!cl->pub.ac || cl->pending + size > TP__PUBSUB_QUEUE_LIMIT)
        return -ENOBUFS; /* down (logged when it went) or full: tp_pubsub_publish logs it */
    const char *argv[] = {"PUBLISH", ch.p, n ? msg : ""};
    size_t lens[] = {7, ch.n, n};
    if (redisAsyncCommandArgv(cl->pub.ac, published, (void *)(uintptr_t)size, 3, argv, lens) !=
        REDIS_OK)
        return -ENOBUFS;
    cl->pending += size;
    return 0;
}

/* ---- subscribe ---------------------------------------------------------------------------- */

static bool is(const redisReply *r, const char *s)
{
    return r->type == REDIS_REPLY_STRING && r->len == strlen(s) && !strncasecmp(r->str, s, r->len);
}

/* Every reply of the subscribing connection: "subscribe", "message", "unsubscribe" arrays.
 * hiredis forgets a channel's callback on its "unsubscribe" reply, even if a SUBSCRIBE of the
 * same channel was sent after the UNSUBSCRIBE: a channel that has subscribers again is
 * subscribed once more here, so its messages keep a callback. */
static void on_sub_reply(redisAsyncContext *ac, void *reply, void *arg)
{
    (void)ac, (void)arg;
    redisReply *r = reply;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 3 ||
        r->element[1]->type != REDIS_REPLY_STRING)
        return;
    tp_slice ch = {r->element[1]->str, r->element[1]->len};
    if (is(r->element[0], "message") && r->element[2]->type == REDIS_REPLY_STRING)
        tp__pubsub_deliver(ch, (tp_slice){r->element[2]->str, r->element[2]->len});
    else if (is(r->element[0], "unsubscribe") && tp__pubsub_has_channel(ch))
        subscribe(&C.sub, ch);
}

static void subscribe(void *arg, tp_slice ch)
{
    rconn *c = arg;
    const char *argv[] = {"SUBSCRIBE", ch.p};
    size_t lens[] = {9, ch.n};
    if (c->ac && c->connected)
        redisAsyncCommandArgv(c->ac, on_sub_reply, NULL, 2, argv, lens);
}

static void channel_on(void *ctx, tp_slice ch)
{
    subscribe(&((rclient *)ctx)->sub, ch);
}

static void channel_off(void *ctx, tp_slice ch)
{
    rconn *c = &((rclient *)ctx)->sub;
    const char *argv[] = {"UNSUBSCRIBE", ch.p};
    size_t lens[] = {11, ch.n};
    if (c->ac && c->connected)
        redisAsyncCommandArgv(c->ac, on_sub_reply, NULL, 2, argv, lens);
}

static const tp__pubsub_transport redis_transport = {
    .name = "redis",
    .publish = redis_publish,
    .channel_on = channel_on,
    .channel_off = channel_off,
};

/* ---- start -------------------------------------------------------------------------------- */

int tp__pubsub_url_parse(const char *url, char *host, size_t hostlen, int *port, char *err,
                         size_t errlen)
{
    static const char scheme[] = "redis://";
    const char *h =
        url && !strncmp(url, scheme, sizeof(scheme) - 1) ? url + sizeof(scheme) - 1 : NULL;
    const char *colon = h ? strrchr(h, ':') : NULL;
    char *end = NULL;
    long p = colon ? strtol(colon + 1, &end, 10) : 0;
    if (!h || !colon || colon == h || (size_t)(colon - h) >= hostlen || !colon[1] || *end ||
        p < 1 || p > 65535 || memchr(h, '/', (size_t)(colon - h)) ||
        memchr(h, '@', (size_t)(colon - h))) {
        snprintf(err, errlen, "--pubsub=%s: expected redis://HOST:PORT", url ? url : "");
        return -EINVAL;
    }
    memcpy(host, h, (size_t)(colon - h));
    host[colon - h] = '\0';
    *port = (int)p;
    return 0;
}

static void conn_init(rclient *cl, rconn *c, const char *role)
{
    *c = (rconn){.cl = cl, .role = role, .fd = -1};
    tp_timer_init(&c->retry, connect_now, c);
}

int tp__pubsub_redis_start(tp_loop *loop, const char *url)
{
    char err[300];
    rclient *cl = &C;
    *cl = (rclient){.loop = loop};
    if (tp__pubsub_url_parse(url, cl->host, sizeof(cl->host), &cl->port, err, sizeof(err)) < 0) {
        tp_log_error("pubsub: %s", err);
        return -EINVAL;
    }
    conn_init(cl, &cl->pub, "publish");
    conn_init(cl, &cl->sub, "subscribe");
    tp__pubsub_set_transport(&redis_transport, cl);
    connect_now(loop, &cl->pub);
    connect_now(loop, &cl->sub);
    return 0;
}
