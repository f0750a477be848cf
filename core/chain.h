/* Output chains: a queue of memory and file segments written with one writev (memory) or
 * sendfile (files). Small appends are copied and coalesced into one owned block, so a
 * typical response (headers + a small body) goes out in a single write. */
#ifndef TP_CORE_CHAIN_H
#define TP_CORE_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct tp_chain_seg {
    char *p;                 /* memory: next byte to send */
    size_t n;                /* bytes left in this segment */
    char *base;              /* owned copy block (tp_free), or NULL */
    size_t cap;              /* owned block: its size, for coalescing appends */
    void (*free_fn)(void *); /* borrowed memory: called once the bytes are sent or dropped */
    void *free_arg;
    int fd;        /* file segment when >= 0 */
    bool close_fd; /* the chain closes fd when done with it */
    off_t off;     /* file: next offset to send */
} tp_chain_seg;

/* The segments and their counts share one block, allocated with the first segment and freed
 * with the last: an empty chain is one NULL pointer, so an idle connection holds no output
 * memory and pays 8 bytes for its chain. */
typedef struct tp_chain_block {
    size_t head, n, cap; /* segments in use are segs[head .. head+n) */
    size_t bytes;        /* bytes queued in all segments */
    tp_chain_seg segs[];
} tp_chain_block;

typedef struct tp_chain {
    tp_chain_block *b; /* NULL while nothing is queued */
} tp_chain;

/* Bytes queued. */
static inline size_t tp_chain_bytes(const tp_chain *c)
{
    return c->b ? c->b->bytes : 0;
}
/* Segments queued (a segment may hold 0 bytes until it is consumed). */
static inline size_t tp_chain_segments(const tp_chain *c)
{
    return c->b ? c->b->n : 0;
}

/* Copies n bytes to the end of the chain. */
void tp_chain_append(tp_chain *c, const void *p, size_t n);
/* Queues n bytes at p without copying; free_fn(free_arg) runs when they are sent or dropped. */
void tp_chain_append_ref(tp_chain *c, const void *p, size_t n, void (*free_fn)(void *),
                         void *free_arg);
/* Queues n bytes of file fd from offset off; with close_fd the chain closes fd afterwards. */
void tp_chain_append_file(tp_chain *c, int fd, off_t off, size_t n, bool close_fd);
/* Writes as much as one writev or sendfile call takes to socket fd. Returns the number of
 * bytes written (> 0), or -errno (-EAGAIN when the socket is full). */
ssize_t tp_chain_write(tp_chain *c, int fd);
/* Drops n written bytes from the front, releasing finished segments. */
void tp_chain_consume(tp_chain *c, size_t n);
/* Drops everything queued (running free callbacks, closing owned fds) and frees the memory. */
void tp_chain_free(tp_chain *c);

#endif
