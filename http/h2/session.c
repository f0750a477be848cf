/* An HTTP/2 connection: the nghttp2 server session over a tp_stream, its settings and abuse
 * limits, the send path (with back-pressure from the socket), the idle and stall timer, and
 * GOAWAY on drain. The streams' requests are in stream.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "http/h2/h2_internal.h"

/* Past this much output queued in the socket's stream, nghttp2 is asked for no more frames and
 * the connection is not read (a client that sends without reading stops there). */
#define OUT_HIGH_WATER (256u << 10)

static const char PREFACE[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
#define PREFACE_LEN (sizeof(PREFACE) - 1)

static void send_out(tp_h2_session *s);
static void sess_gone(tp_h2_session *s);

void tp_h2_opts_default(tp_h2_opts *o)
{
    *o = (tp_h2_opts){
        .http2 = true,
        .max_concurrent_streams = 100,
        .max_header_list_size = 64 << 10,
        .header_table_size = 4096,
        .initial_window_size = 65535,
        .connection_window_size = 1 << 20,
        .max_frame_size = 16384,
        .reset_burst = 1000,
        .reset_rate = 33,
        .stall_timeout = 30,
    };
}

int tp_h2_preface(tp_slice d)
{
    size_t n = d.n < PREFACE_LEN ? d.n : PREFACE_LEN;
    if (memcmp(d.p, PREFACE, n) != 0)
        return 0;
    return n == PREFACE_LEN ? 1 : TP_AGAIN;
}

/* ---- references and the end ---------------------------------------------------------- */

void tp__h2_sess_ref(tp_h2_session *s)
{
    s->refs++;
}

void tp__h2_sess_unref(tp_h2_session *s)
{
    if (--s->refs)
        return;
    nghttp2_session_del(s->ng);
    tp_free(s);
}

static void unlink_sess(tp_h2_session *s)
{
    tp_http_server *srv = s->srv;
    if (s->prev)
        s->prev->next = s->next;
    else
        srv->h2 = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
    srv->nconns--;
    s->srv = NULL;
    tp__server_conn_gone(srv);
}

/* GONE: the requests in flight learn the client left; nghttp2 is called no more. */
static void sess_gone(tp_h2_session *s)
{
    if (s->state == S_GONE)
        return;
    s->state = S_GONE;
    tp_timer_stop(s->loop, &s->timer);
    s->io = NULL;
    tp__h2_sess_ref(s);
    /* Held while the delegate hears of each: whatever it finishes stays in the list. */
    for (h2_req *r = s->reqs; r; r = r->next)
        r->flags |= R_HELD;
    for (h2_req *r = s->reqs; r; r = r->next)
        if (r->flags & R_NG)
            tp__h2_stream_gone(r);
    for (h2_req *r = s->reqs, *next; r; r = next) {
        next = r->next;
        r->flags &= (uint16_t)~R_HELD;
        tp__h2_maybe_free(r);
    }
    unlink_sess(s);
    tp__h2_sess_unref(s);
}

static void on_io_closed(tp_stream *io, int error, void *arg)
{
    (void)io, (void)error;
    tp_h2_session *s = arg;
    sess_gone(s);
    tp__h2_sess_unref(s); /* the stream's */
}

/* Closes now: what is queued is dropped. */
static void close_now(tp_h2_session *s)
{
    tp_stream *io = s->io;
    if (!io)
        return;
    tp__h2_sess_ref(s);
    sess_gone(s);
    tp_stream_close(io); /* its close callback drops the stream's reference */
    tp__h2_sess_unref(s);
}

/* Sends what is queued (a GOAWAY among it), then closes. */
static void close_after_flush(tp_h2_session *s)
{
    if (s->state == S_CLOSING || s->state == S_GONE)
        return;
    s->state = S_CLOSING;
    tp_stream_close_after_flush(s->io, s->srv->opts.linger < 1 ? s->srv->opts.linger : 1);
}

/* A GOAWAY naming the last stream taken: streams up to it finish, later ones are refused. */
static void goaway(tp_h2_session *s, uint32_t error)
{
    if (s->state != S_OPEN)
        return;
    s->state = S_GOAWAY;
    int32_t last = nghttp2_session_get_last_proc_stream_id(s->ng);
    nghttp2_submit_goaway(s->ng, NGHTTP2_FLAG_NONE, last, error, NULL, 0);
    tp__h2_kick(s);
}

/* ---- sending ------------------------------------------------------------------------- */

static void on_out_drained(tp_stream *io, int status, void *arg)
{
    (void)io;
    tp_h2_session *s = arg;
    s->out_wait = false;
    if (status == 0 && s->state != S_GONE && s->state != S_CLOSING) {
        tp_stream_resume(s->io);
        send_out(s);
    }
    tp__h2_sess_unref(s);
}

/* Responses whose head is written but not yet with nghttp2. */
static void submit_heads(tp_h2_session *s)
{
    for (h2_req *r = s->reqs; r; r = r->next)
        if ((r->flags & (R_HEAD | R_SUBMITTED | R_NG)) == (R_HEAD | R_NG))
            tp__h2_submit(r);
}

/* Frames from nghttp2 to the socket until nghttp2 has none or the socket's queue is full;
 * then the end of the session if nothing is left to do. */
static void send_out(tp_h2_session *s)
{
    if (s->state == S_GONE || s->state == S_CLOSING || s->out_wait)
        return;
    tp__h2_sess_ref(s);
    submit_heads(s);
    for (;;) {
        if (tp_stream_pending_write(s->io) > OUT_HIGH_WATER) {
            s->out_wait = true;
            tp__h2_sess_ref(s);
            tp_stream_pause(s->io);
            tp_stream_write(s->io, NULL, 0, on_out_drained, s);
            break;
        }
        const uint8_t *p;
        ssize_t n = nghttp2_session_mem_send(s->ng, &p);
        if (n < 0) {
            tp_log_debug("HTTP/2 send failed: %s", nghttp2_strerror((int)n));
            close_now(s);
            break;
        }
        if (n == 0)
            break;
        tp_stream_write(s->io, p, (size_t)n, NULL, NULL);
    }
    for (h2_req *r = s->reqs, *next; r && s->state != S_GONE; r = next) {
        next = r->next;
        if (r->waiters && !r->out_len)
            tp__h2_fire_waiters(r, 0);
    }
    if (s->state != S_GONE && !nghttp2_session_want_read(s->ng) &&
        !nghttp2_session_want_write(s->ng))
        close_after_flush(s);
    tp__h2_sess_unref(s);
}

static size_t on_io_data(tp_stream *io, tp_slice d, bool eof, void *arg);

static void on_flush(tp_loop *loop, void *arg)
{
    (void)loop;
    tp_h2_session *s = arg;
    if (!s->reading && s->io) {
        /* Set here, once the stream's data callback that found the preface (HTTP/1.1's)
         * returned: then its bytes are buffered, and the stream hands them over. */
        s->reading = true;
        tp_stream_set_data_handler(s->io, on_io_data, s);
    }
    send_out(s);
    tp__h2_sess_unref(s); /* kick's */
}

void tp__h2_kick(tp_h2_session *s)
{
    if (s->flush.queued || s->state == S_GONE)
        return;
    tp__h2_sess_ref(s);
    tp_loop_defer(s->loop, &s->flush);
}

/* ---- reading ------------------------------------------------------------------------- */

static size_t on_io_data(tp_stream *io, tp_slice d, bool eof, void *arg)
{
    tp_h2_session *s = arg;
    if (s->state == S_GONE || s->state == S_CLOSING)
        return d.n;
    tp__h2_sess_ref(s);
    s->last_active = tp_loop_time(s->loop);
    ssize_t n = d.n ? nghttp2_session_mem_recv(s->ng, (const uint8_t *)d.p, d.n) : 0;
    if (n < 0) {
        tp_log_debug("HTTP/2 connection from %s: %s", s->peer, nghttp2_strerror((int)n));
        if (s->state != S_GONE && n != NGHTTP2_ERR_BAD_CLIENT_MAGIC)
            send_out(s); /* nghttp2 queued a GOAWAY for most errors */
        if (s->state != S_GONE)
            close_after_flush(s);
    } else if (eof && s->state != S_GONE) {
        send_out(s);
        close_after_flush(s); /* a client that stops sending is done */
    } else {
        send_out(s);
    }
    tp__h2_sess_unref(s);
    (void)io;
    return d.n;
}

/* ---- the idle and stall timer -------------------------------------------------------- */

/* Response bytes waiting for the client: queued for a stream, or in the socket's queue. */
static bool output_waiting(const tp_h2_session *s)
{
    if (s->out_wait)
        return true;
    for (const h2_req *r = s->reqs; r; r = r->next)
        if (r->out_len && (r->flags & R_NG))
            return true;
    return false;
}

static double tick_of(const tp_h2_session *s)
{
    double idle = s->srv->opts.idle_connection_timeout, t = s->o->stall_timeout;
    if (idle > 0 && idle < t)
        t = idle;
    return t / 4;
}

/* Whether a request is being served: its head complete and handed over, or its answer
 * (a refusal among them) still going out. A stream whose head never completes (HEADERS
 * without END_HEADERS) does not keep the connection from its idle timeout. */
static bool serving(const tp_h2_session *s)
{
    for (const h2_req *r = s->reqs; r; r = r->next)
        if (r->flags & (R_APP | R_HEAD | R_SUBMITTED))
            return true;
    return false;
}

/* No request for idle_connection_timeout: GOAWAY and close. Output waiting and no DATA sent for
 * stall_timeout (a client that keeps its window shut, or does not read): closed now. */
static void on_timer(tp_loop *loop, void *arg)
{
    tp_h2_session *s = arg;
    double now = tp_loop_time(loop), idle = s->srv->opts.idle_connection_timeout;
    if (s->data_sent != s->progress_mark || !output_waiting(s)) {
        s->progress_mark = s->data_sent;
        s->last_progress = now;
    }
    if (now - s->last_progress >= s->o->stall_timeout) {
        tp_log_info("HTTP/2 connection from %s stalled: closed", s->peer);
        close_now(s);
        return;
    }
    if (idle > 0 && now - s->last_active >= idle && s->state == S_OPEN && !serving(s)) {
        goaway(s, NGHTTP2_NO_ERROR);
        send_out(s);
    }
    if (s->state != S_GONE)
        tp_timer_start_at(loop, &s->timer, now + tick_of(s));
}

/* ---- the session --------------------------------------------------------------------- */

static nghttp2_session_callbacks *callbacks(void)
{
    static __thread nghttp2_session_callbacks *cbs;
    if (!cbs) {
        if (nghttp2_session_callbacks_new(&cbs) != 0)
            abort();
        tp__h2_set_stream_callbacks(cbs);
    }
    return cbs;
}

static nghttp2_session *new_ng(tp_h2_session *s)
{
    const tp_h2_opts *o = s->o;
    nghttp2_option *opt;
    nghttp2_session *ng;
    if (nghttp2_option_new(&opt) != 0)
        abort();
    nghttp2_option_set_no_auto_window_update(opt, 1);
    nghttp2_option_set_no_closed_streams(opt, 1);
    nghttp2_option_set_max_outbound_ack(opt, 1000);
    nghttp2_option_set_max_settings(opt, 32);
    nghttp2_option_set_max_continuations(opt, 8);
    nghttp2_option_set_stream_reset_rate_limit(opt, 2 * o->reset_burst + 1, 2 * o->reset_rate);
    nghttp2_option_set_max_deflate_dynamic_table_size(opt, o->header_table_size);
    if (nghttp2_session_server_new2(&ng, callbacks(), s, opt) != 0)
        abort();
    nghttp2_option_del(opt);
    return ng;
}

static void send_settings(tp_h2_session *s)
{
    const tp_h2_opts *o = s->o;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, (uint32_t)o->max_concurrent_streams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, (uint32_t)o->initial_window_size},
        {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, (uint32_t)o->max_frame_size},
        {NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, (uint32_t)o->header_table_size},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, (uint32_t)o->max_header_list_size},
        {NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1},
    };
    nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0]));
    if (o->connection_window_size > 65535)
        nghttp2_session_set_local_window_size(s->ng, NGHTTP2_FLAG_NONE, 0,
                                              (int32_t)o->connection_window_size);
}

void tp_h2_serve(tp_http_server *srv, tp_stream *io, tp_slice peer_ip, bool https)
{
    tp_h2_session *s = tp_calloc(1, sizeof(*s));
    s->srv = srv;
    s->loop = srv->loop;
    s->io = io;
    s->o = &srv->opts.h2;
    s->xheaders = srv->opts.xheaders;
    s->https = https;
    s->refs = 1; /* the stream's */
    size_t n = peer_ip.n < sizeof(s->peer) - 1 ? peer_ip.n : sizeof(s->peer) - 1;
    memcpy(s->peer, peer_ip.p, n);
    s->ng = new_ng(s);
    s->flush = (tp_defer){.fn = on_flush, .arg = s};
    s->next = srv->h2;
    if (s->next)
        s->next->prev = s;
    srv->h2 = s;
    srv->nconns++;
    s->last_active = s->last_progress = s->reset_time = tp_loop_time(s->loop);
    s->reset_tokens = (double)s->o->reset_burst;
    tp_timer_init(&s->timer, on_timer, s);
    tp_timer_start_at(s->loop, &s->timer, s->last_active + tick_of(s));
    send_settings(s);
    if (srv->draining)
        goaway(s, NGHTTP2_NO_ERROR);
    tp_stream_set_close_callback(io, on_io_closed, s);
    tp__h2_kick(s); /* reads from the flush on */
}

void tp__h2_drain_all(tp_http_server *srv)
{
    for (tp_h2_session *s = srv->h2; s; s = s->next)
        goaway(s, NGHTTP2_NO_ERROR);
}

void tp__h2_close_all(tp_http_server *srv)
{
    while (srv->h2)
        close_now(srv->h2);
}
