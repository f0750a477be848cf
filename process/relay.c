/* The master's pubsub relay (docs/pubsub.md): one SOCK_STREAM socketpair per worker, frames
 * of web/pubsub/internal.h. A frame read from any worker is sent to every live worker of
 * every generation, the publisher included (it delivers its own messages from the echo, so
 * every worker sees one order). A frame is stored once, reference-counted, and queued to each
 * worker; a worker whose queue holds 64 MiB gets no more until it reads (its drops are
 * counted and logged once a second): a slow worker never stalls the others, and the master
 * never blocks on a write. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "process/master_internal.h"
#include "web/pubsub/internal.h"

#define READ_BUDGET (4u << 20) /* bytes read from one worker per readiness event */
#define MAX_IOV     512

/* One frame, shared by the queues of every worker it goes to. */
typedef struct blob {
    size_t refs, size;
    char data[];
} blob;

/* The relay's end for one worker. */
struct tp__relay_peer {
    tp_master *m;
    worker *w;
    int fd; /* -1 once the worker's end closed */
    tp_buf in;
    blob **q; /* ring of frames to write */
    size_t qcap, qhead, qlen;
    size_t head_off; /* bytes of q[qhead] already written */
    size_t qbytes;
    tp_defer flush;
    bool writing;
    uint64_t dropped; /* since the last log line */
    double drop_logged;
};

static void unref(blob *b)
{
    if (--b->refs == 0)
        tp_free(b);
}

static void peer_close(tp__relay_peer *p)
{
    if (p->fd < 0)
        return;
    tp_loop_remove_fd(p->m->loop, p->fd);
    close(p->fd);
    p->fd = -1;
    for (size_t i = 0; i < p->qlen; i++)
        unref(p->q[(p->qhead + i) % p->qcap]);
    tp_free(p->q);
    p->q = NULL;
    p->qcap = p->qlen = p->qhead = p->head_off = p->qbytes = 0;
    tp_buf_free(&p->in);
}

static void set_writing(tp__relay_peer *p, bool on)
{
    if (p->writing != on && p->fd >= 0) {
        p->writing = on;
        tp_loop_update_fd(p->m->loop, p->fd, TP_READ | (on ? TP_WRITE : 0));
    }
}

/* Writes the queue with writev until it is empty or the socket is full. */
static void flush(tp_loop *loop, void *arg)
{
    (void)loop;
    tp__relay_peer *p = arg;
    while (p->fd >= 0 && p->qlen) {
        struct iovec iov[MAX_IOV];
        int n = 0;
        for (size_t i = 0; i < p->qlen && n < MAX_IOV; i++, n++) {
            blob *b = p->q[(p->qhead + i) % p->qcap];
            size_t off = i ? 0 : p->head_off;
            iov[n] = (struct iovec){b->data + off, b->size - off};
        }
        ssize_t w = writev(p->fd, iov, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            set_writing(p, true);
            return;
        }
        if (w <= 0) {
            peer_close(p); /* the worker is gone: its exit comes through SIGCHLD */
            return;
        }
        p->qbytes -= (size_t)w;
        for (size_t left = (size_t)w; left;) {
            blob *b = p->q[p->qhead];
            size_t rest = b->size - p->head_off;
            if (left < rest) {
                p->head_off += left;
                break;
            }
            left -= rest;
            p->head_off = 0;
            p->qhead = (p->qhead + 1) % p->qcap;
            p->qlen--;
            unref(b);
        }
    }
    set_writing(p, false);
}

static void push(tp__relay_peer *p, blob *b)
{
    if (p->qlen == p->qcap) {
        size_t cap = p->qcap ? p->qcap * 2 : 64;
        blob **q = tp_malloc(cap * sizeof(*q));
        for (size_t i = 0; i < p->qlen; i++)
            q[i] = p->q[(p->qhead + i) % p->qcap];
        tp_free(p->q);
        p->q = q;
        p->qcap = cap;
        p->qhead = 0;
    }
    p->q[(p->qhead + p->qlen++) % p->qcap] = b;
    p->qbytes += b->size;
    b->refs++;
    if (!p->writing)
        tp_loop_defer(p->m->loop, &p->flush);
}

/* Sends one frame to every worker that has room for it. */
static void fan_out(tp_master *m, const char *frame, size_t size)
{
    blob *b = tp_malloc(sizeof(*b) + size);
    b->refs = 1; /* ours until the loop is done */
    b->size = size;
    memcpy(b->data, frame, size);
    for (worker *w = m->workers; w; w = w->next) {
        tp__relay_peer *p = w->relay;
        if (!p || p->fd < 0)
            continue;
        if (p->qbytes + size > TP__PUBSUB_QUEUE_LIMIT)
            p->dropped++;
        else
            push(p, b);
    }
    unref(b);
}

static void fan_out_frame(void *arg, const char *frame, size_t size)
{
    tp__relay_peer *p = arg;
    fan_out(p->m, frame, size);
}

static void read_frames(tp__relay_peer *p)
{
    int rc = tp__pubsub_read_frames(p->fd, &p->in, READ_BUDGET, fan_out_frame, p);
    if (rc == -EPROTO)
        tp_log_error("pubsub: worker[%d] pid %d sent a bad frame: relay closed", p->w->slot,
                     (int)p->w->pid);
    if (rc < 0)
        peer_close(p); /* EOF: the worker is gone, its exit comes through SIGCHLD */
}

static void on_fd(tp_loop *loop, int fd, unsigned events, void *arg)
{
    (void)fd;
    tp__relay_peer *p = arg;
    if (events & TP_WRITE)
        flush(loop, p);
    if (p->fd >= 0 && (events & (TP_READ | TP_ERROR_EVENTS)))
        read_frames(p);
}

int tp__relay_pair(int sv[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    return 0;
}

void tp__relay_add(tp_master *m, worker *w, int fd)
{
    tp__relay_peer *p = tp_calloc(1, sizeof(*p));
    *p = (tp__relay_peer){.m = m, .w = w, .fd = fd, .flush = {.fn = flush, .arg = p}};
    w->relay = p;
    if (tp_loop_add_fd(m->loop, fd, TP_READ, on_fd, p) < 0)
        peer_close(p);
}

static void free_peer(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_free(arg);
}

void tp__relay_remove(worker *w)
{
    tp__relay_peer *p = w->relay;
    if (!p)
        return;
    peer_close(p);
    /* A queued flush still points here: it runs before the loop sleeps, so the peer is freed
     * after it, from a deferred call queued behind it. */
    tp_loop_defer_call(p->m->loop, free_peer, p);
    w->relay = NULL;
}

void tp__relay_tick(tp_master *m)
{
    double now = tp_loop_time(m->loop);
    for (worker *w = m->workers; w; w = w->next) {
        tp__relay_peer *p = w->relay;
        if (!p || !p->dropped || now - p->drop_logged < 1.0)
            continue;
        tp_log_warning("pubsub: worker[%d] pid %d reads too slowly: %llu message(s) dropped for "
                       "it (its queue holds %zu bytes)",
                       w->slot, (int)w->pid, (unsigned long long)p->dropped, p->qbytes);
        p->dropped = 0;
        p->drop_logged = now;
    }
}
