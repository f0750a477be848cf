/* The loop's private state, shared by loop.c, timer.c and signal.c only. */
#ifndef TP_CORE_LOOP_INTERNAL_H
#define TP_CORE_LOOP_INTERNAL_H

#include <pthread.h>
#include <signal.h>

#include "core/loop.h"

/* The fd table is indexed by fd: 16 bytes per fd here, and 2 in fd_masks. Both live in
 * anonymous mappings grown with mremap, so growing never copies nor leaves a freed copy
 * behind, and pages of fds never opened are never touched. */
typedef struct tp_fd_entry {
    tp_fd_fn fn; /* NULL: no handler */
    void *arg;
} tp_fd_entry;

typedef struct tp_callback {
    tp_fn fn;
    void *arg;
} tp_callback;

typedef struct tp_callback_vec {
    tp_callback *v;
    size_t n, cap;
} tp_callback_vec;

typedef struct tp_timeout_slot {
    tp_timer *timer; /* NULL when free */
    uint32_t gen;
    uint32_t next_free;
} tp_timeout_slot;

struct tp_loop {
    tp_poller *poller;
    tp_fd_entry *fds;
    uint16_t *fd_masks; /* events registered per fd */
    int nfds_cap;
    size_t nhandlers;
    double now;
    bool stopping;
    int running;

    tp_callback_vec callbacks, running_callbacks;

    tp_timer **heap; /* min-heap on (when, seq) */
    size_t heap_n, heap_cap;
    uint64_t timer_seq;
    tp_timeout_slot *slots; /* tp_loop_call_at handles */
    uint32_t nslots, free_slot;

    tp_callback_vec deferred; /* tp_loop_defer_call, run before the loop sleeps */
    size_t defer_pos;         /* next entry of deferred to run */
    tp_fn prepare;            /* tp_loop_set_prepare: every iteration, just before the poll */
    void *prepare_arg;

    int wake_fd; /* eventfd for tp_loop_add_callback_threadsafe */
    pthread_mutex_t remote_lock;
    tp_callback_vec remote;

    int signal_fd;
    sigset_t signals;
    struct {
        tp_signal_fn fn;
        void *arg;
    } sig[65];
};

void tp__callback_push(tp_callback_vec *v, tp_fn fn, void *arg);
/* Runs the timers due at loop->now. */
void tp__timers_run(tp_loop *loop);
/* Milliseconds until the next timer is due (-1: none). */
int tp__timers_next_ms(const tp_loop *loop);
void tp__timers_free(tp_loop *loop);
void tp__signals_free(tp_loop *loop);

#endif
