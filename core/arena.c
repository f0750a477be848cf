#include "core/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

#define ALIGN 16

struct tp_arena_block {
    tp_arena_block *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    int kind; /* BLOCK_HEAP, BLOCK_CACHED (tp_block_get) or BLOCK_EXTERNAL (the caller's) */
    _Alignas(ALIGN) char data[];
};

struct tp_arena_cleanup {
    tp_arena_cleanup *next;
    void (*fn)(void *);
    void *data;
};

enum { BLOCK_HEAP, BLOCK_CACHED, BLOCK_EXTERNAL };

void tp_arena_init(tp_arena *a, size_t block_size)
{
    *a = (tp_arena){.block_size = block_size ? block_size : TP_BLOCK_SIZE};
}

void tp_arena_init_in(tp_arena *a, void *mem, size_t n, size_t block_size)
{
    tp_arena_init(a, block_size);
    tp_arena_block *b = mem;
    *b = (tp_arena_block){.size = n - sizeof(*b), .kind = BLOCK_EXTERNAL};
    a->head = a->first = b;
}

static tp_arena_block *new_block(size_t size)
{
    tp_arena_block *b;
    if (sizeof(*b) + size == TP_BLOCK_SIZE) {
        b = tp_block_get();
        b->kind = BLOCK_CACHED;
    } else {
        b = tp_malloc(sizeof(*b) + size);
        b->kind = BLOCK_HEAP;
    }
    b->size = size;
    b->used = 0;
    b->next = NULL;
    return b;
}

static void free_block(tp_arena_block *b)
{
    if (b->kind == BLOCK_CACHED)
        tp_block_put(b);
    else if (b->kind == BLOCK_HEAP)
        tp_free(b);
}

void *tp_arena_alloc(tp_arena *a, size_t n)
{
    size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    tp_arena_block *b = a->head;
    a->allocated += need;
    if (b && b->size - b->used >= need) {
        void *p = b->data + b->used;
        b->used += need;
        return p;
    }
    /* Big requests get a block of their own behind the current one, so the room left in the
     * current block is not wasted. */
    if (need > a->block_size / 4 && b) {
        tp_arena_block *big = new_block(need);
        big->used = need;
        big->next = b->next;
        b->next = big;
        return big->data;
    }
    size_t size = need > a->block_size - sizeof(*b) ? need : a->block_size - sizeof(*b);
    b = new_block(size);
    b->next = a->head;
    a->head = b;
    if (!a->first && sizeof(*b) + size <= a->block_size)
        a->first = b;
    b->used = need;
    return b->data;
}

void *tp_arena_grow(tp_arena *a, void *v, size_t n, size_t *cap, size_t want, size_t size,
                    size_t first)
{
    if (want <= *cap)
        return v;
    size_t c = *cap ? *cap * 2 : first;
    while (c < want)
        c *= 2;
    void *w = tp_arena_alloc(a, c * size);
    if (n)
        memcpy(w, v, n * size);
    *cap = c;
    return w;
}

void *tp_arena_calloc(tp_arena *a, size_t n)
{
    return memset(tp_arena_alloc(a, n), 0, n);
}

char *tp_arena_strndup(tp_arena *a, const char *s, size_t n)
{
    char *p = tp_arena_alloc(a, n + 1);
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

tp_slice tp_arena_slice_dup(tp_arena *a, tp_slice s)
{
    return (tp_slice){tp_arena_strndup(a, s.p, s.n), s.n};
}

char *tp_arena_printf(tp_arena *a, const char *fmt, ...)
{
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = tp_arena_alloc(a, n > 0 ? (size_t)n + 1 : 1);
    vsnprintf(p, n > 0 ? (size_t)n + 1 : 1, fmt, again);
    va_end(again);
    return p;
}

void tp_arena_on_cleanup(tp_arena *a, void (*fn)(void *), void *data)
{
    tp_arena_cleanup *c = tp_arena_alloc(a, sizeof(*c));
    c->fn = fn;
    c->data = data;
    c->next = a->cleanups;
    a->cleanups = c;
}

static void run_cleanups(tp_arena *a)
{
    /* A cleanup may allocate in the arena (and even add cleanups): take the list first. */
    while (a->cleanups) {
        tp_arena_cleanup *c = a->cleanups;
        a->cleanups = c->next;
        c->fn(c->data);
    }
}

/* The first ordinary block is kept: the one a typical request fits in. */
void tp_arena_reset(tp_arena *a)
{
    run_cleanups(a);
    tp_arena_block *b = a->head, *keep = a->first;
    while (b) {
        tp_arena_block *next = b->next;
        if (b != keep)
            free_block(b);
        b = next;
    }
    if (keep) {
        keep->used = 0;
        keep->next = NULL;
    }
    a->head = keep;
    a->allocated = 0;
}

void tp_arena_destroy(tp_arena *a)
{
    run_cleanups(a);
    tp_arena_block *b = a->head;
    while (b) {
        tp_arena_block *next = b->next;
        free_block(b);
        b = next;
    }
    a->head = a->first = NULL;
    a->allocated = 0;
}
