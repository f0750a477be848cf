/* Subscriptions (a hash table of channels, each with its list of subscribers), dispatch, and
 * the local queue of a process without a transport. */
#include "web/pubsub/pubsub.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "web/pubsub/internal.h"

typedef struct channel channel;

/* A subscriber. Unsubscribed while its channel dispatches, it is only marked dead and freed
 * by the dispatch when it ends (the dispatch may be about to read its next pointer). */
struct tp_pubsub_sub {
    channel *ch;
    tp_pubsub_sub *prev, *next;
    tp_pubsub_fn fn;
    void *arg;
    uint64_t seq; /* subscribed after a dispatch began: not called by it */
    bool dead;
};

struct channel {
    channel *next; /* bucket chain */
    tp_pubsub_sub *head, *tail;
    size_t live;   /* subscribers not dead */
    unsigned busy; /* dispatches running on this channel */
    uint32_t hash;
    uint8_t len;
    char name[];
};

/* A message waiting in the local queue (no transport). */
typedef struct queued {
    struct queued *next;
    uint32_t chan_len;
    size_t n;
    char data[]; /* channel, then message */
} queued;

/* The process's pubsub state. */
static struct {
    channel **buckets;
    size_t nbuckets, nchannels, nsubs;
    uint64_t seq;
    const tp__pubsub_transport *t;
    void *tctx;
    queued *qhead, **qtail;
    size_t qbytes;
    bool scheduled;
    double refused_logged;
    uint64_t refused_unlogged;
    tp_pubsub_stats stats;
} P;

static uint32_t hash_of(tp_slice s)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < s.n; i++)
        h = (h ^ (uint8_t)s.p[i]) * 16777619u;
    return h;
}

static channel **bucket_of(uint32_t h)
{
    return &P.buckets[h & (P.nbuckets - 1)];
}

static channel *find(tp_slice name, uint32_t h)
{
    if (!P.nbuckets)
        return NULL;
    for (channel *c = *bucket_of(h); c; c = c->next)
        if (c->hash == h && c->len == name.n && !memcmp(c->name, name.p, name.n))
            return c;
    return NULL;
}

static void grow(void)
{
    size_t old = P.nbuckets;
    channel **ob = P.buckets;
    P.nbuckets = old ? old * 2 : 64;
    P.buckets = tp_calloc(P.nbuckets, sizeof(*P.buckets));
    for (size_t i = 0; i < old; i++)
        for (channel *c = ob[i], *next; c; c = next) {
            next = c->next;
            c->next = *bucket_of(c->hash);
            *bucket_of(c->hash) = c;
        }
    tp_free(ob);
}

static channel *channel_add(tp_slice name, uint32_t h)
{
    if (P.nchannels >= P.nbuckets)
        grow();
    channel *c = tp_calloc(1, sizeof(*c) + name.n);
    c->hash = h;
    c->len = (uint8_t)name.n;
    memcpy(c->name, name.p, name.n);
    c->next = *bucket_of(h);
    *bucket_of(h) = c;
    P.nchannels++;
    if (P.t && P.t->channel_on)
        P.t->channel_on(P.tctx, name);
    return c;
}

static void channel_drop(channel *c)
{
    for (channel **p = bucket_of(c->hash); *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    P.nchannels--;
    if (P.t && P.t->channel_off)
        P.t->channel_off(P.tctx, (tp_slice){c->name, c->len});
    tp_free(c);
}

static bool bad_name(tp_slice name)
{
    return !name.p || name.n == 0 || name.n > TP_PUBSUB_MAX_CHANNEL;
}

tp_pubsub_sub *tp_pubsub_subscribe(tp_slice name, tp_pubsub_fn fn, void *arg)
{
    if (bad_name(name) || !fn)
        return NULL;
    uint32_t h = hash_of(name);
    channel *c = find(name, h);
    if (!c)
        c = channel_add(name, h);
    tp_pubsub_sub *s = tp_calloc(1, sizeof(*s));
    *s = (tp_pubsub_sub){.ch = c, .prev = c->tail, .fn = fn, .arg = arg, .seq = ++P.seq};
    *(c->tail ? &c->tail->next : &c->head) = s;
    c->tail = s;
    c->live++;
    P.nsubs++;
    return s;
}

static void unlink_sub(channel *c, tp_pubsub_sub *s)
{
    *(s->prev ? &s->prev->next : &c->head) = s->next;
    *(s->next ? &s->next->prev : &c->tail) = s->prev;
    tp_free(s);
}

void tp_pubsub_unsubscribe(tp_pubsub_sub *s)
{
    if (!s || s->dead)
        return;
    channel *c = s->ch;
    s->dead = true;
    c->live--;
    P.nsubs--;
    if (c->busy)
        return; /* the dispatch frees it */
    unlink_sub(c, s);
    if (!c->live)
        channel_drop(c);
}

/* Why a sequence number: a subscriber added by a callback must not get the message being
 * dispatched (it subscribed after it was published), as in a list copied before the calls. */
void tp__pubsub_deliver(tp_slice name, tp_slice msg)
{
    P.stats.received++;
    channel *c = bad_name(name) ? NULL : find(name, hash_of(name));
    if (!c)
        return;
    uint64_t upto = P.seq;
    c->busy++;
    for (tp_pubsub_sub *s = c->head; s; s = s->next)
        if (!s->dead && s->seq <= upto) {
            P.stats.delivered++;
            s->fn(name, msg, s->arg);
        }
    if (--c->busy)
        return;
    for (tp_pubsub_sub *s = c->head, *next; s; s = next) {
        next = s->next;
        if (s->dead)
            unlink_sub(c, s);
    }
    if (!c->live)
        channel_drop(c);
}

bool tp__pubsub_has_channel(tp_slice name)
{
    channel *c = bad_name(name) ? NULL : find(name, hash_of(name));
    return c && c->live;
}

void tp__pubsub_foreach_channel(void (*fn)(void *arg, tp_slice channel), void *arg)
{
    for (size_t i = 0; i < P.nbuckets; i++)
        for (channel *c = P.buckets[i]; c; c = c->next)
            if (c->live)
                fn(arg, (tp_slice){c->name, c->len});
}

/* ---- the local queue ---------------------------------------------------------------------- */

/* The messages queued so far, each delivered from the loop; those published meanwhile wait for
 * the next iteration, so that subscribers that publish cannot keep the loop from its I/O. */
static void drain(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    queued *q = P.qhead;
    P.qhead = NULL;
    P.qtail = &P.qhead;
    P.scheduled = false;
    while (q) {
        queued *next = q->next;
        P.qbytes -= q->n + q->chan_len;
        tp__pubsub_deliver((tp_slice){q->data, q->chan_len},
                           (tp_slice){q->data + q->chan_len, q->n});
        tp_free(q);
        q = next;
    }
}

static int local_publish(tp_slice name, const void *msg, size_t n)
{
    if (P.qbytes + n + name.n > TP__PUBSUB_QUEUE_LIMIT)
        return -ENOBUFS;
    queued *q = tp_malloc(sizeof(*q) + name.n + n);
    *q = (queued){.chan_len = (uint32_t)name.n, .n = n};
    memcpy(q->data, name.p, name.n);
    if (n)
        memcpy(q->data + name.n, msg, n);
    if (!P.qtail)
        P.qtail = &P.qhead;
    *P.qtail = q;
    P.qtail = &q->next;
    P.qbytes += n + name.n;
    if (!P.scheduled) {
        P.scheduled = true;
        tp_loop_add_callback(tp_loop_current(), drain, NULL);
    }
    return 0;
}

/* Refusals are logged once a second at most, with the count since the last line. */
static void log_refused(void)
{
    double now = tp__monotonic();
    P.refused_unlogged++;
    if (now - P.refused_logged < 1.0)
        return;
    tp_log_warning("pubsub: the way out is full: %llu message(s) dropped",
                   (unsigned long long)P.refused_unlogged);
    P.refused_logged = now;
    P.refused_unlogged = 0;
}

int tp_pubsub_publish(tp_slice name, const void *msg, size_t n)
{
    if (bad_name(name))
        return -EINVAL;
    if (n > TP_PUBSUB_MAX_MESSAGE)
        return -EMSGSIZE;
    if (n && !msg)
        return -EINVAL;
    int r = P.t ? P.t->publish(P.tctx, name, msg, n) : local_publish(name, msg, n);
    if (r == -ENOBUFS) {
        P.stats.refused++;
        log_refused();
        return r;
    }
    if (r == 0)
        P.stats.published++;
    return r;
}

void tp__pubsub_set_transport(const tp__pubsub_transport *t, void *ctx)
{
    P.t = t;
    P.tctx = ctx;
}

void tp_pubsub_get_stats(tp_pubsub_stats *out)
{
    *out = P.stats;
    out->channels = P.nchannels;
    out->subscribers = P.nsubs;
    out->transport = P.t ? P.t->name : "local";
}

/* Dispatches never run here (reset is for tests and for a process after fork), so nothing is
 * busy: every channel and subscriber goes. */
void tp__pubsub_reset(void)
{
    for (size_t i = 0; i < P.nbuckets; i++)
        for (channel *c = P.buckets[i], *next; c; c = next) {
            next = c->next;
            for (tp_pubsub_sub *s = c->head, *sn; s; s = sn) {
                sn = s->next;
                tp_free(s);
            }
            tp_free(c);
        }
    tp_free(P.buckets);
    for (queued *q = P.qhead, *next; q; q = next) {
        next = q->next;
        tp_free(q);
    }
    memset(&P, 0, sizeof(P));
}
