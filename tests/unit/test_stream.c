/* IOStream (core/stream.h) over a Unix socketpair: the stream owns one end, the test writes
 * and reads the other end directly, from loop callbacks and timers. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/stream.h"
#include "tests/unit/suites.h"

/* ---- fixture ----------------------------------------------------------------------------- */

static struct {
    tp_loop *loop;
    tp_stream *s; /* NULL once the close callback ran (the stream is freed right after) */
    int peer;
    int closes, close_err;
    int read_status;
    int frees;
    char trace[64];
} F;

static void mark(char c)
{
    size_t n = strlen(F.trace);
    ck_assert_uint_lt(n, sizeof(F.trace) - 1);
    F.trace[n] = c;
    F.trace[n + 1] = '\0';
}

static void on_close(tp_stream *s, int error, void *arg)
{
    (void)arg;
    ck_assert_ptr_eq(s, F.s);
    ck_assert(tp_stream_closed(s));
    F.closes++;
    F.close_err = error;
    F.s = NULL;
    mark('C');
    tp_loop_stop(tp_stream_loop(s));
}

static void fx_init(const tp_stream_opts *opts)
{
    int sv[2];
    memset(&F, 0, sizeof(F));
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    F.loop = tp_loop_new();
    ck_assert_ptr_nonnull(F.loop);
    F.s = tp_stream_new(F.loop, sv[0], opts);
    ck_assert_ptr_nonnull(F.s);
    ck_assert_int_eq(tp_stream_fd(F.s), sv[0]);
    ck_assert_ptr_eq(tp_stream_loop(F.s), F.loop);
    ck_assert(fcntl(sv[0], F_GETFL) & O_NONBLOCK);
    F.peer = sv[1];
    tp_stream_set_close_callback(F.s, on_close, NULL);
}

static void stop_cb(tp_loop *loop, void *arg)
{
    (void)arg;
    tp_loop_stop(loop);
}

/* One loop iteration: callbacks, deferred work (flushes, close hooks), a zero-timeout poll. */
static void spin_once(void)
{
    tp_loop_add_callback(F.loop, stop_cb, NULL);
    ck_assert_int_eq(tp_loop_run(F.loop), 0);
}

/* Closes the stream if the test left it open, checks the close callback ran exactly once and
 * the loop holds nothing any more, and frees everything. */
static void fx_done(void)
{
    if (F.s) {
        tp_stream_close(F.s);
        spin_once();
    }
    ck_assert_ptr_null(F.s);
    ck_assert_int_eq(F.closes, 1);
    if (F.peer >= 0)
        close(F.peer);
    spin_once();
    ck_assert_int_eq(F.closes, 1);
    ck_assert_uint_eq(tp_loop_live_handles(F.loop), 0);
    tp_loop_free(F.loop);
}

static void nothing(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
}

/* Calls start (which sets up reads, writes and the timers that play the peer), then runs the
 * loop until a callback stops it. The timers are armed before the loop runs so that these
 * tests exercise the stream, whatever the loop does with timers armed from callbacks (that is
 * test_loop.c's business). */
static void run(tp_fn start, void *arg)
{
    start(F.loop, arg);
    ck_assert_int_eq(tp_loop_run_sync(F.loop, nothing, NULL, 5), 0);
}

static void peer_send(const char *s)
{
    size_t n = strlen(s);
    ck_assert_int_eq(send(F.peer, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void send_cb(tp_loop *loop, void *arg)
{
    (void)loop;
    peer_send(arg);
}

static void close_peer_cb(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    close(F.peer);
    F.peer = -1;
}

static int slice_is(tp_slice s, const char *want)
{
    return s.n == strlen(want) && memcmp(s.p, want, s.n) == 0;
}

#define ck_assert_slice(s, want)                                                                   \
    ck_assert_msg(slice_is((s), (want)), "got '%.*s', want '%s'", TP_SLICE_FMT(s), (want))

static void count_free(void *arg)
{
    ck_assert_ptr_eq(arg, &F.frees);
    F.frees++;
}

/* ---- big data: pattern bytes and peer pumps driven by timers ----------------------------- */

#define BIG (4u << 20)
static unsigned char pattern[BIG + 4096];

static void init_pattern(void)
{
    for (size_t i = 0; i < sizeof(pattern); i++)
        pattern[i] = (unsigned char)((i * 7 + i / 253) % 251);
}

typedef struct pump pump;
struct pump {
    tp_timer t;
    unsigned char *buf; /* reader: where bytes go */
    size_t cap, n;      /* reader: capacity, bytes so far; writer: bytes sent */
    const unsigned char *src;
    size_t src_len;
    size_t per_tick;
    bool to_eof, eof, shut;
    void (*done)(tp_loop *loop, pump *p);
};

static void reader_tick(tp_loop *loop, void *arg)
{
    pump *p = arg;
    size_t budget = p->per_tick;
    while (budget && !p->eof) {
        size_t want = p->cap - p->n < budget ? p->cap - p->n : budget;
        if (want == 0) {
            char c;
            ssize_t r = recv(F.peer, &c, 1, MSG_DONTWAIT);
            ck_assert_msg(r <= 0, "more bytes than expected");
            p->eof = r == 0;
            break;
        }
        ssize_t r = recv(F.peer, p->buf + p->n, want, MSG_DONTWAIT);
        if (r > 0) {
            p->n += (size_t)r;
            budget -= (size_t)r;
        } else if (r == 0) {
            p->eof = true;
        } else {
            ck_assert_int_eq(errno, EAGAIN);
            break;
        }
    }
    if (p->to_eof ? p->eof : p->n == p->cap)
        p->done(loop, p);
    else
        tp_timer_start_at(loop, &p->t, tp_loop_time(loop) + 0.001);
}

static void start_reader(pump *p, size_t cap, size_t per_tick, bool to_eof,
                         void (*done)(tp_loop *, pump *))
{
    *p = (pump){.cap = cap, .per_tick = per_tick, .to_eof = to_eof, .done = done};
    p->buf = malloc(cap ? cap : 1);
    ck_assert_ptr_nonnull(p->buf);
    tp_timer_init(&p->t, reader_tick, p);
    tp_timer_start_at(F.loop, &p->t, tp_loop_time(F.loop) + 0.001);
}

static void writer_tick(tp_loop *loop, void *arg)
{
    pump *p = arg;
    size_t budget = p->per_tick;
    while (budget && p->n < p->src_len) {
        size_t want = p->src_len - p->n < budget ? p->src_len - p->n : budget;
        ssize_t r = send(F.peer, p->src + p->n, want, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r < 0) {
            ck_assert_int_eq(errno, EAGAIN);
            break;
        }
        p->n += (size_t)r;
        budget -= (size_t)r;
    }
    if (p->n < p->src_len)
        tp_timer_start_at(loop, &p->t, tp_loop_time(loop) + 0.001);
    else if (p->shut)
        ck_assert_int_eq(shutdown(F.peer, SHUT_WR), 0);
}

static void start_writer(pump *p, const unsigned char *src, size_t len, size_t per_tick, bool shut)
{
    *p = (pump){.src = src, .src_len = len, .per_tick = per_tick, .shut = shut};
    tp_timer_init(&p->t, writer_tick, p);
    tp_timer_start_at(F.loop, &p->t, tp_loop_time(F.loop));
}

/* ---- read_until -------------------------------------------------------------------------- */

static void until_second(tp_stream *s, int status, tp_slice d, void *arg)
{
    (void)s, (void)arg;
    ck_assert_int_eq(status, 0);
    ck_assert_slice(d, "rest");
    mark('2');
    tp_loop_stop(F.loop);
}

static void until_first(tp_stream *s, int status, tp_slice d, void *arg)
{
    (void)arg;
    ck_assert_int_eq(status, 0);
    ck_assert_slice(d, "abc\r\n\r\n");
    mark('1');
    ck_assert(!tp_stream_reading(s));
    ck_assert_int_eq(tp_stream_read_bytes(s, 4, false, until_second, NULL), 0);
    ck_assert_str_eq(F.trace, "1"); /* satisfiable at once, but never run inline */
}

static void until_check_then_send(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    /* The first part was read and kept while the delimiter was incomplete. */
    ck_assert_uint_eq(tp_stream_buffered(F.s), 6);
    ck_assert(tp_stream_reading(F.s));
    ck_assert_str_eq(F.trace, "");
    peer_send("\nrest");
}

static void until_start(tp_loop *loop, void *arg)
{
    (void)arg;
    ck_assert_int_eq(tp_stream_read_until(F.s, TP_SLICE_LIT("\r\n\r\n"), 0, until_first, NULL), 0);
    peer_send("abc\r\n\r");
    tp_loop_call_later(loop, 0.03, until_check_then_send, NULL);
}

START_TEST(read_until_split_delimiter)
{
    fx_init(NULL);
    run(until_start, NULL);
    ck_assert_str_eq(F.trace, "12");
    fx_done();
}
END_TEST

static void until_max_cb(tp_stream *s, int status, tp_slice d, void *arg)
{
    (void)arg;
    F.read_status = status;
    if (status == 0) {
        ck_assert_slice(d, "0123456\n");
        tp_loop_stop(F.loop);
    } else {
        ck_assert_uint_eq(d.n, 0);
        ck_assert(tp_stream_closed(s));
    }
    mark('R');
}

static void until_max_start(tp_loop *loop, void *arg)
{
    (void)loop;
    ck_assert_int_eq(tp_stream_read_until(F.s, TP_SLICE_LIT("\n"), 8, until_max_cb, NULL), 0);
    peer_send(arg);
}

START_TEST(read_until_max_bytes)
{
    /* No delimiter within max_bytes: -EMSGSIZE, then the stream closes. */
    fx_init(NULL);
    run(until_max_start, "0123456789abcdef");
    ck_assert_int_eq(F.read_status, -EMSGSIZE);
    ck_assert_str_eq(F.trace, "RC");
    ck_assert_int_eq(F.close_err, -EMSGSIZE);
    fx_done();

    /* A delimiter beyond max_bytes is no better. */
    fx_init(NULL);
    run(until_max_start, "0123456789\n");
    ck_assert_int_eq(F.read_status, -EMSGSIZE);
    ck_assert_str_eq(F.trace, "RC");
    fx_done();

    /* Ending exactly at max_bytes is fine. */
    fx_init(NULL);
    run(until_max_start, "0123456\nmore");
    ck_assert_int_eq(F.read_status, 0);
    ck_assert_str_eq(F.trace, "R");
    ck_assert_uint_eq(tp_stream_buffered(F.s), 4);
    fx_done();
}
END_TEST

/* ---- read_until_regex -------------------------------------------------------------------- */

static void regex_body(tp_stream *s, int status, tp_slice d, void *arg)
{
    (void)s, (void)arg;
    ck_assert_int_eq(status, 0);
    ck_assert_slice(d, "BODY");
    mark('b');
    tp_loop_stop(F.loop);
}

static void regex_head(tp_stream *s, int status, tp_slice d, void *arg)
{
    (void)arg;
    ck_assert_int_eq(status, 0);
    ck_assert_slice(d, "GET\nA: b\r\n\r\n");
    mark('h');
    ck_assert_int_eq(tp_stream_read_bytes(s, 4, false, regex_body, NULL), 0);
}

static void regex_start(tp_loop *loop, void *arg)
{
    (void)arg;
    ck_assert_int_eq(tp_stream_read_until_regex(F.s, "(", 0, regex_head, NULL), -EINVAL);
    ck_assert(!tp_stream_reading(F.s));
    ck_assert_int_eq(tp_stream_read_until_regex(F.s, "\r?\n\r?\n", 0, regex_head, NULL), 0);
    ck_assert(tp_stream_reading(F.s));
    peer_send("GET\nA: b\r\n");
    tp_loop_call_later(loop, 0.02, send_cb, "\r\nBODY");
}

START_TEST(read_until_regex)
{
    fx_init(NULL);
    run(regex_start, NULL);
    ck_assert_str_eq(F.trace, "hb");
    fx_done();
}
END_TEST

static void regex_max_cb(tp_stream *s, int status, tp_slice d, void *arg)
{
    (void)s, (void)arg;
    F.read_status = status;
    ck_assert_uint_eq(d.n, 0);
    mark('R');
}

static void regex_max_start(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    ck_assert_int_eq(tp_stream_read_until_regex(F.s, "b+", 10, regex_max_cb, NULL), 0);
    peer_send("aaaaaaaaaaaaaaaaaaaab");
}

START_TEST(read_until_regex_max_bytes)
{
    fx_init(NULL);
    run(regex_max_start, NULL);
    ck_assert_int_eq(F.read_status, -EMSGSIZE);
    ck_assert_str_eq(F.trace, "RC");
    ck_assert_int_eq(F.close_err, -EMSGSIZE);
    fx_done();
}
END_TEST

/* ---- read_bytes -------------------------------------------------------------------------- */

static void bytes_rest(tp_stream *s, int status, tp_slice d, void *arg)
{
    (void)s, (void)arg;
    ck_assert_int_eq(status, 0);
    ck_assert_slice(d, "h");
    mark('3');
    tp_loop_stop(F.loop);
}

static void bytes_partial(tp_stream *s, int status, tp_slice d, void *arg)
{
    (void)arg;
    ck_assert_int_eq(status, 0);
    ck_assert_slice(d, "g");
    mark('2');
    /* Partial: what is there, up to n. */
    ck_assert_int_eq(tp_stream_read_bytes(s, 100, true, bytes_rest, NULL), 0);
}

static void bytes_exact(tp_stream *s, int status, tp_slice d, void *arg)
{
    (void)arg;
    ck_assert_int_eq(status, 0);
    ck_assert_slice(d, "abcdef");
    mark('1');
    ck_assert_int_eq(tp_stream_read_bytes(s, 1, true, bytes_partial, NULL), 0);
}

static void bytes_check_then_send(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    ck_assert_str_eq(F.trace, ""); /* 3 of 6 bytes: still waiting */
    ck_assert(tp_stream_reading(F.s));
    ck_assert_uint_eq(tp_stream_buffered(F.s), 3);
    peer_send("defgh");
}

static void bytes_start(tp_loop *loop, void *arg)
{
    (void)arg;
    ck_assert_int_eq(tp_stream_read_bytes(F.s, 6, false, bytes_exact, NULL), 0);
    peer_send("abc");
    tp_loop_call_later(loop, 0.03, bytes_check_then_send, NULL);
}

START_TEST(read_bytes_exact_and_partial)
{
    fx_init(NULL);
    run(bytes_start, NULL);
    ck_assert_str_eq(F.trace, "123");
    ck_assert_uint_eq(tp_stream_buffered(F.s), 0);
    fx_done();
}
END_TEST

static void zero_cb(tp_stream *s, int status, tp_slice d, void *arg)
{
    (void)s, (void)arg;
    ck_assert_int_eq(status, 0);
    ck_assert_uint_eq(d.n, 0);
    mark('0');
    tp_loop_stop(F.loop);
}

static void zero_start(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    ck_assert_int_eq(tp_stream_read_bytes(F.s, 0, false, zero_cb, NULL), 0);
    ck_assert_str_eq(F.trace, "");
}

START_TEST(read_bytes_zero)
{
    fx_init(NULL);
    run(zero_start, NULL);
    ck_assert_str_eq(F.trace, "0");
    fx_done();
}
END_TEST

/* ---- read_until_close -------------------------------------------------------------------- */

static pump wpump, rpump;

static void close_read_cb(tp_stream *s, int status, tp_slice d, void *arg)
{
    (void)s;
    ck_assert_int_eq(status, 0);
    size_t want = *(size_t *)arg;
    ck_assert_uint_eq(d.n, want);
    ck_assert_int_eq(memcmp(d.p, pattern, want), 0);
    mark('R');
}

static void close_read_start(tp_loop *loop, void *arg)
{
    (void)loop;
    ck_assert_int_eq(tp_stream_read_until_close(F.s, close_read_cb, arg), 0);
    start_writer(&wpump, pattern, *(size_t *)arg, 64 << 10, true);
}

START_TEST(read_until_close)
{
    init_pattern();
    size_t n = 300000;
    fx_init(NULL);
    run(close_read_start, &n);
    /* The data, then the close (EOF with nobody reading closes the stream, as Tornado). */
    ck_assert_str_eq(F.trace, "RC");
    ck_assert_int_eq(F.close_err, 0);
    fx_done();

    n = 5;
    fx_init(NULL);
    run(close_read_start, &n);
    ck_assert_str_eq(F.trace, "RC");
    fx_done();
}
END_TEST

/* ---- one read at a time ------------------------------------------------------------------ */

static void busy_after(tp_stream *s, int status, tp_slice d, void *arg)
{
    (void)s, (void)arg;
    ck_assert_int_eq(status, -EPIPE);
    ck_assert_uint_eq(d.n, 0);
    mark('E');
}

static void busy_first(tp_stream *s, int status, tp_slice d, void *arg)
{
    (void)arg;
    ck_assert_int_eq(status, 0);
    ck_assert_slice(d, "line\n");
    mark('R');
    /* The next read may start once the callback began; it stays pending until the close. */
    ck_assert_int_eq(tp_stream_read_bytes(s, 1, false, busy_after, NULL), 0);
    tp_loop_stop(F.loop);
}

static size_t nop_data_fn(tp_stream *s, tp_slice d, bool eof, void *arg)
{
    (void)s, (void)d, (void)eof, (void)arg;
    return 0;
}

static void busy_start(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    tp_stream *s = F.s;
    ck_assert_int_eq(tp_stream_read_until(s, TP_SLICE_LIT(""), 0, busy_first, NULL), -EINVAL);
    ck_assert_int_eq(
        tp_stream_read_until(s, TP_SLICE_LIT("0123456789abcdefg"), 0, busy_first, NULL), -EINVAL);
    ck_assert_int_eq(tp_stream_read_until(s, TP_SLICE_LIT("\n"), 0, busy_first, NULL), 0);
    ck_assert_int_eq(tp_stream_read_until(s, TP_SLICE_LIT("x"), 0, busy_first, NULL), -EBUSY);
    ck_assert_int_eq(tp_stream_read_bytes(s, 1, false, busy_first, NULL), -EBUSY);
    ck_assert_int_eq(tp_stream_read_bytes(s, 1, true, busy_first, NULL), -EBUSY);
    ck_assert_int_eq(tp_stream_read_until_regex(s, "x", 0, busy_first, NULL), -EBUSY);
    ck_assert_int_eq(tp_stream_read_until_close(s, busy_first, NULL), -EBUSY);
    ck_assert_int_eq(tp_stream_set_data_handler(s, nop_data_fn, NULL), -EBUSY);
    peer_send("line\n");
}

START_TEST(second_read_is_busy)
{
    fx_init(NULL);
    run(busy_start, NULL);
    ck_assert_str_eq(F.trace, "R");
    ck_assert(tp_stream_reading(F.s));
    /* Closing: the pending read learns first, then the close callback. */
    tp_stream_close(F.s);
    spin_once();
    ck_assert_str_eq(F.trace, "REC");
    fx_done();
}
END_TEST

/* ---- data handler ------------------------------------------------------------------------ */

static int data_calls;

static size_t data_fn(tp_stream *s, tp_slice d, bool eof, void *arg)
{
    ck_assert_ptr_eq(arg, &data_calls);
    data_calls++;
    if (data_calls == 1) {
        ck_assert_slice(d, "hello");
        ck_assert(!eof);
        tp_stream_pause(s);
        return 2; /* leaves "llo" */
    }
    if (data_calls == 2) {
        ck_assert_slice(d, "llo world");
        ck_assert(!eof);
        ck_assert_int_eq(shutdown(F.peer, SHUT_WR), 0);
        return d.n;
    }
    ck_assert_int_eq(data_calls, 3);
    ck_assert(eof);
    ck_assert_uint_eq(d.n, 0);
    tp_stream_close(s);
    return 0;
}

static void data_check_paused(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    ck_assert_int_eq(data_calls, 1);
    ck_assert_uint_eq(tp_stream_buffered(F.s), 9); /* kept while paused */
    tp_stream_resume(F.s);
    ck_assert_int_eq(data_calls, 1); /* called from the loop, not from resume */
}

static void data_start(tp_loop *loop, void *arg)
{
    (void)arg;
    ck_assert_int_eq(tp_stream_set_data_handler(F.s, data_fn, &data_calls), 0);
    peer_send("hello");
    tp_loop_call_later(loop, 0.03, send_cb, " world");
    tp_loop_call_later(loop, 0.08, data_check_paused, NULL);
}

START_TEST(data_handler_pause_resume)
{
    data_calls = 0;
    fx_init(NULL);
    run(data_start, NULL);
    ck_assert_int_eq(data_calls, 3);
    ck_assert_str_eq(F.trace, "C");
    ck_assert_int_eq(F.close_err, 0);
    fx_done();
}
END_TEST

static size_t data_after_read_fn(tp_stream *s, tp_slice d, bool eof, void *arg)
{
    (void)eof, (void)arg;
    ck_assert_slice(d, "cdef");
    mark('D');
    tp_stream_close(s);
    return d.n;
}

static void read_then_handler(tp_stream *s, int status, tp_slice d, void *arg)
{
    (void)arg;
    ck_assert_int_eq(status, 0);
    ck_assert_slice(d, "ab");
    mark('R');
    ck_assert_int_eq(tp_stream_set_data_handler(s, data_after_read_fn, NULL), 0);
}

static void data_after_read_start(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    peer_send("abcdef");
    ck_assert_int_eq(tp_stream_read_bytes(F.s, 2, false, read_then_handler, NULL), 0);
}

START_TEST(data_handler_sees_buffered_bytes)
{
    fx_init(NULL);
    run(data_after_read_start, NULL);
    ck_assert_str_eq(F.trace, "RDC");
    fx_done();
}
END_TEST

/* ---- writes ------------------------------------------------------------------------------ */

static void write_cb(tp_stream *s, int status, void *arg)
{
    (void)s;
    const char *tag = arg;
    ck_assert_msg(status == 0, "write %s: status %d", tag, status);
    mark(tag[0]);
    if (tag[1] == '!')
        tp_loop_stop(F.loop);
}

static void writes_start(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    static const char three[] = "three";
    ck_assert_int_eq(tp_stream_write(F.s, "one", 3, write_cb, "1"), 0);
    ck_assert_int_eq(tp_stream_write(F.s, "two", 3, write_cb, "2"), 0);
    ck_assert_int_eq(tp_stream_write(F.s, "", 0, NULL, NULL), 0);
    ck_assert_int_eq(tp_stream_write_ref(F.s, three, 5, count_free, &F.frees, write_cb, "3!"), 0);
    ck_assert(tp_stream_writing(F.s));
    ck_assert_uint_eq(tp_stream_pending_write(F.s), 11);
    ck_assert_str_eq(F.trace, "");
    ck_assert_int_eq(F.frees, 0);
}

START_TEST(writes_in_order)
{
    fx_init(NULL);
    run(writes_start, NULL);
    ck_assert_str_eq(F.trace, "123");
    ck_assert_int_eq(F.frees, 1);
    ck_assert_uint_eq(tp_stream_pending_write(F.s), 0);
    ck_assert(!tp_stream_writing(F.s));
    char buf[32];
    ck_assert_int_eq(recv(F.peer, buf, sizeof(buf), MSG_DONTWAIT), 11);
    ck_assert_mem_eq(buf, "onetwothree", 11);
    fx_done();
    ck_assert_int_eq(F.frees, 1);
}
END_TEST

static void big_read_done(tp_loop *loop, pump *p)
{
    ck_assert_uint_eq(p->n, BIG + 5);
    ck_assert_int_eq(memcmp(p->buf, pattern, BIG), 0);
    ck_assert_mem_eq(p->buf + BIG, "small", 5);
    ck_assert_str_eq(F.trace, "BS");
    free(p->buf);
    tp_loop_stop(loop);
}

static void big_write_cb(tp_stream *s, int status, void *arg)
{
    (void)arg;
    ck_assert_int_eq(status, 0);
    ck_assert_uint_le(tp_stream_pending_write(s), 5); /* its own bytes are all in the kernel */
    mark('B');
}

static void big_write_start(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    ck_assert_int_eq(tp_stream_write(F.s, pattern, BIG, big_write_cb, NULL), 0);
    ck_assert_int_eq(tp_stream_write(F.s, "small", 5, write_cb, "S"), 0);
    /* Far more than a socket buffer: most of it is still queued. */
    ck_assert_uint_gt(tp_stream_pending_write(F.s), BIG / 2);
    ck_assert_str_eq(F.trace, "");
    start_reader(&rpump, BIG + 5, 64 << 10, false, big_read_done);
}

START_TEST(large_write_slow_reader)
{
    init_pattern();
    fx_init(NULL);
    run(big_write_start, NULL);
    ck_assert_uint_eq(tp_stream_pending_write(F.s), 0);
    fx_done();
}
END_TEST

START_TEST(max_write_buffer)
{
    tp_stream_opts o = {.max_write_buffer_size = 10};
    fx_init(&o);
    ck_assert_int_eq(tp_stream_write(F.s, "12345678", 8, NULL, NULL), 0);
    ck_assert_int_eq(tp_stream_write(F.s, "abcde", 5, NULL, NULL), -ENOBUFS);
    ck_assert_int_eq(tp_stream_write_ref(F.s, "abcde", 5, count_free, &F.frees, NULL, NULL),
                     -ENOBUFS);
    ck_assert_int_eq(F.frees, 1); /* refused: released at once */
    ck_assert_int_eq(tp_stream_write(F.s, "xy", 2, NULL, NULL), 0);
    spin_once();
    char buf[16];
    ck_assert_int_eq(recv(F.peer, buf, sizeof(buf), MSG_DONTWAIT), 10);
    ck_assert_mem_eq(buf, "12345678xy", 10);
    /* Closed, before the close callback ran: every call fails with -EPIPE. */
    tp_stream *st = F.s;
    tp_stream_close(st);
    ck_assert_int_eq(tp_stream_read_bytes(st, 1, false, NULL, NULL), -EPIPE);
    ck_assert_int_eq(tp_stream_read_until(st, TP_SLICE_LIT("\n"), 0, NULL, NULL), -EPIPE);
    ck_assert_int_eq(tp_stream_read_until_regex(st, "x+", 0, NULL, NULL), -EPIPE);
    ck_assert_int_eq(tp_stream_read_until_close(st, NULL, NULL), -EPIPE);
    ck_assert_int_eq(tp_stream_set_data_handler(st, nop_data_fn, NULL), -EPIPE);
    ck_assert_int_eq(tp_stream_write(st, "z", 1, NULL, NULL), -EPIPE);
    ck_assert(!tp_stream_reading(st));
    spin_once();
    ck_assert_int_eq(F.closes, 1);
    fx_done();
}
END_TEST

/* ---- closing ----------------------------------------------------------------------------- */

static void epipe_read(tp_stream *s, int status, tp_slice d, void *arg)
{
    (void)s, (void)arg;
    ck_assert_int_eq(status, -EPIPE);
    ck_assert_uint_eq(d.n, 0);
    ck_assert_int_eq(F.closes, 0);
    mark('R');
}

static void peer_close_start(tp_loop *loop, void *arg)
{
    (void)arg;
    ck_assert_int_eq(tp_stream_read_until(F.s, TP_SLICE_LIT("\n"), 0, epipe_read, NULL), 0);
    peer_send("partial");
    tp_loop_call_later(loop, 0.02, close_peer_cb, NULL);
}

START_TEST(peer_close_fails_pending_read)
{
    fx_init(NULL);
    run(peer_close_start, NULL);
    ck_assert_str_eq(F.trace, "RC");
    ck_assert_int_eq(F.closes, 1);
    ck_assert_int_eq(F.close_err, 0);
    fx_done();
}
END_TEST

static void failed_write(tp_stream *s, int status, void *arg)
{
    (void)s, (void)arg;
    ck_assert_int_lt(status, 0);
    ck_assert_int_eq(F.closes, 0);
    mark('W');
}

static void local_close_start(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    tp_stream *s = F.s;
    int file = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(file, 0);
    ck_assert_int_eq(tp_stream_read_until(s, TP_SLICE_LIT("\n"), 0, epipe_read, NULL), 0);
    /* The peer reads nothing: most of this stays queued. */
    ck_assert_int_eq(tp_stream_write(s, pattern, BIG, failed_write, NULL), 0);
    ck_assert_int_eq(tp_stream_write_ref(s, "ref", 3, count_free, &F.frees, NULL, NULL), 0);
    tp_stream_close(s);
    ck_assert(tp_stream_closed(s));
    ck_assert_int_eq(F.frees, 1);  /* dropped output is released by the close */
    tp_stream_close(s);            /* twice: harmless */
    ck_assert_str_eq(F.trace, ""); /* callbacks run from the loop */
    /* Until the close callback, calls fail cleanly. */
    ck_assert_int_eq(tp_stream_write(s, "x", 1, failed_write, NULL), -EPIPE);
    ck_assert_int_eq(tp_stream_write_ref(s, "y", 1, count_free, &F.frees, NULL, NULL), -EPIPE);
    ck_assert_int_eq(F.frees, 2);
    ck_assert_int_eq(tp_stream_sendfile(s, file, 0, 1, true, NULL, NULL), -EPIPE);
    ck_assert_int_lt(fcntl(file, F_GETFD), 0); /* closed as asked */
    ck_assert_int_eq(tp_stream_set_data_handler(s, nop_data_fn, NULL), -EPIPE);
}

START_TEST(local_close_order)
{
    init_pattern();
    fx_init(NULL);
    run(local_close_start, NULL);
    ck_assert_str_eq(F.trace, "RWC");
    ck_assert_int_eq(F.closes, 1);
    ck_assert_int_eq(F.frees, 2);
    fx_done();
}
END_TEST

static void flush_read_done(tp_loop *loop, pump *p)
{
    ck_assert(p->eof);
    ck_assert_uint_eq(p->n, (size_t)2 << 20);
    ck_assert_int_eq(memcmp(p->buf, pattern, p->n), 0);
    ck_assert_int_eq(F.closes, 1);
    free(p->buf);
    tp_loop_stop(loop);
}

static void on_close_no_stop(tp_stream *s, int error, void *arg)
{
    (void)arg;
    ck_assert_ptr_eq(s, F.s);
    F.closes++;
    F.close_err = error;
    F.s = NULL;
    mark('C');
}

static int flushed_status = 1;

static void record_write(tp_stream *s, int status, void *arg)
{
    (void)s, (void)arg;
    flushed_status = status;
    mark('w');
}

static void close_after_flush_start(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    tp_stream_set_close_callback(F.s, on_close_no_stop, NULL);
    ck_assert_int_eq(tp_stream_write(F.s, pattern, (size_t)2 << 20, record_write, NULL), 0);
    tp_stream_close_after_flush(F.s, 0);
    ck_assert(!tp_stream_closed(F.s));
    ck_assert_int_eq(tp_stream_write(F.s, "late", 4, NULL, NULL), -EPIPE);
    start_reader(&rpump, (size_t)2 << 20, 64 << 10, true, flush_read_done);
}

START_TEST(close_after_flush_delivers_everything)
{
    init_pattern();
    fx_init(NULL);
    run(close_after_flush_start, NULL);
    ck_assert_str_eq(F.trace, "wC");
    ck_assert_int_eq(F.close_err, 0);
    fx_done();
    /* Every byte reached the peer (checked above), so the write succeeded. */
    ck_assert_msg(flushed_status == 0, "write callback got status %d for bytes that were sent",
                  flushed_status);
}
END_TEST

static char linger_got[16];

static void linger_peer(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    /* The stream shut its side down after the flush: the bytes, then EOF. */
    ck_assert_int_eq(recv(F.peer, linger_got, sizeof(linger_got), MSG_DONTWAIT), 3);
    ck_assert_int_eq(recv(F.peer, linger_got + 3, sizeof(linger_got) - 3, MSG_DONTWAIT), 0);
    ck_assert_int_eq(F.closes, 0); /* still draining our input */
    peer_send("ignored by the lingering stream");
    close(F.peer);
    F.peer = -1;
}

static void linger_start(tp_loop *loop, void *arg)
{
    (void)arg;
    ck_assert_int_eq(tp_stream_write(F.s, "bye", 3, NULL, NULL), 0);
    tp_stream_close_after_flush(F.s, 5.0);
    tp_loop_call_later(loop, 0.03, linger_peer, NULL);
}

START_TEST(close_after_flush_linger)
{
    fx_init(NULL);
    double t0 = tp__monotonic();
    run(linger_start, NULL);
    ck_assert_double_lt(tp__monotonic() - t0, 2.0); /* the peer's close ended the linger */
    ck_assert_mem_eq(linger_got, "bye", 3);
    ck_assert_str_eq(F.trace, "C");
    ck_assert_int_eq(F.close_err, 0);
    fx_done();
}
END_TEST

static void nobufs_read(tp_stream *s, int status, tp_slice d, void *arg)
{
    (void)s, (void)arg;
    F.read_status = status;
    ck_assert_uint_eq(d.n, 0);
    mark('R');
}

static void nobufs_start(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    char junk[4096];
    memset(junk, 'x', sizeof(junk));
    ck_assert_int_eq(tp_stream_read_until(F.s, TP_SLICE_LIT("\n"), 0, nobufs_read, NULL), 0);
    ck_assert_int_eq(send(F.peer, junk, sizeof(junk), MSG_NOSIGNAL), (ssize_t)sizeof(junk));
}

START_TEST(max_buffer_size_nobufs)
{
    tp_stream_opts o = {.max_buffer_size = 1024};
    fx_init(&o);
    run(nobufs_start, NULL);
    ck_assert_str_eq(F.trace, "RC");
    ck_assert_int_eq(F.close_err, -ENOBUFS);
    /* stream.h: a read's status is "-ENOBUFS the read buffer hit max_buffer_size (closed)". */
    ck_assert_msg(F.read_status == -ENOBUFS, "pending read got status %d, want -ENOBUFS (%d)",
                  F.read_status, -ENOBUFS);
    fx_done();
}
END_TEST

/* ---- sendfile ---------------------------------------------------------------------------- */

static int sf_file, sf_dup;

static void sendfile_read_done(tp_loop *loop, pump *p)
{
    ck_assert_uint_eq(p->n, 3 + 251000 + 3);
    ck_assert_mem_eq(p->buf, "HDR", 3);
    ck_assert_int_eq(memcmp(p->buf + 3, pattern, 251000), 0);
    ck_assert_mem_eq(p->buf + 3 + 251000, "TRL", 3);
    ck_assert_str_eq(F.trace, "123");
    free(p->buf);
    tp_loop_stop(loop);
}

static void sendfile_start(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    ck_assert_int_eq(tp_stream_write(F.s, "HDR", 3, NULL, NULL), 0);
    ck_assert_int_eq(tp_stream_sendfile(F.s, sf_dup, 0, 1000, false, write_cb, "1"), 0);
    ck_assert_int_eq(tp_stream_sendfile(F.s, sf_file, 1000, 250000, true, write_cb, "2"), 0);
    ck_assert_int_eq(tp_stream_write(F.s, "TRL", 3, write_cb, "3"), 0);
    ck_assert_uint_le(tp_stream_pending_write(F.s), 3 + 251000 + 3);
    start_reader(&rpump, 3 + 251000 + 3, 32 << 10, false, sendfile_read_done);
}

START_TEST(stream_sendfile)
{
    init_pattern();
    char path[] = "/tmp/tp-unit-XXXXXX";
    sf_file = mkstemp(path);
    ck_assert_int_ge(sf_file, 0);
    unlink(path);
    ck_assert_int_eq(write(sf_file, pattern, 300000), 300000);
    sf_dup = dup(sf_file);
    ck_assert_int_ge(sf_dup, 0);
    fx_init(NULL);
    run(sendfile_start, NULL);
    ck_assert_int_lt(fcntl(sf_file, F_GETFD), 0); /* close_fd: the stream closed it */
    ck_assert_int_ge(fcntl(sf_dup, F_GETFD), 0);  /* not asked to: still open */
    close(sf_dup);
    fx_done();
}
END_TEST

Suite *stream_suite(void)
{
    Suite *s = suite_create("stream");
    TCase *tc = tcase_create("reads");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, read_until_split_delimiter);
    tcase_add_test(tc, read_until_max_bytes);
    tcase_add_test(tc, read_until_regex);
    tcase_add_test(tc, read_until_regex_max_bytes);
    tcase_add_test(tc, read_bytes_exact_and_partial);
    tcase_add_test(tc, read_bytes_zero);
    tcase_add_test(tc, read_until_close);
    tcase_add_test(tc, second_read_is_busy);
    tcase_add_test(tc, data_handler_pause_resume);
    tcase_add_test(tc, data_handler_sees_buffered_bytes);
    tcase_add_test(tc, max_buffer_size_nobufs);
    suite_add_tcase(s, tc);

    tc = tcase_create("writes");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, writes_in_order);
    tcase_add_test(tc, large_write_slow_reader);
    tcase_add_test(tc, max_write_buffer);
    tcase_add_test(tc, stream_sendfile);
    suite_add_tcase(s, tc);

    tc = tcase_create("close");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, peer_close_fails_pending_read);
    tcase_add_test(tc, local_close_order);
    tcase_add_test(tc, close_after_flush_delivers_everything);
    tcase_add_test(tc, close_after_flush_linger);
    suite_add_tcase(s, tc);
    return s;
}
