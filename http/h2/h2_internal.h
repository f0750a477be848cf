/* HTTP/2's private state, shared by session.c (the connection: nghttp2, I/O, timers, GOAWAY)
 * and stream.c (each stream's request and response). */
#ifndef TP_HTTP_H2_INTERNAL_H
#define TP_HTTP_H2_INTERNAL_H

#include <arpa/inet.h>
#include <nghttp2/nghttp2.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/stream.h"
#include "http/conn_internal.h"
#include "http/h2/h2.h"
#include "http/request_ops.h"

typedef struct tp_h2_session tp_h2_session;
typedef struct h2_req h2_req;

/* A session's life: OPEN ── GOAWAY sent (drain, idle) ──▶ GOAWAY ── no stream left ──▶
 * CLOSING (the stream flushes, then closes) ──▶ GONE (the stream closed: every request in
 * the delegate's hands is told, nghttp2 is no longer called). It is referenced by its stream
 * (until GONE), by each of its requests (until freed) and by the functions that call out;
 * sess_unref frees it (and the nghttp2 session) with the last reference. */
enum sess_state { S_OPEN, S_GOAWAY, S_CLOSING, S_GONE };

struct tp_h2_session {
    tp_http_server *srv;
    tp_loop *loop;
    tp_stream *io; /* NULL once GONE */
    nghttp2_session *ng;
    tp_h2_session *prev, *next; /* in srv->h2 */
    h2_req *reqs;               /* every request not yet freed */
    uint8_t state;              /* enum sess_state */
    bool out_wait;              /* the socket's queue is full: sending (and reading) waits */
    bool xheaders;
    bool reading; /* the stream's data handler is set */
    bool https;   /* the connection is TLS (or a PROXY header said so): protocol https */
    unsigned refs;
    tp_defer flush;         /* send_out before the loop sleeps */
    tp_timer timer;         /* idle and stall checks */
    double last_active;     /* loop time a frame came or the last stream closed */
    double last_progress;   /* loop time response DATA last moved */
    uint64_t data_sent;     /* response DATA bytes handed to nghttp2 */
    uint64_t progress_mark; /* data_sent at the last check */
    double reset_tokens;    /* RST_STREAMs the client may still send (count_reset) */
    double reset_time;      /* loop time of the last refill */
    const tp_h2_opts *o;
    char peer[INET6_ADDRSTRLEN];
};

/* One piece of queued response body: bytes (fd < 0) or a file range read with pread. */
typedef struct h2_seg {
    struct h2_seg *next;
    int fd;
    bool close_fd;
    off_t off;
    size_t len, pos, cap;
    char data[];
} h2_seg;

typedef struct h2_wait {
    struct h2_wait *next;
    tp_write_fn fn;
    void *arg;
} h2_wait;

enum req_flag {
    R_NG = 1 << 0,        /* nghttp2's stream is open */
    R_APP = 1 << 1,       /* in the delegate's hands (headers_received until tp_http_finish) */
    R_TOLD = 1 << 2,      /* connection_closed delivered (or the app aborted) */
    R_HEAD = 1 << 3,      /* the head was written */
    R_SUBMITTED = 1 << 4, /* the response is with nghttp2 */
    R_DONE = 1 << 5,      /* the response ends after the queued body */
    R_DEFERRED = 1 << 6,  /* the data provider waits for body bytes */
    R_BODYLESS = 1 << 7,  /* HEAD, 1xx, 204, 304: body writes are dropped */
    R_IN_END = 1 << 8,    /* the request's END_STREAM arrived */
    R_PAUSED = 1 << 9,    /* tp_http_pause_body */
    R_COMPLETE = 1 << 10, /* request_complete was called */
    R_CUT = 1 << 11,      /* the server answered for the app (413, 400): its writes drop */
    R_RESUMING = 1 << 12, /* a loop callback delivers paused body bytes */
    R_HELD = 1 << 13,     /* a call out to the delegate is under way: not freed meanwhile */
};

struct h2_req {
    tp_request req; /* first: a tp_request * is an h2_req * */
    tp_h2_session *sess;
    h2_req *prev, *next;
    int32_t id;
    uint16_t flags;
    int refuse; /* status to answer once the head is complete (400, 413, 431) */
    size_t header_bytes, nheaders;
    tp_slice authority;
    tp_buf cookie, body;
    uint64_t body_len;
    int64_t resp_length; /* declared response Content-Length, or -1 */
    h2_seg *out, *out_tail;
    size_t out_len;
    h2_seg *in, *in_tail; /* paused request body bytes, not yet acknowledged */
    h2_wait *waiters;
    nghttp2_nv *nva;
    size_t nnv;
};

/* stream.c: nghttp2's callbacks that build requests and feed their bodies. */
void tp__h2_set_stream_callbacks(nghttp2_session_callbacks *cbs);
/* stream.c: the stream's request is answered by session.c's send path: the response is
 * submitted once its head is written (called from the flush). */
void tp__h2_submit(h2_req *r);
/* stream.c: nghttp2 closed the stream (or the session went): the delegate is told, r freed
 * when the delegate is done with it. */
void tp__h2_stream_gone(h2_req *r);
/* stream.c: frees r once neither nghttp2 nor the delegate holds it. */
void tp__h2_maybe_free(h2_req *r);
/* stream.c: fires r's when_drained waiters whose bytes are all sent (status 0) or, with
 * status < 0, all of them. */
void tp__h2_fire_waiters(h2_req *r, int status);

/* h2_stream.c: tp_http_pause_body / tp_http_resume_body. */
void tp__h2_pause_body(h2_req *r, bool pause);

/* session.c */
void tp__h2_sess_ref(tp_h2_session *s);
void tp__h2_sess_unref(tp_h2_session *s);
/* Queues a send before the loop sleeps. */
void tp__h2_kick(tp_h2_session *s);
/* nghttp2 may be called (the session is not GONE). */
static inline bool tp__h2_live(const tp_h2_session *s)
{
    return s->state != S_GONE;
}

#endif
