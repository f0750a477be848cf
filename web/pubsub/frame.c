/* The master relay's frames (web/pubsub/internal.h): their size, their parts, and the read
 * loop both ends of the relay share (the worker delivers what it reads, the master fans it
 * out). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "web/pubsub/internal.h"

#define READ_CHUNK (256 * 1024)

long tp__pubsub_frame_size(const char *p, size_t avail)
{
    tp__pubsub_frame f;
    if (avail < sizeof(f))
        return 0;
    memcpy(&f, p, sizeof(f));
    if (f.chan_len == 0 || f.chan_len > TP_PUBSUB_MAX_CHANNEL || f.msg_len > TP_PUBSUB_MAX_MESSAGE)
        return -EPROTO;
    size_t total = sizeof(f) + f.chan_len + f.msg_len;
    return avail >= total ? (long)total : 0;
}

void tp__pubsub_frame_parts(const char *frame, tp_slice *channel, tp_slice *msg)
{
    tp__pubsub_frame f;
    memcpy(&f, frame, sizeof(f));
    *channel = (tp_slice){frame + sizeof(f), f.chan_len};
    *msg = (tp_slice){frame + sizeof(f) + f.chan_len, f.msg_len};
}

/* The complete frames at the front of in, each passed to fn, then dropped from in. */
static int take_frames(tp_buf *in, tp__pubsub_frame_fn fn, void *arg)
{
    size_t used = 0;
    long size;
    while ((size = tp__pubsub_frame_size(tp_buf_data(in) + used, in->len - used)) > 0) {
        fn(arg, tp_buf_data(in) + used, (size_t)size);
        used += (size_t)size;
    }
    tp_buf_consume(in, used);
    return size < 0 ? (int)size : 0;
}

int tp__pubsub_read_frames(int fd, tp_buf *in, size_t budget, tp__pubsub_frame_fn fn, void *arg)
{
    for (size_t total = 0; total < budget;) {
        char *p = tp_buf_reserve(in, READ_CHUNK);
        ssize_t n = read(fd, p, READ_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN ? 0 : -errno;
        if (n == 0)
            return -EPIPE;
        tp_buf_commit(in, (size_t)n);
        total += (size_t)n;
        int r = take_frames(in, fn, arg);
        if (r < 0)
            return r;
    }
    return 0;
}
