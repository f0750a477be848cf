/* IOStream (core/stream.h) reads over a Unix socketpair: the stream owns one end, the test
 * writes and reads the other end directly, from loop callbacks and timers
 * (tests/unit/stream_fixture.h). Writes, closing and sendfile: test_stream_writes.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/unit/stream_fixture.h"

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

static bool buffered_6(void)
{
    return F.s && tp_stream_buffered(F.s) == 6;
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
    (void)loop;
    ck_assert_int_eq(tp_stream_read_until(F.s, TP_SLICE_LIT("\r\n\r\n"), 0, until_first, NULL), 0);
    peer_send("abc\r\n\r");
    fx_when(buffered_6, until_check_then_send, NULL);
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

static bool buffered_10(void)
{
    return F.s && tp_stream_buffered(F.s) == 10;
}

static void regex_start(tp_loop *loop, void *arg)
{
    (void)arg;
    ck_assert_int_eq(tp_stream_read_until_regex(F.s, "(", 0, regex_head, NULL), -EINVAL);
    ck_assert(!tp_stream_reading(F.s));
    ck_assert_int_eq(tp_stream_read_until_regex(F.s, "\r?\n\r?\n", 0, regex_head, NULL), 0);
    ck_assert(tp_stream_reading(F.s));
    (void)loop;
    peer_send("GET\nA: b\r\n");
    fx_when(buffered_10, send_cb, "\r\nBODY"); /* the head in two reads */
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

static bool buffered_3(void)
{
    return F.s && tp_stream_buffered(F.s) == 3;
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
    (void)loop;
    ck_assert_int_eq(tp_stream_read_bytes(F.s, 6, false, bytes_exact, NULL), 0);
    peer_send("abc");
    fx_when(buffered_3, bytes_check_then_send, NULL);
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

static pump wpump;

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

/* The stream reads on while its handler is paused: " world" joins "llo" in its buffer. */
static bool buffered_9(void)
{
    return F.s && tp_stream_buffered(F.s) == 9;
}

static bool first_data_call(void)
{
    return data_calls == 1;
}

static void send_world(tp_loop *loop, void *arg)
{
    (void)arg;
    send_cb(loop, " world");
    fx_when(buffered_9, data_check_paused, NULL);
}

static void data_start(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    ck_assert_int_eq(tp_stream_set_data_handler(F.s, data_fn, &data_calls), 0);
    peer_send("hello");
    fx_when(first_data_call, send_world, NULL);
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

/* a paused data handler still hears of the peer's EOF, once, with the buffered
 * bytes; what it consumes then is gone, and a resume delivers the rest with eof again. */
static int eof_calls;

static size_t paused_eof_fn(tp_stream *s, tp_slice d, bool eof, void *arg)
{
    (void)arg;
    eof_calls++;
    if (eof_calls == 1) {
        ck_assert_slice(d, "abc");
        ck_assert(!eof);
        tp_stream_pause(s);
        return 0;
    }
    ck_assert(eof);
    if (eof_calls == 2) {
        ck_assert_slice(d, "abcde"); /* called while paused: the EOF is news */
        return 1;
    }
    ck_assert_int_eq(eof_calls, 3);
    ck_assert_slice(d, "bcde");
    tp_stream_close(s);
    return d.n;
}

static bool eof_told(void)
{
    return eof_calls == 2;
}

static void resume_after_eof(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    ck_assert_uint_eq(tp_stream_buffered(F.s), 4);
    tp_stream_resume(F.s);
}

static bool paused_once(void)
{
    return eof_calls == 1;
}

static void send_rest_and_shut(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    peer_send("de");
    ck_assert_int_eq(shutdown(F.peer, SHUT_WR), 0);
    fx_when(eof_told, resume_after_eof, NULL);
}

static void paused_eof_start(tp_loop *loop, void *arg)
{
    (void)loop, (void)arg;
    ck_assert_int_eq(tp_stream_set_data_handler(F.s, paused_eof_fn, NULL), 0);
    peer_send("abc");
    fx_when(paused_once, send_rest_and_shut, NULL);
}

START_TEST(data_handler_paused_hears_eof_once)
{
    eof_calls = 0;
    fx_init(NULL);
    run(paused_eof_start, NULL);
    ck_assert_int_eq(eof_calls, 3);
    ck_assert_str_eq(F.trace, "C");
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
    tcase_add_test(tc, data_handler_paused_hears_eof_once);
    tcase_add_test(tc, data_handler_sees_buffered_bytes);
    tcase_add_test(tc, max_buffer_size_nobufs);
    suite_add_tcase(s, tc);
    return s;
}
