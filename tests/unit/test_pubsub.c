/* web/pubsub: subscriptions and local delivery (deferred to the loop, in order, unsubscribe
 * from inside a callback), the limits on names and sizes, the relay frame format and the
 * worker side of the master relay over a socketpair, and the --pubsub URL parser. Each test
 * runs in its own process (CK_FORK), on its own loop made the thread's current one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/loop.h"
#include "tests/unit/suites.h"
#include "web/pubsub/internal.h"

/* What the callbacks saw: "channel:message" lines. */
static char seen[1 << 16];
static size_t nseen;

static void record(tp_slice ch, tp_slice msg, void *arg)
{
    (void)arg;
    size_t room = sizeof(seen) - strlen(seen);
    snprintf(seen + strlen(seen), room, "%.*s:%.*s;", TP_SLICE_FMT(ch), TP_SLICE_FMT(msg));
    nseen++;
}

static tp_loop *setup(void)
{
    tp_loop *loop = tp_loop_new();
    ck_assert_ptr_nonnull(loop);
    tp_loop_set_current(loop);
    seen[0] = '\0';
    nseen = 0;
    return loop;
}

static void teardown(tp_loop *loop)
{
    tp__pubsub_reset();
    tp_loop_set_current(NULL);
    tp_loop_free(loop);
}

/* Runs the loop for n iterations (callbacks queued by a callback wait for the next one). */
static int spins_left;
static void spin_cb(tp_loop *loop, void *arg)
{
    (void)arg;
    if (--spins_left <= 0)
        tp_loop_stop(loop);
    else
        tp_loop_add_callback(loop, spin_cb, NULL);
}

static void spin(tp_loop *loop, int n)
{
    spins_left = n;
    ck_assert_int_eq(tp_loop_run_sync(loop, spin_cb, NULL, 20), 0);
}

static int publish(const char *ch, const char *msg)
{
    return tp_pubsub_publish(tp_slice_cstr(ch), msg, strlen(msg));
}

START_TEST(local_delivery_is_deferred)
{
    tp_loop *loop = setup();
    tp_pubsub_sub *a = tp_pubsub_subscribe(TP_SLICE_LIT("news"), record, NULL);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(tp_pubsub_subscribe(TP_SLICE_LIT("other"), record, NULL));
    ck_assert_int_eq(publish("news", "hello"), 0);
    ck_assert_uint_eq(nseen, 0); /* never inside publish */
    spin(loop, 3);
    ck_assert_str_eq(seen, "news:hello;");
    tp_pubsub_stats st;
    tp_pubsub_get_stats(&st);
    ck_assert_str_eq(st.transport, "local");
    ck_assert_uint_eq(st.published, 1);
    ck_assert_uint_eq(st.delivered, 1);
    ck_assert_uint_eq(st.channels, 2);
    ck_assert_uint_eq(st.subscribers, 2);
    tp_pubsub_unsubscribe(a);
    ck_assert_int_eq(publish("news", "nobody"), 0);
    spin(loop, 3);
    ck_assert_str_eq(seen, "news:hello;");
    teardown(loop);
}
END_TEST

START_TEST(order_is_kept)
{
    tp_loop *loop = setup();
    tp_pubsub_subscribe(TP_SLICE_LIT("c"), record, NULL);
    char want[4096] = "";
    for (int i = 0; i < 200; i++) {
        char msg[16];
        snprintf(msg, sizeof(msg), "%d", i);
        ck_assert_int_eq(publish("c", msg), 0);
        snprintf(want + strlen(want), sizeof(want) - strlen(want), "c:%d;", i);
    }
    spin(loop, 3);
    ck_assert_str_eq(seen, want);
    teardown(loop);
}
END_TEST

/* Unsubscribing itself, and a subscriber further down the list, from inside a callback. */
static tp_pubsub_sub *victim;
static tp_pubsub_sub *self_sub;
static void unsub_cb(tp_slice ch, tp_slice msg, void *arg)
{
    record(ch, msg, arg);
    tp_pubsub_unsubscribe(self_sub);
    tp_pubsub_unsubscribe(victim);
    victim = NULL;
}

START_TEST(unsubscribe_inside_callback)
{
    tp_loop *loop = setup();
    self_sub = tp_pubsub_subscribe(TP_SLICE_LIT("c"), unsub_cb, NULL);
    victim = tp_pubsub_subscribe(TP_SLICE_LIT("c"), record, NULL);
    tp_pubsub_sub *third = tp_pubsub_subscribe(TP_SLICE_LIT("c"), record, NULL);
    ck_assert_int_eq(publish("c", "1"), 0);
    ck_assert_int_eq(publish("c", "2"), 0);
    spin(loop, 3);
    /* 1 to the first (which unsubscribed both) and the third; 2 to the third only. */
    ck_assert_str_eq(seen, "c:1;c:1;c:2;");
    tp_pubsub_stats st;
    tp_pubsub_get_stats(&st);
    ck_assert_uint_eq(st.subscribers, 1);
    tp_pubsub_unsubscribe(third);
    tp_pubsub_get_stats(&st);
    ck_assert_uint_eq(st.channels, 0);
    teardown(loop);
}
END_TEST

/* A subscriber added by a callback does not get the message being delivered; a message
 * published by a callback comes on a later iteration, after the ones already queued. */
static void chain_cb(tp_slice ch, tp_slice msg, void *arg)
{
    record(ch, msg, arg);
    if (tp_slice_eq(msg, TP_SLICE_LIT("first"))) {
        tp_pubsub_subscribe(TP_SLICE_LIT("c"), record, NULL);
        ck_assert_int_eq(publish("c", "from-callback"), 0);
    }
}

START_TEST(subscribe_and_publish_inside_callback)
{
    tp_loop *loop = setup();
    tp_pubsub_subscribe(TP_SLICE_LIT("c"), chain_cb, NULL);
    ck_assert_int_eq(publish("c", "first"), 0);
    ck_assert_int_eq(publish("c", "second"), 0);
    spin(loop, 5);
    ck_assert_str_eq(seen, "c:first;c:second;c:second;c:from-callback;c:from-callback;");
    teardown(loop);
}
END_TEST

START_TEST(bad_names)
{
    tp_loop *loop = setup();
    char name[300];
    memset(name, 'x', sizeof(name));
    ck_assert_ptr_null(tp_pubsub_subscribe(TP_SLICE_NULL, record, NULL));
    ck_assert_ptr_null(tp_pubsub_subscribe(TP_SLICE_LIT(""), record, NULL));
    ck_assert_ptr_null(tp_pubsub_subscribe(tp_slice_make(name, 256), record, NULL));
    ck_assert_int_eq(tp_pubsub_publish(TP_SLICE_LIT(""), "m", 1), -EINVAL);
    ck_assert_int_eq(tp_pubsub_publish(tp_slice_make(name, 256), "m", 1), -EINVAL);
    /* 255 bytes, and any bytes (NUL included), are fine. */
    ck_assert_ptr_nonnull(tp_pubsub_subscribe(tp_slice_make(name, 255), record, NULL));
    ck_assert_ptr_nonnull(tp_pubsub_subscribe(tp_slice_make("a\0b", 3), record, NULL));
    ck_assert_int_eq(tp_pubsub_publish(tp_slice_make(name, 255), "m", 1), 0);
    ck_assert_int_eq(tp_pubsub_publish(tp_slice_make("a\0b", 3), "", 0), 0);
    ck_assert_int_eq(tp_pubsub_publish(tp_slice_make("a\0c", 3), "x", 1), 0);
    spin(loop, 3);
    ck_assert_uint_eq(nseen, 2);
    teardown(loop);
}
END_TEST

START_TEST(size_limits)
{
    tp_loop *loop = setup();
    tp_pubsub_subscribe(TP_SLICE_LIT("big"), record, NULL);
    size_t max = TP_PUBSUB_MAX_MESSAGE;
    char *m = tp_calloc(1, max + 1);
    ck_assert_int_eq(tp_pubsub_publish(TP_SLICE_LIT("big"), m, max + 1), -EMSGSIZE);
    /* The local queue holds 64 MiB: three 16 MiB messages, not a fourth. */
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(tp_pubsub_publish(TP_SLICE_LIT("big"), m, max), 0);
    ck_assert_int_eq(tp_pubsub_publish(TP_SLICE_LIT("big"), m, max), -ENOBUFS);
    tp_pubsub_stats st;
    tp_pubsub_get_stats(&st);
    ck_assert_uint_eq(st.refused, 1);
    spin(loop, 3);
    ck_assert_uint_eq(nseen, 3);
    ck_assert_int_eq(tp_pubsub_publish(TP_SLICE_LIT("big"), m, max), 0); /* room again */
    tp_free(m);
    teardown(loop);
}
END_TEST

START_TEST(frame_sizes)
{
    char f[64];
    tp__pubsub_frame h = {.msg_len = 5, .chan_len = 3};
    memcpy(f, &h, sizeof(h));
    memcpy(f + sizeof(h), "abchello", 8);
    ck_assert_int_eq(tp__pubsub_frame_size(f, 4), 0);
    ck_assert_int_eq(tp__pubsub_frame_size(f, sizeof(h) + 7), 0);
    ck_assert_int_eq(tp__pubsub_frame_size(f, sizeof(h) + 8), (long)sizeof(h) + 8);
    ck_assert_int_eq(tp__pubsub_frame_size(f, sizeof(f)), (long)sizeof(h) + 8);
    h.chan_len = 0;
    memcpy(f, &h, sizeof(h));
    ck_assert_int_eq(tp__pubsub_frame_size(f, sizeof(f)), -EPROTO);
    h = (tp__pubsub_frame){.msg_len = TP_PUBSUB_MAX_MESSAGE + 1, .chan_len = 1};
    memcpy(f, &h, sizeof(h));
    ck_assert_int_eq(tp__pubsub_frame_size(f, sizeof(f)), -EPROTO);
}
END_TEST

/* The worker side of the master relay: a publish goes out as a frame and is not delivered
 * here until the "master" (the test) echoes it; EOF falls back to local delivery. */
START_TEST(relay_worker_side)
{
    tp_loop *loop = setup();
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(tp__pubsub_relay_start(loop, sv[1]), 0);
    tp_pubsub_subscribe(TP_SLICE_LIT("ch"), record, NULL);
    ck_assert_int_eq(publish("ch", "one"), 0);
    ck_assert_int_eq(publish("ch", "two"), 0);
    spin(loop, 3);
    ck_assert_uint_eq(nseen, 0);
    char buf[256];
    size_t want = 2 * (sizeof(tp__pubsub_frame) + 5);
    ck_assert_int_eq(read(sv[0], buf, sizeof(buf)), (ssize_t)want);
    ck_assert_int_eq(tp__pubsub_frame_size(buf, want), (long)want / 2);
    ck_assert_int_eq(write(sv[0], buf, want), (ssize_t)want); /* the echo */
    spin(loop, 3);
    ck_assert_str_eq(seen, "ch:one;ch:two;");
    tp_pubsub_stats st;
    tp_pubsub_get_stats(&st);
    ck_assert_str_eq(st.transport, "master");
    close(sv[0]);
    spin(loop, 3);
    tp_pubsub_get_stats(&st);
    ck_assert_str_eq(st.transport, "local");
    ck_assert_int_eq(publish("ch", "three"), 0);
    spin(loop, 3);
    ck_assert_str_eq(seen, "ch:one;ch:two;ch:three;");
    teardown(loop);
}
END_TEST

START_TEST(url_parse)
{
    char host[64], err[300];
    int port = 0;
    ck_assert_int_eq(
        tp__pubsub_url_parse("redis://127.0.0.1:6380", host, sizeof(host), &port, err, sizeof(err)),
        0);
    ck_assert_str_eq(host, "127.0.0.1");
    ck_assert_int_eq(port, 6380);
    ck_assert_int_eq(
        tp__pubsub_url_parse("redis://cache.lan:1", host, sizeof(host), &port, err, sizeof(err)),
        0);
    ck_assert_str_eq(host, "cache.lan");
    static const char *bad[] = {"",
                                "redis://",
                                "redis://host",
                                "redis://:6379",
                                "redis://host:",
                                "redis://host:0",
                                "redis://host:65536",
                                "redis://host:12x",
                                "redis://u@host:1",
                                "redis://host:1/0",
                                "http://host:1",
                                "rediss://host:1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        ck_assert_msg(tp__pubsub_url_parse(bad[i], host, sizeof(host), &port, err, sizeof(err)) ==
                          -EINVAL,
                      "accepted %s", bad[i]);
        ck_assert_ptr_nonnull(strstr(err, "expected redis://HOST:PORT"));
    }
}
END_TEST

Suite *pubsub_suite(void)
{
    Suite *s = suite_create("pubsub");
    TCase *tc = tcase_create("local");
    tcase_set_timeout(tc, TP_TEST_TIMEOUT);
    tcase_add_test(tc, local_delivery_is_deferred);
    tcase_add_test(tc, order_is_kept);
    tcase_add_test(tc, unsubscribe_inside_callback);
    tcase_add_test(tc, subscribe_and_publish_inside_callback);
    tcase_add_test(tc, bad_names);
    tcase_add_test(tc, size_limits);
    suite_add_tcase(s, tc);
    TCase *tr = tcase_create("transport");
    tcase_set_timeout(tr, TP_TEST_TIMEOUT);
    tcase_add_test(tr, frame_sizes);
    tcase_add_test(tr, relay_worker_side);
    tcase_add_test(tr, url_parse);
    suite_add_tcase(s, tr);
    return s;
}
