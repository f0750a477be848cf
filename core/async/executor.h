/* A fixed pool of worker threads for blocking work (Tornado's run_in_executor over a
 * concurrent.futures.ThreadPoolExecutor). A job runs on a worker thread; its future is
 * completed on the loop's thread (through tp_loop_add_callback_threadsafe), so done callbacks
 * run on the loop as for any future. */
#ifndef TP_CORE_ASYNC_EXECUTOR_H
#define TP_CORE_ASYNC_EXECUTOR_H

#include "platform/api.h"

#include <stddef.h>

#include "core/async/future.h"

typedef struct tp_executor tp_executor;

/* A job, run on a worker thread: returns 0 and may store a value in *result (the future's
 * result; nobody frees it but the caller, who gets it from tp_future_result), or a negative
 * errno for an error; *result may then be a tp_malloc'd message, which becomes the error's
 * message (and is freed), else the message is strerror's. */
typedef int (*tp_job_fn)(void *arg, void **result);

/* A pool of nthreads workers (0 means 1), started now; NULL with errno set if no thread can
 * be started. Shut down and free with tp_executor_free. */
TP_API tp_executor *tp_executor_new(size_t nthreads);
/* Queues fn(arg) and returns its future (a reference for the caller), completed on loop's
 * thread. Cancelling the future before a worker took the job skips it; a job already running
 * runs to its end and its outcome is dropped. After shutdown: a future failed with
 * -ESHUTDOWN. Call from loop's thread. */
TP_API tp_future *tp_run_in_executor(tp_executor *pool, tp_loop *loop, tp_job_fn fn, void *arg);
/* tp_run_in_executor for a job that owns memory: free_arg(arg) runs on loop's thread when the
 * job never runs (its future cancelled before a worker took it, or the pool shut down; a job
 * that runs owns arg as before), and free_result frees the job's result with the future, or
 * at once when nobody can read it (the future was cancelled while the job ran). Either may be
 * NULL. */
TP_API tp_future *tp_run_in_executor_owned(tp_executor *pool, tp_loop *loop, tp_job_fn fn,
                                           void *arg, tp_free_fn free_arg, tp_free_fn free_result);
/* Stops taking jobs, waits for the running ones to end, and completes the queued ones as
 * cancelled (their futures complete on their loops, which must still run to see it). */
TP_API void tp_executor_shutdown(tp_executor *pool);
/* tp_executor_shutdown, then frees the pool (NULL is fine). */
TP_API void tp_executor_free(tp_executor *pool);

#endif
