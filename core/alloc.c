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
    free(p);
}

char *tp_strndup(const char *s, size_t n)
{
    char *p = tp_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
