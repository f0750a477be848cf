/* IOStream (core/stream.h) writes, closing and sendfile over a Unix socketpair
 * (tests/unit/stream_fixture.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/unit/stream_fixture.h"

static pump rpump; /* the peer reading what the stream writes */

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

/* The stream has flushed "bye" and shut its side down. */
static bool peer_sees_shutdown(void)
{
    struct pollfd p = {.fd = F.peer, .events = POLLRDHUP};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLRDHUP);
}

static void linger_start(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    ck_assert_int_eq(tp_stream_write(F.s, "bye", 3, NULL, NULL), 0);
    tp_stream_close_after_flush(F.s, 30.0);
    fx_when(peer_sees_shutdown, linger_peer, NULL);
}

START_TEST(close_after_flush_linger)
{
    fx_init(NULL);
    double t0 = tp__monotonic();
    run(linger_start, NULL);
    /* the peer's close ended the linger, not its 30 s timeout */
    ck_assert_double_lt(tp__monotonic() - t0, 10.0);
    ck_assert_mem_eq(linger_got, "bye", 3);
    ck_assert_str_eq(F.trace, "C");
    ck_assert_int_eq(F.close_err, 0);
    fx_done();
}
END_TEST

/* The peer's FIN was read before close_after_flush (a WebSocket read its Close after the
 * EOF, behind a paused handler): nothing is left to drain, so the stream closes once "bye" is
 * out instead of lingering until the timeout. */
static size_t eof_then_close(tp_stream *s, tp_slice d, bool eof, void *arg)
{
    (void)arg;
    if (!eof)
        return 0;
    ck_assert_slice(d, "hi");
    ck_assert_int_eq(tp_stream_write(s, "bye", 3, NULL, NULL), 0);
    tp_stream_close_after_flush(s, 30.0);
    return d.n;
}

static void eof_first_start(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    ck_assert_int_eq(tp_stream_set_data_handler(F.s, eof_then_close, NULL), 0);
    peer_send("hi");
    shutdown(F.peer, SHUT_WR);
}

START_TEST(close_after_flush_after_eof)
{
    fx_init(NULL);
    double t0 = tp__monotonic();
    run(eof_first_start, NULL);
    ck_assert_double_lt(tp__monotonic() - t0, 10.0); /* not the 30 s linger */
    ck_assert_str_eq(F.trace, "C");
    ck_assert_int_eq(F.close_err, 0);
    char got[8];
    ck_assert_int_eq(recv(F.peer, got, sizeof(got), MSG_DONTWAIT), 3);
    ck_assert_mem_eq(got, "bye", 3);
    ck_assert_int_eq(recv(F.peer, got, sizeof(got), MSG_DONTWAIT), 0);
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
Suite *stream_writes_suite(void)
{
    Suite *s = suite_create("stream_writes");
    TCase *tc = tcase_create("writes");
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
    tcase_add_test(tc, close_after_flush_after_eof);
    suite_add_tcase(s, tc);
    return s;
}
