/* IOStream: a non-blocking socket (or pipe) with a read buffer and an output chain.
 *
 * Reads: one pending read at a time, in Tornado's forms (until a delimiter, until a regex,
 * n bytes, until close), or a raw data handler for protocol parsers that consume what they
 * can. Data handed to a callback is valid only while the callback runs; the stream consumes
 * it afterwards. Writes are queued and flushed before the loop sleeps (or at once when a lot
 * is queued); write callbacks fire once their bytes are in the kernel.
 *
 * Closing: tp_stream_close closes the fd at once; pending callbacks then run with an error
 * status, the close callback runs last, and the stream is freed right after it. Owners drop
 * their pointer in the close callback. */
#ifndef TP_CORE_STREAM_H
#define TP_CORE_STREAM_H

#include "platform/api.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "core/loop.h"
#include "core/slice.h"

typedef struct tp_stream tp_stream;

/* status: 0 on success; -EPIPE closed before the read could be satisfied; -EMSGSIZE the
 * delimiter was not within max_bytes (the stream is closed); -ENOBUFS the read buffer hit
 * max_buffer_size (closed); other -errno from the socket. */
typedef void (*tp_read_fn)(tp_stream *s, int status, tp_slice data, void *arg);
/* status 0 when the bytes queued before this callback reached the kernel, or -errno. */
typedef void (*tp_write_fn)(tp_stream *s, int status, void *arg);
/* Called once, after the stream closed; `error` is 0 for a clean close or EOF, else -errno. */
typedef void (*tp_close_fn)(tp_stream *s, int error, void *arg);
/* Raw mode: sees every unconsumed byte (and eof once the peer shut down its side). Returns
 * how many bytes it consumed; it is called again when more arrive. */
typedef size_t (*tp_data_fn)(tp_stream *s, tp_slice data, bool eof, void *arg);

typedef struct tp_stream_opts {
    size_t max_buffer_size;       /* read buffer limit (default 100 MiB, at most 1 GiB) */
    size_t read_chunk_size;       /* bytes per read call (default 64 KiB, at most half the
                                     read buffer limit) */
    size_t max_write_buffer_size; /* 0: unlimited; else writes beyond it fail with -ENOBUFS */
} tp_stream_opts;

/* Wraps fd (made non-blocking; the stream owns and closes it). opts may be NULL. */
TP_API tp_stream *tp_stream_new(tp_loop *loop, int fd, const tp_stream_opts *opts);

/* Tornado-style reads. Each returns 0, -EBUSY if a read is already pending, or -EPIPE if the
 * stream is closed (fn is not called then). Callbacks always run from the loop, never from
 * inside these calls. max_bytes 0 means no limit but max_buffer_size. */
TP_API int tp_stream_read_until(tp_stream *s, tp_slice delim, size_t max_bytes, tp_read_fn fn,
                                void *arg);
/* Data through the end of the first match of a PCRE2 pattern (compiled per call). -EINVAL if
 * the pattern does not compile. */
TP_API int tp_stream_read_until_regex(tp_stream *s, const char *pattern, size_t max_bytes,
                                      tp_read_fn fn, void *arg);
/* Exactly n bytes, or with partial 1..n bytes as soon as any are there. n == 0 gives "". */
TP_API int tp_stream_read_bytes(tp_stream *s, size_t n, bool partial, tp_read_fn fn, void *arg);
/* Everything until the peer closes (bounded by max_buffer_size). */
TP_API int tp_stream_read_until_close(tp_stream *s, tp_read_fn fn, void *arg);

/* Raw mode: fn sees the data from now on (replacing any earlier handler; -EBUSY while a
 * Tornado-style read is pending). NULL stops it. */
TP_API int tp_stream_set_data_handler(tp_stream *s, tp_data_fn fn, void *arg);
/* Stops calling the data handler with data: bytes keep being buffered up to read_chunk_size
 * (then reading stops). The peer's EOF, if it is read meanwhile, is still reported once: the
 * handler is called with eof true (and the buffered bytes, which it may leave). */
TP_API void tp_stream_pause(tp_stream *s);
/* Calls the data handler again (before the loop sleeps if bytes are buffered). */
TP_API void tp_stream_resume(tp_stream *s);

/* Queues a copy of n bytes; fn (may be NULL) fires when they are written. 0, -EPIPE if
 * closed, -ENOBUFS over max_write_buffer_size. */
TP_API int tp_stream_write(tp_stream *s, const void *p, size_t n, tp_write_fn fn, void *arg);
/* Queues n bytes without copying; free_fn(free_arg) runs once they are sent or dropped. */
TP_API int tp_stream_write_ref(tp_stream *s, const void *p, size_t n, void (*free_fn)(void *),
                               void *free_arg, tp_write_fn fn, void *arg);
/* Queues n bytes of file fd from off, sent with sendfile; the stream closes fd afterwards
 * when close_fd. */
TP_API int tp_stream_sendfile(tp_stream *s, int fd, off_t off, size_t n, bool close_fd,
                              tp_write_fn fn, void *arg);
/* Bytes handed to the kernel since the stream was made. */
TP_API uint64_t tp_stream_bytes_written(const tp_stream *s);
/* Bytes still on their way out: queued here or unsent in the socket (SIOCOUTQ). */
TP_API uint64_t tp_stream_unsent(const tp_stream *s);
/* Bytes queued and not yet written. */
TP_API size_t tp_stream_pending_write(const tp_stream *s);

/* A transport between the stream and its socket (TLS): the stream's bytes go through it
 * instead of read/writev/sendfile. Each call returns bytes moved (> 0), 0 (read: EOF), -errno,
 * -EAGAIN to wait for the socket in the call's own direction, or TP_STREAM_WANT_READ /
 * TP_STREAM_WANT_WRITE to wait for the other one (a TLS read that must write first). */
#define TP_STREAM_WANT_READ  (-4097)
#define TP_STREAM_WANT_WRITE (-4098)
typedef struct tp_stream_transport {
    ssize_t (*read)(void *ctx, void *buf, size_t n);
    ssize_t (*writev)(void *ctx, const struct iovec *iov, int iovcnt);
    /* n bytes of file fd from off (a TLS transport preads them, or uses kTLS). */
    ssize_t (*sendfile)(void *ctx, int fd, off_t off, size_t n);
    /* Bytes the transport holds already read for the next read call (NULL: none ever). */
    size_t (*pending)(void *ctx);
    /* Before the stream shuts down its sending side (a TLS close_notify); may be NULL. */
    void (*shutdown)(void *ctx);
    /* The stream closed (the socket is still open during the call): free ctx. */
    void (*free)(void *ctx);
} tp_stream_transport;

/* Installs ops (static, not copied) with ctx; the stream owns ctx from now on and calls
 * ops->free once. Install before any byte is read or queued. */
TP_API void tp_stream_set_transport(tp_stream *s, const tp_stream_transport *ops, void *ctx);
/* The ctx installed with ops, or NULL when the stream has no transport or another one. */
TP_API void *tp_stream_transport_ctx(const tp_stream *s, const tp_stream_transport *ops);

/* Sets the close callback (see the file comment). */
TP_API void tp_stream_set_close_callback(tp_stream *s, tp_close_fn fn, void *arg);
/* Closes now: queued output is dropped. */
TP_API void tp_stream_close(tp_stream *s);
/* Writes what is queued, then shuts down the sending side and discards input for at most
 * `linger` seconds (so the peer reads the response before the reset), then closes. */
TP_API void tp_stream_close_after_flush(tp_stream *s, double linger);

TP_API bool tp_stream_closed(const tp_stream *s);
TP_API bool tp_stream_reading(const tp_stream *s);
TP_API bool tp_stream_writing(const tp_stream *s);
TP_API int tp_stream_fd(const tp_stream *s);
TP_API tp_loop *tp_stream_loop(const tp_stream *s);
/* Bytes read but not consumed yet. */
TP_API size_t tp_stream_buffered(const tp_stream *s);
/* TCP_NODELAY on or off; 0 or -errno. */
TP_API int tp_stream_set_nodelay(tp_stream *s, bool on);

#endif
