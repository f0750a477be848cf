/* Growable byte buffers with a read offset: bytes are appended at the end and consumed from
 * the front. A zeroed tp_buf is an empty buffer that holds no memory. */
#ifndef TP_CORE_BUF_H
#define TP_CORE_BUF_H

#include "platform/api.h"

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "core/slice.h"

typedef struct tp_buf {
    char *base; /* allocation, or NULL */
    size_t off; /* start of the unconsumed bytes */
    size_t len; /* number of unconsumed bytes */
    size_t cap; /* size of the allocation */
} tp_buf;

static inline char *tp_buf_data(const tp_buf *b)
{
    return b->base + b->off;
}

static inline tp_slice tp_buf_slice(const tp_buf *b)
{
    return (tp_slice){b->base + b->off, b->len};
}

/* Makes room for at least `more` bytes after the data and returns where they go. May move
 * the data (compacting or reallocating), so pointers into the buffer are stale afterwards. */
TP_API char *tp_buf_reserve(tp_buf *b, size_t more);
/* Marks n bytes written at tp_buf_reserve's pointer as data. */
static inline void tp_buf_commit(tp_buf *b, size_t n)
{
    b->len += n;
}
/* Appends n bytes (copies). */
TP_API void tp_buf_append(tp_buf *b, const void *p, size_t n);
/* tp_buf_append for hot paths: inline when the bytes fit in the room already there, and up to
 * 16 bytes copied without a call (two overlapping moves, as memcpy itself does). */
static inline void tp_buf_put(tp_buf *b, const void *p, size_t n)
{
    if (!n || n > b->cap - b->off - b->len) {
        tp_buf_append(b, p, n);
        return;
    }
    char *d = b->base + b->off + b->len;
    const char *s = (const char *)p;
    if (n >= 8 && n <= 16) {
        memcpy(d, s, 8);
        memcpy(d + n - 8, s + n - 8, 8);
    } else if (n >= 4 && n < 8) {
        memcpy(d, s, 4);
        memcpy(d + n - 4, s + n - 4, 4);
    } else if (n < 4) {
        d[0] = s[0];
        d[n / 2] = s[n / 2];
        d[n - 1] = s[n - 1];
    } else {
        memcpy(d, s, n);
    }
    b->len += n;
}
/* Appends a NUL-terminated string (without the NUL). */
TP_API void tp_buf_append_str(tp_buf *b, const char *s);
/* Appends printf-formatted text. */
TP_API void tp_buf_appendf(tp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
TP_API void tp_buf_vappendf(tp_buf *b, const char *fmt, va_list ap);
/* Drops n bytes from the front (n <= len). An emptied buffer restarts at offset 0. */
TP_API void tp_buf_consume(tp_buf *b, size_t n);
/* Empties the buffer, keeping its memory. */
static inline void tp_buf_clear(tp_buf *b)
{
    b->off = b->len = 0;
}
/* Releases the memory; the buffer is empty and reusable afterwards. */
TP_API void tp_buf_free(tp_buf *b);

#endif
