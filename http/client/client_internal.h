/* The HTTP client's private state, shared by its files: multi.c (the libcurl multi driven by
 * the loop, the queue), setup.c (a request into an easy handle), response.c (headers, body,
 * the finished response) and sync.c (the blocking wrappers). */
#ifndef TP_HTTP_CLIENT_INTERNAL_H
#define TP_HTTP_CLIENT_INTERNAL_H

#include <curl/curl.h>

#include "core/arena.h"
#include "core/buf.h"
#include "http/client/client.h"

/* A response and everything it points to: freed in one place (tp_http_response_free). */
typedef struct tp__http_resp_box {
    tp_http_response r; /* first: a tp_http_response * is a box * */
    tp_headers headers;
    tp_arena arena;
    tp_buf body;
    bool kept; /* the done callback took it (the sync wrappers): not freed after the callback */
} tp__http_resp_box;

/* One fetch. Its life: QUEUED (waiting for a slot) -> ACTIVE (its easy handle in the multi)
 * -> DONE (callback ran, freed at once by tp__http_fetch_finish). QUEUED may go straight to
 * DONE (queue timeout, client freed). */
typedef enum { TP__FETCH_QUEUED, TP__FETCH_ACTIVE, TP__FETCH_DONE } tp__fetch_state;

typedef struct tp__http_fetch {
    tp__fetch_state state;
    tp_http_client *c;
    CURL *easy;
    struct curl_slist *slist;
    tp__http_resp_box *box;
    tp_http_done_fn fn;
    void *arg;
    struct tp__http_fetch *prev, *next; /* in the client's queue or active list */
    tp_timer queue_timer;
    double start; /* loop time of tp_http_fetch */
    double queued_for;
    double request_timeout; /* seconds, the queue's time included (as simple_httpclient) */
    /* What the callbacks need from the request. */
    tp_http_chunk_fn streaming_callback;
    void *streaming_arg;
    tp_http_header_fn header_callback;
    void *header_arg;
    tp_http_body_fn body_producer;
    void *body_producer_arg;
    bool raise_error, follow_redirects, decompress;
    size_t max_body_size, received;
    int abort_error; /* why a callback stopped the transfer (-EMSGSIZE, -ECANCELED) */
    const char *abort_message;
    char errbuf[CURL_ERROR_SIZE];
} tp__http_fetch;

typedef struct tp__fetch_list {
    tp__http_fetch *head, *tail;
    size_t n;
} tp__fetch_list;

struct tp_http_client {
    tp_loop *loop;
    CURLM *multi;
    tp_timer timer; /* libcurl's one timeout (CURLMOPT_TIMERFUNCTION) */
    tp__fetch_list queue, active;
    int max_clients;
    size_t max_body_size;
    char *user_agent;
    CURL **idle; /* easy handles kept for reuse, up to max_clients */
    int nidle;
    int depth; /* > 0 while done callbacks run: a free then waits */
    bool free_pending, closing;
    bool in_action; /* inside curl_multi_socket_action: libcurl takes no new handle then */
    long connects;
};

/* setup.c: checks req and makes f's easy handle; 0, or -EINVAL with *msg set. */
int tp__http_setup(tp__http_fetch *f, const tp_http_request *req, const char **msg);
/* response.c: a new empty response box for url. */
tp__http_resp_box *tp__http_box_new(const char *url);
/* response.c: libcurl's header and write callbacks (userdata: the fetch). */
size_t tp__http_on_header(char *p, size_t size, size_t n, void *userdata);
size_t tp__http_on_write(char *p, size_t size, size_t n, void *userdata);
/* response.c: fills f's response from the finished transfer (result: libcurl's code). */
void tp__http_fill_response(tp__http_fetch *f, CURLcode result);
/* response.c: makes f's response a 599 with error err and message msg. */
void tp__http_fail(tp__http_fetch *f, int err, const char *msg);
/* multi.c: runs f's callback and frees f (its response too unless kept). */
void tp__http_fetch_finish(tp__http_fetch *f);
/* multi.c: drops f without calling its callback (tp_http_fetch_on_loop's timeout). */
void tp__http_fetch_cancel(tp__http_fetch *f);
/* multi.c: tp_http_fetch returning the fetch (NULL and *err on failure). */
tp__http_fetch *tp__http_fetch_start(tp_http_client *c, const tp_http_request *req,
                                     tp_http_done_fn fn, void *arg, int *err);

#endif
