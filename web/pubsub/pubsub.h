/* Publish/subscribe between the handlers of every worker: a message published on a channel
 * in one worker reaches the subscribers of that channel in every worker of the host (through
 * the prefork master), and in every host sharing a Redis server when tornado-prefork runs
 * with --pubsub=redis://HOST:PORT. In a one-process program (no master, no Redis) it
 * reaches this process's subscribers. Delivery order per publisher is kept; delivery always
 * comes from the loop, never inside tp_pubsub_publish.
 *
 * The state is the process's (one loop per worker process): the calls below must be made
 * from the loop thread. docs/pubsub.md says how messages travel and what is dropped when. */
#ifndef TP_WEB_PUBSUB_H
#define TP_WEB_PUBSUB_H
#include "platform/api.h"
#include <stddef.h>
#include <stdint.h>
#include "core/slice.h"

#define TP_PUBSUB_MAX_CHANNEL 255
#define TP_PUBSUB_MAX_MESSAGE (16u << 20)

typedef struct tp_pubsub_sub tp_pubsub_sub;
/* A message on channel: both slices are valid during the call. */
typedef void (*tp_pubsub_fn)(tp_slice channel, tp_slice msg, void *arg);

/* Subscribes fn(arg) to channel (any bytes, at most 255). A handle for
 * tp_pubsub_unsubscribe, or NULL for an empty or oversized channel name. */
TP_API tp_pubsub_sub *tp_pubsub_subscribe(tp_slice channel, tp_pubsub_fn fn, void *arg);
/* Stops delivery to s and frees it (also from inside its own callback). */
TP_API void tp_pubsub_unsubscribe(tp_pubsub_sub *s);
/* Publishes a copy of msg on channel. 0, -EINVAL for a bad channel name, -EMSGSIZE over
 * 16 MiB, -ENOBUFS when the way out is full (the message is dropped and logged). */
TP_API int tp_pubsub_publish(tp_slice channel, const void *msg, size_t n);

/* This process's counters, for tests and monitoring. */
typedef struct tp_pubsub_stats {
    uint64_t published; /* tp_pubsub_publish calls that returned 0 */
    uint64_t refused;   /* ... that returned -ENOBUFS */
    uint64_t received;  /* messages that arrived here (one per message, not per subscriber) */
    uint64_t delivered; /* subscriber callbacks made */
    size_t channels;    /* channels with at least one subscriber */
    size_t subscribers;
    const char *transport; /* "local", "master" or "redis" */
} tp_pubsub_stats;
/* Fills *out; the transport name is static. */
TP_API void tp_pubsub_get_stats(tp_pubsub_stats *out);

#endif
