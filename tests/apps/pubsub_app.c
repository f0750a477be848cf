/* The app of the pubsub prefork tests (tests/prefork/test_pubsub.py), built as
 * build/tests/prefork/pubsub_app.so. Every response names its worker in X-Worker-Pid.
 *   GET /sub?ch=X&n=N   subscribes to X and sends the head at once (the subscription exists
 *                       once the head arrives), then one chunk "MESSAGE\n" per message; ends
 *                       after N messages (default 1), unsubscribing from inside the callback
 *   POST /pub?ch=X&count=K  publishes the body (K > 1: K messages "BODY-0".."BODY-K-1");
 *                       "ok", or 503 "error N" when tp_pubsub_publish refused
 *   GET /stats          this worker's tp_pubsub_stats as "name=value" lines
 *   GET /pid, GET /crash (SIGSEGV) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tp.h"

typedef struct sub_state {
    tp_pubsub_sub *sub;
    long left;
} sub_state;

static void pid_header(tp_handler *h)
{
    tp_set_header_int(h, "X-Worker-Pid", (long long)getpid());
}

static void sub_stop(tp_handler *h)
{
    sub_state *st = tp_handler_state(h);
    tp_pubsub_unsubscribe(st->sub);
    st->sub = NULL;
}

static void on_message(tp_slice ch, tp_slice msg, void *arg)
{
    (void)ch;
    tp_handler *h = arg;
    sub_state *st = tp_handler_state(h);
    tp_write(h, msg.p, msg.n);
    tp_write(h, "\n", 1);
    if (--st->left > 0) {
        tp_flush(h);
        return;
    }
    sub_stop(h);
    tp_finish(h);
}

static int sub_get(tp_handler *h)
{
    sub_state *st = tp_handler_state(h);
    const char *ch = tp_get_argument(h, "ch", "default");
    st->left = atol(tp_get_argument(h, "n", "1"));
    pid_header(h);
    st->sub = tp_pubsub_subscribe(tp_slice_cstr(ch), on_message, h);
    if (!st->sub || st->left < 1)
        return tp_send_error(h, 400), TP_OK;
    tp_flush(h);
    return TP_AGAIN;
}

static void sub_closed(tp_handler *h)
{
    sub_stop(h);
    tp_finish(h);
}

static int pub_post(tp_handler *h)
{
    const char *ch = tp_get_argument(h, "ch", "default");
    long count = atol(tp_get_argument(h, "count", "1"));
    tp_slice body = tp_handler_request(h)->body;
    pid_header(h);
    int r = 0;
    if (count <= 1)
        r = tp_pubsub_publish(tp_slice_cstr(ch), body.p, body.n);
    for (long i = 0; count > 1 && i < count && r == 0; i++) {
        char msg[512];
        int n = snprintf(msg, sizeof(msg), "%.*s-%ld", (int)(body.n > 400 ? 400 : body.n),
                         body.p ? body.p : "", i);
        r = tp_pubsub_publish(tp_slice_cstr(ch), msg, (size_t)n);
    }
    if (r < 0) {
        tp_set_status(h, 503, NULL);
        return tp_writef(h, "error %d", r), TP_OK;
    }
    return tp_write_str(h, "ok"), TP_OK;
}

static int stats_get(tp_handler *h)
{
    tp_pubsub_stats s;
    tp_pubsub_get_stats(&s);
    pid_header(h);
    tp_writef(h, "pid=%d\ntransport=%s\npublished=%llu\nrefused=%llu\nreceived=%llu\n",
              (int)getpid(), s.transport, (unsigned long long)s.published,
              (unsigned long long)s.refused, (unsigned long long)s.received);
    tp_writef(h, "delivered=%llu\nchannels=%zu\nsubscribers=%zu\n", (unsigned long long)s.delivered,
              s.channels, s.subscribers);
    return TP_OK;
}

static int pid_get(tp_handler *h)
{
    pid_header(h);
    return tp_writef(h, "%d", (int)getpid()), TP_OK;
}

static int crash_get(tp_handler *h)
{
    (void)h;
    raise(SIGSEGV);
    return TP_OK;
}

static const tp_handler_class sub_h = {.name = "Sub",
                                       .state_size = sizeof(sub_state),
                                       .get = sub_get,
                                       .on_connection_close = sub_closed,
                                       .on_finish = sub_stop};
static const tp_handler_class pub_h = {.name = "Pub", .post = pub_post};
static const tp_handler_class stats_h = {.name = "Stats", .get = stats_get};
static const tp_handler_class pid_h = {.name = "Pid", .get = pid_get};
static const tp_handler_class crash_h = {.name = "Crash", .get = crash_get};

static int app_init(tp_app *app)
{
    tp_app_route(app, "/sub", &sub_h, NULL);
    tp_app_route(app, "/pub", &pub_h, NULL);
    tp_app_route(app, "/stats", &stats_h, NULL);
    tp_app_route(app, "/pid", &pid_h, NULL);
    tp_app_route(app, "/crash", &crash_h, NULL);
    return 0;
}

TP_APP("pubsub-test", app_init, NULL);
