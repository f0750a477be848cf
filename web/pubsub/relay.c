/* The worker's side of the prefork master relay: one SOCK_STREAM socket to the master. A
 * publish appends a frame to the out buffer, written without blocking before the loop sleeps
 * (many publishes of one iteration in one write); the master sends every frame back to every
 * worker, this one included, and the frames read here are delivered in the order they come.
 * The echo is what keeps one order: every worker of the host sees the same sequence. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "web/pubsub/internal.h"

#define READ_BUDGET (4u << 20) /* bytes read per readiness event: other fds get their turn */

/* The relay of this process (one per worker, for the life of the process). */
typedef struct relay {
    tp_loop *loop;
    int fd;
    tp_buf in, out;
    tp_defer flush;
    bool writing;
} relay;

static relay R = {.fd = -1};

static void master_gone(relay *r, const char *why)
{
    tp_log_warning("pubsub: the master relay is gone (%s): local delivery only", why);
    tp_loop_remove_fd(r->loop, r->fd);
    close(r->fd);
    r->fd = -1;
    tp_buf_free(&r->in);
    tp_buf_free(&r->out);
    tp__pubsub_set_transport(NULL, NULL);
}

static void set_writing(relay *r, bool on)
{
    if (r->writing != on && r->fd >= 0) {
        r->writing = on;
        tp_loop_update_fd(r->loop, r->fd, TP_READ | (on ? TP_WRITE : 0));
    }
}

static void flush(tp_loop *loop, void *arg)
{
    (void)loop;
    relay *r = arg;
    while (r->fd >= 0 && r->out.len) {
        ssize_t n = write(r->fd, tp_buf_data(&r->out), r->out.len);
        if (n > 0) {
            tp_buf_consume(&r->out, (size_t)n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            set_writing(r, true);
            return;
        } else {
            master_gone(r, n < 0 ? strerror(errno) : "closed");
            return;
        }
    }
    set_writing(r, false);
}

static void deliver(void *arg, const char *frame, size_t size)
{
    (void)arg, (void)size;
    tp_slice ch, msg;
    tp__pubsub_frame_parts(frame, &ch, &msg);
    tp__pubsub_deliver(ch, msg);
}

/* Nothing a subscriber does reads this socket, so the frames stay put during the calls. */
static void read_frames(relay *r)
{
    int rc = tp__pubsub_read_frames(r->fd, &r->in, READ_BUDGET, deliver, r);
    if (rc < 0)
        master_gone(r, rc == -EPIPE ? "closed" : rc == -EPROTO ? "bad frame" : strerror(-rc));
}

static void on_fd(tp_loop *loop, int fd, unsigned events, void *arg)
{
    (void)fd;
    relay *r = arg;
    if (events & TP_WRITE)
        flush(loop, r);
    if (r->fd >= 0 && (events & (TP_READ | TP_ERROR_EVENTS)))
        read_frames(r);
}

static int relay_publish(void *ctx, tp_slice ch, const void *msg, size_t n)
{
    relay *r = ctx;
    size_t size = sizeof(tp__pubsub_frame) + ch.n + n;
    if (r->out.len + size > TP__PUBSUB_QUEUE_LIMIT)
        return -ENOBUFS;
    tp__pubsub_frame f = {.msg_len = (uint32_t)n, .chan_len = (uint32_t)ch.n};
    char *p = tp_buf_reserve(&r->out, size);
    memcpy(p, &f, sizeof(f));
    memcpy(p + sizeof(f), ch.p, ch.n);
    if (n)
        memcpy(p + sizeof(f) + ch.n, msg, n);
    tp_buf_commit(&r->out, size);
    if (!r->writing)
        tp_loop_defer(r->loop, &r->flush);
    return 0;
}

static const tp__pubsub_transport relay_transport = {.name = "master", .publish = relay_publish};

int tp__pubsub_relay_start(tp_loop *loop, int fd)
{
    relay *r = &R;
    if (r->fd >= 0)
        return -EBUSY;
    *r = (relay){.loop = loop, .fd = fd, .flush = {.fn = flush, .arg = r}};
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    int rc = tp_loop_add_fd(loop, fd, TP_READ, on_fd, r);
    if (rc < 0) {
        r->fd = -1;
        return rc;
    }
    tp__pubsub_set_transport(&relay_transport, r);
    return 0;
}
