/* Per-request arenas: many small allocations, freed together in one call, with cleanup
 * callbacks for resources (fds, temp files) that must go with them. */
#ifndef TP_CORE_ARENA_H
#define TP_CORE_ARENA_H

#include "platform/api.h"

#include <stdarg.h>
#include <stddef.h>

#include "core/slice.h"

typedef struct tp_arena_block tp_arena_block;
typedef struct tp_arena_cleanup tp_arena_cleanup;

typedef struct tp_arena {
    tp_arena_block *head;       /* current block (newest first) */
    tp_arena_block *first;      /* the first ordinary block: kept by reset */
    tp_arena_cleanup *cleanups; /* run newest first on reset/destroy */
    size_t block_size;          /* size of ordinary blocks */
    size_t allocated;           /* bytes handed out since the last reset (for tests, stats) */
} tp_arena;

/* Initialises an empty arena; no memory is taken until the first allocation. block_size 0
 * means 4 KiB. */
TP_API void tp_arena_init(tp_arena *a, size_t block_size);
/* Initialises an arena whose first block is the caller's n bytes at mem (aligned to 16; at
 * least 256 bytes). The arena never frees mem; later blocks are block_size (0: 4 KiB). */
TP_API void tp_arena_init_in(tp_arena *a, void *mem, size_t n, size_t block_size);
/* n bytes aligned to 16, valid until reset/destroy. Never NULL (aborts on out-of-memory). */
TP_API void *tp_arena_alloc(tp_arena *a, size_t n);
/* Room for at least want elements of size bytes in an arena array v holding n of *cap: a
 * copy at double the capacity (first when empty) if v is too small, else v. Updates *cap. */
TP_API void *tp_arena_grow(tp_arena *a, void *v, size_t n, size_t *cap, size_t want, size_t size,
                           size_t first);
/* Zeroed variant of tp_arena_alloc. */
TP_API void *tp_arena_calloc(tp_arena *a, size_t n);
/* NUL-terminated copy of n bytes at s. */
TP_API char *tp_arena_strndup(tp_arena *a, const char *s, size_t n);
/* NUL-terminated copy of a slice, returned as a slice over the copy. */
TP_API tp_slice tp_arena_slice_dup(tp_arena *a, tp_slice s);
/* printf into the arena; returns the NUL-terminated text. */
TP_API char *tp_arena_printf(tp_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Registers fn(data) to run on reset/destroy, newest first. */
TP_API void tp_arena_on_cleanup(tp_arena *a, void (*fn)(void *), void *data);
/* Runs the cleanups and frees every block but the first, which is kept for reuse. */
TP_API void tp_arena_reset(tp_arena *a);
/* Runs the cleanups and frees all memory; the arena is empty (and reusable) afterwards. */
TP_API void tp_arena_destroy(tp_arena *a);

#endif
