#include "core/chain.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/alloc.h"

#define BLOCK TP_BLOCK_SIZE
/* The segment block starts as one cached block: no allocation for ordinary responses. */
#define FIRST_CAP    ((TP_BLOCK_SIZE - sizeof(tp_chain_block)) / sizeof(tp_chain_seg))
#define MAX_IOV      64
#define MAX_SENDFILE (1 << 20) /* per call, so one big file does not starve other clients */

static size_t block_size(size_t cap)
{
    return sizeof(tp_chain_block) + cap * sizeof(tp_chain_seg);
}

static void free_block(tp_chain *c)
{
    if (c->b->cap == FIRST_CAP)
        tp_block_put(c->b);
    else
        tp_free(c->b);
    c->b = NULL;
}

static tp_chain_seg *push(tp_chain *c)
{
    tp_chain_block *b = c->b;
    if (!b) {
        b = c->b = tp_block_get();
        *b = (tp_chain_block){.cap = FIRST_CAP};
    } else if (b->head + b->n == b->cap) {
        if (b->head) {
            memmove(b->segs, b->segs + b->head, b->n * sizeof(*b->segs));
            b->head = 0;
        } else {
            tp_chain_block *bigger = tp_malloc(block_size(b->cap * 2));
            memcpy(bigger, b, block_size(b->n));
            bigger->cap = b->cap * 2;
            free_block(c);
            b = c->b = bigger;
        }
    }
    tp_chain_seg *s = &b->segs[b->head + b->n++];
    *s = (tp_chain_seg){.fd = -1};
    return s;
}

static tp_chain_seg *last(tp_chain *c)
{
    return c->b ? &c->b->segs[c->b->head + c->b->n - 1] : NULL;
}

void tp_chain_append(tp_chain *c, const void *p, size_t n)
{
    if (!n)
        return;
    tp_chain_seg *s = last(c);
    if (s && s->base && (size_t)(s->base + s->cap - (s->p + s->n)) >= n) {
        memcpy(s->p + s->n, p, n);
        s->n += n;
        c->b->bytes += n;
        return;
    }
    s = push(c);
    s->cap = n > BLOCK ? n : BLOCK;
    s->base = s->p = s->cap == BLOCK ? tp_block_get() : tp_malloc(s->cap);
    memcpy(s->p, p, n);
    s->n = n;
    c->b->bytes += n;
}

void tp_chain_append_ref(tp_chain *c, const void *p, size_t n, void (*free_fn)(void *),
                         void *free_arg)
{
    tp_chain_seg *s = push(c);
    s->p = (char *)(uintptr_t)p;
    s->n = n;
    s->free_fn = free_fn;
    s->free_arg = free_arg;
    c->b->bytes += n;
}

void tp_chain_append_file(tp_chain *c, int fd, off_t off, size_t n, bool close_fd)
{
    tp_chain_seg *s = push(c);
    s->fd = fd;
    s->off = off;
    s->n = n;
    s->close_fd = close_fd;
    c->b->bytes += n;
}

static void release(tp_chain_seg *s)
{
    if (s->cap == BLOCK)
        tp_block_put(s->base);
    else
        tp_free(s->base);
    if (s->free_fn)
        s->free_fn(s->free_arg);
    if (s->fd >= 0 && s->close_fd)
        close(s->fd);
}

ssize_t tp_chain_write(tp_chain *c, int fd)
{
    tp_chain_block *b = c->b;
    if (!b)
        return 0;
    tp_chain_seg *first = &b->segs[b->head];
    ssize_t r;
    if (first->fd >= 0) {
        size_t want = first->n < MAX_SENDFILE ? first->n : MAX_SENDFILE;
        off_t off = first->off;
        r = sendfile(fd, first->fd, &off, want);
        if (r == 0 && want)
            return -EIO; /* the file shrank under us: the response cannot be completed */
    } else {
        struct iovec iov[MAX_IOV];
        int k = 0;
        for (size_t i = 0; i < b->n && k < MAX_IOV; i++) {
            tp_chain_seg *s = &b->segs[b->head + i];
            if (s->fd >= 0)
                break;
            if (s->n)
                iov[k++] = (struct iovec){s->p, s->n};
        }
        if (!k) {
            tp_chain_consume(c, 0);
            return 0;
        }
        r = k == 1 ? write(fd, iov[0].iov_base, iov[0].iov_len) : writev(fd, iov, k);
    }
    return r < 0 ? -errno : r;
}

void tp_chain_consume(tp_chain *c, size_t n)
{
    tp_chain_block *b = c->b;
    if (!b)
        return;
    b->bytes -= n;
    while (b->n) {
        tp_chain_seg *s = &b->segs[b->head];
        size_t take = n < s->n ? n : s->n;
        s->n -= take;
        n -= take;
        if (s->fd >= 0)
            s->off += (off_t)take;
        else
            s->p += take;
        if (s->n)
            break;
        release(s);
        b->head++;
        b->n--;
    }
    if (!b->n)
        free_block(c); /* an idle connection keeps no output memory */
}

void tp_chain_free(tp_chain *c)
{
    if (!c->b)
        return;
    for (size_t i = 0; i < c->b->n; i++)
        release(&c->b->segs[c->b->head + i]);
    free_block(c);
}
