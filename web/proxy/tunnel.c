/* The Upgrade tunnel: after a 101, bytes go both ways between the client and the upstream
 * unchanged (a WebSocket's frames, or any other protocol), each side paused while the other
 * has more than TP_PROXY_HIGH_WATER queued. Either side ending ends both: what is queued is
 * flushed, then both close.
 *
 * References (freed in tunnel_unref only): one for each stream until its close callback,
 * one for each drain callback in flight. */
#include "core/alloc.h"
#include "web/proxy/proxy_internal.h"

typedef struct tunnel {
    unsigned refs;
    tp_stream *side[2]; /* client, upstream; NULL once closed */
    bool ending;
    void (*ref_put)(void *);
    void *ref;
} tunnel;

static void tunnel_unref(tunnel *t)
{
    if (--t->refs)
        return;
    t->ref_put(t->ref);
    tp_free(t);
}

static int side_of(const tunnel *t, const tp_stream *s)
{
    return t->side[0] == s ? 0 : 1;
}

/* Flushes both sides and closes them. */
static void tunnel_end(tunnel *t)
{
    if (t->ending)
        return;
    t->ending = true;
    for (int i = 0; i < 2; i++)
        if (t->side[i])
            tp_stream_close_after_flush(t->side[i], 0);
}

static void on_drained(tp_stream *s, int status, void *arg)
{
    tunnel *t = arg;
    int other = !side_of(t, s);
    if (status == 0 && !t->ending && t->side[other])
        tp_stream_resume(t->side[other]);
    tunnel_unref(t);
}

static size_t on_data(tp_stream *s, tp_slice d, bool eof, void *arg)
{
    tunnel *t = arg;
    tp_stream *to = t->side[!side_of(t, s)];
    if (!to || t->ending)
        return d.n;
    if (d.n && tp_stream_write(to, d.p, d.n, NULL, NULL) < 0) {
        tunnel_end(t);
        return d.n;
    }
    if (eof) {
        tunnel_end(t);
    } else if (tp_stream_pending_write(to) > TP_PROXY_HIGH_WATER) {
        tp_stream_pause(s);
        t->refs++;
        if (tp_stream_write(to, NULL, 0, on_drained, t) < 0)
            t->refs--;
    }
    return d.n;
}

static void on_closed(tp_stream *s, int error, void *arg)
{
    (void)error;
    tunnel *t = arg;
    int i = side_of(t, s);
    t->side[i] = NULL;
    if (t->side[!i] && !t->ending) {
        t->ending = true;
        tp_stream_close(t->side[!i]); /* a reset or error: nothing more will go through */
    }
    tunnel_unref(t);
}

void tp__proxy_tunnel(tp_stream *client, tp_stream *upstream, void (*ref_put)(void *), void *ref)
{
    tunnel *t = tp_calloc(1, sizeof(*t));
    t->refs = 2;
    t->side[0] = client;
    t->side[1] = upstream;
    t->ref_put = ref_put;
    t->ref = ref;
    for (int i = 0; i < 2; i++) {
        tp_stream_set_close_callback(t->side[i], on_closed, t);
        tp_stream_set_data_handler(t->side[i], on_data, t);
    }
}
