/* The worker-thread pool. A job is allocated on the loop's thread and freed there by
 * job_put, when both its loop-side holders are done with it (job_complete, which the worker
 * hands the job to with tp_loop_add_callback_threadsafe, and the future's done callback,
 * which passes a cancellation on); the worker only reads fn/arg and writes rc/result. The future is
 * never touched off the loop's thread (its reference count is not atomic). Cancellation crosses
 * threads through one atomic flag per job. */
#include "core/async/executor.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "core/alloc.h"

typedef struct job {
    struct job *next;
    tp_loop *loop;
    tp_future *f;
    tp_job_fn fn;
    void *arg;
    tp_free_fn free_arg, free_result; /* tp_run_in_executor_owned's (may be NULL) */
    atomic_bool cancelled;            /* the future was cancelled (loop) or the pool shut down */
    bool ran;
    unsigned refs; /* loop thread only: job_complete's and job_future_done's */
    int rc;
    void *result;
} job;

struct tp_executor {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *head, *tail;
    bool stopping;
    pthread_t *threads;
    size_t nthreads;
};

static void job_put(job *j)
{
    if (--j->refs == 0) {
        tp_future_unref(j->f);
        tp_free(j);
    }
}

/* On the loop's thread: the job's outcome into its future, then the job is freed. */
static void job_complete(tp_loop *loop, void *arg)
{
    (void)loop;
    job *j = arg;
    if (!j->ran) {
        if (j->free_arg)
            j->free_arg(j->arg);
        tp_future_cancel(j->f);
    } else if (j->rc == 0) {
        tp_future_set_result(j->f, j->result, j->free_result); /* freed at once if cancelled */
    } else {
        const char *msg = j->result ? (const char *)j->result : strerror(-j->rc);
        tp_future_set_error(j->f, j->rc, "%s", msg);
        tp_free(j->result);
    }
    job_put(j);
}

static job *next_job(tp_executor *p)
{
    pthread_mutex_lock(&p->mu);
    while (!p->head && !p->stopping)
        pthread_cond_wait(&p->cv, &p->mu);
    job *j = p->head;
    if (j) {
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        if (p->stopping) /* shut down: queued jobs complete cancelled */
            atomic_store(&j->cancelled, true);
    }
    pthread_mutex_unlock(&p->mu);
    return j;
}

static void *worker_main(void *arg)
{
    tp_executor *p = arg;
    for (job *j; (j = next_job(p));) {
        if (!atomic_load(&j->cancelled)) {
            j->rc = j->fn(j->arg, &j->result);
            j->ran = true;
        }
        tp_loop_add_callback_threadsafe(j->loop, job_complete, j);
    }
    return NULL;
}

tp_executor *tp_executor_new(size_t nthreads)
{
    tp_executor *p = tp_calloc(1, sizeof(*p));
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    nthreads = nthreads ? nthreads : 1;
    p->threads = tp_calloc(nthreads, sizeof(*p->threads));
    for (; p->nthreads < nthreads; p->nthreads++) {
        int r = pthread_create(&p->threads[p->nthreads], NULL, worker_main, p);
        if (r != 0) {
            if (p->nthreads > 0)
                break; /* fewer workers than asked: still a pool */
            tp_executor_free(p);
            errno = r;
            return NULL;
        }
    }
    return p;
}

/* A cancelled future tells a job that has not started to skip its work. */
static void job_future_done(tp_future *f, void *arg)
{
    job *j = arg;
    if (tp_future_cancelled(f))
        atomic_store(&j->cancelled, true);
    job_put(j);
}

tp_future *tp_run_in_executor_owned(tp_executor *pool, tp_loop *loop, tp_job_fn fn, void *arg,
                                    tp_free_fn free_arg, tp_free_fn free_result)
{
    tp_future *f = tp_future_new(loop);
    job *j = tp_calloc(1, sizeof(*j));
    *j = (job){.loop = loop,
               .f = tp_future_ref(f),
               .fn = fn,
               .arg = arg,
               .free_arg = free_arg,
               .free_result = free_result,
               .refs = 1};
    pthread_mutex_lock(&pool->mu);
    bool stopping = pool->stopping;
    if (!stopping) {
        if (pool->tail)
            pool->tail->next = j;
        else
            pool->head = j;
        pool->tail = j;
        pthread_cond_signal(&pool->cv);
    }
    pthread_mutex_unlock(&pool->mu);
    if (!stopping) {
        j->refs++;
        tp_future_add_done_callback(f, job_future_done, j);
    } else {
        if (free_arg)
            free_arg(arg);
        job_put(j);
        tp_future_set_error(f, -ESHUTDOWN, "cannot schedule new futures after shutdown");
    }
    return f;
}

tp_future *tp_run_in_executor(tp_executor *pool, tp_loop *loop, tp_job_fn fn, void *arg)
{
    return tp_run_in_executor_owned(pool, loop, fn, arg, NULL, NULL);
}

void tp_executor_shutdown(tp_executor *pool)
{
    pthread_mutex_lock(&pool->mu);
    bool joined = pool->stopping && pool->nthreads == 0;
    pool->stopping = true;
    pthread_cond_broadcast(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    if (joined)
        return;
    for (size_t i = 0; i < pool->nthreads; i++)
        pthread_join(pool->threads[i], NULL);
    pool->nthreads = 0;
}

void tp_executor_free(tp_executor *pool)
{
    if (!pool)
        return;
    tp_executor_shutdown(pool);
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->cv);
    tp_free(pool->threads);
    tp_free(pool);
}
