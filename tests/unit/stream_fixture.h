/* The IOStream test fixture shared by test_stream.c (reads) and test_stream_writes.c
 * (writes, closing, sendfile): a stream over a socketpair and the helpers that play its peer. */
#ifndef TP_TESTS_UNIT_STREAM_FIXTURE_H
#define TP_TESTS_UNIT_STREAM_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/loop.h"
#include "core/stream.h"
#include "tests/unit/suites.h"

struct stream_fx {
    tp_loop *loop;
    tp_stream *s; /* NULL once the close callback ran (the stream is freed right after) */
    int peer;
    int closes, close_err;
    int read_status;
    int frees;
    char trace[64];
};
extern struct stream_fx F;

/* Appends c to F.trace (the order events happened in). */
void mark(char c);
/* A new loop and a stream over one end of a socketpair (F.s), the other end in F.peer. */
void fx_init(const tp_stream_opts *opts);
/* One loop iteration: callbacks, deferred work, a zero-timeout poll. */
void spin_once(void);
/* Closes what the test left open, checks the close callback ran once and nothing is left. */
void fx_done(void);
/* Calls start, then runs the loop (at most 20 s) until a callback stops it. */
void run(tp_fn start, void *arg);
/* The peer sends s (all of it). send_cb: the same from a loop callback (arg is s). */
void peer_send(const char *s);
void send_cb(tp_loop *loop, void *arg);
/* The peer closes its end. */
void close_peer_cb(tp_loop *loop, void *arg);
/* Runs then(loop, arg) from the loop once cond() holds (looked at every millisecond): a step of
 * the peer that must come after something the stream does (it read what was sent, it shut its
 * side down), where a fixed delay would race the stream on a loaded machine. Fails the test
 * if cond() does not hold within 10 s. One at a time; then may start the next. */
void fx_when(bool (*cond)(void), tp_fn then, void *arg);
/* True if s holds exactly want. */
int slice_is(tp_slice s, const char *want);
#define ck_assert_slice(s, want)                                                                   \
    ck_assert_msg(slice_is((s), (want)), "got '%.*s', want '%s'", TP_SLICE_FMT(s), (want))
/* A data handler that takes nothing (bytes stay buffered). */
size_t nop_data_fn(tp_stream *s, tp_slice d, bool eof, void *arg);
/* A free function for write_ref that counts in F.frees (arg must be &F.frees). */
void count_free(void *arg);

/* Big data: 4 MiB of pattern bytes, and timer-driven peer pumps that read or write them. */
#define BIG (4u << 20)
extern unsigned char pattern[BIG + 4096];
void init_pattern(void);
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
/* The peer reads up to cap bytes, per_tick each millisecond, then calls done (at EOF with
 * to_eof). The peer writes len bytes of src, per_tick each millisecond (then shuts down its
 * write side with shut). */
void start_reader(pump *p, size_t cap, size_t per_tick, bool to_eof,
                  void (*done)(tp_loop *, pump *));
void start_writer(pump *p, const unsigned char *src, size_t len, size_t per_tick, bool shut);

#endif
