/* Timers: a binary min-heap of caller-owned tp_timer structs ordered by (deadline, sequence),
 * the handle-based call_at/call_later on top of it, and PeriodicCallback. */
#include <math.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/loop_internal.h"

static bool before(const tp_timer *a, const tp_timer *b)
{
    return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void place(tp_loop *loop, size_t i, tp_timer *t)
{
    loop->heap[i] = t;
    t->slot = i + 1;
}

static void sift_up(tp_loop *loop, size_t i)
{
    tp_timer *t = loop->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(t, loop->heap[parent]))
            break;
        place(loop, i, loop->heap[parent]);
        i = parent;
    }
    place(loop, i, t);
}

static void sift_down(tp_loop *loop, size_t i)
{
    tp_timer *t = loop->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= loop->heap_n)
            break;
        if (c + 1 < loop->heap_n && before(loop->heap[c + 1], loop->heap[c]))
            c++;
        if (!before(loop->heap[c], t))
            break;
        place(loop, i, loop->heap[c]);
        i = c;
    }
    place(loop, i, t);
}

void tp_timer_stop(tp_loop *loop, tp_timer *t)
{
    if (!t->slot)
        return;
    size_t i = t->slot - 1;
    t->slot = 0;
    tp_timer *last = loop->heap[--loop->heap_n];
    if (i == loop->heap_n)
        return;
    place(loop, i, last);
    if (i > 0 && before(last, loop->heap[(i - 1) / 2]))
        sift_up(loop, i);
    else
        sift_down(loop, i);
}

void tp_timer_start_at(tp_loop *loop, tp_timer *t, double when)
{
    tp_timer_stop(loop, t);
    if (loop->heap_n == loop->heap_cap) {
        loop->heap_cap = loop->heap_cap ? loop->heap_cap * 2 : 64;
        loop->heap = tp_realloc(loop->heap, loop->heap_cap * sizeof(*loop->heap));
    }
    t->when = when;
    t->seq = ++loop->timer_seq;
    loop->heap[loop->heap_n++] = t;
    sift_up(loop, loop->heap_n - 1);
}

/* Only timers due at the start of the pass run: one that re-arms itself for "now" waits for
 * the next iteration instead of spinning here. */
void tp__timers_run(tp_loop *loop)
{
    double now = loop->now;
    uint64_t last_seq = loop->timer_seq;
    while (loop->heap_n && loop->heap[0]->when <= now && loop->heap[0]->seq <= last_seq) {
        tp_timer *t = loop->heap[0];
        tp_timer_stop(loop, t);
        t->fn(loop, t->arg);
    }
}

int tp__timers_next_ms(const tp_loop *loop)
{
    if (!loop->heap_n)
        return -1;
    double ms = ceil((loop->heap[0]->when - tp__monotonic()) * 1000.0);
    return ms < 0 ? 0 : ms > 3600e3 ? 3600 * 1000 : (int)ms;
}

/* call_at/call_later: heap-allocated timers behind generation-checked handles. */
typedef struct timeout {
    tp_timer timer;
    tp_loop *loop;
    uint32_t index;
    tp_fn fn;
    void *arg;
} timeout;

static void release_slot(tp_loop *loop, uint32_t index)
{
    tp_timeout_slot *s = &loop->slots[index];
    tp_free(s->timer);
    s->timer = NULL;
    s->gen++;
    s->next_free = loop->free_slot;
    loop->free_slot = index + 1;
}

static void timeout_fire(tp_loop *loop, void *arg)
{
    timeout *t = arg;
    tp_fn fn = t->fn;
    void *fn_arg = t->arg;
    release_slot(loop, t->index);
    fn(loop, fn_arg);
}

static uint32_t take_slot(tp_loop *loop)
{
    if (loop->free_slot) {
        uint32_t i = loop->free_slot - 1;
        loop->free_slot = loop->slots[i].next_free;
        return i;
    }
    loop->slots = tp_realloc(loop->slots, (loop->nslots + 1) * sizeof(*loop->slots));
    loop->slots[loop->nslots] = (tp_timeout_slot){NULL, 1, 0};
    return loop->nslots++;
}

tp_timeout tp_loop_call_at(tp_loop *loop, double when, tp_fn fn, void *arg)
{
    uint32_t i = take_slot(loop);
    timeout *t = tp_malloc(sizeof(*t));
    *t = (timeout){.loop = loop, .index = i, .fn = fn, .arg = arg};
    tp_timer_init(&t->timer, timeout_fire, t);
    loop->slots[i].timer = &t->timer;
    tp_timer_start_at(loop, &t->timer, when);
    return ((uint64_t)loop->slots[i].gen << 32) | (i + 1);
}

tp_timeout tp_loop_call_later(tp_loop *loop, double delay, tp_fn fn, void *arg)
{
    return tp_loop_call_at(loop, loop->now + delay, fn, arg);
}

void tp_loop_remove_timeout(tp_loop *loop, tp_timeout h)
{
    uint32_t i = (uint32_t)(h & 0xffffffffu) - 1, gen = (uint32_t)(h >> 32);
    if (!h || i >= loop->nslots || loop->slots[i].gen != gen || !loop->slots[i].timer)
        return;
    tp_timer_stop(loop, loop->slots[i].timer);
    release_slot(loop, i);
}

void tp__timers_free(tp_loop *loop)
{
    for (uint32_t i = 0; i < loop->nslots; i++)
        tp_free(loop->slots[i].timer);
    tp_free(loop->slots);
    tp_free(loop->heap);
}

struct tp_periodic {
    tp_loop *loop;
    tp_timer timer;
    double period, jitter, next;
    tp_fn fn;
    void *arg;
    bool running;
};

static double jittered(const tp_periodic *p)
{
    if (p->jitter <= 0)
        return p->period;
    return p->period * (1 + p->jitter * ((double)random() / RAND_MAX - 0.5));
}

/* Missed ticks are skipped so calls stay on the original grid (Tornado's _update_next). */
static void schedule_next(tp_periodic *p)
{
    double now = tp__monotonic(); /* the callback may have overrun the cached loop time */
    if (p->next <= now) {
        double period = jittered(p);
        p->next += (floor((now - p->next) / period) + 1) * period;
    }
    tp_timer_start_at(p->loop, &p->timer, p->next);
}

static void periodic_fire(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_periodic *p = arg;
    p->fn(p->loop, p->arg);
    if (p->running)
        schedule_next(p);
}

tp_periodic *tp_periodic_new(tp_loop *loop, double period, double jitter, tp_fn fn, void *arg)
{
    if (!(period > 0))
        return NULL;
    tp_periodic *p = tp_calloc(1, sizeof(*p));
    *p = (tp_periodic){.loop = loop, .period = period, .jitter = jitter, .fn = fn, .arg = arg};
    tp_timer_init(&p->timer, periodic_fire, p);
    return p;
}

void tp_periodic_start(tp_periodic *p)
{
    p->running = true;
    p->next = tp_loop_time(p->loop) + jittered(p);
    tp_timer_start_at(p->loop, &p->timer, p->next);
}

void tp_periodic_stop(tp_periodic *p)
{
    p->running = false;
    tp_timer_stop(p->loop, &p->timer);
}

bool tp_periodic_is_running(const tp_periodic *p)
{
    return p->running;
}

void tp_periodic_free(tp_periodic *p)
{
    if (!p)
        return;
    tp_periodic_stop(p);
    tp_free(p);
}
