#define PCRE2_CODE_UNIT_WIDTH 8
#include "core/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pcre2.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/chain.h"
#include "core/log.h"

/* Above this much queued output a write flushes at once instead of before the loop sleeps. */
#define FLUSH_NOW_BYTES (64 * 1024)
/* Reads land in this per-thread buffer while the stream buffers nothing, so a request that is
 * consumed in full never allocates; leftovers are copied into the stream's own buffer. */
#define SCRATCH_SIZE (64 * 1024)

enum read_kind { R_NONE, R_UNTIL, R_REGEX, R_BYTES, R_CLOSE };

/* Allocated only while a Tornado-style read is pending: HTTP connections use the data
 * handler and never carry this state. */
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

struct tp_stream {
    tp_loop *loop;
    int fd;
    unsigned mask; /* events registered with the loop */
    bool closed, eof, paused, close_after_flush, lingering, freeing;
    bool write_blocked; /* the last flush hit EAGAIN: wait for WRITE readiness */
    int error;
    size_t max_buffer, chunk, max_write;

    tp_buf rbuf;
    const char *scratch; /* non-NULL while a read is delivered straight from scratch */
    size_t scratch_len;

    struct read_op *rd; /* the pending Tornado-style read, or NULL */
    tp_data_fn data_fn;
    void *data_arg;

    tp_chain out;
    write_waiter *waiters;
    size_t nwaiters, cap_waiters;
    uint64_t queued_total, written_total;

    tp_close_fn close_fn;
    void *close_arg;
    tp_defer work_hook, close_hook; /* work: dispatch and/or flush before the loop sleeps */
    bool want_dispatch, want_flush;
    tp_timer linger_timer;
    double linger;
};

static __thread char *scratch_buf;

static void on_event(tp_loop *loop, int fd, unsigned events, void *arg);
static void work_hook(tp_loop *loop, void *arg);
static void close_hook(tp_loop *loop, void *arg);
static void linger_expired(tp_loop *loop, void *arg);
static void close_with(tp_stream *s, int error);

tp_stream *tp_stream_new(tp_loop *loop, int fd, const tp_stream_opts *o)
{
    tp_stream *s = tp_calloc(1, sizeof(*s));
    s->loop = loop;
    s->fd = fd;
    s->max_buffer = o && o->max_buffer_size ? o->max_buffer_size : 100u << 20;
    s->chunk = o && o->read_chunk_size ? o->read_chunk_size : 64u << 10;
    if (s->chunk > s->max_buffer / 2 && s->max_buffer >= 2)
        s->chunk = s->max_buffer / 2;
    s->max_write = o ? o->max_write_buffer_size : 0;
    s->work_hook = (tp_defer){.fn = work_hook, .arg = s};
    s->close_hook = (tp_defer){.fn = close_hook, .arg = s};
    tp_timer_init(&s->linger_timer, linger_expired, s);
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && !(fl & O_NONBLOCK))
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    tp_loop_add_fd(loop, fd, 0, on_event, s);
    return s;
}

static void want_dispatch(tp_stream *s)
{
    s->want_dispatch = true;
    tp_loop_defer(s->loop, &s->work_hook);
}

static void want_flush(tp_stream *s)
{
    s->want_flush = true;
    tp_loop_defer(s->loop, &s->work_hook);
}

static enum read_kind read_kind(const tp_stream *s)
{
    return s->rd ? s->rd->kind : R_NONE;
}

/* ---- interest ---------------------------------------------------------------------------- */

static bool wants_read(const tp_stream *s)
{
    if (s->closed || s->eof)
        return false;
    if (s->lingering || read_kind(s) != R_NONE)
        return true;
    if (s->data_fn && !s->paused)
        return true;
    /* Idle or paused: watch for the peer closing, buffering at most one chunk ahead. */
    return (s->data_fn || s->close_fn) && s->rbuf.len < s->chunk;
}

static void update_interest(tp_stream *s)
{
    if (s->closed)
        return;
    /* WRITE is wanted only after a write hit EAGAIN: a flush always tries first. */
    unsigned want = (wants_read(s) ? TP_READ : 0) | (s->write_blocked ? TP_WRITE : 0);
    if (want != s->mask && tp_loop_update_fd(s->loop, s->fd, want) == 0)
        s->mask = want;
}

/* ---- reading ----------------------------------------------------------------------------- */

static tp_slice current(const tp_stream *s)
{
    if (s->scratch)
        return (tp_slice){s->scratch, s->scratch_len};
    return tp_buf_slice(&s->rbuf);
}

static void consume(tp_stream *s, size_t n)
{
    if (s->scratch) {
        s->scratch += n;
        s->scratch_len -= n;
    } else {
        tp_buf_consume(&s->rbuf, n);
    }
}

/* Where a pending Tornado-style read would end in `d`: >= 0 bytes to deliver, -EAGAIN not
 * yet, or another negative status when it can never be satisfied. */
static ssize_t read_target(tp_stream *s, tp_slice d)
{
    switch (s->rd->kind) {
    case R_BYTES:
        if (s->rd->partial && d.n)
            return (ssize_t)(d.n < s->rd->n ? d.n : s->rd->n);
        return d.n >= s->rd->n ? (ssize_t)s->rd->n : -EAGAIN;
    case R_CLOSE: return s->eof || s->closed ? (ssize_t)d.n : -EAGAIN;
    case R_UNTIL: {
        size_t from = s->rd->scanned;
        const char *hit =
            d.n > from ? memmem(d.p + from, d.n - from, s->rd->delim.p, s->rd->delim.n) : NULL;
        if (hit) {
            size_t end = (size_t)(hit - d.p) + s->rd->delim.n;
            return s->rd->max && end > s->rd->max ? -EMSGSIZE : (ssize_t)end;
        }
        s->rd->scanned = d.n >= s->rd->delim.n ? d.n - s->rd->delim.n + 1 : 0;
        return s->rd->max && d.n >= s->rd->max ? -EMSGSIZE : -EAGAIN;
    }
    case R_REGEX: {
        int r = pcre2_match(s->rd->re, (PCRE2_SPTR)d.p, d.n, 0, 0, s->rd->md, NULL);
        if (r >= 0) {
            size_t end = pcre2_get_ovector_pointer(s->rd->md)[1];
            return s->rd->max && end > s->rd->max ? -EMSGSIZE : (ssize_t)end;
        }
        return s->rd->max && d.n >= s->rd->max ? -EMSGSIZE : -EAGAIN;
    }
    case R_NONE: break;
    }
    return -EAGAIN;
}

static void clear_read(tp_stream *s)
{
    if (!s->rd)
        return;
    if (s->rd->re) {
        pcre2_match_data_free(s->rd->md);
        pcre2_code_free(s->rd->re);
    }
    tp_free(s->rd);
    s->rd = NULL;
}

/* Ends the pending read: its callback gets status and data. */
static void finish_read(tp_stream *s, int status, tp_slice data)
{
    tp_read_fn fn = s->rd->fn;
    void *arg = s->rd->arg;
    clear_read(s);
    fn(s, status, data, arg);
}

/* Runs the pending read's callback if the buffer can satisfy it. Returns true if it ran. */
static bool try_read(tp_stream *s)
{
    tp_slice d = current(s);
    ssize_t n = read_target(s, d);
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

/* Hands buffered data to whoever reads: pending reads (repeatedly, as each callback may start
 * the next read) or the data handler (once per call). */
static void deliver(tp_stream *s)
{
    while (!s->freeing) {
        if (read_kind(s) != R_NONE) {
            if (try_read(s))
                continue;
            if (s->eof) {
                finish_read(s, -EPIPE, TP_SLICE_NULL);
                close_with(s, 0);
            }
            break;
        }
        if (s->data_fn && !s->paused && !s->closed) {
            tp_slice d = current(s);
            if (!d.n && !s->eof)
                break;
            size_t used = s->data_fn(s, d, s->eof, s->data_arg);
            consume(s, used > d.n ? d.n : used);
            break;
        }
        if (s->eof && !s->data_fn && !s->closed && !s->close_after_flush)
            close_with(s, 0); /* nobody will read again: Tornado closes on EOF */
        break;
    }
}

static void read_some(tp_stream *s)
{
    if (!scratch_buf)
        scratch_buf = tp_malloc(SCRATCH_SIZE);
    ssize_t n;
    bool direct = s->lingering || (s->rbuf.len == 0 && s->chunk <= SCRATCH_SIZE);
    if (direct) {
        n = read(s->fd, scratch_buf, s->chunk < SCRATCH_SIZE ? s->chunk : SCRATCH_SIZE);
    } else {
        if (s->rbuf.len >= s->max_buffer) {
            tp_log_info("Reached maximum read buffer size");
            close_with(s, -ENOBUFS);
            return;
        }
        char *p = tp_buf_reserve(&s->rbuf, s->chunk);
        n = read(s->fd, p, s->chunk);
        if (n > 0)
            tp_buf_commit(&s->rbuf, (size_t)n);
    }
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR)
            close_with(s, -errno);
        return;
    }
    if (s->lingering) {
        if (n == 0)
            close_with(s, 0);
        return;
    }
    if (n == 0)
        s->eof = true;
    if (direct && n > 0) {
        s->scratch = scratch_buf;
        s->scratch_len = (size_t)n;
    }
    deliver(s);
    if (s->scratch) {
        if (s->scratch_len && !s->closed)
            tp_buf_append(&s->rbuf, s->scratch, s->scratch_len);
        s->scratch = NULL;
        s->scratch_len = 0;
    }
}

/* A new pending read, or NULL with *err set (-EPIPE closed, -EBUSY one is pending). */
static read_op *new_read(tp_stream *s, int *err)
{
    if (s->closed || s->rd) {
        *err = s->closed ? -EPIPE : -EBUSY;
        return NULL;
    }
    s->rd = tp_calloc(1, sizeof(*s->rd));
    return s->rd;
}

static int start_read(tp_stream *s, enum read_kind kind, tp_read_fn fn, void *arg)
{
    s->rd->kind = kind;
    s->rd->fn = fn;
    s->rd->arg = arg;
    /* Satisfied from the buffer (or failed at EOF) before the loop sleeps; never inline. */
    want_dispatch(s);
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
    return start_read(s, R_UNTIL, fn, arg);
}

int tp_stream_read_until_regex(tp_stream *s, const char *pattern, size_t max_bytes, tp_read_fn fn,
                               void *arg)
{
    int err;
    PCRE2_SIZE off;
    if (s->closed || s->rd)
        return s->closed ? -EPIPE : -EBUSY;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
    if (!re)
        return -EINVAL;
    read_op *rd = new_read(s, &err);
    rd->re = re;
    rd->md = pcre2_match_data_create_from_pattern(re, NULL);
    rd->max = max_bytes;
    return start_read(s, R_REGEX, fn, arg);
}

int tp_stream_read_bytes(tp_stream *s, size_t n, bool partial, tp_read_fn fn, void *arg)
{
    int err;
    read_op *rd = new_read(s, &err);
    if (!rd)
        return err;
    rd->n = n;
    rd->partial = partial;
    return start_read(s, R_BYTES, fn, arg);
}

int tp_stream_read_until_close(tp_stream *s, tp_read_fn fn, void *arg)
{
    int err;
    return new_read(s, &err) ? start_read(s, R_CLOSE, fn, arg) : err;
}

int tp_stream_set_data_handler(tp_stream *s, tp_data_fn fn, void *arg)
{
    if (s->closed)
        return -EPIPE;
    if (read_kind(s) != R_NONE)
        return -EBUSY;
    s->data_fn = fn;
    s->data_arg = arg;
    s->paused = false;
    if (fn && (s->rbuf.len || s->eof))
        want_dispatch(s);
    update_interest(s);
    return 0;
}

void tp_stream_pause(tp_stream *s)
{
    s->paused = true;
    update_interest(s);
}

void tp_stream_resume(tp_stream *s)
{
    if (s->closed)
        return;
    s->paused = false;
    if (s->rbuf.len || s->eof)
        want_dispatch(s);
    update_interest(s);
}

/* ---- writing ----------------------------------------------------------------------------- */

/* Runs the write callbacks whose bytes reached the kernel (status 0), and with an error
 * status (the stream closed) all the others too. */
static void fire_waiters(tp_stream *s, int status)
{
    size_t i = 0;
    while (i < s->nwaiters && (status || s->waiters[i].target <= s->written_total)) {
        write_waiter w = s->waiters[i++];
        w.fn(s, w.target <= s->written_total ? 0 : status, w.arg);
    }
    if (i && i < s->nwaiters)
        memmove(s->waiters, s->waiters + i, (s->nwaiters - i) * sizeof(*s->waiters));
    s->nwaiters -= i;
    if (!s->nwaiters) {
        tp_free(s->waiters);
        s->waiters = NULL;
        s->cap_waiters = 0;
    }
}

static void start_linger(tp_stream *s)
{
    if (s->linger <= 0 || shutdown(s->fd, SHUT_WR) < 0) {
        close_with(s, 0);
        return;
    }
    s->lingering = true;
    s->data_fn = NULL;
    tp_buf_free(&s->rbuf);
    tp_timer_start_at(s->loop, &s->linger_timer, tp_loop_time(s->loop) + s->linger);
}

/* Writes until the chain is empty or the socket is full; never runs callbacks. */
static void flush_now(tp_stream *s)
{
    while (!s->closed && s->out.n) {
        ssize_t r = tp_chain_write(&s->out, s->fd);
        if (r >= 0) {
            tp_chain_consume(&s->out, (size_t)r);
            s->written_total += (uint64_t)r;
        } else if (r == -EINTR) {
            continue;
        } else if (r == -EAGAIN) {
            s->write_blocked = true;
            return;
        } else {
            close_with(s, (int)r);
            return;
        }
    }
    if (s->closed)
        return;
    s->write_blocked = false;
    if (s->close_after_flush && !s->lingering)
        start_linger(s);
}

static void after_flush(tp_stream *s)
{
    if (!s->closed)
        fire_waiters(s, 0);
    update_interest(s);
}

/* Deferred work, in order: hand buffered data to the reader, then write what it queued. */
static void work_hook(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_stream *s = arg;
    if (s->closed)
        return;
    if (s->want_dispatch) {
        s->want_dispatch = false;
        deliver(s);
    }
    if (s->want_flush && !s->closed) {
        s->want_flush = false;
        flush_now(s);
        after_flush(s);
    }
    update_interest(s);
}

static int queued(tp_stream *s, size_t n, tp_write_fn fn, void *arg)
{
    s->queued_total += n;
    if (fn) {
        if (s->nwaiters == s->cap_waiters) {
            s->cap_waiters = s->cap_waiters ? s->cap_waiters * 2 : 4;
            s->waiters = tp_realloc(s->waiters, s->cap_waiters * sizeof(*s->waiters));
        }
        s->waiters[s->nwaiters++] = (write_waiter){s->queued_total, fn, arg};
    }
    if (s->out.bytes >= FLUSH_NOW_BYTES)
        flush_now(s);
    if (!s->closed)
        want_flush(s);
    return 0;
}

static int check_write(tp_stream *s, size_t n)
{
    if (s->closed || s->close_after_flush)
        return -EPIPE;
    if (s->max_write && s->out.bytes + n > s->max_write)
        return -ENOBUFS;
    return 0;
}

int tp_stream_write(tp_stream *s, const void *p, size_t n, tp_write_fn fn, void *arg)
{
    int r = check_write(s, n);
    if (r < 0)
        return r;
    tp_chain_append(&s->out, p, n);
    return queued(s, n, fn, arg);
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
    return queued(s, n, fn, arg);
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
    return queued(s, n, fn, arg);
}

uint64_t tp_stream_bytes_written(const tp_stream *s)
{
    return s->written_total;
}

uint64_t tp_stream_unsent(const tp_stream *s)
{
    int queued = 0;
    if (s->closed || ioctl(s->fd, SIOCOUTQ, &queued) < 0 || queued < 0)
        queued = 0;
    return s->out.bytes + (uint64_t)queued;
}

size_t tp_stream_pending_write(const tp_stream *s)
{
    return s->out.bytes;
}

/* ---- events and closing ------------------------------------------------------------------ */

static void on_event(tp_loop *loop, int fd, unsigned events, void *arg)
{
    (void)loop, (void)fd;
    tp_stream *s = arg;
    if (events & TP_WRITE) {
        flush_now(s);
        if (!s->closed)
            fire_waiters(s, 0);
    }
    if (!s->closed && (events & (TP_READ | TP_ERROR_EVENTS))) {
        read_some(s);
        /* Answer this client now rather than after every other ready fd was served: the
         * same one write (all pipelined responses of this read), less latency. */
        if (!s->closed && s->out.n && !s->write_blocked) {
            flush_now(s);
            after_flush(s);
            return;
        }
    }
    update_interest(s);
}

static void linger_expired(tp_loop *loop, void *arg)
{
    (void)loop;
    close_with(arg, 0);
}

static void close_with(tp_stream *s, int error)
{
    if (s->closed)
        return;
    s->closed = true;
    s->error = error;
    tp_loop_remove_fd(s->loop, s->fd);
    close(s->fd);
    s->fd = -1;
    tp_timer_stop(s->loop, &s->linger_timer);
    tp_chain_free(&s->out);
    tp_loop_defer(s->loop, &s->close_hook);
}

/* The last stage: pending callbacks learn of the close, then the close callback, then the
 * memory goes. Deferred hooks of this stream queued behind us run (as no-ops) first. */
static void close_hook(tp_loop *loop, void *arg)
{
    tp_stream *s = arg;
    if (s->freeing) {
        if (s->work_hook.queued) {
            tp_loop_defer(loop, &s->close_hook);
            return;
        }
        tp_buf_free(&s->rbuf);
        tp_free(s);
        return;
    }
    if (read_kind(s) != R_NONE && !try_read(s))
        finish_read(s, s->error ? s->error : -EPIPE, TP_SLICE_NULL);
    clear_read(s);
    fire_waiters(s, s->error ? s->error : -EPIPE);
    s->freeing = true;
    if (s->close_fn)
        s->close_fn(s, s->error, s->close_arg);
    tp_loop_defer(loop, &s->close_hook);
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
    if (s->closed || s->close_after_flush)
        return;
    s->close_after_flush = true;
    s->linger = linger;
    s->data_fn = NULL;
    s->paused = false;
    if (!s->out.n)
        start_linger(s);
    else
        want_flush(s);
    update_interest(s);
}

bool tp_stream_closed(const tp_stream *s)
{
    return s->closed;
}

bool tp_stream_reading(const tp_stream *s)
{
    return read_kind(s) != R_NONE;
}

bool tp_stream_writing(const tp_stream *s)
{
    return s->out.n != 0;
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
    return s->rbuf.len + (s->scratch ? s->scratch_len : 0);
}

int tp_stream_set_nodelay(tp_stream *s, bool on)
{
    int v = on;
    if (s->closed)
        return -EPIPE;
    return setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)) < 0 ? -errno : 0;
}
