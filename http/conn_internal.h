/* The HTTP/1.1 server connection's private state, shared by server.c (accept), conn.c (the
 * request cycle), body.c (request bodies) and response.c (response framing). */
#ifndef TP_HTTP_CONN_INTERNAL_H
#define TP_HTTP_CONN_INTERNAL_H

#include <stdint.h>

#include "core/status.h"
#include "core/stream.h"
#include "http/parser.h"
#include "http/server.h"

typedef struct z_stream_s z_stream;

struct tp_http_server {
    tp_loop *loop;
    tp_http_delegate delegate;
    void *ctx;
    tp_http_server_opts opts;
    char *trusted_downstream; /* owned copy of opts.trusted_downstream */
    char *protocol;           /* owned copy of opts.protocol */
    tp_http_limits limits;
    int *listeners;
    size_t nlisteners;
    tp_timer accept_pause;      /* out of fds: accepting resumes after a pause */
    struct tp_http_conn *conns; /* doubly linked list of open connections */
    size_t nconns;
    unsigned long requests;
    bool exclusive;   /* listeners are shared: EPOLLEXCLUSIVE, re-armed */
    unsigned accepts; /* since the last re-arm */
    bool draining;
    double idle_grace;
    void (*drained)(tp_http_server *srv, void *arg);
    void *drained_arg;
};

enum conn_state {
    CONN_HEAD,    /* waiting for (the rest of) a request head */
    CONN_BODY,    /* reading a request body */
    CONN_HANDLER, /* body complete, the delegate is producing the response */
    CONN_CLOSED,  /* the stream is gone; waiting for the delegate's tp_http_finish */
};

/* The chunked-body decoder's position (RFC 9112 §7.1). */
enum chunk_state {
    CH_SIZE,    /* hex digits */
    CH_EXT,     /* chunk extension or whitespace, up to CR */
    CH_SIZE_LF, /* LF after the size line */
    CH_DATA,    /* chunk data: body_left bytes */
    CH_DATA_CR, /* CRLF after chunk data */
    CH_DATA_LF,
    CH_TRAILER, /* start of a trailer line (or the final CRLF) */
    CH_TRAILER_LINE,
    CH_END_LF, /* LF of the final CRLF */
};

/* One request/response exchange: body framing and response framing. Lives in the request's
 * arena, so an idle connection carries none of it. */
typedef struct tp_exchange {
    /* request body */
    bool body_chunked;
    enum chunk_state chunk;
    uint64_t body_left;  /* CL bytes, or bytes of the current chunk, still to come */
    uint64_t body_total; /* body bytes received (decompressed when inflating) */
    size_t chunk_line;   /* bytes in the current size/extension/trailer line */
    size_t trailer_bytes;
    tp_buf body;       /* buffered body (non-streaming delegates) */
    z_stream *inflate; /* decompress_request: gzip decoder */

    /* response framing */
    bool head_written, resp_chunked, resp_no_body, resp_has_length, close_after;
    bool asked_keep_alive; /* an HTTP/1.0 request with Connection: keep-alive */
    uint64_t resp_length;
} tp_exchange;

typedef struct tp_http_conn {
    tp_http_server *server;
    struct tp_http_conn *prev, *next;
    tp_stream *stream;
    tp_request *req; /* the request being served, or NULL */
    tp_exchange *x;  /* its exchange state (NULL with req) */
    tp_http_parser parser;
    enum conn_state state;
    bool keep_alive;       /* this request allows another after it */
    bool in_data;          /* inside the stream's data callback */
    bool free_after_data;  /* detached and finished inside the data callback: free after it */
    bool gone;             /* client gone or refused: writes are dropped */
    bool draining;         /* too much output queued: reading waits for it to drain */
    bool in_close;         /* inside the stream's close callback */
    double deadline;       /* head timeout (CONN_HEAD) or body timeout (CONN_BODY) */
    tp_timer timer;        /* fires at (or before) deadline */
    uint64_t written_mark; /* bytes written when the head timeout last looked */
    char remote_ip[46];
} tp_http_conn;

/* conn.c */
tp_request *tp__request_new(void);
void tp__request_free(tp_request *req);
void tp__conn_start(tp_http_server *srv, int fd, const char *ip);
void tp__conn_abort(tp_http_conn *c);
/* server.c: a connection left the server (for the drain's end). */
void tp__server_conn_gone(tp_http_server *srv);
/* Drain: closes the connection if it is idle, else lets its current request end it. */
void tp__conn_drain(tp_http_conn *c, double idle_grace);
/* The response is finished (c->req already released): next request, or close. */
void tp__conn_request_done(tp_http_conn *c, bool reusable);
/* Answers a framing error with `status` and no body, then closes (after a linger). */
void tp__conn_reject(tp_http_conn *c, int status, const char *why);
/* The current request's body is complete: hand it over. */
void tp__conn_body_done(tp_http_conn *c);

/* body.c: sets up body reading for c->req; TP_OK, or TP_ERROR with *status. */
int tp__body_begin(tp_http_conn *c, int *status);
/* Consumes body bytes from d; returns how many, or -status on a bad body. */
ssize_t tp__body_feed(tp_http_conn *c, tp_slice d);
/* Frees body-reading state. */
void tp__body_reset(tp_exchange *x);

#endif
