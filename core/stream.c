#define PCRE2_CODE_UNIT_WIDTH 8
#include "core/stream.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pcre2.h>
#include <stdint.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/chain.h"
#include "core/log.h"

/* Above this much queued output a write flushes at once instead of before the loop sleeps. */
#define FLUSH_NOW_BYTES (64 * 1024)
/* Reads land in this per-thread buffer (after a copy of the few bytes a stream holds), so a
 * request that is consumed in full never allocates; leftovers are copied into the stream's
 * own buffer. Twice the default chunk, so a partial head and a whole chunk fit. */
#define SCRATCH_SIZE (128 * 1024)
/* A file sent through a transport without sendfile goes in pieces of this size (one TLS
 * record each). */

/* The stream's life, one state at a time (debug builds assert each transition in set_state):
 *
 *   OPEN ── tp_stream_close_after_flush ──▶ FLUSHING ── output written, linger > 0 ──▶ LINGERING
 *   OPEN, FLUSHING, LINGERING ── close_with (error, EOF, tp_stream_close, linger over) ──▶ CLOSED
 *   CLOSED ── its hook: pending callbacks fail, the close callback runs ──▶ freed in that hook
 *
 * FLUSHING goes straight to CLOSED when there is no linger or shutdown fails. In CLOSED the
 * fd is closed, the hook is queued, and nothing queues work for the stream any more: the hook
 * that frees it is its last entry in the loop's deferred queue, and free_stream (called from
 * that hook alone) is the one place a stream's memory goes. */
enum stream_state { ST_OPEN, ST_FLUSHING, ST_LINGERING, ST_CLOSED };

enum stream_flag {
    F_EOF = 1 << 0,             /* the peer shut down its sending side */
    F_PAUSED = 1 << 1,          /* the data handler is not called */
    F_WRITE_BLOCKED = 1 << 2,   /* the last flush hit EAGAIN: wait for WRITE readiness */
    F_WANT_DISPATCH = 1 << 3,   /* the hook hands buffered data to the reader */
    F_WANT_FLUSH = 1 << 4,      /* the hook writes the queued output */
    F_HOOK_QUEUED = 1 << 5,     /* the hook is in the loop's deferred queue */
    F_IN_EVENT = 1 << 6,        /* on_event delivers a read: it does the wanted work itself */
    F_EOF_TOLD = 1 << 7,        /* the data handler was called with eof */
    F_TRANSPORT = 1 << 8,       /* bytes go through ext->tr (TLS), not read/writev */
    F_READ_WANTS_WR = 1 << 9,   /* the transport's read waits for WRITE readiness */
    F_WRITE_WANTS_RD = 1 << 10, /* the transport's write waits for READ readiness */
    F_READ_MORE = 1 << 11,      /* the transport holds read bytes: read again from the hook */
};

enum read_kind { R_NONE, R_UNTIL, R_REGEX, R_BYTES, R_CLOSE };

/* A pending Tornado-style read. */
typedef struct read_op {
    enum read_kind kind;
    tp_slice delim;
    char delim_store[16];
    size_t max, n, scanned;
    bool partial;
    pcre2_code *re;
    pcre2_match_data *md;
    tp_read_fn fn;
    void *arg;
} read_op;

typedef struct write_waiter {
    uint64_t target; /* fires when written_total reaches this */
    tp_write_fn fn;
    void *arg;
} write_waiter;

/* What an HTTP connection seldom needs (Tornado-style reads, write callbacks, the linger),
 * made on first use so that an idle connection's stream stays small. */
typedef struct stream_ext {
    read_op rd; /* rd.kind R_NONE: no read pending */
    write_waiter *waiters;
    size_t nwaiters, cap_waiters;
    tp_timer linger_timer;
    double linger;
    const tp_stream_transport *tr; /* with F_TRANSPORT */
    void *tr_ctx;
} stream_ext;

/* 112 bytes: one jemalloc size class for each idle keep-alive connection's stream. */
struct tp_stream {
    tp_loop *loop;
    int fd;
    uint8_t state;  /* enum stream_state */
    uint8_t mask;   /* events registered with the loop */
    uint16_t flags; /* enum stream_flag bits */
    int error;      /* why it closed: 0 or -errno */
    uint32_t max_buffer, chunk, max_write;

    char *rbase; /* read buffer: rlen bytes from rbase + roff, rcap allocated */
    uint32_t roff, rlen, rcap;

    stream_ext *ext;
    tp_data_fn data_fn;
    void *data_arg;

    tp_chain out;
    uint64_t written_total;

    tp_close_fn close_fn;
    void *close_arg;
};

_Static_assert(sizeof(struct tp_stream) <= 112, "an idle stream fits jemalloc's 112-byte class");

/* Bytes read straight into the thread's scratch buffer are delivered from there; `owner` is
 * the stream they belong to while it delivers them. */
static __thread struct {
    char *buf;
    const tp_stream *owner;
    const char *p;
    size_t n;
} scratch;

static void on_event(tp_loop *loop, int fd, unsigned events, void *arg);
static void hook(tp_loop *loop, void *arg);
static void linger_expired(tp_loop *loop, void *arg);
static void close_with(tp_stream *s, int error);

static uint32_t clamp32(size_t v, uint32_t max)
{
    return v > max ? max : (uint32_t)v;
}

tp_stream *tp_stream_new(tp_loop *loop, int fd, const tp_stream_opts *o)
{
    tp_stream *s = tp_calloc(1, sizeof(*s));
    s->loop = loop;
    s->fd = fd;
    s->max_buffer = clamp32(o && o->max_buffer_size ? o->max_buffer_size : 100u << 20, 1u << 30);
    s->chunk = clamp32(o && o->read_chunk_size ? o->read_chunk_size : 64u << 10, 1u << 30);
    if (s->chunk > s->max_buffer / 2 && s->max_buffer >= 2)
        s->chunk = s->max_buffer / 2;
    s->max_write = clamp32(o ? o->max_write_buffer_size : 0, UINT32_MAX);
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && !(fl & O_NONBLOCK))
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    tp_loop_add_fd(loop, fd, 0, on_event, s);
    return s;
}

/* ---- state --------------------------------------------------------------------------- */

#ifndef NDEBUG
static bool transition_allowed(enum stream_state from, enum stream_state to)
{
    switch (from) {
    case ST_OPEN: return to == ST_FLUSHING || to == ST_CLOSED;
    case ST_FLUSHING: return to == ST_LINGERING || to == ST_CLOSED;
    case ST_LINGERING: return to == ST_CLOSED;
    case ST_CLOSED: return false;
    }
    return false;
}
#endif

static void set_state(tp_stream *s, enum stream_state to)
{
    assert(transition_allowed((enum stream_state)s->state, to));
    s->state = (uint8_t)to;
}

static bool is_closed(const tp_stream *s)
{
    return s->state == ST_CLOSED;
}

static stream_ext *ext_of(tp_stream *s)
{
    if (!s->ext)
        s->ext = tp_calloc(1, sizeof(*s->ext));
    return s->ext;
}

static enum read_kind read_kind(const tp_stream *s)
{
    return s->ext ? s->ext->rd.kind : R_NONE;
}

/* Queues the hook once. A closed stream queues nothing more (close_with queues its last run). */
static void queue_hook(tp_stream *s)
{
    if (s->flags & F_HOOK_QUEUED)
        return;
    s->flags |= F_HOOK_QUEUED;
    tp_loop_defer_call(s->loop, hook, s);
}

static void want(tp_stream *s, unsigned flag)
{
    if (is_closed(s))
        return;
    s->flags |= (uint16_t)flag;
    if (!(s->flags & F_IN_EVENT))
        queue_hook(s);
}

/* ---- the read buffer ----------------------------------------------------------------- */

static void rbuf_free(tp_stream *s)
{
    tp_free(s->rbase);
    s->rbase = NULL;
    s->roff = s->rlen = s->rcap = 0;
}

/* Room for `more` bytes after the buffered ones (moved to the front or grown as needed). */
static char *rbuf_reserve(tp_stream *s, size_t more)
{
    if (s->rcap - s->roff - s->rlen >= more)
        return s->rbase + s->roff + s->rlen;
    if (s->roff && s->rcap - s->rlen >= more) {
        memmove(s->rbase, s->rbase + s->roff, s->rlen);
        s->roff = 0;
        return s->rbase + s->rlen;
    }
    size_t cap = s->rcap ? s->rcap : 4096;
    while (cap - s->rlen < more)
        cap *= 2;
    char *p = tp_malloc(cap);
    if (s->rlen)
        memcpy(p, s->rbase + s->roff, s->rlen);
    tp_free(s->rbase);
    s->rbase = p;
    s->roff = 0;
    s->rcap = (uint32_t)cap;
    return p + s->rlen;
}

static void rbuf_append(tp_stream *s, const char *p, size_t n)
{
    memcpy(rbuf_reserve(s, n), p, n);
    s->rlen += (uint32_t)n;
}

static void rbuf_consume(tp_stream *s, size_t n)
{
    s->roff += (uint32_t)n;
    s->rlen -= (uint32_t)n;
    if (!s->rlen)
        rbuf_free(s); /* an idle connection holds no read buffer */
}

/* ---- interest ------------------------------------------------------------------------ */

/* Inlined as before the transport seam: read_more (cold) calls these too. */
#define HOT_INLINE inline __attribute__((always_inline))

static HOT_INLINE bool wants_read(const tp_stream *s)
{
    if (is_closed(s) || (s->flags & F_EOF))
        return false;
    if (s->state == ST_LINGERING || read_kind(s) != R_NONE)
        return true;
    if (s->data_fn && !(s->flags & F_PAUSED))
        return true;
    /* Idle or paused: watch for the peer closing, buffering at most one chunk ahead. */
    return (s->data_fn || s->close_fn) && s->rlen < s->chunk;
}

/* The transport's code stays out of line, so that the plaintext path compiles as before. */
#define TRANSPORT_PATH __attribute__((noinline, cold))

/* A transport waiting for the other direction, or holding bytes already read. */
TRANSPORT_PATH static unsigned transport_interest(tp_stream *s, unsigned mask)
{
    bool rd = mask & TP_READ;
    if (s->flags & F_READ_WANTS_WR)
        mask = rd ? (mask & ~(unsigned)TP_READ) | TP_WRITE : mask;
    if (s->flags & F_WRITE_WANTS_RD) /* and not for WRITE readiness, which is there */
        mask = (mask & ~(unsigned)TP_WRITE) | TP_READ |
               (rd && (s->flags & F_READ_WANTS_WR) ? TP_WRITE : 0);
    if ((s->flags & F_READ_MORE) && rd)
        queue_hook(s);
    return mask;
}

static void update_interest(tp_stream *s)
{
    if (is_closed(s))
        return;
    /* WRITE is wanted only after a write hit EAGAIN: a flush always tries first. */
    unsigned want_mask =
        (wants_read(s) ? TP_READ : 0) | (s->flags & F_WRITE_BLOCKED ? TP_WRITE : 0);
    if (s->flags & (F_READ_WANTS_WR | F_WRITE_WANTS_RD | F_READ_MORE))
        want_mask = transport_interest(s, want_mask);
    if (want_mask != s->mask && tp_loop_update_fd(s->loop, s->fd, want_mask) == 0)
        s->mask = (uint8_t)want_mask;
}

/* ---- reading ------------------------------------------------------------------------- */

static tp_slice current(const tp_stream *s)
{
    if (scratch.owner == s)
        return (tp_slice){scratch.p, scratch.n};
    return (tp_slice){s->rlen ? s->rbase + s->roff : "", s->rlen};
}

static void consume(tp_stream *s, size_t n)
{
    if (scratch.owner == s) {
        scratch.p += n;
        scratch.n -= n;
    } else if (n) {
        rbuf_consume(s, n);
    }
}

/* Where a pending Tornado-style read would end in `d`: >= 0 bytes to deliver, -EAGAIN not
 * yet, or another negative status when it can never be satisfied. */
static ssize_t read_target(tp_stream *s, read_op *rd, tp_slice d)
{
    switch (rd->kind) {
    case R_BYTES:
        if (rd->partial && d.n)
            return (ssize_t)(d.n < rd->n ? d.n : rd->n);
        return d.n >= rd->n ? (ssize_t)rd->n : -EAGAIN;
    case R_CLOSE: return (s->flags & F_EOF) || is_closed(s) ? (ssize_t)d.n : -EAGAIN;
    case R_UNTIL: {
        size_t from = rd->scanned;
        const char *hit =
            d.n > from ? memmem(d.p + from, d.n - from, rd->delim.p, rd->delim.n) : NULL;
        if (hit) {
            size_t end = (size_t)(hit - d.p) + rd->delim.n;
            return rd->max && end > rd->max ? -EMSGSIZE : (ssize_t)end;
        }
        rd->scanned = d.n >= rd->delim.n ? d.n - rd->delim.n + 1 : 0;
        return rd->max && d.n >= rd->max ? -EMSGSIZE : -EAGAIN;
    }
    case R_REGEX: {
        int r = pcre2_match(rd->re, (PCRE2_SPTR)d.p, d.n, 0, 0, rd->md, NULL);
        if (r >= 0) {
            size_t end = pcre2_get_ovector_pointer(rd->md)[1];
            return rd->max && end > rd->max ? -EMSGSIZE : (ssize_t)end;
        }
        return rd->max && d.n >= rd->max ? -EMSGSIZE : -EAGAIN;
    }
    case R_NONE: break;
    }
    return -EAGAIN;
}

static void clear_read(tp_stream *s)
{
    if (read_kind(s) == R_NONE)
        return;
    read_op *rd = &s->ext->rd;
    if (rd->re) {
        pcre2_match_data_free(rd->md);
        pcre2_code_free(rd->re);
    }
    *rd = (read_op){.kind = R_NONE};
}

/* Ends the pending read: its callback gets status and data. */
static void finish_read(tp_stream *s, int status, tp_slice data)
{
    tp_read_fn fn = s->ext->rd.fn;
    void *arg = s->ext->rd.arg;
    clear_read(s);
    fn(s, status, data, arg);
}

/* Runs the pending read's callback if the buffer can satisfy it. Returns true if it ran. */
static bool try_read(tp_stream *s)
{
    tp_slice d = current(s);
    ssize_t n = read_target(s, &s->ext->rd, d);
    if (n == -EAGAIN)
        return false;
    if (n < 0) {
        tp_log_info("Unsatisfiable read, closing connection");
        close_with(s, (int)n);
        finish_read(s, (int)n, TP_SLICE_NULL);
        return true;
    }
    finish_read(s, 0, (tp_slice){d.p, (size_t)n});
    consume(s, (size_t)n);
    return true;
}

/* The peer shut down its side and the data handler has not heard of it: a paused handler is
 * called for that once (see tp_stream_pause). */
static bool eof_news(const tp_stream *s)
{
    return (s->flags & (F_EOF | F_EOF_TOLD)) == F_EOF;
}

/* Hands buffered data to whoever reads: pending reads (repeatedly, as each callback may start
 * the next read) or the data handler (once per call). */
static void deliver(tp_stream *s)
{
    for (;;) {
        bool eof = s->flags & F_EOF;
        if (read_kind(s) != R_NONE) {
            if (try_read(s))
                continue;
            if (eof) {
                finish_read(s, -EPIPE, TP_SLICE_NULL);
                close_with(s, 0);
            }
            return;
        }
        if (s->data_fn && !is_closed(s) && (!(s->flags & F_PAUSED) || eof_news(s))) {
            tp_slice d = current(s);
            if (!d.n && !eof)
                return;
            if (eof)
                s->flags |= F_EOF_TOLD;
            size_t used = s->data_fn(s, d, eof, s->data_arg);
            consume(s, used > d.n ? d.n : used);
            return;
        }
        if (eof && !s->data_fn && s->state == ST_OPEN)
            close_with(s, 0); /* nobody will read again: Tornado closes on EOF */
        return;
    }
}

/* Discards what a lingering stream reads; the peer's FIN ends the linger. */
static void read_lingering(tp_stream *s)
{
    ssize_t n = read(s->fd, scratch.buf, SCRATCH_SIZE);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        close_with(s, n == 0 ? 0 : -errno);
}

/* A transport read; -EAGAIN when it waits (F_READ_WANTS_WR: for WRITE readiness). */
TRANSPORT_PATH static ssize_t transport_read(tp_stream *s, void *buf, size_t n)
{
    const stream_ext *x = s->ext;
    ssize_t r = x->tr->read(x->tr_ctx, buf, n);
    s->flags &= (uint16_t) ~(F_READ_WANTS_WR | F_READ_MORE);
    if (r == TP_STREAM_WANT_WRITE)
        s->flags |= F_READ_WANTS_WR;
    if (r == TP_STREAM_WANT_WRITE || r == TP_STREAM_WANT_READ)
        return -EAGAIN;
    if (r > 0 && x->tr->pending && x->tr->pending(x->tr_ctx))
        s->flags |= F_READ_MORE;
    return r;
}

static ssize_t sock_read(tp_stream *s, void *buf, size_t n)
{
    if (s->flags & F_TRANSPORT)
        return transport_read(s, buf, n);
    ssize_t r = read(s->fd, buf, n);
    return r < 0 ? -errno : r;
}

/* One read. While the buffered bytes and a chunk fit in the thread's scratch buffer, the
 * read goes there (after a copy of the buffered bytes) and is delivered from there, so the
 * stream keeps a read buffer only for what is left over. */
static HOT_INLINE void read_some(tp_stream *s)
{
    if (!scratch.buf)
        scratch.buf = tp_malloc(SCRATCH_SIZE);
    if (s->state == ST_LINGERING) {
        read_lingering(s);
        return;
    }
    if (s->rlen >= s->max_buffer) {
        tp_log_info("Reached maximum read buffer size");
        close_with(s, -ENOBUFS);
        return;
    }
    size_t have = s->rlen;
    bool direct = have + s->chunk <= SCRATCH_SIZE;
    ssize_t n = sock_read(s, direct ? scratch.buf + have : rbuf_reserve(s, s->chunk), s->chunk);
    if (n < 0) {
        if (n != -EAGAIN && n != -EINTR)
            close_with(s, (int)n);
        return;
    }
    if (n == 0)
        s->flags |= F_EOF;
    if (!direct) {
        s->rlen += (uint32_t)n;
    } else if (have + (size_t)n) {
        if (have)
            memcpy(scratch.buf, s->rbase + s->roff, have);
        rbuf_free(s);
        scratch.owner = s, scratch.p = scratch.buf, scratch.n = have + (size_t)n;
    }
    deliver(s);
    if (scratch.owner == s) {
        scratch.owner = NULL;
        if (scratch.n && !is_closed(s))
            rbuf_append(s, scratch.p, scratch.n);
    }
}

/* A new pending read, or NULL with *err set (-EPIPE closed, -EBUSY one is pending). */
static read_op *new_read(tp_stream *s, int *err)
{
    if (is_closed(s) || read_kind(s) != R_NONE) {
        *err = is_closed(s) ? -EPIPE : -EBUSY;
        return NULL;
    }
    read_op *rd = &ext_of(s)->rd;
    *rd = (read_op){.kind = R_NONE};
    return rd;
}

static int start_read(tp_stream *s, read_op *rd, enum read_kind kind, tp_read_fn fn, void *arg)
{
    rd->kind = kind;
    rd->fn = fn;
    rd->arg = arg;
    /* Satisfied from the buffer (or failed at EOF) before the loop sleeps; never inline. */
    want(s, F_WANT_DISPATCH);
    update_interest(s);
    return 0;
}

int tp_stream_read_until(tp_stream *s, tp_slice delim, size_t max_bytes, tp_read_fn fn, void *arg)
{
    int err;
    if (!delim.n || delim.n > sizeof(((read_op *)0)->delim_store))
        return -EINVAL;
    read_op *rd = new_read(s, &err);
    if (!rd)
        return err;
    memcpy(rd->delim_store, delim.p, delim.n);
    rd->delim = (tp_slice){rd->delim_store, delim.n};
    rd->max = max_bytes;
    return start_read(s, rd, R_UNTIL, fn, arg);
}

int tp_stream_read_until_regex(tp_stream *s, const char *pattern, size_t max_bytes, tp_read_fn fn,
                               void *arg)
{
    int err;
    PCRE2_SIZE off;
    if (is_closed(s) || read_kind(s) != R_NONE)
        return is_closed(s) ? -EPIPE : -EBUSY;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
    if (!re)
        return -EINVAL;
    read_op *rd = new_read(s, &err);
    rd->re = re;
    rd->md = pcre2_match_data_create_from_pattern(re, NULL);
    rd->max = max_bytes;
    return start_read(s, rd, R_REGEX, fn, arg);
}

int tp_stream_read_bytes(tp_stream *s, size_t n, bool partial, tp_read_fn fn, void *arg)
{
    int err;
    read_op *rd = new_read(s, &err);
    if (!rd)
        return err;
    rd->n = n;
    rd->partial = partial;
    return start_read(s, rd, R_BYTES, fn, arg);
}

int tp_stream_read_until_close(tp_stream *s, tp_read_fn fn, void *arg)
{
    int err;
    read_op *rd = new_read(s, &err);
    return rd ? start_read(s, rd, R_CLOSE, fn, arg) : err;
}

int tp_stream_set_data_handler(tp_stream *s, tp_data_fn fn, void *arg)
{
    if (is_closed(s))
        return -EPIPE;
    if (read_kind(s) != R_NONE)
        return -EBUSY;
    s->data_fn = fn;
    s->data_arg = arg;
    s->flags &= (uint16_t) ~(F_PAUSED | F_EOF_TOLD); /* a new handler has heard nothing */
    if (fn && (s->rlen || (s->flags & F_EOF)))
        want(s, F_WANT_DISPATCH);
    update_interest(s);
    return 0;
}

void tp_stream_pause(tp_stream *s)
{
    s->flags |= F_PAUSED;
    update_interest(s);
}

void tp_stream_resume(tp_stream *s)
{
    if (is_closed(s))
        return;
    s->flags &= (uint16_t)~F_PAUSED;
    if (s->rlen || (s->flags & F_EOF))
        want(s, F_WANT_DISPATCH);
    update_interest(s);
}

/* ---- writing ------------------------------------------------------------------------- */

/* Runs the write callbacks whose bytes reached the kernel (status 0), and with an error
 * status (the stream closed) all the others too. */
static void fire_waiters(tp_stream *s, int status)
{
    stream_ext *x = s->ext;
    if (!x || !x->nwaiters)
        return;
    size_t i = 0;
    while (i < x->nwaiters && (status || x->waiters[i].target <= s->written_total)) {
        write_waiter w = x->waiters[i++];
        w.fn(s, w.target <= s->written_total ? 0 : status, w.arg);
    }
    if (i && i < x->nwaiters)
        memmove(x->waiters, x->waiters + i, (x->nwaiters - i) * sizeof(*x->waiters));
    x->nwaiters -= i;
    if (!x->nwaiters) {
        tp_free(x->waiters);
        x->waiters = NULL;
        x->cap_waiters = 0;
    }
}

/* The linger drains our input until the peer's FIN, so that a close with unread bytes does not
 * reset the connection under what we wrote. When the FIN was read already, nothing can come
 * any more: close at once (waiting would only hold the connection until the timeout). */
static void start_linger(tp_stream *s)
{
    double linger = s->ext ? s->ext->linger : 0;
    if ((s->flags & F_TRANSPORT) && s->ext->tr->shutdown)
        s->ext->tr->shutdown(s->ext->tr_ctx);
    if (linger <= 0 || (s->flags & F_EOF) || shutdown(s->fd, SHUT_WR) < 0) {
        close_with(s, 0);
        return;
    }
    set_state(s, ST_LINGERING);
    s->data_fn = NULL;
    rbuf_free(s);
    tp_timer_init(&s->ext->linger_timer, linger_expired, s);
    tp_timer_start_at(s->loop, &s->ext->linger_timer, tp_loop_time(s->loop) + linger);
}

/* tp_chain_write through the transport: a file segment, or the memory segments before the
 * next file in one writev. -EAGAIN when it waits (F_WRITE_WANTS_RD: for READ readiness). */
TRANSPORT_PATH static ssize_t transport_write(tp_stream *s)
{
    const stream_ext *x = s->ext;
    tp_chain_block *b = s->out.b;
    tp_chain_seg *first = &b->segs[b->head];
    ssize_t r;
    s->flags &= (uint16_t)~F_WRITE_WANTS_RD;
    if (first->fd >= 0 && !first->n)
        return 0; /* an empty file part: flush_now's consume drops it */
    if (first->fd >= 0) {
        r = x->tr->sendfile(x->tr_ctx, first->fd, first->off, first->n);
    } else {
        struct iovec iov[64];
        int k = 0;
        for (size_t i = 0; i < b->n && k < 64 && b->segs[b->head + i].fd < 0; i++)
            if (b->segs[b->head + i].n)
                iov[k++] = (struct iovec){b->segs[b->head + i].p, b->segs[b->head + i].n};
        if (!k)
            return 0; /* empty parts only: flush_now's consume drops them */
        r = x->tr->writev(x->tr_ctx, iov, k);
    }
    if (r == TP_STREAM_WANT_READ)
        s->flags |= F_WRITE_WANTS_RD;
    return r == TP_STREAM_WANT_READ || r == TP_STREAM_WANT_WRITE ? -EAGAIN : r;
}

/* Writes until the chain is empty or the socket is full; never runs callbacks. */
static void flush_now(tp_stream *s)
{
    while (!is_closed(s) && tp_chain_segments(&s->out)) {
        ssize_t r = s->flags & F_TRANSPORT ? transport_write(s) : tp_chain_write(&s->out, s->fd);
        if (r >= 0) {
            tp_chain_consume(&s->out, (size_t)r);
            s->written_total += (uint64_t)r;
        } else if (r == -EINTR) {
            continue;
        } else if (r == -EAGAIN) {
            s->flags |= F_WRITE_BLOCKED;
            return;
        } else {
            close_with(s, (int)r);
            return;
        }
    }
    if (is_closed(s))
        return;
    s->flags &= (uint16_t)~F_WRITE_BLOCKED;
    if (s->state == ST_FLUSHING)
        start_linger(s);
}

static void after_flush(tp_stream *s)
{
    if (!is_closed(s))
        fire_waiters(s, 0);
    update_interest(s);
}

static void queued(tp_stream *s, tp_write_fn fn, void *arg)
{
    if (fn) {
        stream_ext *x = ext_of(s);
        if (x->nwaiters == x->cap_waiters) {
            x->cap_waiters = x->cap_waiters ? x->cap_waiters * 2 : 4;
            x->waiters = tp_realloc(x->waiters, x->cap_waiters * sizeof(*x->waiters));
        }
        /* Every byte queued so far is written once written_total reaches this. */
        uint64_t target = s->written_total + tp_chain_bytes(&s->out);
        x->waiters[x->nwaiters++] = (write_waiter){target, fn, arg};
    }
    if (tp_chain_bytes(&s->out) >= FLUSH_NOW_BYTES)
        flush_now(s);
    want(s, F_WANT_FLUSH);
}

static int check_write(const tp_stream *s, size_t n)
{
    if (s->state != ST_OPEN)
        return -EPIPE; /* closed, or closing after a flush */
    if (s->max_write && tp_chain_bytes(&s->out) + n > s->max_write)
        return -ENOBUFS;
    return 0;
}

int tp_stream_write(tp_stream *s, const void *p, size_t n, tp_write_fn fn, void *arg)
{
    int r = check_write(s, n);
    if (r < 0)
        return r;
    tp_chain_append(&s->out, p, n);
    queued(s, fn, arg);
    return 0;
}

int tp_stream_write_ref(tp_stream *s, const void *p, size_t n, void (*free_fn)(void *),
                        void *free_arg, tp_write_fn fn, void *arg)
{
    int r = check_write(s, n);
    if (r < 0) {
        if (free_fn)
            free_fn(free_arg);
        return r;
    }
    tp_chain_append_ref(&s->out, p, n, free_fn, free_arg);
    queued(s, fn, arg);
    return 0;
}

int tp_stream_sendfile(tp_stream *s, int fd, off_t off, size_t n, bool close_fd, tp_write_fn fn,
                       void *arg)
{
    int r = check_write(s, 0);
    if (r < 0) {
        if (close_fd)
            close(fd);
        return r;
    }
    tp_chain_append_file(&s->out, fd, off, n, close_fd);
    queued(s, fn, arg);
    return 0;
}

uint64_t tp_stream_bytes_written(const tp_stream *s)
{
    return s->written_total;
}

uint64_t tp_stream_unsent(const tp_stream *s)
{
    int in_socket = 0;
    if (is_closed(s) || ioctl(s->fd, SIOCOUTQ, &in_socket) < 0 || in_socket < 0)
        in_socket = 0;
    return tp_chain_bytes(&s->out) + (uint64_t)in_socket;
}

size_t tp_stream_pending_write(const tp_stream *s)
{
    return tp_chain_bytes(&s->out);
}

/* ---- events, the hook and closing ---------------------------------------------------- */

/* A transport waiting for the other direction: the readiness it waited for runs the
 * operation that waits. */
TRANSPORT_PATH static unsigned transport_events(tp_stream *s, unsigned events)
{
    if ((s->flags & F_READ_WANTS_WR) && (events & TP_WRITE))
        events |= TP_READ;
    if ((s->flags & F_WRITE_WANTS_RD) && (events & TP_READ))
        events |= TP_WRITE;
    return events;
}

static void on_event(tp_loop *loop, int fd, unsigned events, void *arg)
{
    (void)loop, (void)fd;
    tp_stream *s = arg;
    if (s->flags & (F_READ_WANTS_WR | F_WRITE_WANTS_RD))
        events = transport_events(s, events);
    if (events & TP_WRITE) {
        flush_now(s);
        if (!is_closed(s))
            fire_waiters(s, 0);
    }
    if (!is_closed(s) && (events & (TP_READ | TP_ERROR_EVENTS))) {
        s->flags |= F_IN_EVENT;
        read_some(s);
        s->flags &= (uint16_t)~F_IN_EVENT;
        /* Answer this client now rather than after every other ready fd was served: the
         * same one write (all pipelined responses of this read), less latency, and no trip
         * through the hook. */
        if (!is_closed(s) && tp_chain_segments(&s->out) && !(s->flags & F_WRITE_BLOCKED)) {
            s->flags &= (uint16_t)~F_WANT_FLUSH;
            flush_now(s);
            after_flush(s);
        }
        if (!is_closed(s) && (s->flags & (F_WANT_FLUSH | F_WANT_DISPATCH)))
            queue_hook(s); /* work wanted during the read that is still to do */
    }
    update_interest(s);
}

static void linger_expired(tp_loop *loop, void *arg)
{
    (void)loop;
    close_with(arg, 0);
}

/* To CLOSED: the fd goes now, and the hook (queued here unless it already is) finishes the
 * job before the loop sleeps. */
static void close_with(tp_stream *s, int error)
{
    if (is_closed(s))
        return;
    set_state(s, ST_CLOSED);
    s->error = error;
    tp_loop_remove_fd(s->loop, s->fd);
    if (s->flags & F_TRANSPORT) {
        s->flags &= (uint16_t)~F_TRANSPORT;
        s->ext->tr->free(s->ext->tr_ctx);
    }
    close(s->fd);
    s->fd = -1;
    if (s->ext)
        tp_timer_stop(s->loop, &s->ext->linger_timer);
    tp_chain_free(&s->out);
    queue_hook(s);
}

static void free_stream(tp_stream *s)
{
    rbuf_free(s);
    tp_free(s->ext);
    tp_free(s);
}

/* The last stage, in the hook of a CLOSED stream: pending callbacks learn of the close, the
 * close callback runs (its owner drops its pointer there), and the memory goes. */
static void finish_close(tp_stream *s)
{
    int status = s->error ? s->error : -EPIPE;
    if (read_kind(s) != R_NONE && !try_read(s))
        finish_read(s, status, TP_SLICE_NULL);
    clear_read(s);
    fire_waiters(s, status);
    if (s->close_fn)
        s->close_fn(s, s->error, s->close_arg);
    free_stream(s);
}

/* Bytes the transport holds are read as if the socket were readable. */
TRANSPORT_PATH static void read_more(tp_stream *s)
{
    if (is_closed(s) || !wants_read(s))
        return;
    s->flags |= F_IN_EVENT;
    read_some(s);
    s->flags &= (uint16_t)~F_IN_EVENT;
}

/* Deferred work, in order: hand buffered data to the reader, then write what it queued. */
static void hook(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_stream *s = arg;
    s->flags &= (uint16_t)~F_HOOK_QUEUED;
    if (is_closed(s)) {
        finish_close(s);
        return;
    }
    if (s->flags & F_WANT_DISPATCH) {
        s->flags &= (uint16_t)~F_WANT_DISPATCH;
        deliver(s);
    }
    if (s->flags & F_READ_MORE)
        read_more(s);
    if ((s->flags & F_WANT_FLUSH) && !is_closed(s)) {
        s->flags &= (uint16_t)~F_WANT_FLUSH;
        flush_now(s);
        after_flush(s);
    }
    update_interest(s);
}

void tp_stream_set_transport(tp_stream *s, const tp_stream_transport *ops, void *ctx)
{
    stream_ext *x = ext_of(s);
    x->tr = ops;
    x->tr_ctx = ctx;
    s->flags = (uint16_t)(ops ? s->flags | F_TRANSPORT : s->flags & ~F_TRANSPORT);
    if (ops && ops->pending && ops->pending(ctx))
        s->flags |= F_READ_MORE; /* read with the handshake: delivered once someone reads */
}

void *tp_stream_transport_ctx(const tp_stream *s, const tp_stream_transport *ops)
{
    return (s->flags & F_TRANSPORT) && s->ext->tr == ops ? s->ext->tr_ctx : NULL;
}

void tp_stream_set_close_callback(tp_stream *s, tp_close_fn fn, void *arg)
{
    s->close_fn = fn;
    s->close_arg = arg;
    update_interest(s);
}

void tp_stream_close(tp_stream *s)
{
    close_with(s, 0);
}

void tp_stream_close_after_flush(tp_stream *s, double linger)
{
    if (s->state != ST_OPEN)
        return;
    set_state(s, ST_FLUSHING);
    if (linger > 0)
        ext_of(s)->linger = linger;
    s->data_fn = NULL;
    s->flags &= (uint16_t)~F_PAUSED;
    if (!tp_chain_segments(&s->out))
        start_linger(s);
    else
        want(s, F_WANT_FLUSH);
    update_interest(s);
}

bool tp_stream_closed(const tp_stream *s)
{
    return is_closed(s);
}

bool tp_stream_reading(const tp_stream *s)
{
    return read_kind(s) != R_NONE;
}

bool tp_stream_writing(const tp_stream *s)
{
    return tp_chain_segments(&s->out) != 0;
}

int tp_stream_fd(const tp_stream *s)
{
    return s->fd;
}

tp_loop *tp_stream_loop(const tp_stream *s)
{
    return s->loop;
}

size_t tp_stream_buffered(const tp_stream *s)
{
    return s->rlen + (scratch.owner == s ? scratch.n : 0);
}

int tp_stream_set_nodelay(tp_stream *s, bool on)
{
    int v = on;
    if (is_closed(s))
        return -EPIPE;
    return setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)) < 0 ? -errno : 0;
}
