/* The IOStream test fixture (tests/unit/stream_fixture.h): a stream over one end of a Unix
 * socketpair, the test playing the peer on the other end from loop callbacks and timers. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/unit/stream_fixture.h"

struct stream_fx F;

struct stream_fx F;

/* fx_when's pending step. */
static struct {
    bool (*cond)(void);
    tp_fn then;
    void *arg;
    double deadline;
    bool armed;
} when;

void mark(char c)
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

void fx_init(const tp_stream_opts *opts)
{
    int sv[2];
    memset(&F, 0, sizeof(F));
    when.armed = false;
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
void spin_once(void)
{
    tp_loop_add_callback(F.loop, stop_cb, NULL);
    ck_assert_int_eq(tp_loop_run(F.loop), 0);
}

/* Closes the stream if the test left it open, checks the close callback ran exactly once and
 * the loop holds nothing any more, and frees everything. */
void fx_done(void)
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
void run(tp_fn start, void *arg)
{
    start(F.loop, arg);
    ck_assert_int_eq(tp_loop_run_sync(F.loop, nothing, NULL, 20), 0);
}

void peer_send(const char *s)
{
    size_t n = strlen(s);
    ck_assert_int_eq(send(F.peer, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

void send_cb(tp_loop *loop, void *arg)
{
    (void)loop;
    peer_send(arg);
}

void close_peer_cb(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    close(F.peer);
    F.peer = -1;
}

static void when_poll(tp_loop *loop, void *arg)
{
    (void)arg;
    if (when.cond()) {
        when.armed = false;
        when.then(loop, when.arg);
        return;
    }
    ck_assert_msg(tp__monotonic() < when.deadline, "fx_when: the condition did not hold in 10 s");
    tp_loop_call_later(loop, 0.001, when_poll, NULL);
}

void fx_when(bool (*cond)(void), tp_fn then, void *arg)
{
    ck_assert(!when.armed);
    when.cond = cond;
    when.then = then;
    when.arg = arg;
    when.deadline = tp__monotonic() + 10;
    when.armed = true;
    tp_loop_call_later(F.loop, 0.001, when_poll, NULL);
}

int slice_is(tp_slice s, const char *want)
{
    return s.n == strlen(want) && memcmp(s.p, want, s.n) == 0;
}

void count_free(void *arg)
{
    ck_assert_ptr_eq(arg, &F.frees);
    F.frees++;
}

/* ---- big data: pattern bytes and peer pumps driven by timers ----------------------------- */

unsigned char pattern[BIG + 4096];

void init_pattern(void)
{
    for (size_t i = 0; i < sizeof(pattern); i++)
        pattern[i] = (unsigned char)((i * 7 + i / 253) % 251);
}

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

void start_reader(pump *p, size_t cap, size_t per_tick, bool to_eof,
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

void start_writer(pump *p, const unsigned char *src, size_t len, size_t per_tick, bool shut)
{
    *p = (pump){.src = src, .src_len = len, .per_tick = per_tick, .shut = shut};
    tp_timer_init(&p->t, writer_tick, p);
    tp_timer_start_at(F.loop, &p->t, tp_loop_time(F.loop));
}

size_t nop_data_fn(tp_stream *s, tp_slice d, bool eof, void *arg)
{
    (void)s, (void)d, (void)eof, (void)arg;
    return 0;
}
