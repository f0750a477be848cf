#include "core/buf.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

char *tp_buf_reserve(tp_buf *b, size_t more)
{
    size_t tail = b->cap - b->off - b->len;
    if (tail >= more && b->base) /* an empty buffer gets room even for 0 bytes: no NULL + 0 */
        return b->base + b->off + b->len;
    /* Sliding the data to the front is cheaper than growing when half the room is consumed. */
    if (b->off && b->cap - b->len >= more && b->off >= b->len) {
        memmove(b->base, b->base + b->off, b->len);
        b->off = 0;
        return b->base + b->len;
    }
    size_t need = b->len + more, cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    if (b->off) {
        char *n = tp_malloc(cap);
        memcpy(n, b->base + b->off, b->len);
        tp_free(b->base);
        b->base = n;
        b->off = 0;
    } else {
        b->base = tp_realloc(b->base, cap);
    }
    b->cap = cap;
    return b->base + b->len;
}

void tp_buf_append(tp_buf *b, const void *p, size_t n)
{
    if (!n)
        return;
    memcpy(tp_buf_reserve(b, n), p, n);
    b->len += n;
}

void tp_buf_append_str(tp_buf *b, const char *s)
{
    tp_buf_append(b, s, strlen(s));
}

void tp_buf_vappendf(tp_buf *b, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    char *p = tp_buf_reserve(b, 128);
    size_t room = b->cap - b->off - b->len;
    int n = vsnprintf(p, room, fmt, ap);
    if (n >= 0 && (size_t)n >= room) {
        p = tp_buf_reserve(b, (size_t)n + 1);
        vsnprintf(p, (size_t)n + 1, fmt, again);
    }
    va_end(again);
    if (n > 0)
        b->len += (size_t)n;
}

void tp_buf_appendf(tp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tp_buf_vappendf(b, fmt, ap);
    va_end(ap);
}

void tp_buf_consume(tp_buf *b, size_t n)
{
    b->off += n;
    b->len -= n;
    if (!b->len)
        b->off = 0;
}

void tp_buf_free(tp_buf *b)
{
    tp_free(b->base);
    *b = (tp_buf){0};
}
