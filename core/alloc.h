/* The one allocator entry point. Backed by jemalloc (linked in; the ASan build uses the
 * system allocator so the sanitizer sees every block). Every function aborts on
 * out-of-memory, so callers never check for NULL: input limits keep allocations bounded. */
#ifndef TP_CORE_ALLOC_H
#define TP_CORE_ALLOC_H

#include "platform/api.h"

#include <stddef.h>

/* malloc that never returns NULL (n == 0 gives a unique pointer). Free with tp_free. */
TP_API void *tp_malloc(size_t n);
/* Zeroed allocation of count*size bytes; aborts on overflow or out-of-memory. */
TP_API void *tp_calloc(size_t count, size_t size);
/* Resizes p (which may be NULL); aborts on out-of-memory. */
TP_API void *tp_realloc(void *p, size_t n);
/* Frees p (NULL is fine). */
TP_API void tp_free(void *p);
/* Blocks of TP_BLOCK_SIZE bytes from a per-thread cache: the request arena's first block and
 * output buffers come and go once per request, and the cache keeps that off the allocator.
 * Return them with tp_block_put (never tp_free). */
#define TP_BLOCK_SIZE 4096
TP_API void *tp_block_get(void);
TP_API void tp_block_put(void *p);
/* NUL-terminated copy of the n bytes at s, owned by the caller (tp_free). */
TP_API char *tp_strndup(const char *s, size_t n);

#endif
