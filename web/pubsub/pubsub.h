/* Publish/subscribe between the handlers of every worker: a message published on a channel
 * in one worker reaches the subscribers of that channel in every worker of the host (through
 * the prefork master), and in every host sharing a Redis server when tornado-prefork runs
 * with --pubsub=redis://HOST:PORT. In a one-process program (no master, no Redis) it
 * reaches this process's subscribers. Delivery order per publisher is kept; delivery always
 * comes from the loop, never inside tp_pubsub_publish.
 *
 * The state is the process's (one loop per worker process): the calls below must be made
 * from the loop thread. */
#ifndef TP_WEB_PUBSUB_H
#define TP_WEB_PUBSUB_H
#include "platform/api.h"
#include <stddef.h>
#include "core/slice.h"

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

#endif
