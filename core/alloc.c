#include "core/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Out-of-memory is not recoverable for a server worker: the master respawns it. */
static void oom(size_t n)
{
    fprintf(stderr, "tornado-prefork: out of memory allocating %zu bytes\n", n);
    abort();
}

void *tp_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *tp_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        oom(count * size);
    return p;
}

void *tp_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

void tp_free(void *p)
{
    if (p)
        free(p);
}

#define BLOCK_CACHE_MAX 256 /* 1 MiB per thread at most */

static __thread struct {
    void *free[BLOCK_CACHE_MAX];
    unsigned n;
} blocks;

void *tp_block_get(void)
{
    return blocks.n ? blocks.free[--blocks.n] : tp_malloc(TP_BLOCK_SIZE);
}

void tp_block_put(void *p)
{
    if (!p)
        return;
    if (blocks.n < BLOCK_CACHE_MAX)
        blocks.free[blocks.n++] = p;
    else
        tp_free(p);
}

char *tp_strndup(const char *s, size_t n)
{
    char *p = tp_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
