/* Inside the pubsub module: the transport seam (local queue, the prefork master relay, Redis),
 * the frame format of the master relay and the URL parser of --pubsub. */
#ifndef TP_WEB_PUBSUB_INTERNAL_H
#define TP_WEB_PUBSUB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/loop.h"
#include "core/slice.h"
#include "web/pubsub/pubsub.h"

/* The way out of a process. publish sends a copy of the message (0 or -ENOBUFS, logged by the
 * transport); channel_on / channel_off say a channel got its first subscriber / lost its last
 * one (Redis subscribes by channel; the master relay sends everything everywhere). */
typedef struct tp__pubsub_transport {
    const char *name;
    int (*publish)(void *ctx, tp_slice channel, const void *msg, size_t n);
    void (*channel_on)(void *ctx, tp_slice channel);
    void (*channel_off)(void *ctx, tp_slice channel);
} tp__pubsub_transport;

/* Routes publishes through t (NULL: back to the local queue of a process on its own). */
void tp__pubsub_set_transport(const tp__pubsub_transport *t, void *ctx);
/* A message arrived from the transport: calls the channel's subscribers now (from the loop). */
void tp__pubsub_deliver(tp_slice channel, tp_slice msg);
/* Calls fn(arg, channel) for each channel that has a subscriber. */
void tp__pubsub_foreach_channel(void (*fn)(void *arg, tp_slice channel), void *arg);
/* True if channel has a subscriber in this process. */
bool tp__pubsub_has_channel(tp_slice channel);
/* Forgets every subscription, queued message and transport (tests, a process after fork). */
void tp__pubsub_reset(void);

/* Bytes a worker or the master queues for one peer before it refuses or drops. */
#define TP__PUBSUB_QUEUE_LIMIT ((size_t)64 << 20)

/* A frame of the master relay (SOCK_STREAM, host byte order): this header, the channel, the
 * message. The same frame goes worker -> master (publish) and master -> every worker. */
typedef struct tp__pubsub_frame {
    uint32_t msg_len;
    uint32_t chan_len;
} tp__pubsub_frame;
/* The frame at p (avail bytes): its total size once complete, 0 while incomplete, -EPROTO
 * for a header out of bounds. */
long tp__pubsub_frame_size(const char *p, size_t avail);
/* The channel and message of a complete frame. */
void tp__pubsub_frame_parts(const char *frame, tp_slice *channel, tp_slice *msg);
/* A complete frame (header included), valid during the call. */
typedef void (*tp__pubsub_frame_fn)(void *arg, const char *frame, size_t size);
/* Reads the non-blocking fd into in (up to about budget bytes: other fds get their turn) and
 * calls fn for each frame as soon as it is complete, in order. 0 once fd has nothing more or
 * the budget is used, -EPIPE at EOF, -EPROTO for a bad frame, -errno for a read error. */
int tp__pubsub_read_frames(int fd, tp_buf *in, size_t budget, tp__pubsub_frame_fn fn, void *arg);

/* Worker side of the master relay: publishes go to fd, frames from fd are delivered. Takes fd
 * (closes it when the master goes away, then falls back to local delivery). 0 or -errno. */
int tp__pubsub_relay_start(tp_loop *loop, int fd);

/* --pubsub=redis://HOST:PORT: the host (NUL-terminated) and port. 0, or -EINVAL with a
 * one-line reason in err. */
int tp__pubsub_url_parse(const char *url, char *host, size_t hostlen, int *port, char *err,
                         size_t errlen);
/* Connects this process to Redis (reconnecting with backoff) and routes every publish and
 * delivery through it. 0, or -EINVAL for a bad URL. */
int tp__pubsub_redis_start(tp_loop *loop, const char *url);

#endif
